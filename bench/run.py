#!/usr/bin/env python3
"""The whole benchmark: API against JSON-RPC and the floor, writes, the
accept race, the mixed 16-client load, worker settings, growth with the
database size and the query plans; or the soak.

    .venv/bin/python bench/run.py --orders 10000 --orders 100000
    .venv/bin/python bench/run.py --db bench_10k --db bench_100k
    .venv/bin/python bench/run.py --db bench_10k --soak      # 10 minutes

--orders generates the database of that size with bench/generate.py when
it is missing (make bench does both, see bench/README.md).

Per database it starts, from the repository root and with
config/gunicorn.conf.py, the API server (trytond.application:app, which
also answers the JSON-RPC baseline) and the floor server (bench/floor.py,
same settings), then measures each read scenario on the three targets in
rounds whose target order rotates, so that the noise of a shared machine
falls on all three alike; every API figure is printed as a ratio to the
other two measured in the same run. Then the writes and the race, the mixed
load, and (first database only) the mixed load under other worker settings.
The SQL and query plans come from bench/plans.py. Everything is written to
bench/results/<date>-<host>.json and summarised in bench/RESULTS.md.

The soak runs the mixed load for --soak-minutes with max_requests off,
samples the resident memory of the gunicorn master and workers every 10 s
and exits 1 when a request failed or memory grew by 10 % or more from the
end of the warm-up (1 minute) to the end.
"""
import argparse
import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402
from common import (  # noqa: E402
    BENCH, DSN, VENV_BIN, Server, cpu_seconds, load_data, machine, machine_cpu,
    rss_kb)

RESULTS = BENCH / 'results'
DEFAULT_SETTINGS = ('gthread', 2, 4)
# Compared under the mixed load on the first database
OTHER_SETTINGS = [('sync', 3, 1), ('gthread', 3, 2), ('gthread', 2, 8)]
FLOOR_LIMIT, RPC_LIMIT, GROWTH_LIMIT, SOAK_GROWTH = 3.0, 1.0, 1.3, 0.10


class LoadMeter:
    "The machine's CPU use between start and stop, as a share of all cores"

    def __init__(self):
        self.start = machine_cpu()

    def share(self):
        busy, total = machine_cpu()
        return round((busy - self.start[0]) / max(1, total - self.start[1]),
            3)


def server_cpu(server):
    "CPU seconds of a gunicorn master and its workers so far"
    return sum(cpu_seconds(p) for p in [server.process.pid]
        + server.workers())


def measure(ctx, urls, jobs, duration, warmup, servers=(), seed=0):
    """load.run with the CPU the driver and the servers used, as shares of
    the machine"""
    before = {s: server_cpu(s) for s in servers}
    result = load.run(ctx, urls, jobs, duration, warmup, seed)
    wall = (duration + warmup) * os.cpu_count()
    result['driver_cpu_share'] = round(result['driver_cpu_s'] / wall, 3)
    result['server_cpu_share'] = {s.app: round(
            (server_cpu(s) - before[s]) / wall, 3) for s in servers}
    return result


def compare_reads(ctx, urls, servers, options):
    """Each read scenario on api, rpc and floor, options.rounds times, the
    target order rotating; the samples of the rounds pooled"""
    pooled = {}
    driver = []
    for round_ in range(options.rounds):
        for i, scenario in enumerate(load.READS):
            shift = (round_ + i) % len(load.TARGETS)
            for target in load.TARGETS[shift:] + load.TARGETS[:shift]:
                result = measure(ctx, urls,
                    [(scenario, target)] * options.concurrency,
                    options.duration, options.warmup, servers,
                    seed=round_)
                driver.append(result['driver_cpu_share'])
                pool_round(pooled, (scenario, target), result, round_)
    table = {}
    for scenario in load.READS:
        row = table[scenario] = {}
        for target in load.TARGETS:
            row[target] = load.summarise(
                pooled[(scenario, target)])[scenario]
        api = row['api']
        for target in ('rpc', 'floor'):
            base = row[target]
            row[f'vs_{target}'] = {
                'p50': ratio(api['p50'], base['p50']),
                'p95': ratio(api['p95'], base['p95']),
                'rps': ratio(api['rps'], base['rps'])}
    return table, max(driver)


def pool_round(pooled, key, result, round_):
    "Add the samples of one round's measurement to those of key"
    entry = pooled.setdefault(key, {
            'samples': [], 'failures': [], 'duration': 0})
    entry['samples'] += result['samples']
    entry['failures'] += result['failures']
    entry['duration'] += result['duration']
    print(f"  round {round_ + 1} {key[0]:<16} {key[1]:<12} "
        f"{len(result['samples']) / result['duration']:7.1f} req/s",
        flush=True)


def ratio(a, b):
    return round(a / b, 2) if b else None


def mixed(ctx, urls, servers, duration, warmup):
    return pooled_mixed([measure(ctx, urls, load.mixed_jobs(), duration,
                warmup, servers, seed=7)])


def pooled_mixed(results):
    "The figures of one or more runs of the mixed load, samples pooled"
    pooled = {'samples': [s for r in results for s in r['samples']],
        'failures': [f for r in results for f in r['failures']],
        'duration': sum(r['duration'] for r in results)}
    stats = load.summarise(pooled)
    return {'stats': stats,
        'rps': round(len(pooled['samples']) / pooled['duration'], 1),
        'errors': sum(s['errors'] for s in stats.values()),
        'races': load.race_outcome([race for r in results
                for race in r['races']]),
        'driver_cpu_share': max(r['driver_cpu_share'] for r in results),
        'server_cpu_share': {app: max(r['server_cpu_share'][app]
                for r in results) for app in results[0]['server_cpu_share']}}


def memory(server):
    "Resident memory of the master and of each worker, KiB"
    return {'master': rss_kb(server.process.pid),
        'workers': [rss_kb(p) for p in server.workers()]}


def compare_settings(db, ctx, floor, options):
    """The mixed load under the default and other worker settings, in
    options.settings_rounds rounds whose order rotates (a shared machine's
    noise then falls on each setting alike); the samples pooled"""
    settings = [DEFAULT_SETTINGS] + OTHER_SETTINGS
    runs, memories = {}, {}
    for round_ in range(options.settings_rounds):
        shift = round_ % len(settings)
        for worker_class, workers, threads in (settings[shift:]
                + settings[:shift]):
            with Server(db, 'api', workers, threads, worker_class) as api:
                urls = {'api': api.url, 'rpc': api.url, 'floor': floor.url}
                result = measure(ctx, urls, load.mixed_jobs(),
                    options.settings_duration, options.warmup, [api],
                    seed=round_)
                memories[api.label] = memory(api)
                runs.setdefault(api.label, []).append(result)
                print(f"  round {round_ + 1} {api.label:<14} "
                    f"{len(result['samples']) / result['duration']:7.1f} "
                    "req/s", flush=True)
    results = {}
    for label, measured in runs.items():
        results[label] = pooled_mixed(measured)
        results[label]['memory_kb'] = memories[label]
    return results


def settings_only(options):
    """Only the worker settings, on the first database, written to
    <date>-<host>-settings.json (the summary prefers it to the run's)"""
    db = options.db[0]
    ctx = load.plan(load_data(db))
    meter = LoadMeter()
    with Server(db, 'floor') as floor:
        results = compare_settings(db, ctx, floor, options)
    output = {'db': db, 'rounds': options.settings_rounds,
        'duration': options.settings_duration, 'machine': machine(),
        'machine_cpu_share': meter.share(), 'loadavg_end': os.getloadavg(),
        'settings': results}
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / (f"{dt.date.today()}-{output['machine']['host']}"
        '-settings.json')
    path.write_text(json.dumps(output, indent=1, ensure_ascii=False))
    write_summary()
    print(path)
    return 0


def plans(db):
    "bench/plans.py in its own process (it runs trytond in-process)"
    with tempfile.NamedTemporaryFile(suffix='.json') as file:
        subprocess.run([str(VENV_BIN / 'python'), str(BENCH / 'plans.py'),
                '--db', db, '--json', file.name], check=True,
            stdout=subprocess.DEVNULL, cwd=BENCH.parent)
        return json.loads(Path(file.name).read_text())


def bench_database(db, first, options):
    print(f'== {db}', flush=True)
    data = load_data(db)
    ctx = load.plan(data)
    result = {'orders': order_count(db),
        'counts': data['counts'],
        'writers': {'order_type': ctx['order_type'],
            'address': ctx['address'],
            'writer_engineers': len(ctx['writer_engineers']),
            'excluded_engineers': ctx['excluded_engineers'],
            'reader_engineers': len(ctx['engineers']),
            'reader_customers': len(ctx['customers']),
            'writer_customers': len(ctx['writer_customers'])}}
    with Server(db, 'api', *DEFAULT_SETTINGS[1:], DEFAULT_SETTINGS[0]) \
            as api, Server(db, 'floor', *DEFAULT_SETTINGS[1:],
                DEFAULT_SETTINGS[0]) as floor:
        urls = {'api': api.url, 'rpc': api.url, 'floor': floor.url}
        load.rpc_sessions(ctx, api.url)
        print('warm-up', flush=True)
        for scenario in load.READS:
            for target in load.TARGETS:
                load.run(ctx, urls, [(scenario, target)] * 2, 1, 0)
        print('reads: api, rpc, floor', flush=True)
        result['reads'], result['driver_cpu_share_max'] = compare_reads(
            ctx, urls, [api, floor], options)
        print('writes and the accept race', flush=True)
        writes = measure(ctx, urls, [('write', 'race')] * 2,
            options.duration * 2, options.warmup, [api])
        result['writes'] = load.summarise(writes, load.WRITE_LABELS)
        result['race'] = load.race_outcome(writes['races'])
        print('mixed load, 16 clients', flush=True)
        result['mixed'] = mixed(ctx, urls, [api], options.mixed_duration,
            options.warmup)
        result['mixed']['memory_kb'] = memory(api)
        result['mixed']['settings'] = api.label
        if first and options.settings_duration:
            print('worker settings (mixed load)', flush=True)
            api.stop()
            result['settings'] = compare_settings(db, ctx, floor, options)
    print('query plans', flush=True)
    result['plans'] = plans(db)
    return result


def order_count(db):
    """Orders in the database now: the writes of earlier runs add to the
    generated ones"""
    import psycopg
    with psycopg.connect(DSN, dbname=db) as connection:
        return connection.execute(
            'SELECT COUNT(*) FROM instrument_service_order').fetchone()[0]


def targets(run):
    "Every target with its measured value and PASS/MISS"
    rows = []
    dbs = list(run['databases'])
    for db in dbs:
        for scenario, row in run['databases'][db]['reads'].items():
            for base, limit in (('rpc', RPC_LIMIT), ('floor', FLOOR_LIMIT)):
                r = row[f'vs_{base}']
                worst = max(r['p50'], r['p95'])
                rows.append({'target': f'{scenario} vs {base} '
                        f'(p50, p95 ratio <= {limit})', 'db': db,
                    'value': f"{r['p50']} / {r['p95']}",
                    'pass': worst <= limit})
        mixed_ = run['databases'][db]['mixed']
        rows.append({'target': 'no errors, 16-client mixed load', 'db': db,
            'value': f"{mixed_['errors']} errors of "
            f"{sum(s['n'] for s in mixed_['stats'].values())}",
            'pass': mixed_['errors'] == 0})
        race = run['databases'][db]['race']
        rows.append({'target': 'accept race: exactly one winner', 'db': db,
            'value': f"{race['exactly_one_winner']}/{race['races']} races",
            'pass': race['races'] > 0
            and race['exactly_one_winner'] == race['races']})
    for scenario, row in run.get('growth', {}).items():
        rows.append({'target': f'{scenario} p95 growth <= {GROWTH_LIMIT}',
            'db': ' → '.join(dbs), 'value': row['ratio'],
            'pass': row['ratio'] is not None
            and row['ratio'] <= GROWTH_LIMIT})
    return rows


def growth(dbs, options):
    """The API's read scenarios on every database in the same rounds, the
    order of the databases rotating, all servers up: the growth is a ratio
    measured side by side like the others, not two runs minutes apart"""
    ctxs = {db: load.plan(load_data(db)) for db in dbs}
    pooled = {}
    with contextlib.ExitStack() as stack:
        servers = {db: stack.enter_context(Server(db, 'api',
                    *DEFAULT_SETTINGS[1:], DEFAULT_SETTINGS[0]))
            for db in dbs}
        for db in dbs:
            for scenario in load.READS:
                load.run(ctxs[db], {'api': servers[db].url},
                    [(scenario, 'api')] * 2, 1, 0)
        for round_ in range(options.rounds):
            for i, scenario in enumerate(load.READS):
                shift = (round_ + i) % len(dbs)
                for db in dbs[shift:] + dbs[:shift]:
                    result = measure(ctxs[db], {'api': servers[db].url},
                        [(scenario, 'api')] * options.concurrency,
                        options.duration, options.warmup, [servers[db]],
                        seed=round_)
                    pool_round(pooled, (scenario, db), result, round_)
    table = {}
    for scenario in load.READS:
        stats = {db: load.summarise(pooled[(scenario, db)])[scenario]
            for db in dbs}
        first, last = stats[dbs[0]], stats[dbs[-1]]
        table[scenario] = {
            'p50': {db: stats[db]['p50'] for db in dbs},
            'p95': {db: stats[db]['p95'] for db in dbs},
            'errors': sum(stats[db]['errors'] for db in dbs),
            'ratio_p50': ratio(last['p50'], first['p50']),
            'ratio': ratio(last['p95'], first['p95'])}
    return table


def soak(options):
    db = options.db[0]
    ctx = load.plan(load_data(db))
    minutes = options.soak_minutes
    warmup = min(60.0, minutes * 60 / 5)
    samples = []
    with Server(db, 'api', *DEFAULT_SETTINGS[1:], DEFAULT_SETTINGS[0],
            max_requests=0) as api, Server(db, 'floor') as floor:
        urls = {'api': api.url, 'rpc': api.url, 'floor': floor.url}
        done = threading.Event()
        started = time.time()

        def sample():
            while not done.is_set():
                m = memory(api)
                samples.append({'t': round(time.time() - started, 1),
                        'master': m['master'], 'workers': m['workers'],
                        'total': m['master'] + sum(m['workers'])})
                done.wait(10)
        thread = threading.Thread(target=sample)
        thread.start()
        meter = LoadMeter()
        print(f'soak: {db}, 16 clients, {minutes} min (+{warmup:.0f} s '
            'warm-up), max_requests off', flush=True)
        try:
            outcome = mixed(ctx, urls, [api], minutes * 60, warmup)
        finally:
            done.set()
            thread.join()
        pids = api.workers()
    after_warmup = next(s for s in samples if s['t'] >= warmup + 0.5)
    end = samples[-1]
    grow = (end['total'] - after_warmup['total']) / after_warmup['total']
    result = {'db': db, 'minutes': minutes, 'warmup_s': warmup,
        'started': dt.datetime.fromtimestamp(started, dt.timezone.utc)
        .isoformat(timespec='seconds'),
        'machine': machine(), 'machine_cpu_share': meter.share(),
        'loadavg_end': os.getloadavg(), 'worker_pids': pids,
        'rss_after_warmup_kb': after_warmup, 'rss_end_kb': end,
        'growth': round(grow, 4), 'samples': samples, **outcome}
    result['pass'] = outcome['errors'] == 0 and grow < SOAK_GROWTH
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{dt.date.today()}-{result['machine']['host']}-soak.json"
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(f"errors {outcome['errors']}, {outcome['rps']} req/s, memory "
        f"{after_warmup['total'] / 1024:.0f} MiB after warm-up → "
        f"{end['total'] / 1024:.0f} MiB at the end ({grow:+.1%}); "
        f"{'PASS' if result['pass'] else 'FAIL'}; {path}")
    write_summary()
    return 0 if result['pass'] else 1


# ---- the summary -----------------------------------------------------------

def write_summary():
    "bench/RESULTS.md from the newest run and soak files"
    # Newest by the time each run started (a fresh clone's files all have
    # the same modification time)
    runs = sorted(((json.loads(p.read_text()), p.name)
            for p in RESULTS.glob('*.json')),
        key=lambda r: r[0].get('started') or r[1][:10])

    def newest(kind):
        return next((r for r, name in reversed(runs)
                if (name.endswith(f'-{kind}.json') if kind
                    else not name.endswith(('-soak.json',
                            '-settings.json')))), None)
    run, soak_, settings = newest(None), newest('soak'), newest('settings')
    lines = ['# Benchmark results', '',
        'Written by `bench/run.py` (see `bench/README.md`); every figure is '
        'in the JSON file named below. Latencies in ms, nearest-rank '
        'percentiles; ratios are API ÷ baseline measured side by side in '
        'the same run (for requests/s, above 1 is better for the API).', '']
    if run:
        m = run['machine']
        driver_share = max(d['driver_cpu_share_max']
            for d in run['databases'].values())
        lines += [f"Run of {run['started']} ({run['file']}), "
            f"{run['elapsed_s'] / 60:.0f} min.", '',
            f"Machine: {m['host']}, {m['cores']} cores ({m['cpu']}), "
            f"{m['memory_gb']} GB, Linux {m['kernel']}, PostgreSQL "
            f"{m['postgresql']}, Python {m['python']}, trytond "
            f"{m['trytond']}, gunicorn {m['gunicorn']}. Load: load average "
            f"{m['loadavg_start'][0]:.2f} at the start, "
            f"{run['loadavg_end'][0]:.2f} at the end; the machine's CPU was "
            f"{run['machine_cpu_share']:.0%} busy over the run (this "
            "benchmark included; other jobs share the machine). Driver: "
            f"at most {driver_share:.0%} "
            "of the machine's CPU in a read measurement.", '',
            f"Settings: {run['options']['concurrency']} clients per read "
            f"scenario, {run['options']['rounds']} rounds of "
            f"{run['options']['duration']:g} s per target (after "
            f"{run['options']['warmup']:g} s warm-up), server "
            f"`{DEFAULT_SETTINGS[0]} {DEFAULT_SETTINGS[1]}x"
            f"{DEFAULT_SETTINGS[2]}`.", '', '## Targets', '',
            '| target | database | measured | |', '|---|---|---|---|']
        lines += [f"| {t['target']} | {t['db']} | {t['value']} | "
            f"{'PASS' if t['pass'] else '**MISS**'} |" for t in run['targets']]
        if soak_:
            lines.append(f"| soak {soak_['minutes']} min: 0 errors, memory "
                f"growth < 10 % | {soak_['db']} | {soak_['errors']} errors, "
                f"{soak_['growth']:+.1%} | "
                f"{'PASS' if soak_['pass'] else '**MISS**'} |")
        for db, d in run['databases'].items():
            lines += ['', f"## {db} ({d['orders']:,} orders)", '',
                '| scenario | API rps | p50 | p95 | p99 | RPC rps | p50 | '
                'p95 | floor rps | p50 | p95 | API÷RPC p50 / p95 / rps | '
                'API÷floor p50 / p95 / rps | errors |',
                '|---' * 14 + '|']
            for scenario, row in d['reads'].items():
                a, r, f = row['api'], row['rpc'], row['floor']
                vr, vf = row['vs_rpc'], row['vs_floor']
                lines.append(f"| {scenario} | {a['rps']} | {a['p50']} | "
                    f"{a['p95']} | {a['p99']} | {r['rps']} | {r['p50']} | "
                    f"{r['p95']} | {f['rps']} | {f['p50']} | {f['p95']} | "
                    f"{vr['p50']} / {vr['p95']} / {vr['rps']} | "
                    f"{vf['p50']} / {vf['p95']} / {vf['rps']} | "
                    f"{a['errors']}/{r['errors']}/{f['errors']} |")
            failed = [f"{scenario} {target}: " + '; '.join(
                    f'`{e}`' for e in row[target]['error_examples'])
                for scenario, row in d['reads'].items()
                for target in load.TARGETS
                if row[target].get('error_examples')]
            if failed:
                lines += ['', 'Errors (api/rpc/floor) seen: '
                    + ' — '.join(failed)]
            lines += ['', 'Writes (2 clients, each order raced by every '
                'offered engineer):', '',
                '| operation | n | rps | p50 | p95 | p99 | errors |',
                '|---|---|---|---|---|---|---|']
            for label, s in d['writes'].items():
                lines.append(f"| {label} | {s['n']} | {s['rps']} | "
                    f"{s['p50']} | {s['p95']} | {s['p99']} | "
                    f"{s['errors']} |")
            race = d['race']
            lines += ['', f"Accept race: {race['races']} races of "
                f"{race['engineers_per_race']} engineers: exactly one 200 in "
                f"{race['exactly_one_winner']}, none in {race['no_winner']}, "
                f"several in {race['several_winners']}; "
                f"{race['already_taken']} × 409 already_taken, other "
                f"statuses {race['other_statuses'] or 'none'}.", '']
            mx = d['mixed']
            lines += [f"Mixed load, 16 clients ({mx['settings']}): "
                f"{mx['rps']} req/s, {mx['errors']} errors, driver "
                f"{mx['driver_cpu_share']:.0%} and server "
                f"{mx['server_cpu_share'].get('api', 0):.0%} of the CPU; "
                f"memory {mem(mx['memory_kb'])}.", '',
                '| operation | n | rps | p50 | p95 | p99 | errors |',
                '|---|---|---|---|---|---|---|']
            for label, s in sorted(mx['stats'].items()):
                lines.append(f"| {label} | {s['n']} | {s['rps']} | "
                    f"{s['p50']} | {s['p95']} | {s['p99']} | "
                    f"{s['errors']} |")
            if d.get('settings'):
                lines += ['', 'Worker settings under the mixed load, '
                    f"{run['options']['settings_rounds']} round(s) of "
                    f"{run['options']['settings_duration']:g} s each:", '']
                lines += settings_table(d['settings'])
        if run.get('growth'):
            dbs = list(run['databases'])
            lines += ['', '## Growth (API p50 / p95, ms)', '',
                'The read scenarios again, on every database in the same '
                'rounds (all servers up, the order of the databases '
                'rotating); the ratio is the last database over the '
                'first. Statements per request, from the query plans: '
                + ', '.join(f"{scenario} "
                    + ' / '.join(str(len(run['databases'][db]['plans'][
                                'scenarios'][scenario]['statements']))
                        for db in dbs)
                    for scenario in run['growth']) + '.', '',
                '| scenario | ' + ' | '.join(dbs)
                + ' | ratio p50 / p95 | errors |',
                '|---' * (len(dbs) + 3) + '|']
            for scenario, row in run['growth'].items():
                lines.append(f"| {scenario} | " + ' | '.join(
                        f"{row['p50'][db]} / {row['p95'][db]}"
                        for db in dbs)
                    + f" | {row['ratio_p50']} / {row['ratio']} | "
                    f"{row['errors']} |")
        if settings:
            lines += ['', f"## Worker settings ({settings['db']}, mixed "
                f"load, {settings['rounds']} rounds of "
                f"{settings['duration']:g} s per setting, order rotating)",
                '', f"Machine CPU {settings['machine_cpu_share']:.0%} busy, "
                f"load average {settings['machine']['loadavg_start'][0]:.2f}"
                f" → {settings['loadavg_end'][0]:.2f}.", '']
            lines += settings_table(settings['settings'])
        last = list(run['databases'])[-1]
        p = run['databases'][last]['plans']
        lines += ['', f"## Query plans ({last})", '',
            'Statements of one request of each read scenario (median of 5, '
            'server alone, in-process):', '',
            '| scenario | ms | statements | ms in SQL |', '|---|---|---|---|']
        for scenario, s in p['scenarios'].items():
            lines.append(f"| {scenario} | {s['ms']:.1f} | "
                f"{len(s['statements'])} | {s['sql_ms']:.1f} |")
        lines += ['', f"The slowest, {p['slowest']}: EXPLAIN ANALYZE of its "
            'statements with the longest execution:', '']
        for plan_ in p['plans']:
            lines += ['```', plan_['query'][:600], f"-- {plan_['params']}"[
                    :300], plan_['plan'], '```', '']
    if soak_:
        first_, end = soak_['rss_after_warmup_kb'], soak_['rss_end_kb']
        lines += ['', f"## Soak ({soak_['db']}, {soak_['minutes']} min)", '',
            f"16-client mixed load, max_requests off: {soak_['rps']} req/s, "
            f"{soak_['errors']} errors, races {soak_['races']['races']}. "
            f"Resident memory (master + workers) {first_['total'] / 1024:.0f}"
            f" MiB after the {soak_['warmup_s']:.0f} s warm-up, "
            f"{end['total'] / 1024:.0f} MiB at the end: "
            f"{soak_['growth']:+.1%} (workers {first_['workers']} → "
            f"{end['workers']} KiB). Machine CPU "
            f"{soak_['machine_cpu_share']:.0%} busy. "
            f"{'PASS' if soak_['pass'] else 'FAIL'}."]
    (BENCH / 'RESULTS.md').write_text('\n'.join(lines) + '\n')


def settings_table(settings):
    "Markdown rows of the mixed load under each worker setting"
    lines = ['| settings | req/s | errors | p95 customer_orders | '
        'p95 order_detail | p95 engineer_tasks | p95 step_submit | '
        'memory |', '|---|---|---|---|---|---|---|---|']
    for label, s in settings.items():
        st = s['stats']
        lines.append(f"| {label} | {s['rps']} | {s['errors']} | "
            + ' | '.join(str(st.get(k, {}).get('p95')) for k in (
                    'customer_orders', 'order_detail', 'engineer_tasks',
                    'step_submit'))
            + f" | {mem(s['memory_kb'])} |")
    return lines


def mem(kb):
    return (f"master {kb['master'] / 1024:.0f} MiB, workers "
        + ', '.join(f'{w / 1024:.0f}' for w in kb['workers']) + ' MiB')


def database_name(orders):
    "bench_10k, bench_100k, bench_1m...: the database of a size"
    for unit, suffix in [(1_000_000, 'm'), (1000, 'k')]:
        if orders >= unit and orders % unit == 0:
            return f'bench_{orders // unit}{suffix}'
    return f'bench_{orders}'


def generated(db):
    "Whether bench/generate.py made db (the database and its JSON file)"
    import psycopg
    with psycopg.connect(DSN, dbname='postgres') as connection:
        exists = connection.execute('SELECT 1 FROM pg_database WHERE '
            'datname = %s', (db,)).fetchone()
    return bool(exists) and (BENCH.parent / 'data' / 'db'
        / f'{db}.bench.json').exists()


def generate(sizes):
    """The databases of the sizes (orders), generated by bench/generate.py
    when missing (or half made)"""
    names = []
    for orders in sizes:
        db = database_name(orders)
        if not generated(db):
            print(f'== generating {db} ({orders:,} orders)', flush=True)
            subprocess.run([str(VENV_BIN / 'python'),
                    str(BENCH / 'generate.py'), '--db', db, '--orders',
                    str(orders), '--drop'], check=True, cwd=BENCH.parent)
        names.append(db)
    return names


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--db', action='append', default=[],
        help="a database made by bench/generate.py; repeat for growth")
    parser.add_argument('--orders', action='append', type=int, default=[],
        help="the database of this size (bench_10k for 10000...), "
        "generated first when missing; repeat for growth")
    parser.add_argument('--duration', type=float, default=6,
        help="seconds measured per scenario, target and round")
    parser.add_argument('--warmup', type=float, default=1.5)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--concurrency', type=int, default=4,
        help="clients per read scenario measurement")
    parser.add_argument('--mixed-duration', type=float, default=30)
    parser.add_argument('--settings-duration', type=float, default=25,
        help="seconds of mixed load per worker setting (0: skip)")
    parser.add_argument('--settings-rounds', type=int, default=1)
    parser.add_argument('--settings-only', action='store_true',
        help="compare the worker settings only")
    parser.add_argument('--soak', action='store_true')
    parser.add_argument('--soak-minutes', type=float, default=10)
    options = parser.parse_args(argv)
    options.db += generate(options.orders)
    if not options.db:
        parser.error('give --db or --orders')
    if options.soak:
        return soak(options)
    if options.settings_only:
        return settings_only(options)
    started = time.time()
    meter = LoadMeter()
    run = {'started': dt.datetime.now(dt.timezone.utc).isoformat(
            timespec='seconds'),
        'machine': machine(), 'options': vars(options), 'databases': {}}
    for i, db in enumerate(options.db):
        run['databases'][db] = bench_database(db, i == 0, options)
    if len(options.db) > 1:
        print('== growth: the reads on every database, side by side',
            flush=True)
        run['growth'] = growth(options.db, options)
    run['targets'] = targets(run)
    run['elapsed_s'] = round(time.time() - started)
    run['machine_cpu_share'] = meter.share()
    run['loadavg_end'] = os.getloadavg()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{dt.date.today()}-{run['machine']['host']}.json"
    run['file'] = str(path.relative_to(BENCH.parent))
    path.write_text(json.dumps(run, indent=1, ensure_ascii=False))
    write_summary()
    print(f'\n{path}\n{BENCH / "RESULTS.md"}')
    print((BENCH / 'RESULTS.md').read_text())
    return 0


if __name__ == '__main__':
    sys.exit(main())
