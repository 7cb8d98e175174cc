# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
import logging
import os
import shutil

from sql import Null

from trytond import config
from trytond.filestore import filestore
from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.transaction import Transaction

logger = logging.getLogger(__name__)

# Where thumbnails were stored before: a folder shared by
# every database of the server, so that no database could tell which of its
# files were still used (see _migrate_thumbnails)
OLD_THUMBNAIL_PREFIX = 'thumbnail'


class Attachment(metaclass=PoolMeta):
    __name__ = 'ir.attachment'

    mimetype = fields.Char("MIME Type", readonly=True)
    # No store_prefix: the thumbnails are in the database's own folder of
    # the filestore, beside the files they are made of, so that what a
    # database references is all that one folder holds (the cleanup of
    # cleanup.py relies on it)
    thumbnail = fields.Binary(
        "Thumbnail", file_id='thumbnail_id', readonly=True)
    thumbnail_id = fields.Char("Thumbnail ID", readonly=True)

    @classmethod
    def __register__(cls, module_name):
        super().__register__(module_name)
        cls._migrate_thumbnails()

    @classmethod
    def _migrate_thumbnails(cls):
        """Copy the thumbnails of this database from the shared folder
        'thumbnail' to the database's folder; copied, not moved, as another
        database (a copy of this one) may use the same files"""
        if config.get('database', 'class'):
            return
        old = os.path.join(filestore.path, OLD_THUMBNAIL_PREFIX)
        if not os.path.isdir(old):
            return
        database = Transaction().database.name
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.thumbnail_id,
                where=table.thumbnail_id != Null, distinct=True))
        copied = 0
        for file_id, in cursor:
            try:
                source = filestore._filename(file_id, OLD_THUMBNAIL_PREFIX)
                target = filestore._filename(file_id, database)
            except ValueError:
                continue
            if os.path.exists(target) or not os.path.exists(source):
                continue
            os.makedirs(os.path.dirname(target), mode=0o770, exist_ok=True)
            shutil.copy2(source, target)
            copied += 1
        if copied:
            logger.info("copied %s thumbnails of %s from %s", copied,
                database, old)
