# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The OpenAPI 3.1 document of the API, generated from the declarations of
the routes (api.ROUTES) and the JSON Schemas of schemas.py.

Each Route gives the method, path, caller (auth), summary, tag, the schema
names of its request and of each success status, whether it takes a
multipart upload, its query parameters and headers. What every operation
can answer besides success follows from the same declaration (a token
means 401/403, a path parameter 404, a body 400/413/415/422...) with the
few refusals particular to one operation listed in EXTRA_ERRORS."""
import copy
import re

from . import schemas
from .api import PREFIX, ROUTES, UPLOAD_MAX_SIZE

OPENAPI_VERSION = '3.1.0'
API_VERSION = '1.0.0'

TAGS = [
    {'name': 'auth', 'description': "Logging in and out: customers with "
        "WeChat (or the development phone login), engineers with their "
        "Tryton login."},
    {'name': 'customer', 'description': "The customer mini-program: order "
        "forms, uploads, orders and their progress, answers to quotes and "
        "reports, rating, profile."},
    {'name': 'files', 'description': "Downloading the photos and documents "
        "of an order, by its customer or its engineer."},
    {'name': 'engineer', 'description': "The engineer app: offered orders, "
        "tasks, steps with evidence, notifications."},
    {'name': 'docs', 'description': "This document and the page that shows "
        "it."},
    ]

# Query parameters by name; (path, name) for the ones that differ by path
PAGE = {'type': 'integer', 'minimum': 1, 'maximum': 10 ** 6, 'default': 1}
PAGE_SIZE = {'type': 'integer', 'minimum': 1, 'maximum': 100, 'default': 20}
QUERY_PARAMETERS = {
    'page': ("The page, from 1", PAGE),
    'page_size': ("Items per page, 1 to 100", PAGE_SIZE),
    'state': ("Only the orders in this state",
        {'type': 'string', 'enum': schemas.ORDER_STATES}),
    ('/engineer/tasks', 'state'): ("Only the tasks in this state",
        {'type': 'string', 'enum': ['in_progress', 'done', 'cancelled']}),
    'type': ("Only the orders of this type",
        {'type': 'string', 'enum': schemas.ORDER_TYPE_CODES}),
    'unread': ("true (or 1): only the unread ones", {'type': 'boolean'}),
    'after': ("Answer with the notifications whose id is greater (the "
        "greatest id the client has seen; 0 for all)",
        {'type': 'integer', 'minimum': 0, 'default': 0}),
    'timeout': ("Seconds to wait at most, 0 to 60; 0 answers at once",
        {'type': 'integer', 'minimum': 0, 'maximum': 60, 'default': 25}),
    }
HEADERS = {
    'Idempotency-Key': {
        'description': "A key the client makes for this submission (e.g. "
        "a UUID) and sends again on every retry of it: a retry with the "
        "same key and the same body answers the order created the first "
        "time (200) instead of creating another one; the same key with "
        "another body answers 422 idempotency_key_reused.",
        'required': True,
        'schema': {'type': 'string', 'minLength': 1, 'maxLength': 100},
        },
    }
# Path parameters are integer ids (api.route's {name}) unless listed here
PATH_PARAMETERS = {}

# The media types of the bodies that are not JSON, by schema name
MEDIA_TYPES = {
    'Binary': schemas.FILE_MEDIA_TYPES,
    }

# Refusals particular to one operation: (method, path) -> statuses
EXTRA_ERRORS = {
    ('POST', '/auth/wechat'): {401, 403, 429, 502},
    ('POST', '/auth/login'): {401, 403, 429},
    ('POST', '/auth/dev/code'): {404},
    ('POST', '/auth/dev/login'): {401, 404},
    }

ERROR_DESCRIPTIONS = {
    400: "The body is not JSON (invalid_json) or the request is malformed "
    "(bad_request, http_error).",
    401: "The token is missing, invalid, expired or revoked "
    "(unauthorized): log in again.",
    403: "The caller may not do this (forbidden).",
    404: "No such resource, or not one of the caller's (not_found).",
    409: "The order is not at a step where this can be done "
    "(step_not_allowed), another engineer took it (already_taken), or the "
    "engineer has as many orders in progress as allowed (at_capacity).",
    413: "The body is too large: 10 MB for an upload (file_too_large), "
    "1 MB for JSON (request_too_large).",
    415: "Not a JSON body (unsupported_media_type), or not an accepted file "
    "type (unsupported_file_type).",
    422: "A field is missing or wrong (invalid_field, with `fields` naming "
    "each one) or the domain refuses the values (invalid_evidence, "
    "invalid_order, validation_error...).",
    429: "Too many attempts (rate_limited); retry after Retry-After "
    "seconds.",
    502: "WeChat answered with an error (wechat_error) or could not be "
    "reached (wechat_unavailable).",
    503: "The service is busy (busy), cannot reach its database "
    "(database_unavailable: restarting, down; the request may or may not "
    "have been applied, send it again, with the same Idempotency-Key for "
    "an order) or is not configured (not_configured); retry after "
    "Retry-After seconds when given.",
    }
OPERATION_ERRORS = {
    ('POST', '/auth/wechat'): {
        401: "The code is invalid or expired (wechat_invalid_code, WeChat "
        "40029 or 40163): call wx.login again.",
        403: "WeChat refused this user as high risk (wechat_blocked, WeChat "
        "40226), or the account is disabled (forbidden).",
        429: "WeChat rate limits the logins (wechat_rate_limited, WeChat "
        "45011): retry after Retry-After seconds.",
        502: "WeChat answered another error (wechat_error, the WeChat "
        "errcode in the message) or could not be reached or answered "
        "something unreadable (wechat_unavailable).",
        503: "WeChat is busy (wechat_busy, WeChat -1) or the service "
        "cannot reach its database (database_unavailable): retry after "
        "Retry-After seconds; or WeChat login is not configured on the "
        "server (not_configured).",
        },
    ('POST', '/auth/login'): {
        401: "Wrong login or password (unauthorized).",
        403: "The account is not an engineer's (forbidden).",
        429: "Too many failed logins (rate_limited), Tryton's own limit.",
        },
    ('POST', '/auth/dev/code'): {
        404: "The development login is off on this server (not_found).",
        },
    ('POST', '/auth/dev/login'): {
        401: "Wrong, expired or used-up code (unauthorized): after 5 wrong "
        "attempts the code is locked, ask for a new one.",
        404: "The development login is off on this server (not_found).",
        },
    }
RETRY_AFTER = {
    'Retry-After': {
        'description': "Seconds to wait before retrying",
        'schema': {'type': 'integer', 'minimum': 0},
        },
    }

DESCRIPTION = """\
The JSON HTTP API of the instrument after-sales service platform, for the
customer mini-program (WeChat / H5) and the engineer app. Everything a
client needs is here: the operations, the body of every request and of
every answer, and the errors each operation can give.

## Callers and tokens

Send the token of a login as `Authorization: Bearer <token>`.

* **Customers** log in with `POST /auth/wechat` and the `code` of
  `wx.login()`. The server calls WeChat's `jscode2session` itself (the app
  secret and WeChat's `session_key` never leave it) and answers a
  customer token (`c.…`). The first login creates the customer
  (`customer.is_new` is true). Where WeChat is not available (H5 build,
  development) a server may enable a development login by phone:
  `POST /auth/dev/code` prints a one-time code in the server log,
  `POST /auth/dev/login` exchanges it for a token; it answers 404 when off.
* **Engineers** log in with their login and password: `POST /auth/login`
  answers an engineer token (`e.…`). Failed logins are rate limited.
* Tokens expire after `expires_in` seconds without use; every use extends
  them. `POST /auth/logout` revokes the token at once.

Each operation names the token it takes (its security: `customerToken`,
`engineerToken`, either, or none). A missing, expired or revoked token
answers 401 `unauthorized`; a token of the wrong kind too. An order, task,
file or notification that is not the caller's answers 404, exactly as one
that does not exist.

## Languages

Messages (errors, order state and step names, hints, labels) are in the
caller's language: `Accept-Language: zh_CN` (the default) or
`Accept-Language: en`. Codes (`type`, `state`, `step.code`, error `code`)
never change with the language: branch on them, show the texts.

## Formats

* Bodies are JSON in UTF-8 (`Content-Type: application/json`), at most
  1 MB; uploads are `multipart/form-data` with one file in the field
  `file`, at most 10 MB (photos: JPEG, PNG, WebP, HEIC — stored as JPEG;
  documents: PDF, Word, Excel; the type is recognised by the content,
  never by the name).
* Times are ISO 8601 with an offset. The server answers in Asia/Shanghai,
  e.g. `2025-05-29T10:00:00+08:00`; it accepts any offset (`Z` too) and
  refuses a time without one.
* Money is CNY as a string with two decimals, e.g. `"1000.00"`; a quote
  amount may be sent with up to two decimals (`"1000"`, `"999.5"`).
* Lists are paged: `page` (from 1) and `page_size` (1 to 100, 20 by
  default) in the query; the answer gives `items`, `page`, `page_size` and
  `total`.
* `POST /orders` needs an `Idempotency-Key` header: retrying a submission
  with the same key never creates a second order.

## Errors

Every answer other than success has this body:

```json
{"error": {"code": "invalid_field", "message": "…",
           "fields": {"lines[0].quantity": "int 1..9999"}}}
```

`code` is stable, `message` is for people (in the caller's language) and
`fields`, when present, names each field in error with what is wrong
(`required`, the expected type or range, `unknown`).

| status | codes | meaning |
|---|---|---|
| 400 | invalid_json, bad_request, http_error | not JSON, not an object, malformed request |
| 401 | unauthorized, wechat_invalid_code | log in (again) |
| 403 | forbidden, wechat_blocked | not allowed to this caller |
| 404 | not_found | no such thing for this caller, or an unknown path |
| 405 | method_not_allowed | the path exists with other methods |
| 409 | already_taken, at_capacity, step_not_allowed | another engineer won the order; the engineer's maximum of open tasks is reached; not possible at the order's current step |
| 413 | file_too_large, request_too_large | upload over 10 MB; JSON over 1 MB |
| 415 | unsupported_media_type, unsupported_file_type | body not JSON; file type refused |
| 422 | invalid_field, idempotency_key_reused, invalid_evidence, invalid_order, validation_error, empty_file, image_too_large, corrupt_file | the values are refused: see `fields` and `message` |
| 429 | rate_limited, wechat_rate_limited | wait `Retry-After` seconds |
| 502 | wechat_error, wechat_unavailable | WeChat failed |
| 503 | busy, database_unavailable, wechat_busy, not_configured | retry later (`Retry-After`; after database_unavailable a write may or may not have been applied: send it again, with the same `Idempotency-Key` for an order) / server setup |

## An order's life

1. The customer reads the forms (`GET /order-types`), uploads photos and
   documents (`POST /files`) and submits the order (`POST /orders`).
2. The order is offered to the engineers who can take it; each one finds
   it in `GET /engineer/inbox` (and a notification) and accepts or
   declines. Exactly one engineer wins; the others get 409
   `already_taken`.
3. The engineer works through the steps with
   `POST /engineer/tasks/{order_id}/steps` (visit on site or remote,
   assessment with photos and check-in, plan and quote, report), uploading
   photos first with `POST /engineer/tasks/{order_id}/files`.
4. The customer follows `GET /orders/{order_id}` (`progress`: steps done
   with their evidence, the current step and its hint, the actions the
   customer can take), confirms or rejects the quote and the report, and
   rates the service. `progress.actions` lists exactly what the caller can
   do now.
"""


CALLERS = {
    None: "Public: no token.",
    'customer': "Takes a customer token.",
    'engineer': "Takes an engineer token.",
    'any': "Takes a customer or an engineer token.",
    }


def _operation_id(method, path):
    words = re.findall(r'[a-z0-9]+', path.replace('{', '').replace('}', ''))
    return '_'.join([method.lower()] + words)


def _security(auth):
    if auth == 'customer':
        return [{'customerToken': []}]
    if auth == 'engineer':
        return [{'engineerToken': []}]
    if auth == 'any':
        return [{'customerToken': []}, {'engineerToken': []}]
    return []


def _error_statuses(spec):
    "The error statuses an operation can answer"
    statuses = {503}
    has_body = bool(spec.request) or spec.multipart
    path_parameters = re.findall(r'\{(\w+)\}', spec.path)
    if spec.auth:
        statuses |= {401, 403}
    if has_body:
        statuses |= {400, 413, 415, 422}
    if spec.parameters or spec.headers:
        statuses.add(422)
    if path_parameters:
        statuses.add(404)
    if (spec.method == 'POST' and 'order_id' in path_parameters
            and not spec.multipart):
        statuses.add(409)
    statuses |= EXTRA_ERRORS.get((spec.method, spec.path), set())
    return statuses


def _error_response(status, spec):
    codes = [c for c in schemas.ERROR_CODES[status]]
    description = OPERATION_ERRORS.get((spec.method, spec.path), {}).get(
        status, ERROR_DESCRIPTIONS[status])
    response = {
        'description': description,
        'content': {
            'application/json': {
                'schema': {
                    'allOf': [
                        schemas.ref('Error'),
                        {'properties': {'error': {'properties': {
                                        'code': {'enum': codes}}}}},
                        ],
                    },
                },
            },
        }
    if status in {429, 503}:
        response['headers'] = copy.deepcopy(RETRY_AFTER)
    return response


def _success_response(status, name, spec):
    if name is None:
        return {'description': "Done; no body."}
    description = {
        200: "OK", 201: "Created"}.get(status, "OK")
    if spec.path == '/orders' and spec.method == 'POST':
        description = {
            201: "The order, created.",
            200: "The order created by an earlier request with the same "
            "Idempotency-Key.",
            }[status]
    if name in MEDIA_TYPES:
        response = {
            'description': "The file's content, of its own type",
            'content': {t: {'schema': schemas.ref(name)}
                for t in MEDIA_TYPES[name]},
            }
        if name == 'Binary':
            response['headers'] = {
                'Content-Disposition': {
                    'description': "attachment, with the file's name",
                    'schema': {'type': 'string'}},
                }
        return response
    return {
        'description': description,
        'content': {'application/json': {'schema': schemas.ref(name)}},
        }


def _parameters(spec):
    parameters = []
    for name in re.findall(r'\{(\w+)\}', spec.path):
        description, schema = PATH_PARAMETERS.get(
            name, ("Id", {'type': 'integer', 'minimum': 1}))
        parameters.append({
                'name': name, 'in': 'path', 'required': True,
                'description': description, 'schema': copy.deepcopy(schema),
                })
    for name in spec.parameters:
        description, schema = QUERY_PARAMETERS.get(
            (spec.path, name), QUERY_PARAMETERS.get(name))
        parameters.append({
                'name': name, 'in': 'query', 'required': False,
                'description': description, 'schema': copy.deepcopy(schema),
                })
    for name in spec.headers:
        parameters.append({'name': name, 'in': 'header',
                **copy.deepcopy(HEADERS[name])})
    parameters.append({'$ref': '#/components/parameters/AcceptLanguage'})
    return parameters


def _request_body(spec):
    if spec.multipart:
        return {
            'required': True,
            'description': "One file in the field `file`, %s MB at most" % (
                UPLOAD_MAX_SIZE // (1024 * 1024)),
            'content': {
                'multipart/form-data': {
                    'schema': copy.deepcopy(schemas.UPLOAD_SCHEMA),
                    },
                },
            }
    if spec.request:
        name = schemas.REQUEST_SCHEMAS.get(spec.request, spec.request)
        return {
            'required': spec.request != 'Empty',
            'content': {
                'application/json': {'schema': schemas.ref(name)},
                },
            }


def operation(spec):
    "The OpenAPI operation of one Route"
    responses = {}
    for status, name in sorted(spec.responses.items()):
        responses[str(status)] = _success_response(status, name, spec)
    for status in sorted(_error_statuses(spec)):
        responses[str(status)] = _error_response(status, spec)
    result = {
        'operationId': _operation_id(spec.method, spec.path),
        'summary': spec.summary,
        'description': CALLERS[spec.auth],
        'tags': [spec.tag],
        'parameters': _parameters(spec),
        'responses': responses,
        'security': _security(spec.auth),
        'x-caller': spec.auth or 'public',
        }
    body = _request_body(spec)
    if body:
        result['requestBody'] = body
    return result


def build(routes=None):
    "The OpenAPI document of routes (all the API's by default)"
    routes = ROUTES if routes is None else routes
    paths = {}
    for spec in routes:
        item = paths.setdefault(spec.path, {})
        method = spec.method.lower()
        if method in item:
            raise ValueError("%s %s is declared twice" % (
                    spec.method, spec.path))
        item[method] = operation(spec)
    used = set()
    for spec in routes:
        used.add(spec.request) if spec.request else None
        used.update(n for n in spec.responses.values() if n)
    unknown = used - set(schemas.SCHEMAS)
    if unknown:
        raise ValueError("schemas missing: %s" % ', '.join(sorted(unknown)))
    return {
        'openapi': OPENAPI_VERSION,
        'jsonSchemaDialect': 'https://json-schema.org/draft/2020-12/schema',
        'info': {
            'title': "Instrument Service API",
            'version': API_VERSION,
            'summary': "JSON API of the customer mini-program and the "
            "engineer app",
            'description': DESCRIPTION,
            },
        'servers': [{'url': PREFIX, 'description': "This server"}],
        'tags': copy.deepcopy(TAGS),
        'paths': dict(sorted(paths.items())),
        'components': {
            'schemas': copy.deepcopy(schemas.SCHEMAS),
            'parameters': {
                'AcceptLanguage': {
                    'name': 'Accept-Language', 'in': 'header',
                    'required': False,
                    'description': "The language of the messages: zh_CN "
                    "(default) or en",
                    'schema': {'type': 'string', 'examples': ['zh_CN', 'en']},
                    },
                },
            'securitySchemes': {
                'customerToken': {
                    'type': 'http', 'scheme': 'bearer',
                    'description': "A customer token (c.…) from POST "
                    "/auth/wechat or POST /auth/dev/login",
                    },
                'engineerToken': {
                    'type': 'http', 'scheme': 'bearer',
                    'description': "An engineer token (e.…) from POST "
                    "/auth/login",
                    },
                },
            },
        }


_document = None


def document():
    "The document of the API, built once"
    global _document
    if _document is None:
        _document = build()
    return _document
