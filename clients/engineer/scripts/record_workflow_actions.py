#!/usr/bin/env python3
"""Record the engineer's progress.actions of every step of every workflow,
as a real server answers them, for the step form's unit tests
(tests/unit/fixtures/workflow-actions.json).

Starts a test server on a fresh database (the module's eight workflows, the
API test harness's APIServer), and drives an order of each type through
both paths as the apps would: on site (with a quote rejected and revised,
and a report rejected and sent again) and remote assistance. At each point
it keeps the actions the engineer is offered, and the Evidence_<type>_
<step>_<action> schemas of the engineer's actions from /openapi.json, so
that the test can check that every action of the document was seen.

    .venv/bin/python clients/engineer/scripts/record_workflow_actions.py
"""
import json
import os
import sys
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
OUTPUT = os.path.join(HERE, '..', 'tests', 'unit', 'fixtures',
    'workflow-actions.json')
sys.path.insert(0, os.path.join(ROOT, 'addons', 'instrument_service_api'))

from tests.server import APIServer, image, pdf  # noqa: E402

TYPES = ['repair', 'maintenance', 'recycle', 'rental', 'training',
    'validation', 'selection', 'installation']
CONTACT = {'name': '张三', 'company': '某某生物科技有限公司',
    'phone': '13800138000', 'address': '上海市浦东新区张江路100号'}


def line_for(order_type):
    if order_type == 'selection':
        return {'instrument_name': '检测水中重金属',
            'requirement': '需要检出限低于1ppb', 'quantity': 1}
    line = {'instrument_name': '液相色谱仪', 'category': '色谱',
        'brand': 'Agilent', 'model': '1260'}
    if order_type in {'repair', 'maintenance'}:
        line['fault_description'] = '泵压力波动'
    if order_type == 'training':
        line['appointment_time'] = '2031-06-01T09:30:00+08:00'
    else:
        line['quantity'] = 1
    if order_type == 'validation':
        line['validation_categories'] = ['iq']
    return line


class Driver:
    def __init__(self, server):
        self.server = server
        self.customer = server.customer()
        self.engineer = server.engineer(0)
        self.records = []

    def call(self, method, path, data=None, token=None, language='zh_CN',
            status=200):
        got, body = self.server.call(method, path, data, token,
            headers={'Accept-Language': language,
                'Idempotency-Key': uuid.uuid4().hex})
        assert got == status, (method, path, got, body)
        return body

    def keep(self, order_id, note):
        "Record the engineer's actions now, in both languages"
        views = {language: self.call('GET', '/engineer/tasks/%s' % order_id,
                token=self.engineer, language=language)
            for language in ['zh_CN', 'en']}
        task = views['zh_CN']
        self.records.append({
                'type': task['type'],
                'step': task['progress']['current_step'],
                'visit_mode': task['visit_mode'],
                'quote_status': task['progress']['quote_status'],
                'report_status': task['progress']['report_status'],
                'note': note,
                'submitted_at': task['submitted_at'],
                'actions': task['progress']['actions'],
                'actions_en': views['en']['progress']['actions'],
                })
        return task

    def files(self, order_id):
        photo = self.server.upload('/engineer/tasks/%s/files' % order_id,
            'site.jpg', image(), self.engineer)[1]
        document = self.server.upload('/engineer/tasks/%s/files' % order_id,
            'report.pdf', pdf(), self.engineer)[1]
        return photo['id'], document['id']

    def step(self, order_id, action, **values):
        return self.call('POST', '/engineer/tasks/%s/steps' % order_id,
            dict(values, action=action), token=self.engineer)

    def order(self, order_type):
        order = self.call('POST', '/orders', {'type': order_type,
                'contact': CONTACT, 'lines': [line_for(order_type)]},
            token=self.customer, status=201)
        self.call('POST', '/engineer/inbox/%s/accept' % order['id'],
            token=self.engineer)
        return order['id']

    def onsite(self, order_type):
        order_id = self.order(order_type)
        self.keep(order_id, 'accepted')
        self.step(order_id, 'visit_onsite',
            appointment='2031-05-29T10:00:00+08:00')
        self.keep(order_id, 'visit on site')
        photo, document = self.files(order_id)
        self.step(order_id, 'submit_assessment', description='评估',
            photos=[photo], check_in={'time': '2031-05-29T10:05:00+08:00',
                'latitude': 31.2, 'longitude': 121.6, 'accuracy': 15,
                'coordinate_system': 'gcj02'})
        self.keep(order_id, 'assessment')
        self.step(order_id, 'submit_quote', amount='1000.00',
            description='方案', files=[document])
        self.keep(order_id, 'quote proposed')
        self.call('POST', '/orders/%s/quote/reject' % order_id,
            {'reason': '太贵'}, token=self.customer)
        self.keep(order_id, 'quote rejected: revise')
        self.step(order_id, 'submit_quote', amount='800.00',
            description='方案二')
        self.call('POST', '/orders/%s/quote/confirm' % order_id, {},
            token=self.customer)
        self.keep(order_id, 'work')
        photo, document = self.files(order_id)
        self.step(order_id, 'submit_report', report='报告',
            files=[document])
        self.keep(order_id, 'report proposed')
        self.call('POST', '/orders/%s/report/reject' % order_id,
            {'reason': '缺少数据'}, token=self.customer)
        self.keep(order_id, 'report rejected: work again')
        self.step(order_id, 'submit_report', report='报告二')
        self.call('POST', '/orders/%s/report/confirm' % order_id, {},
            token=self.customer)
        self.keep(order_id, 'rating')

    def remote(self, order_type):
        order_id = self.order(order_type)
        self.step(order_id, 'visit_remote')
        self.keep(order_id, 'visit remote')
        self.step(order_id, 'finish_remote', description='已远程解决')
        self.keep(order_id, 'remote finished')


def evidence(server):
    "The schemas of the engineer's actions in the server's document"
    document = server.call('GET', '/openapi.json')[1]
    return {name: schema
        for name, schema in document['components']['schemas'].items()
        if name.startswith('Evidence_')
        and schema.get('description', '').endswith('(engineer)')}


def main():
    server = APIServer(engineers=1).start()
    try:
        driver = Driver(server)
        for order_type in TYPES:
            driver.onsite(order_type)
            driver.remote(order_type)
        result = {
            'comment': "Recorded by scripts/record_workflow_actions.py "
            "from a test server with the module's workflows",
            'records': driver.records,
            'evidence': evidence(server),
            }
    finally:
        server.stop()
    with open(OUTPUT, 'w') as fp:
        json.dump(result, fp, ensure_ascii=False, indent=1, sort_keys=True)
        fp.write('\n')
    print("%s records, %s engineer evidence schemas -> %s" % (
            len(result['records']), len(result['evidence']),
            os.path.relpath(OUTPUT)))


if __name__ == '__main__':
    main()
