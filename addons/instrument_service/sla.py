# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""Service levels: per order type, the time allowed to accept an order, to
decide on the visit (first contact) and to complete the work, all counted
from the submission.

An order stores its three deadlines and when it met each; its next deadline
and the moment it becomes at risk are stored too, so that late and at-risk
orders are found by an indexed search. A scheduled job flags the deadlines
missed and tells the dispatchers."""
from sql import Null

from trytond.i18n import gettext
from trytond.model import Index, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import without_check_access

from . import clock

# (milestone, label, code of the step whose reaching meets it)
MILESTONES = [
    ('accept', "Accept", 'accepted'),
    ('contact', "First Contact", 'visit'),
    ('complete', "Complete", 'rating'),
    ]
SLA_STATUSES = [
    (None, ""),
    ('on_time', "On Time"),
    ('at_risk', "At Risk"),
    ('late', "Late"),
    ]


class Workflow(metaclass=PoolMeta):
    __name__ = 'instrument_service.workflow'

    sla_accept = fields.TimeDelta(
        "Time to Accept",
        help="From the submission; empty for no deadline.")
    sla_contact = fields.TimeDelta(
        "Time to First Contact",
        help="From the submission to the visit decision (on-site "
        "appointment or remote assistance); empty for no deadline.")
    sla_complete = fields.TimeDelta(
        "Time to Complete",
        help="From the submission to the end of the work (the customer "
        "asked to rate); empty for no deadline.")


class Order(metaclass=PoolMeta):
    __name__ = 'instrument_service.order'

    accept_due = fields.DateTime("Accept by", readonly=True)
    contact_due = fields.DateTime("First Contact by", readonly=True)
    complete_due = fields.DateTime("Complete by", readonly=True)
    accept_met = fields.DateTime("Accepted at", readonly=True)
    contact_met = fields.DateTime("First Contact at", readonly=True)
    complete_met = fields.DateTime("Completed at", readonly=True)
    sla_milestone = fields.Selection(
        [(None, "")] + [(m, l) for m, l, _ in MILESTONES],
        "Next Deadline", readonly=True)
    sla_due = fields.DateTime("Next Deadline at", readonly=True)
    sla_risk_at = fields.DateTime("At Risk from", readonly=True)
    sla_late = fields.Boolean(
        "Flagged Late", readonly=True,
        help="The next deadline was missed and the dispatchers told.")
    sla_breaches = fields.MultiSelection(
        [(m, l) for m, l, _ in MILESTONES], "Deadlines Missed",
        readonly=True, sort=False)
    sla_status = fields.Function(
        fields.Selection(SLA_STATUSES, "Service Level"),
        'get_sla_status', searcher='search_sla_status')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.sla_due, Index.Range()),
                    where=t.sla_due != Null),
                Index(t, (t.sla_risk_at, Index.Range()),
                    where=t.sla_due != Null),
                })

    @classmethod
    def default_sla_late(cls):
        return False

    @classmethod
    def copy(cls, orders, default=None):
        default = default.copy() if default is not None else {}
        for fname in ['accept_due', 'contact_due', 'complete_due',
                'accept_met', 'contact_met', 'complete_met', 'sla_milestone',
                'sla_due', 'sla_risk_at', 'sla_late', 'sla_breaches']:
            default.setdefault(fname, None)
        return super().copy(orders, default=default)

    def set_deadlines(self):
        "Set the deadlines of a submitted order from its workflow"
        for milestone, _, _ in MILESTONES:
            allowed = getattr(self.workflow, 'sla_%s' % milestone)
            setattr(self, '%s_due' % milestone,
                self.submitted_at + allowed if allowed else None)
        self.track_sla()

    def track_sla(self):
        """Record the milestones the order's step meets and set its next
        deadline; called whenever the step or the state changes"""
        Configuration = Pool().get('instrument_service.configuration')
        now = clock.now()
        reached = self.step.sequence if self.step else None
        codes = {s.code: s.sequence for s in self.workflow.steps}
        following = None
        for milestone, _, code in MILESTONES:
            if (reached is not None and code in codes
                    and reached >= codes[code]
                    and not getattr(self, '%s_met' % milestone)):
                setattr(self, '%s_met' % milestone, now)
            if (following is None and getattr(self, '%s_due' % milestone)
                    and not getattr(self, '%s_met' % milestone)):
                following = milestone
        if self.state in {'done', 'cancelled'}:
            following = None
        if following != self.sla_milestone:
            self.sla_late = False
        self.sla_milestone = following
        if following:
            due = getattr(self, '%s_due' % following)
            share = Configuration(1).sla_at_risk / 100
            self.sla_due = due
            self.sla_risk_at = (
                self.submitted_at + (due - self.submitted_at) * share)
        else:
            self.sla_due = self.sla_risk_at = None

    @classmethod
    def get_sla_status(cls, orders, name):
        now = clock.now()
        result = {}
        for order in orders:
            if not order.sla_due:
                result[order.id] = None
            elif order.sla_due < now:
                result[order.id] = 'late'
            elif order.sla_risk_at <= now:
                result[order.id] = 'at_risk'
            else:
                result[order.id] = 'on_time'
        return result

    @classmethod
    def search_sla_status(cls, name, clause):
        _, operator, value = clause[:3]
        now = clock.now()
        domains = {
            None: [('sla_due', '=', None)],
            'late': [('sla_due', '<', now)],
            'at_risk': [
                ('sla_due', '>=', now), ('sla_risk_at', '<=', now)],
            'on_time': [('sla_risk_at', '>', now)],
            }
        values = value if operator in {'in', 'not in'} else [value]
        if operator in {'!=', 'not in'}:
            # Tryton domains have no NOT: search the other statuses
            values = [s for s in domains if s not in values]
        domain = ['OR'] + [domains[v] for v in values if v in domains]
        return domain if len(domain) > 1 else [('id', '=', None)]

    @classmethod
    def check_sla(cls):
        """Scheduled: flag the orders that missed their next deadline and
        tell the dispatchers, once per deadline"""
        Notice = Pool().get('instrument_service.notice')
        now = clock.now()
        with without_check_access():
            orders = cls.search([
                    ('sla_due', '<', now),
                    ('sla_late', '=', False),
                    ('state', 'in', ['submitted', 'in_progress']),
                    ])
        cls.lock(orders)
        for order in cls.browse([o.id for o in orders]):
            milestone = order.sla_milestone
            if not order.sla_due or order.sla_due >= now or order.sla_late:
                continue
            order.sla_late = True
            order.sla_breaches = list(order.sla_breaches or ()) + [milestone]
            with without_check_access():
                order.save()
            label = gettext('instrument_service.msg_sla_%s' % milestone)
            record = order.log_event('late', description=label,
                reason=gettext('instrument_service.msg_sla_missed',
                    deadline=order.format_datetime(order.sla_due)))
            Notice.notify_dispatchers(record, 'late',
                'instrument_service.msg_notify_late', deadline=label)
