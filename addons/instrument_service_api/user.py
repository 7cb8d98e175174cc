# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
from trytond.model import Index, ModelSQL, Unique, fields
from trytond.pool import PoolMeta
from trytond.pyson import Eval

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
    """The order a customer's submission created, by its Idempotency-Key, so
    that a retried submission returns that order instead of a second one"""
    __name__ = 'instrument_service_api.idempotency_key'

    web_user = fields.Many2One(
        'web.user', "Customer", required=True, ondelete='CASCADE')
    key = fields.Char("Key", required=True, strip=False)
    fingerprint = fields.Char("Request Fingerprint", required=True)
    order = fields.Many2One(
        'instrument_service.order', "Order", ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('web_user_key_unique', Unique(t, t.web_user, t.key),
                'instrument_service_api.msg_idempotency_key_unique'),
            ]


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
