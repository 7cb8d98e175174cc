# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""Health checks, metrics, request ids and JSON logs, over real HTTP: a
trytond server (and, for the metrics of several processes, gunicorn with
config/gunicorn.conf.py) on a real database."""
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid

from prometheus_client.parser import text_string_to_metric_families

import trytond

from .server import BIN, ServerTestCase, free_port

TOKEN = 'metrics-' + uuid.uuid4().hex
CONTACT = {'name': '钱九', 'company': '丙方检测中心', 'phone': '13600001234'}
LINE = {'instrument_name': '紫外分光光度计', 'brand': 'Hitachi',
    'fault_description': '读数不稳', 'quantity': 1}
DELIVER_CRON = 'instrument_service.notice|deliver_due'
REPOSITORY = os.path.abspath(os.path.join(
        os.path.dirname(__file__), '..', '..', '..'))
HEX_ID = re.compile(r'[0-9a-f]{32}')


def samples(text):
    "{(name, frozenset of labels): value} of a Prometheus text answer"
    result = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            result[(sample.name, frozenset(sample.labels.items()))] = (
                sample.value)
    return result


def value(metrics, name, **labels):
    return metrics.get((name, frozenset(labels.items())), 0)


class HealthTestCase(ServerTestCase):
    "Health, metrics and request ids of one server"
    server_options = {'engineers': 2, 'config': {
            'instrument_service_api': {
                'metrics': 'True', 'metrics_token': TOKEN,
                # Both the token and the network: a scrape needs both
                'metrics_networks': '10.0.0.0/8 127.0.0.0/8',
                'json_logs': 'True',
                # The jobs of the fresh database never ran: they are late
                # only once this is past
                'health_cron_grace': '3600',
                'health_outbox_backlog': '3',
                }}}

    def get(self, path, headers=None, port=None):
        "GET path of the server (not under /api/v1): status, headers, body"
        url = 'http://127.0.0.1:%s%s' % (port or self.server.port, path)
        request = urllib.request.Request(url, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def ready(self, status=200):
        got, headers, content = self.get('/health/ready')
        body = json.loads(content)
        self.assertEqual(got, status, body)
        self.assertEqual(body['status'], 'ok' if status == 200 else 'fail')
        self.assertEqual(headers['Cache-Control'], 'no-store')
        return body['checks']

    def metrics(self, port=None):
        status, headers, content = self.get('/metrics',
            {'Authorization': 'Bearer ' + TOKEN}, port=port)
        self.assertEqual(status, 200, content)
        self.assertTrue(headers['Content-Type'].startswith('text/plain'))
        return samples(content.decode())

    def submit(self):
        "Submit an order as a new customer; return its id"
        status, order = self.server.call('POST', '/orders', {
                'type': 'repair', 'contact': CONTACT, 'lines': [LINE]},
            self.server.customer(),
            headers={'Idempotency-Key': uuid.uuid4().hex})
        self.assertEqual(status, 201, order)
        return order['id']

    def relaunch(self, options):
        """Restart the server with options of [instrument_service_api]
        changed (None leaves one out); the original configuration is
        restored at the end of the test"""
        original = self.__dict__.setdefault('_original_config',
            json.loads(json.dumps(self.server.extra_config)))

        def restart(extra):
            process = self.server.process
            process.terminate()
            process.wait(30)
            self.server.extra_config = extra
            self.server.config_path = self.server._config()
            self.server.launch()
        changed = json.loads(json.dumps(original))
        changed['instrument_service_api'].update(options)
        if not self.__dict__.get('_relaunched'):
            self._relaunched = True
            self.addCleanup(restart, original)
        restart(changed)

    # ---- health ----------------------------------------------------------

    def test_live(self):
        "/health/live answers while the process runs, without the database"
        status, headers, content = self.get('/health/live')
        self.assertEqual(status, 200)
        body = json.loads(content)
        self.assertEqual(body['status'], 'ok')
        self.assertTrue(body['checks']['process']['ok'])
        self.assertTrue(HEX_ID.fullmatch(headers['X-Request-Id']))

    def test_ready(self):
        "/health/ready: database, modules, cron and outbox all ok"
        checks = self.ready()
        self.assertEqual(set(checks), {'database', 'modules', 'cron',
                'outbox'})
        self.assertTrue(all(c['ok'] for c in checks.values()), checks)
        self.assertEqual(checks['database']['name'], self.server.database)
        self.assertEqual(checks['database']['backend'], self.server.backend)
        self.assertEqual(checks['outbox']['threshold'], 3)
        self.assertEqual(checks['cron']['grace'], 3600)

    def test_installed_versions_recorded(self):
        "trytond-admin -u recorded the version of each module's code"
        versions = dict(self.server.sql('SELECT name, installed_version '
                'FROM ir_module WHERE state = %s', ('activated',)))
        self.assertEqual(versions['instrument_service_api'], '8.0.0')
        self.assertEqual(versions['instrument_service'], '8.0.0')
        self.assertEqual(versions['ir'], trytond.__version__)
        self.assertTrue(versions['web_user'])

    def test_ready_fails_on_module_to_upgrade(self):
        "A module waiting for an upgrade, or not updated, is not ready"
        self.addCleanup(self.server.sql, 'UPDATE ir_module SET state = %s '
            'WHERE name = %s', ('activated', 'instrument_service'))
        self.server.sql('UPDATE ir_module SET state = %s WHERE name = %s',
            ('to upgrade', 'instrument_service'))
        checks = self.ready(503)
        self.assertFalse(checks['modules']['ok'])
        self.assertEqual(checks['modules']['pending'],
            {'instrument_service': 'to upgrade'})
        self.assertTrue(checks['database']['ok'])
        self.assertTrue(checks['outbox']['ok'])
        self.server.sql('UPDATE ir_module SET state = %s WHERE name = %s',
            ('activated', 'instrument_service'))
        self.ready()

        # New code deployed without trytond-admin -u
        (version,), = self.server.sql('SELECT installed_version '
            'FROM ir_module WHERE name = %s', ('instrument_service_api',))
        self.addCleanup(self.server.sql, 'UPDATE ir_module '
            'SET installed_version = %s WHERE name = %s',
            (version, 'instrument_service_api'))
        self.server.sql('UPDATE ir_module SET installed_version = %s '
            'WHERE name = %s', ('7.6.0', 'instrument_service_api'))
        checks = self.ready(503)
        self.assertEqual(checks['modules']['outdated'], {
                'instrument_service_api': {
                    'database': '7.6.0', 'code': version}})
        self.assertIn('trytond-admin -u', checks['modules']['hint'])

    def test_ready_fails_on_cron_not_seen(self):
        """A job whose next run is past by more than the grace: trytond-cron
        does not run it"""
        late = dt.datetime.utcnow() - dt.timedelta(hours=2)
        self.addCleanup(self.server.sql, 'UPDATE ir_cron SET next_call = '
            'NULL WHERE method = %s', (DELIVER_CRON,))
        # Within the grace: fine
        self.server.sql('UPDATE ir_cron SET next_call = %s '
            'WHERE method = %s', (late + dt.timedelta(minutes=90),
                DELIVER_CRON))
        self.ready()
        self.server.sql('UPDATE ir_cron SET next_call = %s '
            'WHERE method = %s', (late, DELIVER_CRON))
        checks = self.ready(503)
        self.assertFalse(checks['cron']['ok'])
        self.assertEqual(list(checks['cron']['overdue']), [DELIVER_CRON])
        self.assertTrue(checks['modules']['ok'])
        self.assertEqual(value(self.metrics(),
                'instrument_service_cron_overdue_jobs'), 1)
        # An inactive job is not expected to run
        self.server.sql('UPDATE ir_cron SET active = %s WHERE method = %s',
            (False, DELIVER_CRON))
        try:
            self.ready()
        finally:
            self.server.sql('UPDATE ir_cron SET active = %s '
                'WHERE method = %s', (True, DELIVER_CRON))

    def test_outbox_backlog(self):
        """The notices not delivered are counted by channel and state; over
        the threshold the server is not ready"""
        orders = [self.submit() for _ in range(2)]
        where = '"order" IN (%s, %s)'
        # Two engineers are offered each order: delivered at once
        rows = self.server.sql('SELECT id, state, channel FROM '
            'instrument_service_notice WHERE ' + where + ' ORDER BY id',
            orders)
        notices = [i for i, state, _ in rows if state == 'sent']
        self.assertEqual(len(notices), 4, rows)

        def restore():
            for row in rows:
                self.server.sql('UPDATE instrument_service_notice '
                    'SET state = %s, channel = %s WHERE id = %s',
                    (row[1], row[2], row[0]))
        self.addCleanup(restore)
        before = self.metrics()

        def set_state(notice, state, channel):
            self.server.sql('UPDATE instrument_service_notice '
                'SET state = %s, channel = %s WHERE id = %s',
                (state, channel, notice))
        set_state(notices[0], 'failed', 'tryton')
        set_state(notices[1], 'failed', 'tryton')
        set_state(notices[2], 'pending', 'wechat')
        metrics = self.metrics()
        for channel, state, added in [('tryton', 'failed', 2),
                ('wechat', 'pending', 1), ('tryton', 'pending', 0),
                ('jpush', 'failed', 0)]:
            with self.subTest(channel=channel, state=state):
                self.assertEqual(
                    value(metrics, 'instrument_service_outbox_notices',
                        channel=channel, state=state),
                    value(before, 'instrument_service_outbox_notices',
                        channel=channel, state=state) + added)
        # 3 is the threshold
        checks = self.ready()
        self.assertEqual((checks['outbox']['pending'],
                checks['outbox']['failed']), (1, 2))
        set_state(notices[3], 'sending', 'jpush')
        checks = self.ready(503)
        self.assertFalse(checks['outbox']['ok'])
        self.assertEqual((checks['outbox']['pending'],
                checks['outbox']['failed']), (2, 2))
        self.assertTrue(checks['cron']['ok'])
        self.assertEqual(value(self.metrics(),
                'instrument_service_outbox_notices',
                channel='jpush', state='pending'), 1)

    # ---- metrics ---------------------------------------------------------

    def test_metrics_need_the_token(self):
        for headers in [{}, {'Authorization': 'Bearer wrong'},
                {'Authorization': TOKEN}]:
            with self.subTest(headers=headers):
                status, answer, content = self.get('/metrics', headers)
                self.assertEqual(status, 401)
                self.assertEqual(answer['WWW-Authenticate'],
                    'Bearer realm="metrics"')
                self.assertNotIn(b'instrument_service_', content)
                body = json.loads(content)
                self.assertEqual(body['error']['code'], 'unauthorized')
                self.assertEqual(body['error']['request_id'],
                    answer['X-Request-Id'])

    def test_metrics_count_requests_by_route(self):
        "Counters and latency buckets of a route move with its requests"
        route = '/api/v1/orders/{order_id}'
        token = self.server.customer()
        before = self.metrics()
        for _ in range(3):
            self.call('GET', '/order-types')
        for order_id in [999991, 999992]:
            self.call('GET', '/orders/%s' % order_id, token=token,
                status=404)
        after = self.metrics()
        requests = 'instrument_service_http_requests_total'
        self.assertEqual(
            value(after, requests, method='GET', route='/api/v1/order-types',
                status='200')
            - value(before, requests, method='GET',
                route='/api/v1/order-types', status='200'), 3)
        self.assertEqual(
            value(after, requests, method='GET', route=route, status='404')
            - value(before, requests, method='GET', route=route,
                status='404'), 2)
        # The template, never the path
        self.assertFalse([k for k in after if any(
                    v.endswith('999991') for _, v in k[1])])
        buckets = 'instrument_service_http_request_duration_seconds_bucket'
        self.assertEqual(
            value(after, buckets, method='GET', route=route, le='+Inf')
            - value(before, buckets, method='GET', route=route, le='+Inf'),
            2)
        self.assertEqual(
            value(after, 'instrument_service_http_request_duration_seconds'
                '_count', method='GET', route='/api/v1/order-types')
            - value(before, 'instrument_service_http_request_duration_'
                'seconds_count', method='GET', route='/api/v1/order-types'),
            3)
        self.assertEqual(value(after, 'instrument_service_database_up'), 1)

    def test_metrics_orders_waiting(self):
        "Orders nobody accepted are counted, escalated or not"
        self.submit()
        (waiting,), = self.server.sql('SELECT COUNT(*) FROM '
            'instrument_service_order WHERE state = %s '
            'AND escalated_at IS NULL', ('submitted',))
        self.assertGreaterEqual(waiting, 1)
        self.assertEqual(value(self.metrics(),
                'instrument_service_orders_waiting_for_engineer',
                escalated='false'), waiting)

    def test_metrics_off_or_refused(self):
        """Off by default (404); on without token or networks, or from a
        network not listed, refused (403); and a database that cannot be
        read makes the server not ready"""
        self.relaunch({'metrics': None, 'metrics_token': None})
        status, _, _ = self.get('/metrics',
            {'Authorization': 'Bearer ' + TOKEN})
        self.assertEqual(status, 404)
        self.relaunch({'metrics_token': None, 'metrics_networks': None})
        status, _, content = self.get('/metrics')
        self.assertEqual(status, 403, content)
        self.relaunch({'metrics_networks': '10.0.0.0/8, 192.168.0.0/16',
                'health_database': 'no_such_database'})
        status, _, content = self.get('/metrics',
            {'Authorization': 'Bearer ' + TOKEN})
        self.assertEqual(status, 403, content)
        checks = self.ready(503)
        self.assertFalse(checks['database']['ok'])
        self.assertEqual(checks['database']['name'], 'no_such_database')
        self.assertFalse(checks['outbox']['ok'])
        status, _, _ = self.get('/health/live')
        self.assertEqual(status, 200)

    def test_metrics_of_gunicorn_workers(self):
        """Under gunicorn with PROMETHEUS_MULTIPROC_DIR, a scrape counts the
        requests of every worker, those of workers gone included"""
        directory = tempfile.mkdtemp(prefix='prometheus-')
        self.addCleanup(shutil.rmtree, directory, ignore_errors=True)
        port = free_port()
        env = {k: v for k, v in os.environ.items()
            if not k.startswith('TRYTOND_')}
        env.update({'TRYTOND_CONFIG': self.server.config_path,
                'PROMETHEUS_MULTIPROC_DIR': directory,
                'GUNICORN_BIND': '127.0.0.1:%s' % port,
                'GUNICORN_WORKERS': '2', 'GUNICORN_THREADS': '2'})
        log = open(os.path.join(directory, 'gunicorn.log'), 'w')
        self.addCleanup(log.close)

        def output():
            with open(log.name) as fp:
                return fp.read()
        master = subprocess.Popen([os.path.join(BIN, 'gunicorn'), '-c',
                os.path.join(REPOSITORY, 'config', 'gunicorn.conf.py'),
                'trytond.application:app'], cwd=REPOSITORY, env=env,
            stdout=log, stderr=subprocess.STDOUT)

        def stop():
            master.terminate()
            try:
                master.wait(30)
            except subprocess.TimeoutExpired:
                master.kill()
                master.wait()
        self.addCleanup(stop)

        def workers():
            "The processes gunicorn's master forked"
            result = set()
            for name in os.listdir('/proc'):
                try:
                    with open('/proc/%s/stat' % name) as fp:
                        stat = fp.read()
                except (OSError, ValueError):
                    continue
                # pid (comm) state ppid ...
                if int(stat.rsplit(')', 1)[1].split()[1]) == master.pid:
                    result.add(int(name))
            return result
        deadline = time.monotonic() + 120
        while True:
            self.assertIsNone(master.poll(), output())
            try:
                if self.get('/health/live', port=port)[0] == 200 and len(
                        workers()) == 2:
                    break
            except OSError:
                pass
            self.assertLess(time.monotonic(), deadline, output())
            time.sleep(0.2)
        url = 'http://127.0.0.1:%s/api/v1/order-types' % port
        for _ in range(6):
            with urllib.request.urlopen(url, timeout=60) as response:
                self.assertEqual(response.status, 200)
        key = ('instrument_service_http_requests_total', frozenset({
                    'method': 'GET', 'route': '/api/v1/order-types',
                    'status': '200'}.items()))
        self.assertEqual(self.metrics(port=port)[key], 6)

        # Both workers end (child_exit marks them dead): their counts stay
        for pid in workers():
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 120
        first = workers()
        while True:
            current = workers()
            if len(current) == 2 and not current & first:
                try:
                    metrics = self.metrics(port=port)
                    break
                except OSError:
                    pass
            self.assertLess(time.monotonic(), deadline, output())
            time.sleep(0.2)
        self.assertEqual(metrics[key], 6)
        self.assertEqual(value(metrics, 'instrument_service_database_up'),
            1)

    # ---- request ids and logs --------------------------------------------

    def test_request_id(self):
        """X-Request-Id: kept when well-formed, else made; in every answer
        and in the body of every error"""
        status, headers, content = self.server.request('GET', '/orders/1',
            headers={'X-Request-Id': 'trace-me.42'})
        self.assertEqual(status, 401)
        self.assertEqual(headers['X-Request-Id'], 'trace-me.42')
        self.assertEqual(json.loads(content)['error']['request_id'],
            'trace-me.42')

        for bad in ['with space', 'x' * 129, '<script>', 'é']:
            with self.subTest(bad=bad):
                status, headers, content = self.server.request('POST',
                    '/orders', raw=b'{', content_type='application/json',
                    headers={'X-Request-Id': bad.encode('utf-8').decode(
                                'latin-1')})
                self.assertEqual(status, 401)
                made = headers['X-Request-Id']
                self.assertTrue(HEX_ID.fullmatch(made), made)
                self.assertEqual(json.loads(content)['error']['request_id'],
                    made)

        # A success, an unknown path, a known path with another method
        status, headers, _ = self.server.request('GET', '/order-types')
        self.assertEqual(status, 200)
        self.assertTrue(HEX_ID.fullmatch(headers['X-Request-Id']))
        for method, path, expected in [('GET', '/no-such-thing', 404),
                ('DELETE', '/order-types', 405)]:
            with self.subTest(path=path):
                status, headers, content = self.server.request(method, path)
                self.assertEqual(status, expected)
                self.assertEqual(json.loads(content)['error']['request_id'],
                    headers['X-Request-Id'])
        # Two requests, two ids
        ids = {self.server.request('GET', '/order-types')[1]['X-Request-Id']
            for _ in range(2)}
        self.assertEqual(len(ids), 2)

    def test_json_log_line_per_request(self):
        "Each request is one JSON line with its route, status and id"
        rid = 'log-' + uuid.uuid4().hex
        status, _, _ = self.server.request('GET', '/orders/77',
            headers={'X-Request-Id': rid})
        self.assertEqual(status, 401)
        lines = []
        deadline = time.monotonic() + 10
        while not lines and time.monotonic() < deadline:
            lines = [json.loads(l) for l in self.server.server_log()
                .splitlines() if l.startswith('{') and rid in l]
            time.sleep(0.05)
        line, = [l for l in lines if l.get('route')]
        self.assertEqual(line['request_id'], rid)
        self.assertEqual(line['route'], '/api/v1/orders/{order_id}')
        self.assertEqual(line['path'], '/api/v1/orders/77')
        self.assertEqual(line['method'], 'GET')
        self.assertEqual(line['status'], 401)
        self.assertIsInstance(line['duration_ms'], float)
        self.assertEqual(line['level'], 'INFO')
