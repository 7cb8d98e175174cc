"""What the benchmark scripts share: where things are, the generator's JSON
file, the trytond configuration of a benchmark server, the gunicorn servers
(API and floor) started with config/gunicorn.conf.py, and /proc readings
(memory of the server processes, the machine).

bench/verify.py already has the small HTTP and JSON-RPC helpers; they are
imported from there rather than written twice."""
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from verify import ROOT, call, free_port, rpc  # noqa: E402,F401

BENCH = ROOT / 'bench'
VENV_BIN = ROOT / '.venv' / 'bin'
TRYTOND_CONFIG = ROOT / 'config' / 'trytond-postgresql.conf'
GUNICORN_CONFIG = ROOT / 'config' / 'gunicorn.conf.py'
DSN = os.environ.get('BENCH_DSN', 'host=127.0.0.1 user=postgres')


def load_data(db):
    "The JSON file bench/generate.py wrote for the database"
    return json.loads((ROOT / 'data' / 'db' / f'{db}.bench.json').read_text())


def private_config(db):
    """The private trytond file of a benchmark server: the API serves db, no
    development login. Layered over config/trytond-postgresql.conf through
    TRYTOND_CONFIG_FILES, as a production server layers its own."""
    file = tempfile.NamedTemporaryFile('w', prefix=f'bench-{db}-',
        suffix='.conf', delete=False)
    file.write(f'[instrument_service_api]\ndatabase = {db}\n'
        'dev_login = false\n')
    file.close()
    return file.name


class Server:
    """A gunicorn server on a free loopback port, started from the
    repository root with config/gunicorn.conf.py.

    app 'api' is trytond.application:app (the API and JSON-RPC), 'floor'
    bench/floor.py on the same settings."""

    APPS = {'api': 'trytond.application:app', 'floor': 'floor:app'}

    def __init__(self, db, app='api', workers=2, threads=4,
            worker_class='gthread', max_requests=None, log=None):
        self.db, self.app = db, app
        self.settings = {'worker_class': worker_class, 'workers': workers,
            'threads': threads}
        self.max_requests = max_requests
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        self.log_path = log or (tempfile.gettempdir()
            + f'/bench-{app}-{db}-{self.port}.log')
        self.process = None
        self.conf = None

    @property
    def label(self):
        s = self.settings
        return f"{s['worker_class']} {s['workers']}x{s['threads']}"

    def start(self, timeout=120):
        self.conf = private_config(self.db)
        env = dict(os.environ,
            TRYTOND_CONFIG_FILES=os.pathsep.join(
                [str(TRYTOND_CONFIG), self.conf]),
            BENCH_FLOOR_DB=self.db, BENCH_DSN=DSN)
        env.pop('TRYTOND_CONFIG', None)
        env.pop('TRYTOND_DATABASE_NAMES', None)
        if self.max_requests is not None:
            env['GUNICORN_MAX_REQUESTS'] = str(self.max_requests)
        command = [str(VENV_BIN / 'gunicorn'), '-c', str(GUNICORN_CONFIG),
            '-b', f'127.0.0.1:{self.port}',
            '-k', self.settings['worker_class'],
            '-w', str(self.settings['workers']),
            '--threads', str(self.settings['threads']),
            '--pythonpath', str(BENCH), self.APPS[self.app]]
        self.log = open(self.log_path, 'w')
        self.process = subprocess.Popen(command, cwd=ROOT, env=env,
            stdout=self.log, stderr=subprocess.STDOUT)
        probe = '/api/v1/order-types' if self.app == 'api' else '/floor/ping'
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f'{self.app} server exited, see '
                    f'{self.log_path}')
            try:
                status, _, _ = call(self.url + probe)
                if status == 200 and len(self.workers()) >= \
                        self.settings['workers']:
                    return self
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f'{self.app} server not ready, see {self.log_path}')

    def workers(self):
        return children(self.process.pid)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.conf and os.path.exists(self.conf):
            os.unlink(self.conf)
        self.conf = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# ---- /proc ---------------------------------------------------------------

def children(pid):
    "The pids of the direct children of pid"
    try:
        tasks = os.listdir(f'/proc/{pid}/task')
    except FileNotFoundError:
        return []
    result = []
    for task in tasks:
        try:
            result += [int(p) for p in Path(
                    f'/proc/{pid}/task/{task}/children').read_text().split()]
        except FileNotFoundError:
            pass
    return result


def rss_kb(pid):
    "Resident memory of a process in KiB (0 when it is gone)"
    try:
        for line in Path(f'/proc/{pid}/status').read_text().splitlines():
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def cpu_seconds(pid):
    "User + system CPU time of a process so far"
    try:
        stat = Path(f'/proc/{pid}/stat').read_text()
        fields = stat.rsplit(')', 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def machine_cpu():
    "(busy, total) jiffies of the whole machine, to compute its load"
    values = [int(v) for v in Path('/proc/stat').read_text().split(
            '\n', 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def machine():
    "What the figures were measured on"
    cpu_model = ''
    for line in Path('/proc/cpuinfo').read_text().splitlines():
        if line.startswith('model name'):
            cpu_model = line.split(':', 1)[1].strip()
            break
    memory = 0
    for line in Path('/proc/meminfo').read_text().splitlines():
        if line.startswith('MemTotal:'):
            memory = int(line.split()[1]) * 1024
    try:
        pg = subprocess.run(['psql', '-h', '127.0.0.1', '-U', 'postgres',
                '-Atc', 'show server_version'], capture_output=True,
            text=True, timeout=10).stdout.strip()
    except OSError:
        pg = ''
    gunicorn = subprocess.run([str(VENV_BIN / 'python'), '-c',
            'import gunicorn, trytond; print(gunicorn.__version__, '
            'trytond.__version__)'], capture_output=True, text=True).stdout
    return {
        'host': platform.node(),
        'cores': os.cpu_count(),
        'cpu': cpu_model,
        'memory_gb': round(memory / 2 ** 30, 1),
        'kernel': platform.release(),
        'python': platform.python_version(),
        'postgresql': pg,
        'gunicorn': (gunicorn.split() or [''])[0],
        'trytond': (gunicorn.split() or ['', ''])[-1],
        'loadavg_start': os.getloadavg(),
        }
