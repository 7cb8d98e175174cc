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
from .filetype import DOCUMENT_TYPES, IMAGE_TYPES, sniff
from . import clock
from .order import CLOSED_STATES, MAX_FILE_SIZE
from .progress import COORDINATE_SYSTEMS
from .view import available_transitions, labels
from .workflow import ACTIONS, RATING_FIELDS, evidence_fields


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

    def available_transitions(self, check_ready=True):
        """The transitions that leave the current step and fit the order
        now (view.available_transitions), as records; without check_ready,
        also those that wait for the customer's answer to a proposal"""
        Transition = Pool().get('instrument_service.workflow.transition')
        if self.state in CLOSED_STATES or self.state == 'draft':
            return []
        Workflow = Pool().get('instrument_service.workflow')
        quote, report = self.current_quote, self.current_report
        return Transition.browse([t['id'] for t in available_transitions(
                    Workflow.definition(self.workflow.id),
                    self.step.id if self.step else None, self.visit_mode,
                    quote.state if quote else None,
                    report.state if report else None, check_ready)])

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
        Transition = Pool().get('instrument_service.workflow.transition')
        # In the caller's language, as every word of a message
        action_string = labels(Transition, 'action')[action]
        if self.state in CLOSED_STATES:
            raise StepNotAllowedError(gettext(
                    'instrument_service.msg_order_closed',
                    order=self.rec_name, state=self.state_string))
        if action == 'accept' and self.engineer:
            raise AlreadyTakenError(gettext(
                    'instrument_service.msg_order_already_taken',
                    order=self.rec_name))
        # Readiness is checked by the action, which says why not
        candidates = [t for t in self.available_transitions(False)
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
        """Return the evidence of values that transition takes, or refuse
        it, naming the fields in error: what the transition takes and
        requires is workflow.evidence_fields, nothing else is kept"""
        pool = Pool()
        Workflow = pool.get('instrument_service.workflow')
        Progress = pool.get('instrument_service.order.progress')
        definition = next(t for t in Workflow.definition(
                self.workflow.id)['transitions'] if t['id'] == transition.id)
        action = labels(type(transition), 'action')[transition.action]
        fields = {f['name']: f for f in evidence_fields(definition)}
        evidence = {'photos': [], 'files': []}

        def refuse(name, code, message, **variables):
            raise MissingEvidenceError(gettext(
                    'instrument_service.' + message, action=action,
                    **variables), fields={name: code})

        def wrong_type(name, key=None):
            # Name the field as the progress record labels it
            refuse(name, 'type', 'msg_evidence_type',
                field=Progress.__names__(key or name)['field'])

        def text(name, source=values):
            value = source.get(name)
            if value is not None and not isinstance(value, str):
                wrong_type(name, 'rating_comment' if name == 'comment'
                    else None)
            value = (value or '').strip() or None
            if fields[name]['required'] and not value:
                refuse(name, 'required', 'msg_evidence_' + name)
            return value

        for name in ['description', 'reason', 'report']:
            evidence[name] = text(name) if name in fields else None

        for name in ['photos', 'files']:
            if name in fields:
                evidence[name] = self._check_files(
                    name, values.get(name) or [], fields[name], action)

        if 'appointment' in fields:
            appointment = values.get('appointment')
            if appointment is not None and not isinstance(
                    appointment, dt.datetime):
                wrong_type('appointment')
            if fields['appointment']['required'] and not appointment:
                refuse('appointment', 'required',
                    'msg_evidence_appointment')
            # To the minute, as the form's minimum is published and an
            # appointment is picked (the submission's minute is allowed)
            if appointment and appointment < self.submitted_at.replace(
                    second=0, microsecond=0):
                refuse('appointment', 'minimum',
                    'msg_appointment_before_submission')
            evidence['appointment'] = appointment

        if 'check_in' in fields:
            check_in = values.get('check_in')
            if check_in or fields['check_in']['required']:
                evidence['check_in'] = self._check_check_in(
                    check_in, action)

        if 'amount' in fields:
            amount = values.get('amount')
            if isinstance(amount, (int, str)) and not isinstance(
                    amount, bool):
                try:
                    amount = Decimal(amount)
                except ArithmeticError:
                    amount = None
            if amount is not None or fields['amount']['required']:
                if (not isinstance(amount, Decimal)
                        or not amount.is_finite() or amount <= 0):
                    refuse('amount', 'exclusive_minimum',
                        'msg_evidence_amount')
                if amount.as_tuple().exponent < -2:
                    refuse('amount', 'pattern', 'msg_amount_decimals')
                evidence['amount'] = amount.quantize(Decimal('0.01'))

        if 'overall' in fields:
            ratings = values.get('ratings')
            if ratings is None:
                ratings = {}
            if not isinstance(ratings, dict):
                refuse('overall', 'required', 'msg_evidence_rating')
            for name in RATING_FIELDS:
                value = ratings.get(name)
                if value is None and not fields[name]['required']:
                    continue
                if (not isinstance(value, int) or isinstance(value, bool)
                        or not 1 <= value <= 5):
                    refuse(name, 'required' if value is None else 'maximum',
                        'msg_evidence_rating')
            evidence['ratings'] = {
                **{name: ratings.get(name) for name in RATING_FIELDS},
                'comment': text('comment', ratings),
                }
        return evidence

    def _check_files(self, name, ids, field, action):
        """The attachments ids (photos or files) of a step, in the order
        given: uploads of the order's engineer for its steps, photos being
        images, at least and at most as many as field says"""
        Attachment = Pool().get('ir.attachment')

        def refuse(code, message, **variables):
            raise MissingEvidenceError(gettext(
                    'instrument_service.' + message, action=action,
                    **variables), fields={name: code})
        if (not isinstance(ids, (list, tuple))
                or not all(isinstance(i, int) and not isinstance(i, bool)
                    for i in ids)):
            refuse('type', 'msg_evidence_type', field=name)
        ids = list(dict.fromkeys(ids))
        staged = self._staged_uploads()
        if any(i not in staged for i in ids):
            refuse('not_found', 'msg_photo_not_of_order',
                order=self.rec_name)
        attachments = Attachment.browse(ids)
        if name == 'photos':
            for photo in attachments:
                if not _image_check(photo):
                    refuse('images_only', 'msg_photo_invalid',
                        name=photo.name)
        if len(attachments) < field['min_items']:
            refuse('min_items', 'msg_evidence_' + name,
                count=field['min_items'])
        if len(attachments) > field['max_items']:
            refuse('max_items', 'msg_evidence_too_many',
                count=field['max_items'])
        return attachments

    @staticmethod
    def _check_check_in(check_in, action):
        "The values of an on-site check-in (打卡), or refuse it"
        def invalid(name='check_in', code='required',
                message='msg_evidence_check_in'):
            raise MissingEvidenceError(gettext(
                    'instrument_service.' + message, action=action),
                fields={name: code})
        if not isinstance(check_in, dict):
            invalid()
        time = check_in.get('time')
        if not isinstance(time, dt.datetime):
            invalid('check_in.time', 'required' if time is None else 'type')
        numbers = {}
        for name, low, high in [('latitude', -90, 90),
                ('longitude', -180, 180), ('accuracy', 0, 100000)]:
            value = check_in.get(name)
            if (not isinstance(value, (int, float, Decimal))
                    or isinstance(value, bool)):
                invalid('check_in.' + name,
                    'required' if value is None else 'type')
            # An accuracy of 100 km is no position
            if not low <= float(value) <= high or (
                    name == 'accuracy' and float(value) >= high):
                invalid('check_in.' + name, 'maximum',
                    'msg_check_in_invalid')
            numbers[name] = float(value)
        address = check_in.get('address')
        if address is not None and not isinstance(address, str):
            invalid('check_in.address', 'type')
        system = check_in.get('coordinate_system')
        if system is not None and system not in dict(COORDINATE_SYSTEMS):
            invalid('check_in.coordinate_system', 'choice')
        return {
            'check_in_time': time,
            'latitude': numbers['latitude'],
            'longitude': numbers['longitude'],
            'accuracy': numbers['accuracy'],
            'check_in_address': (address or '').strip() or None,
            'coordinate_system': system,
            }

    @classmethod
    def add_photo(cls, orders, name, data):
        """Attach a photo to each order for use as step evidence and return
        the attachment ids; the order's engineer, its customer or staff
        only"""
        return cls.add_upload(orders, name, data, images_only=True)

    @classmethod
    def add_upload(cls, orders, name, data, images_only=False):
        """Attach a photo or a document (PDF, Word, Excel) to each order for
        use as the evidence of a later step and return the attachment ids;
        the order's engineer or staff only"""
        Attachment = Pool().get('ir.attachment')
        data = bytes(data or b'')
        if len(data) > MAX_FILE_SIZE:
            raise MissingEvidenceError(gettext(
                    'instrument_service.msg_file_too_large',
                    name=name, size=MAX_FILE_SIZE // (1024 * 1024)),
                fields={'file': 'max_size'})
        accepted = IMAGE_TYPES if images_only else (
            IMAGE_TYPES | DOCUMENT_TYPES)
        if sniff(data) not in accepted:
            raise MissingEvidenceError(gettext(
                    'instrument_service.msg_photo_invalid' if images_only
                    else 'instrument_service.msg_upload_invalid',
                    name=name), fields={'file': 'type'})
        attachments = []
        for order in orders:
            actor = cls._actor(order)
            if actor.role == 'staff':
                pass
            elif (actor.role != 'engineer'
                    or actor.employee != order.engineer):
                raise WrongActorError(gettext(
                        'instrument_service.msg_not_order_engineer',
                        order=order.rec_name, action=name))
            attachments.append(Attachment(
                    name=name, type='data', data=data, resource=order,
                    service_use='upload'))
        with without_check_access():
            Attachment.save(attachments)
        return [a.id for a in attachments]

    def _staged_uploads(self):
        """The ids of the uploads of the order not yet part of a step: what
        a step may cite as its photos and files"""
        Attachment = Pool().get('ir.attachment')
        return {a.id for a in Attachment.search([
                    ('resource', '=', str(self)),
                    ('service_use', '=', 'upload'),
                    ])}

    def _write_progress(self, transition, evidence, actor, action=None):
        """Write the progress record of a transition (of action when it is
        not the transition's own: a dispatcher's assignment) and move the
        order"""
        pool = Pool()
        Progress = pool.get('instrument_service.order.progress')
        Attachment = pool.get('ir.attachment')
        record = Progress(
            order=self, action=action or transition.action,
            transition=transition,
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
            # The files of the step, in the order the engineer chose
            for use, attachments in [('photo', evidence['photos']),
                    ('file', evidence['files'])]:
                for sequence, attachment in enumerate(attachments, 1):
                    Attachment.write([attachment], {
                            'resource': str(record),
                            'service_use': use,
                            'sequence': sequence,
                            })
            for proposal in proposals:
                if not proposal.progress:
                    proposal.progress = record
                    proposal.save()
        return record

    # One method per action: what the transition does besides moving
    def _do_accept(self, transition, evidence, actor):
        evidence['withdrawn'] = self.take(actor.employee)

    def take(self, employee, override_capacity=False):
        """Give the order to employee: the one way an order gets its
        engineer, whether the engineer accepts it, a dispatcher assigns it
        or reassigns it. The engineer's capacity is checked unless the
        dispatcher overrides it (override_capacity). The offers of the
        others are withdrawn; return their engineers. The caller moves the
        order's step and records the event."""
        pool = Pool()
        Engineer = pool.get('instrument_service.engineer')
        Offer = pool.get('instrument_service.order.offer')
        if not override_capacity:
            profile = Engineer.search([('employee', '=', employee.id)])
            if profile and profile[0].at_capacity():
                raise AtCapacityError(gettext(
                        'instrument_service.msg_engineer_at_capacity',
                        order=self.rec_name,
                        count=profile[0].max_open_tasks))
        withdrawn, offers = [], []
        for offer in self.offers:
            if offer.engineer == employee and offer.state == 'offered':
                offer.state = 'accepted'
                offers.append(offer)
            elif offer.engineer != employee and offer.state in {
                    'offered', 'accepted'}:
                offer.state = 'withdrawn'
                offers.append(offer)
                withdrawn.append(offer.engineer)
        if not any(o.engineer == employee and o.state == 'accepted'
                for o in self.offers):
            offers.append(Offer(order=self, engineer=employee,
                    state='accepted'))
        self.engineer = employee
        if self.state == 'submitted':
            self.state = 'in_progress'
        with without_check_access():
            Offer.save(offers)
        return withdrawn

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
                        order=order.rec_name), fields={'reason': 'required'})
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
                        order=order.rec_name), fields={'reason': 'required'})
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
    def do_reassign(cls, orders, employee, reason, override_capacity=False):
        """Give orders in progress to another engineer, at capacity only
        with override_capacity; staff only"""
        pool = Pool()
        Progress = pool.get('instrument_service.order.progress')
        Engineer = pool.get('instrument_service.engineer')
        Notice = pool.get('instrument_service.notice')
        orders = cls.browse(orders)
        cls.lock(orders)
        records, notices = [], []
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
            withdrawn = order.take(employee, override_capacity)
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
            list(self.records), self.start.engineer, self.start.reason,
            override_capacity=self.start.override_capacity)
        return 'end'


class ReassignStart(ModelView):
    __name__ = 'instrument_service.order.reassign.start'
    engineer = fields.Many2One(
        'company.employee', "Engineer", required=True)
    override_capacity = fields.Boolean(
        "Beyond Capacity",
        help="Give the order to the engineer even if they have as many "
        "orders in progress as they may have.")
    reason = fields.Text("Reason")
