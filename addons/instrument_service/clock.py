# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The time the module's deadlines are measured against.

Offers escalate, deadlines pass and notices are retried by the clock; the
module reads it here only, so that a test can set it (unittest.mock.patch
of now) and run the scheduled jobs at any moment it chooses."""
import datetime as dt


def now():
    "The current time, naive UTC as Tryton stores it (trytond sets TZ=UTC)"
    return dt.datetime.now()
