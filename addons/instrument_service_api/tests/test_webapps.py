# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The H5 apps served by trytond at /h5/ and /engineer/ from built folders:
cache headers, content types, client-side routes, traversal attempts, and
the API and the web root (sao) still answering beside them."""
import gzip
import http.client
import os
import shutil
import tempfile
import unittest

from .server import APIServer

CUSTOMER_INDEX = b'<!DOCTYPE html><title>customer</title>'
ENGINEER_INDEX = b'<!DOCTYPE html><title>engineer</title>'
WEB_ROOT_INDEX = b'<!DOCTYPE html><title>sao</title>'
SECRET = b'secret outside the build'
SCRIPT = b'console.log("customer");'
STYLE = b'body { color: red; }'
MANIFEST = b'{"name": "customer"}'
PNG = b'\x89PNG\r\n\x1a\nnot really'
NOSNIFF = 'nosniff'
IMMUTABLE = 'public, max-age=31536000, immutable'


def write(path, content):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as fp:
        fp.write(content)


# A script a phone should not load uncompressed
BUNDLE = ('const messages = %s;' % ','.join(
        '"消息%s"' % i for i in range(2000))).encode()


def build(folder, index):
    "A small uni-app H5 build"
    write(os.path.join(folder, 'index.html'), index)
    write(os.path.join(folder, 'assets', 'index-abc12345.js'), SCRIPT)
    write(os.path.join(folder, 'assets', 'index-abc12345.css'), STYLE)
    write(os.path.join(folder, 'assets', 'vendor-def67890.js'), BUNDLE)
    write(os.path.join(folder, 'manifest.webmanifest'), MANIFEST)
    write(os.path.join(folder, 'static', 'logo.png'), PNG)


class WebAppsServer:
    """A server with the folders of setUpFolders (in cls.directory) and the
    configuration it answers; raw HTTP requests to it: http.client sends
    the path as written"""

    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.mkdtemp(prefix='instrument-webapps-')
        try:
            cls.server = APIServer(engineers=0, config=cls.setUpFolders())
            cls.server.start()
        except Exception:
            shutil.rmtree(cls.directory, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        log = cls.server.server_log()
        cls.server.stop()
        shutil.rmtree(cls.directory, ignore_errors=True)
        assert 'Traceback' not in log, log[log.index('Traceback') - 500:][
            :5000]

    def request(self, method, path, headers=None, body=None):
        connection = http.client.HTTPConnection(
            '127.0.0.1', self.server.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    def get(self, path, headers=None):
        return self.request('GET', path, headers=headers)


class WebAppsTestCase(WebAppsServer, unittest.TestCase):

    @classmethod
    def setUpFolders(cls):
        cls.customer = os.path.join(cls.directory, 'customer')
        cls.engineer = os.path.join(cls.directory, 'engineer')
        cls.web_root = os.path.join(cls.directory, 'web-root')
        cls.outside = os.path.join(cls.directory, 'outside.txt')
        build(cls.customer, CUSTOMER_INDEX)
        build(cls.engineer, ENGINEER_INDEX)
        write(os.path.join(cls.web_root, 'index.html'), WEB_ROOT_INDEX)
        write(cls.outside, SECRET)
        write(os.path.join(cls.customer, '.env'), SECRET)
        os.symlink(cls.outside, os.path.join(cls.customer, 'outside.txt'))
        os.symlink(cls.directory, os.path.join(cls.customer, 'escape'))
        # A symlink inside the folder is served
        os.symlink('index-abc12345.js',
            os.path.join(cls.customer, 'assets', 'app-abc12345.js'))
        return {
            'web': {'root': cls.web_root},
            'instrument_service_api': {
                'customer_app': cls.customer,
                'engineer_app': cls.engineer,
                },
            }

    def assertIndex(self, answer, index):
        status, headers, body = answer
        self.assertEqual(status, 200)
        self.assertEqual(body, index)
        self.assertEqual(headers['Content-Type'], 'text/html; charset=utf-8')
        self.assertEqual(headers['Cache-Control'], 'no-cache')
        self.assertEqual(headers['X-Content-Type-Options'], NOSNIFF)

    def test_index(self):
        "Each prefix serves the index.html of its own folder, never cached"
        self.assertIndex(self.get('/h5/'), CUSTOMER_INDEX)
        self.assertIndex(self.get('/h5/index.html'), CUSTOMER_INDEX)
        self.assertIndex(self.get('/engineer/'), ENGINEER_INDEX)
        self.assertIndex(self.get('/engineer/index.html'), ENGINEER_INDEX)

    def test_revalidate_index(self):
        "no-cache: the browser revalidates the index with its ETag"
        status, headers, _ = self.get('/h5/')
        self.assertEqual(status, 200)
        status, _, body = self.get(
            '/h5/', headers={'If-None-Match': headers['ETag']})
        self.assertEqual((status, body), (304, b''))

    def test_compressed(self):
        """Text goes gzipped to clients that take it (a third of the bytes
        on a phone's first load), as it is to the others, and revalidates"""
        path = '/h5/assets/vendor-def67890.js'
        status, headers, body = self.get(path,
            headers={'Accept-Encoding': 'gzip, deflate, br'})
        self.assertEqual(status, 200)
        self.assertEqual(headers['Content-Encoding'], 'gzip')
        self.assertIn('Accept-Encoding', headers['Vary'])
        self.assertEqual(headers['Cache-Control'], IMMUTABLE)
        self.assertTrue(headers['Content-Type'].startswith('text/javascript'))
        self.assertEqual(gzip.decompress(body), BUNDLE)
        self.assertLess(len(body), len(BUNDLE) / 3)
        status, _, body = self.get(path, headers={
                'Accept-Encoding': 'gzip', 'If-None-Match': headers['ETag']})
        self.assertEqual((status, body), (304, b''))
        status, headers, body = self.get(path)
        self.assertEqual((status, body), (200, BUNDLE))
        self.assertNotIn('Content-Encoding', headers)
        # Images are compressed already; small files are not worth it
        for small in ['/h5/assets/index-abc12345.css', '/h5/static/logo.png']:
            status, headers, _ = self.get(small,
                headers={'Accept-Encoding': 'gzip'})
            self.assertNotIn('Content-Encoding', headers, small)

    def test_files(self):
        "Content types; hashed assets are kept a year, other files briefly"
        for path, content, content_type, cache_control in [
                ('/h5/assets/index-abc12345.js', SCRIPT,
                    'text/javascript; charset=utf-8', IMMUTABLE),
                ('/h5/assets/index-abc12345.css', STYLE,
                    'text/css; charset=utf-8', IMMUTABLE),
                ('/h5/assets/app-abc12345.js', SCRIPT,
                    'text/javascript; charset=utf-8', IMMUTABLE),
                ('/engineer/assets/index-abc12345.js', SCRIPT,
                    'text/javascript; charset=utf-8', IMMUTABLE),
                ('/h5/manifest.webmanifest', MANIFEST,
                    'application/manifest+json', 'public, max-age=600'),
                ('/h5/static/logo.png', PNG, 'image/png',
                    'public, max-age=600'),
                ]:
            with self.subTest(path=path):
                status, headers, body = self.get(path)
                self.assertEqual(status, 200)
                self.assertEqual(body, content)
                self.assertEqual(headers['Content-Type'], content_type)
                self.assertEqual(headers['Cache-Control'], cache_control)
                self.assertEqual(
                    headers['X-Content-Type-Options'], NOSNIFF)

    def test_client_side_routes(self):
        "A path that is no file and has no extension gets the app's index"
        self.assertIndex(self.get('/h5/pages/order/detail?id=3'),
            CUSTOMER_INDEX)
        self.assertIndex(self.get('/h5/pages/order/'), CUSTOMER_INDEX)
        self.assertIndex(self.get('/h5/assets/'), CUSTOMER_INDEX)
        self.assertIndex(self.get('/engineer/pages/task/list'),
            ENGINEER_INDEX)

    def test_missing_files(self):
        "A missing file with an extension is 404, not the index"
        for path in ['/h5/assets/index-deadbeef.js',
                '/h5/assets/index-deadbeef.css', '/h5/static/missing.png',
                '/h5/pages/order/detail.vue', '/engineer/favicon.ico']:
            with self.subTest(path=path):
                status, headers, body = self.get(path)
                self.assertEqual(status, 404)
                self.assertNotIn(b'<title>customer', body)
                self.assertNotIn(b'<title>engineer', body)
                self.assertEqual(headers['Cache-Control'], 'no-cache')

    def test_outside_the_folder(self):
        "Nothing outside the folder, nor hidden files, can be reached"
        paths = [
            '/h5/../outside.txt',
            '/h5/../../../../etc/passwd',
            '/h5/%2e%2e/outside.txt',
            '/h5/%2E%2E/%2e%2e/%2e%2e/etc/passwd',
            '/h5/..%2foutside.txt',
            '/h5/assets/..%2f..%2foutside.txt',
            '/h5/assets/../../outside.txt',
            '/h5/..\\outside.txt',
            '/h5/assets\\..\\..\\outside.txt',
            '/h5/%5c..%5coutside.txt',
            '/h5/' + self.outside,
            '/h5/%2f' + self.outside.lstrip('/'),
            '/h5//etc/passwd',
            '/h5/outside.txt',
            '/h5/escape/outside.txt',
            '/h5/escape/web-root/index.html',
            '/h5/index.html%00.js',
            '/h5/%00',
            '/h5/.env',
            '/h5/assets/../.env',
            # The web root's own file, reached through a prefix
            '/h5/../index.html',
            '/engineer/../h5/index.html',
            '/engineer/%2e%2e/web-root/index.html',
            ]
        for path in paths:
            for method in ['GET', 'HEAD']:
                with self.subTest(path=path, method=method):
                    status, _, body = self.request(method, path)
                    self.assertEqual(status, 404)
                    for content in [SECRET, WEB_ROOT_INDEX, CUSTOMER_INDEX]:
                        self.assertNotIn(content, body)

    def test_head(self):
        "HEAD answers the headers of GET without the body"
        status, headers, body = self.request(
            'HEAD', '/h5/assets/index-abc12345.js')
        self.assertEqual((status, body), (200, b''))
        self.assertEqual(headers['Content-Length'], str(len(SCRIPT)))
        self.assertEqual(headers['Cache-Control'], IMMUTABLE)
        status, headers, body = self.request('HEAD', '/h5/pages/order/list')
        self.assertEqual((status, body), (200, b''))
        self.assertEqual(headers['Content-Length'], str(len(CUSTOMER_INDEX)))
        self.assertEqual(headers['Cache-Control'], 'no-cache')

    def test_other_methods(self):
        "Only GET and HEAD: the rest is refused, even shaped as JSON-RPC"
        for method, path in [('POST', '/h5/'), ('POST', '/h5'),
                ('PUT', '/h5/index.html'), ('DELETE', '/h5/index.html'),
                ('POST', '/engineer/pages/task/list'),
                ('PATCH', '/engineer/assets/index-abc12345.js')]:
            with self.subTest(method=method, path=path):
                status, headers, body = self.request(method, path,
                    headers={'Content-Type': 'application/json'},
                    body=b'{"method": "common.db.list", "params": []}')
                self.assertEqual(status, 405)
                self.assertEqual(headers['Allow'], 'GET, HEAD')
                self.assertNotIn(CUSTOMER_INDEX, body)

    def test_redirect(self):
        "Without the slash, the app's relative URLs would be wrong"
        for path, location in [('/h5', '/h5/'), ('/engineer', '/engineer/'),
                ('/h5?from=share', '/h5/?from=share')]:
            with self.subTest(path=path):
                status, headers, _ = self.get(path)
                self.assertEqual(status, 301)
                self.assertEqual(headers['Location'], location)
        status, headers, body = self.request('HEAD', '/h5')
        self.assertEqual((status, headers['Location']), (301, '/h5/'))

    def test_beside_the_api_and_the_web_root(self):
        "The API and the web root (sao) answer as before"
        status, headers, body = self.get('/api/v1/order-types')
        self.assertEqual(status, 200)
        self.assertTrue(headers['Content-Type'].startswith(
                'application/json'))
        for path in ['/', '/index.html']:
            with self.subTest(path=path):
                status, _, body = self.get(path)
                self.assertEqual((status, body), (200, WEB_ROOT_INDEX))
        # Not an app's prefix, only its beginning
        status, _, body = self.get('/h5x/index.html')
        self.assertNotEqual(status, 200)
        self.assertNotIn(CUSTOMER_INDEX, body)


class WebAppsNotInstalledTestCase(WebAppsServer, unittest.TestCase):
    "No folder configured, or a folder without a build"

    @classmethod
    def setUpFolders(cls):
        cls.engineer = os.path.join(cls.directory, 'engineer')
        return {
            'instrument_service_api': {
                'customer_app': '',
                'engineer_app': cls.engineer,
                },
            }

    def test_not_configured(self):
        "An empty option serves no app: a clear 404 page"
        for path in ['/h5/', '/h5/pages/order/list', '/h5/assets/a.js']:
            with self.subTest(path=path):
                status, headers, body = self.get(path)
                self.assertEqual(status, 404)
                self.assertEqual(
                    headers['Content-Type'], 'text/html; charset=utf-8')
                self.assertIn(b'The customer app is not served', body)

    def test_built_later(self):
        """A folder without a build answers 503 until the build is there,
        then serves it without a restart"""
        for path in ['/engineer/', '/engineer/pages/task/list']:
            with self.subTest(path=path):
                status, headers, body = self.get(path)
                self.assertEqual(status, 503)
                self.assertEqual(headers['Cache-Control'], 'no-cache')
                self.assertIn(b'The engineer app is not installed', body)
        build(self.engineer, ENGINEER_INDEX)
        status, _, body = self.get('/engineer/pages/task/list')
        self.assertEqual((status, body), (200, ENGINEER_INDEX))
