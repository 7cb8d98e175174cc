#!/usr/bin/env python3
"""The production processes, one command each: what the containers'
entry points (docker/) and the bare-box command (`make production`, the
Procfile under honcho) both run.

    python scripts/production/run.py init [--all] [--password]
    python scripts/production/run.py web       # gunicorn, config/gunicorn.conf.py
    python scripts/production/run.py cron      # trytond-cron
    python scripts/production/run.py worker    # trytond-worker ([queue] worker)
    python scripts/production/run.py config    # the effective configuration

Configuration: config/trytond-postgresql.conf (or the files of
TRYTOND_CONFIG_FILES) with the environment winning over it
(scripts/production/settings.py): TRYTOND_DATABASE__URI,
TRYTOND_DATABASE__PATH (the filestore), TRYTOND_INSTRUMENT_SERVICE_API__DATABASE
(the database served), the secrets TRYTOND_WECHAT__SECRET,
TRYTOND_JPUSH__MASTER_SECRET..., all TRYTOND_<SECTION>__<OPTION>.

init: creates the database when the server has none of that name and
initialises it (trytond-admin: the two modules and their dependencies,
Chinese, the admin user with the password of TRYTON_ADMIN_PASSWORD or of
the file TRYTONPASSFILE, the email of TRYTON_ADMIN_EMAIL); a database
already initialised is updated instead (trytond-admin -u of the two
modules: what an upgrade of the code needs; --all updates every module,
after an upgrade of trytond itself; --password sets the admin password
again). So init can run before every start.

web, cron, worker: refuse to start on a database that is not initialised.
web runs gunicorn with config/gunicorn.conf.py (GUNICORN_BIND,
GUNICORN_WORKERS... as documented there); cron and worker run
CRON_PROCESSES and WORKER_PROCESSES processes (1 by default). worker with
[queue] worker off (TRYTOND_QUEUE__WORKER) has nothing to do: it says so
and waits to be stopped, so a supervisor that stops everything when one
process ends (honcho, compose) keeps the others.

Each process runs as a child of this script, which forwards SIGTERM,
SIGINT and SIGHUP to it (a container's PID 1 receives them alone) and
exits with its status, 0 when the signal it forwarded stopped it.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from settings import (  # noqa: E402
    ROOT, ConfigurationError, Settings, mask_uri)

BIN = Path(sys.executable).parent
MODULES = ['instrument_service', 'instrument_service_api']
LANGUAGES = ['zh_CN']


def log(message):
    print('instrument: %s' % message, file=sys.stderr, flush=True)


def fail(message, status=1):
    log('error: ' + message)
    sys.exit(status)


def program(name):
    "A program of the Python environment of this interpreter"
    path = BIN / name
    if not path.exists():
        fail('%s is not installed beside %s' % (name, sys.executable))
    return str(path)


class Child:
    """Run a command, forwarding the stop signals to it; remove the given
    files when it ends"""
    SIGNALS = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]

    def __init__(self, command, env, cleanup=()):
        self.command = command
        self.env = env
        self.cleanup = list(cleanup)
        self.forwarded = None
        self.process = None

    def forward(self, signum, frame):
        self.forwarded = signum
        if self.process and self.process.poll() is None:
            try:
                self.process.send_signal(signum)
            except ProcessLookupError:
                pass

    def run(self):
        for signum in self.SIGNALS:
            signal.signal(signum, self.forward)
        try:
            self.process = subprocess.Popen(self.command, env=self.env,
                cwd=ROOT)
            if self.forwarded:
                # Asked to stop while the child was being started
                self.forward(self.forwarded, None)
            while True:
                try:
                    status = self.process.wait()
                    break
                except InterruptedError:
                    continue
        finally:
            for path in self.cleanup:
                if os.path.isdir(path):
                    shutil.rmtree(path, ignore_errors=True)
                elif os.path.exists(path):
                    os.unlink(path)
        if status < 0 and -status == self.forwarded:
            log('%s stopped by %s' % (Path(self.command[0]).name,
                    signal.Signals(self.forwarded).name))
            return 0
        return status


def child_env(settings, config_path):
    "The environment of a trytond process"
    env = dict(settings.environ)
    # The derived file is the only file; TRYTOND_CONFIG_FILES would make
    # config/gunicorn.conf.py merge the files again, with their uri
    env.pop('TRYTOND_CONFIG_FILES', None)
    env['TRYTOND_CONFIG'] = config_path
    env.setdefault('PYTHONUNBUFFERED', '1')
    return env


def database_state(settings, config_path, wait):
    """Whether the server has the database and whether it is initialised:
    (exists, initialised); waits up to wait seconds for the server"""
    import trytond.config as config
    config.update_etc(config_path)
    from trytond import backend

    deadline = time.monotonic() + wait
    while True:
        try:
            server = backend.Database().connect()
            try:
                names = server.list()
            finally:
                server.close()
            break
        except Exception as error:
            if time.monotonic() >= deadline:
                fail('the database server of %s does not answer: %s' % (
                        mask_uri(settings.uri), error))
            log('waiting for the database server (%s)' % error)
            time.sleep(2)
    name = settings.database
    if name not in names:
        return False, False
    database = backend.Database(name).connect()
    try:
        return True, bool(database.test())
    finally:
        database.close()


def create_database(settings, config_path):
    from trytond import backend
    from trytond.transaction import Transaction
    if settings.backend == 'sqlite':
        # trytond's SQLite backend opens an existing, empty file
        directory = settings.filestore
        directory.mkdir(parents=True, exist_ok=True)
        (directory / (settings.database + '.sqlite')).touch()
        return
    with Transaction().start(None, 0, close=True, autocommit=True) as t:
        t.database.create(t.connection, settings.database)
    backend.Database(settings.database).close()


def drop_database(settings):
    from trytond import backend
    from trytond.transaction import Transaction
    backend.Database(settings.database).close()
    if settings.backend == 'sqlite':
        path = settings.filestore / (settings.database + '.sqlite')
        if path.exists():
            path.unlink()
        return
    with Transaction().start(None, 0, close=True, autocommit=True) as t:
        t.database.drop(t.connection, settings.database)


def admin_password_file(directory):
    """The file of the admin password for trytond-admin (TRYTONPASSFILE):
    TRYTONPASSFILE as given, or a private file of TRYTON_ADMIN_PASSWORD"""
    path = os.environ.get('TRYTONPASSFILE')
    if path:
        try:
            with open(path, encoding='utf-8') as file:
                lines = file.read().splitlines()
        except OSError as error:
            fail('TRYTONPASSFILE: cannot read %s: %s' % (path, error))
        if len(lines) != 1 or not lines[0]:
            fail('TRYTONPASSFILE: %s must hold the password on one line'
                % path)
        return path
    password = os.environ.get('TRYTON_ADMIN_PASSWORD', '')
    if not password:
        return None
    if '\n' in password:
        fail('TRYTON_ADMIN_PASSWORD must be one line')
    path = os.path.join(directory, 'admin-password')
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600),
            'w', encoding='utf-8') as file:
        file.write(password + '\n')
    return path


def init(settings, options):
    config_path = settings.write('init')
    directory = tempfile.mkdtemp(prefix='instrument-init-')
    try:
        exists, initialised = database_state(
            settings, config_path, options.wait)
        name = settings.database
        command = [program('trytond-admin'), '-c', config_path, '-d', name]
        if initialised:
            log('database "%s" is initialised: updating %s%s' % (
                    name, ' '.join(MODULES),
                    ' and every module' if options.all else ''))
            command += ['-u', *MODULES, '--activate-dependencies']
            if options.all:
                command.append('--all')
        else:
            command += ['-u', 'instrument_service_api',
                '--activate-dependencies', '-l', *LANGUAGES]
            if os.environ.get('TRYTON_ADMIN_EMAIL'):
                command += ['--email', os.environ['TRYTON_ADMIN_EMAIL']]
        env = child_env(settings, config_path)
        env.pop('TRYTONPASSFILE', None)
        if not initialised or options.password:
            password = admin_password_file(directory)
            if not password:
                fail('the admin password is needed %s: set '
                    'TRYTON_ADMIN_PASSWORD or TRYTONPASSFILE (a file holding '
                    'it)' % ('to initialise database "%s"' % name
                        if not initialised else 'with --password'))
            env['TRYTONPASSFILE'] = password
            if initialised:
                command.append('--password')
        if not exists:
            log('creating database "%s" on %s' % (
                    name, mask_uri(settings.uri)))
            create_database(settings, config_path)
        if not initialised:
            log('initialising database "%s" (%s, %s)' % (
                    name, ' '.join(MODULES), ' '.join(LANGUAGES)))
        # Without --email, trytond-admin asks for the admin's email on a new
        # database: an empty answer is none
        result = subprocess.run(command, env=env, cwd=ROOT, input='\n',
            text=True)
        if result.returncode:
            if not initialised:
                # A retry starts afresh, not from a half-made database
                # without an admin password
                log('removing the half-initialised database "%s"' % name)
                drop_database(settings)
            fail('trytond-admin failed (status %s) on database "%s"' % (
                    result.returncode, name), result.returncode)
        log('database "%s" is ready' % name)
    finally:
        for path in [os.path.join(directory, 'admin-password'), config_path]:
            if os.path.exists(path):
                os.unlink(path)
        os.rmdir(directory)


def serve(settings, role, options):
    config_path = settings.write(role)
    try:
        name = settings.database
        # In a process of its own: this one stays small and holds no
        # connection while it watches its child
        state = subprocess.run([sys.executable, __file__, 'state',
                '--wait', str(options.wait)], env=settings.environ, cwd=ROOT,
            stdin=subprocess.DEVNULL)
        if state.returncode not in {0, 3, 4}:
            sys.exit(state.returncode)
        exists, initialised = state.returncode != 3, state.returncode == 0
        if not initialised:
            fail('database "%s" is %s: run `%s init` first' % (
                    name, 'not initialised' if exists else 'missing',
                    'scripts/production/run.py'))
        env = child_env(settings, config_path)
        cleanup = [config_path]
        if role == 'web':
            env['TRYTOND_DATABASE_NAMES'] = name
            cleanup += metrics_directory(env)
            command = [program('gunicorn'),
                '-c', str(ROOT / 'config' / 'gunicorn.conf.py'),
                'trytond.application:app']
        elif role == 'cron':
            command = [program('trytond-cron'), '-c', config_path, '-d', name,
                '-n', os.environ.get('CRON_PROCESSES', '1')]
        else:
            if not settings.getboolean('queue', 'worker'):
                log('[queue] worker is off (TRYTOND_QUEUE__WORKER): the '
                    'tasks run in the requests, there is nothing to do; '
                    'waiting to be stopped')
                os.unlink(config_path)
                idle()
                return 0
            command = [program('trytond-worker'), '-c', config_path,
                '-d', name, '-n', os.environ.get('WORKER_PROCESSES', '1')]
        log('starting %s on database "%s" (%s): %s' % (role, name,
                mask_uri(settings.uri), ' '.join(
                    Path(command[0]).name if i == 0 else a
                    for i, a in enumerate(command))))
        return Child(command, env, cleanup).run()
    except BaseException:
        if os.path.exists(config_path):
            os.unlink(config_path)
        raise


def metrics_directory(env):
    """Give gunicorn's workers an empty PROMETHEUS_MULTIPROC_DIR (GET
    /metrics sums what every worker counts there, config/gunicorn.conf.py):
    the one of the environment, emptied, or a private one of this run,
    removed after it; return what to remove"""
    path = env.get('PROMETHEUS_MULTIPROC_DIR')
    if path:
        os.makedirs(path, exist_ok=True)
        for name in os.listdir(path):
            if name.endswith('.db'):
                os.unlink(os.path.join(path, name))
        return []
    path = env['PROMETHEUS_MULTIPROC_DIR'] = tempfile.mkdtemp(
        prefix='instrument-metrics-')
    return [path]


def idle():
    "Wait for SIGTERM, SIGINT or SIGHUP"
    stopped = []
    for signum in Child.SIGNALS:
        signal.signal(signum, lambda s, f: stopped.append(s))
    while not stopped:
        signal.pause()
    log('worker stopped by %s' % signal.Signals(stopped[0]).name)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0])
    roles = parser.add_subparsers(dest='role', required=True)
    init_parser = roles.add_parser('init',
        help="create or update the database")
    init_parser.add_argument('--all', action='store_true',
        help="update every module (after an upgrade of trytond)")
    init_parser.add_argument('--password', action='store_true',
        help="set the admin password again (TRYTON_ADMIN_PASSWORD)")
    for role, text in [('web', "gunicorn: API, back office, apps"),
            ('cron', "trytond-cron: the scheduled jobs"),
            ('worker', "trytond-worker: the queue's tasks")]:
        roles.add_parser(role, help=text)
    roles.add_parser('config',
        help="print the effective configuration (secrets masked)")
    roles.add_parser('state', help="exit 0 when the database is "
        "initialised, 3 when it is missing, 4 when it is not initialised")
    for sub in roles.choices.values():
        sub.add_argument('--wait', type=float, default=float(
                os.environ.get('DATABASE_WAIT', 60)), metavar='SECONDS',
            help="how long to wait for the database server (default 60, "
            "DATABASE_WAIT)")
    options = parser.parse_args(argv)
    try:
        settings = Settings()
        # trytond reads TRYTOND_CONFIG when imported: this process gives it
        # the derived file only
        os.environ.pop('TRYTOND_CONFIG', None)
        if options.role == 'config':
            print(settings.describe())
            print('# database served: %s' % settings.database)
            return 0
        settings.database
        if options.role == 'state':
            config_path = settings.write('state')
            try:
                exists, initialised = database_state(
                    settings, config_path, options.wait)
            finally:
                os.unlink(config_path)
            return 0 if initialised else 4 if exists else 3
        if options.role == 'init':
            init(settings, options)
            return 0
        return serve(settings, options.role, options)
    except ConfigurationError as error:
        fail(str(error))


if __name__ == '__main__':
    sys.exit(main())
