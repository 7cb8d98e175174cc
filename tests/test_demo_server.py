"""End to end: the demo database, served by a real trytond, over HTTP.

Builds the demo database with scripts/build_demo.py into a temporary folder
(SQLite, the embedded default), starts `trytond` on a free port against it
and talks to it like the back office does: the sao page, a JSON-RPC login
as the dispatcher, the dispatcher's preferences and the orders; and like the
mobile clients do, through the API of the README's "API in 5 minutes": the
customers' profiles and their files.

The build runs in a subprocess because trytond keeps its configuration and
pools per process; the server is stopped whatever happens.
"""
import base64
import datetime as dt
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'scripts'))
from build_demo import CUSTOMERS  # noqa: E402
SAO_ROOT = ROOT / '.cache' / 'sao' / 'package'
DB = 'demo'
TYPES = ['repair', 'maintenance', 'recycle', 'rental', 'training',
    'validation', 'selection', 'installation']
STEPS = ['accepted', 'visit', 'assessment', 'quote', 'work', 'report',
    'rating', 'done']
SHANGHAI = ZoneInfo('Asia/Shanghai')
MAGIC = {'image/jpeg': b'\xff\xd8\xff', 'application/pdf': b'%PDF-'}


def to_datetime(value):
    "A datetime of Tryton's JSON-RPC (naive UTC) as an aware datetime"
    if value is None:
        return None
    value = dt.datetime(value['year'], value['month'], value['day'],
        value['hour'], value['minute'], value['second'],
        value.get('microsecond', 0))
    return value.replace(tzinfo=dt.timezone.utc)


def files_of(view):
    "Every file (a dict with url and mimetype) in an order view of the API"
    if isinstance(view, dict):
        if 'url' in view and 'mimetype' in view:
            yield view
        for value in view.values():
            yield from files_of(value)
    elif isinstance(view, list):
        for value in view:
            yield from files_of(value)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def clean_env():
    "The environment without the test runner's database settings"
    env = {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_') and k not in {'DB_NAME', 'DB_CACHE'}}
    env['PYTHONUNBUFFERED'] = '1'
    return env


def trytond_command():
    script = Path(sys.executable).parent / 'trytond'
    if script.exists():
        return [str(script)]
    found = shutil.which('trytond')
    if not found:
        raise unittest.SkipTest('trytond command not found')
    return [found]


class DemoServerTestCase(unittest.TestCase):
    "make demo's database, served and queried over HTTP"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if os.environ.get('TRYTOND_DATABASE__URI', '').startswith(
                'postgresql'):
            raise unittest.SkipTest(
                "the demo is the embedded SQLite default: "
                "tested in the SQLite pass")
        cls.tmp = Path(tempfile.mkdtemp(prefix='demo-e2e-'))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        env = clean_env()

        result_file = cls.tmp / 'result.json'
        build = subprocess.run([sys.executable, 'scripts/build_demo.py',
                '--db', DB, '--data-path', str(cls.tmp / 'data'),
                '--force', '--quiet', '--json', str(result_file)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        if build.returncode:
            raise AssertionError('build_demo.py failed:\n'
                + build.stdout[-3000:] + build.stderr[-5000:])
        cls.result = json.loads(result_file.read_text())

        # The server: the demo's configuration files plus one of the test
        # (a free port, the absolute sao folder)
        cls.port = free_port()
        server_conf = cls.tmp / 'server.conf'
        server_conf.write_text(
            f'[web]\nlisten = 127.0.0.1:{cls.port}\nroot = {SAO_ROOT}\n')
        cls.log_path = cls.tmp / 'server.log'
        cls.log = open(cls.log_path, 'w')
        cls.addClassCleanup(cls.log.close)
        cls.server = subprocess.Popen([*trytond_command(),
                '-c', *cls.result['config_files'], str(server_conf),
                '-d', DB, '-v'],
            cwd=ROOT, env=env, stdout=cls.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        cls.addClassCleanup(cls.stop_server)
        cls.base = f'http://127.0.0.1:{cls.port}'
        cls.wait_ready()
        # API tokens of the customers, by phone
        cls.tokens = {}

    @classmethod
    def stop_server(cls):
        if cls.server.poll() is None:
            cls.server.terminate()
            try:
                cls.server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                cls.server.kill()
                cls.server.wait()

    @classmethod
    def server_log(cls):
        cls.log.flush()
        return cls.log_path.read_text(errors='replace')[-4000:]

    @classmethod
    def wait_ready(cls, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cls.server.poll() is not None:
                raise AssertionError('trytond exited with status '
                    f'{cls.server.returncode}:\n{cls.server_log()}')
            try:
                cls.call_root('common.server.version', [])
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        raise AssertionError(
            f'trytond did not answer within {timeout} s:\n{cls.server_log()}')

    # -- HTTP helpers -------------------------------------------------------

    @classmethod
    def post(cls, path, method, params, session=None):
        body = json.dumps({'id': 1, 'method': method, 'params': params})
        request = urllib.request.Request(cls.base + path, data=body.encode(),
            headers={'Content-Type': 'application/json'}, method='POST')
        if session:
            request.add_header('Authorization', 'Session ' + session)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    @classmethod
    def call_root(cls, method, params):
        return cls.post('/rpc/', method, params)['result']

    def call(self, method, *params):
        "A JSON-RPC call to the demo database as the logged-in dispatcher"
        answer = self.post(f'/{DB}/rpc/', method, list(params),
            session=self.session)
        self.assertNotIn('error', answer, answer.get('error'))
        return answer['result']

    def login(self, login, password):
        """common.db.login like the clients: returns (user id, session
        token, bus url); later calls send "Session base64(login:id:token)"
        """
        answer = self.post(f'/{DB}/rpc/', 'common.db.login',
            [login, {'password': password}, 'zh_CN'])
        self.assertNotIn('error', answer, answer.get('error'))
        user_id, token = answer['result'][:2]
        return user_id, base64.b64encode(
            f'{login}:{user_id}:{token}'.encode()).decode()

    @classmethod
    def api(cls, method, path, data=None, token=None):
        """A request to the API as the mobile clients send it; return
        (status, headers, body bytes)"""
        headers = {}
        payload = None
        if data is not None:
            payload = json.dumps(data).encode()
            headers['Content-Type'] = 'application/json'
        if token:
            headers['Authorization'] = 'Bearer ' + token
        request = urllib.request.Request(cls.base + '/api/v1' + path,
            data=payload, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def api_json(self, method, path, data=None, token=None, status=200):
        answer, _, content = self.api(method, path, data, token)
        self.assertEqual(answer, status, content[:500])
        return json.loads(content) if content else None

    def customer_token(self, phone):
        """Log the customer in with the development login, as the README
        does: the one-time code is read from the server's log"""
        tokens = type(self).tokens
        if phone not in tokens:
            self.api_json('POST', '/auth/dev/code', {'phone': phone},
                status=204)
            pattern = re.compile(
                r'development login code for %s: (\d{6})' % phone)
            deadline = time.monotonic() + 10
            while not (codes := pattern.findall(self.server_log())):
                self.assertLess(time.monotonic(), deadline,
                    'no login code in the log')
                time.sleep(0.1)
            tokens[phone] = self.api_json('POST', '/auth/dev/login',
                {'phone': phone, 'code': codes[-1]})['token']
        return tokens[phone]

    def setUp(self):
        credentials = self.result['credentials']
        self.user_id, self.session = self.login(
            'dispatcher', credentials['dispatcher'])
        self.context = self.call('model.res.user.get_preferences', True, {})

    # -- tests --------------------------------------------------------------

    def test_sao_served(self):
        "GET / serves the sao web client"
        if not (SAO_ROOT / 'index.html').exists():
            message = (f'sao is not installed in {SAO_ROOT}: '
                'run `make sao` (make demo and make test do)')
            if os.environ.get('CI'):
                self.fail(message)
            self.skipTest(message)
        with urllib.request.urlopen(self.base + '/', timeout=30) as response:
            self.assertEqual(response.status, 200)
            html = response.read().decode('utf-8', 'replace')
        self.assertIn('<title>Tryton</title>', html)
        self.assertIn('tryton-sao', html)

    def test_dispatcher_language(self):
        "The dispatcher's back office is in Chinese"
        self.assertEqual(self.context.get('language'), 'zh_CN')

    def test_orders_of_every_type_at_every_step(self):
        "Orders of the 8 types; every step is the current step of one"
        orders = self.call('model.instrument_service.order.search_read',
            [], 0, None, None, ['number', 'type', 'state', 'step.code'],
            self.context)
        self.assertGreaterEqual(len(orders), 64)
        self.assertEqual({o['type'] for o in orders}, set(TYPES))
        steps = {(o.get('step.') or {}).get('code') for o in orders}
        for step in STEPS:
            self.assertIn(step, steps)
        by_type = {}
        for order in orders:
            by_type.setdefault(order['type'], set()).add(
                (order.get('step.') or {}).get('code'))
        for type_ in TYPES:
            self.assertTrue(set(STEPS) <= by_type[type_],
                f'{type_} misses steps {set(STEPS) - by_type[type_]}')
        states = {o['state'] for o in orders}
        self.assertTrue({'submitted', 'in_progress', 'done', 'cancelled'}
            <= states, states)
        self.assertTrue(all(o['number'] for o in orders))

    def test_progress_photos(self):
        "The progress timeline carries the engineers' photos, real JPEGs"
        records = self.call(
            'model.instrument_service.order.progress.search_read',
            [('action', '=', 'submit_assessment')], 0, None, None,
            ['photo_count', 'photos'], self.context)
        self.assertTrue(records)
        self.assertTrue(all(r['photo_count'] >= 1 for r in records))
        photo, = self.call('model.ir.attachment.read',
            [records[0]['photos'][0]], ['name', 'data'], self.context)
        data = base64.b64decode(photo['data']['base64'])
        self.assertTrue(data.startswith(b'\xff\xd8\xff'), photo['name'])

    def test_order_type_in_chinese(self):
        "fields_get shows the order types in Chinese"
        fields = self.call('model.instrument_service.order.fields_get',
            ['type'], {**self.context, 'language': 'zh_CN'})
        selection = dict(fields['type']['selection'])
        self.assertEqual(selection['repair'], '仪器维修')
        self.assertEqual(selection['validation'], '仪器验证')

    def test_client_configuration(self):
        "The apps find the service desk's phone and the templates"
        config = self.api_json('GET', '/config')
        self.assertEqual(config['service_phone'], '400-820-6688')
        self.assertTrue(config['wechat']['subscribe_templates'])

    def test_customer_profiles(self):
        "Every demo customer finds the contact of their orders in /me"
        for customer in CUSTOMERS:
            with self.subTest(phone=customer['phone']):
                token = self.customer_token(customer['phone'])
                contact = self.api_json('GET', '/me', token=token)['contact']
                for name in ['name', 'company', 'phone', 'department',
                        'position', 'address', 'email']:
                    self.assertEqual(contact[name], customer[name], name)
                orders = self.api_json('GET', '/orders?page_size=100',
                    token=token)['items']
                self.assertTrue(orders)
                self.assertEqual({o['company'] for o in orders},
                    {customer['company']})

    def test_files_prepared_like_uploads(self):
        """Every demo file has a stored type and photos a thumbnail, as an
        upload through the API; the customers download theirs with it"""
        document = self.api_json('GET', '/openapi.json')
        # The types an upload is stored as (the schema allows null too)
        stored = {t for t in document['components']['schemas']['File'][
                'properties']['mimetype']['enum'] if t}
        self.assertIn('image/jpeg', stored)
        attachments = self.call('model.ir.attachment.search_read',
            [('resource', 'like', 'instrument_service.%')], 0, None, None,
            ['name', 'mimetype', 'thumbnail_id'], self.context)
        self.assertGreater(len(attachments), 100)
        for attachment in attachments:
            with self.subTest(name=attachment['name']):
                self.assertIn(attachment['mimetype'], stored)
                if attachment['mimetype'].startswith('image/'):
                    self.assertTrue(attachment['thumbnail_id'])
                    self.assertTrue(attachment['name'].endswith('.jpg'))
        types = {a['id']: a['mimetype'] for a in attachments}

        downloaded = set()
        for customer in CUSTOMERS:
            token = self.customer_token(customer['phone'])
            orders = self.api_json('GET', '/orders?page_size=100',
                token=token)['items']
            for order in orders:
                view = self.api_json('GET', '/orders/%s' % order['id'],
                    token=token)
                for file_ in files_of(view):
                    if file_['id'] in downloaded:
                        continue
                    downloaded.add(file_['id'])
                    with self.subTest(file=file_['name']):
                        self.assertEqual(file_['mimetype'],
                            types[file_['id']])
                        self.check_download(file_, token)
        mimetypes = {types[i] for i in downloaded}
        self.assertEqual(mimetypes, {'image/jpeg', 'application/pdf'})
        self.assertGreater(len(downloaded), len(attachments) // 2)

    def check_download(self, file_, token):
        status, headers, content = self.api('GET', file_['url'][
                len('/api/v1'):], token=token)
        self.assertEqual(status, 200, content[:300])
        self.assertEqual(headers['Content-Type'], file_['mimetype'])
        self.assertTrue(content.startswith(MAGIC[file_['mimetype']]))
        self.assertEqual(len(content), file_['size'])
        if file_['mimetype'] == 'image/jpeg':
            status, headers, content = self.api('GET',
                file_['thumbnail_url'][len('/api/v1'):], token=token)
            self.assertEqual(status, 200)
            self.assertEqual(headers['Content-Type'], 'image/jpeg')
            self.assertTrue(content.startswith(MAGIC['image/jpeg']))
        else:
            self.assertIsNone(file_['thumbnail_url'])

    def test_appointments_in_office_hours(self):
        """Visits and trainings are booked on a later working day, between
        09:00 and 17:00 in Shanghai, on the hour or the half hour; orders
        were submitted in the day, over the last days"""
        now = dt.datetime.now(dt.timezone.utc)
        orders = {o['id']: o for o in self.call(
                'model.instrument_service.order.search_read',
                [('state', '!=', 'draft')], 0, None, None,
                ['number', 'submitted_at', 'appointment', 'type'],
                self.context)}
        records = self.call(
            'model.instrument_service.order.progress.search_read',
            [('appointment', '!=', None)], 0, None, None,
            ['order', 'appointment', 'date'], self.context)
        lines = self.call('model.instrument_service.order.line.search_read',
            [('appointment_time', '!=', None)], 0, None, None,
            ['order', 'appointment_time'], self.context)
        appointments = (
            [(o['id'], o['appointment']) for o in orders.values()
                if o['appointment']]
            + [(r['order'], r['appointment']) for r in records]
            + [(line['order'], line['appointment_time']) for line in lines])
        self.assertGreater(len(records), 30)
        self.assertGreaterEqual(len(lines), 9)
        for order_id, value in appointments:
            order = orders[order_id]
            appointment = to_datetime(value)
            local = appointment.astimezone(SHANGHAI)
            with self.subTest(order=order['number'], appointment=local):
                self.assertLess(local.weekday(), 5)
                self.assertTrue(dt.time(9) <= local.time() <= dt.time(17))
                self.assertIn(local.minute, {0, 30})
                submitted = to_datetime(order['submitted_at'])
                self.assertGreater(
                    local.date(), submitted.astimezone(SHANGHAI).date())
        # The visits took place after the decision was recorded
        for record in records:
            self.assertGreater(to_datetime(record['appointment']),
                to_datetime(record['date']))

        submissions = [to_datetime(o['submitted_at']).astimezone(SHANGHAI)
            for o in orders.values()]
        for submitted in submissions:
            with self.subTest(submitted=submitted):
                self.assertTrue(dt.time(8) <= submitted.time()
                    <= dt.time(20), submitted)
                self.assertLess(submitted, now)
        self.assertGreaterEqual(len({s.date() for s in submissions}), 5)

    def test_orders_open_on_the_dispatchers_work(self):
        "The first tabs of 服务订单 are the orders to dispatch and to follow"
        # The menu as the dispatcher sees it, and the action it opens
        menu, = self.call('model.ir.ui.menu.search_read',
            [('name', '=', '服务订单')], 0, None, None, ['action'],
            self.context)
        model, action_id = menu['action'].split(',')
        self.assertEqual(model, 'ir.action.act_window')
        action, = self.call('model.ir.action.act_window.read',
            [int(action_id)], ['domains', 'pyson_search_value'],
            self.context)
        domains = [domain for _, domain, _ in action['domains']]
        states = [re.findall(r'"state", "=", "(\w+)"', domain)
            for domain in domains]
        self.assertEqual(states[:2], [['submitted'], ['in_progress']])
        self.assertLess(states.index(['in_progress']),
            states.index(['draft']))
        # No search on top of the tabs: each tab shows its orders
        self.assertEqual(action['pyson_search_value'], '[]')
        for domain in domains[:2]:
            self.assertTrue(self.call(
                    'model.instrument_service.order.search_count',
                    json.loads(domain), self.context))


if __name__ == '__main__':
    unittest.main()
