# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The frame of the mobile API: how a route is declared, authenticated, run
in a transaction and answered in JSON, and how every failure becomes a
structured error. Routes declare their request and response schemas here,
which is what the OpenAPI document is generated from."""
import datetime as dt
import json
import logging
import math
import random
import re
import time
from dataclasses import dataclass, field
from decimal import Decimal
from functools import wraps
from http import HTTPStatus
from zoneinfo import ZoneInfo

from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response

from trytond import backend
from trytond.config import config
from trytond.exceptions import LoginException, RateLimitException, UserError
from trytond.i18n import gettext
from trytond.model.exceptions import AccessError, ValidationError
from trytond.pool import Pool
from trytond.transaction import Transaction, TransactionError
from trytond.worker import run_task
from trytond.wsgi import app

from trytond.modules.instrument_service.exceptions import (
    AlreadyTakenError, AtCapacityError, MissingEvidenceError,
    OrderValidationError, StepNotAllowedError, WrongActorError)

from . import availability

logger = logging.getLogger(__name__)

PREFIX = '/api/v1'
JSON_MAX_SIZE = 1024 * 1024
UPLOAD_MAX_SIZE = 10 * 1024 * 1024
# multipart framing around a 10 MB file
UPLOAD_REQUEST_MAX_SIZE = UPLOAD_MAX_SIZE + 64 * 1024
TIMEZONE = ZoneInfo('Asia/Shanghai')
# Characters that do not belong in text: all controls but tab and newlines
CONTROL = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]')

ROUTES = []
# The largest id of a record: the database's integer
MAX_ID = 2 ** 31 - 1


class APIError(Exception):
    "An answer other than success: HTTP status, machine code and message"

    def __init__(self, status, code, message, fields=None, headers=None):
        super().__init__(message)
        self.status = HTTPStatus(status)
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.headers = headers or {}

    def response(self):
        body = {'code': self.code, 'message': self.message}
        if self.fields:
            body['fields'] = self.fields
        response = json_response({'error': body}, self.status)
        response.headers.update(self.headers)
        return response


def error(status, code, message_id, fields=None, **variables):
    "An APIError whose message is an ir.message of this module"
    return APIError(status, code, gettext(
            'instrument_service_api.' + message_id, **variables), fields)


# Domain refusals and the status they answer with
DOMAIN_ERRORS = [
    (AlreadyTakenError, HTTPStatus.CONFLICT, 'already_taken'),
    (AtCapacityError, HTTPStatus.CONFLICT, 'at_capacity'),
    (WrongActorError, HTTPStatus.FORBIDDEN, 'forbidden'),
    (StepNotAllowedError, HTTPStatus.CONFLICT, 'step_not_allowed'),
    (MissingEvidenceError, HTTPStatus.UNPROCESSABLE_ENTITY,
        'invalid_evidence'),
    (OrderValidationError, HTTPStatus.UNPROCESSABLE_ENTITY, 'invalid_order'),
    (ValidationError, HTTPStatus.UNPROCESSABLE_ENTITY, 'validation_error'),
    (AccessError, HTTPStatus.FORBIDDEN, 'forbidden'),
    (UserError, HTTPStatus.BAD_REQUEST, 'bad_request'),
    ]


def to_json(value):
    "Times in Shanghai with their offset, money as strings with two places"
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(TIMEZONE).isoformat(timespec='seconds')
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal('0.01')))
    if isinstance(value, (bytes, bytearray)):
        raise TypeError("bytes are not served as JSON")
    raise TypeError(repr(value))


def json_response(data, status=HTTPStatus.OK):
    if status == HTTPStatus.NO_CONTENT:
        return Response(status=status)
    return Response(
        json.dumps(data, ensure_ascii=False, default=to_json),
        status=status, content_type='application/json; charset=utf-8')


# The times a client may send (appointments, check-ins), in UTC. Outside,
# a time is a typo, and it could not be answered as the document says:
# Asia/Shanghai is +08:05:43 (LMT) before 1901 and +09:00 in the summers of
# 1986 to 1991, and the year 9999 in UTC is 10000 in Shanghai (an
# OverflowError on every later view of the order: a 500)
MIN_TIME = dt.datetime(2000, 1, 1)
MAX_TIME = dt.datetime(2100, 1, 1)


def parse_datetime(value, name):
    """An ISO 8601 time with an offset, from 2000 to 2099, as a naive UTC
    datetime"""
    result = None
    if isinstance(value, str):
        try:
            result = dt.datetime.fromisoformat(value.replace('Z', '+00:00'))
            if result.tzinfo is None:
                result = None
            else:
                result = result.astimezone(dt.timezone.utc).replace(
                    tzinfo=None)
        except (ValueError, OverflowError):
            result = None
    if result is None or not MIN_TIME <= result < MAX_TIME:
        raise error(422, 'invalid_field', 'msg_invalid_datetime',
            fields={name: 'datetime'}, field=name)
    return result


def language(request):
    "zh_CN unless the caller asks for English"
    accept = request.headers.get('Accept-Language', '')
    first = accept.split(',')[0].strip().lower()
    return 'en' if first.startswith('en') else 'zh_CN'


def database_name():
    name = config.get('instrument_service_api', 'database', default=None)
    if not name:
        raise APIError(503, 'not_configured',
            "The API database is not configured "
            "([instrument_service_api] database).")
    return name


def get_pool():
    name = database_name()
    pool = Pool(name)
    if name not in Pool.database_list():
        with Transaction().start(name, 0, readonly=True):
            pool.init()
    return pool


@dataclass
class Caller:
    "Who calls: a customer (web user) or an engineer (res.user)"
    kind: str
    token: str
    web_user: object = None
    user: int = None
    employees: tuple = field(default_factory=tuple)


def bearer(request):
    header = request.headers.get('Authorization', '')
    scheme, _, token = header.partition(' ')
    if scheme.lower() != 'bearer' or not token.strip():
        return None
    return token.strip()


def engineer_token(user_id, key):
    return 'e.%s.%s' % (user_id, key)


def customer_token(key):
    return 'c.%s' % key


def authenticate_engineer(request, token):
    "Check an engineer token with Tryton's own session machinery"
    from trytond import security
    try:
        _, user_id, key = token.split('.', 2)
        user_id = int_arg(user_id)
    except ValueError:
        return None
    if not user_id or user_id > MAX_ID or not key:
        return None
    context = {'_request': {'remote_addr': request.remote_addr}}
    # security.check returns the user when the session is valid
    try:
        valid = security.check(database_name(), user_id, key,
            context=context)
    except backend.DatabaseOperationalError as e:
        if availability.unavailable(e):
            raise
        raise BusyError()
    if valid:
        return user_id, key


def run(request, func, auth, readonly):
    "Run func in a transaction with retries, as the authenticated caller"
    pool = get_pool()
    token = bearer(request)
    engineer = None
    if auth == 'any':
        # Files are for customers and engineers alike
        auth = 'engineer' if token and token.startswith('e.') else 'customer'
    if auth == 'engineer':
        if not token or not token.startswith('e.'):
            raise unauthorized()
        engineer = authenticate_engineer(request, token)
        if not engineer:
            raise unauthorized()
    elif auth == 'customer':
        if not token or not token.startswith('c.'):
            raise unauthorized()
    context = {
        'language': language(request),
        '_request': {'remote_addr': request.remote_addr},
        }
    user = engineer[0] if engineer else 0
    extras = {}
    busy = Busy()
    write_session = session_written = False
    while True:
        if write_session:
            # Out of the request's transaction, which may be read-only;
            # once: the session is then fresh, or gone
            if not authenticate_customer(request, token[2:]):
                raise unauthorized()
            write_session, session_written = False, True
        try:
            # Locking the records of a restarted transaction may fail here
            transaction = Transaction().start(database_name(), user,
                readonly=readonly, context=context, **extras)
        except backend.DatabaseOperationalError as e:
            if availability.unavailable(e):
                raise
            busy.wait()
            continue
        availability.watch(transaction.database)
        with transaction:
            try:
                caller = None
                if auth == 'customer':
                    caller = _customer(pool, token)
                    if caller is None:
                        raise error(401, 'unauthorized', 'msg_unauthorized')
                elif auth == 'engineer':
                    caller = _engineer(pool, user, token)
                result = func(caller)
                if not readonly:
                    transaction.commit()
            # The tasks (thread-local) are dropped before the rollback,
            # which raises on a lost connection
            except TransactionError as e:
                transaction.tasks.clear()
                transaction.rollback()
                e.fix(extras)
                continue
            except SessionToWrite:
                transaction.rollback()
                if session_written:
                    raise unauthorized()
                write_session = True
                continue
            except (backend.DatabaseOperationalError,
                    RetryTransaction) as e:
                transaction.tasks.clear()
                # Not retried when the connection is lost: the commit may
                # have been applied, the client decides (Idempotency-Key)
                if availability.unavailable(e):
                    raise
                transaction.rollback()
                busy.wait()
                continue
            except Exception:
                transaction.tasks.clear()
                transaction.rollback()
                raise
        # What the change queued (its notices) runs once it is committed,
        # as trytond does when no worker is configured ([queue] worker)
        while transaction.tasks:
            run_task(pool, transaction.tasks.pop())
        return result


class Busy:
    """The retries of a request whose transaction met a lock or a
    serialization failure: at least [database] retry of them and, beyond,
    as many as fit in [instrument_service_api] busy_timeout seconds (10 by
    default), because a request that loses a race (twenty engineers
    accepting one order) must wait for the winner and then get its answer,
    not a 503. Then a 503 busy."""

    def __init__(self):
        self.count = 0
        self.retry = config.getint('database', 'retry')
        self.deadline = time.monotonic() + config.getfloat(
            'instrument_service_api', 'busy_timeout', default=10)

    def wait(self):
        self.count += 1
        delay = min(0.01 * 2 ** min(self.count, 5), 0.25) * (
            0.5 + random.random())
        if self.count > self.retry and (
                time.monotonic() + delay > self.deadline):
            logger.warning("gave up after %s retries", self.count - 1)
            raise BusyError()
        time.sleep(delay)


class PendingError(Exception):
    """An APIError raised outside of any transaction, whose message is
    translated when it is answered"""

    def __init__(self, status, code, message_id, **variables):
        super().__init__(message_id)
        self.status = status
        self.code = code
        self.message_id = message_id
        self.variables = variables


def unauthorized():
    return PendingError(401, 'unauthorized', 'msg_unauthorized')


class RetryTransaction(Exception):
    """Raised by an operation that met the write of a concurrent request
    (a unique key): run it again in a new transaction, which sees it"""


class BusyError(Exception):
    "The retries of a request are exhausted: answered 503 busy"


class SessionToWrite(Exception):
    """The customer's session is to be deleted (expired) or its expiry
    pushed on: authenticate_customer does it in a transaction of its own"""


def authenticate_customer(request, key):
    """Check a customer token against web.user.session in a transaction of
    its own (the request's may be read-only): drop it when expired, push its
    expiry on now and then, and return the id of its active web user"""
    pool = get_pool()
    context = {'_request': {'remote_addr': request.remote_addr}}
    for count in range(config.getint('database', 'retry'), -1, -1):
        with Transaction().start(database_name(), 0, context=context) \
                as transaction:
            Session = pool.get('web.user.session')
            try:
                sessions = Session.search([('key', '=', key)], limit=1)
                if not sessions:
                    return None
                session, = sessions
                if session.expired:
                    Session.delete(sessions)
                    transaction.commit()
                    return None
                if not session.user.active:
                    return None
                # Like ir.session, write the session at most once in a
                # tenth of its lifetime
                age = dt.datetime.now() - session.last_modified_at
                if age > Session.timeout() / 10:
                    Session.write(sessions, {})
                    transaction.commit()
                return session.user.id
            except backend.DatabaseOperationalError as e:
                if availability.unavailable(e):
                    raise
                transaction.rollback()
                if count:
                    time.sleep(0.02)
                    continue
                raise BusyError()


def _customer(pool, token):
    """The customer caller of token (the whole bearer token, c.<key>), read
    in the request's transaction: None when the session is unknown or its
    web user inactive; SessionToWrite when the session is expired or its
    expiry is to be pushed on, as authenticate_customer does (about once in
    a tenth of its lifetime)"""
    Session = pool.get('web.user.session')
    WebUser = pool.get('web.user')
    session = Session.__table__()
    web_user = WebUser.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*session
        .join(web_user, condition=web_user.id == session.user)
        .select(web_user.id, web_user.active, session.write_date,
            session.create_date,
            where=session.key == token[2:], limit=1))
    row = cursor.fetchone()
    if not row:
        return None
    web_user_id, active, write_date, create_date = row
    # As web.user.session's expired and authenticate_customer's refresh
    age = dt.datetime.now() - (write_date or create_date)
    if abs(age) > Session.timeout() or age > Session.timeout() / 10:
        raise SessionToWrite()
    if active:
        return Caller('customer', token, web_user=WebUser(web_user_id))


def _engineer(pool, user_id, token):
    User = pool.get('res.user')
    return Caller('engineer', token, user=user_id,
        employees=tuple(User.get_employees()))


class Waiter:
    """The answer of a long poll that found nothing yet: sleep() blocks
    outside of any transaction, poll() looks again inside a new one and
    returns the answer or the waiter itself to go on waiting"""

    def sleep(self, database):
        raise NotImplementedError

    def poll(self):
        raise NotImplementedError


@dataclass
class Route:
    "The declaration of one API operation, also its OpenAPI description"
    method: str
    path: str
    auth: str
    summary: str
    tag: str
    request: dict = None
    responses: dict = None
    multipart: bool = False
    parameters: list = None
    headers: list = None


def route(method, path, *, auth, summary, tag, request=None,
        responses=None, multipart=False, parameters=None, headers=None,
        readonly=None, raw=False):
    """Declare an API operation.

    path uses OpenAPI's {name} for integer path parameters; the function
    gets the request, the caller and the path parameters and returns the
    JSON body (status 200), a (body, status) pair or, with raw, a Response.
    """
    spec = Route(method, path, auth, summary, tag, request,
        responses or {}, multipart, parameters or [], headers or [])
    ROUTES.append(spec)
    rule = PREFIX + re.sub(r'\{(\w+)\}', r'<int:\1>', path)
    if readonly is None:
        readonly = method == 'GET'

    def decorator(func):
        @wraps(func)
        def endpoint(request, **kwargs):
            started = time.monotonic()
            try:
                if any(v > MAX_ID for v in kwargs.values()):
                    # No record has such an id (nor can the database
                    # search for it)
                    raise PendingError(404, 'not_found', 'msg_not_found')
                result = run(request,
                    lambda caller: func(request, caller, **kwargs),
                    auth, readonly)
                # A long poll waits outside of any transaction
                while isinstance(result, Waiter):
                    waiter = result
                    waiter.sleep(database_name())
                    result = run(request,
                        lambda caller: waiter.poll(), auth, True)
                if raw:
                    return result
                if isinstance(result, tuple):
                    body, status = result
                else:
                    body, status = result, HTTPStatus.OK
                return json_response(body, status)
            except APIError as e:
                return e.response()
            except PendingError as e:
                return _translated(request, e.status, e.code, e.message_id,
                    **e.variables)
            except BusyError as e:
                if availability.unavailable(e):
                    return _database_unavailable(request, method, path, e)
                response = _translated(request, 503, 'busy', 'msg_busy')
                response.headers['Retry-After'] = '1'
                return response
            except RequestEntityTooLarge:
                if multipart:
                    return _translated(request, 413, 'file_too_large',
                        'msg_request_too_large',
                        size=UPLOAD_MAX_SIZE // (1024 * 1024))
                return _translated(request, 413, 'request_too_large',
                    'msg_json_too_large', size=JSON_MAX_SIZE // 1024)
            except RateLimitException:
                return _translated(request, 429, 'rate_limited',
                    'msg_rate_limited')
            except LoginException:
                return _translated(request, 401, 'unauthorized',
                    'msg_login_failed')
            except HTTPException as e:
                return APIError(e.code, 'http_error', e.description
                    or e.name).response()
            except Exception as e:
                # Before the domain errors: the exception raised while
                # handling a lost connection may be anything
                if availability.unavailable(e):
                    return _database_unavailable(request, method, path, e)
                for exception, status, code in DOMAIN_ERRORS:
                    if isinstance(e, exception):
                        return APIError(status, code, e.message).response()
                logger.exception("API error on %s %s", method, path)
                return APIError(500, 'internal_error',
                    "Internal error").response()
            finally:
                logger.info("%s %s in %.1f ms", method, request.path,
                    (time.monotonic() - started) * 1000)
        endpoint.max_request_size = (
            UPLOAD_REQUEST_MAX_SIZE if multipart else JSON_MAX_SIZE)
        app.route(rule, methods=[method])(endpoint)
        return func
    return decorator


def _translated(request, status, code, message_id, **variables):
    """An error outside any transaction: open one just to translate it, or
    translate it from the module's files when the database is out of
    reach"""
    try:
        with Transaction().start(database_name(), 0, readonly=True,
                context={'language': language(request)}):
            return error(status, code, message_id, **variables).response()
    except APIError as e:
        return e.response()
    except Exception as e:
        if not availability.unavailable(e):
            raise
        return APIError(status, code, availability.message(
                message_id, language(request), **variables)).response()


def _database_unavailable(request, method, path, exception):
    """The 503 of a database out of reach, without the database: its
    message comes from the module's files"""
    # One line, not a traceback: it is an outage, not a bug
    logger.warning("database unavailable on %s %s: %s", method, path,
        availability.first_line(exception))
    # The connections made before the outage are dead
    availability.drain()
    return APIError(503, 'database_unavailable',
        availability.message('msg_database_unavailable',
            language(request)),
        headers={'Retry-After': availability.RETRY_AFTER}).response()


def body(request, schema_name=None):
    "The JSON object of the request, or a 400 that says why not"
    if not request.mimetype == 'application/json':
        raise error(415, 'unsupported_media_type', 'msg_json_expected')
    try:
        data = json.loads(request.get_data(cache=True) or b'null',
            parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise error(400, 'invalid_json', 'msg_invalid_json')
    if not isinstance(data, dict):
        raise error(400, 'invalid_json', 'msg_json_object_expected')
    return data


def _not_json(constant):
    "NaN and Infinity are Python's, not JSON"
    raise ValueError(constant)


def check_fields(data, spec, prefix=''):
    """Check data against spec: {name: (type, required)}; type is one of
    str, int, number, bool, list, dict, datetime, decimal. Return the
    values converted, or raise a 422 listing every bad field, named with
    prefix (e.g. "lines[0].") when data is nested in the request."""
    problems = {}
    result = {}
    for name, (kind, required) in spec.items():
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()
                and kind != 'str_blank'):
            if required:
                problems[name] = 'required'
            continue
        try:
            result[name] = _convert(value, kind, name)
        except (TypeError, ValueError, ArithmeticError):
            problems[name] = 'str' if kind == 'str_blank' else kind
        except APIError as e:
            problems.update(e.fields)
    unknown = set(data) - set(spec)
    for name in sorted(unknown):
        problems[name] = 'unknown'
    if problems:
        raise invalid_fields(
            {prefix + name: kind for name, kind in problems.items()})
    return result


def invalid_fields(problems):
    "The 422 that names each field in error and what it should be"
    return error(422, 'invalid_field', 'msg_invalid_fields',
        fields=problems, names=', '.join(sorted(problems)))


def _convert(value, kind, name):
    if kind in {'str', 'str_blank'}:
        # Control characters (NUL above all) are no text
        if not isinstance(value, str) or CONTROL.search(value):
            raise TypeError
        return value.strip()
    if kind == 'int':
        # JSON Schema's integer, which the document promises, is any
        # number without a fraction: 5.0 too
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError
        return value
    if kind == 'number':
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError
        if not math.isfinite(float(value)):
            raise ValueError
        return float(value)
    if kind == 'bool':
        if not isinstance(value, bool):
            raise TypeError
        return value
    if kind == 'ids':
        if (not isinstance(value, list) or not all(
                    isinstance(i, int) and not isinstance(i, bool)
                    and 0 < i <= MAX_ID for i in value)):
            raise TypeError
        return value
    if kind == 'strings':
        if (not isinstance(value, list)
                or not all(isinstance(i, str) and not CONTROL.search(i)
                    for i in value)):
            raise TypeError
        return value
    if kind == 'list':
        if not isinstance(value, list):
            raise TypeError
        return value
    if kind == 'dict':
        if not isinstance(value, dict):
            raise TypeError
        return value
    if kind == 'datetime':
        return parse_datetime(value, name)
    if kind == 'decimal':
        if not isinstance(value, str) or not re.fullmatch(
                r'[0-9]{1,12}(\.[0-9]{1,2})?', value):
            raise ValueError
        return Decimal(value)
    raise ValueError(kind)


def page_args(request, max_size=100):
    "page and page_size of a list request"
    problems = {}
    values = {}
    for name, default, low, high in [
            ('page', 1, 1, 10 ** 6), ('page_size', 20, 1, max_size)]:
        raw = request.args.get(name)
        if raw is None:
            values[name] = default
            continue
        value = int_arg(raw)
        if value is None or not low <= value <= high:
            problems[name] = 'int %s..%s' % (low, high)
        else:
            values[name] = value
    if problems:
        raise invalid_fields(problems)
    return values['page'], values['page_size']


def int_arg(raw):
    "The integer a query argument writes in ASCII digits, or None"
    if raw is None or not re.fullmatch('[0-9]{1,18}', raw):
        return None
    return int(raw)


@app.route(PREFIX + '/<path:rest>',
    methods=['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])
def not_found(request, rest):
    """Unknown API paths and methods answer in JSON too: 405 with the
    allowed methods for a known path, 404 for any other path and for ids
    beyond any record's"""
    path = '/' + rest
    methods = {spec.method for spec in ROUTES
        if re.fullmatch(re.sub(r'\{\w+\}', '[0-9]+', spec.path), path)}
    if methods and request.method not in methods:
        response = _translated(request, 405, 'method_not_allowed',
            'msg_method_not_allowed')
        response.headers['Allow'] = ', '.join(sorted(methods))
        return response
    return _translated(request, 404, 'not_found', 'msg_not_found')
