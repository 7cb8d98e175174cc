"""Backup and restore: scripts/backup.py and scripts/restore.py.

PostgreSQL (BackupRestoreTestCase): orders with photos and PDF documents
made through the API of a real server (the API tests' APIServer), backed
up while it serves, the database dropped and its files removed, restored
into a new database and filestore: every table's row count and every
file's sha256 are those of before, and the API, served from the restored
database, answers the orders with their files, byte for byte. A backup
with a file missing, one with a file corrupted and one with a corrupt
dump each make the restore fail (exit status 1, a message naming the file)
before anything is made; a restore over an existing database is refused
without --force.

Both backends (RestoreVerificationTestCase): the verification of restore.py
on a backup written by hand (no database: it runs before any), and
backup.py refusing a database that is not PostgreSQL's with a clear
message. On the SQLite run of scripts/run_tests.py this module loads that
case only (load_tests below): pg_dump is PostgreSQL's.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import uuid
from pathlib import Path

from trytond.modules.instrument_service_api.tests.server import (
    APIServer, image, pdf)

from .test_demo_server import files_of

ROOT = Path(__file__).resolve().parent.parent
BACKUP = ROOT / 'scripts' / 'backup.py'
RESTORE = ROOT / 'scripts' / 'restore.py'
URI = os.environ.get('TRYTOND_DATABASE__URI', 'sqlite://')
POSTGRESQL = URI.startswith('postgresql')


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def env_of(uri, filestore, database):
    "The environment of the scripts: the production settings"
    env = {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_') and k not in {'DB_NAME', 'DB_CACHE'}}
    env.update({'TRYTOND_DATABASE__URI': uri,
            'TRYTOND_DATABASE__PATH': str(filestore),
            'TRYTOND_INSTRUMENT_SERVICE_API__DATABASE': database})
    return env


def run(script, args, env):
    return subprocess.run([sys.executable, str(script), *map(str, args)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
        stdin=subprocess.DEVNULL)


def checksums(folder):
    "relative path -> sha256 of every file under folder"
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): sha256(p.read_bytes())
        for p in folder.rglob('*') if p.is_file()}


class RestoreVerificationTestCase(unittest.TestCase):
    "restore.py checks a backup before it makes anything"

    def setUp(self):
        self.directory = Path(tempfile.mkdtemp(prefix='instrument-backup-'))
        self.addCleanup(shutil.rmtree, self.directory, ignore_errors=True)
        self.filestore = self.directory / 'filestore'
        self.env = env_of(URI, self.filestore, 'source')
        self.backup = self.directory / 'backup'
        files = {'ab/cd/abcd01': b'photo', 'ef/01/ef0102': b'document'}
        dump = b'PGDMP not really'
        (self.backup / 'files').mkdir(parents=True)
        (self.backup / 'database.dump').write_bytes(dump)
        for path, data in files.items():
            (self.backup / 'files' / path).parent.mkdir(parents=True)
            (self.backup / 'files' / path).write_bytes(data)
        (self.backup / 'manifest.json').write_text(json.dumps({
                    'format': 1, 'database': 'source',
                    'dump': {'path': 'database.dump', 'sha256': sha256(dump),
                        'size': len(dump)},
                    'files': [{'path': p, 'sha256': sha256(d),
                            'size': len(d)} for p, d in files.items()],
                    }))

    def restore(self):
        result = run(RESTORE, [self.backup, 'restored_%s'
                % uuid.uuid4().hex[:8]], self.env)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertNotIn('Traceback', result.stderr)
        self.assertFalse(self.filestore.exists())
        return result.stderr

    def test_missing_file(self):
        (self.backup / 'files' / 'ef' / '01' / 'ef0102').unlink()
        self.assertIn('the backup %s is damaged, nothing was restored:\n'
            '  missing file: files/ef/01/ef0102' % self.backup,
            self.restore())

    def test_corrupt_files(self):
        (self.backup / 'files' / 'ab' / 'cd' / 'abcd01').write_bytes(
            b'phot0')
        (self.backup / 'database.dump').write_bytes(b'PGDMP not reall')
        message = self.restore()
        self.assertIn('corrupt file: files/ab/cd/abcd01 (sha256 %s, the '
            'manifest says %s)' % (sha256(b'phot0'), sha256(b'photo')),
            message)
        self.assertIn('corrupt dump: database.dump (15 bytes, the manifest '
            'says 16)', message)

    def test_no_manifest(self):
        (self.backup / 'manifest.json').unlink()
        self.assertIn('no manifest.json in %s' % self.backup, self.restore())

    def test_manifest_outside(self):
        manifest = json.loads((self.backup / 'manifest.json').read_text())
        manifest['files'][0]['path'] = '../../etc/passwd'
        (self.backup / 'manifest.json').write_text(json.dumps(manifest))
        self.assertIn('the manifest names a file outside the backup',
            self.restore())

    def test_backup_needs_postgresql(self):
        env = env_of('sqlite://', self.filestore, 'source')
        result = run(BACKUP, ['--output', self.directory / 'out'], env)
        self.assertEqual(result.returncode, 1)
        self.assertIn('backups are of PostgreSQL databases; [database] uri '
            'is sqlite://', result.stderr)


class BackupRestoreTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = APIServer(engineers=1).start()
        cls.restored = None
        cls.directory = Path(tempfile.mkdtemp(prefix='instrument-backup-'))

    @classmethod
    def tearDownClass(cls):
        server = cls.server
        server.stop()
        for name in [cls.restored]:
            if name:
                server.database = name
                server._dropdb()
        shutil.rmtree(cls.directory, ignore_errors=True)

    def call(self, method, path, data=None, token=None, status=200,
            **kwargs):
        got, body = self.server.call(method, path, data, token, **kwargs)
        self.assertEqual(got, status, (method, path, body))
        return body

    def upload(self, name, content, token):
        status, body = self.server.upload('/files', name, content, token)
        self.assertEqual(status, 201, body)
        return body['id']

    def download(self, url, token):
        path = url.split('/api/v1', 1)[1]
        status, _, content = self.server.request('GET', path, token=token)
        self.assertEqual(status, 200, url)
        return content

    def row_counts(self):
        server = self.server
        tables = [t for t, in server.sql(
                "SELECT tablename FROM pg_tables "
                "WHERE schemaname = 'public' ORDER BY tablename")]
        return {t: server.count(t) for t in tables}

    def database_exists(self, name):
        import psycopg
        with psycopg.connect(URI.rstrip('/') + '/postgres') as connection:
            return connection.execute('SELECT 1 FROM pg_database '
                'WHERE datname = %s', (name,)).fetchone() is not None

    def order_views(self, orders, token):
        """order id -> (its view, {url: sha256 of its download} of its files
        and thumbnails)"""
        views = {}
        for order in orders:
            view = self.call('GET', '/orders/%s' % order, token=token)
            urls = [u for f in files_of(view)
                for u in [f['url'], f.get('thumbnail_url')] if u]
            views[order] = (view, {u: sha256(self.download(u, token))
                    for u in urls})
        return views

    def test_backup_restore(self):
        server = self.server
        customer = server.customer('o-backup')
        orders = []
        for index, (photos, documents) in enumerate([
                    ([('现场照片.jpg', image('JPEG')),
                            ('铭牌.png', image('PNG', color=(10, 90, 200)))],
                        []),
                    ([('故障.jpg', image('JPEG', color=(0, 120, 0)))],
                        [('报价单.pdf', pdf('quote')),
                            ('说明书.pdf', pdf('manual'))])]):
            order = self.call('POST', '/orders', {'type': 'repair',
                    'contact': {'name': '刘洋', 'company': '上海联科',
                        'phone': '13901760231', 'address': '上海市浦东新区'},
                    'lines': [{'instrument_name': '液相色谱仪',
                            'brand': 'Agilent', 'model': '1260',
                            'fault_description': '泵压力波动 %s' % index,
                            'quantity': 1, 'files': [
                                self.upload(n, c, customer)
                                for n, c in photos]}],
                    'files': [self.upload(n, c, customer)
                        for n, c in documents]},
                token=customer, status=201,
                headers={'Idempotency-Key': str(uuid.uuid4())})
            orders.append(order['id'])
        before = self.order_views(orders, customer)
        # 5 files and the thumbnails of the 3 photos
        self.assertEqual(sum(len(f) for _, f in before.values()), 5 + 3)

        filestore = Path(server.directory) / 'db'
        source = filestore / server.database
        counts = self.row_counts()
        files = checksums(source)
        self.assertEqual(len(files), 5 + 3)

        # Backed up while the server runs
        env = env_of(server.uri, filestore, server.database)
        result = run(BACKUP, ['--output', self.directory], env)
        self.assertEqual(result.returncode, 0, result.stderr)
        backup = Path(result.stdout.strip().splitlines()[-1])
        self.assertTrue(backup.is_dir())
        self.assertEqual(backup.parent, self.directory)
        manifest = json.loads((backup / 'manifest.json').read_text())
        self.assertEqual(manifest['database'], server.database)
        self.assertEqual({m['name'] for m in manifest['modules']
                if m['state'] == 'activated'} >= {
                'instrument_service', 'instrument_service_api'}, True)
        import trytond
        self.assertEqual(manifest['trytond_version'], trytond.__version__)
        self.assertEqual({f['path']: f['sha256'] for f in manifest['files']},
            files)
        self.assertEqual(manifest['dump']['sha256'], sha256(
                (backup / 'database.dump').read_bytes()))
        self.assertFalse(list(self.directory.glob('*.partial')))

        # Lost: the server, its database, its files
        server.process.terminate()
        server.process.wait(30)
        server.process = None
        server.log.close()
        server._dropdb()
        shutil.rmtree(source)

        # Damaged copies of the backup are refused before anything is made
        restored = 'restored_%s' % uuid.uuid4().hex[:8]
        target = self.directory / 'filestore'
        name = manifest['files'][3]['path']
        for damage, expected in [
                ('missing', 'missing file: files/%s' % name),
                ('corrupt', 'corrupt file: files/%s (sha256 ' % name),
                ('dump', 'corrupt dump: database.dump (')]:
            with self.subTest(damage=damage):
                copy = self.directory / ('damaged-' + damage)
                shutil.copytree(backup, copy)
                path = copy / 'files' / name
                if damage == 'missing':
                    path.unlink()
                elif damage == 'corrupt':
                    data = bytearray(path.read_bytes())
                    data[len(data) // 2] ^= 0xff
                    path.write_bytes(bytes(data))
                else:
                    with open(copy / 'database.dump', 'ab') as file:
                        file.write(b'\0')
                result = run(RESTORE, [copy, restored, '--filestore',
                        target], env)
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertIn('restore: error: the backup %s is damaged, '
                    'nothing was restored:' % copy, result.stderr)
                self.assertIn(expected, result.stderr)
                self.assertFalse(self.database_exists(restored))
                self.assertFalse(target.exists())

        # Restored into a new database and filestore
        result = run(RESTORE, [backup, restored, '--filestore', target], env)
        type(self).restored = restored
        self.assertEqual(result.returncode, 0, result.stderr)
        server.database = restored
        self.assertEqual(self.row_counts(), counts)
        self.assertEqual(checksums(target / restored), files)

        # Never over an existing database without --force
        result = run(RESTORE, [backup, restored, '--filestore', target], env)
        self.assertEqual(result.returncode, 1)
        self.assertIn('database "%s" exists' % restored, result.stderr)
        self.assertIn('give --force', result.stderr)

        # The API serves the restored orders and their files
        os.rename(target / restored, filestore / restored)
        server.config_path = server._config()
        server.log = open(server.log_path, 'a')
        server.launch()
        customer = server.customer('o-backup')
        after = self.order_views(orders, customer)
        self.assertEqual(after, before)
        self.assertNotIn('Traceback', server.server_log())


def load_tests(loader, tests, pattern):
    "On SQLite, the verification only (see the module's docstring)"
    suite = unittest.TestSuite()
    suite.addTests(loader.loadTestsFromTestCase(RestoreVerificationTestCase))
    if POSTGRESQL:
        suite.addTests(loader.loadTestsFromTestCase(BackupRestoreTestCase))
    return suite


if __name__ == '__main__':
    unittest.main()
