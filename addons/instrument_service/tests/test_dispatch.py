# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""Dispatch and service levels, the checks that read better as unit tests
than in scenario_dispatch.rst: region parsing, matching details, who may
dispatch, the escalation clock of a re-offer, the deadlines along the steps
and the service level searcher against its getter."""
import datetime as dt
import unittest
from contextlib import contextmanager
from itertools import combinations
from types import SimpleNamespace
from unittest.mock import patch

from trytond.modules.company.tests import (
    create_company, create_employee, set_company)
from trytond.modules.instrument_service import region
from trytond.modules.instrument_service.exceptions import (
    AtCapacityError, StepNotAllowedError, WrongActorError)
from trytond.modules.instrument_service.tests.tools import create_group_user
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    TestCase, activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction, check_access

MODULE = 'instrument_service'
CLOCK = 'trytond.modules.instrument_service.clock.now'
T0 = dt.datetime(2025, 3, 3, 1, 0)


def minutes(n):
    return dt.timedelta(minutes=n)


class RegionTestCase(unittest.TestCase):
    "The province and city of addresses and served regions"
    maxDiff = None

    def test_parse(self):
        for text, expected in [
                ("广东深圳市南山区科技园", ("广东省", "深圳市")),
                ("广东省深圳市", ("广东省", "深圳市")),
                ("广东省", ("广东省", None)),
                ("广东", ("广东省", None)),
                ("上海市浦东新区张江路", ("上海市", "上海市")),
                ("北京", ("北京市", "北京市")),
                ("广西南宁市青秀区", ("广西壮族自治区", "南宁市")),
                ("新疆维吾尔自治区乌鲁木齐市", ("新疆维吾尔自治区", "乌鲁木齐市")),
                ("内蒙古锡林郭勒盟锡林浩特市", ("内蒙古自治区", "锡林郭勒盟")),
                ("  湖北省武汉市", ("湖北省", "武汉市")),
                ("中国广东省深圳市南山区", ("广东省", "深圳市")),
                ("Shenzhen", (None, None)),
                ("", (None, None)),
                (None, (None, None)),
                ]:
            with self.subTest(text=text):
                self.assertEqual(region.parse(text), expected)

    def test_parse_keeps_full_city_name(self):
        "A city is read in full, also when its name contains 州"
        expected = {
            "江苏省苏州市工业园区": ("江苏省", "苏州市"),
            "广东省广州市天河区": ("广东省", "广州市"),
            "浙江省杭州市西湖区": ("浙江省", "杭州市"),
            "贵州省黔东南苗族侗族自治州凯里市": ("贵州省", "黔东南苗族侗族自治州"),
            }
        self.assertEqual(
            {text: region.parse(text) for text in expected}, expected)

    def test_covers(self):
        for served, province, city, expected in [
                ("广东省", "广东省", "深圳市", True),
                ("广东", "广东省", "广州市", True),
                ("广东省", "广东省", None, True),
                ("广东省 深圳市", "广东省", "深圳市", True),
                ("广东 深圳市", "广东省", "深圳市", True),
                ("广东省 深圳市", "广东省", "广州市", False),
                ("广东省 深圳市", "广东省", None, False),
                ("广东省", "广西壮族自治区", "南宁市", False),
                ("上海", "上海市", "上海市", True),
                ("广东省", None, None, False),
                ]:
            with self.subTest(served=served, province=province, city=city):
                self.assertEqual(
                    region.covers(served, province, city), expected)


class DispatchTestCase(TestCase):
    "Test the dispatch and the service levels of instrument_service"
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(MODULE)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    # ---- fixtures ---------------------------------------------------------

    def _engineer(self, login, company, order_types, **profile):
        "Return the res.user of a new engineer, with its profile as .profile"
        Engineer = Pool().get('instrument_service.engineer')
        employee = create_employee(company, name=login)
        engineer = Engineer(employee=employee, order_types=order_types,
            **profile)
        engineer.save()
        user = create_group_user(login, 'group_engineer', company, employee)
        return SimpleNamespace(user=user, employee=employee, profile=engineer)

    def _world(self):
        company = create_company()
        world = SimpleNamespace(company=company)
        with set_company(company):
            world.dispatcher = create_group_user(
                'dispatcher', 'group_dispatcher', company)
            world.zhang = self._engineer('zhang', company, ['repair'],
                regions="广东省")
            world.li = self._engineer('li', company, ['repair'])
        return world

    def _order(self, world, address="广东省深圳市南山区 1 号",
            brands=("Agilent",), order_type='repair', **values):
        Order = Pool().get('instrument_service.order')
        order = Order(
            company=world.company, type=order_type,
            contact_name="陈经理", contact_company="某某检测技术有限公司",
            contact_phone="13800138000", contact_address=address,
            lines=[{
                    'instrument_name': "液相色谱仪", 'brand': brand,
                    'quantity': 1, 'fault_description': "压力波动",
                    } for brand in brands],
            **values)
        order.save()
        return order

    def _submitted(self, world, at=T0, **values):
        Order = Pool().get('instrument_service.order')
        order = self._order(world, **values)
        with patch(CLOCK, return_value=at):
            Order.submit([order])
        return order

    @contextmanager
    def _as(self, user, world):
        "Act as user through the access checks, like an RPC call"
        transaction = Transaction()
        with transaction.set_user(user.id), \
                transaction.set_context(company=world.company.id), \
                check_access():
            yield

    def _qualified(self, order):
        Engineer = Pool().get('instrument_service.engineer')
        return {e.employee.party.name for e in Engineer.qualified_for(order)}

    def _actions(self, order):
        Order = Pool().get('instrument_service.order')
        return [(p.action, p.actor_role) for p in Order(order.id).progress]

    # ---- matching ---------------------------------------------------------

    @with_transaction()
    def test_brands_any_separator_and_case(self):
        "Brands are listed one per line or by commas, in any case"
        world = self._world()
        world.li.profile.brands = "agilent，Waters\nMettler Toledo"
        world.li.profile.save()
        self.assertEqual(self._qualified(self._order(world,
                    brands=(" AGILENT ", "waters"))), {'zhang', 'li'})
        self.assertEqual(self._qualified(self._order(world,
                    brands=("Mettler Toledo",))), {'zhang', 'li'})
        # 李工 services only some of the brands of this order
        self.assertEqual(self._qualified(self._order(world,
                    brands=("Agilent", "Thermo"))), {'zhang'})

    @with_transaction()
    def test_region_read_from_address(self):
        "Without a province and city, the address gives them"
        world = self._world()
        world.li.profile.regions = "江苏省 苏州市"
        world.li.profile.save()
        order = self._order(world, address="江苏省苏州市工业园区星湖街 1 号")
        self.assertEqual(self._qualified(order), {'li'})
        order = self._order(world, address="江苏省南京市玄武区 2 号")
        self.assertEqual(self._qualified(order), set())

    @with_transaction()
    def test_region_must_name_a_province(self):
        "A served region without a province would match nothing: refused"
        from trytond.modules.instrument_service.exceptions import (
            RegionValidationError)
        world = self._world()
        world.li.profile.regions = "江苏省 苏州市\n深圳市"
        with self.assertRaises(RegionValidationError) as context:
            world.li.profile.save()
        self.assertIn("深圳市", str(context.exception))
        world.li.profile.regions = "江苏省 苏州市\n广东 深圳市"
        world.li.profile.save()

    @with_transaction()
    def test_region_of_province_and_city_fields(self):
        """The province and city a dispatcher types on the order match the
        regions of the engineers as the address does"""
        world = self._world()
        world.li.profile.regions = "江苏省 苏州市"
        world.li.profile.save()
        world.zhang.profile.regions = "广东省 深圳市"
        world.zhang.profile.save()
        suzhou = self._order(world, address="工业园区星湖街 1 号",
            province="江苏省", city="苏州市")
        self.assertEqual(self._qualified(suzhou), {'li'})
        shenzhen = self._order(world, address="南山区科技园 1 号",
            province="广东", city="深圳市")
        self.assertEqual(self._qualified(shenzhen), {'zhang'})

    # ---- the configuration ------------------------------------------------

    @with_transaction()
    def test_dispatcher_edits_fallback_engineers(self):
        "A dispatcher adds fallback engineers and removes them"
        Configuration = Pool().get('instrument_service.configuration')
        world = self._world()
        zhang = world.zhang.profile.id
        with self._as(world.dispatcher, world):
            configuration = Configuration(1)
            Configuration.write([configuration], {
                    'fallback_engineers': [('add', [zhang])],
                    })
            self.assertEqual(
                [e.id for e in Configuration(1).fallback_engineers], [zhang])
            Configuration.write([configuration], {
                    'fallback_engineers': [('remove', [zhang])],
                    })
            self.assertEqual(Configuration(1).fallback_engineers, ())

    # ---- dispatcher actions -----------------------------------------------

    @with_transaction()
    def test_dispatch_staff_only_waiting_orders_engineers(self):
        """Only staff dispatch, only orders waiting for an engineer, only to
        engineers"""
        Order = Pool().get('instrument_service.order')
        world = self._world()
        order = self._submitted(world)
        with self._as(world.zhang.user, world), \
                self.assertRaises(WrongActorError):
            Order.do_offer([order.id], [world.li.employee])
        with set_company(world.company):
            clerk = create_employee(world.company, name="clerk")
        with self._as(world.dispatcher, world), \
                self.assertRaises(StepNotAllowedError):
            Order.do_assign([order.id], clerk)
        with self._as(world.dispatcher, world), \
                self.assertRaises(StepNotAllowedError):
            Order.do_offer([order.id], [clerk])
        with self._as(world.dispatcher, world), \
                patch(CLOCK, return_value=T0 + minutes(5)):
            Order.do_assign([order.id], world.li.employee, "就近")
        with self._as(world.dispatcher, world), \
                self.assertRaises(StepNotAllowedError):
            Order.do_offer([order.id], [])
        order = Order(order.id)
        self.assertEqual(
            (order.state, order.step.code, order.engineer),
            ('in_progress', 'accepted', world.li.employee))
        self.assertEqual(order.accept_met, T0 + minutes(5))
        self.assertEqual(order.sla_milestone, 'contact')

    @with_transaction()
    def test_one_way_to_an_engineer(self):
        """Accepting, assigning and reassigning give an order its engineer
        the same way (Order.take): the engineer's capacity holds for all
        three (test_module tests the accept), but a dispatcher may go
        beyond it, explicitly"""
        pool = Pool()
        Order = pool.get('instrument_service.order')
        world = self._world()
        world.li.profile.max_open_tasks = 1
        world.li.profile.save()
        first = self._submitted(world)
        with self._as(world.dispatcher, world):
            Order.do_assign([first.id], world.li.employee)
        second = self._submitted(world)
        with self._as(world.dispatcher, world), \
                self.assertRaises(AtCapacityError):
            Order.do_assign([second.id], world.li.employee)
        with self._as(world.dispatcher, world):
            Order.do_assign([second.id], world.zhang.employee)
        with self._as(world.dispatcher, world), \
                self.assertRaises(AtCapacityError):
            Order.do_reassign([second.id], world.li.employee, "")
        # Beyond capacity, said explicitly: the offers follow
        with self._as(world.dispatcher, world):
            Order.do_reassign([second.id], world.li.employee, "",
                override_capacity=True)
        second = Order(second.id)
        self.assertEqual((second.engineer, second.state, second.step.code),
            (world.li.employee, 'in_progress', 'accepted'))
        self.assertEqual(
            sorted((o.engineer.id, o.state) for o in second.offers),
            sorted([(world.zhang.employee.id, 'withdrawn'),
                    (world.li.employee.id, 'accepted')]))
        third = self._submitted(world)
        with self._as(world.dispatcher, world):
            Order.do_assign([third.id], world.li.employee,
                override_capacity=True)
        third = Order(third.id)
        self.assertEqual((third.engineer, third.state, third.step.code),
            (world.li.employee, 'in_progress', 'accepted'))
        record, = [r for r in third.progress if r.action == 'assign']
        self.assertEqual((record.transition.action, record.to_step.code),
            ('accept', 'accepted'))

    @with_transaction()
    def test_reoffer_restarts_escalation_clock(self):
        """An order offered again waits the whole delay again before it is
        escalated again"""
        pool = Pool()
        Order = pool.get('instrument_service.order')
        Notice = pool.get('instrument_service.notice')
        world = self._world()
        order = self._submitted(world)
        with patch(CLOCK, return_value=T0 + minutes(30)):
            Order.escalate_unclaimed()
        self.assertEqual(Order(order.id).escalated_at, T0 + minutes(30))
        with self._as(world.dispatcher, world), \
                patch(CLOCK, return_value=T0 + minutes(40)):
            Order.do_offer([order.id], [world.li.employee], "请李工处理")
        order = Order(order.id)
        self.assertEqual(
            (order.offered_at, order.escalated_at), (T0 + minutes(40), None))
        self.assertEqual(
            {(o.engineer, o.state) for o in order.offers},
            {(world.zhang.employee, 'withdrawn'),
                (world.li.employee, 'offered')})
        with patch(CLOCK, return_value=T0 + minutes(69)):
            Order.escalate_unclaimed()
        self.assertIsNone(Order(order.id).escalated_at)
        with patch(CLOCK, return_value=T0 + minutes(70)):
            Order.escalate_unclaimed()
            Order.escalate_unclaimed()
        self.assertEqual(Order(order.id).escalated_at, T0 + minutes(70))
        self.assertEqual(self._actions(order), [
                ('submit', 'staff'), ('offer', 'system'),
                ('escalate', 'system'), ('withdraw', 'system'),
                ('offer', 'staff'), ('escalate', 'system')])
        # Each escalation told each dispatcher once
        self.assertEqual(len(Notice.search([
                        ('order', '=', order.id), ('kind', '=', 'unclaimed'),
                        ('user', '=', world.dispatcher.id)])), 2)

    # ---- service levels ---------------------------------------------------

    @with_transaction()
    def test_deadlines_follow_the_steps(self):
        """Accepting meets the first deadline, deciding the visit the
        second, finishing the work the last"""
        Order = Pool().get('instrument_service.order')
        world = self._world()
        order = self._submitted(world)
        self.assertEqual(
            (order.accept_due, order.contact_due, order.complete_due),
            (T0 + dt.timedelta(hours=2), T0 + dt.timedelta(hours=24),
                T0 + dt.timedelta(days=7)))
        zhang = world.zhang.user
        for at, action, values, milestone, due in [
                (T0 + minutes(10), 'accept', {}, 'contact',
                    T0 + dt.timedelta(hours=24)),
                (T0 + minutes(20), 'visit_remote', {}, 'complete',
                    T0 + dt.timedelta(days=7)),
                (T0 + minutes(30), 'finish_remote',
                    {'description': "远程解决"}, None, None),
                ]:
            with self._as(zhang, world), patch(CLOCK, return_value=at):
                Order.perform([Order(order.id)], action, values)
            order = Order(order.id)
            with self.subTest(action=action):
                self.assertEqual(
                    (order.sla_milestone, order.sla_due), (milestone, due))
        self.assertEqual(
            (order.accept_met, order.contact_met, order.complete_met),
            (T0 + minutes(10), T0 + minutes(20), T0 + minutes(30)))
        self.assertEqual(order.state, 'in_progress')
        with patch(CLOCK, return_value=T0 + dt.timedelta(days=30)):
            self.assertIsNone(Order(order.id).sla_status)
            Order.check_sla()
        self.assertFalse(Order(order.id).sla_breaches)

    @with_transaction()
    def test_sla_status_search_matches_status(self):
        """Searching on the service level finds exactly the orders that
        have it, with every operator"""
        Order = Pool().get('instrument_service.order')
        world = self._world()
        late = self._submitted(world, at=T0)
        at_risk = self._submitted(world, at=T0 + minutes(40))
        on_time = self._submitted(world, at=T0 + minutes(120))
        draft = self._order(world)
        cancelled = self._submitted(world, at=T0)
        with self._as(world.dispatcher, world):
            Order.do_cancel([cancelled.id], "客户取消")
        orders = [late, at_risk, on_time, draft, cancelled]
        ids = [o.id for o in orders]
        with patch(CLOCK, return_value=T0 + minutes(150)):
            statuses = {o: o.sla_status for o in Order.browse(ids)}
            self.assertEqual(statuses, {
                    late: 'late', at_risk: 'at_risk', on_time: 'on_time',
                    draft: None, cancelled: None})
            values = [None, 'on_time', 'at_risk', 'late']
            clauses = [(o, v) for o in ['=', '!='] for v in values]
            clauses += [(o, list(pair)) for o in ['in', 'not in']
                for pair in combinations(values, 2)]
            wrong = {}
            for operator, value in clauses:
                if operator in {'=', 'in'}:
                    wanted = value if operator == 'in' else [value]
                    expected = {o.id for o, s in statuses.items()
                        if s in wanted}
                else:
                    unwanted = value if operator == 'not in' else [value]
                    expected = {o.id for o, s in statuses.items()
                        if s not in unwanted}
                try:
                    found = {o.id for o in Order.search([
                                ('sla_status', operator, value),
                                ('id', 'in', ids),
                                ])}
                except Exception as exception:
                    found = exception.__class__.__name__
                if found != expected:
                    wrong[operator, str(value)] = (found, expected)
            # (operator, value): (found, expected) for every wrong search
            self.assertEqual(wrong, {})


del TestCase
