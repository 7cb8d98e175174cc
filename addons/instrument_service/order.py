# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
from zoneinfo import ZoneInfo

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    ChatMixin, Index, ModelSQL, ModelView, Unique, fields)
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.rpc import RPC
from trytond.transaction import Transaction, without_check_access

from .exceptions import OrderValidationError, StepNotAllowedError
from . import clock, view
from .order_type import LINE_FIELDS, ORDER_TYPES, REQUIRED
from .workflow import VISIT_MODES

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
# A mini-program uploads one file of at most 10 MB per request
MAX_FILE_SIZE = 10 * 1024 * 1024

_STATES_DRAFT = {'readonly': Eval('state') != 'draft'}


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
        # The lists of the mobile apps read a page in the order of an
        # index, whatever the history of the customer or the engineer: the
        # customer's orders and the engineer's finished tasks newest first
        # (cls._order), the engineer's tasks in progress by state
        newest = [(t.submitted_at, Index.Range(order='DESC')),
            (t.id, Index.Range(order='DESC'))]
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.customer, Index.Range()), *newest),
                Index(t, (t.engineer, Index.Range()), *newest),
                Index(t, (t.engineer, Index.Range()),
                    (t.state, Index.Equality(cardinality='low'))),
                Index(t, *newest),
                })
        cls._order = [
            ('submitted_at', 'DESC NULLS FIRST'),
            ('id', 'DESC'),
            ]
        cls.__rpc__.update({
                'progress_view': RPC(instantiate=0),
                })
        cls._buttons.update({
                'submit': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def lock(cls, records=None):
        """Lock the orders before changing them, so that of two concurrent
        transactions (two engineers accepting) the second one reads what
        the first one wrote.

        SQLite has no row locks (ModelSQL.lock does nothing there): take
        the database's write lock at once instead, which makes concurrent
        writers wait for this transaction, and forget what was read
        before, which may be stale."""
        super().lock(records)
        transaction = Transaction()
        if backend.name == 'sqlite' and not transaction.readonly:
            table = cls.__table__()
            cursor = transaction.connection.cursor()
            # Any writing statement opens the IMMEDIATE transaction
            cursor.execute(*table.update(
                    [table.id], [table.id], where=table.id == -1))
            for cache in transaction.cache.values():
                cache.clear()
            transaction.counter += 1

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
                        field=self.__names__(fname)['field']),
                    fields={fname.replace('_', '.', 1): 'required'})
        if not self.lines:
            raise OrderValidationError(gettext(
                    'instrument_service.msg_order_no_lines',
                    order=self.rec_name), fields={'lines': 'min_items'})
        for index, line in enumerate(self.lines):
            try:
                line.check_complete()
            except OrderValidationError as e:
                e.fields = {'lines[%s].%s' % (index, name): code
                    for name, code in e.fields.items()}
                raise

    def compute_name(self, customer=True):
        """The readable summary: type, first instrument and, unless
        customer is False, the customer's company"""
        line = self.lines[0]
        instrument = ' '.join(filter(None, [
                    line.instrument_name, line.brand, line.model]))
        if len(self.lines) > 1:
            instrument = gettext(
                'instrument_service.msg_order_name_more',
                name=instrument, count=len(self.lines) - 1)
        return ' · '.join(filter(None, [self.type_string, instrument,
                    self.contact_company if customer else None]))

    @classmethod
    @ModelView.button
    def submit(cls, orders):
        pool = Pool()
        Workflow = pool.get('instrument_service.workflow')
        Party = pool.get('party.party')
        Sequence = pool.get('ir.sequence')
        ModelData = pool.get('ir.model.data')
        Progress = pool.get('instrument_service.order.progress')

        sequence = Sequence(ModelData.get_id(
                'instrument_service', 'sequence_order'))
        now = clock.now()
        cls.lock(orders)
        records = []
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
            # The task ID carries the company's date of the submission: the
            # sequence reads the date of the context, else the date of the
            # company of the context (UTC without one); the date is given
            # from the module's clock, so that it is submitted_at's
            local_date = now.replace(tzinfo=ZoneInfo('UTC')).astimezone(
                order.timezone()).date()
            with Transaction().set_context(
                    company=order.company.id, date=local_date):
                order.number = sequence.get()
            order.name = order.compute_name()
            order.submitted_at = now
            order.state = 'submitted'
            order.party = Party.find_or_create_company(order.contact_company)
            records.append(Progress(
                    order=order, action='submit', date=now,
                    to_step=None, **actor.progress_values()))
        with without_check_access():
            cls.save(orders)
            Progress.save(records)
            for order in orders:
                order.set_deadlines()
                order.dispatch_on_submit()

    # ---- the customer-facing progress view ---------------------------------

    def timezone(self):
        return ZoneInfo(
            getattr(self.company, 'timezone', None)
            or view.DEFAULT_TIMEZONE)

    def format_datetime(self, value):
        "Format a stored (UTC) datetime in the company's timezone"
        return view.format_datetime(value, self.timezone())

    def hint_variables(self):
        "The values of the placeholders of the hints, names and labels"
        return view.OrderFacts(self).hint_variables()

    def progress_view(self):
        "What the customer sees of the order: see view.progress_view"
        return view.progress_view(self)


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
                        type=self.order.type_string),
                    fields={fname: 'required'})
        if 'quantity' in LINE_FIELDS[order_type] and (
                self.quantity is None or self.quantity < 1):
            raise OrderValidationError(gettext(
                    'instrument_service.msg_line_quantity_positive',
                    line=self.rec_name), fields={'quantity': 'minimum'})


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
