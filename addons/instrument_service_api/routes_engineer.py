# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"The engineer's operations: inbox, tasks, steps, notifications"
import logging
import os
import threading
import time

from trytond import backend
from trytond.bus import Bus, LongPollingBus
from trytond.config import config
from trytond.pool import Pool
from trytond.transaction import without_check_access

from . import availability, files
from .api import (
    Waiter, body, check_fields, error, int_arg, invalid_fields, page_args,
    route)
from .serialize import (
    file_view, notification_view, order_detail, order_page)

# What an engineer may send with each action of a step
STEP_FIELDS = {
    'description': ('str', False),
    'photos': ('ids', False),
    'appointment': ('datetime', False),
    'check_in': ('dict', False),
    'amount': ('decimal', False),
    'report': ('str', False),
    }
CHECK_IN_FIELDS = {
    'time': ('datetime', True),
    'latitude': ('number', True),
    'longitude': ('number', True),
    'accuracy': ('number', True),
    'address': ('str', False),
    }
ENGINEER_ACTIONS = {
    'visit_onsite', 'visit_remote', 'submit_assessment', 'submit_quote',
    'submit_report', 'finish_remote'}
logger = logging.getLogger(__name__)

WAIT_DEFAULT, WAIT_MAX = 25, 60
BUS_RECHECK = 5


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
    parameters=['page', 'page_size'], responses={200: 'InboxPage'})
def inbox(request, caller):
    page, size = page_args(request)
    domain = [
        ('state', '=', 'submitted'),
        ('offers', 'where', [
                ('engineer', 'in', list(caller.employees)),
                ('state', '=', 'offered')]),
        ]
    # No personal data before the engineer accepts: the area, not the
    # customer's company
    return order_page([(domain, None)], page, size, contact=False)


@route('POST', '/engineer/inbox/{order_id}/accept', auth='engineer',
    tag='engineer', summary="Accept an offered order; one engineer wins",
    request='Empty', responses={200: 'OrderDetail'})
def accept(request, caller, order_id):
    Order = Pool().get('instrument_service.order')
    order = offered_order(caller, order_id)
    Order.perform([order], 'accept', {})
    return order_detail(Order(order.id), 'engineer')


@route('POST', '/engineer/inbox/{order_id}/decline', auth='engineer',
    tag='engineer', summary="Decline an offered order, with a reason",
    request='Reason', responses={204: None})
def decline(request, caller, order_id):
    Order = Pool().get('instrument_service.order')
    values = check_fields(body(request), {'reason': ('str', True)})
    order = offered_order(caller, order_id)
    Order.decline([order], values['reason'])
    return None, 204


@route('GET', '/engineer/tasks', auth='engineer', tag='engineer',
    summary="My tasks: the ones in progress first, the next appointment "
    "first; then the finished and cancelled ones, newest first",
    parameters=['page', 'page_size', 'state'], responses={200: 'OrderPage'})
def tasks(request, caller):
    page, size = page_args(request)
    mine = engineer_clause(caller)
    # Two runs, each read in the order of an index: the open tasks are few
    # (an engineer's capacity), the history grows for ever
    runs = [
        ({'in_progress'}, [('appointment', 'ASC NULLS LAST'), ('id', 'DESC')]),
        ({'done', 'cancelled'}, None),
        ]
    state = request.args.get('state')
    if state:
        if state not in {'in_progress', 'done', 'cancelled'}:
            raise invalid_fields({'state': 'in_progress, done, cancelled'})
        runs = [({state}, order) for states, order in runs if state in states]
    return order_page([([mine, ('state', 'in', sorted(states))], order)
            for states, order in runs], page, size)


@route('GET', '/engineer/tasks/{order_id}', auth='engineer',
    tag='engineer', summary="One of my tasks in full",
    responses={200: 'OrderDetail'})
def task_detail(request, caller, order_id):
    return order_detail(task(caller, order_id), 'engineer')


@route('POST', '/engineer/tasks/{order_id}/files', auth='engineer',
    tag='engineer', multipart=True,
    summary="Upload a photo for the next step of my task",
    responses={201: 'File'})
def task_photo(request, caller, order_id):
    pool = Pool()
    Order = pool.get('instrument_service.order')
    Attachment = pool.get('ir.attachment')
    order = task(caller, order_id)
    upload = request.files.get('file')
    if upload is None:
        raise error(422, 'invalid_field', 'msg_file_missing',
            fields={'file': 'required'})
    name, mimetype, data, thumbnail = files.prepare(
        upload.filename, upload.read(files.UPLOAD_MAX_SIZE + 1),
        images_only=True)
    attachment_id, = Order.add_photo([order], name, data)
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
    request='StepSubmission', responses={200: 'OrderDetail'})
def submit_step(request, caller, order_id):
    Order = Pool().get('instrument_service.order')
    data = body(request)
    values = check_fields(data, {'action': ('str', True), **STEP_FIELDS})
    action = values.pop('action')
    if action not in ENGINEER_ACTIONS:
        raise invalid_fields({'action': ', '.join(sorted(ENGINEER_ACTIONS))})
    if 'check_in' in values:
        values['check_in'] = check_fields(values['check_in'],
            CHECK_IN_FIELDS, prefix='check_in.')
    order = task(caller, order_id)
    Order.perform([order], action, values)
    return order_detail(Order(order.id), 'engineer')


# ---- notifications -----------------------------------------------------

@route('GET', '/engineer/notifications', auth='engineer', tag='engineer',
    summary="My notifications, newest first",
    parameters=['page', 'page_size', 'unread'],
    responses={200: 'NotificationPage'})
def notifications(request, caller):
    Notification = Pool().get('res.notification')
    page, size = page_args(request)
    domain = [('user', '=', caller.user)]
    if request.args.get('unread') in {'1', 'true'}:
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
    responses={200: 'UnreadCount'})
def unread_count(request, caller):
    return {'unread': _unread(caller)}


@route('POST', '/engineer/notifications/{notification_id}/read',
    auth='engineer', tag='engineer', summary="Mark a notification read",
    request='Empty', responses={200: 'UnreadCount'})
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


def _int_arg(request, name, default, low, high):
    raw = request.args.get(name)
    if raw is None:
        return default
    value = int_arg(raw)
    if value is None or not low <= value <= high:
        raise invalid_fields({name: 'int %s..%s' % (low, high)})
    return value


@route('GET', '/engineer/notifications/wait', auth='engineer',
    tag='engineer', parameters=['after', 'timeout'],
    summary="Long poll: answers as soon as a notification newer than "
    "`after` exists, or with an empty list after `timeout` seconds",
    responses={200: 'NotificationWait'})
def wait(request, caller):
    after = _int_arg(request, 'after', 0, 0, 2 ** 62)
    timeout = _int_arg(request, 'timeout', WAIT_DEFAULT, 0, WAIT_MAX)
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
        if backend.name == 'postgresql':
            # Woken by the NOTIFY of a new notification; look again in the
            # database every few seconds anyway, for a message sent
            # between the last look and the subscription
            bus_wait(database, ['notification:%s' % self.caller.user],
                min(remaining, BUS_RECHECK))
        else:
            # SQLite has no channel: look again every second
            time.sleep(min(1, remaining))

    def poll(self):
        items = _newer(self.caller, self.after)
        if items or time.monotonic() >= self.deadline:
            return {'items': items, 'unread': _unread(self.caller)}
        return self


def _listen(database):
    """Tryton's bus listener; when its connection is lost (a restart of the
    database), it ends: wake the long polls waiting on it, to look in the
    database now (and answer 503 while it is out of reach), and log one
    line instead of a traceback. The next long poll starts a new one."""
    with Bus._queues_lock[os.getpid()]:
        queue = Bus._queues[os.getpid(), database]
    try:
        Bus._listen(database)
    except Exception as e:
        if not availability.unavailable(e):
            raise
        logger.warning("bus listener on '%s' stopped: %s", database,
            availability.first_line(e))
        with Bus._queues_lock[os.getpid()]:
            events = [event for events in queue['events'].values()
                for event in events]
        for event in events:
            event.set()


def bus_wait(database, channels, timeout):
    """Wait at most timeout seconds for a message of Tryton's bus on one of
    channels.

    Bus.subscribe waits [bus] long_polling_timeout (5 minutes by default),
    longer than a mobile client waits for an answer: this registers on the
    same listener as subscribe does, with a timeout of its own."""
    if not (isinstance(Bus, type) and issubclass(Bus, LongPollingBus)):
        time.sleep(min(1, timeout))
        return
    pid = os.getpid()
    key = pid, database
    event = threading.Event()
    with Bus._queues_lock[pid]:
        Bus._queues[key]['timeout'] = (
            time.time() + config.getint('database', 'timeout'))
        listener = Bus._queues[key].get('listener')
        # A listener that could not connect (the database was restarting)
        # ends without removing itself: start another one
        if not listener or not listener.is_alive():
            listener = threading.Thread(
                target=_listen, args=(database,), daemon=True)
            Bus._queues[key]['listener'] = listener
            listener.start()
        for channel in channels:
            Bus._queues[key]['events'][channel].append(event)
    try:
        event.wait(timeout)
    finally:
        with Bus._queues_lock[pid]:
            events = Bus._queues[key]['events']
            for channel in channels:
                if event in events.get(channel, []):
                    events[channel].remove(event)
                if channel in events and not events[channel]:
                    del events[channel]
