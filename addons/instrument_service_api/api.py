# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The frame of the mobile API: how a route is declared, authenticated, run
in a transaction and answered in JSON, and how every failure becomes a
structured error. Routes declare their request and response schemas here,
which is what the OpenAPI document is generated from."""
import datetime as dt
import hashlib
import json
import logging
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
from trytond.model.exceptions import (
    AccessError, SQLConstraintError, ValidationError)
from trytond.pool import Pool
from trytond.transaction import (
    Transaction, TransactionError, without_check_access)
from trytond.worker import run_task
from trytond.wsgi import app

from trytond.modules.instrument_service.exceptions import (
    AlreadyTakenError, AtCapacityError, MissingEvidenceError,
    OrderValidationError, StepNotAllowedError, WrongActorError)

from . import availability, tracing, validation

logger = logging.getLogger(__name__)

PREFIX = '/api/v1'
JSON_MAX_SIZE = 1024 * 1024
UPLOAD_MAX_SIZE = 10 * 1024 * 1024
# multipart framing around a 10 MB file
UPLOAD_REQUEST_MAX_SIZE = UPLOAD_MAX_SIZE + 64 * 1024
TIMEZONE = ZoneInfo('Asia/Shanghai')

ROUTES = []
# The largest id of a record: the database's integer
MAX_ID = 2 ** 31 - 1


class APIError(Exception):
    """An answer other than success: HTTP status, machine code, message and
    the fields it is about ({path: {code, message}})"""

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
        # The id of the request, also in the header X-Request-Id: what a
        # complaint quotes to find the request in the logs
        body['request_id'] = tracing.current() or tracing.new_id()
        response = json_response({'error': body}, self.status)
        response.headers.update(self.headers)
        return response


def error(status, code, message_id, fields=None, **variables):
    """An APIError whose message is an ir.message of this module; fields are
    the problems it is about: {path: code} or {path: (code, variables)},
    each given the message of its code"""
    return APIError(status, code, gettext(
            'instrument_service_api.' + message_id, **variables),
        validation.fields(_problems(fields or {})))


def _problems(fields):
    return {path: (problem if isinstance(problem, tuple) else (problem, {}))
        for path, problem in fields.items()}


def invalid_fields(problems):
    """The 422 that names each field in error, what is wrong with it and
    what to enter: problems are {path: code} or {path: (code,
    variables)}"""
    problems = _problems(problems)
    return APIError(422, 'invalid_field', gettext(
            'instrument_service_api.msg_invalid_fields',
            names=gettext('instrument_service_api.msg_list_separator').join(
                sorted(problems))),
        validation.fields(problems))


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


def domain_error(exception):
    """The answer of a refusal of the domain: the fields it names (an
    attribute fields of {path: code}) each get the refusal's message"""
    for exception_class, status, code in DOMAIN_ERRORS:
        if isinstance(exception, exception_class):
            fields = {path: {'code': field_code,
                    'message': exception.message}
                for path, field_code in sorted(
                    (getattr(exception, 'fields', None) or {}).items())}
            return APIError(status, code, exception.message, fields)


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


def parse_datetime(value):
    """A time of a request (validated by its schema: an ISO 8601 time with
    an offset, from 2000 to 2099) as a naive UTC datetime"""
    if value is None:
        return None
    result = validation.parse_time(value)
    if result is None:
        raise ValueError(value)
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


def engineer_token(secret):
    "The token of an engineer's device session"
    return 'e.%s' % secret


def customer_token(key):
    return 'c.%s' % key


def authenticate_engineer(request, token):
    """The user of an engineer token (e.<secret>) whose device session is
    live, or None; checked in a read-only transaction of its own, before
    the request's, which runs as that user. Now and then (device.py) the
    use is recorded, in a writable transaction: most requests write
    nothing."""
    pool = get_pool()
    context = {'_request': {'remote_addr': request.remote_addr}}
    readonly = True
    busy = Busy()
    while True:
        try:
            with Transaction().start(database_name(), 0, readonly=readonly,
                    context=context):
                DeviceSession = pool.get(
                    'instrument_service_api.device_session')
                session = DeviceSession.check(token[2:])
                if not session:
                    return None
                session_id, user_id, to_record = session
                if to_record:
                    if readonly:
                        readonly = False
                        continue
                    DeviceSession.record_use(session_id, request.remote_addr)
                # Leaving the block commits a writable transaction
                return user_id
        except backend.DatabaseOperationalError as e:
            if availability.unavailable(e):
                raise
            busy.wait()


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
    user = engineer or 0
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
    """The declaration of one API operation, also its OpenAPI description:
    the schema names of its request and of each success status, its query
    parameters, whether it takes an Idempotency-Key ('required' or
    'optional'), the error codes particular to it (code -> what it means
    here, or None for the general meaning) and an example of its request"""
    method: str
    path: str
    auth: str
    summary: str
    tag: str
    description: str = ''
    request: str = None
    responses: dict = field(default_factory=dict)
    multipart: bool = False
    parameters: list = field(default_factory=list)
    idempotency: str = None
    errors: dict = field(default_factory=dict)
    example: dict = None

    @property
    def path_parameters(self):
        return re.findall(r'\{(\w+)\}', self.path)

    @property
    def request_schema(self):
        "The name of the schema of the JSON body"
        from .schemas import REQUEST_SCHEMAS
        return REQUEST_SCHEMAS.get(self.request, self.request)

    @property
    def body_optional(self):
        """Whether the JSON body may be left out: its schema requires
        nothing"""
        from .schemas import SCHEMAS
        schema = SCHEMAS[self.request_schema]
        return schema.get('type') == 'object' and not schema.get('required')

    def error_codes(self):
        """The error codes this operation can answer, with what each one
        means here (None: its general meaning, errors.CODES)"""
        codes = dict.fromkeys(['busy', 'database_unavailable',
                'not_configured'])
        if self.auth:
            codes['unauthorized'] = None
        if self.request:
            codes.update(dict.fromkeys(['invalid_json',
                        'unsupported_media_type', 'request_too_large',
                        'invalid_field']))
        if self.multipart:
            codes.update(dict.fromkeys(['bad_request', 'file_too_large',
                        'invalid_field', 'empty_file',
                        'unsupported_file_type', 'image_too_large',
                        'corrupt_file']))
        if self.parameters or self.idempotency:
            codes['invalid_field'] = None
        if self.idempotency:
            codes['idempotency_key_reused'] = None
        if self.path_parameters:
            codes['not_found'] = None
        codes.update(self.errors or {})
        return codes


def route(method, path, *, auth, summary, tag, description='',
        request=None, responses=None, multipart=False, parameters=None,
        idempotency=None, errors=None, example=None, readonly=None,
        raw=False):
    """Declare an API operation.

    path uses OpenAPI's {name} for integer path parameters; the function
    gets the request, the caller and the path parameters and returns the
    JSON body (status 200), a (body, status) pair or, with raw, a Response.
    The frame has checked the body against the request schema (body()
    gives it) and the query parameters against theirs (query() gives
    them) before the function is called.
    """
    if isinstance(errors, (list, tuple, set)):
        errors = dict.fromkeys(errors)
    spec = Route(method, path, auth, summary, tag, description, request,
        responses or {}, multipart, parameters or [], idempotency,
        errors or {}, example)
    ROUTES.append(spec)
    rule = PREFIX + re.sub(r'\{(\w+)\}', r'<int:\1>', path)
    if readonly is None:
        readonly = method == 'GET'

    def decorator(func):
        def call(request, caller, kwargs):
            "The operation, in the request's transaction"
            _read_request(spec, request)
            key = None
            if spec.idempotency:
                key, replay = _idempotency(spec, request, caller, kwargs)
                if replay is not None:
                    return replay
            result = func(request, caller, **kwargs)
            if key is not None:
                result = key.store(spec, result)
            return result

        @tracing.observed(PREFIX + path)
        @wraps(func)
        def endpoint(request, **kwargs):
            try:
                if any(v > MAX_ID for v in kwargs.values()):
                    # No record has such an id (nor can the database
                    # search for it)
                    raise PendingError(404, 'not_found', 'msg_not_found')
                result = run(request,
                    lambda caller: call(request, caller, kwargs),
                    auth, readonly)
                # A long poll waits outside of any transaction
                while isinstance(result, Waiter):
                    waiter = result
                    waiter.sleep(database_name())
                    result = run(request,
                        lambda caller: waiter.poll(), auth, True)
                if raw or isinstance(result, Response):
                    return result
                if isinstance(result, tuple):
                    body, status = result
                else:
                    body, status = result, HTTPStatus.OK
                return json_response(body, status)
            except Exception as e:
                return _checked(spec, request, _failure(spec, request, e))
        endpoint.max_request_size = (
            UPLOAD_REQUEST_MAX_SIZE if multipart else JSON_MAX_SIZE)
        app.route(rule, methods=[method])(endpoint)
        return func
    return decorator


def _failure(spec, request, exception):
    "The APIError that answers exception"
    try:
        raise exception
    except APIError as e:
        return e
    except PendingError as e:
        return _translated(request, e.status, e.code, e.message_id,
            **e.variables)
    except BusyError as e:
        if availability.unavailable(e):
            return _database_unavailable(request, spec, e)
        answer = _translated(request, 503, 'busy', 'msg_busy')
        answer.headers['Retry-After'] = '1'
        return answer
    except RequestEntityTooLarge:
        if spec.multipart:
            return _translated(request, 413, 'file_too_large',
                'msg_request_too_large',
                size=UPLOAD_MAX_SIZE // (1024 * 1024))
        return _translated(request, 413, 'request_too_large',
            'msg_json_too_large', size=JSON_MAX_SIZE // 1024)
    except RateLimitException:
        return _translated(request, 429, 'rate_limited', 'msg_rate_limited')
    except LoginException:
        return _translated(request, 401, 'unauthorized', 'msg_login_failed')
    except HTTPException:
        # A malformed request werkzeug could not read (multipart)
        return _translated(request, 400, 'bad_request', 'msg_bad_request')
    except Exception as e:
        # Before the domain errors: the exception raised while handling a
        # lost connection may be anything
        if availability.unavailable(e):
            return _database_unavailable(request, spec, e)
        answer = domain_error(e)
        if answer is not None:
            return answer
        logger.exception("API error on %s %s", spec.method, spec.path)
        return APIError(500, 'internal_error', "Internal error")


def _checked(spec, request, answer):
    """The response of answer, an error of spec's operation; a code the
    operation does not list is a bug of its declaration: logged, and a 500
    where [instrument_service_api] strict_errors is set (the tests)"""
    if answer.status != 500 and answer.code not in spec.error_codes():
        logger.error("undocumented error %s %s on %s %s", answer.status,
            answer.code, spec.method, spec.path)
        if config.getboolean('instrument_service_api', 'strict_errors',
                default=False):
            answer = APIError(500, 'undocumented_error',
                "%s %s answered %s %s, which its description does not "
                "list" % (spec.method, spec.path, answer.status,
                    answer.code))
    return answer.response()


# ---- reading requests --------------------------------------------------

BODY = 'instrument_service_api.body'
QUERY = 'instrument_service_api.query'


def _read_request(spec, request):
    """Check the query parameters and the JSON body of request against
    their schemas, and keep their values for query() and body()"""
    from .schemas import PARAMETERS
    problems, values = {}, {}
    for name in spec.parameters:
        schema = PARAMETERS.get((spec.path, name)) or PARAMETERS[name]
        raw = request.args.get(name)
        if raw is None:
            values[name] = schema.get('default')
            continue
        value = _query_value(raw, schema)
        problems.update(validation.problems(value, schema=schema,
                prefix=(name,)))
        values[name] = value
    request.environ[QUERY] = values
    if spec.request and not spec.multipart:
        data = _json_body(request, optional=spec.body_optional)
        problems.update(validation.problems(data, name=spec.request_schema))
        request.environ[BODY] = data
    if problems:
        raise invalid_fields(problems)


def _query_value(raw, schema):
    "The value a query argument writes, read as its schema's type"
    kind = schema.get('type')
    if kind == 'integer':
        value = int_arg(raw)
        return raw if value is None else value
    if kind == 'boolean':
        return {'true': True, '1': True, 'false': False, '0': False}.get(
            raw.lower(), raw)
    return raw


def _json_body(request, optional=False):
    "The JSON object of the request, or the error that says why not"
    data = request.get_data(cache=True)
    if optional and not data:
        return {}
    if not request.mimetype == 'application/json':
        raise error(415, 'unsupported_media_type', 'msg_json_expected')
    try:
        data = json.loads(data or b'null', parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise error(400, 'invalid_json', 'msg_invalid_json')
    if not isinstance(data, dict):
        raise error(400, 'invalid_json', 'msg_json_object_expected')
    return data


def _not_json(constant):
    "NaN and Infinity are Python's, not JSON"
    raise ValueError(constant)


def body(request):
    "The JSON body of the request, checked against the operation's schema"
    return request.environ[BODY]


def query(request):
    """The query parameters of the operation, checked against their schemas
    (the defaults for those not given)"""
    return request.environ[QUERY]


def int_arg(raw):
    "The integer a query argument writes in ASCII digits, or None"
    if raw is None or not re.fullmatch('[0-9]{1,18}', raw):
        return None
    return int(raw)


# ---- retried writes ------------------------------------------------------

IDEMPOTENCY_KEY = 'Idempotency-Key'
REPLAYED = 'Idempotent-Replayed'


def _idempotency(spec, request, caller, kwargs):
    """The key of a write its client may retry, and the answer of its
    first success when this is a retry of it (or None). The key is written
    before the operation, so that a concurrent retry (a double tap, an
    outbox sending again) waits for this transaction: when it commits, the
    retry meets the key and answers what this one answered; when it fails,
    the key goes with it."""
    Key = Pool().get('instrument_service_api.idempotency_key')
    from .schemas import IDEMPOTENCY_KEY as SCHEMA
    value = request.headers.get(IDEMPOTENCY_KEY, '').strip()
    if not value:
        if spec.idempotency == 'required':
            raise invalid_fields({IDEMPOTENCY_KEY: 'required'})
        return None, None
    problems = validation.problems(value, schema=SCHEMA,
        prefix=(IDEMPOTENCY_KEY,))
    if problems:
        raise invalid_fields(problems)
    fingerprint = _fingerprint(spec, request, kwargs)
    owner = ({'web_user': caller.web_user.id} if caller.kind == 'customer'
        else {'user': caller.user})
    existing = Key.search([
            *((k, '=', v) for k, v in owner.items()),
            ('key', '=', value)], limit=1)
    if existing:
        key, = existing
        if key.fingerprint != fingerprint or key.response is None:
            raise error(422, 'idempotency_key_reused',
                'msg_idempotency_key_reused')
        return None, key.replay()
    key = Key(key=value, fingerprint=fingerprint, **owner)
    try:
        with without_check_access():
            key.save()
    except (SQLConstraintError, backend.DatabaseIntegrityError):
        raise RetryTransaction()
    return key, None


def _fingerprint(spec, request, kwargs):
    "What makes two requests the same: operation, path and body"
    digest = hashlib.sha256()
    digest.update(json.dumps([spec.method, spec.path, kwargs],
            sort_keys=True).encode())
    if spec.multipart:
        for name, upload in sorted(request.files.items(multi=True)):
            digest.update(name.encode() + b'\0'
                + (upload.filename or '').encode() + b'\0')
            for chunk in iter(lambda: upload.stream.read(65536), b''):
                digest.update(chunk)
            upload.stream.seek(0)
    else:
        digest.update(json.dumps(request.environ.get(BODY), sort_keys=True,
                ensure_ascii=False).encode())
    return digest.hexdigest()


def _translated(request, status, code, message_id, **variables):
    """The APIError of an error outside any transaction: one is opened just
    to translate it, or it is translated from the module's files when the
    database is out of reach"""
    try:
        with Transaction().start(database_name(), 0, readonly=True,
                context={'language': language(request)}):
            return error(status, code, message_id, **variables)
    except APIError as e:
        return e
    except Exception as e:
        if not availability.unavailable(e):
            raise
        return APIError(status, code, availability.message(
                message_id, language(request), **variables))


def _database_unavailable(request, spec, exception):
    """The 503 of a database out of reach, without the database: its
    message comes from the module's files"""
    # One line, not a traceback: it is an outage, not a bug
    logger.warning("database unavailable on %s %s: %s", spec.method,
        spec.path, availability.first_line(exception))
    # The connections made before the outage are dead
    availability.drain()
    return APIError(503, 'database_unavailable',
        availability.message('msg_database_unavailable',
            language(request)),
        headers={'Retry-After': availability.RETRY_AFTER})


@app.route(PREFIX + '/<path:rest>',
    methods=['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])
@tracing.observed('unmatched')
def not_found(request, rest):
    """Unknown API paths and methods answer in JSON too: 405 with the
    allowed methods for a known path, 404 for any other path and for ids
    beyond any record's"""
    path = '/' + rest
    methods = {spec.method for spec in ROUTES
        if re.fullmatch(re.sub(r'\{\w+\}', '[0-9]+', spec.path), path)}
    if methods and request.method not in methods:
        response = _translated(request, 405, 'method_not_allowed',
            'msg_method_not_allowed').response()
        response.headers['Allow'] = ', '.join(sorted(methods))
        return response
    return _translated(request, 404, 'not_found',
        'msg_not_found').response()
