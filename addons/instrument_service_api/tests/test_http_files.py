# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""What an upload is stored as: every photo a JPEG, upright, flattened onto
white, of a bounded size, with its thumbnail; every name without the
invisible characters that disguise it."""
import io
import unicodedata
import unittest
import uuid
from urllib.parse import quote, unquote

from PIL import Image, ImageDraw

from .server import ServerTestCase, image, pdf

CONTACT = {'name': '孙八', 'company': '丁方制药', 'phone': '13500009999'}
LINE = {'instrument_name': '紫外分光光度计', 'brand': 'Hitachi',
    'fault_description': '光源不亮', 'quantity': 1}
RED = (200, 40, 40)
ORIENTATION = 0x0112


def encode(picture, format_, **options):
    output = io.BytesIO()
    picture.save(output, format=format_, **options)
    return output.getvalue()


def transparent_png(size=(800, 600)):
    "A PNG whose left half is transparent and right half opaque red"
    picture = Image.new('RGBA', size, RED + (255,))
    ImageDraw.Draw(picture).rectangle(
        [0, 0, size[0] // 2 - 1, size[1]], fill=(0, 0, 0, 0))
    return encode(picture, 'PNG')


def heic(size=(640, 480)):
    from pillow_heif import register_heif_opener
    register_heif_opener()
    return encode(Image.new('RGB', size, RED), 'HEIF')


def noisy_jpeg(size=(4000, 3000)):
    "A big camera-like JPEG: noise does not compress"
    noise = Image.effect_noise(size, 40)
    picture = Image.merge('RGB', [noise, noise.rotate(180), noise])
    return encode(picture, 'JPEG', quality=85)


def near(pixel, colour, tolerance=12):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour))


def named_upload(name, content):
    """A multipart body of one file named name as phones send it: UTF-8 in
    filename, or RFC 5987 filename* for what a quoted string cannot hold"""
    boundary = uuid.uuid4().hex
    if '\n' in name or '\r' in name:
        disposition = "filename*=UTF-8''%s" % quote(name)
    else:
        disposition = 'filename="%s"' % name
    payload = b''.join([
            b'--', boundary.encode(), b'\r\n',
            ('Content-Disposition: form-data; name="file"; %s\r\n'
                % disposition).encode(),
            b'Content-Type: application/octet-stream\r\n\r\n',
            content, b'\r\n--', boundary.encode(), b'--\r\n'])
    return payload, 'multipart/form-data; boundary=%s' % boundary


class StoredFilesTestCase(ServerTestCase):
    "Uploads of customers and engineers, downloaded as they were stored"
    server_options = {'engineers': 1}

    @classmethod
    def build(cls):
        cls.customer = cls.server.customer()
        cls.engineer = cls.server.engineer(0)
        cls.task = cls.accepted_order()

    @classmethod
    def accepted_order(cls):
        "An order of the engineer, who may add photos to it"
        server = cls.server
        status, body = server.call('POST', '/orders', {
                'type': 'repair', 'contact': CONTACT, 'lines': [LINE]},
            cls.customer, headers={'Idempotency-Key': uuid.uuid4().hex})
        assert status == 201, body
        status, answer = server.call('POST',
            '/engineer/inbox/%s/accept' % body['id'], None, cls.engineer)
        assert status == 200, answer
        return body['id']

    def uploaders(self):
        "Both ways a photo is uploaded: (path, token)"
        return [('/files', self.customer),
            ('/engineer/tasks/%s/files' % self.task, self.engineer)]

    def download(self, path, token):
        status, headers, content = self.server.request('GET', path,
            token=token)
        self.assertEqual(status, 200, content[:300])
        return headers, content

    def stored_photo(self, path, token, name, content):
        """Upload the photo, check it is stored and served as a JPEG with
        its thumbnail; return the stored image"""
        status, body = self.server.upload(path, name, content, token)
        self.assertEqual(status, 201, body)
        self.assertEqual(body['mimetype'], 'image/jpeg')
        self.assertTrue(body['name'].endswith('.jpg'), body['name'])
        headers, data = self.download('/files/%s' % body['id'], token)
        self.assertEqual(headers['Content-Type'], 'image/jpeg')
        self.assertEqual(body['size'], len(data))
        stored = Image.open(io.BytesIO(data))
        self.assertEqual(stored.format, 'JPEG')
        self.assertTrue(stored.info.get('progressive'))
        # No EXIF kept: no orientation to apply twice, no GPS
        self.assertEqual(dict(stored.getexif()), {})
        self.assertEqual(body['thumbnail_url'],
            '/api/v1/files/%s/thumbnail' % body['id'])
        headers, thumb = self.download(
            '/files/%s/thumbnail' % body['id'], token)
        self.assertEqual(headers['Content-Type'], 'image/jpeg')
        thumbnail = Image.open(io.BytesIO(thumb))
        self.assertEqual(thumbnail.format, 'JPEG')
        self.assertEqual(max(thumbnail.size), 320)
        self.assertAlmostEqual(thumbnail.width / thumbnail.height,
            stored.width / stored.height, delta=0.02)
        stored.load()
        stored.bytes = len(data)
        return stored

    def test_png_with_transparency(self):
        "The transparent part of a PNG becomes white, the rest stays"
        for path, token in self.uploaders():
            with self.subTest(path=path):
                stored = self.stored_photo(path, token, '截图.png',
                    transparent_png())
                self.assertEqual(stored.size, (800, 600))
                self.assertEqual(stored.mode, 'RGB')
                for point in [(10, 10), (200, 300), (390, 590)]:
                    self.assertTrue(near(stored.getpixel(point),
                            (255, 255, 255)), stored.getpixel(point))
                for point in [(410, 10), (790, 590)]:
                    self.assertTrue(near(stored.getpixel(point), RED),
                        stored.getpixel(point))

    def test_webp_and_heic(self):
        "WebP and HEIC photos are stored as JPEGs of the same picture"
        photos = [('photo.webp', encode(Image.new('RGB', (640, 480), RED),
                    'WEBP', quality=90)),
            ('IMG_0001.HEIC', heic())]
        for path, token in self.uploaders():
            for name, content in photos:
                with self.subTest(path=path, name=name):
                    stored = self.stored_photo(path, token, name, content)
                    self.assertEqual(stored.size, (640, 480))
                    self.assertTrue(near(stored.getpixel((320, 240)), RED,
                            tolerance=20), stored.getpixel((320, 240)))

    def test_rotated_jpeg_stored_upright(self):
        "The EXIF orientation is applied to the pixels, then dropped"
        # image() draws a black corner at the top left; orientation 6 says
        # "turn 90 degrees clockwise to show": the corner goes top right
        for path, token in self.uploaders():
            with self.subTest(path=path):
                stored = self.stored_photo(path, token, 'IMG_0002.JPG',
                    image('JPEG', (640, 480), RED, orientation=6))
                self.assertEqual(stored.size, (480, 640))
                self.assertNotIn(ORIENTATION, stored.getexif())
                self.assertTrue(near(stored.getpixel((470, 10)), (0, 0, 0)),
                    stored.getpixel((470, 10)))
                self.assertTrue(near(stored.getpixel((10, 10)), RED),
                    stored.getpixel((10, 10)))

    def test_large_photo_shrunk(self):
        "A photo larger than photo_max_side (2560) is scaled down to it"
        content = noisy_jpeg()
        self.assertGreater(len(content), 3 * 1024 * 1024)
        for path, token in self.uploaders():
            with self.subTest(path=path):
                stored = self.stored_photo(path, token, 'DSC_0001.jpg',
                    content)
                self.assertEqual(stored.size, (2560, 1920))
                self.assertLess(stored.bytes, len(content) * 0.7)

    def test_documents_kept(self):
        "A document is stored as it came, without a thumbnail"
        content = pdf('报价')
        status, body = self.server.upload('/files', '报价单.pdf', content,
            self.customer)
        self.assertEqual(status, 201, body)
        self.assertEqual((body['mimetype'], body['name'],
                body['thumbnail_url']),
            ('application/pdf', '报价单.pdf', None))
        headers, data = self.download('/files/%s' % body['id'],
            self.customer)
        self.assertEqual(headers['Content-Type'], 'application/pdf')
        self.assertEqual(data, content)

    def test_names_without_invisible_characters(self):
        """Bidi overrides, zero-width and control characters are taken out
        of the stored name: what the name shows is what the file is"""
        photo, document = image('JPEG'), pdf()
        cases = [
            # Right-to-left override: shows as "invoiceexe.jpg"
            ('invoice\u202egpj.exe', photo, 'invoicegpj.jpg'),
            # Right-to-left isolate and its pop
            ('\u2067报价单\u2069.pdf', document, '报价单.pdf'),
            ('IMG\u200b_0001.jpg', photo, 'IMG_0001.jpg'),
            ('\ufeffscan.pdf', document, 'scan.pdf'),
            ('line1\nline2.pdf', document, 'line1line2.pdf'),
            ('a\u2028b\u2029c.pdf', document, 'abc.pdf'),
            # Chinese names stay as they are, less the zero-width joiner
            ('设备\u200d照片（第2版）.jpg', photo, '设备照片（第2版）.jpg'),
            ('现场照片.jpg', photo, '现场照片.jpg'),
            # Nothing left of the name
            ('\u202e\u200b.jpg', photo, 'file.jpg'),
            # The length limit counts characters, after the cleaning
            ('\u200b' * 10 + '仪' * 120 + '.pdf', document,
                '仪' * 100 + '.pdf'),
            ]
        for name, content, expected in cases:
            with self.subTest(name=name):
                payload, content_type = named_upload(name, content)
                status, body = self.server.call('POST', '/files',
                    raw=payload, content_type=content_type,
                    token=self.customer)
                self.assertEqual(status, 201, body)
                self.assertEqual(body['name'], expected)
                headers, _ = self.download('/files/%s' % body['id'],
                    self.customer)
                disposition = headers['Content-Disposition']
                self.assertEqual(disposition,
                    "attachment; filename*=UTF-8''%s" % quote(expected))
                served = unquote(disposition.split("''", 1)[1])
                self.assertEqual(served, expected)
                self.assertFalse([c for c in served
                        if unicodedata.category(c)[0] in 'CZ' and c != ' '])


class PhotoSizeTestCase(unittest.TestCase):
    "[instrument_service_api] photo_max_side bounds the stored photos"

    def setUp(self):
        from trytond import config
        from trytond.modules.instrument_service_api import files
        self.config = config
        if not config.has_section('instrument_service_api'):
            config.add_section('instrument_service_api')
        previous = config.get('instrument_service_api', 'photo_max_side',
            default=str(files.PHOTO_MAX_SIDE))
        self.addCleanup(config.set, 'instrument_service_api',
            'photo_max_side', previous)

    def prepare(self, content):
        from trytond.modules.instrument_service_api.files import prepare
        name, mimetype, data, thumbnail = prepare('p.png', content)
        return Image.open(io.BytesIO(data))

    def test_photo_max_side(self):
        content = encode(Image.new('RGB', (1600, 900), RED), 'PNG')
        self.config.set('instrument_service_api', 'photo_max_side', '1000')
        self.assertEqual(self.prepare(content).size, (1000, 563))
        # A smaller photo keeps its size
        self.config.set('instrument_service_api', 'photo_max_side', '2000')
        self.assertEqual(self.prepare(content).size, (1600, 900))
        # Never smaller than a thumbnail
        self.config.set('instrument_service_api', 'photo_max_side', '0')
        self.assertEqual(self.prepare(content).size, (320, 180))
