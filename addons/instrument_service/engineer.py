# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
from trytond.model import DeactivableMixin, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool

from .order_type import ORDER_TYPES


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

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('employee_unique', Unique(t, t.employee),
                'instrument_service.msg_engineer_employee_unique'),
            ]

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
    def qualified_for(cls, order):
        "Active engineers of the order's company who take its type"
        return cls.search([
                ('employee.company', '=', order.company.id),
                ('order_types', 'in', [order.type]),
                ])
