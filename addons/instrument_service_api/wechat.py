# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""WeChat's server API for the two mini-programs: the customers' ([wechat])
and the engineers' ([wechat_engineer]), each with its appid and secret.

code2Session turns the code of wx.login into the user's openid, for the
login. Subscription messages (subscribeMessage.send) tell customers about
their orders and engineers about theirs; they are sent with the access
token of the recipient's mini-program, which stable_token gives and the
database keeps for every server process (see WeChatToken). The app secret,
the session_key and the access token never leave this module and never
reach a log."""
import datetime as dt
import http.client
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from typing import NamedTuple

from trytond import backend
from trytond.config import config
from trytond.model import ModelSQL, Unique, fields
from trytond.model.exceptions import SQLConstraintError
from trytond.modules.instrument_service import clock
from trytond.modules.instrument_service.exceptions import (
    DeliveryFailed, DeliveryRetry)
from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access

from .api import error

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = 'https://api.weixin.qq.com'
TIMEOUT = 5
# The language of the subscription messages: the mini-program's
LANGUAGE = 'zh_CN'
# The state of the mini-program a message opens: formal, trial or
# developer. [wechat] miniprogram_state
MINIPROGRAM_STATE = 'formal'
# The mini-programs and the section of the configuration of each
CUSTOMER, ENGINEER = 'customer', 'engineer'
SECTIONS = {CUSTOMER: 'wechat', ENGINEER: 'wechat_engineer'}
# What the engineers' mini-program takes from [wechat] when its own
# section does not say: both reach the same WeChat
SHARED_OPTIONS = {'base_url', 'timeout'}
# A cached access token is replaced this long before WeChat's expiry, so
# that no message is sent with a token that expires on its way
TOKEN_MARGIN = dt.timedelta(minutes=5)
# errcode of a token that is invalid (or not the latest) and expired
TOKEN_INVALID = {40001, 42001}
# errcode of subscribe/send: the user has no subscription left for the
# template, which is their choice and not a failure
NO_SUBSCRIPTION = 43101
# errcode of a passing trouble: system busy, API quota or frequency
TEMPORARY = {-1, 45009, 45011}

# errcode of jscode2session -> (HTTP status, API code, message id)
ERRORS = {
    40029: (401, 'wechat_invalid_code', 'msg_wechat_invalid_code'),
    40163: (401, 'wechat_invalid_code', 'msg_wechat_invalid_code'),
    45011: (429, 'wechat_rate_limited', 'msg_wechat_rate_limited'),
    40226: (403, 'wechat_blocked', 'msg_wechat_blocked'),
    -1: (503, 'wechat_busy', 'msg_wechat_busy'),
    }


class MiniProgram(NamedTuple):
    "The configuration of a mini-program"
    section: str
    appid: str
    secret: str
    base_url: str
    timeout: float
    state: str

    @property
    def enabled(self):
        "Whether its appid and secret are configured"
        return bool(self.appid and self.secret)


def settings(app=CUSTOMER):
    "The configuration of the mini-program app (CUSTOMER or ENGINEER)"
    section = SECTIONS[app]

    def get(option, default=None):
        value = config.get(section, option, default=None)
        if not value and option in SHARED_OPTIONS:
            value = config.get(SECTIONS[CUSTOMER], option, default=None)
        return value or default
    return MiniProgram(section, get('appid'), get('secret'),
        get('base_url', DEFAULT_BASE_URL).rstrip('/'),
        float(get('timeout', TIMEOUT)),
        get('miniprogram_state', MINIPROGRAM_STATE))


def code2session(code, app=CUSTOMER):
    """Return the openid (and unionid) of a wx.login code of the
    mini-program app, or raise"""
    program = settings(app)
    if not program.enabled:
        raise error(503, 'not_configured', 'msg_wechat_not_configured')
    query = urllib.parse.urlencode({
            'appid': program.appid,
            'secret': program.secret,
            'js_code': code,
            'grant_type': 'authorization_code',
            })
    url = '%s/sns/jscode2session?%s' % (program.base_url, query)
    try:
        with urllib.request.urlopen(
                url, timeout=program.timeout) as response:
            answer = json.loads(response.read().decode('utf-8'))
    except (urllib.error.URLError, OSError, ValueError) as e:
        # The URL holds the secret: log the reason only
        logger.warning("jscode2session unreachable: %s",
            getattr(e, 'reason', type(e).__name__))
        raise error(502, 'wechat_unavailable', 'msg_wechat_unavailable')
    if not isinstance(answer, dict):
        raise error(502, 'wechat_unavailable', 'msg_wechat_unavailable')
    errcode = answer.get('errcode') or 0
    if isinstance(errcode, str) and errcode.lstrip('-').isdigit():
        errcode = int(errcode)
    if isinstance(errcode, bool) or not isinstance(errcode, int):
        # Not WeChat's protocol
        raise error(502, 'wechat_unavailable', 'msg_wechat_unavailable')
    if errcode:
        logger.info("jscode2session refused: %s %s", errcode,
            answer.get('errmsg'))
        status, code_, message = ERRORS.get(
            errcode, (502, 'wechat_error', 'msg_wechat_error'))
        exception = error(status, code_, message, errcode=errcode)
        if status in {429, 503}:
            exception.headers['Retry-After'] = '1'
        raise exception
    openid = answer.get('openid')
    if not isinstance(openid, str) or not openid:
        raise error(502, 'wechat_unavailable', 'msg_wechat_unavailable')
    return openid, answer.get('unionid')


# ---- subscription messages -------------------------------------------------

# The longest value WeChat takes for a keyword of each type, the type being
# the key less its number (thing2, character_string1); amount, time and
# date take formatted values of any length
KEYWORD_LIMITS = {
    'thing': 20,
    'character_string': 32,
    'phrase': 5,
    'name': 10,
    'number': 32,
    'letter': 32,
    'symbol': 5,
    'car_number': 8,
    }


def keyword_value(key, value):
    "The value of the keyword key, on one line and cut to WeChat's limit"
    # WeChat refuses an empty keyword (47003): a dash says "not yet"
    value = ' '.join((value or '').split()) or '-'
    kind = key.rstrip('0123456789')
    limit = KEYWORD_LIMITS.get(kind)
    if limit and len(value) > limit:
        if kind == 'thing':
            # Free text: show that it goes on; the other types take
            # digits, letters or Chinese only
            value = value[:limit - 1] + '…'
        else:
            value = value[:limit]
    return value


def send_subscribe_message(message, app=CUSTOMER):
    """Send a subscription message of the mini-program app, the payload of
    a notice (touser, template_id, page, data); return the notice's
    (state, external id, outcome) or raise DeliveryRetry or DeliveryFailed.

    A token WeChat no longer takes (expired, or replaced) is dropped and the
    message sent once more with a new one; a second refusal is retried
    later, like any passing trouble. 43101, the user has no subscription
    left, is their choice: the notice is refused, not retried. Any other
    errcode (40003 invalid openid, 40037 invalid template_id, 47003 data
    that does not fit the template...) would be answered again."""
    Token = Pool().get('instrument_service_api.wechat.token')
    program = settings(app)
    body = {
        **message,
        'miniprogram_state': program.state,
        'lang': LANGUAGE,
        }
    for _ in range(2):
        token = Token.get(program)
        answer = _post(program, '/cgi-bin/message/subscribe/send', body,
            {'access_token': token})
        errcode = _errcode(answer)
        if errcode not in TOKEN_INVALID:
            break
        Token.drop(program, token)
    if not errcode:
        return 'sent', str(answer.get('msgid') or ''), None
    outcome = 'WeChat subscribe/send: %s %s' % (
        errcode, answer.get('errmsg') or '')
    if errcode == NO_SUBSCRIPTION:
        return 'refused', None, outcome
    if errcode in TEMPORARY or errcode in TOKEN_INVALID:
        raise DeliveryRetry(outcome)
    raise DeliveryFailed(outcome)


def stable_token(program):
    """A valid access token of the mini-program (its settings) and its
    lifetime in seconds"""
    answer = _post(program, '/cgi-bin/stable_token', {
            'grant_type': 'client_credential',
            'appid': program.appid,
            'secret': program.secret,
            # A forced refresh invalidates the token of the other processes
            # and WeChat allows few a day; the normal mode gives a new token
            # once the current one expires
            'force_refresh': False,
            })
    errcode = _errcode(answer)
    token, expires_in = answer.get('access_token'), answer.get('expires_in')
    if (not errcode and isinstance(token, str) and token
            and isinstance(expires_in, int)
            and not isinstance(expires_in, bool) and expires_in > 0):
        return token, expires_in
    outcome = 'WeChat stable_token: %s %s' % (
        errcode, answer.get('errmsg') or '')
    if not errcode or errcode in TEMPORARY:
        raise DeliveryRetry(outcome)
    # 40013 invalid appid, 40125 invalid secret, 40164 IP not allowed...:
    # the configuration must change
    raise DeliveryFailed(outcome)


def _post(program, path, body, query=None):
    """POST body in JSON to WeChat's path for the mini-program and return
    its answer, a dict; raise DeliveryRetry when WeChat cannot be reached
    or answers no JSON"""
    url = program.base_url + path
    if query:
        url += '?' + urllib.parse.urlencode(query)
    request = urllib.request.Request(url, method='POST',
        data=json.dumps(body, ensure_ascii=False).encode('utf-8'),
        headers={'Content-Type': 'application/json'})
    # The URL holds the access token: the outcome tells the reason only
    try:
        with urllib.request.urlopen(
                request, timeout=program.timeout) as response:
            answer = json.loads(response.read().decode('utf-8'))
    except urllib.error.HTTPError as http_error:
        http_error.close()
        outcome = 'WeChat %s: HTTP %s' % (path, http_error.code)
        if http_error.code >= 500 or http_error.code == 429:
            raise DeliveryRetry(outcome)
        raise DeliveryFailed(outcome)
    except (OSError, http.client.HTTPException, ValueError) as failure:
        # Unreachable, timed out, cut off, or not JSON
        reason = getattr(failure, 'reason', None) or failure
        raise DeliveryRetry('WeChat %s: %s' % (
                path, str(reason) or failure.__class__.__name__))
    if not isinstance(answer, dict):
        raise DeliveryRetry('WeChat %s: not an answer of WeChat' % path)
    return answer


def _errcode(answer):
    errcode = answer.get('errcode') or 0
    if isinstance(errcode, str) and errcode.lstrip('-').isdigit():
        errcode = int(errcode)
    if isinstance(errcode, bool) or not isinstance(errcode, int):
        raise DeliveryRetry('WeChat: not an answer of WeChat')
    return errcode


class WeChatToken(ModelSQL):
    """The access token of a mini-program (one per appid), kept in the
    database so that every server process (and the scheduled jobs) shares
    it: WeChat allows few token requests a day"""
    __name__ = 'instrument_service_api.wechat.token'

    appid = fields.Char("AppID", required=True, strip=False)
    token = fields.Char("Access Token", required=True, strip=False)
    expire = fields.Timestamp("Expire", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('appid_unique', Unique(t, t.appid),
                'instrument_service_api.msg_wechat_token_unique'),
            ]

    @classmethod
    def get(cls, program):
        """The access token of the mini-program (its settings): the cached
        one while it is valid, or a new one"""
        appid = program.appid
        now = clock.now()
        # Read in a transaction of its own, which sees what the other
        # processes and drop committed since the delivery began
        with Transaction().new_transaction(readonly=True), \
                without_check_access():
            tokens = cls.search([
                    ('appid', '=', appid),
                    ('expire', '>', now + TOKEN_MARGIN),
                    ], limit=1)
            if tokens:
                return tokens[0].token
        token, expires_in = stable_token(program)
        cls._store(appid, token, now + dt.timedelta(seconds=expires_in))
        return token

    @classmethod
    def drop(cls, program, token):
        """Forget token of the mini-program, which WeChat refused, unless it
        was already replaced"""
        with Transaction().new_transaction(), without_check_access():
            cls.delete(cls.search([
                        ('appid', '=', program.appid),
                        ('token', '=', token),
                        ]))

    @classmethod
    def _store(cls, appid, token, expire):
        # In a transaction of its own: the token serves the other processes
        # at once, whatever becomes of the delivery
        try:
            with Transaction().new_transaction(), without_check_access():
                tokens = cls.search([('appid', '=', appid)])
                if tokens:
                    cls.write(tokens, {'token': token, 'expire': expire})
                else:
                    cls.create([{
                                'appid': appid,
                                'token': token,
                                'expire': expire,
                                }])
        except (backend.DatabaseIntegrityError,
                backend.DatabaseOperationalError, SQLConstraintError):
            # Another process stored one at the same moment; stable_token
            # gave both the same token
            logger.info("WeChat access token stored concurrently")
