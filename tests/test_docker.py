"""docker/: the compose file is valid and runs the shared scripts.

Docker's daemon cannot run on the machines this project is built and
tested on, so the containers are tested through what they run:
scripts/production/run.py (tests/test_production.py runs it, under honcho
from the Procfile, on PostgreSQL). Here, without a daemon:

- the compose file validates: with `docker compose config` (docker/.env.example
  as its env file) when the docker CLI has its compose plugin; otherwise
  parsed with PyYAML, its variables interpolated from docker/.env.example
  as compose does, and validated against the Compose Specification's JSON
  schema (the copy check-jsonschema ships). The test prints which ran;
- its services are the production set (db, the one-shot init, web, cron,
  worker, proxy), the app services run the Dockerfile's entry point
  (scripts/production/run.py) with the Procfile's commands, the health
  checks call /health/ready (compose, web) and /health/live (the proxy's
  check of the app), the database and the files are named volumes, the
  secrets are variables of the env file, never values of the repository;
- the Dockerfile builds sao, swagger-ui and the two H5 apps as the Makefile
  does, and the proxy keeps /metrics off the public side.
"""
import json
import re
import shlex
import shutil
import subprocess
import sys
import unittest
from importlib import resources
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCKER = ROOT / 'docker'
COMPOSE = DOCKER / 'compose.yaml'
ENV_EXAMPLE = DOCKER / '.env.example'
APP_SERVICES = ['init', 'web', 'cron', 'worker']
VARIABLE = re.compile(r'\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}'
    r'|\$([A-Za-z_][A-Za-z0-9_]*)')


def read_env_file(path):
    values = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith('#'):
            key, _, value = line.partition('=')
            values[key.strip()] = value.strip()
    return values


def interpolate(value, variables, errors):
    "A string of the compose file with its variables replaced, as compose does"
    def replace(match):
        if match.group(0) == '$$':
            return '$'
        name = match.group(1) or match.group(4)
        operator, argument = match.group(2), match.group(3)
        current = variables.get(name)
        unset = current is None or (current == '' and operator
            and operator.startswith(':'))
        if operator and operator.endswith('?') and unset:
            errors.append('%s: %s' % (name, argument))
            return ''
        if operator and operator.endswith('-') and unset:
            return interpolate(argument, variables, errors)
        return current or ''
    return VARIABLE.sub(replace, value)


def walk(node, variables, errors):
    if isinstance(node, dict):
        return {k: walk(v, variables, errors) for k, v in node.items()}
    if isinstance(node, list):
        return [walk(v, variables, errors) for v in node]
    if isinstance(node, str):
        return interpolate(node, variables, errors)
    return node


def compose_cli():
    "The docker CLI if its compose plugin answers"
    docker = shutil.which('docker')
    if not docker:
        return None
    result = subprocess.run([docker, 'compose', 'version'],
        capture_output=True, text=True)
    return docker if result.returncode == 0 else None


class ComposeTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.raw = yaml.safe_load(COMPOSE.read_text())
        docker = compose_cli()
        if docker:
            cls.method = 'docker compose config'
            result = subprocess.run([docker, 'compose', '-f', str(COMPOSE),
                    '--env-file', str(ENV_EXAMPLE), 'config', '--format',
                    'json'], capture_output=True, text=True, cwd=ROOT)
            if result.returncode:
                raise AssertionError('docker compose config failed:\n'
                    + result.stderr)
            cls.compose = json.loads(result.stdout)
        else:
            cls.method = ('PyYAML + the Compose Specification schema '
                '(no docker compose plugin here)')
            errors = []
            cls.compose = walk(cls.raw, read_env_file(ENV_EXAMPLE), errors)
            if errors:
                raise AssertionError('variables docker/.env.example must '
                    'set: %s' % ', '.join(errors))
        print('\ndocker/compose.yaml validated with: %s' % cls.method,
            file=sys.stderr)

    def test_schema(self):
        "The compose file is valid (schema, or docker compose config)"
        import jsonschema
        schema = json.loads(resources.files(
                'check_jsonschema.builtin_schemas.vendor').joinpath(
                'compose-spec.json').read_text())
        validator = jsonschema.validators.validator_for(schema)(schema)
        errors = sorted(validator.iter_errors(self.compose), key=str)
        self.assertFalse(errors, '\n'.join(
                '%s: %s' % (list(e.absolute_path), e.message)
                for e in errors))
        # The schema rejects what is not compose's: it does check
        self.assertTrue(list(validator.iter_errors(
                    {'services': {'web': {'restart': 3}}})))

    def test_services(self):
        services = self.compose['services']
        self.assertLessEqual({'db', 'proxy', *APP_SERVICES}, set(services))
        dockerfile = (DOCKER / 'Dockerfile').read_text()
        entrypoint, = re.findall(r'^ENTRYPOINT (.*)$', dockerfile, re.M)
        entrypoint = json.loads(entrypoint)
        self.assertEqual(entrypoint,
            ['python', 'scripts/production/run.py'])
        # The Procfile of `make production`: the same commands
        procfile = dict(line.split(':', 1) for line in
            (ROOT / 'Procfile').read_text().splitlines()
            if line and not line.startswith('#'))
        for name in APP_SERVICES:
            service = services[name]
            with self.subTest(service=name):
                self.assertEqual(service['build']['target'], 'app')
                self.assertEqual(service['build']['dockerfile'],
                    'docker/Dockerfile')
                self.assertNotIn('entrypoint', service)
                self.assertEqual(service['command'], [name])
                if name != 'init':
                    self.assertEqual(shlex.split(procfile[name]),
                        ['exec', *entrypoint, name])
                    self.assertEqual(service['depends_on']['init'][
                            'condition'], 'service_completed_successfully')
                self.assertEqual(service['depends_on']['db']['condition'],
                    'service_healthy')
        self.assertEqual(services['init']['restart'], 'no')
        self.assertEqual(services['proxy']['build']['target'], 'proxy')

    def test_health_checks(self):
        services = self.compose['services']
        self.assertIn('/health/ready', ' '.join(
                services['web']['healthcheck']['test']))
        self.assertEqual(services['proxy']['depends_on']['web'][
                'condition'], 'service_healthy')
        self.assertIn('pg_isready', ' '.join(
                services['db']['healthcheck']['test']))
        caddyfile = (DOCKER / 'Caddyfile').read_text()
        self.assertIn('reverse_proxy web:8000', caddyfile)
        self.assertIn('health_uri /health/live', caddyfile)
        # Not public: /metrics
        self.assertRegex(caddyfile,
            r'handle /metrics\* \{\s*respond 404\s*\}')
        for prefix, folder in [('/h5', '/srv/h5'),
                ('/engineer', '/srv/engineer')]:
            self.assertRegex(caddyfile, r'handle_path %s/\* \{\s*root \* %s'
                % (prefix, folder))

    def test_volumes_and_secrets(self):
        services = self.compose['services']
        volumes = self.compose['volumes']
        self.assertLessEqual({'db', 'files'}, set(volumes))

        def mounts(service):
            return {(v['source'], v['target']) if isinstance(v, dict)
                else tuple(v.split(':')[:2]) for v in service['volumes']}
        self.assertIn(('db', '/var/lib/postgresql/data'),
            mounts(services['db']))
        for name in APP_SERVICES:
            environment = services[name]['environment']
            self.assertIn(('files', '/var/lib/instrument'),
                mounts(services[name]))
            self.assertTrue(environment['TRYTOND_DATABASE__PATH'].startswith(
                    '/var/lib/instrument/'))
            self.assertEqual(environment['TRYTOND_QUEUE__WORKER'], 'True')
        # Every secret is a variable of the env file, the same in the
        # database's and the app's settings
        raw = self.raw
        for key, value in raw['x-environment'].items():
            if any(w in key for w in ['SECRET', 'PASSWORD', 'URI']):
                self.assertIn('${', str(value), key)
        self.assertIn('${TRYTON_ADMIN_PASSWORD:?',
            raw['services']['init']['environment']['TRYTON_ADMIN_PASSWORD'])
        env = read_env_file(ENV_EXAMPLE)
        uri = services['web']['environment']['TRYTOND_DATABASE__URI']
        self.assertEqual(uri, 'postgresql://%s:%s@db:5432/' % (
                env['POSTGRES_USER'], env['POSTGRES_PASSWORD']))
        self.assertEqual(services['db']['environment']['POSTGRES_PASSWORD'],
            env['POSTGRES_PASSWORD'])
        self.assertNotIn('TRYTON_ADMIN_PASSWORD',
            services['web']['environment'])
        # The real env file is never committed
        for path, status in [('docker/.env', 0), ('.env', 0),
                ('docker/.env.example', 1)]:
            ignored = subprocess.run(['git', 'check-ignore', '-q', path],
                cwd=ROOT)
            self.assertEqual(ignored.returncode, status,
                '%s must %sbe ignored by git' % (path, '' if not status
                    else 'not '))

    def test_dockerfile(self):
        dockerfile = (DOCKER / 'Dockerfile').read_text()
        stages = re.findall(r'^FROM \S+ AS (\S+)$', dockerfile, re.M)
        self.assertEqual(stages, ['assets', 'python', 'app', 'proxy'])
        for command in ['npm ci', 'npm run build:h5 -w customer',
                'npm run build:h5 -w engineer', '"tryton-sao@${SAO_SERIES}"',
                '"swagger-ui-dist@${API_DOCS_SERIES}"',
                'pip install "/src[production,s3]"', 'postgresql-client']:
            self.assertIn(command, dockerfile)
        makefile = (ROOT / 'Makefile').read_text()
        self.assertIn('SAO_SERIES := 8.0', makefile)
        self.assertIn('SAO_SERIES=8.0', dockerfile)
        # What the build context lets in: everything the COPY lines name
        ignore = (DOCKER / 'Dockerfile.dockerignore').read_text()
        for source in re.findall(r'^COPY (?!--from)(\S+)', dockerfile,
                re.M):
            top = source.rstrip('/').split('/')[0]
            self.assertTrue(re.search(r'^!%s/?$' % re.escape(
                        source.rstrip('/')), ignore, re.M)
                or re.search(r'^!%s/?$' % re.escape(top), ignore, re.M),
                source)


if __name__ == '__main__':
    unittest.main()
