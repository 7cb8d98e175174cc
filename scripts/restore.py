#!/usr/bin/env python3
"""Restore a backup of scripts/backup.py into a new database.

    python scripts/restore.py BACKUP NEW_DATABASE [--filestore PATH] [--force]

BACKUP is the folder or the .tar that scripts/backup.py wrote. First every
file of its manifest is checked (present, same size, same sha256, the dump
too): a missing or corrupt file stops the restore, before anything is
made, with the list of what is wrong and exit status 1. Then the database
NEW_DATABASE is created on the server of the production configuration
(scripts/production/settings.py: TRYTOND_DATABASE__URI...) and the dump
restored into it (pg_restore, one transaction: all or nothing), and the
files are copied to PATH/NEW_DATABASE/ (PATH: --filestore, by default
[database] path, TRYTOND_DATABASE__PATH), where trytond looks for the files
of NEW_DATABASE.

An existing database (or a filestore folder with files) of that name is
never replaced unless --force is given. To serve the restored database, set
TRYTOND_INSTRUMENT_SERVICE_API__DATABASE=NEW_DATABASE and start the
processes again (after `scripts/production/run.py init` if the code is
newer than the backup's).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

sys.path.insert(0, str(Path(__file__).resolve().parent / 'production'))
from settings import (  # noqa: E402
    ConfigurationError, Settings, digest, libpq_environment, mask_uri)



class Damaged(Exception):
    "The backup is incomplete or corrupt: its message lists why"


def fail(message):
    print('restore: error: %s' % message, file=sys.stderr, flush=True)
    sys.exit(1)


def log(message):
    print('restore: %s' % message, file=sys.stderr, flush=True)




def safe(relative):
    "relative, a path of the manifest, if it stays inside the backup"
    path = PurePosixPath(relative)
    if (not relative or path.is_absolute()
            or any(part in {'', '.', '..'} for part in path.parts)):
        raise Damaged('the manifest names a file outside the backup: %r'
            % relative)
    return path


def verify(folder):
    """Check the backup in folder against its manifest; return the
    manifest, or raise Damaged listing every problem"""
    manifest_path = folder / 'manifest.json'
    if not manifest_path.is_file():
        raise Damaged('no manifest.json in %s: not a backup of '
            'scripts/backup.py, or an incomplete one' % folder)
    try:
        with open(manifest_path, encoding='utf-8') as file:
            manifest = json.load(file)
        entries = [('dump', manifest['dump'])] + [
            ('file', f) for f in manifest['files']]
        for _, entry in entries:
            entry['path'], entry['sha256'], int(entry['size'])
    except (ValueError, KeyError, TypeError) as error:
        raise Damaged('manifest.json of %s is not readable: %s' % (
                folder, error))
    problems = []
    for kind, entry in entries:
        relative = entry['path'] if kind == 'dump' else (
            'files/' + entry['path'])
        path = folder / safe(relative)
        if not path.is_file():
            problems.append('missing %s: %s' % (kind, relative))
            continue
        sha, size = digest(path)
        if size != int(entry['size']):
            problems.append('corrupt %s: %s (%d bytes, the manifest says '
                '%d)' % (kind, relative, size, int(entry['size'])))
        elif sha != entry['sha256']:
            problems.append('corrupt %s: %s (sha256 %s, the manifest says '
                '%s)' % (kind, relative, sha, entry['sha256']))
    if problems:
        raise Damaged('the backup %s is damaged, nothing was restored:\n  %s'
            % (folder, '\n  '.join(problems)))
    return manifest


def unpack(archive, directory):
    "Extract the .tar archive into directory, refusing unsafe members"
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            safe(member.name)
            if not (member.isfile() or member.isdir()):
                raise Damaged('%s holds a link or device: %s' % (
                        archive, member.name))
        tar.extractall(directory, filter='data')
    return Path(directory)


def postgres(settings):
    import psycopg
    conninfo, env = libpq_environment(settings.uri, 'postgres')
    return psycopg.connect(conninfo, password=env.get('PGPASSWORD'),
        autocommit=True)


def database_exists(settings, name):
    with postgres(settings) as connection:
        return connection.execute('SELECT 1 FROM pg_database '
            'WHERE datname = %s', (name,)).fetchone() is not None


def drop_database(settings, name):
    from psycopg import sql
    with postgres(settings) as connection:
        connection.execute(sql.SQL('DROP DATABASE IF EXISTS {} WITH (FORCE)'
                ).format(sql.Identifier(name)))


def create_database(settings, name):
    from psycopg import sql
    with postgres(settings) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 "
                "ENCODING 'unicode'").format(sql.Identifier(name)))


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0])
    parser.add_argument('backup', help="the folder or .tar of the backup")
    parser.add_argument('database', help="the name of the new database")
    parser.add_argument('--filestore',
        help="the filestore root; the files go to FILESTORE/DATABASE/ "
        "(default: [database] path)")
    parser.add_argument('--force', action='store_true',
        help="replace an existing database and its files")
    options = parser.parse_args(argv)
    backup = Path(options.backup)
    if not backup.exists():
        fail('no backup at %s' % backup)
    try:
        settings = Settings()
    except ConfigurationError as error:
        fail(str(error))
    name = options.database
    if not name or '/' in name or name.startswith('.'):
        fail('invalid database name: %r' % name)

    with tempfile.TemporaryDirectory(prefix='instrument-restore-') as tmp:
        try:
            folder = backup if backup.is_dir() else unpack(backup, tmp)
            log('verifying %s' % backup)
            manifest = verify(folder)
        except (Damaged, tarfile.TarError) as error:
            fail(str(error))
        log('backup of database "%s" made %s: trytond %s, %d files, all '
            'checksums match' % (manifest.get('database'),
                manifest.get('created'), manifest.get('trytond_version'),
                len(manifest['files'])))

        if settings.backend != 'postgresql':
            fail('backups restore into PostgreSQL; [database] uri is %s'
                % mask_uri(settings.uri))
        if not shutil.which('pg_restore'):
            fail('pg_restore is not installed (Debian: apt-get install '
                'postgresql-client)')
        filestore = Path(options.filestore).resolve() if options.filestore \
            else settings.filestore
        target = filestore / name
        exists = database_exists(settings, name)
        has_files = target.is_dir() and any(target.iterdir())
        if (exists or has_files) and not options.force:
            fail('%s: restore into a new database, or give --force to '
                'replace it' % ' and '.join(filter(None, [
                        exists and 'database "%s" exists' % name,
                        has_files and 'the filestore %s has files' % target,
                        ])))
        if exists:
            log('dropping the existing database "%s" (--force)' % name)
            drop_database(settings, name)
        if target.exists():
            shutil.rmtree(target)

        log('creating database "%s" on %s' % (name, mask_uri(settings.uri)))
        create_database(settings, name)
        conninfo, pg_env = libpq_environment(settings.uri, name)
        result = subprocess.run(['pg_restore', '--no-owner',
                '--no-privileges', '--exit-on-error', '--single-transaction',
                '--dbname', conninfo, str(folder / manifest['dump']['path'])],
            env={**os.environ, **pg_env}, stdin=subprocess.DEVNULL,
            capture_output=True, text=True)
        if result.returncode:
            drop_database(settings, name)
            fail('pg_restore failed, database "%s" removed: %s' % (
                    name, result.stderr.strip()))

        log('copying %d files to %s' % (len(manifest['files']), target))
        target.mkdir(parents=True)
        try:
            for entry in manifest['files']:
                relative = safe(entry['path'])
                destination = target / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(folder / 'files' / relative, destination)
                if digest(destination)[0] != entry['sha256']:
                    raise OSError('%s differs from the backup after the copy'
                        % destination)
        except OSError as error:
            drop_database(settings, name)
            shutil.rmtree(target, ignore_errors=True)
            fail('copying the files failed, database "%s" removed: %s' % (
                    name, error))
    log('restored database "%s" as "%s" with %d files in %s' % (
            manifest.get('database'), name, len(manifest['files']), target))
    return 0


if __name__ == '__main__':
    sys.exit(main())
