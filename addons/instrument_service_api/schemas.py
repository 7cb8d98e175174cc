# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The JSON Schemas (draft 2020-12, the dialect of OpenAPI 3.1) of the
bodies the API reads and writes, by the names the routes declare in their
request= and responses=. They describe what serialize.py and the routes
really produce: closed objects (additionalProperties: false), every key
that is always written is required, and null is allowed where the code can
write None.

Enumerations come from the module's own tables (order types, states,
workflow actions...), so a new value in the code is a new value here."""
import copy

from trytond.modules.instrument_service.filetype import (
    DOCUMENT_TYPES, IMAGE_TYPES)
from trytond.modules.instrument_service.order import (
    STATES, VALIDATION_CATEGORIES)
from trytond.modules.instrument_service.order_type import (
    FILE_FIELDS, LINE_FIELDS, ORDER_TYPES, REQUIRED)
from trytond.modules.instrument_service.progress import (
    ANSWER_STATES, PROGRESS_ACTIONS, PROGRESS_ROLES)
from trytond.modules.instrument_service.workflow import ACTIONS, ACTORS

from .api import MAX_ID, UPLOAD_MAX_SIZE
from .user import CONTACT_FIELDS

__all__ = ['SCHEMAS', 'REQUEST_SCHEMAS', 'ref', 'STEP_CODES',
    'ENGINEER_STEP_ACTIONS', 'ERROR_CODES', 'FILE_MEDIA_TYPES',
    'STORED_MEDIA_TYPES']

# The step codes of the eight workflows shipped with instrument_service
# (workflow_data.xml); clients key their screens on them.
STEP_CODES = [
    'accepted', 'visit', 'assessment', 'quote', 'work', 'report', 'rating',
    'done']
# What POST /engineer/tasks/{order_id}/steps accepts as action
ENGINEER_STEP_ACTIONS = [
    'visit_onsite', 'visit_remote', 'submit_assessment', 'submit_quote',
    'submit_report', 'finish_remote']
ORDER_TYPE_CODES = [code for code, _ in ORDER_TYPES]
ORDER_STATES = [code for code, _ in STATES if code != 'draft']
WORKFLOW_ACTIONS = [code for code, _ in ACTIONS]
RECORD_ACTIONS = [code for code, _ in PROGRESS_ACTIONS]
ACTOR_ROLES = [code for code, _ in ACTORS]
RECORD_ROLES = [code for code, _ in PROGRESS_ROLES]
ANSWER_STATE_CODES = [code for code, _ in ANSWER_STATES]
CATEGORY_CODES = [code for code, _ in VALIDATION_CATEGORIES]
# What an upload is stored as: HEIC photos are turned into JPEG
STORED_MEDIA_TYPES = sorted((IMAGE_TYPES - {'image/heic'}) | DOCUMENT_TYPES)
# What a download may answer with
FILE_MEDIA_TYPES = STORED_MEDIA_TYPES + ['application/octet-stream']
# The machine codes of errors, by HTTP status
ERROR_CODES = {
    400: ['invalid_json', 'bad_request', 'http_error'],
    401: ['unauthorized', 'wechat_invalid_code'],
    403: ['forbidden', 'wechat_blocked'],
    404: ['not_found'],
    405: ['method_not_allowed'],
    409: ['already_taken', 'at_capacity', 'step_not_allowed'],
    413: ['file_too_large', 'request_too_large'],
    415: ['unsupported_media_type', 'unsupported_file_type'],
    422: ['invalid_field', 'idempotency_key_reused', 'invalid_evidence',
        'invalid_order', 'validation_error', 'empty_file',
        'image_too_large', 'corrupt_file'],
    429: ['rate_limited', 'wechat_rate_limited'],
    502: ['wechat_error', 'wechat_unavailable'],
    503: ['not_configured', 'busy', 'database_unavailable', 'wechat_busy'],
    }

# Times are written in Asia/Shanghai with their offset, to the second
TIME_PATTERN = r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$'
MONEY_PATTERN = r'^\d+\.\d{2}$'
NOT_BLANK = r'\S'


def ref(name):
    return {'$ref': '#/components/schemas/%s' % name}


def nullable(schema):
    "schema, or null"
    schema = copy.deepcopy(schema)
    if '$ref' in schema:
        return {'anyOf': [schema, {'type': 'null'}]}
    kind = schema.get('type')
    if isinstance(kind, str):
        schema['type'] = [kind, 'null']
    if 'enum' in schema and None not in schema['enum']:
        schema['enum'] = schema['enum'] + [None]
    return schema


def closed(properties, required=None, description=None, **extra):
    "An object with exactly these properties (all required by default)"
    schema = {
        'type': 'object',
        'properties': properties,
        'required': (list(properties) if required is None else required),
        'additionalProperties': False,
        }
    if description:
        schema['description'] = description
    schema.update(extra)
    return schema


def string(description=None, **extra):
    schema = {'type': 'string', **extra}
    if description:
        schema['description'] = description
    return schema


def integer(description=None, **extra):
    schema = {'type': 'integer', **extra}
    if description:
        schema['description'] = description
    return schema


def time(description=None):
    return string(description, format='date-time', pattern=TIME_PATTERN)


def text(description=None):
    "A string that may be null"
    return nullable(string(description))


def page(item, description, **extra_properties):
    properties = {
        'items': {'type': 'array', 'items': item},
        'page': integer("The page number, from 1", minimum=1),
        'page_size': integer("Items per page", minimum=1, maximum=100),
        'total': integer("Items over all pages", minimum=0),
        **extra_properties,
        }
    return closed(properties, description=description)


ID = integer(minimum=1)
LABELS = closed({
        'zh_CN': string("Chinese"),
        'en': string("English"),
        }, description="A text in both languages")
CONTACT = closed(
    {f: text() for f in CONTACT_FIELDS},
    description="The contact of a customer: name, company, department, "
    "position, phone, address and email (null when not given)")

# ---- forms -------------------------------------------------------------

FORM_FIELD = closed({
        'name': string("The key of the value in an instrument line of "
            "POST /orders", enum=[
                'instrument_name', 'category', 'brand', 'model',
                'quantity', 'fault_description', 'appointment_time',
                'validation_categories', 'requirement', 'files']),
        'kind': string(
            "How to enter it: str (text), int (whole number), datetime "
            "(ISO 8601 time with offset), multiselection (one or more of "
            "choices), images (ids of uploaded photos), files (ids of "
            "uploaded photos or documents)", enum=[
                'str', 'int', 'datetime', 'multiselection', 'images',
                'files']),
        'required': {'type': 'boolean'},
        'label': LABELS,
        'choices': {
            'type': 'array',
            'description': "The values of a multiselection",
            'items': closed({
                    'value': string(enum=CATEGORY_CODES),
                    'label': LABELS,
                    }),
            },
        'minimum': integer("The smallest value of an int"),
        'max_items': integer("How many files at most", minimum=1),
        }, required=['name', 'kind', 'required', 'label'],
    description="One field of the form of an order type")

ORDER_TYPE_LIST = closed({
        'items': {
            'type': 'array',
            'items': closed({
                    'code': string(enum=ORDER_TYPE_CODES),
                    'name': LABELS,
                    'fields': {'type': 'array', 'items': ref('FormField')},
                    }),
            },
        }, description="The order types and the form of an instrument line "
    "of each: render the order form from this")

# ---- files -------------------------------------------------------------

FILE = closed({
        'id': ID,
        'name': string("File name, with the extension of what the file is"),
        'mimetype': nullable(string(
                "Content type, recognised from the content",
                enum=STORED_MEDIA_TYPES)),
        'size': integer("Size in bytes", minimum=0),
        'url': string("Download path (GET, with the token)",
            pattern=r'^/api/v1/files/\d+$'),
        'thumbnail_url': nullable(string(
                "Path of a 320 px JPEG thumbnail (photos only)",
                pattern=r'^/api/v1/files/\d+/thumbnail$')),
        }, description="An uploaded photo or document")

# ---- orders ------------------------------------------------------------

STEP_SUMMARY = closed({
        'code': string(enum=STEP_CODES),
        'name': string("The step's name, as the customer sees it"),
        })
INSTRUMENT = closed({
        'instrument_name': text(),
        'brand': text(),
        'model': text(),
        'quantity': nullable(integer(minimum=1)),
        })
SUMMARY_PROPERTIES = {
    'id': ID,
    'number': string("Task ID: unique, sequential, human-readable"),
    'name': string("Task name: a readable summary"),
    'type': string(enum=ORDER_TYPE_CODES),
    'type_name': string("The type's name in the caller's language"),
    'state': string(
        "submitted: waiting for an engineer; in_progress; done; cancelled",
        enum=ORDER_STATES),
    'state_name': string("The state's name in the caller's language"),
    'step': nullable(ref('StepSummary')),
    'submitted_at': time("When the order was submitted"),
    'appointment': nullable(time("The agreed visit time")),
    'engineer': text("The engineer who took the order"),
    'instruments': {'type': 'array', 'items': ref('Instrument')},
    }
ORDER_SUMMARY = closed({
        **SUMMARY_PROPERTIES,
        'company': text("The customer's company"),
        }, description="An order in a list")
INBOX_ITEM = closed({
        **SUMMARY_PROPERTIES,
        'area': text("The first word of the address (the city), up to 20 "
            "characters: no personal data before accepting"),
        }, description="An order offered to an engineer")

LINE_VIEW = closed({
        'instrument_name': text("Instrument name (or purpose, for "
            "selection)"),
        'category': text("Instrument type or category"),
        'brand': text(),
        'model': text(),
        'quantity': nullable(integer(minimum=1)),
        'fault_description': text(),
        'appointment_time': nullable(time("Training appointment")),
        'validation_categories': {
            'type': 'array', 'items': string(enum=CATEGORY_CODES)},
        'requirement': text("Requirement description (selection)"),
        'files': {'type': 'array', 'items': ref('File')},
        }, description="An instrument line of an order")

ANSWER_PROPERTIES = {
    'version': integer("1, 2... for each revision", minimum=1),
    'state': string("proposed: waiting for the customer",
        enum=ANSWER_STATE_CODES),
    'reason': text("Why the customer rejected it"),
    }
QUOTE = closed({
        **ANSWER_PROPERTIES,
        'amount': string("Amount, two decimals", pattern=MONEY_PATTERN),
        'currency': text("ISO 4217 code (CNY)"),
        'plan': text("The plan that goes with the price"),
        }, description="A plan and its price")
REPORT = closed({
        **ANSWER_PROPERTIES,
        'content': string(),
        }, description="The report the customer confirms")
CHECK_IN_VIEW = closed({
        'time': time(),
        'latitude': {'type': 'number', 'minimum': -90, 'maximum': 90},
        'longitude': {'type': 'number', 'minimum': -180, 'maximum': 180},
        'accuracy': {'type': 'number', 'minimum': 0,
            'description': "In meters"},
        'address': text(),
        }, description="An on-site check-in (打卡)")
PROGRESS_RECORD = closed({
        'id': ID,
        'action': string(enum=RECORD_ACTIONS),
        'label': string("What was done, as the customer reads it"),
        'date': time(),
        'actor_role': string(enum=RECORD_ROLES),
        'actor_name': text(),
        'description': text(),
        'reason': text(),
        'photos': {'type': 'array', 'items': ref('File')},
        'visit_mode': nullable(string(enum=['onsite', 'remote'])),
        'appointment': nullable(time()),
        'check_in': nullable(ref('CheckIn')),
        'quote': nullable(ref('Quote')),
        'report': nullable(ref('Report')),
        }, description="One completed step: who did what, when, with which "
    "evidence. Append-only.")
PROGRESS_STEP = closed({
        'code': string(enum=STEP_CODES),
        'name': string(),
        'status': string(enum=['done', 'current', 'skipped', 'todo']),
        'hint': text("The rendered hint, on the current step only"),
        'records': {'type': 'array', 'items': ref('ProgressRecord')},
        }, description="A step of the order's workflow")
ACTION = closed({
        'action': string(enum=WORKFLOW_ACTIONS),
        'actor': string(enum=ACTOR_ROLES),
        'button': string("The text of the button"),
        }, description="Something the caller can do now")
RATING_VIEW = closed({
        'attitude': integer(minimum=1, maximum=5),
        'quality': integer(minimum=1, maximum=5),
        'overall': integer(minimum=1, maximum=5),
        'comment': text(),
        })
PROGRESS = closed({
        'current_step': nullable(string(enum=STEP_CODES)),
        'hint': string("What the customer reads now"),
        'steps': {'type': 'array', 'items': ref('ProgressStep')},
        'actions': {
            'type': 'array', 'items': ref('Action'),
            'description': "What the caller (customer or engineer) can do "
            "now; staff actions are left out"},
        'quote': nullable(ref('Quote')),
        'report': nullable(ref('Report')),
        'rating': nullable(ref('RatingView')),
        }, description="The progress view, the same as the back office "
    "shows: steps done with evidence, current step with its hint, steps to "
    "come")
ORDER_DETAIL = closed({
        **ORDER_SUMMARY['properties'],
        'contact': ref('Contact'),
        'visit_mode': nullable(string(enum=['onsite', 'remote'])),
        'lines': {'type': 'array', 'items': ref('LineView')},
        'progress': ref('Progress'),
        'can_cancel': {
            'type': 'boolean',
            'description': "Customers only: whether POST "
            "/orders/{order_id}/cancel is possible now"},
        }, required=list(ORDER_SUMMARY['properties']) + [
        'contact', 'visit_mode', 'lines', 'progress'],
    description="An order in full, as its customer or its engineer sees it")


def _line_request(order_type):
    "The instrument line of an order of order_type, as POST /orders takes"
    form = LINE_FIELDS[order_type]
    kinds = {
        'instrument_name': string(pattern=NOT_BLANK),
        'category': string(),
        'brand': string(pattern=NOT_BLANK),
        'model': string(),
        'quantity': integer(minimum=1, maximum=9999),
        'fault_description': string(),
        'appointment_time': string(
            "ISO 8601 time with an offset, from 2000 to 2099",
            format='date-time'),
        'validation_categories': {
            'type': 'array', 'minItems': 1, 'uniqueItems': True,
            'items': string(enum=CATEGORY_CODES)},
        'requirement': string(),
        }
    properties, required = {}, []
    for name, need in form.items():
        if name in FILE_FIELDS:
            continue
        schema = copy.deepcopy(kinds[name])
        if need == REQUIRED:
            required.append(name)
            if schema.get('type') == 'string' and 'pattern' not in schema:
                schema['pattern'] = NOT_BLANK
        properties[name] = schema
    if form.keys() & FILE_FIELDS:
        images = 'photos' in form
        properties['files'] = {
            'type': 'array', 'maxItems': 20,
            'items': integer(minimum=1, maximum=MAX_ID),
            'description': "Ids of the caller's uploads (POST /files)"
            + (", photos only" if images else ""),
            }
    return {
        'type': 'object', 'properties': properties, 'required': required,
        'additionalProperties': False,
        'description': "An instrument line of a %s order" % order_type,
        }


def _submission(order_type):
    return closed({
            'type': {'const': order_type},
            'contact': ref('ContactSubmission'),
            'lines': {
                'type': 'array', 'minItems': 1, 'maxItems': 20,
                'items': ref('Line_%s' % order_type)},
            }, description="An order of type %s" % order_type)


CONTACT_SUBMISSION = closed({
        'name': string(pattern=NOT_BLANK),
        'company': string(pattern=NOT_BLANK),
        'department': nullable(string()),
        'position': nullable(string()),
        'phone': string(pattern=r'^\s*[0-9+\-() ]{5,20}\s*$'),
        'address': nullable(string()),
        'email': nullable(string(format='email')),
        }, required=['name', 'company', 'phone'],
    description="The contact of the order (kept on the order and "
    "remembered in the profile)")
ORDER_SUBMISSION = {
    'description': "An order: its type, the contact and 1 to 20 instrument "
    "lines with the fields of the type's form (GET /order-types)",
    'oneOf': [ref('OrderSubmission_%s' % t) for t in ORDER_TYPE_CODES],
    'discriminator': {
        'propertyName': 'type',
        'mapping': {t: '#/components/schemas/OrderSubmission_%s' % t
            for t in ORDER_TYPE_CODES},
        },
    }

ORDER_PAGE = page(ref('OrderSummary'), "A page of orders")
INBOX_PAGE = page(ref('InboxItem'), "A page of offered orders")

# ---- answers -----------------------------------------------------------

REASON = closed({'reason': string("Why", pattern=NOT_BLANK)},
    description="A reason, required")
EMPTY = {
    'type': 'object', 'properties': {}, 'additionalProperties': False,
    'description': "No body, or an empty JSON object",
    }
RATING = closed({
        'attitude': integer("服务态度, stars", minimum=1, maximum=5),
        'quality': integer("服务质量, stars", minimum=1, maximum=5),
        'overall': integer("总体评价, stars", minimum=1, maximum=5),
        'comment': nullable(string()),
        }, required=['attitude', 'quality', 'overall'])
PROFILE = closed({'contact': ref('Contact')},
    description="The contact remembered for the next order")
PROFILE_UPDATE = closed({
        'contact': closed(
            {f: nullable(string()) for f in CONTACT_FIELDS}, required=[],
            description="The fields to change; an empty string or null "
            "clears one, a missing one is kept"),
        }, description="The contact fields to change")

# ---- engineer ----------------------------------------------------------

CHECK_IN = closed({
        'time': string("ISO 8601 time with an offset, from 2000 to 2099",
            format='date-time'),
        'latitude': {'type': 'number', 'minimum': -90, 'maximum': 90},
        'longitude': {'type': 'number', 'minimum': -180, 'maximum': 180},
        'accuracy': {'type': 'number', 'minimum': 0, 'exclusiveMaximum': 100000,
            'description': "In meters"},
        'address': string(),
        }, required=['time', 'latitude', 'longitude', 'accuracy'])
STEP_SUBMISSION = closed({
        'action': string(
            "visit_onsite (step 2, with appointment), visit_remote (step 2), "
            "submit_assessment (step 3: description, photos, check_in), "
            "submit_quote (step 4: description is the plan, amount), "
            "submit_report (step 6: report), finish_remote (remote "
            "assistance done: description)", enum=ENGINEER_STEP_ACTIONS),
        'description': string(),
        'photos': {
            'type': 'array', 'items': integer(minimum=1, maximum=MAX_ID),
            'description': "Ids of photos uploaded with POST "
            "/engineer/tasks/{order_id}/files"},
        'appointment': string("The visit time, ISO 8601 with an offset, "
            "from 2000 to 2099", format='date-time'),
        'check_in': ref('CheckInSubmission'),
        'amount': string("The quote in CNY, up to two decimals",
            pattern=r'^\d{1,12}(\.\d{1,2})?$'),
        'report': string("The report content"),
        }, required=['action'],
    description="The evidence a step needs is set by its workflow (editable "
    "data); a missing piece answers 422 invalid_evidence")

NOTIFICATION = closed({
        'id': ID,
        'label': text(),
        'description': text(),
        'unread': {'type': 'boolean'},
        'order_id': nullable(ID),
        'created_at': time(),
        }, description="A notification of an engineer")
NOTIFICATION_PAGE = page(ref('Notification'), "A page of notifications",
    unread=integer("Unread notifications over all pages", minimum=0))
UNREAD_COUNT = closed({'unread': integer(minimum=0)})
NOTIFICATION_WAIT = closed({
        'items': {'type': 'array', 'items': ref('Notification'),
            'maxItems': 50},
        'unread': integer(minimum=0),
        }, description="The notifications newer than `after` (oldest first, "
    "50 at most), empty when the timeout passed first")

# ---- authentication ----------------------------------------------------

WECHAT_LOGIN = closed({
        'code': string("The code of wx.login", pattern=NOT_BLANK,
            maxLength=128),
        })
CUSTOMER_SESSION = closed({
        'token': string("Send as Authorization: Bearer <token>",
            pattern=r'^c\.'),
        'token_type': {'const': 'Bearer'},
        'expires_in': integer("Seconds of inactivity before the token "
            "expires; each use extends it", minimum=1),
        'customer': closed({
                'id': ID,
                'is_new': {'type': 'boolean',
                    'description': "true on the first login"},
                'contact': ref('Contact'),
                }),
        })
PHONE_CODE_REQUEST = closed({
        'phone': string(pattern=r'^\s*[0-9+\-() ]{5,20}\s*$'),
        })
PHONE_LOGIN = closed({
        'phone': string(pattern=NOT_BLANK),
        'code': string("The 6 digits printed in the server log",
            pattern=NOT_BLANK),
        })
ENGINEER_LOGIN = closed({
        'login': string(pattern=NOT_BLANK),
        'password': string(),
        })
ENGINEER_SESSION = closed({
        'token': string("Send as Authorization: Bearer <token>",
            pattern=r'^e\.\d+\.'),
        'token_type': {'const': 'Bearer'},
        'expires_in': integer("Seconds of inactivity before the token "
            "expires", minimum=1),
        'engineer': closed({
                'id': ID,
                'name': string(),
                'employee': text("The employee's name"),
                }),
        'push_alias': string("The alias the app sets with JPush's SDK to "
            "receive the pushes of this engineer"),
        })

# ---- the rest ----------------------------------------------------------

BINARY = {
    'type': 'string', 'contentMediaType': 'application/octet-stream',
    'description': "The file's bytes",
    }
ERROR = closed({
        'error': closed({
                'code': string("Machine code, stable: branch on it"),
                'message': string("For people, in the caller's language"),
                'fields': {
                    'type': 'object',
                    'description': "The fields in error and what is wrong "
                    "with each (required, a type, a range, unknown...); "
                    "nested fields as contact.phone, lines[0].quantity",
                    'additionalProperties': string(),
                    },
                }, required=['code', 'message']),
        }, description="Every answer other than success")

OPENAPI_DOCUMENT = {
    'type': 'object',
    'description': "An OpenAPI 3.1 document",
    'properties': {
        'openapi': {'type': 'string', 'pattern': r'^3\.1\.\d+$'},
        'info': {'type': 'object'},
        'paths': {'type': 'object'},
        'components': {'type': 'object'},
        },
    'required': ['openapi', 'info', 'paths', 'components'],
    }
HTML_PAGE = {'type': 'string', 'description': "An HTML page"}
DOCS_ASSET = {'type': 'string', 'description': "A style sheet, script or "
    "icon of the documentation page"}

SCHEMAS = {
    # shared parts
    'Contact': CONTACT,
    'StepSummary': STEP_SUMMARY,
    'Instrument': INSTRUMENT,
    'FormField': FORM_FIELD,
    'OrderSummary': ORDER_SUMMARY,
    'InboxItem': INBOX_ITEM,
    'LineView': LINE_VIEW,
    'Quote': QUOTE,
    'Report': REPORT,
    'CheckIn': CHECK_IN_VIEW,
    'ProgressRecord': PROGRESS_RECORD,
    'ProgressStep': PROGRESS_STEP,
    'Action': ACTION,
    'RatingView': RATING_VIEW,
    'Progress': PROGRESS,
    'ContactSubmission': CONTACT_SUBMISSION,
    'CheckInSubmission': CHECK_IN,
    'Notification': NOTIFICATION,
    # the bodies the routes name
    'OrderTypeList': ORDER_TYPE_LIST,
    'File': FILE,
    'OrderSubmission': ORDER_SUBMISSION,
    'OrderDetail': ORDER_DETAIL,
    'OrderPage': ORDER_PAGE,
    'InboxPage': INBOX_PAGE,
    'Reason': REASON,
    'Empty': EMPTY,
    'Rating': RATING,
    'Profile': PROFILE,
    'ProfileUpdate': PROFILE_UPDATE,
    'StepSubmission': STEP_SUBMISSION,
    'NotificationPage': NOTIFICATION_PAGE,
    'UnreadCount': UNREAD_COUNT,
    'NotificationWait': NOTIFICATION_WAIT,
    'WeChatLogin': WECHAT_LOGIN,
    'CustomerSession': CUSTOMER_SESSION,
    'PhoneCodeRequest': PHONE_CODE_REQUEST,
    'PhoneLogin': PHONE_LOGIN,
    'EngineerLogin': ENGINEER_LOGIN,
    'EngineerSession': ENGINEER_SESSION,
    'Binary': BINARY,
    'Error': ERROR,
    'OpenAPIDocument': OPENAPI_DOCUMENT,
    'HTMLPage': HTML_PAGE,
    'DocsAsset': DOCS_ASSET,
    }
for _type in ORDER_TYPE_CODES:
    SCHEMAS['Line_%s' % _type] = _line_request(_type)
    SCHEMAS['OrderSubmission_%s' % _type] = _submission(_type)

# A name used both as request and response whose request is another shape:
# PUT /me takes some contact fields and answers the whole profile
REQUEST_SCHEMAS = {'Profile': 'ProfileUpdate'}

UPLOAD_SCHEMA = {
    'type': 'object',
    'properties': {
        'file': {
            'type': 'string', 'contentMediaType': 'application/octet-stream',
            'description': "One file, %s MB at most" % (
                UPLOAD_MAX_SIZE // (1024 * 1024)),
            },
        },
    'required': ['file'],
    }
