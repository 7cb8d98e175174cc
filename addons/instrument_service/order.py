# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
import datetime as dt
from collections import namedtuple
from decimal import Decimal
from zoneinfo import ZoneInfo

from trytond.i18n import gettext
from trytond.model import (
    ChatMixin, Index, ModelSQL, ModelView, Unique, fields)
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.rpc import RPC
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import (
    AlreadyTakenError, MissingEvidenceError, OrderValidationError,
    StepNotAllowedError, WrongActorError)
from .filetype import IMAGE_TYPES, sniff
from .order_type import LINE_FIELDS, ORDER_TYPES, REQUIRED
from .workflow import ACTIONS, VISIT_MODES, render

STATES = [
    ('draft', "Draft"),
    ('submitted', "Waiting for Engineer"),
    ('in_progress', "In Progress"),
    ('done', "Completed"),
    ('cancelled', "Cancelled"),
    ]
CLOSED_STATES = {'done', 'cancelled'}
VALIDATION_CATEGORIES = [
    ('iq', "IQ Installation Qualification"),
    ('oq', "OQ Operational Qualification"),
    ('pq', "PQ Performance Qualification"),
    ]
CONTACT_FIELDS = [
    'contact_name', 'contact_company', 'contact_department',
    'contact_position', 'contact_phone', 'contact_address', 'contact_email']
REQUIRED_CONTACT_FIELDS = ['contact_name', 'contact_company', 'contact_phone']
DEFAULT_TIMEZONE = 'Asia/Shanghai'
# A mini-program uploads one file of at most 10 MB per request
MAX_FILE_SIZE = 10 * 1024 * 1024


class Actor(namedtuple('Actor', ['role', 'web_user', 'employee', 'user'])):
    "Who calls the engine: a role and the web user or employee behind it"
    __slots__ = ()

    def progress_values(self):
        return {
            'actor_role': self.role or 'staff',
            'actor_customer': self.web_user,
            'actor_user': self.user,
            }


_STATES_DRAFT = {'readonly': Eval('state') != 'draft'}


def _image_check(attachment):
    return attachment.type == 'data' and sniff(attachment.data) in IMAGE_TYPES


class Order(ChatMixin, ModelSQL, ModelView):
    __name__ = 'instrument_service.order'
    _rec_name = 'number'

    company = fields.Many2One(
        'company.company', "Company", required=True, states=_STATES_DRAFT)
    number = fields.Char(
        "Task ID", readonly=True,
        help="Unique, sequential identifier given on submission.")
    name = fields.Char(
        "Task Name", readonly=True,
        help="Readable summary generated on submission.")
    submitted_at = fields.DateTime("Submitted at", readonly=True)
    type = fields.Selection(
        ORDER_TYPES, "Order Type", required=True, states=_STATES_DRAFT,
        sort=False)
    type_string = type.translated('type')
    workflow = fields.Many2One(
        'instrument_service.workflow', "Workflow", readonly=True)
    state = fields.Selection(
        STATES, "State", readonly=True, required=True, sort=False)
    state_string = state.translated('state')
    step = fields.Many2One(
        'instrument_service.workflow.step', "Current Step", readonly=True)
    hint = fields.Function(fields.Text("Customer Hint"), 'get_progress')
    progress_summary = fields.Function(
        fields.Text("Customer Progress"), 'get_progress')

    customer = fields.Many2One(
        'web.user', "Customer Account", states=_STATES_DRAFT,
        ondelete='RESTRICT')
    party = fields.Many2One(
        'party.party', "Customer Company", readonly=True,
        ondelete='RESTRICT',
        context={'company': Eval('company', -1)}, depends={'company'},
        help="Found or created from the company name of the contact.")
    contact_name = fields.Char("Contact Name", states=_STATES_DRAFT)
    contact_company = fields.Char("Company Name", states=_STATES_DRAFT)
    contact_department = fields.Char("Department", states=_STATES_DRAFT)
    contact_position = fields.Char("Position", states=_STATES_DRAFT)
    contact_phone = fields.Char("Phone", states=_STATES_DRAFT)
    contact_address = fields.Text("Address", states=_STATES_DRAFT)
    contact_email = fields.Char("Email", states=_STATES_DRAFT)

    lines = fields.One2Many(
        'instrument_service.order.line', 'order', "Instruments",
        states=_STATES_DRAFT)
    attachments = fields.One2Many(
        'ir.attachment', 'resource', "Attachments")

    engineer = fields.Many2One(
        'company.employee', "Engineer", readonly=True,
        domain=[('company', '=', Eval('company', -1))])
    offers = fields.One2Many(
        'instrument_service.order.offer', 'order', "Offers", readonly=True)
    visit_mode = fields.Selection(VISIT_MODES, "Visit Mode", readonly=True)
    appointment = fields.DateTime("Appointment", readonly=True)
    progress = fields.One2Many(
        'instrument_service.order.progress', 'order', "Progress",
        readonly=True)
    quotes = fields.One2Many(
        'instrument_service.order.quote', 'order', "Quotes", readonly=True)
    reports = fields.One2Many(
        'instrument_service.order.report', 'order', "Reports", readonly=True)
    quote_amount = fields.Function(
        fields.Numeric("Quote", digits=(16, 2)), 'get_quote_amount')
    rating_attitude = fields.Integer("Service Attitude", readonly=True)
    rating_quality = fields.Integer("Service Quality", readonly=True)
    rating_overall = fields.Integer("Overall", readonly=True)
    rating_comment = fields.Text("Rating Comment", readonly=True)
    cancel_reason = fields.Text("Cancellation Reason", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('number_unique', Unique(t, t.number),
                'instrument_service.msg_order_number_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.customer, Index.Range())),
                Index(t, (t.engineer, Index.Range())),
                Index(t, (t.submitted_at, Index.Range(order='DESC'))),
                })
        cls._order = [
            ('submitted_at', 'DESC NULLS FIRST'),
            ('id', 'DESC'),
            ]
        cls.__rpc__.update({
                'perform': RPC(readonly=False, instantiate=0),
                'progress_view': RPC(instantiate=0),
                'add_photo': RPC(readonly=False, instantiate=0),
                })
        cls._buttons.update({
                'submit': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': Eval('state').in_(list(CLOSED_STATES)),
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                'reassign': {
                    'invisible': Eval('state').in_(
                        ['draft', 'done', 'cancelled']),
                    'icon': 'tryton-refresh',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_type(cls):
        return 'repair'

    def get_rec_name(self, name):
        return self.number or self.name or '(%s)' % self.id

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause[:3]
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('number', operator, value),
            ('name', operator, value),
            ('contact_company', operator, value),
            ]

    def get_quote_amount(self, name):
        quote = self.current_quote
        return quote.amount if quote else None

    @classmethod
    def get_progress(cls, orders, names):
        "The customer's view of the progress, for the back office"
        marks = {'done': '✓', 'current': '▶', 'skipped': '–', 'todo': '○'}
        result = {name: {} for name in names}
        for order in orders:
            view = order.progress_view()
            if 'hint' in names:
                result['hint'][order.id] = view['hint']
            if 'progress_summary' in names:
                result['progress_summary'][order.id] = '\n'.join(
                    '%s %s' % (marks[s['status']], s['name'])
                    for s in view['steps'])
        return result

    @property
    def current_quote(self):
        if self.quotes:
            return max(self.quotes, key=lambda q: q.version)

    @property
    def current_report(self):
        if self.reports:
            return max(self.reports, key=lambda r: r.version)

    @classmethod
    def copy(cls, orders, default=None):
        default = default.copy() if default is not None else {}
        for fname in ['number', 'name', 'submitted_at', 'workflow', 'step',
                'party', 'engineer', 'visit_mode', 'appointment',
                'rating_attitude', 'rating_quality', 'rating_overall',
                'rating_comment', 'cancel_reason']:
            default.setdefault(fname, None)
        for fname in ['offers', 'progress', 'quotes', 'reports',
                'attachments']:
            default.setdefault(fname, [])
        default.setdefault('state', 'draft')
        return super().copy(orders, default=default)

    @classmethod
    def delete(cls, orders):
        for order in orders:
            if order.state != 'draft':
                raise AccessError(gettext(
                        'instrument_service.msg_order_delete_submitted',
                        order=order.rec_name))
        super().delete(orders)

    # ---- submission -------------------------------------------------------

    def check_complete(self):
        "Refuse an order whose contact or instrument lines are incomplete"
        for fname in REQUIRED_CONTACT_FIELDS:
            if not (getattr(self, fname) or '').strip():
                raise OrderValidationError(gettext(
                        'instrument_service.msg_order_contact_required',
                        field=self.__names__(fname)['field']))
        if not self.lines:
            raise OrderValidationError(gettext(
                    'instrument_service.msg_order_no_lines',
                    order=self.rec_name))
        for line in self.lines:
            line.check_complete()

    def compute_name(self):
        line = self.lines[0]
        instrument = ' '.join(filter(None, [
                    line.instrument_name, line.brand, line.model]))
        if len(self.lines) > 1:
            instrument = gettext(
                'instrument_service.msg_order_name_more',
                name=instrument, count=len(self.lines) - 1)
        return ' · '.join(filter(None, [
                    self.type_string, instrument, self.contact_company]))

    @classmethod
    @ModelView.button
    def submit(cls, orders):
        pool = Pool()
        Workflow = pool.get('instrument_service.workflow')
        Party = pool.get('party.party')
        Sequence = pool.get('ir.sequence')
        ModelData = pool.get('ir.model.data')
        Engineer = pool.get('instrument_service.engineer')
        Offer = pool.get('instrument_service.order.offer')
        Progress = pool.get('instrument_service.order.progress')

        sequence = Sequence(ModelData.get_id(
                'instrument_service', 'sequence_order'))
        now = dt.datetime.now()
        cls.lock(orders)
        offers, records = [], []
        for order in orders:
            if order.state != 'draft':
                raise StepNotAllowedError(gettext(
                        'instrument_service.msg_order_not_draft',
                        order=order.rec_name))
            order.check_complete()
            workflow = Workflow.for_type(order.type)
            if not workflow:
                raise StepNotAllowedError(gettext(
                        'instrument_service.msg_no_workflow',
                        type=order.type_string))
            actor = cls._actor(order)
            order.workflow = workflow
            order.number = sequence.get()
            order.name = order.compute_name()
            order.submitted_at = now
            order.state = 'submitted'
            order.party = Party.find_or_create_company(order.contact_company)
            for engineer in Engineer.qualified_for(order):
                offers.append(Offer(order=order, engineer=engineer.employee))
            records.append(Progress(
                    order=order, action='submit', date=now,
                    to_step=None, **actor.progress_values()))
        with without_check_access():
            cls.save(orders)
            Offer.save(offers)
            Progress.save(records)

    # ---- the engine --------------------------------------------------------

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
        quote_pending = bool(quote and quote.state == 'proposed')
        report_pending = bool(report and report.state == 'proposed')
        return {
            'submit_quote': not quote_pending,
            'confirm_quote': quote_pending,
            'reject_quote': quote_pending,
            'confirm_report': report_pending,
            'reject_report': report_pending,
            }.get(action, True)

    @classmethod
    def perform(cls, orders, action, values=None):
        """Move each order along its workflow by performing action.

        values holds the evidence: description, reason, photos (attachment
        ids), appointment, check_in (dict of time, latitude, longitude,
        accuracy, address), amount, report and ratings (dict of attitude,
        quality, overall, comment)."""
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
            records.append(order._write_progress(transition, evidence, actor))
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
        Attachment = Pool().get('ir.attachment')
        action = transition.action_string
        evidence = {}

        def text(key):
            value = values.get(key)
            if value is not None and not isinstance(value, str):
                raise MissingEvidenceError(gettext(
                        'instrument_service.msg_evidence_type',
                        field=key, action=action))
            return (value or '').strip() or None

        def missing(message, **variables):
            raise MissingEvidenceError(gettext(
                    'instrument_service.' + message, action=action,
                    **variables))

        evidence['description'] = text('description')
        if transition.require_description and not evidence['description']:
            missing('msg_evidence_description')
        evidence['reason'] = text('reason')
        if transition.require_reason and not evidence['reason']:
            missing('msg_evidence_reason')

        photo_ids = values.get('photos') or []
        if (not isinstance(photo_ids, (list, tuple))
                or not all(isinstance(i, int) for i in photo_ids)):
            missing('msg_evidence_type', field='photos')
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
                missing('msg_evidence_type', field='comment')
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
            date=dt.datetime.now(),
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
        self.engineer = actor.employee
        self.state = 'in_progress'
        for offer in self.offers:
            if offer.state == 'offered':
                offer.state = (
                    'accepted' if offer.engineer == actor.employee
                    else 'withdrawn')
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
        orders = cls.browse(orders)
        cls.lock(orders)
        reason = (reason or '').strip()
        records = []
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
            for offer in order.offers:
                if offer.state == 'offered':
                    offer.state = 'withdrawn'
            order.state = 'cancelled'
            order.cancel_reason = reason
            records.append(Progress(
                    order=order, action='cancel', date=dt.datetime.now(),
                    from_step=order.step, to_step=order.step, reason=reason,
                    **actor.progress_values()))
        with without_check_access():
            cls.save(orders)
            Progress.save(records)

    @classmethod
    def do_reassign(cls, orders, employee, reason):
        "Give orders to another engineer; staff only"
        pool = Pool()
        Progress = pool.get('instrument_service.order.progress')
        Offer = pool.get('instrument_service.order.offer')
        Engineer = pool.get('instrument_service.engineer')
        orders = cls.browse(orders)
        cls.lock(orders)
        records, offers = [], []
        for order in orders:
            actor = cls._actor(order)
            if actor.role != 'staff':
                raise WrongActorError(gettext(
                        'instrument_service.msg_reassign_staff_only',
                        order=order.rec_name))
            if not Engineer.search([('employee', '=', employee.id)]):
                raise StepNotAllowedError(gettext(
                        'instrument_service.msg_not_an_engineer',
                        employee=employee.rec_name))
            if order.state in CLOSED_STATES or order.state == 'draft':
                raise StepNotAllowedError(gettext(
                        'instrument_service.msg_order_closed',
                        order=order.rec_name, state=order.state_string))
            if employee == order.engineer:
                raise StepNotAllowedError(gettext(
                        'instrument_service.msg_reassign_same',
                        order=order.rec_name))
            for offer in order.offers:
                if offer.state in {'offered', 'accepted'}:
                    offer.state = 'withdrawn'
                    offers.append(offer)
            if order.step:
                # Already accepted: the new engineer takes over at once
                order.engineer = employee
                offers.append(Offer(
                        order=order, engineer=employee, state='accepted'))
            else:
                # Not yet accepted: offer it to that engineer only
                offers.append(Offer(
                        order=order, engineer=employee, state='offered'))
            records.append(Progress(
                    order=order, action='reassign', date=dt.datetime.now(),
                    from_step=order.step, to_step=order.step,
                    reason=(reason or '').strip() or None,
                    description=employee.rec_name,
                    **actor.progress_values()))
        with without_check_access():
            cls.save(orders)
            Offer.save(offers)
            Progress.save(records)

    # ---- the customer-facing progress view ---------------------------------

    def timezone(self):
        return ZoneInfo(
            getattr(self.company, 'timezone', None) or DEFAULT_TIMEZONE)

    def format_datetime(self, value):
        "Format a stored (UTC) datetime in the company's timezone"
        if not value:
            return ''
        local = value.replace(tzinfo=dt.timezone.utc).astimezone(
            self.timezone())
        return gettext(
            'instrument_service.msg_datetime_format').format(date=local)

    def hint_variables(self):
        quote = self.current_quote
        amount = ''
        if quote:
            # 1000.00 reads 1000元, 1000.50 keeps its cents
            amount = str(quote.amount.normalize()
                if quote.amount == quote.amount.to_integral_value()
                else quote.amount)
            if 'E' in amount:
                amount = str(quote.amount.to_integral_value())
        return {
            'noun': self.workflow.work_noun if self.workflow else '',
            'appointment': self.format_datetime(self.appointment),
            'amount': amount,
            'engineer': self.engineer.rec_name if self.engineer else '',
            }

    def progress_view(self):
        """What the customer sees of the order: every step with its status
        (done, current, skipped, todo), the records of the steps reached,
        the rendered hint of the current step and what can be done next.

        The API and the back office both show this."""
        variables = self.hint_variables()
        records = {}
        for record in sorted(self.progress, key=lambda r: (r.date, r.id)):
            if record.to_step:
                records.setdefault(record.to_step.id, []).append(
                    record.view(variables))
        steps = []
        current = self.step
        workflow_steps = self.workflow.steps if self.workflow else []
        for step in workflow_steps:
            if current and step.sequence < current.sequence:
                status = 'done' if step.id in records else 'skipped'
            elif current and step == current:
                status = 'done' if step.final else 'current'
            else:
                status = 'todo'
            steps.append({
                    'id': step.id,
                    'code': step.code,
                    'name': step.render_name(variables),
                    'status': status,
                    'hint': (step.render_hint(variables, self.visit_mode)
                        if step == current else None),
                    'records': records.get(step.id, []),
                    })
        if self.state == 'cancelled':
            hint = gettext('instrument_service.msg_hint_cancelled',
                reason=self.cancel_reason or '')
        elif self.state == 'draft':
            hint = gettext('instrument_service.msg_hint_draft')
        elif not current:
            hint = gettext('instrument_service.msg_hint_waiting')
        else:
            hint = current.render_hint(variables, self.visit_mode)
        quote = self.current_quote
        report = self.current_report
        return {
            'id': self.id,
            'number': self.number,
            'name': self.name,
            'type': self.type,
            'state': self.state,
            'submitted_at': self.submitted_at,
            'visit_mode': self.visit_mode,
            'appointment': self.appointment,
            'engineer': self.engineer.rec_name if self.engineer else None,
            'current_step': current.code if current else None,
            'hint': hint,
            'steps': steps,
            'actions': [{
                    'action': t.action,
                    'actor': t.actor,
                    'button': render(t.button, variables) or t.action_string,
                    } for t in self.available_transitions(ready=True)],
            'quote': quote.view() if quote else None,
            'report': report.view() if report else None,
            'rating': {
                'attitude': self.rating_attitude,
                'quality': self.rating_quality,
                'overall': self.rating_overall,
                'comment': self.rating_comment,
                } if self.rating_overall else None,
            }


class OrderLine(ModelSQL, ModelView):
    __name__ = 'instrument_service.order.line'

    order = fields.Many2One(
        'instrument_service.order', "Order", required=True,
        ondelete='CASCADE')
    order_type = fields.Function(
        fields.Selection(ORDER_TYPES, "Order Type"),
        'on_change_with_order_type')
    instrument_name = fields.Char(
        "Instrument Name or Purpose",
        help="For a selection order, the purpose or the name of the "
        "instrument sought.")
    category = fields.Char("Instrument Type")
    brand = fields.Char("Brand")
    model = fields.Char("Model")
    quantity = fields.Integer(
        "Quantity", domain=[
            If(Bool(Eval('quantity')), ('quantity', '>=', 1), ())])
    fault_description = fields.Text("Fault Description")
    appointment_time = fields.DateTime("Appointment Time")
    validation_categories = fields.MultiSelection(
        VALIDATION_CATEGORIES, "Validation Categories", sort=False)
    requirement = fields.Text("Requirement Description")
    attachments = fields.One2Many(
        'ir.attachment', 'resource', "Photos and Documents")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('order')

    @classmethod
    def default_quantity(cls):
        return 1

    @fields.depends('order', '_parent_order.type')
    def on_change_with_order_type(self, name=None):
        return self.order.type if self.order else None

    def get_rec_name(self, name):
        return ' '.join(filter(None, [
                    self.instrument_name, self.brand, self.model]))

    def check_complete(self):
        "Check the line against the form of its order's type"
        order_type = self.order.type
        for fname, need in LINE_FIELDS[order_type].items():
            if fname in {'photos', 'attachments'}:
                continue
            value = getattr(self, fname)
            if isinstance(value, str):
                value = value.strip()
            if need == REQUIRED and not value:
                raise OrderValidationError(gettext(
                        'instrument_service.msg_line_field_required',
                        field=self.__names__(fname)['field'],
                        type=self.order.type_string))
        if 'quantity' in LINE_FIELDS[order_type] and (
                self.quantity is None or self.quantity < 1):
            raise OrderValidationError(gettext(
                    'instrument_service.msg_line_quantity_positive',
                    line=self.rec_name))


class OrderOffer(ModelSQL, ModelView):
    __name__ = 'instrument_service.order.offer'

    order = fields.Many2One(
        'instrument_service.order', "Order", required=True,
        ondelete='CASCADE')
    engineer = fields.Many2One(
        'company.employee', "Engineer", required=True, ondelete='CASCADE')
    state = fields.Selection([
            ('offered', "Offered"),
            ('accepted', "Accepted"),
            ('declined', "Declined"),
            ('withdrawn', "Withdrawn"),
            ], "State", required=True, readonly=True)
    reason = fields.Text("Reason", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('order')
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.engineer, Index.Range()), (t.state, Index.Equality(
                        cardinality='low'))))

    @classmethod
    def default_state(cls):
        return 'offered'


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
