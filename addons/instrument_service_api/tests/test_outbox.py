# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The outbox over real HTTP, with a JPush stand-in (jpush_stub.py): the
notices of a change are written in its commit and delivered after it,
each exactly once, whether the push provider is up, down for a while,
refusing or failing, and whether the server dies between the commit and
the delivery or in the middle of a send."""
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import unittest
import uuid

from .jpush_stub import JPushStub
from .server import BIN, APIServer

CONTACT = {'name': '孙八', 'company': '丁方实验室', 'phone': '13700001234'}
LINE = {'instrument_name': '气相色谱仪', 'brand': 'Shimadzu',
    'fault_description': '基线漂移', 'quantity': 1}
APP_KEY = 'test-app-key'
DELIVER_CRON = 'instrument_service.notice|deliver_due'

# Run in a process of its own with the server's configuration, as trytond-cron
# or trytond-worker would: python -c DELIVER CONFIG DATABASE MODE TIMEOUT
#   once: the ir.cron job instrument_service.notice|deliver_due, once
#   idle: that job again and again until no notice is pending or being sent
#   queue: every queue task not finished yet, as trytond-worker runs them
# Prints {"rounds": n, "waiting": notices pending or being sent}
DELIVER = r'''
import json, sys, time
from trytond import config
config.update_etc(sys.argv[1])
from trytond.pool import Pool
from trytond.transaction import Transaction
from trytond.worker import run_task

database, mode, timeout = sys.argv[2], sys.argv[3], float(sys.argv[4])
pool = Pool(database)
pool.init()


def waiting():
    with Transaction().start(database, 0, readonly=True):
        Notice = pool.get('instrument_service.notice')
        return Notice.search_count([('state', 'in', ['pending', 'sending'])])


rounds = 0
deadline = time.monotonic() + timeout
if mode == 'queue':
    with Transaction().start(database, 0, readonly=True):
        Queue = pool.get('ir.queue')
        tasks = [t.id for t in Queue.search(
                [('finished_at', '=', None)], order=[('id', 'ASC')])]
    for task_id in tasks:
        run_task(pool, task_id)
        rounds += 1
else:
    while True:
        with Transaction().start(database, 0,
                context={'_skip_warnings': True}) as transaction:
            Cron = pool.get('ir.cron')
            cron, = Cron.search([('method', '=', %r)])
            Cron.run_once([cron])
            transaction.commit()
        rounds += 1
        if mode == 'once' or not waiting() or time.monotonic() > deadline:
            break
        time.sleep(0.3)
print(json.dumps({'rounds': rounds, 'waiting': waiting()}))
''' % DELIVER_CRON


def alias(user_id):
    return 'u%s' % user_id


# One database and one JPush stub for the module (a server's start costs a
# minute on PostgreSQL); each test case runs trytond in the queue mode it
# needs on it
STUB = SERVER = None
MASTER_SECRET = secrets.token_hex(12)
ENGINEERS = 3
# [queue] worker -> the server's configuration file
CONFIGS = {}


def setUpModule():
    global STUB, SERVER
    STUB = JPushStub(APP_KEY, MASTER_SECRET).start()
    SERVER = APIServer(engineers=ENGINEERS, config={
            'jpush': {
                'app_key': APP_KEY, 'master_secret': MASTER_SECRET,
                'base_url': STUB.url, 'timeout': '5'},
            'instrument_service': {
                # Retries due after a second, 9 attempts in all
                'notice_retry_delays': '1,1,1,1,1,1,1,1',
                'notice_claim_timeout': '5'},
            'queue': {'worker': 'False'},
            })
    try:
        SERVER.start()
    except BaseException:
        STUB.stop()
        raise
    CONFIGS[False] = SERVER.config_path
    with open(SERVER.config_path) as fp:
        text = fp.read()
    CONFIGS[True] = os.path.join(SERVER.directory, 'trytond-worker.conf')
    assert '[queue]\nworker = False\n' in text, text
    with open(CONFIGS[True], 'w') as fp:
        fp.write(text.replace('[queue]\nworker = False\n',
                '[queue]\nworker = True\n'))


def tearDownModule():
    SERVER.stop()
    STUB.stop()


def stop_group(process):
    """Stop a process started in a session of its own and every process of
    its group (trytond-worker's pool outlives it otherwise)"""
    for sig in [signal.SIGTERM, signal.SIGKILL]:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            process.poll()
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
    process.wait()


class OutboxTestCase(unittest.TestCase):
    "The module's server with JPush on, against the stub"
    engineers = ENGINEERS
    queue_worker = False

    @classmethod
    def setUpClass(cls):
        cls.stub, cls.server = STUB, SERVER
        cls.master_secret = MASTER_SECRET
        cls.users = [e['id'] for e in cls.server.people['engineers']]
        if cls.server.config_path != CONFIGS[cls.queue_worker]:
            process = cls.server.process
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            cls.server.config_path = CONFIGS[cls.queue_worker]
            cls.server.launch()
        cls.tokens = [cls.server.engineer(i) for i in range(cls.engineers)]

    def setUp(self):
        self.stub.master_secret = self.master_secret
        self.stub.reset()
        self.stub.start()

    # ---- driving the API --------------------------------------------------

    def submit(self):
        "Submit an order as a new customer; return its id"
        status, order = self.server.call('POST', '/orders', {
                'type': 'repair', 'contact': CONTACT, 'lines': [LINE]},
            self.server.customer(),
            headers={'Idempotency-Key': uuid.uuid4().hex})
        self.assertEqual(status, 201, order)
        return order['id']

    def accept(self, order_id, index):
        status, order = self.server.call('POST',
            '/engineer/inbox/%s/accept' % order_id, None, self.tokens[index])
        self.assertEqual(status, 200, order)

    def feed(self, index):
        "The notifications engineer index sees in the app"
        status, page = self.server.call('GET',
            '/engineer/notifications?page_size=100', token=self.tokens[index])
        self.assertEqual(status, 200, page)
        return page['items']

    # ---- looking into the database ----------------------------------------

    def notices(self, order_ids, **where):
        """The notices of the orders to the engineers (on the channels
        Tryton and JPush) as dicts, oldest first"""
        columns = ['id', 'order', 'kind', 'channel', 'recipient', 'user',
            'state', 'attempts', 'external_id', 'outcome', 'title',
            'next_attempt_at', 'sent_at', 'create_date', 'channel_key']
        clause = ('"order" IN (%s) AND channel IN (%%s, %%s)'
            % ', '.join(['%s'] * len(order_ids)))
        params = list(order_ids) + ['tryton', 'jpush']
        for column, value in where.items():
            clause += ' AND "%s" = %%s' % column
            params.append(value)
        rows = self.server.sql('SELECT %s FROM instrument_service_notice '
            'WHERE %s ORDER BY id' % (
                ', '.join('"%s"' % c for c in columns), clause), params)
        return [dict(zip(columns, row)) for row in rows]

    def notifications(self, order_ids):
        "The Tryton notifications of the orders: {id: (user, order)}"
        rows = self.server.sql('SELECT id, "user", records '
            'FROM res_notification WHERE model = %s',
            ('instrument_service.order',))
        result = {}
        for id_, user, records in rows:
            order_id, = json.loads(records)
            if order_id in order_ids:
                result[id_] = (user, order_id)
        return result

    # ---- delivering ---------------------------------------------------------

    def deliver(self, mode='idle', timeout=60):
        """Run the delivery job (or the queue tasks) in a process of its
        own with the server's configuration; return its summary"""
        result = subprocess.run([sys.executable, '-c', DELIVER,
                self.server.config_path, self.server.database, mode,
                str(timeout)],
            env=self.server._env(), capture_output=True, text=True,
            timeout=timeout + 120)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn('Traceback', result.stderr)
        return json.loads(result.stdout.strip().splitlines()[-1])

    # ---- crashing -----------------------------------------------------------

    def kill_server(self):
        "kill -9 the server, whatever it is doing"
        self.server.process.kill()
        self.server.process.wait(10)

    def restart_server(self):
        "Start a trytond again on the same database and configuration"
        self.server.launch()

    # ---- checks ---------------------------------------------------------

    def assertDeliveredOnce(self, notices):
        """Every notice is sent and reached its channel exactly once: one
        accepted push per JPush notice (by the notice_id of its extras), to
        the alias of its user, about its order; one Tryton notification per
        Tryton notice, and no other notification about the orders"""
        self.assertTrue(notices)
        self.assertEqual(self.stub.invalid, [])
        order_ids = {n['order'] for n in notices}
        notifications = self.notifications(order_ids)
        for notice in notices:
            with self.subTest(notice=notice['id'], channel=notice['channel']):
                self.assertEqual(notice['state'], 'sent', notice)
                self.assertTrue(notice['sent_at'])
                self.assertEqual(notice['recipient'],
                    'user:%s' % notice['user'])
                if notice['channel'] == 'jpush':
                    push, = self.stub.pushes_of(notice['id'])
                    self.assertEqual(notice['external_id'], push.msg_id)
                    # The cid that every attempt of the notice carries
                    self.assertTrue(notice['channel_key'])
                    self.assertEqual(push.body['cid'], notice['channel_key'])
                    self.assertEqual(push.alias, alias(notice['user']))
                    self.assertEqual(push.extras['order_id'],
                        notice['order'])
                    self.assertEqual(push.title, notice['title'])
                else:
                    self.assertEqual(
                        notifications.get(int(notice['external_id'])),
                        (notice['user'], notice['order']))
        # Nothing sent twice: the pushes and notifications about the
        # orders are exactly those of the notices
        jpush = [n for n in notices if n['channel'] == 'jpush']
        pushes = [p for p in self.stub.pushes
            if p.extras.get('order_id') in order_ids]
        self.assertEqual(len(pushes), len(jpush))
        tryton = [n for n in notices if n['channel'] == 'tryton']
        self.assertEqual(sorted(notifications),
            sorted(int(n['external_id']) for n in tryton))


class InlineOutboxTestCase(OutboxTestCase):
    """No worker: the notices of a request are delivered right after its
    commit, and the delivery job takes what was left"""

    def test_submit_notifies_every_engineer_on_both_channels(self):
        """A submitted order is offered to the three engineers: one Tryton
        and one JPush notice each, written in the order's commit and
        delivered at once"""
        order_id = self.submit()
        notices = self.notices([order_id])
        self.assertEqual(sorted((n['kind'], n['channel'], n['user'])
                for n in notices),
            sorted(('offered', channel, user) for user in self.users
                for channel in ['tryton', 'jpush']))
        # Written in the commit of the order: one transaction time
        (created,), = self.server.sql('SELECT create_date '
            'FROM instrument_service_order WHERE id = %s', (order_id,))
        (offered,), = self.server.sql('SELECT create_date '
            'FROM instrument_service_order_progress '
            'WHERE "order" = %s AND action = %s', (order_id, 'offer'))
        self.assertEqual(offered, created)
        for notice in notices:
            self.assertEqual(notice['create_date'], created)
            self.assertEqual(notice['attempts'], 1)
            self.assertIsNone(notice['outcome'])
        self.assertDeliveredOnce(notices)

        # One push per engineer, to their alias, about the order
        self.assertEqual(sorted(p.alias for p in self.stub.pushes),
            sorted(alias(u) for u in self.users))
        for push in self.stub.pushes:
            self.assertEqual(push.extras['order_id'], order_id)
            self.assertTrue(push.alert)
            self.assertEqual(push.body['platform'], 'all')
        # Each engineer's app shows it at once
        for index, user in enumerate(self.users):
            notice, = [n for n in notices
                if n['user'] == user and n['channel'] == 'tryton']
            item, = [i for i in self.feed(index)
                if i['id'] == int(notice['external_id'])]
            self.assertEqual(item['order_id'], order_id)
            self.assertEqual(item['label'], notice['title'])
            self.assertTrue(item['unread'])

    def test_provider_down_for_a_while(self):
        """JPush down: the pushes wait (pending, retried), the app's feed
        gets its notifications all the same; JPush back: the delivery job
        sends every push exactly once"""
        self.stub.stop()
        first, second = self.submit(), self.submit()
        self.accept(first, 0)
        notices = self.notices([first, second])
        jpush = [n for n in notices if n['channel'] == 'jpush']
        tryton = [n for n in notices if n['channel'] == 'tryton']
        # 2 orders offered to 3, and 2 offers of the first withdrawn
        self.assertEqual(len(jpush), 8)
        self.assertEqual(len(tryton), 8)
        self.assertEqual(sorted(n['kind'] for n in jpush),
            ['offered'] * 6 + ['withdrawn'] * 2)
        for notice in jpush:
            self.assertEqual(notice['state'], 'pending', notice)
            self.assertEqual(notice['attempts'], 1)
            self.assertIn('JPush', notice['outcome'])
            self.assertTrue(notice['next_attempt_at'])
            self.assertIsNone(notice['external_id'])
        self.assertEqual(self.stub.requests, [])
        # The other channel is not held up
        for notice in tryton:
            self.assertEqual(notice['state'], 'sent', notice)
        for index, user in enumerate(self.users):
            feed = {i['id'] for i in self.feed(index)}
            for notice in tryton:
                if notice['user'] == user:
                    self.assertIn(int(notice['external_id']), feed)

        # Still down when the job runs: tried again, still waiting
        time.sleep(1.1)
        self.deliver('once')
        for notice in self.notices([first, second], channel='jpush'):
            self.assertEqual(notice['state'], 'pending', notice)
            self.assertEqual(notice['attempts'], 2)

        # Back: everything goes, once
        self.stub.start()
        summary = self.deliver('idle')
        self.assertEqual(summary['waiting'], 0, summary)
        notices = self.notices([first, second])
        self.assertDeliveredOnce(notices)
        for notice in notices:
            if notice['channel'] == 'jpush':
                self.assertEqual(notice['attempts'], 3)
        self.assertEqual(sorted(p.alias for p in self.stub.pushes),
            sorted(alias(n['user']) for n in jpush))
        # More runs of the job send nothing again
        time.sleep(1.1)
        self.deliver('once')
        self.assertEqual(len(self.stub.pushes), len(jpush))
        self.assertEqual(self.notices([first, second]), notices)

    def test_refused_alias_is_not_retried(self):
        """1011 (no phone has the engineer's alias): refused, pushed once,
        never again; the others and the app's feed are not affected"""
        refused_user = self.users[1]
        self.stub.refuse(alias(refused_user))
        order_id = self.submit()
        notice, = self.notices([order_id], channel='jpush',
            user=refused_user)
        self.assertEqual(notice['state'], 'refused')
        self.assertEqual(notice['attempts'], 1)
        self.assertIn('1011', notice['outcome'])
        others = [n for n in self.notices([order_id])
            if n['id'] != notice['id']]
        self.assertEqual(len(others), 5)
        self.assertDeliveredOnce(others)

        time.sleep(1.1)
        self.deliver('once')
        self.deliver('once')
        self.assertEqual(self.notices([order_id], channel='jpush',
                user=refused_user), [notice])
        self.assertEqual([r['audience']['alias'] for r in self.stub.requests
                if r['audience']['alias'] == [alias(refused_user)]],
            [[alias(refused_user)]])
        self.assertEqual(len(self.stub.requests), 3)

    def test_wrong_credentials_fail_for_good(self):
        """An error that is not temporary (401, authentication failed):
        failed at once, not retried"""
        self.stub.master_secret = 'rotated-' + self.master_secret
        order_id = self.submit()
        jpush = self.notices([order_id], channel='jpush')
        self.assertEqual(len(jpush), 3)
        for notice in jpush:
            self.assertEqual(notice['state'], 'failed')
            self.assertEqual(notice['attempts'], 1)
            self.assertIn('1004', notice['outcome'])
        # Refused at the first call, the cid's
        self.assertEqual(len(self.stub.cid_requests), 3)
        self.assertEqual(self.stub.requests, [])
        time.sleep(1.1)
        self.deliver('once')
        self.assertEqual(self.notices([order_id], channel='jpush'), jpush)
        self.assertEqual(len(self.stub.cid_requests), 3)

    def test_server_errors_then_ok(self):
        """500s, a 429 and a 503 before JPush answers: retried until sent,
        each push accepted once"""
        self.stub.fail(500, times=3)
        self.stub.fail(429)
        self.stub.fail(503)
        order_id = self.submit()
        jpush = self.notices([order_id], channel='jpush')
        self.assertEqual(len(jpush), 3)
        for notice in jpush:
            self.assertEqual(notice['state'], 'pending')
            self.assertIn('HTTP 500', notice['outcome'])
        summary = self.deliver('idle')
        self.assertEqual(summary['waiting'], 0, summary)
        notices = self.notices([order_id])
        self.assertDeliveredOnce(notices)
        self.assertEqual(sorted(n['attempts'] for n in notices
                if n['channel'] == 'jpush'), [2, 3, 3])
        # 3 + 2 refused, 3 accepted
        self.assertEqual(len(self.stub.requests), 8)
        self.assertEqual(len(self.stub.pushes), 3)

    def test_gives_up_after_the_last_retry(self):
        """Down for longer than the retries last: failed after the last
        attempt, one per delay of notice_retry_delays and the first"""
        self.stub.stop()
        order_id = self.submit()
        summary = self.deliver('idle', timeout=60)
        self.assertEqual(summary['waiting'], 0, summary)
        for notice in self.notices([order_id], channel='jpush'):
            self.assertEqual(notice['state'], 'failed', notice)
            self.assertEqual(notice['attempts'], 9)
            self.assertIn('JPush', notice['outcome'])
        for notice in self.notices([order_id], channel='tryton'):
            self.assertEqual(notice['state'], 'sent', notice)

    def test_server_killed_during_a_send(self):
        """The server dies after JPush pushed but before its answer came
        back: after a restart, the delivery job sends that notice again
        once its claim has timed out, with the same cid, which JPush does
        not push twice, and the ones not yet sent: nothing lost, nothing
        pushed twice"""
        hung_user = self.users[1]
        self.stub.hang(alias(hung_user))
        answers = []

        def submit():
            try:
                answers.append(self.submit())
            except BaseException as e:
                answers.append(e)
        thread = threading.Thread(target=submit)
        thread.start()
        hung, = self.stub.wait_hanging(1)
        self.kill_server()
        self.stub.release()
        thread.join(30)
        # The request died with the server, after its commit
        self.assertNotIsInstance(answers[0], int)
        (order_id,), = self.server.sql(
            'SELECT MAX(id) FROM instrument_service_order')
        self.assertEqual(hung['notification']['android']['extras'][
                'order_id'], order_id)
        notices = self.notices([order_id])
        self.assertEqual(len(notices), 6)
        states = {n['id']: n['state'] for n in notices}
        hung_id = hung['notification']['android']['extras']['notice_id']
        self.assertEqual(states.pop(hung_id), 'sending')
        self.assertIn('pending', states.values())

        self.restart_server()
        summary = self.deliver('idle')
        self.assertEqual(summary['waiting'], 0, summary)
        notices = self.notices([order_id])
        self.assertDeliveredOnce(notices)
        attempts = {n['id']: n['attempts'] for n in notices}
        self.assertEqual(attempts.pop(hung_id), 2)
        # Sent twice with one cid, pushed once
        sends = [r for r in self.stub.requests
            if r['notification']['android']['extras']['notice_id']
            == hung_id]
        self.assertEqual(len(sends), 2)
        self.assertEqual(sends[0]['cid'], sends[1]['cid'])
        self.assertEqual(len(self.stub.pushes_of(hung_id)), 1)
        self.assertEqual(set(attempts.values()), {1})
        # The engineers' feeds have it, and the server works on
        for index in range(self.engineers):
            self.assertIn(order_id, [i['order_id'] for i in self.feed(index)])
        self.accept(self.submit(), 2)


class QueuedOutboxTestCase(OutboxTestCase):
    """[queue] worker = True and no worker running: the state after a crash
    between the commit and the delivery. The notices and their queue tasks
    are committed; a worker, or the delivery job, sends each once"""
    queue_worker = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.workers = []

    @classmethod
    def tearDownClass(cls):
        for worker in cls.workers:
            stop_group(worker)
        super().tearDownClass()

    def queue_tasks(self):
        "The notice deliveries the queue still has to run: {task: ids}"
        rows = self.server.sql('SELECT id, data FROM ir_queue '
            'WHERE finished_at IS NULL')
        tasks = {}
        for id_, data in rows:
            data = json.loads(data) if isinstance(data, str) else data
            if (data['model'], data['method']) == (
                    'instrument_service.notice', 'deliver'):
                tasks[id_] = data['instances']
        return tasks

    def assertWaiting(self, order_ids, count):
        "The notices of the orders are written and nothing was delivered"
        notices = self.notices(order_ids)
        self.assertEqual(len(notices), count)
        for notice in notices:
            self.assertEqual(notice['state'], 'pending', notice)
            self.assertEqual(notice['attempts'], 0)
        self.assertEqual(self.stub.requests, [])
        self.assertEqual(self.notifications(set(order_ids)), {})
        for index in range(self.engineers):
            self.assertFalse(set(order_ids)
                & {i['order_id'] for i in self.feed(index)})
        return notices

    def run_worker(self, order_ids):
        """Deliver the queue's tasks as trytond-worker does: the real one on
        PostgreSQL, its run_task on SQLite (where trytond-worker cannot
        wait for the database); return when every notice of the orders is
        out of the queue"""
        if self.server.backend == 'postgresql':
            log = open(os.path.join(self.server.directory, 'worker.log'), 'w')

            def output():
                with open(log.name) as fp:
                    return fp.read()
            worker = subprocess.Popen([
                    os.path.join(BIN, 'trytond-worker'),
                    '-c', self.server.config_path, '-d', self.server.database,
                    '-n', '1', '-v'],
                env=self.server._env(), stdout=log, stderr=subprocess.STDOUT,
                # Its pool's processes with it, to stop them all
                start_new_session=True)
            self.workers.append(worker)
            try:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    if worker.poll() is not None:
                        self.fail("trytond-worker stopped:\n" + output())
                    if not any(n['state'] in {'pending', 'sending'}
                            for n in self.notices(order_ids)) \
                            and not self.queue_tasks():
                        break
                    time.sleep(0.2)
                else:
                    self.fail("the worker did not deliver:\n" + output())
            finally:
                stop_group(worker)
                log.close()
            self.assertNotIn('Traceback', output())
        else:
            summary = self.deliver('queue')
            self.assertGreaterEqual(summary['rounds'], 1)
        self.assertEqual(self.queue_tasks(), {})

    def test_worker_delivers_what_was_committed(self):
        """Nothing is delivered inline with a worker configured: the
        notices and their queue tasks wait, committed; the worker sends
        each once, and the delivery job after it finds nothing to send"""
        before = set(self.queue_tasks())
        first, second = self.submit(), self.submit()
        self.accept(first, 0)
        notices = self.assertWaiting([first, second], 16)
        # One queue task per change, for the notices it wrote
        tasks = self.queue_tasks()
        self.assertEqual(len(set(tasks) - before), 3)
        self.assertEqual(
            sorted(i for t in set(tasks) - before for i in tasks[t]),
            sorted(n['id'] for n in notices))

        self.run_worker([first, second])
        notices = self.notices([first, second])
        self.assertDeliveredOnce(notices)
        self.assertEqual({n['attempts'] for n in notices}, {1})
        # The delivery job finds nothing left to send
        self.deliver('once')
        self.assertEqual(self.notices([first, second]), notices)
        self.assertEqual(len(self.stub.pushes), 8)
        for index in range(self.engineers):
            self.assertTrue({first, second}
                <= {i['order_id'] for i in self.feed(index)})

    def test_server_killed_after_the_commit(self):
        """kill -9 right after a submit answered (its commit done, nothing
        delivered): after a restart, trytond-cron's delivery job sends
        every notice once, and the queue tasks run later send nothing
        twice"""
        order_id = self.submit()
        self.kill_server()
        self.restart_server()
        notices = self.assertWaiting([order_id], 6)
        self.assertTrue(self.queue_tasks())

        # trytond-cron as in production, once, with the job due
        self.server.sql('UPDATE ir_cron SET next_call = NULL '
            'WHERE method = %s', (DELIVER_CRON,))
        cron = subprocess.run([os.path.join(BIN, 'trytond-cron'),
                '-c', self.server.config_path, '-d', self.server.database,
                '--once', '-n', '1'],
            env=self.server._env(), capture_output=True, text=True,
            timeout=300)
        self.assertEqual(cron.returncode, 0, cron.stderr)
        notices = self.notices([order_id])
        self.assertDeliveredOnce(notices)
        self.assertEqual({n['attempts'] for n in notices}, {1})
        self.assertEqual(len(self.stub.pushes), 3)

        # The queue tasks left by the crash run late: nothing sent twice
        self.run_worker([order_id])
        self.assertEqual(self.notices([order_id]), notices)
        self.assertEqual(len(self.stub.pushes), 3)


if __name__ == '__main__':
    unittest.main()
