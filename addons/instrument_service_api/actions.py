# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""What a customer or an engineer can do on an order now: the actions of
its workflow's current step (the domain's progress view), each with the
fields of its form read from the workflow's evidence rules and the
operation that performs it; and the check of a request against the form
of its action, before the engine's own."""
from trytond.i18n import gettext
from trytond.pool import Pool

from trytond.modules.instrument_service.view import (
    OrderFacts, available_transitions, evidence_form)

from . import validation
from .api import PREFIX, APIError
from .schemas import evidence_schema

# The operations of the customer's actions, under /orders/{order_id}/
CUSTOMER_PATHS = {
    'quote/confirm': 'confirm_quote',
    'quote/reject': 'reject_quote',
    'report/confirm': 'confirm_report',
    'report/reject': 'reject_report',
    'rating': 'rate',
    'cancel': 'cancel',
    }
ACTION_PATHS = {action: path for path, action in CUSTOMER_PATHS.items()}
# The actions the engineer performs through POST .../steps
STEP_ACTIONS = {
    'visit_onsite', 'visit_remote', 'submit_assessment', 'submit_quote',
    'submit_report', 'finish_remote'}


def request_of(order_id, role, action):
    "The operation that performs action on the order"
    if role == 'customer':
        path = '/orders/%s/%s' % (order_id, ACTION_PATHS[action])
    else:
        path = '/engineer/tasks/%s/steps' % order_id
    return {'method': 'POST', 'path': PREFIX + path}


def upload_of(order_id, role):
    "Where the files of a step's form are uploaded"
    if role == 'engineer':
        return PREFIX + '/engineer/tasks/%s/files' % order_id
    return PREFIX + '/files'


def views(order_id, role, progress_actions, can_cancel=False):
    """The actions of the progress view that role performs, with their
    operation; the customer's cancel among them while it is possible"""
    result = []
    for action in progress_actions:
        if action['actor'] != role or (role == 'engineer'
                and action['action'] not in STEP_ACTIONS):
            continue
        view = {**action, 'fields': [], 'request': request_of(
                order_id, role, action['action'])}
        for field in action['fields']:
            field = dict(field)
            if field['kind'] in {'images', 'files'}:
                field['upload'] = upload_of(order_id, role)
            view['fields'].append(field)
        result.append(view)
    if role == 'customer' and can_cancel:
        result.append({
                'action': 'cancel',
                'actor': 'customer',
                'label': gettext('instrument_service_api.msg_cancel_label'),
                'button': gettext(
                    'instrument_service_api.msg_cancel_button'),
                'fields': [{
                        'name': 'reason', 'kind': 'text', 'required': True,
                        'label': gettext(
                            'instrument_service.msg_label_reason'),
                        }],
                'request': request_of(order_id, role, 'cancel'),
                })
    return result


def awaiting(orders, role):
    """The orders among orders (in progress) where role has something to
    do now: a quote or a report to answer, a rating to give"""
    Workflow = Pool().get('instrument_service.workflow')
    result = []
    for order in orders:
        if order.state != 'in_progress' or not order.workflow:
            continue
        facts = OrderFacts(order)
        quote, report = facts.quote, facts.report
        if any(t['actor'] == role for t in available_transitions(
                    Workflow.definition(order.workflow.id),
                    order.step.id if order.step else None, order.visit_mode,
                    quote['state'] if quote else None,
                    report['state'] if report else None)):
            result.append(order)
    return result


def form(order, role, action):
    """The fields of the form of action on the order for role now, or None
    when the action cannot be done now (the engine says why)"""
    Workflow = Pool().get('instrument_service.workflow')
    if order.state not in {'submitted', 'in_progress'} or not order.workflow:
        return None
    facts = OrderFacts(order)
    quote, report = facts.quote, facts.report
    for transition in available_transitions(
            Workflow.definition(order.workflow.id),
            order.step.id if order.step else None, order.visit_mode,
            quote['state'] if quote else None,
            report['state'] if report else None):
        if transition['action'] == action and transition['actor'] == role:
            return evidence_form(transition, facts.hint_variables(), order)


def check_evidence(order, role, action, values):
    """Refuse values that do not fit the form of action: 422
    invalid_evidence naming each field, as the workflow's evidence rules
    (which administrators edit) say now"""
    fields = form(order, role, action)
    if fields is None:
        return
    problems = validation.problems(values, schema=evidence_schema(
            fields, action if role == 'engineer' else None))
    if problems:
        raise APIError(422, 'invalid_evidence', gettext(
                'instrument_service_api.msg_invalid_evidence',
                names=gettext(
                    'instrument_service_api.msg_list_separator').join(
                    sorted(problems))),
            validation.fields(problems))
