# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The scheduled cleanup of uploads that no order claimed.

A customer's upload (POST /files) belongs to their web.user until an order
claims it (POST /orders moves it to an order line). A client that dies, or a
server killed after the upload's commit but before its answer, leaves such
uploads behind for good: they are deleted once older than
[instrument_service_api] upload_retention hours (24 by default).

Engineers' photos are not touched: they belong to the order from their
upload on (Order.add_photo), are shown on its Attachments page and may be
cited by any later step; they are the order's evidence, used or not.

The filestore: deleting an attachment queues its files in Tryton's
ir.filestore.queue, whose own job (ir.filestore.queue|remove) removes them
after [attachment] retention_days, so that a restored backup still finds
them. What nothing queues is a file written by a transaction that never
committed (Binary fields write the filestore before the commit: a server
killed in between, or a failed save): sweep_filestore removes the files of
the database's folder that no record of the database references and that
are older than the retention. (name_queued_files makes Tryton's removal
work for the files of the database's folder: see there.)"""
import datetime as dt
import logging
import os
import re

from sql import Column, Null

from trytond import config
from trytond.filestore import filestore
from trytond.model import ModelSQL, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

from trytond.modules.instrument_service import clock

logger = logging.getLogger(__name__)

# The ids trytond's FileStore gives (uuid4); files named otherwise are not
# swept (trytond's own delete keeps the older ids without a dash too)
FILE_ID = re.compile(
    r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
# A file younger than this may belong to a transaction still running: it is
# never swept, whatever the retention
MIN_FILE_AGE = dt.timedelta(hours=1)


def upload_retention():
    "How long an unclaimed upload is kept: [instrument_service_api]"
    return dt.timedelta(hours=config.getfloat(
            'instrument_service_api', 'upload_retention', default=24))


class Attachment(metaclass=PoolMeta):
    __name__ = 'ir.attachment'

    @classmethod
    def remove_unclaimed_uploads(cls):
        """Scheduled: delete the customers' uploads no order claimed within
        the retention, then the filestore's files nothing references"""
        threshold = clock.now() - upload_retention()
        with without_check_access():
            uploads = cls.search(cls._unclaimed_upload_domain(threshold),
                order=[('id', 'ASC')])
            if uploads:
                logger.info("removing %s unclaimed uploads", len(uploads))
                cls.delete(uploads)
        name_queued_files()
        sweep_filestore(min(threshold, clock.now() - MIN_FILE_AGE))

    @classmethod
    def _unclaimed_upload_domain(cls, threshold):
        """The uploads of POST /files still attached to their web.user:
        only the API sets mimetype, so a file staff attached to a web.user
        in the back office is not one of them"""
        return [
            ('resource', 'like', 'web.user,%'),
            ('mimetype', '!=', None),
            ('create_date', '<', threshold),
            ]


def _own_prefix(field, database):
    "Whether the files of a Binary field are in the database's own folder"
    return bool(field.file_id) and field.store_prefix in {None, database}


def name_queued_files():
    """Give the queued files of the database's folder their prefix.

    trytond 8.0 queues the files of a Binary field without store_prefix
    with an empty prefix, and ir.filestore.queue|remove then fails on them
    (os.path.join of None) instead of removing them: the prefix such a
    field means is the database's name, which is written here"""
    Queue = Pool().get('ir.filestore.queue')
    queue = Queue.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*queue.update([queue.prefix],
            [Transaction().database.name], where=queue.prefix == Null))


def referenced_files(database):
    """The file ids of the database's folder that it still uses: every
    Binary field stored there, of any model, and the files waiting in
    ir.filestore.queue (Tryton removes those itself, after its retention)"""
    pool = Pool()
    cursor = Transaction().connection.cursor()
    ids = set()
    for _, Model in pool.iterobject():
        if not issubclass(Model, ModelSQL) or Model._is_table_query():
            continue
        for field in Model._fields.values():
            if isinstance(field, fields.Binary) and _own_prefix(
                    field, database):
                table = Model.__table__()
                column = Column(table, field.file_id)
                cursor.execute(*table.select(column, where=column != Null))
                ids.update(r for r, in cursor)
    Queue = pool.get('ir.filestore.queue')
    queue = Queue.__table__()
    cursor.execute(*queue.select(queue.file_id,
            where=(queue.prefix == Null) | (queue.prefix == database)))
    ids.update(r for r, in cursor)
    return ids


def sweep_filestore(threshold):
    """Remove the files of the database's folder that no record references
    and that were written before threshold (naive UTC); return how many.

    Safe only because the folder is the database's own: a store_prefix
    shared by several databases (as the thumbnails had before) would
    let one database remove the files of another. A configured
    [attachment] store_prefix, or a [database] class (another file store)
    that cannot list its files (as instrument_service_filestore's
    S3FileStore.list does), turns the sweep off."""
    transaction = Transaction()
    database = transaction.database.name
    if callable(getattr(filestore, 'list', None)) and not config.get(
            'attachment', 'store_prefix'):
        return _sweep_listed(database, threshold)
    if (config.get('database', 'class')
            or config.get('attachment', 'store_prefix')):
        logger.info("filestore sweep skipped: not the default file store")
        return 0
    root = os.path.join(filestore.path, database)
    if not os.path.isdir(root):
        return 0
    # The references are read after the listing, so that a file written
    # and committed in between is seen as referenced
    candidates = []
    limit = threshold.replace(tzinfo=dt.timezone.utc).timestamp()
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            if not FILE_ID.match(name):
                continue
            path = os.path.join(dirpath, name)
            if path != filestore._filename(name, database):
                continue
            try:
                if os.stat(path).st_mtime < limit:
                    candidates.append(name)
            except FileNotFoundError:
                continue
    if not candidates:
        return 0
    referenced = referenced_files(database)
    orphans = [c for c in candidates if c not in referenced]
    for file_id in orphans:
        filestore.delete(file_id, database)
    if orphans:
        logger.info("removed %s unreferenced files of %s", len(orphans),
            database)
    return len(orphans)


def _sweep_listed(database, threshold):
    """sweep_filestore on a file store that lists its files, e.g. a bucket
    of object storage (instrument_service_filestore.S3FileStore)"""
    limit = threshold.replace(tzinfo=dt.timezone.utc)
    candidates = [file_id for file_id, modified in filestore.list(database)
        if FILE_ID.match(file_id) and modified < limit]
    if not candidates:
        return 0
    referenced = referenced_files(database)
    orphans = [c for c in candidates if c not in referenced]
    filestore.delete_many(orphans, database)
    if orphans:
        logger.info("removed %s unreferenced files of %s", len(orphans),
            database)
    return len(orphans)
