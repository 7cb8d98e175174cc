# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The access matrix: a second customer and a second engineer try every
endpoint on the first customer's orders and files and the first engineer's
tasks; every attempt is refused, nothing leaks and nothing changes.

The matrix is built from api.ROUTES: a route that needs a token and has no
entry here makes test_every_route_is_covered fail."""
import json
import unittest
import uuid

from trytond.modules.instrument_service_api.api import ROUTES

from .server import ServerTestCase, image, pdf

CONTACT = {
    'name': '王秘密', 'company': '甲方仪器有限公司', 'department': '设备科',
    'position': '工程师', 'phone': '13911112222',
    'address': '北京市 海淀区 秘密路 8 号', 'email': 'secret@victim.example',
    }
INTRUDER_CONTACT = {
    'name': '赵闯入', 'company': '乙方公司', 'phone': '13700001111'}
# What a victim's order holds that nobody else may read
SECRETS = [CONTACT['name'], CONTACT['phone'], CONTACT['email'],
    CONTACT['address'], 'SECRET-FAULT', 'SECRET-PLAN', 'SECRET-REPORT',
    'SECRET-ASSESSMENT', 'victim-line', 'victim-upload', 'victim-step',
    'victim-pending', 'victim-list']
REPAIR_LINE = {
    'instrument_name': '气相色谱仪', 'brand': 'Shimadzu', 'model': 'GC-2030',
    'fault_description': 'SECRET-FAULT', 'quantity': 1}
INTRUDER_LINE = {**REPAIR_LINE, 'fault_description': '我的故障'}
RECYCLE_LINE = {
    'instrument_name': '旧离心机', 'brand': 'Eppendorf', 'quantity': 3}
LOST, NEVER = 1, 2  # the engineer who lost the offers, the one never offered


def body_for(method, path):
    "A request body that the owner could send with success"
    if path.endswith('/reject') or path.endswith('/decline') or \
            path.endswith('/cancel'):
        return {'reason': '我想看看能不能操作别人的订单'}
    if path.endswith('/rating'):
        return {'attitude': 1, 'quality': 1, 'overall': 1}
    if path.endswith('/steps'):
        return None  # depends on the order, see step_for
    if path == '/auth/wechat/link':
        # A WeChat of the caller's own
        return {'code': 'openid:oe' + uuid.uuid4().hex}
    if method == 'POST':
        return {}
    return None


class AccessTestCase(ServerTestCase):

    # Engineer NEVER takes training only: the victim's orders are never
    # offered to them
    server_options = {'engineers': 3,
        'engineer_types': {NEVER: ['training']}}

    # ---- the victim's world ----------------------------------------------

    @classmethod
    def ok(cls, method, path, data=None, token=None, status=200):
        got, body = cls.server.call(method, path, data, token)
        assert got == status, (method, path, got, body)
        return body

    @classmethod
    def upload(cls, path, name, content, token):
        got, body = cls.server.upload(path, name, content, token)
        assert got == 201, (path, got, body)
        return body['id']

    @classmethod
    def submit(cls, token, order_type, line, contact=CONTACT, key=None):
        key = key or uuid.uuid4().hex
        got, order = cls.server.call('POST', '/orders', {
                'type': order_type, 'contact': contact, 'lines': [line]},
            token, headers={'Idempotency-Key': key})
        assert got == 201, (got, order)
        return order['id'], key

    @classmethod
    def step(cls, order_id, action, **values):
        return cls.ok('POST', '/engineer/tasks/%s/steps' % order_id,
            {'action': action, **values}, cls.e_owner)

    @classmethod
    def onsite_to_quote(cls, order_id, photo_name):
        cls.step(order_id, 'visit_onsite',
            appointment='2035-01-02T10:00:00+08:00')
        photo = cls.upload('/engineer/tasks/%s/files' % order_id,
            photo_name + '.jpg', image('JPEG'), cls.e_owner)
        cls.step(order_id, 'submit_assessment',
            description='SECRET-ASSESSMENT', photos=[photo], check_in={
                'time': '2035-01-02T10:05:00+08:00', 'latitude': 39.9,
                'longitude': 116.3, 'accuracy': 8})
        cls.step(order_id, 'submit_quote', description='SECRET-PLAN',
            amount='1999.90')
        return photo

    @classmethod
    def build(cls):
        server = cls.server
        cls.victim = server.customer('victim-' + uuid.uuid4().hex)
        cls.intruder_openid = 'intruder-' + uuid.uuid4().hex
        cls.intruder = server.customer(cls.intruder_openid)
        cls.e_owner = server.engineer(0)
        cls.e_lost = server.engineer(LOST)
        cls.e_never = server.engineer(NEVER)

        files = cls.files = {}
        files['upload'] = cls.upload('/files', 'victim-upload.jpg',
            image('JPEG'), cls.victim)
        files['line'] = cls.upload('/files', 'victim-line.png',
            image('PNG'), cls.victim)
        files['pdf'] = cls.upload('/files', 'victim-list.pdf', pdf(),
            cls.victim)

        orders = cls.orders = {}
        orders['offered'], cls.victim_key = cls.submit(
            cls.victim, 'repair', REPAIR_LINE)
        orders['accepted'], _ = cls.submit(cls.victim, 'repair',
            {**REPAIR_LINE, 'files': [files['line']]})
        orders['quote'], _ = cls.submit(cls.victim, 'recycle',
            {**RECYCLE_LINE, 'files': [files['pdf']]})
        orders['report'], _ = cls.submit(cls.victim, 'repair', REPAIR_LINE)
        orders['rating'], _ = cls.submit(cls.victim, 'repair', REPAIR_LINE)
        for name in ['accepted', 'quote', 'report', 'rating']:
            cls.ok('POST', '/engineer/inbox/%s/accept' % orders[name],
                token=cls.e_owner)
        files['step'] = cls.onsite_to_quote(orders['quote'], 'victim-step')
        files['pending'] = cls.upload(
            '/engineer/tasks/%s/files' % orders['quote'],
            'victim-pending.jpg', image('JPEG'), cls.e_owner)
        cls.onsite_to_quote(orders['report'], 'victim-step-2')
        cls.ok('POST', '/orders/%s/quote/confirm' % orders['report'],
            token=cls.victim)
        cls.step(orders['report'], 'submit_report', report='SECRET-REPORT')
        cls.step(orders['rating'], 'visit_remote')
        cls.step(orders['rating'], 'finish_remote',
            description='SECRET-ASSESSMENT')

        # The intruders' own world: an order of the intruding customer that
        # the intruding engineer works on
        cls.own_order, _ = cls.submit(cls.intruder, 'repair',
            INTRUDER_LINE, contact=INTRUDER_CONTACT)
        cls.ok('POST', '/engineer/inbox/%s/accept' % cls.own_order,
            token=cls.e_lost)

        notifications = cls.ok('GET', '/engineer/notifications',
            token=cls.e_owner)
        assert notifications['items'], notifications
        cls.notification = notifications['items'][0]['id']
        cls.numbers = [cls.ok('GET', '/orders/%s' % i, token=cls.victim)[
                'number'] for i in orders.values()]
        cls.before = cls.snapshot()

    @classmethod
    def snapshot(cls):
        "Everything of the victims that an intrusion could change"
        server = cls.server
        state = {}
        for name, order_id in cls.orders.items():
            state['order', name] = cls.ok('GET', '/orders/%s' % order_id,
                token=cls.victim)
            if name != 'offered':
                state['task', name] = cls.ok('GET',
                    '/engineer/tasks/%s' % order_id, token=cls.e_owner)
        for name, file_id in cls.files.items():
            token = cls.victim if name in {'upload', 'line', 'pdf'} \
                else cls.e_owner
            for path in ['/files/%s', '/files/%s/thumbnail']:
                status, _, content = server.request('GET', path % file_id,
                    token=token)
                if status >= 400:
                    # The same refusal; each answer has its own request id
                    content = json.loads(content)
                    del content['error']['request_id']
                state[path, name] = (status, content)
        state['me'] = cls.ok('GET', '/me', token=cls.victim)
        state['my orders'] = cls.ok('GET', '/orders?page_size=100',
            token=cls.victim)
        notifications = cls.ok('GET', '/engineer/notifications?page_size=100',
            token=cls.e_owner)
        state['notification'] = [(n['id'], n['unread'])
            for n in notifications['items'] if n['id'] <= cls.notification]
        ids = ','.join(str(i) for i in cls.orders.values())
        for table in ['instrument_service_order_progress',
                'instrument_service_order_quote',
                'instrument_service_order_report',
                'instrument_service_order_offer']:
            state[table] = server.sql(
                'SELECT id, state FROM "%s" WHERE "order" IN (%s) '
                'ORDER BY id' % (table, ids)
                if table != 'instrument_service_order_progress' else
                'SELECT id, action FROM "%s" WHERE "order" IN (%s) '
                'ORDER BY id' % (table, ids))
        state['attachments'] = server.sql(
            'SELECT id, resource, name FROM ir_attachment WHERE id IN (%s) '
            'ORDER BY id' % ','.join(str(i) for i in cls.files.values()))
        state['orders'] = server.sql(
            'SELECT id, state, step, engineer, customer, contact_name '
            'FROM instrument_service_order WHERE id IN (%s) '
            'ORDER BY id' % ids)
        return state

    def assertNothingChanged(self):
        after = self.snapshot()
        for key, value in self.before.items():
            self.assertEqual(after[key], value, key)

    # ---- the matrix -------------------------------------------------------

    def step_for(self, name):
        "A step the victim's engineer could submit now on order name"
        return {
            'offered': {'action': 'visit_remote'},
            'accepted': {'action': 'visit_remote'},
            'quote': {'action': 'submit_quote', 'description': 'x',
                'amount': '1.00'},
            'report': {'action': 'submit_report', 'report': 'x'},
            'rating': {'action': 'submit_report', 'report': 'x'},
            }[name]

    def matrix(self):
        """(method, path) -> list of attempts (who, path, data, outcome);
        outcome is 'refused' (403/404) or 'own' (answers with the caller's
        own data only)"""
        customers = [('customer', self.intruder)]
        engineers = [('lost engineer', self.e_lost),
            ('never offered engineer', self.e_never)]
        everyone = customers + engineers
        order_ids = list(self.orders.items())
        file_ids = list(self.files.items())
        attempts = {}

        def add(method, path, attempt):
            attempts.setdefault((method, path), []).append(attempt)

        for spec in ROUTES:
            key = (spec.method, spec.path)
            if spec.auth not in {'customer', 'engineer', 'any'}:
                continue
            callers = {'customer': customers, 'engineer': engineers,
                'any': everyone}[spec.auth]
            if '{order_id}' in spec.path:
                for who, token in callers:
                    for name, order_id in order_ids:
                        data = body_for(spec.method, spec.path)
                        if spec.path.endswith('/steps'):
                            data = self.step_for(name)
                        if (spec.path.startswith('/engineer/inbox/')
                                and token == self.e_lost
                                and name == 'offered'):
                            # Still offered to them: theirs to answer
                            continue
                        add(*key, (who, token, spec.path.replace(
                                    '{order_id}', str(order_id)),
                                data, 'refused', spec.multipart))
            elif '{file_id}' in spec.path:
                for who, token in callers:
                    for name, file_id in file_ids:
                        add(*key, (who, token, spec.path.replace(
                                    '{file_id}', str(file_id)),
                                None, 'refused', False))
            elif '{notification_id}' in spec.path:
                for who, token in callers:
                    add(*key, (who, token, spec.path.replace(
                                '{notification_id}',
                                str(self.notification)),
                            {}, 'refused', False))
            elif '{' not in spec.path:
                for who, token in callers:
                    add(*key, (who, token, spec.path,
                            body_for(spec.method, spec.path), 'own',
                            spec.multipart))
        return attempts

    def attempt(self, method, path, token, data, multipart):
        if multipart:
            return self.server.upload(path, 'intruder.jpg', image('JPEG'),
                token)
        if method == 'POST' and path == '/orders':
            # With the victim's own Idempotency-Key: must not find the
            # victim's order
            return self.server.call(method, path, {
                    'type': 'repair', 'contact': INTRUDER_CONTACT,
                    'lines': [INTRUDER_LINE]}, token,
                headers={'Idempotency-Key': self.victim_key})
        if method == 'PUT' and path == '/me':
            data = {'contact': INTRUDER_CONTACT}
        if path == '/auth/logout':
            # A token of its own: the intruder keeps the one of the matrix
            token = (self.server.customer(self.intruder_openid)
                if token == self.intruder else self.server.engineer(
                    LOST if token == self.e_lost else NEVER))
        if path == '/engineer/notifications/wait':
            path += '?timeout=0'
        return self.server.call(method, path, data, token)

    @staticmethod
    def order_ids(route, body):
        "The ids of the orders a list or an order answer shows"
        if not body:
            return set()
        if 'items' in body:
            key = 'order_id' if 'notifications' in route else 'id'
            return {item[key] for item in body['items']}
        if route == '/orders':
            return {body['id']}
        return set()

    def test_every_route_is_covered(self):
        "A route that needs a token and has no access attempt fails here"
        matrix = self.matrix()
        needing_token = {(r.method, r.path) for r in ROUTES
            if r.auth in {'customer', 'engineer', 'any'}}
        self.assertTrue(needing_token)
        self.assertEqual(needing_token - set(matrix), set())
        for key in needing_token:
            self.assertTrue(matrix[key], key)
        for route in ROUTES:
            self.assertIn(route.auth, {None, 'customer', 'engineer', 'any'},
                (route.method, route.path))

    def test_intruders_are_refused(self):
        "Every endpoint, every victim's object, every intruder: refused"
        secrets = SECRETS
        count = 0
        for (method, route), attempts in sorted(self.matrix().items()):
            for who, token, path, data, outcome, multipart in attempts:
                with self.subTest(route='%s %s' % (method, route),
                        path=path, who=who):
                    count += 1
                    status, body = self.attempt(method, path, token, data,
                        multipart)
                    text = json.dumps(body, ensure_ascii=False)
                    for secret in secrets:
                        self.assertNotIn(secret, text)
                    if outcome == 'refused':
                        allowed = {403, 404}
                        if (route.endswith('/accept')
                                and token == self.e_lost):
                            # The losers of an offer learn it is taken
                            allowed.add(409)
                        self.assertIn(status, allowed, body)
                        self.assertIn(body['error']['code'], {
                                'not_found', 'forbidden', 'already_taken'})
                        if who != 'lost engineer':
                            for number in self.numbers:
                                self.assertNotIn(number, text)
                    else:
                        self.assertIn(status, {200, 201, 204}, body)
                        if who != 'lost engineer':
                            # The engineer who was offered the victim's
                            # orders may see their summary, nobody else
                            self.assertFalse(
                                self.order_ids(route, body)
                                & set(self.orders.values()), body)
                            for number in self.numbers:
                                self.assertNotIn(number, text)
        self.assertGreater(count, 100)
        self.assertNothingChanged()
        # The victims still work as before
        self.assertEqual(self.ok('GET', '/me', token=self.victim)['contact'],
            CONTACT)

    def test_wrong_kind_of_token(self):
        "Customer tokens on engineer routes and the reverse, none, forged"
        server = self.server
        forged = ['c.' + uuid.uuid4().hex, 'e.%s.%s' % (
                server.people['engineers'][0]['id'], uuid.uuid4().hex),
            'e.x.y', 'e.1', 'c.', 'x.' + uuid.uuid4().hex,
            self.victim + 'x', self.e_owner[:-1]]
        for spec in ROUTES:
            if spec.auth is None:
                continue
            path = spec.path.replace('{order_id}',
                str(self.orders['quote'])).replace(
                '{file_id}', str(self.files['step'])).replace(
                '{notification_id}', str(self.notification))
            data = body_for(spec.method, spec.path)
            if spec.path.endswith('/steps'):
                data = self.step_for('quote')
            wrong = {'customer': [self.e_owner, self.e_never],
                'engineer': [self.victim, self.intruder],
                'any': []}[spec.auth]
            for token in [None, *forged, *wrong]:
                with self.subTest(route=(spec.method, spec.path),
                        token=token):
                    if spec.multipart:
                        status, body = server.upload(path, 'a.jpg',
                            image('JPEG'), token)
                    else:
                        status, body = server.call(spec.method, path, data,
                            token)
                    self.assertEqual(status, 401, body)
                    self.assertEqual(body['error']['code'], 'unauthorized')
            # A token sent without its scheme is no token
            status, body = server.call(spec.method, path, data,
                headers={'Authorization': self.victim})
            self.assertEqual(status, 401, body)
        self.assertNothingChanged()

    def test_foreign_file_ids(self):
        """The victim's file ids used in one's own writes: refused with the
        field named, and the files stay where they were"""
        server = self.server
        for name in ['upload', 'line', 'step', 'pending']:
            with self.subTest(file=name):
                status, body = server.call('POST', '/orders', {
                        'type': 'repair', 'contact': INTRUDER_CONTACT,
                        'lines': [{**INTRUDER_LINE,
                                'files': [self.files[name]]}]},
                    self.intruder,
                    headers={'Idempotency-Key': uuid.uuid4().hex})
                self.assertEqual(status, 422, body)
                self.assertEqual(body['error']['code'], 'invalid_field')
                self.assertIn('lines[0].files', body['error']['fields'])
                status, body = server.call('POST',
                    '/engineer/tasks/%s/steps' % self.own_order,
                    {'action': 'visit_remote',
                        'photos': [self.files[name]]}, self.e_lost)
                self.assertEqual(status, 422, body)
                self.assertEqual(body['error']['code'], 'invalid_evidence')
                text = json.dumps(body, ensure_ascii=False)
                for secret in SECRETS:
                    self.assertNotIn(secret, text)
        # The intruder's own order has not moved
        own = self.ok('GET', '/engineer/tasks/%s' % self.own_order,
            token=self.e_lost)
        self.assertEqual(own['progress']['current_step'], 'accepted')
        self.assertNothingChanged()

    def test_logout_revokes(self):
        "Logout revokes the token used, and that one only"
        server = self.server
        for login in [lambda: server.customer(self.intruder_openid),
                lambda: server.engineer(LOST)]:
            first, second = login(), login()
            path = '/me' if first.startswith('c.') else '/engineer/inbox'
            self.assertEqual(server.call('GET', path, token=first)[0], 200)
            status, body = server.call('POST', '/auth/logout', token=first)
            self.assertEqual((status, body), (204, None))
            status, body = server.call('GET', path, token=first)
            self.assertEqual(status, 401, body)
            self.assertEqual(body['error']['code'], 'unauthorized')
            status, body = server.call('POST', '/auth/logout', token=first)
            self.assertEqual(status, 401, body)
            # The other sessions of the same person go on
            self.assertEqual(server.call('GET', path, token=second)[0], 200)
            status, _ = server.call('POST', '/auth/logout', token=second)
            self.assertEqual(status, 204)
        self.assertEqual(server.call('GET', '/me', token=self.intruder)[0],
            200)
        self.assertEqual(server.call('GET', '/engineer/inbox',
                token=self.e_lost)[0], 200)


if __name__ == '__main__':
    unittest.main()
