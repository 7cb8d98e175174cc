"""The production command without containers: scripts/production/run.py
(init, web, cron, worker), run together by honcho from the Procfile, as
`make production` does; the containers of docker/ run the same commands.

PostgreSQL (ProductionTestCase): `init` on a new database (the admin
password from the environment), the Procfile's processes under honcho on a
free port with every setting and secret from the environment, an order
through the API by a customer logged in with WeChat (the stand-in, its
secret from TRYTOND_WECHAT__SECRET), the admin logging in to the back
office with the password given to init, trytond-cron running the
scheduled jobs and trytond-worker delivering the order's notices
([queue] worker on), a clean stop on SIGTERM, `init` again (the upgrade
path: trytond-admin -u), then the database dropped.

Both backends (ProductionScriptsTestCase, no database made): the
environment wins over the repository's files and none of its values is
written to disk, and the commands refuse what they cannot do with a clear
message: init without an admin password, web on a database that is not
there, a missing configuration file.

The production processes are PostgreSQL's (trytond-worker cannot wait on
SQLite), so on the SQLite run of scripts/run_tests.py this module loads
ProductionScriptsTestCase only (load_tests below): nothing is skipped, the
PostgreSQL run runs everything.
"""
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from trytond.modules.instrument_service_api.tests.server import (
    APPID, WeChatStub, free_port)

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / 'scripts' / 'production' / 'run.py'
BIN = Path(sys.executable).parent
FIXTURES = (ROOT / 'addons' / 'instrument_service_api' / 'tests'
    / 'fixtures.py')
URI = os.environ.get('TRYTOND_DATABASE__URI', 'sqlite://')
POSTGRESQL = URI.startswith('postgresql')
ORDER = {'type': 'repair',
    'contact': {'name': '刘洋', 'company': '上海联科生物科技有限公司',
        'phone': '13901760231', 'address': '上海市浦东新区张江高科技园区蔡伦路88号'},
    'lines': [{'instrument_name': '液相色谱仪', 'brand': 'Agilent',
            'model': '1260', 'fault_description': '泵压力波动',
            'quantity': 1}]}


def base_env():
    "The environment without the test runner's database settings"
    env = {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_') and not k.startswith('TRYTON_')
        and k not in {'DB_NAME', 'DB_CACHE', 'TRYTONPASSFILE'}}
    env['PATH'] = '%s%s%s' % (BIN, os.pathsep, env.get('PATH', ''))
    env['PYTHONUNBUFFERED'] = '1'
    return env


def run(args, env, timeout=300):
    return subprocess.run([sys.executable, str(RUN), *args], env=env,
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL)


def http(method, url, data=None, headers=None):
    "(status, decoded JSON body or None)"
    headers = dict(headers or {})
    payload = None
    if data is not None:
        payload = json.dumps(data).encode()
        headers['Content-Type'] = 'application/json'
    request = urllib.request.Request(url, data=payload, method=method,
        headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, content = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, content = error.code, error.read()
    try:
        return status, json.loads(content) if content else None
    except ValueError:
        return status, content


class ProductionScriptsTestCase(unittest.TestCase):
    "The configuration and the refusals of run.py, on either backend"

    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix='instrument-prod-')
        self.addCleanup(shutil.rmtree, self.directory, ignore_errors=True)
        self.env = base_env()
        self.env.update({
                'TRYTOND_DATABASE__URI': URI,
                'TRYTOND_DATABASE__PATH': os.path.join(
                    self.directory, 'filestore'),
                'TRYTOND_INSTRUMENT_SERVICE_API__DATABASE':
                    'prod_%s' % uuid.uuid4().hex[:10],
                'TRYTOND_WECHAT__SECRET': 'wechat-secret-from-env',
                'TRYTOND_JPUSH__MASTER_SECRET': 'jpush-secret-from-env',
                # Temporary files (the derived configuration) go here
                'TMPDIR': self.directory,
                })

    def test_environment_wins_and_stays_off_disk(self):
        "The environment's values win; the files' others are kept"
        sys.path.insert(0, str(RUN.parent))
        self.addCleanup(sys.path.remove, str(RUN.parent))
        from settings import Settings
        settings = Settings(self.env)
        self.assertEqual(settings.uri, URI)
        self.assertEqual(settings.database,
            self.env['TRYTOND_INSTRUMENT_SERVICE_API__DATABASE'])
        self.assertEqual(str(settings.filestore),
            self.env['TRYTOND_DATABASE__PATH'])
        # Off in production unless the environment turns it on
        self.assertFalse(settings.getboolean(
                'instrument_service_api', 'dev_login'))
        # From config/trytond-postgresql.conf
        self.assertEqual(settings.get('cache', 'clean_timeout'), '0')
        path = settings.write('test')
        with open(path) as file:
            text = file.read()
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        os.unlink(path)
        self.assertNotIn('secret-from-env', text)
        self.assertNotIn('127.0.0.1:5432', text)
        self.assertNotIn(self.env['TRYTOND_INSTRUMENT_SERVICE_API__DATABASE'],
            text)
        self.assertIn('dev_login = False', text)
        # trytond itself, given the derived file, sees the environment's
        code = ('import sys, trytond.config as c; c.update_etc(sys.argv[1]);'
            'print(c.get("database", "uri"), c.get("wechat", "secret"),'
            'c.get("instrument_service_api", "dev_login"))')
        path = settings.write('test')
        self.addCleanup(os.unlink, path)
        seen = subprocess.run([sys.executable, '-c', code, path],
            env=self.env, capture_output=True, text=True, check=True)
        self.assertEqual(seen.stdout.split(),
            [URI, 'wechat-secret-from-env', 'False'])
        # config masks the secrets
        shown = run(['config'], self.env)
        self.assertEqual(shown.returncode, 0, shown.stderr)
        self.assertIn('secret = ***', shown.stdout)
        self.assertIn('master_secret = ***', shown.stdout)
        self.assertNotIn('secret-from-env', shown.stdout)

    def test_init_needs_the_admin_password(self):
        "A new database is not made without the admin's password"
        result = run(['init', '--wait', '0'], self.env)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn('the admin password is needed to initialise database '
            '"%s": set TRYTON_ADMIN_PASSWORD or TRYTONPASSFILE'
            % self.env['TRYTOND_INSTRUMENT_SERVICE_API__DATABASE'],
            result.stderr)
        self.assertNotIn('Traceback', result.stderr)
        # Nothing was made
        self.assertFalse(os.path.exists(os.path.join(self.directory,
                    'filestore')) and os.listdir(os.path.join(
                    self.directory, 'filestore')))
        # An unreadable password file is refused too
        self.env['TRYTONPASSFILE'] = os.path.join(self.directory, 'nothing')
        result = run(['init', '--wait', '0'], self.env)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn('TRYTONPASSFILE: cannot read', result.stderr)

    def test_web_needs_an_initialised_database(self):
        result = run(['web', '--wait', '0'], self.env)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn('database "%s" is missing: run '
            '`scripts/production/run.py init` first'
            % self.env['TRYTOND_INSTRUMENT_SERVICE_API__DATABASE'],
            result.stderr)
        self.assertNotIn('Traceback', result.stderr)

    def test_missing_configuration_file(self):
        self.env['TRYTOND_CONFIG_FILES'] = os.pathsep.join([
                'config/trytond-postgresql.conf', '/nonexistent/local.conf'])
        result = run(['cron'], self.env)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn('TRYTOND_CONFIG_FILES: no such file: '
            '/nonexistent/local.conf', result.stderr)


class ProductionTestCase(unittest.TestCase):
    "init, the Procfile under honcho, an order, a stop, init again"

    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.mkdtemp(prefix='instrument-prod-')
        cls.database = 'prod_%s' % uuid.uuid4().hex[:10]
        cls.wechat_secret = uuid.uuid4().hex
        cls.wechat = WeChatStub(cls.wechat_secret)
        cls.wechat.start()
        cls.password = base64.urlsafe_b64encode(os.urandom(18)).decode()
        cls.port = free_port()
        cls.env = base_env()
        cls.env.update({
                'TRYTOND_DATABASE__URI': URI,
                'TRYTOND_DATABASE__PATH': os.path.join(
                    cls.directory, 'filestore'),
                'TRYTOND_INSTRUMENT_SERVICE_API__DATABASE': cls.database,
                'TRYTOND_WECHAT__APPID': APPID,
                'TRYTOND_WECHAT__SECRET': cls.wechat_secret,
                'TRYTOND_WECHAT__BASE_URL': cls.wechat.url,
                # The notices are delivered by trytond-worker
                'TRYTOND_QUEUE__WORKER': 'True',
                'TRYTON_ADMIN_PASSWORD': cls.password,
                'GUNICORN_BIND': '127.0.0.1:%s' % cls.port,
                'GUNICORN_WORKERS': '1',
                'GUNICORN_THREADS': '2',
                # GET /metrics, from this machine only
                'TRYTOND_INSTRUMENT_SERVICE_API__METRICS': 'True',
                'TRYTOND_INSTRUMENT_SERVICE_API__METRICS_NETWORKS':
                    '127.0.0.0/8',
                'TMPDIR': cls.directory,
                })
        cls.url = 'http://127.0.0.1:%s' % cls.port
        cls.honcho = None

    @classmethod
    def tearDownClass(cls):
        if cls.honcho and cls.honcho.poll() is None:
            os.killpg(cls.honcho.pid, signal.SIGKILL)
            cls.honcho.wait()
        cls.wechat.stop()
        import psycopg
        with psycopg.connect(URI.rstrip('/') + '/postgres',
                autocommit=True) as connection:
            connection.execute(
                'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % cls.database)
        shutil.rmtree(cls.directory, ignore_errors=True)

    def sql(self, query):
        import psycopg
        with psycopg.connect(URI.rstrip('/') + '/' + self.database,
                autocommit=True) as connection:
            return connection.execute(query).fetchall()

    def wait_for(self, check, what, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.honcho.poll() is not None:
                self.fail('honcho stopped while waiting for %s:\n%s' % (
                        what, self.output()))
            if check():
                return
            time.sleep(0.5)
        self.fail('no %s after %s s:\n%s' % (what, timeout, self.output()))

    def output(self):
        with open(os.path.join(self.directory, 'honcho.log')) as file:
            return file.read()

    def answers(self, path):
        try:
            return http('GET', self.url + path)[0] == 200
        except OSError:
            return False

    def test_production(self):
        # init makes and initialises the database
        result = run(['init'], self.env)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('creating database "%s"' % self.database, result.stderr)
        self.assertIn('initialising database "%s"' % self.database,
            result.stderr)
        (modules,), = self.sql("SELECT COUNT(*) FROM ir_module WHERE name IN "
            "('instrument_service', 'instrument_service_api') "
            "AND state = 'activated'")
        self.assertEqual(modules, 2)

        # The administrator sets up the company and an engineer (in the
        # back office; here the API tests' fixtures)
        private = os.path.join(self.directory, 'fixtures.conf')
        with open(private, 'w') as file:
            file.write('[database]\nuri = %s\npath = %s\n' % (
                    URI, self.env['TRYTOND_DATABASE__PATH']))
        fixtures = subprocess.run([sys.executable, str(FIXTURES), private,
                self.database, '1'], env=base_env(), capture_output=True,
            text=True)
        self.assertEqual(fixtures.returncode, 0, fixtures.stderr)

        # The Procfile's processes, as `make production` starts them
        log = open(os.path.join(self.directory, 'honcho.log'), 'w')
        self.addCleanup(log.close)
        type(self).honcho = subprocess.Popen([str(BIN / 'honcho'),
                '--no-colour', 'start', '-f', str(ROOT / 'Procfile'),
                # Not a .env of the checkout: this environment only
                '-e', os.devnull],
            cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_for(lambda: self.answers('/api/v1/openapi.json'),
            'answer of /api/v1/openapi.json')
        # The health check of the proxy and of the containers
        self.wait_for(lambda: self.answers('/health/ready'),
            'ready answer of /health/ready')

        self.assertTrue(self.answers('/health/live'))

        # A customer logs in with WeChat and orders
        status, body = http('POST', self.url + '/api/v1/auth/wechat',
            {'code': 'openid:o-production'})
        self.assertEqual(status, 200, body)
        token = {'Authorization': 'Bearer %s' % body['token']}
        status, order = http('POST', self.url + '/api/v1/orders', ORDER,
            headers={**token, 'Idempotency-Key': str(uuid.uuid4())})
        self.assertEqual(status, 201, order)
        status, body = http('GET', self.url + '/api/v1/orders/%s'
            % order['id'], headers=token)
        self.assertEqual(status, 200, body)
        self.assertEqual(body['id'], order['id'])

        # The metrics of every gunicorn worker, in the private directory
        # run.py gave them
        status, metrics = http('GET', self.url + '/metrics')
        self.assertEqual(status, 200)
        self.assertIn(b'instrument_service_http_requests_total{', metrics)
        self.assertIn(b'route="/api/v1/orders"', metrics)
        self.assertEqual(len(list(Path(self.directory).glob(
                        'instrument-metrics-*'))), 1)

        # The admin logs in to the back office with the password of init
        status, body = http('POST', self.url + '/%s/rpc/' % self.database,
            {'id': 1, 'method': 'common.db.login',
                'params': ['admin', {'password': self.password}, 'en']})
        self.assertEqual(status, 200, body)
        self.assertNotIn('error', body)

        # trytond-cron runs the scheduled jobs
        self.wait_for(lambda: self.sql('SELECT COUNT(*) FROM ir_cron_log'
                )[0][0] > 0, 'scheduled job run by trytond-cron')
        # trytond-worker runs the queue: the order's notices are delivered
        self.assertGreater(self.sql('SELECT COUNT(*) FROM ir_queue')[0][0], 0)
        self.wait_for(lambda: self.sql('SELECT COUNT(*) FROM ir_queue '
                'WHERE finished_at IS NULL')[0][0] == 0,
            'task of the queue left by trytond-worker')
        notices = dict(self.sql('SELECT state, COUNT(*) FROM '
                'instrument_service_notice GROUP BY state'))
        self.assertGreater(notices.pop('sent', 0), 0, notices)

        # SIGTERM stops everything, each process with status 0
        os.killpg(self.honcho.pid, signal.SIGTERM)
        self.honcho.wait(60)
        output = self.output()
        for process in ['web', 'cron', 'worker']:
            self.assertIn('%s.1 stopped (rc=0)' % process, output)
        self.assertNotIn('Traceback', output)
        with self.assertRaises(ProcessLookupError):
            os.killpg(self.honcho.pid, 0)
        with self.assertRaises(OSError):
            urllib.request.urlopen(self.url + '/health/live', timeout=5)
        # Nothing left behind: the derived configurations, the metrics
        self.assertEqual(sorted(p.name for p in Path(self.directory).glob(
                    'instrument-*')), [])

        # init again: the upgrade path, the data kept
        result = run(['init'], self.env)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('database "%s" is initialised: updating '
            'instrument_service instrument_service_api' % self.database,
            result.stderr)
        self.assertNotIn('creating', result.stderr)
        (orders,), = self.sql('SELECT COUNT(*) FROM instrument_service_order')
        self.assertEqual(orders, 1)


def load_tests(loader, tests, pattern):
    "On SQLite, the scripts' test case only (see the module's docstring)"
    suite = unittest.TestSuite()
    suite.addTests(loader.loadTestsFromTestCase(ProductionScriptsTestCase))
    if POSTGRESQL:
        suite.addTests(loader.loadTestsFromTestCase(ProductionTestCase))
    return suite


if __name__ == '__main__':
    unittest.main()
