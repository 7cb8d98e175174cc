# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""Device sessions, the engineers' tokens: one per login on a device, not
bound to the client's address, kept across restarts, pushed on by use;
revoked by logging out, from the back office, by a password change and by
deactivating the user or the engineer profile."""
import datetime as dt
import hashlib
import http.client
import json
import secrets
import unittest

from .server import APIServer, BackOfficeError

MODEL = 'model.instrument_service_api.device_session.'
TABLE = 'instrument_service_api_device_session'
DAYS = 12  # [instrument_service_api] device_session_days of the server
DEVICE = "华为 Mate 60 / 工程师App 1.0"
USER_AGENT = 'EngineerApp/1.0 (HarmonyOS 4.0; HUAWEI Mate 60)'
# Engineers by what their test does to them
MAIN, OTHER, PASSWORD, USER, PROFILE, LIMITED = range(6)


class DeviceSessionTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = APIServer(engineers=6, config={
                'instrument_service_api': {'device_session_days': str(DAYS)},
                # Reached in three failures rather than six, which Tryton
                # would make last about a minute of delays
                'session': {'max_attempt': '2'},
                }).start()
        cls.engineers = cls.server.people['engineers']

    @classmethod
    def tearDownClass(cls):
        log = cls.server.server_log()
        cls.server.stop()
        assert 'Traceback' not in log, log[log.index('Traceback'):][:3000]

    # ---- helpers -----------------------------------------------------------

    def login(self, index, device_name=None, headers=None, expect=200):
        person = self.engineers[index]
        data = {'login': person['login'], 'password': person['password']}
        if device_name is not None:
            data['device_name'] = device_name
        status, body = self.server.call('POST', '/auth/login', data,
            headers=headers)
        self.assertEqual(status, expect, body)
        return body

    def status(self, token, source='127.0.0.1'):
        "The status of GET /engineer/inbox with token from address source"
        connection = http.client.HTTPConnection('127.0.0.1',
            self.server.port, timeout=60, source_address=(source, 0))
        try:
            connection.request('GET', '/api/v1/engineer/inbox',
                headers={'Authorization': 'Bearer ' + token})
            response = connection.getresponse()
            body = json.loads(response.read())
        finally:
            connection.close()
        if response.status != 200:
            self.assertEqual(body['error']['code'], 'unauthorized')
        return response.status

    def row(self, token, *columns):
        "Columns of the session of token, found by the hash of its secret"
        rows = self.server.sql('SELECT %s FROM %s WHERE secret_hash = %%s'
            % (', '.join(columns), TABLE), (digest(token),))
        self.assertEqual(len(rows), 1, token)
        return rows[0]

    def session_id(self, token):
        return self.row(token, 'id')[0]

    def assertAround(self, value, expected, delta=dt.timedelta(minutes=5)):
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        self.assertLess(abs(value - expected), delta, (value, expected))

    # ---- the token ---------------------------------------------------------

    def test_login_answer(self):
        "The token is e.<secret>, valid the configured days"
        body = self.login(MAIN, DEVICE, headers={'User-Agent': USER_AGENT})
        token = body['token']
        self.assertRegex(token, r'^e\.[A-Za-z0-9_-]{43}$')
        self.assertEqual(body['expires_in'], DAYS * 86400)
        self.assertEqual(body['engineer']['id'], self.engineers[MAIN]['id'])
        user, device, agent, ip, expires, last_used = self.row(token,
            '"user"', 'device_name', 'user_agent', 'last_ip', 'expires',
            'last_used')
        self.assertEqual((user, device, agent, ip),
            (self.engineers[MAIN]['id'], DEVICE, USER_AGENT, '127.0.0.1'))
        now = dt.datetime.utcnow()
        self.assertAround(expires, now + dt.timedelta(days=DAYS))
        self.assertAround(last_used, now)
        self.assertEqual(self.status(token), 200)

    def test_device_name_checked(self):
        "At most 100 characters; not text, or unknown fields: 422"
        for data, field in [
                ({'device_name': 'x' * 101}, 'device_name'),
                ({'device_name': 5}, 'device_name'),
                ({'device_name': 'a\x00b'}, 'device_name'),
                ({'device': 'phone'}, 'device')]:
            with self.subTest(data=data):
                person = self.engineers[MAIN]
                status, body = self.server.call('POST', '/auth/login', {
                        'login': person['login'],
                        'password': person['password'], **data})
                self.assertEqual(status, 422, body)
                self.assertEqual(list(body['error']['fields']), [field])
        token = self.login(MAIN, 'y' * 100)['token']
        self.assertEqual(self.row(token, 'device_name')[0], 'y' * 100)

    def test_other_address(self):
        "A phone that moves from Wi-Fi to 4G keeps its token"
        token = self.login(MAIN)['token']
        self.assertEqual(self.status(token, '127.0.0.2'), 200)
        self.assertEqual(self.status(token, '127.0.0.3'), 200)
        self.assertEqual(self.status(token), 200)

    def test_restart(self):
        "The session is in the database: a restarted server takes it"
        token = self.login(MAIN)['token']
        self.server.process.terminate()
        self.server.process.wait(30)
        self.server.launch()
        self.assertEqual(self.status(token, '127.0.0.2'), 200)

    def test_reads_write_nothing(self):
        "Within an hour of its last use, a use writes nothing"
        token = self.login(MAIN)['token']
        before = self.row(token, 'last_used', 'write_date')
        for source in ['127.0.0.1', '127.0.0.2', '127.0.0.1']:
            self.assertEqual(self.status(token, source), 200)
        self.assertEqual(self.row(token, 'last_used', 'write_date'), before)

    def test_renewal_and_expiry(self):
        """Used an hour after its last use, the session records the use and
        its expiry moves on; once expired it answers 401"""
        token = self.login(MAIN)['token']
        old = dt.datetime.utcnow() - dt.timedelta(days=DAYS - 1)
        soon = dt.datetime.utcnow() + dt.timedelta(days=1)
        self.server.sql('UPDATE %s SET last_used = %%s, expires = %%s '
            'WHERE id = %%s' % TABLE, (old, soon, self.session_id(token)))
        self.assertEqual(self.status(token, '127.0.0.2'), 200)
        last_used, expires, ip = self.row(token,
            'last_used', 'expires', 'last_ip')
        now = dt.datetime.utcnow()
        self.assertAround(last_used, now)
        self.assertAround(expires, now + dt.timedelta(days=DAYS))
        self.assertEqual(ip, '127.0.0.2')

        past = dt.datetime.utcnow() - dt.timedelta(seconds=1)
        self.server.sql('UPDATE %s SET expires = %%s WHERE id = %%s'
            % TABLE, (past, self.session_id(token)))
        self.assertEqual(self.status(token), 401)
        # Not pushed on by the refused use
        self.assertAround(self.row(token, 'expires')[0], past,
            dt.timedelta(seconds=2))

    def test_forged_and_old_tokens(self):
        """Tokens of another shape, an unknown secret, and the former
        e.<user>.<ir.session key> of a real Tryton session: 401"""
        user = self.engineers[OTHER]
        token = self.login(OTHER)['token']
        for forged in ['e.' + secrets.token_urlsafe(32), token + 'x',
                token[:-1], 'e.%s.%s' % (user['id'], token[2:]),
                'e.' + digest(token), 'e.', 'e..', 'e.' + 'x' * 5000,
                'e.%s.%s' % (user['id'], self.tryton_session(OTHER))]:
            with self.subTest(token=forged[:60]):
                self.assertEqual(self.status(forged), 401)
        self.assertEqual(self.status(token), 200)

    def tryton_session(self, index):
        "The key of a back-office (ir.session) login of engineer index"
        person = self.engineers[index]
        connection = http.client.HTTPConnection('127.0.0.1',
            self.server.port, timeout=60)
        try:
            connection.request('POST', '/%s/rpc/' % self.server.database,
                json.dumps({'id': 1, 'method': 'common.db.login',
                        'params': [person['login'],
                            {'password': person['password']}, 'zh_CN']}),
                headers={'Content-Type': 'application/json'})
            _, key = json.loads(connection.getresponse().read())[
                'result'][:2]
        finally:
            connection.close()
        return key

    def test_no_secret_in_clear(self):
        "The database holds the sha256 of the secret, never the secret"
        token = self.login(OTHER, DEVICE)['token']
        secret = token[2:]
        rows = self.server.sql('SELECT * FROM %s' % TABLE)
        self.assertTrue(rows)
        dump = repr(rows)
        self.assertNotIn(secret, dump)
        self.assertIn(hashlib.sha256(secret.encode()).hexdigest(), dump)
        self.assertNotIn(secret, repr(self.server.sql(
                    'SELECT * FROM ir_session')))

    # ---- revocation --------------------------------------------------------

    def test_logout(self):
        "Logging out revokes that session, not the engineer's others"
        phone = self.login(MAIN, "phone")['token']
        tablet = self.login(MAIN, "tablet")['token']
        status, _ = self.server.call('POST', '/auth/logout', {},
            token=phone)
        self.assertEqual(status, 204)
        self.assertEqual(self.status(phone), 401)
        self.assertEqual(self.status(tablet, '127.0.0.2'), 200)
        revoked, = self.row(phone, 'revoked')
        self.assertAround(revoked, dt.datetime.utcnow())
        self.assertEqual(self.server.call('POST', '/auth/logout', {},
                token=phone)[0], 401)

    def test_password_change(self):
        """A new password revokes every session of that engineer, and no
        other's"""
        tokens = [self.login(PASSWORD, name)['token']
            for name in ["phone", "tablet"]]
        other = self.login(OTHER)['token']
        self.server.back_office('model.res.user.write',
            [self.engineers[PASSWORD]['id']],
            {'password': secrets.token_urlsafe(18)})
        for token in tokens:
            self.assertEqual(self.status(token), 401)
        self.assertEqual(self.status(other), 200)
        # Writing something else revokes nothing
        token = self.login(OTHER)['token']
        self.server.back_office('model.res.user.write',
            [self.engineers[OTHER]['id']], {'name': 'engineer01 改名'})
        self.assertEqual(self.status(token), 200)

    def test_user_deactivated(self):
        """A deactivated user's sessions are revoked (reactivating it does
        not bring them back); an inactive user's token is refused even
        before any revocation"""
        user_id = self.engineers[USER]['id']
        token = self.login(USER)['token']
        other = self.login(OTHER)['token']
        self.server.sql('UPDATE res_user SET active = %s WHERE id = %s',
            (False, user_id))
        self.assertEqual(self.status(token), 401)
        self.server.sql('UPDATE res_user SET active = %s WHERE id = %s',
            (True, user_id))
        self.assertEqual(self.status(token), 200)

        self.server.back_office('model.res.user.write', [user_id],
            {'active': False})
        self.assertEqual(self.status(token), 401)
        self.assertIsNotNone(self.row(token, 'revoked')[0])
        self.server.back_office('model.res.user.write', [user_id],
            {'active': True})
        self.assertEqual(self.status(token), 401)
        self.assertEqual(self.status(other), 200)
        self.assertEqual(self.status(self.login(USER)['token']), 200)

    def test_engineer_profile_deactivated(self):
        """Making the engineer profile inactive revokes the sessions of its
        user; an inactive profile's token is refused even before"""
        employee = self.engineers[PROFILE]['employee']
        engineer, = self.server.back_office(
            'model.instrument_service.engineer.search',
            [('employee', '=', employee)], 0, None, None,
            login='dispatcher')
        token = self.login(PROFILE)['token']
        other = self.login(OTHER)['token']
        self.server.sql('UPDATE instrument_service_engineer SET active = %s '
            'WHERE id = %s', (False, engineer))
        self.assertEqual(self.status(token), 401)
        self.server.sql('UPDATE instrument_service_engineer SET active = %s '
            'WHERE id = %s', (True, engineer))
        self.assertEqual(self.status(token), 200)

        self.server.back_office('model.instrument_service.engineer.write',
            [engineer], {'active': False}, login='dispatcher')
        self.assertEqual(self.status(token), 401)
        self.server.back_office('model.instrument_service.engineer.write',
            [engineer], {'active': True}, login='dispatcher')
        self.assertEqual(self.status(token), 401)
        self.assertEqual(self.status(other), 200)

    # ---- the back office ---------------------------------------------------

    def test_dispatcher_revokes(self):
        """The dispatcher lists every engineer's sessions and revokes one;
        nobody reads or writes the hash"""
        main = self.login(MAIN, DEVICE)['token']
        other = self.login(OTHER)['token']
        ids = self.server.back_office(MODEL + 'search',
            [('user', '=', self.engineers[MAIN]['id']),
                ('state', '=', 'active')], 0, None, None,
            login='dispatcher')
        self.assertIn(self.session_id(main), ids)
        rows = self.server.back_office(MODEL + 'read',
            [self.session_id(main), self.session_id(other)],
            ['device_name', 'last_ip', 'state', 'create_date', 'last_used',
                'expires', 'user'], login='dispatcher')
        self.assertEqual([(r['device_name'], r['last_ip'], r['state'])
                for r in rows], [(DEVICE, '127.0.0.1', 'active'),
                (None, '127.0.0.1', 'active')])
        for method, args in [
                ('read', [[self.session_id(main)], ['secret_hash']]),
                ('write', [[self.session_id(main)],
                        {'secret_hash': digest(other)}]),
                ('write', [[self.session_id(main)],
                        {'expires': '2099-01-01 00:00:00'}]),
                ('create', [[{'user': self.engineers[MAIN]['id'],
                                'secret_hash': 'x' * 64}]]),
                ('delete', [[self.session_id(main)]])]:
            for login in ['dispatcher', 'admin']:
                with self.subTest(method=method, login=login), \
                        self.assertRaises(BackOfficeError):
                    self.server.back_office(MODEL + method, *args,
                        login=login)
        self.assertEqual(self.status(main), 200)

        self.server.back_office(MODEL + 'revoke', [self.session_id(main)],
            login='dispatcher')
        self.assertEqual(self.status(main), 401)
        self.assertEqual(self.status(other), 200)
        state, = self.server.back_office(MODEL + 'read',
            [self.session_id(main)], ['state'], login='dispatcher')
        self.assertEqual(state['state'], 'revoked')
        # The res.user form lists them too
        user, = self.server.back_office('model.res.user.read',
            [self.engineers[MAIN]['id']], ['device_sessions'])
        self.assertIn(self.session_id(main), user['device_sessions'])

    def test_engineer_sees_own_sessions(self):
        """An engineer lists and revokes their own sessions in the back
        office, and can neither read nor revoke another's"""
        mine = self.login(OTHER, "mine")['token']
        theirs = self.login(MAIN, "theirs")['token']
        login = self.engineers[OTHER]['login']
        ids = self.server.back_office(MODEL + 'search', [], 0, None, None,
            login=login)
        self.assertIn(self.session_id(mine), ids)
        self.assertNotIn(self.session_id(theirs), ids)
        for method, args in [
                ('read', [[self.session_id(theirs)], ['device_name']]),
                ('revoke', [[self.session_id(theirs)]])]:
            with self.subTest(method=method), \
                    self.assertRaises(BackOfficeError):
                self.server.back_office(MODEL + method, *args, login=login)
        self.assertEqual(self.status(theirs), 200)
        self.server.back_office(MODEL + 'revoke', [self.session_id(mine)],
            login=login)
        self.assertEqual(self.status(mine), 401)

    # ---- Tryton's login stays in front -------------------------------------

    def test_wrong_passwords_rate_limited(self):
        """Failed logins count as Tryton counts them: past [session]
        max_attempt, even the right password answers 429"""
        person = self.engineers[LIMITED]
        for _ in range(3):
            status, body = self.server.call('POST', '/auth/login', {
                    'login': person['login'], 'password': 'wrong password'})
            self.assertEqual((status, body['error']['code']),
                (401, 'unauthorized'))
        for password in ['wrong password', person['password']]:
            status, body = self.server.call('POST', '/auth/login', {
                    'login': person['login'], 'password': password})
            self.assertEqual((status, body['error']['code']),
                (429, 'rate_limited'))
        self.assertEqual(self.server.count(TABLE, '"user" = %s',
                (person['id'],)), 0)


def digest(token):
    return hashlib.sha256(token[2:].encode()).hexdigest()

