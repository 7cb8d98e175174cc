#!/usr/bin/env python3
"""Fuzzing drill: schemathesis against /api/v1/openapi.json.

    .venv/bin/python bench/drills/fuzz.py            # a few hundred cases
    .venv/bin/python bench/drills/fuzz.py --quick    # the CI size
    TRYTOND_DATABASE__URI=postgresql://postgres@127.0.0.1:5432/ \\
        .venv/bin/python bench/drills/fuzz.py --quick

It starts the API tests' server (a real trytond on a fresh database of the
backend of TRYTOND_DATABASE__URI, SQLite by default, with a WeChat
stand-in), gives it a few real records to aim at (files, one order of each
type at every stage of its life, another customer's order, notifications),
then runs the schemathesis CLI three times over the operations of the
document, each operation once:

  engineer  the engineer's operations and those of either caller, with an
            engineer token;
  customer  the customer's operations and those of either caller, with a
            customer token;
  public    the operations that take no token (logins, forms, docs), last,
            because fuzzing POST /auth/login trips Tryton's rate limit of
            failed logins for 127.0.0.1.

Each run goes through schemathesis's examples, coverage and fuzzing phases
(--max-examples cases per operation in the fuzzing phase, with a fixed
seed) with the checks not_a_server_error, status_code_conformance,
content_type_conformance, response_headers_conformance and
response_schema_conformance. The hooks of fuzz_hooks.py aim odd path ids at
existing records, cut the long poll to 1 s and give every logout a token of
its own.

It prints, per operation, the requests sent, their statuses and the cases
that failed, then a total line, every distinct failure (request, response,
why) and the tracebacks of the server log. The exit status is 1 when
anything was lost: a 5xx, a response that breaks the document, a request
that got no answer, an operation never tested, a traceback in the server
log, or a schemathesis run that failed to run.
"""
import argparse
import base64
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

CHECKS = [
    'not_a_server_error', 'status_code_conformance',
    'content_type_conformance', 'response_headers_conformance',
    'response_schema_conformance']
PHASES = ['examples', 'coverage', 'fuzzing']
FULL_EXAMPLES = 200
QUICK_EXAMPLES = 20
# Who runs which operations (the x-caller of each operation of the
# document), in this order
RUNS = [
    ('engineer', {'engineer', 'any'}),
    ('customer', {'customer', 'any'}),
    ('public', {'public'}),
    ]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--quick', action='store_true',
        help="the reduced size of CI: %s cases per operation" %
        QUICK_EXAMPLES)
    parser.add_argument('--max-examples', '-n', type=int,
        help="cases per operation in the fuzzing phase (default %s, %s "
        "with --quick)" % (FULL_EXAMPLES, QUICK_EXAMPLES))
    parser.add_argument('--seed', type=int, default=20250529,
        help="schemathesis's seed (default %(default)s)")
    parser.add_argument('--workers', '-w', type=int, default=1,
        help="concurrent schemathesis workers (default %(default)s)")
    parser.add_argument('--phases', default=','.join(PHASES),
        help="schemathesis phases (default %(default)s)")
    parser.add_argument('--only', default=','.join(r for r, _ in RUNS),
        help="the runs to do, of engineer, customer, public "
        "(default: all three)")
    parser.add_argument('--extra-checks', default='',
        help="more schemathesis checks, reported but not counted as "
        "lost (e.g. positive_data_acceptance,negative_data_rejection: "
        "where the document and the API disagree on what is valid)")
    parser.add_argument('--include-path-regex',
        help="only the operations whose path matches this")
    parser.add_argument('--report-dir',
        help="keep schemathesis's NDJSON reports and the server log here")
    parser.add_argument('--show', type=int, default=30,
        help="distinct failures printed in full (default %(default)s)")
    args = parser.parse_args()
    if args.max_examples is None:
        args.max_examples = QUICK_EXAMPLES if args.quick else FULL_EXAMPLES
    args.extra_checks = [c.strip() for c in args.extra_checks.split(',')
        if c.strip() and c.strip() not in CHECKS]
    args.only = [r.strip() for r in args.only.split(',') if r.strip()]
    unknown = set(args.only) - {r for r, _ in RUNS}
    if unknown:
        parser.error("unknown runs: %s" % ', '.join(sorted(unknown)))
    return args


def schemathesis_command():
    "The schemathesis CLI of this Python, or None when not installed"
    try:
        import schemathesis  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, '-m', 'schemathesis.cli']


def schemathesis_version():
    from importlib.metadata import version
    return version('schemathesis')


# ---- the records the fuzzer aims at ---------------------------------------

def seed(server):
    """Log the callers in and make records at every stage: return the
    tokens, the ids by path parameter name, and counts"""
    from trytond.modules.instrument_service_api.tests.server import (
        image, pdf)
    from trytond.modules.instrument_service_api.tests.test_http_lifecycle \
        import CONTACT, FILES, TYPES, line_for

    def call(method, path, data=None, token=None, status=200, **kwargs):
        got, body = server.call(method, path, data, token, **kwargs)
        if got != status:
            raise RuntimeError("seeding: %s %s answered %s, not %s: %s" % (
                    method, path, got, status, body))
        return body

    def upload(token, name, content, path='/files'):
        got, body = server.upload(path, name, content, token)
        if got != 201:
            raise RuntimeError("seeding: upload to %s answered %s: %s" % (
                    path, got, body))
        return body

    def submit(token, order_type, files=()):
        return call('POST', '/orders', {
                'type': order_type, 'contact': CONTACT,
                'lines': [line_for(order_type, files)],
                }, token, status=201,
            headers={'Idempotency-Key': uuid.uuid4().hex})

    def step(order_id, token, action, **values):
        return call('POST', '/engineer/tasks/%s/steps' % order_id,
            {'action': action, **values}, token)

    customer = server.customer('o-fuzz-customer')
    other_customer = server.customer('o-fuzz-other')
    engineer = server.engineer(0)
    other_engineer = server.engineer(1)

    # A file belongs to one order: each order has its own
    file_ids = []
    orders = {}
    for order_type in TYPES:
        kind = FILES.get(order_type)
        files = []
        if kind:
            files.append(upload(customer, 'IMG_0001.JPG',
                    image('JPEG', orientation=6)))
            files.append(upload(customer, 'screen.png', image('PNG')))
        if kind == 'attachments':
            files.append(upload(customer, 'list.pdf', pdf('list')))
        file_ids.extend(f['id'] for f in files)
        orders[order_type] = submit(customer, order_type,
            [f['id'] for f in files])['id']
    other_file = upload(other_customer, 'other.jpg', image('JPEG'))
    foreign = submit(other_customer, 'repair', [other_file['id']])['id']
    # Uploaded, not yet on any order
    file_ids.append(upload(customer, 'loose.jpg', image('JPEG'))['id'])
    file_ids.append(other_file['id'])

    # The stages: repair accepted; maintenance visit planned; recycle
    # assessed; rental quoted (the customer may confirm or reject);
    # training reported (confirm or reject); validation to be rated;
    # selection and installation still offered (accept, decline, cancel)
    appointment = '2031-06-02T10:00:00+08:00'
    check_in = {'time': appointment, 'latitude': 31.2035,
        'longitude': 121.5914, 'accuracy': 12.5, 'address': 'Zhangjiang'}
    stages = ['repair', 'maintenance', 'recycle', 'rental', 'training',
        'validation']
    task_photos = []
    for depth, order_type in enumerate(stages):
        order_id = orders[order_type]
        call('POST', '/engineer/inbox/%s/accept' % order_id, token=engineer)
        if depth >= 1:
            step(order_id, engineer, 'visit_onsite', appointment=appointment)
        if depth >= 2:
            photo = upload(engineer, 'site.jpg', image('JPEG', (800, 600)),
                path='/engineer/tasks/%s/files' % order_id)
            task_photos.append(photo['id'])
            step(order_id, engineer, 'submit_assessment',
                description='assessment', photos=[photo['id']],
                check_in=check_in)
        if depth >= 3:
            step(order_id, engineer, 'submit_quote', description='plan',
                amount='1000.00')
        if depth >= 4:
            call('POST', '/orders/%s/quote/confirm' % order_id,
                token=customer)
            step(order_id, engineer, 'submit_report', report='report')
        if depth >= 5:
            call('POST', '/orders/%s/report/confirm' % order_id,
                token=customer)
    call('POST', '/engineer/inbox/%s/accept' % foreign,
        token=other_engineer)

    notifications = []
    for token in [engineer, other_engineer]:
        page = call('GET', '/engineer/notifications?page_size=100',
            token=token)
        notifications.extend(n['id'] for n in page['items'])
    file_ids = sorted(set(file_ids) | set(task_photos))
    order_ids = sorted(set(orders.values()) | {foreign})
    return {
        'tokens': {'customer': customer, 'engineer': engineer},
        'ids': {
            'order_id': order_ids,
            'file_id': file_ids,
            'notification_id': sorted(notifications),
            },
        'mint': {
            'customer': {'kind': 'customer', 'openid': 'o-fuzz-logout'},
            'engineer': {'kind': 'engineer',
                **{k: server.people['engineers'][0][k]
                    for k in ['login', 'password']}},
            },
        }


# ---- one schemathesis run -------------------------------------------------

def run_schemathesis(command, server, document, name, callers, token,
        records, args, workdir):
    """Run the CLI over the operations of callers with token; return the
    path of its NDJSON report, the operations selected, its exit status
    and its output"""
    operations = []
    for path, item in document['paths'].items():
        if args.include_path_regex and not re.search(
                args.include_path_regex, path):
            continue
        for method, operation in item.items():
            if operation.get('x-caller') in callers:
                operations.append((method.upper(), path,
                        operation['operationId']))
    if not operations:
        return None, [], 0, ''
    state = os.path.join(workdir, 'state-%s.json' % name)
    with open(state, 'w') as fp:
        json.dump({'url': server.url, 'token': token, 'ids': records['ids'],
                'mint': records['mint'].get(name)}, fp)
    report = os.path.join(workdir, 'report-%s.ndjson' % name)
    cmd = command + ['run', server.url + '/openapi.json',
        '--checks', ','.join(CHECKS + args.extra_checks),
        '--phases', args.phases,
        '--max-examples', str(args.max_examples),
        '--seed', str(args.seed),
        '--workers', str(args.workers),
        '--generation-database', 'none',
        '--request-timeout', '60',
        '--report', 'ndjson', '--report-ndjson-path', report,
        '--output-sanitize', 'false',
        '--no-color']
    for _, _, operation_id in operations:
        cmd += ['--include-operation-id', operation_id]
    # The token is not a --header: fuzz_hooks.DrillToken sets it
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [str(HERE)] + ([env['PYTHONPATH']] if env.get('PYTHONPATH') else []))
    env['SCHEMATHESIS_HOOKS'] = 'fuzz_hooks'
    env['FUZZ_DRILL_STATE'] = state
    # The CLI is as wide as it likes, not as the terminal of CI
    env.setdefault('COLUMNS', '120')
    completed = subprocess.run(cmd, env=env, cwd=workdir,
        stdin=subprocess.DEVNULL, capture_output=True, text=True)
    output = completed.stdout + completed.stderr
    with open(os.path.join(workdir, 'output-%s.txt' % name), 'w') as fp:
        fp.write(output)
    return report, operations, completed.returncode, output


def _decode(content):
    if isinstance(content, dict) and '$base64' in content:
        return base64.b64decode(content['$base64'])
    if isinstance(content, str):
        return content.encode()
    return b''


def _short(data, limit=600):
    text = data.decode('utf-8', 'replace') if isinstance(data, bytes) \
        else str(data)
    return text if len(text) <= limit else text[:limit] + '... (%s chars)' % (
        len(text))


class Tally:
    "What the reports say, per operation"

    def __init__(self):
        self.requests = collections.Counter()
        self.statuses = collections.defaultdict(collections.Counter)
        self.failed_cases = collections.defaultdict(set)
        self.informational = collections.defaultdict(set)
        self.failures = collections.OrderedDict()
        self.errors = []

    def read(self, run, report):
        if not report or not os.path.exists(report):
            self.errors.append((run, None, "no report written"))
            return
        with open(report) as fp:
            for line in fp:
                line = line.strip()
                if not line:
                    continue
                event = json.loads(line)
                (kind, data), = event.items()
                if kind == 'ScenarioFinished':
                    self.scenario(run, data)
                elif kind in {'NonFatalError', 'FatalError', 'Interrupted'}:
                    self.errors.append((run, data.get('label'),
                            _short(json.dumps(data.get('value')
                                    or data.get('exception') or data,
                                    ensure_ascii=False), 2000)))

    def scenario(self, run, data):
        recorder = data['recorder']
        label = recorder['label']
        for case_id, interaction in recorder.get('interactions',
                {}).items():
            key = (run, label)
            self.requests[key] += 1
            response = interaction.get('response')
            status = response['status_code'] if response else 'none'
            self.statuses[key][status] += 1
        for case_id, checks in recorder.get('checks', {}).items():
            for check in checks:
                if check['status'] == 'success':
                    continue
                key = (run, label)
                if check['name'] in CHECKS:
                    self.failed_cases[key].add(case_id)
                else:
                    self.informational[key].add(case_id)
                failure = (check.get('failure_info') or {}).get(
                    'failure') or {}
                message = failure.get('message') or ''
                title = failure.get('title') or check['name']
                # One entry per operation, check and first line of the
                # message (the same bug hit by many cases)
                first = message.strip().split('\n')[0][:200]
                signature = (run, label, check['name'], title, first)
                entry = self.failures.setdefault(signature, {
                        'count': 0, 'case': recorder['cases'].get(
                            case_id, {}).get('value'),
                        'interaction': recorder.get('interactions',
                            {}).get(case_id),
                        'message': message, 'phase': data.get('phase'),
                        })
                entry['count'] += 1


def describe(signature, entry, token_names):
    run, label, check, title, _ = signature
    lines = ['[%s] %s: %s (%s), %s case(s), phase %s' % (
            run, label, title, check, entry['count'], entry['phase'])]
    interaction = entry['interaction'] or {}
    request = interaction.get('request') or {}
    response = interaction.get('response')
    if request:
        headers = {k: v for k, v in (request.get('headers') or {}).items()
            if k.lower() not in {'user-agent', 'accept-encoding', 'accept',
                'connection', 'content-length',
                'x-schemathesis-testcaseid'}}
        for k, v in list(headers.items()):
            if k.lower() == 'authorization':
                value = v[0] if isinstance(v, list) else v
                headers[k] = token_names.get(value, 'Bearer <other token>')
        lines.append('  request:  %s %s' % (request.get('method'),
                request.get('uri')))
        lines.append('            headers %s' % json.dumps(headers,
                ensure_ascii=False))
        body = _decode(request.get('body'))
        if body:
            lines.append('            body %s' % _short(body))
    if response:
        lines.append('  response: %s %s' % (response.get('status_code'),
                _short(_decode(response.get('content')))))
    message = entry['message'].strip()
    if message:
        lines.append('  why:      ' + _short(message, 1500).replace(
                '\n', '\n            '))
    return '\n'.join(lines)


def server_errors(log):
    "The tracebacks of the server log and its requests answered 5xx"
    tracebacks = []
    current = None
    for line in log.splitlines():
        if line.startswith('Traceback (most recent call last)'):
            current = [line]
            tracebacks.append(current)
        elif current is not None:
            # Indented lines are frames; the first other one is the
            # exception, which ends it
            current.append(line)
            if not line.startswith((' ', '\t')):
                current = None
    answered_5xx = [line for line in log.splitlines()
        if re.search(r'HTTP/1\.[01](\x1b\[0m)?" 5\d\d ', line)]
    return ['\n'.join(t) for t in tracebacks], answered_5xx


def main():
    args = parse_args()
    command = schemathesis_command()
    if command is None:
        print("schemathesis is not installed: "
            ".venv/bin/pip install schemathesis", file=sys.stderr)
        return 2
    from trytond.modules.instrument_service_api.tests.server import APIServer

    workdir = tempfile.mkdtemp(prefix='fuzz-drill-')
    server = APIServer(engineers=3)
    started = time.monotonic()
    lost = []
    print("fuzz: schemathesis %s, backend %s, %s cases per operation, "
        "seed %s, phases %s, %s worker(s)" % (schemathesis_version(),
            server.backend, args.max_examples, args.seed, args.phases,
            args.workers), flush=True)
    try:
        server.start()
        print("fuzz: server up in %.1f s" % (time.monotonic() - started),
            flush=True)
        t = time.monotonic()
        records = seed(server)
        print("fuzz: seeded in %.1f s: %s orders, %s files, %s "
            "notifications" % (time.monotonic() - t,
                len(records['ids']['order_id']),
                len(records['ids']['file_id']),
                len(records['ids']['notification_id'])), flush=True)
        status, document = server.call('GET', '/openapi.json')
        if status != 200:
            raise RuntimeError("GET /openapi.json answered %s" % status)
        tokens = records['tokens']
        token_names = {'Bearer %s' % v: 'Bearer <%s token>' % k
            for k, v in tokens.items()}
        tally = Tally()
        selected = {}
        timings = {}
        for name, callers in RUNS:
            if name not in args.only:
                continue
            t = time.monotonic()
            report, operations, code, output = run_schemathesis(
                command, server, document, name, callers, tokens.get(name),
                records, args, workdir)
            timings[name] = time.monotonic() - t
            for method, path, _ in operations:
                selected[(name, '%s %s' % (method, path))] = True
            if not operations:
                continue
            tally.read(name, report)
            print("fuzz: %s run: %s operations in %.1f s, schemathesis "
                "exit %s" % (name, len(operations), timings[name], code),
                flush=True)
            if code not in {0, 1}:
                # 1 is "failures found", which the tally counts; anything
                # else is schemathesis itself failing
                lost.append("the %s run of schemathesis exited %s" % (
                        name, code))
                print(output[-4000:])
        log = server.server_log()
    finally:
        if args.report_dir:
            os.makedirs(args.report_dir, exist_ok=True)
            for entry in os.listdir(workdir):
                if os.path.isfile(os.path.join(workdir, entry)):
                    shutil.copy(os.path.join(workdir, entry),
                        args.report_dir)
            try:
                shutil.copy(server.log_path, os.path.join(
                        args.report_dir, 'server.log'))
            except OSError:
                pass
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    # ---- the table -------------------------------------------------------
    print()
    print('%-9s %-48s %8s %6s %6s %6s %7s' % ('run', 'operation', 'requests',
            '2xx', '4xx', '5xx', 'failed'))
    totals = collections.Counter()
    for key in sorted(selected):
        run, label = key
        statuses = tally.statuses.get(key, {})
        by_class = collections.Counter()
        for status, count in statuses.items():
            by_class['none' if status == 'none'
                else '%sxx' % (int(status) // 100)] += count
        requests = tally.requests.get(key, 0)
        failed = len(tally.failed_cases.get(key, ()))
        print('%-9s %-48s %8s %6s %6s %6s %7s' % (run, label[:48], requests,
                by_class['2xx'], by_class['4xx'], by_class['5xx'], failed))
        totals['operations'] += 1
        totals['requests'] += requests
        totals['failed'] += failed
        for cls in ['2xx', '3xx', '4xx', '5xx', 'none']:
            totals[cls] += by_class[cls]
        if not requests:
            lost.append("%s %s was never tested" % (run, label))
        if by_class['none']:
            lost.append("%s %s: %s request(s) got no answer" % (
                    run, label, by_class['none']))
    tracebacks, answered_5xx = server_errors(log)
    print('%-9s %-48s %8s %6s %6s %6s %7s' % ('total', '%s operations' %
            totals['operations'], totals['requests'], totals['2xx'],
            totals['4xx'], totals['5xx'], totals['failed']))
    print()
    if totals['5xx']:
        lost.append("%s response(s) 5xx" % totals['5xx'])
    counted = collections.OrderedDict((k, v) for k, v in
        tally.failures.items() if k[2] in CHECKS)
    extra = collections.OrderedDict((k, v) for k, v in
        tally.failures.items() if k[2] not in CHECKS)
    if counted:
        lost.append("%s failing case(s), %s distinct failure(s)" % (
                totals['failed'], len(counted)))
    for run, label, message in tally.errors:
        lost.append("%s run: schemathesis error%s: %s" % (
                run, ' on %s' % label if label else '', message))
    if tracebacks:
        lost.append("%s traceback(s) in the server log" % len(tracebacks))

    for title, failures in [
            ("Failures", counted),
            ("Informational (--extra-checks, not counted)", extra)]:
        if not failures:
            continue
        print("%s, one per operation, check and message (%s distinct):" % (
                title, len(failures)))
        for i, (signature, entry) in enumerate(failures.items()):
            if i >= args.show:
                print("... and %s more (--show)" % (
                        len(failures) - args.show))
                break
            print(describe(signature, entry, token_names))
            print()
    if tracebacks:
        print("Tracebacks of the server log (%s, %s request(s) answered "
            "5xx):" % (len(tracebacks), len(answered_5xx)))
        seen = set()
        for traceback in tracebacks:
            last = traceback.strip().splitlines()[-1]
            if last in seen:
                continue
            seen.add(last)
            print(_short(traceback, 3000))
            print()
    elapsed = time.monotonic() - started
    print("fuzz: %s operation runs, %s requests, %s failing cases, %s 5xx, "
        "%s traceback(s) in %.0f s (%s)" % (totals['operations'],
            totals['requests'], totals['failed'], totals['5xx'],
            len(tracebacks), elapsed, ', '.join('%s %.0f s' % item
                for item in timings.items())))
    if lost:
        print("fuzz: FAILED")
        for item in lost:
            print("  - " + item)
        return 1
    print("fuzz: OK")
    return 0


if __name__ == '__main__':
    sys.exit(main())
