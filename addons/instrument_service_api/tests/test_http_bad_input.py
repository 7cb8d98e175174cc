# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""Bad input of every kind gets its documented structured error, never a
500, and a refused write writes nothing."""
import datetime as dt
import hashlib
import io
import json
import unittest
import uuid

from .server import ServerTestCase, image, pdf

CONTACT = {'name': '孙八', 'company': '丁方制药', 'phone': '13500009999'}
LINE = {'instrument_name': '紫外分光光度计', 'brand': 'Hitachi',
    'fault_description': '光源不亮', 'quantity': 1}
VALIDATION = {'instrument_name': '溶出仪', 'brand': 'Agilent',
    'validation_categories': ['iq'], 'quantity': 1}
MB = 1024 * 1024
TABLES = ['instrument_service_order', 'instrument_service_order_line',
    'ir_attachment', 'instrument_service_order_progress',
    'instrument_service_order_quote', 'instrument_service_order_report',
    'instrument_service_api_idempotency_key', 'web_user']


def bomb():
    "A 20000 x 20000 1-bit PNG: 400 megapixels in a few kilobytes"
    from PIL import Image
    output = io.BytesIO()
    Image.new('1', (20000, 20000)).save(output, format='PNG', optimize=True)
    return output.getvalue()


def order(**changes):
    data = {'type': 'repair', 'contact': dict(CONTACT), 'lines': [dict(LINE)]}
    data.update(changes)
    return data


class BadInputTestCase(ServerTestCase):
    server_options = {'engineers': 1}

    @classmethod
    def build(cls):
        server = cls.server
        cls.customer = server.customer()
        cls.engineer = server.engineer(0)

        def submit():
            status, body = server.call('POST', '/orders', order(),
                cls.customer, headers={'Idempotency-Key': uuid.uuid4().hex})
            assert status == 201, body
            status, _ = server.call('POST',
                '/engineer/inbox/%s/accept' % body['id'], None, cls.engineer)
            assert status == 200
            return body['id']

        def step(order_id, **values):
            status, body = server.call('POST',
                '/engineer/tasks/%s/steps' % order_id, values, cls.engineer)
            assert status == 200, body

        # At step 1: waits for the visit decision
        cls.accepted = submit()
        def assess(order_id):
            step(order_id, action='visit_onsite',
                appointment='2035-03-01T09:00:00+08:00')
            status, photo = server.upload(
                '/engineer/tasks/%s/files' % order_id, 'a.jpg',
                image('JPEG'), cls.engineer)
            assert status == 201, photo
            step(order_id, action='submit_assessment', description='评估',
                photos=[photo['id']], check_in={
                    'time': '2035-03-01T09:05:00+08:00', 'latitude': 30.0,
                    'longitude': 120.0, 'accuracy': 5})

        # At step 3: waits for the quote
        cls.assessed = submit()
        assess(cls.assessed)
        # At step 4: the quote waits for the customer
        cls.quoted = submit()
        assess(cls.quoted)
        step(cls.quoted, action='submit_quote', description='方案',
            amount='100')
        # At step 7: waits for the rating
        cls.rating = submit()
        step(cls.rating, action='visit_remote')
        step(cls.rating, action='finish_remote', description='已远程解决')
        cls.views = {i: cls.view(i) for i in [
                cls.accepted, cls.assessed, cls.quoted, cls.rating]}

    @classmethod
    def view(cls, order_id):
        status, body = cls.server.call('GET', '/orders/%s' % order_id,
            token=cls.customer)
        assert status == 200, body
        return body

    def counts(self):
        "The number of rows of every table a request could write"
        query = 'SELECT %s' % ', '.join(
            '(SELECT COUNT(*) FROM "%s")' % t for t in TABLES)
        return dict(zip(TABLES, self.server.sql(query)[0]))

    def refused(self, status, code, method, path, data=None, token=None,
            fields=None, upload=None, **kwargs):
        """Send a request that must be refused with status and code (and
        the given error fields) and write nothing; return the error"""
        token = self.customer if token is None else token
        before = self.counts()
        if upload is not None:
            name, content = upload
            got, body = self.server.upload(path, name, content, token)
        else:
            got, body = self.server.call(method, path, data, token, **kwargs)
        self.assertEqual(got, status, body)
        self.assertIsInstance(body, dict, body)
        self.assertEqual(set(body), {'error'})
        error = body['error']
        self.assertEqual(error['code'], code, error)
        self.assertIsInstance(error['message'], str)
        self.assertTrue(error['message'])
        self.assertLessEqual(set(error),
            {'code', 'message', 'fields', 'request_id'})
        # The id of the request, to find it in the server's logs
        self.assertRegex(error['request_id'], '^[0-9a-f]{32}$')
        if fields is not None:
            self.assertEqual({path: problem['code'] for path, problem
                    in error.get('fields', {}).items()}, fields)
        for problem in error.get('fields', {}).values():
            self.assertEqual(set(problem), {'code', 'message'})
            self.assertTrue(problem['message'])
        self.assertEqual(self.counts(), before)
        return error

    def submit(self, data, status, code, fields=None, key=None, **kwargs):
        headers = {'Idempotency-Key': key or uuid.uuid4().hex}
        return self.refused(status, code, 'POST', '/orders', data,
            fields=fields, headers=headers, **kwargs)

    def assertUnchanged(self):
        for order_id, view in self.views.items():
            self.assertEqual(self.view(order_id), view)

    # ---- the body ----------------------------------------------------

    def test_broken_json(self):
        key = {'Idempotency-Key': 'k'}
        for raw in [b'{"type": ', b'{type: 1}', b"{'type': 'repair'}",
                b'\xff\xfe\x00garbage', b'{"a": 1} {"b": 2}', b'NaN]',
                b'[' * 200000, b'{"a":' * 100000]:
            with self.subTest(raw=raw[:20]):
                self.refused(400, 'invalid_json', 'POST', '/orders',
                    raw=raw, content_type='application/json', headers=key)
        for raw in [b'[]', b'[{"type": "repair"}]', b'"repair"', b'42',
                b'null', b'true', b'']:
            with self.subTest(raw=raw):
                self.refused(400, 'invalid_json', 'POST', '/orders',
                    raw=raw, content_type='application/json', headers=key)

    def test_not_json(self):
        payload = json.dumps(order()).encode()
        for content_type in ['text/plain', 'application/x-www-form-urlencoded',
                'multipart/form-data; boundary=x', 'application/xml', None]:
            with self.subTest(content_type=content_type):
                self.refused(415, 'unsupported_media_type', 'POST',
                    '/orders', raw=payload, content_type=content_type,
                    headers={'Idempotency-Key': uuid.uuid4().hex})
        self.refused(415, 'unsupported_media_type', 'PUT', '/me',
            raw=b'contact=x', content_type='application/x-www-form-urlencoded')
        self.refused(415, 'unsupported_media_type', 'POST',
            '/engineer/tasks/%s/steps' % self.accepted, token=self.engineer,
            raw=b'action=visit_remote',
            content_type='application/x-www-form-urlencoded')
        # With its charset, JSON is JSON
        status, body = self.server.call('POST', '/orders',
            raw=json.dumps(order()).encode('utf-8'),
            content_type='application/json; charset=utf-8',
            token=self.customer,
            headers={'Idempotency-Key': uuid.uuid4().hex})
        self.assertEqual(status, 201, body)

    def test_too_large_json(self):
        data = order(lines=[{**LINE, 'fault_description': 'x' * (2 * MB)}])
        error = self.submit(data, 413, 'request_too_large')
        self.assertIn('1024', error['message'])

    def test_missing_wrong_and_unknown_fields(self):
        cases = [
            ({}, {'type': 'required', 'contact': 'required',
                    'lines': 'required'}),
            (order(type=None), {'type': 'required'}),
            (order(type=''), {'type': 'required'}),
            (order(type=7), {'type': 'type'}),
            (order(type=['repair']), {'type': 'type'}),
            (order(contact='孙八'), {'contact': 'type'}),
            (order(lines={'0': LINE}), {'lines': 'type'}),
            ({**order(), 'priority': 'high'}, {'priority': 'unknown'}),
            (order(type='painting'), {'type': 'choice'}),
            (order(lines=[]), {'lines': 'min_items'}),
            (order(lines=[LINE] * 21), {'lines': 'max_items'}),
            (order(lines=['液相色谱仪']), {'lines[0]': 'type'}),
            (order(contact={'company': 'x'}), {
                    'contact.name': 'required', 'contact.phone': 'required'}),
            (order(contact={**CONTACT, 'name': 5}), {'contact.name': 'type'}),
            (order(contact={**CONTACT, 'wechat': 'x'}),
                {'contact.wechat': 'unknown'}),
            (order(contact={**CONTACT, 'phone': 'call me'}),
                {'contact.phone': 'phone'}),
            (order(contact={**CONTACT, 'email': 'no-at-sign'}),
                {'contact.email': 'email'}),
            (order(contact={**CONTACT, 'name': 'a\x00b'}),
                {'contact.name': 'control_characters'}),
            (order(lines=[{**LINE, 'quantity': '1'}]),
                {'lines[0].quantity': 'type'}),
            (order(lines=[{**LINE, 'quantity': 1.5}]),
                {'lines[0].quantity': 'type'}),
            (order(lines=[{**LINE, 'quantity': True}]),
                {'lines[0].quantity': 'type'}),
            (order(lines=[{**LINE, 'quantity': 0}]),
                {'lines[0].quantity': 'minimum'}),
            (order(lines=[{**LINE, 'quantity': 10 ** 30}]),
                {'lines[0].quantity': 'maximum'}),
            (order(lines=[{**LINE, 'brand': None}]),
                {'lines[0].brand': 'required'}),
            (order(lines=[{**LINE, 'brand': '   '}]),
                {'lines[0].brand': 'required'}),
            (order(lines=[{**LINE, 'fault_description': '\x07'}]),
                {'lines[0].fault_description': 'control_characters'}),
            (order(lines=[{**LINE, 'requirement': '需求'}]),
                {'lines[0].requirement': 'unknown'}),
            (order(lines=[{**LINE, 'files': 'a.jpg'}]),
                {'lines[0].files': 'type'}),
            (order(lines=[{**LINE, 'files': [1.5]}]),
                {'lines[0].files[0]': 'type'}),
            (order(lines=[{**LINE, 'files': [999999]}]),
                {'lines[0].files': 'not_found'}),
            (order(lines=[{**LINE, 'files': [-3]}]),
                {'lines[0].files[0]': 'minimum'}),
            (order(lines=[{**LINE, 'files': [2 ** 40]}]),
                {'lines[0].files[0]': 'maximum'}),
            (order(files=[999999]), {'files': 'not_found'}),
            (order(files=[7, 7]), {'files': 'unique'}),
            (order(type='training', lines=[{
                            'instrument_name': 'HPLC', 'brand': 'Waters',
                            'appointment_time': '2031-06-01T09:30:00'}]),
                {'lines[0].appointment_time': 'datetime'}),
            (order(type='training', lines=[{
                            'instrument_name': 'HPLC', 'brand': 'Waters',
                            'appointment_time': '2031-02-30T09:30:00+08:00'}]),
                {'lines[0].appointment_time': 'datetime'}),
            (order(type='training', lines=[{
                            'instrument_name': 'HPLC', 'brand': 'Waters',
                            'appointment_time': 1906000000}]),
                {'lines[0].appointment_time': 'type'}),
            (order(type='training', lines=[{
                            'instrument_name': 'HPLC', 'brand': 'Waters',
                            'appointment_time': '0001-01-01T00:00:00+08:00'
                            }]),
                {'lines[0].appointment_time': 'datetime'}),
            # Times from 2000 to 2099 only: the year 9999 in UTC is 10000
            # in Shanghai (a 500 on every view of the order), and before
            # 1992 Shanghai's offset is not +08:00
            (order(type='training', lines=[{
                            'instrument_name': 'HPLC', 'brand': 'Waters',
                            'appointment_time': '9999-12-31T23:00:00Z'}]),
                {'lines[0].appointment_time': 'datetime'}),
            (order(type='training', lines=[{
                            'instrument_name': 'HPLC', 'brand': 'Waters',
                            'appointment_time': '1988-07-01T12:00:00+08:00'
                            }]),
                {'lines[0].appointment_time': 'datetime'}),
            (order(type='training', lines=[{
                            'instrument_name': 'HPLC', 'brand': 'Waters',
                            'appointment_time': '2100-01-01T08:00:00+08:00'
                            }]),
                {'lines[0].appointment_time': 'datetime'}),
            (order(type='validation', lines=[{**VALIDATION,
                            'validation_categories': ['iq', 'dq']}]),
                {'lines[0].validation_categories[1]': 'choice'}),
            (order(type='validation', lines=[{**VALIDATION,
                            'validation_categories': []}]),
                {'lines[0].validation_categories': 'min_items'}),
            (order(type='validation', lines=[{**VALIDATION,
                            'validation_categories': 'iq'}]),
                {'lines[0].validation_categories': 'type'}),
            (order(type='validation', lines=[{**VALIDATION,
                            'fault_description': None}]),
                {'lines[0].fault_description': 'unknown'}),
            (order(type='selection', lines=[{
                            'instrument_name': '测重金属', 'quantity': 1}]),
                {'lines[0].requirement': 'required'}),
            ]
        for data, fields in cases:
            with self.subTest(data=data):
                error = self.submit(data, 422, 'invalid_field', fields)
                # The message names the fields
                for name in fields:
                    self.assertIn(name, error['message'])
        self.assertEqual(self.server.call('GET', '/orders?type=training',
                token=self.customer)[1]['total'], 0)

    def test_integer_written_with_a_zero_fraction(self):
        "JSON Schema's integer: 2.0 is the integer 2"
        status, body = self.server.call('POST', '/orders',
            order(lines=[{**LINE, 'quantity': 2.0}]), self.customer,
            headers={'Idempotency-Key': uuid.uuid4().hex})
        self.assertEqual(status, 201, body)
        self.assertEqual(body['lines'][0]['quantity'], 2)
        self.assertIs(type(body['lines'][0]['quantity']), int)

    def test_idempotency_key(self):
        for headers in [{}, {'Idempotency-Key': ''},
                {'Idempotency-Key': 'k' * 101}]:
            with self.subTest(headers=headers):
                self.refused(422, 'invalid_field', 'POST', '/orders',
                    order(), headers=headers, fields={'Idempotency-Key':
                        'max_length' if headers.get('Idempotency-Key')
                        else 'required'})
        # A refused submission does not use up its key
        key = uuid.uuid4().hex
        self.submit(order(type='painting'), 422, 'invalid_field', key=key)
        status, body = self.server.call('POST', '/orders', order(),
            self.customer, headers={'Idempotency-Key': key})
        self.assertEqual(status, 201, body)
        self.submit(order(lines=[{**LINE, 'quantity': 2}]), 422,
            'idempotency_key_reused', key=key)

    def test_profile(self):
        cases = [
            ({}, {'contact': 'required'}),
            ({'contact': []}, {'contact': 'type'}),
            ({'contact': {'name': 1}}, {'contact.name': 'type'}),
            ({'contact': {'phone': '12'}}, {'contact.phone': 'phone'}),
            ({'contact': {'nickname': 'x'}}, {'contact.nickname': 'unknown'}),
            ({'contact': {'email': 'x@'}}, {'contact.email': 'email'}),
            ({'contact': {}, 'avatar': 'x'}, {'avatar': 'unknown'}),
            ]
        before = self.server.call('GET', '/me', token=self.customer)[1]
        for data, fields in cases:
            with self.subTest(data=data):
                self.refused(422, 'invalid_field', 'PUT', '/me', data,
                    fields=fields)
        self.assertEqual(self.server.call('GET', '/me',
                token=self.customer)[1], before)

    # ---- the files ---------------------------------------------------

    def test_uploads_refused(self):
        exe = b'MZ\x90\x00\x03' + b'\x00' * 200 + b'This program cannot be run'
        cases = [
            ('photo.jpg', exe, None, 415, 'unsupported_file_type'),
            ('photo.jpg', '这不是图片'.encode() * 20, None, 415,
                'unsupported_file_type'),
            ('photo.png', b'<svg xmlns="http://www.w3.org/2000/svg">'
                b'<script>alert(1)</script></svg>', None, 415,
                'unsupported_file_type'),
            ('photo.jpg', b'<html><body>x</body></html>', None, 415,
                'unsupported_file_type'),
            ('doc.docx', b'PK\x03\x04' + b'\x00' * 100, None, 415,
                'unsupported_file_type'),
            ('photo.jpg', b'', None, 422, 'empty_file'),
            ('photo.jpg', b'\xff\xd8\xff\xe0' + b'\x13' * 5000, None, 422,
                'corrupt_file'),
            ('photo.jpg', image('JPEG', (1200, 900))[:3000], None, 422,
                'corrupt_file'),
            ('photo.png', image('PNG')[:200], None, 422, 'corrupt_file'),
            ('bomb.png', bomb(), None, 422, 'image_too_large'),
            ('big.jpg', b'\xff\xd8\xff\xe0' + b'\x00' * (10 * MB - 3), None,
                413, 'file_too_large'),
            ('huge.pdf', b'%PDF-1.4\n' + b'\x00' * (12 * MB), None, 413,
                'file_too_large'),
            ]
        self.assertLess(len(bomb()), 100 * 1024)
        for name, content, only, status, code in cases:
            paths = ['/files', '/engineer/tasks/%s/files' % self.assessed]
            for path in paths:
                token = self.engineer if 'engineer' in path else \
                    self.customer
                with self.subTest(name=name, size=len(content), path=path):
                    error = self.refused(status, code, 'POST', path,
                        token=token, upload=(name, content))
                    if code == 'file_too_large':
                        self.assertIn('10', error['message'])
        # Not a file at all
        for path, token in [('/files', self.customer),
                ('/engineer/tasks/%s/files' % self.assessed, self.engineer)]:
            self.refused(422, 'invalid_field', 'POST', path,
                {'file': 'x'}, token=token, fields={'file': 'required'})
            boundary = uuid.uuid4().hex
            self.refused(422, 'invalid_field', 'POST', path, token=token,
                raw=(b'--%s\r\nContent-Disposition: form-data; '
                    b'name="photo"; filename="a.jpg"\r\n\r\n'
                    % boundary.encode()) + image('JPEG')
                + b'\r\n--%s--\r\n' % boundary.encode(),
                content_type='multipart/form-data; boundary=' + boundary,
                fields={'file': 'required'})
        self.assertUnchanged()

    def test_uploads_recognised_by_content(self):
        "What a file is depends on its content, not on its name"
        server = self.server
        status, body = server.upload('/files', 'scan.pdf', image('PNG'),
            self.customer)
        self.assertEqual(status, 201, body)
        # A PNG, stored as every photo is: a JPEG
        self.assertEqual(body['mimetype'], 'image/jpeg')
        self.assertEqual(body['name'], 'scan.jpg')
        self.assertTrue(body['thumbnail_url'])
        status, headers, content = server.request('GET',
            '/files/%s' % body['id'], token=self.customer)
        self.assertEqual(headers['Content-Type'], 'image/jpeg')
        self.assertEqual(headers['X-Content-Type-Options'], 'nosniff')
        self.assertTrue(content.startswith(b'\xff\xd8\xff'))
        # A customer may send documents: a PDF named .jpg is a PDF
        status, body = server.upload('/files', '..\\..//报价单.jpg', pdf(),
            self.customer)
        self.assertEqual(status, 201, body)
        self.assertEqual((body['mimetype'], body['name']),
            ('application/pdf', '报价单.pdf'))
        self.assertIsNone(body['thumbnail_url'])
        status, error = server.call('GET',
            '/files/%s/thumbnail' % body['id'], token=self.customer)
        self.assertEqual((status, error['error']['code']), (404, 'not_found'))
        # ... which a type that takes photos only refuses
        self.submit(order(lines=[{**LINE, 'files': [body['id']]}]), 422,
            'invalid_field', {'lines[0].files': 'images_only'})
        # A JPEG of exactly 10 MB passes
        from PIL import Image
        picture = image('JPEG', (64, 64))
        padding = 10 * MB - len(picture)
        # JPEG readers ignore what follows the end of image marker
        status, body = server.upload('/files', 'max.jpg',
            picture + b'\x00' * padding, self.customer)
        self.assertEqual(status, 201, body)
        self.assertEqual(body['mimetype'], 'image/jpeg')
        self.assertLess(body['size'], MB)
        status, _, content = server.request('GET', '/files/%s' % body['id'],
            token=self.customer)
        self.assertEqual(Image.open(io.BytesIO(content)).size, (64, 64))

    # ---- ids, paging, methods, paths ---------------------------------

    def test_unknown_ids(self):
        customer, engineer = self.customer, self.engineer
        for order_id in [999999, 0, 2 ** 31 - 1, 2 ** 31, 10 ** 20]:
            for method, path, token, data in [
                    ('GET', '/orders/%s', customer, None),
                    ('POST', '/orders/%s/quote/confirm', customer, {}),
                    ('POST', '/orders/%s/cancel', customer,
                        {'reason': 'x'}),
                    ('POST', '/orders/%s/rating', customer,
                        {'attitude': 5, 'quality': 5, 'overall': 5}),
                    ('GET', '/files/%s', customer, None),
                    ('GET', '/files/%s/thumbnail', engineer, None),
                    ('GET', '/engineer/tasks/%s', engineer, None),
                    ('POST', '/engineer/inbox/%s/accept', engineer, None),
                    ('POST', '/engineer/inbox/%s/decline', engineer,
                        {'reason': 'x'}),
                    ('POST', '/engineer/tasks/%s/steps', engineer,
                        {'action': 'visit_remote'}),
                    ('POST', '/engineer/notifications/%s/read', engineer,
                        {}),
                    ]:
                with self.subTest(path=path, id=order_id):
                    self.refused(404, 'not_found', method, path % order_id,
                        data, token=token)
            with self.subTest(upload=order_id):
                self.refused(404, 'not_found', 'POST',
                    '/engineer/tasks/%s/files' % order_id,
                    token=engineer, upload=('a.jpg', image('JPEG')))
        for path in ['/orders/abc', '/orders/-1', '/orders/1.5',
                '/files/%20', '/orders/%s/nothing' % self.accepted]:
            with self.subTest(path=path):
                self.refused(404, 'not_found', 'GET', path)

    def test_paging(self):
        server = self.server
        for query, fields in [
                ('page=0', {'page': 'minimum'}),
                ('page=-1', {'page': 'type'}),
                ('page=abc', {'page': 'type'}),
                ('page=%C2%B2', {'page': 'type'}),
                ('page=1000001', {'page': 'maximum'}),
                ('page=' + '9' * 400, {'page': 'type'}),
                ('page_size=0', {'page_size': 'minimum'}),
                ('page_size=101', {'page_size': 'maximum'}),
                ('page_size=', {'page_size': 'type'}),
                ('page=0&page_size=0', {'page': 'minimum',
                        'page_size': 'minimum'}),
                ('state=lost', {'state': 'choice'}),
                ('type=painting', {'type': 'choice'}),
                ]:
            with self.subTest(query=query):
                self.refused(422, 'invalid_field', 'GET', '/orders?' + query,
                    fields=fields)
        for path in ['/engineer/inbox?page=0', '/engineer/tasks?page_size=0',
                '/engineer/tasks?state=submitted',
                '/engineer/notifications?page=x',
                '/engineer/notifications/wait?after=-1',
                '/engineer/notifications/wait?timeout=61',
                '/engineer/notifications/wait?timeout=1.5']:
            with self.subTest(path=path):
                self.refused(422, 'invalid_field', 'GET', path,
                    token=self.engineer)
        # Beyond the last page: an empty page, not an error
        status, body = server.call('GET', '/orders?page=1000&page_size=100',
            token=self.customer)
        self.assertEqual(status, 200, body)
        self.assertEqual(body['items'], [])
        self.assertEqual((body['page'], body['page_size']), (1000, 100))
        self.assertGreaterEqual(body['total'], 3)
        status, body = server.call('GET', '/orders?page=1&page_size=1',
            token=self.customer)
        self.assertEqual((status, len(body['items'])), (200, 1))
        status, body = server.call('GET', '/engineer/tasks?page=999999',
            token=self.engineer)
        self.assertEqual((status, body['items']), (200, []))

    def test_wrong_method_and_unknown_path(self):
        server = self.server
        for method, path in [('DELETE', '/orders/%s' % self.accepted),
                ('PUT', '/orders'), ('PATCH', '/orders/%s' % self.accepted),
                ('GET', '/orders/%s/cancel' % self.accepted),
                ('POST', '/me'), ('DELETE', '/me'), ('GET', '/files'),
                ('GET', '/auth/login'), ('POST', '/order-types'),
                ('POST', '/engineer/tasks/%s' % self.accepted),
                ('GET', '/engineer/inbox/%s/accept' % self.accepted),
                ('PUT', '/orders/%s' % 10 ** 20)]:
            with self.subTest(method=method, path=path):
                self.refused(405, 'method_not_allowed', method,
                    path, {} if method != 'GET' else None)
                status, headers, content = server.request(method, path,
                    {} if method != 'GET' else None, self.customer,
                    headers={'Accept-Language': 'en'})
                self.assertEqual(json.loads(content)['error']['message'],
                    'This method is not allowed on this path.')
                self.assertTrue(headers['Allow'])
                self.assertNotIn(method, headers['Allow'].split(', '))
        for method, path in [('GET', '/nothing'), ('POST', '/orders/x/y'),
                ('GET', '/engineer'), ('GET', '/engineer/tasks/1/2/3'),
                ('DELETE', '/v2/orders'), ('GET', '/orders/%s/' % 1)]:
            with self.subTest(method=method, path=path):
                self.refused(404, 'not_found', method, path,
                    {} if method != 'GET' else None)
                english = server.call(method, path,
                    {} if method != 'GET' else None, self.customer,
                    headers={'Accept-Language': 'en'})[1]['error']
                self.assertEqual(english['message'], 'Not found.')

    # ---- the steps ---------------------------------------------------

    def step(self, order_id, status, code, fields=None, **values):
        return self.refused(status, code, 'POST',
            '/engineer/tasks/%s/steps' % order_id, values,
            token=self.engineer, fields=fields)

    def test_bad_steps(self):
        check_in = {'time': '2035-03-01T09:05:00+08:00', 'latitude': 30.0,
            'longitude': 120.0, 'accuracy': 5}
        accepted, assessed = self.accepted, self.assessed
        cases = [
            (accepted, 422, 'invalid_field', {'action': 'required'}, {}),
            (accepted, 422, 'invalid_field', {'action': 'choice'},
                {'action': 'explode'}),
            (accepted, 422, 'invalid_field', {'action': 'type'},
                {'action': ['visit_remote']}),
            (accepted, 422, 'invalid_field', {'colour': 'unknown'},
                {'action': 'visit_remote', 'colour': 'red'}),
            (accepted, 422, 'invalid_field', {'action': 'choice'},
                {'action': 'accept'}),
            (accepted, 409, 'step_not_allowed', None,
                {'action': 'submit_report', 'report': 'x'}),
            # Appointments: with an offset, a real date, after submission
            (accepted, 422, 'invalid_field', {'appointment': 'datetime'},
                {'action': 'visit_onsite',
                    'appointment': '2035-05-29T10:00:00'}),
            (accepted, 422, 'invalid_field', {'appointment': 'datetime'},
                {'action': 'visit_onsite', 'appointment': '2035-05-29'}),
            (accepted, 422, 'invalid_field', {'appointment': 'datetime'},
                {'action': 'visit_onsite',
                    'appointment': '2035-13-29T10:00:00+08:00'}),
            (accepted, 422, 'invalid_field', {'appointment': 'datetime'},
                {'action': 'visit_onsite', 'appointment': 'tomorrow'}),
            (accepted, 422, 'invalid_field', {'appointment': 'type'},
                {'action': 'visit_onsite', 'appointment': 2051222400}),
            (accepted, 422, 'invalid_field', {'appointment': 'datetime'},
                {'action': 'visit_onsite',
                    'appointment': '9999-12-31T23:59:59-12:00'}),
            (accepted, 422, 'invalid_evidence', {'appointment': 'minimum'},
                {'action': 'visit_onsite',
                    'appointment': '2020-05-29T10:00:00+08:00'}),
            (accepted, 422, 'invalid_evidence', {'appointment': 'required'},
                {'action': 'visit_onsite'}),
            (accepted, 422, 'invalid_field', {'photos[0]': 'type'},
                {'action': 'visit_remote', 'photos': ['a.jpg']}),
            (accepted, 422, 'invalid_field', {'photos': 'type'},
                {'action': 'visit_remote', 'photos': 3}),
            # A remote visit takes no photo: the form of the action says so
            (accepted, 422, 'invalid_evidence', {'photos': 'unknown'},
                {'action': 'visit_remote', 'photos': [999999]}),
            (accepted, 422, 'invalid_field', {'description': 'type'},
                {'action': 'visit_remote', 'description': {'text': 'x'}}),
            # Quotes: a string of at most two decimals, above zero
            (assessed, 422, 'invalid_field', {'amount': 'pattern'},
                {'action': 'submit_quote', 'description': '方案',
                    'amount': '1000.005'}),
            (assessed, 422, 'invalid_field', {'amount': 'pattern'},
                {'action': 'submit_quote', 'description': '方案',
                    'amount': '-5.00'}),
            (assessed, 422, 'invalid_field', {'amount': 'type'},
                {'action': 'submit_quote', 'description': '方案',
                    'amount': 1000}),
            (assessed, 422, 'invalid_field', {'amount': 'type'},
                {'action': 'submit_quote', 'description': '方案',
                    'amount': 1000.5}),
            (assessed, 422, 'invalid_field', {'amount': 'pattern'},
                {'action': 'submit_quote', 'description': '方案',
                    'amount': '1e3'}),
            (assessed, 422, 'invalid_field', {'amount': 'pattern'},
                {'action': 'submit_quote', 'description': '方案',
                    'amount': 'NaN'}),
            (assessed, 422, 'invalid_field', {'amount': 'pattern'},
                {'action': 'submit_quote', 'description': '方案',
                    'amount': '1,000.00'}),
            (assessed, 422, 'invalid_field', {'amount': 'pattern'},
                {'action': 'submit_quote', 'description': '方案',
                    'amount': '１０００'}),
            (assessed, 422, 'invalid_evidence',
                {'amount': 'exclusive_minimum'},
                {'action': 'submit_quote', 'description': '方案',
                    'amount': '0.00'}),
            (assessed, 422, 'invalid_evidence', {'description': 'required'},
                {'action': 'submit_quote', 'amount': '100.00'}),
            (assessed, 422, 'invalid_evidence', {'amount': 'required'},
                {'action': 'submit_quote', 'description': '方案'}),
            (assessed, 422, 'invalid_evidence', {'photos': 'not_found'},
                {'action': 'submit_quote', 'description': '方案',
                    'amount': '100', 'photos': [999999]}),
            # Check-ins: a time with an offset and a position on Earth
            (accepted, 422, 'invalid_field', {'check_in': 'type'},
                {'action': 'visit_remote', 'check_in': [30, 120]}),
            (accepted, 422, 'invalid_field', {
                    'check_in.latitude': 'required',
                    'check_in.time': 'datetime'},
                {'action': 'visit_remote', 'check_in': {
                        **check_in, 'latitude': None,
                        'time': '2035-03-01 09:05'}}),
            (accepted, 422, 'invalid_field', {
                    'check_in.accuracy': 'type',
                    'check_in.altitude': 'unknown'},
                {'action': 'visit_remote', 'check_in': {
                        **check_in, 'accuracy': '5m', 'altitude': 3}}),
            (accepted, 422, 'invalid_field', {'check_in.longitude': 'type'},
                {'action': 'visit_remote', 'check_in': {
                        **check_in, 'longitude': True}}),
            (accepted, 422, 'invalid_field', {'check_in.time': 'datetime'},
                {'action': 'visit_remote', 'check_in': {
                        **check_in, 'time': '0227-07-07T04:17:05.9Z'}}),
            (accepted, 422, 'invalid_field', {'check_in.latitude': 'maximum'},
                {'action': 'visit_remote', 'check_in': {
                        **check_in, 'latitude': 91}}),
            (accepted, 422, 'invalid_field', {'check_in.accuracy': 'minimum'},
                {'action': 'visit_remote', 'check_in': {
                        **check_in, 'accuracy': -1}}),
            (accepted, 422, 'invalid_field',
                {'check_in.coordinate_system': 'choice'},
                {'action': 'visit_remote', 'check_in': {
                        **check_in, 'coordinate_system': 'bd09'}}),
            ]
        for order_id, status, code, fields, values in cases:
            with self.subTest(values=values):
                self.step(order_id, status, code, fields, **values)
        # Non-finite numbers: NaN and Infinity are not JSON, 1e999 is but
        # is no number of the Earth
        for number in [b'NaN', b'Infinity', b'-Infinity', b'1e999']:
            with self.subTest(number=number):
                raw = (b'{"action": "visit_remote", "check_in": {"time": '
                    b'"2035-03-01T09:05:00+08:00", "latitude": %s, '
                    b'"longitude": 120, "accuracy": 5}}' % number)
                if number == b'1e999':
                    self.refused(422, 'invalid_field', 'POST',
                        '/engineer/tasks/%s/steps' % accepted, raw=raw,
                        content_type='application/json',
                        token=self.engineer,
                        fields={'check_in.latitude': 'maximum'})
                else:
                    self.refused(400, 'invalid_json', 'POST',
                        '/engineer/tasks/%s/steps' % accepted, raw=raw,
                        content_type='application/json',
                        token=self.engineer)
        self.assertUnchanged()

    def test_bad_answers(self):
        customer = self.customer
        rating = '/orders/%s/rating' % self.rating
        for data, status, code, fields in [
                ({'attitude': 0, 'quality': 5, 'overall': 5}, 422,
                    'invalid_field', {'attitude': 'minimum'}),
                ({'attitude': 5, 'quality': 6, 'overall': 5}, 422,
                    'invalid_field', {'quality': 'maximum'}),
                ({'attitude': 5, 'quality': 5, 'overall': -1}, 422,
                    'invalid_field', {'overall': 'minimum'}),
                ({'attitude': 5, 'quality': 5, 'overall': 10 ** 40}, 422,
                    'invalid_field', {'overall': 'maximum'}),
                ({'attitude': '5', 'quality': 5, 'overall': 5}, 422,
                    'invalid_field', {'attitude': 'type'}),
                ({'attitude': 4.5, 'quality': 5, 'overall': 5}, 422,
                    'invalid_field', {'attitude': 'type'}),
                ({'attitude': True, 'quality': 5, 'overall': 5}, 422,
                    'invalid_field', {'attitude': 'type'}),
                ({'attitude': 5, 'quality': 5}, 422, 'invalid_evidence',
                    {'overall': 'required'}),
                ({}, 422, 'invalid_evidence', {'attitude': 'required',
                        'quality': 'required', 'overall': 'required'}),
                ({'attitude': 5, 'quality': 5, 'overall': 5, 'stars': 5},
                    422, 'invalid_field', {'stars': 'unknown'}),
                ({'attitude': 5, 'quality': 5, 'overall': 5,
                        'comment': 5}, 422, 'invalid_field',
                    {'comment': 'type'}),
                ]:
            with self.subTest(data=data):
                self.refused(status, code, 'POST', rating, data,
                    fields=fields)
        self.refused(400, 'invalid_json', 'POST', rating, raw=b'[5, 5, 5]',
            content_type='application/json')
        # Answers that do not fit the step
        for path, data in [
                ('/orders/%s/quote/confirm' % self.accepted, None),
                ('/orders/%s/report/reject' % self.assessed,
                    {'reason': '不对'}),
                ('/orders/%s/rating' % self.accepted,
                    {'attitude': 5, 'quality': 5, 'overall': 5}),
                ('/orders/%s/cancel' % self.rating, {'reason': '不要了'}),
                ]:
            with self.subTest(path=path):
                self.refused(409, 'step_not_allowed', 'POST', path, data)
        for path, data, code, fields in [
                ('/orders/%s/quote/reject' % self.quoted, {},
                    'invalid_evidence', {'reason': 'required'}),
                ('/orders/%s/quote/reject' % self.quoted,
                    {'reason': '  '}, 'invalid_evidence',
                    {'reason': 'required'}),
                ('/orders/%s/quote/reject' % self.quoted,
                    {'reason': 'x' * 2001}, 'invalid_field',
                    {'reason': 'max_length'}),
                ('/orders/%s/cancel' % self.accepted, {'reason': 3},
                    'invalid_field', {'reason': 'type'}),
                ('/orders/%s/quote/confirm' % self.quoted,
                    {'please': True}, 'invalid_field', {'please': 'unknown'}),
                # Confirming takes no reason: it would be lost
                ('/orders/%s/quote/confirm' % self.quoted,
                    {'reason': '好'}, 'invalid_evidence',
                    {'reason': 'unknown'}),
                ]:
            with self.subTest(path=path, data=data):
                self.refused(422, code, 'POST', path, data, fields=fields)
        self.refused(400, 'invalid_json', 'POST',
            '/orders/%s/quote/confirm' % self.assessed, raw=b'{',
            content_type='application/json')
        self.refused(422, 'invalid_field', 'POST',
            '/engineer/inbox/%s/decline' % self.accepted, {},
            token=self.engineer, fields={'reason': 'required'})
        self.assertUnchanged()
        self.assertTrue(customer)

    # ---- tokens ------------------------------------------------------

    def test_expired_and_forged_tokens(self):
        server = self.server
        customer = server.customer()
        engineer = server.engineer(0)
        self.assertEqual(server.call('GET', '/me', token=customer)[0], 200)
        self.assertEqual(server.call('GET', '/engineer/inbox',
                token=engineer)[0], 200)
        # Thirty-one days later
        old = '2000-01-01 00:00:00'
        server.sql('UPDATE web_user_session SET create_date = %s, '
            'write_date = %s WHERE key = %s', (old, old, customer[2:]))
        server.sql('UPDATE instrument_service_api_device_session '
            'SET expires = %s WHERE secret_hash = %s',
            (old, hashlib.sha256(engineer[2:].encode()).hexdigest()))
        for token, path in [(customer, '/me'), (customer, '/orders'),
                (engineer, '/engineer/inbox'), (engineer, '/engineer/tasks')]:
            with self.subTest(token=token[:2], path=path):
                self.refused(401, 'unauthorized', 'GET', path,
                    token=token)
                english = server.call('GET', path, token=token,
                    headers={'Accept-Language': 'en'})[1]['error']
                self.assertIn('log in', english['message'])
        # The expired customer session is gone
        self.assertEqual(server.count('web_user_session', 'key = %s',
                (customer[2:],)), 0)
        people = server.people['engineers']
        for token in ['c.' + 'f' * 64, 'c.' + customer[2:].upper(),
                'e.%s.%s' % (people[0]['id'], 'a' * 64),
                'e.' + self.engineer[2:].swapcase(), self.engineer[:-1],
                'e.%s.%s' % (people[0]['id'], self.engineer[2:]),
                'e.99999999999999999999.x', 'e.-1.x', 'e..', 'c.%00',
                'Bearer', 'c.' + 'x' * 5000]:
            with self.subTest(token=token[:30]):
                self.refused(401, 'unauthorized', 'GET',
                    '/orders' if token.startswith('c') else
                    '/engineer/inbox', token=token)
        for header in ['Basic YWRtaW46YWRtaW4=', 'bearer', 'Token abc',
                'Bearer  ', self.customer]:
            with self.subTest(header=header):
                self.refused(401, 'unauthorized', 'GET', '/orders',
                    token='', headers={'Authorization': header})

    def test_session_pushed_on(self):
        """A customer session is checked in the request's own transaction;
        used after a tenth of its lifetime (3 of 30 days) it is pushed on,
        and a customer made inactive is refused at once"""
        server = self.server
        customer = server.customer()
        key = customer[2:]

        def last_written():
            (value,), = server.sql('SELECT COALESCE(write_date, create_date) '
                'FROM web_user_session WHERE key = %s', (key,))
            return dt.datetime.fromisoformat(str(value)[:19])
        now = dt.datetime.utcnow()
        for days, pushed in [(2, False), (4, True)]:
            with self.subTest(days=days):
                old = (now - dt.timedelta(days=days)).strftime(
                    '%Y-%m-%d %H:%M:%S')
                server.sql('UPDATE web_user_session SET create_date = %s, '
                    'write_date = %s WHERE key = %s', (old, old, key))
                status, body = server.call('GET', '/orders', token=customer)
                self.assertEqual(status, 200, body)
                self.assertEqual(
                    abs(last_written() - now) < dt.timedelta(minutes=5),
                    pushed)
        server.sql('UPDATE web_user SET active = %s WHERE id IN (SELECT '
            '"user" FROM web_user_session WHERE key = %s)', (False, key))
        self.refused(401, 'unauthorized', 'GET', '/orders', token=customer)



if __name__ == '__main__':
    unittest.main()
