# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""What the customer and engineer apps are built on, over real HTTP: offers
that identify no customer, messages wholly in the caller's language, files
in the order they were given, documents on every order and with reports,
step forms read from the workflow data (and following its edits), writes
an offline outbox may retry, and the client configuration."""
import io
import json
import re
import threading
import uuid
import zipfile

from .server import ServerTestCase, image, pdf

CONTACT = {
    'name': '赵六', 'company': '某某生物科技有限公司', 'department': '质检部',
    'position': '主管', 'phone': '13911112222',
    'address': '上海市浦东新区张江高科技园区碧波路690号3号楼',
    'email': 'zhao@example.com',
    }
LINE = {'instrument_name': '液相色谱仪', 'brand': 'Agilent', 'model': '1260',
    'fault_description': '泵压力波动', 'quantity': 1}
TRAINING = {'instrument_name': '气相色谱仪', 'brand': 'Shimadzu',
    'appointment_time': '2031-06-03T09:30:00+08:00'}
TYPES = ['repair', 'maintenance', 'recycle', 'rental', 'training',
    'validation', 'selection', 'installation']
# Words a Chinese message may carry: codes, names of formats and headers
ALLOWED_LATIN = {'JPEG', 'PNG', 'WebP', 'HEIC', 'PDF', 'Word', 'Excel', 'JSON',
    'Idempotency', 'Key', 'Content', 'Type', 'application', 'json', 'true',
    'false', 'null', 'ISO', 'CNY', 'multipart'}
CJK = re.compile('[\u4e00-\u9fff]')


def line_for(order_type):
    line = {**LINE, 'category': '色谱'}
    if order_type == 'training':
        return dict(TRAINING)
    line.pop('fault_description') if order_type not in {
        'repair', 'maintenance'} else None
    if order_type == 'validation':
        line['validation_categories'] = ['iq']
    if order_type == 'selection':
        return {'instrument_name': '水质重金属检测', 'requirement': '检出限1ppb',
            'quantity': 1}
    return line


def docx():
    "A minimal Word document"
    output = io.BytesIO()
    with zipfile.ZipFile(output, 'w') as archive:
        archive.writestr('[Content_Types].xml', '<Types/>')
        archive.writestr('word/document.xml', '<w:document/>')
    return output.getvalue()


class AppsTestCase(ServerTestCase):
    server_options = {'engineers': 2}

    # ---- helpers -------------------------------------------------------

    def upload(self, token, name, content, path='/files', status=201):
        got, body = self.server.upload(path, name, content, token)
        self.assertEqual(got, status, body)
        return body

    def submit(self, token, order_type='repair', line=None, files=(),
            contact=CONTACT):
        return self.call('POST', '/orders', {
                'type': order_type, 'contact': contact,
                'lines': [line or line_for(order_type)],
                'files': list(files),
                }, token, status=201,
            headers={'Idempotency-Key': uuid.uuid4().hex})

    def accept(self, order_id, engineer):
        return self.call('POST', '/engineer/inbox/%s/accept' % order_id,
            token=engineer)

    def step(self, order_id, engineer, status=200, headers=None, **values):
        return self.call('POST', '/engineer/tasks/%s/steps' % order_id,
            values, engineer, status=status, headers=headers)

    def assessed(self, customer, engineer, photos=1):
        "An order at step 3, waiting for the quote"
        order = self.submit(customer)
        self.accept(order['id'], engineer)
        self.step(order['id'], engineer, action='visit_onsite',
            appointment='2031-05-29T10:00:00+08:00')
        uploads = [self.upload(engineer, 'site%s.jpg' % i, image(),
                '/engineer/tasks/%s/files' % order['id'])['id']
            for i in range(photos)]
        self.step(order['id'], engineer, action='submit_assessment',
            description='单向阀堵塞', photos=uploads,
            check_in={'time': '2031-05-29T10:02:00+08:00',
                'latitude': 31.2, 'longitude': 121.6, 'accuracy': 8,
                'coordinate_system': 'gcj02'})
        return order['id']

    def working(self, customer, engineer):
        "An order at step 5, the quote confirmed"
        order_id = self.assessed(customer, engineer)
        self.step(order_id, engineer, action='submit_quote',
            description='更换单向阀', amount='1200')
        self.call('POST', '/orders/%s/quote/confirm' % order_id,
            token=customer)
        return order_id

    def action(self, view, name):
        actions = {a['action']: a for a in view['progress']['actions']}
        self.assertIn(name, actions)
        return actions[name]

    def transition(self, order_type, action):
        "The id of the transition of a workflow, through the back office"
        ids = self.server.back_office(
            'model.instrument_service.workflow.transition.search',
            [('workflow.order_type', '=', order_type),
                ('action', '=', action)], 0, None, None)
        self.assertEqual(len(ids), 1)
        return ids[0]

    def edit_transition(self, order_type, action, **values):
        """Change the evidence rules of a transition as an administrator
        does in the back office; they are put back after the test"""
        transition = self.transition(order_type, action)
        old, = self.server.back_office(
            'model.instrument_service.workflow.transition.read',
            [transition], list(values))
        self.server.back_office(
            'model.instrument_service.workflow.transition.write',
            [transition], values)
        self.addCleanup(self.server.back_office,
            'model.instrument_service.workflow.transition.write',
            [transition], {k: old[k] for k in values})

    # ---- defects -------------------------------------------------------

    def test_offers_identify_no_customer(self):
        "Before accepting: type, instrument, region, times; no customer"
        customer = self.server.customer()
        engineer = self.server.engineer(0)
        repair = self.submit(customer)
        training = self.submit(customer, 'training')
        inbox = self.call('GET', '/engineer/inbox?page_size=100',
            token=engineer)
        offers = {o['id']: o for o in inbox['items']}
        for order in [repair, training]:
            offer = offers[order['id']]
            text = json.dumps(offer, ensure_ascii=False)
            for value in CONTACT.values():
                self.assertNotIn(value, text)
            for secret in ['碧波路', '张江高科技园区', '某某', '赵']:
                self.assertNotIn(secret, text)
            self.assertEqual((offer['province'], offer['city'],
                    offer['district']), ('上海市', '上海市', '浦东新区'))
            self.assertNotIn('name', offer)
            self.assertNotIn('company', offer)
            self.assertGreater(offer['answer_by'], offer['submitted_at'])
        self.assertEqual(offers[repair['id']]['title'],
            '仪器维修 · 液相色谱仪 Agilent 1260')
        self.assertEqual(offers[repair['id']]['instruments'], [{
                    'instrument_name': '液相色谱仪', 'brand': 'Agilent',
                    'model': '1260', 'quantity': 1}])
        self.assertIsNone(offers[repair['id']]['requested_time'])
        self.assertEqual(offers[training['id']]['requested_time'],
            TRAINING['appointment_time'])
        # Nor do the notices of the offers, which 消息 lists
        notifications = self.call('GET',
            '/engineer/notifications?page_size=100', token=engineer)
        offered = [n for n in notifications['items']
            if n['order_id'] in {repair['id'], training['id']}]
        self.assertEqual(len(offered), 2, offered)
        text = json.dumps(offered, ensure_ascii=False)
        for value in CONTACT.values():
            self.assertNotIn(value, text)
        # Once accepted, the engineer sees whom to call
        task = self.accept(repair['id'], engineer)
        self.assertEqual(task['contact'], CONTACT)

    def test_messages_in_the_callers_language(self):
        "No English inside a Chinese message, no Chinese in an English one"
        server = self.server
        customer = server.customer()
        engineer = server.engineer(0)
        other = server.engineer(1)
        waiting = self.submit(customer)['id']
        accepted = self.submit(customer)['id']
        self.accept(accepted, engineer)
        working = self.working(customer, engineer)
        refusals = [
            ('POST', '/orders/%s/quote/confirm' % accepted, None, customer),
            ('POST', '/orders/%s/rating' % accepted,
                {'attitude': 5, 'quality': 5, 'overall': 5}, customer),
            ('POST', '/engineer/tasks/%s/steps' % accepted,
                {'action': 'submit_report', 'report': 'x'}, engineer),
            ('POST', '/engineer/tasks/%s/steps' % accepted,
                {'action': 'visit_onsite'}, engineer),
            ('POST', '/engineer/tasks/%s/steps' % accepted,
                {'action': 'visit_onsite',
                    'appointment': '2001-01-01T10:00:00+08:00'}, engineer),
            ('POST', '/engineer/inbox/%s/accept' % accepted, None, other),
            ('POST', '/orders/%s/cancel' % working, {'reason': '不要了'},
                customer),
            ('POST', '/orders/%s/report/reject' % working, {'reason': 'x'},
                customer),
            ('POST', '/orders', {'type': 'repair', 'contact': {
                        'name': ' ', 'phone': 'x'},
                    'lines': [{'quantity': 0}]}, customer),
            ('GET', '/orders?page=0&state=lost', None, customer),
            ('POST', '/files', None, customer),
            ]
        self.assertTrue(waiting)
        seen = set()
        for method, path, data, token in refusals:
            for language in ['zh_CN', 'en']:
                with self.subTest(path=path, data=data, language=language):
                    status, body = server.call(method, path, data, token,
                        headers={'Accept-Language': language,
                            'Idempotency-Key': uuid.uuid4().hex})
                    self.assertGreaterEqual(status, 400, body)
                    error = body['error']
                    seen.add(error['code'])
                    texts = [error['message']] + [f['message']
                        for f in error.get('fields', {}).values()]
                    for text in texts:
                        if language == 'zh_CN':
                            self.assertRegex(text, CJK)
                            # But the order's number and the fields' paths
                            for name in sorted(error.get('fields', {}),
                                    key=len, reverse=True):
                                text = text.replace(name, '')
                            words = set(re.findall(r'[A-Za-z]{3,}',
                                    re.sub(r'FW\d+', '', text)))
                            self.assertLessEqual(words, ALLOWED_LATIN, text)
                        else:
                            self.assertNotRegex(text, CJK)
        self.assertLessEqual({'step_not_allowed', 'invalid_evidence',
                'already_taken', 'invalid_field'}, seen)

    def test_files_in_the_order_given(self):
        "Photos and documents come back in the order the person chose"
        customer = self.server.customer()
        engineer = self.server.engineer(0)
        photos = [self.upload(customer, '%s.jpg' % i,
                image(color=(i * 40, 0, 0)))['id'] for i in range(3)]
        documents = [self.upload(customer, '%s.pdf' % i, pdf(str(i)))['id']
            for i in range(3)]
        line = {**LINE, 'files': [photos[2], photos[0], photos[1]]}
        order = self.submit(customer, line=line,
            files=[documents[1], documents[2], documents[0]])
        self.assertEqual([f['id'] for f in order['lines'][0]['files']],
            [photos[2], photos[0], photos[1]])
        self.assertEqual([f['id'] for f in order['files']],
            [documents[1], documents[2], documents[0]])
        # The engineer's photos of a step too
        self.accept(order['id'], engineer)
        self.step(order['id'], engineer, action='visit_onsite',
            appointment='2031-05-29T10:00:00+08:00')
        path = '/engineer/tasks/%s/files' % order['id']
        site = [self.upload(engineer, 'site%s.jpg' % i, image(), path)['id']
            for i in range(3)]
        view = self.step(order['id'], engineer, action='submit_assessment',
            description='评估', photos=[site[1], site[2], site[0]],
            check_in={'time': '2031-05-29T10:00:00+08:00', 'latitude': 31,
                'longitude': 121, 'accuracy': 5})
        record, = view['progress']['steps'][2]['records']
        self.assertEqual([p['id'] for p in record['photos']],
            [site[1], site[2], site[0]])
        # As the customer sees it
        view = self.call('GET', '/orders/%s' % order['id'], token=customer)
        self.assertEqual([p['id'] for p in view['progress']['steps'][2][
                    'records'][0]['photos']], [site[1], site[2], site[0]])

    def test_documents_on_every_order(self):
        """Every type takes photos and Word, Excel and PDF documents for the
        whole order; a line that takes photos still takes photos only"""
        server = self.server
        customer = server.customer()
        stranger = server.customer()
        engineer = server.engineer(1)
        word, manual = docx(), pdf('说明书')
        for order_type in TYPES:
            with self.subTest(order_type=order_type):
                document = self.upload(customer, '说明书.pdf', manual)
                letter = self.upload(customer, '委托书.docx', word)
                photo = self.upload(customer, '铭牌.jpg', image())
                order = self.submit(customer, order_type,
                    files=[document['id'], letter['id'], photo['id']])
                self.assertEqual([(f['name'], f['mimetype'])
                        for f in order['files']], [
                        ('说明书.pdf', 'application/pdf'),
                        ('委托书.docx', 'application/vnd.openxmlformats-'
                            'officedocument.wordprocessingml.document'),
                        ('铭牌.jpg', 'image/jpeg')])
                status, _, content = server.request('GET',
                    document['url'][len('/api/v1'):], token=customer)
                self.assertEqual((status, content), (200, manual))
                self.assertEqual(server.call('GET', document['url'][
                            len('/api/v1'):], token=stranger)[0], 404)
                self.accept(order['id'], engineer)
                status, _, content = server.request('GET',
                    letter['url'][len('/api/v1'):], token=engineer)
                self.assertEqual((status, content), (200, word))
        # A line of a type that takes photos refuses a document
        document = self.upload(customer, 'a.pdf', pdf())
        status, body = server.call('POST', '/orders', {
                'type': 'repair', 'contact': CONTACT,
                'lines': [{**LINE, 'files': [document['id']]}]}, customer,
            headers={'Idempotency-Key': uuid.uuid4().hex})
        self.assertEqual(status, 422, body)
        self.assertEqual(body['error']['fields']['lines[0].files']['code'],
            'images_only')

    # ---- what the apps need --------------------------------------------

    def test_reports_are_documents(self):
        """The report step takes the report text and files; the customer
        opens them from the order, the history shows them"""
        server = self.server
        customer = server.customer()
        engineer = server.engineer(0)
        order_id = self.working(customer, engineer)
        path = '/engineer/tasks/%s/files' % order_id
        report_pdf = pdf('验证报告')
        document = self.upload(engineer, '验证报告.pdf', report_pdf, path)
        photo = self.upload(engineer, '数据.jpg', image(), path)
        task = self.call('GET', '/engineer/tasks/%s' % order_id,
            token=engineer)
        fields = {f['name']: f for f in self.action(
                task, 'submit_report')['fields']}
        self.assertEqual(fields['files']['kind'], 'files')
        self.assertEqual(fields['files']['upload'], '/api/v1' + path)
        self.assertTrue(fields['report']['required'])
        self.step(order_id, engineer, action='submit_report',
            report='压力稳定，RSD 0.4%', files=[document['id'], photo['id']])
        view = self.call('GET', '/orders/%s' % order_id, token=customer)
        report = view['progress']['report']
        self.assertEqual([f['name'] for f in report['files']],
            ['验证报告.pdf', '数据.jpg'])
        self.assertEqual(view['progress']['reports'][0]['files'],
            report['files'])
        record, = view['progress']['steps'][5]['records']
        self.assertEqual([f['id'] for f in record['files']],
            [document['id'], photo['id']])
        self.assertEqual(record['report']['files'], report['files'])
        self.assertEqual(view['progress']['hint'],
            '已完成维修验证，点击查看验证报告\n请确认验证报告')
        status, headers, content = server.request('GET',
            report['files'][0]['url'][len('/api/v1'):], token=customer)
        self.assertEqual((status, content), (200, report_pdf))
        self.assertEqual(headers['Content-Type'], 'application/pdf')
        # A rejected report and its files stay in the history
        view = self.call('POST', '/orders/%s/report/reject' % order_id,
            {'reason': '缺少原始数据'}, customer)
        self.assertEqual(view['progress']['report_status'], 'revising')
        self.assertEqual(view['progress']['reports'][0]['files'],
            report['files'])

    def test_forms_follow_the_workflow_data(self):
        """An administrator's edit of an evidence rule changes the task's
        form, the refusal and the document"""
        server = self.server
        customer = server.customer()
        engineer = server.engineer(0)
        order = self.submit(customer)
        self.accept(order['id'], engineer)
        self.step(order['id'], engineer, action='visit_onsite',
            appointment='2031-05-29T10:00:00+08:00')
        task = self.call('GET', '/engineer/tasks/%s' % order['id'],
            token=engineer)
        action = self.action(task, 'submit_assessment')
        fields = {f['name']: f for f in action['fields']}
        self.assertEqual(fields['photos']['min_items'], 1)
        self.assertTrue(fields['check_in']['required'])
        self.assertEqual(action['request'], {'method': 'POST',
                'path': '/api/v1/engineer/tasks/%s/steps' % order['id']})

        self.edit_transition('repair', 'submit_assessment', min_photos=2,
            require_check_in=False)
        task = self.call('GET', '/engineer/tasks/%s' % order['id'],
            token=engineer)
        fields = {f['name']: f for f in self.action(
                task, 'submit_assessment')['fields']}
        self.assertEqual(fields['photos']['min_items'], 2)
        self.assertTrue(fields['photos']['required'])
        self.assertFalse(fields['check_in']['required'])
        path = '/engineer/tasks/%s/files' % order['id']
        photo = self.upload(engineer, 'a.jpg', image(), path)
        error = self.step(order['id'], engineer, 422,
            action='submit_assessment', description='评估',
            photos=[photo['id']])['error']
        self.assertEqual(error['code'], 'invalid_evidence')
        self.assertEqual(error['fields']['photos']['code'], 'min_items')
        self.assertIn('2', error['fields']['photos']['message'])
        schema = self.call('GET', '/openapi.json')['components']['schemas'][
            'Evidence_repair_visit_submit_assessment']
        self.assertEqual(schema['properties']['photos']['minItems'], 2)
        self.assertNotIn('check_in', schema['required'])
        second = self.upload(engineer, 'b.jpg', image(), path)
        view = self.step(order['id'], engineer, action='submit_assessment',
            description='评估', photos=[photo['id'], second['id']])
        self.assertEqual(view['progress']['current_step'], 'assessment')

        # The customer's forms too: a reason is no longer asked for
        self.edit_transition('repair', 'reject_quote', require_reason=False)
        self.step(order['id'], engineer, action='submit_quote',
            description='方案', amount='99.5')
        view = self.call('GET', '/orders/%s' % order['id'], token=customer)
        reject = self.action(view, 'reject_quote')
        self.assertEqual(reject['request']['path'],
            '/api/v1/orders/%s/quote/reject' % order['id'])
        self.assertFalse({f['name']: f for f in reject['fields']}[
                'reason']['required'])
        view = self.call('POST', '/orders/%s/quote/reject' % order['id'],
            token=customer)
        self.assertEqual(view['progress']['quote_status'], 'revising')

        # Files a report must carry
        self.edit_transition('repair', 'submit_report', min_files=1)
        self.step(order['id'], engineer, action='submit_quote',
            description='方案二', amount='80')
        self.call('POST', '/orders/%s/quote/confirm' % order['id'],
            token=customer)
        task = self.call('GET', '/engineer/tasks/%s' % order['id'],
            token=engineer)
        fields = {f['name']: f for f in self.action(
                task, 'submit_report')['fields']}
        self.assertEqual((fields['files']['required'],
                fields['files']['min_items']), (True, 1))
        error = self.step(order['id'], engineer, 422, action='submit_report',
            report='完成')['error']
        self.assertEqual(error['fields'], {'files': {'code': 'required',
                    'message': error['fields']['files']['message']}})

    def test_engineer_writes_are_retry_safe(self):
        """Accept, decline, steps and uploads with an Idempotency-Key: the
        same key answers the same and records nothing twice"""
        server = self.server
        customer = server.customer()
        engineer = server.engineer(0)
        other = server.engineer(1)

        def send(method, path, data, key, token=engineer, upload=None):
            headers = {'Idempotency-Key': key}
            if upload:
                from .server import multipart
                raw, content_type = multipart(*upload)
                return server.request(method, path, raw=raw,
                    content_type=content_type, token=token, headers=headers)
            return server.request(method, path, data, token, headers=headers)

        def records(order_id, action):
            return server.count('instrument_service_order_progress',
                '"order" = %s AND action = %s', (order_id, action))

        order_id = self.submit(customer)['id']
        key = uuid.uuid4().hex
        first = send('POST', '/engineer/inbox/%s/accept' % order_id, None,
            key)
        again = send('POST', '/engineer/inbox/%s/accept' % order_id, None,
            key)
        self.assertEqual((first[0], again[0]), (200, 200))
        self.assertEqual(first[2], again[2])
        self.assertEqual(again[1]['Idempotent-Replayed'], 'true')
        self.assertNotIn('Idempotent-Replayed', first[1])
        self.assertEqual(records(order_id, 'accept'), 1)
        # The key of another request is refused
        status, _, content = send('POST', '/engineer/inbox/%s/decline'
            % order_id, {'reason': 'x'}, key)
        self.assertEqual(status, 422)
        self.assertEqual(json.loads(content)['error']['code'],
            'idempotency_key_reused')

        # An upload sent twice is one file
        photo = image()
        path = '/engineer/tasks/%s/files' % order_id
        key = uuid.uuid4().hex
        before = server.count('ir_attachment')
        first = send('POST', path, None, key, upload=('a.jpg', photo))
        again = send('POST', path, None, key, upload=('a.jpg', photo))
        self.assertEqual((first[0], again[0]), (201, 201))
        self.assertEqual(json.loads(first[2]), json.loads(again[2]))
        self.assertEqual(server.count('ir_attachment'), before + 1)
        status, _, _ = send('POST', path, None, key,
            upload=('a.jpg', image(color=(1, 2, 3))))
        self.assertEqual(status, 422)

        # A step sent at once by an outbox that lost its answers
        key = uuid.uuid4().hex
        visit = {'action': 'visit_onsite',
            'appointment': '2031-05-29T10:00:00+08:00'}
        answers = []

        def post():
            answers.append(send('POST', '/engineer/tasks/%s/steps'
                    % order_id, visit, key))
        threads = [threading.Thread(target=post) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual({a[0] for a in answers}, {200})
        self.assertEqual(len({a[2] for a in answers}), 1)
        self.assertEqual(records(order_id, 'visit_onsite'), 1)
        self.assertEqual(sum(a[1].get('Idempotent-Replayed') == 'true'
                for a in answers), 5)
        # ... and the step that moved on is still answered the same later
        status, _, content = send('POST', '/engineer/tasks/%s/steps'
            % order_id, visit, key)
        self.assertEqual((status, content), (200, answers[0][2]))
        status, _, content = send('POST', '/engineer/tasks/%s/steps'
            % order_id, {**visit, 'description': '改期'}, key)
        self.assertEqual(status, 422)

        # A decline sent twice
        declined = self.submit(customer)['id']
        key = uuid.uuid4().hex
        for _ in range(2):
            status, _, content = send('POST', '/engineer/inbox/%s/decline'
                % declined, {'reason': '外地出差'}, key, token=other)
            self.assertEqual(status, 204, content)
        self.assertEqual(records(declined, 'decline'), 1)
        # Keys are the caller's: another engineer's same key is another
        status, _, _ = send('POST', '/engineer/inbox/%s/decline'
            % declined, {'reason': '外地出差'}, key)
        self.assertEqual(status, 204)
        self.assertEqual(records(declined, 'decline'), 2)

    def test_orders_awaiting_the_customer(self):
        "待我确认: the orders with a quote or a report to answer, a rating"
        customer = self.server.customer()
        engineer = self.server.engineer(0)
        waiting = self.submit(customer)['id']
        quoted = self.assessed(customer, engineer)
        self.step(quoted, engineer, action='submit_quote',
            description='方案', amount='100')
        revising = self.assessed(customer, engineer)
        self.step(revising, engineer, action='submit_quote',
            description='方案', amount='100')
        self.call('POST', '/orders/%s/quote/reject' % revising,
            {'reason': '太贵'}, customer)
        working = self.working(customer, engineer)
        reported = self.working(customer, engineer)
        self.step(reported, engineer, action='submit_report', report='完成')
        rating = self.submit(customer)['id']
        self.accept(rating, engineer)
        self.step(rating, engineer, action='visit_remote')
        self.step(rating, engineer, action='finish_remote',
            description='已远程解决')
        answer = self.call('GET', '/orders?awaiting_me=true', token=customer)
        self.assertEqual(sorted(o['id'] for o in answer['items']),
            sorted([quoted, reported, rating]))
        self.assertEqual(answer['total'], 3)
        everything = self.call('GET', '/orders?page_size=100',
            token=customer)
        self.assertEqual({o['id'] for o in everything['items']},
            {waiting, quoted, revising, working, reported, rating})
        # 进行中: waiting for an engineer or in progress
        self.call('POST', '/orders/%s/cancel' % waiting, {'reason': '不要了'},
            customer)
        opened = self.submit(customer)['id']
        answer = self.call('GET', '/orders?state=open&page_size=100',
            token=customer)
        self.assertEqual({o['id'] for o in answer['items']},
            {opened, quoted, revising, working, reported, rating})

    def test_client_configuration(self):
        "What the apps read at start"
        server = self.server
        server.back_office('model.instrument_service.configuration.write',
            [1], {'service_phone': '400-820-1234'})
        server.back_office(
            'model.instrument_service_api.wechat.template.create', [{
                    'action': 'submit_quote', 'template_id': 'tmpl-quote',
                    'data': 'thing1 = ${step}'}])
        config = self.call('GET', '/config')
        self.assertEqual(config['service_phone'], '400-820-1234')
        self.assertEqual(config['wechat']['subscribe_templates'].get(
                'submit_quote'), 'tmpl-quote')
        uploads = config['uploads']
        self.assertEqual(uploads['max_size'], 10 * 1024 * 1024)
        self.assertIn('application/pdf', uploads['document_types'])
        self.assertIn('image/heic', uploads['photo_types'])
        self.assertLessEqual({'pdf', 'doc', 'docx', 'xls', 'xlsx'},
            set(uploads['document_extensions']))
        self.assertLessEqual({'jpg', 'jpeg', 'png', 'webp', 'heic'},
            set(uploads['photo_extensions']))
        # What it says is what the uploads do
        customer = server.customer()
        status, _ = server.upload('/files', 'x.txt', b'hello', customer)
        self.assertEqual(status, 415)
