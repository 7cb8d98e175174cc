# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The internals of trytond 8.0 and psycopg_pool this module relies on, for
want of a public API: the only place of the repository that touches them.
tests/test_trytond_internals.py fails when they change.

- connection_pool(): trytond keeps the psycopg_pool pool of each PostgreSQL
  database in the private attribute Database._connpool
  (backend/postgresql/database.py: a ConnectionPool, a NullConnectionPool
  for template1) and offers no way to reach it; its only settings are
  [database] minconn and maxconn.
- set_timeouts(): how long getconn() waits for a connection (timeout) and
  how long a reconnection keeps trying (reconnect_timeout) are parameters
  of the pool's constructor, which trytond calls without them. psycopg_pool
  keeps them in the public attributes of the same name and reads those at
  each getconn() and at each reconnection, but documents only the
  parameters.
- on_failed_check(): the callback that checks a connection taken from the
  pool is a parameter of the constructor too (trytond passes
  ConnectionPool.check_connection), kept in the private attribute _check
  and called by getconn() (psycopg_pool >= 3.2); a failed check discards
  the connection silently. The public ConnectionPool.check() tests the
  idle connections when called, not the one a request takes.
- bus_channel(): the NOTIFY channel of Tryton's bus, the private
  LongPollingBus._channel: publish() sends pg_notify(_channel, '{"channel":
  ..., "message": ...}'). The public Bus.subscribe() waits for it [bus]
  long_polling_timeout seconds, the same for every caller and longer than a
  mobile client waits, so longpoll.py listens to that channel itself,
  through the public API of the backend (has_channel, get_connection,
  get_notifications), as trytond's own listeners do.
- wrap_web_root(): trytond.wsgi serves [web] root (sao) by wrapping its
  application's wsgi_app in a SharedDataMiddlewareIndex, under ProxyFix
  and the [wsgi middleware] it may add, each keeping the application it
  wraps in its attribute app (werkzeug's middlewares do); nothing public
  puts a route before those static files."""
from trytond.bus import LongPollingBus
from trytond.wsgi import SharedDataMiddlewareIndex, app as wsgi_app


def connection_pool(database):
    """The psycopg_pool pool of database (a backend.Database), or None when
    it has none (SQLite)"""
    return getattr(database, '_connpool', None)


def set_timeouts(pool, timeout, reconnect_timeout):
    """Make pool wait at most timeout seconds for a connection and give up
    a reconnection after reconnect_timeout seconds (more than 0: 0 means
    for ever)"""
    pool.timeout = timeout
    pool.reconnect_timeout = reconnect_timeout


def on_failed_check(pool, callback):
    """Call callback(pool) when the check of a connection taken from pool
    fails, before the pool discards the connection and takes another"""
    check = pool._check

    def check_or_report(connection):
        try:
            if check:
                check(connection)
        except Exception:
            callback(pool)
            raise
    pool._check = check_or_report


def bus_channel():
    "The PostgreSQL channel of the NOTIFY of Tryton's bus"
    return LongPollingBus._channel


def wrap_web_root(wrapper):
    """Replace the middleware that serves [web] root in trytond's chain by
    wrapper(middleware), once; False when there is none (no [web] root, or
    a chain of another shape)"""
    holder, attribute = wsgi_app, 'wsgi_app'
    while True:
        current = getattr(holder, attribute, None)
        if isinstance(current, SharedDataMiddlewareIndex):
            setattr(holder, attribute, wrapper(current))
            return True
        if getattr(current, 'wraps_web_root', False):
            return True
        if current is None or not hasattr(current, 'app'):
            return False
        holder, attribute = current, 'app'
