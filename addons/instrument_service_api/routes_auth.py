# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""Logging in and out. Customers come from WeChat (or, when configured for
development, a phone and a one-time code); engineers with their Tryton
login, or with the WeChat of the engineers' mini-program once they linked
it. Tokens are sessions: web.user.session for customers, device sessions
(device.py) for engineers."""
import datetime as dt
import hashlib
import hmac
import logging
import secrets

from trytond.config import config
from trytond.model.exceptions import SQLConstraintError
from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access

from trytond.modules.instrument_service import jpush

from . import wechat
from .api import (
    RetryTransaction, body, customer_token, database_name,
    engineer_token, error, route)

logger = logging.getLogger(__name__)
CODE_LIFETIME = dt.timedelta(minutes=5)
CODE_ATTEMPTS = 5


def _customer_session(web_user, is_new):
    pool = Pool()
    Session = pool.get('web.user.session')
    with without_check_access():
        key = Session.add(web_user)
    return {
        'token': customer_token(key),
        'token_type': 'Bearer',
        'expires_in': int(Session.timeout().total_seconds()),
        'customer': {
            'id': web_user.id,
            'is_new': is_new,
            'contact': web_user.contact(),
            },
        }


def _find_or_create(domain, values):
    WebUser = Pool().get('web.user')
    with without_check_access():
        users = WebUser.search(domain, limit=1)
        if users:
            return users[0], False
        web_user = WebUser(**values)
        try:
            web_user.save()
        except SQLConstraintError:
            # Another login created the same customer at the same moment:
            # the route frame retries the request in a new transaction,
            # which finds it. Not a DatabaseOperationalError: one without
            # an SQLSTATE means a lost connection (a 503)
            raise RetryTransaction()
        return web_user, True


@route('POST', '/auth/wechat', auth=None, tag='auth',
    summary="Log a customer in with the code of wx.login",
    description="The mini-program's silent login: call wx.login() at "
    "start and send its code. The server calls WeChat's jscode2session "
    "itself (the app secret and the session_key never leave it) and "
    "answers a customer token; the first login creates the customer "
    "(customer.is_new). A code is valid once: call wx.login again for a "
    "new one.",
    request='WeChatLogin', responses={200: 'CustomerSession'},
    readonly=False,
    errors={
        'wechat_invalid_code': None, 'wechat_blocked': None,
        'forbidden': "The customer's account is disabled.",
        'wechat_rate_limited': None, 'wechat_error': None,
        'wechat_unavailable': None, 'wechat_busy': None,
        'not_configured': "WeChat login is not configured on the server "
        "([wechat] appid and secret).",
        },
    example={'request': {'code': '0a3Xyz1w3mhwl03Jt91w3jT3Sv2Xyz1j'}})
def wechat_login(request, caller):
    openid = _openid(request, wechat.CUSTOMER)
    web_user, is_new = _find_or_create(
        [('wechat_openid', '=', openid)], {'wechat_openid': openid})
    if not web_user.active:
        raise error(403, 'forbidden', 'msg_account_disabled')
    return _customer_session(web_user, is_new)


def _openid(request, app):
    """The openid of the code of wx.login in the body, asked of WeChat for
    the mini-program app"""
    code = body(request)['code'].strip()
    # A code is valid once: a retry of the transaction reuses the answer
    key = 'instrument_service_api.wechat'
    if request.environ.get(key, (None,))[0] != (app, code):
        request.environ[key] = ((app, code), wechat.code2session(code, app))
    openid, _ = request.environ[key][1]
    return openid


def dev_login_enabled():
    """Whether the development login is on: [instrument_service_api]
    dev_login is true, or names the API database (a comma-separated list
    of database names turns it on for those databases only, e.g. demo)"""
    value = (config.get('instrument_service_api', 'dev_login', default='')
        or '').strip()
    if value.lower() in {'1', 'true', 'yes', 'on'}:
        return True
    if value.lower() in {'', '0', 'false', 'no', 'off'}:
        return False
    names = {n.strip() for n in value.split(',') if n.strip()}
    return database_name() in names


def _code_hash(phone, code):
    # The code is short-lived and rate limited; the hash keeps it out of
    # the database in clear
    return hmac.new(phone.encode(), code.encode(), hashlib.sha256).hexdigest()


@route('POST', '/auth/dev/code', auth=None, tag='auth',
    summary="Development login, step 1: a one-time code for a phone, "
    "printed in the server log (only when [instrument_service_api] "
    "dev_login is set)",
    description="For the H5 build and local work where WeChat is not "
    "available: the code is valid 5 minutes and 5 attempts. Off on a "
    "real server (404).",
    request='PhoneCodeRequest', responses={204: None}, readonly=False,
    errors={'not_found': "The development login is off on this server."},
    example={'request': {'phone': '13901760231'}})
def dev_code(request, caller):
    LoginCode = Pool().get('instrument_service_api.login_code')
    if not dev_login_enabled():
        raise error(404, 'not_found', 'msg_not_found')
    values = {'phone': body(request)['phone'].strip()}
    code = '%06d' % secrets.randbelow(10 ** 6)
    with without_check_access():
        LoginCode.delete(LoginCode.search(
                [('phone', '=', values['phone'])]))
        LoginCode(phone=values['phone'],
            code_hash=_code_hash(values['phone'], code),
            expire=dt.datetime.now() + CODE_LIFETIME).save()
    logger.warning("development login code for %s: %s",
        values['phone'], code)
    return None, 204


@route('POST', '/auth/dev/login', auth=None, tag='auth',
    summary="Development login, step 2: log in with the phone and its code",
    description="Answers a customer token, as POST /auth/wechat does; "
    "the first login with a phone creates the customer.",
    request='PhoneLogin', responses={200: 'CustomerSession'},
    readonly=False,
    errors={
        'unauthorized': "Wrong, expired or used-up code: after 5 wrong "
        "attempts the code is locked, ask for a new one.",
        'not_found': "The development login is off on this server.",
        },
    example={'request': {'phone': '13901760231', 'code': '482913'}})
def dev_login(request, caller):
    LoginCode = Pool().get('instrument_service_api.login_code')
    if not dev_login_enabled():
        raise error(404, 'not_found', 'msg_not_found')
    values = {k: v.strip() for k, v in body(request).items()}
    codes = LoginCode.search([
            ('phone', '=', values['phone']),
            ('expire', '>', dt.datetime.now())], limit=1)
    if not codes or codes[0].attempts >= CODE_ATTEMPTS:
        raise error(401, 'unauthorized', 'msg_login_failed')
    code, = codes
    with without_check_access():
        if not hmac.compare_digest(code.code_hash,
                _code_hash(values['phone'], values['code'])):
            code.attempts += 1
            code.save()
            # Keep the failed attempt although the request fails
            Transaction().commit()
            raise error(401, 'unauthorized', 'msg_login_failed')
        LoginCode.delete([code])
    web_user, is_new = _find_or_create(
        [('login_phone', '=', values['phone'])],
        {'login_phone': values['phone'], 'contact_phone': values['phone']})
    return _customer_session(web_user, is_new)


@route('POST', '/auth/login', auth=None, tag='auth',
    summary="Log an engineer in with the Tryton login and password",
    description="Answers the token of a device session: it lasts while "
    "the app is used (30 days without use end it), whatever network the "
    "phone moves to; the back office lists it and can revoke it. Failed "
    "logins are rate limited by Tryton.",
    request='EngineerLogin', responses={200: 'EngineerSession'},
    readonly=False,
    errors={
        'unauthorized': "Wrong login or password.",
        'forbidden': "The account is not an engineer's.",
        'rate_limited': "Too many failed logins: wait a moment.",
        },
    example={'request': {'login': 'zhangwei', 'password': '••••••••',
            'device_name': '华为 Mate 60 / 工程师App 1.0'}})
def engineer_login(request, caller):
    User = Pool().get('res.user')
    values = dict(body(request), login=body(request)['login'].strip())
    # Tryton's own authentication: password check and rate limiting
    user_id = User.get_login(values['login'], {
            'password': values['password']})
    if not user_id:
        # Keep the failed attempt that the rate limiting counts
        Transaction().commit()
        raise error(401, 'unauthorized', 'msg_login_failed')
    return _engineer_session(request, User(user_id), 'login')


def _engineer_session(request, user, login_method):
    """Open a device session of user, an engineer, opened by login_method
    (login or wechat), and answer its token"""
    pool = Pool()
    DeviceSession = pool.get('instrument_service_api.device_session')
    Engineer = pool.get('instrument_service.engineer')
    employees = [e.id for e in user.employees]
    if not Engineer.search([('employee', 'in', employees)], limit=1):
        raise error(403, 'forbidden', 'msg_not_an_engineer')
    # A session of this device, not bound to its address (device.py)
    with without_check_access():
        secret = DeviceSession.open(user,
            device_name=(body(request).get('device_name') or '').strip(),
            user_agent=request.headers.get('User-Agent'),
            ip_address=request.remote_addr, login_method=login_method)
    logger.info("engineer %s logged in (%s) from %s", user.login,
        login_method, request.remote_addr)
    return {
        'token': engineer_token(secret),
        'token_type': 'Bearer',
        'expires_in': int(DeviceSession.lifetime().total_seconds()),
        'engineer': {
            'id': user.id,
            'name': user.name,
            'employee': user.employee.rec_name if user.employee else None,
            },
        'push_alias': jpush.alias(user.id),
        }


# What the routes of the engineers' WeChat may answer of WeChat itself
WECHAT_ERRORS = {
    'wechat_invalid_code': None, 'wechat_blocked': None,
    'wechat_rate_limited': None, 'wechat_error': None,
    'wechat_unavailable': None, 'wechat_busy': None,
    'not_configured': "The engineers' mini-program is not configured on "
    "the server ([wechat_engineer] appid and secret).",
    }
ENGINEER_SESSION_EXAMPLE = {
    'token': 'e.EXAMPLE000000000000000000000000000000000000',
    'token_type': 'Bearer', 'expires_in': 2592000,
    'engineer': {'id': 2, 'name': 'engineer00', 'employee': '工程师00'},
    'push_alias': 'u2',
    }


@route('POST', '/auth/wechat/link', auth='engineer', tag='auth',
    summary="Link the engineer's WeChat, to log in by WeChat and get "
    "WeChat messages",
    description="In the engineers' mini-program, once logged in with the "
    "login and password (POST /auth/login): call wx.login() and send its "
    "code. The server asks WeChat for the engineer's openid in the "
    "engineers' mini-program and keeps it on the account: from then on "
    "the app logs in with POST /auth/wechat/engineer, and the engineer "
    "gets WeChat subscription messages for the notices they subscribed "
    "to (GET /config: wechat.engineer_templates). Linking again, another "
    "WeChat replaces the former and revokes the sessions it opened.",
    request='WeChatLogin', responses={204: None}, readonly=False,
    errors={
        **WECHAT_ERRORS,
        'wechat_already_linked': "This WeChat account is linked to "
        "another engineer's account.",
        },
    example={'request': {'code': '0a3Xyz1w3mhwl03Jt91w3jT3Sv2Xyz1j'}})
def wechat_link(request, caller):
    User = Pool().get('res.user')
    openid = _openid(request, wechat.ENGINEER)
    with without_check_access():
        # An inactive user's link counts too: the openid is unique
        with Transaction().set_context(active_test=False):
            others = User.search([
                    ('wechat_openid', '=', openid),
                    ('id', '!=', caller.user),
                    ], limit=1)
        if others:
            raise error(409, 'wechat_already_linked',
                'msg_wechat_already_linked')
        user = User(caller.user)
        if user.wechat_openid != openid:
            try:
                User.write([user], {'wechat_openid': openid})
            except SQLConstraintError:
                # Linked to another at the same moment: the retry finds it
                raise RetryTransaction()
    logger.info("engineer %s linked WeChat", user.login)
    return None, 204


@route('POST', '/auth/wechat/unlink', auth='engineer', tag='auth',
    summary="Unlink the engineer's WeChat",
    description="Forgets the engineer's WeChat: no more WeChat login nor "
    "WeChat messages, and every session opened by WeChat is revoked (the "
    "caller's too, when it was opened by WeChat). Nothing linked: "
    "nothing to do, 204 all the same. The staff can unlink it too, on the "
    "engineer form.",
    request='Empty', responses={204: None}, readonly=False,
    example={'request': {}})
def wechat_unlink(request, caller):
    User = Pool().get('res.user')
    with without_check_access():
        User.unlink_wechat([User(caller.user)])
    return None, 204


@route('POST', '/auth/wechat/engineer', auth=None, tag='auth',
    summary="Log an engineer in with the code of wx.login, once linked",
    description="The engineers' mini-program at start: call wx.login() "
    "and send its code. The server asks WeChat for the openid and answers "
    "the token of a new device session of the engineer who linked it "
    "(POST /auth/wechat/link), as POST /auth/login does; the back office "
    "lists the session as opened by WeChat, and unlinking revokes it. "
    "401 wechat_not_linked: nobody linked this WeChat, show the login "
    "with the password.",
    request='EngineerWeChatLogin', responses={200: 'EngineerSession'},
    readonly=False,
    errors={
        **WECHAT_ERRORS,
        'wechat_not_linked': None,
        'forbidden': "The account linked to this WeChat is not an "
        "engineer's any more.",
        },
    example={
        'request': {'code': '0a3Xyz1w3mhwl03Jt91w3jT3Sv2Xyz1j',
            'device_name': '华为 Mate 60 / 工程师微信小程序'},
        'response': ENGINEER_SESSION_EXAMPLE,
        })
def engineer_wechat_login(request, caller):
    User = Pool().get('res.user')
    openid = _openid(request, wechat.ENGINEER)
    with without_check_access():
        users = User.search([('wechat_openid', '=', openid)], limit=1)
    if not users:
        raise error(401, 'wechat_not_linked', 'msg_wechat_not_linked')
    return _engineer_session(request, users[0], 'wechat')


@route('POST', '/auth/logout', auth='any', tag='auth',
    summary="Revoke the token of the caller",
    description="The token stops working at once (a customer's session, "
    "or an engineer's device session).",
    request='Empty', responses={204: None}, readonly=False,
    example={'request': {}})
def logout(request, caller):
    pool = Pool()
    if caller.kind == 'customer':
        Session = pool.get('web.user.session')
        with without_check_access():
            Session.remove(caller.token[2:])
    else:
        DeviceSession = pool.get('instrument_service_api.device_session')
        DeviceSession.end_secret(caller.token[2:])
    return None, 204
