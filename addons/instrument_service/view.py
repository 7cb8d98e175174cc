# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""How an order reads to its customer and its engineer: the progress view
(every step with its evidence, the hint, what can be done next) and the
translated labels it shows.

The mobile apps read an order's progress on nearly every screen, so the
view is read in a handful of statements over the models' tables instead of
field by field through the records (bench/README.md measures both): the
workflow's steps and transitions come from Workflow.definition (cached),
the selection labels from a cache, and the evidence of the order (records
with their actors, photos, quotes and reports) from one query each."""
import datetime as dt
from zoneinfo import ZoneInfo

from sql import Null

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.transaction import Transaction

from .workflow import evidence_fields, render, visit_mode_matches

DEFAULT_TIMEZONE = 'Asia/Shanghai'
_labels = Cache('instrument_service.selection_labels', context=False)


def labels(Model, name):
    """The translated labels of the selection field name of Model, in the
    language of the transaction, by value"""
    key = (Model.__name__, name, Transaction().language)
    result = _labels.get(key)
    if result is None:
        field = Model._fields[name]
        result = _labels.set(key, dict(field.get_selection(
                    Model, name, None)))
    return result


def clear_labels():
    _labels.clear()


def ready(action, quote_state, report_state):
    """Whether action may be performed now, given the state of the current
    quote and report: an answer waits for the customer, a new quote waits
    for the answer to the last one"""
    quote_pending = quote_state == 'proposed'
    report_pending = report_state == 'proposed'
    return {
        'submit_quote': not quote_pending,
        'confirm_quote': quote_pending,
        'reject_quote': quote_pending,
        'confirm_report': report_pending,
        'reject_report': report_pending,
        }.get(action, True)


def attachments(resources):
    """The attachments of the resources ("model,id"), by resource, in the
    order they were attached in: {id, name, use} (use: workflow's
    attachment.SERVICE_USES)"""
    Attachment = Pool().get('ir.attachment')
    table = Attachment.__table__()
    cursor = Transaction().connection.cursor()
    result = {r: [] for r in resources}
    if not resources:
        return result
    cursor.execute(*table.select(table.resource, table.id, table.name,
            table.service_use,
            where=table.resource.in_(list(resources)),
            order_by=[table.sequence.asc.nulls_last, table.id.asc]))
    for resource, id_, name, use in cursor:
        result[resource].append({'id': id_, 'name': name, 'use': use})
    return result


def split_files(attachments):
    "The photos and the documents of a step's attachments"
    photos = [a for a in attachments if a['use'] != 'file']
    files = [a for a in attachments if a['use'] == 'file']
    return photos, files


def engineer_name(party_name, party_code):
    "An engineer as the apps name them: as Employee.rec_name (the party's)"
    if party_name or party_code:
        return party_name or '[%s]' % party_code


def actor_name(contact_name, customer_name, user_name, user_login):
    """Who made a progress record: the customer as the order's contact
    names them, else the user"""
    if contact_name or customer_name:
        return contact_name or customer_name
    return user_name or user_login


def record_label(transition_label, action_label, variables):
    "What a progress record says was done"
    if transition_label:
        return render(transition_label, variables)
    return action_label


def format_amount(amount):
    "1000.00 reads 1000, 1000.50 keeps its cents"
    if amount is None:
        return ''
    text = str(amount.normalize()
        if amount == amount.to_integral_value() else amount)
    if 'E' in text:
        text = str(amount.to_integral_value())
    return text


def format_datetime(value, timezone):
    "A stored (UTC) datetime as the customer reads it in timezone"
    if not value:
        return ''
    local = value.replace(tzinfo=dt.timezone.utc).astimezone(timezone)
    return gettext(
        'instrument_service.msg_datetime_format').format(date=local)


class OrderFacts:
    """What the views of one order read besides the order's own fields: its
    company's timezone and currency, its engineer's name, its quotes and
    reports (newest version first) and its workflow's definition"""

    def __init__(self, order):
        pool = Pool()
        Order = pool.get('instrument_service.order')
        Company = pool.get('company.company')
        Currency = pool.get('currency.currency')
        Employee = pool.get('company.employee')
        Party = pool.get('party.party')
        Workflow = pool.get('instrument_service.workflow')
        cursor = Transaction().connection.cursor()
        self.order = order
        table = Order.__table__()
        company = Company.__table__()
        currency = Currency.__table__()
        employee = Employee.__table__()
        party = Party.__table__()
        cursor.execute(*table
            .join(company, 'LEFT', condition=company.id == table.company)
            .join(currency, 'LEFT', condition=currency.id == company.currency)
            .join(employee, 'LEFT', condition=employee.id == table.engineer)
            .join(party, 'LEFT', condition=party.id == employee.party)
            .select(company.timezone, currency.code, party.name, party.code,
                where=table.id == order.id))
        timezone, self.currency, name, code = cursor.fetchone() or (
            None, None, None, None)
        self.timezone = ZoneInfo(timezone or DEFAULT_TIMEZONE)
        self.engineer = engineer_name(name, code)
        self.quotes = self._answers('instrument_service.order.quote',
            ['amount', 'plan'])
        self.reports = self._answers('instrument_service.order.report',
            ['content'])
        # The files of a quote or a report are those of the step that
        # submitted it
        self.files = {}
        self.definition = (Workflow.definition(order.workflow.id)
            if order.workflow else None)

    def _answers(self, model, names):
        Model = Pool().get(model)
        table = Model.__table__()
        cursor = Transaction().connection.cursor()
        columns = ['id', 'version', 'state', 'reason', 'progress'] + names
        cursor.execute(*table.select(
                *(getattr(table, c) for c in columns),
                where=table.order == self.order.id,
                order_by=[table.version.desc, table.id.desc]))
        return [dict(zip(columns, row)) for row in cursor]

    @property
    def quote(self):
        return self.quotes[0] if self.quotes else None

    @property
    def report(self):
        return self.reports[0] if self.reports else None

    def hint_variables(self):
        "The values of the placeholders of hints, names and labels"
        return {
            'noun': self.definition['work_noun'] if self.definition else '',
            'appointment': format_datetime(
                self.order.appointment, self.timezone),
            'amount': format_amount(
                self.quote['amount'] if self.quote else None),
            'engineer': self.engineer or '',
            }

    def quote_view(self, quote):
        return {
            'version': quote['version'],
            'state': quote['state'],
            'reason': quote['reason'],
            'amount': quote['amount'],
            'currency': self.currency,
            'plan': quote['plan'],
            'files': self.files.get(quote['progress'], []),
            }

    def report_view(self, report):
        return {
            'version': report['version'],
            'state': report['state'],
            'reason': report['reason'],
            'content': report['content'],
            'files': self.files.get(report['progress'], []),
            }


def render_hint(step, variables, visit_mode, revising=False):
    """The hint of a step (a dictionary of Workflow.definition) as the
    customer reads it: its remote variant for a remote assistance, its
    revising variant while a rejected quote is being revised"""
    template = step['hint']
    if revising:
        template = step.get('hint_revising') or gettext(
            'instrument_service.msg_hint_revising')
    elif visit_mode == 'remote' and step['hint_remote']:
        template = step['hint_remote']
    return render(template, variables)


def available_transitions(definition, step_id, visit_mode, quote_state,
        report_state, check_ready=True):
    """The transitions of a workflow definition that leave step_id, fit the
    visit mode and, with check_ready, whose proposal (quote, report) allows
    them now"""
    return [t for t in (definition['transitions'] if definition else [])
        if t['from_step'] == step_id
        and visit_mode_matches(t['visit_mode'], visit_mode)
        and (not check_ready
            or ready(t['action'], quote_state, report_state))]


def answer_status(proposal, revisable):
    """Where a quote or a report stands for the customer: proposed (to
    answer), revising (rejected, a new one is being prepared), confirmed;
    None before the first one"""
    if not proposal:
        return None
    if proposal['state'] == 'rejected':
        return 'revising' if revisable else 'rejected'
    return proposal['state']


def progress_records(order, facts, variables):
    """The views of the progress records that reached a step, by step, in
    the order they happened"""
    pool = Pool()
    Progress = pool.get('instrument_service.order.progress')
    User = pool.get('res.user')
    WebUser = pool.get('web.user')
    table = Progress.__table__()
    user = User.__table__()
    cursor = Transaction().connection.cursor()
    columns = ['id', 'action', 'transition', 'to_step', 'date', 'actor_role',
        'actor_customer', 'description', 'reason', 'visit_mode',
        'appointment', 'check_in_time', 'latitude', 'longitude', 'accuracy',
        'check_in_address', 'coordinate_system', 'quote', 'report']
    cursor.execute(*table
        .join(user, 'LEFT', condition=user.id == table.actor_user)
        .select(*(getattr(table, c) for c in columns),
            # As User.rec_name gives it
            user.name, user.login,
            where=(table.order == order.id) & (table.to_step != Null),
            order_by=[table.date.asc, table.id.asc]))
    rows = [(dict(zip(columns, row)), row[-2:]) for row in cursor]
    files = attachments(['%s,%s' % (Progress.__name__, r['id'])
            for r, _ in rows])
    transitions = {t['id']: t for t in (
            facts.definition['transitions'] if facts.definition else [])}
    actions = labels(Progress, 'action')
    quotes = {q['id']: q for q in facts.quotes}
    reports = {r['id']: r for r in facts.reports}
    records = {}
    for row, _ in rows:
        photos, documents = split_files(
            files['%s,%s' % (Progress.__name__, row['id'])])
        facts.files[row['id']] = documents
    for row, (user_name, user_login) in rows:
        transition = transitions.get(row['transition'])
        actor = actor_name(
            row['actor_customer'] and order.contact_name,
            row['actor_customer'] and WebUser(row['actor_customer']).rec_name,
            user_name, user_login)
        photos, documents = split_files(
            files['%s,%s' % (Progress.__name__, row['id'])])
        check_in = None
        if row['check_in_time']:
            check_in = {
                'time': row['check_in_time'],
                'latitude': row['latitude'],
                'longitude': row['longitude'],
                'accuracy': row['accuracy'],
                'address': row['check_in_address'],
                'coordinate_system': row['coordinate_system'],
                }
        quote = quotes.get(row['quote'])
        report = reports.get(row['report'])
        records.setdefault(row['to_step'], []).append({
                'id': row['id'],
                'action': row['action'],
                'label': record_label(transition and transition['label'],
                    actions.get(row['action'], row['action']), variables),
                'date': row['date'],
                'actor_role': row['actor_role'],
                'actor_name': actor,
                'description': row['description'],
                'reason': row['reason'],
                'photos': photos,
                'files': documents,
                'visit_mode': row['visit_mode'],
                'appointment': row['appointment'],
                'check_in': check_in,
                'quote': facts.quote_view(quote) if quote else None,
                'report': facts.report_view(report) if report else None,
                })
    return records


def progress_view(order):
    """What the customer sees of the order: every step with its status
    (done, current, skipped, todo), the records of the steps reached, the
    rendered hint of the current step and what can be done next.

    The API and the back office both show this."""
    # Not at the top: order imports this module
    from .order import CLOSED_STATES
    facts = OrderFacts(order)
    variables = facts.hint_variables()
    records = progress_records(order, facts, variables)
    definition = facts.definition
    current = order.step.id if order.step else None
    workflow_steps = definition['steps'] if definition else []
    current_sequence = next((s['sequence'] for s in workflow_steps
            if s['id'] == current), None)
    quote, report = facts.quote, facts.report
    transitions = []
    if order.state not in CLOSED_STATES | {'draft'}:
        transitions = available_transitions(definition, current,
            order.visit_mode, quote['state'] if quote else None,
            report['state'] if report else None)
    # A rejected quote the engineer may revise now: the customer waits for
    # the new one, not for the rejected price
    revising = bool(quote and quote['state'] == 'rejected' and any(
            t['action'] == 'submit_quote' for t in transitions))
    current_step = None
    steps = []
    for step in workflow_steps:
        if current_sequence is not None and (
                step['sequence'] < current_sequence):
            status = 'done' if step['id'] in records else 'skipped'
        elif step['id'] == current:
            status = 'done' if step['final'] else 'current'
            current_step = step
        else:
            status = 'todo'
        steps.append({
                'id': step['id'],
                'code': step['code'],
                'name': render(step['name'], variables),
                'status': status,
                'hint': (render_hint(step, variables, order.visit_mode,
                        revising) if step['id'] == current else None),
                'records': records.get(step['id'], []),
                })
    if order.state == 'cancelled':
        hint = gettext('instrument_service.msg_hint_cancelled',
            reason=order.cancel_reason or '')
    elif order.state == 'draft':
        hint = gettext('instrument_service.msg_hint_draft')
    elif not current_step:
        hint = gettext('instrument_service.msg_hint_waiting')
    else:
        hint = render_hint(current_step, variables, order.visit_mode,
            revising)
    actions = [{
            'action': t['action'],
            'actor': t['actor'],
            'label': render(t['label'], variables),
            'button': render(t['button'], variables) or t['action_string'],
            'fields': evidence_form(t, variables, order),
            } for t in transitions]
    report_revisable = bool(report and report['state'] == 'rejected'
        and order.state == 'in_progress')
    return {
        'id': order.id,
        'number': order.number,
        'name': order.name,
        'type': order.type,
        'state': order.state,
        'submitted_at': order.submitted_at,
        'visit_mode': order.visit_mode,
        'appointment': order.appointment,
        'engineer': facts.engineer,
        'current_step': (current_step or {}).get('code') if current else None,
        'hint': hint,
        'steps': steps,
        'actions': actions,
        'quote': facts.quote_view(quote) if quote else None,
        'quote_status': answer_status(quote, revising),
        'quotes': [facts.quote_view(q) for q in facts.quotes],
        'report': facts.report_view(report) if report else None,
        'report_status': answer_status(report, report_revisable),
        'reports': [facts.report_view(r) for r in facts.reports],
        'rating': {
            'attitude': order.rating_attitude,
            'quality': order.rating_quality,
            'overall': order.rating_overall,
            'comment': order.rating_comment,
            } if order.rating_overall else None,
        }


# The label of each evidence field but the description, which a transition
# that requires it names with its own label ("${noun} assessment")
FIELD_LABELS = {
    'description': 'msg_label_description',
    'appointment': 'msg_label_appointment',
    'amount': 'msg_label_amount',
    'report': 'msg_label_report',
    'reason': 'msg_label_reason',
    'attitude': 'msg_label_attitude',
    'quality': 'msg_label_quality',
    'overall': 'msg_label_overall',
    'comment': 'msg_label_comment',
    'check_in': 'msg_label_check_in',
    'photos': 'msg_label_photos',
    'files': 'msg_label_files',
    }


def evidence_form(transition, variables, order):
    """The form of a transition (a dictionary of Workflow.definition) as
    the caller reads it: workflow.evidence_fields with their labels, and
    the earliest appointment"""
    result = []
    for field in evidence_fields(transition):
        field = dict(field)
        if (field['name'] == 'description' and field['required']
                and transition['label']):
            field['label'] = render(transition['label'], variables)
        else:
            field['label'] = gettext(
                'instrument_service.' + FIELD_LABELS[field['name']])
        if field['name'] == 'appointment':
            field['minimum'] = order.submitted_at
        result.append(field)
    return result
