#!/usr/bin/env python3
"""Run a past release's code in this virtualenv (tests/test_upgrade.py).

    python tests/upgrade_release.py TREE build CONFIG DB DATA_PATH OUT_JSON
    python tests/upgrade_release.py TREE trytond|trytond-admin ARGS...

TREE holds the release's addons/ and scripts/ (`git archive v0.1.0 addons
scripts | tar -x -C TREE`). The installed modules resolve
trytond.modules.instrument_service* to this checkout's addons/ (pyproject's
package-dir, editable install); here TREE/addons is put first on the path of
the trytond.modules package before trytond imports a module, so the two
names resolve to the release's code and everything else (trytond, its
modules, the Python packages) stays the same.

build: the release's own scripts/build_demo.py makes the database (module
activation, company, users, customers) and drives a selection of its demo
orders through the release's engine (history, quotes, reports, photos and
documents); then the administrator edits the workflows the way the back
office does. OUT_JSON gets the logins, the passwords and what was edited.

trytond, trytond-admin: the console script of the current trytond, on the
release's modules.

STORIES and EDITS name demo orders and workflow records of 0.1.0, and
build() uses that release's build_demo: when a newer release becomes the
last one, check them against its code.
"""
import datetime as dt
import json
import os
import runpy
import sys
from pathlib import Path

MODULES = ['instrument_service', 'instrument_service_api']

# The demo orders made: (type, target step, variant) of the release's
# build_demo.Story, chosen to cover every kind of record an order collects
STORIES = {
    ('repair', 'work', 'quote_revised'),
    ('maintenance', 'quote', 'quote_revised'),
    ('validation', 'done', 'report_rejected'),
    ('installation', 'report', None),
    ('recycle', 'assessment', None),
    ('selection', 'visit', 'remote'),
    ('repair', 'done', 'remote'),
    ('rental', 'waiting', None),
    ('maintenance', 'waiting', 'phone'),
    ('training', 'cancelled', 'cancel_customer'),
    }

# What the administrator changes in the back office: (model, xml id of the
# module, values)
EDITS = [
    ('instrument_service.workflow.step', 'step_maintenance_quote', {
            'hint': '管理员修改：报价 ${amount} 元，请在三天内确认。'}),
    ('instrument_service.workflow.step', 'step_validation_report', {
            'name': '验证报告（管理员修改）', 'customer_can_cancel': True}),
    ('instrument_service.workflow.transition',
        'transition_maintenance_submit_quote', {
            'label': '管理员修改的报价记录'}),
    ('instrument_service.workflow.transition',
        'transition_recycle_submit_quote', {
            'min_photos': 2, 'require_description': False}),
    ('instrument_service.workflow', 'workflow_repair', {
            'sla_accept': dt.timedelta(hours=4)}),
    ]


def use_release(tree):
    "Resolve the modules to the release's tree; fail if they do not"
    import trytond.modules
    addons = str(Path(tree, 'addons').resolve())
    trytond.modules.__path__.insert(0, addons)
    for name in MODULES:
        module = __import__('trytond.modules.' + name, fromlist=['_'])
        if not module.__file__.startswith(addons + os.sep):
            raise SystemExit('%s is %s, not in %s'
                % (module.__name__, module.__file__, addons))
        print('upgrade_release: %s from %s' % (name, module.__file__),
            file=sys.stderr)


def build(tree, config, db, data_path, out):
    sys.path.insert(0, str(Path(tree, 'scripts').resolve()))
    import build_demo
    all_stories = build_demo._stories

    def stories(master):
        chosen = [s for s in all_stories(master)
            if (s.type, s.target, s.variant) in STORIES]
        assert len(chosen) == len(STORIES), len(chosen)
        return chosen
    build_demo._stories = stories
    result = build_demo.build_demo(db, data_path, config, force=True,
        log=lambda *a: print(*a, file=sys.stderr))
    edits = admin_edits(db)
    Path(out).write_text(json.dumps({
                'credentials': result['credentials'],
                'roles': result['roles'],
                'orders': result['orders'],
                'edits': edits,
                }, ensure_ascii=False, default=str))


def admin_edits(db):
    """The administrator's changes, through the models with the access
    rights checked, as the back office (sao) writes them"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    with Transaction().start(db, 0, readonly=True):
        User = Pool().get('res.user')
        admin, = User.search([('login', '=', 'admin')])
        admin_id = admin.id
    edits = []
    # In Chinese, the language of the administrator of this product: the
    # translatable fields are written as zh_CN translations
    with Transaction().start(db, admin_id, context={
                '_check_access': True, 'language': 'zh_CN'}) as transaction:
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        for model, xml_id, values in EDITS:
            Model = pool.get(model)
            record = Model(ModelData.get_id('instrument_service', xml_id))
            Model.write([record], dict(values))
            edits.append({'model': model, 'id': record.id,
                    'xml_id': xml_id, 'values': values})
        transaction.commit()
    return edits


def main(argv):
    tree, command, *args = argv
    use_release(tree)
    if command == 'build':
        build(tree, *args)
    elif command in {'trytond', 'trytond-admin'}:
        script = Path(sys.executable).parent / command
        sys.argv = [str(script), *args]
        runpy.run_path(str(script), run_name='__main__')
    else:
        raise SystemExit('unknown command %s' % command)


if __name__ == '__main__':
    main(sys.argv[1:])
