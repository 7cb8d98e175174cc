# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The Simplified Chinese translation is complete and keeps the product copy.

When a test fails because strings were added or changed, run
`.venv/bin/python scripts/update_locale.py` and translate what it lists."""
import re
from collections import Counter
from pathlib import Path

import polib

from trytond.pool import Pool
from trytond.tests.test_tryton import (
    TestCase, activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction

MODULE = 'instrument_service'
LANG = 'zh_CN'
PO_PATH = Path(__file__).resolve().parent.parent / 'locale' / f'{LANG}.po'
ADDONS = Path(__file__).resolve().parents[2]
# ${noun} of the templates, %(name)s of the messages, {date...} of format()
PLACEHOLDER = re.compile(r'\$\{[^}]*\}|%\([^)]*\)\w|\{[^{}]*\}')
MESSAGE = 'model:ir.message,text:'


def export_template(module, lang):
    """The module's translation template as trytond-admin
    --export-translations makes it; run in a transaction on a database where
    the module is activated (scripts/update_locale.py uses it too)"""
    pool = Pool()
    Lang = pool.get('ir.lang')
    Translation = pool.get('ir.translation')
    language, = Lang.search([('code', '=', lang)])
    language.translatable = True
    language.save()
    for wizard, state, data in [
            ('ir.translation.set', 'set_', {}),
            ('ir.translation.clean', 'clean', {}),
            ('ir.translation.update', 'update',
                {'start': {'language': language.id}}),
            ]:
        Wizard = pool.get(wizard, type='wizard')
        session_id, _, _ = Wizard.create()
        Wizard.execute(session_id, data, state)
        Wizard.delete(session_id)
    return polib.pofile(
        Translation.translation_export(lang, module).decode('utf-8'),
        wrapwidth=78)


def placeholders(text):
    return Counter(PLACEHOLDER.findall(text))


class ModuleLocaleTestMixin:
    "The checks every module's zh_CN translation passes; set module"
    module = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(cls.module)
        cls.po_path = ADDONS / cls.module / 'locale' / f'{LANG}.po'
        cls.po = polib.pofile(str(cls.po_path))
        cls.entries = {(e.msgctxt, e.msgid): e for e in cls.po}

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def export_template(self):
        "The keys of the module's template, exported like trytond-admin does"
        return {(e.msgctxt, e.msgid)
            for e in export_template(self.module, LANG)}

    def translation(self, msgctxt):
        matches = [e.msgstr for e in self.po if e.msgctxt == msgctxt]
        self.assertEqual(len(matches), 1, msg=msgctxt)
        return matches[0]

    @with_transaction(user=0)
    def test_complete(self):
        "Every translatable string has a translation and none is stale"
        template = self.export_template()
        missing = sorted(
            '%s %r' % key for key in template
            if key not in self.entries
            or not self.entries[key].msgstr.strip()
            or 'fuzzy' in self.entries[key].flags)
        stale = sorted('%s %r' % key for key in self.entries.keys() - template)
        self.assertFalse(missing or stale,
            msg="Run scripts/update_locale.py and translate.\n"
            "Untranslated:\n%s\nObsolete:\n%s" % (
                '\n'.join(missing), '\n'.join(stale)))

    def test_no_duplicate(self):
        "Each context and source text is translated once"
        duplicates = [k for k, n in Counter(
                (e.msgctxt, e.msgid) for e in self.po).items() if n > 1]
        self.assertFalse(duplicates)

    def test_message_placeholders(self):
        "The messages keep the placeholders the code fills in"
        # The date format uses other fields on purpose (2025年5月29日10:00)
        # and the workflow copy may add ${noun} where the English has none,
        # so only the other messages must match.
        for entry in self.po:
            if (not entry.msgctxt.startswith(MESSAGE)
                    or entry.msgctxt == MESSAGE + 'msg_datetime_format'):
                continue
            with self.subTest(msgctxt=entry.msgctxt):
                self.assertEqual(
                    placeholders(entry.msgid), placeholders(entry.msgstr))


class LocaleTestCase(ModuleLocaleTestMixin, TestCase):
    "Test the zh_CN translation of instrument_service"
    module = MODULE

    def test_template_placeholders(self):
        "The workflow copy uses only the placeholders the engine fills in"
        known = {'${noun}', '${appointment}', '${amount}', '${engineer}'}
        for entry in self.po:
            if entry.msgctxt.startswith('model:instrument_service.workflow'):
                with self.subTest(msgctxt=entry.msgctxt):
                    self.assertLessEqual(
                        set(placeholders(entry.msgstr)), known)

    def test_product_copy(self):
        "Representative product copy is translated exactly"
        step = 'model:instrument_service.workflow.step,'
        transition = 'model:instrument_service.workflow.transition,'
        for msgctxt, msgstr in [
                (step + 'hint_remote:step_repair_visit',
                    '线上协助：请保持电话畅通，工程师稍后会联系您'),
                (step + 'hint:step_repair_visit',
                    '等待上门：已约定上门时间为${appointment}'
                    '请保持电话畅通，工程师会按约定时间上门'),
                (step + 'name:step_repair_accepted', '已接单'),
                (step + 'hint:step_repair_accepted',
                    '请保持电话畅通，我们稍后会联系您'),
                (step + 'name:step_recycle_assessment', '检查完成'),
                (step + 'name:step_selection_work', '选型进行中'),
                (step + 'name:step_repair_quote', '${noun}方案和报价'),
                (step + 'hint:step_repair_report',
                    '已完成${noun}验证，点击查看验证报告\n请确认验证报告'),
                (step + 'hint:step_repair_rating',
                    '1、服务态度\n2、服务质量\n3、总体评价'),
                (step + 'hint:step_installation_done', '祝您生活愉快！'),
                (transition + 'button:transition_repair_confirm_quote',
                    '确认订单'),
                ('model:instrument_service.workflow,work_noun:'
                    'workflow_validation', '验证'),
                (MESSAGE + 'msg_datetime_format',
                    '{date.year}年{date.month}月{date.day}日{date:%H:%M}'),
                ('field:instrument_service.order,number:', '任务编号'),
                ('field:instrument_service.order,name:', '任务名称'),
                ('field:instrument_service.order,submitted_at:', '提交时间'),
                ]:
            with self.subTest(msgctxt=msgctxt):
                self.assertEqual(self.translation(msgctxt), msgstr)

    def test_selections(self):
        "Order types and validation categories read as in the spec"
        order_types = {
            'Repair': '仪器维修',
            'Maintenance': '仪器保养',
            'Buy-back': '仪器回收',
            'Rental': '仪器租赁',
            'Training': '培训预约',
            'Validation': '仪器验证',
            'Selection': '仪器选型',
            'Installation': '仪器安装',
            }
        for msgid, msgstr in order_types.items():
            key = ('selection:instrument_service.order,type:', msgid)
            with self.subTest(msgid=msgid):
                self.assertEqual(self.entries[key].msgstr, msgstr)
        categories = 'selection:instrument_service.order.line,' \
            'validation_categories:'
        self.assertEqual(
            sorted(e.msgstr for e in self.po if e.msgctxt == categories),
            ['IQ 安装验证', 'OQ 运行验证', 'PQ 性能验证'])

    @with_transaction(user=0)
    def test_loaded(self):
        "Tryton loads the file and shows it to a zh_CN user"
        pool = Pool()
        Translation = pool.get('ir.translation')
        Order = pool.get('instrument_service.order')
        Step = pool.get('instrument_service.workflow.step')
        Data = pool.get('ir.model.data')
        Translation.translation_import(LANG, MODULE, [str(PO_PATH)])
        with Transaction().set_context(language=LANG):
            self.assertEqual(
                Order.fields_get(['number'])['number']['string'], '任务编号')
            step = Step(Data.get_id(MODULE, 'step_repair_visit'))
            self.assertEqual(
                step.hint_remote, '线上协助：请保持电话畅通，工程师稍后会联系您')


del TestCase
