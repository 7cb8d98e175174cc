# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The customer's and the engineer's H5 apps, served by trytond beside the
API (same origin, so no CORS): /h5/ and /engineer/.

Each app is a folder built by uni-app (index.html, assets/ with hashed file
names, static/...) named by [instrument_service_api] customer_app and
engineer_app, relative to the repository root unless absolute; an empty
value serves no app there. The apps are not the API: they are not in the
OpenAPI document and need no database.

Client-side routes (/h5/pages/order/detail?id=3) get the app's index.html,
but a missing name with an extension (assets/index-3f2a9c1b.js) is 404, so a
broken deploy shows. Nothing outside the folder is served: werkzeug's
safe_join refuses .. and absolute paths, and the real path (symlinks
resolved) must stay inside the folder."""
import functools
import gzip
import html
import logging
import os
import posixpath
import re
from collections import namedtuple

from werkzeug.routing import BaseConverter, Rule
from werkzeug.security import safe_join
from werkzeug.utils import redirect, send_file
from werkzeug.wrappers import Response

from trytond.config import config
from trytond.wsgi import app

from . import trytond_internals
from .routes_docs import repository_root

logger = logging.getLogger(__name__)

WebApp = namedtuple('WebApp', ['prefix', 'option', 'default', 'title'])
APPS = [
    WebApp('/h5', 'customer_app', 'clients/customer/dist/build/h5',
        "The customer app"),
    WebApp('/engineer', 'engineer_app', 'clients/engineer/dist/build/h5',
        "The engineer app"),
    ]

CONTENT_TYPES = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.mjs': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.json': 'application/json',
    '.map': 'application/json',
    '.webmanifest': 'application/manifest+json',
    '.txt': 'text/plain; charset=utf-8',
    '.svg': 'image/svg+xml',
    '.png': 'image/png',
    '.jpg': 'image/jpeg',
    '.jpeg': 'image/jpeg',
    '.gif': 'image/gif',
    '.webp': 'image/webp',
    '.ico': 'image/x-icon',
    '.woff2': 'font/woff2',
    '.woff': 'font/woff',
    '.ttf': 'font/ttf',
    }
# Vite (uni-app) names what it writes under assets/ name-hash.ext or
# name.hash.ext, with a hash of 8 characters: a new content is a new name,
# so such a file can be kept for ever
HASHED = re.compile(
    r'assets/(?:.+/)?[^/]+[.-][A-Za-z0-9_-]{8}\.[A-Za-z0-9]+(?:\.map)?')
IMMUTABLE = 'public, max-age=31536000, immutable'
# The other files (static/, the manifest...) keep their names across builds
SHORT = 'public, max-age=600'

PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>{text}</p></body>
</html>
"""
_missing_logged = set()


class WebAppPathConverter(BaseConverter):
    """Everything after the prefix, empty, with slashes or control
    characters included: the app decides what it serves and refuses the
    rest with its own answer"""
    regex = '(?s:.*)'
    part_isolating = False
    weight = 300


def folder(webapp):
    """The real path of the app's folder, '' when none is configured, None
    when the configured one holds no build"""
    value = config.get('instrument_service_api', webapp.option,
        default=webapp.default)
    if not value or not value.strip():
        return ''
    path = os.path.expanduser(value.strip())
    if not os.path.isabs(path):
        path = os.path.join(repository_root(), path)
    path = os.path.realpath(path)
    if not os.path.isfile(os.path.join(path, 'index.html')):
        if path not in _missing_logged:
            _missing_logged.add(path)
            logger.warning("%s has no build: no index.html in %s "
                "([instrument_service_api] %s)",
                webapp.title, path, webapp.option)
        return None
    return path


def inside(root, path):
    """The real path of the file path names in root, or None when path
    would leave root or names a hidden file"""
    if '\x00' in path or '\\' in path:
        return None
    if any(part.startswith('.') for part in path.split('/')):
        return None
    joined = safe_join(root, path)
    if joined is None:
        return None
    real = os.path.realpath(joined)
    if real != root and not real.startswith(root + os.sep):
        return None
    return real


def page(status, title, text, headers=None):
    response = Response(
        PAGE.format(title=html.escape(title), text=html.escape(text)),
        status=status, content_type='text/html; charset=utf-8',
        headers=headers)
    response.headers['Cache-Control'] = 'no-cache'
    response.headers['X-Content-Type-Options'] = 'nosniff'
    return response


def not_found():
    return page(404, "Not found", "There is no such file in this app.")


def send(request, path, name, cache_control):
    """Send the file at path, its content type by the requested name,
    compressed when it is text and the client takes gzip"""
    content_type = CONTENT_TYPES.get(
        posixpath.splitext(name)[1].lower(), 'application/octet-stream')
    try:
        stat = os.stat(path)
        if (request.accept_encodings['gzip']
                and content_type.split(';')[0] in COMPRESSED
                and stat.st_size >= MIN_COMPRESSED_SIZE):
            response = Response(
                gzipped(path, stat.st_mtime_ns, stat.st_size),
                direct_passthrough=True)
            response.headers['Content-Encoding'] = 'gzip'
            response.set_etag('%s-%s-gz' % (stat.st_mtime_ns, stat.st_size))
            response.last_modified = stat.st_mtime
            response = response.make_conditional(request.environ)
        else:
            response = send_file(path, request.environ)
    except OSError:
        # Removed since it was found (a deploy replacing the folder)
        return not_found()
    response.headers['Content-Type'] = content_type
    response.headers['Cache-Control'] = cache_control
    response.headers['X-Content-Type-Options'] = 'nosniff'
    response.vary.add('Accept-Encoding')
    return response


# The text of an app, which gzip makes a third of its size: the first load
# of a phone on 4G waits for its scripts
COMPRESSED = {
    'text/html', 'text/css', 'text/javascript', 'application/javascript',
    'application/json', 'application/manifest+json', 'image/svg+xml',
    'text/plain'}
MIN_COMPRESSED_SIZE = 1024


@functools.lru_cache(maxsize=256)
def gzipped(path, mtime_ns, size):
    "The gzip of the file at path, once per version of it (mtime, size)"
    with open(path, 'rb') as fp:
        return gzip.compress(fp.read(), compresslevel=9, mtime=0)


def serve(request, webapp, path):
    if request.method not in {'GET', 'HEAD'}:
        return page(405, "Method not allowed",
            "The apps are read with GET or HEAD only.",
            headers={'Allow': 'GET, HEAD'})
    root = folder(webapp)
    if root == '':
        return page(404, "Not found",
            "%s is not served by this server." % webapp.title)
    if root is None:
        return page(503, "Not installed",
            "%s is not installed on this server yet." % webapp.title)
    file = inside(root, path)
    if file is None:
        return not_found()
    if os.path.isfile(file):
        if posixpath.splitext(path)[1].lower() == '.html':
            cache_control = 'no-cache'
        elif HASHED.fullmatch(path):
            cache_control = IMMUTABLE
        else:
            cache_control = SHORT
        return send(request, file, path, cache_control)
    if posixpath.splitext(path.rsplit('/', 1)[-1])[1]:
        # Looks like a file of the build, not a client-side route
        return not_found()
    index = inside(root, 'index.html')
    if index is None:
        return not_found()
    return send(request, index, 'index.html', 'no-cache')


def add_rules(webapp):
    def redirect_to_folder(request):
        "The app's relative URLs need the trailing slash"
        if request.method not in {'GET', 'HEAD'}:
            return serve(request, webapp, '')
        location = request.script_root + webapp.prefix + '/'
        if request.query_string:
            location += '?' + request.query_string.decode('latin-1')
        response = redirect(location, 301)
        response.headers['Cache-Control'] = 'no-cache'
        return response

    def serve_file(request, path):
        return serve(request, webapp, path)

    name = webapp.option
    redirect_to_folder.__name__ = '%s_redirect' % name
    serve_file.__name__ = '%s_file' % name
    # Any method, so that the apps, not a database named like their prefix,
    # answer a POST; no merging of slashes, so that //etc/passwd stays
    # absolute and is refused
    app.url_map.add(Rule(webapp.prefix, endpoint=redirect_to_folder,
            merge_slashes=False))
    app.url_map.add(Rule(webapp.prefix + '/<webapp_path:path>',
            endpoint=serve_file, merge_slashes=False))


class AppsBeforeWebRoot:
    """Sends the apps' URLs to trytond's routes past the static files of
    [web] root (sao), which would otherwise answer any of them that names
    one of its own files (/h5/../index.html)"""
    wraps_web_root = True

    def __init__(self, web_root):
        self.web_root = web_root
        self.app = web_root.app

    def __call__(self, environ, start_response):
        path = environ.get('PATH_INFO', '')
        if any(path == w.prefix or path.startswith(w.prefix + '/')
                for w in APPS):
            return self.app(environ, start_response)
        return self.web_root(environ, start_response)


def put_before_web_root():
    "Wrap the static files middleware of [web] root"
    if (not trytond_internals.wrap_web_root(AppsBeforeWebRoot)
            and config.get('web', 'root')):
        logger.warning("The static files of [web] root were not found in "
            "the WSGI middlewares: they answer before the apps")


app.url_map.converters['webapp_path'] = WebAppPathConverter
for webapp in APPS:
    add_rules(webapp)
put_before_web_root()
