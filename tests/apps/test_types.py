"""The apps' API types follow the server: clients/shared/src/api/types.ts is
what clients/shared/scripts/generate-types.mjs makes of the OpenAPI
document a real server publishes (/api/v1/openapi.json, fresh database)."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

os.environ['TRYTOND_DATABASE__URI'] = 'sqlite://'

from trytond.modules.instrument_service_api.tests.server import (  # noqa: E402
    APIServer)

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / 'clients' / 'shared' / 'scripts' / 'generate-types.mjs'
TYPES = ROOT / 'clients' / 'shared' / 'src' / 'api' / 'types.ts'


class TypesTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.directory = Path(tempfile.mkdtemp(prefix='openapi-'))
        server = APIServer(engineers=0)
        server.start()
        try:
            status, cls.document = server.call('GET', '/openapi.json')
        finally:
            server.stop()
        assert status == 200, status

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.directory, ignore_errors=True)

    def check(self, document):
        "Run the generator's --check on document; return the process"
        path = self.directory / 'openapi.json'
        path.write_text(json.dumps(document, ensure_ascii=False))
        return subprocess.run(['node', str(GENERATOR), str(path), '--check'],
            cwd=ROOT / 'clients', capture_output=True, text=True,
            timeout=300)

    def test_types_follow_the_server(self):
        "The checked-in types are those of the server's document"
        self.assertTrue(GENERATOR.is_file(), f'{GENERATOR} is missing')
        self.assertTrue(TYPES.is_file(), f'{TYPES} is missing')
        result = self.check(self.document)
        self.assertEqual(result.returncode, 0,
            'clients/shared/src/api/types.ts differs from what the server '
            'publishes: run `npm run types` in clients/ against a running '
            'server (see clients/shared)\n' + result.stdout[-3000:]
            + result.stderr[-3000:])

    def test_check_sees_a_change(self):
        "A document with one more schema fails the check"
        self.assertTrue(GENERATOR.is_file(), f'{GENERATOR} is missing')
        document = json.loads(json.dumps(self.document))
        document['components']['schemas']['AddedByTheTest'] = {
            'type': 'object',
            'properties': {'added': {'type': 'string'}}}
        result = self.check(document)
        self.assertNotEqual(result.returncode, 0,
            result.stdout[-3000:] + result.stderr[-3000:])
        # The checked-in file is left as it was
        self.assertNotIn('AddedByTheTest', TYPES.read_text())


if __name__ == '__main__':
    unittest.main()
