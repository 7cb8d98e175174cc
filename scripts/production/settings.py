"""The configuration of the production processes: the trytond files of the
repository (or those of TRYTOND_CONFIG_FILES) with the environment winning
over them.

trytond applies its TRYTOND_<SECTION>__<OPTION> environment variables
first and the -c files after them, so a value a file sets (the uri of
config/trytond-postgresql.conf) would win over the environment. In
production the environment must win: it carries the database URI and the
secrets ([wechat] secret, [jpush] master_secret...), which the repository
never holds. So every process of scripts/production/run.py is given a
derived file: the files, less every option the environment sets, so that
trytond reads those options from the environment. The derived file holds
no value of the environment (no secret is written to disk by us); it is
private (mode 600) and removed when the process ends.

Production defaults the derived file adds unless the environment sets
them: [instrument_service_api] dev_login = False (the development phone
login of config/*.conf is for the demo only).

Used by scripts/production/run.py, scripts/backup.py and scripts/restore.py.
"""
import configparser
import hashlib
import os
import tempfile
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_FILES = [ROOT / 'config' / 'trytond-postgresql.conf']
# What production sets unless the environment says otherwise
DEFAULTS = {
    ('instrument_service_api', 'dev_login'): 'False',
    }
# Options whose values are never printed
SECRET_WORDS = ('secret', 'password', 'token', 'key')


class ConfigurationError(Exception):
    "A configuration the processes cannot start with; its message says why"


def environment_options(environ=None):
    """The (section, option) -> value that trytond reads from the
    environment, as trytond.config parses TRYTOND_<SECTION>__<OPTION>"""
    environ = os.environ if environ is None else environ
    options = {}
    for key, value in environ.items():
        if not key.startswith('TRYTOND_') or key in {
                'TRYTOND_CONFIG', 'TRYTOND_CONFIG_FILES'}:
            continue
        try:
            section, option = key[len('TRYTOND_'):].lower().split('__', 1)
        except ValueError:
            continue
        if section.startswith('wsgi_'):
            section = section.replace('wsgi_', 'wsgi ')
        options[section, option] = value
    return options


def config_files(environ=None):
    """The trytond files, in the order they are read: TRYTOND_CONFIG_FILES
    (separated by os.pathsep, relative to the repository root), else
    TRYTOND_CONFIG (one file), else config/trytond-postgresql.conf"""
    environ = os.environ if environ is None else environ
    names = [n.strip() for n in environ.get('TRYTOND_CONFIG_FILES', '').split(
            os.pathsep) if n.strip()] or [
        n for n in [environ.get('TRYTOND_CONFIG', '').strip()] if n]
    files = [ROOT / n for n in names] if names else DEFAULT_FILES
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise ConfigurationError(
            'TRYTOND_CONFIG_FILES: no such file: %s' % ', '.join(missing))
    return files


class Settings:
    "The effective configuration of the production processes"

    def __init__(self, environ=None):
        self.environ = dict(os.environ if environ is None else environ)
        self.files = config_files(self.environ)
        self.environment = environment_options(self.environ)
        self.parser = configparser.RawConfigParser(interpolation=None)
        self.parser.read(self.files, encoding='utf-8')
        self.defaults = set()
        for (section, option), value in DEFAULTS.items():
            if (section, option) not in self.environment:
                self.defaults.add((section, option))
                if not self.parser.has_section(section):
                    self.parser.add_section(section)
                self.parser.set(section, option, value)
        for section, option in self.environment:
            if self.parser.has_section(section):
                self.parser.remove_option(section, option)

    def get(self, section, option, default=None):
        "The value trytond will see: the environment's, else the files'"
        if (section, option) in self.environment:
            return self.environment[section, option]
        if self.parser.has_option(section, option):
            return self.parser.get(section, option)
        return default

    def getboolean(self, section, option, default=False):
        value = self.get(section, option)
        if value is None:
            return default
        return value.strip().lower() in {'1', 'true', 'yes', 'on'}

    @property
    def database(self):
        "The database the processes serve: [instrument_service_api] database"
        name = self.get('instrument_service_api', 'database')
        if not name:
            raise ConfigurationError('No database name: set '
                'TRYTOND_INSTRUMENT_SERVICE_API__DATABASE (or '
                '[instrument_service_api] database in a file of '
                'TRYTOND_CONFIG_FILES).')
        return name

    @property
    def uri(self):
        return self.get('database', 'uri') or 'sqlite://'

    @property
    def backend(self):
        return urllib.parse.urlsplit(self.uri).scheme.split('+')[0]

    @property
    def filestore(self):
        """The root of the filestore ([database] path): the files of
        database NAME are in NAME/ below it"""
        path = Path(self.get('database', 'path') or (
                Path.home() / 'db'))
        return path if path.is_absolute() else ROOT / path

    def write(self, role):
        """Write the derived file of role (a private temporary file) and
        return its path; the caller removes it"""
        fd, path = tempfile.mkstemp(prefix='instrument-%s-' % role,
            suffix='.conf')
        with os.fdopen(fd, 'w', encoding='utf-8') as file:
            file.write('# Written by scripts/production/settings.py from %s,'
                ' less the options of the environment (%s)\n\n' % (
                    ', '.join(str(f) for f in self.files),
                    ', '.join('[%s] %s' % o for o in sorted(self.environment))
                    or 'none'))
            self.parser.write(file)
        return path

    def describe(self):
        "The effective configuration as text, secrets masked"
        sections = {}
        for section in self.parser.sections():
            for option, value in self.parser.items(section):
                sections.setdefault(section, {})[option] = (value,
                    'production default' if (section, option)
                    in self.defaults else 'file')
        for (section, option), value in self.environment.items():
            sections.setdefault(section, {})[option] = (value, 'environment')
        lines = []
        for section in sorted(sections):
            lines.append('[%s]' % section)
            for option, (value, origin) in sorted(sections[section].items()):
                if any(w in option for w in SECRET_WORDS):
                    value = '***'
                elif section == 'database' and option == 'uri':
                    value = mask_uri(value)
                lines.append('%s = %s    # %s' % (option, value, origin))
            lines.append('')
        return '\n'.join(lines)


def mask_uri(uri):
    "uri without its password"
    parts = urllib.parse.urlsplit(uri)
    if parts.password is None:
        return uri
    netloc = parts.netloc.replace(':%s@' % parts.password, ':***@', 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def libpq_environment(uri, database):
    """The connection URI of database for libpq's tools (pg_dump,
    pg_restore, psql) without the password, and the environment variables
    that carry the password: never on a command line, which ps shows"""
    parts = urllib.parse.urlsplit(uri)
    env = {}
    netloc = parts.netloc
    if parts.password is not None:
        env['PGPASSWORD'] = urllib.parse.unquote(parts.password)
        netloc = netloc.replace(':%s@' % parts.password, '@', 1)
    conninfo = urllib.parse.urlunsplit(('postgresql', netloc,
            '/' + urllib.parse.quote(database), parts.query, ''))
    return conninfo, env


def digest(path, chunk_size=1 << 20):
    "(sha256 hex, size) of the file at path: what a backup's manifest keeps"
    sha = hashlib.sha256()
    size = 0
    with open(path, 'rb') as file:
        while chunk := file.read(chunk_size):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size
