# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""How orders, files and notifications look in the API. The progress is the
domain's progress view, with file links added and the actions filtered to
the caller's role.

Lists and details are read with a few statements over the models' tables
(as the domain's progress view is, see instrument_service/view.py), not
field by field through the records: they are what the apps load most."""
import json

from trytond import backend
from trytond.filestore import filestore
from trytond.pool import Pool
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction

from trytond.modules.instrument_service import region
from trytond.modules.instrument_service.view import engineer_name, labels
from trytond.modules.instrument_service.workflow import render

from . import actions
from .api import PREFIX

LINE_FIELDS = [
    'instrument_name', 'category', 'brand', 'model', 'quantity',
    'fault_description', 'appointment_time', 'validation_categories',
    'requirement']
SUMMARY_LINE_FIELDS = ['instrument_name', 'brand', 'model', 'quantity']


def file_views(where):
    """The views of the attachments that match where (a condition on the
    ir.attachment table), in the order they were attached in (the one the
    person who attached them chose), with their resource:
    [(resource, view)]"""
    Attachment = Pool().get('ir.attachment')
    table = Attachment.__table__()
    transaction = Transaction()
    cursor = transaction.connection.cursor()
    # Where Binary reads the files of the attachments from
    prefix = Attachment.data.store_prefix
    if prefix is None:
        prefix = transaction.database.name
    cursor.execute(*table.select(table.resource, table.id, table.name,
            table.mimetype, table.file_id, table.thumbnail_id,
            where=where(table),
            order_by=[table.sequence.asc.nulls_last, table.id.asc]))
    result = []
    for resource, id_, name, mimetype, file_id, thumbnail_id in \
            cursor.fetchall():
        result.append((resource, {
                    'id': id_,
                    'name': name,
                    'mimetype': mimetype,
                    'size': _size(Attachment, id_, file_id, prefix),
                    'url': '%s/files/%s' % (PREFIX, id_),
                    'thumbnail_url': ('%s/files/%s/thumbnail' % (PREFIX, id_)
                        if thumbnail_id else None),
                    }))
    return result


def _size(Attachment, attachment_id, file_id, prefix):
    "The size of an attachment's file, as ir.attachment's data_size"
    if file_id:
        try:
            return filestore.size(file_id, prefix=prefix)
        except OSError:
            return 0
    # Kept in the database (no filestore)
    return Attachment(attachment_id).data_size


def file_view(attachment_id):
    "The view of one attachment"
    (_, view), = file_views(lambda t: t.id == attachment_id)
    return view


def _step_names(workflow_ids):
    "The rendered name of every step of the workflows, by step id"
    Workflow = Pool().get('instrument_service.workflow')
    names = {}
    for workflow_id in workflow_ids:
        definition = Workflow.definition(workflow_id)
        variables = {'noun': definition['work_noun']}
        for step in definition['steps']:
            names[step['id']] = (step['code'],
                render(step['name'], variables))
    return names


def _lines(order_ids, names):
    "The lines of the orders (fields names), by order, in their order"
    Line = Pool().get('instrument_service.order.line')
    table = Line.__table__()
    cursor = Transaction().connection.cursor()
    result = {i: [] for i in order_ids}
    for sub_ids in grouped_slice(order_ids, backend.MAX_QUERY_PARAMS):
        cursor.execute(*table.select(table.order, table.id,
                *(getattr(table, n) for n in names),
                where=reduce_ids(table.order, sub_ids),
                order_by=[table.order, table.id]))
        for order_id, line_id, *values in cursor:
            line = dict(zip(names, values))
            if 'validation_categories' in line:
                # A MultiSelection is stored as JSON: text in SQLite, a
                # list read from PostgreSQL's json
                value = line['validation_categories']
                if isinstance(value, str):
                    value = json.loads(value)
                line['validation_categories'] = list(value or [])
            result[order_id].append((line_id, line))
    return result


def order_summaries(order_ids, contact=True, line_fields=None):
    """The summaries of the orders as the lists show them, in the order of
    order_ids; without contact, as an engineer who has not accepted them
    sees them: nothing that identifies the customer (SUMMARY_PROPERTIES of
    schemas and the region of the address). With line_fields, the lines of
    each order with those fields too, under the key '_lines', as (id,
    values) pairs."""
    pool = Pool()
    Order = pool.get('instrument_service.order')
    Employee = pool.get('company.employee')
    Party = pool.get('party.party')
    Configuration = pool.get('instrument_service.configuration')
    order = Order.__table__()
    employee = Employee.__table__()
    party = Party.__table__()
    cursor = Transaction().connection.cursor()
    rows = {}
    for sub_ids in grouped_slice(order_ids, backend.MAX_QUERY_PARAMS):
        cursor.execute(*order
            .join(employee, 'LEFT', condition=employee.id == order.engineer)
            .join(party, 'LEFT', condition=party.id == employee.party)
            .select(order.id, order.number, order.name, order.type,
                order.state, order.workflow, order.step, order.submitted_at,
                order.appointment, party.name, party.code,
                order.contact_company, order.contact_address,
                order.province, order.city, order.offered_at,
                order.escalated_at,
                where=reduce_ids(order.id, sub_ids)))
        for row in cursor:
            rows[row[0]] = row
    steps = _step_names({r[5] for r in rows.values() if r[5]})
    names = line_fields or SUMMARY_LINE_FIELDS
    if not contact:
        names = list(dict.fromkeys(names + ['appointment_time']))
    lines = _lines(list(rows), names)
    types, states = labels(Order, 'type'), labels(Order, 'state')
    delay = None if contact else Configuration(1).escalation_delay
    result = []
    for order_id in order_ids:
        (_, number, name, type_, state, _, step, submitted_at, appointment,
            party_name, party_code, company, address, province, city,
            offered_at, escalated_at) = rows[order_id]
        instruments = [{f: line[f] for f in SUMMARY_LINE_FIELDS}
            for _, line in lines[order_id]]
        view = {
            'id': order_id,
            'number': number,
            'type': type_,
            'type_name': types.get(type_, type_),
            'state': state,
            'state_name': states.get(state, state),
            'submitted_at': submitted_at,
            'instruments': instruments,
            }
        if line_fields:
            view['_lines'] = lines[order_id]
        if contact:
            view.update({
                    'name': name,
                    'step': ({'code': steps[step][0], 'name': steps[step][1]}
                        if step in steps else None),
                    'appointment': appointment,
                    'engineer': engineer_name(party_name, party_code),
                    'company': company,
                    })
        else:
            view.update({
                    'title': title(view['type_name'], instruments),
                    'province': province,
                    'city': city,
                    'district': region.district(address),
                    'requested_time': min((line['appointment_time']
                            for _, line in lines[order_id]
                            if line.get('appointment_time')), default=None),
                    'answer_by': escalated_at or (
                        offered_at + delay if offered_at and delay
                        else None),
                    })
        result.append(view)
    return result


def title(type_name, instruments):
    "The type and the first instrument of an order: no customer data"
    first = ' '.join(filter(None, [instruments[0][f]
                for f in ['instrument_name', 'brand', 'model']])
        ) if instruments else ''
    return ' · '.join(filter(None, [type_name, first]))


def order_detail(order, role):
    "The whole order as its customer (role customer) or engineer sees it"
    pool = Pool()
    Line = pool.get('instrument_service.order.line')
    Workflow = pool.get('instrument_service.workflow')
    view, = order_summaries([order.id], line_fields=LINE_FIELDS)
    lines = view.pop('_lines')
    view['contact'] = {
        'name': order.contact_name,
        'company': order.contact_company,
        'department': order.contact_department,
        'position': order.contact_position,
        'phone': order.contact_phone,
        'address': order.contact_address,
        'email': order.contact_email,
        }
    view['visit_mode'] = order.visit_mode
    progress = order.progress_view()
    # The evidence of the records, quotes and reports: lists of files
    evidence = [value for item in _dicts(progress)
        for key, value in item.items() if key in {'photos', 'files'}]
    # The files of the lines and of the order, and those of the evidence,
    # at once
    resources = ['%s,%s' % (Line.__name__, i) for i, _ in lines]
    order_resource = str(order)
    cited = [f['id'] for files in evidence for f in files]
    by_resource, by_id = {}, {}
    for resource, file_ in file_views(lambda t: t.resource.in_(
                resources or [None])
            | ((t.resource == order_resource) & (t.service_use == 'order'))
            | t.id.in_(cited or [None])):
        by_resource.setdefault(resource, []).append(file_)
        by_id[file_['id']] = file_
    view['lines'] = [{**line, 'files': by_resource.get(resource, [])}
        for resource, (_, line) in zip(resources, lines)]
    view['files'] = by_resource.get(order_resource, [])
    for step in progress['steps']:
        step.pop('id', None)
    for files in evidence:
        files[:] = [by_id[f['id']] for f in files]
    can_cancel = False
    if role == 'customer':
        step = None
        if order.step and order.workflow:
            step = next((s for s in Workflow.definition(
                        order.workflow.id)['steps']
                    if s['id'] == order.step.id), None)
        can_cancel = view['can_cancel'] = bool(
            order.state in {'submitted', 'in_progress'}
            and (not step or step['customer_can_cancel']))
    view['progress'] = {
        'current_step': progress['current_step'],
        'hint': progress['hint'],
        'steps': progress['steps'],
        'actions': actions.views(order.id, role, progress['actions'],
            can_cancel),
        **{key: progress[key] for key in ['quote', 'quote_status', 'quotes',
                'report', 'report_status', 'reports', 'rating']},
        }
    return view


def _dicts(value):
    "The dictionaries of a JSON-like value, nested ones included"
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _dicts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _dicts(item)


def order_page(runs, page, size, contact=True):
    """A page of orders, with the total: runs are (domain, order) pairs
    whose orders follow each other, each searched as the caller (with the
    record rules) in its order (None: the newest first)"""
    Order = Pool().get('instrument_service.order')
    cursor = Transaction().connection.cursor()
    offset = (page - 1) * size
    ids, total = [], 0
    for domain, order in runs:
        count = Order.search_count(domain)
        if len(ids) < size and offset < total + count:
            cursor.execute(*Order.search(domain,
                    offset=max(0, offset - total), limit=size - len(ids),
                    order=order, query=True))
            ids += [r[0] for r in cursor]
        total += count
    return {
        'items': order_summaries(ids, contact=contact),
        'page': page, 'page_size': size, 'total': total,
        }


def notification_view(notification):
    return {
        'id': notification.id,
        'label': notification.label,
        'description': notification.description,
        'unread': bool(notification.unread),
        'order_id': _order_id(notification),
        'created_at': notification.create_date,
        }


def _order_id(notification):
    import json
    if notification.model == 'instrument_service.order' and \
            notification.records:
        try:
            ids = json.loads(notification.records)
        except ValueError:
            return None
        return ids[0] if ids else None
