# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The files of an order: what each one is for and the order the person who
attached them chose."""
from trytond.model import fields
from trytond.pool import PoolMeta

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
