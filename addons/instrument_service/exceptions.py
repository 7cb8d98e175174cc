# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError, ValidationError


class OrderValidationError(ValidationError):
    "The order or one of its instrument lines is incomplete"


class RegionValidationError(ValidationError):
    "A service region that names no province"


class StepNotAllowedError(UserError):
    "The action is not available at the order's current step"


class WrongActorError(AccessError):
    "The caller is not the party that may perform this action"


class MissingEvidenceError(ValidationError):
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
