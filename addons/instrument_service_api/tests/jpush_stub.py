# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""A local stand-in for JPush's REST push API (v3), speaking its documented
protocol, for the outbox tests:

    POST /v3/push
    Authorization: Basic base64(app_key:master_secret)
    {"platform": "all", "audience": {"alias": ["u7"]},
     "notification": {"alert": "...", "android": {...}, "ios": {...}},
     "options": {...}}

answers 200 {"sendno": "0", "msg_id": "<unique>"}, or an HTTP error with
{"error": {"code": <JPush code>, "message": "..."}}: 401/1004 when the
credentials are wrong, 400/1002 or 1003 when the body is not a valid push,
400/1011 when no device has the alias.

    GET /v3/push/cid?count=n

answers {"cidlist": ["<app_key>-<uuid>", ...]}; a push carrying a cid the
stub has pushed already answers that first result and is not pushed again
(JPush's protection against a caller's retries); an unknown cid is 1003.

    stub = JPushStub('key', 'secret').start()
    stub.url                  # [jpush] base_url
    stub.pushes               # every push answered 200, in order
    stub.requests             # every push received, whatever the answer
    stub.cid_requests         # every GET /v3/push/cid
    stub.refuse('u7')         # 1011 for that alias, until reset()
    stub.fail(500, times=2)   # the next two pushes answer HTTP 500
    stub.fail(429)            # the next push is throttled
    stub.stop(); stub.start() # down (connection refused), back on its port
    stub.hang('u7')           # a push to u7 is pushed, never answered: the
                              # connection is closed on release() or stop()
"""
import base64
import itertools
import json
import socket
import threading
import time
import uuid
from urllib.parse import parse_qs, urlparse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PLATFORMS = {'android', 'ios', 'quickapp', 'hmos'}
# JPush's error codes the stub answers with
SYSTEM_ERROR = 1000
MISSING_PARAMETER = 1002
INVALID_PARAMETER = 1003
AUTHENTICATION_FAILED = 1004
NO_AUDIENCE = 1011
TOO_FREQUENT = 2002


class Push:
    "A push the stub accepted"

    def __init__(self, msg_id, alias, body):
        self.msg_id = msg_id
        self.alias = alias
        self.body = body

    @property
    def extras(self):
        "The extras of the Android notification (the iOS ones must match)"
        return self.body['notification']['android'].get('extras', {})

    @property
    def title(self):
        return self.body['notification']['android'].get('title')

    @property
    def alert(self):
        return self.body['notification']['alert']

    def __repr__(self):
        return '<Push %s to %s %r>' % (self.msg_id, self.alias, self.extras)


class JPushStub:
    """A JPush push API on 127.0.0.1 that can be stopped and started again
    on the same port"""

    def __init__(self, app_key, master_secret):
        self.app_key = app_key
        self.master_secret = master_secret
        self.lock = threading.Lock()
        self.msg_ids = itertools.count(18100000000000000)
        self.httpd = None
        self.thread = None
        # Reserve a port for the stub's whole life
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            self.port = sock.getsockname()[1]
        self.url = 'http://127.0.0.1:%s' % self.port
        self.reset()

    # ---- what a test sets and reads ------------------------------------

    def reset(self):
        "Forget the pushes received and the failures asked for"
        with self.lock:
            self.pushes = []
            self.requests = []
            self.invalid = []
            self.refused = set()
            self.failures = []
            self.hung = set()
            self.release_event = threading.Event()
            self.hanging = []
            # cid: the answer of its first push, None while unused
            self.cids = {}
            self.cid_requests = []

    def refuse(self, alias):
        "Answer 1011 (no device has the alias) to every push to alias"
        with self.lock:
            self.refused.add(alias)

    def fail(self, status, times=1):
        "Answer the next times pushes with HTTP status (500, 503, 429...)"
        with self.lock:
            self.failures.extend([status] * times)

    def hang(self, alias):
        "Read the pushes to alias and never answer them until release()"
        with self.lock:
            self.hung.add(alias)
            if self.release_event.is_set():
                self.release_event = threading.Event()

    def release(self):
        "Close the connections of the hung pushes without answering"
        with self.lock:
            self.hung.clear()
        self.release_event.set()

    def pushes_to(self, alias):
        with self.lock:
            return [p for p in self.pushes if p.alias == alias]

    def pushes_of(self, notice_id):
        "The accepted pushes of a notice (by the notice_id of its extras)"
        with self.lock:
            return [p for p in self.pushes
                if p.extras.get('notice_id') == notice_id]

    def wait_hanging(self, count=1, timeout=30):
        "Wait until count pushes hang; return them"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.hanging) >= count:
                    return list(self.hanging)
            time.sleep(0.05)
        raise AssertionError("no push came to hang")

    # ---- up and down -----------------------------------------------------

    @property
    def up(self):
        return self.httpd is not None

    def start(self):
        "Listen (again) on the stub's port"
        if self.httpd is not None:
            return self
        deadline = time.monotonic() + 10
        while True:
            try:
                self.httpd = _Server(('127.0.0.1', self.port), _Handler)
                break
            except OSError:
                # The port of the stopped server may linger a moment
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.httpd.stub = self
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        "Stop listening: a push meets a refused connection"
        if self.httpd is None:
            return
        self.release()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)
        self.httpd = self.thread = None

    # ---- the protocol -----------------------------------------------------

    def _authorized(self, header):
        scheme, _, value = (header or '').partition(' ')
        if scheme != 'Basic':
            return False
        try:
            decoded = base64.b64decode(value, validate=True).decode('utf-8')
        except (ValueError, UnicodeDecodeError):
            return False
        return decoded == '%s:%s' % (self.app_key, self.master_secret)

    @staticmethod
    def _validate(body):
        """The JPush error (code, message) of a push body, None when it is
        a valid push to one alias with a notification"""
        if not isinstance(body, dict):
            return INVALID_PARAMETER, 'the body must be a JSON object'
        for key in ['platform', 'audience']:
            if key not in body:
                return MISSING_PARAMETER, 'missing %s' % key
        if 'notification' not in body and 'message' not in body:
            return MISSING_PARAMETER, 'missing notification or message'
        platform = body['platform']
        if not (platform == 'all' or (isinstance(platform, list)
                    and platform and set(platform) <= PLATFORMS)):
            return INVALID_PARAMETER, 'invalid platform'
        audience = body['audience']
        if not isinstance(audience, dict) or set(audience) != {'alias'}:
            return INVALID_PARAMETER, 'the stub takes alias audiences only'
        aliases = audience['alias']
        if not (isinstance(aliases, list) and 1 <= len(aliases) <= 1000
                and all(isinstance(a, str) and 0 < len(a.encode()) <= 40
                    for a in aliases)):
            return INVALID_PARAMETER, 'invalid alias'
        notification = body.get('notification')
        if not isinstance(notification, dict) or not notification:
            return INVALID_PARAMETER, 'invalid notification'
        for platform_key in ['android', 'ios']:
            if platform_key in notification and not isinstance(
                    notification[platform_key], dict):
                return INVALID_PARAMETER, 'invalid %s' % platform_key
            if 'extras' in notification.get(platform_key, {}) \
                    and not isinstance(
                        notification[platform_key]['extras'], dict):
                return INVALID_PARAMETER, 'extras must be an object'
        if not (notification.get('alert') or any(
                    notification.get(p, {}).get('alert')
                    for p in ['android', 'ios'])):
            return MISSING_PARAMETER, 'missing alert'
        options = body.get('options', {})
        if not isinstance(options, dict):
            return INVALID_PARAMETER, 'invalid options'
        ttl = options.get('time_to_live', 86400)
        if not isinstance(ttl, int) or not 0 <= ttl <= 864000:
            return INVALID_PARAMETER, 'invalid time_to_live'
        return None

    def _answer(self, headers, data):
        """Record a push and decide its answer: (status, body), or None to
        leave it hanging"""
        try:
            body = json.loads(data)
        except ValueError:
            body = None
        with self.lock:
            self.requests.append(body)
            if not self._authorized(headers.get('Authorization')):
                return 401, _error(AUTHENTICATION_FAILED,
                    'Authen failed')
            problem = self._validate(body)
            if problem:
                self.invalid.append((body, problem))
                return 400, _error(*problem)
            alias, = body['audience']['alias']
            cid = body.get('cid')
            if cid is not None and cid not in self.cids:
                return 400, _error(INVALID_PARAMETER, 'invalid cid')
            if self.cids.get(cid):
                # Pushed already: JPush answers the first result again
                return 200, self.cids[cid]
            if self.failures:
                status = self.failures.pop(0)
                if status == 429:
                    return 429, _error(TOO_FREQUENT,
                        'Request times exceeds the limit')
                return status, _error(SYSTEM_ERROR, 'Server Internal Error')
            if alias in self.refused:
                return 400, _error(NO_AUDIENCE,
                    'cannot find user by this audience')
            msg_id = str(next(self.msg_ids))
            self.pushes.append(Push(msg_id, alias, body))
            answer = {'sendno': '0', 'msg_id': msg_id}
            if cid is not None:
                self.cids[cid] = answer
            if alias in self.hung:
                # Pushed, but the answer is lost on the way back
                return None
            return 200, answer

    def _new_cids(self, headers, path):
        "The answer to GET /v3/push/cid"
        with self.lock:
            self.cid_requests.append(path)
            if not self._authorized(headers.get('Authorization')):
                return 401, _error(AUTHENTICATION_FAILED, 'Authen failed')
            query = parse_qs(urlparse(path).query)
            try:
                count = int(query.get('count', ['1'])[0])
            except ValueError:
                return 400, _error(INVALID_PARAMETER, 'invalid count')
            cids = ['%s-%s' % (self.app_key, uuid.uuid4())
                for _ in range(max(1, min(count, 10)))]
            self.cids.update(dict.fromkeys(cids))
            return 200, {'cidlist': cids}


def _error(code, message):
    return {'error': {'code': code, 'message': message}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def do_POST(self):
        stub = self.server.stub
        length = int(self.headers.get('Content-Length') or 0)
        data = self.rfile.read(length)
        if self.path != '/v3/push':
            self._send(404, _error(INVALID_PARAMETER, 'unknown API'))
            return
        if not (self.headers.get('Content-Type') or '').startswith(
                'application/json'):
            self._send(400, _error(INVALID_PARAMETER,
                    'Content-Type must be application/json'))
            return
        answer = stub._answer(self.headers, data)
        if answer is None:
            with stub.lock:
                stub.hanging.append(json.loads(data))
            # Lost in flight: the sender never learns what became of it
            stub.release_event.wait()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._send(*answer)

    def do_GET(self):
        if urlparse(self.path).path == '/v3/push/cid':
            self._send(*self.server.stub._new_cids(self.headers, self.path))
        else:
            self._send(405, _error(1001, 'Only support HTTP Post method'))

    def _send(self, status, body):
        data = json.dumps(body).encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        if status == 429:
            self.send_header('X-Rate-Limit-Limit', '600')
            self.send_header('X-Rate-Limit-Remaining', '0')
            self.send_header('X-Rate-Limit-Reset', '60')
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass
