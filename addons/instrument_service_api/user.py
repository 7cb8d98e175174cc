# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
import datetime as dt

from werkzeug.wrappers import Response

from trytond import config
from trytond.model import Index, ModelSQL, Unique, fields
from trytond.pool import PoolMeta
from trytond.pyson import Eval
from trytond.transaction import without_check_access

from trytond.modules.instrument_service import clock

CONTACT_FIELDS = ['name', 'company', 'department', 'position', 'phone',
    'address', 'email']


class WebUser(metaclass=PoolMeta):
    "A customer of the mini-program: WeChat identity and remembered contact"
    __name__ = 'web.user'

    wechat_openid = fields.Char("WeChat OpenID", readonly=True, strip=False)
    login_phone = fields.Char("Login Phone", readonly=True)
    contact_name = fields.Char("Contact Name")
    contact_company = fields.Char("Company Name")
    contact_department = fields.Char("Department")
    contact_position = fields.Char("Position")
    contact_phone = fields.Char("Phone")
    contact_address = fields.Text("Address")
    contact_email = fields.Char("Contact Email")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # Customers of the mini-program log in with WeChat, not an email
        cls.email.states = cls.email.states.copy()
        cls.email.states['required'] = (
            Eval('active', True)
            & ~Eval('wechat_openid') & ~Eval('login_phone'))
        cls.email.depends = set(cls.email.depends) | {
            'wechat_openid', 'login_phone'}
        t = cls.__table__()
        cls._sql_constraints += [
            ('wechat_openid_unique', Unique(t, t.wechat_openid),
                'instrument_service_api.msg_openid_unique'),
            ('login_phone_unique', Unique(t, t.login_phone),
                'instrument_service_api.msg_login_phone_unique'),
            ]

    def contact(self):
        return {f: getattr(self, 'contact_' + f) for f in CONTACT_FIELDS}


class IdempotencyKey(ModelSQL):
    """The first answer to a write its client may retry (an order, an
    engineer's accept, decline, step or photo), by the caller and the
    Idempotency-Key of the request: a retry with the same key answers it
    again instead of doing the write twice"""
    __name__ = 'instrument_service_api.idempotency_key'

    web_user = fields.Many2One(
        'web.user', "Customer", ondelete='CASCADE')
    user = fields.Many2One('res.user', "User", ondelete='CASCADE')
    key = fields.Char("Key", required=True, strip=False)
    fingerprint = fields.Char("Request Fingerprint", required=True)
    order = fields.Many2One(
        'instrument_service.order', "Order", ondelete='CASCADE')
    status = fields.Integer("Status")
    response = fields.Text("Response")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('web_user_key_unique', Unique(t, t.web_user, t.key),
                'instrument_service_api.msg_idempotency_key_unique'),
            ('user_key_unique', Unique(t, t.user, t.key),
                'instrument_service_api.msg_idempotency_key_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.create_date, Index.Range())))

    def store(self, spec, result):
        """Keep result, the answer of the operation spec: (body, status) or
        body"""
        from .api import json_response
        body, status = result if isinstance(result, tuple) else (result, 200)
        response = json_response(body, status)
        self.status = int(status)
        self.response = response.get_data(as_text=True)
        if isinstance(body, dict) and 'OrderDetail' in (
                spec.responses or {}).values():
            self.order = body.get('id')
        with without_check_access():
            self.save()
        return response

    @classmethod
    def remove_old(cls):
        """Scheduled: forget the answers kept longer than
        [instrument_service_api] idempotency_retention days (30): a client
        retries within minutes, an offline outbox within days"""
        days = config.getfloat('instrument_service_api',
            'idempotency_retention', default=30)
        with without_check_access():
            cls.delete(cls.search([
                        ('create_date', '<',
                            clock.now() - dt.timedelta(days=days)),
                        ]))

    def replay(self):
        "The answer kept, marked as a replay"
        from .api import REPLAYED
        response = Response(self.response or None, status=self.status,
            content_type='application/json; charset=utf-8')
        response.headers[REPLAYED] = 'true'
        return response


class LoginCode(ModelSQL):
    "A one-time code for the development login by phone (off by default)"
    __name__ = 'instrument_service_api.login_code'

    phone = fields.Char("Phone", required=True)
    code_hash = fields.Char("Code Hash", required=True, strip=False)
    expire = fields.Timestamp("Expire", required=True)
    attempts = fields.Integer("Attempts", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.phone, Index.Equality())))

    @classmethod
    def default_attempts(cls):
        return 0
