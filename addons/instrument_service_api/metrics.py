# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""GET /metrics: Prometheus' text format (the prometheus-client package).

Off by default ([instrument_service_api] metrics = True turns it on: 404
until then). Once on, it is protected by a bearer token, by the caller's
network, or both:

- metrics_token: the scraper sends Authorization: Bearer <token> (401
  without it); best given by the environment,
  TRYTOND_INSTRUMENT_SERVICE_API__METRICS_TOKEN, never in the repository;
- metrics_networks: the addresses allowed (CIDR, separated by commas or
  spaces, e.g. 127.0.0.0/8, 10.0.0.0/8); others get 403. Behind a reverse
  proxy the address is the proxy's unless [web] num_proxies is set;
- neither: every scrape is refused (403), so that turning metrics on never
  publishes them by mistake.

What it counts, in this process or, when the environment names
PROMETHEUS_MULTIPROC_DIR (gunicorn's workers: see config/gunicorn.conf.py),
in every process of the server:

- instrument_service_http_requests_total{method, route, status}: the
  requests of the API, the health checks and /metrics, by the template of
  their route (/api/v1/orders/{id}; unknown paths of the API: "unmatched");
- instrument_service_http_request_duration_seconds{method, route}: their
  durations (histogram; a long poll lasts up to its wait).

Read from the database at each scrape ([instrument_service_api]
health_database or database), by a few indexed counts in one read-only
transaction:

- instrument_service_database_up: 1, or 0 when it cannot be read (the
  other gauges are then left out);
- instrument_service_outbox_notices{channel, state}: the notices not
  delivered, state pending (pending or being sent) or failed;
- instrument_service_orders_waiting_for_engineer{escalated}: submitted
  orders nobody accepted yet, escalated to the dispatchers or not;
- instrument_service_orders_late{milestone} and
  instrument_service_orders_at_risk{milestone}: open orders whose next
  deadline (accept, contact, complete) passed, or that are at risk of
  missing it (see the deadlines of the workflows);
- instrument_service_queue_tasks{name}: the tasks of trytond's queue
  (ir.queue) not taken by a worker yet ([queue] worker);
- instrument_service_cron_overdue_jobs: the scheduled jobs overdue, as
  /health/ready says (health_cron_grace)."""
import datetime as dt
import hmac
import ipaddress
import logging
import os
import re

from prometheus_client import (
    CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram,
    ProcessCollector, generate_latest, multiprocess)
from prometheus_client.core import GaugeMetricFamily
from sql import Null, Table
from sql.aggregate import Count
from werkzeug.wrappers import Response

from trytond.config import config
from trytond.transaction import Transaction
from trytond.wsgi import app

from . import availability, health, tracing

logger = logging.getLogger(__name__)

PREFIX = 'instrument_service_'
CHANNELS = ['tryton', 'jpush', 'wechat']
MILESTONES = ['accept', 'contact', 'complete']
OPEN_STATES = ['submitted', 'in_progress']

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(PREFIX + 'http_requests',
    "Requests answered, by route template and status",
    ['method', 'route', 'status'], registry=REGISTRY)
LATENCY = Histogram(PREFIX + 'http_request_duration_seconds',
    "Time to answer a request, by route template",
    ['method', 'route'], registry=REGISTRY)
ProcessCollector(registry=REGISTRY)


def enabled():
    return config.getboolean('instrument_service_api', 'metrics',
        default=False)


def observe(method, route, status, seconds):
    "Count a request answered (when metrics are on)"
    if not enabled():
        return
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


class DatabaseCollector:
    "The gauges read from the database at each scrape"

    def describe(self):
        # Not collected when registered
        return []

    def collect(self):
        up = GaugeMetricFamily(PREFIX + 'database_up',
            "Whether the database could be read for these metrics")
        name = health.database_name()
        families = []
        try:
            if not name:
                raise ValueError("no database configured")
            with Transaction().start(name, 0, readonly=True) as transaction:
                families = list(self._read(transaction.connection.cursor()))
            up.add_metric([], 1)
        except Exception as e:
            logger.warning("metrics of database %s not read: %s", name,
                availability.first_line(e))
            families = []
            up.add_metric([], 0)
        yield up
        yield from families

    def _read(self, cursor):
        now = dt.datetime.now()

        outbox = GaugeMetricFamily(PREFIX + 'outbox_notices',
            "Notices of the outbox not delivered (pending or being sent; "
            "failed)", labels=['channel', 'state'])
        pending, failed = health.outbox_counts(cursor)
        for channel in sorted(set(CHANNELS) | set(pending) | set(failed)):
            outbox.add_metric([channel, 'pending'], pending.get(channel, 0))
            outbox.add_metric([channel, 'failed'], failed.get(channel, 0))
        yield outbox

        order = Table('instrument_service_order')
        waiting = GaugeMetricFamily(
            PREFIX + 'orders_waiting_for_engineer',
            "Submitted orders no engineer accepted yet",
            labels=['escalated'])
        cursor.execute(*order.select(Count(order.id),
                where=order.state == 'submitted'))
        total, = cursor.fetchone()
        cursor.execute(*order.select(Count(order.id),
                where=(order.state == 'submitted')
                & (order.escalated_at != Null)))
        escalated, = cursor.fetchone()
        waiting.add_metric(['false'], total - escalated)
        waiting.add_metric(['true'], escalated)
        yield waiting

        for metric, text, condition in [
                ('orders_late', "Open orders past their next deadline",
                    order.sla_due < now),
                ('orders_at_risk', "Open orders at risk of missing their "
                    "next deadline",
                    (order.sla_due >= now) & (order.sla_risk_at <= now)),
                ]:
            family = GaugeMetricFamily(PREFIX + metric, text,
                labels=['milestone'])
            cursor.execute(*order.select(order.sla_milestone,
                    Count(order.id),
                    where=(order.sla_due != Null) & condition
                    & order.state.in_(OPEN_STATES),
                    group_by=[order.sla_milestone]))
            counts = {m or '': c for m, c in cursor.fetchall()}
            for milestone in sorted(set(MILESTONES) | set(counts)):
                family.add_metric([milestone], counts.get(milestone, 0))
            yield family

        queue = Table('ir_queue')
        tasks = GaugeMetricFamily(PREFIX + 'queue_tasks',
            "Tasks of trytond's queue not taken by a worker yet",
            labels=['name'])
        cursor.execute(*queue.select(queue.name, Count(queue.id),
                where=queue.dequeued_at == Null, group_by=[queue.name]))
        for queue_name, count in sorted(cursor.fetchall()):
            tasks.add_metric([queue_name], count)
        yield tasks

        cron = health.check_cron(cursor)
        overdue = GaugeMetricFamily(PREFIX + 'cron_overdue_jobs',
            "Scheduled jobs overdue (trytond-cron not running, or a job "
            "hangs)")
        overdue.add_metric([], len(cron.get('overdue', {})))
        yield overdue


DATABASE = DatabaseCollector()
REGISTRY.register(DATABASE)


def registry():
    "What a scrape reads: this process, or every process of the server"
    if os.environ.get('PROMETHEUS_MULTIPROC_DIR'):
        result = CollectorRegistry()
        multiprocess.MultiProcessCollector(result)
        result.register(DATABASE)
        return result
    return REGISTRY


def networks():
    value = config.get('instrument_service_api', 'metrics_networks',
        default='') or ''
    result = []
    for item in re.split(r'[\s,]+', value.strip()):
        if item:
            result.append(ipaddress.ip_network(item, strict=False))
    return result


def refusal(request):
    "The answer refusing request, or None when it may read the metrics"
    if not enabled():
        return _error(404, 'not_found', "Not found")
    token = config.get('instrument_service_api', 'metrics_token',
        default='') or ''
    allowed = networks()
    if not token and not allowed:
        return _error(403, 'forbidden', "Metrics are on but neither "
            "metrics_token nor metrics_networks is set")
    if allowed:
        try:
            address = ipaddress.ip_address(request.remote_addr or '')
        except ValueError:
            address = None
        if address is None or not any(address in n for n in allowed):
            return _error(403, 'forbidden',
                "Not allowed from this address")
    if token:
        scheme, _, given = request.headers.get(
            'Authorization', '').partition(' ')
        if scheme.lower() != 'bearer' or not hmac.compare_digest(
                given.strip().encode(), token.encode()):
            answer = _error(401, 'unauthorized', "A bearer token is needed")
            answer.headers['WWW-Authenticate'] = 'Bearer realm="metrics"'
            return answer


def _error(status, code, message):
    return tracing.json({'error': {'code': code, 'message': message,
                'request_id': tracing.current()}}, status,
        headers={'Cache-Control': 'no-store'})


@app.route('/metrics', methods=['GET'])
@tracing.observed('/metrics')
def metrics(request):
    answer = refusal(request)
    if answer is not None:
        return answer
    return Response(generate_latest(registry()), status=200,
        headers={'Content-Type': CONTENT_TYPE_LATEST,
            'Cache-Control': 'no-store'})
