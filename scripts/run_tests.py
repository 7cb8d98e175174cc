#!/usr/bin/env python3
"""Run the whole test suite on SQLite and, when available, PostgreSQL.

    python scripts/run_tests.py            # what `make test` runs
    python scripts/run_tests.py -v -k scenario --backend sqlite

For each backend, in its own subprocesses with their own environment (side
by side unless --serial or one core: SQLite then the apps stage, the
PostgreSQL module tests, the PostgreSQL tests/; each line prefixed with its
stream's name):
  - the tests of every module in addons/ (Tryton's ModuleTestCase and the
    scenario doctests), by their dotted names under trytond.modules;
  - the cross-module tests of the top-level tests/ folder
    (python -m unittest discover -s tests -t .).

The backend is chosen the Tryton way, by environment variables:
TRYTOND_DATABASE__URI (sqlite:// or postgresql://...), DB_NAME (:memory:
for SQLite, a unique test_... name for PostgreSQL) and DB_CACHE (a folder
of this run only, so the activated database is reused between test classes
but never across runs, where the module may have changed).

Then, once (not per backend), the apps stage (clients/, on SQLite):
  - `npm test` in clients/: the vitest tests of every workspace;
  - the Python tests of tests/apps/ (the mp-weixin build and its package
    sizes, the API types against the OpenAPI document of a real server);
  - the browser tests of the customer H5 app
    (clients/customer/tests/e2e/run.mjs: a real trytond, Debian's chromium
    through playwright-core); screenshots in test-output/customer/.
vitest's and node's test runner's own summaries are counted like
unittest's. The apps stage runs by default; --no-apps skips it, --apps runs
it alone (or with the --backend given); a run narrowed by --backend or -k
leaves it out unless --apps is given.

PostgreSQL runs when TRYTOND_DATABASE__URI is a postgresql:// URI, or when
a server answers at postgresql://postgres@127.0.0.1:5432/. It is required
(unreachable = failure) when TRYTOND_DATABASE__URI says postgresql or
REQUIRE_POSTGRESQL=1 (CI sets it).

The last line printed is always "N passed, M failed" (skipped tests count
as passed); the exit status is non-zero when anything failed or no test ran.
"""
import argparse
import functools
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URI = 'postgresql://postgres@127.0.0.1:5432/'
RAN = re.compile(r'^Ran (\d+) tests? in ')
RESULT = re.compile(r'^(OK|FAILED)(?: \((.*)\))?\s*$')
# vitest: "      Tests  2 failed | 40 passed | 1 skipped (43)"
VITEST = re.compile(r'^\s*Tests\s+(.*)\(\d+\)\s*$')
# node's test runner (spec or tap reporter): "ℹ pass 12", "# fail 0"
NODE_TEST = re.compile(
    r'^(?:ℹ|#) (tests|pass|fail|cancelled|skipped|todo) (\d+)\s*$')
ANSI = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')
CLIENTS = ROOT / 'clients'
# The backends run side by side: each thread prefixes its lines
OUTPUT = threading.local()
OUTPUT_LOCK = threading.Lock()

# Environment variables of ours that must not leak into the test processes
CLEARED = ['TRYTOND_CONFIG', 'TRYTOND_DATABASE_URI', 'TRYTOND_DATABASE__URI',
    'TRYTOND_DATABASE__PATH', 'DB_NAME', 'DB_CACHE']


class Counts:
    def __init__(self):
        self.passed = self.failed = self.ran = 0

    def add(self, other):
        self.passed += other.passed
        self.failed += other.failed
        self.ran += other.ran


def module_test_names():
    """Dotted names of the test modules of every module in addons/.

    `python -m unittest discover -s trytond.modules.X.tests` cannot be used
    with the editable install: the package lives in addons/, outside the
    trytond tree, and unittest refuses such a start directory. Loading the
    test modules by name runs exactly the same tests (load_tests hooks of
    the doctest scenarios included)."""
    names, problems = [], []
    for cfg in sorted(ROOT.glob('addons/*/tryton.cfg')):
        module = cfg.parent.name
        if not (cfg.parent / 'tests').is_dir():
            continue
        package = f'trytond.modules.{module}.tests'
        try:
            spec = importlib.util.find_spec(package)
        except ModuleNotFoundError:
            spec = None
        if spec is None or not spec.submodule_search_locations:
            problems.append(f'{package} is not importable: is the module '
                'registered in pyproject.toml and `pip install -e .` run?')
            continue
        folder = Path(list(spec.submodule_search_locations)[0])
        names += [f'{package}.{p.stem}'
            for p in sorted(folder.glob('test*.py'))]
    return names, problems


def top_level_tests():
    return any((ROOT / 'tests').glob('test*.py'))


def run_python(args, env, timeout=60):
    return subprocess.run([sys.executable, *args], env=env, cwd=ROOT,
        capture_output=True, text=True, timeout=timeout)


def postgresql_answers(uri, env):
    """Whether trytond can connect to the server of uri and list its
    databases (a real login, not only an open port)"""
    env = {**env, 'TRYTOND_DATABASE__URI': uri}
    code = ('from trytond import backend\n'
        'database = backend.Database().connect()\n'
        'database.list()\n')
    try:
        result = run_python(['-c', code], env, timeout=30)
    except subprocess.TimeoutExpired:
        return False, 'timed out'
    if result.returncode:
        lines = [l.strip() for l in result.stderr.splitlines() if l.strip()]
        errors = [l for l in lines if 'Error' in l] or lines or ['?']
        return False, errors[-1]
    return True, ''


def drop_postgresql_database(uri, name, env):
    "Remove the database of the test run, left on the server by the tests"
    env = {**env, 'TRYTOND_DATABASE__URI': uri}
    code = (
        'import sys\n'
        'from trytond import backend\n'
        'from trytond.transaction import Transaction\n'
        'name = sys.argv[1]\n'
        'database = backend.Database().connect()\n'
        'if name in database.list():\n'
        '    backend.Database(name).close()\n'
        '    with Transaction().start(None, 0, close=True, autocommit=True)'
        ' as t:\n'
        '        t.database.drop(t.connection, name)\n')
    result = run_python(['-c', code, name], env)
    if result.returncode:
        emit(f'warning: could not drop the test database {name}: '
            f'{result.stderr.strip()}')


def unittest_summary(line, counts):
    """Count a line of unittest's report into counts; True for its final
    line (OK or FAILED)"""
    if match := RAN.match(line):
        counts.ran += int(match.group(1))
    elif match := RESULT.match(line):
        details = dict(
            (k.strip(), int(v)) for k, v in (
                item.split('=') for item in
                (match.group(2) or '').split(', ') if '=' in item))
        counts.failed += (details.get('failures', 0)
            + details.get('errors', 0)
            + details.get('unexpected successes', 0))
        return True
    return False


def vitest_summary(line, counts):
    "Count vitest's line of tests (one per workspace run); True for it"
    if match := VITEST.match(ANSI.sub('', line)):
        parts = dict((name, int(number)) for number, name in
            re.findall(r'(\d+) (\w+)', match.group(1)))
        counts.ran += sum(parts.values())
        counts.failed += parts.get('failed', 0)
        return True
    return False


def node_test_summary(line, counts):
    """Count the final report of node's test runner (tests, pass, fail,
    cancelled...); True for its number of tests"""
    if match := NODE_TEST.match(ANSI.sub('', line)):
        name, number = match.group(1), int(match.group(2))
        if name == 'tests':
            counts.ran += number
            return True
        if name in {'fail', 'cancelled'}:
            counts.failed += number
    return False


def emit(text):
    "Print text, each line prefixed with this thread's backend if any"
    prefix = getattr(OUTPUT, 'prefix', '')
    if prefix:
        text = ''.join(prefix + line
            for line in text.splitlines(keepends=True))
    with OUTPUT_LOCK:
        sys.stdout.write(text if text.endswith('\n') else text + '\n')
        sys.stdout.flush()


def run_command(label, command, env, cwd=ROOT, summary=unittest_summary):
    """Run one test command, stream its output, return its Counts as
    summary reads them from its report (unittest's by default)"""
    emit(f'\n=== {label}: {" ".join(map(str, command))}')
    started = time.monotonic()
    counts = Counts()
    summary_seen = False
    try:
        process = subprocess.Popen(command, env=env, cwd=cwd,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            bufsize=1, errors='replace')
    except OSError as e:
        emit(f'*** {label}: cannot run {command[0]}: {e}')
        returncode = 127
    else:
        for line in process.stdout:
            emit(line)
            summary_seen = summary(line, counts) or summary_seen
        returncode = process.wait()
    counts.passed = max(counts.ran - counts.failed, 0)
    if returncode and not counts.failed:
        # Crashed before the tests could report (import error, killed...)
        counts.failed = 1
        emit(f'*** {label}: exited with status {returncode} '
            'without a failure in its report: counted as 1 failure')
    elif not summary_seen:
        counts.failed = max(counts.failed, 1)
        emit(f'*** {label}: no test summary found: counted as 1 failure')
    emit(f'=== {label}: {counts.passed} passed, {counts.failed} failed '
        f'in {time.monotonic() - started:.0f} s')
    return counts


def run_apps(base_env, options):
    """The apps stage, once: vitest, the Python tests of tests/apps/ and
    the browser tests, on SQLite. Return its Counts."""
    env = dict(base_env)
    env['TRYTOND_DATABASE__URI'] = 'sqlite://'
    # The browser tests start the test server with this Python (.venv)
    env['PYTHON'] = sys.executable
    # Plain reports to parse: no colours, no progress redrawn in place
    env['NO_COLOR'] = '1'
    env.setdefault('CI', 'true')
    env.pop('FORCE_COLOR', None)
    counts = Counts()
    npm = shutil.which('npm')
    if not npm or not (CLIENTS / 'node_modules').is_dir():
        print('\n*** apps: npm or clients/node_modules is missing '
            '(make npm, or `npm ci` in clients/): counted as 1 failure')
        counts.failed += 1
        return counts
    counts.add(run_command('apps: vitest', [npm, 'test'], env,
            cwd=CLIENTS, summary=vitest_summary))
    extra = ['-v'] if options.verbose else []
    for pattern in options.k or []:
        extra += ['-k', pattern]
    counts.add(run_command('apps: tests/apps',
            [sys.executable, '-m', 'unittest', 'discover', *extra,
                '-s', 'tests/apps', '-t', 'tests/apps'], env))
    patterns = [f'--test-name-pattern={p}' for p in options.k or []]
    counts.add(run_command('apps: browser (customer H5)',
            ['node', '--test-reporter=spec', *patterns,
                'clients/customer/tests/e2e/run.mjs'], env,
            summary=node_test_summary))
    counts.add(run_command('apps: browser (engineer H5)',
            ['node', '--test-reporter=spec', *patterns,
                'clients/engineer/tests/e2e/run.mjs'], env,
            summary=node_test_summary))
    return counts


PARTS = ('modules', 'tests')


def run_backend(backend, uri, base_env, options, workdir, parts=PARTS):
    """Run the parts of the suite ('modules': the tests of addons/,
    'tests': the top-level tests/) on backend; return their Counts. Each
    part has its own database, filestore and cache, so that two parts of
    one backend may run at the same time."""
    extra = []
    if options.verbose:
        extra.append('-v')
    if options.failfast:
        extra.append('-f')
    for pattern in options.k or []:
        extra += ['-k', pattern]

    counts = Counts()
    names, problems = module_test_names()
    if 'modules' in parts:
        for problem in problems:
            emit(f'*** {problem}')
            counts.failed += 1
    commands = {
        'modules': (f'{backend}: module tests',
            [sys.executable, '-m', 'unittest', *extra, *names]
            if names else None),
        'tests': (f'{backend}: tests/',
            [sys.executable, '-m', 'unittest', 'discover', *extra,
                '-s', 'tests', '-t', '.'] if top_level_tests() else None),
        }
    for part in parts:
        label, command = commands[part]
        if not command:
            continue
        (workdir / part).mkdir(parents=True, exist_ok=True)
        env = dict(base_env)
        env['TRYTOND_DATABASE__URI'] = uri
        # Attachments written by the tests go to the filestore of this run
        env['TRYTOND_DATABASE__PATH'] = str(workdir / part / 'filestore')
        env['DB_CACHE'] = str(workdir / part / 'cache')
        if backend == 'sqlite':
            env['DB_NAME'] = ':memory:'
        else:
            env['DB_NAME'] = (
                f'test_{os.getpid()}_{int(time.time())}_{part}')
            if not (shutil.which('pg_dump') and shutil.which('pg_restore')):
                # Without these tools trytond would cache into template
                # databases named after the module list, which outlive
                # the run
                del env['DB_CACHE']
        try:
            counts.add(run_command(label, command, env))
        finally:
            if backend == 'postgresql':
                drop_postgresql_database(uri, env['DB_NAME'], base_env)
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0])
    parser.add_argument('--backend', action='append',
        choices=['sqlite', 'postgresql'],
        help="run only this backend (repeatable); default: SQLite, and "
        "PostgreSQL when configured or reachable")
    parser.add_argument('-v', '--verbose', action='store_true')
    parser.add_argument('-f', '--failfast', action='store_true')
    parser.add_argument('--serial', action='store_true',
        help="run the backends one after the other (default: side by "
        "side when there are two cores or more)")
    parser.add_argument('-k', action='append', metavar='PATTERN',
        help="only run tests matching PATTERN (unittest -k)")
    apps = parser.add_mutually_exclusive_group()
    apps.add_argument('--apps', action='store_true',
        help="run the apps stage (alone, unless --backend is given too)")
    apps.add_argument('--no-apps', action='store_true',
        help="leave the apps stage out")
    options = parser.parse_args(argv)
    run_apps_stage = options.apps or not (
        options.no_apps or options.backend or options.k)

    base_env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    base_env['PYTHONUNBUFFERED'] = '1'
    env_uri = os.environ.get('TRYTOND_DATABASE__URI', '')
    pg_uri = env_uri if env_uri.startswith('postgresql') else DEFAULT_PG_URI
    pg_required = (env_uri.startswith('postgresql')
        or os.environ.get('REQUIRE_POSTGRESQL', '') not in {'', '0'}
        or options.backend == ['postgresql'])

    total, lines = Counts(), []
    started = time.monotonic()
    backends = options.backend or (
        [] if options.apps else ['sqlite', 'postgresql'])
    with tempfile.TemporaryDirectory(prefix='instrument-tests-') as tmp:
        runs = []
        for backend in backends:
            if backend == 'sqlite':
                uri = 'sqlite://'
            else:
                uri = pg_uri
                ok, reason = postgresql_answers(uri, base_env)
                if not ok:
                    shown = re.sub(r':[^:@/]*@', ':***@', uri)
                    if pg_required:
                        print(f'\n*** PostgreSQL is required but {shown} '
                            f'does not answer: {reason}')
                        total.failed += 1
                        lines.append(f'postgresql: unreachable ({reason})')
                    else:
                        print(f'\nPostgreSQL not reachable at {shown} '
                            f'({reason}): SQLite only. Set '
                            'TRYTOND_DATABASE__URI=postgresql://... to '
                            'test on PostgreSQL.')
                    continue
            workdir = Path(tmp) / backend
            workdir.mkdir()
            runs.append((backend, uri, workdir))
        # Side by side on two cores or more: the suite's time is mostly
        # Python processes waiting on their servers. Three streams: SQLite
        # (then the apps), PostgreSQL's module tests, PostgreSQL's tests/.
        parallel = (len(runs) + run_apps_stage > 1 and not options.serial
            and (os.cpu_count() or 1) > 1)
        jobs = []   # (name, [(label, function returning Counts)])
        for backend, uri, workdir in runs:
            parts = [PARTS] if backend == 'sqlite' or not parallel \
                else [(part,) for part in PARTS]
            for part in parts:
                name = backend if len(parts) == 1 \
                    else f'{backend} {"tests/" if part == ("tests",) else part[0]}'
                jobs.append((name, [(name, functools.partial(run_backend,
                                backend, uri, base_env, options, workdir,
                                part))]))
        if run_apps_stage:
            apps = ('apps', functools.partial(run_apps, base_env, options))
            if parallel and jobs and jobs[0][0] == 'sqlite':
                jobs[0][1].append(apps)
            else:
                jobs.append(('apps', [apps]))
        results = {}

        def run(name, steps):
            OUTPUT.prefix = f'[{name}] ' if parallel else ''
            for label, function in steps:
                step_started = time.monotonic()
                try:
                    counts = function()
                except Exception as e:
                    emit(f'*** {label}: the run stopped: {e!r}')
                    counts = Counts()
                    counts.failed = 1
                results[label] = (counts,
                    time.monotonic() - step_started)

        threads = [threading.Thread(target=run, args=job) for job in jobs]
        for thread in threads:
            thread.start()
            if not parallel:
                thread.join()
        for thread in threads:
            thread.join()
        for _, steps in jobs:
            for label, _ in steps:
                counts, seconds = results[label]
                total.add(counts)
                lines.append(f'{label}: {counts.passed} passed, '
                    f'{counts.failed} failed in {seconds:.0f} s')

    print('\n' + '=' * 70)
    for line in lines:
        print(line)
    print(f'total time {time.monotonic() - started:.0f} s')
    if not total.ran:
        print('No test ran.')
    print(f'{total.passed} passed, {total.failed} failed')
    return 1 if (total.failed or not total.ran) else 0


if __name__ == '__main__':
    sys.exit(main())
