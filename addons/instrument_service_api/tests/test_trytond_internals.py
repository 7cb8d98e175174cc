# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""What trytond_internals.py relies on in trytond and psycopg_pool, checked
on the versions installed: the day one of them changes, this fails instead
of the long poll (longpoll.py) or the 503 of an outage (availability.py)
quietly. Then the adapter for real: on PostgreSQL, a wait woken by the
NOTIFY of Bus.publish(), a wait that times out, a listener that loses its
connection, the pool tuned (timeouts, a failed check drains the pool); on
SQLite, the fallback."""
import inspect
import json
import socket
import threading
import time
import unittest
from unittest.mock import patch

from trytond import backend, config
from trytond.bus import Bus, LongPollingBus
from trytond.tests.test_tryton import DB_NAME, TestCase, create_db, drop_db
from trytond.transaction import Transaction

from .. import availability, longpoll, trytond_internals

try:
    import psycopg
    import psycopg_pool
    from trytond.backend.postgresql.database import (
        Database as PostgreSQLDatabase)
except ImportError:
    psycopg = psycopg_pool = PostgreSQLDatabase = None

LONGPOLL_LOG = 'trytond.modules.instrument_service_api.longpoll'
AVAILABILITY_LOG = 'trytond.modules.instrument_service_api.availability'


def parameters(function):
    return list(inspect.signature(function).parameters)


class InternalsTestCase(TestCase):
    "The internals the adapter relies on, as it expects them"

    def test_bus_channel(self):
        "Bus.publish() notifies the channel of the adapter, in JSON"
        self.assertTrue(issubclass(Bus, LongPollingBus))
        channel = trytond_internals.bus_channel()
        self.assertIsInstance(channel, str)
        self.assertTrue(channel)
        with patch('trytond.bus.Transaction') as transaction:
            database = transaction.return_value.database
            database.has_channel.return_value = True
            Bus.publish('notification:7', {'type': 'notification'})
        (connection, notified, payload), _ = database.notify.call_args
        self.assertIs(connection, transaction.return_value.connection)
        self.assertEqual(notified, channel)
        self.assertEqual(json.loads(payload)['channel'], 'notification:7')
        self.assertEqual(longpoll._channel_of(payload), 'notification:7')

    def test_web_root(self):
        """trytond.wsgi serves [web] root with a SharedDataMiddlewareIndex
        in the chain of wsgi_app, each middleware keeping what it wraps in
        app: wrap_web_root() finds it there, under ProxyFix"""
        import trytond.wsgi
        from werkzeug.middleware.proxy_fix import ProxyFix
        source = inspect.getsource(trytond.wsgi)
        self.assertIn('app.wsgi_app = SharedDataMiddlewareIndex(', source)
        inner = trytond.wsgi.app.wsgi_app
        web_root = trytond.wsgi.SharedDataMiddlewareIndex(inner, {})
        self.assertIs(web_root.app, inner)
        saved = trytond.wsgi.app.wsgi_app
        trytond.wsgi.app.wsgi_app = ProxyFix(web_root)
        try:
            wrapped = []

            def wrapper(middleware):
                wrapped.append(middleware)
                return 'wrapper'
            self.assertTrue(trytond_internals.wrap_web_root(wrapper))
            self.assertEqual(wrapped, [web_root])
            self.assertEqual(trytond.wsgi.app.wsgi_app.app, 'wrapper')
            # No [web] root: nothing to wrap
            trytond.wsgi.app.wsgi_app = lambda environ, start_response: None
            self.assertFalse(trytond_internals.wrap_web_root(wrapper))
        finally:
            trytond.wsgi.app.wsgi_app = saved

    @unittest.skipIf(psycopg_pool is None, "psycopg_pool is not installed")
    def test_postgresql_database(self):
        "trytond's PostgreSQL Database keeps its pool in _connpool"
        self.assertIn('_connpool', vars(PostgreSQLDatabase))
        source = inspect.getsource(PostgreSQLDatabase.__new__)
        self.assertIn('inst._connpool = Pool(', source)
        self.assertIn('check=Pool.check_connection', source)
        # The backend API longpoll.py listens with
        self.assertEqual(parameters(PostgreSQLDatabase.get_connection),
            ['self', 'autocommit', 'readonly', 'statement_timeout'])
        self.assertEqual(parameters(PostgreSQLDatabase.put_connection),
            ['self', 'connection'])
        self.assertEqual(parameters(PostgreSQLDatabase.get_notifications),
            ['self', 'connection'])
        self.assertEqual(parameters(PostgreSQLDatabase.has_channel),
            ['self'])

    @unittest.skipIf(psycopg_pool is None, "psycopg_pool is not installed")
    def test_connection_pool(self):
        "A ConnectionPool keeps its parameters in the attributes changed"
        init = parameters(psycopg_pool.ConnectionPool.__init__)
        for name in ['check', 'timeout', 'reconnect_timeout']:
            self.assertIn(name, init)

        def check(connection):
            pass
        pool = psycopg_pool.ConnectionPool('', open=False, check=check,
            timeout=12.0, reconnect_timeout=34.0)
        self.assertIs(pool._check, check)
        self.assertEqual(pool.timeout, 12.0)
        self.assertEqual(pool.reconnect_timeout, 34.0)
        for name in ['drain', 'get_stats']:
            self.assertTrue(callable(getattr(pool, name)), name)
        self.assertIsInstance(pool.max_size, int)
        self.assertIsInstance(pool.name, str)
        self.assertIn('pool_size', pool.get_stats())
        # What trytond passes as check
        self.assertTrue(callable(psycopg_pool.ConnectionPool.check_connection))

        reported = []
        trytond_internals.set_timeouts(pool, 1.5, 2.5)
        trytond_internals.on_failed_check(pool, reported.append)
        self.assertEqual((pool.timeout, pool.reconnect_timeout), (1.5, 2.5))
        pool._check('a connection')
        self.assertEqual(reported, [])

        def broken(connection):
            raise psycopg.OperationalError("lost")
        pool._check = broken
        trytond_internals.on_failed_check(pool, reported.append)
        with self.assertRaises(psycopg.OperationalError):
            pool._check('a connection')
        self.assertEqual(reported, [pool])


@unittest.skipUnless(backend.name == 'postgresql', "PostgreSQL only")
class PostgreSQLTestCase(TestCase):
    "The adapter for real on PostgreSQL"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        create_db()
        # Load the pool of the database once
        with Transaction().start(DB_NAME, 0):
            pass

    @classmethod
    def tearDownClass(cls):
        # The listener's connection would prevent the DROP DATABASE
        cls.stop_listener()
        drop_db()
        super().tearDownClass()

    @classmethod
    def terminate_others(cls):
        """Close every other connection to the database on the server side,
        as a restart does; the number closed"""
        database = backend.Database(DB_NAME)
        connection = database.get_connection(autocommit=True)
        try:
            cursor = connection.cursor()
            cursor.execute('SELECT pg_terminate_backend(pid) '
                'FROM pg_stat_activity '
                'WHERE datname = %s AND pid <> pg_backend_pid()', (DB_NAME,))
            return len(cursor.fetchall())
        finally:
            database.put_connection(connection)

    @classmethod
    def stop_listener(cls):
        listener = longpoll._listeners.get(DB_NAME)
        if listener:
            cls.terminate_others()
            listener.join(10)
            assert not listener.is_alive()

    def start_listener(self):
        "Start the listener of the database and wait for its LISTEN"
        self.assertFalse(longpoll.wait(DB_NAME, ['nobody'], 0.01))
        listener = longpoll._listeners[DB_NAME]
        self.assertTrue(listener.listening.wait(5))
        return listener

    def publish(self, channel):
        with Transaction().start(DB_NAME, 0) as transaction:
            Bus.publish(channel, {'type': 'notification', 'title': 'test'})
            transaction.commit()
        return time.monotonic()

    def wait_in_thread(self, channels, timeout):
        "Start a wait in a thread; the answer: woken, ended at"
        answer = {}

        def wait():
            answer['woken'] = longpoll.wait(DB_NAME, channels, timeout)
            answer['ended'] = time.monotonic()
        thread = threading.Thread(target=wait)
        thread.start()
        # Registered
        deadline = time.monotonic() + 5
        while not any(c in longpoll._listeners[DB_NAME].events
                for c in channels):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.01)
        return thread, answer

    def test_wait_woken_by_publish(self):
        "A wait is woken by Bus.publish() on its channel within a second"
        self.start_listener()
        thread, answer = self.wait_in_thread(
            ['notification:1', 'notification:2'], 20)
        published = self.publish('notification:2')
        thread.join(5)
        self.assertIs(answer['woken'], True)
        self.assertLess(answer['ended'] - published, 1)
        # Gone from the channels
        self.assertNotIn('notification:2',
            longpoll._listeners[DB_NAME].events)

    def test_wait_times_out(self):
        "A wait that no message of its channels wakes ends at its timeout"
        self.start_listener()
        started = time.monotonic()
        thread, answer = self.wait_in_thread(['notification:3'], 1.5)
        self.publish('notification:4')
        thread.join(5)
        self.assertIs(answer['woken'], False)
        self.assertGreaterEqual(answer['ended'] - started, 1.4)
        self.assertLess(answer['ended'] - started, 2.5)
        self.assertNotIn('notification:3',
            longpoll._listeners[DB_NAME].events)

    def test_listener_lost(self):
        """A listener that loses its connection wakes its waits and logs one
        line; the next wait starts another"""
        listener = self.start_listener()
        thread, answer = self.wait_in_thread(['notification:5'], 20)
        with self.assertLogs(LONGPOLL_LOG, 'WARNING') as logs:
            closed_at = time.monotonic()
            self.assertGreaterEqual(self.terminate_others(), 1)
            thread.join(5)
            listener.join(5)
        self.assertIs(answer['woken'], True)
        self.assertLess(answer['ended'] - closed_at, 2)
        self.assertFalse(listener.is_alive())
        self.assertEqual(len(logs.records), 1, logs.output)
        self.assertIn("bus listener on '%s' stopped" % DB_NAME,
            logs.output[0])
        self.assertIsNone(logs.records[0].exc_info)

        self.assertIsNot(self.start_listener(), listener)
        thread, answer = self.wait_in_thread(['notification:5'], 20)
        published = self.publish('notification:5')
        thread.join(5)
        self.assertIs(answer['woken'], True)
        self.assertLess(answer['ended'] - published, 1)

    def test_pool_tuned(self):
        """watch() shortens the pool's timeouts, and the first failed check
        drains the pool"""
        self.stop_listener()
        database = backend.Database(DB_NAME)
        pool = trytond_internals.connection_pool(database)
        self.assertIsInstance(pool, psycopg_pool.ConnectionPool)
        # Without the connections the other tests closed
        pool.check()
        # As trytond creates it
        self.assertIs(pool._check,
            psycopg_pool.ConnectionPool.check_connection)
        self.assertEqual(pool.timeout, 30)
        availability.watch(database)
        self.assertEqual((pool.timeout, pool.reconnect_timeout), (3, 3))
        check = pool._check
        # Once
        availability.watch(database)
        self.assertIs(pool._check, check)

        # Connections in the pool, then all lost
        connections = [database.get_connection() for _ in range(3)]
        for connection in connections:
            database.put_connection(connection)
        self.assertGreaterEqual(pool.get_stats()['pool_available'], 3)
        # terminate_others() takes one of them
        self.assertGreaterEqual(self.terminate_others(), 2)
        with self.assertLogs(AVAILABILITY_LOG, 'WARNING') as logs:
            started = time.monotonic()
            connection = database.get_connection()
            try:
                with connection.cursor() as cursor:
                    cursor.execute('SELECT 1')
                    self.assertEqual(cursor.fetchone(), (1,))
            finally:
                database.put_connection(connection)
        # One dead connection checked, not each of them with a longer
        # pause between two
        self.assertLess(time.monotonic() - started, 2.5)
        self.assertEqual(len(logs.records), 1, logs.output)
        self.assertIn('drained', logs.output[0])

    def test_timeouts_honoured(self):
        "The pool reads the timeouts set at each use"
        uri = config.parse_uri(config.get('database', 'uri'))
        conninfo = uri._replace(scheme='postgresql', path='/' + DB_NAME
            ).geturl()
        with psycopg_pool.ConnectionPool(conninfo, min_size=1, max_size=1,
                open=True) as pool:
            pool.wait(10)
            trytond_internals.set_timeouts(pool, 0.5, 1)
            with pool.connection():
                started = time.monotonic()
                with self.assertRaises(psycopg_pool.PoolTimeout):
                    pool.getconn()
                self.assertLess(time.monotonic() - started, 2)

        # Nothing listens there
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            port = sock.getsockname()[1]
        failed = threading.Event()
        pool = psycopg_pool.ConnectionPool(
            'postgresql://postgres@127.0.0.1:%s/x' % port, min_size=1,
            open=False, reconnect_failed=lambda pool: failed.set())
        trytond_internals.set_timeouts(pool, 0.5, 1)
        pool.open()
        try:
            # Given up after a second or so, not 5 minutes
            self.assertTrue(failed.wait(5))
        finally:
            pool.close()


@unittest.skipUnless(backend.name == 'sqlite', "SQLite only")
class SQLiteTestCase(TestCase):
    "The fallback on SQLite: no channel, no pool"

    def test_wait_sleeps(self):
        "A wait sleeps a second at most, without a listener"
        for timeout, low, high in [(5, 0.9, 1.5), (0.3, 0.25, 0.8)]:
            started = time.monotonic()
            self.assertIs(longpoll.wait(DB_NAME, ['notification:1'],
                    timeout), False)
            self.assertGreaterEqual(time.monotonic() - started, low)
            self.assertLess(time.monotonic() - started, high)
        self.assertNotIn(DB_NAME, longpoll._listeners)

    def test_no_pool(self):
        "Nothing to tune nor to drain"
        database = backend.Database(DB_NAME)
        self.assertIsNone(trytond_internals.connection_pool(database))
        availability.watch(database)
        availability.drain()
        self.assertFalse(availability.unavailable(Exception()))
