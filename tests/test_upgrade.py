"""Upgrading a database of the last release with the current code.

The last release is the tag of the newest version in CHANGELOG.md (v0.1.0),
or, in a clone without tags, the commit the changelog names for it; a clone
that has neither (a shallow one) fails, it does not skip.

The release's addons/ and scripts/ are extracted with `git archive`; its own
scripts/build_demo.py (tests/upgrade_release.py runs it on the release's
modules) activates the modules in a new database and drives orders of
several types through the release's engine: their history, quotes, reports,
photos and documents in the filestore; the administrator then edits the
workflows in Chinese. The release's API server answers for these orders
(its customers', engineers' and back office's views are kept), then the
current code upgrades the database with `trytond-admin -u
instrument_service instrument_service_api --activate-dependencies` (what
`scripts/production/run.py init` runs on a database already initialised),
and the current API server is started on it.

Checked: every table the release had keeps at least its rows (Tryton's
own tables of the code excepted, which the upgrade rewrites); every row of
the orders, their lines, history, quotes, reports, offers, notices, people
and attachments is unchanged, column by column; every file's content is the
same; the administrator's edits are still there; and the current API
answers for the orders as the release's did (numbers, states, steps,
history, files), serves the files, lets the work go on (the engineer
submits the next step under the edited rule, the customer answers the
quote) and the back office reads them.

Both backends: PostgreSQL in CI (production's), SQLite in the same way.
"""
import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import unittest
from unittest import mock
from pathlib import Path

from trytond.modules.instrument_service_api.tests.server import (
    BIN, APIServer, image)

from tests import upgrade_release

ROOT = Path(__file__).resolve().parent.parent
HELPER = ROOT / 'tests' / 'upgrade_release.py'
CHANGELOG = ROOT / 'CHANGELOG.md'
MODULES = ['instrument_service', 'instrument_service_api']

# Tryton's records of the code (models, fields, buttons, access rules,
# actions, menus, views, messages, translations, crons, groups, the records
# of the XML files): the upgrade rewrites them from the current code, so
# they may have fewer rows (a view or a string the code no longer has).
# Every other table (the data, and what users make: sessions, saved
# searches, notes, logs, group memberships) keeps at least its rows.
CODE_TABLES = re.compile(r'^ir_(action([-_].*)?|cron(-company_company)?'
    r'|message|model(_access|_button(-.*|_rule)?|_data|_field(_access)?)?'
    r'|module(_dependency|_config_wizard_item)?|rule(_group(-res_group)?)?'
    r'|translation|ui_(icon|menu(-res_group)?|view)|sequence_type(-.*)?'
    r'|email_template(-.*)?|cache|calendar_(day|month)|lang)$|^res_group$')

# The tables of the data: every row, every column the release had, the same
# after the upgrade (the write date and writer aside: a migration may fill
# a new column)
DATA_TABLES = [
    'instrument_service_order', 'instrument_service_order_line',
    'instrument_service_order_progress', 'instrument_service_order_quote',
    'instrument_service_order_report', 'instrument_service_order_offer',
    'instrument_service_notice', 'instrument_service_engineer',
    'instrument_service_workflow', 'instrument_service_workflow_step',
    'instrument_service_workflow_transition', 'ir_attachment', 'web_user',
    'party_party', 'party_contact_mechanism', 'company_employee',
    'company_company', 'res_user', 'ir_sequence', 'web_user_session',
    'res_notification', 'instrument_service_api_wechat_template',
    ]


def git(*args):
    return subprocess.run(['git', *args], cwd=ROOT, capture_output=True,
        text=True)


def changelog_release():
    """(version, commit it names or None) of the newest release of
    CHANGELOG.md (its first ## [x.y.z] section)"""
    text = CHANGELOG.read_text()
    match = re.search(r'^## \[(\d+\.\d+\.\d+)\][^\n]*\n(.*?)(?=^## |\Z)',
        text, re.M | re.S)
    assert match, "CHANGELOG.md names no release (## [x.y.z] - date)"
    version, section = match.groups()
    named = re.search(r'\b[Cc]ommit\b[^0-9a-f]*\b([0-9a-f]{7,40})\b',
        section)
    return version, named.group(1) if named else None


def resolve(revision):
    "The commit of revision in this clone, or None"
    result = git('rev-parse', '-q', '--verify', revision + '^{commit}')
    return result.stdout.strip() if result.returncode == 0 else None


def last_release():
    """(version, commit) of the newest release of CHANGELOG.md: its tag
    v<version> when this clone has it, else the commit the changelog names
    for it (a clone without tags). AssertionError when neither is here."""
    version, named = changelog_release()
    tag = 'v' + version
    commit = resolve(tag)
    if commit:
        return version, commit
    assert named, ("the tag %s is not in this clone and CHANGELOG.md names "
        "no commit for %s" % (tag, version))
    commit = resolve(named)
    assert commit, ("release %s: neither the tag %s nor its commit %s is "
        "in this clone (a shallow clone?): `git fetch --tags --unshallow` "
        "and run again" % (version, tag, named))
    return version, commit


class ChangelogTestCase(unittest.TestCase):
    "The release the upgrade test starts from, without a database"

    def test_release_named(self):
        """The newest release of CHANGELOG.md names its full commit, which
        is its tag's when this clone has the tag"""
        version, named = changelog_release()
        self.assertRegex(named or '', r'^[0-9a-f]{40}$', version)
        tag = resolve('v' + version)
        if tag:
            self.assertEqual(tag, named)
        self.assertEqual(last_release(), (version, resolve(named)))

    def test_without_tag(self):
        """A clone without tags finds the release by the changelog's
        commit; a clone without the commit (a shallow one) fails, saying
        how to fetch it"""
        version, named = changelog_release()
        commit = resolve(named)
        real = resolve

        def no_tags(revision):
            return None if revision.startswith('v') else real(revision)
        with mock.patch(__name__ + '.resolve', no_tags):
            self.assertEqual(last_release(), (version, commit))
        with mock.patch(__name__ + '.resolve', lambda revision: None):
            with self.assertRaisesRegex(AssertionError,
                    'shallow clone.*git fetch --tags --unshallow'):
                last_release()


class ReleaseServer(APIServer):
    """APIServer on a database an upgrade test builds: launch() starts the
    release's trytond (tree) or the current one (tree None)"""
    tree = None

    def launch(self):
        command = [os.path.join(BIN, 'trytond')]
        if self.tree:
            command = [sys.executable, str(HELPER), self.tree, 'trytond']
        self.process = subprocess.Popen([*command, '-c', self.config_path,
                '-d', self.database],
            env=self._env(), stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    "trytond stopped:\n" + self.server_log())
            try:
                if self.call('GET', '/order-types')[0] == 200:
                    self._back_office_sessions = {}
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("trytond did not answer:\n" + self.server_log())

    def halt(self):
        self.process.terminate()
        self.process.wait(30)
        self.process = None


class UpgradeTestCase(unittest.TestCase):
    "One database of the last release, upgraded once for all the tests"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.version, cls.commit = last_release()
        cls.server = server = ReleaseServer(
            config={'attachment': {'filestore': 'True'}})
        try:
            cls._build()
        except BaseException:
            server.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        log = cls.server.server_log()
        cls.server.stop()
        super().tearDownClass()
        print('\nupgrade from %s (%s): %s' % (cls.version, cls.commit[:7],
                ', '.join('%s %.0f s' % i for i in cls.timings.items())),
            file=sys.stderr)
        assert 'Traceback' not in log, log[
            max(log.index('Traceback') - 500, 0):][:5000]

    @classmethod
    def _run(cls, command, timeout=900, env=None):
        result = subprocess.run(command,
            env={**cls.server._env(), **(env or {})},
            capture_output=True, text=True, timeout=timeout,
            stdin=subprocess.DEVNULL)
        if result.returncode:
            raise AssertionError('%s failed:\n%s' % (
                    ' '.join(map(str, command[:4])),
                    (result.stdout + result.stderr)[-6000:]))
        return result

    @classmethod
    def _build(cls):
        server = cls.server
        tree = os.path.join(server.directory, 'release')
        os.makedirs(tree)
        archive = subprocess.run(['git', 'archive', cls.commit, 'addons',
                'scripts'], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(['tar', '-x', '-C', tree], input=archive.stdout,
            check=True)
        server.tree = tree
        server.config_path = server._config()
        server.wechat.start()
        server.log = open(server.log_path, 'w')

        # The release makes the database, its orders and the edits
        cls.timings = {}
        started = time.monotonic()
        out = os.path.join(server.directory, 'release.json')
        build = cls._run([sys.executable, str(HELPER), tree, 'build',
                server.config_path, server.database, server.directory, out])
        # The helper says where the modules came from
        for name in MODULES:
            assert (os.path.join(tree, 'addons', name, '__init__.py')
                in build.stderr), build.stderr[-3000:]
        cls.release = json.loads(Path(out).read_text())
        cls.timings['release build'] = time.monotonic() - started
        with open(os.path.join(server.directory, 'admin-password'),
                'w') as fp:
            fp.write(cls.release['credentials']['admin'])

        # What the release's API answers
        started = time.monotonic()
        server.launch()
        cls.before_api, cls.before_tokens = cls._api_views()
        # An engineer's photo uploaded with the release for the next step,
        # which the engineer cites after the upgrade
        cls.recycle_id, = [r[0] for r in server.sql("SELECT id FROM "
                "instrument_service_order WHERE type = 'recycle'")]
        cls.recycle_engineer, = [login for login, page
            in cls.before_api['tasks'].items()
            if cls.recycle_id in [i['id'] for i in page['items']]]
        status, body = server.upload(
            '/engineer/tasks/%s/files' % cls.recycle_id, 'before.jpg',
            image(), cls._engineer_token(cls.recycle_engineer))
        assert status == 201, (status, body)
        cls.staged_photo = body['id']
        server.halt()
        cls.before = cls._snapshot()
        cls.timings['release API'] = time.monotonic() - started

        # The upgrade, as an operator runs it
        started = time.monotonic()
        cls.upgrade = cls._run([os.path.join(BIN, 'trytond-admin'),
                '-c', server.config_path, '-d', server.database,
                '-u', *MODULES, '--activate-dependencies'],
            # Its warnings too: a column it cannot make required, a record
            # of the old XML it cannot delete...
            env={'TRYTOND_LOGGING_LEVEL': '30'})
        cls.timings['upgrade'] = time.monotonic() - started
        cls.after = cls._snapshot()

        # The current API on the upgraded database
        started = time.monotonic()
        server.tree = None
        server.launch()
        cls.after_api, cls.after_tokens = cls._api_views()
        cls.timings['current API'] = time.monotonic() - started

    # ---- reading the database -----------------------------------------

    @classmethod
    def _tables(cls):
        if cls.server.backend == 'postgresql':
            rows = cls.server.sql("SELECT table_name FROM "
                "information_schema.tables WHERE table_schema = 'public' "
                "AND table_type = 'BASE TABLE'")
        else:
            rows = cls.server.sql("SELECT name FROM sqlite_master "
                "WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        return sorted(r[0] for r in rows)

    @classmethod
    def _columns(cls, table):
        if cls.server.backend == 'postgresql':
            rows = cls.server.sql("SELECT column_name FROM "
                "information_schema.columns WHERE table_schema = 'public' "
                "AND table_name = %s", (table,))
            return sorted(r[0] for r in rows)
        return sorted(r[1] for r in cls.server.sql(
                'PRAGMA table_info("%s")' % table))

    @classmethod
    def _snapshot(cls):
        server = cls.server
        tables = cls._tables()
        snapshot = {
            'counts': {t: server.count(t) for t in tables},
            'rows': {},
            'files': {},
            }
        for table in DATA_TABLES:
            columns = [c for c in cls._columns(table)
                if c not in {'write_date', 'write_uid'}]
            rows = server.sql('SELECT %s FROM "%s"' % (
                    ', '.join('"%s"' % c for c in columns), table))
            snapshot['rows'][table] = {
                row[columns.index('id')]: dict(zip(columns, map(str, row)))
                for row in rows}
        # The content of every file of the filestore
        folder = os.path.join(server.directory, 'db', server.database)
        for kind in ['file', 'thumbnail']:
            for id_, file_id in server.sql('SELECT id, %s_id FROM '
                    'ir_attachment WHERE %s_id IS NOT NULL' % (kind, kind)):
                path = os.path.join(
                    folder, file_id[:2], file_id[2:4], file_id)
                with open(path, 'rb') as fp:
                    snapshot['files'][kind, id_] = hashlib.sha256(
                        fp.read()).hexdigest()
        return snapshot

    # ---- reading the API ------------------------------------------------

    @classmethod
    def _customer_token(cls, phone):
        # The demo's customers logged in with WeChat once
        status, body = cls.server.call('POST', '/auth/wechat',
            {'code': 'openid:demo-openid-%s' % phone})
        assert status == 200, (status, body)
        return body['token']

    @classmethod
    def _engineer_token(cls, login):
        status, body = cls.server.call('POST', '/auth/login', {
                'login': login,
                'password': cls.release['credentials'][login]})
        assert status == 200, (status, body)
        return body['token']

    @classmethod
    def _api_views(cls):
        """What the API answers for the orders: each customer's list and
        details, each engineer's tasks and their details, and the orders as
        the back office reads them; and the tokens of the logins"""
        server = cls.server
        phones = {r[0] for r in server.sql(
                'SELECT login_phone FROM web_user WHERE login_phone '
                'IS NOT NULL')}
        views = {'customers': {}, 'orders': {}, 'tasks': {},
            'engineer_orders': {}}
        tokens = {'customers': {}, 'engineers': {}, 'orders': {}}
        for phone in sorted(phones):
            token = tokens['customers'][phone] = cls._customer_token(phone)
            status, page = server.call('GET', '/orders?page_size=50',
                token=token)
            assert status == 200, (status, page)
            views['customers'][phone] = page
            for item in page['items']:
                status, detail = server.call('GET',
                    '/orders/%s' % item['id'], token=token)
                assert status == 200, (status, detail)
                views['orders'][item['id']] = detail
                tokens['orders'][item['id']] = token
        for login, role in cls.release['roles'].items():
            if role != 'engineer':
                continue
            token = tokens['engineers'][login] = cls._engineer_token(login)
            status, page = server.call('GET', '/engineer/tasks?page_size=50',
                token=token)
            assert status == 200, (status, page)
            views['tasks'][login] = page
            for item in page['items']:
                status, detail = server.call('GET',
                    '/engineer/tasks/%s' % item['id'], token=token)
                assert status == 200, (status, detail)
                views['engineer_orders'][item['id']] = detail
        views['back_office'] = server.back_office(
            'model.instrument_service.order.search_read', [], 0, None,
            [('id', 'ASC')], ['number', 'state', 'type', 'step.code',
                'engineer', 'progress', 'lines'])
        return views, tokens

    # ---- the tests --------------------------------------------------------

    def test_release(self):
        "The database was made by the release's code, an ancestor of HEAD"
        self.assertEqual(git('merge-base', '--is-ancestor', self.commit,
                'HEAD').returncode, 0, self.commit)
        self.assertEqual(len(self.release['orders']),
            len(upgrade_release.STORIES))
        self.assertEqual(
            {o['state'] for o in self.release['orders']},
            {'submitted', 'in_progress', 'done', 'cancelled'})

    def test_upgrade_clean(self):
        """trytond-admin -u ran without an error or a warning, and the
        modules are activated"""
        output = self.upgrade.stdout + self.upgrade.stderr
        self.assertNotIn('Traceback', output)
        self.assertNotRegex(output, r'\b(WARNING|ERROR|CRITICAL)\b')
        self.assertEqual(dict(self.server.sql(
                    "SELECT name, state FROM ir_module WHERE name IN "
                    "('instrument_service', 'instrument_service_api')")),
            dict.fromkeys(MODULES, 'activated'))

    def test_no_table_loses_rows(self):
        """Every table the release had, but Tryton's records of the code,
        has at least as many rows after the upgrade"""
        before, after = self.before['counts'], self.after['counts']
        self.assertGreater(before['instrument_service_order'], 0)
        lost = {table: (count, after.get(table))
            for table, count in before.items()
            if not CODE_TABLES.match(table)
            and (table not in after or after[table] < count)}
        self.assertEqual(lost, {}, "table: (rows before, rows after)")

    def test_data_unchanged(self):
        """Every row of the orders, their history, files, people and
        workflows is still there with the values the release had"""
        changed = []
        for table, rows in self.before['rows'].items():
            self.assertTrue(rows, table)
            after = self.after['rows'][table]
            for id_, row in rows.items():
                if id_ not in after:
                    changed.append((table, id_, 'missing'))
                    continue
                changed.extend((table, id_, column, value, after[id_].get(
                            column)) for column, value in row.items()
                    if after[id_].get(column) != value)
        self.assertEqual(changed, [])

    def test_files_unchanged(self):
        """Every file of the filestore (attachments and thumbnails) has the
        content it had, and the API serves it to the customer"""
        before, after = self.before['files'], self.after['files']
        self.assertGreaterEqual(len(before),
            self.before['counts']['ir_attachment'])
        self.assertEqual({k: after.get(k) for k in before}, before)
        served = 0
        for order_id, detail in self.after_api['orders'].items():
            token = self.after_tokens['orders'][order_id]
            for file_ in self._files(detail):
                status, _, content = self.server.request('GET',
                    file_['url'][len('/api/v1'):], token=token)
                self.assertEqual(status, 200, file_)
                self.assertEqual(hashlib.sha256(content).hexdigest(),
                    before['file', file_['id']], file_)
                served += 1
        # The photos of the lines and of the records, the documents and
        # the reports' records are the files customers saw with the release
        self.assertEqual(served, sum(len(self._files(d))
                for d in self.before_api['orders'].values()))
        self.assertGreater(served, 10)

    def test_admin_edits_kept(self):
        """The administrator's edits of the workflows are still there, in
        the back office and in what the API shows and asks for"""
        for edit in self.release['edits']:
            values = edit['values']
            read, = self.server.back_office(
                'model.%s.read' % edit['model'], [edit['id']],
                list(values))
            for name, value in values.items():
                if name == 'sla_accept':
                    self.assertEqual(read[name]['seconds'],
                        dt.timedelta(hours=4).total_seconds())
                else:
                    self.assertEqual(read[name], value, (edit, name))
        orders = {d['type']: d for d in self.after_api['orders'].values()
            if d['state'] != 'cancelled'}
        quote = orders['maintenance']
        self.assertEqual(quote['progress']['current_step'], 'quote')
        self.assertRegex(quote['progress']['hint'],
            r'^管理员修改：报价 \d+(\.\d+)? 元，请在三天内确认。$')
        self.assertIn('管理员修改的报价记录', [r['label']
                for s in quote['progress']['steps'] for r in s['records']])
        self.assertIn('验证报告（管理员修改）', [s['name']
                for s in orders['validation']['progress']['steps']])
        form, = self.after_api['engineer_orders'][self.recycle_id][
            'progress']['actions']
        fields = {f['name']: f for f in form['fields']}
        self.assertEqual(fields['photos']['min_items'], 2)
        self.assertFalse(fields['description']['required'])

    def test_api_answers_as_before(self):
        """The current API answers for every order what the release's
        answered (it may add to it): customers' lists and orders,
        engineers' tasks, the back office's reads"""
        differences = []
        compare(self.before_api, self.after_api, '', differences)
        self.assertEqual(differences, [])

    def test_sessions(self):
        """The customers logged in with the release still are. The
        engineers' tokens of 0.1.0 were Tryton sessions (an hour without
        use ended them), those of now are device sessions: they answer 401
        unauthorized, the apps log in again, as after an idle hour"""
        for phone, token in self.before_tokens['customers'].items():
            status, body = self.server.call('GET', '/orders', token=token)
            self.assertEqual(status, 200, (phone, body))
        for login, token in self.before_tokens['engineers'].items():
            status, body = self.server.call('GET', '/engineer/tasks',
                token=token)
            if status != 200:
                self.assertEqual((status, body['error']['code']),
                    (401, 'unauthorized'), login)

    def test_work_goes_on(self):
        """The orders the release left half-way go on: the engineer
        completes the next step under the edited rule with a photo
        uploaded before the upgrade, the customer confirms a quote"""
        server = self.server
        token = self._engineer_token(self.recycle_engineer)
        path = '/engineer/tasks/%s' % self.recycle_id
        status, _, content = server.request('GET',
            '/files/%s' % self.staged_photo, token=token)
        self.assertEqual(status, 200)
        self.assertEqual(hashlib.sha256(content).hexdigest(),
            self.before['files']['file', self.staged_photo])
        quote = {'action': 'submit_quote', 'amount': '1200.00',
            'photos': [self.staged_photo]}
        status, body = server.call('POST', path + '/steps', quote,
            token=token)
        self.assertEqual((status, body['error']['code']),
            (422, 'invalid_evidence'))
        self.assertIn('photos', body['error']['fields'])
        status, photo = server.upload(path + '/files', 'after.jpg', image(),
            token)
        self.assertEqual(status, 201, photo)
        quote['photos'].append(photo['id'])
        status, body = server.call('POST', path + '/steps', quote,
            token=token)
        self.assertEqual(status, 200, body)
        self.assertEqual(body['progress']['current_step'], 'quote')
        record = [r for s in body['progress']['steps'] for r in s['records']
            if r['action'] == 'submit_quote'][-1]
        self.assertEqual([p['id'] for p in record['photos']],
            quote['photos'])

        order_id, = [i for i, d in self.after_api['orders'].items()
            if d['type'] == 'maintenance' and d['state'] == 'in_progress']
        status, body = server.call('POST',
            '/orders/%s/quote/confirm' % order_id, {},
            token=self.after_tokens['orders'][order_id])
        self.assertEqual(status, 200, body)
        self.assertEqual(body['progress']['quote_status'], 'confirmed')

    @staticmethod
    def _files(detail):
        "The files an order's detail lists"
        found = []
        for value in _dicts(detail):
            for key in ['files', 'photos']:
                if isinstance(value.get(key), list):
                    found.extend(value[key])
        return found


def _dicts(value):
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _dicts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _dicts(item)


def compare(before, after, path, differences):
    """Whether after says all that before said: the same values, keys
    added allowed; lists of records (with an id) in any order; the actions
    an order offers may be more (the current API offers some the release
    did not)"""
    if isinstance(before, dict):
        if not isinstance(after, dict):
            differences.append((path, before, after))
            return
        for key, value in before.items():
            if key not in after:
                differences.append((path + '.' + str(key), value, None))
            elif key == 'actions' and isinstance(value, list):
                missing = ({a['action'] for a in value}
                    - {a['action'] for a in after[key]})
                if missing:
                    differences.append((path + '.actions', missing, None))
            else:
                compare(value, after[key], '%s.%s' % (path, key),
                    differences)
    elif isinstance(before, list):
        if not isinstance(after, list) or len(before) != len(after):
            differences.append((path, before, after))
            return
        if all(isinstance(i, dict) and 'id' in i for i in before + after):
            before = sorted(before, key=lambda i: i['id'])
            after = sorted(after, key=lambda i: i['id'])
        for i, (old, new) in enumerate(zip(before, after)):
            compare(old, new, '%s[%s]' % (path, i), differences)
    elif before != after:
        differences.append((path, before, after))
