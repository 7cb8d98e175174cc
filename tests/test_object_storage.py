"""Files in S3-compatible object storage: [database] class =
instrument_service_filestore.S3FileStore, against moto's S3 server (a
local server speaking the S3 protocol, a test-only stand-in for OSS/COS).

Through the real API server: customers' photos (with their thumbnails) and
a PDF, and an engineer's photo, land in the bucket under the database's
folder, nothing in the local filestore, and are served back as stored; the
upload cleanup job (trytond-cron's ir.attachment|remove_unclaimed_uploads
and ir.filestore.queue|remove) removes the objects of the uploads no order
claimed and of the writes that never committed, and nothing else; a dump of
the database restored (after it was dropped) serves the same files from
the bucket.

On both backends: the file store does not depend on the database's, but
its restore does (pg_dump/pg_restore on PostgreSQL, the file on SQLite)."""
import hashlib
import io
import logging
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import uuid

import boto3
from moto.server import ThreadedMotoServer
from PIL import Image

from trytond.modules.instrument_service_api.tests.server import (
    ServerTestCase, image, pdf)

FILESTORE_CLASS = 'instrument_service_filestore.S3FileStore'
CONTACT = {'name': '周九', 'company': '某某检测中心', 'phone': '13900001111',
    'address': '杭州市 西湖区'}
LINE = {'instrument_name': '液相色谱仪', 'brand': 'Agilent', 'model': '1260',
    'fault_description': '泵压力波动', 'quantity': 1}

# The jobs of trytond-cron, in a process of their own with the server's
# configuration, each in its own transaction, the clock of the module 25 h
# ahead (past the 24 h upload retention) and Tryton's [attachment]
# retention_days at 0:  python -c CLEANUP CONFIG DATABASE METHOD...
CLEANUP = r'''
import datetime as dt, sys
from unittest.mock import patch
from trytond import config
config.update_etc(sys.argv[1])
config.set('attachment', 'retention_days', '0')
from trytond.pool import Pool
from trytond.transaction import Transaction

database = sys.argv[2]
pool = Pool(database)
pool.init()
later = dt.datetime.now() + dt.timedelta(hours=25)
with patch('trytond.modules.instrument_service.clock.now',
        return_value=later):
    for method in sys.argv[3:]:
        with Transaction().start(database, 0) as transaction:
            Cron = pool.get('ir.cron')
            cron, = Cron.search([('method', '=', method)])
            Cron.run_once([cron])
            transaction.commit()
'''
CLEANUP_JOBS = ['ir.attachment|remove_unclaimed_uploads',
    'ir.filestore.queue|remove']


class ObjectStore:
    """moto's S3 server in a thread of the test process, on a free port of
    the loopback, with one bucket; config() is the trytond configuration
    that keeps the files there"""

    def __init__(self):
        self.bucket = 'instrument-files-%s' % uuid.uuid4().hex[:8]
        self.access_key = 'test-' + secrets.token_hex(4)
        self.secret_key = secrets.token_hex(16)
        self.server = None

    def start(self):
        # moto logs every request through werkzeug's logger
        logging.getLogger('werkzeug').setLevel(logging.ERROR)
        self.server = ThreadedMotoServer('127.0.0.1', 0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = 'http://%s:%s' % (host, port)
        self.client = boto3.session.Session().client('s3',
            endpoint_url=self.endpoint, region_name='us-east-1',
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key)
        self.client.create_bucket(Bucket=self.bucket)
        return self

    def stop(self):
        if self.server:
            self.server.stop()
            self.server = None

    def config(self):
        return {
            'database': {'class': FILESTORE_CLASS},
            's3': {
                'bucket': self.bucket, 'endpoint': self.endpoint,
                'region': 'us-east-1', 'access_key': self.access_key,
                'secret_key': self.secret_key},
            }

    def keys(self, prefix=''):
        "The keys of the bucket under prefix"
        keys = set()
        paginator = self.client.get_paginator('list_objects_v2')
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            keys.update(item['Key'] for item in page.get('Contents', []))
        return keys

    def get(self, key):
        return self.client.get_object(Bucket=self.bucket, Key=key)[
            'Body'].read()

    def put(self, key, data):
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    @staticmethod
    def key(database, file_id):
        "The key of a file: its path in the local filestore"
        return '%s/%s/%s/%s' % (database, file_id[0:2], file_id[2:4],
            file_id)


class ObjectStorageTestCase(ServerTestCase):
    "The API server with its files in a bucket"

    @classmethod
    def setUpClass(cls):
        cls.store = ObjectStore().start()
        cls.server_options = {'engineers': 1, 'config': cls.store.config()}
        try:
            super().setUpClass()
        except BaseException:
            cls.store.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.store.stop()

    @classmethod
    def build(cls):
        server = cls.server
        cls.customer = server.customer()
        cls.engineer = server.engineer(0)
        cls.originals = {
            'photo.jpg': image('JPEG', size=(1200, 900)),
            'screen.png': image('PNG', color=(40, 40, 200)),
            'manual.pdf': pdf('operating manual'),
            }
        cls.uploads = {name: cls.upload(name, content, cls.customer)
            for name, content in cls.originals.items()}
        cls.order_id = cls.submit(cls.customer,
            [cls.uploads['photo.jpg']['id'], cls.uploads['screen.png']['id']],
            [cls.uploads['manual.pdf']['id']])
        status, body = server.call('POST',
            '/engineer/inbox/%s/accept' % cls.order_id, None, cls.engineer)
        assert status == 200, body
        status, cls.engineer_photo = server.upload(
            '/engineer/tasks/%s/files' % cls.order_id, 'pump.jpg',
            image('JPEG', color=(20, 160, 20)), cls.engineer)
        assert status == 201, cls.engineer_photo

    @classmethod
    def upload(cls, name, content, token):
        status, body = cls.server.upload('/files', name, content, token)
        assert status == 201, body
        return body

    @classmethod
    def submit(cls, token, line_files, order_files):
        status, body = cls.server.call('POST', '/orders', {
                'type': 'repair', 'contact': CONTACT,
                'lines': [{**LINE, 'files': line_files}],
                'files': order_files},
            token, headers={'Idempotency-Key': uuid.uuid4().hex})
        assert status == 201, body
        return body['id']

    # ---- looking into the bucket and the database ---------------------------

    def stored(self, attachment_ids):
        "attachment id -> (file_id, thumbnail_id) of the database"
        rows = self.server.sql('SELECT id, file_id, thumbnail_id '
            'FROM ir_attachment WHERE id IN (%s)' % ', '.join(
                str(int(i)) for i in attachment_ids))
        return {id_: (file_id, thumbnail_id)
            for id_, file_id, thumbnail_id in rows}

    def referenced_keys(self):
        "The keys of every file the database's attachments reference"
        database = self.server.database
        return {self.store.key(database, f) for row in self.server.sql(
                'SELECT file_id, thumbnail_id FROM ir_attachment')
            for f in row if f}

    def local_files(self):
        "The files under [database] path but the SQLite database's own"
        root = os.path.join(self.server.directory, 'db')
        return {os.path.relpath(os.path.join(path, name), root)
            for path, _, names in os.walk(root) for name in names
            if not name.startswith(self.server.database + '.sqlite')}

    def download(self, path, token):
        status, headers, content = self.server.request('GET', path,
            token=token)
        self.assertEqual(status, 200, content[:300])
        return headers, content

    def order_files(self, order_id, token):
        "The file views of the order: its lines' and its own"
        order = self.call('GET', '/orders/%s' % order_id, token=token)
        return [f for line in order['lines'] for f in line['files']] \
            + order['files']

    def served(self, order_id, token):
        """What the API serves of the order's files: file id -> the checksum
        of the file and of its thumbnail (None without one)"""
        served = {}
        for view in self.order_files(order_id, token):
            _, content = self.download('/files/%s' % view['id'], token)
            self.assertEqual(view['size'], len(content))
            thumbnail = None
            if view['thumbnail_url']:
                _, thumbnail = self.download(
                    '/files/%s/thumbnail' % view['id'], token)
                thumbnail = hashlib.sha256(thumbnail).hexdigest()
            served[view['id']] = (hashlib.sha256(content).hexdigest(),
                thumbnail)
        return served

    # ---- the tests ----------------------------------------------------------

    def test_files_in_the_bucket(self):
        "Uploads are objects of the bucket, served back as they are stored"
        server, store = self.server, self.store
        database = server.database
        ids = [u['id'] for u in self.uploads.values()] + [
            self.engineer_photo['id']]
        stored = self.stored(ids)
        self.assertEqual(set(stored), set(ids))
        keys = store.keys(database + '/')
        for name, upload in self.uploads.items():
            file_id, thumbnail_id = stored[upload['id']]
            self.assertIn(store.key(database, file_id), keys)
            if name.endswith('.pdf'):
                self.assertIsNone(thumbnail_id)
                # A document is kept as it was sent
                self.assertEqual(store.get(store.key(database, file_id)),
                    self.originals[name])
            else:
                self.assertIn(store.key(database, thumbnail_id), keys)
        file_id, thumbnail_id = stored[self.engineer_photo['id']]
        self.assertIn(store.key(database, file_id), keys)
        self.assertIn(store.key(database, thumbnail_id), keys)
        # Every file the database has is an object of the bucket
        self.assertLessEqual(self.referenced_keys(), keys)
        # and nothing was written to the local filestore
        self.assertEqual(self.local_files(), set())
        self.assertFalse(os.path.exists(
                os.path.join(server.directory, 'db', database)))

        # The customer downloads the order's files as the bucket holds them
        views = {v['id']: v for v in self.order_files(
                self.order_id, self.customer)}
        self.assertEqual(set(views),
            {u['id'] for u in self.uploads.values()})
        for name, upload in self.uploads.items():
            view = views[upload['id']]
            file_id, thumbnail_id = stored[upload['id']]
            headers, content = self.download(
                '/files/%s' % upload['id'], self.customer)
            self.assertEqual(content, store.get(
                    store.key(database, file_id)))
            self.assertEqual(view['size'], len(content))
            if name.endswith('.pdf'):
                self.assertEqual(content, self.originals[name])
                self.assertEqual(headers['Content-Type'], 'application/pdf')
                self.assertIsNone(view['thumbnail_url'])
                continue
            self.assertEqual(headers['Content-Type'], 'image/jpeg')
            _, thumbnail = self.download(view['thumbnail_url'][
                    len('/api/v1'):], self.customer)
            self.assertEqual(thumbnail, store.get(
                    store.key(database, thumbnail_id)))
            self.assertEqual(max(Image.open(io.BytesIO(thumbnail)).size),
                320)
        # The engineer's photo, and the customer's photo by the engineer
        for attachment_id in [self.engineer_photo['id'],
                self.uploads['photo.jpg']['id']]:
            file_id, _ = stored[attachment_id]
            _, content = self.download('/files/%s' % attachment_id,
                self.engineer)
            self.assertEqual(content, store.get(
                    store.key(database, file_id)))

    def test_cleanup_removes_abandoned_objects(self):
        """The upload cleanup job removes the objects of the uploads no
        order claimed and of the writes that never committed, from the
        database's folder only"""
        server, store = self.server, self.store
        database = server.database
        customer = server.customer()
        abandoned = [self.upload('left.jpg', image('JPEG'), customer),
            self.upload('left.pdf', pdf('left behind'), customer)]
        stored = self.stored([a['id'] for a in abandoned])
        abandoned_keys = {store.key(database, f)
            for row in stored.values() for f in row if f}
        # A photo and its thumbnail, a document
        self.assertEqual(len(abandoned_keys), 3)
        self.assertLessEqual(abandoned_keys, store.keys(database + '/'))
        # What a server killed between the write of a file and its commit
        # leaves: an object no record references
        orphan = store.key(database, str(uuid.uuid4()))
        store.put(orphan, b'never committed')
        # Another database's file in the same bucket, and an object that is
        # not a file of the file store
        other = store.key('another_database', str(uuid.uuid4()))
        store.put(other, b'another database')
        foreign = '%s/exports/report.csv' % database
        store.put(foreign, b'not a file of the file store')
        kept = self.referenced_keys() - abandoned_keys

        result = subprocess.run([sys.executable, '-c', CLEANUP,
                server.config_path, database, *CLEANUP_JOBS],
            env=server._env(), capture_output=True, text=True, timeout=300)
        self.assertEqual(result.returncode, 0, result.stderr)

        keys = store.keys()
        self.assertFalse(abandoned_keys & keys, abandoned_keys & keys)
        self.assertNotIn(orphan, keys)
        self.assertEqual(server.count('ir_attachment', 'id IN (%s, %s)' % (
                    abandoned[0]['id'], abandoned[1]['id'])), 0)
        self.assertEqual(server.count('ir_filestore_queue'), 0)
        for key in [other, foreign, *kept]:
            self.assertIn(key, keys)
        # The claimed files are still served
        for upload in self.uploads.values():
            self.download('/files/%s' % upload['id'], self.customer)
        status, _ = server.call('GET', '/files/%s' % abandoned[0]['id'],
            token=customer)
        self.assertEqual(status, 404)

    def test_missing_object(self):
        """An object missing from the bucket is a missing file, as in the
        local filestore (an OSError): the order is still shown, the file
        with no size"""
        server, store = self.server, self.store
        customer = server.customer()
        document = self.upload('lost.pdf', pdf('lost'), customer)
        order_id = self.submit(customer, [], [document['id']])
        (file_id, _), = self.stored([document['id']]).values()
        self.assertEqual(self.order_files(order_id, customer)[0]['size'],
            len(store.get(store.key(server.database, file_id))))
        store.client.delete_object(Bucket=store.bucket,
            Key=store.key(server.database, file_id))
        view, = self.order_files(order_id, customer)
        self.assertEqual((view['id'], view['size']), (document['id'], 0))

    def test_restore(self):
        """The database dumped, dropped and restored serves the same files
        from the bucket"""
        server, store = self.server, self.store
        before = self.served(self.order_id, self.customer)
        self.assertEqual(len(before), 3)
        objects = store.keys()
        folder = tempfile.mkdtemp(prefix='instrument-dump-')
        try:
            dump = os.path.join(folder, 'dump')
            self.dump(dump)
            server.process.terminate()
            server.process.wait(30)
            self.drop()
            with self.assertRaises(Exception):
                server.sql('SELECT COUNT(*) FROM ir_attachment')
            self.restore(dump)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        server.launch()
        # Nothing was read from elsewhere: the bucket is as it was
        self.assertEqual(store.keys(), objects)
        self.assertEqual(self.served(self.order_id, self.customer), before)
        # and it takes new files
        upload = self.upload('after.jpg', image('JPEG'), self.customer)
        (file_id, thumbnail_id), = self.stored([upload['id']]).values()
        self.assertLessEqual(
            {store.key(server.database, file_id),
                store.key(server.database, thumbnail_id)},
            store.keys(server.database + '/'))
        self.assertEqual(self.local_files(), set())

    def dump(self, path):
        server = self.server
        if server.backend == 'postgresql':
            subprocess.run([shutil.which('pg_dump') or 'pg_dump',
                    '--format=custom', '--file', path,
                    server.uri.rstrip('/') + '/' + server.database],
                check=True, capture_output=True)
        else:
            # SQLite's online backup: the database file alone misses what
            # its write-ahead log holds
            import sqlite3
            source = sqlite3.connect(self.sqlite_path())
            target = sqlite3.connect(path)
            try:
                source.backup(target)
            finally:
                target.close()
                source.close()

    def drop(self):
        server = self.server
        if server.backend == 'postgresql':
            server._dropdb()
        else:
            for suffix in ['', '-wal', '-shm']:
                if os.path.exists(self.sqlite_path() + suffix):
                    os.remove(self.sqlite_path() + suffix)

    def restore(self, path):
        server = self.server
        if server.backend == 'postgresql':
            server._createdb()
            subprocess.run([shutil.which('pg_restore') or 'pg_restore',
                    '--no-owner', '--dbname',
                    server.uri.rstrip('/') + '/' + server.database, path],
                check=True, capture_output=True)
        else:
            shutil.copyfile(path, self.sqlite_path())

    def sqlite_path(self):
        return os.path.join(self.server.directory, 'db',
            self.server.database + '.sqlite')
