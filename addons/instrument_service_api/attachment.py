# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
from trytond.model import fields
from trytond.pool import PoolMeta


class Attachment(metaclass=PoolMeta):
    __name__ = 'ir.attachment'

    mimetype = fields.Char("MIME Type", readonly=True)
    thumbnail = fields.Binary(
        "Thumbnail", file_id='thumbnail_id', store_prefix='thumbnail',
        readonly=True)
    thumbnail_id = fields.Char("Thumbnail ID", readonly=True)
