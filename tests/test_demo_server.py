"""End to end: the demo database, served by a real trytond, over HTTP.

Builds the demo database with scripts/build_demo.py into a temporary folder
(SQLite, the embedded default), starts `trytond` on a free port against it
and talks to it like the back office does: the sao page, a JSON-RPC login
as the dispatcher, the dispatcher's preferences and the orders.

The build runs in a subprocess because trytond keeps its configuration and
pools per process; the server is stopped whatever happens.
"""
import base64
import json
import os
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

ROOT = Path(__file__).resolve().parent.parent
SAO_ROOT = ROOT / '.cache' / 'sao' / 'package'
DB = 'demo'
TYPES = ['repair', 'maintenance', 'recycle', 'rental', 'training',
    'validation', 'selection', 'installation']
STEPS = ['accepted', 'visit', 'assessment', 'quote', 'work', 'report',
    'rating', 'done']


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


if __name__ == '__main__':
    unittest.main()
