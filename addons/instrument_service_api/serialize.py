# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""How orders, files and notifications look in the API. The progress is the
domain's progress view, with file links added and the actions filtered to
the caller's role."""
import weakref

from trytond.pool import Pool
from trytond.transaction import Transaction

from .api import PREFIX

LINE_FIELDS = [
    'instrument_name', 'category', 'brand', 'model', 'quantity',
    'fault_description', 'appointment_time', 'validation_categories',
    'requirement']


def file_view(attachment):
    return {
        'id': attachment.id,
        'name': attachment.name,
        'mimetype': getattr(attachment, 'mimetype', None),
        'size': attachment.data_size,
        'url': '%s/files/%s' % (PREFIX, attachment.id),
        'thumbnail_url': ('%s/files/%s/thumbnail' % (PREFIX, attachment.id)
            if getattr(attachment, 'thumbnail_id', None) else None),
        }


def _selection_name(record, name):
    return getattr(record, name + '_string', None)


# The translated labels of a selection, once per transaction (request):
# Selection.translated() computes the field's whole definition (fields_get)
# on every access, 0.7 ms each, twice per order of a page
_LABELS = weakref.WeakKeyDictionary()


def _label(record, name):
    labels = _LABELS.setdefault(Transaction(), {})
    key = (record.__name__, name, Transaction().language)
    if key not in labels:
        field = record._fields[name]
        labels[key] = dict(field.get_selection(
                record.__class__, name, record))
    value = getattr(record, name)
    return labels[key].get(value, value)


class _Variables(dict):
    """The hint variables of an order, computed when a template asks for
    them: step names only use ${noun}, and Order.hint_variables() makes the
    ORM read the quotes, the company and the engineer of every order of a
    page"""

    def __init__(self, order):
        super().__init__()
        self.order = order

    def __missing__(self, key):
        if key == 'noun':
            # As Order.hint_variables() gives it
            workflow = self.order.workflow
            return workflow.work_noun if workflow else ''
        self.update(self.order.hint_variables())
        if key not in self:
            raise KeyError(key)
        return self[key]


def _step_name(order):
    "The name of the order's step, its template rendered"
    name = order.step.name or ''
    if '$' not in name:
        return name
    return order.step.render_name(_Variables(order))


def order_summary(order, contact=True):
    view = {
        'id': order.id,
        'number': order.number,
        'name': order.name,
        'type': order.type,
        'type_name': _label(order, 'type'),
        'state': order.state,
        'state_name': _label(order, 'state'),
        'step': ({'code': order.step.code, 'name': _step_name(order)}
            if order.step else None),
        'submitted_at': order.submitted_at,
        'appointment': order.appointment,
        'engineer': order.engineer.rec_name if order.engineer else None,
        'instruments': [{
                'instrument_name': line.instrument_name,
                'brand': line.brand,
                'model': line.model,
                'quantity': line.quantity,
                } for line in order.lines],
        }
    if contact:
        view['company'] = order.contact_company
    return view


def _progress(order, role):
    view = order.progress_view()
    Attachment = Pool().get('ir.attachment')
    for step in view['steps']:
        step.pop('id', None)
        for record in step['records']:
            record['photos'] = [file_view(p)
                for p in Attachment.browse([p['id'] for p in record['photos']])]
    view['actions'] = [a for a in view['actions'] if a['actor'] == role]
    return {
        'current_step': view['current_step'],
        'hint': view['hint'],
        'steps': view['steps'],
        'actions': view['actions'],
        'quote': view['quote'],
        'report': view['report'],
        'rating': view['rating'],
        }


def order_detail(order, role):
    "The whole order as its customer (role customer) or engineer sees it"
    view = order_summary(order)
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
    view['lines'] = [{
            **{f: getattr(line, f) for f in LINE_FIELDS},
            'validation_categories': list(line.validation_categories or []),
            'files': [file_view(a) for a in line.attachments],
            } for line in order.lines]
    view['progress'] = _progress(order, role)
    if role == 'customer':
        view['can_cancel'] = bool(
            order.state in {'submitted', 'in_progress'}
            and (not order.step or order.step.customer_can_cancel))
    return view


def inbox_view(order):
    "What an engineer sees of an order offered to them: no personal data"
    view = order_summary(order, contact=False)
    city = (order.contact_address or '').strip().split(' ')[0][:20]
    view['area'] = city or None
    return view


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
