# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The whole life of an order of each of the eight types, driven over real
HTTP by a customer and an engineer, checking after every step the progress
view the customer sees against the product copy of SPEC §4."""
import datetime as dt
import json
import re
import unittest
import uuid
from zoneinfo import ZoneInfo

from .server import ServerTestCase, image, pdf

SHANGHAI = ZoneInfo('Asia/Shanghai')
ISO = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$')
TYPES = ['repair', 'maintenance', 'recycle', 'rental', 'training',
    'validation', 'selection', 'installation']
STEPS = ['accepted', 'visit', 'assessment', 'quote', 'work', 'report',
    'rating', 'done']
# SPEC §4: the work noun {X} and the name of step 3 of each type
NOUN = {
    'repair': '维修', 'maintenance': '保养', 'recycle': '回收',
    'rental': '租赁', 'training': '培训', 'validation': '验证',
    'selection': '选型', 'installation': '安装',
    }
STEP3 = {
    'repair': '检修完成', 'maintenance': '检修完成', 'recycle': '检查完成',
    'rental': '检查完成', 'training': '培训准备完成',
    'validation': '验证准备完成', 'selection': '选型分析完成',
    'installation': '安装准备完成',
    }
CONTACT = {
    'name': '张三', 'company': '某某生物科技有限公司', 'department': '质检部',
    'position': '主管', 'phone': '13800138000',
    'address': '上海市 浦东新区 张江路 100 号', 'email': 'zhang@example.com',
    }
# Which kind of file each type's lines take (SPEC §2)
FILES = {
    'repair': 'photos', 'maintenance': 'photos', 'validation': 'photos',
    'installation': 'photos', 'recycle': 'attachments',
    'rental': 'attachments',
    }


def step_names(order_type):
    "The names of the eight steps of a type as the customer reads them"
    x = NOUN[order_type]
    return ['已接单', '判断是否需要上门', STEP3[order_type], x + '方案和报价',
        '选型进行中' if order_type == 'selection' else x + '中',
        '验证报告', '服务评价', '订单已完成']


def hints(order_type, appointment=None, amount='1000'):
    "The hint of each step (SPEC §4) with {X} replaced"
    x = NOUN[order_type]
    return {
        'accepted': '请保持电话畅通，我们稍后会联系您',
        'visit': ('等待上门：已约定上门时间为%s年%s月%s日%s'
            '请保持电话畅通，工程师会按约定时间上门' % (
                appointment.year, appointment.month, appointment.day,
                appointment.strftime('%H:%M'))) if appointment else
        '线上协助：请保持电话畅通，工程师稍后会联系您',
        'assessment': '请稍等，正在为您出%s方案和报价' % x,
        'quote': '%s报价：%s元' % (x, amount),
        'work': '工程师%s中' % x,
        'report': '已完成%s验证，点击查看验证报告\n请确认验证报告' % x,
        'rating': '1、服务态度\n2、服务质量\n3、总体评价',
        'done': '祝您生活愉快！',
        }


def line_for(order_type, files=()):
    "An instrument line of the form of order_type"
    line = {
        'instrument_name': '液相色谱仪', 'category': '色谱',
        'brand': 'Agilent', 'model': '1260',
        }
    if order_type in {'repair', 'maintenance'}:
        line['fault_description'] = '泵压力波动，基线噪音大'
    if order_type == 'training':
        line['appointment_time'] = '2031-06-01T09:30:00+08:00'
    elif order_type == 'selection':
        line = {'instrument_name': '检测水中重金属', 'requirement': '需要检出限低于1ppb'}
    if order_type == 'validation':
        line['validation_categories'] = ['iq', 'oq']
    if order_type != 'training':
        line['quantity'] = 2
    if files:
        line['files'] = list(files)
    return line


class LifecycleTestCase(ServerTestCase):
    "Every step of every type, as the two mobile apps drive them"
    server_options = {'engineers': 2}

    # ---- helpers -------------------------------------------------------

    def view(self, order_id, token):
        "The order as the customer sees it"
        return self.call('GET', '/orders/%s' % order_id, token=token)

    def assertTimes(self, value):
        "Every time of a JSON value is ISO 8601 in Shanghai"
        if isinstance(value, dict):
            for key, item in value.items():
                if key in {'date', 'time', 'submitted_at', 'appointment',
                        'appointment_time', 'created_at'} and item:
                    self.assertRegex(item, ISO, key)
                else:
                    self.assertTimes(item)
        elif isinstance(value, list):
            for item in value:
                self.assertTimes(item)

    def assertProgress(self, order, order_type, current, hint,
            skipped=(), state='in_progress', revisited=()):
        """The customer's progress view is at step current with hint, the
        steps before it done (or skipped) and the ones after to come"""
        progress = order['progress']
        self.assertEqual(order['state'], state)
        self.assertEqual(progress['current_step'], current)
        self.assertEqual(progress['hint'], hint)
        steps = progress['steps']
        self.assertEqual([s['code'] for s in steps], STEPS)
        self.assertEqual([s['name'] for s in steps], step_names(order_type))
        index = STEPS.index(current)
        expected = []
        for i, code in enumerate(STEPS):
            if i < index:
                expected.append('skipped' if code in skipped else 'done')
            elif i == index:
                expected.append('done' if code == 'done' else 'current')
            else:
                expected.append('todo')
        self.assertEqual([s['status'] for s in steps], expected)
        self.assertEqual(steps[index]['hint'], hint)
        for step in steps:
            if step['status'] in {'done', 'current'}:
                self.assertTrue(step['records'], step['code'])
            if step['status'] == 'skipped' or (step['status'] == 'todo'
                    and step['code'] not in revisited):
                self.assertEqual(step['records'], [], step['code'])
        self.assertEqual(order['step']['code'], current)
        self.assertEqual(order['step']['name'],
            step_names(order_type)[index])
        self.assertTimes(order)
        # The customer is offered the customer's actions only
        for action in progress['actions']:
            self.assertEqual(action['actor'], 'customer')
        return progress

    def actions(self, order):
        return sorted(a['action'] for a in order['progress']['actions'])

    def step(self, order_id, token, action, **values):
        return self.call('POST', '/engineer/tasks/%s/steps' % order_id,
            {'action': action, **values}, token=token)

    def upload(self, token, name, content, path='/files', status=201):
        got, body = self.server.upload(path, name, content, token)
        self.assertEqual(got, status, body)
        return body

    def submit(self, token, order_type, files=(), key=None, status=201):
        key = key or uuid.uuid4().hex
        order = self.call('POST', '/orders', {
                'type': order_type, 'contact': CONTACT,
                'lines': [line_for(order_type, files)],
                }, token=token, status=status,
            headers={'Idempotency-Key': key})
        return order, key

    def customer_files(self, token, order_type):
        "Upload the files a customer attaches to a line of order_type"
        kind = FILES.get(order_type)
        uploads = []
        if kind:
            uploads.append(self.upload(token, 'IMG_0001.JPG',
                    image('JPEG', orientation=6)))
            uploads.append(self.upload(token, '截图.png', image('PNG')))
        if kind == 'attachments':
            uploads.append(self.upload(token, '清单.pdf', pdf('list')))
        return uploads

    # ---- the tests -----------------------------------------------------

    def test_lifecycle_of_each_type(self):
        "Submit, accept and every step of each type, on site"
        engineer = self.server.engineer(0)
        for order_type in TYPES:
            with self.subTest(order_type=order_type):
                self.lifecycle(order_type, engineer,
                    revise_quote=order_type == 'repair',
                    reject_report=order_type in {'repair', 'validation'})

    def lifecycle(self, order_type, engineer, revise_quote, reject_report):
        server = self.server
        customer = server.customer()
        x = NOUN[order_type]

        # Uploads: recognised by content, images upright with a thumbnail
        uploads = self.customer_files(customer, order_type)
        for upload in uploads:
            self.assertTrue(upload['url'].endswith('/files/%s' % upload['id']))
            if upload['mimetype'].startswith('image/'):
                self.assertTrue(upload['thumbnail_url'])
            else:
                self.assertEqual(upload['mimetype'], 'application/pdf')
                self.assertIsNone(upload['thumbnail_url'])
        if uploads:
            self.assertEqual(uploads[0]['mimetype'], 'image/jpeg')
            # The EXIF orientation 6 is applied: 640x480 stands upright
            status, _, content = server.request('GET',
                '/files/%s' % uploads[0]['id'], token=customer)
            self.assertEqual(status, 200)
            from io import BytesIO

            from PIL import Image
            self.assertEqual(Image.open(BytesIO(content)).size, (480, 640))
            status, headers, content = server.request('GET',
                '/files/%s/thumbnail' % uploads[0]['id'], token=customer)
            self.assertEqual(status, 200)
            self.assertEqual(headers['Content-Type'], 'image/jpeg')
            self.assertLessEqual(
                max(Image.open(BytesIO(content)).size), 320)

        # Submission, with a retry and a reuse of its Idempotency-Key
        file_ids = [u['id'] for u in uploads]
        order, key = self.submit(customer, order_type, file_ids)
        order_id = order['id']
        self.assertEqual(order['type'], order_type)
        self.assertEqual(order['state'], 'submitted')
        self.assertRegex(order['submitted_at'], ISO)
        # The time is right, not only its format
        self.assertLess(abs(dt.datetime.fromisoformat(order['submitted_at'])
                - dt.datetime.now(dt.timezone.utc)), dt.timedelta(minutes=2))
        self.assertTrue(order['number'])
        self.assertIn(CONTACT['company'], order['name'])
        self.assertEqual(order['contact'], CONTACT)
        self.assertIsNone(order['progress']['current_step'])
        self.assertEqual(order['progress']['hint'], '订单已提交，正在为您安排工程师')
        self.assertEqual(
            sorted(f['id'] for f in order['lines'][0]['files']),
            sorted(file_ids))
        if order_type == 'training':
            self.assertEqual(order['lines'][0]['appointment_time'],
                '2031-06-01T09:30:00+08:00')
        if order_type == 'validation':
            self.assertEqual(order['lines'][0]['validation_categories'],
                ['iq', 'oq'])
        self.assertTrue(order['can_cancel'])
        # A retry with the key answers what the first request answered
        status, headers, content = server.request('POST', '/orders', {
                'type': order_type, 'contact': CONTACT,
                'lines': [line_for(order_type, file_ids)],
                }, customer, headers={'Idempotency-Key': key})
        self.assertEqual(status, 201, content)
        self.assertEqual(headers['Idempotent-Replayed'], 'true')
        again = json.loads(content)
        self.assertEqual(again['id'], order_id)
        self.assertEqual(again['number'], order['number'])
        status, body = server.call('POST', '/orders', {
                'type': order_type, 'contact': {**CONTACT, 'name': '李四'},
                'lines': [line_for(order_type, file_ids)],
                }, customer, headers={'Idempotency-Key': key})
        self.assertEqual(status, 422, body)
        self.assertEqual(body['error']['code'], 'idempotency_key_reused')
        mine = self.call('GET', '/orders', token=customer)
        self.assertEqual(mine['total'], 1)
        self.assertEqual([o['id'] for o in mine['items']], [order_id])
        self.assertEqual(server.count('instrument_service_order',
                'customer = (SELECT customer FROM instrument_service_order'
                ' WHERE id = %s)', (order_id,)), 1)
        # The contact is remembered for the next order
        self.assertEqual(self.call('GET', '/me', token=customer)['contact'],
            CONTACT)

        # The engineer finds it in the inbox, without personal data
        inbox = self.call('GET', '/engineer/inbox?page_size=100',
            token=engineer)
        offered = [o for o in inbox['items'] if o['id'] == order_id]
        self.assertEqual(len(offered), 1)
        self.assertNotIn(CONTACT['phone'], str(offered[0]))
        self.assertNotIn(CONTACT['name'], str(offered[0]))
        accepted = self.call('POST',
            '/engineer/inbox/%s/accept' % order_id, token=engineer)
        self.assertEqual(accepted['state'], 'in_progress')
        self.assertEqual(accepted['progress']['current_step'], 'accepted')
        self.assertEqual(sorted(a['action']
                for a in accepted['progress']['actions']),
            ['visit_onsite', 'visit_remote'])
        tasks = self.call('GET', '/engineer/tasks?page_size=100',
            token=engineer)
        self.assertIn(order_id, [t['id'] for t in tasks['items']])
        inbox = self.call('GET', '/engineer/inbox?page_size=100',
            token=engineer)
        self.assertNotIn(order_id, [o['id'] for o in inbox['items']])

        # The engineer may now look at the customer's files
        for upload in uploads:
            status, _, content = server.request('GET',
                '/files/%s' % upload['id'], token=engineer)
            self.assertEqual(status, 200)
            self.assertEqual(len(content), upload['size'])

        view = self.view(order_id, customer)
        expected = hints(order_type)
        self.assertProgress(view, order_type, 'accepted',
            expected['accepted'])
        # Before the work starts, the customer may cancel
        self.assertEqual(self.actions(view), ['cancel'])
        self.assertTrue(view['can_cancel'])

        # Step 2: an on-site visit at a time given in Shanghai
        local = (dt.datetime.now(SHANGHAI) + dt.timedelta(days=3)).replace(
            hour=10, minute=0, second=0, microsecond=0)
        appointment = local.isoformat()
        self.assertTrue(appointment.endswith('+08:00'))
        self.step(order_id, engineer, 'visit_onsite',
            appointment=appointment)
        view = self.view(order_id, customer)
        expected = hints(order_type, appointment=local)
        progress = self.assertProgress(view, order_type, 'visit',
            expected['visit'])
        self.assertEqual(view['appointment'], appointment)
        self.assertEqual(view['visit_mode'], 'onsite')
        record = progress['steps'][1]['records'][-1]
        self.assertEqual(record['appointment'], appointment)

        # Step 3: the assessment with a photo of the task and a check-in
        photo = self.upload(engineer, 'site.jpg', image('JPEG', (800, 600)),
            path='/engineer/tasks/%s/files' % order_id)
        self.assertEqual(photo['mimetype'], 'image/jpeg')
        check_in = {
            'time': local.isoformat(), 'latitude': 31.2035,
            'longitude': 121.5914, 'accuracy': 12.5,
            'address': '上海市浦东新区张江路100号',
            }
        self.step(order_id, engineer, 'submit_assessment',
            description='%s评估：泵密封圈老化' % x, photos=[photo['id']],
            check_in=check_in)
        view = self.view(order_id, customer)
        progress = self.assertProgress(view, order_type, 'assessment',
            expected['assessment'])
        record = progress['steps'][2]['records'][-1]
        self.assertEqual(record['description'], '%s评估：泵密封圈老化' % x)
        self.assertEqual([p['id'] for p in record['photos']], [photo['id']])
        self.assertTrue(record['photos'][0]['thumbnail_url'])
        self.assertEqual(record['check_in']['time'], local.isoformat())
        self.assertAlmostEqual(record['check_in']['latitude'], 31.2035)
        self.assertAlmostEqual(record['check_in']['accuracy'], 12.5)
        self.assertEqual(record['label'], '%s评估' % x)
        # The customer may look at the engineer's photo and its thumbnail
        for path in ['/files/%s', '/files/%s/thumbnail']:
            status, headers, content = server.request('GET',
                path % photo['id'], token=customer)
            self.assertEqual(status, 200)
            self.assertTrue(content.startswith(b'\xff\xd8\xff'))

        # Step 4: plan and quote, which the customer confirms
        self.step(order_id, engineer, 'submit_quote',
            description='更换泵密封圈', amount='1000.00')
        view = self.view(order_id, customer)
        progress = self.assertProgress(view, order_type, 'quote',
            expected['quote'])
        self.assertEqual(progress['quote']['amount'], '1000.00')
        self.assertEqual(progress['quote']['currency'], 'CNY')
        self.assertEqual(progress['quote']['state'], 'proposed')
        self.assertEqual(progress['quote']['plan'], '更换泵密封圈')
        self.assertEqual(self.actions(view),
            ['cancel', 'confirm_quote', 'reject_quote'])
        buttons = {a['action']: a['button'] for a in progress['actions']}
        self.assertEqual(buttons['confirm_quote'], '确认订单')
        self.assertTrue(view['can_cancel'])
        if revise_quote:
            rejected = self.call('POST', '/orders/%s/quote/reject' % order_id,
                {'reason': '价格太高'}, token=customer)
            self.assertEqual(rejected['progress']['quote']['state'],
                'rejected')
            self.assertEqual(rejected['progress']['quote']['reason'],
                '价格太高')
            # The customer sees that a new quote is coming, not the
            # rejected price, and the versions with their reasons
            self.assertProgress(rejected, order_type, 'quote',
                '已收到您的意见，工程师正在修改%s方案和报价，请稍候。' % (
                    NOUN[order_type]))
            self.assertEqual(rejected['progress']['quote_status'],
                'revising')
            self.assertEqual([(q['version'], q['state'], q['reason'])
                    for q in rejected['progress']['quotes']],
                [(1, 'rejected', '价格太高')])
            self.assertEqual(self.actions(rejected), ['cancel'])
            # Nothing to confirm until the engineer revises the quote
            status, body = server.call('POST',
                '/orders/%s/quote/confirm' % order_id, token=customer)
            self.assertEqual(status, 409, body)
            self.assertEqual(body['error']['code'], 'step_not_allowed')
            self.step(order_id, engineer, 'submit_quote',
                description='更换泵密封圈（国产配件）', amount='800.50')
            view = self.view(order_id, customer)
            progress = self.assertProgress(view, order_type, 'quote',
                hints(order_type, amount='800.50')['quote'])
            self.assertEqual(progress['quote']['amount'], '800.50')
            self.assertEqual(progress['quote']['version'], 2)
            self.assertEqual(progress['quote']['state'], 'proposed')
            self.assertEqual(progress['quote_status'], 'proposed')
            self.assertEqual([(q['version'], q['amount'], q['reason'])
                    for q in progress['quotes']],
                [(2, '800.50', None), (1, '1000.00', '价格太高')])
            amounts = [r['quote']['amount']
                for r in progress['steps'][3]['records'] if r['quote']]
            self.assertIn('1000.00', amounts)
            self.assertIn('800.50', amounts)
        confirmed = self.call('POST', '/orders/%s/quote/confirm' % order_id,
            token=customer)
        self.assertProgress(confirmed, order_type, 'work', expected['work'])
        self.assertEqual(confirmed['progress']['quote']['state'],
            'confirmed')
        self.assertFalse(confirmed['can_cancel'])

        # Step 6: the report, which the customer confirms
        for attempt in range(2 if reject_report else 1):
            self.step(order_id, engineer, 'submit_report',
                report='%s完成，各项指标合格（第%s版）' % (x, attempt + 1))
            view = self.view(order_id, customer)
            progress = self.assertProgress(view, order_type, 'report',
                expected['report'])
            self.assertEqual(progress['report']['state'], 'proposed')
            self.assertEqual(progress['report']['version'], attempt + 1)
            self.assertEqual(self.actions(view),
                ['confirm_report', 'reject_report'])
            if reject_report and not attempt:
                view = self.call('POST',
                    '/orders/%s/report/reject' % order_id,
                    {'reason': '缺少压力曲线'}, token=customer)
                progress = self.assertProgress(view, order_type, 'work',
                    expected['work'], revisited={'report'})
                self.assertEqual(progress['report']['state'], 'rejected')
                self.assertEqual(progress['report']['reason'], '缺少压力曲线')
                # The rejection is recorded on the work step it goes back to
                self.assertEqual(progress['steps'][4]['records'][-1]['reason'],
                    '缺少压力曲线')
        view = self.call('POST', '/orders/%s/report/confirm' % order_id,
            token=customer)
        self.assertProgress(view, order_type, 'rating', expected['rating'])
        self.assertEqual(view['progress']['report']['state'], 'confirmed')
        self.assertEqual(self.actions(view), ['rate'])

        # Step 7: the rating completes the order
        view = self.call('POST', '/orders/%s/rating' % order_id, {
                'attitude': 5, 'quality': 4, 'overall': 5,
                'comment': '工程师很专业'}, token=customer)
        self.assertProgress(view, order_type, 'done', expected['done'],
            state='done')
        self.assertEqual(view['progress']['rating'], {
                'attitude': 5, 'quality': 4, 'overall': 5,
                'comment': '工程师很专业'})
        self.assertEqual(self.actions(view), [])
        self.assertFalse(view['can_cancel'])
        self.assertEqual(self.view(order_id, customer)['progress'],
            view['progress'])

        # The engineer's view of the finished task
        task = self.call('GET', '/engineer/tasks/%s' % order_id,
            token=engineer)
        self.assertEqual(task['state'], 'done')
        self.assertEqual(task['progress']['current_step'], 'done')
        self.assertEqual(task['contact']['phone'], CONTACT['phone'])
        done = self.call('GET', '/orders?state=done', token=customer)
        self.assertEqual([o['id'] for o in done['items']], [order_id])

    def test_remote_assistance(self):
        "A remote order skips steps 3 to 6 and goes on to the rating"
        server = self.server
        engineer = server.engineer(1)
        customer = server.customer()
        order_type = 'maintenance'
        order, _ = self.submit(customer, order_type)
        order_id = order['id']
        self.call('POST', '/engineer/inbox/%s/accept' % order_id,
            token=engineer)
        expected = hints(order_type)
        view = self.step(order_id, engineer, 'visit_remote',
            description='电话沟通')
        self.assertEqual(sorted(a['action']
                for a in view['progress']['actions']), ['finish_remote'])
        view = self.view(order_id, customer)
        self.assertProgress(view, order_type, 'visit', expected['visit'])
        self.assertEqual(view['visit_mode'], 'remote')
        self.assertIsNone(view['appointment'])
        # No on-site assessment for a remote order
        status, body = server.call('POST',
            '/engineer/tasks/%s/steps' % order_id,
            {'action': 'submit_assessment', 'description': '-'},
            engineer)
        self.assertEqual(status, 409, body)
        self.assertEqual(body['error']['code'], 'step_not_allowed')
        self.step(order_id, engineer, 'finish_remote',
            description='远程指导客户完成了保养')
        skipped = {'assessment', 'quote', 'work', 'report'}
        view = self.view(order_id, customer)
        progress = self.assertProgress(view, order_type, 'rating',
            expected['rating'], skipped=skipped)
        self.assertEqual([s['status'] for s in progress['steps']][2:6],
            ['skipped'] * 4)
        self.assertIsNone(progress['quote'])
        self.assertIsNone(progress['report'])
        view = self.call('POST', '/orders/%s/rating' % order_id, {
                'attitude': 4, 'quality': 4, 'overall': 4}, token=customer)
        progress = self.assertProgress(view, order_type, 'done',
            expected['done'], skipped=skipped, state='done')
        self.assertEqual(progress['rating']['comment'], None)

    def test_notifications_long_poll(self):
        """The engineer's long poll answers as soon as a notification
        arrives, and keeps to its timeout when none does"""
        import threading
        import time
        server = self.server
        engineer = server.engineer(1)
        latest = self.call('GET', '/engineer/notifications/wait?timeout=0',
            token=engineer)['items']
        after = max([n['id'] for n in latest] or [0])
        answer = {}

        def wait():
            started = time.monotonic()
            answer['body'] = self.call('GET',
                '/engineer/notifications/wait?timeout=30&after=%s' % after,
                token=engineer)
            answer['time'] = time.monotonic() - started
        thread = threading.Thread(target=wait)
        thread.start()
        time.sleep(1)
        self.assertTrue(thread.is_alive())
        order, _ = self.submit(server.customer(), 'installation')
        thread.join(40)
        # Woken by the bus (PostgreSQL) or the poll of every second
        self.assertLess(answer['time'], 4)
        items = answer['body']['items']
        self.assertEqual([n['order_id'] for n in items], [order['id']])
        self.assertRegex(items[0]['created_at'], ISO)
        self.assertLess(abs(dt.datetime.fromisoformat(items[0]['created_at'])
                - dt.datetime.now(dt.timezone.utc)), dt.timedelta(minutes=2))
        self.assertTrue(items[0]['unread'])
        self.assertGreaterEqual(answer['body']['unread'], 1)
        count = self.call('GET', '/engineer/notifications/unread-count',
            token=engineer)['unread']
        self.assertEqual(answer['body']['unread'], count)
        # Nothing new: an empty answer after the timeout, not later
        started = time.monotonic()
        body = self.call('GET', '/engineer/notifications/wait?timeout=2'
            '&after=%s' % items[-1]['id'], token=engineer)
        self.assertEqual(body['items'], [])
        self.assertLess(time.monotonic() - started, 6)
        self.assertGreaterEqual(time.monotonic() - started, 1.5)
        # Read
        body = self.call('POST', '/engineer/notifications/%s/read'
            % items[0]['id'], {}, token=engineer)
        self.assertEqual(body['unread'], count - 1)
        listed = self.call('GET', '/engineer/notifications?unread=1',
            token=engineer)
        self.assertNotIn(items[0]['id'], [n['id'] for n in listed['items']])

    def test_cancel_and_profile(self):
        "The customer cancels before the work starts; the profile is theirs"
        server = self.server
        engineer = server.engineer(0)
        customer = server.customer()
        self.assertEqual(self.call('GET', '/me', token=customer)['contact'],
            {f: None for f in CONTACT})
        order, _ = self.submit(customer, 'rental')
        waiting, _ = self.submit(customer, 'training')
        self.call('POST', '/engineer/inbox/%s/accept' % order['id'],
            token=engineer)
        for order_id in [order['id'], waiting['id']]:
            view = self.call('POST', '/orders/%s/cancel' % order_id,
                {'reason': '设备已自行修好'}, token=customer)
            self.assertEqual(view['state'], 'cancelled')
            self.assertEqual(view['progress']['hint'],
                '订单已取消。设备已自行修好')
            self.assertFalse(view['can_cancel'])
            self.assertEqual(view['progress']['actions'], [])
        # Gone from the engineer's inbox, and told so
        inbox = self.call('GET', '/engineer/inbox?page_size=100',
            token=engineer)
        self.assertNotIn(waiting['id'], [o['id'] for o in inbox['items']])
        task = self.call('GET', '/engineer/tasks/%s' % order['id'],
            token=engineer)
        self.assertEqual(task['state'], 'cancelled')
        status, body = server.call('POST', '/engineer/tasks/%s/steps'
            % order['id'], {'action': 'visit_remote'}, engineer)
        self.assertEqual((status, body['error']['code']),
            (409, 'step_not_allowed'))
        cancelled = self.call('GET', '/orders?state=cancelled',
            token=customer)
        self.assertEqual(cancelled['total'], 2)
        # The engineer's tasks: in progress first, the cancelled one after
        taken, _ = self.submit(customer, 'repair')
        self.call('POST', '/engineer/inbox/%s/accept' % taken['id'],
            token=engineer)
        tasks = self.call('GET', '/engineer/tasks?page_size=100',
            token=engineer)['items']
        ids = [t['id'] for t in tasks]
        self.assertLess(ids.index(taken['id']), ids.index(order['id']))
        # The profile: remembered from the order, then changed
        self.assertEqual(self.call('GET', '/me', token=customer)['contact'],
            CONTACT)
        changed = self.call('PUT', '/me', {'contact': {
                    'position': '经理', 'department': ''}}, token=customer)
        self.assertEqual(changed['contact'],
            {**CONTACT, 'position': '经理', 'department': None})
        self.assertEqual(self.call('GET', '/me', token=customer), changed)

    def test_tasks_order_and_pages(self):
        """An engineer's tasks: in progress first, the next appointment
        first (remote ones, without, last); then the finished and cancelled
        ones, newest first; the pages follow each other across the two"""
        engineer = self.server.engineer(1)
        customer = self.server.customer()
        submitted = []
        for hour in [15, None, 9, 11]:
            order, _ = self.submit(customer, 'repair')
            self.call('POST', '/engineer/inbox/%s/accept' % order['id'],
                token=engineer)
            if hour is None:
                self.step(order['id'], engineer, 'visit_remote')
            else:
                self.step(order['id'], engineer, 'visit_onsite',
                    appointment='2031-03-02T%02d:00:00+08:00' % hour)
            submitted.append(order['id'])
        # The second one is finished, the fourth cancelled
        self.step(submitted[1], engineer, 'finish_remote', description='-')
        self.call('POST', '/orders/%s/rating' % submitted[1], {
                'attitude': 5, 'quality': 5, 'overall': 5}, token=customer)
        self.call('POST', '/orders/%s/cancel' % submitted[3],
            {'reason': '不需要了'}, token=customer)
        tasks = self.call('GET', '/engineer/tasks?page_size=100',
            token=engineer)
        items = tasks['items']
        self.assertEqual(tasks['total'], len(items))
        running = [t for t in items if t['state'] == 'in_progress']
        # In progress first, in the order of their appointments
        self.assertEqual(items[:len(running)], running)
        self.assertEqual([t['appointment'] for t in running], sorted(
                (t['appointment'] for t in running),
                key=lambda a: (a is None, a or '')))
        self.assertLess(
            [t['id'] for t in items].index(submitted[2]),
            [t['id'] for t in items].index(submitted[0]))
        # Then the closed ones, the newest first
        closed = items[len(running):]
        self.assertEqual({t['state'] for t in closed},
            {'done', 'cancelled'})
        self.assertEqual(closed, sorted(closed,
                key=lambda t: (t['submitted_at'], t['id']), reverse=True))
        closed_ids = [t['id'] for t in closed]
        self.assertLess(closed_ids.index(submitted[3]),
            closed_ids.index(submitted[1]))
        # Pages of 2 make the same list, across the two runs
        paged = []
        for page in range(1, len(items) // 2 + 2):
            body = self.call('GET', '/engineer/tasks?page_size=2&page=%s'
                % page, token=engineer)
            self.assertEqual(body['total'], tasks['total'])
            paged += body['items']
        self.assertEqual(paged, items)
        # One state: that run only
        for state in ['in_progress', 'done', 'cancelled']:
            only = self.call('GET', '/engineer/tasks?page_size=100&state='
                + state, token=engineer)
            self.assertEqual(only['items'],
                [t for t in items if t['state'] == state])
            self.assertEqual(only['total'], len(only['items']))

    def test_workflow_edit_seen_at_once(self):
        """A step renamed in the back office (in Chinese and in English)
        reads so in the apps at the next request: the cached workflow
        definitions are cleared"""
        customer = self.server.customer()
        engineer = self.server.engineer(0)
        order, _ = self.submit(customer, 'training')
        self.call('POST', '/engineer/inbox/%s/accept' % order['id'],
            token=engineer)
        self.assertEqual(self.view(order['id'], customer)['step']['name'],
            '已接单')
        step_ids = self.server.back_office(
            'model.instrument_service.workflow.step.search',
            [['workflow.order_type', '=', 'training'],
                ['code', '=', 'accepted']], 0, None, None)
        # English first: writing the source marks its translations fuzzy
        renamed = {'en': 'Taken by an engineer', 'zh_CN': '工程师已接单'}
        original = {language: self.server.back_office(
                'model.instrument_service.workflow.step.read',
                step_ids, ['name'], language=language)[0]['name']
            for language in renamed}
        try:
            for language, name in renamed.items():
                self.server.back_office(
                    'model.instrument_service.workflow.step.write',
                    step_ids, {'name': name}, language=language)
            for language, name in renamed.items():
                view = self.call('GET', '/orders/%s' % order['id'],
                    token=customer, headers={
                        'Accept-Language': language.replace('_', '-')})
                self.assertEqual(view['step']['name'], name)
                self.assertEqual(view['progress']['steps'][0]['name'], name)
                listed = self.call('GET', '/orders', token=customer,
                    headers={'Accept-Language': language.replace('_', '-')})
                self.assertEqual(listed['items'][0]['step']['name'], name)
        finally:
            for language, name in original.items():
                self.server.back_office(
                    'model.instrument_service.workflow.step.write',
                    step_ids, {'name': name}, language=language)
        self.assertEqual(self.view(order['id'], customer)['step']['name'],
            '已接单')

    def test_english(self):
        "Accept-Language: en gives the English copy, zh_CN is the default"
        server = self.server
        engineer = server.engineer(0)
        customer = server.customer()
        order, _ = self.submit(customer, 'repair')
        self.call('POST', '/engineer/inbox/%s/accept' % order['id'],
            token=engineer)
        chinese = self.view(order['id'], customer)
        self.assertEqual(chinese['progress']['hint'],
            '请保持电话畅通，我们稍后会联系您')
        self.assertEqual(chinese['type_name'], '仪器维修')
        english = self.call('GET', '/orders/%s' % order['id'],
            token=customer, headers={'Accept-Language': 'en-US,en;q=0.9'})
        self.assertEqual(english['progress']['hint'],
            "Please keep your phone reachable; we will contact you shortly.")
        self.assertEqual([s['name'] for s in english['progress']['steps']][:3],
            ['Order accepted', 'Visit decision', 'Inspection completed'])
        # Errors are in the caller's language too, Chinese by default
        status, body = server.call('GET', '/orders/999999', token=customer,
            headers={'Accept-Language': 'en'})
        self.assertEqual((status, body['error']['message']),
            (404, 'Order not found.'))
        status, body = server.call('GET', '/orders/999999', token=customer)
        self.assertEqual((status, body['error']['message']),
            (404, '订单不存在。'))
        # ... also those answered before any transaction
        for headers, message in [({}, '请先登录：令牌缺失、无效或已过期。'),
                ({'Accept-Language': 'en'},
                    'Please log in: the token is missing, invalid or '
                    'expired.')]:
            status, body = server.call('GET', '/orders', headers=headers)
            self.assertEqual((status, body['error']['message']),
                (401, message))
        status, body = server.call('DELETE', '/orders', token=customer)
        self.assertEqual((status, body['error']['message']),
            (405, '该路径不支持此请求方法。'))


if __name__ == '__main__':
    unittest.main()
