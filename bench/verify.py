#!/usr/bin/env python3
"""Check a generated database through the running servers.

    .venv/bin/python bench/verify.py --db bench_10k

Starts trytond on a free port with the API pointed at the database (or
uses --url of a running one), then, with the tokens of the JSON file that
bench/generate.py wrote:
  - as sampled customers: GET /api/v1/orders (and ?state=...) and
    GET /api/v1/orders/{id} for an order of each state;
  - as sampled engineers: GET /api/v1/engineer/inbox and
    GET /api/v1/engineer/tasks (and ?state=...);
  - as admin and as a dispatcher, through JSON-RPC like the back office:
    common.db.login, the order list view and its search_read/search_count.
Prints what came back and the time of each call; exits 1 on a failure.
"""
import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / 'config' / 'trytond-postgresql.conf'


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def call(url, token=None, data=None, headers=None):
    request = urllib.request.Request(url, data=data, headers=dict(
            headers or {}))
    if token:
        request.add_header('Authorization', 'Bearer ' + token)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    took = (time.perf_counter() - started) * 1000
    try:
        body = json.loads(body)
    except ValueError:
        pass
    return status, body, took


class Checker:
    def __init__(self):
        self.failures = 0
        self.times = {}

    def check(self, label, status, took, ok=True, detail=''):
        self.times.setdefault(label, []).append(took)
        good = status == 200 and ok
        if not good:
            self.failures += 1
        print(f"  {'ok ' if good else 'FAIL'} {status} {took:7.1f} ms  "
            f"{label}  {detail}")


def rpc(base, db, method, params, auth=None):
    headers = {'Content-Type': 'application/json'}
    if auth:
        headers['Authorization'] = 'Session ' + auth
    data = json.dumps({'id': 1, 'method': method, 'params': params}).encode()
    status, body, took = call(f'{base}{db}/rpc/', data=data, headers=headers)
    if not isinstance(body, dict) or body.get('error'):
        raise RuntimeError(f'{method}: {status} {body!r:.300}')
    return status, body.get('result') if isinstance(body, dict) else body, \
        took


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--db', required=True)
    parser.add_argument('--config', default=str(DEFAULT_CONFIG))
    parser.add_argument('--data', default=None,
        help="JSON of bench/generate.py (default data/db/<db>.bench.json)")
    parser.add_argument('--url', default=None,
        help="a running server (started with the API on --db)")
    parser.add_argument('--customers', type=int, default=5)
    parser.add_argument('--engineers', type=int, default=5)
    options = parser.parse_args(argv)
    data = json.loads(Path(options.data or ROOT / 'data' / 'db'
            / f'{options.db}.bench.json').read_text())

    server = None
    if options.url:
        base = options.url.rstrip('/') + '/'
    else:
        port = free_port()
        conf = tempfile.NamedTemporaryFile('w', suffix='.conf',
            prefix='bench-verify-', delete=False)
        conf.write(f'[web]\nlisten = 127.0.0.1:{port}\n\n'
            f'[instrument_service_api]\ndatabase = {options.db}\n'
            'dev_login = false\n')
        conf.close()
        log = open(tempfile.gettempdir() + f'/bench-verify-{port}.log', 'w')
        server = subprocess.Popen([str(ROOT / '.venv' / 'bin' / 'trytond'),
                '-c', options.config, conf.name, '-d', options.db],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        base = f'http://127.0.0.1:{port}/'
        for _ in range(120):
            try:
                call(base + 'api/v1/order-types')
                break
            except OSError:
                time.sleep(0.5)
        print(f'server pid {server.pid} on {base} (log {log.name})')
    api = base + 'api/v1'
    checker = Checker()
    downloaded = set()
    try:
        # Twice: the first calls of a process fill its caches
        for round_ in (1, 2):
            print(f'round {round_}')
            for c in data['customers'][:options.customers]:
                token = c['token']
                status, body, took = call(api + '/orders', token)
                checker.check('GET /orders', status, took,
                    isinstance(body, dict) and body.get('total') == c[
                        'orders'] and len(body['items']) == min(20, c[
                            'orders']),
                    f"customer {c['web_user']}: total {body.get('total')} "
                    f"(expected {c['orders']}), page of "
                    f"{len(body.get('items', []))}, first "
                    f"{(body.get('items') or [{}])[0].get('number')} "
                    f"{(body.get('items') or [{}])[0].get('submitted_at')}")
                status, body, took = call(api + '/orders?state=done&page=2',
                    token)
                checker.check('GET /orders?state=done&page=2', status, took,
                    isinstance(body, dict) and all(
                        i['state'] == 'done' for i in body['items']),
                    f"total {body.get('total')}")
                for state, ids in c['ids'].items():
                    if not ids:
                        continue
                    status, body, took = call(
                        f"{api}/orders/{ids[0]}", token)
                    progress = body.get('progress', {}) if isinstance(
                        body, dict) else {}
                    records = sum(len(s['records'])
                        for s in progress.get('steps', []))
                    files = sum(len(r['photos']) for s in progress.get(
                            'steps', []) for r in s['records']) + sum(
                        len(l['files']) for l in body.get('lines', []))
                    urls = [f for s in progress.get('steps', [])
                        for r in s['records'] for f in r['photos']] + [
                        f for l in body.get('lines', []) for f in l['files']]
                    if urls and state not in downloaded:
                        downloaded.add(state)
                        f = urls[0]
                        status_f, content, took_f = call(base.rstrip('/')
                            + f['url'], token)
                        checker.check('GET /files/{id}', status_f, took_f,
                            isinstance(content, bytes) and len(content) == f[
                                'size'] and content[:2] in {b'\xff\xd8', b'%P'},
                            f"{f['name']} {f['size']} bytes")
                        if f.get('thumbnail_url'):
                            status_f, content, took_f = call(base.rstrip('/')
                                + f['thumbnail_url'], token)
                            checker.check('GET /files/{id}/thumbnail',
                                status_f, took_f, isinstance(content, bytes)
                                and content[:2] == b'\xff\xd8',
                                f'{len(content)} bytes')
                    checker.check(f'GET /orders/{{id}} ({state})', status,
                        took, body.get('state') == state,
                        f"{body.get('number')} {body.get('type')} "
                        f"step {progress.get('current_step')}: {records} "
                        f"records, {files} files, hint "
                        f"{(progress.get('hint') or '')[:30]!r}")
            for e in data['engineers'][:options.engineers]:
                token = e['token']
                status, body, took = call(api + '/engineer/inbox', token)
                checker.check('GET /engineer/inbox', status, took,
                    isinstance(body, dict) and 'items' in body,
                    f"engineer {e['login']}: total {body.get('total')} "
                    f"(sample {len(e['ids']['inbox'])})")
                status, body, took = call(api + '/engineer/tasks', token)
                first = (body.get('items') or [{}])[0] if isinstance(
                    body, dict) else {}
                checker.check('GET /engineer/tasks', status, took,
                    isinstance(body, dict) and 'items' in body,
                    f"total {body.get('total')}, first {first.get('number')}"
                    f" {first.get('state')} {(first.get('step') or {}).get('code')}")
                status, body, took = call(
                    api + '/engineer/tasks?state=in_progress', token)
                checker.check('GET /engineer/tasks?state=in_progress',
                    status, took, isinstance(body, dict)
                    and body.get('total') == e['open_tasks'],
                    f"total {body.get('total')} (expected {e['open_tasks']})")

        # The back office: login, the order list view, its first page
        print('back office (JSON-RPC)')
        for login, password in [
                ('admin', data['admin']['password']),
                (data['dispatchers'][0]['login'],
                    data['engineer_password'])]:
            status, result, took = rpc(base, options.db, 'common.db.login',
                [login, {'password': password}, 'zh_CN'])
            checker.check(f'common.db.login {login}', status, took,
                bool(result))
            user_id, session = result[0], result[1]
            auth = base64.b64encode(
                f'{login}:{user_id}:{session}'.encode()).decode()
            status, prefs, took = rpc(base, options.db,
                'model.res.user.get_preferences', [True, {}], auth)
            context = prefs
            status, view, took = rpc(base, options.db,
                'model.instrument_service.order.fields_view_get',
                [None, 'tree', context], auth)
            fields = sorted(view['fields'])
            checker.check(f'order list view ({login})', status, took,
                bool(fields), f'{len(fields)} fields')
            status, count, took = rpc(base, options.db,
                'model.instrument_service.order.search_count',
                [[], 0, None, context], auth)
            # bench/run.py's writes add orders to the generated ones
            checker.check(f'order search_count ({login})', status, took,
                isinstance(count, int)
                and count >= data['counts']['instrument_service.order'],
                f'{count} orders')
            status, rows, took = rpc(base, options.db,
                'model.instrument_service.order.search_read',
                [[], 0, 80, None, fields, context], auth)
            checker.check(f'order search_read 80 ({login})', status, took,
                len(rows) == min(80, count),
                f"first {rows[0].get('number') if rows else None} "
                f"{rows[0].get('submitted_at') if rows else None}")
            status, rows, took = rpc(base, options.db,
                'model.instrument_service.order.search_read',
                [[('state', '=', 'in_progress'), ('sla_status', '=', 'late')],
                    0, 80, None, fields, context], auth)
            checker.check(f'late orders in progress ({login})', status,
                took, True, f'{len(rows)} on the first page')
    finally:
        if server:
            server.terminate()
            server.wait(timeout=30)
            os.unlink(conf.name)
    print('\nmedian ms of the second round:')
    for label, times in checker.times.items():
        second = times[len(times) // 2:]
        second.sort()
        print(f'  {label:<40} {second[len(second) // 2]:8.1f}')
    print(f'{checker.failures} failure(s)')
    return 1 if checker.failures else 0


if __name__ == '__main__':
    sys.exit(main())
