# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The cleanup job of uploads no order claimed (cleanup.py), with the clock
moved: an old unclaimed upload goes, a fresh one stays, a claimed one stays,
the engineers' photos (evidence) stay; in the filestore, the files nothing
references go once old enough, and nothing referenced goes."""
import datetime as dt
import os
import shutil
import tempfile
from unittest.mock import patch

from trytond import config
from trytond.filestore import FileStore, filestore
from trytond.modules.company.tests import create_company
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    TestCase, activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction

from ..files import prepare
from .server import image, pdf

MODULE = 'instrument_service_api'
CLOCK = 'trytond.modules.instrument_service.clock.now'
CRON = 'ir.attachment|remove_unclaimed_uploads'
RETENTION = ('trytond.modules.instrument_service_api.cleanup.'
    'upload_retention')


def hours(n):
    return dt.timedelta(hours=n)


class CleanupTestCase(TestCase):
    "Test the cleanup of unclaimed uploads"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(MODULE)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def setUp(self):
        super().setUp()
        # The files of the test go to a folder of its own
        self.path = tempfile.mkdtemp(prefix='instrument-cleanup-')
        self.addCleanup(shutil.rmtree, self.path, ignore_errors=True)
        path = patch.object(FileStore, 'path', property(lambda s: self.path))
        path.start()
        self.addCleanup(path.stop)

    # ---- fixtures ---------------------------------------------------------

    def _world(self):
        pool = Pool()
        WebUser = pool.get('web.user')
        Order = pool.get('instrument_service.order')
        Progress = pool.get('instrument_service.order.progress')
        company = create_company()
        customer = WebUser(email='customer@example.com')
        customer.save()
        order = Order(company=company, type='repair', customer=customer,
            contact_name="陈经理", contact_company="某某检测技术有限公司",
            contact_phone="13800138000",
            lines=[{'instrument_name': "液相色谱仪", 'quantity': 1,
                    'fault_description': "压力波动"}])
        order.save()
        progress = Progress(order=order, date=dt.datetime(2025, 3, 3),
            action='submit', actor_role='engineer')
        progress.save()
        return customer, order, progress

    def _upload(self, resource, content=None, name='photo.jpg'):
        "An attachment made as the API makes one, on resource"
        Attachment = Pool().get('ir.attachment')
        name, mimetype, data, thumbnail = prepare(
            name, content or image(color=(10, 20, len(name))))
        attachment = Attachment(name=name, type='data', data=data,
            mimetype=mimetype, thumbnail=thumbnail, resource=resource)
        attachment.save()
        return attachment

    def _run(self, at):
        Cron = Pool().get('ir.cron')
        cron, = Cron.search([('method', '=', CRON)])
        with patch(CLOCK, return_value=at):
            Cron.run_once([cron])

    def _ids(self):
        return {a.id for a in Pool().get('ir.attachment').search([])}

    def _file(self, file_id):
        return os.path.exists(filestore._filename(
                file_id, Transaction().database.name))

    # ---- the rows -----------------------------------------------------------

    @with_transaction()
    def test_cron_is_declared(self):
        "The job is an ir.cron of the module, hourly"
        Cron = Pool().get('ir.cron')
        cron, = Cron.search([('method', '=', CRON)])
        self.assertEqual((cron.interval_number, cron.interval_type),
            (1, 'hours'))
        self.assertIn(CRON, dict(Cron.method.selection))

    @with_transaction()
    def test_unclaimed_upload_goes_after_the_retention(self):
        """An upload still on its web.user goes once older than 24 hours;
        claimed uploads and the engineer's photos stay"""
        pool = Pool()
        Attachment = pool.get('ir.attachment')
        customer, order, progress = self._world()
        now = dt.datetime.now()
        unclaimed = self._upload(customer)
        document = self._upload(customer, pdf("quote"), 'quote.pdf')
        claimed = self._upload(order.lines[0], name='claimed.jpg')
        engineer_photo = self._upload(order, name='unused-evidence.jpg')
        evidence = self._upload(progress, name='evidence.jpg')
        # A file staff attached to the customer in the back office: no
        # mimetype, not an upload of the API
        staff = Attachment(name='contract.txt', type='data',
            data=b'contract', resource=customer)
        staff.save()
        everything = self._ids()

        # Before the retention: nothing goes
        self._run(now + hours(23))
        self.assertEqual(self._ids(), everything)

        # After: the unclaimed uploads only
        self._run(now + hours(25))
        self.assertEqual(self._ids(),
            everything - {unclaimed.id, document.id})
        for kept in [claimed, engineer_photo, evidence]:
            kept = Attachment(kept.id)
            self.assertEqual(kept.data, Attachment(kept.id).data)
            self.assertTrue(self._file(kept.file_id))
            self.assertTrue(self._file(kept.thumbnail_id))
        self.assertEqual(Attachment(staff.id).data, b'contract')

    @with_transaction()
    def test_fresh_upload_stays(self):
        "An upload younger than the retention stays, the old one goes"
        pool = Pool()
        Attachment = pool.get('ir.attachment')
        customer, _, _ = self._world()
        old = self._upload(customer, name='old.jpg')
        fresh = self._upload(customer, name='fresh.jpg')
        table = Attachment.__table__()
        cursor = Transaction().connection.cursor()
        now = dt.datetime.now()
        cursor.execute(*table.update([table.create_date], [now + hours(20)],
                where=table.id == fresh.id))
        self._run(now + hours(25))
        self.assertEqual(Attachment.search([
                    ('id', 'in', [old.id, fresh.id])]), [fresh])

    @with_transaction()
    def test_retention_from_configuration(self):
        "[instrument_service_api] upload_retention, in hours"
        customer, _, _ = self._world()
        upload = self._upload(customer)
        now = dt.datetime.now()
        with patch(RETENTION, return_value=hours(2)):
            self._run(now + hours(1))
            self.assertIn(upload.id, self._ids())
            self._run(now + hours(3))
            self.assertNotIn(upload.id, self._ids())

    @with_transaction()
    def test_claimed_by_an_order_stays(self):
        """An upload an order claimed (POST /orders moves it to a line)
        stays, however old"""
        Attachment = Pool().get('ir.attachment')
        customer, order, _ = self._world()
        upload = self._upload(customer)
        Attachment.write([upload], {'resource': str(order.lines[0])})
        self._run(dt.datetime.now() + hours(24 * 365))
        self.assertEqual(Attachment(upload.id).resource, order.lines[0])

    # ---- the filestore ------------------------------------------------------

    @with_transaction()
    def test_filestore_sweep(self):
        """Files no record references go once old enough; referenced files
        (data and thumbnails, shared ones too), files queued for Tryton's
        own removal, young files and other databases' files stay"""
        pool = Pool()
        Attachment = pool.get('ir.attachment')
        Queue = pool.get('ir.filestore.queue')
        database = Transaction().database.name
        customer, order, _ = self._world()
        now = dt.datetime.now()
        kept = self._upload(order, name='kept.jpg')
        # Two attachments on one file, as bench/generate.py --files shared
        shared = Attachment(name='shared.pdf', type='data',
            file_id=kept.file_id, resource=order)
        shared.save()
        # What a crash between the filestore write and the commit leaves
        crashed = [filestore.set(b'orphan %d' % i, database)
            for i in range(3)]
        # An upload deleted by hand: its files wait in ir.filestore.queue
        deleted = self._upload(order, name='deleted.jpg')
        deleted_files = [deleted.file_id, deleted.thumbnail_id]
        Attachment.delete([deleted])
        self.assertEqual(
            {q.file_id for q in Queue.search([])} & set(deleted_files),
            set(deleted_files))
        other = filestore.set(b'another database', 'another_database')
        # Not a file id of the filestore: never touched
        stray = os.path.join(self.path, database, 'README')
        with open(stray, 'w') as fp:
            fp.write('not a file of the filestore')

        # Within the hour, nothing goes whatever the retention: a file may
        # be the one of a transaction still running
        with patch(RETENTION, return_value=hours(0)):
            self._run(now + dt.timedelta(minutes=30))
        self.assertTrue(all(self._file(f) for f in crashed))

        self._run(now + hours(25))
        self.assertFalse(any(self._file(f) for f in crashed))
        for file_id in [kept.file_id, kept.thumbnail_id] + deleted_files:
            self.assertTrue(self._file(file_id), file_id)
        self.assertEqual(Attachment(shared.id).data, Attachment(kept.id).data)
        self.assertTrue(os.path.exists(
                filestore._filename(other, 'another_database')))
        self.assertTrue(os.path.exists(stray))

        # Tryton's own job removes the queued files after its retention
        # ([attachment] retention_days, 0 here)
        getint = config.getint

        def no_retention(section, option, default=None):
            if (section, option) == ('attachment', 'retention_days'):
                return 0
            return getint(section, option, default=default)
        with patch.object(config, 'getint', no_retention):
            Queue.remove()
        self.assertFalse(any(self._file(f) for f in deleted_files))
        self.assertTrue(self._file(kept.file_id))

    @with_transaction()
    def test_thumbnails_in_the_database_folder(self):
        """Thumbnails are stored in the database's own folder, and those of
        the former shared folder 'thumbnail' are copied there"""
        Attachment = Pool().get('ir.attachment')
        database = Transaction().database.name
        customer, _, _ = self._world()
        upload = self._upload(customer)
        self.assertTrue(self._file(upload.thumbnail_id))
        self.assertFalse(os.path.exists(os.path.join(self.path, 'thumbnail')))

        old_id = filestore.set(b'old thumbnail', 'thumbnail')
        table = Attachment.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update([table.thumbnail_id], [old_id],
                where=table.id == upload.id))
        Attachment._migrate_thumbnails()
        self.assertEqual(Attachment(upload.id).thumbnail, b'old thumbnail')
        # Copied, not moved: another database may use it
        self.assertEqual(filestore.get(old_id, 'thumbnail'), b'old thumbnail')
        self.assertTrue(filestore.get(old_id, database))


del TestCase
