# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The engineers' WeChat. An engineer links the engineers' mini-program to
their account once (POST /auth/wechat/link, logged in with their password);
then they log in by WeChat (POST /auth/wechat/engineer) and get WeChat
subscription messages about their orders (notice.py). The openid is kept on
the user. Unlinking it, from the app or by the staff on the user or the
engineer form, revokes the device sessions WeChat opened."""
from trytond.model import ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import without_check_access


class User(metaclass=PoolMeta):
    __name__ = 'res.user'

    wechat_openid = fields.Char(
        "WeChat OpenID", readonly=True, strip=False,
        help="The user's openid in the engineers' mini-program: linked by "
        "the engineer in the app, to log in by WeChat and get WeChat "
        "messages.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('wechat_openid_unique', Unique(t, t.wechat_openid),
                'instrument_service_api.msg_user_openid_unique'),
            ]
        cls._buttons.update({
                'unlink_wechat': {
                    'invisible': ~Eval('wechat_openid'),
                    'depends': ['wechat_openid'],
                    },
                })

    @classmethod
    @ModelView.button
    def unlink_wechat(cls, users):
        "Forget the WeChat of users"
        with without_check_access():
            cls.write([u for u in users if u.wechat_openid],
                {'wechat_openid': None})

    @classmethod
    def on_modification(cls, mode, users, field_names=None):
        pool = Pool()
        DeviceSession = pool.get('instrument_service_api.device_session')
        super().on_modification(mode, users, field_names=field_names)
        # Whoever logged in with the WeChat that was linked is not this
        # user any more
        if (mode == 'write' and field_names
                and 'wechat_openid' in field_names):
            DeviceSession.end_users(users, login_method='wechat')


class Engineer(metaclass=PoolMeta):
    __name__ = 'instrument_service.engineer'

    wechat_openid = fields.Function(fields.Char(
            "WeChat OpenID",
            help="The openid of the engineer's user in the engineers' "
            "mini-program, when the engineer linked it."),
        'get_wechat_openid')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'unlink_wechat': {
                    'invisible': ~Eval('wechat_openid'),
                    'depends': ['wechat_openid'],
                    },
                })

    def get_wechat_openid(self, name):
        with without_check_access():
            return self.user.wechat_openid if self.user else None

    @classmethod
    @ModelView.button
    def unlink_wechat(cls, engineers):
        "Forget the WeChat of the users of engineers"
        User = Pool().get('res.user')
        with without_check_access():
            User.unlink_wechat(User.search([
                        ('employees', 'in',
                            [e.employee.id for e in engineers]),
                        ]))
