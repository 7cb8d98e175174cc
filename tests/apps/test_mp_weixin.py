"""The customer app's WeChat mini-program build (the engineer app's:
test_engineer_builds.py): it builds, and its packages
fit WeChat's limits (main package and each sub-package at most 2 MB, all
packages together at most 20 MB), measured on the build output."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / 'clients'
MB = 1024 * 1024
MAIN_LIMIT = 2 * MB
SUBPACKAGE_LIMIT = 2 * MB
TOTAL_LIMIT = 20 * MB
# Written by the build for WeChat DevTools, not part of the uploaded code
NOT_UPLOADED = {'project.config.json', 'project.private.config.json'}


def package_sizes(folder):
    """The bytes of the main package and of each sub-package of an
    mp-weixin build, the sub-packages read from its app.json"""
    app = json.loads((folder / 'app.json').read_text())
    roots = [p['root'].strip('/') for p in
        app.get('subPackages') or app.get('subpackages') or []]
    sizes = {'main': 0, **{root: 0 for root in roots}}
    for path in folder.rglob('*'):
        if not path.is_file() or path.name in NOT_UPLOADED:
            continue
        relative = path.relative_to(folder).as_posix()
        package = next((r for r in roots
                if relative == r or relative.startswith(r + '/')), 'main')
        sizes[package] += path.stat().st_size
    return sizes


def build(app, target, output):
    """Build the workspace app (customer, engineer) for target (h5,
    mp-weixin, app) into output; return the finished process"""
    return subprocess.run(['npm', 'run', f'build:{target}', '-w', app, '--',
            '--outDir', str(output)],
        cwd=CLIENTS, capture_output=True, text=True, timeout=600)


class MpWeixinBuildTestCase(unittest.TestCase):
    "The mp-weixin build of app (test_engineer_builds.py: the engineer's)"
    app = 'customer'

    @classmethod
    def setUpClass(cls):
        cls.output = Path(tempfile.mkdtemp(prefix=f'{cls.app}-mp-weixin-'))
        cls.build = build(cls.app, 'mp-weixin', cls.output)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.output, ignore_errors=True)

    def setUp(self):
        self.assertEqual(self.build.returncode, 0,
            self.build.stdout[-5000:] + self.build.stderr[-5000:])

    def test_build(self):
        "The build holds every page its app.json lists, with its files"
        app = json.loads((self.output / 'app.json').read_text())
        self.assertTrue(app['pages'])
        self.assertTrue((self.output / 'app.js').is_file())
        for page in app['pages'] + [
                '%s/%s' % (s['root'], p) for s in
                app.get('subPackages') or [] for p in s['pages']]:
            for extension in ['js', 'json', 'wxml']:
                self.assertTrue(
                    (self.output / f'{page}.{extension}').is_file(),
                    f'{page}.{extension}')

    def test_package_sizes(self):
        "Main package and sub-packages ≤ 2 MB, everything ≤ 20 MB"
        sizes = package_sizes(self.output)
        total = sum(sizes.values())
        print(f'\n{self.app} mp-weixin packages: ' + ', '.join(
                f'{name} {size / 1024:.0f} KB'
                for name, size in sizes.items())
            + f'; total {total / 1024:.0f} KB (limits: main and each '
            'sub-package 2048 KB, total 20480 KB)', flush=True)
        self.assertLessEqual(sizes.pop('main'), MAIN_LIMIT, 'main package')
        for name, size in sizes.items():
            self.assertLessEqual(size, SUBPACKAGE_LIMIT, name)
        self.assertLessEqual(total, TOTAL_LIMIT, 'all packages')

    def test_package_sizes_are_measured(self):
        "The measure counts every file once, sub-packages by their root"
        folder = Path(tempfile.mkdtemp(prefix='mp-weixin-sizes-'))
        self.addCleanup(shutil.rmtree, folder)
        (folder / 'app.json').write_text(json.dumps({
                    'pages': ['pages/index/index'],
                    'subPackages': [{'root': 'order', 'pages': ['form']}]}))
        for name, size in [('pages/index/index.js', 1000),
                ('order/form.js', 3 * MB), ('orders/x.js', 10),
                ('project.config.json', 500)]:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(b'x' * size)
        sizes = package_sizes(folder)
        app_json = (folder / 'app.json').stat().st_size
        self.assertEqual(sizes, {'main': 1010 + app_json, 'order': 3 * MB})


if __name__ == '__main__':
    unittest.main()
