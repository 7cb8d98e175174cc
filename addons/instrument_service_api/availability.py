# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""When PostgreSQL is out of reach: restarted, shut down, starting up, or
the network between them cut.

What trytond 8.0 does on its own (backend/postgresql/database.py): each
database has a psycopg_pool ConnectionPool, created with
check=ConnectionPool.check_connection and the pool's defaults: a request
waits up to 30 s for a connection (timeout), a lost connection is replaced
by a background task that retries with a doubling delay for 5 minutes
(reconnect_timeout). After a restart, the pooled connections are dead: each
one fails its check when it is taken, and the pool sleeps 1, 2, 4... s
between two checks; once the server is back, the reconnection tasks may be
sleeping for tens of seconds. A request meets the outage as a
psycopg.OperationalError (57P01 admin shutdown, 57P03 starting up or
shutting down, no SQLSTATE when the connection is refused or was closed)
or as a PoolTimeout (an OperationalError too) after 30 s.

So that a request answers quickly with a 503 database_unavailable and the
server recovers by itself as soon as PostgreSQL is back, watch() tunes that
pool: a request waits [instrument_service_api] database_wait seconds (3)
for a connection, the reconnection tasks give up after as long (a request
that waits starts a new attempt: the reconnection follows the demand, not a
backoff that grew during the outage), and the first dead connection met
drains the pool: the other connections, made before the restart, are
closed instead of being checked one by one. trytond offers no access to its
pool: trytond_internals.py reaches it.

Nothing is retried after a lost connection: a COMMIT whose answer was lost
may have been applied, only the client can say whether to send the request
again (POST /orders with the same Idempotency-Key)."""
import logging
import os
import threading
import time
import weakref
import xml.etree.ElementTree as ET

from trytond import backend
from trytond.config import config

from . import trytond_internals

logger = logging.getLogger(__name__)

HERE = os.path.dirname(__file__)
# What a client waits before trying again: a fast restart takes a second or
# two
RETRY_AFTER = '2'
# The SQLSTATE classes and codes of a server that is gone or going:
# connection exceptions, operator intervention (admin or crash shutdown,
# cannot connect now) but not a cancelled query (57014, a statement
# timeout), too many connections
UNAVAILABLE_CLASSES = ('08', '57P')
UNAVAILABLE_CODES = {'53300'}
# Drain the pool at most so often: the requests in flight all meet the
# outage at once
DRAIN_INTERVAL = 1
# The pools watch() tuned -> when drain() last drained them
_drained_at = weakref.WeakKeyDictionary()
_pools_lock = threading.Lock()


class DatabaseUnavailable(Exception):
    "The database is out of reach: answered 503 database_unavailable"


def unavailable(exception):
    """Whether exception, or the exception it was raised while handling,
    says that the database is out of reach (and not busy: a lock or a
    serialization failure is an OperationalError too)"""
    if backend.name != 'postgresql':
        # SQLite is a file of the server itself
        return False
    import psycopg
    import psycopg_pool
    seen = set()
    while exception is not None and id(exception) not in seen:
        seen.add(id(exception))
        if isinstance(exception, DatabaseUnavailable):
            return True
        if isinstance(exception, psycopg_pool.PoolTimeout):
            # No connection in time: the database is out of reach unless
            # every connection the pool may open is in use
            return not _pool_full()
        if isinstance(exception, psycopg.OperationalError):
            sqlstate = exception.sqlstate
            # Without an SQLSTATE, the client library failed: refused,
            # closed, lost
            if (sqlstate is None
                    or sqlstate.startswith(UNAVAILABLE_CLASSES)
                    or sqlstate in UNAVAILABLE_CODES):
                return True
        exception = exception.__cause__ or exception.__context__
    return False


def _pool_full():
    pool = _api_pool()
    try:
        stats = pool.get_stats()
    except Exception:
        return False
    return stats.get('pool_size', 0) >= pool.max_size


def _api_pool():
    "The connection pool of the API's database, None if there is none"
    from .api import database_name
    try:
        return trytond_internals.connection_pool(
            backend.Database(database_name()))
    except Exception:
        return None


def watch(database):
    "Tune the connection pool of database for outages (once)"
    pool = trytond_internals.connection_pool(database)
    if pool is None or pool in _drained_at:
        return
    import psycopg_pool
    if (isinstance(pool, psycopg_pool.NullConnectionPool)
            # drain() came with psycopg_pool 3.3
            or not hasattr(pool, 'drain')):
        return
    wait = config.getfloat('instrument_service_api', 'database_wait',
        default=3)
    with _pools_lock:
        if pool in _drained_at:
            return
        # More than 0, which means "for ever"
        trytond_internals.set_timeouts(pool, wait, max(wait, 1))
        # The server lost this connection: it lost the others made before
        # it too
        trytond_internals.on_failed_check(pool, drain)
        _drained_at[pool] = 0


def drain(pool=None):
    """Close the pooled connections (and those in use when they come back):
    after a restart they are all dead"""
    if pool is None:
        pool = _api_pool()
    now = time.monotonic()
    with _pools_lock:
        # Only the pools watched, at most once a DRAIN_INTERVAL
        if (pool not in _drained_at
                or now - _drained_at[pool] < DRAIN_INTERVAL):
            return
        _drained_at[pool] = now
    logger.warning("database connection lost: connections of %s drained",
        pool.name)
    pool.drain()


# ---- messages without the database ------------------------------------

_messages = None
_messages_lock = threading.Lock()


def message(message_id, language, **variables):
    """The text of the ir.message message_id of this module in language,
    read from the module's files: for when the database that holds them
    cannot be reached"""
    global _messages
    with _messages_lock:
        if _messages is None:
            _messages = _load_messages()
    texts = _messages.get(message_id, {})
    text = texts.get(language) or texts.get('en') or message_id
    try:
        return text % variables if variables else text
    except (KeyError, TypeError, ValueError):
        return text


def _load_messages():
    "message_id -> {'en': source text, 'zh_CN': translation}"
    messages = {}
    for name in ['message.xml', 'message_auth.xml']:
        path = os.path.join(HERE, name)
        if not os.path.exists(path):
            continue
        for record in ET.parse(path).iter('record'):
            if record.get('model') != 'ir.message':
                continue
            text = record.find("field[@name='text']")
            if text is not None:
                messages[record.get('id')] = {'en': text.text}
    try:
        import polib
        prefix = 'model:ir.message,text:'
        for entry in polib.pofile(
                os.path.join(HERE, 'locale', 'zh_CN.po')):
            if (entry.msgctxt and entry.msgctxt.startswith(prefix)
                    and entry.msgstr and 'fuzzy' not in entry.flags):
                messages.setdefault(entry.msgctxt[len(prefix):], {})[
                    'zh_CN'] = entry.msgstr
    except Exception:
        logger.warning("zh_CN messages not loaded", exc_info=True)
    return messages


# ---- trytond's listeners ----------------------------------------------

class QuietOutage(logging.Filter):
    """A lost connection is an event of operations, not a bug: the record of
    one is kept, with the reason on its line instead of a traceback"""

    def filter(self, record):
        if record.exc_info and unavailable(record.exc_info[1]):
            record.msg = '%s: %s' % (
                record.getMessage(), first_line(record.exc_info[1]))
            record.args = ()
            record.exc_info = record.exc_text = None
        return True


def first_line(exception):
    "What a log line says of exception"
    text = str(exception).strip()
    return text.splitlines()[0] if text else type(exception).__name__


# Those that log the traceback of any failure of theirs: Tryton's bus and
# cache listeners (their connection), its task runner (the tasks queued by
# a request, run after its commit) and the delivery of notices (a task)
for _name in ['trytond.bus', 'trytond.cache', 'trytond.worker',
        'trytond.modules.instrument_service.notice']:
    logging.getLogger(_name).addFilter(QuietOutage())
