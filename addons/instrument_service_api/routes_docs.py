# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The API's own description: the OpenAPI document and a page to read it.

The page is Swagger UI (the npm package swagger-ui-dist, installed by
`make sao` into .cache/api-docs) served by trytond itself: it works without
internet access. Its folder is [instrument_service_api] docs_assets,
relative to the repository root unless absolute."""
import html
import os
from pathlib import Path

from werkzeug.wrappers import Response

from trytond.config import config
from trytond.wsgi import app

from . import openapi, tracing
from .api import PREFIX, ROUTES, APIError, Route, error, json_response, route

MODULE_DIR = Path(__file__).resolve().parent
DEFAULT_ASSETS = '.cache/api-docs'
# The files of swagger-ui-dist the page uses, and their content types: no
# other name is ever served, whatever the URL says
ASSETS = {
    'swagger-ui.css': 'text/css; charset=utf-8',
    'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
    'favicon-32x32.png': 'image/png',
    'favicon-16x16.png': 'image/png',
    }
_cache = {}


def repository_root():
    "The checkout the module runs from (editable install), or the cwd"
    root = MODULE_DIR.parent.parent
    if (root / 'pyproject.toml').is_file():
        return root
    return Path(os.getcwd())


def assets_folder():
    "The folder of swagger-ui-dist's files, or None when not installed"
    value = config.get('instrument_service_api', 'docs_assets',
        default=None) or DEFAULT_ASSETS
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = repository_root() / path
    for candidate in [
            path, path / 'package',
            path / 'node_modules' / 'swagger-ui-dist']:
        if all((candidate / name).is_file() for name in ASSETS):
            return candidate


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="{assets}/favicon-16x16.png" sizes="16x16">
<style>body {{ margin: 0; }}</style>
</head>
<body>
<div id="swagger-ui"></div>
<noscript>This page needs JavaScript; the document itself is
<a href="{document}">{document}</a>.</noscript>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script>
window.addEventListener('load', function () {{
    window.ui = SwaggerUIBundle({{
        url: '{document}',
        dom_id: '#swagger-ui',
        deepLinking: true,
        layout: 'BaseLayout',
        presets: [SwaggerUIBundle.presets.apis],
        validatorUrl: null,
        displayRequestDuration: true,
        docExpansion: 'list',
        tryItOutEnabled: false,
        persistAuthorization: false
    }});
}});
</script>
</body>
</html>
"""


@route('GET', '/openapi.json', auth=None, tag='docs', raw=True,
    summary="This document: the OpenAPI 3.1 description of the API",
    description="Generated from the operations' declarations and the "
    "schemas that check their requests, with the evidence the workflows "
    "of this server require now.",
    responses={200: 'OpenAPIDocument'})
def openapi_document(request, caller):
    response = json_response(openapi.document())
    response.headers['Cache-Control'] = 'no-cache'
    return response


@route('GET', '/docs', auth=None, tag='docs', raw=True,
    summary="The documentation page (Swagger UI, served locally)",
    description="Reads /openapi.json; works without internet access.",
    responses={200: 'HTMLPage'})
def docs_page(request, caller):
    if assets_folder() is None:
        raise error(503, 'not_configured', 'msg_docs_not_installed')
    page = PAGE.format(
        title=html.escape(openapi.TITLE),
        assets=PREFIX + '/docs/assets',
        document=PREFIX + '/openapi.json')
    response = Response(page, content_type='text/html; charset=utf-8')
    response.headers['Cache-Control'] = 'no-cache'
    return response


# The assets have file names, not ids: the rule is registered directly with
# a string converter (no slash can reach it) and only the names of ASSETS
# are served. It needs no database.
ROUTES.append(Route('GET', '/docs/assets/{name}', None,
        "A file of the documentation page", 'docs',
        description="The style sheet, script and icons of /docs, from "
        "swagger-ui-dist; no other name is served.",
        responses={200: 'DocsAsset'}, errors={'not_found': None}))
openapi.PATH_PARAMETERS['name'] = ("The file name", {
        'type': 'string', 'enum': sorted(ASSETS)})
openapi.MEDIA_TYPES['DocsAsset'] = sorted(
    {t.split(';')[0] for t in ASSETS.values()})
openapi.MEDIA_TYPES['HTMLPage'] = ['text/html']


@app.route(PREFIX + '/docs/assets/<string:name>', methods=['GET'])
@tracing.observed(PREFIX + '/docs/assets/{name}')
def docs_asset(request, name):
    if name not in ASSETS:
        return APIError(404, 'not_found', "Not found").response()
    if name not in _cache:
        folder = assets_folder()
        if folder is None:
            return APIError(503, 'not_configured',
                "The documentation page is not installed (make sao).",
                ).response()
        _cache[name] = (folder / name).read_bytes()
    response = Response(_cache[name], content_type=ASSETS[name])
    response.headers['Cache-Control'] = 'public, max-age=86400'
    response.headers['X-Content-Type-Options'] = 'nosniff'
    return response
