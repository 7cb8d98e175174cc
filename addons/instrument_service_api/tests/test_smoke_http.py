# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
import unittest

from .server import APIServer


class SmokeTestCase(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = APIServer(engineers=2).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_login_and_order_types(self):
        server = self.server
        status, body = server.call('GET', '/order-types')
        self.assertEqual(status, 200)
        self.assertEqual(len(body['items']), 8)
        token = server.customer()
        status, body = server.call('GET', '/orders', token=token)
        self.assertEqual((status, body['total']), (200, 0))
        token = server.engineer(0)
        status, body = server.call('GET', '/engineer/inbox', token=token)
        self.assertEqual(status, 200, body)
