# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The OpenAPI 3.1 document of the API, generated from the declarations of
the routes (api.ROUTES), the JSON Schemas of schemas.py that the frame
validates the requests with, and the error codes of errors.py: each
operation lists exactly the codes its declaration says it can answer.

The evidence each step of each workflow requires is data administrators
edit: the document of a server gives it as its database says now (the
schemas Evidence_<type>_<step>_<action>), read when it is served."""
import copy
import json
import os
import re

from . import errors, schemas
from .api import IDEMPOTENCY_KEY, PREFIX, ROUTES, UPLOAD_MAX_SIZE

OPENAPI_VERSION = '3.1.0'
# The answers of a real server to each operation, recorded by the test of
# the document (test_openapi, with API_EXAMPLES_RECORD set) and checked by
# it against their schemas: the examples of the answers
EXAMPLES_FILE = os.path.join(os.path.dirname(__file__), 'examples.json')
TITLE = "Instrument Service API"
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

HEADERS = {
    'required': {
        'description': "A key the client makes for this request (a UUID) "
        "and sends again, unchanged, on every retry of it: a retry with "
        "the same key and body answers what the first request answered "
        "(with the header Idempotent-Replayed: true) instead of doing it "
        "again; the same key with another body or operation answers 422 "
        "idempotency_key_reused. Keys are kept 30 days.",
        'required': True,
        'schema': schemas.IDEMPOTENCY_KEY,
        },
    'optional': {
        'description': "Optional, recommended for clients that retry (an "
        "offline outbox): a key the client makes for this request (a "
        "UUID) and sends again, unchanged, on every retry of it; a retry "
        "with the same key and body answers what the first request "
        "answered (with the header Idempotent-Replayed: true) and does "
        "nothing twice; the same key with another body or operation "
        "answers 422 idempotency_key_reused.",
        'required': False,
        'schema': schemas.IDEMPOTENCY_KEY,
        },
    }
# Path parameters are integer ids (api.route's {name}) unless listed here
PATH_PARAMETERS = {}

# The media types of the bodies that are not JSON, by schema name
MEDIA_TYPES = {
    'Binary': schemas.FILE_MEDIA_TYPES,
    }

# The meaning of the codes of each status, by status
STATUS_DESCRIPTIONS = {
    400: "The request cannot be read.",
    401: "Log in (again).",
    403: "Not allowed to this caller.",
    404: "No such thing for this caller.",
    409: "Not possible in the order's present state.",
    413: "Too large.",
    415: "Not an accepted type.",
    422: "The values are refused: see `fields` and `message`.",
    429: "Too many attempts.",
    502: "WeChat failed.",
    503: "Retry later (Retry-After), or the server is not set up for "
    "this.",
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
  answers an engineer token (`e.…`), the token of a device session that
  does not depend on the phone's network. Failed logins are rate limited.
  In the engineers' mini-program, an engineer logged in once links their
  WeChat (`POST /auth/wechat/link` with the code of `wx.login`); later
  starts log in with `POST /auth/wechat/engineer`, which answers 401
  `wechat_not_linked` when the WeChat is not linked (then the password).
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
  with the same key never creates a second order. The engineer's writes
  (accept, decline, steps, uploads) and the customer's uploads take one
  too: an offline outbox sends each item with its key until it gets an
  answer, and nothing is done twice.
* Text must not contain control characters (but tab and new lines).

## Errors

Every answer other than success has this body:

```json
{"error": {"code": "invalid_field", "message": "…",
           "fields": {"lines[0].quantity": {"code": "maximum",
                                            "message": "不能大于 9999。"}},
           "request_id": "4f0c2a9e6b1d4c8e9a7f3b2d1c0e5f6a"}}
```

`code` is stable, `message` is for people (in the caller's language) and
`fields`, when present, names each field in error by its path in the
request, with a machine code (`required`, `unknown`, `type`, `choice`,
`minimum`, `max_length`, `min_items`, `pattern`, `datetime`, `phone`...)
and a message in the caller's language to show beside the field.
`request_id` is the id of the request, also in the header `X-Request-Id`
of every answer (success or not): the request's own `X-Request-Id` when it
is well-formed (1 to 128 letters, digits and `._:-`), else one the server
makes. Show it, or send it with a complaint: it finds the request in the
server's logs.

Each operation lists the codes it can answer, by status, with what each
one means there; it answers no other. The codes of all operations:

@@CODES@@

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

## Forms come from the data

The apps hard-code no rule of the workflows: `progress.actions` of an order
(the customer's) or a task (the engineer's) lists the actions of the
current step, each with its button, the fields of its form (which are
required, how many photos or files, a check-in, an appointment, an
amount...) and the operation that performs it; the order form comes from
`GET /order-types`. Administrators edit the workflows in the back office,
and the next read shows the change.
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


def _error_response(status, codes):
    "The answer of an error status of an operation: its codes, each said"
    lines = ['%s %s' % (STATUS_DESCRIPTIONS[status], ' '.join(
                '`%s`: %s' % (code, meaning) for code, meaning in codes))]
    response = {
        'description': lines[0],
        'content': {
            'application/json': {
                'schema': {
                    'allOf': [
                        schemas.ref('Error'),
                        {'properties': {'error': {'properties': {
                                        'code': {'enum': [c for c, _
                                                in codes]}}}}},
                        ],
                    },
                },
            },
        }
    if status in {429, 503}:
        response['headers'] = copy.deepcopy(RETRY_AFTER)
    return response


def _error_responses(spec):
    "The error answers of an operation, by status"
    codes = {}
    for code, meaning in sorted(spec.error_codes().items()):
        codes.setdefault(errors.status(code), []).append(
            (code, meaning or errors.CODES[code][1]))
    return {str(status): _error_response(status, codes[status])
        for status in sorted(codes)}


def _success_response(status, name, spec):
    if name is None:
        return {'description': "Done; no body."}
    description = {
        200: "OK", 201: "Created"}.get(status, "OK")
    if spec.idempotency:
        description += (". A retry with the same Idempotency-Key answers "
            "this again, with the header Idempotent-Replayed: true")
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
    content = {'schema': schemas.ref(name)}
    example = (spec.example or {}).get('response')
    if example is None:
        example = recorded_examples().get(
            '%s %s' % (spec.method, spec.path))
    if example is not None:
        content['example'] = copy.deepcopy(example)
    return {
        'description': description,
        'content': {'application/json': content},
        }


_examples = None


def recorded_examples():
    "The recorded answers, by 'METHOD path'"
    global _examples
    if _examples is None:
        try:
            with open(EXAMPLES_FILE, encoding='utf-8') as fp:
                _examples = json.load(fp)
        except FileNotFoundError:
            _examples = {}
    return _examples


def _parameters(spec):
    parameters = []
    for name in spec.path_parameters:
        description, schema = PATH_PARAMETERS.get(
            name, ("Id", {'type': 'integer', 'minimum': 1}))
        parameters.append({
                'name': name, 'in': 'path', 'required': True,
                'description': description, 'schema': copy.deepcopy(schema),
                })
    for name in spec.parameters:
        schema = copy.deepcopy(schemas.PARAMETERS.get((spec.path, name))
            or schemas.PARAMETERS[name])
        parameters.append({
                'name': name, 'in': 'query', 'required': False,
                'description': schema.pop('description'), 'schema': schema,
                })
    if spec.idempotency:
        parameters.append({'name': IDEMPOTENCY_KEY, 'in': 'header',
                **copy.deepcopy(HEADERS[spec.idempotency])})
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
        content = {'schema': schemas.ref(spec.request_schema)}
        if (spec.example or {}).get('request') is not None:
            content['example'] = copy.deepcopy(spec.example['request'])
        return {
            'required': not spec.body_optional,
            'content': {'application/json': content},
            }


def operation(spec):
    "The OpenAPI operation of one Route"
    responses = {}
    for status, name in sorted(spec.responses.items()):
        responses[str(status)] = _success_response(status, name, spec)
    responses.update(_error_responses(spec))
    result = {
        'operationId': _operation_id(spec.method, spec.path),
        'summary': spec.summary,
        'description': '\n\n'.join(filter(None, [
                    spec.description, CALLERS[spec.auth]])),
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


def _codes_table():
    "The table of every error code of the description"
    lines = ['| status | code | meaning |', '|---|---|---|']
    for code, (status, meaning) in sorted(
            {**errors.CODES, **errors.NOT_AN_OPERATION}.items(),
            key=lambda item: (item[1][0], item[0])):
        lines.append('| %s | %s | %s |' % (status, code, meaning))
    return '\n'.join(lines)


def evidence_components(workflows):
    """The schemas of the evidence of each transition of workflows
    ((order type, Workflow.definition) pairs) that a customer or an
    engineer performs after the order is taken, and the table that lists
    them: (schemas, markdown)"""
    from trytond.modules.instrument_service.workflow import evidence_fields
    result = {}
    lines = ['| order type | step | action | who | fields (* required) |',
        '|---|---|---|---|---|']
    for order_type, definition in workflows:
        steps = {s['id']: s['code'] for s in definition['steps']}
        for transition in definition['transitions']:
            if not transition['from_step'] or transition['actor'] == 'staff':
                continue
            fields = evidence_fields(transition)
            step = steps[transition['from_step']]
            name = 'Evidence_%s_%s_%s' % (order_type, step,
                transition['action'])
            schema = schemas.evidence_schema(fields,
                transition['action'] if transition['actor'] == 'engineer'
                else None)
            schema['description'] = ("What %s of a %s order at step %s "
                "takes (%s)" % (transition['action'], order_type, step,
                    transition['actor']))
            result[name] = schema
            lines.append('| %s | %s | %s | %s | %s |' % (order_type, step,
                    transition['action'], transition['actor'], ', '.join(
                        _field_summary(f) for f in fields) or '-'))
    return result, '\n'.join(lines)


def _field_summary(field):
    text = field['name'] + ('*' if field['required'] else '')
    if field.get('min_items'):
        text += ' (at least %s)' % field['min_items']
    return text


EVIDENCE_SECTION = """

## The evidence of each step, on this server

What each action of each workflow takes and requires, as the workflows of
this server say now (administrators edit them; read `progress.actions` of
the order for the action at hand). The schema of each is
`Evidence_<type>_<step>_<action>`.

"""


def build(routes=None, workflows=()):
    """The OpenAPI document of routes (all the API's by default), with the
    evidence of the workflows ((order type, Workflow.definition) pairs)"""
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
    evidence, table = evidence_components(workflows)
    description = DESCRIPTION.replace('@@CODES@@', _codes_table())
    if workflows:
        description += EVIDENCE_SECTION + table + '\n'
    return {
        'openapi': OPENAPI_VERSION,
        'jsonSchemaDialect': 'https://json-schema.org/draft/2020-12/schema',
        'info': {
            'title': TITLE,
            'version': API_VERSION,
            'summary': "JSON API of the customer mini-program and the "
            "engineer app",
            'description': description,
            },
        'servers': [{'url': PREFIX, 'description': "This server"}],
        'tags': copy.deepcopy(TAGS),
        'paths': dict(sorted(paths.items())),
        'components': {
            'schemas': {**copy.deepcopy(schemas.SCHEMAS), **evidence},
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
                    "/auth/login or POST /auth/wechat/engineer",
                    },
                },
            },
        }


def document():
    """The document of the API, with the evidence the workflows of the
    database require now (in a transaction)"""
    from trytond.pool import Pool
    Workflow = Pool().get('instrument_service.workflow')
    workflows = [(w.order_type, Workflow.definition(w.id))
        for w in Workflow.search([], order=[('id', 'ASC')])]
    return build(workflows=workflows)
