# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""Workflow definitions: per order type, the ordered steps the customer sees
and the transitions between them, with who performs each transition and the
evidence it needs. Everything here is data an administrator can edit."""
from string import Template

from trytond.cache import Cache
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, Unique, fields, sequence_ordered)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .order_type import ORDER_TYPES

ACTORS = [
    ('engineer', "Engineer"),
    ('customer', "Customer"),
    ('staff', "Staff"),
    ]

# The engine's vocabulary: what a transition does besides moving the order.
ACTIONS = [
    ('accept', "Accept"),
    ('visit_onsite', "Schedule an on-site visit"),
    ('visit_remote', "Assist remotely"),
    ('submit_assessment', "Submit assessment"),
    ('submit_quote', "Submit plan and quote"),
    ('confirm_quote', "Confirm quote"),
    ('reject_quote', "Reject quote"),
    ('submit_report', "Submit report"),
    ('confirm_report', "Confirm report"),
    ('reject_report', "Reject report"),
    ('finish_remote', "Finish remote assistance"),
    ('rate', "Rate the service"),
    ]

VISIT_MODES = [
    (None, ""),
    ('onsite', "On site"),
    ('remote', "Remote"),
    ]

# The evidence each action of the engine offers on its form besides what
# its transition requires: the engine stores these values and no others
ACTION_EVIDENCE = {
    'accept': [],
    'visit_onsite': ['appointment', 'description'],
    'visit_remote': ['description'],
    'submit_assessment': ['description', 'photos', 'check_in'],
    'submit_quote': ['description', 'amount', 'photos', 'files'],
    'confirm_quote': [],
    'reject_quote': ['reason'],
    'submit_report': ['report', 'files', 'photos'],
    'confirm_report': [],
    'reject_report': ['reason'],
    'finish_remote': ['description', 'photos'],
    'rate': ['rating'],
    }
# The actions whose record is a proposal the customer answers; the files of
# the step go with the proposal
PROPOSALS = {'submit_quote': 'quote', 'submit_report': 'report'}
# How many photos or files one step takes at most
MAX_EVIDENCE_FILES = 20
# Stars of a rating
RATING_FIELDS = ['attitude', 'quality', 'overall']


def evidence_fields(transition):
    """The evidence of a transition (a dictionary of
    Workflow.definition), in the order of its form: the fields its action
    offers and those it requires, each {name, kind, required} and its
    limits (min_items, max_items, minimum, maximum, exclusive_minimum).

    The one reading of the evidence rules: the engine checks a step with
    it, the API lists it as what an action requires and publishes it as
    the schema of the step's request."""
    offered = set(ACTION_EVIDENCE.get(transition['action'], []))
    result = []

    def add(name, kind, required, **limits):
        result.append({'name': name, 'kind': kind,
                'required': bool(required), **limits})

    if 'appointment' in offered or transition['require_appointment']:
        add('appointment', 'datetime', transition['require_appointment'])
    if 'amount' in offered or transition['require_amount']:
        add('amount', 'money', transition['require_amount'],
            exclusive_minimum=0)
    if 'description' in offered or transition['require_description']:
        add('description', 'text', transition['require_description'])
    if 'report' in offered or transition['require_report']:
        add('report', 'text', transition['require_report'])
    if 'reason' in offered or transition['require_reason']:
        add('reason', 'text', transition['require_reason'])
    if 'rating' in offered or transition['require_rating']:
        for name in RATING_FIELDS:
            add(name, 'stars', transition['require_rating'],
                minimum=1, maximum=5)
        add('comment', 'text', False)
    if 'check_in' in offered or transition['require_check_in']:
        add('check_in', 'check_in', transition['require_check_in'])
    min_photos = transition['min_photos'] or 0
    if 'photos' in offered or min_photos:
        add('photos', 'images', min_photos, min_items=min_photos,
            max_items=MAX_EVIDENCE_FILES)
    min_files = transition['min_files'] or 0
    if 'files' in offered or min_files:
        add('files', 'files', min_files, min_items=min_files,
            max_items=MAX_EVIDENCE_FILES)
    return result


# The fields of a transition that say what evidence it requires
EVIDENCE_RULES = [
    'require_description', 'min_photos', 'min_files', 'require_appointment',
    'require_check_in', 'require_amount', 'require_report', 'require_rating',
    'require_reason']


def render(template, variables):
    "Render a hint or label template; unknown placeholders stay as written"
    return Template(template or '').safe_substitute(variables)


def visit_mode_matches(transition_mode, order_mode):
    "Whether a transition of transition_mode fits an order of order_mode"
    return not transition_mode or transition_mode == order_mode


class DefinitionCacheMixin:
    """Clears the cached definitions of the workflows when one of their
    records changes"""
    __slots__ = ()

    @classmethod
    def create(cls, vlist):
        records = super().create(vlist)
        Pool().get('instrument_service.workflow').clear_definitions()
        return records

    @classmethod
    def write(cls, *args):
        super().write(*args)
        Pool().get('instrument_service.workflow').clear_definitions()

    @classmethod
    def delete(cls, records):
        super().delete(records)
        Pool().get('instrument_service.workflow').clear_definitions()


class Workflow(DefinitionCacheMixin, DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'instrument_service.workflow'
    # Every view of an order reads its workflow's steps and transitions:
    # read once per language, cleared when any of them changes (and synced
    # between the server processes by Tryton's cache)
    _definitions = Cache(
        'instrument_service.workflow.definition', context=False)

    name = fields.Char("Name", required=True, translate=True)
    order_type = fields.Selection(ORDER_TYPES, "Order Type", required=True)
    work_noun = fields.Char(
        "Work Noun", required=True, translate=True,
        help="Replaces ${noun} in the step names, hints and labels.")
    steps = fields.One2Many(
        'instrument_service.workflow.step', 'workflow', "Steps")
    transitions = fields.One2Many(
        'instrument_service.workflow.transition', 'workflow', "Transitions")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('order_type_unique', Unique(t, t.order_type),
                'instrument_service.msg_workflow_order_type_unique'),
            ]

    @classmethod
    def for_type(cls, order_type):
        workflows = cls.search([('order_type', '=', order_type)], limit=1)
        if workflows:
            return workflows[0]

    @classmethod
    def definition(cls, workflow_id):
        """The steps and transitions of the workflow as read-only
        dictionaries, in the language of the transaction: work_noun, steps
        (ordered) and transitions"""
        key = (workflow_id, Transaction().language)
        definition = cls._definitions.get(key)
        if definition is None:
            workflow = cls(workflow_id)
            definition = cls._definitions.set(key, {
                    'id': workflow.id,
                    'work_noun': workflow.work_noun or '',
                    'steps': [{
                            'id': s.id,
                            'code': s.code,
                            'name': s.name or '',
                            'hint': s.hint or '',
                            'hint_remote': s.hint_remote or '',
                            'hint_revising': s.hint_revising or '',
                            'sequence': s.sequence,
                            'final': bool(s.final),
                            'customer_can_cancel': bool(
                                s.customer_can_cancel),
                            } for s in workflow.steps],
                    'transitions': [{
                            'id': t.id,
                            'from_step': t.from_step.id if t.from_step
                            else None,
                            'to_step': t.to_step.id,
                            'action': t.action,
                            'action_string': t.action_string,
                            'actor': t.actor,
                            'visit_mode': t.visit_mode,
                            'label': t.label or '',
                            'button': t.button or '',
                            **{name: getattr(t, name)
                                for name in EVIDENCE_RULES},
                            } for t in workflow.transitions],
                    })
        return definition

    @classmethod
    def clear_definitions(cls):
        cls._definitions.clear()

    def first_transition(self, action):
        "The transition that starts the work on an order (no origin step)"
        for transition in self.transitions:
            if not transition.from_step and transition.action == action:
                return transition


class WorkflowStep(
        DefinitionCacheMixin, sequence_ordered(), ModelSQL, ModelView):
    __name__ = 'instrument_service.workflow.step'

    workflow = fields.Many2One(
        'instrument_service.workflow', "Workflow", required=True,
        ondelete='CASCADE')
    code = fields.Char(
        "Code", required=True,
        help="Stable identifier of the step for the mobile clients.")
    name = fields.Char(
        "Name", required=True, translate=True,
        help="Shown to the customer; ${noun} is replaced by the work noun.")
    hint = fields.Text(
        "Hint", translate=True,
        help="Shown to the customer while the order is at this step.\n"
        "Placeholders: ${noun}, ${appointment}, ${amount}, ${engineer}.")
    hint_remote = fields.Text(
        "Hint for Remote Assistance", translate=True,
        help="Replaces the hint when the order is assisted remotely.")
    hint_revising = fields.Text(
        "Hint While Revising", translate=True,
        help="Replaces the hint while the engineer revises a quote the "
        "customer rejected.")
    customer_can_cancel = fields.Boolean(
        "Customer Can Cancel",
        help="The customer may cancel the order while it is at this step.")
    final = fields.Boolean(
        "Final", help="Reaching this step completes the order.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('workflow_code_unique', Unique(t, t.workflow, t.code),
                'instrument_service.msg_workflow_step_code_unique'),
            ]

    def get_rec_name(self, name):
        # The back office shows the name as the customer reads it
        return self.render_name({'noun': self.workflow.work_noun})

    def render_name(self, variables):
        return render(self.name, variables)


class WorkflowTransition(DefinitionCacheMixin, ModelSQL, ModelView):
    __name__ = 'instrument_service.workflow.transition'

    workflow = fields.Many2One(
        'instrument_service.workflow', "Workflow", required=True,
        ondelete='CASCADE')
    from_step = fields.Many2One(
        'instrument_service.workflow.step', "From Step", ondelete='CASCADE',
        domain=[('workflow', '=', Eval('workflow', -1))],
        help="Leave empty for the transition that takes a submitted order.")
    to_step = fields.Many2One(
        'instrument_service.workflow.step', "To Step", required=True,
        ondelete='CASCADE',
        domain=[('workflow', '=', Eval('workflow', -1))])
    action = fields.Selection(ACTIONS, "Action", required=True)
    action_string = action.translated('action')
    actor = fields.Selection(ACTORS, "Actor", required=True)
    actor_string = actor.translated('actor')
    visit_mode = fields.Selection(
        VISIT_MODES, "Visit Mode",
        help="Only available when the order has this visit mode.")
    label = fields.Char(
        "Label", translate=True,
        help="Label of the evidence this transition records, "
        "e.g. \"${noun} assessment\".")
    button = fields.Char(
        "Button", translate=True,
        help="Text of the button that performs the transition.")
    require_description = fields.Boolean("Require Description")
    min_photos = fields.Integer(
        "Minimum Photos", required=True,
        domain=[('min_photos', '>=', 0)])
    require_appointment = fields.Boolean("Require Appointment")
    require_check_in = fields.Boolean("Require Check-in")
    require_amount = fields.Boolean("Require Quote Amount")
    require_report = fields.Boolean("Require Report")
    require_rating = fields.Boolean("Require Rating")
    require_reason = fields.Boolean("Require Reason")
    min_files = fields.Integer(
        "Minimum Files", required=True,
        domain=[('min_files', '>=', 0)],
        help="Documents or photos the step must carry with its quote or "
        "report (PDF, Word, Excel, photos).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('from_step', 'ASC NULLS FIRST'))

    @classmethod
    def default_min_photos(cls):
        return 0

    @classmethod
    def default_min_files(cls):
        return 0

    def get_rec_name(self, name):
        return '%s → %s' % (
            self.from_step.name if self.from_step else '',
            self.to_step.name)


