# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
import json

from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access


def notify(employees, order, message_id, **variables):
    """Tell the users of employees about order: a Tryton notification, seen
    in the back office and listed by the engineers' app"""
    pool = Pool()
    User = pool.get('res.user')
    Notification = pool.get('res.notification')
    employee_ids = [e.id for e in employees if e]
    if not employee_ids:
        return
    notifications = []
    with without_check_access():
        users = User.search([('employees', 'in', employee_ids)])
        for user in users:
            language = user.language.code if user.language else None
            with Transaction().set_context(language=language):
                label = gettext(message_id, order=order.rec_name,
                    **variables)
            notifications.append(Notification(
                    user=user, label=label, description=order.name,
                    model='instrument_service.order',
                    records=json.dumps([order.id])))
        Notification.save(notifications)
