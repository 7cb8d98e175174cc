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

from trytond.modules.instrument_service.filetype import DOCUMENT_TYPES
from trytond.modules.instrument_service.order import (
    STATES, VALIDATION_CATEGORIES)
from trytond.modules.instrument_service.order_type import (
    FILE_FIELDS, LINE_FIELDS, ORDER_TYPES, REQUIRED)
from trytond.modules.instrument_service.progress import (
    ANSWER_STATES, COORDINATE_SYSTEMS, PROGRESS_ACTIONS, PROGRESS_ROLES)
from trytond.modules.instrument_service.workflow import (
    ACTIONS, ACTORS, MAX_EVIDENCE_FILES, RATING_FIELDS)

from .api import MAX_ID, UPLOAD_MAX_SIZE
from .user import CONTACT_FIELDS

__all__ = ['SCHEMAS', 'REQUEST_SCHEMAS', 'PARAMETERS', 'ref', 'STEP_CODES',
    'ENGINEER_STEP_ACTIONS', 'FILE_MEDIA_TYPES', 'STORED_MEDIA_TYPES',
    'evidence_schema']

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
COORDINATE_SYSTEM_CODES = [code for code, _ in COORDINATE_SYSTEMS if code]
EVIDENCE_NAMES = [
    'appointment', 'amount', 'description', 'report', 'reason',
    *RATING_FIELDS, 'comment', 'check_in', 'photos', 'files']
EVIDENCE_KINDS = [
    'text', 'datetime', 'money', 'stars', 'check_in', 'images', 'files']
# Instrument lines of an order, files of a line or of an order, quantity
MAX_LINES, MAX_FILES, MAX_QUANTITY = 20, 20, 9999
ORDER_STATES = [code for code, _ in STATES if code != 'draft']
WORKFLOW_ACTIONS = [code for code, _ in ACTIONS]
RECORD_ACTIONS = [code for code, _ in PROGRESS_ACTIONS]
ACTOR_ROLES = [code for code, _ in ACTORS]
RECORD_ROLES = [code for code, _ in PROGRESS_ROLES]
ANSWER_STATE_CODES = [code for code, _ in ANSWER_STATES]
CATEGORY_CODES = [code for code, _ in VALIDATION_CATEGORIES]
# What an upload is stored as: every photo as a JPEG (files.prepare)
STORED_MEDIA_TYPES = sorted({'image/jpeg'} | DOCUMENT_TYPES)
# What a download may answer with
FILE_MEDIA_TYPES = STORED_MEDIA_TYPES + ['application/octet-stream']
# Times are written in Asia/Shanghai with their offset, to the second
TIME_PATTERN = r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$'
MONEY_PATTERN = r'^\d+\.\d{2}$'
NOT_BLANK = r'\S'
PHONE_PATTERN = r'^\s*[0-9+\-() ]{5,20}\s*$'
# An email address, or nothing
EMAIL_PATTERN = r'^\s*([^@\s]+@[^@\s]+\.[^@\s]+)?\s*$'
# [0-9], not \d: Python's \d takes the digits of every script (１０００)
AMOUNT_PATTERN = r'^[0-9]{1,12}(\.[0-9]{1,2})?$'
# How long a text may be: a name, an address, a description
NAME_LENGTH, ADDRESS_LENGTH, TEXT_LENGTH = 100, 500, 10000


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


def time_input(description="ISO 8601 time with an offset, from 2000 to "
        "2099, e.g. 2025-05-29T10:00:00+08:00"):
    "A time a client sends: any offset, Z too"
    return string(description, format='date-time',
        examples=['2025-05-29T10:00:00+08:00'])


def text_input(description=None, required=False, max_length=TEXT_LENGTH,
        line=False):
    """A text a client sends; a required one must not be blank (answered
    as required when it is); a line (a name, a brand) has no tab nor line
    break"""
    schema = string(description, maxLength=max_length)
    if line:
        schema['format'] = 'single-line'

    if required:
        schema.update({'pattern': NOT_BLANK, 'x-code': 'required'})
    return schema


def ids(description, max_items=MAX_EVIDENCE_FILES, min_items=0):
    "The ids of uploaded files, in the order to show them"
    schema = {
        'type': 'array', 'maxItems': max_items, 'uniqueItems': True,
        'items': integer(minimum=1, maximum=MAX_ID),
        'description': description,
        }
    if min_items:
        schema['minItems'] = min_items
    return schema


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
        'maximum': integer("The largest value of an int"),
        'max_length': integer("The longest text", minimum=1),
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
        'order_files': closed({
                'label': LABELS,
                'max_items': integer(minimum=1),
                }, description="The files of the whole order (POST /orders "
            "`files`): photos or documents, on every type"),
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
    'number': string("Task ID: unique, sequential, human-readable; its "
        "date is the submission's, in Asia/Shanghai"),
    'type': string(enum=ORDER_TYPE_CODES),
    'type_name': string("The type's name in the caller's language"),
    'state': string(
        "submitted: waiting for an engineer; in_progress; done; cancelled",
        enum=ORDER_STATES),
    'state_name': string("The state's name in the caller's language"),
    'submitted_at': time("When the order was submitted"),
    'instruments': {'type': 'array', 'items': ref('Instrument')},
    }
ORDER_SUMMARY = closed({
        **SUMMARY_PROPERTIES,
        'name': string("Task name: a readable summary"),
        'step': nullable(ref('StepSummary')),
        'appointment': nullable(time("The agreed visit time")),
        'engineer': text("The engineer who took the order"),
        'company': text("The customer's company"),
        }, description="An order in a list")
INBOX_ITEM = closed({
        **SUMMARY_PROPERTIES,
        'title': string("The type and the first instrument, e.g. "
            "仪器维修 · 液相色谱仪 Agilent 1260: no customer data"),
        'province': text("The province of the service address"),
        'city': text("The city"),
        'district': text("The district or county"),
        'requested_time': nullable(time("The time the customer asked for "
            "(a training appointment), if any")),
        'answer_by': nullable(time("When the order goes to the dispatchers "
            "if nobody has accepted it")),
        }, description="An order offered to an engineer. Nothing that "
    "identifies the customer (name, company, street address, phone) is "
    "shown before the engineer accepts it.")

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
        'files': {'type': 'array', 'items': ref('File'),
            'description': "In the order the customer chose"},
        }, description="An instrument line of an order")

ANSWER_PROPERTIES = {
    'version': integer("1, 2... for each revision", minimum=1),
    'state': string("proposed: waiting for the customer",
        enum=ANSWER_STATE_CODES),
    'reason': text("Why the customer rejected it"),
    'files': {'type': 'array', 'items': ref('File'),
        'description': "The documents and photos that go with it"},
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
        }, description="The report the customer confirms (the validation "
    "report of 点击查看验证报告): its text and its files")
CHECK_IN_VIEW = closed({
        'time': time(),
        'latitude': {'type': 'number', 'minimum': -90, 'maximum': 90},
        'longitude': {'type': 'number', 'minimum': -180, 'maximum': 180},
        'accuracy': {'type': 'number', 'minimum': 0,
            'description': "In meters"},
        'address': text(),
        'coordinate_system': nullable(string("wgs84 (GPS, browsers) or "
                "gcj02 (WeChat, Chinese maps); null when not said",
                enum=COORDINATE_SYSTEM_CODES)),
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
        'files': {'type': 'array', 'items': ref('File'),
            'description': "Documents of the step (a report's PDF...)"},
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
EVIDENCE_FIELD = closed({
        'name': string("The key of the value in the request",
            enum=EVIDENCE_NAMES),
        'kind': string(
            "How to enter it: text; datetime (ISO 8601 with offset, not "
            "before `minimum`); money (yuan, a string with up to two "
            "decimals, more than `exclusive_minimum`); stars (an integer "
            "from `minimum` to `maximum`); check_in (an object: time, "
            "latitude, longitude, accuracy, address, coordinate_system); "
            "images (ids of photos uploaded to `upload`); files (ids of "
            "photos or documents uploaded to `upload`)",
            enum=EVIDENCE_KINDS),
        'label': string("The field's label, in the caller's language"),
        'required': {'type': 'boolean'},
        'min_items': integer(minimum=0),
        'max_items': integer(minimum=1),
        'minimum': {'type': ['integer', 'string'],
            'description': "The smallest value: a number, or a time"},
        'maximum': integer(),
        'exclusive_minimum': integer(),
        'max_length': integer(minimum=1),
        'upload': string("Where to upload the files of an images or files "
            "field (POST, multipart, one file a request)"),
        }, required=['name', 'kind', 'label', 'required'],
    description="One field of an action's form, read from the workflow's "
    "evidence rules (which administrators edit): build the form from "
    "these, hard-code none of them")
ACTION = closed({
        'action': string(enum=WORKFLOW_ACTIONS + ['cancel']),
        'actor': string(enum=ACTOR_ROLES),
        'label': string("What the action records, in the caller's "
            "language"),
        'button': string("The text of the button"),
        'fields': {'type': 'array', 'items': ref('EvidenceField'),
            'description': "What the action requires and takes, in the "
            "order of its form"},
        'request': closed({
                'method': {'const': 'POST'},
                'path': string("The operation that performs it, e.g. "
                    "/api/v1/engineer/tasks/12/steps (with `action` in "
                    "the body) or /api/v1/orders/12/quote/confirm"),
                }),
        }, description="Something the caller can do now, and what it "
    "requires")
RATING_VIEW = closed({
        'attitude': integer(minimum=1, maximum=5),
        'quality': integer(minimum=1, maximum=5),
        'overall': integer(minimum=1, maximum=5),
        'comment': text(),
        })
ANSWER_STATUS = nullable(string(
        "Where the latest stands: proposed (waiting for the customer), "
        "revising (rejected; the engineer prepares a new one), rejected, "
        "confirmed; null before the first one",
        enum=['proposed', 'revising', 'rejected', 'confirmed']))
PROGRESS = closed({
        'current_step': nullable(string(enum=STEP_CODES)),
        'hint': string("What the customer reads now"),
        'steps': {'type': 'array', 'items': ref('ProgressStep')},
        'actions': {
            'type': 'array', 'items': ref('Action'),
            'description': "What the caller (customer or engineer) can do "
            "now, each with what it requires; staff actions are left out"},
        'quote': nullable(ref('Quote')),
        'quote_status': ANSWER_STATUS,
        'quotes': {'type': 'array', 'items': ref('Quote'),
            'description': "Every version, newest first, with the reason "
            "of each rejection"},
        'report': nullable(ref('Report')),
        'report_status': ANSWER_STATUS,
        'reports': {'type': 'array', 'items': ref('Report'),
            'description': "Every version, newest first"},
        'rating': nullable(ref('RatingView')),
        }, description="The progress view, the same as the back office "
    "shows: steps done with evidence, current step with its hint, steps to "
    "come")
ORDER_DETAIL = closed({
        **ORDER_SUMMARY['properties'],
        'contact': ref('Contact'),
        'visit_mode': nullable(string(enum=['onsite', 'remote'])),
        'lines': {'type': 'array', 'items': ref('LineView')},
        'files': {'type': 'array', 'items': ref('File'),
            'description': "The photos and documents of the whole order, "
            "in the order the customer chose"},
        'progress': ref('Progress'),
        'can_cancel': {
            'type': 'boolean',
            'description': "Customers only: whether POST "
            "/orders/{order_id}/cancel is possible now"},
        }, required=list(ORDER_SUMMARY['properties']) + [
        'contact', 'visit_mode', 'lines', 'files', 'progress'],
    description="An order in full, as its customer or its engineer sees it")

LINE_LIMITS = {
    'instrument_name': NAME_LENGTH * 2, 'category': NAME_LENGTH,
    'brand': NAME_LENGTH, 'model': NAME_LENGTH,
    'fault_description': TEXT_LENGTH, 'requirement': TEXT_LENGTH,
    }


def _line_request(order_type):
    "The instrument line of an order of order_type, as POST /orders takes"
    form = LINE_FIELDS[order_type]
    properties, required = {}, []
    for name, need in form.items():
        if name in FILE_FIELDS:
            continue
        if name in LINE_LIMITS:
            schema = text_input(required=need == REQUIRED,
                max_length=LINE_LIMITS[name],
                line=name not in {'fault_description', 'requirement'})
        elif name == 'quantity':
            schema = integer(minimum=1, maximum=MAX_QUANTITY)
        elif name == 'appointment_time':
            schema = time_input()
        elif name == 'validation_categories':
            schema = {
                'type': 'array', 'minItems': 1, 'uniqueItems': True,
                'items': string(enum=CATEGORY_CODES)}
        if need == REQUIRED:
            required.append(name)
        properties[name] = schema
    if form.keys() & FILE_FIELDS:
        images = 'photos' in form
        properties['files'] = ids("Ids of the caller's uploads (POST "
            "/files)" + (", photos only" if images else ""),
            max_items=MAX_FILES)
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
                'type': 'array', 'minItems': 1, 'maxItems': MAX_LINES,
                'items': ref('Line_%s' % order_type)},
            'files': ids("Ids of the caller's uploads (POST /files), "
                "photos or documents, for the whole order",
                max_items=MAX_FILES),
            }, required=['type', 'contact', 'lines'],
        description="An order of type %s" % order_type)


def contact_input(required):
    """The contact fields, as a customer sends them; those of required must
    not be blank, the others may be (an empty one is no value)"""
    def optional(name, schema):
        return schema if name in required else nullable(schema)
    phone = PHONE_PATTERN if 'phone' in required else (
        r'^(%s)?$' % PHONE_PATTERN.strip('^$'))
    return {
        'name': optional('name', text_input(required='name' in required,
                max_length=NAME_LENGTH, line=True)),
        'company': optional('company', text_input(
                required='company' in required, max_length=NAME_LENGTH * 2,
                line=True)),
        'department': nullable(text_input(max_length=NAME_LENGTH,
                line=True)),
        'position': nullable(text_input(max_length=NAME_LENGTH, line=True)),
        'phone': optional('phone', string(pattern=phone, **{
                    'x-code': 'phone', 'x-message': 'msg_field_phone'})),
        'address': nullable(text_input(max_length=ADDRESS_LENGTH)),
        'email': nullable(string(pattern=EMAIL_PATTERN, maxLength=254, **{
                    'x-code': 'email', 'x-message': 'msg_field_email'})),
        }


CONTACT_SUBMISSION = closed(contact_input({'name', 'company', 'phone'}),
    required=['name', 'company', 'phone'],
    description="The contact of the order (kept on the order and "
    "remembered in the profile)")
ORDER_SUBMISSION = {
    'description': "An order: its type, the contact, 1 to 20 instrument "
    "lines with the fields of the type's form (GET /order-types) and the "
    "files of the whole order",
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

REASON = closed({'reason': text_input("Why", required=True,
            max_length=2000)},
    description="A reason, required")
ANSWER = closed({'reason': text_input("Why: required to reject when the "
            "action's fields say so", max_length=2000)},
    required=[], description="An answer to a quote or a report; the "
    "fields of the action (progress.actions) say what it requires")
EMPTY = {
    'type': 'object', 'properties': {}, 'additionalProperties': False,
    'description': "No body, or an empty JSON object",
    }
RATING = closed({
        'attitude': integer("服务态度, stars", minimum=1, maximum=5),
        'quality': integer("服务质量, stars", minimum=1, maximum=5),
        'overall': integer("总体评价, stars", minimum=1, maximum=5),
        'comment': nullable(text_input(max_length=2000)),
        }, required=[],
    description="Three ratings of 1 to 5 stars and a comment; the fields "
    "of the action (progress.actions) say which are required")
PROFILE = closed({'contact': ref('Contact')},
    description="The contact remembered for the next order")
PROFILE_UPDATE = closed({
        'contact': closed(contact_input(set()), required=[],
            description="The fields to change; an empty string or null "
            "clears one, a missing one is kept"),
        }, description="The contact fields to change")

# ---- engineer ----------------------------------------------------------

CHECK_IN = closed({
        'time': time_input(),
        'latitude': {'type': 'number', 'minimum': -90, 'maximum': 90},
        'longitude': {'type': 'number', 'minimum': -180, 'maximum': 180},
        'accuracy': {'type': 'number', 'minimum': 0,
            'exclusiveMaximum': 100000, 'description': "In meters"},
        'address': text_input(max_length=ADDRESS_LENGTH, line=True),
        'coordinate_system': string("wgs84: GPS and browsers "
            "(navigator.geolocation); gcj02: WeChat (wx.getLocation type "
            "gcj02) and the Chinese maps", enum=COORDINATE_SYSTEM_CODES),
        }, required=['time', 'latitude', 'longitude', 'accuracy'])
STEP_SUBMISSION = closed({
        'action': string(
            "visit_onsite (step 2, with appointment), visit_remote (step 2), "
            "submit_assessment (step 3), submit_quote (step 4: description "
            "is the plan, amount the price), submit_report (step 6: report "
            "and files), finish_remote (remote assistance done)",
            enum=ENGINEER_STEP_ACTIONS),
        'description': text_input(),
        'photos': ids("Ids of photos uploaded with POST "
            "/engineer/tasks/{order_id}/files, in the order to show them"),
        'files': ids("Ids of documents or photos uploaded with POST "
            "/engineer/tasks/{order_id}/files, that go with the quote or "
            "the report"),
        'appointment': time_input("The visit time, ISO 8601 with an "
            "offset, from 2000 to 2099"),
        'check_in': ref('CheckInSubmission'),
        'amount': string("The quote in CNY, up to two decimals",
            pattern=AMOUNT_PATTERN, **{'x-message': 'msg_field_amount'}),
        'report': text_input("The report content"),
        }, required=['action'],
    description="The evidence of a step. What each action requires is the "
    "workflow's (editable data): the task's progress.actions lists it "
    "field by field, and the schemas Evidence_<type>_<step>_<action> of "
    "this document give it for each transition. A missing or refused "
    "piece answers 422 invalid_evidence naming the fields.")

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
        'code': text_input("The code of wx.login", required=True, line=True,
            max_length=128),
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
        'phone': string(pattern=PHONE_PATTERN, **{
                'x-code': 'phone', 'x-message': 'msg_field_phone'}),
        })
PHONE_LOGIN = closed({
        'phone': text_input(required=True, max_length=NAME_LENGTH,
            line=True),
        'code': text_input("The 6 digits printed in the server log",
            line=True,
            required=True, max_length=NAME_LENGTH),
        })
DEVICE_NAME = text_input("How the app names the device, e.g. "
    "\"华为 Mate 60 / 工程师App 1.0\": the back office lists the "
    "engineer's sessions by it", max_length=100, line=True)
ENGINEER_LOGIN = closed({
        'login': text_input(required=True, max_length=NAME_LENGTH,
            line=True),
        'password': string(maxLength=1000),
        'device_name': DEVICE_NAME,
        }, required=['login', 'password'])
ENGINEER_WECHAT_LOGIN = closed({
        'code': WECHAT_LOGIN['properties']['code'],
        'device_name': DEVICE_NAME,
        }, required=['code'],
    description="The code of wx.login in the engineers' mini-program")
ENGINEER_SESSION = closed({
        'token': string("Send as Authorization: Bearer <token>. The "
            "session of this device: it does not depend on the network "
            "the device is on", pattern=r'^e\.[A-Za-z0-9_-]{43}$'),
        'token_type': {'const': 'Bearer'},
        'expires_in': integer("Seconds of inactivity before the token "
            "expires; using it extends it (recorded at most once an "
            "hour)", minimum=1),
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
                    'description': "The fields in error, by their path in "
                    "the request (contact.phone, lines[0].quantity, "
                    "check_in.latitude, a query parameter, a header): "
                    "what is wrong with each, to show beside it",
                    'additionalProperties': closed({
                            'code': string("required, unknown, type, "
                                "choice, minimum, maximum, min_length, "
                                "max_length, min_items, max_items, unique, "
                                "pattern, datetime, email, phone, "
                                "control_characters, not_found, "
                                "images_only..."),
                            'message': string("What to change, in the "
                                "caller's language"),
                            }),
                    },
                'request_id': string("The id of the request, as in the "
                    "header X-Request-Id of the answer: quote it to the "
                    "service to find the request in its logs"),
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
IDEMPOTENCY_KEY = string("Visible ASCII characters, e.g. a UUID",
    minLength=1, maxLength=100, pattern=r'^[!-~]+$')
CLIENT_CONFIG = closed({
        'service_phone': text("The phone number of the service desk"),
        'uploads': closed({
                'max_size': integer("Bytes of one file at most",
                    minimum=1),
                'max_files': integer("Files of a line, of an order or of "
                    "a step at most", minimum=1),
                'photo_types': {'type': 'array', 'items': string(),
                    'description': "The content types of photos: stored "
                    "as JPEG"},
                'document_types': {'type': 'array', 'items': string(),
                    'description': "The content types of documents (PDF, "
                    "Word, Excel)"},
                'photo_extensions': {'type': 'array', 'items': string()},
                'document_extensions': {'type': 'array',
                    'items': string()},
                }, description="What POST /files and POST "
            "/engineer/tasks/{order_id}/files accept: check before "
            "sending (the server checks the content again)"),
        'wechat': closed({
                'subscribe_templates': {
                    'type': 'object',
                    'additionalProperties': string(),
                    'description': "The template id of each progress "
                    "event (accept, visit_onsite, submit_quote...) the "
                    "customer can subscribe to: pass the ids to "
                    "wx.requestSubscribeMessage (5 at most a call) in "
                    "the tap that submits an order"},
                'engineer_templates': {
                    'type': 'object',
                    'additionalProperties': string(),
                    'description': "The template id of each notice "
                    "(offered, withdrawn, customer_action, cancelled, "
                    "assigned) an engineer who linked WeChat can subscribe "
                    "to, in the engineers' mini-program: pass the ids to "
                    "wx.requestSubscribeMessage in the taps the engineer "
                    "makes anyway (accept, submit a step); each grant is "
                    "one message"},
                }),
        'languages': {'type': 'array', 'items': string(
                enum=['zh_CN', 'en'])},
        }, description="What the apps read at start")
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
    'EvidenceField': EVIDENCE_FIELD,
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
    'Answer': ANSWER,
    'ClientConfig': CLIENT_CONFIG,
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
    'EngineerWeChatLogin': ENGINEER_WECHAT_LOGIN,
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

# The query parameters of the operations by name, (path, name) for those
# that differ by path; the frame reads and checks them with these
PARAMETERS = {
    'page': integer("The page, from 1", minimum=1, maximum=10 ** 6,
        default=1),
    'page_size': integer("Items per page, 1 to 100", minimum=1,
        maximum=100, default=20),
    'state': string("Only the orders in this state; open: waiting for an "
        "engineer or in progress (the tab 进行中)",
        enum=ORDER_STATES + ['open']),
    ('/engineer/tasks', 'state'): string("Only the tasks in this state",
        enum=['in_progress', 'done', 'cancelled']),
    'type': string("Only the orders of this type", enum=ORDER_TYPE_CODES),
    'unread': {'type': 'boolean', 'default': False,
        'description': "true (or 1): only the unread ones"},
    'awaiting_me': {'type': 'boolean', 'default': False,
        'description': "true (or 1): only the orders waiting for the "
        "caller's answer (a quote or a report to confirm, the service to "
        "rate)"},
    'after': integer("Answer with the notifications whose id is greater "
        "(the greatest id the client has seen; 0 for all)", minimum=0,
        maximum=2 ** 62, default=0),
    'timeout': integer("Seconds to wait at most, 0 to 60; 0 answers at "
        "once", minimum=0, maximum=60, default=25),
    }

# How each kind of evidence field is sent
EVIDENCE_KIND_SCHEMAS = {
    'text': lambda f: text_input(required=f['required']),
    'datetime': lambda f: time_input(),
    'money': lambda f: SCHEMAS['StepSubmission']['properties']['amount'],
    'stars': lambda f: integer(minimum=f['minimum'], maximum=f['maximum']),
    'check_in': lambda f: ref('CheckInSubmission'),
    'images': lambda f: ids("Ids of photos uploaded for the task",
        max_items=f['max_items'], min_items=f['min_items']),
    'files': lambda f: ids("Ids of documents or photos uploaded for the "
        "task", max_items=f['max_items'], min_items=f['min_items']),
    }


def evidence_schema(fields, action=None):
    """The JSON Schema of the request of an action whose form is fields
    (workflow.evidence_fields): what the frame checks a step against once
    its transition is known, and what the document publishes for each"""
    properties, required = {}, []
    if action:
        properties['action'] = {'const': action}
        required.append('action')
    for field in fields:
        properties[field['name']] = EVIDENCE_KIND_SCHEMAS[field['kind']](
            field)
        if field['required']:
            required.append(field['name'])
    return closed(properties, required=required)

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
