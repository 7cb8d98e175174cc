#!/usr/bin/env python3
"""Back up the database and its files together, in one command.

    python scripts/backup.py [--output backups] [--database NAME] [--tar]

Writes backups/NAME-YYYYMMDDTHHMMSSZ/ (or that .tar with --tar):
  database.dump   pg_dump of the database, custom format (pg_restore's)
  files/          the filestore files of the database (photos, documents,
                  reports, thumbnails), by their path under [database] path/NAME/
  manifest.json   the time, the database, trytond's version and series, the
                  modules of ir_module (name, state) and the version of
                  this code, every file's path, sha256 and size, the dump's
                  sha256 and size
scripts/restore.py verifies it and restores it into a new database.

The database, server and filestore are those of the production processes
(scripts/production/settings.py): config/trytond-postgresql.conf (or
TRYTOND_CONFIG_FILES) with the environment winning, e.g.
TRYTOND_DATABASE__URI, TRYTOND_DATABASE__PATH,
TRYTOND_INSTRUMENT_SERVICE_API__DATABASE. The service may keep running:
the dump is one consistent snapshot and the files are copied after it, so
every file the snapshot refers to is there (a file is never changed in
place, and removed only long after no record refers to it; a file the
database refers to but that is missing fails the backup). Files in
object storage ([database] class): --database-only, and back the bucket
up by its own means. The backup is written as NAME...partial and renamed
when complete, so an interrupted backup never looks like one.

Off-site: copy the folder (or .tar) elsewhere, e.g. from a cron job:
    0 3 * * *  cd /srv/instrument && .venv/bin/python scripts/backup.py --tar \\
        && rsync -a backups/ backup-host:instrument/
Exit status 0 when the backup is complete, 1 with a message otherwise.
"""
import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / 'production'))
from settings import (  # noqa: E402
    ROOT, ConfigurationError, Settings, digest, libpq_environment, mask_uri)

FORMAT = 1


def fail(message):
    print('backup: error: %s' % message, file=sys.stderr, flush=True)
    sys.exit(1)


def log(message):
    print('backup: %s' % message, file=sys.stderr, flush=True)




def project_version():
    try:
        from importlib.metadata import version
        return version('instrument-service-platform')
    except Exception:
        return None


def database_facts(uri, database):
    """The modules (ir_module), the series of the database and the file
    ids it refers to (every file_id column, and ir_attachment's
    thumbnail_id)"""
    import psycopg
    conninfo, env = libpq_environment(uri, database)
    with psycopg.connect(conninfo, password=env.get('PGPASSWORD'),
            autocommit=True) as connection:
        modules = [{'name': name, 'state': state} for name, state in
            connection.execute(
                'SELECT name, state FROM ir_module ORDER BY name')]
        series = connection.execute(
            'SELECT series FROM ir_configuration ORDER BY id LIMIT 1'
            ).fetchone()
        columns = connection.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND ("
            "column_name = 'file_id' OR (table_name = 'ir_attachment' "
            "AND column_name = 'thumbnail_id')) "
            "AND table_name != 'ir_filestore_queue'").fetchall()
        referenced = set()
        for table, column in columns:
            referenced.update(row[0] for row in connection.execute(
                    'SELECT DISTINCT "%s" FROM "%s" WHERE "%s" IS NOT NULL'
                    % (column, table, column)))
    return modules, series[0] if series else None, referenced


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0])
    parser.add_argument('--output', default=str(ROOT / 'backups'),
        help="the folder of the backups (default backups/)")
    parser.add_argument('--database',
        help="the database (default: the one the service serves)")
    parser.add_argument('--tar', action='store_true',
        help="one .tar file instead of a folder")
    parser.add_argument('--database-only', action='store_true',
        help="leave the files out (they are in object storage, backed up "
        "by its own means)")
    options = parser.parse_args(argv)
    try:
        settings = Settings()
        database = options.database or settings.database
    except ConfigurationError as error:
        fail(str(error))
    if settings.backend != 'postgresql':
        fail('backups are of PostgreSQL databases; [database] uri is %s'
            % mask_uri(settings.uri))
    store = settings.get('database', 'class')
    if store and not options.database_only:
        fail('the files are in another file store ([database] class = %s), '
            'not in a folder this script can copy: back them up with the '
            "storage's own means (bucket versioning, replication) and give "
            '--database-only' % store)
    for tool in ['pg_dump']:
        if not shutil.which(tool):
            fail('%s is not installed (Debian: apt-get install '
                'postgresql-client)' % tool)
    import trytond
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    name = '%s-%s' % (database, now.strftime('%Y%m%dT%H%M%SZ'))
    output = Path(options.output).resolve()
    final = output / (name + ('.tar' if options.tar else ''))
    if final.exists():
        fail('%s exists already' % final)
    work = output / (name + '.partial')
    shutil.rmtree(work, ignore_errors=True)
    (work / 'files').mkdir(parents=True)
    try:
        conninfo, pg_env = libpq_environment(settings.uri, database)
        log('dumping database "%s" of %s' % (
                database, mask_uri(settings.uri)))
        result = subprocess.run(['pg_dump', '--format=custom',
                '--file', str(work / 'database.dump'), '--dbname', conninfo],
            env={**os.environ, **pg_env}, stdin=subprocess.DEVNULL,
            capture_output=True, text=True)
        if result.returncode:
            fail('pg_dump failed: %s' % result.stderr.strip())
        dump_sha, dump_size = digest(work / 'database.dump')
        # After the dump: every file it refers to exists by now
        modules, series, referenced = database_facts(settings.uri, database)

        source = settings.filestore / database
        files = []
        if source.is_dir() and not options.database_only:
            for path in sorted(source.rglob('*')):
                if path.is_symlink() or not path.is_file():
                    continue
                relative = path.relative_to(source).as_posix()
                target = work / 'files' / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
                sha, size = digest(target)
                files.append({'path': relative, 'sha256': sha, 'size': size})
        names = {Path(f['path']).name for f in files}
        missing = sorted(referenced - names)
        if missing and not options.database_only:
            fail('%d file(s) the database refers to are not in the '
                'filestore %s: %s' % (len(missing), source,
                    ', '.join(missing[:10])))
        manifest = {
            'format': FORMAT,
            'created': now.isoformat(),
            'database': database,
            'trytond_version': trytond.__version__,
            'series': series,
            'platform_version': project_version(),
            'database_only': options.database_only,
            'modules': modules,
            'dump': {'path': 'database.dump', 'sha256': dump_sha,
                'size': dump_size, 'format': 'pg_dump custom'},
            'files': files,
            }
        with open(work / 'manifest.json', 'w', encoding='utf-8') as file:
            json.dump(manifest, file, indent=1, ensure_ascii=False)
            file.write('\n')
        if options.tar:
            partial = output / (name + '.tar.partial')
            with tarfile.open(partial, 'w') as tar:
                for path in sorted(work.rglob('*')):
                    tar.add(path, arcname=path.relative_to(work).as_posix(),
                        recursive=False)
            partial.rename(final)
            shutil.rmtree(work)
        else:
            work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    log('backed up database "%s" (%d modules, dump of %d bytes) and %d '
        'files to %s' % (database, len(modules), dump_size, len(files),
            final))
    print(final)
    return 0


if __name__ == '__main__':
    sys.exit(main())
