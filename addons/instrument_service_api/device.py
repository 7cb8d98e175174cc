# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""Device sessions: the tokens of the engineers' app, one per login on a
device.

Tryton's own sessions (ir.session) are bound to the client's address: a
phone that moves from Wi-Fi to 4G would be logged out. A device session is
not; it lives [instrument_service_api] device_session_days (30 by default)
after its last use, survives restarts, and ends when it is revoked: by
logging out, from the back office, by a new password of its user, or when
the user or the engineer profile is deactivated, and, for a session opened
by WeChat, when the user's WeChat is unlinked. Only the sha256 of its
secret is stored."""
import datetime as dt
import hashlib
import hmac
import re
import secrets

from sql import Literal, Null
from sql.operators import Exists

from trytond import config
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from trytond.modules.instrument_service import clock

# secrets.token_urlsafe(32)
SECRET = re.compile(r'[A-Za-z0-9_-]{43}')
CONTROL = re.compile('[\x00-\x1f\x7f]')
DEVICE_NAME_SIZE = 100
USER_AGENT_SIZE = 255
# Reads stay cheap: a use is recorded (time, address, expiry pushed on) at
# most once an hour
USE_INTERVAL = dt.timedelta(hours=1)
STATES = [
    ('active', "Active"),
    ('expired', "Expired"),
    ('revoked', "Revoked"),
    ]
LOGIN_METHODS = [
    ('login', "Login and Password"),
    ('wechat', "WeChat"),
    ]


class DeviceSession(ModelSQL, ModelView):
    "The session of an engineer's app on one device"
    __name__ = 'instrument_service_api.device_session'
    _rec_name = 'device_name'

    user = fields.Many2One(
        'res.user', "User", required=True, readonly=True, ondelete='CASCADE')
    device_name = fields.Char(
        "Device Name", size=DEVICE_NAME_SIZE, readonly=True,
        help="As the app names the device at login.")
    user_agent = fields.Char("User Agent", readonly=True)
    login_method = fields.Selection(LOGIN_METHODS, "Login Method",
        required=True, readonly=True,
        help="How the session was opened: unlinking the user's WeChat "
        "revokes the sessions WeChat opened.")
    secret_hash = fields.Char(
        "Secret Hash", required=True, readonly=True, strip=False)
    last_used = fields.DateTime("Last Used", required=True, readonly=True)
    last_ip = fields.Char(
        "Last IP Address", readonly=True,
        help="The address of the last recorded use (recorded at most once "
        "an hour).")
    expires = fields.DateTime(
        "Expires", required=True, readonly=True,
        help="Each use pushes the expiry on.")
    revoked = fields.DateTime("Revoked", readonly=True)
    state = fields.Function(fields.Selection(STATES, "State"),
        'get_state', searcher='search_state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # Secrets are random: one session per hash
        cls._sql_indexes.add(Index(t, (t.secret_hash, Index.Equality())))
        cls._order = [('last_used', 'DESC'), ('id', 'DESC')]
        cls._buttons.update({
                'revoke': {
                    'invisible': Eval('state') != 'active',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def lifetime():
        "[instrument_service_api] device_session_days, one at least"
        return dt.timedelta(days=max(1, config.getint(
                    'instrument_service_api', 'device_session_days',
                    default=30)))

    @classmethod
    def default_login_method(cls):
        return 'login'

    @staticmethod
    def digest(secret):
        "What is stored of a secret"
        return hashlib.sha256(secret.encode()).hexdigest()

    def get_state(self, name):
        if self.revoked:
            return 'revoked'
        if self.expires <= clock.now():
            return 'expired'
        return 'active'

    @classmethod
    def search_state(cls, name, clause):
        _, operator, value = clause
        now = clock.now()
        domains = {
            'active': [('revoked', '=', None), ('expires', '>', now)],
            'expired': [('revoked', '=', None), ('expires', '<=', now)],
            'revoked': [('revoked', '!=', None)],
            }
        if operator in {'=', '!='}:
            states = {value}
        elif operator in {'in', 'not in'}:
            states = set(value or [])
        else:
            raise ValueError(operator)
        if operator in {'!=', 'not in'}:
            states = set(domains) - states
        states &= set(domains)
        if not states:
            return [('id', '=', None)]
        return ['OR', *(domains[s] for s in sorted(states))]

    @classmethod
    def open(cls, user, device_name=None, user_agent=None, ip_address=None,
            login_method='login'):
        """Start a session of user on a device, opened by login_method, and
        return its secret"""
        secret = secrets.token_urlsafe(32)
        now = clock.now()
        # A header may hold anything
        user_agent = CONTROL.sub(' ', user_agent or '').strip()
        cls.create([{
                    'user': user.id,
                    'device_name': device_name or None,
                    'user_agent': user_agent[:USER_AGENT_SIZE] or None,
                    'login_method': login_method,
                    'secret_hash': cls.digest(secret),
                    'last_used': now,
                    'last_ip': ip_address,
                    'expires': now + cls.lifetime(),
                    }])
        return secret

    @classmethod
    def check(cls, secret):
        """The live session of secret, as (id, user id, whether its use is
        to be recorded), or None: unknown, expired or revoked, or its user
        or the user's engineer profile inactive. One query, no write."""
        pool = Pool()
        User = pool.get('res.user')
        UserEmployee = pool.get('res.user-company.employee')
        Engineer = pool.get('instrument_service.engineer')
        if not isinstance(secret, str) or not SECRET.fullmatch(secret):
            return None
        digest = cls.digest(secret)
        session = cls.__table__()
        user = User.__table__()
        user_employee = UserEmployee.__table__()
        engineer = Engineer.__table__()
        profile = user_employee.join(engineer,
            condition=engineer.employee == user_employee.employee).select(
            Literal(1),
            where=(user_employee.user == session.user)
            & (engineer.active == Literal(True)))
        cursor = Transaction().connection.cursor()
        cursor.execute(*session.join(user,
                condition=user.id == session.user).select(
                session.id, session.user, session.secret_hash,
                session.last_used, session.expires,
                where=(session.secret_hash == digest)
                & (session.revoked == Null)
                & (user.active == Literal(True))
                & Exists(profile),
                limit=1))
        row = cursor.fetchone()
        if not row:
            return None
        id_, user_id, stored, last_used, expires = row
        now = clock.now()
        # Found by its hash, which tells nothing of the secret; compared
        # in constant time all the same
        if not hmac.compare_digest(stored, digest) or expires <= now:
            return None
        return id_, user_id, now - last_used >= USE_INTERVAL

    @classmethod
    def record_use(cls, session_id, ip_address):
        "Record a use of the session now, from ip_address"
        now = clock.now()
        with without_check_access():
            cls.write([cls(session_id)], {
                    'last_used': now,
                    'last_ip': ip_address,
                    'expires': now + cls.lifetime(),
                    })

    @classmethod
    @ModelView.button
    def revoke(cls, sessions):
        cls.end(sessions)

    @classmethod
    def end(cls, sessions):
        "Revoke the sessions (those not revoked yet): their tokens are dead"
        with without_check_access():
            cls.write([s for s in sessions if not s.revoked],
                {'revoked': clock.now()})

    @classmethod
    def end_secret(cls, secret):
        "Revoke the session of secret, the token of a logout"
        with without_check_access():
            cls.end(cls.search([('secret_hash', '=', cls.digest(secret))]))

    @classmethod
    def end_users(cls, users, login_method=None):
        "Revoke every session of users (opened by login_method)"
        domain = [
            ('user', 'in', [u.id for u in users]),
            ('revoked', '=', None),
            ]
        if login_method:
            domain.append(('login_method', '=', login_method))
        if users:
            with without_check_access():
                cls.end(cls.search(domain))


class User(metaclass=PoolMeta):
    __name__ = 'res.user'

    device_sessions = fields.One2Many(
        'instrument_service_api.device_session', 'user', "Device Sessions",
        readonly=True)

    @classmethod
    def on_modification(cls, mode, users, field_names=None):
        pool = Pool()
        DeviceSession = pool.get('instrument_service_api.device_session')
        super().on_modification(mode, users, field_names=field_names)
        if mode != 'write':
            return
        # As Tryton ends its own sessions (not on a rehash of the password
        # at login, which writes password_hash only)
        if field_names is None or 'password' in field_names:
            DeviceSession.end_users(users)
        elif 'active' in field_names:
            users = cls.browse([u.id for u in users])
            DeviceSession.end_users([u for u in users if not u.active])


class Engineer(metaclass=PoolMeta):
    __name__ = 'instrument_service.engineer'

    @classmethod
    def on_modification(cls, mode, engineers, field_names=None):
        super().on_modification(mode, engineers, field_names=field_names)
        if mode == 'delete':
            cls._end_sessions(engineers)
        elif mode == 'write' and (
                field_names is None or 'active' in field_names):
            cls._end_sessions([e for e in cls.browse(
                        [e.id for e in engineers]) if not e.active])

    @classmethod
    def _end_sessions(cls, engineers):
        "Revoke the device sessions of the users of engineers"
        pool = Pool()
        User = pool.get('res.user')
        DeviceSession = pool.get('instrument_service_api.device_session')
        if engineers:
            with without_check_access():
                DeviceSession.end_users(User.search([
                            ('employees', 'in',
                                [e.employee.id for e in engineers]),
                            ]))
