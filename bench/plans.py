#!/usr/bin/env python3
"""The SQL of the read endpoints and the query plans of the slowest ones.

    .venv/bin/python bench/plans.py --db bench_100k [--top 3]

Runs trytond in this process with the configuration a benchmark server gets
(config/gunicorn.conf.py merges the same files), calls each read endpoint of
the load driver through the WSGI application (werkzeug's test client, from
127.0.0.1 like the driver) once to warm the caches, then once more while
recording every statement psycopg executes with its time; then runs
EXPLAIN (ANALYZE, BUFFERS) of the slowest statements of the slowest
endpoint in a read-only transaction. Capturing in-process rather than from
the PostgreSQL log needs no change to the server's configuration and gives
each statement with its parameters.
"""
import argparse
import importlib.util
import json
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import GUNICORN_CONFIG, TRYTOND_CONFIG, load_data, \
    private_config  # noqa: E402


def read_requests(data):
    "One request of each read scenario, as (scenario, path, token)"
    customer = data['customers'][0]
    detail_id = next(ids[0] for state in ('in_progress', 'done')
        for ids in [customer['ids'].get(state)] if ids)
    engineer = data['engineers'][0]
    return [
        ('customer_orders', '/api/v1/orders', customer['token']),
        ('order_detail', f'/api/v1/orders/{detail_id}', customer['token']),
        ('engineer_inbox', '/api/v1/engineer/inbox', engineer['token']),
        ('engineer_tasks', '/api/v1/engineer/tasks', engineer['token']),
        ]


def _start_trytond(db):
    "Configure and import trytond as the gunicorn master does"
    os.environ['TRYTOND_CONFIG_FILES'] = os.pathsep.join(
        [str(TRYTOND_CONFIG), private_config(db)])
    os.environ.pop('TRYTOND_DATABASE_NAMES', None)
    spec = importlib.util.spec_from_file_location('gunicorn_conf',
        GUNICORN_CONFIG)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    import trytond.application  # noqa: F401  (initialises the pool)
    from trytond.wsgi import app
    return app


class Recorder:
    "Wraps psycopg's Cursor.execute to keep (seconds, query, params)"

    def __init__(self):
        import psycopg
        self.statements = None
        original = psycopg.Cursor.execute
        recorder = self

        def execute(cursor, query, params=None, **kwargs):
            started = time.perf_counter()
            try:
                return original(cursor, query, params, **kwargs)
            finally:
                if recorder.statements is not None:
                    recorder.statements.append((
                            time.perf_counter() - started, query, params))
        psycopg.Cursor.execute = execute


def capture(db, data, repeat=5):
    """Per scenario: its statements (the median run of repeat) and the
    request's time; returns {scenario: {...}} and the app for explain"""
    app = _start_trytond(db)
    from werkzeug.test import Client
    client = Client(app)
    recorder = Recorder()
    result = {}
    for scenario, path, token in read_requests(data):
        headers = {'Authorization': 'Bearer ' + token}
        environ = {'REMOTE_ADDR': '127.0.0.1'}
        response = client.get(path, headers=headers,
            environ_overrides=environ)
        assert response.status_code == 200, (path, response.status_code)
        runs = []
        for _ in range(repeat):
            recorder.statements = []
            started = time.perf_counter()
            client.get(path, headers=headers, environ_overrides=environ)
            runs.append((time.perf_counter() - started,
                    recorder.statements))
            recorder.statements = None
        runs.sort(key=lambda r: r[0])
        took, statements = runs[len(runs) // 2]
        result[scenario] = {
            'path': path,
            'ms': took * 1000,
            'sql_ms': sum(s[0] for s in statements) * 1000,
            'statements': [{'ms': s[0] * 1000, 'query': s[1],
                    'params': [str(p) for p in (s[2] or [])]}
                for s in statements],
            'raw': statements,
            }
    return result


def explain(db, statements, top=3):
    """EXPLAIN (ANALYZE, BUFFERS) of every statement; the top ones by
    execution time (the times measured in the request are too noisy on a
    shared machine to choose by)"""
    from trytond.transaction import Transaction
    plans = []
    with Transaction().start(db, 0, readonly=True) as transaction:
        cursor = transaction.connection.cursor()
        for seconds, query, params in statements:
            if not query.lstrip().upper().startswith('SELECT'):
                continue
            cursor.execute('EXPLAIN (ANALYZE, BUFFERS) ' + query, params)
            plan = '\n'.join(r[0] for r in cursor.fetchall())
            execution = re.search(r'Execution Time: ([0-9.]+)', plan)
            plans.append({'ms': seconds * 1000,
                    'execution_ms': float(execution.group(1))
                    if execution else 0.0,
                    'query': query,
                    'params': [str(p) for p in (params or [])],
                    'plan': plan})
    plans.sort(key=lambda p: -p['execution_ms'])
    return plans[:top]


def analyse(db, top=3):
    """Statements of every read scenario and the plans of the slowest
    scenario's slowest statements"""
    data = load_data(db)
    captured = capture(db, data)
    slowest = max(captured, key=lambda s: captured[s]['ms'])
    plans = explain(db, captured[slowest]['raw'], top)
    for value in captured.values():
        del value['raw']
    return {'scenarios': captured, 'slowest': slowest, 'plans': plans}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--db', required=True)
    parser.add_argument('--top', type=int, default=3)
    parser.add_argument('--json', help="write the result here")
    parser.add_argument('--sql', action='store_true',
        help="print every statement")
    options = parser.parse_args(argv)
    result = analyse(options.db, options.top)
    for scenario, value in result['scenarios'].items():
        print(f"{scenario:<16} {value['ms']:7.1f} ms, "
            f"{len(value['statements'])} statements, "
            f"{value['sql_ms']:.1f} ms in SQL  {value['path']}")
        if options.sql:
            for s in value['statements']:
                print(f"    {s['ms']:6.2f} {s['query']}  {s['params']}")
    print(f"\nslowest: {result['slowest']}")
    for plan in result['plans']:
        print(f"\n{plan['execution_ms']:.2f} ms: {plan['query']}\n"
            f"  {plan['params']}\n{plan['plan']}")
    if options.json:
        Path(options.json).write_text(json.dumps(result, indent=1,
                ensure_ascii=False))


if __name__ == '__main__':
    main()
