#!/usr/bin/env python3
"""Drill: restart PostgreSQL under load.

    .venv/bin/python bench/drills/pg_restart.py [--duration 40]
        [--restart-at 15] [--clients 6] [--port 5499] [--drop-cluster]

On a PostgreSQL cluster of its own (15/drill on --port, created with
pg_createcluster when missing and started; never the main one), it starts
the API tests' server (tests/server.py: a plain trytond on a fresh database
with the modules activated, engineers and WeChat customers), loads it with
--clients clients (order submissions with an Idempotency-Key, the
customer's orders, the forms, the engineer's inbox) and an engineer's long
polls for --duration seconds, and runs `pg_ctlcluster 15 drill restart`
(fast shutdown: the sessions are terminated) --restart-at seconds in.

Then each submission answered 503 is sent again with the same key, as a
client does, and it prints what it sent and found: requests, 2xx, 503
database_unavailable with Retry-After, other answers (must be none), the
slowest answer, how long the server took to answer again after the
restart, the orders acknowledged against those in the database. It exits 1
when a request got another answer than 2xx or a 503 with Retry-After
(a 500 above all), an acknowledged order is missing, a key made two
orders, the server did not recover or its log holds a traceback.

Run as root (pg_createcluster, pg_ctlcluster).
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
VERSION = '15'
CLUSTER = 'drill'
CONTACT = {'name': '周九', 'company': '戊方检测', 'phone': '13800001234'}
LINE = {'instrument_name': '液相色谱仪', 'brand': 'Waters',
    'fault_description': '压力波动', 'quantity': 1}


def cluster(port):
    "Create the drill cluster if missing, start it; return its URI"
    listed = subprocess.run(['pg_lsclusters', '--no-header', VERSION,
            CLUSTER], capture_output=True, text=True)
    if not listed.stdout.strip():
        print("creating cluster %s/%s on port %s" % (VERSION, CLUSTER,
                port))
        subprocess.run(['pg_createcluster', VERSION, CLUSTER, '--port',
                str(port), '--', '--auth-local=trust', '--auth-host=trust'],
            check=True, stdout=subprocess.DEVNULL)
    else:
        port = int(listed.stdout.split()[2])
    if 'online' not in listed.stdout:
        subprocess.run(['pg_ctlcluster', VERSION, CLUSTER, 'start'],
            check=True)
    return 'postgresql://postgres@127.0.0.1:%s/' % port


def restart():
    "Restart the drill cluster; return how long it took"
    started = time.monotonic()
    subprocess.run(['pg_ctlcluster', VERSION, CLUSTER, 'restart'],
        check=True)
    return time.monotonic() - started


class Load:
    "The clients and what they were answered"

    def __init__(self, server, customers, engineer):
        self.server = server
        self.customers = customers
        self.engineer = engineer
        self.answers = []  # (kind, status, code, retry_after, start, end)
        self.submissions = []  # (token, key, status, order id)
        self.polls = []
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def request(self, kind, method, path, data=None, token=None,
            headers=None):
        started = time.monotonic()
        try:
            status, response_headers, content = self.server.request(
                method, path, data=data, token=token, headers=headers)
            body = json.loads(content) if content else None
        except Exception as e:  # no answer: counted as another error
            status, response_headers, body = None, {}, {'error': {
                    'code': repr(e)}}
        ended = time.monotonic()
        code = (body.get('error', {}).get('code')
            if isinstance(body, dict) else None)
        with self.lock:
            self.answers.append((kind, status, code,
                    response_headers.get('Retry-After'), started, ended))
        return status, body

    def submit(self, token, key):
        return self.request('submit', 'POST', '/orders',
            {'type': 'repair', 'contact': CONTACT, 'lines': [LINE]},
            token, headers={'Idempotency-Key': key})

    def client(self, index):
        token = self.customers[index % len(self.customers)]
        count = index
        while not self.stop.is_set():
            count += 1
            if count % 3 == 0:
                key = uuid.uuid4().hex
                status, body = self.submit(token, key)
                with self.lock:
                    self.submissions.append((token, key, status,
                            body.get('id') if status in {200, 201}
                            else None))
            elif count % 3 == 1:
                self.request('orders', 'GET', '/orders', token=token)
            elif count % 6 == 2:
                self.request('forms', 'GET', '/order-types')
            else:
                self.request('inbox', 'GET', '/engineer/inbox',
                    token=self.engineer)
            time.sleep(0.02)

    def long_poll(self):
        after = 0
        while not self.stop.is_set():
            status, body = self.request('wait', 'GET',
                '/engineer/notifications/wait?timeout=10&after=%s' % after,
                token=self.engineer)
            if status == 200:
                after = max([n['id'] for n in body['items']] + [after])
            else:
                time.sleep(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--duration', type=float, default=40)
    parser.add_argument('--restart-at', type=float, default=15)
    parser.add_argument('--clients', type=int, default=6)
    parser.add_argument('--port', type=int, default=5499,
        help="port of the drill cluster when it is created (5499)")
    parser.add_argument('--drop-cluster', action='store_true',
        help="drop the drill cluster at the end")
    options = parser.parse_args()

    uri = cluster(options.port)
    os.environ['TRYTOND_DATABASE__URI'] = uri
    sys.path.insert(0, os.path.join(ROOT, 'addons', 'instrument_service_api',
            'tests'))
    from server import APIServer

    print("cluster %s/%s at %s; starting trytond (database, modules, "
        "fixtures)..." % (VERSION, CLUSTER, uri), flush=True)
    server = APIServer(engineers=2).start()
    failures = []
    try:
        engineer = server.engineer(0)
        customers = [server.customer() for _ in range(options.clients)]
        load = Load(server, customers, engineer)
        threads = [threading.Thread(target=load.client, args=(i,))
            for i in range(options.clients)]
        threads.append(threading.Thread(target=load.long_poll))
        started = time.monotonic()
        for thread in threads:
            thread.start()
        print("load: %s clients and a long poll for %.0f s; restart at "
            "%.0f s" % (options.clients, options.duration,
                options.restart_at), flush=True)
        time.sleep(options.restart_at)
        restart_at = time.monotonic()
        restart_took = restart()
        restarted_at = time.monotonic()
        print("pg_ctlcluster %s %s restart: %.1f s" % (
                VERSION, CLUSTER, restart_took), flush=True)
        time.sleep(max(0, started + options.duration - time.monotonic()))
        load.stop.set()
        for thread in threads:
            thread.join(60)

        answers = load.answers
        statuses = Counter(a[1] for a in answers)
        ok = [a for a in answers if a[1] in {200, 201}]
        unavailable = [a for a in answers if a[1] == 503
            and a[2] == 'database_unavailable' and a[3]]
        others = [a for a in answers
            if a[1] not in {200, 201} and a not in unavailable]
        slowest = max((a[5] - a[4], a[0]) for a in answers
            if a[0] != 'wait')
        # The server answers again: the first success of a request started
        # after the restart, after which every request succeeded
        failed_after = [a for a in answers if a[4] >= restart_at
            and a[1] not in {200, 201}]
        back = [a for a in ok if a[4] >= restarted_at
            and all(a[4] > f[5] for f in failed_after)]
        recovered = min(a[5] for a in back) - restarted_at if back else None
        print("\nrequests %d: 2xx %d, 503 database_unavailable with "
            "Retry-After %d, other %d %s" % (len(answers), len(ok),
                len(unavailable), len(others),
                dict(Counter((a[1], a[2]) for a in others))))
        print("statuses: %s" % dict(sorted(statuses.items(),
                    key=lambda s: str(s[0]))))
        if unavailable:
            print("503s from %.1f s to %.1f s after the restart began" % (
                    min(a[5] for a in unavailable) - restart_at,
                    max(a[5] for a in unavailable) - restart_at))
        print("slowest answer (long polls aside): %.2f s (%s)" % slowest)
        if recovered is None:
            failures.append("never recovered")
            print("recovered: never")
        else:
            print("answered again %.2f s after the restart command "
                "returned" % recovered)

        # Submissions answered 503: sent again with the same key
        acknowledged = {key: order for _, key, status, order
            in load.submissions if status in {200, 201}}
        resent = 0
        for token, key, status, _ in load.submissions:
            if status in {200, 201}:
                continue
            resent += 1
            status, body = load.submit(token, key)
            if status in {200, 201}:
                acknowledged[key] = body['id']
            else:
                failures.append("re-sent %s: %s %s" % (key, status, body))
        keys = [key for _, key, _, _ in load.submissions]
        rows = server.sql('SELECT k.key, k."order" '
            'FROM instrument_service_api_idempotency_key k '
            'JOIN instrument_service_order o ON o.id = k."order" '
            'WHERE k.key = ANY(%s)', (keys,))
        found = Counter(key for key, _ in rows)
        missing = [k for k, o in acknowledged.items()
            if (k, o) not in set(rows)]
        twice = [k for k, n in found.items() if n > 1]
        orders = server.count('instrument_service_order')
        print("submissions %d: acknowledged at once %d, answered 503 and "
            "sent again %d; orders acknowledged %d, found %d, missing %d, "
            "made twice %d; orders in the database %d" % (
                len(keys), len(keys) - resent, resent, len(acknowledged),
                len(found), len(missing), len(twice), orders))
        log = server.server_log()
        tracebacks = log.count('Traceback')
        print("server log: %d tracebacks, %d 'database unavailable' "
            "lines" % (tracebacks, log.count('database unavailable on')))
        if others:
            failures.append("%d answers neither 2xx nor 503 "
                "database_unavailable with Retry-After" % len(others))
        if missing:
            failures.append("acknowledged orders missing: %s" % missing)
        if twice:
            failures.append("keys with two orders: %s" % twice)
        if orders != len(acknowledged):
            failures.append("%d orders for %d keys" % (
                    orders, len(acknowledged)))
        if tracebacks:
            failures.append("tracebacks in the server log")
            print('\n'.join(line for line in log.splitlines()
                    if 'Traceback' in line or 'Error' in line)[-3000:])
    finally:
        server.stop()
        if options.drop_cluster:
            subprocess.run(['pg_dropcluster', '--stop', VERSION, CLUSTER])
    if failures:
        print("\nFAILED: " + '; '.join(failures))
        return 1
    print("\nOK")
    return 0


if __name__ == '__main__':
    sys.exit(main())
