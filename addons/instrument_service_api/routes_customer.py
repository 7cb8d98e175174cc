# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"The customer's operations: forms, files, orders, answers, profile"
from werkzeug.wrappers import Response

from trytond.config import config
from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access

from trytond.modules.instrument_service.filetype import (
    DOCUMENT_TYPES, EXTENSIONS, IMAGE_TYPES)
from trytond.modules.instrument_service.order_type import (
    FILE_FIELDS, LINE_FIELDS, ORDER_TYPES)

from . import actions, files, wechat
from .api import (
    UPLOAD_MAX_SIZE, body, error, invalid_fields, parse_datetime, query,
    route)
from .schemas import MAX_FILES, SCHEMAS
from .serialize import file_view, order_detail, order_page
from .user import CONTACT_FIELDS

ORDER_ERRORS = {
    'step_not_allowed': "The order is not at a step where this can be "
    "done (it moved on, or was cancelled): read it again.",
    'forbidden': None,
    }


def customer_order(caller, order_id):
    "The caller's own order, or 404 for any other id"
    Order = Pool().get('instrument_service.order')
    orders = Order.search([
            ('id', '=', order_id),
            ('customer', '=', caller.web_user.id),
            ('state', '!=', 'draft'),
            ], limit=1)
    if not orders:
        raise error(404, 'not_found', 'msg_order_not_found')
    return orders[0]


def as_customer(caller):
    "The context in which the engine recognises this customer"
    return Transaction().set_context(
        instrument_service_session=caller.token[2:])


# ---- the apps' start ---------------------------------------------------

@route('GET', '/config', auth=None, tag='customer',
    summary="What the apps read at start",
    description="The service desk's phone, what uploads accept (size, "
    "types, how many) and the WeChat subscription templates of the "
    "progress events (customers) and of the notices (engineers). Public: "
    "read it before logging in, again when the app comes back to the "
    "front.",
    responses={200: 'ClientConfig'},
    example={'response': {
            'service_phone': '400-820-1234',
            'uploads': {
                'max_size': 10485760, 'max_files': 20,
                'photo_types': ['image/heic', 'image/jpeg', 'image/png',
                    'image/webp'],
                'document_types': ['application/pdf'],
                'photo_extensions': ['heic', 'jpeg', 'jpg', 'png', 'webp'],
                'document_extensions': ['pdf']},
            'wechat': {
                'subscribe_templates': {
                    'accept': 'tmpl-accept', 'submit_quote': 'tmpl-quote'},
                'engineer_templates': {
                    'offered': 'tmpl-offered',
                    'customer_action': 'tmpl-answer'}},
            'languages': ['zh_CN', 'en']}})
def client_config(request, caller):
    pool = Pool()
    Configuration = pool.get('instrument_service.configuration')
    Template = pool.get('instrument_service_api.wechat.template')
    with without_check_access():
        templates = Template.search([], order=[('id', 'ASC')])
        phone = Configuration(1).service_phone
    extensions = {}
    for mimetype, extension in EXTENSIONS.items():
        extensions.setdefault(mimetype, {extension})
    # The names phones and computers give the same types
    extensions['image/jpeg'].add('jpeg')
    return {
        'service_phone': phone,
        'uploads': {
            'max_size': UPLOAD_MAX_SIZE,
            'max_files': MAX_FILES,
            'photo_types': sorted(IMAGE_TYPES),
            'document_types': sorted(DOCUMENT_TYPES),
            'photo_extensions': sorted(
                e for t in IMAGE_TYPES for e in extensions[t]),
            'document_extensions': sorted(
                e for t in DOCUMENT_TYPES for e in extensions[t]),
            },
        'wechat': {
            'subscribe_templates': {t.action: t.template_id
                for t in templates if t.audience == wechat.CUSTOMER},
            'engineer_templates': {t.kind: t.template_id
                for t in templates if t.audience == wechat.ENGINEER},
            },
        'languages': ['zh_CN', 'en'],
        }


# ---- forms -------------------------------------------------------------

def form_field(name, schema, required, labels, choices):
    """A field of the form of an order type, as the schema that checks it
    (Line_<type>) describes it"""
    field = {
        'name': name,
        'required': required,
        'label': labels[name],
        }
    if name == 'files':
        field['kind'] = 'files'
        field['max_items'] = schema['maxItems']
    elif schema.get('type') == 'array':
        field['kind'] = 'multiselection'
        field['choices'] = [{'value': value, 'label': choices[value]}
            for value in schema['items']['enum']]
    elif schema.get('format') == 'date-time':
        field['kind'] = 'datetime'
    elif schema.get('type') == 'integer':
        field['kind'] = 'int'
        field['minimum'] = schema['minimum']
        field['maximum'] = schema['maximum']
    else:
        field['kind'] = 'str'
        field['max_length'] = schema['maxLength']
    return field


@route('GET', '/order-types', auth=None, tag='customer',
    summary="The order types and the form of each",
    description="The eight order types with the fields of an instrument "
    "line of each (labels in Chinese and English, which are required, "
    "limits) and the files of the whole order. Build the order form from "
    "this: it is what POST /orders checks.",
    responses={200: 'OrderTypeList'})
def order_types(request, caller):
    pool = Pool()
    Line = pool.get('instrument_service.order.line')
    Order = pool.get('instrument_service.order')
    Workflow = pool.get('instrument_service.workflow')
    languages = ['zh_CN', 'en']
    labels, choices, names = {}, {}, {}
    for language in languages:
        with Transaction().set_context(language=language):
            definitions = Line.fields_get()
            labels[language] = {f: d['string']
                for f, d in definitions.items()}
            choices[language] = dict(
                definitions['validation_categories']['selection'])
            names[language] = dict(Order.fields_get(
                    ['type'])['type']['selection'])
            labels[language]['photos'] = gettext(
                'instrument_service_api.msg_form_photos')
            labels[language]['order_files'] = gettext(
                'instrument_service_api.msg_form_order_files')
    workflows = {w.order_type for w in Workflow.search([])}
    result = []
    for code, _ in ORDER_TYPES:
        if code not in workflows:
            continue
        schema = SCHEMAS['Line_%s' % code]
        form = LINE_FIELDS[code]
        fields_ = []
        for name, need in form.items():
            key = 'files' if name in FILE_FIELDS else name
            field = form_field(key, schema['properties'][key],
                key in schema['required'],
                {key: {l: labels[l][name] for l in languages}},
                {value: {l: choices[l][value] for l in languages}
                    for value in choices['en']})
            if name == 'photos':
                field['kind'] = 'images'
            fields_.append(field)
        result.append({
                'code': code,
                'name': {l: names[l][code] for l in languages},
                'fields': fields_,
                })
    return {
        'items': result,
        'order_files': {
            'label': {l: labels[l]['order_files'] for l in languages},
            'max_items': MAX_FILES,
            },
        }


# ---- files -------------------------------------------------------------

@route('POST', '/files', auth='customer', tag='customer', multipart=True,
    summary="Upload one photo or document (10 MB at most)",
    description="One file a request, in the multipart field `file`. "
    "Photos (JPEG, PNG, WebP, HEIC) are stored as JPEG, upright, without "
    "their EXIF; documents (PDF, Word, Excel) as they are; the type is "
    "recognised by the content. The file is the caller's until an order "
    "claims it (POST /orders, `files` of a line or of the order); "
    "unclaimed uploads are deleted after a day. With an Idempotency-Key, "
    "a retry after a lost answer gives the same file.",
    responses={201: 'File'}, idempotency='optional')
def upload(request, caller):
    Attachment = Pool().get('ir.attachment')
    name, mimetype, data, thumbnail = files.read_upload(request)
    attachment = Attachment(
        name=name, type='data', data=data, mimetype=mimetype,
        thumbnail=thumbnail, resource=caller.web_user)
    with without_check_access():
        attachment.save()
    return file_view(attachment.id), 201


def file_reader_may_see(caller, attachment):
    """Whether caller may download attachment: a file of their order that
    the apps show, or their own upload"""
    pool = Pool()
    Order = pool.get('instrument_service.order')
    resource = attachment.resource
    if resource is None:
        return False
    if resource.__name__ == 'web.user':
        return caller.kind == 'customer' and resource == caller.web_user
    order = None
    if resource.__name__ == 'instrument_service.order':
        order = resource
        # The customer's documents; an engineer's upload not yet in a step
        # is the engineer's only, staff's files nobody's
        use = attachment.service_use
        if use not in {'order', 'upload'} or (
                use == 'upload' and caller.kind == 'customer'):
            return False
    elif resource.__name__ in {'instrument_service.order.line',
            'instrument_service.order.progress'}:
        order = resource.order
    if not isinstance(order, Order):
        return False
    if caller.kind == 'customer':
        return order.customer == caller.web_user and order.state != 'draft'
    return bool(order.engineer and order.engineer.id in caller.employees)


def _file(caller, file_id):
    Attachment = Pool().get('ir.attachment')
    attachments = Attachment.search([('id', '=', file_id)], limit=1)
    if not attachments or not file_reader_may_see(caller, attachments[0]):
        raise error(404, 'not_found', 'msg_file_not_found')
    return attachments[0]


def _download(attachment, data, mimetype):
    from urllib.parse import quote
    response = Response(data, mimetype=mimetype or 'application/octet-stream')
    response.headers['Content-Disposition'] = (
        "attachment; filename*=UTF-8''%s" % quote(attachment.name))
    response.headers['Cache-Control'] = 'private, max-age=3600'
    response.headers['X-Content-Type-Options'] = 'nosniff'
    return response


@route('GET', '/files/{file_id}', auth='any', tag='files', raw=True,
    summary="Download a file of one's own order",
    description="The photos and documents of the caller's orders (their "
    "lines, the order's own files, the steps' photos and documents, the "
    "quote's and the report's files) and the caller's own uploads, with "
    "their type; any other id answers 404.",
    responses={200: 'Binary'})
def download(request, caller, file_id):
    attachment = _file(caller, file_id)
    return _download(attachment, attachment.data, attachment.mimetype)


@route('GET', '/files/{file_id}/thumbnail', auth='any', tag='files',
    raw=True, summary="Download the thumbnail of a photo",
    description="A JPEG of at most 320 px of a photo the caller may "
    "download; 404 for a document.",
    responses={200: 'Binary'})
def thumbnail(request, caller, file_id):
    attachment = _file(caller, file_id)
    if not attachment.thumbnail_id:
        raise error(404, 'not_found', 'msg_file_not_found')
    return _download(attachment, attachment.thumbnail, 'image/jpeg')


# ---- orders ------------------------------------------------------------

def _claim_files(caller, file_ids, images_only, path):
    """The caller's uploads file_ids, still unclaimed, in the order given,
    or the 422 that names the field path"""
    Attachment = Pool().get('ir.attachment')
    uploads = {a.id: a for a in Attachment.browse(file_ids)}
    for file_id in file_ids:
        attachment = uploads[file_id]
        try:
            resource = attachment.resource
        except Exception:
            resource = None
        if resource != caller.web_user:
            raise invalid_fields({path: ('not_found', {
                            'message': 'msg_field_file_not_found'})})
        if images_only and not (attachment.mimetype or '').startswith(
                'image/'):
            raise invalid_fields({path: ('images_only', {
                            'message': 'msg_field_images_only'})})
    return [uploads[i] for i in file_ids]


def _line_values(order_type, line):
    "The values of an instrument line, its schema checked"
    values = {}
    for name, value in line.items():
        if name == 'files':
            continue
        if isinstance(value, str):
            value = value.strip() or None
        if name == 'appointment_time':
            value = parse_datetime(value)
        elif name == 'validation_categories':
            value = sorted(set(value))
        values[name] = value
    return values


@route('POST', '/orders', auth='customer', tag='customer',
    summary="Submit an order",
    description="The order of one type (GET /order-types gives the form "
    "of each): the contact, 1 to 20 instrument lines and the files of the "
    "whole order, each file an upload of the caller (POST /files) not yet "
    "in an order; photos only where the line takes photos. The order "
    "gets its task ID, task name and submission time, is offered at once "
    "to the engineers who can take it and waits for one of them "
    "(state submitted). The contact is remembered for the next order "
    "(GET /me). Send an Idempotency-Key, the same on every retry of this "
    "submission: a retry answers the order created the first time "
    "instead of creating another one.",
    request='OrderSubmission', responses={201: 'OrderDetail'},
    idempotency='required',
    errors={'invalid_order': None},
    example={'request': {
            'type': 'repair',
            'contact': {'name': '刘洋', 'company': '上海联科生物科技有限公司',
                'phone': '13901760231',
                'address': '上海市浦东新区张江高科技园区蔡伦路88号3号楼'},
            'lines': [{'instrument_name': '液相色谱仪', 'brand': 'Agilent',
                    'model': '1260', 'fault_description': '泵压力波动',
                    'quantity': 1, 'files': [273, 274]}],
            'files': [275]}})
def submit_order(request, caller):
    pool = Pool()
    Order = pool.get('instrument_service.order')
    Attachment = pool.get('ir.attachment')
    Company = pool.get('company.company')
    data = body(request)
    order_type = data['type']
    contact = {name: (value or '').strip() or None
        for name, value in data['contact'].items()}
    images_only = 'photos' in LINE_FIELDS[order_type]
    lines, claimed = [], []
    for index, line in enumerate(data['lines']):
        lines.append(_line_values(order_type, line))
        claimed.append(_claim_files(caller, line.get('files', []),
                images_only, 'lines[%s].files' % index))
    order_files = _claim_files(caller, data.get('files', []), False,
        'files')

    company_id = config.getint('instrument_service_api', 'company',
        default=None)
    companies = Company.search(
        [('id', '=', company_id)] if company_id else [], limit=1,
        order=[('id', 'ASC')])
    if not companies:
        raise error(503, 'not_configured', 'msg_no_company')
    with without_check_access():
        order = Order(
            company=companies[0], type=order_type,
            customer=caller.web_user, lines=lines,
            **{'contact_' + f: v for f, v in contact.items()})
        order.save()
        # Each file where it belongs, in the order the customer chose
        for resource, attachments, use in [
                *((line, a, None) for line, a in zip(order.lines, claimed)),
                (order, order_files, 'order')]:
            for sequence, attachment in enumerate(attachments, 1):
                Attachment.write([attachment], {
                        'resource': str(resource),
                        'service_use': use,
                        'sequence': sequence,
                        })
        with as_customer(caller):
            Order.submit([order])
        # Remember the contact for the next order
        web_user = caller.web_user
        for fname, value in contact.items():
            setattr(web_user, 'contact_' + fname, value)
        web_user.save()
    return order_detail(Order(order.id), 'customer'), 201


@route('GET', '/orders', auth='customer', tag='customer',
    summary="My orders, newest first",
    description="The caller's orders, newest first, a page at a time; "
    "`state` and `type` narrow the list (the tabs 进行中, 已完成...), "
    "`awaiting_me` to the orders waiting for the caller's answer (待我确认: "
    "a quote or a report to confirm, the service to rate).",
    parameters=['page', 'page_size', 'state', 'type', 'awaiting_me'],
    responses={200: 'OrderPage'})
def my_orders(request, caller):
    Order = Pool().get('instrument_service.order')
    values = query(request)
    domain = [('customer', '=', caller.web_user.id),
        ('state', '!=', 'draft')]
    if values['state'] == 'open':
        domain.append(('state', 'in', ['submitted', 'in_progress']))
    elif values['state']:
        domain.append(('state', '=', values['state']))
    if values['type']:
        domain.append(('type', '=', values['type']))
    if values['awaiting_me']:
        # A customer has few orders in progress at a time
        waiting = actions.awaiting(Order.search(domain + [
                    ('state', '=', 'in_progress')]), 'customer')
        domain.append(('id', 'in', [o.id for o in waiting]))
    return order_page([(domain, None)], values['page'],
        values['page_size'])


@route('GET', '/orders/{order_id}', auth='customer', tag='customer',
    summary="One of my orders with its progress",
    description="The order in full: contact, lines and files, the steps "
    "(done with their evidence, current with its hint, to come), the quote "
    "and report versions, the rating, and in progress.actions what the "
    "customer can do now with what each action requires and the "
    "operation that performs it. Read it again after each action, and "
    "now and then while it is open: the engineer moves it.",
    responses={200: 'OrderDetail'})
def my_order(request, caller, order_id):
    return order_detail(customer_order(caller, order_id), 'customer')


def _answer(path, action):
    reject = action.startswith('reject')
    subject = 'quote' if 'quote' in action else 'report'

    @route('POST', '/orders/{order_id}/' + path, auth='customer',
        tag='customer',
        summary={
            'confirm_quote': "Confirm the quote (确认订单)",
            'reject_quote': "Reject the quote, with a reason",
            'confirm_report': "Confirm the report",
            'reject_report': "Reject the report, with a reason",
            }[action],
        description={
            'confirm_quote': "Accepts the plan and price the engineer "
            "proposed: the work starts (step 5).",
            'reject_quote': "Refuses the plan and price with a reason: "
            "the engineer revises them and proposes a new version "
            "(progress.quote_status revising).",
            'confirm_report': "Accepts the report: the customer is asked "
            "to rate the service (step 7).",
            'reject_report': "Refuses the report with a reason: the order "
            "goes back to the work (step 5) and the engineer submits a new "
            "report.",
            }[action] + " Possible while the %s waits for the customer "
        "(progress.actions lists it, with the fields it requires); 409 "
        "step_not_allowed otherwise." % subject,
        request='Answer', responses={200: 'OrderDetail'},
        errors={**ORDER_ERRORS, 'invalid_evidence': None},
        example={'request': {'reason': '价格偏高，请调整方案'}} if reject
        else {'request': {}})
    def answer(request, caller, order_id):
        Order = Pool().get('instrument_service.order')
        values = dict(body(request))
        order = customer_order(caller, order_id)
        actions.check_evidence(order, 'customer', action, values)
        with as_customer(caller):
            Order.perform([order], action, values)
        return order_detail(Order(order.id), 'customer')
    answer.__name__ = action
    return answer


for _path, _action in actions.CUSTOMER_PATHS.items():
    if _action not in {'rate', 'cancel'}:
        _answer(_path, _action)


@route('POST', '/orders/{order_id}/rating', auth='customer', tag='customer',
    summary="Rate the service: three ratings of 1 to 5 stars",
    description="服务态度 (attitude), 服务质量 (quality) and 总体评价 "
    "(overall), 1 to 5 stars each, and a comment. Possible at step 7 "
    "(服务评价); the order is then complete.",
    request='Rating', responses={200: 'OrderDetail'},
    errors={**ORDER_ERRORS, 'invalid_evidence': None},
    example={'request': {'attitude': 5, 'quality': 5, 'overall': 4,
            'comment': '工程师很专业'}})
def rate(request, caller, order_id):
    Order = Pool().get('instrument_service.order')
    values = dict(body(request))
    order = customer_order(caller, order_id)
    actions.check_evidence(order, 'customer', 'rate', values)
    with as_customer(caller):
        Order.perform([order], 'rate', {'ratings': values})
    return order_detail(Order(order.id), 'customer')


@route('POST', '/orders/{order_id}/cancel', auth='customer', tag='customer',
    summary="Cancel my order before the work starts, with a reason",
    description="Possible while `can_cancel` is true: before the work "
    "starts (step 5). The engineer and the engineers it was offered to "
    "are told.",
    request='Reason', responses={200: 'OrderDetail'},
    errors=ORDER_ERRORS,
    example={'request': {'reason': '仪器已自行修好'}})
def cancel(request, caller, order_id):
    Order = Pool().get('instrument_service.order')
    reason = body(request)['reason'].strip()
    order = customer_order(caller, order_id)
    with as_customer(caller):
        Order.do_cancel([order], reason)
    return order_detail(Order(order.id), 'customer')


# ---- profile -----------------------------------------------------------

@route('GET', '/me', auth='customer', tag='customer',
    summary="My profile: the contact remembered for the next order",
    description="Pre-fills the contact of the order form; every "
    "submitted order updates it.",
    responses={200: 'Profile'})
def profile(request, caller):
    return {'contact': caller.web_user.contact()}


@route('PUT', '/me', auth='customer', tag='customer',
    summary="Change my remembered contact", request='Profile',
    description="The fields given change (an empty string or null clears "
    "one), the others are kept.",
    responses={200: 'Profile'},
    example={'request': {'contact': {'department': '质检部',
                'email': 'liu.yang@example.com'}}})
def update_profile(request, caller):
    contact = body(request)['contact']
    web_user = caller.web_user
    for fname in CONTACT_FIELDS:
        if fname in contact:
            setattr(web_user, 'contact_' + fname,
                (contact[fname] or '').strip() or None)
    with without_check_access():
        web_user.save()
    return {'contact': web_user.contact()}
