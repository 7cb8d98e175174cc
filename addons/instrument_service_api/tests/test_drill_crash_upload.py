# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""Reliability drill: the server killed (SIGKILL) while a customer submits an
order with several files.

A customer uploads 3 photos and 1 PDF (a few hundred KB each) with
POST /files, then submits the order with POST /orders and an
Idempotency-Key. The real server (tests/server.py) is killed at several
points:

- mid_body: while an upload's body is still being sent (a raw socket sends
  part of the multipart body, then the server dies);
- after_uploads: after some uploads were answered, before the next one;
- upload_in_flight: an upload's body fully sent, killed after a delay (its
  commit may be done with the answer lost: an orphan upload; or the
  filestore written without the commit: an orphan file);
- order_in_flight: POST /orders sent, killed after delays spread over the
  time it takes, so that some kills land before and some after its commit
  (the answer lost either way).

After each restart the client retries as a real one does: it uploads again
the files whose answers it did not get and sends POST /orders again with
the same Idempotency-Key and the same body (the file ids it holds).

Checked: exactly one order per key and per customer, with all its files,
their bytes as served equal to what the upload makes of them; then the
cleanup job (ir.attachment|remove_unclaimed_uploads, the clock moved past
the retention) removes every orphan upload row and unreferenced file, and
Tryton's ir.filestore.queue|remove the files of the deleted rows, while
everything of the orders is still served. The drill prints what it tried
and what it found."""
import io
import json
import os
import random
import socket
import subprocess
import sys
import time
import unittest
import uuid
import zlib

from .server import APIServer, multipart

from ..files import prepare

ORDER_TYPE = 'recycle'
LINE = {'instrument_name': '气相色谱仪', 'brand': 'Shimadzu', 'quantity': 1}
CONTACT = {'name': '孙八', 'company': '丁方实验室', 'phone': '13700001234'}
CLEANUP_CRON = 'ir.attachment|remove_unclaimed_uploads'
QUEUE_CRON = 'ir.filestore.queue|remove'

# The jobs, in a process of their own with the server's configuration, as
# trytond-cron runs them, each in its own transaction, with the clock of
# the module moved by HOURS and Tryton's [attachment] retention_days at 0:
#   python -c CLEANUP CONFIG DATABASE HOURS METHOD...
CLEANUP = r'''
import datetime as dt, sys
from unittest.mock import patch
from trytond import config
config.update_etc(sys.argv[1])
config.set('attachment', 'retention_days', '0')
from trytond.pool import Pool
from trytond.transaction import Transaction

database, hours = sys.argv[2], float(sys.argv[3])
pool = Pool(database)
pool.init()
later = dt.datetime.now() + dt.timedelta(hours=hours)
with patch('trytond.modules.instrument_service.clock.now',
        return_value=later):
    for method in sys.argv[4:]:
        with Transaction().start(database, 0) as transaction:
            Cron = pool.get('ir.cron')
            cron, = Cron.search([('method', '=', method)])
            Cron.run_once([cron])
            transaction.commit()
'''


def noise_photo(seed, size=(560, 420)):
    "A JPEG of noise: a few hundred KB, like a phone photo"
    from PIL import Image
    rng = random.Random(seed)
    picture = Image.frombytes('RGB', size, rng.randbytes(
            size[0] * size[1] * 3))
    output = io.BytesIO()
    picture.save(output, format='JPEG', quality=92)
    return output.getvalue()


def noise_pdf(seed, size=(420, 320)):
    "A one-page PDF of a noise image: a few hundred KB"
    from PIL import Image
    rng = random.Random(seed)
    page = Image.frombytes('RGB', size, rng.randbytes(size[0] * size[1] * 3))
    output = io.BytesIO()
    page.save(output, format='PDF')
    return output.getvalue()


class Killed(Exception):
    "The server died before answering"


class Drill:
    "The server, its kills and restarts, and what was counted"

    def __init__(self, server):
        self.server = server
        self.counts = {'kills': 0, 'restarts': 0, 'uploads': 0,
            'uploads_lost': 0, 'orders_sent': 0, 'orders_lost': 0,
            'retries': 0}
        self.connection = None

    # ---- the server -------------------------------------------------------

    def kill(self):
        "kill -9 the server, whatever it is doing"
        self.server.process.kill()
        self.server.process.wait(10)
        self.counts['kills'] += 1

    def restart(self):
        self.server.launch()
        self.counts['restarts'] += 1

    def kill_when(self, condition, timeout=20):
        """kill -9 the server as soon as condition() holds (polled every
        millisecond or so); return whether it held"""
        deadline = time.monotonic() + timeout
        held = False
        while time.monotonic() < deadline:
            try:
                held = condition()
            except Exception:
                # SQLite: locked by the server's commit at that instant
                held = False
            if held:
                break
            time.sleep(0.001)
        self.kill()
        return held

    def query(self, query, params=()):
        """Run query on a connection kept open, for polling (a new
        PostgreSQL connection costs milliseconds)"""
        if self.connection is None:
            self.connection = self.server._connect()
            if self.server.backend == 'sqlite':
                self.connection.execute('PRAGMA busy_timeout = 20')
        if self.server.backend == 'sqlite':
            query = query.replace('%s', '?')
        cursor = self.connection.cursor()
        cursor.execute(query, params)
        return cursor.fetchall()

    def files_on_disk(self):
        folder = os.path.join(self.server.directory, 'db',
            self.server.database)
        found = set()
        for _, _, names in os.walk(folder):
            found.update(names)
        return found

    # ---- raw HTTP: to kill at a chosen point of a request ---------------------

    def send(self, method, path, body, headers, part=None):
        """Open a connection and send the request, or only its first part
        bytes of body; return the socket"""
        sock = socket.create_connection(('127.0.0.1', self.server.port))
        head = ['%s /api/v1%s HTTP/1.1' % (method, path),
            'Host: 127.0.0.1:%s' % self.server.port,
            'Content-Length: %s' % len(body), 'Connection: close']
        head += ['%s: %s' % item for item in headers.items()]
        data = ('\r\n'.join(head) + '\r\n\r\n').encode() + body
        if part is not None:
            data = data[:len(data) - len(body) + part]
        sock.sendall(data)
        return sock

    @staticmethod
    def answer(sock, timeout=60):
        "(status, JSON body) of the answer on sock, or raise Killed"
        sock.settimeout(timeout)
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except OSError:
            pass
        finally:
            sock.close()
        data = b''.join(chunks)
        head, _, content = data.partition(b'\r\n\r\n')
        if not head.startswith(b'HTTP/1.'):
            raise Killed()
        length = None
        for line in head.split(b'\r\n')[1:]:
            name, _, value = line.partition(b':')
            if name.strip().lower() == b'content-length':
                length = int(value)
        if length is not None and len(content) < length:
            raise Killed()
        return int(head.split()[1]), json.loads(content) if content else None


class Customer:
    "A customer's phone: the files to send, the ids it was answered"

    def __init__(self, drill, round_name):
        self.drill = drill
        self.server = drill.server
        self.round = round_name
        self.openid = 'o' + uuid.uuid4().hex
        self.token = self.server.customer(self.openid)
        self.key = uuid.uuid4().hex
        seed = zlib.crc32(round_name.encode()) & 0xffff
        self.files = [('photo-%s.jpg' % i, noise_photo(seed + i))
            for i in range(3)] + [('report.pdf', noise_pdf(seed))]
        self.ids = {}
        self.attempted = set()
        self.web_user = None
        self.sent = False
        self.order = None

    def headers(self):
        return {'Authorization': 'Bearer %s' % self.token}

    def upload_request(self, name):
        content = dict(self.files)[name]
        payload, content_type = multipart(name, content)
        return payload, {**self.headers(), 'Content-Type': content_type}

    def upload(self, name, part=None, kill_after=None, kill_when=None,
            drop_answer=False):
        """Upload the file name; part: send that many bytes of the body
        only; kill_after: kill the server that long after sending;
        kill_when: as soon as that holds; drop_answer: the answer never
        reaches the app (a phone losing the network). Return whether the
        answer came (the id is then held)"""
        drill = self.drill
        payload, headers = self.upload_request(name)
        drill.counts['uploads'] += 1
        self.attempted.add(name)
        sock = drill.send('POST', '/files', payload, headers, part=part)
        if kill_when is not None:
            drill.kill_when(kill_when)
        elif part is not None or kill_after is not None:
            time.sleep(kill_after or 0.2)
            drill.kill()
        if drop_answer:
            sock.close()
            drill.counts['uploads_lost'] += 1
            return False
        try:
            status, body = drill.answer(sock)
        except Killed:
            drill.counts['uploads_lost'] += 1
            return False
        assert status == 201, (status, body)
        self.ids[name] = body['id']
        return True

    def order_body(self):
        return {'type': ORDER_TYPE, 'contact': CONTACT, 'lines': [{
                    **LINE, 'files': [self.ids[n] for n, _ in self.files]}]}

    def submit(self, kill_after=None, kill_when=None):
        """POST /orders with the key; kill_after: kill the server that long
        after sending; kill_when: as soon as that holds. Return whether the
        answer came"""
        drill = self.drill
        body = json.dumps(self.order_body()).encode()
        drill.counts['orders_sent'] += 1
        self.sent = True
        sock = drill.send('POST', '/orders', body, {**self.headers(),
                'Content-Type': 'application/json',
                'Idempotency-Key': self.key})
        if kill_when is not None:
            drill.kill_when(kill_when)
        elif kill_after is not None:
            time.sleep(kill_after)
            drill.kill()
        try:
            status, answer = drill.answer(sock)
        except Killed:
            drill.counts['orders_lost'] += 1
            return False
        assert status in {200, 201}, (status, answer)
        if self.order is not None:
            assert answer['id'] == self.order, (answer, self.order)
        self.order = answer['id']
        return True

    def finish(self):
        """What a client does after a restart: upload what was not
        answered, then submit (again) with the same key"""
        for name, _ in self.files:
            if name not in self.ids:
                if name in self.attempted:
                    self.drill.counts['retries'] += 1
                assert self.upload(name)
        if self.order is None:
            if self.sent:
                self.drill.counts['retries'] += 1
            assert self.submit()


class CrashUploadDrillTestCase(unittest.TestCase):
    "Drill: kill -9 while a customer submits an order with files"

    @classmethod
    def setUpClass(cls):
        cls.server = APIServer(engineers=1)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    # ---- looking into the database and the filestore --------------------------

    def web_user(self, customer):
        if customer.web_user is None:
            (customer.web_user,), = self.server.sql(
                'SELECT id FROM web_user WHERE wechat_openid = %s',
                (customer.openid,))
        return customer.web_user

    def orphan_uploads(self):
        return self.server.count('ir_attachment',
            "resource LIKE 'web.user,%%'")

    def files_on_disk(self):
        return self.drill.files_on_disk()

    def referenced(self):
        rows = self.server.sql('SELECT file_id, thumbnail_id '
            'FROM ir_attachment')
        return {f for row in rows for f in row if f}

    def queued(self):
        return {r for r, in self.server.sql(
                'SELECT file_id FROM ir_filestore_queue')}

    def cleanup(self, *methods):
        "Run the jobs with the clock 25 hours ahead"
        result = subprocess.run([sys.executable, '-c', CLEANUP,
                self.server.config_path, self.server.database, '25',
                *methods],
            env=self.server._env(), capture_output=True, text=True,
            timeout=300)
        self.assertEqual(result.returncode, 0, result.stderr)

    # ---- the checks -----------------------------------------------------------

    def check_order(self, customer, problems):
        "One order for the customer and the key, with every file intact"
        server = self.server
        web_user = self.web_user(customer)
        keys = server.sql('SELECT "order" FROM '
            'instrument_service_api_idempotency_key '
            'WHERE web_user = %s AND key = %s', (web_user, customer.key))
        orders = server.count('instrument_service_order',
            'customer = %s', (web_user,))
        if len(keys) != 1 or orders != 1 or keys[0][0] != customer.order:
            problems.append('%s: keys %s, orders %s, answered order %s' % (
                    customer.round, keys, orders, customer.order))
            return
        status, detail = server.call('GET', '/orders/%s' % customer.order,
            token=customer.token)
        files = detail['lines'][0]['files']
        if sorted(f['id'] for f in files) != sorted(customer.ids.values()):
            problems.append('%s: files %s, held %s' % (customer.round,
                    [f['id'] for f in files], customer.ids))
        for name, content in customer.files:
            _, _, data, thumbnail = prepare(name, content)
            file_id = customer.ids.get(name)
            for path, expected in [('/files/%s' % file_id, data),
                    ('/files/%s/thumbnail' % file_id, thumbnail)]:
                if expected is None:
                    continue
                status, _, served = server.request('GET', path,
                    token=customer.token)
                if status != 200 or served != expected:
                    problems.append('%s: %s %s answers %s, %s bytes '
                        'instead of %s' % (customer.round, name, path,
                            status, len(served), len(expected)))

    def uploads_of(self, customer):
        "How many of the customer's uploads are committed and unclaimed"
        (count,), = self.drill.query('SELECT COUNT(*) FROM ir_attachment '
            'WHERE resource = %s', ('web.user,%s' % self.web_user(customer),))
        return count

    def test_drill(self):
        started = time.monotonic()
        drill = self.drill = Drill(self.server)
        customers, problems, tried = [], [], []

        # Calibration, no kill: how long an upload and a submission take
        calm = Customer(drill, 'calm')
        times = []
        for name, _ in calm.files:
            start = time.monotonic()
            self.assertTrue(calm.upload(name))
            times.append(time.monotonic() - start)
        upload_time = sorted(times)[len(times) // 2]
        start = time.monotonic()
        self.assertTrue(calm.submit())
        order_time = time.monotonic() - start
        customers.append(calm)
        tried.append('calm: upload %.0f ms, order %.0f ms, no kill' % (
                upload_time * 1000, order_time * 1000))

        # Killed while an upload's body is still being sent
        customer = Customer(drill, 'mid_body')
        customer.upload('photo-0.jpg')
        payload, _ = customer.upload_request('photo-1.jpg')
        customer.upload('photo-1.jpg', part=len(payload) // 2)
        drill.restart()
        customer.finish()
        customers.append(customer)
        tried.append('mid_body: killed with half of an upload sent')

        # Killed after some uploads were answered
        customer = Customer(drill, 'after_uploads')
        customer.upload('photo-0.jpg')
        customer.upload('photo-1.jpg')
        drill.kill()
        drill.restart()
        customer.finish()
        customers.append(customer)
        tried.append('after_uploads: killed after 2 answered uploads')

        # Killed while an upload is handled: as soon as its files are in
        # the filestore (before its commit, if the poll is quick enough),
        # as soon as its row is committed (before the answer, if quick
        # enough), and half-way through
        before = {}
        points = {
            'files_written': lambda c: len(
                drill.files_on_disk()) > before['files'],
            'committed': lambda c: self.uploads_of(c) > before['rows'],
            }
        for point in ['files_written', 'committed', 'half-way']:
            customer = Customer(drill, 'upload_' + point)
            customer.upload('photo-0.jpg')
            before.update(files=len(drill.files_on_disk()),
                rows=self.uploads_of(customer))
            if point in points:
                # The window between an upload's commit and its answer is
                # too short for a poll: that answer is lost on the way
                answered = customer.upload('photo-1.jpg', kill_when=(
                        lambda c=customer, p=point: points[p](c)),
                    drop_answer=point == 'committed')
            else:
                answered = customer.upload('photo-1.jpg',
                    kill_after=upload_time / 2)
            drill.restart()
            rows = self.uploads_of(customer) - before['rows']
            files = len(drill.files_on_disk()) - before['files']
            customer.finish()
            customers.append(customer)
            tried.append('upload killed at %s: answered %s; after the '
                'restart %s new rows, %s new files' % (
                    point, answered, rows, files))

        # Killed while POST /orders is handled: at once, half-way, and as
        # soon as its commit is visible (before the answer, which waits for
        # the notices delivered after the commit, if the poll is quick)
        for point in ['at_once', 'half-way', 'committed', 'committed']:
            customer = Customer(drill, 'order_%s_%s' % (point, len(tried)))
            for name, _ in customer.files:
                customer.upload(name)
            if point == 'committed':
                answered = customer.submit(kill_when=lambda c=customer: bool(
                        drill.query('SELECT "order" FROM '
                            'instrument_service_api_idempotency_key '
                            'WHERE key = %s AND "order" IS NOT NULL',
                            (c.key,))))
            else:
                answered = customer.submit(kill_after=(
                        0 if point == 'at_once' else order_time / 2))
            drill.restart()
            committed = bool(self.server.sql(
                    'SELECT "order" FROM '
                    'instrument_service_api_idempotency_key '
                    'WHERE key = %s', (customer.key,)))
            customer.finish()
            customers.append(customer)
            tried.append('order killed %s: answered %s, committed %s' % (
                    point, answered, committed))

        for customer in customers:
            self.check_order(customer, problems)

        # The cleanup: every orphan goes, nothing of the orders does
        orphans_before = self.orphan_uploads()
        unreferenced_before = len(self.files_on_disk() - self.referenced())
        self.cleanup(CLEANUP_CRON)
        orphans_after = self.orphan_uploads()
        on_disk = self.files_on_disk()
        unreferenced_queued = len(on_disk - self.referenced())
        if orphans_after:
            problems.append('%s orphan uploads left' % orphans_after)
        if on_disk - self.referenced() - self.queued():
            problems.append('unreferenced files left, not queued: %s' % (
                    on_disk - self.referenced() - self.queued()))
        self.cleanup(QUEUE_CRON)
        unreferenced_after = len(self.files_on_disk() - self.referenced())
        if unreferenced_after:
            problems.append('%s unreferenced files left after Tryton\'s '
                'removal' % unreferenced_after)
        missing = self.referenced() - self.files_on_disk()
        if missing:
            problems.append('referenced files missing: %s' % missing)
        for customer in customers:
            self.check_order(customer, problems)

        report = ['crash-upload drill (%s): %s customers, %s orders' % (
                self.server.backend, len(customers), self.server.count(
                    'instrument_service_order'))]
        report += ['  ' + t for t in tried]
        report.append('  ' + ', '.join('%s %s' % i
                for i in drill.counts.items()))
        report.append('  orphan uploads: %s before the cleanup, %s after; '
            'unreferenced files: %s before, %s queued for Tryton\'s '
            'removal after the cleanup, %s after it' % (orphans_before,
                orphans_after, unreferenced_before, unreferenced_queued,
                unreferenced_after))
        drill.connection.close()
        report.append('  %.1f s; %s' % (time.monotonic() - started,
                'lost: %s' % problems if problems else 'nothing lost'))
        print('\n' + '\n'.join(report), file=sys.stderr)
        self.assertEqual(problems, [])


if __name__ == '__main__':
    unittest.main()
