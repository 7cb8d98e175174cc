# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""What an upload becomes before it is stored: recognised by its content,
photos stored as upright JPEGs of a bounded size with a thumbnail, and
anything else refused."""
import io
import os
import re
import unicodedata
import warnings

from PIL import Image, ImageOps

from trytond import config
from trytond.modules.instrument_service.filetype import (
    DOCUMENT_TYPES, EXTENSIONS, IMAGE_TYPES, sniff)

from .api import UPLOAD_MAX_SIZE, error

try:
    from pillow_heif import register_heif_opener
    register_heif_opener()
    HEIF = True
except ImportError:
    HEIF = False

# A 50-megapixel phone camera fits; a decompression bomb does not
MAX_PIXELS = 60_000_000
THUMBNAIL_SIZE = (320, 320)
# Every photo is stored as a JPEG: the mini-programs display it, whatever
# the phone sent (HEIC, PNG screenshots, WebP)
PHOTO_MAX_SIDE = 2560
PHOTO_OPTIONS = {'quality': 85, 'optimize': True, 'progressive': True}
THUMBNAIL_OPTIONS = {'quality': 80}
# Characters a stored name must not carry: control characters (Cc), the
# invisible format characters (Cf: bidi overrides and isolates that make
# "invoice\u202egpj.exe" read as "invoiceexe.jpg", zero-width spaces and
# joiners, the BOM) and the line and paragraph separators (Zl, Zp)
HIDDEN_CATEGORIES = {'Cc', 'Cf', 'Zl', 'Zp'}
MAX_STEM_LENGTH = 100


def clean_name(name, mimetype):
    "A safe file name that ends with the extension of what the file is"
    name = ''.join(c for c in name or ''
        if unicodedata.category(c) not in HIDDEN_CATEGORIES)
    name = os.path.basename(name.replace('\\', '/')).strip()
    # What precedes the extension, and no hidden file: ".png" has no name
    stem = name.rsplit('.', 1)[0].lstrip('. ')
    stem = re.sub(r'[/\\:*?"<>|]+', '_', stem)[:MAX_STEM_LENGTH].strip()
    return '%s.%s' % (stem or 'file', EXTENSIONS[mimetype])


def photo_max_side():
    "The longest side of a stored photo ([instrument_service_api])"
    side = config.getint(
        'instrument_service_api', 'photo_max_side', default=PHOTO_MAX_SIDE)
    # Never below the thumbnail, which is made from the stored photo
    return max(side, *THUMBNAIL_SIZE)


def _open_image(data):
    with warnings.catch_warnings():
        warnings.simplefilter('error', Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                raise error(422, 'image_too_large', 'msg_image_too_large')
            image.load()
        except (Image.DecompressionBombWarning,
                Image.DecompressionBombError):
            raise error(422, 'image_too_large', 'msg_image_too_large')
        except (OSError, ValueError, SyntaxError):
            raise error(422, 'corrupt_file', 'msg_corrupt_file')
    return image


def prepare(name, data, images_only=False):
    """Return (name, mimetype, data, thumbnail) of an upload, or raise the
    API error that says why it is refused"""
    if not data:
        raise error(422, 'empty_file', 'msg_empty_file')
    if len(data) > UPLOAD_MAX_SIZE:
        raise error(413, 'file_too_large', 'msg_request_too_large',
            size=UPLOAD_MAX_SIZE // (1024 * 1024))
    mimetype = sniff(data)
    allowed = IMAGE_TYPES if images_only else IMAGE_TYPES | DOCUMENT_TYPES
    if mimetype not in allowed:
        raise error(415, 'unsupported_file_type',
            'msg_photo_type' if images_only else 'msg_file_type')
    if mimetype in DOCUMENT_TYPES:
        return clean_name(name, mimetype), mimetype, data, None
    if mimetype == 'image/heic' and not HEIF:
        raise error(415, 'unsupported_file_type', 'msg_photo_type')
    image = _open_image(data)
    photo = _photo(image)
    output = io.BytesIO()
    photo.save(output, format='JPEG', **PHOTO_OPTIONS,
        icc_profile=_rgb_profile(image))
    thumbnail = photo.copy()
    thumbnail.thumbnail(THUMBNAIL_SIZE)
    thumb = io.BytesIO()
    thumbnail.save(thumb, format='JPEG', **THUMBNAIL_OPTIONS)
    return (clean_name(name, 'image/jpeg'), 'image/jpeg', output.getvalue(),
        thumb.getvalue())


def _photo(image):
    """The image as it is stored: upright (photos from phones carry their
    orientation in EXIF), its transparency flattened onto white, RGB or
    grey, its longest side at most photo_max_side, without the metadata of
    the upload (EXIF with GPS, comments...)"""
    photo = ImageOps.exif_transpose(image)
    if photo.mode in {'RGBA', 'LA', 'PA', 'RGBa', 'La'} \
            or 'transparency' in photo.info:
        photo = photo.convert('RGBA')
        white = Image.new('RGB', photo.size, (255, 255, 255))
        white.paste(photo, mask=photo.getchannel('A'))
        photo = white
    elif photo.mode.startswith('I'):
        # 16-bit grey (PNG): scaled to 8 bits, as converting would clip it
        photo = photo.convert('I').point(lambda v: v / 256).convert('L')
    elif photo.mode not in {'RGB', 'L'}:
        photo = photo.convert('RGB')
    side = photo_max_side()
    if max(photo.size) > side:
        photo.thumbnail((side, side), Image.Resampling.LANCZOS)
    photo.info = {}
    return photo


def _rgb_profile(image):
    # The colour profile says how to read the colours (the Display P3 of
    # phones): kept when the photo keeps the colour space it describes
    if image.mode in {'RGB', 'RGBA'}:
        return image.info.get('icc_profile')


def read_upload(request, images_only=False):
    """The (name, mimetype, data, thumbnail) of the file of a multipart
    upload (its field `file`), or the API error that says why it is
    refused"""
    upload = request.files.get('file')
    if upload is None:
        raise error(422, 'invalid_field', 'msg_file_missing',
            fields={'file': 'required'})
    return prepare(upload.filename, upload.read(UPLOAD_MAX_SIZE + 1),
        images_only=images_only)
