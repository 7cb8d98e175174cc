"""Two API servers on one PostgreSQL database and one object store, as
several application servers behind the proxy run (README "Scaling past one
machine"): two trytond processes, A and B, with the same configuration but
their port, the files in a bucket (moto's S3 server, a test-only stand-in).

An order a customer submits on A is offered to an engineer on B (B's long
poll answers it, B's inbox lists it), accepted on B and shown with its
files on A; the tokens of either serve on the other (sessions live in the
database). A workflow hint edited in the back office on A is what B
answers next: Tryton's caches are cleared in every process through
PostgreSQL's LISTEN/NOTIFY ([cache] clean_timeout = 0, read here from
config/trytond-postgresql.conf; with Tryton's default of 300 s, B would
answer the old hint for up to five minutes).

PostgreSQL only: several processes on one SQLite file is not a deployment
(SQLite is the embedded, single-process default of `make demo`)."""
import configparser
import copy
import hashlib
import os
import threading
import unittest
import uuid
from pathlib import Path

from trytond.modules.instrument_service_api.tests.server import (
    APIServer, free_port, image, pdf)

from .test_object_storage import ObjectStore

ROOT = Path(__file__).resolve().parent.parent
URI = os.environ.get('TRYTOND_DATABASE__URI', 'sqlite://')
CONTACT = {'name': '吴十', 'company': '某某环境监测站', 'phone': '13600002222',
    'address': '南京市 鼓楼区'}
LINE = {'instrument_name': '气相色谱仪', 'brand': 'Shimadzu',
    'model': 'GC-2030', 'fault_description': '基线漂移', 'quantity': 1}


def production_cache_config():
    "The [cache] section of config/trytond-postgresql.conf"
    parser = configparser.ConfigParser()
    parser.read(ROOT / 'config' / 'trytond-postgresql.conf')
    return dict(parser['cache'])


def second_instance(server):
    """Another trytond process on server's database, configuration and
    bucket, on a port of its own (as a second app server behind the
    proxy); its own back-office sessions. Stop it with stop_instance."""
    other = copy.copy(server)
    other.__dict__.pop('_back_office_sessions', None)
    other.port = free_port()
    other.url = 'http://127.0.0.1:%s/api/v1' % other.port
    with open(server.config_path) as fp:
        text = fp.read()
    listen = 'listen = 127.0.0.1:%s' % server.port
    assert text.count(listen) == 1, text
    other.config_path = os.path.join(server.directory, 'trytond-b.conf')
    with open(other.config_path, 'w') as fp:
        fp.write(text.replace(listen, 'listen = 127.0.0.1:%s' % other.port))
    other.log_path = os.path.join(server.directory, 'server-b.log')
    other.log = open(other.log_path, 'w')
    other.process = None
    return other.launch()


def stop_instance(instance):
    if instance.process:
        instance.process.terminate()
        instance.process.wait(30)
    instance.log.close()


@unittest.skipUnless(URI.startswith('postgresql'),
    "several app servers share a PostgreSQL database, never an SQLite file")
class TwoInstancesTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.store = ObjectStore().start()
        cls.a = cls.b = None
        try:
            cls.a = APIServer(engineers=2, config={**cls.store.config(),
                    'cache': production_cache_config()}).start()
            cls.b = second_instance(cls.a)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        logs = []
        try:
            if cls.b:
                stop_instance(cls.b)
                logs.append(cls.b.server_log())
            if cls.a:
                logs.append(cls.a.server_log())
                cls.a.stop()
        finally:
            cls.store.stop()
        super().tearDownClass()
        for log in logs:
            assert 'Traceback' not in log, log[
                max(log.index('Traceback') - 500, 0):][:5000]

    def call(self, server, method, path, data=None, token=None, status=200,
            **kwargs):
        got, body = server.call(method, path, data, token, **kwargs)
        self.assertEqual(got, status, (server.port, method, path, body))
        return body

    def download(self, server, path, token):
        status, _, content = server.request('GET', path, token=token)
        self.assertEqual(status, 200, (server.port, path, content[:300]))
        return content

    def submit(self, server, token, line_files=(), order_files=()):
        return self.call(server, 'POST', '/orders', {
                'type': 'repair', 'contact': CONTACT,
                'lines': [{**LINE, 'files': list(line_files)}],
                'files': list(order_files)},
            token, status=201,
            headers={'Idempotency-Key': uuid.uuid4().hex})['id']

    def test_order_across_instances(self):
        "Submitted on A, offered, accepted on B, shown with its files on A"
        a, b, store = self.a, self.b, self.store
        customer = a.customer()
        engineer = b.engineer(0)
        latest = self.call(b, 'GET', '/engineer/notifications/wait?timeout=0',
            token=engineer)['items']
        after = max([n['id'] for n in latest] or [0])
        answer = {}

        def wait():
            answer['body'] = self.call(b, 'GET',
                '/engineer/notifications/wait?timeout=30&after=%s' % after,
                token=engineer)
        waiting = threading.Thread(target=wait)
        waiting.start()

        originals = {'fault.jpg': image('JPEG', size=(1000, 750)),
            'invoice.pdf': pdf('invoice 2031-0042')}
        uploads = {}
        for name, content in originals.items():
            status, uploads[name] = a.upload('/files', name, content,
                customer)
            self.assertEqual(status, 201, uploads[name])
        order_id = self.submit(a, customer, [uploads['fault.jpg']['id']],
            [uploads['invoice.pdf']['id']])

        # The offer reaches the engineer's long poll and inbox on B
        waiting.join(60)
        self.assertFalse(waiting.is_alive())
        self.assertIn(order_id,
            [n['order_id'] for n in answer['body']['items']])
        inbox = self.call(b, 'GET', '/engineer/inbox', token=engineer)
        self.assertIn(order_id, [o['id'] for o in inbox['items']])
        accepted = self.call(b, 'POST', '/engineer/inbox/%s/accept' %
            order_id, token=engineer)
        self.assertEqual(accepted['progress']['current_step'], 'accepted')

        # A shows the order accepted, with its files, as the bucket holds
        # them; B serves the same files to the engineer
        order = self.call(a, 'GET', '/orders/%s' % order_id, token=customer)
        self.assertEqual(order['state'], 'in_progress')
        self.assertEqual(order['progress']['current_step'], 'accepted')
        views = [f for line in order['lines'] for f in line['files']] \
            + order['files']
        self.assertEqual([v['id'] for v in views],
            [uploads['fault.jpg']['id'], uploads['invoice.pdf']['id']])
        rows = dict(a.sql('SELECT id, file_id FROM ir_attachment '
                'WHERE id IN (%s, %s)' % tuple(v['id'] for v in views)))
        for view in views:
            key = store.key(a.database, rows[view['id']])
            content = self.download(a, '/files/%s' % view['id'], customer)
            self.assertEqual(content, store.get(key))
            self.assertEqual(self.download(b, '/files/%s' % view['id'],
                    engineer), content)
            if view['name'].endswith('.pdf'):
                self.assertEqual(content, originals['invoice.pdf'])
            else:
                self.assertEqual(self.download(b, view['thumbnail_url'][
                            len('/api/v1'):], engineer),
                    self.download(a, view['thumbnail_url'][
                            len('/api/v1'):], customer))

        # The engineer's photo sent to B is in the bucket, and the
        # customer's token (issued by A) reads the order on B: both
        # instances are stateless
        status, photo = b.upload('/engineer/tasks/%s/files' % order_id,
            'pump.jpg', image('JPEG', color=(10, 120, 200)), engineer)
        self.assertEqual(status, 201, photo)
        (file_id,), = a.sql('SELECT file_id FROM ir_attachment WHERE id = %s',
            (photo['id'],))
        self.assertIn(store.key(a.database, file_id), store.keys())
        self.assertEqual(
            hashlib.sha256(self.download(a, '/files/%s' % photo['id'],
                    engineer)).hexdigest(),
            hashlib.sha256(store.get(
                    store.key(a.database, file_id))).hexdigest())
        on_b = self.call(b, 'GET', '/orders/%s' % order_id, token=customer)
        self.assertEqual(on_b['progress']['current_step'], 'accepted')
        self.assertEqual(self.local_files(), set())

    def local_files(self):
        "Files under [database] path: none, they are all in the bucket"
        root = os.path.join(self.a.directory, 'db')
        return {name for _, _, names in os.walk(root) for name in names}

    def test_workflow_edit_reaches_both(self):
        "A hint edited in the back office on A is B's next answer"
        a, b = self.a, self.b
        customer = a.customer()
        engineer = b.engineer(1)
        order_id = self.submit(a, customer)
        self.call(b, 'POST', '/engineer/inbox/%s/accept' % order_id,
            token=engineer)
        # Both have read (and cached) the workflow of repairs
        for server in [a, b]:
            order = self.call(server, 'GET', '/orders/%s' % order_id,
                token=customer)
            self.assertEqual(order['progress']['current_step'], 'accepted')
            old = order['progress']['hint']
        self.assertTrue(old)
        new = '已接单，客服将在两小时内致电 %s' % uuid.uuid4().hex[:6]
        step_ids = a.back_office(
            'model.instrument_service.workflow.step.search',
            [['workflow.order_type', '=', 'repair'],
                ['code', '=', 'accepted']], 0, None, None)
        self.assertEqual(len(step_ids), 1)
        a.back_office('model.instrument_service.workflow.step.write',
            step_ids, {'hint': new})
        for server in [b, a]:
            order = self.call(server, 'GET', '/orders/%s' % order_id,
                token=customer)
            self.assertEqual(order['progress']['hint'], new, server.port)
        # and the engineer's view on B
        task = self.call(b, 'GET', '/engineer/tasks/%s' % order_id,
            token=engineer)
        self.assertEqual(task['progress']['hint'], new)


if __name__ == '__main__':
    unittest.main()
