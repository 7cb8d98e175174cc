# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The dispatch rules, set in the back office: which engineers an order is
offered to, who takes it when nobody matches, and when unclaimed orders and
deadlines are brought to the dispatchers."""
import datetime as dt

from trytond.model import ModelSingleton, ModelSQL, ModelView, fields

DISPATCH_MODES = [
    ('offer', "Offer to All Matching Engineers"),
    ('manual', "Dispatcher Assigns"),
    ]


class Configuration(ModelSingleton, ModelSQL, ModelView):
    __name__ = 'instrument_service.configuration'

    dispatch_mode = fields.Selection(
        DISPATCH_MODES, "Dispatch Mode", required=True,
        help="Offer a new order at once to every matching engineer, the "
        "first to accept taking it (grab mode), or leave it to a dispatcher "
        "to assign or offer.")
    match_type = fields.Boolean(
        "Match Order Type",
        help="Offer orders only to engineers qualified for their type.")
    match_brand = fields.Boolean(
        "Match Brand",
        help="Offer orders only to engineers who service the brands of "
        "their instruments (engineers with no brand service all).")
    match_region = fields.Boolean(
        "Match Region",
        help="Offer orders only to engineers who serve the province and "
        "city of their address (engineers with no region serve all; an "
        "address whose province cannot be read matches everyone).")
    fallback_engineers = fields.Many2Many(
        'instrument_service.configuration.fallback_engineer',
        'configuration', 'engineer', "Fallback Engineers",
        help="Offered the orders no engineer matches.")
    escalation_delay = fields.TimeDelta(
        "Escalation Delay", required=True,
        domain=[('escalation_delay', '>', dt.timedelta(0))],
        help="How long an offer may stay unaccepted before the order is "
        "brought to the dispatchers.")
    service_phone = fields.Char(
        "Service Phone",
        help="The phone number of the service desk, shown in the apps.")
    sla_at_risk = fields.Integer(
        "At Risk After (%)", required=True,
        domain=[('sla_at_risk', '>=', 0), ('sla_at_risk', '<=', 100)],
        help="An order is at risk once this share of the time allowed for "
        "its next deadline has passed.")

    @classmethod
    def default_dispatch_mode(cls):
        return 'offer'

    @classmethod
    def default_match_type(cls):
        return True

    @classmethod
    def default_match_brand(cls):
        return True

    @classmethod
    def default_match_region(cls):
        return True

    @classmethod
    def default_escalation_delay(cls):
        return dt.timedelta(minutes=30)

    @classmethod
    def default_sla_at_risk(cls):
        return 80


class ConfigurationFallbackEngineer(ModelSQL):
    __name__ = 'instrument_service.configuration.fallback_engineer'

    configuration = fields.Many2One(
        'instrument_service.configuration', "Configuration",
        required=True, ondelete='CASCADE')
    engineer = fields.Many2One(
        'instrument_service.engineer', "Engineer",
        required=True, ondelete='CASCADE')
