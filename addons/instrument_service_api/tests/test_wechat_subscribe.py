# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""WeChat subscription messages to the customers, through the outbox,
against a local stand-in of WeChat that speaks its documented protocol
(stable_token and subscribeMessage.send) and fails as the tests script."""
import datetime as dt
import json
import subprocess
import sys
import time
import unittest
import uuid
from zoneinfo import ZoneInfo

from trytond.modules.instrument_service_api import wechat
from trytond.tests.test_tryton import (
    TestCase, activate_module, drop_db, with_transaction)

from .server import APPID, APIServer, image

SHANGHAI = ZoneInfo('Asia/Shanghai')
CONTACT = {
    'name': '张三', 'company': '某某生物科技有限公司', 'phone': '13800138000',
    'address': '上海市 浦东新区 张江路 100 号',
    }
LINE = {
    'instrument_name': '液相色谱仪', 'category': '色谱', 'brand': 'Agilent',
    'model': '1260', 'quantity': 1, 'fault_description': '泵压力波动',
    }
# The data of every template: the keywords a template of the mini-program
# console has, each type with its own limit
DATA = '''character_string1=${number}
thing2=${name}
phrase3=${step}
time4=${time}
thing5=${hint}
name6=${engineer}
'''
ACTIONS = ['accept', 'assign', 'visit_onsite', 'visit_remote',
    'submit_assessment', 'submit_quote', 'submit_report', 'finish_remote',
    'reassign', 'cancel']
# A Tryton transaction of the server's database, as root, in a process of
# its own like the scheduled jobs: runs the code of stdin with pool and
# args, prints its result and then runs what it queued, as trytond does
TRYTON = '''
import json, sys
from trytond import config
config.update_etc(sys.argv[1])
from trytond.pool import Pool
from trytond.transaction import Transaction
from trytond.worker import run_task
pool = Pool(sys.argv[2])
pool.init()
from trytond.transaction import TransactionError
code = sys.stdin.read()
extras = {}
while True:
    namespace = {'pool': pool, 'args': json.loads(sys.argv[3]),
        'result': None}
    with Transaction().start(sys.argv[2], 0, context={'language': 'zh_CN'},
            **extras) as transaction:
        try:
            exec(code, namespace)
            transaction.commit()
            break
        except TransactionError as error:
            # The records to lock are locked at the start of a new one
            transaction.rollback()
            transaction.tasks.clear()
            error.fix(extras)
while transaction.tasks:
    run_task(pool, transaction.tasks.pop())
print(json.dumps(namespace['result']))
'''
TEMPLATES = '''
Template = pool.get('instrument_service_api.wechat.template')
templates = Template.create([{
            'action': action,
            'template_id': 'tpl-' + action,
            'data': args['data'] + ('amount7=${amount}元\\n'
                if action == 'submit_quote' else ''),
            } for action in args['actions']])
result = {t.action: t.id for t in templates}
'''
DELIVER_DUE = '''
pool.get('instrument_service.notice').deliver_due()
'''


def tryton(server, code, **args):
    "Run code in a Tryton process on the server's database; its result"
    process = subprocess.run([sys.executable, '-c', TRYTON,
            server.config_path, server.database, json.dumps(args)],
        input=code, env=server._env(), capture_output=True, text=True,
        timeout=300)
    if process.returncode:
        raise AssertionError(process.stderr)
    return json.loads(process.stdout.strip().splitlines()[-1])


def cut(value, limit, more=False):
    "value as WeChat takes it in a keyword of at most limit characters"
    if len(value) <= limit:
        return value
    return value[:limit - 1] + '…' if more else value[:limit]


class SubscribeMixin:
    """An order a WeChat customer submits and an engineer steps through, on
    the server of the class, which must log no exception"""
    server = None

    @classmethod
    def tearDownClass(cls):
        log = cls.server.server_log()
        cls.server.stop()
        super().tearDownClass()
        assert 'Traceback' not in log, log[log.index('Traceback'):][:3000]

    def setUp(self):
        super().setUp()
        self.addCleanup(self.reset)

    def reset(self):
        "Forget what a test scripted and did not use"
        wechat = self.server.wechat
        wechat.down = False
        wechat.failures.clear()
        wechat.token_failures.clear()
        wechat.no_subscription.clear()

    def sent_to(self, openid):
        "The messages WeChat accepted for openid"
        return [m for m in self.server.wechat.messages
            if m['touser'] == openid]

    def call(self, method, path, data=None, token=None, status=200,
            **kwargs):
        got, body = self.server.call(method, path, data, token, **kwargs)
        self.assertEqual(got, status, (method, path, body))
        return body

    def submit(self, customer):
        return self.call('POST', '/orders', {
                'type': 'repair', 'contact': CONTACT, 'lines': [LINE],
                }, customer, status=201,
            headers={'Idempotency-Key': uuid.uuid4().hex})

    def accept(self, order_id, **kwargs):
        return self.call('POST', '/engineer/inbox/%s/accept' % order_id,
            token=self.engineer, **kwargs)

    def step(self, order_id, action, **values):
        headers = values.pop('headers', None)
        return self.call('POST', '/engineer/tasks/%s/steps' % order_id,
            {'action': action, **values}, self.engineer, headers=headers)

    def assess(self, order_id, description='已检查'):
        "The assessment, with the photo and the check-in it needs"
        status, photo = self.server.upload(
            '/engineer/tasks/%s/files' % order_id, 'site.jpg',
            image('JPEG', (64, 48)), self.engineer)
        self.assertEqual(status, 201, photo)
        return self.step(order_id, 'submit_assessment',
            description=description, photos=[photo['id']], check_in={
                'time': dt.datetime.now(SHANGHAI).replace(
                    microsecond=0).isoformat(),
                'latitude': 31.2035, 'longitude': 121.5914,
                'accuracy': 12.5, 'address': '上海市浦东新区张江路100号',
                })

    def visit(self, order_id, **kwargs):
        appointment = (dt.datetime.now(SHANGHAI) + dt.timedelta(days=3)
            ).replace(hour=10, minute=0, second=0, microsecond=0)
        return self.step(order_id, 'visit_onsite',
            appointment=appointment.isoformat(), **kwargs)

    def last_event(self, order_id):
        (event,), = self.server.sql('SELECT MAX(id) FROM '
            'instrument_service_order_progress WHERE "order" = %s',
            (order_id,))
        return event

    def notices(self, where='1=1', params=()):
        "The WeChat notices, oldest first, as dicts"
        rows = self.server.sql('SELECT id, event, state, template, payload, '
            'attempts, outcome, recipient, web_user, title, kind, "user" '
            'FROM instrument_service_notice '
            'WHERE channel = %s AND ' + where + ' ORDER BY id',
            ('wechat',) + tuple(params))
        return [dict(zip(['id', 'event', 'state', 'template', 'payload',
                        'attempts', 'outcome', 'recipient', 'web_user',
                        'title', 'kind', 'user'], row)) for row in rows]

    def event_notice(self, event):
        "The only WeChat notice of event"
        notices = self.notices('event = %s', (event,))
        self.assertEqual(len(notices), 1, notices)
        return notices[0]

    def event_time(self, event):
        "The time of event as the messages show it, in Shanghai"
        (date,), = self.server.sql('SELECT date FROM '
            'instrument_service_order_progress WHERE id = %s', (event,))
        if isinstance(date, str):
            date = dt.datetime.fromisoformat(date)
        local = date.replace(tzinfo=dt.timezone.utc).astimezone(SHANGHAI)
        return '%s年%s月%s日%s' % (
            local.year, local.month, local.day, local.strftime('%H:%M'))

    def deliver_due(self):
        "Run the scheduled job of the outbox once, in a process of its own"
        tryton(self.server, DELIVER_DUE)


class SubscribeTestCase(SubscribeMixin, unittest.TestCase):
    "Messages to customers, WeChat answering well and badly"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = APIServer(engineers=1, config={
                'instrument_service': {'notice_retry_delays': '1,1,1,1,1'},
                'wechat': {'miniprogram_state': 'trial'},
                }).start()
        cls.wechat = cls.server.wechat
        cls.templates = tryton(cls.server, TEMPLATES, data=DATA,
            actions=ACTIONS)
        cls.engineer = cls.server.engineer(0)
        cls.engineer_name = "工程师00"

    def customer(self):
        "A new customer logged in with WeChat; its token and openid"
        openid = 'o' + uuid.uuid4().hex
        return self.server.customer(openid), openid

    def forget_token(self):
        "Empty the cache of access tokens, as on a new database"
        self.server.sql('DELETE FROM instrument_service_api_wechat_token')

    def assertMessage(self, event, openid, action, order, step, hint,
            engineer=''):
        """event made one notice of the template of action, sent once to
        openid with the values true at event"""
        notice = self.event_notice(event)
        self.assertEqual(notice['state'], 'sent', notice)
        self.assertEqual(notice['template'], self.templates[action])
        self.assertEqual(notice['kind'], 'progress')
        (customer,), = self.server.sql('SELECT id FROM web_user '
            'WHERE wechat_openid = %s', (openid,))
        self.assertEqual(notice['web_user'], customer)
        self.assertEqual(notice['recipient'], 'web_user:%s' % customer)
        self.assertEqual(notice['title'], step)
        data = {
            'character_string1': {'value': order['number']},
            'thing2': {'value': cut(order['name'], 20, True)},
            'phrase3': {'value': cut(step, 5)},
            'time4': {'value': self.event_time(event)},
            'thing5': {'value': cut(' '.join(hint.split()), 20, True)},
            # An empty value would be refused by WeChat (47003)
            'name6': {'value': engineer or '-'},
            }
        if action == 'submit_quote':
            data['amount7'] = {'value': '1000元'}
        payload = json.loads(notice['payload'])
        # The openid is added when sending: dispatchers read the payload
        self.assertEqual(payload, {
                'template_id': 'tpl-' + action,
                'page': 'pages/order/detail?id=%s' % order['id'],
                'data': data,
                })
        messages = [m for m in self.sent_to(openid)
            if m['template_id'] == 'tpl-' + action]
        self.assertEqual(len(messages), 1, messages)
        # With the token of the customers' mini-program
        self.assertEqual(messages[0], {**payload, 'touser': openid,
                'miniprogram_state': 'trial', 'lang': 'zh_CN',
                'appid': APPID, 'errcode': 0})
        return notice

    def test_each_step(self):
        """Each step of the engineer sends one message with the template of
        its action and what was true then; one access token serves all"""
        self.forget_token()
        token_requests = len(self.wechat.token_requests)
        customer, openid = self.customer()
        order = self.submit(customer)
        order_id = order['id']
        # No template for the submission: no message
        self.assertEqual(self.notices('"order" = %s', (order_id,)), [])

        self.accept(order_id)
        self.assertMessage(self.last_event(order_id), openid, 'accept',
            order, '已接单', '请保持电话畅通，我们稍后会联系您',
            self.engineer_name)

        # Rendered in the language of the mini-program, whatever the
        # engineer's app speaks
        view = self.visit(order_id, headers={'Accept-Language': 'en'})
        appointment = dt.datetime.fromisoformat(view['appointment'])
        hint = ('等待上门：已约定上门时间为%s年%s月%s日%s'
            '请保持电话畅通，工程师会按约定时间上门' % (
                appointment.year, appointment.month, appointment.day,
                appointment.strftime('%H:%M')))
        notice = self.assertMessage(self.last_event(order_id), openid,
            'visit_onsite', order, '判断是否需要上门', hint,
            self.engineer_name)
        self.assertTrue(json.loads(notice['payload'])['data']['thing5'][
                'value'].endswith('…'))

        self.assess(order_id, '泵密封圈老化')
        self.assertMessage(self.last_event(order_id), openid,
            'submit_assessment', order, '检修完成',
            '请稍等，正在为您出维修方案和报价', self.engineer_name)

        self.step(order_id, 'submit_quote', description='更换密封圈',
            amount='1000.00')
        self.assertMessage(self.last_event(order_id), openid,
            'submit_quote', order, '维修方案和报价', '维修报价：1000元',
            self.engineer_name)

        # The customer's own answers are not told to the customer
        self.call('POST', '/orders/%s/quote/confirm' % order_id,
            token=customer)
        self.assertEqual(self.notices('event = %s',
                (self.last_event(order_id),)), [])

        self.step(order_id, 'submit_report', report='各项指标合格')
        self.assertMessage(self.last_event(order_id), openid,
            'submit_report', order, '验证报告',
            '已完成维修验证，点击查看验证报告\n请确认验证报告',
            self.engineer_name)

        notices = self.notices('"order" = %s', (order_id,))
        self.assertEqual(len(notices), 5)
        self.assertEqual(len(self.sent_to(openid)), 5)
        # One token for all
        self.assertEqual(len(self.wechat.token_requests), token_requests + 1)
        self.assertEqual(self.wechat.token_requests[-1], {
                'grant_type': 'client_credential', 'appid': APPID,
                'secret': self.server.secret, 'force_refresh': False})

    def test_remote(self):
        "The remote assistance has its templates too"
        customer, openid = self.customer()
        order = self.submit(customer)
        self.accept(order['id'])
        self.step(order['id'], 'visit_remote', description='电话沟通')
        self.assertMessage(self.last_event(order['id']), openid,
            'visit_remote', order, '判断是否需要上门',
            '线上协助：请保持电话畅通，工程师稍后会联系您', self.engineer_name)
        self.step(order['id'], 'finish_remote', description='远程完成')
        self.assertMessage(self.last_event(order['id']), openid,
            'finish_remote', order, '服务评价', '1、服务态度\n2、服务质量\n3、总体评价',
            self.engineer_name)

    def test_cancelled_by_staff(self):
        "The staff's cancellation in the back office is told"
        customer, openid = self.customer()
        order = self.submit(customer)
        self.accept(order['id'])
        tryton(self.server, '''
Order = pool.get('instrument_service.order')
Order.do_cancel([Order(args['order'])], '客户不再需要')
''', order=order['id'])
        self.assertMessage(self.last_event(order['id']), openid, 'cancel',
            order, '已取消', '订单已取消。客户不再需要', self.engineer_name)

    def test_token_refresh(self):
        "An expired or invalid token is replaced once and the message sent"
        for errcode in [42001, 40001]:
            with self.subTest(errcode=errcode):
                customer, openid = self.customer()
                order = self.submit(customer)
                # A token is cached
                self.accept(order['id'])
                token_requests = len(self.wechat.token_requests)
                sends = len(self.wechat.sends)
                self.wechat.expire_token(errcode)
                self.step(order['id'], 'visit_remote', description='电话')
                notice = self.assertMessage(self.last_event(order['id']),
                    openid, 'visit_remote', order, '判断是否需要上门',
                    '线上协助：请保持电话畅通，工程师稍后会联系您',
                    self.engineer_name)
                self.assertEqual(notice['attempts'], 1)
                self.assertEqual(
                    len(self.wechat.token_requests), token_requests + 1)
                self.assertEqual(
                    [m['errcode'] for m in self.wechat.sends[sends:]],
                    [errcode, 0])
                # The new token is kept for the next messages
                self.step(order['id'], 'finish_remote', description='完成')
                self.assertEqual(
                    len(self.wechat.token_requests), token_requests + 1)
                self.assertEqual(len(self.sent_to(openid)), 3)

    def test_token_refused_twice(self):
        "A new token refused again is retried later, not in a loop"
        customer, openid = self.customer()
        order = self.submit(customer)
        self.accept(order['id'])
        token_requests = len(self.wechat.token_requests)
        self.wechat.expire_token(42001, times=2)
        self.step(order['id'], 'visit_remote', description='电话')
        event = self.last_event(order['id'])
        notice = self.event_notice(event)
        self.assertEqual(notice['state'], 'pending')
        self.assertIn('42001', notice['outcome'])
        self.assertEqual(len(self.wechat.token_requests), token_requests + 1)
        self.assertEqual(len(self.sent_to(openid)), 1)
        time.sleep(1.2)
        self.deliver_due()
        notice = self.assertMessage(event, openid, 'visit_remote', order,
            '判断是否需要上门', '线上协助：请保持电话畅通，工程师稍后会联系您',
            self.engineer_name)
        self.assertEqual(notice['attempts'], 2)
        self.assertEqual(len(self.wechat.token_requests), token_requests + 2)

    def test_token_near_expiry(self):
        "A token about to expire is replaced before it is used"
        customer, openid = self.customer()
        order = self.submit(customer)
        self.accept(order['id'])
        token_requests = len(self.wechat.token_requests)
        self.server.sql('UPDATE instrument_service_api_wechat_token '
            'SET expire = %s', (dt.datetime.now()
                + dt.timedelta(minutes=2),))
        self.visit(order['id'])
        self.assertEqual(len(self.wechat.token_requests), token_requests + 1)
        self.assertEqual(len(self.sent_to(openid)), 2)

    def test_no_subscription(self):
        "43101: the customer has no subscription left; refused, not retried"
        customer, openid = self.customer()
        self.wechat.no_subscription.add(openid)
        order = self.submit(customer)
        self.accept(order['id'])
        notice = self.event_notice(self.last_event(order['id']))
        self.assertEqual(notice['state'], 'refused')
        self.assertIn('43101', notice['outcome'])
        time.sleep(1.2)
        self.deliver_due()
        notice = self.event_notice(self.last_event(order['id']))
        self.assertEqual(notice['state'], 'refused')
        self.assertEqual(notice['attempts'], 1)
        sends = [m for m in self.wechat.sends if m['touser'] == openid]
        self.assertEqual([m['errcode'] for m in sends], [43101])

    def test_wechat_down(self):
        """While WeChat cannot be reached the messages wait; once it is
        back the scheduled job, in another process, sends each of them once
        with the access token the server cached"""
        customer, openid = self.customer()
        order = self.submit(customer)
        self.accept(order['id'])
        token_requests = len(self.wechat.token_requests)
        self.wechat.down = True
        # The engineer's steps do not wait for WeChat
        self.visit(order['id'])
        self.assess(order['id'])
        self.step(order['id'], 'submit_quote', description='更换',
            amount='1000.00')
        notices = self.notices('"order" = %s', (order['id'],))[1:]
        self.assertEqual([n['state'] for n in notices], ['pending'] * 3)
        self.assertEqual([n['attempts'] for n in notices], [1] * 3)
        time.sleep(1.2)
        # Still down when the job runs: they wait for the next attempt
        self.deliver_due()
        notices = self.notices('"order" = %s', (order['id'],))[1:]
        self.assertEqual([n['state'] for n in notices], ['pending'] * 3)
        self.assertEqual([n['attempts'] for n in notices], [2] * 3)
        self.wechat.down = False
        time.sleep(1.2)
        self.deliver_due()
        notices = self.notices('"order" = %s', (order['id'],))
        self.assertEqual([n['state'] for n in notices], ['sent'] * 4)
        # Once each, and nothing more at the next run
        self.deliver_due()
        self.assertEqual([m['template_id'] for m in self.sent_to(openid)],
            ['tpl-accept', 'tpl-visit_onsite', 'tpl-submit_assessment',
                'tpl-submit_quote'])
        self.assertEqual(len(self.wechat.token_requests), token_requests)

    def test_temporary_failures(self):
        "Busy, rate limited, HTTP 5xx, not JSON: sent at the next attempt"
        customer, openid = self.customer()
        order = self.submit(customer)
        self.wechat.script(-1, 45009, 'http:502', 'garbage', 'close')
        self.accept(order['id'])
        self.visit(order['id'])
        self.assess(order['id'])
        self.step(order['id'], 'submit_quote', description='更换',
            amount='1000.00')
        self.call('POST', '/orders/%s/quote/confirm' % order['id'],
            token=customer)
        self.step(order['id'], 'submit_report', report='合格')
        notices = self.notices('"order" = %s', (order['id'],))
        self.assertEqual([n['state'] for n in notices], ['pending'] * 5)
        self.assertEqual(self.sent_to(openid), [])
        time.sleep(1.2)
        self.deliver_due()
        notices = self.notices('"order" = %s', (order['id'],))
        self.assertEqual([n['state'] for n in notices], ['sent'] * 5)
        self.assertEqual(len(self.sent_to(openid)), 5)

    def test_permanent_failure(self):
        "An invalid template_id fails the notice for good"
        customer, openid = self.customer()
        order = self.submit(customer)
        self.wechat.script(40037)
        self.accept(order['id'])
        notice = self.event_notice(self.last_event(order['id']))
        self.assertEqual(notice['state'], 'failed')
        self.assertIn('40037', notice['outcome'])
        time.sleep(1.2)
        self.deliver_due()
        self.assertEqual(self.event_notice(notice['event'])['state'],
            'failed')
        self.assertEqual(
            [m['errcode'] for m in self.wechat.sends
                if m['touser'] == openid], [40037])

    def test_customer_without_wechat(self):
        "A customer who did not log in with WeChat gets no message"
        customer, openid = self.customer()
        order = self.submit(customer)
        self.server.sql('UPDATE web_user SET wechat_openid = NULL '
            'WHERE wechat_openid = %s', (openid,))
        self.accept(order['id'])
        self.assertEqual(self.notices('"order" = %s', (order['id'],)), [])


class NotConfiguredTestCase(SubscribeMixin, unittest.TestCase):
    "Without [wechat] appid and secret, the notices are kept but skipped"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = APIServer(engineers=1, config={
                'wechat': {'appid': None, 'secret': None},
                }).start()
        tryton(cls.server, TEMPLATES, data=DATA, actions=['accept'])
        cls.engineer = cls.server.engineer(0)

    def test_skipped(self):
        phone = '139%08d' % (uuid.uuid4().int % 10 ** 8)
        self.call('POST', '/auth/dev/code', {'phone': phone}, status=204)
        code = self.server.server_log().split(
            'development login code for %s: ' % phone)[-1][:6]
        customer = self.call('POST', '/auth/dev/login',
            {'phone': phone, 'code': code})
        self.server.sql('UPDATE web_user SET wechat_openid = %s '
            'WHERE id = %s', ('o-' + phone, customer['customer']['id']))
        order = self.submit(customer['token'])
        self.accept(order['id'])
        notice = self.event_notice(self.last_event(order['id']))
        self.assertEqual(notice['state'], 'skipped')
        self.assertIn('[wechat]', notice['outcome'])
        self.assertEqual(self.server.wechat.token_requests, [])
        self.assertEqual(self.server.wechat.sends, [])


class TemplateTestCase(TestCase):
    "The templates of the back office and the values WeChat takes"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module('instrument_service_api')

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def test_keyword_value(self):
        "Values are cut to the limit of their keyword's type, on one line"
        for key, value, expected in [
                ('thing1', '一' * 20, '一' * 20),
                ('thing12', '一' * 21, '一' * 19 + '…'),
                ('thing2', '第一行\n第二行', '第一行 第二行'),
                ('character_string3', 'A' * 40, 'A' * 32),
                ('phrase4', '判断是否需要上门', '判断是否需'),
                ('name5', '欧阳' * 6, '欧阳' * 5),
                ('number6', '1' * 40, '1' * 32),
                ('letter7', 'a' * 40, 'a' * 32),
                ('symbol8', '%' * 6, '%' * 5),
                ('amount9', '12345678.90元', '12345678.90元'),
                ('time10', '2025年5月29日10:00', '2025年5月29日10:00'),
                ('date11', '2025年5月29日', '2025年5月29日'),
                ('thing13', ' \n', '-'),
                ]:
            with self.subTest(key=key):
                self.assertEqual(wechat.keyword_value(key, value), expected)

    @with_transaction()
    def test_template(self):
        "A template renders its data; a line that is not key=value fails"
        from trytond.model.exceptions import (
            SQLConstraintError, ValidationError)
        from trytond.pool import Pool
        Template = Pool().get('instrument_service_api.wechat.template')
        # What another test of this process may have left in the database
        Template.delete(Template.search([]))
        template, = Template.create([{
                    'action': 'accept',
                    'template_id': 'tpl',
                    'data': 'character_string1=${number}\n\n'
                    'thing2 = 任务 ${name}\n',
                    }])
        self.assertEqual(template.page, 'pages/order/detail?id=${order_id}')
        self.assertEqual(template.render({
                    'number': 'A0001', 'name': '维修', 'order_id': '7'}), {
                'template_id': 'tpl',
                'page': 'pages/order/detail?id=7',
                'data': {
                    'character_string1': {'value': 'A0001'},
                    'thing2': {'value': '任务 维修'},
                    },
                })
        # One active template per action; an inactive one is kept aside
        template.active = False
        template.save()
        Template.create([{'action': 'accept', 'template_id': 'tpl2',
                    'data': 'thing2=${name}'}])
        self.assertEqual(Template.for_action('accept').template_id, 'tpl2')
        self.assertIsNone(Template.for_action('assign'))
        with self.assertRaises(ValidationError):
            Template.create([{'action': 'assign', 'template_id': 'tpl',
                        'data': 'thing2: ${name}'}])
        # Last: the database refuses it (PostgreSQL ends the transaction)
        with self.assertRaises(SQLConstraintError):
            Template.create([{'action': 'accept', 'template_id': 'tpl3',
                        'data': 'thing2=${name}'}])

    @with_transaction()
    def test_engineer_template(self):
        """An engineers' template is of a kind of notice, not of an action,
        and opens the engineer app's pages by default"""
        from trytond.model.exceptions import (
            DomainValidationError, RequiredValidationError,
            SQLConstraintError)
        from trytond.pool import Pool
        Template = Pool().get('instrument_service_api.wechat.template')
        Template.delete(Template.search([]))
        customer, offered, answer = Template.create([{
                    'action': 'accept', 'template_id': 'tpl-accept',
                    'data': 'thing2=${name}',
                    }, {
                    'audience': 'engineer', 'kind': 'offered',
                    'template_id': 'tpl-offered', 'data': 'thing2=${type}',
                    }, {
                    'audience': 'engineer', 'kind': 'customer_action',
                    'template_id': 'tpl-answer', 'data': 'thing2=${type}',
                    }])
        self.assertEqual(customer.audience, 'customer')
        self.assertEqual(customer.page, 'pages/order/detail?id=${order_id}')
        self.assertEqual(offered.page, 'pages/messages/index')
        self.assertEqual(answer.page, 'pages/task/detail?id=${order_id}')
        self.assertEqual(Template.for_event('engineer', 'offered'), offered)
        self.assertEqual(Template.for_event('customer', 'accept'), customer)
        self.assertIsNone(Template.for_event('engineer', 'assigned'))
        self.assertIsNone(Template.for_event('customer', 'offered'))

        # The form follows the audience and the event, not a page written
        template = Template(audience='customer',
            page='pages/order/detail?id=${order_id}')
        template.audience = 'engineer'
        template.on_change_audience()
        template.kind = 'withdrawn'
        template.on_change_kind()
        self.assertEqual(template.page, 'pages/messages/index')
        template.page = 'pages/custom/index'
        template.kind = 'cancelled'
        template.on_change_kind()
        self.assertEqual(template.page, 'pages/custom/index')

        with self.assertRaises(RequiredValidationError):
            Template.create([{'audience': 'engineer', 'template_id': 'x',
                        'data': 'thing2=${type}'}])
        with self.assertRaises(DomainValidationError):
            Template.create([{'audience': 'engineer', 'kind': 'assigned',
                        'action': 'assign', 'template_id': 'x',
                        'data': 'thing2=${type}'}])
        # Other events: the refused records are not rolled back here, and
        # PostgreSQL would refuse a second one of the same event
        with self.assertRaises(DomainValidationError):
            Template.create([{'audience': 'customer',
                        'action': 'visit_remote', 'kind': 'cancelled',
                        'template_id': 'x', 'data': 'thing2=${type}'}])
        # Last: one active template per kind (PostgreSQL ends the
        # transaction)
        with self.assertRaises(SQLConstraintError):
            Template.create([{'audience': 'engineer', 'kind': 'offered',
                        'template_id': 'tpl-offered2',
                        'data': 'thing2=${type}'}])


del TestCase
