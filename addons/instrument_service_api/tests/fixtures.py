# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""Fill a test database with the service company and its staff; run by the
test server in its own process: fixtures.py CONFIG DATABASE ENGINEERS
[TYPES], TYPES being a JSON object of engineer index -> the order types that
engineer takes (all types otherwise). Prints the people as JSON on its last
line."""
import json
from decimal import Decimal
import secrets
import sys

from trytond.config import config


def main(config_path, database, engineers, engineer_types=None):
    config.update_etc(config_path)
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    pool = Pool(database)
    pool.init()
    with Transaction().start(database, 0) as transaction:
        Currency = pool.get('currency.currency')
        Party = pool.get('party.party')
        Company = pool.get('company.company')
        Employee = pool.get('company.employee')
        User = pool.get('res.user')
        Lang = pool.get('ir.lang')
        ModelData = pool.get('ir.model.data')
        Engineer = pool.get('instrument_service.engineer')
        Workflow = pool.get('instrument_service.workflow')

        cny, = Currency.create([{'name': "人民币", 'code': 'CNY',
                    'symbol': '¥', 'digits': 2,
                    'rounding': Decimal('0.01')}])
        company = Company(party=Party(name="仪服科技（上海）有限公司"),
            currency=cny, timezone='Asia/Shanghai')
        company.party.save()
        company.save()
        zh, = Lang.search([('code', '=', 'zh_CN')])
        order_types = [w.order_type for w in Workflow.search([])]

        def user(login, group, employee=None):
            password = secrets.token_urlsafe(18)
            record = User(login=login, name=login, password=password,
                language=zh, company=company, companies=[company],
                groups=[ModelData.get_id('instrument_service', group)])
            if employee:
                record.employees = [employee]
                record.employee = employee
            record.save()
            return {'login': login, 'password': password, 'id': record.id,
                'employee': employee.id if employee else None}

        people = {'company': company.id, 'engineers': []}
        for index in range(engineers):
            employee = Employee(
                party=Party(name="工程师%02d" % index), company=company)
            employee.party.save()
            employee.save()
            Engineer(employee=employee, order_types=(engineer_types or {}).get(
                    str(index), order_types)).save()
            people['engineers'].append(
                user('engineer%02d' % index, 'group_engineer', employee))
        people['dispatcher'] = user('dispatcher', 'group_dispatcher')
        transaction.commit()
    print(json.dumps(people))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]),
        json.loads(sys.argv[4]) if len(sys.argv) > 4 else None)
