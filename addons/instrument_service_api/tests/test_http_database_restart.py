# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The database goes away under load and comes back: the requests meanwhile
answer 503 database_unavailable with Retry-After, the server recovers by
itself, and no acknowledged order is lost nor any order made twice.

PostgreSQL only: the outage is a TCP proxy between trytond and the server
that closes every connection and refuses new ones for a few seconds, as a
restart does, without touching the cluster the other tests use. SQLite is a
file inside the server's process: there is no server to lose."""
import json
import os
import socket
import threading
import time
import unittest
import uuid
from urllib.parse import urlparse

from .server import APIServer, free_port

CONTACT = {'name': '孙八', 'company': '丁方检测', 'phone': '13700001234'}
LINE = {'instrument_name': '气相色谱仪', 'brand': 'Agilent',
    'fault_description': '基线漂移', 'quantity': 1}
URI = os.environ.get('TRYTOND_DATABASE__URI', '')
CLIENTS = 4
OUTAGE = 4
# What a request may take at most: the API waits 3 s for a connection
LONGEST = 8


class Proxy:
    """A TCP proxy to upstream: cut() closes every connection and refuses
    new ones (the port is closed), restore() accepts them again"""

    def __init__(self, upstream):
        self.upstream = upstream
        self.port = free_port()
        self.lock = threading.Lock()
        self.sockets = set()
        self.listener = None
        self.connections = 0

    def start(self):
        self.listener = socket.create_server(('127.0.0.1', self.port))
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        threading.Thread(target=self._accept, args=(self.listener,),
            daemon=True).start()
        return self

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by cut()
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self.lock:
                if listener is not self.listener:
                    client.close()
                    server.close()
                    return
                self.sockets |= {client, server}
                self.connections += 1
            for source, target in [(client, server), (server, client)]:
                threading.Thread(target=self._pump, args=(source, target),
                    daemon=True).start()

    def _pump(self, source, target):
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                self._close(sock)

    def _close(self, sock):
        with self.lock:
            self.sockets.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def cut(self):
        with self.lock:
            listener, self.listener = self.listener, None
            sockets = list(self.sockets)
        listener.close()
        for sock in sockets:
            self._close(sock)

    def restore(self):
        self.start()

    def stop(self):
        if self.listener:
            self.cut()


@unittest.skipUnless(URI.startswith('postgres'),
    "PostgreSQL only: SQLite has no server to lose")
class DatabaseRestartTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        real = urlparse(URI)
        cls.proxy = Proxy((real.hostname or '127.0.0.1',
                real.port or 5432)).start()
        # The server (and trytond-admin) go through the proxy; the test
        # creates the database and looks into it straight
        proxied = real._replace(
            netloc='%s@127.0.0.1:%s' % (real.username or 'postgres',
                cls.proxy.port)).geturl()
        cls.server = APIServer(engineers=2,
            config={'database': {'uri': proxied}})
        try:
            cls.server.start()
            cls.engineer = cls.server.engineer(0)
            cls.customers = [cls.server.customer() for _ in range(CLIENTS)]
        except Exception:
            cls.proxy.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.proxy.stop()

    def request(self, method, path, data=None, token=None, headers=None):
        "(status, body, headers, started, ended) of one request"
        started = time.monotonic()
        try:
            status, response_headers, content = self.server.request(
                method, path, data=data, token=token, headers=headers)
            body = json.loads(content) if content else None
        except Exception as e:  # no answer at all
            status, response_headers, body = None, {}, repr(e)
        return status, body, response_headers, started, time.monotonic()

    def submit(self, token, key):
        return self.request('POST', '/orders',
            {'type': 'repair', 'contact': CONTACT, 'lines': [LINE]},
            token, headers={'Idempotency-Key': key})

    def load(self, index, stop, answers, submissions):
        "One client: reads and submissions until stop is set"
        token = self.customers[index]
        count = 0
        while not stop.is_set():
            count += 1
            kind = count % 4
            if kind == 0:
                key = uuid.uuid4().hex
                answer = self.submit(token, key)
                submissions.append((token, key, answer))
            elif kind == 1:
                answer = self.request('GET', '/orders', token=token)
            elif kind == 2:
                answer = self.request('GET', '/order-types')
            else:
                answer = self.request('GET', '/engineer/inbox',
                    token=self.engineer)
            answers.append(answer)
            time.sleep(0.05)

    def test_restart_under_load(self):
        "Cut the database for a few seconds during a load"
        server = self.server
        answers, submissions = [], []
        stop = threading.Event()
        clients = [threading.Thread(target=self.load,
                args=(i, stop, answers, submissions))
            for i in range(CLIENTS)]
        # An engineer's long polls, one after the other, across the outage
        polls = []

        def long_poll():
            after = 0
            while not stop.is_set():
                answer = self.request('GET',
                    '/engineer/notifications/wait?timeout=10&after=%s'
                    % after, token=self.engineer)
                polls.append(answer)
                if answer[0] == 200:
                    after = max([n['id'] for n in answer[1]['items']]
                        + [after])
                else:
                    time.sleep(float(answer[2].get('Retry-After') or 1))
        poller = threading.Thread(target=long_poll)
        for thread in clients + [poller]:
            thread.start()
        time.sleep(2)

        self.proxy.cut()
        cut_at = time.monotonic()
        # In English when asked, without the database to translate it
        english = self.request('GET', '/order-types',
            headers={'Accept-Language': 'en'})
        time.sleep(max(0, cut_at + OUTAGE - time.monotonic()))
        self.proxy.restore()
        restored_at = time.monotonic()

        # Back by itself within a few seconds
        recovered_at = None
        while time.monotonic() < restored_at + 15:
            status, *_ = self.request('GET', '/order-types')
            if status == 200:
                recovered_at = time.monotonic()
                break
            time.sleep(0.2)
        self.assertIsNotNone(recovered_at, "not recovered in 15 s")
        self.assertLess(recovered_at - restored_at, 8)
        time.sleep(3)
        stop.set()
        for thread in clients + [poller]:
            thread.join(60)

        self.assertEqual(english[0], 503, english[1])
        # The id of the request, as in its header X-Request-Id
        self.assertEqual(english[1]['error'].pop('request_id'),
            english[2]['X-Request-Id'])
        self.assertEqual(english[1]['error'], {
                'code': 'database_unavailable',
                'message': "The service cannot reach its database at the "
                "moment; please try again in a few seconds."})
        self.assertLess(english[4] - english[3], LONGEST)

        outage = [a for a in answers if a[4] >= cut_at and a[3] <= restored_at]
        unavailable = [a for a in answers if a[0] == 503]
        self.assertTrue(outage)
        self.assertTrue(unavailable, "no request met the outage")
        for status, body, headers, started, ended in answers:
            with self.subTest(status=status, body=body):
                self.assertIn(status, {200, 201, 503})
                self.assertLess(ended - started, LONGEST)
                if status == 503:
                    self.assertEqual(body['error'].pop('request_id'),
                        headers['X-Request-Id'])
                    self.assertEqual(body['error'], {
                            'code': 'database_unavailable',
                            'message': '服务暂时无法连接数据库，请几秒后重试。'})
                    self.assertTrue(headers.get('Retry-After'))
        # Every request that began once the server was back was answered
        for status, body, _, started, _ in answers:
            if started > recovered_at + 1:
                self.assertIn(status, {200, 201}, body)
        # The long polls: an answer or a 503, no 500, no hang
        self.assertTrue(polls)
        for status, body, headers, started, ended in polls:
            self.assertIn(status, {200, 503}, body)
            self.assertLess(ended - started, 10 + LONGEST)

        # Every acknowledged order is there, exactly once per key
        answered = [(token, key, status, body)
            for token, key, (status, body, *_) in submissions]
        self.assertTrue(any(s == 201 for _, _, s, _ in answered))
        for token, key, status, body in answered:
            if status == 503:
                # The client sends it again with the same key
                status, body, *_ = self.submit(token, key)
                self.assertIn(status, {200, 201}, body)
            self.assertIn(status, {200, 201}, body)
            orders = server.sql('SELECT "order" '
                'FROM instrument_service_api_idempotency_key '
                'WHERE key = %s', (key,))
            self.assertEqual(orders, [(body['id'],)])
            self.assertEqual(server.count('instrument_service_order',
                    'id = %s', (body['id'],)), 1)

        # The long poll works again, woken by the bus
        after = max([n['id'] for n in self.request('GET',
                    '/engineer/notifications?page_size=100',
                    token=self.engineer)[1]['items']] or [0])
        poll = {}

        def wait():
            poll['answer'] = self.request('GET',
                '/engineer/notifications/wait?timeout=20&after=%s' % after,
                token=self.engineer)
        poller = threading.Thread(target=wait)
        poller.start()
        time.sleep(1)
        submitted = time.monotonic()
        status, *_ = self.submit(self.customers[0], uuid.uuid4().hex)
        self.assertEqual(status, 201)
        poller.join(30)
        status, body, _, _, ended = poll['answer']
        self.assertEqual(status, 200, body)
        self.assertTrue(body['items'])
        # The bus answers at once; the recheck of the database would take
        # up to 5 s
        self.assertLess(ended - submitted, 3)

        log = server.server_log()
        self.assertNotIn('Traceback', log)
        self.assertNotIn('API error on', log)
        self.assertIn('database unavailable on', log)
