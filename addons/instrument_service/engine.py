# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The engine: the one place that moves an order from step to step.

It finds the transition of the order's workflow for the action asked, checks
that the caller is the actor the transition names and that the evidence it
requires is there, applies what the action does and writes the progress
record. Cancelling and reassigning, outside the workflow, are here too."""
import datetime as dt
from collections import namedtuple
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import (
    AlreadyTakenError, AtCapacityError, MissingEvidenceError,
    StepNotAllowedError, WrongActorError)
from .filetype import IMAGE_TYPES, sniff
from . import clock
from .order import CLOSED_STATES, MAX_FILE_SIZE
from .view import ready
from .workflow import ACTIONS


class Actor(namedtuple('Actor', ['role', 'web_user', 'employee', 'user'])):
    "Who calls the engine: a role and the web user or employee behind it"
    __slots__ = ()

    def progress_values(self):
        return {
            'actor_role': self.role or 'staff',
            'actor_customer': self.web_user,
            'actor_user': self.user,
            }


def _image_check(attachment):
    return attachment.type == 'data' and sniff(attachment.data) in IMAGE_TYPES


class Order(metaclass=PoolMeta):
    __name__ = 'instrument_service.order'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'perform': RPC(readonly=False, instantiate=0),
                'decline': RPC(readonly=False, instantiate=0),
                'add_photo': RPC(readonly=False, instantiate=0),
                })
        cls._buttons.update({
                'cancel': {
                    'invisible': Eval('state').in_(list(CLOSED_STATES)),
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                'reassign': {
                    'invisible': Eval('state') != 'in_progress',
                    'icon': 'tryton-refresh',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def _actor(cls, order):
        """Return who calls for this order.

        A customer is identified by the web user session key in the context
        (the mobile API sets it); anyone else is a back-office user, an
        engineer when one of the user's employees is the order's engineer."""
        pool = Pool()
        Session = pool.get('web.user.session')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        transaction = Transaction()
        key = transaction.context.get('instrument_service_session')
        if key:
            web_user = Session.get_user(key)
            if not web_user:
                raise WrongActorError(gettext(
                        'instrument_service.msg_customer_session_invalid'))
            return Actor('customer', web_user, None, None)
        employees = User.get_employees()
        if order.engineer and order.engineer.id in employees:
            return Actor('engineer', None, order.engineer, transaction.user)
        for offer in order.offers:
            if offer.state == 'offered' and offer.engineer.id in employees:
                return Actor('engineer', None, offer.engineer,
                    transaction.user)
        staff_groups = {
            ModelData.get_id('instrument_service', 'group_dispatcher'),
            ModelData.get_id('instrument_service', 'group_admin'),
            }
        if transaction.user == 0 or staff_groups & set(User.get_groups()):
            return Actor('staff', None, None, transaction.user)
        return Actor(None, None, None, transaction.user)

    def available_transitions(self, ready=False):
        """Transitions leaving the current step that fit the order; with
        ready, only those whose proposal state allows them now"""
        if self.state in CLOSED_STATES or self.state == 'draft':
            return []
        return [t for t in self.workflow.transitions
            if t.from_step == self.step and t.matches(self)
            and (not ready or self._ready(t.action))]

    def _ready(self, action):
        "Whether a quote or a report waits for the customer, as action needs"
        quote, report = self.current_quote, self.current_report
        return ready(action, quote.state if quote else None,
            report.state if report else None)

    @classmethod
    def perform(cls, orders, action, values=None):
        """Move each order along its workflow by performing action.

        values holds the evidence: description, reason, photos (attachment
        ids), appointment, check_in (dict of time, latitude, longitude,
        accuracy, address), amount, report and ratings (dict of attitude,
        quality, overall, comment)."""
        Notice = Pool().get('instrument_service.notice')
        values = dict(values or {})
        if action not in dict(ACTIONS):
            raise StepNotAllowedError(gettext(
                    'instrument_service.msg_unknown_action', action=action))
        cls.lock(orders)
        records = []
        for order in orders:
            # Read again after the lock: another transaction may have won
            order = cls(order.id)
            actor = cls._actor(order)
            transition = order._find_transition(action, actor)
            evidence = order._check_evidence(transition, values)
            getattr(order, '_do_%s' % action)(transition, evidence, actor)
            record = order._write_progress(transition, evidence, actor)
            records.append(record)
            order.withdraw_notice(evidence.get('withdrawn', []))
            if actor.role == 'customer':
                Notice.notify_employees(record, 'customer_action',
                    [order.engineer],
                    'instrument_service.msg_notify_customer_action',
                    action=transition.action_string)
            else:
                Notice.notify_customer(record)
        return [r.id for r in records]

    def _find_transition(self, action, actor):
        action_string = dict(ACTIONS)[action]
        if self.state in CLOSED_STATES:
            raise StepNotAllowedError(gettext(
                    'instrument_service.msg_order_closed',
                    order=self.rec_name, state=self.state_string))
        if action == 'accept' and self.engineer:
            raise AlreadyTakenError(gettext(
                    'instrument_service.msg_order_already_taken',
                    order=self.rec_name))
        candidates = [t for t in self.available_transitions()
            if t.action == action]
        if not candidates:
            raise StepNotAllowedError(gettext(
                    'instrument_service.msg_action_not_allowed',
                    action=action_string, order=self.rec_name,
                    step=self.step.rec_name if self.step else '-'))
        transition = candidates[0]
        if actor.role != transition.actor:
            if transition.actor == 'engineer' and action == 'accept':
                message = 'instrument_service.msg_order_not_offered'
            elif transition.actor == 'engineer':
                message = 'instrument_service.msg_not_order_engineer'
            else:
                message = 'instrument_service.msg_wrong_actor'
            raise WrongActorError(gettext(message,
                    actor=transition.actor_string, action=action_string,
                    order=self.rec_name))
        if actor.role == 'customer' and actor.web_user != self.customer:
            raise WrongActorError(gettext(
                    'instrument_service.msg_not_order_customer',
                    order=self.rec_name))
        return transition

    def _check_evidence(self, transition, values):
        "Return the evidence of values that transition needs, or refuse"
        pool = Pool()
        Attachment = pool.get('ir.attachment')
        Progress = pool.get('instrument_service.order.progress')
        action = transition.action_string
        evidence = {}

        def missing(message, **variables):
            raise MissingEvidenceError(gettext(
                    'instrument_service.' + message, action=action,
                    **variables))

        def wrong_type(key):
            # Name the field as the progress record labels it
            missing('msg_evidence_type',
                field=Progress.__names__(key)['field'])

        def text(key):
            value = values.get(key)
            if value is not None and not isinstance(value, str):
                wrong_type(key)
            return (value or '').strip() or None

        evidence['description'] = text('description')
        if transition.require_description and not evidence['description']:
            missing('msg_evidence_description')
        evidence['reason'] = text('reason')
        if transition.require_reason and not evidence['reason']:
            missing('msg_evidence_reason')

        photo_ids = values.get('photos') or []
        if (not isinstance(photo_ids, (list, tuple))
                or not all(isinstance(i, int) for i in photo_ids)):
            wrong_type('photos')
        photos = Attachment.browse(sorted(set(photo_ids)))
        for photo in photos:
            if not photo.id in self._attachment_ids():
                missing('msg_photo_not_of_order', order=self.rec_name)
            if not _image_check(photo):
                missing('msg_photo_invalid', name=photo.name)
        if len(photos) < (transition.min_photos or 0):
            missing('msg_evidence_photos', count=transition.min_photos)
        evidence['photos'] = photos

        if transition.require_appointment:
            appointment = values.get('appointment')
            if not isinstance(appointment, dt.datetime):
                missing('msg_evidence_appointment')
            if appointment < self.submitted_at:
                missing('msg_appointment_before_submission')
            evidence['appointment'] = appointment

        check_in = values.get('check_in')
        if check_in or transition.require_check_in:
            evidence['check_in'] = self._check_check_in(check_in, action)

        if transition.require_amount:
            amount = values.get('amount')
            if isinstance(amount, (int, str)) and not isinstance(
                    amount, bool):
                try:
                    amount = Decimal(amount)
                except ArithmeticError:
                    amount = None
            if (not isinstance(amount, Decimal) or not amount.is_finite()
                    or amount <= 0):
                missing('msg_evidence_amount')
            if amount.as_tuple().exponent < -2:
                missing('msg_amount_decimals')
            evidence['amount'] = amount.quantize(Decimal('0.01'))

        if transition.require_report:
            evidence['report'] = text('report')
            if not evidence['report']:
                missing('msg_evidence_report')

        if transition.require_rating:
            ratings = values.get('ratings')
            if not isinstance(ratings, dict):
                missing('msg_evidence_rating')
            for key in ['attitude', 'quality', 'overall']:
                value = ratings.get(key)
                if (not isinstance(value, int) or isinstance(value, bool)
                        or not 1 <= value <= 5):
                    missing('msg_evidence_rating')
            comment = ratings.get('comment')
            if comment is not None and not isinstance(comment, str):
                wrong_type('rating_comment')
            evidence['ratings'] = ratings
        return evidence

    @staticmethod
    def _check_check_in(check_in, action):
        def invalid():
            raise MissingEvidenceError(gettext(
                    'instrument_service.msg_evidence_check_in',
                    action=action))
        if not isinstance(check_in, dict):
            invalid()
        time = check_in.get('time')
        numbers = [check_in.get(k)
            for k in ['latitude', 'longitude', 'accuracy']]
        if (not isinstance(time, dt.datetime)
                or not all(isinstance(n, (int, float, Decimal))
                    and not isinstance(n, bool) for n in numbers)):
            invalid()
        latitude, longitude, accuracy = map(float, numbers)
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180
                and 0 <= accuracy < 100000):
            raise MissingEvidenceError(gettext(
                    'instrument_service.msg_check_in_invalid'))
        address = check_in.get('address')
        if address is not None and not isinstance(address, str):
            invalid()
        return {
            'check_in_time': time,
            'latitude': latitude,
            'longitude': longitude,
            'accuracy': accuracy,
            'check_in_address': address,
            }

    @classmethod
    def add_photo(cls, orders, name, data):
        """Attach a photo to each order for use as step evidence and return
        the attachment ids; the order's engineer, its customer or staff only"""
        Attachment = Pool().get('ir.attachment')
        data = bytes(data or b'')
        if len(data) > MAX_FILE_SIZE:
            raise MissingEvidenceError(gettext(
                    'instrument_service.msg_file_too_large',
                    name=name, size=MAX_FILE_SIZE // (1024 * 1024)))
        if sniff(data) not in IMAGE_TYPES:
            raise MissingEvidenceError(gettext(
                    'instrument_service.msg_photo_invalid', name=name))
        attachments = []
        for order in orders:
            actor = cls._actor(order)
            if actor.role == 'customer' and actor.web_user != order.customer:
                raise WrongActorError(gettext(
                        'instrument_service.msg_not_order_customer',
                        order=order.rec_name))
            elif (actor.role == 'engineer' and order.engineer
                    and actor.employee != order.engineer):
                raise WrongActorError(gettext(
                        'instrument_service.msg_not_order_engineer',
                        order=order.rec_name, action=name))
            elif actor.role is None:
                raise WrongActorError(gettext(
                        'instrument_service.msg_not_order_engineer',
                        order=order.rec_name, action=name))
            attachments.append(Attachment(
                    name=name, type='data', data=data, resource=order))
        with without_check_access():
            Attachment.save(attachments)
        return [a.id for a in attachments]

    def _attachment_ids(self):
        "Attachments the engineer may cite as evidence on this order"
        ids = {a.id for a in self.attachments}
        for line in self.lines:
            ids.update(a.id for a in line.attachments)
        return ids

    def _write_progress(self, transition, evidence, actor):
        "Write the progress record of a transition and move the order"
        pool = Pool()
        Progress = pool.get('instrument_service.order.progress')
        Attachment = pool.get('ir.attachment')
        record = Progress(
            order=self, action=transition.action, transition=transition,
            from_step=self.step, to_step=transition.to_step,
            date=clock.now(),
            description=evidence.get('description'),
            reason=evidence.get('reason'),
            quote=evidence.get('quote'),
            report=evidence.get('report_record'),
            visit_mode=self.visit_mode if transition.action.startswith(
                'visit_') else None,
            appointment=evidence.get('appointment'),
            **evidence.get('check_in', {}),
            **actor.progress_values())
        self.step = transition.to_step
        if self.step.final:
            self.state = 'done'
        self.track_sla()
        proposals = [evidence[k] for k in ['quote', 'report_record']
            if evidence.get(k)]
        with without_check_access():
            for proposal in proposals:
                proposal.save()
            record.save()
            self.save()
            if evidence['photos']:
                Attachment.write(list(evidence['photos']), {
                        'resource': str(record),
                        })
            for proposal in proposals:
                if not proposal.progress:
                    proposal.progress = record
                    proposal.save()
        return record

    # One method per action: what the transition does besides moving
    def _do_accept(self, transition, evidence, actor):
        Engineer = Pool().get('instrument_service.engineer')
        profile = Engineer.search([('employee', '=', actor.employee.id)])
        if profile and profile[0].at_capacity():
            raise AtCapacityError(gettext(
                    'instrument_service.msg_engineer_at_capacity',
                    order=self.rec_name, count=profile[0].max_open_tasks))
        self.engineer = actor.employee
        self.state = 'in_progress'
        withdrawn = evidence['withdrawn'] = []
        for offer in self.offers:
            if offer.state == 'offered':
                if offer.engineer == actor.employee:
                    offer.state = 'accepted'
                else:
                    offer.state = 'withdrawn'
                    withdrawn.append(offer.engineer)
        with without_check_access():
            Offer = Pool().get('instrument_service.order.offer')
            Offer.save(list(self.offers))

    def _do_visit_onsite(self, transition, evidence, actor):
        self.visit_mode = 'onsite'
        self.appointment = evidence['appointment']

    def _do_visit_remote(self, transition, evidence, actor):
        self.visit_mode = 'remote'
        self.appointment = None

    def _do_submit_assessment(self, transition, evidence, actor):
        pass

    def _do_submit_quote(self, transition, evidence, actor):
        Quote = Pool().get('instrument_service.order.quote')
        current = self.current_quote
        if current and current.state == 'proposed':
            raise StepNotAllowedError(gettext(
                    'instrument_service.msg_quote_pending',
                    version=current.version))
        evidence['quote'] = Quote(
            order=self, version=current.version + 1 if current else 1,
            amount=evidence['amount'], plan=evidence['description'],
            state='proposed')

    def _answer(self, record, state, evidence):
        if not record or record.state != 'proposed':
            raise StepNotAllowedError(gettext(
                    'instrument_service.msg_nothing_to_answer',
                    order=self.rec_name))
        record.state = state
        record.reason = evidence.get('reason')
        with without_check_access():
            record.save()

    def _do_confirm_quote(self, transition, evidence, actor):
        self._answer(self.current_quote, 'confirmed', evidence)
        evidence['quote'] = self.current_quote

    def _do_reject_quote(self, transition, evidence, actor):
        self._answer(self.current_quote, 'rejected', evidence)
        evidence['quote'] = self.current_quote

    def _do_submit_report(self, transition, evidence, actor):
        Report = Pool().get('instrument_service.order.report')
        current = self.current_report
        evidence['report_record'] = Report(
            order=self, version=current.version + 1 if current else 1,
            content=evidence['report'], state='proposed')

    def _do_confirm_report(self, transition, evidence, actor):
        self._answer(self.current_report, 'confirmed', evidence)
        evidence['report_record'] = self.current_report

    def _do_reject_report(self, transition, evidence, actor):
        self._answer(self.current_report, 'rejected', evidence)
        evidence['report_record'] = self.current_report

    def _do_finish_remote(self, transition, evidence, actor):
        pass

    def _do_rate(self, transition, evidence, actor):
        ratings = evidence['ratings']
        self.rating_attitude = ratings['attitude']
        self.rating_quality = ratings['quality']
        self.rating_overall = ratings['overall']
        self.rating_comment = (ratings.get('comment') or '').strip() or None

    # ---- staff and customer actions outside the workflow -------------------

    @classmethod
    @ModelView.button_action('instrument_service.wizard_order_cancel')
    def cancel(cls, orders):
        pass

    @classmethod
    @ModelView.button_action('instrument_service.wizard_order_reassign')
    def reassign(cls, orders):
        pass

    @classmethod
    def do_cancel(cls, orders, reason):
        """Cancel orders: a customer before the work starts, staff at any
        time, always with a reason"""
        pool = Pool()
        Progress = pool.get('instrument_service.order.progress')
        Offer = pool.get('instrument_service.order.offer')
        Notice = pool.get('instrument_service.notice')
        orders = cls.browse(orders)
        cls.lock(orders)
        reason = (reason or '').strip() if isinstance(reason, str) else ''
        records, offers, notices = [], [], []
        for order in orders:
            actor = cls._actor(order)
            if order.state in CLOSED_STATES:
                raise StepNotAllowedError(gettext(
                        'instrument_service.msg_order_closed',
                        order=order.rec_name, state=order.state_string))
            if actor.role == 'customer':
                if actor.web_user != order.customer:
                    raise WrongActorError(gettext(
                            'instrument_service.msg_not_order_customer',
                            order=order.rec_name))
                if order.step and not order.step.customer_can_cancel:
                    raise StepNotAllowedError(gettext(
                            'instrument_service.msg_cancel_work_started',
                            order=order.rec_name))
            elif actor.role != 'staff':
                raise WrongActorError(gettext(
                        'instrument_service.msg_cancel_staff_only',
                        order=order.rec_name))
            if not reason:
                raise MissingEvidenceError(gettext(
                        'instrument_service.msg_cancel_reason',
                        order=order.rec_name))
            told = [order.engineer]
            for offer in order.offers:
                if offer.state == 'offered':
                    offer.state = 'withdrawn'
                    offers.append(offer)
                    told.append(offer.engineer)
            order.state = 'cancelled'
            order.cancel_reason = reason
            order.track_sla()
            record = Progress(
                order=order, action='cancel', date=clock.now(),
                from_step=order.step, to_step=order.step, reason=reason,
                **actor.progress_values())
            records.append(record)
            notices.append((told, record, actor))
        with without_check_access():
            cls.save(orders)
            Offer.save(offers)
            Progress.save(records)
        for employees, record, actor in notices:
            Notice.notify_employees(record, 'cancelled', employees,
                'instrument_service.msg_notify_cancelled')
            if actor.role == 'staff':
                Notice.notify_customer(record)

    @classmethod
    def decline(cls, orders, reason):
        "An engineer turns down the orders offered to them, with a reason"
        pool = Pool()
        Offer = pool.get('instrument_service.order.offer')
        Progress = pool.get('instrument_service.order.progress')
        reason = (reason or '').strip() if isinstance(reason, str) else ''
        orders = cls.browse(orders)
        cls.lock(orders)
        offers, records = [], []
        for order in orders:
            actor = cls._actor(order)
            open_offers = [o for o in order.offers
                if o.state == 'offered' and o.engineer == actor.employee]
            if actor.role != 'engineer' or not open_offers:
                raise WrongActorError(gettext(
                        'instrument_service.msg_order_not_offered',
                        order=order.rec_name))
            if not reason:
                raise MissingEvidenceError(gettext(
                        'instrument_service.msg_decline_reason',
                        order=order.rec_name))
            for offer in open_offers:
                offer.state = 'declined'
                offer.reason = reason
                offers.append(offer)
            records.append(Progress(
                    order=order, action='decline', date=clock.now(),
                    from_step=order.step, to_step=order.step, reason=reason,
                    **actor.progress_values()))
        with without_check_access():
            Offer.save(offers)
            Progress.save(records)
        for order in orders:
            if not any(o.state == 'offered' for o in order.offers):
                # Everyone offered declined: the dispatchers must act now
                order.escalate('msg_escalate_declined')

    @classmethod
    def do_reassign(cls, orders, employee, reason):
        "Give orders in progress to another engineer; staff only"
        pool = Pool()
        Progress = pool.get('instrument_service.order.progress')
        Offer = pool.get('instrument_service.order.offer')
        Engineer = pool.get('instrument_service.engineer')
        Notice = pool.get('instrument_service.notice')
        orders = cls.browse(orders)
        cls.lock(orders)
        records, offers, notices = [], [], []
        for order in orders:
            actor = cls._actor(order)
            if actor.role != 'staff':
                raise WrongActorError(gettext(
                        'instrument_service.msg_reassign_staff_only',
                        order=order.rec_name))
            Engineer.check_engineers([employee])
            if order.state != 'in_progress':
                raise StepNotAllowedError(gettext(
                        'instrument_service.msg_reassign_not_in_progress',
                        order=order.rec_name, state=order.state_string))
            if employee == order.engineer:
                raise StepNotAllowedError(gettext(
                        'instrument_service.msg_reassign_same',
                        order=order.rec_name))
            withdrawn = []
            for offer in order.offers:
                if offer.state in {'offered', 'accepted'}:
                    offer.state = 'withdrawn'
                    offers.append(offer)
                    withdrawn.append(offer.engineer)
            order.engineer = employee
            offers.append(Offer(
                    order=order, engineer=employee, state='accepted'))
            record = Progress(
                order=order, action='reassign', date=clock.now(),
                from_step=order.step, to_step=order.step,
                reason=(reason or '').strip() or None,
                description=employee.rec_name,
                **actor.progress_values())
            records.append(record)
            notices.append((withdrawn, employee, record))
        with without_check_access():
            cls.save(orders)
            Offer.save(offers)
            Progress.save(records)
        for withdrawn, employee, record in notices:
            Notice.notify_employees(record, 'withdrawn', withdrawn,
                'instrument_service.msg_notify_withdrawn')
            Notice.notify_employees(record, 'assigned', [employee],
                'instrument_service.msg_notify_assigned')
            Notice.notify_customer(record)


class Cancel(Wizard):
    __name__ = 'instrument_service.order.cancel'
    start = StateView(
        'instrument_service.order.cancel.start',
        'instrument_service.order_cancel_start_view_form', [
            Button("Back", 'end', 'tryton-cancel'),
            Button("Cancel Order", 'cancel', 'tryton-ok', default=True),
            ])
    cancel = StateTransition()

    def transition_cancel(self):
        Order = Pool().get('instrument_service.order')
        Order.do_cancel(list(self.records), self.start.reason)
        return 'end'


class CancelStart(ModelView):
    __name__ = 'instrument_service.order.cancel.start'
    reason = fields.Text("Reason", required=True)


class Reassign(Wizard):
    __name__ = 'instrument_service.order.reassign'
    start = StateView(
        'instrument_service.order.reassign.start',
        'instrument_service.order_reassign_start_view_form', [
            Button("Back", 'end', 'tryton-cancel'),
            Button("Reassign", 'reassign', 'tryton-ok', default=True),
            ])
    reassign = StateTransition()

    def transition_reassign(self):
        Order = Pool().get('instrument_service.order')
        Order.do_reassign(
            list(self.records), self.start.engineer, self.start.reason)
        return 'end'


class ReassignStart(ModelView):
    __name__ = 'instrument_service.order.reassign.start'
    engineer = fields.Many2One(
        'company.employee', "Engineer", required=True)
    reason = fields.Text("Reason")
