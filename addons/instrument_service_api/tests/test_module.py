# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
from trytond.tests.test_tryton import ModuleTestCase


class InstrumentServiceApiTestCase(ModuleTestCase):
    "Test Instrument Service API module"
    module = 'instrument_service_api'


del ModuleTestCase
