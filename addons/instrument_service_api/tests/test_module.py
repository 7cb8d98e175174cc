# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
from unittest.mock import patch

from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction


class InstrumentServiceApiTestCase(ModuleTestCase):
    "Test Instrument Service API module"
    module = 'instrument_service_api'

    @with_transaction()
    def test_lost_login_race_is_retried(self):
        "A login that loses the race to create its customer is run again"
        from trytond.modules.instrument_service_api import availability
        from trytond.modules.instrument_service_api.api import (
            RetryTransaction)
        from trytond.modules.instrument_service_api.routes_auth import (
            _find_or_create)
        WebUser = Pool().get('web.user')
        WebUser(wechat_openid='o-race').save()
        # The other login committed after this one searched
        with patch.object(WebUser, 'search', return_value=[]):
            with self.assertRaises(RetryTransaction) as raised:
                _find_or_create([('wechat_openid', '=', 'o-race')],
                    {'wechat_openid': 'o-race'})
        # A conflict to retry, not a lost database (503)
        self.assertFalse(availability.unavailable(raised.exception))

    @with_transaction()
    def test_old_idempotency_keys_removed(self):
        "The answers of retried writes are kept 30 days"
        import datetime as dt
        pool = Pool()
        WebUser = pool.get('web.user')
        Key = pool.get('instrument_service_api.idempotency_key')
        customer = WebUser(wechat_openid='o-keys')
        customer.save()
        Key.create([{'web_user': customer.id, 'key': 'k', 'fingerprint': 'f',
                    'status': 201, 'response': '{}'}])
        now = dt.datetime.now()
        for days, left in [(29, 1), (31, 0)]:
            with patch('trytond.modules.instrument_service.clock.now',
                    return_value=now + dt.timedelta(days=days)):
                Key.remove_old()
            self.assertEqual(Key.search_count([]), left, days)


del ModuleTestCase
