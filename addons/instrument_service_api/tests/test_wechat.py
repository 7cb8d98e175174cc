# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""Customer logins: WeChat's jscode2session against a local stand-in that
speaks its documented protocol, and the development login by phone."""
import json
import re
import threading
import unittest
import uuid
from unittest import mock

from trytond.config import config

from trytond.modules.instrument_service_api import routes_auth

from .server import APPID, APIServer

JSCODE2SESSION_QUERY = {'appid', 'secret', 'js_code', 'grant_type'}
# One server (with its WeChat stand-in) for the WeChat and the phone logins
SERVER = None


def setUpModule():
    global SERVER
    SERVER = APIServer(engineers=1).start()
    unittest.addModuleCleanup(SERVER.stop)


class WeChatLoginTestCase(unittest.TestCase):
    "POST /auth/wechat with WeChat answering each of its documented answers"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = SERVER
        # Every answer of the API to these tests, to look for secrets in
        cls.answers = []

    def login(self, code, headers=None):
        status, response_headers, content = self.server.request('POST',
            '/auth/wechat', {'code': code}, headers=headers)
        self.answers.append(str(response_headers).encode() + content)
        return status, response_headers, json.loads(content)

    def assert_error(self, code, status, error_code, retry_after=False):
        calls = len(self.server.wechat.calls)
        users = self.server.count('web_user')
        answer_status, headers, body = self.login(code)
        self.assertEqual((answer_status, body['error']['code']),
            (status, error_code), body)
        self.assertIsInstance(body['error']['message'], str)
        self.assertNotIn('token', body)
        if retry_after:
            self.assertRegex(headers.get('Retry-After') or '', r'^\d+$')
        else:
            self.assertIsNone(headers.get('Retry-After'))
        # WeChat was asked once, and nobody was created
        self.assertEqual(len(self.server.wechat.calls), calls + 1)
        self.assertEqual(self.server.count('web_user'), users)
        return body

    def test_login_creates_the_customer_once(self):
        "The first login creates the customer, the next ones find it"
        openid = 'o' + uuid.uuid4().hex
        users = self.server.count('web_user')
        status, _, first = self.login('openid:' + openid)
        self.assertEqual(status, 200, first)
        self.assertTrue(first['customer']['is_new'])
        self.assertEqual(first['token_type'], 'Bearer')
        self.assertTrue(first['token'].startswith('c.'))
        self.assertGreater(first['expires_in'], 0)
        self.assertEqual(self.server.count('web_user'), users + 1)

        status, _, second = self.login('openid:' + openid)
        self.assertEqual(status, 200, second)
        self.assertFalse(second['customer']['is_new'])
        self.assertEqual(second['customer']['id'], first['customer']['id'])
        self.assertNotEqual(second['token'], first['token'])
        self.assertEqual(self.server.count('web_user'), users + 1)
        self.assertEqual(self.server.count('web_user',
                'wechat_openid = %s', (openid,)), 1)

        # both tokens work, for the same customer
        for token in [first['token'], second['token']]:
            status, body = self.server.call('GET', '/me', token=token)
            self.assertEqual(status, 200, body)
        # another openid is another customer
        status, _, other = self.login('openid:o' + uuid.uuid4().hex)
        self.assertTrue(other['customer']['is_new'])
        self.assertNotEqual(other['customer']['id'], first['customer']['id'])

    def test_concurrent_first_logins(self):
        "Simultaneous first logins of one WeChat user create one customer"
        openid = 'o' + uuid.uuid4().hex
        results = []

        def login():
            results.append(self.server.call('POST', '/auth/wechat',
                    {'code': 'openid:' + openid}))
        threads = [threading.Thread(target=login) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        self.assertEqual([status for status, _ in results], [200] * 6,
            results)
        self.assertEqual(len({body['customer']['id'] for _, body in results}),
            1)
        self.assertEqual(
            [body['customer']['is_new'] for _, body in results].count(True),
            1)
        self.assertEqual(self.server.count('web_user',
                'wechat_openid = %s', (openid,)), 1)
        # and each one got a working token
        for _, body in results:
            status, _ = self.server.call('GET', '/me', token=body['token'])
            self.assertEqual(status, 200)

    def test_jscode2session_query(self):
        "The backend asks WeChat exactly as WeChat documents"
        code = 'openid:o' + uuid.uuid4().hex
        status, _, body = self.login(code)
        self.assertEqual(status, 200, body)
        path, query = self.server.wechat.calls[-1]
        self.assertEqual(path, '/sns/jscode2session')
        self.assertEqual(set(query), JSCODE2SESSION_QUERY)
        self.assertEqual(query, {
                'appid': APPID,
                'secret': self.server.secret,
                'js_code': code,
                'grant_type': 'authorization_code',
                })

    def test_invalid_code(self):
        "40029: the code is invalid or used; the client calls wx.login again"
        body = self.assert_error('errcode:40029', 401, 'wechat_invalid_code')
        # the stand-in answers 40029 for any code it does not know, as WeChat
        self.assert_error('used-code-%s' % uuid.uuid4().hex, 401,
            'wechat_invalid_code')
        # the message tells the client what to do
        _, _, english = self.login('errcode:40029',
            headers={'Accept-Language': 'en'})
        self.assertIn('wx.login', english['error']['message'])
        self.assertTrue(body['error']['message'])

    def test_rate_limited(self):
        "45011: WeChat's rate limit, answered 429 with Retry-After"
        self.assert_error('errcode:45011', 429, 'wechat_rate_limited',
            retry_after=True)

    def test_busy(self):
        "-1: WeChat is busy, answered 503 with Retry-After"
        self.assert_error('errcode:-1', 503, 'wechat_busy', retry_after=True)

    def test_high_risk_user(self):
        "40226: WeChat refuses a high-risk user"
        self.assert_error('errcode:40226', 403, 'wechat_blocked')

    def test_unknown_errcode(self):
        "Another errcode is a WeChat error, with the errcode in the message"
        body = self.assert_error('errcode:40999', 502, 'wechat_error')
        self.assertIn('40999', body['error']['message'])

    def test_wechat_unavailable(self):
        "WeChat unreachable or answering something else than its protocol"
        for code in ['down', 'garbage', 'array', 'http:500', 'http:404']:
            with self.subTest(code=code):
                self.assert_error(code, 502, 'wechat_unavailable')

    def test_bad_code(self):
        "A missing, empty or too long code is refused before asking WeChat"
        calls = len(self.server.wechat.calls)
        for data in [{}, {'code': ''}, {'code': 5}, {'code': 'x' * 129},
                {'code': 'openid:x', 'other': 1}]:
            with self.subTest(data=data):
                status, body = self.server.call('POST', '/auth/wechat', data)
                self.assertEqual((status, body['error']['code']),
                    (422, 'invalid_field'), body)
        self.assertEqual(len(self.server.wechat.calls), calls)

    def test_secrets_never_leak(self):
        "Neither the app secret nor a session_key is in an answer or the log"
        for code in ['openid:o' + uuid.uuid4().hex, 'errcode:40029',
                'errcode:45011', 'errcode:-1', 'errcode:40226',
                'errcode:40999', 'down', 'garbage', 'http:500']:
            self.login(code)
        self.assertTrue(self.server.wechat.session_keys)
        log = self.server.server_log()
        # the log does say what happened
        self.assertIn('jscode2session', log)
        secrets = [self.server.secret] + self.server.wechat.session_keys
        for secret in secrets:
            self.assertNotIn(secret, log)
            for answer in self.answers:
                self.assertNotIn(secret.encode(), answer)


class DevLoginTestCase(unittest.TestCase):
    "The development login by phone, on in the test server's configuration"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = SERVER

    def phone(self):
        return '139%08d' % (uuid.uuid4().int % 10 ** 8)

    def request_code(self, phone):
        status, body = self.server.call('POST', '/auth/dev/code',
            {'phone': phone})
        self.assertEqual(status, 204, body)
        codes = re.findall(
            r'development login code for %s: (\d{6})' % re.escape(phone),
            self.server.server_log())
        self.assertTrue(codes)
        return codes[-1]

    def login(self, phone, code):
        return self.server.call('POST', '/auth/dev/login',
            {'phone': phone, 'code': code})

    @staticmethod
    def wrong(code):
        return '%06d' % ((int(code) + 1) % 10 ** 6)

    def test_login(self):
        "The code of the log gives a token that works, once"
        phone = self.phone()
        code = self.request_code(phone)
        status, body = self.login(phone, code)
        self.assertEqual(status, 200, body)
        self.assertTrue(body['customer']['is_new'])
        token = body['token']
        status, me = self.server.call('GET', '/me', token=token)
        self.assertEqual(status, 200, me)
        self.assertEqual(me['contact']['phone'], phone)
        # the code is used up
        status, body = self.login(phone, code)
        self.assertEqual((status, body['error']['code']),
            (401, 'unauthorized'))
        # a second login finds the same customer
        status, again = self.login(phone, self.request_code(phone))
        self.assertEqual(status, 200, again)
        self.assertFalse(again['customer']['is_new'])
        status, _ = self.server.call('GET', '/me', token=again['token'])
        self.assertEqual(status, 200)

    def test_wrong_code(self):
        "A wrong code, or a code of another phone, is refused"
        phone, other = self.phone(), self.phone()
        code = self.request_code(phone)
        for attempt in [(phone, self.wrong(code)), (other, code),
                (self.phone(), '123456')]:
            with self.subTest(attempt=attempt):
                status, body = self.login(*attempt)
                self.assertEqual((status, body['error']['code']),
                    (401, 'unauthorized'), body)
                self.assertNotIn('token', body)
        status, body = self.login(phone, code)
        self.assertEqual(status, 200, body)

    def test_five_wrong_attempts_lock_the_code(self):
        "After 5 wrong codes even the right one is refused"
        phone = self.phone()
        code = self.request_code(phone)
        for _ in range(5):
            status, body = self.login(phone, self.wrong(code))
            self.assertEqual(status, 401, body)
        status, body = self.login(phone, code)
        self.assertEqual((status, body['error']['code']),
            (401, 'unauthorized'), body)
        # a new code unlocks it
        status, body = self.login(phone, self.request_code(phone))
        self.assertEqual(status, 200, body)

    def test_four_wrong_attempts_do_not(self):
        phone = self.phone()
        code = self.request_code(phone)
        for _ in range(4):
            status, _ = self.login(phone, self.wrong(code))
            self.assertEqual(status, 401)
        status, body = self.login(phone, code)
        self.assertEqual(status, 200, body)

    def test_bad_input(self):
        for path, data in [
                ('/auth/dev/code', {'phone': 'not a phone'}),
                ('/auth/dev/code', {}),
                ('/auth/dev/login', {'phone': self.phone()}),
                ('/auth/dev/login', {'phone': 1, 'code': '123456'}),
                ]:
            with self.subTest(path=path, data=data):
                status, body = self.server.call('POST', path, data)
                self.assertEqual((status, body['error']['code']),
                    (422, 'invalid_field'), body)

    def test_code_not_in_answer(self):
        "The code is in the server log only"
        phone = self.phone()
        status, headers, content = self.server.request('POST',
            '/auth/dev/code', {'phone': phone})
        self.assertEqual((status, content), (204, b''))
        code = re.findall(r'development login code for %s: (\d{6})' % phone,
            self.server.server_log())[-1]
        self.assertNotIn(code, str(headers))


class NotConfiguredTestCase(unittest.TestCase):
    """A server with no WeChat appid and without [instrument_service_api]
    dev_login"""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = APIServer(engineers=1, config={
                'wechat': {'appid': ''},
                'instrument_service_api': {'dev_login': None},
                }).start()
        cls.addClassCleanup(cls.server.stop)

    def test_wechat_not_configured(self):
        status, headers, content = self.server.request('POST', '/auth/wechat',
            {'code': 'openid:o' + uuid.uuid4().hex})
        body = json.loads(content)
        self.assertEqual((status, body['error']['code']),
            (503, 'not_configured'), body)
        self.assertEqual(self.server.wechat.calls, [])
        self.assertNotIn(self.server.secret.encode(), content)

    def test_dev_login_off_by_default(self):
        with open(self.server.config_path) as fp:
            self.assertNotIn('dev_login', fp.read())
        for path, data in [
                ('/auth/dev/code', {'phone': '13800000000'}),
                ('/auth/dev/login', {'phone': '13800000000',
                        'code': '123456'}),
                ]:
            with self.subTest(path=path):
                status, body = self.server.call('POST', path, data)
                self.assertEqual((status, body['error']['code']),
                    (404, 'not_found'), body)
        self.assertNotIn('development login code', self.server.server_log())


class DevLoginSettingTestCase(unittest.TestCase):
    "[instrument_service_api] dev_login: a boolean or database names"

    def check(self, value, database, expected):
        options = {'dev_login': value, 'database': database}

        def get(section, option, default=None):
            if section == 'instrument_service_api' and option in options:
                return options[option]
            return default
        with mock.patch.object(config, 'get', side_effect=get):
            self.assertEqual(routes_auth.dev_login_enabled(), expected,
                (value, database))

    def test_setting(self):
        for value, database, expected in [
                (None, 'demo', False),
                ('', 'demo', False),
                ('False', 'demo', False),
                ('0', 'demo', False),
                ('True', 'demo', True),
                ('1', 'prod', True),
                ('demo', 'demo', True),
                ('demo', 'production', False),
                ('demo, staging', 'staging', True),
                ('demo,staging', 'demo2', False),
                ]:
            self.check(value, database, expected)
