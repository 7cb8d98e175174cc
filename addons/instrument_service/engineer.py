# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
import re

from sql.aggregate import Count

from trytond.i18n import gettext
from trytond.model import DeactivableMixin, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.transaction import Transaction

from . import region
from .exceptions import RegionValidationError, StepNotAllowedError
from .order_type import ORDER_TYPES


def _entries(text):
    "The entries of a list written one per line or separated by commas"
    return [e.strip() for e in re.split(r'[\n,，、;；]', text or '')
        if e.strip()]


class Engineer(DeactivableMixin, ModelSQL, ModelView):
    "The service profile of an employee who works on orders"
    __name__ = 'instrument_service.engineer'

    name = fields.Function(
        fields.Char("Name"), 'get_name', searcher='search_name')
    employee = fields.Many2One(
        'company.employee', "Employee", required=True, ondelete='CASCADE')
    company = fields.Function(
        fields.Many2One('company.company', "Company"), 'get_company',
        searcher='search_company')
    user = fields.Function(
        fields.Many2One('res.user', "User"), 'get_user')
    phone = fields.Char("Phone")
    order_types = fields.MultiSelection(
        ORDER_TYPES, "Order Types", sort=False,
        help="The types of order this engineer can take.")
    brands = fields.Text(
        "Brands",
        help="The instrument brands this engineer services, one per line; "
        "empty for all brands.")
    regions = fields.Text(
        "Service Regions",
        help="The provinces or cities this engineer serves, one per line, "
        "e.g. \"广东省\" or \"广东省 深圳市\"; empty for everywhere.")
    max_open_tasks = fields.Integer(
        "Maximum Open Tasks",
        domain=['OR',
            ('max_open_tasks', '=', None),
            ('max_open_tasks', '>=', 0)],
        help="Orders in progress above which no new order is offered to "
        "this engineer and accepting one is refused; empty for no limit.")
    open_tasks = fields.Function(
        fields.Integer("Open Tasks"), 'get_open_tasks')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('employee_unique', Unique(t, t.employee),
                'instrument_service.msg_engineer_employee_unique'),
            ]

    @classmethod
    def validate_fields(cls, engineers, field_names):
        super().validate_fields(engineers, field_names)
        if field_names and 'regions' not in field_names:
            return
        for engineer in engineers:
            for entry in _entries(engineer.regions):
                # A region that names no province would match no order
                if not region.parse(entry.replace(' ', ''))[0]:
                    raise RegionValidationError(gettext(
                            'instrument_service.msg_engineer_region_invalid',
                            engineer=engineer.rec_name, region=entry))

    def get_name(self, name):
        return self.employee.rec_name

    @classmethod
    def search_name(cls, name, clause):
        return [('employee.rec_name',) + tuple(clause[1:])]

    def get_company(self, name):
        return self.employee.company.id

    @classmethod
    def search_company(cls, name, clause):
        return [('employee.company',) + tuple(clause[1:])]

    def get_user(self, name):
        User = Pool().get('res.user')
        users = User.search([('employees', '=', self.employee.id)], limit=1)
        return users[0].id if users else None

    @classmethod
    def get_open_tasks(cls, engineers, name):
        return cls.open_task_counts([e.employee for e in engineers],
            {e.employee.id: e.id for e in engineers})

    @classmethod
    def open_task_counts(cls, employees, keys=None):
        """The number of orders in progress of each employee, by employee
        id or by keys[employee id]"""
        Order = Pool().get('instrument_service.order')
        order = Order.__table__()
        cursor = Transaction().connection.cursor()
        ids = [e.id for e in employees]
        counts = dict.fromkeys(ids, 0)
        if ids:
            cursor.execute(*order.select(
                    order.engineer, Count(order.id),
                    where=order.engineer.in_(ids)
                    & (order.state == 'in_progress'),
                    group_by=[order.engineer]))
            counts.update(cursor)
        if keys is not None:
            return {keys[i]: c for i, c in counts.items()}
        return counts

    def at_capacity(self, open_tasks=None):
        if self.max_open_tasks is None:
            return False
        if open_tasks is None:
            open_tasks = self.open_tasks
        return open_tasks >= self.max_open_tasks

    def covers(self, order, configuration):
        "Whether the order matches this engineer by the configured rules"
        if configuration.match_type and order.type not in (
                self.order_types or ()):
            return False
        if configuration.match_brand and self.brands:
            served = {b.casefold() for b in _entries(self.brands)}
            wanted = {l.brand.strip().casefold() for l in order.lines
                if (l.brand or '').strip()}
            if not wanted <= served:
                return False
        province, city = order.region()
        # An address whose province cannot be read excludes nobody
        if configuration.match_region and self.regions and province:
            if not any(region.covers(r, province, city)
                    for r in _entries(self.regions)):
                return False
        return True

    @classmethod
    def check_engineers(cls, employees):
        "Refuse employees who have no active engineer profile"
        engineers = {e.employee for e in cls.search([
                    ('employee', 'in', [e.id for e in employees]),
                    ])}
        for employee in employees:
            if employee not in engineers:
                raise StepNotAllowedError(gettext(
                        'instrument_service.msg_not_an_engineer',
                        employee=employee.rec_name))

    @classmethod
    def qualified_for(cls, order):
        """The engineers an order is offered to: the active engineers of
        its company who match it by the configured rules and have room for
        one more task or, when there are none, the active fallback
        engineers"""
        Configuration = Pool().get('instrument_service.configuration')
        configuration = Configuration(1)
        engineers = cls.search([('employee.company', '=', order.company.id)])
        counts = cls.open_task_counts([e.employee for e in engineers])
        matching = [e for e in engineers
            if e.covers(order, configuration)
            and not e.at_capacity(counts[e.employee.id])]
        if matching:
            return matching
        return [e for e in configuration.fallback_engineers
            if e.active and e.employee.company == order.company]
