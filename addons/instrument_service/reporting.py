# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
from sql.aggregate import Count, Min

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool

from .order import STATES
from .order_type import ORDER_TYPES


class OrderStatistic(ModelSQL, ModelView):
    "Number of orders per company, type and state, for the graph"
    __name__ = 'instrument_service.order.statistic'

    company = fields.Many2One('company.company', "Company")
    type = fields.Selection(ORDER_TYPES, "Order Type", sort=False)
    state = fields.Selection(STATES, "State", sort=False)
    number = fields.Integer("Orders")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('type', 'ASC'), ('state', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        Order = Pool().get('instrument_service.order')
        order = Order.__table__()
        return order.select(
            Min(order.id).as_('id'),
            order.company.as_('company'),
            order.type.as_('type'),
            order.state.as_('state'),
            Count(order.id).as_('number'),
            where=order.state != 'draft',
            group_by=[order.company, order.type, order.state])
