# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError, ValidationError


class FieldsMixin:
    """A refusal that names the values it is about: fields maps each one
    (as the caller named it: description, check_in.latitude, lines[0].brand)
    to a machine code (required, minimum, type...)"""

    def __init__(self, message, *args, fields=None, **kwargs):
        super().__init__(message, *args, **kwargs)
        self.fields = dict(fields or {})


class OrderValidationError(FieldsMixin, ValidationError):
    "The order or one of its instrument lines is incomplete"


class RegionValidationError(ValidationError):
    "A service region that names no province"


class StepNotAllowedError(UserError):
    "The action is not available at the order's current step"


class WrongActorError(AccessError):
    "The caller is not the party that may perform this action"


class MissingEvidenceError(FieldsMixin, ValidationError):
    "The action lacks evidence its transition requires"


class AlreadyTakenError(UserError):
    "Another engineer has already accepted the order"


class AppendOnlyError(AccessError):
    "Progress records cannot be changed once written"


class AtCapacityError(UserError):
    "The engineer has as many orders in progress as they may have"


class DeliveryRetry(Exception):
    "A channel failed for now (down, busy, throttled): try again later"


class DeliveryFailed(Exception):
    "A channel refused a notice for good (configuration, content)"
