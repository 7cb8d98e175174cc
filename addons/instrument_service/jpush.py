# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""Push to the engineers' phones through JPush's REST push API (v3).

Off unless [jpush] app_key and master_secret are set (the master secret
best in the TRYTOND_JPUSH__MASTER_SECRET environment variable). The app
sets the alias of its user, jpush.alias(user id), with JPush's SDK when an
engineer logs in.

POST {base_url}/v3/push with HTTP Basic app_key:master_secret answers 200
with a msg_id, or an HTTP error with {"error": {"code", "message"}}: 1011,
no device has the alias, is the recipient's affair and is not retried;
429 (frequency limits) and 5xx are retried; any other error is a
configuration or content problem and is not.

Each push carries a cid (GET {base_url}/v3/push/cid), kept by the notice
from its first attempt: JPush answers a push whose cid it has already
pushed with the first result instead of pushing again, so resending after
a crash that lost JPush's answer does not notify twice. A cid is valid for
a day, longer than the notices' retries."""
import base64
import json
import urllib.error
import urllib.request

from trytond import config

from .exceptions import DeliveryFailed, DeliveryRetry

BASE_URL = 'https://api.jpush.cn'
TIMEOUT = 10
# 1011: cannot find user by this audience
NO_AUDIENCE = 1011
# JPush keeps an offline notification this long (seconds)
TIME_TO_LIVE = 86400


def enabled():
    return bool(config.get('jpush', 'app_key')
        and config.get('jpush', 'master_secret'))


def alias(user_id):
    "The JPush alias of a Tryton user's app"
    return 'u%s' % user_id


def new_cid():
    "A new push identifier of JPush, or raise DeliveryRetry / DeliveryFailed"
    answer = _call('GET', '/v3/push/cid?count=1')
    cids = answer.get('cidlist')
    if not (isinstance(cids, list) and cids and isinstance(cids[0], str)):
        raise DeliveryRetry('JPush cid: unexpected answer %r' % (answer,))
    return cids[0]


def push(alias, title, text, extras, cid):
    """Push a notification to the devices of alias; return the notice's
    (state, external id, outcome) or raise DeliveryRetry / DeliveryFailed"""
    alert = text or title
    body = {
        'cid': cid,
        'platform': 'all',
        'audience': {'alias': [alias]},
        'notification': {
            'alert': alert,
            'android': {'alert': alert, 'title': title, 'extras': extras},
            'ios': {'alert': {'title': title, 'body': alert},
                'sound': 'default', 'extras': extras},
            },
        'options': {
            'time_to_live': TIME_TO_LIVE,
            'apns_production': config.getboolean(
                'jpush', 'apns_production', default=True),
            },
        }
    try:
        answer = _call('POST', '/v3/push', body)
    except _Refused as refused:
        return 'refused', refused.answer.get('msg_id'), str(refused)
    return 'sent', str(answer.get('msg_id') or ''), None


class _Refused(Exception):
    "No device has the alias (1011)"

    def __init__(self, outcome, answer):
        super().__init__(outcome)
        self.answer = answer


def _call(method, path, body=None):
    "The JSON answer of JPush's REST API, or raise"
    credentials = '%s:%s' % (
        config.get('jpush', 'app_key'), config.get('jpush', 'master_secret'))
    request = urllib.request.Request(
        config.get('jpush', 'base_url', default=BASE_URL).rstrip('/')
        + path,
        data=json.dumps(body).encode('utf-8') if body is not None else None,
        method=method,
        headers={
            'Content-Type': 'application/json',
            'Authorization': 'Basic ' + base64.b64encode(
                credentials.encode('utf-8')).decode('ascii'),
            })
    try:
        with urllib.request.urlopen(request, timeout=config.getfloat(
                    'jpush', 'timeout', default=TIMEOUT)) as response:
            return _json(response.read())
    except urllib.error.HTTPError as http_error:
        answer = _json(http_error.read())
        error = answer.get('error') if isinstance(
            answer.get('error'), dict) else {}
        outcome = 'HTTP %s, JPush %s: %s' % (http_error.code,
            error.get('code'), error.get('message'))
        if error.get('code') == NO_AUDIENCE:
            raise _Refused(outcome, answer)
        if http_error.code == 429 or http_error.code >= 500:
            raise DeliveryRetry(outcome)
        raise DeliveryFailed(outcome)
    except (OSError, ValueError) as failure:
        # Unreachable, timed out, cut off or an answer that is not JSON
        raise DeliveryRetry('JPush: %s' % (failure,))


def _json(data):
    try:
        answer = json.loads(data or b'{}')
    except ValueError:
        answer = {}
    return answer if isinstance(answer, dict) else {}
