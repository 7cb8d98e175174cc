# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The OpenAPI document: valid OpenAPI 3.1, complete (every route of the
server is in it and every operation in it exists), and true (every answer
of a real server, for every operation, has a status and a body the document
gives for that operation), and the documentation page served locally."""
import copy
import datetime as dt
import json
import os
import re
import time
import unittest
import uuid

from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from trytond.wsgi import app

from trytond.modules.instrument_service_api import (
    api, errors, openapi, schemas)

from .server import APIServer, image, multipart

DOCUMENT_URI = 'urn:instrument-service:openapi'
METHODS = {'GET', 'POST', 'PUT', 'PATCH', 'DELETE'}


def api_rules():
    """(method, path) of every rule of trytond's WSGI application under
    /api/v1, with OpenAPI's {name} for the converters, less the catch-all
    that answers unknown paths in JSON"""
    result = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(api.PREFIX + '/'):
            continue
        if rule.endpoint is api.not_found:
            continue
        path = re.sub(r'<(?:\w+:)?(\w+)>', r'{\1}',
            rule.rule[len(api.PREFIX):])
        for method in (rule.methods or set()) & METHODS:
            result.add((method, path))
    return result


def documented_operations(document):
    return {(method.upper(), path)
        for path, item in document['paths'].items()
        for method in item if method.upper() in METHODS}


def pointer(*parts):
    "A JSON pointer into the document"
    return ''.join('/' + str(p).replace('~', '~0').replace('/', '~1')
        for p in parts)


PDF = (b'%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n'
    b'<< /Root 1 0 R >>\n%%EOF\n')


class DocumentTestCase(unittest.TestCase):
    "The document itself, generated in this process from api.ROUTES"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.document = openapi.build()

    def test_valid_openapi_31(self):
        "The document validates against the OpenAPI 3.1 schema"
        document = copy.deepcopy(self.document)
        self.assertEqual(document['openapi'], '3.1.0')
        errors = list(OpenAPIV31SpecValidator(document).iter_errors())
        self.assertEqual(errors, [])
        # and the validator does refuse a broken document
        broken = copy.deepcopy(document)
        broken['paths']['/orders']['get']['parameters'][0]['in'] = 'body'
        self.assertTrue(list(OpenAPIV31SpecValidator(broken).iter_errors()))

    def test_schemas_are_valid_json_schemas(self):
        "Every component schema is a valid 2020-12 schema whose refs resolve"
        registry = Registry().with_resource(DOCUMENT_URI,
            Resource.from_contents(self.document,
                default_specification=DRAFT202012))
        for name, schema in self.document['components']['schemas'].items():
            with self.subTest(schema=name):
                Draft202012Validator.check_schema(schema)
        text = json.dumps(self.document)
        for target in set(re.findall(r'"\$ref": "(#[^"]+)"', text)):
            with self.subTest(ref=target):
                resolver = registry.resolver(DOCUMENT_URI)
                self.assertIsNotNone(
                    resolver.lookup(DOCUMENT_URI + target).contents)

    def test_every_route_is_documented(self):
        "The routes of the server and the operations of the document match"
        rules = api_rules()
        operations = documented_operations(self.document)
        self.assertEqual(rules - operations, set(),
            "routes missing from the OpenAPI document")
        self.assertEqual(operations - rules, set(),
            "documented operations that do not exist")
        # At least what the issue asks for
        self.assertGreaterEqual(len(operations), 30)

    def test_missing_route_is_detected(self):
        "A route left out of the document fails the comparison above"
        routes = [r for r in api.ROUTES
            if (r.method, r.path) != ('POST', '/orders')]
        partial = openapi.build(routes)
        self.assertIn(('POST', '/orders'),
            api_rules() - documented_operations(partial))
        with self.assertRaises(ValueError):
            openapi.build(api.ROUTES + [api.Route('GET', '/x', None, 'x',
                        'docs', responses={200: 'NoSuchSchema'})])

    def test_operations_follow_the_declarations(self):
        "Callers, bodies, parameters and errors of each operation"
        schemes = self.document['components']['securitySchemes']
        self.assertEqual(schemes['customerToken']['scheme'], 'bearer')
        self.assertEqual(schemes['engineerToken']['scheme'], 'bearer')
        security = {
            None: [], 'customer': [{'customerToken': []}],
            'engineer': [{'engineerToken': []}],
            'any': [{'customerToken': []}, {'engineerToken': []}],
            }
        for spec in api.ROUTES:
            operation = self.document['paths'][spec.path][
                spec.method.lower()]
            with self.subTest(operation='%s %s' % (spec.method, spec.path)):
                self.assertEqual(operation['security'], security[spec.auth])
                self.assertEqual(operation['summary'], spec.summary)
                self.assertEqual(operation['tags'], [spec.tag])
                responses = operation['responses']
                for status, name in spec.responses.items():
                    self.assertIn(str(status), responses)
                    if name is None:
                        self.assertNotIn('content', responses[str(status)])
                self.assertIn('503', responses)
                if spec.auth:
                    self.assertIn('401', responses)
                parameters = {p['name']: p for p in operation['parameters']
                    if 'name' in p}
                for name in re.findall(r'\{(\w+)\}', spec.path):
                    self.assertEqual(parameters[name]['in'], 'path')
                    self.assertIn('404', responses)
                    if spec.path != '/docs/assets/{name}':
                        self.assertEqual(
                            parameters[name]['schema']['type'], 'integer')
                for name in spec.parameters:
                    self.assertEqual(parameters[name]['in'], 'query')
                if spec.idempotency:
                    key = parameters['Idempotency-Key']
                    self.assertEqual(key['in'], 'header')
                    self.assertEqual(key['required'],
                        spec.idempotency == 'required')
                for status in responses:
                    if int(status) >= 400:
                        schema = responses[status]['content'][
                            'application/json']['schema']
                        self.assertIn(schemas.ref('Error'), schema['allOf'])
                if spec.multipart:
                    content = operation['requestBody']['content']
                    upload = content['multipart/form-data']['schema']
                    self.assertEqual(upload['required'], ['file'])
                    self.assertIn('413', responses)
                    self.assertIn('415', responses)
                elif spec.request:
                    content = operation['requestBody']['content']
                    self.assertIn('application/json', content)
                    self.assertIn('422', responses)
        info = self.document['info']['description']
        for words in ['Accept-Language', 'zh_CN', 'Bearer',
                'two decimals', '+08:00', 'Idempotency-Key', 'code']:
            self.assertIn(words, info)
        self.assertEqual(self.document['paths']['/orders']['post'][
                'requestBody']['content']['application/json']['schema'],
            schemas.ref('OrderSubmission'))

    def test_every_operation_is_described(self):
        """What it does, when, what next; its example fits its schema; its
        error codes are exactly those its declaration can answer"""
        registry = Registry().with_resource(DOCUMENT_URI,
            Resource.from_contents(self.document,
                default_specification=DRAFT202012))
        for spec in api.ROUTES:
            with self.subTest(operation='%s %s' % (spec.method, spec.path)):
                operation = self.document['paths'][spec.path][
                    spec.method.lower()]
                self.assertGreater(len(spec.description), 30)
                self.assertTrue(operation['description'].startswith(
                        spec.description))
                if spec.request and not spec.multipart:
                    example = spec.example['request']
                    schema = operation['requestBody']['content'][
                        'application/json']
                    self.assertEqual(schema['example'], example)
                    validator = Draft202012Validator(
                        {'$ref': DOCUMENT_URI + '#/components/schemas/'
                            + spec.request_schema},
                        registry=registry)
                    self.assertEqual(list(validator.iter_errors(example)),
                        [])
                for status, name in spec.responses.items():
                    content = operation['responses'][str(status)].get(
                        'content', {}).get('application/json')
                    if not content or name == 'OpenAPIDocument':
                        continue
                    self.assertIn('example', content, "no example answer: "
                        "record them (API_EXAMPLES_RECORD=1, test_openapi)")
                    validator = Draft202012Validator(
                        {'$ref': DOCUMENT_URI + '#/components/schemas/'
                            + name}, registry=registry)
                    self.assertEqual([e.message for e in
                            validator.iter_errors(content['example'])], [])
                codes = set()
                for status, response in operation['responses'].items():
                    if int(status) < 400:
                        continue
                    enum = response['content']['application/json'][
                        'schema']['allOf'][1]['properties']['error'][
                        'properties']['code']['enum']
                    for code in enum:
                        self.assertEqual(errors.status(code), int(status))
                        self.assertIn('`%s`' % code,
                            response['description'])
                    codes.update(enum)
                self.assertEqual(codes, set(spec.error_codes()))

    def test_undocumented_error_is_refused(self):
        """An operation that answers a code its description does not list
        is a bug: a 500 where strict_errors is set (the tests' servers), a
        logged error elsewhere"""
        from trytond import config
        spec, = [s for s in api.ROUTES
            if (s.method, s.path) == ('GET', '/orders/{order_id}')]
        self.assertNotIn('already_taken', spec.error_codes())
        answer = api.APIError(409, 'already_taken', "taken")
        with self.assertLogs(api.logger, 'ERROR'):
            self.assertEqual(api._checked(spec, None, answer).status_code,
                409)
        if not config.has_section('instrument_service_api'):
            config.add_section('instrument_service_api')
        old = config.get('instrument_service_api', 'strict_errors')
        config.set('instrument_service_api', 'strict_errors', 'True')
        try:
            with self.assertLogs(api.logger, 'ERROR'):
                response = api._checked(spec, None, answer)
        finally:
            config.set('instrument_service_api', 'strict_errors',
                old or 'False')
        self.assertEqual(response.status_code, 500)
        self.assertEqual(json.loads(response.get_data())['error']['code'],
            'undocumented_error')
        # A documented one passes
        found = api.APIError(404, 'not_found', "no")
        self.assertEqual(api._checked(spec, None, found).status_code, 404)

    def test_schemas_are_precise(self):
        "The schemas refuse what the code never answers"
        registry = Registry().with_resource(DOCUMENT_URI,
            Resource.from_contents(self.document,
                default_specification=DRAFT202012))

        def valid(name, value):
            validator = Draft202012Validator(
                {'$ref': DOCUMENT_URI + '#/components/schemas/' + name},
                registry=registry)
            return validator.is_valid(value)
        quote = {'version': 1, 'state': 'proposed', 'reason': None,
            'amount': '1000.00', 'currency': 'CNY', 'plan': "plan",
            'files': []}
        self.assertTrue(valid('Quote', quote))
        self.assertFalse(valid('Quote', {**quote, 'amount': '1000'}))
        self.assertFalse(valid('Quote', {**quote, 'amount': 1000}))
        self.assertFalse(valid('Quote', {**quote, 'state': 'other'}))
        self.assertFalse(valid('Quote', {**quote, 'extra': 1}))
        self.assertFalse(valid('Quote', {
                    k: v for k, v in quote.items() if k != 'plan'}))
        self.assertTrue(valid('UnreadCount', {'unread': 0}))
        self.assertFalse(valid('UnreadCount', {'unread': '0'}))
        record = {'time': '2025-05-29T10:00:00+08:00', 'latitude': 31.2,
            'longitude': 121.4, 'accuracy': 10.0, 'address': None,
            'coordinate_system': 'gcj02'}
        self.assertTrue(valid('CheckIn', record))
        self.assertFalse(valid('CheckIn',
                {**record, 'time': '2025-05-29T02:00:00Z'}))
        self.assertTrue(valid('Error',
                {'error': {'code': 'x', 'message': 'y'}}))
        self.assertFalse(valid('Error', {'error': {'code': 'x'}}))
        submission = {
            'type': 'selection',
            'contact': {'name': "张三", 'company': "某公司",
                'phone': '13800000000'},
            'lines': [{'instrument_name': "液相色谱仪", 'requirement': "x",
                    'quantity': 1}],
            }
        self.assertTrue(valid('OrderSubmission', submission))
        # a field of another type's form, a missing required field
        self.assertFalse(valid('OrderSubmission', {**submission,
                    'lines': [{**submission['lines'][0], 'brand': 'x'}]}))
        self.assertFalse(valid('OrderSubmission', {**submission,
                    'lines': [{'instrument_name': "x", 'quantity': 1}]}))
        self.assertFalse(valid('OrderSubmission', {**submission,
                    'type': 'unknown'}))


class HTTPTestCase(unittest.TestCase):
    """A real server answers every operation as the document says: the
    status is one the operation documents, the body validates against the
    schema given for that status"""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = APIServer(engineers=2).start()
        cls.addClassCleanup(cls.server.stop)
        status, _, content = cls.server.request('GET', '/openapi.json')
        assert status == 200, (status, content)
        cls.document = json.loads(content)
        cls.registry = Registry().with_resource(DOCUMENT_URI,
            Resource.from_contents(cls.document,
                default_specification=DRAFT202012))
        cls.driven = set()
        cls.answers = {}

    @classmethod
    def tearDownClass(cls):
        # API_EXAMPLES_RECORD=1: the first answer of each operation is the
        # example of the document (openapi.EXAMPLES_FILE)
        if os.environ.get('API_EXAMPLES_RECORD'):
            answers = json.loads(json.dumps(cls.answers))
            # No token of a real session in a file of the repository
            for answer in answers.values():
                if isinstance(answer, dict) and 'token' in answer:
                    answer['token'] = answer['token'][:2] + (
                        'EXAMPLE' + '0' * 36)
            with open(openapi.EXAMPLES_FILE, 'w', encoding='utf-8') as fp:
                json.dump(dict(sorted(answers.items())), fp,
                    ensure_ascii=False, indent=1, sort_keys=True)
                fp.write('\n')
        super().tearDownClass()

    def validate(self, where, value):
        "Validate value against the schema at the pointer where"
        validator = Draft202012Validator({'$ref': DOCUMENT_URI + '#' + where},
            registry=self.registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER)
        errors = sorted(validator.iter_errors(value),
            key=lambda e: list(e.absolute_path))
        self.assertFalse(errors, '\n'.join('%s: %s' % (
                        '/'.join(map(str, e.absolute_path)), e.message)
                    for e in errors[:10]) + '\n' + json.dumps(
                value, ensure_ascii=False)[:2000])

    def call(self, method, template, expect=None, params=None, query=None,
            data=None, token=None, headers=None, raw=None,
            content_type=None, upload=None):
        """Send a request to the operation (method, template) and check the
        answer against the document; return (status, body, headers)"""
        path = template.format(**(params or {}))
        if query:
            path += '?' + '&'.join('%s=%s' % item for item in query.items())
        operation = self.document['paths'][template][method.lower()]
        if upload:
            raw, content_type = multipart(*upload)
        elif data is not None and expect and expect < 300:
            # What the test sends as valid is valid for the document
            self.validate(pointer('paths', template, method.lower(),
                    'requestBody', 'content', 'application/json',
                    'schema'), data)
        status, response_headers, encoded = self.server.request(
            method, path, data=data, token=token, headers=headers,
            raw=raw, content_type=content_type)
        body = None
        responses = operation['responses']
        self.assertIn(str(status), responses, "%s %s answered %s, "
            "undocumented: %s" % (method, path, status, encoded or body))
        response = responses[str(status)]
        media_type = (response_headers.get('Content-Type') or '').split(
            ';')[0].strip() or None
        if media_type == 'application/json':
            body = json.loads(encoded)
        elif encoded:
            body = encoded
        if 'content' not in response:
            self.assertFalse(body, "%s %s: %s documents no body" % (
                    method, path, status))
        else:
            self.assertIn(media_type, response['content'],
                "%s %s %s: undocumented content type" % (
                    method, path, status))
            if media_type == 'application/json':
                self.validate(pointer('paths', template, method.lower(),
                        'responses', str(status), 'content', media_type,
                        'schema'), body)
        if status < 300:
            self.driven.add((method, template))
            if isinstance(body, (dict, list)) and template != '/openapi.json':
                self.answers.setdefault('%s %s' % (method, template), body)
        if expect is not None:
            self.assertEqual(status, expect, body)
        return status, body, response_headers

    def customer_login(self, openid):
        status, body, _ = self.call('POST', '/auth/wechat', 200,
            data={'code': 'openid:' + openid})
        return body['token']

    def engineer_login(self, index):
        person = self.server.people['engineers'][index]
        status, body, _ = self.call('POST', '/auth/login', 200,
            data={'login': person['login'], 'password': person['password']})
        return body['token']

    def step(self, token, order_id, data, expect=200):
        status, body, _ = self.call('POST',
            '/engineer/tasks/{order_id}/steps', expect,
            params={'order_id': order_id}, data=data, token=token)
        return body

    def test_every_operation(self):
        "Drive every operation and check every answer against the document"
        call = self.call
        started = time.monotonic()

        # ---- public --------------------------------------------------------
        _, document, _ = call('GET', '/openapi.json', 200)
        built = json.loads(json.dumps(openapi.build()))
        self.assertEqual(document['paths'], built['paths'])
        evidence = {name for name in document['components']['schemas']
            if name.startswith('Evidence_')}
        self.assertEqual(set(document['components']['schemas']) - evidence,
            set(built['components']['schemas']))
        # The evidence of the workflows of the server's database
        self.assertIn('Evidence_repair_visit_submit_assessment', evidence)
        self.assertEqual(len({n.split('_')[1] for n in evidence}), 8)
        call('GET', '/docs', 200)
        call('GET', '/docs/assets/{name}', 200,
            params={'name': 'swagger-ui.css'})
        call('GET', '/docs/assets/{name}', 404, params={'name': 'index.html'})
        _, types, _ = call('GET', '/order-types', 200,
            headers={'Accept-Language': 'en'})
        self.assertEqual([t['code'] for t in types['items']],
            schemas.ORDER_TYPE_CODES)
        _, config, _ = call('GET', '/config', 200)
        self.assertEqual(config['uploads']['max_size'], 10 * 1024 * 1024)

        # ---- logging in ----------------------------------------------------
        customer = self.customer_login('o' + uuid.uuid4().hex)
        phone = '1390000%04d' % (uuid.uuid4().int % 10000)
        call('POST', '/auth/dev/code', 204, data={'phone': phone})
        code = re.findall(r'development login code for %s: (\d{6})' % phone,
            self.server.server_log())[-1]
        _, session, _ = call('POST', '/auth/dev/login', 200,
            data={'phone': phone, 'code': code})
        other_customer = session['token']
        engineer = self.engineer_login(0)
        other_engineer = self.engineer_login(1)
        # The engineers' WeChat: linked once, it logs in; unlinked, its
        # sessions end
        openid = 'oe' + uuid.uuid4().hex
        call('POST', '/auth/wechat/link', 204,
            data={'code': 'openid:' + openid}, token=engineer)
        call('POST', '/auth/wechat/link', 409,
            data={'code': 'openid:' + openid}, token=other_engineer)
        _, session, _ = call('POST', '/auth/wechat/engineer', 200,
            data={'code': 'openid:' + openid, 'device_name': "工程师小程序"})
        call('GET', '/engineer/tasks', 200, token=session['token'])
        call('POST', '/auth/wechat/unlink', 204, data={}, token=engineer)
        call('GET', '/engineer/tasks', 401, token=session['token'])
        call('POST', '/auth/wechat/engineer', 401,
            data={'code': 'openid:' + openid})

        # ---- typical errors ------------------------------------------------
        call('GET', '/orders', 401)
        call('GET', '/orders', 401, token=engineer)
        call('GET', '/engineer/inbox', 401, token=customer)
        call('GET', '/orders/{order_id}', 404, params={'order_id': 999999},
            token=customer)
        call('GET', '/orders', 422, query={'page': 0}, token=customer)
        call('POST', '/auth/login', 401,
            data={'login': 'nobody', 'password': 'wrong password'})
        call('POST', '/auth/wechat', 422, data={'code': ''})
        call('POST', '/orders', 400, raw=b'{"type": ', token=customer,
            content_type='application/json',
            headers={'Idempotency-Key': 'broken'})
        call('POST', '/orders', 415, raw=b'type=repair', token=customer,
            content_type='application/x-www-form-urlencoded',
            headers={'Idempotency-Key': 'form'})
        _, problem, _ = call('POST', '/orders', 422,
            data={'type': 'repair', 'contact': {}, 'lines': []},
            token=customer, headers={'Idempotency-Key': 'empty'})
        self.assertEqual(problem['error']['code'], 'invalid_field')
        self.assertTrue(problem['error']['fields'])
        call('POST', '/files', 415, upload=('a.txt', b'plain text'),
            token=customer)

        # ---- profile -------------------------------------------------------
        call('GET', '/me', 200, token=customer)
        contact = {'name': "王工", 'company': "上海某检测有限公司",
            'department': "仪器室", 'position': "主管",
            'phone': '13800138000', 'address': "上海市浦东新区 张江路1号",
            'email': 'wang@example.com'}
        _, profile, _ = call('PUT', '/me', 200, data={'contact': contact},
            token=customer)
        self.assertEqual(profile['contact'], contact)

        # ---- files ---------------------------------------------------------
        _, photo, _ = call('POST', '/files', 201,
            upload=('fault.jpg', image()), token=customer)
        self.assertEqual(photo['mimetype'], 'image/jpeg')
        _, document_file, _ = call('POST', '/files', 201,
            upload=('manual.pdf', PDF), token=customer)
        self.assertIsNone(document_file['thumbnail_url'])
        _, content, headers = call('GET', '/files/{file_id}', 200,
            params={'file_id': photo['id']}, token=customer)
        self.assertEqual(content[:3], b'\xff\xd8\xff')
        call('GET', '/files/{file_id}/thumbnail', 200,
            params={'file_id': photo['id']}, token=customer)
        call('GET', '/files/{file_id}', 404, params={'file_id': photo['id']},
            token=other_customer)

        # ---- an order through its life ------------------------------------
        submission = {
            'type': 'repair', 'contact': contact,
            'lines': [{
                    'instrument_name': "液相色谱仪", 'category': "色谱",
                    'brand': "Agilent", 'model': "1260",
                    'fault_description': "泵压力波动", 'quantity': 1,
                    'files': [photo['id']]}],
            }
        key = {'Idempotency-Key': uuid.uuid4().hex}
        _, order, _ = call('POST', '/orders', 201, data=submission,
            token=customer, headers=key)
        order_id = order['id']
        self.assertEqual(order['state'], 'submitted')
        self.assertTrue(order['can_cancel'])
        _, again, replayed = call('POST', '/orders', 201, data=submission,
            token=customer, headers=key)
        self.assertEqual(again['id'], order_id)
        self.assertEqual(replayed['Idempotent-Replayed'], 'true')
        call('POST', '/orders', 422, data={**submission, 'lines': [{
                        **submission['lines'][0], 'quantity': 2}]},
            token=customer, headers=key)
        ids = {'order_id': order_id}
        _, orders, _ = call('GET', '/orders', 200,
            query={'state': 'submitted', 'type': 'repair'}, token=customer)
        self.assertEqual([o['id'] for o in orders['items']], [order_id])
        call('GET', '/orders/{order_id}', 200, params=ids, token=customer)
        call('GET', '/orders/{order_id}', 404, params=ids,
            token=other_customer)

        # the engineers are told, and both see the offer
        _, notifications, _ = call('GET', '/engineer/notifications', 200,
            token=engineer)
        self.assertTrue(notifications['items'])
        self.assertEqual(notifications['items'][0]['order_id'], order_id)
        _, count, _ = call('GET', '/engineer/notifications/unread-count', 200,
            token=engineer)
        self.assertGreaterEqual(count['unread'], 1)
        first = notifications['items'][0]['id']
        _, count2, _ = call('POST',
            '/engineer/notifications/{notification_id}/read', 200,
            params={'notification_id': first}, token=engineer)
        self.assertEqual(count2['unread'], count['unread'] - 1)
        call('POST', '/engineer/notifications/{notification_id}/read', 404,
            params={'notification_id': first}, token=other_engineer)
        call('GET', '/engineer/notifications', 200,
            query={'unread': 'true', 'page_size': 5}, token=engineer)
        _, waited, _ = call('GET', '/engineer/notifications/wait', 200,
            query={'after': 0, 'timeout': 0}, token=engineer)
        self.assertTrue(waited['items'])
        last = max(n['id'] for n in waited['items'])
        _, waited, _ = call('GET', '/engineer/notifications/wait', 200,
            query={'after': last, 'timeout': 1}, token=engineer)
        self.assertEqual(waited['items'], [])
        call('GET', '/engineer/notifications/wait', 422,
            query={'timeout': 61}, token=engineer)
        _, inbox, _ = call('GET', '/engineer/inbox', 200, token=engineer)
        self.assertIn(order_id, [o['id'] for o in inbox['items']])

        _, task, _ = call('POST', '/engineer/inbox/{order_id}/accept', 200,
            params=ids, data={}, token=engineer)
        self.assertEqual(task['progress']['current_step'], 'accepted')
        self.assertNotIn('can_cancel', task)
        status, _, _ = call('POST', '/engineer/inbox/{order_id}/accept',
            params=ids, data={}, token=other_engineer)
        self.assertIn(status, {404, 409})
        _, tasks, _ = call('GET', '/engineer/tasks', 200,
            query={'state': 'in_progress'}, token=engineer)
        self.assertEqual([t['id'] for t in tasks['items']], [order_id])
        call('GET', '/engineer/tasks/{order_id}', 200, params=ids,
            token=engineer)
        call('GET', '/engineer/tasks/{order_id}', 404, params=ids,
            token=other_engineer)

        appointment = (dt.datetime.now(dt.timezone.utc)
            + dt.timedelta(days=2)).replace(microsecond=0)
        task = self.step(engineer, order_id, {'action': 'visit_onsite',
                'appointment': appointment.isoformat()})
        self.assertEqual(task['progress']['current_step'], 'visit')
        self.assertTrue(task['appointment'].endswith('+08:00'))
        # the evidence the assessment needs is refused when missing
        problem = self.step(engineer, order_id,
            {'action': 'submit_assessment'}, expect=422)
        self.assertEqual(problem['error']['code'], 'invalid_evidence')
        self.step(engineer, order_id, {'action': 'submit_report',
                'report': 'x'}, expect=409)
        self.step(engineer, order_id, {'action': 'submit_quote',
                'amount': 12}, expect=422)
        _, evidence, _ = call('POST', '/engineer/tasks/{order_id}/files', 201,
            params=ids, upload=('site.jpg', image(color=(10, 120, 10))),
            token=engineer)
        task = self.step(engineer, order_id, {
                'action': 'submit_assessment',
                'description': "单向阀堵塞，需要更换",
                'photos': [evidence['id']],
                'check_in': {
                    'time': appointment.isoformat(),
                    'latitude': 31.2304, 'longitude': 121.4737,
                    'accuracy': 12.5, 'address': "上海市浦东新区张江路1号"},
                })
        self.assertEqual(task['progress']['current_step'], 'assessment')
        task = self.step(engineer, order_id, {'action': 'submit_quote',
                'description': "更换单向阀", 'amount': '1000'})
        self.assertEqual(task['progress']['quote']['amount'], '1000.00')

        answer = '/orders/{order_id}/quote/reject'
        _, view, _ = call('POST', answer, 200, params=ids,
            data={'reason': "太贵了"}, token=customer)
        self.assertEqual(view['progress']['quote']['state'], 'rejected')
        call('POST', answer, 422, params=ids, data={}, token=customer)
        self.step(engineer, order_id, {'action': 'submit_quote',
                'description': "更换单向阀（国产配件）", 'amount': '800.5'})
        _, view, _ = call('GET', '/orders/{order_id}', 200, params=ids,
            token=customer)
        self.assertEqual(view['progress']['quote']['amount'], '800.50')
        self.assertEqual([a['action'] for a in view['progress']['actions']],
            ['confirm_quote', 'reject_quote', 'cancel'])
        _, view, _ = call('POST', '/orders/{order_id}/quote/confirm', 200,
            params=ids, token=customer)
        self.assertEqual(view['progress']['current_step'], 'work')
        self.assertFalse(view['can_cancel'])
        call('POST', '/orders/{order_id}/cancel', 409, params=ids,
            data={'reason': "不修了"}, token=customer)

        self.step(engineer, order_id, {'action': 'submit_report',
                'report': "已更换单向阀，压力稳定"})
        call('POST', '/orders/{order_id}/report/reject', 200, params=ids,
            data={'reason': "请附测试数据"}, token=customer)
        self.step(engineer, order_id, {'action': 'submit_report',
                'report': "已更换单向阀，压力波动≤1 bar，RSD 0.4%"})
        _, view, _ = call('POST', '/orders/{order_id}/report/confirm', 200,
            params=ids, data={}, token=customer)
        self.assertEqual(view['progress']['current_step'], 'rating')
        call('POST', '/orders/{order_id}/rating', 422, params=ids,
            data={'attitude': 6, 'quality': 5, 'overall': 5},
            token=customer)
        _, view, _ = call('POST', '/orders/{order_id}/rating', 200,
            params=ids, data={'attitude': 5, 'quality': 4, 'overall': 5,
                'comment': "很专业"}, token=customer)
        self.assertEqual(view['state'], 'done')
        self.assertEqual(view['progress']['rating']['quality'], 4)
        # the evidence photo is the customer's to see now, and the
        # engineer's
        record_photos = [p for s in view['progress']['steps']
            for r in s['records'] for p in r['photos']]
        self.assertIn(evidence['id'], [p['id'] for p in record_photos])
        call('GET', '/files/{file_id}', 200,
            params={'file_id': evidence['id']}, token=customer)
        call('GET', '/files/{file_id}/thumbnail', 200,
            params={'file_id': photo['id']}, token=engineer)
        self.step(engineer, order_id, {'action': 'submit_report',
                'report': "x"}, expect=409)
        call('GET', '/engineer/tasks', 200, query={'page': 2},
            token=engineer)

        # ---- declined, then cancelled -------------------------------------
        second = {
            'type': 'selection', 'contact': contact,
            'lines': [{'instrument_name': "食品中农药多残留筛查",
                    'requirement': "检出限≤0.01 mg/kg", 'quantity': 1}],
            }
        _, order2, _ = call('POST', '/orders', 201, data=second,
            token=customer, headers={'Idempotency-Key': uuid.uuid4().hex})
        ids2 = {'order_id': order2['id']}
        call('POST', '/engineer/inbox/{order_id}/decline', 422, params=ids2,
            data={}, token=engineer)
        call('POST', '/engineer/inbox/{order_id}/decline', 204, params=ids2,
            data={'reason': "不在服务区域"}, token=engineer)
        _, view, _ = call('POST', '/orders/{order_id}/cancel', 200,
            params=ids2, data={'reason': "已自行解决"}, token=customer)
        self.assertEqual(view['state'], 'cancelled')
        _, orders, _ = call('GET', '/orders', 200,
            query={'page_size': 1}, token=customer)
        self.assertEqual((orders['total'], len(orders['items'])), (2, 1))
        call('POST', '/engineer/inbox/{order_id}/accept', 404,
            params={'order_id': 999999}, data={}, token=engineer)

        # ---- logging out ---------------------------------------------------
        call('POST', '/auth/logout', 204, data={}, token=other_customer)
        call('GET', '/me', 401, token=other_customer)
        call('POST', '/auth/logout', 204, token=other_engineer)
        call('GET', '/engineer/tasks', 401, token=other_engineer)
        call('POST', '/auth/logout', 401)

        # ---- every operation of the document was driven to success --------
        missing = documented_operations(self.document) - self.driven
        self.assertEqual(missing, set(),
            "operations not driven to a success answer")
        self.assertLess(time.monotonic() - started, 300)

    def test_docs_page(self):
        "The page and its assets are served locally, without internet"
        server = self.server
        status, headers, content = server.request('GET', '/docs')
        self.assertEqual(status, 200, content[:500])
        self.assertEqual(headers.get_content_type(), 'text/html')
        page = content.decode('utf-8')
        self.assertIn('<div id="swagger-ui">', page)
        self.assertIn("url: '/api/v1/openapi.json'", page)
        self.assertNotRegex(page, r'(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}')
        assets = re.findall(r'(?:href|src)="(/api/v1/docs/assets/[^"]+)"',
            page)
        self.assertEqual(len(assets), 4)
        types = {'.css': 'text/css', '.js': 'text/javascript',
            '.png': 'image/png'}
        for asset in assets:
            with self.subTest(asset=asset):
                status, headers, content = server.request('GET',
                    asset[len('/api/v1'):])
                self.assertEqual(status, 200)
                self.assertEqual(headers.get_content_type(),
                    types[asset[asset.rindex('.'):]])
                self.assertGreater(len(content), 100)
        _, _, bundle = server.request('GET',
            '/docs/assets/swagger-ui-bundle.js')
        self.assertIn(b'SwaggerUIBundle', bundle)
        # Only the listed files: no traversal, nothing else of the folder
        for name in ['..%2Fpackage.json', 'package.json', '..',
                '%2e%2e%2f%2e%2e%2fpyproject.toml', 'index.html']:
            with self.subTest(name=name):
                status, headers, content = server.request('GET',
                    '/docs/assets/' + name)
                self.assertEqual(status, 404, content[:200])
                self.assertEqual(json.loads(content)['error']['code'],
                    'not_found')
        status, _, content = server.request('GET',
            '/docs/assets/../../../pyproject.toml')
        self.assertEqual(status, 404)
        self.assertNotIn(b'[project]', content)
