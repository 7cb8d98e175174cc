# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""WeChat subscription messages to the customers about their orders, and to
the engineers who linked the engineers' mini-program about theirs.

An administrator configures one template per kind of event: for customers,
per progress event (what the engineer or the staff did), in the customers'
mini-program; for engineers, per kind of notice (an offer, its withdrawal,
the customer's answer, a cancellation, an assignment), in the engineers'.
When an order moves, the message is rendered at once and kept in the
notice's payload, so that what is sent is what was true at the event,
however late it is delivered. The openid is added at the sending."""
import json
import re

from sql import Literal
from sql.operators import Equal

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Exclude, Index, ModelSQL, ModelView, fields)
from trytond.model.exceptions import ValidationError
from trytond.modules.instrument_service.notice import NOTICE_KINDS
from trytond.modules.instrument_service.progress import PROGRESS_ACTIONS
from trytond.modules.instrument_service.workflow import render
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.transaction import Transaction, without_check_access

from . import serialize, wechat

# The events of an order an engineer or the staff causes, of which its
# customer is told
TEMPLATE_ACTIONS = [(a, s) for a, s in PROGRESS_ACTIONS if a in {
        'accept', 'assign', 'visit_onsite', 'visit_remote',
        'submit_assessment', 'submit_quote', 'submit_report',
        'finish_remote', 'reassign', 'cancel'}]
# The notices to engineers (notify_employees) that may go by WeChat too
ENGINEER_KINDS = [(k, s) for k, s in NOTICE_KINDS if k in {
        'offered', 'withdrawn', 'customer_action', 'cancelled', 'assigned'}]
AUDIENCES = [
    (wechat.CUSTOMER, "Customers"),
    (wechat.ENGINEER, "Engineers"),
    ]
DEFAULT_PAGE = 'pages/order/detail?id=${order_id}'
# The page of the engineers' app a message opens by default: an offer is
# not a task of the engineer (yet, or any more), it is in the messages
ENGINEER_PAGE = 'pages/task/detail?id=${order_id}'
ENGINEER_OFFER_PAGE = 'pages/messages/index'
# A line of the data: the keyword of the template (thing2) = its value
DATA_LINE = re.compile(r'^\s*([a-z_]+[0-9]+)\s*=(.*)$')


class Notice(metaclass=PoolMeta):
    __name__ = 'instrument_service.notice'

    template = fields.Many2One(
        'instrument_service_api.wechat.template', "WeChat Template",
        readonly=True, ondelete='SET NULL')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.channel.selection.append(('wechat', "WeChat"))
        t = cls.__table__()
        # The failed notices, counted by /health/ready and /metrics
        cls._sql_indexes.add(Index(t,
                (t.channel, Index.Equality(cardinality='low')),
                where=t.state == 'failed'))

    @classmethod
    def notify_customer(cls, event):
        """A WeChat subscription message to the customer of the order, when
        a template is configured for the action of event and the customer
        logged in with WeChat"""
        notices = super().notify_customer(event)
        # The engineer who moves the order may read neither the templates
        # nor the openid
        with without_check_access():
            customer = event.order.customer
            if not customer or not customer.wechat_openid:
                return notices
            rendered = cls._wechat_message(
                event, wechat.CUSTOMER, event.action)
        if not rendered:
            return notices
        template, variables, payload = rendered
        notices += cls.post([cls(
                    order=event.order, event=event, kind='progress',
                    channel='wechat', recipient='web_user:%s' % customer.id,
                    web_user=customer, template=template,
                    title=variables['step'], body=variables['hint'],
                    payload=payload)])
        return notices

    @classmethod
    def notify_employees(cls, event, kind, employees, message_id,
            **variables):
        """Besides, a WeChat subscription message to each of the users who
        linked the engineers' mini-program, when a template is configured
        for kind"""
        notices = super().notify_employees(
            event, kind, employees, message_id, **variables)
        with without_check_access():
            users = sorted({n.user for n in notices
                    if n.user and n.user.wechat_openid}, key=lambda u: u.id)
            rendered = users and cls._wechat_message(
                event, wechat.ENGINEER, kind)
        if not rendered:
            return notices
        template, variables, payload = rendered
        return notices + cls.post([cls(
                    order=event.order, event=event, kind=kind,
                    channel='wechat', recipient='user:%s' % user.id,
                    user=user, template=template, title=variables['event'],
                    body=' · '.join(filter(None, [variables['type'],
                                variables['instrument'],
                                variables['region']])),
                    payload=payload)
                for user in users])

    @classmethod
    def _wechat_message(cls, event, audience, key):
        """The template of audience for key (an action or a kind of notice),
        its variables for event and the message it renders, in JSON; None
        without a template. In the language of the mini-program, whoever
        caused the event."""
        pool = Pool()
        Template = pool.get('instrument_service_api.wechat.template')
        Progress = pool.get('instrument_service.order.progress')
        with without_check_access():
            template = Template.for_event(audience, key)
            if not template:
                return None
            with Transaction().set_context(language=wechat.LANGUAGE):
                template = Template(template.id)
                variables = template.variables(Progress(event.id))
                message = template.render(variables)
        return template, variables, json.dumps(
            message, ensure_ascii=False, sort_keys=True)

    def _send_wechat(self):
        """The subscription message rendered at the event, to the openid of
        the customer or the engineer, with the token of their mini-program:
        the openid is kept out of the payload, which dispatchers read"""
        app = wechat.ENGINEER if self.user else wechat.CUSTOMER
        program = wechat.settings(app)
        if not program.enabled:
            return 'skipped', None, gettext(
                'instrument_service_api.msg_notice_wechat_off',
                section=program.section)
        openid = (self.user or self.web_user).wechat_openid
        if not openid:
            # Unlinked since the event: the message is not theirs any more
            return 'refused', None, gettext(
                'instrument_service_api.msg_notice_wechat_unlinked')
        return wechat.send_subscribe_message({
                **json.loads(self.payload),
                'touser': openid,
                }, app)


class WeChatTemplate(DeactivableMixin, ModelSQL, ModelView):
    """A subscription message template of a mini-program for an event: of
    the customers' for a progress event, of the engineers' for a kind of
    notice"""
    __name__ = 'instrument_service_api.wechat.template'
    _rec_name = 'template_id'

    audience = fields.Selection(AUDIENCES, "Audience", required=True,
        help="Whose mini-program the template is of: the customers' "
        "([wechat]) or the engineers' ([wechat_engineer]).")
    action = fields.Selection([(None, "")] + TEMPLATE_ACTIONS, "Event",
        sort=False,
        states={
            'required': Eval('audience') == wechat.CUSTOMER,
            'invisible': Eval('audience') != wechat.CUSTOMER,
            },
        domain=[If(Eval('audience') == wechat.CUSTOMER,
                (), ('action', '=', None))],
        help="What the engineer or the staff did to the order.")
    action_string = action.translated('action')
    kind = fields.Selection([(None, "")] + ENGINEER_KINDS, "Event",
        sort=False,
        states={
            'required': Eval('audience') == wechat.ENGINEER,
            'invisible': Eval('audience') != wechat.ENGINEER,
            },
        domain=[If(Eval('audience') == wechat.ENGINEER,
                (), ('kind', '=', None))],
        help="What the engineer is told of: an order offered, the offer "
        "withdrawn, the customer's answer, the order cancelled or "
        "assigned.")
    template_id = fields.Char("Template ID", required=True, strip=True,
        help="The ID of the template chosen in the mini-program's "
        "administration console.")
    page = fields.Char("Page",
        help="The page of the mini-program the message opens, "
        "with the variables of the data.")
    data = fields.Text("Data", required=True,
        help="One keyword of the template per line, written key=value, "
        "e.g. thing2=${name}. The values may use the variables "
        "${number}, ${name}, ${step}, ${hint}, ${time}, ${engineer}, "
        "${amount}, ${appointment}, ${noun} and ${order_id} for "
        "customers; ${number}, ${type}, ${instrument}, ${region}, "
        "${event}, ${time} and ${order_id} for engineers (nothing of the "
        "customer: offers reach engineers who have not accepted them); "
        "they are cut to the length WeChat allows for the type of the "
        "keyword.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('action_exclude', Exclude(t, (t.action, Equal),
                    where=t.active == Literal(True)),
                'instrument_service_api.msg_wechat_template_action_unique'),
            ('kind_exclude', Exclude(t, (t.kind, Equal),
                    where=t.active == Literal(True)),
                'instrument_service_api.msg_wechat_template_action_unique'),
            ]
        cls._order[0:0] = [
            ('audience', 'ASC'), ('action', 'ASC'), ('kind', 'ASC')]

    @classmethod
    def default_audience(cls):
        return wechat.CUSTOMER

    @classmethod
    def default_page(cls):
        return DEFAULT_PAGE

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create' and 'page' not in values:
            values['page'] = cls.page_of(
                values.get('audience') or cls.default_audience(),
                values.get('kind'))
        return values

    @staticmethod
    def page_of(audience, kind):
        "The page a message opens by default"
        if audience == wechat.CUSTOMER:
            return DEFAULT_PAGE
        if kind in {'offered', 'withdrawn'}:
            return ENGINEER_OFFER_PAGE
        return ENGINEER_PAGE

    @fields.depends('audience', 'kind', 'page')
    def on_change_audience(self):
        self.action = self.kind = None
        self._change_page()

    @fields.depends('audience', 'kind', 'page')
    def on_change_kind(self):
        self._change_page()

    @fields.depends('audience', 'kind', 'page')
    def _change_page(self):
        "The default page of the event, unless another was written"
        if not self.page or self.page in {
                DEFAULT_PAGE, ENGINEER_PAGE, ENGINEER_OFFER_PAGE}:
            self.page = self.page_of(self.audience, self.kind)

    @classmethod
    def validate_fields(cls, templates, field_names):
        super().validate_fields(templates, field_names)
        if field_names and 'data' not in field_names:
            return
        for template in templates:
            template.data_lines()

    def data_lines(self):
        "The (keyword, value template) of each line of data"
        lines = []
        for line in (self.data or '').splitlines():
            if not line.strip():
                continue
            match = DATA_LINE.match(line)
            if not match:
                raise ValidationError(gettext(
                        'instrument_service_api.msg_wechat_template_data',
                        template=self.rec_name, line=line.strip()))
            lines.append((match.group(1), match.group(2).strip()))
        return lines

    @classmethod
    def for_event(cls, audience, key):
        """The active template of audience for key: the action of a
        progress event for customers, the kind of a notice for engineers;
        or None"""
        field = 'action' if audience == wechat.CUSTOMER else 'kind'
        templates = cls.search([
                ('audience', '=', audience),
                (field, '=', key),
                ], limit=1)
        if templates:
            return templates[0]

    @classmethod
    def for_action(cls, action):
        "The active template of a progress event for customers, or None"
        return cls.for_event(wechat.CUSTOMER, action)

    def variables(self, event):
        "What the values of the template may show of event and its order"
        if self.audience == wechat.ENGINEER:
            return self.engineer_variables(event)
        return self.customer_variables(event)

    @classmethod
    def engineer_variables(cls, event):
        """What an engineer is shown of event: the order as the inbox shows
        an offer, nothing that identifies the customer (an engineer told of
        an offer has not accepted it)"""
        order = event.order
        offer, = serialize.order_summaries([order.id], contact=False)
        return {
            'number': offer['number'] or '',
            'type': offer['type_name'],
            # The inbox's title less the type: the first instrument
            'instrument': serialize.title(None, offer['instruments']),
            # The province, the city (the province again for a
            # municipality) and the district, not the street
            'region': ' '.join(dict.fromkeys(filter(None, [
                            offer['province'], offer['city'],
                            offer['district']]))),
            'event': event.action_string,
            'time': order.format_datetime(event.date),
            'order_id': str(order.id),
            }

    @classmethod
    def customer_variables(cls, event):
        "What a customer is shown of event and their order"
        order = event.order
        view = order.progress_view()
        if order.state == 'cancelled' or not order.step:
            step = order.state_string
        else:
            step = next(s['name'] for s in view['steps']
                if s['id'] == order.step.id)
        return {
            **order.hint_variables(),
            'number': order.number or '',
            'name': order.name or '',
            'step': step,
            'hint': view['hint'] or '',
            'time': order.format_datetime(event.date),
            'order_id': str(order.id),
            }

    def render(self, variables):
        "The message of the template (page and data) with variables"
        message = {
            'template_id': self.template_id,
            'data': {key: {'value': wechat.keyword_value(
                            key, render(value, variables))}
                for key, value in self.data_lines()},
            }
        page = render(self.page or '', variables).strip()
        if page:
            # Without a page, the message opens nothing
            message['page'] = page
        return message
