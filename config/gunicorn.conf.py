# gunicorn configuration of the production-like server: trytond's WSGI
# application (back office JSON-RPC, sao and the mobile API /api/v1) on a
# 2-core machine. Start it from the repository root (the filestore path of
# config/trytond-postgresql.conf is relative):
#
#     TRYTOND_CONFIG_FILES=config/trytond-postgresql.conf:/etc/instrument/local.conf \
#         .venv/bin/gunicorn -c config/gunicorn.conf.py trytond.application:app
#
# Several trytond files. trytond.application reads ONE file, the one named by
# TRYTOND_CONFIG, when trytond.config is first imported. Our setups layer
# several (the shared config/trytond-postgresql.conf, then a private file with
# the API database, credentials, [wechat] secrets...). TRYTOND_CONFIG_FILES
# lists them, separated by ":" (os.pathsep), in the order `trytond -c a b`
# would read them (a later file wins, option by option); this file merges
# them, before the application is imported, into one private temporary file
# (mode 600, removed when the master exits) and points TRYTOND_CONFIG at it.
# TRYTOND_CONFIG alone (one file) still works as trytond documents it.
#
# Preload. The master imports the application once and, through
# TRYTOND_DATABASE_NAMES, initialises the pool of the database(s) (every
# model class, the views, the translations): workers are forked ready, the
# first requests are not 3 s slow, and a worker restarted after a crash (or
# by max_requests) serves at once. trytond keys its PostgreSQL connection pools
# by process id, and trytond.application closes the master's pool after the
# initialisation, so no connection is shared across the fork. Without
# TRYTOND_DATABASE_NAMES the database named by [instrument_service_api]
# database in the merged configuration is preloaded (the one the API serves).
#
# Settings other than the files: GUNICORN_BIND, GUNICORN_WORKERS,
# GUNICORN_THREADS, GUNICORN_MAX_REQUESTS, GUNICORN_ACCESS_LOG (a path or
# "-"), or gunicorn's own command-line options, which win over this file
# (e.g. `-b 0.0.0.0:8000 -w 3`). The choice of worker class, workers and
# threads was measured: see bench/README.md, "Server settings".
import atexit
import configparser
import os
import tempfile


def _merge_trytond_files():
    """Merge TRYTOND_CONFIG_FILES into one file and export TRYTOND_CONFIG;
    return the merged configuration (to read the API database from)"""
    parser = configparser.RawConfigParser(interpolation=None)
    names = [n for n in os.environ.get('TRYTOND_CONFIG_FILES', '').split(
            os.pathsep) if n.strip()]
    if not names:
        if os.environ.get('TRYTOND_CONFIG'):
            parser.read(os.environ['TRYTOND_CONFIG'], encoding='utf-8')
        return parser
    missing = [n for n in names if not os.path.isfile(n)]
    if missing:
        # trytond only logs a warning for a missing file: here it is fatal,
        # a server without its private file would serve the wrong database
        raise SystemExit(
            'TRYTOND_CONFIG_FILES: no such file: %s' % ', '.join(missing))
    parser.read(names, encoding='utf-8')
    fd, merged = tempfile.mkstemp(prefix='trytond-', suffix='.conf')
    with os.fdopen(fd, 'w', encoding='utf-8') as file:
        file.write('# merged by config/gunicorn.conf.py from: %s\n\n'
            % ', '.join(names))
        parser.write(file)
    pid = os.getpid()
    # Only the master removes it (workers are forked with the handler)
    atexit.register(lambda: os.getpid() == pid and os.path.exists(merged)
        and os.unlink(merged))
    os.environ['TRYTOND_CONFIG'] = merged
    return parser


_trytond = _merge_trytond_files()
if not os.environ.get('TRYTOND_DATABASE_NAMES') and _trytond.has_option(
        'instrument_service_api', 'database'):
    os.environ['TRYTOND_DATABASE_NAMES'] = _trytond.get(
        'instrument_service_api', 'database')
# trytond logs at ERROR by default; WARNING keeps its retries and slow
# requests without one line per API call (INFO)
os.environ.setdefault('TRYTOND_LOGGING_LEVEL', '30')

bind = os.environ.get('GUNICORN_BIND', '127.0.0.1:8000')
# Threads, not processes only: a request spends half of its time waiting
# for PostgreSQL, and GET /api/v1/engineer/notifications/wait holds its
# thread up to 60 s (a sync worker would be lost for that long). Two
# processes for the two cores, four threads each: measured best with the
# mixed load (bench/README.md); more processes only add memory (~150 MB
# each) and contention.
worker_class = 'gthread'
workers = int(os.environ.get('GUNICORN_WORKERS', 2))
threads = int(os.environ.get('GUNICORN_THREADS', 4))
# The pool of the database is loaded once, in the master (see above)
preload_app = True
# Connections of the mobile clients and of sao stay open between requests
keepalive = 5
# gthread: the worker's heartbeat, not a request's duration (a long poll
# lasts up to 60 s); a worker stuck longer than this is killed and re-forked
timeout = 90
graceful_timeout = 30
# Recycling workers (max_requests) is off: gunicorn 23's gthread worker
# resets connections it accepted while it recycles itself
# (benoitc/gunicorn#3038, open): bench/run.py saw 1 to 2 requests fail with
# "connection reset" at each recycle, on the API and the floor alike. The
# soak (bench/run.py --soak, 10 minutes of mixed load) measures the
# workers' memory flat without it. GUNICORN_MAX_REQUESTS=10000 turns it on
# as a safety net against a leak (with preload a new worker is ready at
# once; the jitter spreads the restarts), at that cost.
max_requests = int(os.environ.get('GUNICORN_MAX_REQUESTS', 0))
max_requests_jitter = max_requests // 10
# The heartbeat files in memory, not on a possibly slow disk
worker_tmp_dir = '/dev/shm' if os.path.isdir('/dev/shm') else None
# Uploads are at most 10 MB (the API checks it); headers of a sane size
limit_request_line = 8190
limit_request_fields = 100

# Logging: errors and worker life to stderr; the access log is off unless
# GUNICORN_ACCESS_LOG names a file ("-" for stdout), as a reverse proxy in
# front usually keeps one; trytond's own loggers follow TRYTOND_LOGGING_*
errorlog = '-'
loglevel = os.environ.get('GUNICORN_LOG_LEVEL', 'info')
accesslog = os.environ.get('GUNICORN_ACCESS_LOG') or None
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
proc_name = 'instrument-service'


# Metrics (GET /metrics, [instrument_service_api] metrics): with
# PROMETHEUS_MULTIPROC_DIR set (an empty directory, emptied before each
# start, e.g. a tmpfs), each worker writes its counters there and a scrape
# sums those of every worker; a worker that exits has its live gauges
# removed. Without it, a scrape sees only the worker that answers it.
def child_exit(server, worker):
    if os.environ.get('PROMETHEUS_MULTIPROC_DIR'):
        from prometheus_client import multiprocess
        multiprocess.mark_process_dead(worker.pid)
