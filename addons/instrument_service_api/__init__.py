# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
# Importing the routes registers them on trytond's WSGI application
from . import (
    health, metrics, routes_auth, routes_customer, routes_docs,
    routes_engineer, webapps)

__all__ = [health, metrics, routes_auth, routes_customer, routes_docs,
    routes_engineer, webapps]
