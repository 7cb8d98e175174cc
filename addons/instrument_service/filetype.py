# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""Recognise uploaded files by their content, never by their name."""
import io
import zipfile

IMAGE_TYPES = {'image/jpeg', 'image/png', 'image/webp', 'image/heic'}
DOCUMENT_TYPES = {
    'application/pdf',
    'application/msword',
    'application/vnd.ms-excel',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    }
EXTENSIONS = {
    'image/jpeg': 'jpg',
    'image/png': 'png',
    'image/webp': 'webp',
    'image/heic': 'heic',
    'application/pdf': 'pdf',
    'application/msword': 'doc',
    'application/vnd.ms-excel': 'xls',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document':
        'docx',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet':
        'xlsx',
    }
_HEIF_BRANDS = {b'heic', b'heix', b'heim', b'heis', b'hevc', b'hevx', b'mif1',
    b'msf1'}
_OLE2 = b'\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1'


def _ole2_type(data):
    # Word and Excel 97-2003 files are OLE2 containers; their stream names
    # are stored in UTF-16 in the directory
    if 'WordDocument'.encode('utf-16-le') in data:
        return 'application/msword'
    if 'Workbook'.encode('utf-16-le') in data or \
            'Book'.encode('utf-16-le') in data:
        return 'application/vnd.ms-excel'


def _ooxml_type(data):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return None
    if '[Content_Types].xml' not in names:
        return None
    if any(n.startswith('word/') for n in names):
        return (
            'application/vnd.openxmlformats-officedocument.'
            'wordprocessingml.document')
    if any(n.startswith('xl/') for n in names):
        return ('application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet')


def sniff(data):
    "Return the MIME type of data when it is a file type we accept, or None"
    if not data:
        return None
    data = bytes(data)
    head = data[:32]
    if head.startswith(b'\xff\xd8\xff'):
        return 'image/jpeg'
    if head.startswith(b'\x89PNG\r\n\x1a\n'):
        return 'image/png'
    if head[:4] == b'RIFF' and head[8:12] == b'WEBP':
        return 'image/webp'
    if head[4:8] == b'ftyp' and head[8:12] in _HEIF_BRANDS:
        return 'image/heic'
    if head.startswith(b'%PDF-'):
        return 'application/pdf'
    if head.startswith(_OLE2):
        return _ole2_type(data)
    if head.startswith(b'PK\x03\x04'):
        return _ooxml_type(data)
    return None
