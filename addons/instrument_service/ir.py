# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
from trytond.pool import Pool, PoolMeta

from . import view


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    # Engineers' record rules filter orders on the employees of the user
    @classmethod
    def _get_cache_key(cls, model_names):
        pool = Pool()
        User = pool.get('res.user')
        key = super()._get_cache_key(model_names)
        return (*key, User.get_employees())

    @classmethod
    def _get_context(cls, model_name):
        pool = Pool()
        User = pool.get('res.user')
        context = super()._get_context(model_name)
        context['employees'] = User.get_employees()
        return context


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('instrument_service.order|escalate_unclaimed',
                    "Escalate Unclaimed Service Orders"),
                ('instrument_service.order|check_sla',
                    "Flag Service Orders Past Their Deadline"),
                ('instrument_service.notice|deliver_due',
                    "Deliver Pending Notices"),
                ])


class Translation(metaclass=PoolMeta):
    __name__ = 'ir.translation'

    # The workflow definitions and selection labels are cached translated
    # (view.py): a translation edited or loaded must be seen at once
    @classmethod
    def create(cls, vlist):
        records = super().create(vlist)
        cls._clear_service_caches()
        return records

    @classmethod
    def write(cls, *args):
        super().write(*args)
        cls._clear_service_caches()

    @classmethod
    def delete(cls, translations):
        super().delete(translations)
        cls._clear_service_caches()

    @classmethod
    def _clear_service_caches(cls):
        Pool().get('instrument_service.workflow').clear_definitions()
        view.clear_labels()
