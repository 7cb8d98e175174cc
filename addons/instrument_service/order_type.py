# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""The eight order types and the instrument fields each one asks for.

This table is the single source of the per-type form: the model validates
lines with it, the views show or hide fields with it and the API publishes it
as the form schema of each type.
"""

ORDER_TYPES = [
    ('repair', "Repair"),
    ('maintenance', "Maintenance"),
    ('recycle', "Buy-back"),
    ('rental', "Rental"),
    ('training', "Training"),
    ('validation', "Validation"),
    ('selection', "Selection"),
    ('installation', "Installation"),
    ]

REQUIRED, OPTIONAL = 'required', 'optional'

_INSTRUMENT = {
    'instrument_name': REQUIRED,
    'category': OPTIONAL,
    'brand': REQUIRED,
    'model': OPTIONAL,
    }

# field name of instrument_service.order.line -> required or optional;
# a field absent from a type's entry does not belong to that type's form.
LINE_FIELDS = {
    'repair': {
        **_INSTRUMENT, 'fault_description': REQUIRED,
        'photos': OPTIONAL, 'quantity': REQUIRED},
    'maintenance': {
        **_INSTRUMENT, 'fault_description': REQUIRED,
        'photos': OPTIONAL, 'quantity': REQUIRED},
    'recycle': {
        **_INSTRUMENT, 'quantity': REQUIRED, 'attachments': OPTIONAL},
    'rental': {
        **_INSTRUMENT, 'quantity': REQUIRED, 'attachments': OPTIONAL},
    'training': {
        **_INSTRUMENT, 'appointment_time': REQUIRED},
    'validation': {
        **_INSTRUMENT, 'validation_categories': REQUIRED,
        'photos': OPTIONAL, 'quantity': REQUIRED},
    'selection': {
        'instrument_name': REQUIRED, 'requirement': REQUIRED,
        'quantity': REQUIRED},
    'installation': {
        **_INSTRUMENT, 'photos': OPTIONAL, 'quantity': REQUIRED},
    }

# Fields of an order line that hold files rather than values
FILE_FIELDS = {'photos', 'attachments'}
