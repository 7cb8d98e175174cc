# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"Helpers for the scenarios: the people of a service company and their files"
import io

from PIL import Image, ImageDraw

from proteus import Model
from proteus.config import get_config
from trytond.modules.company.tests.tools import create_company, get_company
from trytond.modules.currency.tests.tools import get_currency
from trytond.pool import Pool
from trytond.tests.tools import set_user
from trytond.transaction import Transaction

__all__ = [
    'setup_service_company', 'create_engineer', 'create_dispatcher',
    'create_customer', 'customer_session', 'photo', 'progress_view',
    'engineer_profile', 'run_cron']


def create_group_user(login, group, company, employee=None):
    """A res.user of company in the module's group, as the employee; for
    the tests that run in a transaction of their own (no proteus)"""
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    user = User(login=login, name=login, company=company,
        companies=[company],
        groups=[ModelData.get_id('instrument_service', group)])
    if employee:
        user.employees = [employee]
        user.employee = employee
    user.save()
    return user


def setup_service_company(config=None):
    """Load Chinese, create a company in CNY and Shanghai time and switch
    the admin to Chinese"""
    Lang = Model.get('ir.lang', config=config)
    User = Model.get('res.user', config=config)
    zh, = Lang.find([('code', '=', 'zh_CN')])
    if not zh.translatable:
        zh.click('load_translations')
    create_company(currency=get_currency('CNY', config=config),
        config=config)
    company = get_company(config=config)
    company.timezone = 'Asia/Shanghai'
    company.save()
    admin = User.find([('login', '=', 'admin')])[0]
    admin.language = zh
    admin.save()
    set_user(admin, config=config)
    return company


def _user(login, name, groups, config=None, employee=None):
    User = Model.get('res.user', config=config)
    Group = Model.get('res.group', config=config)
    Lang = Model.get('ir.lang', config=config)
    ModelData = Model.get('ir.model.data', config=config)
    user = User(login=login, name=name)
    user.language, = Lang.find([('code', '=', 'zh_CN')])
    for group in groups:
        user.groups.append(Group(ModelData.get_id(
                    'instrument_service', group, {})))
    if employee:
        user.employees.append(employee)
        user.employee = employee
        user.company = employee.company
    user.save()
    return user


def create_dispatcher(login='dispatcher', name="调度员", config=None):
    return _user(login, name, ['group_dispatcher'], config=config)


def create_engineer(login, name, order_types, config=None):
    "Create an engineer who takes order_types and return the res.user"
    Party = Model.get('party.party', config=config)
    Employee = Model.get('company.employee', config=config)
    Engineer = Model.get('instrument_service.engineer', config=config)
    company = get_company(config=config)
    employee = Employee(party=Party(name=name), company=company)
    employee.party.save()
    employee.save()
    Engineer(employee=employee, order_types=order_types).save()
    return _user(login, name, ['group_engineer'], config=config,
        employee=employee)


def create_customer(email, name, config=None):
    WebUser = Model.get('web.user', config=config)
    Party = Model.get('party.party', config=config)
    party = Party(name=name)
    party.save()
    web_user = WebUser(email=email, party=party)
    web_user.save()
    return web_user


def customer_session(web_user, config=None):
    """Open a web user session as the customer's login would and return
    its key; the engine recognises the customer by it"""
    config = config or get_config()
    with Transaction().start(config.database_name, 0) as transaction:
        key = Pool().get('web.user.session').add(web_user.id)
        transaction.commit()
    return key


def photo(text='photo', size=(64, 48), format='JPEG'):
    "Return the bytes of a small real image"
    image = Image.new('RGB', size, (40, 90, 160))
    ImageDraw.Draw(image).text((4, 4), text, fill=(255, 255, 255))
    output = io.BytesIO()
    image.save(output, format=format)
    return output.getvalue()


def progress_view(order, config=None):
    "The progress view of order as its customer sees it"
    config = config or get_config()
    Order = Model.get('instrument_service.order', config=config)
    view, = Order.progress_view([order.id], config.context)
    return view


def engineer_profile(user, config=None):
    """The engineer profile (instrument_service.engineer) of the res.user
    of an engineer, active or not"""
    Engineer = Model.get('instrument_service.engineer', config=config)
    profile, = Engineer.find([
            ('employee', '=', user.employee.id),
            ('active', 'in', [True, False]),
            ])
    return profile


def run_cron(method, config=None):
    """Run once, as the administrator, the scheduled job (ir.cron) of
    method, e.g. 'instrument_service.order|check_sla'; the current user is
    restored afterwards"""
    config = config or get_config()
    Cron = Model.get('ir.cron', config=config)
    User = Model.get('res.user', config=config)
    user = config.user
    admin, = User.find([('login', '=', 'admin')])
    set_user(admin, config=config)
    try:
        cron, = Cron.find([('method', '=', method)])
        cron.click('run_once')
    finally:
        set_user(user, config=config)
