"""The engineer app's other builds: the WeChat mini-program (it builds, its
packages fit WeChat's limits: the customer app's test, test_mp_weixin.py,
run on the engineer app) and the `app` bundle for DCloud's native packaging
(which cannot run here: the bundle is built and checked, not packaged into
an APK or IPA; clients/engineer/README.md says how)."""
import json
import os
import re
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
import test_mp_weixin as customer  # noqa: E402

ENGINEER = customer.CLIENTS / 'engineer'


class EngineerMpWeixinBuildTestCase(customer.MpWeixinBuildTestCase):
    "The engineer app's mp-weixin build: every page, within WeChat's limits"
    app = 'engineer'

    def test_task_is_a_subpackage(self):
        "任务详情 is loaded as a sub-package, outside the main package"
        app = json.loads((self.output / 'app.json').read_text())
        roots = [p['root'] for p in app.get('subPackages') or []]
        self.assertIn('task', roots)
        self.assertTrue((self.output / 'task/detail/index.js').is_file())
        # Location for the check-in: declared as WeChat requires
        self.assertIn('getLocation', app.get('requiredPrivateInfos', []))
        self.assertIn('scope.userLocation', app.get('permission', {}))


class AppBundleBuildTestCase(unittest.TestCase):
    "The resources of the native app (uni build -p app)"

    @classmethod
    def setUpClass(cls):
        cls.output = Path(tempfile.mkdtemp(prefix='engineer-app-'))
        cls.build = customer.build('engineer', 'app', cls.output)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.output, ignore_errors=True)

    def setUp(self):
        self.assertEqual(self.build.returncode, 0,
            self.build.stdout[-5000:] + self.build.stderr[-5000:])

    def test_bundle(self):
        "The service code, its configuration and the manifest are written"
        for name in ['app-service.js', 'app-config.js',
                'app-config-service.js', 'manifest.json', 'app.css']:
            path = self.output / name
            self.assertTrue(path.is_file(), name)
            self.assertGreater(path.stat().st_size, 0, name)
        size = sum(p.stat().st_size for p in self.output.rglob('*')
            if p.is_file())
        print(f'\nengineer app bundle: {size / 1024:.0f} KB', flush=True)

    def test_pages(self):
        "Every page of pages.json is in the bundle, the messages first"
        pages = json.loads((ENGINEER / 'pages.json').read_text())
        routes = [p['path'] for p in pages['pages']] + [
            f"{s['root']}/{p['path']}" for s in pages['subPackages']
            for p in s['pages']]
        config = (self.output / 'app-config-service.js').read_text()
        for route in routes:
            self.assertIn(f'"{route}"', config, route)
        entry = re.search(r'"entryPagePath":"([^"]+)"', config)
        self.assertEqual(entry.group(1), 'pages/inbox/index')

    def test_manifest(self):
        """The manifest names the app and asks for what the app uses:
        location (check-in) and camera (photos)"""
        manifest = json.loads((self.output / 'manifest.json').read_text())
        self.assertTrue(manifest['name'])
        self.assertIn('Geolocation', manifest['permissions'])
        self.assertIn('Camera', manifest['permissions'])


if __name__ == '__main__':
    unittest.main()
