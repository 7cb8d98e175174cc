# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""WeChat's code2Session: turns the code of wx.login into the user's openid.
The app secret and the session_key never leave this module."""
import json
import logging
import urllib.error
import urllib.parse
import urllib.request

from trytond.config import config

from .api import error

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = 'https://api.weixin.qq.com'
TIMEOUT = 5

# errcode of jscode2session -> (HTTP status, API code, message id)
ERRORS = {
    40029: (401, 'wechat_invalid_code', 'msg_wechat_invalid_code'),
    40163: (401, 'wechat_invalid_code', 'msg_wechat_invalid_code'),
    45011: (429, 'wechat_rate_limited', 'msg_wechat_rate_limited'),
    40226: (403, 'wechat_blocked', 'msg_wechat_blocked'),
    -1: (503, 'wechat_busy', 'msg_wechat_busy'),
    }


def settings():
    appid = config.get('wechat', 'appid', default=None)
    secret = config.get('wechat', 'secret', default=None)
    if not appid or not secret:
        raise error(503, 'not_configured', 'msg_wechat_not_configured')
    base_url = config.get('wechat', 'base_url', default=DEFAULT_BASE_URL)
    return base_url.rstrip('/'), appid, secret


def code2session(code):
    "Return the openid (and unionid) of a wx.login code, or raise"
    base_url, appid, secret = settings()
    query = urllib.parse.urlencode({
            'appid': appid,
            'secret': secret,
            'js_code': code,
            'grant_type': 'authorization_code',
            })
    url = '%s/sns/jscode2session?%s' % (base_url, query)
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
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
