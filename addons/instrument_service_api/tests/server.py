# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""A real trytond server for the API tests, on the database backend of the
test run (TRYTOND_DATABASE__URI), with a WeChat stand-in beside it.

    server = APIServer(engineers=3)
    server.start()
    status, body = server.call('GET', '/order-types')
    server.stop()
"""
import base64
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import unittest
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

HERE = os.path.dirname(__file__)
BIN = os.path.dirname(sys.executable)
APPID = 'wx-test-appid'
# The engineers' mini-program ([wechat_engineer])
ENGINEER_APPID = 'wx-test-engineer-appid'


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class WeChatStub:
    """A local stand-in for WeChat's server API, speaking its documented
    protocol, for two mini-programs: the customers' (APPID, secret) and the
    engineers' (ENGINEER_APPID, engineer_secret). An openid is of one
    mini-program, as WeChat's are: a message to an openid with the token of
    another mini-program answers 40003 (invalid openid).

    Login: GET /sns/jscode2session?appid&secret&js_code&grant_type. A code
    'openid:<x>' logs in user x of the mini-program of appid; a code
    'errcode:<n>' answers that error code; 'down' closes the connection.
    calls lists the queries.

    Not WeChat's protocol, for the failures: 'garbage' answers text that
    is not JSON, 'array' a JSON array, 'http:<n>' the HTTP status n with an
    HTML page. session_keys lists the session_key of every success.

    Subscription messages, JSON bodies both ways:
    POST /cgi-bin/stable_token {grant_type, appid, secret, force_refresh}
    answers {access_token, expires_in}: the current token of the
    mini-program while it lives (7200 s), a new one once it is dead or when
    forced; token_requests lists the bodies. POST
    /cgi-bin/message/subscribe/send?access_token=
    {touser, template_id, page, data, miniprogram_state, lang} checks the
    token, then the message as WeChat does (the length of each keyword by
    its type) and answers {errcode, errmsg, msgid}; sends lists every
    message it got with the errcode answered and the appid of the token,
    messages those accepted.

    Failures a test scripts:
    - expire_token(errcode, times) the current token (and the next ones,
      times in all) answers errcode (42001 expired, 40001 invalid) on its
      next use and is dead from then on;
    - no_subscription.add(openid): 43101 to the messages to openid;
    - script(*failures): the next sends answer each failure in turn, an
      errcode (-1: system busy), 'close' (connection closed without an
      answer), 'garbage' (not JSON) or 'http:<n>';
    - down = True: every connection is closed without an answer."""

    TOKEN_LIFETIME = 7200
    # The longest value of a keyword, by its type (the key less its number)
    KEYWORD_LIMITS = {'thing': 20, 'character_string': 32, 'phrase': 5,
        'name': 10, 'number': 32, 'letter': 32, 'symbol': 5,
        'car_number': 8}

    def __init__(self, secret, engineer_secret=None):
        # appid -> secret of the mini-programs
        self.apps = {APPID: secret}
        if engineer_secret:
            self.apps[ENGINEER_APPID] = engineer_secret
        # openid -> the appid of the mini-program it is of
        self.openids = {}
        self.calls = []
        self.session_keys = []
        self.token_requests = []
        self.sends = []
        self.messages = []
        self.no_subscription = set()
        self.down = False
        self.lock = threading.Lock()
        # token -> [deadline, errcode answered once it is dead or None,
        # appid]
        self.tokens = {}
        # appid -> its current token
        self.current = {}
        self.token_failures = []
        self.failures = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if stub.down:
                    self.cut()
                    return
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                stub.calls.append((url.path, query))
                if url.path != '/sns/jscode2session':
                    self.send_error(404)
                    return
                code = query.get('js_code', '')
                if code == 'down':
                    self.cut()
                    return
                appid = query.get('appid')
                if (appid not in stub.apps
                        or query.get('secret') != stub.apps[appid]
                        or query.get('grant_type')
                        != 'authorization_code'):
                    answer = {'errcode': 40013, 'errmsg': 'invalid appid'}
                elif code.startswith('http:'):
                    self.html(int(code[len('http:'):]))
                    return
                elif code in {'garbage', 'array'}:
                    self.text(b'<xml>oops' if code == 'garbage' else b'[]')
                    return
                elif code.startswith('openid:'):
                    answer = {
                        'openid': code[len('openid:'):],
                        'session_key': secrets.token_urlsafe(16),
                        }
                    stub.session_keys.append(answer['session_key'])
                    stub.openids[answer['openid']] = appid
                elif code.startswith('errcode:'):
                    answer = {'errcode': int(code[len('errcode:'):]),
                        'errmsg': 'stub error'}
                else:
                    answer = {'errcode': 40029, 'errmsg': 'invalid code'}
                self.json(answer)

            def do_POST(self):
                if stub.down:
                    self.cut()
                    return
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                length = int(self.headers.get('Content-Length') or 0)
                try:
                    data = json.loads(self.rfile.read(length) or b'null')
                except ValueError:
                    data = None
                if not isinstance(data, dict):
                    self.json({'errcode': 47001,
                            'errmsg': 'data format error'})
                elif url.path == '/cgi-bin/stable_token':
                    self.json(stub.stable_token(data))
                elif url.path == '/cgi-bin/message/subscribe/send':
                    answer = stub.subscribe_send(query, data)
                    if answer == 'close':
                        self.cut()
                    elif answer == 'garbage':
                        self.text(b'<html>busy</html>')
                    elif isinstance(answer, str):
                        self.html(int(answer[len('http:'):]))
                    else:
                        self.json(answer)
                else:
                    self.send_error(404)

            def cut(self):
                "Close the connection without an answer"
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)

            def json(self, answer):
                # WeChat answers JSON as text/plain
                self.text(json.dumps(answer).encode())

            def text(self, data):
                self.send_response(200)
                self.send_header('Content-Type', 'text/plain')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def html(self, status):
                data = b'<html><body>Bad Gateway</body></html>'
                self.send_response(status)
                self.send_header('Content-Type', 'text/html')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%s' % self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        if self.thread.is_alive():
            # shutdown() waits for serve_forever, which must have started
            self.httpd.shutdown()
        self.httpd.server_close()

    # ---- scripting failures ------------------------------------------------

    def expire_token(self, errcode=42001, times=1):
        """The current token, and the next ones up to times tokens in all,
        answer errcode on their next use and are dead from then on"""
        with self.lock:
            self.token_failures.extend([errcode] * times)

    def script(self, *failures):
        "The next sends answer these failures in turn"
        with self.lock:
            self.failures.extend(failures)

    # ---- the protocol ------------------------------------------------------

    def _alive(self, token):
        deadline, errcode, _ = self.tokens.get(token, (0, 40001, None))
        return errcode is None and deadline > time.monotonic()

    def stable_token(self, data):
        with self.lock:
            self.token_requests.append(data)
            appid = data.get('appid')
            if data.get('grant_type') != 'client_credential':
                return {'errcode': 40002, 'errmsg': 'invalid grant_type'}
            if appid not in self.apps:
                return {'errcode': 40013, 'errmsg': 'invalid appid'}
            if data.get('secret') != self.apps[appid]:
                return {'errcode': 40125, 'errmsg': 'invalid appsecret'}
            current = self.current.get(appid)
            if data.get('force_refresh') or not self._alive(current):
                if current in self.tokens:
                    self.tokens[current][1] = 40001
                current = self.current[appid] = secrets.token_urlsafe(32)
                self.tokens[current] = [
                    time.monotonic() + self.TOKEN_LIFETIME, None, appid]
            expires_in = int(self.tokens[current][0] - time.monotonic())
            return {'access_token': current, 'expires_in': expires_in}

    def subscribe_send(self, query, data):
        with self.lock:
            token = query.get('access_token')
            message = {k: data.get(k) for k in ['touser', 'template_id',
                    'page', 'data', 'miniprogram_state', 'lang']}
            message['appid'] = self.tokens.get(token, [None] * 3)[2]
            answer = self._send(token, message)
            if isinstance(answer, dict):
                message['errcode'] = answer['errcode']
            else:
                message['errcode'] = answer
            self.sends.append(message)
            if message['errcode'] == 0:
                self.messages.append(message)
            return answer

    def _send(self, token, message):
        if self.failures:
            failure = self.failures.pop(0)
            if isinstance(failure, int):
                return {'errcode': failure, 'errmsg': 'system error'}
            return failure
        if token not in self.tokens:
            return {'errcode': 40001, 'errmsg': 'invalid credential, '
                'access_token is invalid or not latest'}
        if not self._alive(token):
            return {'errcode': self.tokens[token][1] or 42001,
                'errmsg': 'access_token expired'}
        if self.token_failures:
            errcode = self.token_failures.pop(0)
            self.tokens[token][1] = errcode
            return {'errcode': errcode, 'errmsg': 'access_token expired'
                if errcode == 42001 else 'invalid credential'}
        if (not isinstance(message['touser'], str) or not message['touser']
                or self.openids.get(message['touser'], message['appid'])
                != message['appid']):
            return {'errcode': 40003, 'errmsg': 'invalid openid'}
        if (not isinstance(message['template_id'], str)
                or not message['template_id']):
            return {'errcode': 40037, 'errmsg': 'invalid template_id'}
        if message['miniprogram_state'] not in {
                None, 'developer', 'trial', 'formal'}:
            return {'errcode': 47001, 'errmsg': 'invalid miniprogram_state'}
        if message['lang'] not in {None, 'zh_CN', 'en_US', 'zh_HK',
                'zh_TW'}:
            return {'errcode': 47001, 'errmsg': 'invalid lang'}
        keywords = message['data']
        if not isinstance(keywords, dict) or not keywords:
            return {'errcode': 47003, 'errmsg': 'argument invalid! data'}
        for key, keyword in keywords.items():
            value = keyword.get('value') if isinstance(
                keyword, dict) else None
            limit = self.KEYWORD_LIMITS.get(key.rstrip('0123456789'))
            if (not isinstance(value, str) or not value
                    or (limit and len(value) > limit)):
                return {'errcode': 47003, 'errmsg': 'argument invalid! '
                    'data.%s.value invalid' % key}
        if message['touser'] in self.no_subscription:
            return {'errcode': 43101,
                'errmsg': 'user refuse to accept the msg'}
        return {'errcode': 0, 'errmsg': 'ok',
            'msgid': 1000 + len(self.messages)}


class BackOfficeError(AssertionError):
    "The error a JSON-RPC call of the back office answered"


class APIServer:
    "A trytond process serving a fresh database with the API"

    def __init__(self, engineers=3, config=None, engineer_types=None):
        """engineers: how many engineers to create; engineer_types: index ->
        the order types that engineer takes (all types otherwise)"""
        self.engineers = engineers
        self.engineer_types = engineer_types or {}
        self.extra_config = config or {}
        self.uri = os.environ.get('TRYTOND_DATABASE__URI', 'sqlite://')
        self.backend = 'postgresql' if self.uri.startswith('postgres') \
            else 'sqlite'
        self.database = 'api_%s' % uuid.uuid4().hex[:12]
        self.directory = tempfile.mkdtemp(prefix='instrument-api-')
        self.port = free_port()
        self.url = 'http://127.0.0.1:%s/api/v1' % self.port
        self.secret = secrets.token_hex(16)
        self.engineer_secret = secrets.token_hex(16)
        self.wechat = WeChatStub(self.secret, self.engineer_secret)
        self.process = None
        self.people = None
        self.log_path = os.path.join(self.directory, 'server.log')

    def _config(self):
        sections = {
            'database': {
                'uri': self.uri,
                'path': os.path.join(self.directory, 'db'),
                # [database] retry stays at Tryton's default (5), as in
                # production: the API waits for locks within its own
                # [instrument_service_api] busy_timeout
                },
            'web': {'listen': '127.0.0.1:%s' % self.port},
            'session': {'timeout': '3600'},
            # Tryton's default is 300: the API's long poll keeps to its own
            # timeout, whatever this one is
            'bus': {'long_polling_timeout': '120'},
            # An error code an operation does not document answers 500
            'instrument_service_api': {
                'database': self.database, 'dev_login': 'True',
                'strict_errors': 'True'},
            'wechat': {
                'appid': APPID, 'secret': self.secret,
                'base_url': self.wechat.url},
            # Its base_url is [wechat]'s
            'wechat_engineer': {
                'appid': ENGINEER_APPID, 'secret': self.engineer_secret},
            'password': {'entropy': '0.5'},
            }
        for section, values in self.extra_config.items():
            sections.setdefault(section, {}).update(values)
            # None leaves the option out
            for key, value in list(sections[section].items()):
                if value is None:
                    del sections[section][key]
        path = os.path.join(self.directory, 'trytond.conf')
        with open(path, 'w') as fp:
            for section, values in sections.items():
                fp.write('[%s]\n' % section)
                for key, value in values.items():
                    fp.write('%s = %s\n' % (key, value))
        return path

    def _env(self):
        env = dict(os.environ)
        # The server reads its own configuration file only
        for key in list(env):
            if key.startswith('TRYTOND_') or key in {'DB_NAME', 'DB_CACHE'}:
                del env[key]
        env['TRYTOND_CONFIG'] = self.config_path
        return env

    def start(self):
        "Start the server; on failure, remove what was made and raise"
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self):
        os.makedirs(os.path.join(self.directory, 'db'), exist_ok=True)
        self.wechat.start()
        self.config_path = self._config()
        env = self._env()
        if self.backend == 'postgresql':
            self._createdb()
        else:
            # trytond-admin initialises an existing, empty SQLite file
            open(os.path.join(self.directory, 'db',
                    self.database + '.sqlite'), 'w').close()
        password_file = os.path.join(self.directory, 'admin-password')
        with open(password_file, 'w') as fp:
            fp.write(secrets.token_urlsafe(24))
        subprocess.run([
                os.path.join(BIN, 'trytond-admin'), '-c', self.config_path,
                '-d', self.database, '--all', '-u', 'instrument_service_api',
                '--activate-dependencies', '-l', 'zh_CN',
                '--email', 'admin@example.com'],
            env={**env, 'TRYTONPASSFILE': password_file},
            check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        fixtures = subprocess.run([
                sys.executable, os.path.join(HERE, 'fixtures.py'),
                self.config_path, self.database, str(self.engineers),
                json.dumps({str(k): v
                        for k, v in self.engineer_types.items()})],
            env=env, capture_output=True, text=True)
        if fixtures.returncode:
            raise RuntimeError("fixtures failed:\n" + fixtures.stderr)
        self.people = json.loads(fixtures.stdout.strip().splitlines()[-1])
        self.log = open(self.log_path, 'w')
        return self.launch()

    def launch(self):
        """Start trytond on the database (again, after a test killed it)
        and wait until it answers"""
        self.process = subprocess.Popen([
                os.path.join(BIN, 'trytond'), '-c', self.config_path,
                '-d', self.database, '-v'],
            env=self._env(), stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    "trytond stopped:\n" + open(self.log_path).read())
            try:
                status, _ = self.call('GET', '/order-types')
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("trytond did not answer:\n"
            + open(self.log_path).read())

    def _createdb(self):
        import psycopg
        with psycopg.connect(self.uri.rstrip('/') + '/postgres',
                autocommit=True) as connection:
            connection.execute('CREATE DATABASE "%s"' % self.database)

    def _dropdb(self):
        import psycopg
        with psycopg.connect(self.uri.rstrip('/') + '/postgres',
                autocommit=True) as connection:
            connection.execute(
                'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % self.database)

    def stop(self):
        if self.process:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.log.close()
        self.wechat.stop()
        if self.backend == 'postgresql':
            self._dropdb()
        shutil.rmtree(self.directory, ignore_errors=True)

    def server_log(self):
        with open(self.log_path) as fp:
            return fp.read()

    # ---- looking into the database ------------------------------------------

    def _connect(self):
        if self.backend == 'postgresql':
            import psycopg
            return psycopg.connect(
                self.uri.rstrip('/') + '/' + self.database, autocommit=True)
        import sqlite3
        return sqlite3.connect(os.path.join(self.directory, 'db',
                self.database + '.sqlite'), timeout=60,
            isolation_level=None)

    def sql(self, query, params=()):
        """Run query (parameters written %s) straight on the database, to
        check what the API wrote or to age a token; return the rows"""
        if self.backend == 'sqlite':
            query = query.replace('%s', '?')
        connection = self._connect()
        try:
            cursor = connection.cursor()
            cursor.execute(query, params)
            return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()

    def count(self, table, where='1=1', params=()):
        "How many rows of table match where"
        (count,), = self.sql(
            'SELECT COUNT(*) FROM "%s" WHERE %s' % (table, where), params)
        return count

    # ---- calling the API --------------------------------------------------

    def request(self, method, path, data=None, token=None, headers=None,
            raw=None, content_type=None):
        """Send a request; data is sent as JSON, raw as is. Return
        (status, headers, body bytes)"""
        headers = dict(headers or {})
        if token:
            headers['Authorization'] = 'Bearer %s' % token
        payload = raw
        if data is not None:
            payload = json.dumps(data).encode()
            headers.setdefault('Content-Type', 'application/json')
        if content_type:
            headers['Content-Type'] = content_type
        request = urllib.request.Request(self.url + path, data=payload,
            method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def call(self, method, path, data=None, token=None, headers=None,
            raw=None, content_type=None):
        "Like request, with the body decoded from JSON (None when empty)"
        status, _, content = self.request(method, path, data=data,
            token=token, headers=headers, raw=raw, content_type=content_type)
        return status, json.loads(content) if content else None

    def upload(self, path, name, content, token, field='file'):
        "POST one file as multipart/form-data, as wx.uploadFile does"
        payload, content_type = multipart(name, content, field)
        return self.call('POST', path, raw=payload, token=token,
            content_type=content_type)

    def back_office(self, method, *params, language='zh_CN', login='admin'):
        """Call method over Tryton's JSON-RPC as admin, or as the person of
        people with this login (the dispatcher, an engineer), like the back
        office (sao) of this server does; return its result, or raise
        BackOfficeError with the error answered"""
        base = 'http://127.0.0.1:%s/%s/rpc/' % (self.port, self.database)

        def post(data, session=None):
            headers = {'Content-Type': 'application/json'}
            if session:
                headers['Authorization'] = 'Session ' + session
            request = urllib.request.Request(base, method='POST',
                data=json.dumps(data).encode(), headers=headers)
            with urllib.request.urlopen(request, timeout=60) as response:
                answer = json.loads(response.read())
            if 'error' in answer:
                raise BackOfficeError(answer['error'])
            return answer['result']
        sessions = self.__dict__.setdefault('_back_office_sessions', {})
        if login not in sessions:
            if login == 'admin':
                with open(os.path.join(
                            self.directory, 'admin-password')) as fp:
                    password = fp.read()
            else:
                password, = [p['password'] for p in [
                        self.people['dispatcher'], *self.people['engineers']]
                    if p['login'] == login]
            user_id, key = post({'id': 1, 'method': 'common.db.login',
                    'params': [login, {'password': password}, language]})[:2]
            sessions[login] = base64.b64encode(
                ('%s:%s:%s' % (login, user_id, key)).encode()).decode()
        return post({'id': 1, 'method': method,
                'params': [*params, {'language': language}]},
            sessions[login])

    # ---- logging in --------------------------------------------------------

    def customer(self, openid=None):
        "Log a new (or the given) WeChat customer in; return the token"
        openid = openid or 'o' + uuid.uuid4().hex
        status, body = self.call('POST', '/auth/wechat',
            {'code': 'openid:' + openid})
        assert status == 200, (status, body)
        return body['token']

    def engineer(self, index=0):
        "Log the engineer number index in; return the token"
        person = self.people['engineers'][index]
        status, body = self.call('POST', '/auth/login', {
                'login': person['login'], 'password': person['password']})
        assert status == 200, (status, body)
        return body['token']


class ServerTestCase(unittest.TestCase):
    """Tests that share one API server, started for the class with
    server_options (APIServer's arguments); what they share besides is made
    once by build(). The server must log no exception: never a 500."""
    server_options = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = APIServer(**cls.server_options).start()
        try:
            cls.build()
        except Exception:
            cls.server.stop()
            raise

    @classmethod
    def build(cls):
        "Make what the tests of the class share"

    @classmethod
    def tearDownClass(cls):
        log = cls.server.server_log()
        cls.server.stop()
        super().tearDownClass()
        assert 'Traceback' not in log, log[
            max(log.index('Traceback') - 500, 0):][:5000]

    def call(self, method, path, data=None, token=None, status=200,
            **kwargs):
        "Send a request that must answer status; return its body"
        got, body = self.server.call(method, path, data, token, **kwargs)
        self.assertEqual(got, status, (method, path, body))
        return body


# ---- test media ----------------------------------------------------------

def multipart(name, content, field='file'):
    "A multipart/form-data body of one file and its content type"
    boundary = uuid.uuid4().hex
    payload = b''.join([
            b'--', boundary.encode(), b'\r\n',
            ('Content-Disposition: form-data; name="%s"; '
                'filename="%s"\r\n' % (field, name)).encode(),
            b'Content-Type: application/octet-stream\r\n\r\n',
            content, b'\r\n--', boundary.encode(), b'--\r\n'])
    return payload, 'multipart/form-data; boundary=%s' % boundary


def image(format_='JPEG', size=(640, 480), color=(200, 40, 40),
        orientation=None):
    """The bytes of a real image made with Pillow; orientation sets the EXIF
    orientation tag of a JPEG like a phone camera does"""
    import io
    from PIL import Image, ImageDraw
    picture = Image.new('RGB', size, color)
    draw = ImageDraw.Draw(picture)
    draw.rectangle([0, 0, size[0] // 4, size[1] // 4], fill=(0, 0, 0))
    output = io.BytesIO()
    options = {}
    if orientation:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options['exif'] = exif.tobytes()
    picture.save(output, format=format_, **options)
    return output.getvalue()


def pdf(text="report"):
    "The bytes of a real one-page PDF made with Pillow"
    import io
    from PIL import Image, ImageDraw
    page = Image.new('RGB', (200, 100), (255, 255, 255))
    ImageDraw.Draw(page).text((10, 40), text, fill=(0, 0, 0))
    output = io.BytesIO()
    page.save(output, format='PDF')
    return output.getvalue()
