# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
from trytond.pool import PoolMeta
from trytond.transaction import Transaction


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('ir.attachment|remove_unclaimed_uploads',
                    "Remove Unclaimed Uploads"),
                ('instrument_service_api.idempotency_key|remove_old',
                    "Remove Old Idempotency Keys"),
                ])


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    # Engineers' record rule on their own device sessions
    @classmethod
    def _get_context(cls, model_name):
        context = super()._get_context(model_name)
        if model_name == 'instrument_service_api.device_session':
            context['user_id'] = Transaction().user
        return context

    @classmethod
    def _get_cache_key(cls, model_names):
        key = super()._get_cache_key(model_names)
        if 'instrument_service_api.device_session' in model_names:
            key = (*key, Transaction().user)
        return key
