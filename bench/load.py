#!/usr/bin/env python3
"""Load driver of the mobile API, its JSON-RPC and floor baselines.

    .venv/bin/python bench/load.py --db bench_10k --url http://127.0.0.1:8000 \\
        --scenario customer_orders --target api --concurrency 4 --duration 10
    .venv/bin/python bench/load.py --db bench_10k --url ... --mixed

Clients are processes (fork), each with keep-alive connections
(http.client), started together after the setup; samples of the first
--warmup seconds are dropped, the run lasts --duration seconds more. Each
client returns its samples and the CPU it used, so the driver's own share of
the machine is known. bench/run.py drives whole runs with this module.

Scenarios (the read ones on three targets: api, rpc, floor):
  customer_orders   GET /api/v1/orders of a customer
  order_detail      GET /api/v1/orders/{id} with its progress
  engineer_inbox    GET /api/v1/engineer/inbox
  engineer_tasks    GET /api/v1/engineer/tasks
  write             a whole order's life on dedicated data: POST /files (a
                    200 KB photo), POST /orders (Idempotency-Key), accept by
                    every offered writer engineer at once (the race: one 200,
                    the others 409 already_taken; see plan() for the extra
                    contestants) or by one of them, POST .../steps
                    visit_remote then finish_remote, the customer's rating.
                    Reported as upload, order_submit, order_submission
                    (both), accept, step_submit, rating and the race outcome.
The RPC equivalents: engineers log in with their password (common.db.login)
and run search_count + search_read of the same domain, order and fields;
customers are web users, who have no JSON-RPC: a dispatcher does their
search (their domain, the same fields) and, for the detail, one read of the
order with its lines, files, progress records and the back office's hint and
progress summary. A sample of an RPC list is its two calls, as sao makes
them. The floor is bench/floor.py on the same gunicorn settings.

Writes use their own customers and engineers (the "writers": every sampled
engineer whom a repair order of the chosen address could be offered to, by
the module's own region rules) so that the reads stay comparable from run to
run.
"""
import argparse
import base64
import http.client
import io
import json
import multiprocessing
import os
import random
import resource
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DSN, ROOT, load_data, rpc  # noqa: E402

READS = ['customer_orders', 'order_detail', 'engineer_inbox', 'engineer_tasks']
TARGETS = ['api', 'rpc', 'floor']
WRITE_LABELS = ['upload', 'order_submit', 'order_submission', 'accept',
    'step_submit', 'rating']
# The orders the writers submit: types whose form and steps they can do
WRITE_TYPES, BRAND = ('repair', 'maintenance'), 'Agilent'
SUMMARY_FIELDS = ['number', 'name', 'type', 'type:string', 'state',
    'state:string', 'step.code', 'step.name', 'submitted_at', 'appointment',
    'engineer.rec_name', 'lines.instrument_name', 'lines.brand',
    'lines.model', 'lines.quantity']
DETAIL_FIELDS = SUMMARY_FIELDS + ['contact_company', 'contact_name',
    'contact_department', 'contact_position', 'contact_phone',
    'contact_address', 'contact_email', 'visit_mode', 'hint',
    'progress_summary', 'lines.category', 'lines.fault_description',
    'lines.appointment_time', 'lines.validation_categories',
    'lines.requirement', 'lines.attachments.name',
    'lines.attachments.mimetype', 'progress.action', 'progress.label',
    'progress.date', 'progress.actor_role', 'progress.actor_name',
    'progress.description', 'progress.reason', 'progress.photos.name',
    'progress.appointment', 'progress.check_in_time',
    'progress.check_in_address', 'rating_overall', 'rating_comment']
TASKS_ORDER = [['appointment', 'ASC NULLS LAST'], ['id', 'DESC']]


# ---- HTTP ----------------------------------------------------------------

class Connection:
    """One keep-alive connection; reopened when the server closed it (a
    sync worker closes after every answer, gthread after keepalive s)"""

    def __init__(self, url):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.connection = None

    def request(self, method, path, body=None, headers=None):
        "(status, body, ms); status 0 when the connection failed"
        started = time.perf_counter()
        for attempt in (1, 2):
            reused = self.connection is not None
            if not reused:
                self.connection = http.client.HTTPConnection(
                    self.host, self.port, timeout=120)
            try:
                self.connection.request(method, path, body=body,
                    headers=headers or {})
                response = self.connection.getresponse()
                data = response.read()
                if response.will_close:
                    self.close()
                return (response.status, data,
                    (time.perf_counter() - started) * 1000)
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError) as e:
                self.close()
                # An idle keep-alive connection closed by the server: the
                # request never reached it, send it again once
                if not reused or attempt == 2:
                    return 0, repr(e).encode(), (
                        time.perf_counter() - started) * 1000
                started = time.perf_counter()
            except OSError as e:
                self.close()
                return 0, repr(e).encode(), (
                    time.perf_counter() - started) * 1000

    def close(self):
        if self.connection:
            self.connection.close()
        self.connection = None


def bearer(token, **extra):
    return {'Authorization': 'Bearer ' + token, **extra}


JSON = {'Content-Type': 'application/json'}


# ---- the data of a run -----------------------------------------------------

def _region_module():
    "The module's own region rules (plain Python), without trytond"
    import importlib.util
    spec = importlib.util.spec_from_file_location('region',
        ROOT / 'addons' / 'instrument_service' / 'region.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def choose_writers(engineers, max_writers=12):
    """The type and address of the writers' orders and the sampled engineers
    they may be offered to, by the module's own rules: engineers of the type
    whose regions cover the address. Chooses, among the regions engineers
    serve, the pair that reaches the most engineers with room (up to
    max_writers; the others stay readers)."""
    region = _region_module()
    best = None
    for order_type in WRITE_TYPES:
        for entry in sorted({r for e in engineers for r in e['regions']}):
            address = entry.replace(' ', '') + '高新区科技路1号'
            province, city = region.parse(address)
            reached = [e for e in engineers if order_type in e['types'] and (
                    not e['regions'] or any(region.covers(r, province, city)
                        for r in e['regions']))]
            usable = [e for e in reached if has_room(e)]
            score = (len(reached) <= max_writers, len(usable), -len(reached))
            if best is None or score > best[0]:
                best = (score, order_type, address, reached, usable)
    return best[1:]


def has_room(engineer):
    "Whether an engineer can take the writers' orders for a while"
    return engineer['max_open_tasks'] is None or (
        engineer['max_open_tasks'] - engineer['open_tasks'] >= 10)


def spread(items, count):
    "count items evenly spread over the list (all of them when fewer)"
    if len(items) <= count:
        return list(items)
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def plan(data, writer_customers=8, reader_engineers=30, racers=10):
    """Split the sample into writers and readers, with what each read
    scenario picks from. The race needs more contestants than the rules
    offer a writer's order to: racers more engineers with room get an offer
    of each race's order too (written in the database by the driver, as the
    dispatcher's "offer again" would), and are no readers either."""
    order_type, address, reached, usable = choose_writers(data['engineers'])
    reached_ids = {e['user'] for e in reached}
    race = [e for e in data['engineers']
        if e['user'] not in reached_ids and has_room(e)][-racers:]
    excluded = reached_ids | {e['user'] for e in race}
    readers = spread([e for e in data['engineers']
            if e['user'] not in excluded], reader_engineers)
    customers = data['customers']
    writers_c = customers[-writer_customers:]
    readers_c = [c for c in customers[:-writer_customers] if c['orders']]
    details = [(c['token'], ids[0]) for c in readers_c
        for state, ids in sorted(c['ids'].items()) if ids]
    return {
        'db': data['db'],
        'order_type': order_type,
        'address': address,
        'writer_engineers': {str(e['employee']): e['token']
            for e in usable + race},
        'race_engineers': [e['employee'] for e in race],
        'excluded_engineers': len(excluded),
        'writer_customers': [c['token'] for c in writers_c],
        'customers': [(c['token'], c['web_user']) for c in readers_c],
        'details': details,
        'engineers': [(e['token'], e['employee'], e['login'])
            for e in readers],
        'password': data['engineer_password'],
        'dispatcher': data['dispatchers'][0]['login'],
        'photo': photo(),
        }


def photo(size=200 * 1024):
    "A JPEG of about size bytes (noise compresses badly: quality sets size)"
    from PIL import Image
    rng = random.Random(7)
    side = 400
    image = Image.frombytes('RGB', (side, side),
        bytes(rng.getrandbits(8) for _ in range(side * side * 3)))
    best = None
    for quality in range(95, 5, -5):
        output = io.BytesIO()
        image.save(output, format='JPEG', quality=quality)
        if best is None or abs(output.tell() - size) < abs(len(best) - size):
            best = output.getvalue()
    return best


def rpc_sessions(ctx, url):
    """Log in over JSON-RPC once (the dispatcher and each reader engineer):
    {login: (auth header value, context)}"""
    base = url.rstrip('/') + '/'
    sessions = {}
    for login in [ctx['dispatcher']] + [e[2] for e in ctx['engineers']]:
        _, result, _ = rpc(base, ctx['db'], 'common.db.login',
            [login, {'password': ctx['password']}, 'zh_CN'])
        auth = 'Session ' + base64.b64encode(
            f'{login}:{result[0]}:{result[1]}'.encode()).decode()
        _, context, _ = rpc(base, ctx['db'], 'model.res.user.get_preferences',
            [True, {}], auth[len('Session '):])
        sessions[login] = (auth, context)
    ctx['rpc'] = sessions
    return sessions


# ---- scenarios -------------------------------------------------------------

class Client:
    """One client process: its connections, random choices and samples
    (label, end time, ms, ok, status)"""

    def __init__(self, ctx, urls, seed):
        self.ctx, self.urls = ctx, urls
        self.rng = random.Random(seed)
        self.connections = {}
        self.samples = []
        self.failures = []
        self.races = []
        self.lock = threading.Lock()

    def connection(self, target, key=''):
        name = (target, key)
        if name not in self.connections:
            self.connections[name] = Connection(self.urls[target])
        return self.connections[name]

    def record(self, label, status, ms, ok, body=None):
        with self.lock:
            self.samples.append((label, time.time(), ms, ok, status))
            if not ok and body is not None:
                # What went wrong, for the results: the answer or the
                # connection's exception
                self.failures.append((label, time.time(), status,
                        body[:300].decode('utf-8', 'replace')))

    def get(self, label, target, path, token):
        status, body, ms = self.connection(target).request('GET', path,
            headers=bearer(token))
        self.record(label, status, ms, status == 200, body)
        return status, body

    def rpc(self, label, login, calls):
        """Several JSON-RPC calls as one sample; a call may be a function of
        the results so far that gives the call, or None for no more"""
        auth, context = self.ctx['rpc'][login]
        total, ok, status, results = 0.0, True, 200, []
        for call in calls:
            if callable(call):
                call = call([json.loads(r)['result'] for r in results])
                if call is None:
                    break
            method, params = call
            data = json.dumps({'id': 1, 'method': method,
                    'params': params + [context]}).encode()
            status, body, ms = self.connection('rpc').request('POST',
                f"/{self.ctx['db']}/rpc/", body=data,
                headers={**JSON, 'Authorization': auth})
            total += ms
            # JSON-RPC answers its errors with a 200
            if status != 200 or b'"error"' in body[:40]:
                ok = False
                break
            results.append(body)
        self.record(label, status, total, ok, None if ok else body)
        return results

    # The four read scenarios, on each target

    def customer_orders(self, target):
        token, web_user = self.rng.choice(self.ctx['customers'])
        if target == 'rpc':
            domain = [['customer', '=', web_user], ['state', '!=', 'draft']]
            self.rpc('customer_orders', self.ctx['dispatcher'], [
                    ('model.instrument_service.order.search_count',
                        [domain, 0, None]),
                    ('model.instrument_service.order.search_read',
                        [domain, 0, 20, None,
                            SUMMARY_FIELDS + ['contact_company']])])
        else:
            self.get('customer_orders', target, self.prefix(target)
                + '/orders', token)

    def order_detail(self, target):
        token, order_id = self.rng.choice(self.ctx['details'])
        if target == 'rpc':
            self.rpc('order_detail', self.ctx['dispatcher'], [
                    ('model.instrument_service.order.read',
                        [[order_id], DETAIL_FIELDS])])
        else:
            self.get('order_detail', target,
                f'{self.prefix(target)}/orders/{order_id}', token)

    def engineer_inbox(self, target):
        token, employee, login = self.rng.choice(self.ctx['engineers'])
        if target == 'rpc':
            domain = [['state', '=', 'submitted'], ['offers', 'where', [
                        ['engineer', 'in', [employee]],
                        ['state', '=', 'offered']]]]
            self.rpc('engineer_inbox', login, [
                    ('model.instrument_service.order.search_count',
                        [domain, 0, None]),
                    ('model.instrument_service.order.search_read',
                        [domain, 0, 20, None,
                            SUMMARY_FIELDS + ['contact_address']])])
        else:
            self.get('engineer_inbox', target,
                self.prefix(target) + '/engineer/inbox', token)

    def engineer_tasks(self, target):
        token, employee, login = self.rng.choice(self.ctx['engineers'])
        if target == 'rpc':
            # As the API: the tasks in progress, then, to fill the page,
            # the closed ones
            running = [['engineer', '=', employee],
                ['state', 'in', ['in_progress']]]
            closed = [['engineer', '=', employee],
                ['state', 'in', ['cancelled', 'done']]]
            fields_ = SUMMARY_FIELDS + ['contact_company']
            self.rpc('engineer_tasks', login, [
                    ('model.instrument_service.order.search_count',
                        [running, 0, None]),
                    ('model.instrument_service.order.search_read',
                        [running, 0, 20, TASKS_ORDER, fields_]),
                    ('model.instrument_service.order.search_count',
                        [closed, 0, None]),
                    lambda results: (
                        'model.instrument_service.order.search_read',
                        [closed, 0, 20 - len(results[1]), None, fields_])
                    if len(results[1]) < 20 else None])
        else:
            self.get('engineer_tasks', target,
                self.prefix(target) + '/engineer/tasks', token)

    @staticmethod
    def prefix(target):
        return '/floor' if target == 'floor' else '/api/v1'

    # The writes

    def write(self, target='api', race=True):
        """One order's life; with race, every offered writer engineer
        accepts at once, else one of them"""
        api = self.connection('api')
        customer = self.rng.choice(self.ctx['writer_customers'])
        boundary = uuid.uuid4().hex
        upload = (f'--{boundary}\r\nContent-Disposition: form-data; '
            f'name="file"; filename="photo.jpg"\r\nContent-Type: '
            f'image/jpeg\r\n\r\n').encode() + self.ctx['photo'] + (
                f'\r\n--{boundary}--\r\n').encode()
        status, body, ms_upload = api.request('POST', '/api/v1/files',
            body=upload, headers=bearer(customer, **{
                    'Content-Type':
                    f'multipart/form-data; boundary={boundary}'}))
        self.record('upload', status, ms_upload, status == 201)
        if status != 201:
            return
        file_id = json.loads(body)['id']
        order = {'type': self.ctx['order_type'], 'contact': {
                'name': '压测客户', 'company': '压测分析实验室',
                'phone': '13800000000', 'address': self.ctx['address']},
            'lines': [{'instrument_name': '液相色谱仪', 'brand': BRAND,
                    'model': '1260 Infinity II', 'quantity': 1,
                    'fault_description': '压测：泵压力波动', 'files': [file_id]}]}
        status, body, ms = api.request('POST', '/api/v1/orders',
            body=json.dumps(order).encode(), headers=bearer(customer, **JSON,
                **{'Idempotency-Key': uuid.uuid4().hex}))
        self.record('order_submit', status, ms, status == 201)
        self.record('order_submission', status, ms + ms_upload,
            status == 201)
        if status != 201:
            return
        order_id = json.loads(body)['id']
        offered = self.offered(order_id, race)
        if not offered:
            self.record('accept', 0, 0, False)
            return
        winner = self.accept(order_id, offered if race else [
                self.rng.choice(offered)])
        if winner is None:
            return
        engineer = self.connection('api', winner)
        for values in ({'action': 'visit_remote'}, {
                'action': 'finish_remote', 'description': '远程指导完成'}):
            status, body, ms = engineer.request('POST',
                f'/api/v1/engineer/tasks/{order_id}/steps',
                body=json.dumps(values).encode(), headers=bearer(winner,
                    **JSON))
            self.record('step_submit', status, ms, status == 200)
            if status != 200:
                return
        status, body, ms = api.request('POST',
            f'/api/v1/orders/{order_id}/rating', body=json.dumps({
                    'attitude': 5, 'quality': 5, 'overall': 5}).encode(),
            headers=bearer(customer, **JSON))
        self.record('rating', status, ms, status == 200)

    def offered(self, order_id, race=False):
        """Tokens of the writer engineers the order is offered to; with race,
        offered to the race engineers too"""
        if not hasattr(self, '_db'):
            import psycopg
            self._db = psycopg.connect(DSN, dbname=self.ctx['db'],
                autocommit=True)
        if race:
            self._db.execute('INSERT INTO instrument_service_order_offer '
                '("order", engineer, state, create_uid, create_date) '
                "SELECT %s, e, 'offered', 0, now() AT TIME ZONE 'UTC' "
                'FROM unnest(%s::integer[]) AS e WHERE NOT EXISTS ('
                'SELECT 1 FROM instrument_service_order_offer o WHERE '
                'o."order" = %s AND o.engineer = e)',
                (order_id, self.ctx['race_engineers'], order_id))
        rows = self._db.execute('SELECT engineer FROM '
            'instrument_service_order_offer WHERE "order" = %s AND '
            "state = 'offered'", (order_id,)).fetchall()
        writers = self.ctx['writer_engineers']
        return [writers[str(r[0])] for r in rows if str(r[0]) in writers]

    def accept(self, order_id, tokens):
        """Every token accepts the order at once (a barrier); one must win
        (200), the others get 409 already_taken. Returns the winner."""
        barrier = threading.Barrier(len(tokens))
        outcome = []

        def one(token):
            connection = self.connection('api', token)
            barrier.wait()
            status, body, ms = connection.request('POST',
                f'/api/v1/engineer/inbox/{order_id}/accept', body=b'{}',
                headers=bearer(token, **JSON))
            taken = status == 409 and b'already_taken' in body
            self.record('accept', status, ms, status == 200 or taken)
            outcome.append((status, token, taken))
        threads = [threading.Thread(target=one, args=(t,)) for t in tokens]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [t for s, t, _ in outcome if s == 200]
        self.races.append({'engineers': len(tokens),
                'won': len(winners),
                'already_taken': sum(1 for *_, taken in outcome if taken),
                'other': sorted(s for s, _, taken in outcome
                    if s != 200 and not taken)})
        return winners[0] if len(winners) == 1 else None


# ---- running ---------------------------------------------------------------

def _client(ctx, urls, job, seed, start, stop, queue):
    "The body of a client process: job until stop, then report"
    client = Client(ctx, urls, seed)
    scenario, target = job
    action = getattr(client, scenario)
    time.sleep(max(0, start - time.time()))
    while time.time() < stop:
        if scenario == 'write':
            action(race=target == 'race')
        else:
            action(target)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    queue.put((client.samples, client.races,
            usage.ru_utime + usage.ru_stime, client.failures))


def run(ctx, urls, jobs, duration, warmup=2.0, seed=0):
    """Run jobs ((scenario, target) per client process) for warmup +
    duration seconds; return the samples after the warm-up, the races and
    the driver's CPU seconds and wall time"""
    method = multiprocessing.get_context('fork')
    queue = method.Queue()
    start = time.time() + 0.5
    measure_from = start + warmup
    stop = measure_from + duration
    processes = [method.Process(target=_client, args=(
                ctx, urls, job, seed * 1000 + i, start, stop, queue))
        for i, job in enumerate(jobs)]
    for process in processes:
        process.start()
    results = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    samples = [s for r in results for s in r[0] if s[1] >= measure_from]
    races = [race for r in results for race in r[1]]
    failures = [f for r in results for f in r[3] if f[1] >= measure_from]
    return {'samples': samples, 'races': races, 'failures': failures,
        'driver_cpu_s': sum(r[2] for r in results),
        'duration': duration, 'clients': len(jobs)}


def summarise(result, labels=None):
    """Per label: requests/s over the measured duration, p50/p95/p99 in ms
    (nearest rank), errors and their statuses"""
    by_label = {}
    for label, _, ms, ok, status in result['samples']:
        by_label.setdefault(label, []).append((ms, ok, status))
    stats = {}
    for label, values in by_label.items():
        if labels and label not in labels:
            continue
        times = sorted(v[0] for v in values)

        def rank(p):
            return round(times[min(len(times) - 1,
                        max(0, int(round(p * len(times))) - 1))], 2)
        errors = Counter(v[2] for v in values if not v[1])
        stats[label] = {'n': len(values),
            'rps': round(len(values) / result['duration'], 2),
            'p50': rank(.50), 'p95': rank(.95), 'p99': rank(.99),
            'errors': sum(errors.values()),
            'error_statuses': {str(k): v for k, v in errors.items()}}
        # A few of the answers that failed, different ones first
        examples = {}
        for failed, _, status, text in result.get('failures', ()):
            if failed == label and len(examples) < 3:
                examples.setdefault((status, text[:80]), f'{status} {text}')
        if examples:
            stats[label]['error_examples'] = list(examples.values())
    return stats


def race_outcome(races):
    "How the accept races ended"
    return {'races': len(races),
        'engineers_per_race': round(sum(r['engineers'] for r in races)
            / len(races), 1) if races else 0,
        'exactly_one_winner': sum(1 for r in races if r['won'] == 1),
        'no_winner': sum(1 for r in races if r['won'] == 0),
        'several_winners': sum(1 for r in races if r['won'] > 1),
        'already_taken': sum(r['already_taken'] for r in races),
        'other_statuses': dict(Counter(s for r in races
                for s in r['other']))}


def mixed_jobs(clients=16, writers=4):
    "The mixed load: the read scenarios in turn, and writers"
    readers = [(READS[i % len(READS)], 'api')
        for i in range(clients - writers)]
    return readers + [('write', 'single')] * writers


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--db', required=True)
    parser.add_argument('--url', required=True,
        help="the API server (trytond under gunicorn)")
    parser.add_argument('--floor-url', help="the floor server")
    parser.add_argument('--scenario', choices=READS + ['write'])
    parser.add_argument('--target', choices=TARGETS + ['race', 'single'],
        default='api')
    parser.add_argument('--mixed', action='store_true',
        help="16 clients: 3 per read scenario and 4 writers")
    parser.add_argument('--concurrency', type=int, default=4)
    parser.add_argument('--duration', type=float, default=10)
    parser.add_argument('--warmup', type=float, default=2)
    options = parser.parse_args(argv)
    ctx = plan(load_data(options.db))
    urls = {'api': options.url, 'rpc': options.url,
        'floor': options.floor_url}
    if options.target == 'rpc':
        rpc_sessions(ctx, options.url)
    if options.mixed:
        jobs = mixed_jobs()
    else:
        jobs = [(options.scenario, options.target)] * options.concurrency
    result = run(ctx, urls, jobs, options.duration, options.warmup)
    wall = options.duration + options.warmup
    print(json.dumps({'stats': summarise(result),
            'races': race_outcome(result['races']),
            'driver_cpu_share': round(result['driver_cpu_s'] / (
                    wall * os.cpu_count()), 3)}, indent=1))


if __name__ == '__main__':
    main()
