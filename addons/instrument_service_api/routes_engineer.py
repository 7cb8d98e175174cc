# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"The engineer's operations: inbox, tasks, steps, notifications"
import logging
import time

from trytond.pool import Pool
from trytond.transaction import without_check_access

from . import files, longpoll
from .actions import check_evidence
from .api import Waiter, body, error, parse_datetime, query, route
from .serialize import (
    file_view, notification_view, order_detail, order_page)

logger = logging.getLogger(__name__)

BUS_RECHECK = 5

TASK_ERRORS = {
    'step_not_allowed': "The order is not at a step where this can be "
    "done: it moved on, waits for the customer, or was cancelled or "
    "reassigned. Read the task again.",
    'forbidden': None,
    }


def engineer_clause(caller):
    """The orders of the caller's employees: "=" for the one employee an
    engineer usually has, which PostgreSQL can read in the order of an
    index (it does not with "= ANY")"""
    if len(caller.employees) == 1:
        return ('engineer', '=', caller.employees[0])
    return ('engineer', 'in', list(caller.employees))


def offered_order(caller, order_id):
    "An order offered to the caller at some point, or 404"
    Order = Pool().get('instrument_service.order')
    orders = Order.search([
            ('id', '=', order_id),
            ('offers.engineer', 'in', list(caller.employees)),
            ], limit=1)
    if not orders:
        raise error(404, 'not_found', 'msg_order_not_found')
    return orders[0]


def task(caller, order_id):
    "An order assigned to the caller, or 404"
    Order = Pool().get('instrument_service.order')
    orders = Order.search([
            ('id', '=', order_id),
            engineer_clause(caller),
            ], limit=1)
    if not orders:
        raise error(404, 'not_found', 'msg_order_not_found')
    return orders[0]


@route('GET', '/engineer/inbox', auth='engineer', tag='engineer',
    summary="Orders offered to me, waiting for an answer",
    description="The orders offered to the caller that nobody has "
    "accepted yet, newest first: the type, the instruments, the region "
    "(province, city, district), the requested time and the time by "
    "which to answer. Nothing that identifies the customer is shown "
    "before accepting. New offers also arrive as notifications "
    "(GET /engineer/notifications/wait).",
    parameters=['page', 'page_size'], responses={200: 'InboxPage'})
def inbox(request, caller):
    values = query(request)
    domain = [
        ('state', '=', 'submitted'),
        ('offers', 'where', [
                ('engineer', 'in', list(caller.employees)),
                ('state', '=', 'offered')]),
        ]
    return order_page([(domain, None)], values['page'], values['page_size'],
        contact=False)


@route('POST', '/engineer/inbox/{order_id}/accept', auth='engineer',
    tag='engineer', summary="Accept an offered order; one engineer wins",
    description="The first engineer to accept wins the order: it becomes "
    "their task at step 1 (已接单), the customer is told and the other "
    "engineers' offers are withdrawn. Another engineer's accept answers "
    "409 already_taken; remove the offer. With an Idempotency-Key, a retry "
    "after a lost answer answers the same.",
    request='Empty', responses={200: 'OrderDetail'},
    idempotency='optional',
    errors={
        'already_taken': "Another engineer accepted the order first: "
        "remove it from the list, kindly.",
        'at_capacity': None,
        'step_not_allowed': "The order was cancelled or is no longer "
        "waiting for an engineer.",
        'forbidden': "The offer to the caller was withdrawn.",
        },
    example={'request': {}})
def accept(request, caller, order_id):
    Order = Pool().get('instrument_service.order')
    order = offered_order(caller, order_id)
    Order.perform([order], 'accept', {})
    return order_detail(Order(order.id), 'engineer')


@route('POST', '/engineer/inbox/{order_id}/decline', auth='engineer',
    tag='engineer', summary="Decline an offered order, with a reason",
    description="The order leaves the caller's inbox; when every engineer "
    "it was offered to has declined it, the dispatchers take it over. "
    "With an Idempotency-Key, a retry answers the same.",
    request='Reason', responses={204: None}, idempotency='optional',
    errors={
        'forbidden': "The order is not (or no longer) offered to the "
        "caller.",
        'invalid_evidence': None,
        },
    example={'request': {'reason': '本周在外地出差'}})
def decline(request, caller, order_id):
    Order = Pool().get('instrument_service.order')
    order = offered_order(caller, order_id)
    Order.decline([order], body(request)['reason'].strip())
    return None, 204


@route('GET', '/engineer/tasks', auth='engineer', tag='engineer',
    summary="My tasks: the ones in progress first, the next appointment "
    "first; then the finished and cancelled ones, newest first",
    description="The orders the caller accepted or was assigned, a page "
    "at a time; `state` narrows the list.",
    parameters=['page', 'page_size', 'state'], responses={200: 'OrderPage'})
def tasks(request, caller):
    values = query(request)
    mine = engineer_clause(caller)
    # Two runs, each read in the order of an index: the open tasks are few
    # (an engineer's capacity), the history grows for ever
    runs = [
        ({'in_progress'}, [('appointment', 'ASC NULLS LAST'), ('id', 'DESC')]),
        ({'done', 'cancelled'}, None),
        ]
    if values['state']:
        runs = [({values['state']}, order) for states, order in runs
            if values['state'] in states]
    return order_page([([mine, ('state', 'in', sorted(states))], order)
            for states, order in runs], values['page'], values['page_size'])


@route('GET', '/engineer/tasks/{order_id}', auth='engineer',
    tag='engineer', summary="One of my tasks in full",
    description="The order in full, as its customer sees it plus what the "
    "engineer can do now: progress.actions lists the actions of the "
    "current step with the fields each requires (from the workflow, "
    "which administrators edit) and the operation that performs it; "
    "build the step's form from it.",
    responses={200: 'OrderDetail'})
def task_detail(request, caller, order_id):
    return order_detail(task(caller, order_id), 'engineer')


@route('POST', '/engineer/tasks/{order_id}/files', auth='engineer',
    tag='engineer', multipart=True,
    summary="Upload a photo or a document for a step of my task",
    description="One file a request, in the multipart field `file`: a "
    "photo (stored as JPEG) or a document (PDF, Word, Excel, for a quote "
    "or a report). Then cite its id in the `photos` or `files` of the "
    "step (POST .../steps). With an Idempotency-Key, a retry after a lost "
    "answer gives the same file.",
    responses={201: 'File'}, idempotency='optional',
    errors={'forbidden': None, 'invalid_evidence': None})
def task_file(request, caller, order_id):
    pool = Pool()
    Order = pool.get('instrument_service.order')
    Attachment = pool.get('ir.attachment')
    order = task(caller, order_id)
    name, mimetype, data, thumbnail = files.read_upload(request)
    attachment_id, = Order.add_upload([order], name, data)
    attachment = Attachment(attachment_id)
    attachment.mimetype = mimetype
    attachment.thumbnail = thumbnail
    with without_check_access():
        attachment.save()
    return file_view(attachment.id), 201


@route('POST', '/engineer/tasks/{order_id}/steps', auth='engineer',
    tag='engineer',
    summary="Complete the current step: description, photos, quote, "
    "check-in or report as the step requires",
    description="Performs one action of progress.actions (visit_onsite, "
    "visit_remote, submit_assessment, submit_quote, submit_report, "
    "finish_remote) with the evidence its fields ask for; the order moves "
    "to the next step at once and the customer sees it. The evidence each "
    "action requires is the workflow's: a missing or refused piece "
    "answers 422 invalid_evidence naming each field. With an "
    "Idempotency-Key (an offline outbox), a retry after a lost answer "
    "answers the same and records nothing twice.",
    request='StepSubmission', responses={200: 'OrderDetail'},
    idempotency='optional',
    errors={**TASK_ERRORS, 'invalid_evidence': None},
    example={'request': {
            'action': 'submit_assessment',
            'description': '泵密封圈老化导致压力波动，需更换密封圈',
            'photos': [301, 302],
            'check_in': {'time': '2025-05-29T10:05:00+08:00',
                'latitude': 31.2019, 'longitude': 121.6005,
                'accuracy': 15, 'address': '上海市浦东新区蔡伦路88号',
                'coordinate_system': 'gcj02'}}})
def submit_step(request, caller, order_id):
    Order = Pool().get('instrument_service.order')
    data = body(request)
    order = task(caller, order_id)
    check_evidence(order, 'engineer', data['action'], data)
    values = dict(data)
    action = values.pop('action')
    for key in ['appointment']:
        if key in values:
            values[key] = parse_datetime(values[key])
    if 'check_in' in values:
        values['check_in'] = dict(values['check_in'],
            time=parse_datetime(values['check_in']['time']))
    Order.perform([order], action, values)
    return order_detail(Order(order.id), 'engineer')


# ---- notifications -----------------------------------------------------

@route('GET', '/engineer/notifications', auth='engineer', tag='engineer',
    summary="My notifications, newest first",
    description="What the caller was told: new offers, withdrawn offers, "
    "the customer's answers, cancellations and reassignments, with the "
    "order each is about.",
    parameters=['page', 'page_size', 'unread'],
    responses={200: 'NotificationPage'})
def notifications(request, caller):
    Notification = Pool().get('res.notification')
    values = query(request)
    page, size = values['page'], values['page_size']
    domain = [('user', '=', caller.user)]
    if values['unread']:
        domain.append(('unread', '=', True))
    total = Notification.search_count(domain)
    records = Notification.search(domain, offset=(page - 1) * size,
        limit=size, order=[('id', 'DESC')])
    return {
        'items': [notification_view(n) for n in records],
        'page': page, 'page_size': size, 'total': total,
        'unread': _unread(caller),
        }


def _unread(caller):
    Notification = Pool().get('res.notification')
    return Notification.search_count([
            ('user', '=', caller.user), ('unread', '=', True)])


@route('GET', '/engineer/notifications/unread-count', auth='engineer',
    tag='engineer', summary="How many notifications I have not read",
    description="The badge of the messages tab: read it at start and "
    "after marking a notification read.",
    responses={200: 'UnreadCount'})
def unread_count(request, caller):
    return {'unread': _unread(caller)}


@route('POST', '/engineer/notifications/{notification_id}/read',
    auth='engineer', tag='engineer', summary="Mark a notification read",
    description="The notification stays in the list, read; answers the "
    "count of those still unread (the badge).",
    request='Empty', responses={200: 'UnreadCount'},
    example={'request': {}})
def mark_read(request, caller, notification_id):
    Notification = Pool().get('res.notification')
    records = Notification.search([
            ('id', '=', notification_id), ('user', '=', caller.user)])
    if not records:
        raise error(404, 'not_found', 'msg_notification_not_found')
    Notification.write(records, {'unread': False})
    return {'unread': _unread(caller)}


def _newer(caller, after):
    Notification = Pool().get('res.notification')
    records = Notification.search([
            ('user', '=', caller.user), ('id', '>', after)],
        order=[('id', 'ASC')], limit=50)
    return [notification_view(n) for n in records]


@route('GET', '/engineer/notifications/wait', auth='engineer',
    tag='engineer', parameters=['after', 'timeout'],
    summary="Long poll: answers as soon as a notification newer than "
    "`after` exists, or with an empty list after `timeout` seconds",
    description="Keep one running while the app is open: new offers "
    "arrive within a second. Call it again with the greatest id seen.",
    responses={200: 'NotificationWait'})
def wait(request, caller):
    values = query(request)
    after, timeout = values['after'], values['timeout']
    items = _newer(caller, after)
    if items or not timeout:
        return {'items': items, 'unread': _unread(caller)}
    # Nothing yet: wait outside of this transaction
    return WaitFor(caller, after, time.monotonic() + timeout)


class WaitFor(Waiter):
    "The long poll of an engineer's notifications"

    def __init__(self, caller, after, deadline):
        self.caller = caller
        self.after = after
        self.deadline = deadline

    def sleep(self, database):
        "Block until the bus says something for the caller or time is up"
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            return
        # Woken by the NOTIFY of a new notification (on SQLite, which has
        # none, after a second); look again in the database every few
        # seconds anyway, for a message sent between the last look and the
        # subscription
        longpoll.wait(database, ['notification:%s' % self.caller.user],
            min(remaining, BUS_RECHECK))

    def poll(self):
        items = _newer(self.caller, self.after)
        if items or time.monotonic() >= self.deadline:
            return {'items': items, 'unread': _unread(self.caller)}
        return self

