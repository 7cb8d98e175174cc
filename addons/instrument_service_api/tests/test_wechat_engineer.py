# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The engineers' WeChat, against the WeChat stand-in of server.py with its
two mini-programs: linking the engineers' mini-program, logging in by
WeChat (a device session like the others), and the subscription messages
of the outbox to the engineers who linked it."""
import json
import time
import unittest
import uuid

from .server import APPID, ENGINEER_APPID, APIServer, BackOfficeError
from .test_wechat_subscribe import SubscribeMixin, cut, tryton

TABLE = 'instrument_service_api_device_session'
SESSIONS = 'model.instrument_service_api.device_session.'
CONTACT = {
    'name': '赵六', 'company': '华东药检科技有限公司', 'phone': '13911112222',
    'address': '上海市浦东新区张江路188号',
    }
# The keywords of the engineers' templates
DATA = '''character_string1=${number}
thing2=${type}
thing3=${instrument}
thing4=${region}
phrase5=${event}
time6=${time}
'''
KINDS = ['offered', 'withdrawn', 'customer_action', 'cancelled', 'assigned']
TEMPLATES = '''
Template = pool.get('instrument_service_api.wechat.template')
Template.create([{
            'audience': 'engineer',
            'kind': kind,
            'template_id': 'tpl-engineer-' + kind,
            'data': args['data'],
            } for kind in args['kinds']] + [{
            'audience': 'customer',
            'action': 'accept',
            'template_id': 'tpl-accept',
            'data': 'character_string1=${number}\\nthing2=${name}',
            }])
'''
CANCEL = '''
Order = pool.get('instrument_service.order')
Order.do_cancel([Order(args['order'])], '设备已报废')
'''


class EngineerWeChatMixin(SubscribeMixin):
    "Engineers linking their WeChat, and the orders of a WeChat customer"

    def link(self, index):
        """Link a new WeChat to engineer index, logged in with the password;
        return the password token and the openid"""
        token = self.server.engineer(index)
        openid = 'oe' + uuid.uuid4().hex
        self.call('POST', '/auth/wechat/link', {'code': 'openid:' + openid},
            token, status=204)
        return token, openid

    def wechat_login(self, openid, status=200, **values):
        return self.call('POST', '/auth/wechat/engineer',
            {'code': 'openid:' + openid, **values}, status=status)

    def openid_of(self, index):
        (openid,), = self.server.sql('SELECT wechat_openid FROM res_user '
            'WHERE id = %s', (self.user_id(index),))
        return openid

    def user_id(self, index):
        return self.server.people['engineers'][index]['id']

    def works(self, token):
        "Whether the engineer token is accepted"
        status, body = self.server.call('GET', '/engineer/inbox',
            token=token)
        if status != 200:
            self.assertEqual((status, body['error']['code']),
                (401, 'unauthorized'))
        return status == 200

    def submit(self, customer=None):
        "An order of a WeChat customer, offered to every engineer"
        return self.call('POST', '/orders', {
                'type': 'repair', 'contact': CONTACT,
                'lines': [{'instrument_name': '液相色谱仪', 'brand': 'Agilent',
                        'model': '1260', 'quantity': 1,
                        'fault_description': '泵压力波动'}],
                }, customer or self.server.customer(), status=201,
            headers={'Idempotency-Key': uuid.uuid4().hex})


class EngineerWeChatTestCase(EngineerWeChatMixin, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = APIServer(engineers=4, config={
                'instrument_service': {'notice_retry_delays': '1,1,1,1,1'},
                # Each mini-program has its own state; the engineers'
                # takes [wechat]'s base_url
                'wechat_engineer': {'miniprogram_state': 'developer'},
                }).start()
        cls.wechat = cls.server.wechat
        tryton(cls.server, TEMPLATES, data=DATA, kinds=KINDS)

    def setUp(self):
        super().setUp()
        # Each test links whom it needs
        self.server.sql('UPDATE res_user SET wechat_openid = NULL')

    # ---- linking and logging in -------------------------------------------

    def test_link_and_login(self):
        """Linked once with the engineers' appid, the WeChat logs the
        engineer in: a device session opened by WeChat, listed and
        revocable like the others; unlinking revokes it (and no other)"""
        password_token, openid = self.link(0)
        self.assertEqual(self.openid_of(0), openid)
        path, query = self.wechat.calls[-1]
        self.assertEqual((path, query['appid'], query['secret']),
            ('/sns/jscode2session', ENGINEER_APPID,
                self.server.engineer_secret))
        # Linking the same WeChat again changes nothing
        self.call('POST', '/auth/wechat/link', {'code': 'openid:' + openid},
            password_token, status=204)

        session = self.wechat_login(openid, device_name='iPhone 15 / 微信')
        self.assertRegex(session['token'], r'^e\.[A-Za-z0-9_-]{43}$')
        self.assertEqual(session['engineer']['id'], self.user_id(0))
        self.assertEqual(session['push_alias'], 'u%s' % self.user_id(0))
        token = session['token']
        self.assertTrue(self.works(token))
        (session_id, method, device), = self.server.sql(
            'SELECT id, login_method, device_name FROM %s '
            'WHERE "user" = %%s AND revoked IS NULL ORDER BY id DESC LIMIT 1'
            % TABLE, (self.user_id(0),))
        self.assertEqual((method, device), ('wechat', 'iPhone 15 / 微信'))

        # Listed in the back office, with how it was opened; revocable
        ids = self.server.back_office(SESSIONS + 'search',
            [('user', '=', self.user_id(0)), ('state', '=', 'active')],
            0, None, None, login='dispatcher')
        self.assertIn(session_id, ids)
        row, = self.server.back_office(SESSIONS + 'read', [session_id],
            ['login_method', 'state'], login='dispatcher')
        self.assertEqual((row['login_method'], row['state']),
            ('wechat', 'active'))
        self.server.back_office(SESSIONS + 'revoke', [session_id],
            login='dispatcher')
        self.assertFalse(self.works(token))

        # Unlinking from the app: the WeChat sessions end, not the others
        token = self.wechat_login(openid)['token']
        self.assertTrue(self.works(token))
        self.call('POST', '/auth/wechat/unlink', {}, password_token,
            status=204)
        self.assertFalse(self.works(token))
        self.assertTrue(self.works(password_token))
        self.assertIsNone(self.openid_of(0))
        body = self.wechat_login(openid, status=401)
        self.assertEqual(body['error']['code'], 'wechat_not_linked')
        # Nothing to unlink: nothing done
        self.call('POST', '/auth/wechat/unlink', None, password_token,
            status=204)

    def test_link_refused(self):
        "A code WeChat refuses links nothing"
        token = self.server.engineer(1)
        for code, status, error in [
                ('errcode:40029', 401, 'wechat_invalid_code'),
                ('down', 502, 'wechat_unavailable'),
                ('', 422, 'invalid_field')]:
            with self.subTest(code=code):
                body = self.call('POST', '/auth/wechat/link', {'code': code},
                    token, status=status)
                self.assertEqual(body['error']['code'], error)
                self.assertIsNone(self.openid_of(1))
        # Not without the engineer's token
        self.call('POST', '/auth/wechat/link', {'code': 'openid:x'},
            status=401)
        self.call('POST', '/auth/wechat/link', {'code': 'openid:x'},
            self.server.customer(), status=401)

    def test_openid_taken(self):
        "A WeChat linked to an engineer cannot be linked to another: 409"
        _, openid = self.link(1)
        other = self.server.engineer(2)
        body = self.call('POST', '/auth/wechat/link',
            {'code': 'openid:' + openid}, other, status=409)
        self.assertEqual(body['error']['code'], 'wechat_already_linked')
        self.assertEqual(self.openid_of(1), openid)
        self.assertIsNone(self.openid_of(2))
        # Also when its engineer's user is inactive
        self.server.sql('UPDATE res_user SET active = %s WHERE id = %s',
            (False, self.user_id(1)))
        try:
            self.call('POST', '/auth/wechat/link',
                {'code': 'openid:' + openid}, other, status=409)
            # and an inactive user does not log in by WeChat
            self.wechat_login(openid, status=401)
        finally:
            self.server.sql('UPDATE res_user SET active = %s WHERE id = %s',
                (True, self.user_id(1)))
        self.assertEqual(self.wechat_login(openid)['engineer']['id'],
            self.user_id(1))

    def test_not_linked(self):
        "A WeChat nobody linked: 401 wechat_not_linked, no session"
        sessions = self.server.count(TABLE)
        body = self.wechat_login('oe' + uuid.uuid4().hex, status=401)
        self.assertEqual(body['error']['code'], 'wechat_not_linked')
        self.assertEqual(self.server.count(TABLE), sessions)
        # A code of the customers' mini-program is no engineer's either
        openid = 'o' + uuid.uuid4().hex
        self.server.customer(openid)
        self.wechat_login(openid, status=401)

    def test_new_password_revokes(self):
        "A new password revokes the sessions opened by WeChat too"
        _, openid = self.link(3)
        token = self.wechat_login(openid)['token']
        self.assertTrue(self.works(token))
        password = 'Nouveau-' + uuid.uuid4().hex
        self.server.back_office('model.res.user.write', [self.user_id(3)],
            {'password': password})
        self.server.people['engineers'][3]['password'] = password
        self.assertFalse(self.works(token))
        # The link stays: WeChat logs in again
        self.assertTrue(self.works(self.wechat_login(openid)['token']))

    def test_staff_unlinks(self):
        """The dispatcher sees the WeChat on the engineer form and unlinks
        it: the WeChat sessions end; an engineer reads no one's openid"""
        password_token, openid = self.link(2)
        token = self.wechat_login(openid)['token']
        engineer, = self.server.back_office(
            'model.instrument_service.engineer.search',
            [('employee', '=', self.server.people['engineers'][2][
                        'employee'])], 0, None, None, login='dispatcher')
        row, = self.server.back_office(
            'model.instrument_service.engineer.read', [engineer],
            ['wechat_openid'], login='dispatcher')
        self.assertEqual(row['wechat_openid'], openid)
        login = self.server.people['engineers'][1]['login']
        for model, ids in [('res.user', [self.user_id(2)]),
                ('instrument_service.engineer', [engineer])]:
            with self.subTest(model=model), \
                    self.assertRaises(BackOfficeError):
                self.server.back_office('model.%s.read' % model, ids,
                    ['wechat_openid'], login=login)
        with self.assertRaises(BackOfficeError):
            self.server.back_office(
                'model.instrument_service.engineer.unlink_wechat',
                [engineer], login=login)
        self.assertTrue(self.works(token))

        self.server.back_office(
            'model.instrument_service.engineer.unlink_wechat', [engineer],
            login='dispatcher')
        self.assertIsNone(self.openid_of(2))
        self.assertFalse(self.works(token))
        self.assertTrue(self.works(password_token))
        # The administrator unlinks on the user form the same way
        _, openid = self.link(2)
        token = self.wechat_login(openid)['token']
        self.server.back_office('model.res.user.unlink_wechat',
            [self.user_id(2)])
        self.assertIsNone(self.openid_of(2))
        self.assertFalse(self.works(token))

    def test_config(self):
        "GET /config gives the templates of each mini-program apart"
        wechat = self.call('GET', '/config')['wechat']
        self.assertEqual(wechat['engineer_templates'],
            {kind: 'tpl-engineer-' + kind for kind in KINDS})
        self.assertEqual(wechat['subscribe_templates'],
            {'accept': 'tpl-accept'})

    # ---- messages -----------------------------------------------------------

    def assertEngineerMessage(self, notice, openid, kind, order, event):
        """notice was sent once to openid with the template of kind, the
        order as the inbox shows it (no customer data) and event"""
        self.assertEqual(notice['state'], 'sent', notice)
        self.assertEqual(notice['kind'], kind)
        self.assertEqual(notice['recipient'], 'user:%s' % notice['user'])
        self.assertIsNone(notice['web_user'])
        offer = self.inbox_view(order['id'])
        region = ' '.join(dict.fromkeys(filter(None, [
                        offer['province'], offer['city'],
                        offer['district']])))
        payload = json.loads(notice['payload'])
        page = ('pages/messages/index' if kind in {'offered', 'withdrawn'}
            else 'pages/task/detail?id=%s' % order['id'])
        self.assertEqual(payload, {
                'template_id': 'tpl-engineer-' + kind,
                'page': page,
                'data': {
                    'character_string1': {'value': order['number']},
                    'thing2': {'value': offer['type_name']},
                    'thing3': {'value': cut(
                            offer['title'].split(' · ', 1)[1], 20, True)},
                    'thing4': {'value': region},
                    'phrase5': {'value': cut(event, 5)},
                    'time6': {'value': self.event_time(notice['event'])},
                    },
                })
        self.assertEqual(region, '上海市 浦东新区')
        # The openid is added when sending; nothing of the customer
        self.assertNotIn(openid, notice['payload'])
        for value in CONTACT.values():
            self.assertNotIn(value, notice['payload'] + notice['title'])
        self.assertNotIn('张江路', notice['payload'])
        messages = [m for m in self.sent_to(openid)
            if m['template_id'] == 'tpl-engineer-' + kind]
        self.assertEqual(len(messages), 1, messages)
        # With the token of the engineers' mini-program, in its state
        self.assertEqual(messages[0], {**payload, 'touser': openid,
                'miniprogram_state': 'developer', 'lang': 'zh_CN',
                'appid': ENGINEER_APPID, 'errcode': 0})

    def inbox_view(self, order_id):
        "The order as the inbox of an engineer who has not accepted it shows"
        views = getattr(self, '_views', {})
        if order_id not in views:
            token = self.server.engineer(3)
            items = self.call('GET', '/engineer/inbox?page_size=100',
                token=token)['items']
            views[order_id], = [i for i in items if i['id'] == order_id]
            self._views = views
        return views[order_id]

    def test_offer_to_linked_engineers(self):
        """An order offered to four engineers, two of them linked: two
        WeChat messages, with the engineers' template and token"""
        _, first = self.link(0)
        _, second = self.link(1)
        order = self.submit()
        self.inbox_view(order['id'])
        notices = self.notices('"order" = %s', (order['id'],))
        self.assertEqual(sorted(n['user'] for n in notices),
            [self.user_id(0), self.user_id(1)])
        for notice, openid in zip(notices, [first, second]):
            self.assertEngineerMessage(notice, openid, 'offered', order,
                '已推送')
        # Every engineer has the notice of the app and JPush's as before
        (count,), = self.server.sql('SELECT COUNT(*) FROM '
            'instrument_service_notice WHERE "order" = %s AND channel = %s',
            (order['id'], 'tryton'))
        self.assertEqual(count, 4)

    def test_each_event(self):
        """The withdrawal of an offer, the customer's confirmation and the
        cancellation each send one message to the engineer concerned"""
        self.engineer, first = self.link(0)
        _, second = self.link(1)
        customer = self.server.customer()
        order = self.submit(customer)
        self.inbox_view(order['id'])
        self.accept(order['id'])
        notice = self.event_notice(self.last_event(order['id']))
        self.assertEqual(notice['user'], self.user_id(1))
        self.assertEngineerMessage(notice, second, 'withdrawn', order,
            '推送已撤回')

        self.visit(order['id'])
        self.assess(order['id'])
        self.step(order['id'], 'submit_quote', description='更换密封圈',
            amount='1000.00')
        self.assertEqual(self.notices('event = %s',
                (self.last_event(order['id']),)), [])
        self.call('POST', '/orders/%s/quote/confirm' % order['id'],
            token=customer)
        notice = self.event_notice(self.last_event(order['id']))
        self.assertEqual(notice['user'], self.user_id(0))
        self.assertEngineerMessage(notice, first, 'customer_action', order,
            '确认报价')

        tryton(self.server, CANCEL, order=order['id'])
        notice = self.event_notice(self.last_event(order['id']))
        self.assertEqual(notice['user'], self.user_id(0))
        self.assertEngineerMessage(notice, first, 'cancelled', order,
            '已取消')
        self.assertEqual(len(self.sent_to(first)), 3)
        self.assertEqual(len(self.sent_to(second)), 2)

    def test_tokens_per_mini_program(self):
        """The engineers' messages go with the engineers' mini-program's
        token, the customers' with theirs: one token request per appid"""
        self.server.sql('DELETE FROM instrument_service_api_wechat_token')
        requests = len(self.wechat.token_requests)
        self.engineer, first = self.link(0)
        _, second = self.link(1)
        customer_openid = 'o' + uuid.uuid4().hex
        order = self.submit(self.server.customer(customer_openid))
        self.accept(order['id'])
        self.assertEqual(
            sorted(r['appid'] for r in self.wechat.token_requests[requests:]),
            sorted([APPID, ENGINEER_APPID]))
        self.assertIn({'grant_type': 'client_credential',
                'appid': ENGINEER_APPID,
                'secret': self.server.engineer_secret,
                'force_refresh': False}, self.wechat.token_requests[requests:])
        self.assertEqual(
            [(m['template_id'], m['appid'])
                for m in self.sent_to(customer_openid)],
            [('tpl-accept', APPID)])
        self.assertEqual(
            [(m['template_id'], m['appid']) for m in self.sent_to(second)],
            [('tpl-engineer-offered', ENGINEER_APPID),
                ('tpl-engineer-withdrawn', ENGINEER_APPID)])
        self.assertEqual(len(self.sent_to(first)), 1)
        (tokens,), = self.server.sql('SELECT COUNT(DISTINCT token) FROM '
            'instrument_service_api_wechat_token WHERE appid IN (%s, %s)',
            (APPID, ENGINEER_APPID))
        self.assertEqual(tokens, 2)

    def test_wechat_down(self):
        """While WeChat cannot be reached the engineers' messages wait; back,
        the scheduled job sends each of them once"""
        _, first = self.link(0)
        _, second = self.link(1)
        customer = self.server.customer()
        self.wechat.down = True
        order = self.submit(customer)
        notices = self.notices('"order" = %s', (order['id'],))
        self.assertEqual([(n['state'], n['attempts']) for n in notices],
            [('pending', 1)] * 2)
        time.sleep(1.2)
        self.deliver_due()
        notices = self.notices('"order" = %s', (order['id'],))
        self.assertEqual([(n['state'], n['attempts']) for n in notices],
            [('pending', 2)] * 2)
        self.wechat.down = False
        time.sleep(1.2)
        self.deliver_due()
        time.sleep(1.2)
        self.deliver_due()
        notices = self.notices('"order" = %s', (order['id'],))
        self.assertEqual([(n['state'], n['attempts']) for n in notices],
            [('sent', 3)] * 2)
        for openid in [first, second]:
            self.assertEqual([m['template_id'] for m in self.sent_to(openid)],
                ['tpl-engineer-offered'])

    def test_no_subscription(self):
        "43101: no subscription left; refused once, never retried"
        _, openid = self.link(2)
        self.wechat.no_subscription.add(openid)
        order = self.submit()
        notice, = self.notices('"order" = %s', (order['id'],))
        self.assertEqual((notice['state'], notice['attempts']),
            ('refused', 1))
        self.assertIn('43101', notice['outcome'])
        time.sleep(1.2)
        self.deliver_due()
        self.assertEqual(self.notices('"order" = %s', (order['id'],)),
            [notice])
        self.assertEqual([m['errcode'] for m in self.wechat.sends
                if m['touser'] == openid], [43101])

    def test_unlinked_before_delivery(self):
        "A message waiting when its engineer unlinks is not sent"
        token, openid = self.link(3)
        customer = self.server.customer()
        self.wechat.down = True
        order = self.submit(customer)
        notice, = self.notices('"order" = %s', (order['id'],))
        self.assertEqual(notice['state'], 'pending')
        self.call('POST', '/auth/wechat/unlink', {}, token, status=204)
        self.wechat.down = False
        time.sleep(1.2)
        self.deliver_due()
        notice, = self.notices('"order" = %s', (order['id'],))
        self.assertEqual(notice['state'], 'refused')
        self.assertEqual([m for m in self.wechat.sends
                if m['touser'] == openid], [])


class EngineerMiniProgramOffTestCase(EngineerWeChatMixin, unittest.TestCase):
    """Without [wechat_engineer] appid and secret: no linking, the
    engineers' messages are skipped; the customers' mini-program works"""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = APIServer(engineers=1, config={
                'wechat_engineer': {'appid': None, 'secret': None},
                }).start()
        cls.wechat = cls.server.wechat
        tryton(cls.server, TEMPLATES, data=DATA, kinds=['offered'])
        cls.engineer = cls.server.engineer(0)

    def test_off(self):
        body = self.call('POST', '/auth/wechat/link',
            {'code': 'openid:oe-off'}, self.engineer, status=503)
        self.assertEqual(body['error']['code'], 'not_configured')
        body = self.wechat_login('oe-off', status=503)
        self.assertEqual(body['error']['code'], 'not_configured')
        self.assertEqual(self.wechat.calls, [])
        self.server.sql('UPDATE res_user SET wechat_openid = %s '
            'WHERE id = %s', ('oe-off', self.user_id(0)))
        customer_openid = 'o' + uuid.uuid4().hex
        order = self.submit(self.server.customer(customer_openid))
        notice, = self.notices('"order" = %s', (order['id'],))
        self.assertEqual(notice['state'], 'skipped')
        self.assertIn('[wechat_engineer]', notice['outcome'])
        self.accept(order['id'])
        self.assertEqual([m['template_id']
                for m in self.sent_to(customer_openid)], ['tpl-accept'])
        self.assertEqual(self.sent_to('oe-off'), [])
