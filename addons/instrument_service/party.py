# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
from trytond.model import fields
from trytond.pool import PoolMeta


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    @classmethod
    def find_or_create_company(cls, name):
        """Return the party named name, creating it only when none exists.

        The table lock makes two orders of a new company that arrive at
        the same moment share one party."""
        name = ' '.join((name or '').split())
        if not name:
            return None
        parties = cls.search([('name', '=', name)], order=[('id', 'ASC')],
            limit=1)
        if parties:
            return parties[0]
        cls.lock()
        parties = cls.search([('name', '=', name)], order=[('id', 'ASC')],
            limit=1)
        if parties:
            return parties[0]
        party, = cls.create([{'name': name}])
        return party


class WebUser(metaclass=PoolMeta):
    __name__ = 'web.user'

    service_orders = fields.One2Many(
        'instrument_service.order', 'customer', "Service Orders",
        readonly=True)
