# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""WeChat subscription messages to the customers about their orders.

An administrator configures one template of the mini-program per kind of
progress event (what the engineer or the staff did). When an order moves,
the message of its customer is rendered at once and kept in the notice's
payload, so that what is sent is what was true at the event, however late
it is delivered."""
import json
import re

from sql import Literal
from sql.operators import Equal

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Exclude, ModelSQL, ModelView, fields)
from trytond.model.exceptions import ValidationError
from trytond.modules.instrument_service.progress import PROGRESS_ACTIONS
from trytond.modules.instrument_service.workflow import render
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

from . import wechat

# The events of an order an engineer or the staff causes, of which its
# customer is told
TEMPLATE_ACTIONS = [(a, s) for a, s in PROGRESS_ACTIONS if a in {
        'accept', 'assign', 'visit_onsite', 'visit_remote',
        'submit_assessment', 'submit_quote', 'submit_report',
        'finish_remote', 'reassign', 'cancel'}]
DEFAULT_PAGE = 'pages/order/detail?id=${order_id}'
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

    @classmethod
    def notify_customer(cls, event):
        """A WeChat subscription message to the customer of the order, when
        a template is configured for the action of event and the customer
        logged in with WeChat"""
        pool = Pool()
        Template = pool.get('instrument_service_api.wechat.template')
        Progress = pool.get('instrument_service.order.progress')
        notices = super().notify_customer(event)
        # The engineer who moves the order may read neither the templates
        # nor the openid
        with without_check_access():
            customer = event.order.customer
            if not customer or not customer.wechat_openid:
                return notices
            template = Template.for_action(event.action)
            if not template:
                return notices
            # In the language of the mini-program, whoever moved the order
            with Transaction().set_context(language=wechat.LANGUAGE):
                event = Progress(event.id)
                template = Template(template.id)
                variables = template.variables(event)
                message = template.render(variables)
        notices += cls.post([cls(
                    order=event.order, event=event, kind='progress',
                    channel='wechat', recipient='web_user:%s' % customer.id,
                    web_user=customer, template=template,
                    title=variables['step'], body=variables['hint'],
                    payload=json.dumps(message, ensure_ascii=False,
                        sort_keys=True))])
        return notices

    def _send_wechat(self):
        """The subscription message rendered at the event, to the openid of
        the customer: it is kept out of the payload, which dispatchers read"""
        if not wechat.enabled():
            return 'skipped', None, gettext(
                'instrument_service_api.msg_notice_wechat_off')
        return wechat.send_subscribe_message({
                **json.loads(self.payload),
                'touser': self.web_user.wechat_openid,
                })


class WeChatTemplate(DeactivableMixin, ModelSQL, ModelView):
    "A subscription message template of the mini-program for an event"
    __name__ = 'instrument_service_api.wechat.template'
    _rec_name = 'template_id'

    action = fields.Selection(TEMPLATE_ACTIONS, "Event", required=True,
        sort=False,
        help="What the engineer or the staff did to the order.")
    action_string = action.translated('action')
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
        "${amount}, ${appointment}, ${noun} and ${order_id}; "
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
            ]
        cls._order.insert(0, ('action', 'ASC'))

    @classmethod
    def default_page(cls):
        return DEFAULT_PAGE

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
    def for_action(cls, action):
        "The active template of action, or None"
        templates = cls.search([('action', '=', action)], limit=1)
        if templates:
            return templates[0]

    @classmethod
    def variables(cls, event):
        "What the values of the templates may show of event and its order"
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
