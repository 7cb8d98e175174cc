# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The outbox: every notice to an engineer, a dispatcher or a customer.

A notice is written in the transaction of the change that causes it (one
progress record of the order's history), so it exists exactly when the
change does. A job delivers it afterwards: Tryton's queue (trytond-worker,
or right after the commit when no worker is configured) and, for what a
crash or an outage left behind, the scheduled job deliver_due. A notice is
claimed before it is sent, so two deliverers never send it both, and the
outcome is committed at once; temporary failures are retried with backoff.

Channels: "tryton" makes a Tryton notification (the back office's and the
engineers' app's feed, pushed on the bus); "jpush" a push to the
engineers' phones; other modules add theirs (the API adds WeChat
subscription messages to customers) with a _send_<channel> method."""
import datetime as dt
import json
import logging

from sql import Null

from trytond import config
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from . import clock, jpush
from .exceptions import DeliveryFailed, DeliveryRetry

logger = logging.getLogger(__name__)

NOTICE_STATES = [
    ('pending', "Pending"),
    ('sending', "Sending"),
    ('sent', "Sent"),
    ('refused', "Not Accepted by Recipient"),
    ('skipped', "Channel Off"),
    ('failed', "Failed"),
    ]
NOTICE_KINDS = [
    ('offered', "Order Offered"),
    ('withdrawn', "Offer Withdrawn"),
    ('assigned', "Order Assigned"),
    ('customer_action', "Customer Answered"),
    ('cancelled', "Order Cancelled"),
    ('unclaimed', "Order Unclaimed"),
    ('late', "Deadline Missed"),
    ('progress', "Order Progress"),
    ]
# Seconds before each new attempt after a temporary failure; after the
# last one the notice fails. [instrument_service] notice_retry_delays
RETRY_DELAYS = '60,120,300,600,1800,3600,7200,14400'
# A notice claimed longer ago than this was lost with its deliverer (a
# crash during the send): it is sent again. [instrument_service]
# notice_claim_timeout, in seconds
CLAIM_TIMEOUT = 600


def retry_delays():
    value = config.get('instrument_service', 'notice_retry_delays',
        default=RETRY_DELAYS)
    return [dt.timedelta(seconds=float(d)) for d in value.split(',')]


def claim_timeout():
    return dt.timedelta(seconds=config.getint(
            'instrument_service', 'notice_claim_timeout',
            default=CLAIM_TIMEOUT))


class Notice(ModelSQL, ModelView):
    "A notice of the outbox"
    __name__ = 'instrument_service.notice'

    order = fields.Many2One(
        'instrument_service.order', "Order", required=True, readonly=True,
        ondelete='CASCADE')
    event = fields.Many2One(
        'instrument_service.order.progress', "Event", required=True,
        readonly=True, ondelete='CASCADE',
        help="The record of the order's history that caused the notice.")
    kind = fields.Selection(NOTICE_KINDS, "Kind", required=True,
        readonly=True)
    channel = fields.Selection([
            ('tryton', "Back Office and App"),
            ('jpush', "JPush"),
            ], "Channel", required=True, readonly=True)
    recipient = fields.Char("Recipient Key", required=True, readonly=True)
    user = fields.Many2One('res.user', "User", readonly=True,
        ondelete='CASCADE')
    web_user = fields.Many2One('web.user', "Customer", readonly=True,
        ondelete='CASCADE')
    title = fields.Char("Title", readonly=True)
    body = fields.Text("Body", readonly=True)
    payload = fields.Text("Payload", readonly=True,
        help="What the channel sends, in JSON, when it is more than the "
        "title and the body.")
    state = fields.Selection(NOTICE_STATES, "State", required=True,
        readonly=True, sort=False)
    attempts = fields.Integer("Attempts", required=True, readonly=True)
    next_attempt_at = fields.DateTime("Next Attempt", readonly=True)
    claimed_at = fields.DateTime("Claimed at", readonly=True)
    sent_at = fields.DateTime("Sent at", readonly=True)
    external_id = fields.Char("Channel Message ID", readonly=True)
    channel_key = fields.Char("Channel Idempotency Key", readonly=True,
        help="Sent with every attempt, so that the channel does not deliver "
        "twice a notice sent again after a crash lost its answer.")
    outcome = fields.Text("Outcome", readonly=True,
        help="What the channel answered last.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            # One notice per event, kind, channel and recipient: a change
            # retried by the database never notifies twice
            ('event_unique', Unique(
                    t, t.event, t.kind, t.channel, t.recipient),
                'instrument_service.msg_notice_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    (t.next_attempt_at, Index.Range()),
                    where=t.state.in_(['pending', 'sending'])),
                Index(t, (t.order, Index.Range())),
                })
        cls._order = [('id', 'DESC')]
        cls._buttons.update({
                'retry': {
                    'invisible': ~Eval('state').in_(['failed', 'refused']),
                    'icon': 'tryton-refresh',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'pending'

    @classmethod
    def default_attempts(cls):
        return 0

    def get_rec_name(self, name):
        return '%s · %s' % (self.order.rec_name, self.title or self.kind)

    # ---- writing notices ---------------------------------------------------

    @classmethod
    def notify_employees(cls, event, kind, employees, message_id,
            **variables):
        """Notify the users of employees of event (a progress record):
        in the back office and the app and, when configured, by JPush"""
        User = Pool().get('res.user')
        ids = {e.id for e in employees if e}
        if not ids:
            return []
        with without_check_access():
            users = User.search([('employees', 'in', list(ids))])
        channels = ['tryton'] + (['jpush'] if jpush.enabled() else [])
        return cls.emit(event, kind, users, message_id, channels,
            **variables)

    @classmethod
    def notify_dispatchers(cls, event, kind, message_id, **variables):
        "Notify the dispatchers of event in the back office"
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        group = ModelData.get_id('instrument_service', 'group_dispatcher')
        with without_check_access():
            users = User.search([('groups', '=', group)])
        return cls.emit(event, kind, users, message_id, ['tryton'],
            **variables)

    @classmethod
    def notify_customer(cls, event):
        """Notify the customer of the order of event, as configured for
        its action; this module has no customer channel, the API adds
        WeChat subscription messages"""
        return []

    @classmethod
    def emit(cls, event, kind, users, message_id, channels, **variables):
        "Write a notice for each user on each channel, in their language"
        order = event.order
        # An engineer offered the order (or no longer) is told nothing of
        # the customer before accepting: the order's name without them
        body = order.compute_name(customer=False) \
            if kind in {'offered', 'withdrawn'} else order.name
        notices = []
        for user in users:
            language = user.language.code if user.language else None
            with Transaction().set_context(language=language):
                title = gettext(message_id, order=order.rec_name,
                    **variables)
            for channel in channels:
                notices.append(cls(
                        order=order, event=event, kind=kind,
                        channel=channel, recipient='user:%s' % user.id,
                        user=user, title=title, body=body))
        return cls.post(notices)

    @classmethod
    def post(cls, notices):
        "Save notices and have them delivered once this transaction commits"
        if not notices:
            return []
        now = clock.now()
        for notice in notices:
            notice.next_attempt_at = now
        with without_check_access():
            cls.save(notices)
            cls.__queue__.deliver(notices)
        return notices

    # ---- delivering them ---------------------------------------------------

    @classmethod
    def deliver_due(cls):
        "Deliver the notices that are due: new, to retry or lost in a crash"
        now = clock.now()
        with without_check_access():
            notices = cls.search(['OR', [
                        ('state', '=', 'pending'),
                        ('next_attempt_at', '<=', now),
                        ], [
                        ('state', '=', 'sending'),
                        ('claimed_at', '<', now - claim_timeout()),
                        ]], order=[('next_attempt_at', 'ASC')], limit=1000)
        cls.deliver(notices)

    @classmethod
    def deliver(cls, notices):
        """Send each notice that is due and record the outcome, one notice
        per commit: what was sent is never sent again"""
        transaction = Transaction()
        for notice_id in [n.id for n in notices]:
            if not cls._claim(notice_id):
                continue
            transaction.commit()
            with without_check_access():
                notice, = cls.browse([notice_id])
                notice._deliver()
                notice.save()
            transaction.commit()

    @classmethod
    def _claim(cls, notice_id):
        """Mark a due notice as being sent; False when it is not due or
        another deliverer has it"""
        table = cls.__table__()
        now = clock.now()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update(
                [table.state, table.claimed_at, table.attempts],
                ['sending', now, table.attempts + 1],
                where=(table.id == notice_id)
                & (((table.state == 'pending')
                        & ((table.next_attempt_at == Null)
                            | (table.next_attempt_at <= now)))
                    | ((table.state == 'sending')
                        & (table.claimed_at < now - claim_timeout())))))
        return cursor.rowcount == 1

    def _deliver(self):
        "Send this claimed notice and set its state from the outcome"
        now = clock.now()
        try:
            self.state, self.external_id, self.outcome = getattr(
                self, '_send_%s' % self.channel)()
        except DeliveryFailed as failure:
            self.state, self.outcome = 'failed', str(failure)
        except Exception as failure:
            if not isinstance(failure, DeliveryRetry):
                # A bug or an unforeseen answer must not lose the notice
                logger.exception("Notice %s: delivery failed", self.id)
            delays = retry_delays()
            self.outcome = str(failure) or failure.__class__.__name__
            if self.attempts > len(delays):
                self.state = 'failed'
            else:
                self.state = 'pending'
                self.next_attempt_at = now + delays[self.attempts - 1]
            return
        if self.state == 'sent':
            self.sent_at = now

    def _send_tryton(self):
        "A Tryton notification: the back office and the app's feed"
        Notification = Pool().get('res.notification')
        notification, = Notification.create([{
                    'user': self.user.id,
                    'label': self.title,
                    'description': self.body,
                    'model': 'instrument_service.order',
                    'records': json.dumps([self.order.id]),
                    }])
        return 'sent', str(notification.id), None

    def _send_jpush(self):
        if not jpush.enabled():
            return 'skipped', None, gettext(
                'instrument_service.msg_notice_jpush_off')
        if not self.channel_key:
            # Kept before the first push: every resend carries the same
            self.channel_key = jpush.new_cid()
            self.save()
            Transaction().commit()
        return jpush.push(
            jpush.alias(self.user.id), self.title, self.body,
            {'order_id': self.order.id, 'notice_id': self.id},
            self.channel_key)

    @classmethod
    @ModelView.button
    def retry(cls, notices):
        "Send failed or refused notices again"
        notices = [n for n in notices if n.state in {'failed', 'refused'}]
        with without_check_access():
            cls.write(notices, {
                    'state': 'pending',
                    'attempts': 0,
                    'next_attempt_at': clock.now(),
                    # A deliberate resend: a new key, the old one may have
                    # expired
                    'channel_key': None,
                    })
        cls.__queue__.deliver(notices)
