# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
import datetime as dt
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from unittest.mock import patch

from lxml import etree

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import (
    CompanyTestMixin, create_company, create_employee, set_company)
from trytond.modules.instrument_service.exceptions import (
    AlreadyTakenError, AppendOnlyError, MissingEvidenceError,
    OrderValidationError, StepNotAllowedError, WrongActorError)
from trytond.modules.instrument_service.filetype import sniff
from trytond.modules.instrument_service.tests.tools import (
    create_group_user, photo)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction, check_access

CLOCK = 'trytond.modules.instrument_service.clock.now'
PDF = b'%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n'


class InstrumentServiceTestCase(CompanyTestMixin, ModuleTestCase):
    "Test Instrument Service module"
    module = 'instrument_service'

    # ---- fixtures ---------------------------------------------------------

    def _engineer(self, login, company, order_types):
        Engineer = Pool().get('instrument_service.engineer')
        employee = create_employee(company, name=login)
        Engineer(employee=employee, order_types=order_types).save()
        return create_group_user(login, 'group_engineer', company, employee)

    def _customer(self, email):
        pool = Pool()
        WebUser = pool.get('web.user')
        Session = pool.get('web.user.session')
        web_user = WebUser(email=email)
        web_user.save()
        return web_user, Session.add(web_user)

    def _order(self, world, order_type='repair', **line):
        Order = Pool().get('instrument_service.order')
        values = {
            'instrument_name': "液相色谱仪", 'brand': "Agilent",
            'model': "1260", 'quantity': 1,
            'fault_description': "压力波动",
            }
        values.update(line)
        order = Order(
            company=world.company, type=order_type,
            customer=world.customer,
            contact_name="陈经理", contact_company="上海某某生物科技有限公司",
            contact_phone="13800138000", lines=[values])
        order.save()
        return order

    def _world(self):
        "A company with a dispatcher, engineers and two customers"
        company = create_company()
        world = SimpleNamespace(company=company)
        with set_company(company):
            world.dispatcher = create_group_user(
                'dispatcher', 'group_dispatcher', company)
            world.zhang = self._engineer('zhang', company, ['repair'])
            world.li = self._engineer('li', company, ['repair'])
            world.wang = self._engineer('wang', company, ['rental'])
        world.customer, world.session = self._customer('a@example.com')
        world.other_customer, world.other_session = self._customer(
            'b@example.com')
        return world

    @contextmanager
    def _as(self, user, world):
        transaction = Transaction()
        with transaction.set_user(user.id), \
                transaction.set_context(company=world.company.id):
            yield

    @contextmanager
    def _as_customer(self, session):
        with Transaction().set_context(instrument_service_session=session):
            yield

    def _perform(self, user, world, order, action, values=None):
        Order = Pool().get('instrument_service.order')
        with self._as(user, world):
            return Order.perform([order], action, values or {})

    def _customer_perform(self, session, order, action, values=None):
        Order = Pool().get('instrument_service.order')
        with self._as_customer(session):
            return Order.perform([order], action, values or {})

    def _photo(self, user, world, order, data=None, name='p.jpg'):
        Order = Pool().get('instrument_service.order')
        with self._as(user, world):
            photo_id, = Order.add_photo([order], name, data or photo())
        return photo_id

    def _check_in(self, **values):
        return {
            'time': dt.datetime.now(), 'latitude': 31.2, 'longitude': 121.5,
            'accuracy': 10.0, **values}

    def _advance(self, world, order, until):
        "Take a submitted repair order through the steps up to until"
        Order = Pool().get('instrument_service.order')
        zhang = world.zhang
        steps = [
            ('accepted', lambda: self._perform(zhang, world, order, 'accept')),
            ('visit', lambda: self._perform(zhang, world, order,
                    'visit_onsite', {'appointment': order.submitted_at
                        + dt.timedelta(days=1)})),
            ('assessment', lambda: self._perform(zhang, world, order,
                    'submit_assessment', {
                        'description': "老化",
                        'photos': [self._photo(zhang, world, order)],
                        'check_in': self._check_in()})),
            ('quote', lambda: self._perform(zhang, world, order,
                    'submit_quote', {
                        'description': "更换", 'amount': Decimal('1000')})),
            ('work', lambda: self._customer_perform(
                    world.session, order, 'confirm_quote')),
            ('report', lambda: self._perform(zhang, world, order,
                    'submit_report', {'report': "完成"})),
            ('rating', lambda: self._customer_perform(
                    world.session, order, 'confirm_report')),
            ]
        for code, step in steps:
            step()
            if code == until:
                break
        order = Order(order.id)
        self.assertEqual(order.step.code, until)
        return order

    def _submitted(self, world, order_type='repair', **line):
        Order = Pool().get('instrument_service.order')
        order = self._order(world, order_type, **line)
        Order.submit([order])
        return order

    # ---- submission -------------------------------------------------------

    @with_transaction()
    def test_submit_numbers_names_and_offers(self):
        "Submission gives a task ID, a task name and offers by type"
        world = self._world()
        first = self._submitted(world)
        second = self._submitted(world)
        self.assertRegex(first.number, r'^FW\d{10}$')
        self.assertEqual(
            int(second.number[-4:]), int(first.number[-4:]) + 1)
        self.assertEqual(
            first.name, "Repair · 液相色谱仪 Agilent 1260 · 上海某某生物科技有限公司")
        self.assertEqual(
            {o.engineer for o in first.offers},
            {world.zhang.employee, world.li.employee})
        # Both orders of the company share one party
        self.assertEqual(first.party, second.party)

    @with_transaction()
    def test_task_id_has_the_company_date(self):
        "The task ID carries the date of the submission in the company"
        world = self._world()

        def submitted_at(utc):
            with patch(CLOCK, return_value=utc):
                order = self._submitted(world)
            self.assertEqual(order.submitted_at, utc)
            return order.number[2:8]

        # 07:43:56 on the 5th in Shanghai, the default timezone
        self.assertIsNone(world.company.timezone)
        self.assertEqual(
            submitted_at(dt.datetime(2026, 12, 4, 23, 43, 56)), '261205')
        self.assertEqual(
            submitted_at(dt.datetime(2026, 12, 4, 15, 59, 59)), '261204')
        # Past midnight in Shanghai, at the end of a month and of a year
        self.assertEqual(
            submitted_at(dt.datetime(2026, 12, 31, 16, 0)), '270101')
        # The company's own timezone wins: still the 4th in New York
        world.company.timezone = 'America/New_York'
        world.company.save()
        self.assertEqual(
            submitted_at(dt.datetime(2026, 12, 5, 3, 0)), '261204')

    @with_transaction()
    def test_submit_refuses_incomplete_orders(self):
        "Each order type insists on the fields of its form"
        world = self._world()
        cases = [
            ('repair', {'fault_description': None}),
            ('maintenance', {'fault_description': "  "}),
            ('validation', {'validation_categories': []}),
            ('training', {'appointment_time': None}),
            ('selection', {'requirement': None}),
            ('rental', {'instrument_name': None}),
            ('repair', {'quantity': 0}),
            ]
        for order_type, line in cases:
            with self.subTest(order_type=order_type, line=line):
                Order = Pool().get('instrument_service.order')
                order = self._order(world, order_type, **line)
                with self.assertRaises(OrderValidationError):
                    Order.submit([order])
                self.assertEqual(order.state, 'draft')

    @with_transaction()
    def test_submit_refuses_missing_contact_and_lines(self):
        Order = Pool().get('instrument_service.order')
        world = self._world()
        order = self._order(world)
        order.contact_phone = None
        order.save()
        with self.assertRaises(OrderValidationError):
            Order.submit([order])
        order = self._order(world)
        order.lines = []
        order.save()
        with self.assertRaises(OrderValidationError):
            Order.submit([order])
        order = self._submitted(world)
        with self.assertRaises(StepNotAllowedError):
            Order.submit([order])

    @with_transaction()
    def test_submitted_order_cannot_be_deleted(self):
        Order = Pool().get('instrument_service.order')
        world = self._world()
        order = self._submitted(world)
        with self.assertRaises(AccessError):
            Order.delete([order])

    # ---- the engine: who acts -------------------------------------------------

    @with_transaction()
    def test_accept_only_offered_and_only_once(self):
        world = self._world()
        order = self._submitted(world)
        with self.assertRaises(WrongActorError):
            self._perform(world.wang, world, order, 'accept')
        with self.assertRaises(WrongActorError):
            self._customer_perform(world.session, order, 'accept')
        self._perform(world.zhang, world, order, 'accept')
        with self.assertRaises(AlreadyTakenError):
            self._perform(world.li, world, order, 'accept')
        self.assertEqual(order.engineer, world.zhang.employee)
        self.assertEqual(
            {(o.engineer, o.state) for o in order.offers},
            {(world.zhang.employee, 'accepted'),
                (world.li.employee, 'withdrawn')})

    @with_transaction()
    def test_decline_needs_reason_and_an_offer(self):
        pool = Pool()
        Order = pool.get('instrument_service.order')
        Notice = pool.get('instrument_service.notice')
        world = self._world()
        order = self._submitted(world)
        self.assertEqual(
            {n.user for n in Notice.search([
                        ('order', '=', order.id), ('kind', '=', 'offered'),
                        ('channel', '=', 'tryton')])},
            {world.zhang, world.li})
        with self._as(world.wang, world), \
                self.assertRaises(WrongActorError):
            Order.decline([order], "不在服务区域")
        with self._as(world.zhang, world), \
                self.assertRaises(MissingEvidenceError):
            Order.decline([order], "")
        with self._as(world.zhang, world):
            Order.decline([order], "设备不熟悉")
        self.assertEqual(
            {(o.engineer, o.state, o.reason) for o in order.offers},
            {(world.zhang.employee, 'declined', "设备不熟悉"),
                (world.li.employee, 'offered', None)})
        with self.assertRaises(WrongActorError):
            self._perform(world.zhang, world, order, 'accept')
        self._perform(world.li, world, order, 'accept')
        self.assertEqual(order.engineer, world.li.employee)

        order = self._advance(world, self._submitted(world), 'quote')
        self._customer_perform(world.session, order, 'confirm_quote')
        # The engineer is told of the customer's confirmation
        self.assertTrue(Notice.search([
                    ('user', '=', world.zhang.id),
                    ('kind', '=', 'customer_action'),
                    ('order', '=', order.id),
                    ('title', 'like', '%Confirm quote%')]))

    @with_transaction()
    def test_last_decline_escalates(self):
        "When every engineer offered an order declines, dispatchers are told"
        pool = Pool()
        Order = pool.get('instrument_service.order')
        Notice = pool.get('instrument_service.notice')
        world = self._world()
        order = self._submitted(world)
        for engineer in [world.zhang, world.li]:
            # As the back office calls it, with access checked
            with self._as(engineer, world), \
                    Transaction().set_context(_check_access=True):
                Order.decline([order], "不熟悉该型号")
        order = Order(order.id)
        self.assertTrue(order.escalated_at)
        self.assertEqual(
            [(p.action, p.actor_role) for p in order.progress][-3:],
            [('decline', 'engineer'), ('decline', 'engineer'),
                ('escalate', 'system')])
        # The users of the dispatcher group: the dispatcher and admin
        self.assertEqual(
            {n.user.login for n in Notice.search([
                        ('order', '=', order.id),
                        ('kind', '=', 'unclaimed')])},
            {world.dispatcher.login, 'admin'})

    @with_transaction()
    def test_wrong_actor(self):
        "Engineers cannot answer for the customer, nor the other way round"
        world = self._world()
        order = self._advance(world, self._submitted(world), 'quote')
        # An engineer confirming the quote
        with self.assertRaises(WrongActorError):
            self._perform(world.zhang, world, order, 'confirm_quote')
        # Staff confirming the quote for the customer
        with self.assertRaises(WrongActorError):
            self._perform(world.dispatcher, world, order, 'confirm_quote')
        # Another customer confirming it
        with self.assertRaises(WrongActorError):
            self._customer_perform(
                world.other_session, order, 'confirm_quote')
        # An expired or forged session
        with self.assertRaises(WrongActorError):
            self._customer_perform('forged', order, 'confirm_quote')

        order = self._advance(world, self._submitted(world), 'visit')
        # A customer submitting the assessment
        with self.assertRaises(WrongActorError):
            self._customer_perform(world.session, order, 'submit_assessment',
                {'description': "x", 'check_in': self._check_in()})
        # Another engineer submitting it
        with self.assertRaises(WrongActorError):
            self._perform(world.li, world, order, 'submit_assessment',
                {'description': "x", 'check_in': self._check_in()})
        # A dispatcher submitting it
        with self.assertRaises(WrongActorError):
            self._perform(world.dispatcher, world, order, 'submit_assessment',
                {'description': "x", 'check_in': self._check_in()})

    @with_transaction()
    def test_skipped_step_and_unknown_action(self):
        world = self._world()
        order = self._submitted(world)
        with self.assertRaises(StepNotAllowedError):
            self._perform(world.zhang, world, order, 'visit_onsite',
                {'appointment': dt.datetime.now() + dt.timedelta(days=1)})
        order = self._advance(world, order, 'accepted')
        for action in ['submit_assessment', 'submit_quote', 'submit_report',
                'finish_remote', 'accept']:
            with self.subTest(action=action):
                with self.assertRaises(UserError):
                    self._perform(world.zhang, world, order, action,
                        {'description': "x", 'report': "x",
                            'amount': Decimal(1)})
        with self.assertRaises(StepNotAllowedError):
            self._customer_perform(world.session, order, 'rate', {
                    'ratings': {'attitude': 5, 'quality': 5, 'overall': 5}})
        with self.assertRaises(StepNotAllowedError):
            self._perform(world.zhang, world, order, 'drop_table')
        self.assertEqual(order.step.code, 'accepted')
        # A remote-only transition is refused on site
        order = self._advance(world, self._submitted(world), 'visit')
        with self.assertRaises(StepNotAllowedError):
            self._perform(world.zhang, world, order, 'finish_remote',
                {'description': "x"})

    # ---- the engine: evidence ---------------------------------------------

    @with_transaction()
    def test_visit_needs_appointment_after_submission(self):
        world = self._world()
        order = self._advance(world, self._submitted(world), 'accepted')
        for values, fields in [
                ({}, {'appointment': 'required'}),
                ({'appointment': "2030-01-01"}, {'appointment': 'type'}),
                ({'appointment': order.submitted_at - dt.timedelta(hours=1)},
                    {'appointment': 'minimum'})]:
            with self.subTest(values=values):
                with self.assertRaises(MissingEvidenceError) as refused:
                    self._perform(world.zhang, world, order, 'visit_onsite',
                        values)
                # The refusal names the field it is about
                self.assertEqual(refused.exception.fields, fields)
        self.assertEqual(order.step.code, 'accepted')

    @with_transaction()
    def test_assessment_needs_description_photo_and_check_in(self):
        world = self._world()
        other = self._advance(world, self._submitted(world), 'visit')
        order = self._advance(world, self._submitted(world), 'visit')
        zhang = world.zhang
        good = self._photo(zhang, world, order)
        foreign = self._photo(zhang, world, other)
        cases = [
            ({'photos': [good], 'check_in': self._check_in()},
                {'description': 'required'}),
            ({'description': "  ", 'photos': [good],
                    'check_in': self._check_in()},
                {'description': 'required'}),
            ({'description': "x", 'check_in': self._check_in()},
                {'photos': 'min_items'}),
            ({'description': "x", 'photos': [foreign],
                    'check_in': self._check_in()},
                {'photos': 'not_found'}),
            ({'description': "x", 'photos': "1",
                    'check_in': self._check_in()},
                {'photos': 'type'}),
            ({'description': "x", 'photos': [good]},
                {'check_in': 'required'}),
            ({'description': "x", 'photos': [good],
                    'check_in': self._check_in(latitude=91)},
                {'check_in.latitude': 'maximum'}),
            ({'description': "x", 'photos': [good],
                    'check_in': self._check_in(longitude="east")},
                {'check_in.longitude': 'type'}),
            ({'description': "x", 'photos': [good],
                    'check_in': self._check_in(accuracy=-1)},
                {'check_in.accuracy': 'maximum'}),
            ({'description': "x", 'photos': [good],
                    'check_in': self._check_in(time="now")},
                {'check_in.time': 'type'}),
            ({'description': 42, 'photos': [good],
                    'check_in': self._check_in()},
                {'description': 'type'}),
            ]
        for values, fields in cases:
            with self.subTest(values=values):
                with self.assertRaises(MissingEvidenceError) as refused:
                    self._perform(zhang, world, order, 'submit_assessment',
                        values)
                self.assertEqual(refused.exception.fields, fields)
        self.assertEqual(order.step.code, 'visit')
        # submit, offer, accept, withdraw (of the other offer), visit
        self.assertEqual(len(order.progress), 5)
        self._perform(zhang, world, order, 'submit_assessment', {
                'description': "x", 'photos': [good],
                'check_in': self._check_in()})
        self.assertEqual(order.step.code, 'assessment')

    @with_transaction()
    def test_photos_are_checked_by_content(self):
        world = self._world()
        order = self._advance(world, self._submitted(world), 'visit')
        for data, name in [(PDF, 'fake.jpg'), (b'GIF89a' + b'0' * 20, 'x.gif'),
                (b'\xff\xd8\xff' + b'0' * (10 * 1024 * 1024), 'big.jpg')]:
            with self.subTest(name=name):
                with self.assertRaises(MissingEvidenceError):
                    self._photo(world.zhang, world, order, data, name)
        # Only the order's own engineer adds evidence
        with self.assertRaises(WrongActorError):
            self._photo(world.li, world, order)
        with self.assertRaises(WrongActorError):
            self._photo(world.wang, world, order)
        self.assertEqual(sniff(photo(format='PNG')), 'image/png')

    @with_transaction()
    def test_quote_needs_plan_and_positive_amount(self):
        world = self._world()
        order = self._advance(world, self._submitted(world), 'assessment')
        for values in [
                {'amount': Decimal('100')},
                {'description': "x"},
                {'description': "x", 'amount': Decimal('0')},
                {'description': "x", 'amount': Decimal('-5')},
                {'description': "x", 'amount': Decimal('10.005')},
                {'description': "x", 'amount': "abc"},
                {'description': "x", 'amount': Decimal('NaN')},
                {'description': "x", 'amount': True},
                ]:
            with self.subTest(values=values):
                with self.assertRaises(MissingEvidenceError):
                    self._perform(world.zhang, world, order, 'submit_quote',
                        values)
        self.assertEqual(order.step.code, 'assessment')
        self.assertFalse(order.quotes)

    @with_transaction()
    def test_quote_versions(self):
        "A rejected quote needs a reason and is revised as a new version"
        world = self._world()
        order = self._advance(world, self._submitted(world), 'quote')
        with self.assertRaises(StepNotAllowedError):
            self._perform(world.zhang, world, order, 'submit_quote',
                {'description': "y", 'amount': Decimal('900')})
        with self.assertRaises(MissingEvidenceError):
            self._customer_perform(world.session, order, 'reject_quote')
        self._customer_perform(world.session, order, 'reject_quote',
            {'reason': "太贵"})
        with self.assertRaises(StepNotAllowedError):
            self._customer_perform(world.session, order, 'confirm_quote')
        self._perform(world.zhang, world, order, 'submit_quote',
            {'description': "y", 'amount': '900.5'})
        self.assertEqual(
            [(q.version, q.amount, q.state) for q in order.quotes],
            [(2, Decimal('900.50'), 'proposed'),
                (1, Decimal('1000'), 'rejected')])
        self.assertEqual(order.quote_amount, Decimal('900.50'))

    @with_transaction()
    def test_report_rejection_returns_to_work(self):
        world = self._world()
        order = self._advance(world, self._submitted(world), 'work')
        with self.assertRaises(MissingEvidenceError):
            self._perform(world.zhang, world, order, 'submit_report', {})
        self._perform(world.zhang, world, order, 'submit_report',
            {'report': "完成"})
        with self.assertRaises(WrongActorError):
            self._perform(world.zhang, world, order, 'confirm_report')
        with self.assertRaises(MissingEvidenceError):
            self._customer_perform(world.session, order, 'reject_report')
        self._customer_perform(world.session, order, 'reject_report',
            {'reason': "缺数据"})
        self.assertEqual(order.step.code, 'work')
        self.assertEqual(order.current_report.state, 'rejected')

    @with_transaction()
    def test_rating_needs_three_stars_from_one_to_five(self):
        world = self._world()
        order = self._advance(world, self._submitted(world), 'rating')
        for ratings in [None, {}, {'attitude': 5, 'quality': 5},
                {'attitude': 0, 'quality': 5, 'overall': 5},
                {'attitude': 6, 'quality': 5, 'overall': 5},
                {'attitude': 4.5, 'quality': 5, 'overall': 5},
                {'attitude': True, 'quality': 5, 'overall': 5},
                {'attitude': "5", 'quality': 5, 'overall': 5}]:
            with self.subTest(ratings=ratings):
                with self.assertRaises(MissingEvidenceError) as refused:
                    self._customer_perform(world.session, order, 'rate',
                        {'ratings': ratings})
                # A rating of 6 stars names its field, as every refusal
                self.assertEqual(len(refused.exception.fields), 1)
                self.assertIn(list(refused.exception.fields)[0],
                    {'attitude', 'quality', 'overall'})
        self.assertEqual(order.step.code, 'rating')
        self.assertIsNone(order.rating_overall)
        self._customer_perform(world.session, order, 'rate',
            {'ratings': {'attitude': 3, 'quality': 4, 'overall': 5}})
        self.assertEqual(order.state, 'done')
        with self.assertRaises(StepNotAllowedError):
            self._customer_perform(world.session, order, 'rate',
                {'ratings': {'attitude': 1, 'quality': 1, 'overall': 1}})

    # ---- cancel and reassign ----------------------------------------------

    @with_transaction()
    def test_customer_cancels_before_work_only(self):
        Order = Pool().get('instrument_service.order')
        world = self._world()
        order = self._advance(world, self._submitted(world), 'quote')
        with self._as_customer(world.other_session), \
                self.assertRaises(WrongActorError):
            Order.do_cancel([order], "不需要了")
        with self._as_customer(world.session), \
                self.assertRaises(MissingEvidenceError):
            Order.do_cancel([order], " ")
        with self._as_customer(world.session):
            Order.do_cancel([order], "不需要了")
        self.assertEqual(order.state, 'cancelled')
        self.assertFalse([o for o in order.offers if o.state == 'offered'])
        with self.assertRaises(StepNotAllowedError):
            self._perform(world.zhang, world, order, 'confirm_quote')

        order = self._advance(world, self._submitted(world), 'work')
        with self._as_customer(world.session), \
                self.assertRaises(StepNotAllowedError):
            Order.do_cancel([order], "不需要了")
        with self._as(world.zhang, world), \
                self.assertRaises(WrongActorError):
            Order.do_cancel([order], "不想做")
        with self._as(world.dispatcher, world):
            Order.do_cancel([order], "客户电话取消")
        self.assertEqual(order.state, 'cancelled')
        self.assertEqual(order.progress[-1].action, 'cancel')
        with self._as(world.dispatcher, world), \
                self.assertRaises(StepNotAllowedError):
            Order.do_cancel([order], "again")

    @with_transaction()
    def test_reassign(self):
        Order = Pool().get('instrument_service.order')
        world = self._world()
        order = self._advance(world, self._submitted(world), 'visit')
        with self._as(world.zhang, world), \
                self.assertRaises(WrongActorError):
            Order.do_reassign([order], world.li.employee, "忙")
        with self._as(world.dispatcher, world), \
                self.assertRaises(StepNotAllowedError):
            Order.do_reassign([order], world.zhang.employee, "")
        not_engineer = create_employee(world.company, "会计")
        with self._as(world.dispatcher, world), \
                self.assertRaises(StepNotAllowedError):
            Order.do_reassign([order], not_engineer, "")
        with self._as(world.dispatcher, world):
            Order.do_reassign([order], world.li.employee, "张工请假")
        self.assertEqual(order.engineer, world.li.employee)
        # The former engineer is out, the new one carries on
        with self.assertRaises(WrongActorError):
            self._perform(world.zhang, world, order, 'submit_assessment',
                {'description': "x", 'check_in': self._check_in()})
        self._perform(world.li, world, order, 'submit_assessment', {
                'description': "x",
                'photos': [self._photo(world.li, world, order)],
                'check_in': self._check_in()})

    # ---- records and visibility ------------------------------------------

    @with_transaction()
    def test_progress_is_append_only(self):
        Progress = Pool().get('instrument_service.order.progress')
        world = self._world()
        order = self._advance(world, self._submitted(world), 'visit')
        record = order.progress[-1]
        with self.assertRaises(AppendOnlyError):
            Progress.write([record], {'description': "changed"})
        with self.assertRaises(AppendOnlyError):
            Progress.delete([record])
        self.assertEqual(
            [(p.action, p.actor_role) for p in order.progress],
            [('submit', 'staff'), ('offer', 'system'),
                ('accept', 'engineer'), ('withdraw', 'system'),
                ('visit_onsite', 'engineer')])
        self.assertEqual(order.progress[2].actor_user, world.zhang)

    @with_transaction()
    def test_engineer_sees_offered_or_assigned_orders_only(self):
        pool = Pool()
        Order = pool.get('instrument_service.order')
        Progress = pool.get('instrument_service.order.progress')
        world = self._world()
        repair = self._submitted(world)
        rental = self._submitted(world, 'rental')
        with self._as(world.wang, world), check_access():
            self.assertEqual(Order.search([]), [rental])
            self.assertEqual(
                {p.order for p in Progress.search([])}, {rental})
        with self._as(world.zhang, world), check_access():
            self.assertEqual(Order.search([]), [repair])
        self._perform(world.li, world, repair, 'accept')
        # The offer to zhang is withdrawn; the order is li's
        with self._as(world.zhang, world), check_access():
            self.assertEqual(Order.search([]), [])
        with self._as(world.li, world), check_access():
            self.assertEqual(Order.search([]), [repair])
            with self.assertRaises(AccessError):
                Order.write([Order(repair.id)], {'contact_name': "x"})
        with self._as(world.dispatcher, world), check_access():
            self.assertEqual(set(Order.search([])), {repair, rental})

    @with_transaction()
    def test_progress_view(self):
        "The customer view renders the hint of the current step"
        Order = Pool().get('instrument_service.order')
        world = self._world()
        order = self._advance(world, self._submitted(world), 'quote')
        view = order.progress_view()
        self.assertEqual(view['current_step'], 'quote')
        self.assertEqual(view['hint'], "Quote: 1000 yuan")
        with Transaction().set_context(language='zh_CN'):
            Translation = Pool().get('ir.translation')
            Translation.translation_import('zh_CN', self.module, [
                    str(Path(__file__).parent.parent / 'locale'
                        / 'zh_CN.po')])
            step = Pool().get('instrument_service.workflow.step')(
                order.step.id)
            self.assertEqual(step.rec_name, '维修方案和报价')
        self.assertEqual(
            [s['status'] for s in view['steps']],
            ['done', 'done', 'done', 'current', 'todo', 'todo', 'todo',
                'todo'])
        self.assertEqual(
            [a['action'] for a in view['actions']],
            ['confirm_quote', 'reject_quote'])
        self.assertEqual(view['quote']['amount'], Decimal('1000'))
        self.assertEqual(
            [line[0] for line in order.progress_summary.splitlines()],
            ['✓', '✓', '✓', '▶', '○', '○', '○', '○'])
        with Transaction().set_context(language='en'):
            self.assertEqual(Order(order.id).hint, "Quote: 1000 yuan")

    @with_transaction()
    def test_tree_views_show_datetimes_as_date_and_time(self):
        "sao has no datetime column: lists use the date and time widgets"
        pool = Pool()
        View = pool.get('ir.ui.view')
        checked = 0
        for view in View.search([
                    ('module', '=', self.module), ('type', '=', 'tree')]):
            Model = pool.get(view.model)
            tree = etree.fromstring(view.arch)
            for field in tree.iter('field'):
                ftype = Model._fields[field.get('name')]._type
                if ftype in {'datetime', 'timestamp'}:
                    with self.subTest(view=view.name, field=field.get('name')):
                        self.assertIn(field.get('widget'), {'date', 'time'})
                    checked += 1
        self.assertGreater(checked, 0)

    @with_transaction()
    def test_workflows_are_data(self):
        "An administrator's change of a hint shows at once"
        pool = Pool()
        Workflow = pool.get('instrument_service.workflow')
        Step = pool.get('instrument_service.workflow.step')
        self.assertEqual(
            {w.order_type for w in Workflow.search([])},
            {'repair', 'maintenance', 'recycle', 'rental', 'training',
                'validation', 'selection', 'installation'})
        for workflow in Workflow.search([]):
            self.assertEqual(len(workflow.steps), 8)
            self.assertEqual(len(workflow.transitions), 13)
        world = self._world()
        order = self._advance(world, self._submitted(world), 'accepted')
        step, = Step.search([
                ('workflow.order_type', '=', 'repair'),
                ('code', '=', 'accepted')])
        step.hint = "Call ${engineer} any time"
        step.save()
        self.assertEqual(
            order.progress_view()['hint'], "Call zhang any time")


del ModuleTestCase
