# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""What an upload becomes before it is stored: recognised by its content,
images turned upright with a thumbnail, and anything else refused."""
import io
import os
import re
import warnings

from PIL import Image, ImageOps

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
SAVE_FORMATS = {
    'image/jpeg': ('JPEG', {'quality': 90}),
    'image/png': ('PNG', {}),
    'image/webp': ('WEBP', {'quality': 90}),
    }


def clean_name(name, mimetype):
    "A safe file name that ends with the extension of what the file is"
    name = os.path.basename((name or '').replace('\\', '/')).strip()
    stem = os.path.splitext(name)[0]
    stem = re.sub(r'[\x00-\x1f/\\:*?"<>|]+', '_', stem)[:100] or 'file'
    return '%s.%s' % (stem, EXTENSIONS[mimetype])


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
    # Photos from phones are stored upright, without their EXIF (GPS...)
    upright = ImageOps.exif_transpose(image)
    if mimetype == 'image/heic':
        # Mini-programs cannot display HEIC: keep a JPEG
        mimetype = 'image/jpeg'
    format_, options = SAVE_FORMATS[mimetype]
    if format_ == 'JPEG' and upright.mode not in {'RGB', 'L'}:
        upright = upright.convert('RGB')
    output = io.BytesIO()
    upright.save(output, format=format_, **options)
    thumbnail = upright.copy()
    thumbnail.thumbnail(THUMBNAIL_SIZE)
    if thumbnail.mode not in {'RGB', 'L'}:
        thumbnail = thumbnail.convert('RGB')
    thumb = io.BytesIO()
    thumbnail.save(thumb, format='JPEG', quality=80)
    return (clean_name(name, mimetype), mimetype, output.getvalue(),
        thumb.getvalue())
