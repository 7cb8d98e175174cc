# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""Health checks for the proxy, the containers and the monitoring:

- GET /health/live: the process answers (no database: restart on failure);
- GET /health/ready: the process can serve (route traffic to it or not).

Both answer {"status": "ok"|"fail", "checks": {name: {"ok": bool, ...}}},
200 when every check is ok, else 503, with Cache-Control: no-store. They
are plain routes of trytond's WSGI application, outside /api/v1, need no
login and are not in the OpenAPI document.

/health/ready reads the database named by [instrument_service_api]
health_database, by default [instrument_service_api] database (the API's:
a deployment serves one database). Its checks, each with raw SQL in one
read-only transaction (a few milliseconds, no model is loaded):

- database: a connection and a query (select 1);
- modules: no module waits to be activated, upgraded or removed (state
  'to activate', 'to upgrade', 'to remove' of ir.module); the database was
  last updated by this trytond series (ir.configuration series); and the
  module versions recorded by the last `trytond-admin -u` (installed_version
  of ir.module, written for this module and every module it depends on)
  are the versions of the code (tryton.cfg, or trytond's for ir and res);
- cron: no scheduled job is overdue. trytond-cron sets a job's next_call
  to its following run each time it runs it (even when it fails); a job
  is overdue when it is active and its next_call (or, never run, its
  creation) is more than [instrument_service_api] health_cron_grace
  seconds (600) in the past: trytond-cron is not running, or the job hangs.
  0 turns the check off;
- outbox: the notices not delivered (pending or sending, and failed) are
  at most [instrument_service_api] health_outbox_backlog (1000); 0 turns
  the check off."""
import datetime as dt
import logging
import os
import time

from sql import Literal, Select, Table
from sql.aggregate import Count

import trytond
from trytond import backend
from trytond.config import config
from trytond.model import fields
from trytond.modules import get_module_info
from trytond.pool import PoolMeta
from trytond.transaction import Transaction
from trytond.wsgi import app

from . import availability, tracing, trytond_internals

logger = logging.getLogger(__name__)

MODULE = 'instrument_service_api'
CRON_GRACE = 600
OUTBOX_BACKLOG = 1000
PENDING_STATES = ('to activate', 'to upgrade', 'to remove')
STARTED = time.time()


class Module(metaclass=PoolMeta):
    __name__ = 'ir.module'

    installed_version = fields.Char("Installed Version", readonly=True,
        help="The version of the module's code when the database was last "
        "updated (trytond-admin -u).")

    @classmethod
    def __register__(cls, module_name):
        super().__register__(module_name)
        # Called by each update of this module, which every update of a
        # module it depends on brings (trytond updates the dependents)
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        for name, version in code_versions().items():
            cursor.execute(*table.update(
                    [table.installed_version], [version],
                    where=table.name == name))


def code_versions(name=MODULE):
    "{module: version of its code} of name and every module it depends on"
    versions, todo = {}, [name]
    while todo:
        current = todo.pop()
        if current in versions:
            continue
        info = get_module_info(current)
        versions[current] = info.get('version') or trytond.__version__
        todo.extend(info.get('depends', []))
    return versions


def database_name():
    """The database of the health checks and of the metrics: [health_database]
    or the API's, None when neither is configured"""
    return (config.get('instrument_service_api', 'health_database',
            default=None)
        or config.get('instrument_service_api', 'database', default=None)
        or None)


def _answer(checks):
    ok = all(c['ok'] for c in checks.values())
    return tracing.json({'status': 'ok' if ok else 'fail', 'checks': checks},
        200 if ok else 503, headers={'Cache-Control': 'no-store'})


@app.route('/health/live', methods=['GET'])
@tracing.observed('/health/live')
def live(request):
    "The process answers"
    return _answer({'process': {'ok': True, 'pid': os.getpid(),
                'uptime': round(time.time() - STARTED, 1)}})


@app.route('/health/ready', methods=['GET'])
@tracing.observed('/health/ready')
def ready(request):
    "The database answers, is up to date, its jobs run, its outbox flows"
    name = database_name()
    if not name:
        return _answer({'database': {'ok': False, 'error': "no database "
                    "configured ([instrument_service_api] health_database "
                    "or database)"}})
    checks = {}
    database = None
    try:
        database = backend.Database(name).connect()
        # A request waits [instrument_service_api] database_wait seconds (3)
        # at most for a connection
        availability.watch(database)
        with Transaction().start(name, 0, readonly=True) as transaction:
            cursor = transaction.connection.cursor()
            cursor.execute(*Select([Literal(1)]))
            cursor.fetchone()
            checks['database'] = {'ok': True, 'name': name,
                'backend': backend.name}
            for check in [check_modules, check_cron, check_outbox]:
                try:
                    checks[check.__name__[len('check_'):]] = check(
                        transaction.connection.cursor())
                except Exception as e:
                    # A table or column the database lacks: not up to date
                    if availability.unavailable(e):
                        raise
                    logger.warning("health check %s failed: %s",
                        check.__name__, availability.first_line(e))
                    transaction.rollback()
                    checks[check.__name__[len('check_'):]] = {
                        'ok': False, 'error': availability.first_line(e)}
    except Exception as e:
        logger.warning("health check of database %s failed: %s", name,
            availability.first_line(e))
        pool = (trytond_internals.connection_pool(database)
            if database is not None else None)
        if pool is not None and availability.unavailable(e):
            # The connections made before an outage are dead
            availability.drain(pool)
        checks['database'] = {'ok': False, 'name': name,
            'error': availability.first_line(e)}
        for other in ['modules', 'cron', 'outbox']:
            checks.setdefault(other, {'ok': False,
                    'error': "database unreachable"})
    return _answer(checks)


def check_modules(cursor):
    module = Table('ir_module')
    cursor.execute(*module.select(module.name, module.state,
            module.installed_version))
    rows = cursor.fetchall()
    pending = {name: state for name, state, _ in rows
        if state in PENDING_STATES}
    installed = {name: version for name, state, version in rows
        if state == 'activated'}
    outdated = {}
    for name, version in code_versions().items():
        if installed.get(name, '') != version:
            outdated[name] = {'database': installed.get(name),
                'code': version}
    configuration = Table('ir_configuration')
    cursor.execute(*configuration.select(configuration.series, limit=1))
    row = cursor.fetchone()
    series = row[0] if row else None
    result = {'ok': not pending and not outdated
        and series == trytond.__series__}
    if pending:
        result['pending'] = pending
    if outdated:
        result['outdated'] = outdated
    if series != trytond.__series__:
        result['series'] = {'database': series, 'code': trytond.__series__}
    if not result['ok']:
        result['hint'] = "run trytond-admin -u %s" % MODULE
    return result


def check_cron(cursor):
    grace = config.getint('instrument_service_api', 'health_cron_grace',
        default=CRON_GRACE)
    if grace <= 0:
        return {'ok': True, 'off': True}
    cron = Table('ir_cron')
    cursor.execute(*cron.select(cron.id, cron.method, cron.next_call,
            cron.create_date, where=cron.active == Literal(True)))
    limit = dt.datetime.now() - dt.timedelta(seconds=grace)
    overdue = {}
    for id_, method, next_call, created in cursor.fetchall():
        due = _datetime(next_call or created)
        if due is not None and due < limit:
            overdue[method] = due.isoformat(timespec='seconds') + 'Z'
    result = {'ok': not overdue, 'grace': grace}
    if overdue:
        # method -> when it should have run (UTC)
        result['overdue'] = overdue
    return result


def check_outbox(cursor):
    threshold = config.getint('instrument_service_api',
        'health_outbox_backlog', default=OUTBOX_BACKLOG)
    pending, failed = outbox_counts(cursor)
    total = sum(pending.values()) + sum(failed.values())
    result = {'ok': threshold <= 0 or total <= threshold,
        'pending': sum(pending.values()), 'failed': sum(failed.values()),
        'threshold': threshold}
    if threshold <= 0:
        result['off'] = True
    return result


def outbox_counts(cursor):
    """({channel: notices pending or sending}, {channel: failed}), each
    read by a partial index (notice.py)"""
    notice = Table('instrument_service_notice')
    result = []
    for states in [['pending', 'sending'], ['failed']]:
        cursor.execute(*notice.select(notice.channel, Count(notice.id),
                where=notice.state.in_(states), group_by=[notice.channel]))
        result.append(dict(cursor.fetchall()))
    return tuple(result)


def _datetime(value):
    "A timestamp of the database as a naive UTC datetime (SQLite: text)"
    if value is None or isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
