# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""Request ids, the line logged per request, and logs in JSON.

Request id. Every answer of the API (/api/v1), of the health checks and of
/metrics carries the header X-Request-Id: the one of the request when it is
well-formed (1 to 128 letters, digits and . _ : - as a proxy or a client
makes them, e.g. nginx's $request_id or a UUID), else a new one (32 hex
digits). Every error answer also has it in its body (error.request_id), and
every line logged while the request is served carries it (JSON logs), so
that a complaint ("it failed at 10:32, request id 4f0c…") leads to its log.

One line per request, on the logger
trytond.modules.instrument_service_api.requests (INFO): method, route (the
template, /api/v1/orders/{id}), status, duration, request id.

JSON logs: [instrument_service_api] json_logs = True (or the environment's
TRYTOND_INSTRUMENT_SERVICE_API__JSON_LOGS=True) makes every handler of the
root logger write one JSON object per line (JSONFormatter: time, level,
logger, message, request_id, and the request's method, route, status,
duration_ms on its line; the traceback in exception), and logs the line of
each request whatever the level of the other loggers. A logging
configuration file (trytond --logconf, TRYTOND_LOGGING_CONFIG under
gunicorn) may name the formatter instead:

    [formatter_json]
    class = trytond.modules.instrument_service_api.tracing.JSONFormatter
"""
import contextvars
import datetime as dt
import json as json_
import logging
import re
import time
import uuid
from functools import wraps

from werkzeug.wrappers import Response

from trytond.config import config

HEADER = 'X-Request-Id'
WELL_FORMED = re.compile(r'[A-Za-z0-9._:-]{1,128}')
# The fields of the line of a request, besides its message
REQUEST_FIELDS = ('method', 'route', 'status', 'duration_ms', 'path')

request_logger = logging.getLogger(
    'trytond.modules.instrument_service_api.requests')
_current = contextvars.ContextVar('request_id', default=None)


def current():
    "The id of the request being served by this thread, or None"
    return _current.get()


def new_id():
    return uuid.uuid4().hex


def request_id(request):
    "The request's own id when well-formed, else a new one"
    given = request.headers.get(HEADER, '').strip()
    if WELL_FORMED.fullmatch(given):
        return given
    return new_id()


def json(data, status=200, headers=None):
    "A JSON answer"
    response = Response(json_.dumps(data, ensure_ascii=False),
        status=status, content_type='application/json; charset=utf-8')
    response.headers.update(headers or {})
    return response


def observed(route):
    """Decorate the endpoint of route (the template of its path): give the
    request its id, answer it in X-Request-Id, count it in the metrics and
    log its line"""
    def decorator(func):
        @wraps(func)
        def wrapper(request, *args, **kwargs):
            started = time.monotonic()
            token = _current.set(request_id(request))
            response = None
            try:
                response = func(request, *args, **kwargs)
                return response
            finally:
                duration = time.monotonic() - started
                status = getattr(response, 'status_code', 500)
                headers = getattr(response, 'headers', None)
                if headers is not None:
                    headers[HEADER] = _current.get()
                try:
                    # metrics.py declares its route with this decorator
                    from . import metrics
                    metrics.observe(request.method, route, status, duration)
                finally:
                    request_logger.info(
                        "%s %s %s in %.1f ms", request.method, route, status,
                        duration * 1000, extra={
                            'method': request.method, 'route': route,
                            'path': request.path, 'status': status,
                            'duration_ms': round(duration * 1000, 1)})
                    _current.reset(token)
        return wrapper
    return decorator


class JSONFormatter(logging.Formatter):
    "One JSON object per line: for log collectors (Loki, ELK, 阿里云 SLS…)"

    def format(self, record):
        entry = {
            'time': dt.datetime.fromtimestamp(record.created,
                dt.timezone.utc).isoformat(timespec='milliseconds'),
            'level': record.levelname,
            'logger': record.name,
            'message': record.getMessage(),
            'process': record.process,
            'thread': record.thread,
            }
        rid = getattr(record, 'request_id', None) or current()
        if rid:
            entry['request_id'] = rid
        for name in REQUEST_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry['exception'] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry['exception'] = record.exc_text
        if record.stack_info:
            entry['stack'] = self.formatStack(record.stack_info)
        return json_.dumps(entry, ensure_ascii=False, default=str)


def setup_json_logs():
    """With [instrument_service_api] json_logs, the handlers of the root
    logger write JSON, and the line of each request is logged"""
    if not config.getboolean('instrument_service_api', 'json_logs',
            default=False):
        return False
    formatter = JSONFormatter()
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig()
    for handler in root.handlers:
        handler.setFormatter(formatter)
    request_logger.setLevel(logging.INFO)
    return True


setup_json_logs()
