#!/usr/bin/env python3
"""Run the whole test suite on SQLite and, when available, PostgreSQL.

    python scripts/run_tests.py            # what `make test` runs
    python scripts/run_tests.py -v -k scenario --backend sqlite

For each backend, in its own subprocess with its own environment:
  - the tests of every module in addons/ (Tryton's ModuleTestCase and the
    scenario doctests), by their dotted names under trytond.modules;
  - the cross-module tests of the top-level tests/ folder
    (python -m unittest discover -s tests -t .).

The backend is chosen the Tryton way, by environment variables:
TRYTOND_DATABASE__URI (sqlite:// or postgresql://...), DB_NAME (:memory:
for SQLite, a unique test_... name for PostgreSQL) and DB_CACHE (a folder
of this run only, so the activated database is reused between test classes
but never across runs, where the module may have changed).

PostgreSQL runs when TRYTOND_DATABASE__URI is a postgresql:// URI, or when
a server answers at postgresql://postgres@127.0.0.1:5432/. It is required
(unreachable = failure) when TRYTOND_DATABASE__URI says postgresql or
REQUIRE_POSTGRESQL=1 (CI sets it).

The last line printed is always "N passed, M failed" (skipped tests count
as passed); the exit status is non-zero when anything failed or no test ran.
"""
import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URI = 'postgresql://postgres@127.0.0.1:5432/'
RAN = re.compile(r'^Ran (\d+) tests? in ')
RESULT = re.compile(r'^(OK|FAILED)(?: \((.*)\))?\s*$')

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
        print(f'warning: could not drop the test database {name}: '
            f'{result.stderr.strip()}')


def run_command(label, command, env):
    """Run one unittest command, stream its output, return its Counts"""
    print(f'\n=== {label}: {" ".join(command)}', flush=True)
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, *command], env=env, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        bufsize=1, errors='replace')
    counts = Counts()
    summary_seen = False
    for line in process.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        if match := RAN.match(line):
            counts.ran += int(match.group(1))
        elif match := RESULT.match(line):
            summary_seen = True
            details = dict(
                (k.strip(), int(v)) for k, v in (
                    item.split('=') for item in
                    (match.group(2) or '').split(', ') if '=' in item))
            bad = (details.get('failures', 0) + details.get('errors', 0)
                + details.get('unexpected successes', 0))
            counts.failed += bad
    returncode = process.wait()
    counts.passed = max(counts.ran - counts.failed, 0)
    if returncode and not counts.failed:
        # Crashed before unittest could report (import error, killed...)
        counts.failed = 1
        print(f'*** {label}: exited with status {returncode} '
            'without a test report: counted as 1 failure')
    elif not summary_seen:
        counts.failed = max(counts.failed, 1)
        print(f'*** {label}: no unittest summary found: counted as 1 failure')
    print(f'=== {label}: {counts.passed} passed, {counts.failed} failed '
        f'in {time.monotonic() - started:.0f} s', flush=True)
    return counts


def run_backend(backend, uri, base_env, options, workdir):
    env = dict(base_env)
    env['TRYTOND_DATABASE__URI'] = uri
    # Attachments written by the tests go to the filestore of this run
    env['TRYTOND_DATABASE__PATH'] = str(workdir / 'filestore')
    env['DB_CACHE'] = str(workdir / 'cache')
    if backend == 'sqlite':
        env['DB_NAME'] = ':memory:'
    else:
        env['DB_NAME'] = f'test_{os.getpid()}_{int(time.time())}'
        if not (shutil.which('pg_dump') and shutil.which('pg_restore')):
            # Without these tools trytond would cache into template
            # databases named after the module list, which outlive the run
            del env['DB_CACHE']
    extra = []
    if options.verbose:
        extra.append('-v')
    if options.failfast:
        extra.append('-f')
    for pattern in options.k or []:
        extra += ['-k', pattern]

    counts = Counts()
    names, problems = module_test_names()
    for problem in problems:
        print(f'*** {problem}')
        counts.failed += 1
    try:
        if names:
            counts.add(run_command(f'{backend}: module tests',
                    ['-m', 'unittest', *extra, *names], env))
        if top_level_tests():
            counts.add(run_command(f'{backend}: tests/',
                    ['-m', 'unittest', 'discover', *extra, '-s', 'tests',
                        '-t', '.'], env))
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
    parser.add_argument('-k', action='append', metavar='PATTERN',
        help="only run tests matching PATTERN (unittest -k)")
    options = parser.parse_args(argv)

    base_env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    base_env['PYTHONUNBUFFERED'] = '1'
    env_uri = os.environ.get('TRYTOND_DATABASE__URI', '')
    pg_uri = env_uri if env_uri.startswith('postgresql') else DEFAULT_PG_URI
    pg_required = (env_uri.startswith('postgresql')
        or os.environ.get('REQUIRE_POSTGRESQL', '') not in {'', '0'}
        or options.backend == ['postgresql'])

    total, lines = Counts(), []
    started = time.monotonic()
    backends = options.backend or ['sqlite', 'postgresql']
    with tempfile.TemporaryDirectory(prefix='instrument-tests-') as tmp:
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
            backend_started = time.monotonic()
            counts = run_backend(backend, uri, base_env, options, workdir)
            total.add(counts)
            lines.append(f'{backend}: {counts.passed} passed, '
                f'{counts.failed} failed in '
                f'{time.monotonic() - backend_started:.0f} s')

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
