# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""Dispatch: who is offered an order, direct assignment and re-offers by a
dispatcher, and the escalation of orders nobody takes.

Every offer, withdrawal, assignment and escalation is a record of the
order's history, and the notices it causes are written with it."""
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from . import clock, region
from .exceptions import StepNotAllowedError, WrongActorError


def _names(employees):
    return ', '.join(e.rec_name for e in employees)


class Order(metaclass=PoolMeta):
    __name__ = 'instrument_service.order'

    province = fields.Char(
        "Province", states={'readonly': Eval('state') != 'draft'},
        help="Read from the address when left empty.")
    city = fields.Char(
        "City", states={'readonly': Eval('state') != 'draft'},
        help="Read from the address when left empty.")
    offered_at = fields.DateTime(
        "Offered at", readonly=True,
        help="When the order was last offered to engineers.")
    escalated_at = fields.DateTime(
        "Escalated at", readonly=True,
        help="When the order was brought to the dispatchers, unclaimed.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'dispatch': {
                    'invisible': Eval('state') != 'submitted',
                    'icon': 'tryton-launch',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def copy(cls, orders, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('offered_at', None)
        default.setdefault('escalated_at', None)
        return super().copy(orders, default=default)

    def region(self):
        """The province and city of the order, read from its address if
        unset; typed ones are read as the engineers' regions are ("广东" is
        "广东省")"""
        province, city = region.parse(self.contact_address)
        if self.province:
            province = region.parse(self.province)[0] or self.province.strip()
        if self.city:
            city = (region.parse((province or '') + self.city.strip())[1]
                or self.city.strip())
        return province, city

    def log_event(self, action, actor=None, **values):
        "Write a record of the order's history besides the workflow's steps"
        Progress = Pool().get('instrument_service.order.progress')
        values.setdefault('from_step', self.step)
        values.setdefault('to_step', None)
        if actor is not None:
            values.update(actor.progress_values())
        else:
            values['actor_role'] = 'system'
        record = Progress(order=self, action=action, date=clock.now(),
            **values)
        with without_check_access():
            record.save()
        return record

    # ---- offering -----------------------------------------------------------

    def offer(self, employees, reason=None, actor=None):
        """Offer the order to employees, withdrawing the open offers of the
        others, and restart its escalation clock; with no employee, bring
        the order to the dispatchers"""
        pool = Pool()
        Offer = pool.get('instrument_service.order.offer')
        Notice = pool.get('instrument_service.notice')
        employees = list(dict.fromkeys(employees))
        open_offers = [o for o in self.offers if o.state == 'offered']
        already = {o.engineer for o in open_offers}
        withdrawn = [o for o in open_offers if o.engineer not in employees]
        new = [e for e in employees if e not in already]
        for offer in withdrawn:
            offer.state = 'withdrawn'
        with without_check_access():
            Offer.save(withdrawn + [
                    Offer(order=self, engineer=e) for e in new])
        self.offered_at = clock.now()
        self.escalated_at = None
        with without_check_access():
            self.save()
        self.withdraw_notice([o.engineer for o in withdrawn])
        if not employees:
            self.escalate('msg_escalate_nobody', reason=reason)
            return
        record = self.log_event('offer', actor=actor,
            description=_names(employees), reason=reason)
        Notice.notify_employees(record, 'offered', new,
            'instrument_service.msg_notify_offered')

    def withdraw_notice(self, employees):
        "Record and notify the withdrawal of the offers of employees"
        Notice = Pool().get('instrument_service.notice')
        if employees:
            record = self.log_event('withdraw', description=_names(employees))
            Notice.notify_employees(record, 'withdrawn', employees,
                'instrument_service.msg_notify_withdrawn')

    def escalate(self, message, **variables):
        "Bring the unclaimed order to the dispatchers, once per offer round"
        Notice = Pool().get('instrument_service.notice')
        self.escalated_at = clock.now()
        # Also when an engineer's decline leaves nobody to accept
        with without_check_access():
            self.save()
        reason = gettext('instrument_service.' + message, **variables)
        record = self.log_event('escalate', reason=reason)
        Notice.notify_dispatchers(record, 'unclaimed',
            'instrument_service.msg_notify_unclaimed', reason=reason)

    def dispatch_on_submit(self):
        "Offer a submitted order as the dispatch mode says"
        pool = Pool()
        Configuration = pool.get('instrument_service.configuration')
        Engineer = pool.get('instrument_service.engineer')
        # Shown on the order: the region its dispatch was matched on
        self.province, self.city = self.region()
        if Configuration(1).dispatch_mode == 'manual':
            self.offered_at = clock.now()
            self.escalate('msg_escalate_manual')
        else:
            self.offer([e.employee for e in Engineer.qualified_for(self)])

    @classmethod
    def escalate_unclaimed(cls):
        """Scheduled: bring to the dispatchers the orders whose offers have
        waited longer than the configured delay"""
        Configuration = Pool().get('instrument_service.configuration')
        delay = Configuration(1).escalation_delay
        with without_check_access():
            orders = cls.search([
                    ('state', '=', 'submitted'),
                    ('escalated_at', '=', None),
                    ('offered_at', '<=', clock.now() - delay),
                    ])
        cls.lock(orders)
        for order in cls.browse([o.id for o in orders]):
            # Read again after the lock: it may have been taken meanwhile
            if order.state == 'submitted' and not order.escalated_at:
                order.escalate('msg_escalate_delay',
                    minutes=int(delay.total_seconds() // 60))

    # ---- dispatcher actions -------------------------------------------------

    @classmethod
    @ModelView.button_action('instrument_service.wizard_order_dispatch')
    def dispatch(cls, orders):
        pass

    @classmethod
    def _check_dispatch(cls, order, actor):
        if actor.role != 'staff':
            raise WrongActorError(gettext(
                    'instrument_service.msg_dispatch_staff_only',
                    order=order.rec_name))
        if order.state != 'submitted':
            raise StepNotAllowedError(gettext(
                    'instrument_service.msg_dispatch_not_waiting',
                    order=order.rec_name, state=order.state_string))

    @classmethod
    def do_offer(cls, orders, employees, reason=None):
        """Offer waiting orders again, to employees or, with none given, to
        the engineers the rules match now; staff only"""
        Engineer = Pool().get('instrument_service.engineer')
        orders = cls.browse(orders)
        cls.lock(orders)
        for order in cls.browse([o.id for o in orders]):
            actor = cls._actor(order)
            cls._check_dispatch(order, actor)
            chosen = list(employees) or [
                e.employee for e in Engineer.qualified_for(order)]
            Engineer.check_engineers(chosen)
            order.offer(chosen, reason=(reason or '').strip() or None,
                actor=actor)

    @classmethod
    def do_assign(cls, orders, employee, reason=None,
            override_capacity=False):
        """Give waiting orders to one engineer directly, as if they had
        accepted them (the workflow's accept transition), at capacity only
        with override_capacity; staff only"""
        pool = Pool()
        Engineer = pool.get('instrument_service.engineer')
        Notice = pool.get('instrument_service.notice')
        orders = cls.browse(orders)
        cls.lock(orders)
        Engineer.check_engineers([employee])
        for order in cls.browse([o.id for o in orders]):
            actor = cls._actor(order)
            cls._check_dispatch(order, actor)
            transition = order._find_transition('accept', actor._replace(
                    role='engineer', employee=employee))
            withdrawn = order.take(employee, override_capacity)
            record = order._write_progress(transition,
                {'photos': [], 'files': [],
                    'description': employee.rec_name,
                    'reason': (reason or '').strip() or None},
                actor, action='assign')
            order.withdraw_notice(withdrawn)
            Notice.notify_employees(record, 'assigned', [employee],
                'instrument_service.msg_notify_assigned')
            Notice.notify_customer(record)


class Dispatch(Wizard):
    "Assign a waiting order to an engineer, or offer it again"
    __name__ = 'instrument_service.order.dispatch'
    start = StateView(
        'instrument_service.order.dispatch.start',
        'instrument_service.order_dispatch_start_view_form', [
            Button("Back", 'end', 'tryton-cancel'),
            Button("Dispatch", 'dispatch', 'tryton-ok', default=True),
            ])
    dispatch = StateTransition()

    def default_start(self, fields):
        Engineer = Pool().get('instrument_service.engineer')
        order = self.record
        return {
            'method': 'offer',
            'engineers': [e.employee.id
                for e in Engineer.qualified_for(order)] if order else [],
            }

    def transition_dispatch(self):
        Order = Pool().get('instrument_service.order')
        if self.start.method == 'assign':
            Order.do_assign(
                list(self.records), self.start.engineer, self.start.reason,
                override_capacity=self.start.override_capacity)
        else:
            Order.do_offer(
                list(self.records), list(self.start.engineers),
                self.start.reason)
        return 'end'


class DispatchStart(ModelView):
    __name__ = 'instrument_service.order.dispatch.start'
    method = fields.Selection([
            ('offer', "Offer to Engineers"),
            ('assign', "Assign to One Engineer"),
            ], "Method", required=True)
    engineer = fields.Many2One(
        'company.employee', "Engineer",
        states={
            'invisible': Eval('method') != 'assign',
            'required': Eval('method') == 'assign',
            })
    engineers = fields.Many2Many(
        'company.employee', None, None, "Engineers",
        states={'invisible': Eval('method') != 'offer'},
        help="Empty to offer to the engineers the rules match.")
    override_capacity = fields.Boolean(
        "Beyond Capacity",
        states={'invisible': Eval('method') != 'assign'},
        help="Give the order to the engineer even if they have as many "
        "orders in progress as they may have.")
    reason = fields.Text("Reason")
