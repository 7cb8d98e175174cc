# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"The customer's operations: forms, files, orders, answers, profile"
import hashlib
import json
import re

from werkzeug.wrappers import Response

from trytond import backend
from trytond.config import config
from trytond.model.exceptions import SQLConstraintError
from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access

from trytond.modules.instrument_service.order_type import (
    FILE_FIELDS, LINE_FIELDS, ORDER_TYPES, REQUIRED)

from . import files
from .api import (
    RetryTransaction, body, check_fields, error, invalid_fields, page_args,
    route)
from .serialize import file_view, order_detail, order_page
from .user import CONTACT_FIELDS

EMAIL = re.compile(r'^[^@\s]+@[^@\s]+\.[^@\s]+$')
PHONE = re.compile(r'^[0-9+\-() ]{5,20}$')
LINE_KINDS = {
    'instrument_name': 'str', 'category': 'str', 'brand': 'str',
    'model': 'str', 'quantity': 'int', 'fault_description': 'str',
    'appointment_time': 'datetime', 'validation_categories': 'strings',
    'requirement': 'str',
    }
MAX_LINES = 20
MAX_FILES = 20
ACTIONS = {
    'quote/confirm': 'confirm_quote',
    'quote/reject': 'reject_quote',
    'report/confirm': 'confirm_report',
    'report/reject': 'reject_report',
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
    return Transaction().set_context(instrument_service_session=caller.token[2:])


# ---- forms -------------------------------------------------------------

@route('GET', '/order-types', auth=None, tag='customer',
    summary="The order types and the form of each",
    responses={200: 'OrderTypeList'})
def order_types(request, caller):
    pool = Pool()
    Line = pool.get('instrument_service.order.line')
    Workflow = pool.get('instrument_service.workflow')
    languages = ['zh_CN', 'en']
    labels, choices, names = {}, {}, {}
    for language in languages:
        with Transaction().set_context(language=language):
            definitions = Line.fields_get(list(LINE_KINDS))
            labels[language] = {f: d['string'] for f, d in definitions.items()}
            choices[language] = dict(
                definitions['validation_categories']['selection'])
            names[language] = dict(
                pool.get('instrument_service.order').fields_get(
                    ['type'])['type']['selection'])
    workflows = {w.order_type: w for w in Workflow.search([])}
    result = []
    for code, _ in ORDER_TYPES:
        if code not in workflows:
            continue
        fields_ = []
        for fname, need in LINE_FIELDS[code].items():
            if fname in FILE_FIELDS:
                fields_.append({
                        'name': 'files',
                        'kind': 'images' if fname == 'photos' else 'files',
                        'required': need == REQUIRED,
                        'label': {
                            'zh_CN': '拍照' if fname == 'photos' else '附件',
                            'en': 'Photos' if fname == 'photos'
                            else 'Attachments'},
                        'max_items': MAX_FILES,
                        })
                continue
            field = {
                'name': fname,
                'kind': LINE_KINDS[fname],
                'required': need == REQUIRED,
                'label': {l: labels[l][fname] for l in languages},
                }
            if fname == 'validation_categories':
                field['kind'] = 'multiselection'
                field['choices'] = [{
                        'value': value,
                        'label': {l: choices[l][value] for l in languages},
                        } for value in choices['en']]
            if fname == 'quantity':
                field['minimum'] = 1
            fields_.append(field)
        result.append({
                'code': code,
                'name': {l: names[l][code] for l in languages},
                'fields': fields_,
                })
    return {'items': result}


# ---- files -------------------------------------------------------------

@route('POST', '/files', auth='customer', tag='customer', multipart=True,
    summary="Upload one photo or document (10 MB at most)",
    responses={201: 'File'})
def upload(request, caller):
    Attachment = Pool().get('ir.attachment')
    upload = request.files.get('file')
    if upload is None:
        raise error(422, 'invalid_field', 'msg_file_missing',
            fields={'file': 'required'})
    name, mimetype, data, thumbnail = files.prepare(
        upload.filename, upload.read(files.UPLOAD_MAX_SIZE + 1))
    attachment = Attachment(
        name=name, type='data', data=data, mimetype=mimetype,
        thumbnail=thumbnail, resource=caller.web_user)
    with without_check_access():
        attachment.save()
    return file_view(attachment.id), 201


def file_reader_may_see(caller, attachment):
    "Whether caller may download attachment: its order is theirs"
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
    response = Response(data, mimetype=mimetype or 'application/octet-stream')
    response.headers['Content-Disposition'] = (
        "attachment; filename*=UTF-8''%s" % _quote(attachment.name))
    response.headers['Cache-Control'] = 'private, max-age=3600'
    response.headers['X-Content-Type-Options'] = 'nosniff'
    return response


def _quote(name):
    from urllib.parse import quote
    return quote(name)


@route('GET', '/files/{file_id}', auth='any', tag='files', raw=True,
    summary="Download a file of one's own order",
    responses={200: 'Binary'})
def download(request, caller, file_id):
    attachment = _file(caller, file_id)
    return _download(attachment, attachment.data, attachment.mimetype)


@route('GET', '/files/{file_id}/thumbnail', auth='any', tag='files',
    raw=True, summary="Download the thumbnail of a photo",
    responses={200: 'Binary'})
def thumbnail(request, caller, file_id):
    attachment = _file(caller, file_id)
    if not attachment.thumbnail_id:
        raise error(404, 'not_found', 'msg_file_not_found')
    return _download(attachment, attachment.thumbnail, 'image/jpeg')


# ---- orders ------------------------------------------------------------

def _fingerprint(data):
    return hashlib.sha256(json.dumps(
            data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _check_contact(contact):
    values = check_fields(contact, {f: ('str', f in {
                    'name', 'company', 'phone'}) for f in CONTACT_FIELDS},
        prefix='contact.')
    _check_phone_email(values)
    return values


def _check_phone_email(contact):
    problems = {}
    if contact.get('phone') and not PHONE.match(contact['phone']):
        problems['contact.phone'] = 'phone'
    if contact.get('email') and not EMAIL.match(contact['email']):
        problems['contact.email'] = 'email'
    if problems:
        raise invalid_fields(problems)


def _check_line(order_type, line, index):
    "The values of one instrument line, checked against its type's form"
    form = LINE_FIELDS[order_type]
    spec = {f: (LINE_KINDS[f], need == REQUIRED)
        for f, need in form.items() if f not in FILE_FIELDS}
    if form.keys() & FILE_FIELDS:
        spec['files'] = ('ids', False)
    if not isinstance(line, dict):
        raise invalid_fields({'lines[%s]' % index: 'object'})
    values = check_fields(line, spec, prefix='lines[%s].' % index)
    problems = {}
    if 'quantity' in values and not 1 <= values['quantity'] <= 9999:
        problems['lines[%s].quantity' % index] = 'int 1..9999'
    if 'validation_categories' in values:
        categories = values['validation_categories']
        if not categories or not set(categories) <= {'iq', 'oq', 'pq'}:
            problems['lines[%s].validation_categories' % index] = \
                'iq, oq, pq'
        values['validation_categories'] = sorted(set(categories))
    if len(values.get('files', [])) > MAX_FILES:
        problems['lines[%s].files' % index] = 'max %s' % MAX_FILES
    if problems:
        raise invalid_fields(problems)
    return values


def _claim_files(caller, file_ids, images_only, index):
    "The caller's uploads file_ids, still unattached to any order"
    Attachment = Pool().get('ir.attachment')
    attachments = Attachment.browse(sorted(set(file_ids)))
    problems = {}
    for attachment in attachments:
        try:
            resource = attachment.resource
        except Exception:
            resource = None
        if resource != caller.web_user:
            problems['lines[%s].files' % index] = 'unknown file %s' % (
                attachment.id)
        elif images_only and not (attachment.mimetype or '').startswith(
                'image/'):
            problems['lines[%s].files' % index] = 'images only'
    if problems:
        raise invalid_fields(problems)
    return attachments


@route('POST', '/orders', auth='customer', tag='customer',
    summary="Submit an order; retries with the same Idempotency-Key "
    "return the same order",
    request='OrderSubmission', responses={201: 'OrderDetail',
        200: 'OrderDetail'},
    headers=['Idempotency-Key'])
def submit_order(request, caller):
    pool = Pool()
    Order = pool.get('instrument_service.order')
    Attachment = pool.get('ir.attachment')
    Key = pool.get('instrument_service_api.idempotency_key')
    Company = pool.get('company.company')
    data = body(request)
    key = request.headers.get('Idempotency-Key', '').strip()
    if not key or len(key) > 100:
        raise error(422, 'invalid_field', 'msg_idempotency_key',
            fields={'Idempotency-Key': 'required, 1..100 characters'})
    fingerprint = _fingerprint(data)
    existing = Key.search([
            ('web_user', '=', caller.web_user.id), ('key', '=', key)],
        limit=1)
    if existing:
        if existing[0].fingerprint != fingerprint:
            raise error(422, 'idempotency_key_reused',
                'msg_idempotency_key_reused')
        return order_detail(existing[0].order, 'customer'), 200
    # The key is written first so that a concurrent retry (a double tap)
    # waits for this transaction: when it commits, the retry meets the key,
    # starts again and answers with this order; when it fails, the key goes
    # with it and the retry carries on
    idempotency = Key(web_user=caller.web_user, key=key,
        fingerprint=fingerprint)
    try:
        with without_check_access():
            idempotency.save()
    except (SQLConstraintError, backend.DatabaseIntegrityError):
        raise RetryTransaction()

    values = check_fields(data, {
            'type': ('str', True), 'contact': ('dict', True),
            'lines': ('list', True)})
    order_type = values['type']
    if order_type not in LINE_FIELDS:
        raise invalid_fields({'type': ', '.join(LINE_FIELDS)})
    contact = _check_contact(values['contact'])
    if not 1 <= len(values['lines']) <= MAX_LINES:
        raise invalid_fields({'lines': '1..%s items' % MAX_LINES})
    lines = [_check_line(order_type, line, i)
        for i, line in enumerate(values['lines'])]
    images_only = 'photos' in LINE_FIELDS[order_type]
    claimed = [_claim_files(caller, line.pop('files', []), images_only, i)
        for i, line in enumerate(lines)]

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
        for line, attachments in zip(order.lines, claimed):
            if attachments:
                Attachment.write(list(attachments), {'resource': str(line)})
        with as_customer(caller):
            Order.submit([order])
        idempotency.order = order
        idempotency.save()
        # Remember the contact for the next order
        web_user = caller.web_user
        for fname, value in contact.items():
            setattr(web_user, 'contact_' + fname, value)
        web_user.save()
    return order_detail(Order(order.id), 'customer'), 201


@route('GET', '/orders', auth='customer', tag='customer',
    summary="My orders, newest first",
    parameters=['page', 'page_size', 'state', 'type'],
    responses={200: 'OrderPage'})
def my_orders(request, caller):
    page, size = page_args(request)
    domain = [('customer', '=', caller.web_user.id),
        ('state', '!=', 'draft')]
    problems = {}
    state = request.args.get('state')
    if state:
        if state not in {'submitted', 'in_progress', 'done', 'cancelled'}:
            problems['state'] = 'submitted, in_progress, done, cancelled'
        domain.append(('state', '=', state))
    order_type = request.args.get('type')
    if order_type:
        if order_type not in LINE_FIELDS:
            problems['type'] = ', '.join(LINE_FIELDS)
        domain.append(('type', '=', order_type))
    if problems:
        raise invalid_fields(problems)
    return order_page([(domain, None)], page, size)


@route('GET', '/orders/{order_id}', auth='customer', tag='customer',
    summary="One of my orders with its progress",
    responses={200: 'OrderDetail'})
def my_order(request, caller, order_id):
    return order_detail(customer_order(caller, order_id), 'customer')


def _answer(path):
    action = ACTIONS[path]
    with_reason = path.endswith('reject')

    @route('POST', '/orders/{order_id}/' + path, auth='customer',
        tag='customer', summary={
            'confirm_quote': "Confirm the quote (确认订单)",
            'reject_quote': "Reject the quote, with a reason",
            'confirm_report': "Confirm the report",
            'reject_report': "Reject the report, with a reason",
            }[action],
        request='Reason' if with_reason else 'Empty',
        responses={200: 'OrderDetail'})
    def answer(request, caller, order_id):
        Order = Pool().get('instrument_service.order')
        data = body(request) if request.get_data(cache=True) else {}
        values = check_fields(data, {'reason': ('str', with_reason)})
        order = customer_order(caller, order_id)
        with as_customer(caller):
            Order.perform([order], action, values)
        return order_detail(Order(order.id), 'customer')
    answer.__name__ = action
    return answer


for _path in ACTIONS:
    _answer(_path)


@route('POST', '/orders/{order_id}/rating', auth='customer', tag='customer',
    summary="Rate the service: three ratings of 1 to 5 stars",
    request='Rating', responses={200: 'OrderDetail'})
def rate(request, caller, order_id):
    Order = Pool().get('instrument_service.order')
    values = check_fields(body(request), {
            'attitude': ('int', True), 'quality': ('int', True),
            'overall': ('int', True), 'comment': ('str', False)})
    order = customer_order(caller, order_id)
    with as_customer(caller):
        Order.perform([order], 'rate', {'ratings': values})
    return order_detail(Order(order.id), 'customer')


@route('POST', '/orders/{order_id}/cancel', auth='customer', tag='customer',
    summary="Cancel my order before the work starts, with a reason",
    request='Reason', responses={200: 'OrderDetail'})
def cancel(request, caller, order_id):
    Order = Pool().get('instrument_service.order')
    values = check_fields(body(request), {'reason': ('str', True)})
    order = customer_order(caller, order_id)
    with as_customer(caller):
        Order.do_cancel([order], values['reason'])
    return order_detail(Order(order.id), 'customer')


# ---- profile -----------------------------------------------------------

@route('GET', '/me', auth='customer', tag='customer',
    summary="My profile: the contact remembered for the next order",
    responses={200: 'Profile'})
def profile(request, caller):
    return {'contact': caller.web_user.contact()}


@route('PUT', '/me', auth='customer', tag='customer',
    summary="Change my remembered contact", request='Profile',
    responses={200: 'Profile'})
def update_profile(request, caller):
    data = check_fields(body(request), {'contact': ('dict', True)})
    contact = check_fields(data['contact'],
        {f: ('str_blank', False) for f in CONTACT_FIELDS},
        prefix='contact.')
    _check_phone_email(contact)
    web_user = caller.web_user
    for fname in CONTACT_FIELDS:
        if fname in contact:
            setattr(web_user, 'contact_' + fname, contact[fname] or None)
    with without_check_access():
        web_user.save()
    return {'contact': web_user.contact()}
