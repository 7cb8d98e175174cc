# This file is part of the instrument service platform.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""Tryton's files in S3-compatible object storage.

trytond keeps the content of Binary fields with a file_id (attachments,
photos and their thumbnails, documents, reports) in its filestore, a folder
under [database] path by default. [database] class replaces it with another
FileStore class; this one keeps the files in a bucket of an S3-compatible
object storage (Aliyun OSS, Tencent COS, MinIO, AWS S3), so that several
application servers share them:

    [database]
    class = instrument_service_filestore.S3FileStore

    [s3]
    bucket = instrument-service-files
    endpoint = https://s3.oss-cn-hangzhou.aliyuncs.com
    region = cn-hangzhou
    # addressing_style = auto (virtual or path)
    # signature_version = s3v4
    # key_prefix =
    # access_key and secret_key: TRYTOND_S3__ACCESS_KEY and
    # TRYTOND_S3__SECRET_KEY, or boto3's own chain (AWS_ACCESS_KEY_ID...)

An object's key is the path of the file in the local filestore, relative to
[database] path: <prefix>/<id[0:2]>/<id[2:4]>/<id>, where the prefix is the
database's name (or the field's store_prefix), under [s3] key_prefix when
set. A local filestore is therefore moved to a bucket by copying its folder
as it is (ossutil cp -r, coscli sync, aws s3 sync, mc mirror).

Why not tryton-filestore-s3 (0.2.1) or tryton-filestore-minio (0.2.3) from
PyPI: neither removes files. trytond 8.0 removes the files of deleted
records through FileStore.delete_many (the job ir.filestore.queue|remove),
which they inherit from the local FileStore: their ids (uuid4().hex, without
a dash) are the ones it keeps on purpose, so the objects of every deleted
upload would stay in the bucket for ever. Besides, tryton-filestore-s3 makes
a new boto3 client at every call (boto3's default session is not
thread-safe) and raises botocore's ClientError for a missing object where
Tryton's callers expect an OSError; tryton-filestore-minio answers an empty
file for a missing object and joins prefix and id without a separator.
Neither lets the addressing style, the signature or the checksums be set,
which S3-compatible stores such as OSS and COS may need."""
import os
import threading

from trytond import config
from trytond.filestore import FileStore

__all__ = ['S3FileStore']

SECTION = 's3'
# The error codes of a missing object: GetObject's, then HeadObject's (a
# HEAD answer has no body, so only its status)
MISSING = {'NoSuchKey', 'NotFound', '404'}


def _option(name, default=None):
    value = config.get(SECTION, name, default=default)
    return value if value not in {None, ''} else default


def make_client():
    "A boto3 S3 client configured by [s3]"
    import boto3
    from botocore.config import Config
    s3 = {}
    if _option('addressing_style'):
        s3['addressing_style'] = _option('addressing_style')
    settings = Config(
        region_name=_option('region'),
        signature_version=_option('signature_version', 's3v4'),
        s3=s3 or None,
        # boto3 >= 1.36 sends CRC checksums (in aws-chunked trailers for
        # streams) by default, which several S3-compatible stores refuse:
        # only where the operation requires one
        request_checksum_calculation=_option(
            'request_checksum_calculation', 'when_required'),
        response_checksum_validation=_option(
            'response_checksum_validation', 'when_required'),
        connect_timeout=float(_option('connect_timeout', 5)),
        read_timeout=float(_option('read_timeout', 60)),
        retries={'mode': 'standard',
            'max_attempts': int(_option('max_attempts', 3))},
        # One connection for each of the server's threads at once
        max_pool_connections=int(_option('max_pool_connections', 32)),
        )
    # A session of its own: boto3's default session is not thread-safe
    session = boto3.session.Session(
        aws_access_key_id=_option('access_key'),
        aws_secret_access_key=_option('secret_key'),
        aws_session_token=_option('session_token'))
    return session.client('s3', endpoint_url=_option('endpoint'),
        config=settings)


def _is_missing(error):
    from botocore.exceptions import ClientError
    return (isinstance(error, ClientError)
        and str(error.response.get('Error', {}).get('Code')) in MISSING)


class S3FileStore(FileStore):
    "Tryton's FileStore on an S3 bucket ([s3] section of the configuration)"

    def __init__(self):
        super().__init__()
        self._lock = threading.Lock()
        self._client = None
        self._pid = None

    @property
    def client(self):
        """The client of this process, made at its first use (a client made
        before a fork, as gunicorn's, is not used by the children)"""
        pid = os.getpid()
        if self._client is None or self._pid != pid:
            with self._lock:
                if self._client is None or self._pid != pid:
                    self._client = make_client()
                    self._pid = pid
        return self._client

    @property
    def bucket(self):
        bucket = _option('bucket')
        if not bucket:
            raise ValueError("[s3] bucket is not configured")
        return bucket

    def root(self, prefix=''):
        "The folder of the prefix's files: [s3] key_prefix/prefix"
        parts = [p.strip('/')
            for p in [_option('key_prefix', ''), prefix or '']
            if p and p.strip('/')]
        if any(p in {'', '.', '..'} for part in parts
                for p in part.split('/')):
            raise ValueError('Bad prefix')
        return '/'.join(parts)

    def key(self, id, prefix=''):
        "The key of a file, as its path in the local filestore"
        if not id or '/' in id or id in {'.', '..'}:
            raise ValueError('Bad file id')
        return '/'.join(filter(None,
                [self.root(prefix), id[0:2], id[2:4], id]))

    def get(self, id, prefix=''):
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=self.key(id, prefix))
        except Exception as error:
            if _is_missing(error):
                raise FileNotFoundError(self.key(id, prefix)) from error
            raise
        with response['Body'] as body:
            return body.read()

    def size(self, id, prefix=''):
        try:
            response = self.client.head_object(
                Bucket=self.bucket, Key=self.key(id, prefix))
        except Exception as error:
            if _is_missing(error):
                raise FileNotFoundError(self.key(id, prefix)) from error
            raise
        return response['ContentLength']

    def set(self, data, prefix=''):
        id = self._id(data)
        self.client.put_object(
            Bucket=self.bucket, Key=self.key(id, prefix), Body=bytes(data))
        return id

    def delete(self, id, prefix=''):
        # Removing a missing object succeeds: S3's DeleteObject does not
        # tell. One object a request: DeleteObjects needs a Content-MD5 that
        # recent boto3 replaced by a CRC some S3-compatible stores refuse
        self.client.delete_object(
            Bucket=self.bucket, Key=self.key(id, prefix))

    def delete_many(self, ids, prefix=''):
        for id_ in ids:
            self.delete(id_, prefix)

    def list(self, prefix=''):
        """The files stored under prefix: (id, last modified, an aware
        datetime), for the cleanup of files nothing references"""
        root = self.root(prefix)
        root = root + '/' if root else ''
        paginator = self.client.get_paginator('list_objects_v2')
        for page in paginator.paginate(Bucket=self.bucket, Prefix=root):
            for item in page.get('Contents', []):
                parts = item['Key'][len(root):].split('/')
                if (len(parts) == 3 and parts[0] == parts[2][0:2]
                        and parts[1] == parts[2][2:4]):
                    yield parts[2], item['LastModified']

    @property
    def path(self):
        raise AttributeError("S3FileStore has no local path")

    def _filename(self, id, prefix):
        raise NotImplementedError("S3FileStore has no local files")
