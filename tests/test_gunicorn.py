"""The production-like server: trytond's WSGI application under gunicorn,
with config/gunicorn.conf.py and config/trytond-postgresql.conf layered
with a private file through TRYTOND_CONFIG_FILES, as bench/README.md
documents it, two worker processes.

It serves the API and the back office's JSON-RPC, and a workflow step
renamed in the back office (through one worker) reads renamed from every
worker at the next request: the cached workflow definitions are cleared in
all the processes at once ([cache] clean_timeout = 0, PostgreSQL's
LISTEN/NOTIFY).

PostgreSQL only: the configuration is PostgreSQL's (SQLite is the
embedded, single-process default of `make demo`).
"""
import os
import re
import signal
import subprocess
import sys
import time
import unittest
from pathlib import Path

from trytond.modules.instrument_service_api.tests.server import (
    APPID, APIServer, free_port)

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / 'gunicorn'
URI = os.environ.get('TRYTOND_DATABASE__URI', 'sqlite://')


@unittest.skipUnless(URI.startswith('postgresql'),
    "the gunicorn configuration is for PostgreSQL")
class GunicornTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # The API tests' server makes the database, its people and the
        # WeChat stand-in; its own trytond process is then replaced
        cls.server = APIServer(engineers=1).start()
        cls.server.process.terminate()
        cls.server.process.wait(10)
        cls.server.process = None
        try:
            cls.gunicorn = cls.start_gunicorn()
        except BaseException:
            cls.server.stop()
            raise

    @classmethod
    def start_gunicorn(cls):
        server = cls.server
        private = os.path.join(server.directory, 'private.conf')
        with open(private, 'w') as fp:
            fp.write('[database]\nuri = %s\npath = %s\n\n'
                '[instrument_service_api]\ndatabase = %s\ndev_login = False\n'
                '\n[wechat]\nappid = %s\nsecret = %s\nbase_url = %s\n' % (
                    server.uri, os.path.join(server.directory, 'db'),
                    server.database, APPID, server.secret,
                    server.wechat.url))
        env = {k: v for k, v in os.environ.items()
            if not k.startswith('TRYTOND_')
            and k not in {'DB_NAME', 'DB_CACHE'}}
        env['TRYTOND_CONFIG_FILES'] = os.pathsep.join([
                str(ROOT / 'config' / 'trytond-postgresql.conf'), private])
        env['GUNICORN_ACCESS_LOG'] = cls.access_log = os.path.join(
            server.directory, 'access.log')
        port = free_port()
        cls.log = open(os.path.join(server.directory, 'gunicorn.log'), 'w')
        process = subprocess.Popen([str(GUNICORN),
                '-c', str(ROOT / 'config' / 'gunicorn.conf.py'),
                '-b', '127.0.0.1:%s' % port, '-w', '2', '--threads', '2',
                # Which worker answered each request
                '--access-logformat', '%(p)s %(r)s %(s)s',
                'trytond.application:app'],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=cls.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        server.port = port
        server.url = 'http://127.0.0.1:%s/api/v1' % port
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("gunicorn stopped:\n" + cls.output())
            try:
                if server.call('GET', '/order-types')[0] == 200:
                    return process
            except OSError:
                pass
            time.sleep(0.2)
        os.killpg(process.pid, signal.SIGKILL)
        raise RuntimeError("gunicorn did not answer:\n" + cls.output())

    @classmethod
    def output(cls):
        cls.log.flush()
        with open(cls.log.name) as fp:
            return fp.read()

    @classmethod
    def tearDownClass(cls):
        os.killpg(cls.gunicorn.pid, signal.SIGTERM)
        try:
            cls.gunicorn.wait(40)
        except subprocess.TimeoutExpired:
            os.killpg(cls.gunicorn.pid, signal.SIGKILL)
            cls.gunicorn.wait()
        output = cls.output()
        cls.log.close()
        cls.server.stop()
        assert 'Traceback' not in output, output[output.index('Traceback'):]

    def call(self, method, path, data=None, token=None, status=200,
            **kwargs):
        got, body = self.server.call(method, path, data, token, **kwargs)
        self.assertEqual(got, status, (method, path, body))
        return body

    def workers_of(self, path):
        "The pids of the workers that answered path so far"
        with open(self.access_log) as fp:
            return {line.split()[0] for line in fp
                if re.search(r' %s ' % re.escape(path), line)}

    def step_names(self, order_id, token, count):
        """The name of the order's step, read count times, each time on a
        new connection (any worker); and the workers that answered"""
        names = {self.call('GET', '/orders/%s' % order_id,
                    token=token)['step']['name'] for _ in range(count)}
        return names, self.workers_of('/api/v1/orders/%s' % order_id)

    def test_rename_seen_by_every_worker(self):
        server = self.server
        customer = server.customer()
        engineer = server.engineer(0)
        order = self.call('POST', '/orders', {'type': 'training',
                'contact': {'name': '张三', 'company': '某某公司',
                    'phone': '13800138000', 'address': '上海市 浦东新区'},
                'lines': [{'instrument_name': '液相色谱仪', 'brand': 'Agilent',
                        'model': '1260',
                        'appointment_time': '2031-06-01T09:30:00+08:00'}],
                }, token=customer, status=201,
            headers={'Idempotency-Key': 'gunicorn-1'})
        self.call('POST', '/engineer/inbox/%s/accept' % order['id'],
            token=engineer)
        # Both workers have read (and cached) the workflow
        names, workers = self.step_names(order['id'], customer, 20)
        self.assertEqual(names, {'已接单'})
        self.assertEqual(len(workers), 2, workers)
        step_ids = server.back_office(
            'model.instrument_service.workflow.step.search',
            [['workflow.order_type', '=', 'training'],
                ['code', '=', 'accepted']], 0, None, None)
        server.back_office('model.instrument_service.workflow.step.write',
            step_ids, {'name': '工程师已接单'})
        # The other worker hears of it through PostgreSQL, at once
        names, _ = self.step_names(order['id'], customer, 20)
        self.assertEqual(names, {'工程师已接单'})

    def test_back_office_and_api(self):
        "Both applications of trytond answer: JSON-RPC and the API"
        server = self.server
        self.assertEqual(server.back_office(
                'model.instrument_service.workflow.search_count', []), 8)
        engineer = server.engineer(0)
        self.assertIn('items', self.call('GET', '/engineer/tasks',
                token=engineer))


if __name__ == '__main__':
    unittest.main()
