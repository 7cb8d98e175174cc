# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The evidence of an order's progress: the append-only progress records and
the quotes and reports the customer answers."""
import io

from PIL import Image

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields

from . import view
from .exceptions import AppendOnlyError
from .workflow import ACTIONS, ACTORS, VISIT_MODES

PROGRESS_ACTIONS = [
    ('submit', "Submitted"),
    *ACTIONS,
    ('cancel', "Cancelled"),
    ('reassign', "Reassigned"),
    ('decline', "Declined"),
    ('offer', "Offered"),
    ('withdraw', "Offer Withdrawn"),
    ('assign', "Assigned"),
    ('escalate', "Escalated"),
    ('late', "Deadline Missed"),
    ]
PROGRESS_ROLES = ACTORS + [('system', "System")]
ANSWER_STATES = [
    ('proposed', "Waiting for Customer"),
    ('confirmed', "Confirmed"),
    ('rejected', "Rejected"),
    ]
# The datum of a check-in's position: browsers and GPS give WGS-84, WeChat
# and the Chinese maps GCJ-02 (offset by up to a few hundred meters)
COORDINATE_SYSTEMS = [
    (None, ""),
    ('wgs84', "WGS-84"),
    ('gcj02', "GCJ-02"),
    ]
THUMBNAIL_SIZE = (160, 160)


def thumbnail(data, size=THUMBNAIL_SIZE):
    "Return a small JPEG of image data, or None when it cannot be read"
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail(size)
            output = io.BytesIO()
            image.convert('RGB').save(output, format='JPEG', quality=80)
            return output.getvalue()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


class Progress(ModelSQL, ModelView):
    "One completed step of an order, written once and never changed"
    __name__ = 'instrument_service.order.progress'

    order = fields.Many2One(
        'instrument_service.order', "Order", required=True,
        ondelete='CASCADE')
    date = fields.DateTime("Date", required=True)
    action = fields.Selection(PROGRESS_ACTIONS, "Action", required=True)
    action_string = action.translated('action')
    transition = fields.Many2One(
        'instrument_service.workflow.transition', "Transition",
        ondelete='SET NULL')
    from_step = fields.Many2One(
        'instrument_service.workflow.step', "From Step", ondelete='SET NULL')
    to_step = fields.Many2One(
        'instrument_service.workflow.step', "To Step", ondelete='SET NULL')
    actor_role = fields.Selection(
        PROGRESS_ROLES, "Actor Role", required=True)
    actor_user = fields.Many2One('res.user', "User", ondelete='SET NULL')
    actor_customer = fields.Many2One(
        'web.user', "Customer", ondelete='SET NULL')
    actor_name = fields.Function(fields.Char("Actor"), 'get_actor_name')
    label = fields.Function(fields.Char("Label"), 'get_label')
    description = fields.Text("Description")
    reason = fields.Text("Reason")
    photos = fields.One2Many('ir.attachment', 'resource', "Photos",
        filter=['OR',
            ('service_use', '=', None), ('service_use', '!=', 'file')])
    files = fields.One2Many('ir.attachment', 'resource', "Documents",
        filter=[('service_use', '=', 'file')])
    photo_count = fields.Function(
        fields.Integer("Photos"), 'get_photo_count')
    photo_preview = fields.Function(
        fields.Binary("Photo"), 'get_photo_preview')
    visit_mode = fields.Selection(VISIT_MODES, "Visit Mode")
    appointment = fields.DateTime("Appointment")
    check_in_time = fields.DateTime("Check-in Time")
    latitude = fields.Float("Latitude", digits=(9, 6))
    longitude = fields.Float("Longitude", digits=(9, 6))
    accuracy = fields.Float("Accuracy (m)", digits=(9, 1))
    check_in_address = fields.Char("Check-in Address")
    coordinate_system = fields.Selection(
        COORDINATE_SYSTEMS, "Coordinate System",
        help="The datum of the latitude and longitude.")
    quote = fields.Many2One(
        'instrument_service.order.quote', "Quote", ondelete='RESTRICT')
    report = fields.Many2One(
        'instrument_service.order.report', "Report", ondelete='RESTRICT')
    rating_comment = fields.Function(
        fields.Text("Rating Comment"), 'get_rating_comment')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('order')
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.order, Index.Range())))
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def write(cls, *args):
        raise AppendOnlyError(gettext(
                'instrument_service.msg_progress_append_only'))

    @classmethod
    def delete(cls, records):
        orders = {r.order for r in records}
        # Only the removal of a whole draft order takes its records along
        if any(o.id >= 0 and o.state != 'draft' for o in orders):
            raise AppendOnlyError(gettext(
                    'instrument_service.msg_progress_append_only'))
        super().delete(records)

    def get_actor_name(self, name):
        return view.actor_name(
            self.actor_customer and self.order.contact_name,
            self.actor_customer and self.actor_customer.rec_name,
            self.actor_user and self.actor_user.name,
            self.actor_user and self.actor_user.login)

    def get_label(self, name):
        return view.record_label(
            self.transition and self.transition.label, self.action_string,
            self.order.hint_variables())

    def get_rating_comment(self, name):
        if self.action == 'rate':
            return self.order.rating_comment

    def get_photo_count(self, name):
        return len(self.photos)

    def get_photo_preview(self, name):
        for photo in self.photos:
            if photo.type == 'data' and photo.data:
                return thumbnail(photo.data)


class _AnswerMixin:
    "A proposal the customer confirms or rejects; each revision is a version"
    __slots__ = ()
    order = fields.Many2One(
        'instrument_service.order', "Order", required=True,
        ondelete='CASCADE', readonly=True)
    version = fields.Integer("Version", required=True, readonly=True)
    state = fields.Selection(
        ANSWER_STATES, "State", required=True, readonly=True)
    reason = fields.Text("Rejection Reason", readonly=True)
    progress = fields.Many2One(
        'instrument_service.order.progress', "Submitted by",
        readonly=True, ondelete='SET NULL')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('order')
        cls._order = [
            ('order', 'ASC'), ('version', 'DESC'), ('id', 'DESC')]

    def get_rec_name(self, name):
        return '%s v%s' % (self.order.rec_name, self.version)


class Quote(_AnswerMixin, ModelSQL, ModelView):
    __name__ = 'instrument_service.order.quote'
    _rec_name = 'plan'

    amount = fields.Numeric(
        "Amount", digits=(16, 2), required=True, readonly=True,
        domain=[('amount', '>', 0)])
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"), 'get_currency')
    plan = fields.Text("Plan", readonly=True)

    def get_currency(self, name):
        return self.order.company.currency.id


class Report(_AnswerMixin, ModelSQL, ModelView):
    __name__ = 'instrument_service.order.report'
    _rec_name = 'content'

    content = fields.Text("Content", required=True, readonly=True)
