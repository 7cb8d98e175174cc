# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The Simplified Chinese translation of the API is complete.

When a test fails because strings were added or changed, run
`.venv/bin/python scripts/update_locale.py` and translate what it lists."""
from trytond.modules.instrument_service.tests.test_locale import (
    ModuleLocaleTestMixin)
from trytond.tests.test_tryton import TestCase


class ApiLocaleTestCase(ModuleLocaleTestMixin, TestCase):
    "Test the zh_CN translation of instrument_service_api"
    module = 'instrument_service_api'

    def test_error_messages(self):
        "The errors the mobile clients show read in Chinese"
        self.assertEqual(
            self.translation('model:ir.message,text:msg_unauthorized'),
            '请先登录：令牌缺失、无效或已过期。')
        self.assertEqual(
            self.translation('model:ir.message,text:msg_wechat_invalid_code'),
            '微信登录凭证无效或已过期，请重新调用 wx.login。')


del TestCase
