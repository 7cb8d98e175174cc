# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The files of an order: what each one is for and the order the person who
attached them chose."""
from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.transaction import Transaction

SERVICE_USES = [
    (None, ""),
    ('order', "Order Document"),
    ('upload', "Upload for a Step"),
    ('photo', "Step Photo"),
    ('file', "Step Document"),
    ]


class Attachment(metaclass=PoolMeta):
    __name__ = 'ir.attachment'

    # What a file is to the service; None for the files staff attach in
    # the back office, which the apps never show
    service_use = fields.Selection(
        SERVICE_USES, "Service Use", readonly=True,
        help="Order document: attached by the customer to the order.\n"
        "Upload for a step: sent by the engineer, not yet part of a step.\n"
        "Step photo, step document: evidence of a completed step.")
    # The place of the file among those of its record, as it was attached
    sequence = fields.Integer("Sequence", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('sequence', 'ASC NULLS LAST'))

    @classmethod
    def __register__(cls, module):
        table_h = cls.__table_handler__(module)
        migrate_use = not table_h.column_exist('service_use')
        super().__register__(module)
        if migrate_use:
            cls._migrate_service_use()

    @classmethod
    def _migrate_service_use(cls):
        """In 0.1.0 (no service_use) a file attached to an order was an
        upload of its engineer that any later step could cite: it stays an
        upload, which the engineer may still download and cite. The others
        need none: a line's files are the customer's, a progress record's
        without a use are its photos."""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update([table.service_use], ['upload'],
                where=table.resource.like('instrument_service.order,%')))
