"""The floor of the benchmark: a minimal WSGI application that answers the
four read scenarios with hand-written SQL, served by the same gunicorn
stack and settings as trytond (config/gunicorn.conf.py):

    BENCH_FLOOR_DB=bench_10k .venv/bin/gunicorn -c config/gunicorn.conf.py \\
        --pythonpath bench floor:app

It does the same work as the API without the framework: checks the same
token against the same session tables (with the same expiry, and for
engineers the same checks of the user and the engineer profile), reads
the same rows (the order page with its step, engineer and instruments;
the detail with its lines, files and their sizes on the filestore,
progress records, workflow steps, quote, report and the next
actions, with the zh_CN translations) and returns JSON of the same shape.
What it skips is the ORM (records, field access checks, caches), the
rendering of ${...} templates beyond the work noun, and the translation of
selection labels (a dict here). One psycopg connection per thread, kept for
the life of the worker; autocommit, so each statement is its own snapshot.
A figure of the API divided by this one says how much the framework and
our code cost above the database.

Paths mirror the API under /floor: /floor/orders, /floor/orders/<id>,
/floor/engineer/inbox, /floor/engineer/tasks; /floor/ping for readiness.
"""
import datetime as dt
import hashlib
import json
import os
import re
import threading
from zoneinfo import ZoneInfo

import psycopg

from trytond.modules.instrument_service import region

DB = os.environ.get('BENCH_FLOOR_DB', 'bench_10k')
DSN = os.environ.get('BENCH_DSN', 'host=127.0.0.1 user=postgres')
FILESTORE = os.path.join(os.environ.get('BENCH_FILESTORE', 'data/db'), DB)
TIMEZONE = ZoneInfo('Asia/Shanghai')
WEB_TIMEOUT = dt.timedelta(days=30)     # [session] web_timeout
SECRET = re.compile(r'[A-Za-z0-9_-]{43}')  # device.py
PAGE = 20
STATES = {'draft': '草稿', 'submitted': '待接单', 'in_progress': '进行中',
    'done': '已完成', 'cancelled': '已取消'}
TYPES = {'repair': '仪器维修', 'maintenance': '仪器保养', 'validation': '仪器验证',
    'installation': '仪器安装', 'selection': '仪器选型', 'rental': '仪器租赁',
    'recycle': '仪器回收', 'training': '仪器培训'}

_local = threading.local()


def cursor():
    connection = getattr(_local, 'connection', None)
    if connection is None or connection.closed:
        connection = _local.connection = psycopg.connect(
            DSN, dbname=DB, autocommit=True)
    return connection.cursor()


def tr(model, column):
    """The zh_CN translation of alias.field of a model, else its source,
    as Tryton reads a translatable field (ir_translation)"""
    alias, field = column.split('.')
    return (f"COALESCE((SELECT tr.value FROM ir_translation tr WHERE "
        f"tr.name = '{model},{field}' AND tr.res_id = {alias}.id AND "
        f"tr.lang = 'zh_CN' AND tr.type = 'model' AND tr.value != '' "
        f"LIMIT 1), {column})")


def to_json(value):
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.timezone.utc).astimezone(
            TIMEZONE).isoformat(timespec='seconds')
    return str(value)


def render(template, noun):
    return re.sub(r'\$\{noun\}', noun or '', template or '')


# ---- authentication ------------------------------------------------------

def customer(cur, token):
    if not token.startswith('c.'):
        return None
    cur.execute('SELECT s."user" FROM web_user_session s JOIN web_user u '
        'ON u.id = s."user" WHERE s.key = %s AND u.active AND '
        'COALESCE(s.write_date, s.create_date) > %s',
        (token[2:], dt.datetime.utcnow() - WEB_TIMEOUT))
    row = cur.fetchone()
    return row[0] if row else None


def engineer(cur, token):
    """The employees of the engineer of token (a device session) as
    res.user.get_employees gives them, or None: device.py's check"""
    secret = token[2:] if token.startswith('e.') else ''
    if not SECRET.fullmatch(secret):
        return None
    cur.execute('SELECT s."user" '
        'FROM instrument_service_api_device_session s '
        'JOIN res_user u ON u.id = s."user" WHERE s.secret_hash = %s '
        'AND s.revoked IS NULL AND s.expires > %s AND u.active '
        'AND EXISTS (SELECT 1 FROM "res_user-company_employee" ue '
        'JOIN instrument_service_engineer e ON e.employee = ue.employee '
        'WHERE ue."user" = s."user" AND e.active)',
        (hashlib.sha256(secret.encode()).hexdigest(), dt.datetime.utcnow()))
    row = cur.fetchone()
    if not row:
        return None
    cur.execute('SELECT employee FROM "res_user-company_employee" '
        'WHERE "user" = %s', row)
    return [r[0] for r in cur.fetchall()]


# ---- views ---------------------------------------------------------------

SUMMARY = f"""SELECT o.id, o.number, o.name, o.type, o.state, st.code,
    {tr('instrument_service.workflow.step', 'st.name')},
    {tr('instrument_service.workflow', 'w.work_noun')},
    o.submitted_at, o.appointment, p.name, o.contact_company,
    o.contact_address, o.province, o.city
FROM instrument_service_order o
LEFT JOIN instrument_service_workflow_step st ON st.id = o.step
LEFT JOIN instrument_service_workflow w ON w.id = o.workflow
LEFT JOIN company_employee e ON e.id = o.engineer
LEFT JOIN party_party p ON p.id = e.party"""


def summaries(cur, where, params, order, page, contact=True, limit=PAGE):
    cur.execute(f'{SUMMARY} WHERE {where} ORDER BY {order} LIMIT %s OFFSET %s',
        (*params, limit, (page - 1) * PAGE))
    rows = cur.fetchall()
    cur.execute('SELECT "order", instrument_name, brand, model, quantity '
        'FROM instrument_service_order_line WHERE "order" = ANY(%s) '
        'ORDER BY "order", id', ([r[0] for r in rows],))
    lines = {}
    for order_id, *line in cur.fetchall():
        lines.setdefault(order_id, []).append(dict(zip(
                    ('instrument_name', 'brand', 'model', 'quantity'), line)))
    result = []
    for (id_, number, name, type_, state, code, step, noun, submitted,
            appointment, engineer_, company, address, province,
            city) in rows:
        view = {'id': id_, 'number': number, 'type': type_,
            'type_name': TYPES.get(type_), 'state': state,
            'state_name': STATES.get(state), 'submitted_at': submitted,
            'instruments': lines.get(id_, [])}
        if contact:
            view.update({'name': name,
                    'step': {'code': code, 'name': render(step, noun)}
                    if code else None,
                    'appointment': appointment, 'engineer': engineer_,
                    'company': company})
        else:
            # No customer data before accepting: the region, as the API
            first = (lines.get(id_) or [{}])[0]
            view.update({'title': ' · '.join(filter(None, [
                            TYPES.get(type_), ' '.join(filter(None, [
                                        first.get('instrument_name'),
                                        first.get('brand'),
                                        first.get('model')]))])),
                    'province': province, 'city': city,
                    'district': region.district(address)})
        result.append(view)
    return result


def page_of(cur, where, params, order, contact=True):
    cur.execute(f'SELECT COUNT(*) FROM instrument_service_order o '
        f'WHERE {where}', params)
    total = cur.fetchone()[0]
    return {'items': summaries(cur, where, params, order, 1, contact),
        'page': 1, 'page_size': PAGE, 'total': total}


NEWEST = 'o.submitted_at DESC NULLS FIRST, o.id DESC'


def my_orders(cur, web_user):
    return page_of(cur, "o.customer = %s AND o.state != 'draft'",
        (web_user,), NEWEST)


def _files(cur, resources):
    "file views of the attachments of resources, by resource"
    cur.execute('SELECT id, resource, name, mimetype, file_id, thumbnail_id '
        'FROM ir_attachment WHERE resource = ANY(%s) '
        'ORDER BY resource, create_date DESC, id DESC', (resources,))
    result = {}
    for id_, resource, name, mimetype, file_id, thumbnail_id in \
            cur.fetchall():
        try:
            size = os.stat(os.path.join(FILESTORE, file_id[:2],
                    file_id[2:4], file_id)).st_size if file_id else None
        except OSError:
            size = None
        result.setdefault(resource, []).append({'id': id_, 'name': name,
                'mimetype': mimetype, 'size': size,
                'url': f'/api/v1/files/{id_}',
                'thumbnail_url': f'/api/v1/files/{id_}/thumbnail'
                if thumbnail_id else None})
    return result


def my_order(cur, web_user, order_id):
    cur.execute(f"{SUMMARY} WHERE o.id = %s AND o.customer = %s "
        "AND o.state != 'draft'", (order_id, web_user))
    rows = cur.fetchall()
    if not rows:
        return None
    (id_, number, name, type_, state, code, step, noun, submitted,
        appointment, engineer_, company, address) = rows[0]
    cur.execute('SELECT contact_name, contact_department, contact_position, '
        'contact_phone, contact_email, visit_mode, workflow, step, '
        'rating_attitude, rating_quality, rating_overall, rating_comment '
        'FROM instrument_service_order WHERE id = %s', (id_,))
    (contact_name, department, position, phone, email, visit_mode,
        workflow, step_id, *rating) = cur.fetchone()
    cur.execute('SELECT id, instrument_name, category, brand, model, '
        'quantity, fault_description, appointment_time, '
        'validation_categories, requirement FROM '
        'instrument_service_order_line WHERE "order" = %s ORDER BY id',
        (id_,))
    lines = cur.fetchall()
    cur.execute(f"""SELECT r.id, r.action,
        {tr('instrument_service.workflow.transition', 't.label')},
        r.date, r.actor_role, COALESCE(u.name, wu.contact_name),
        r.description, r.reason, r.visit_mode, r.appointment,
        r.check_in_time, r.latitude, r.longitude, r.accuracy,
        r.check_in_address, r.to_step
        FROM instrument_service_order_progress r
        LEFT JOIN instrument_service_workflow_transition t
            ON t.id = r.transition
        LEFT JOIN res_user u ON u.id = r.actor_user
        LEFT JOIN web_user wu ON wu.id = r.actor_customer
        WHERE r."order" = %s ORDER BY r.date, r.id""", (id_,))
    progress = cur.fetchall()
    files = _files(cur,
        [f'instrument_service.order.line,{l[0]}' for l in lines]
        + [f'instrument_service.order.progress,{r[0]}' for r in progress])
    cur.execute(f"""SELECT st.id, st.code,
        {tr('instrument_service.workflow.step', 'st.name')},
        {tr('instrument_service.workflow.step', 'st.hint')},
        st.sequence, st.final
        FROM instrument_service_workflow_step st WHERE st.workflow = %s
        ORDER BY st.sequence, st.id""", (workflow,))
    steps = cur.fetchall()
    answers = {}
    for table, extra in [('quote', 'amount, plan'), ('report', 'content')]:
        cur.execute(f'SELECT version, state, reason, {extra} FROM '
            f'instrument_service_order_{table} WHERE "order" = %s '
            'ORDER BY version DESC, id DESC LIMIT 1', (id_,))
        row = cur.fetchone()
        answers[table] = dict(zip(['version', 'state', 'reason']
                + extra.split(', '), row)) if row else None
    cur.execute(f"""SELECT t.action, t.actor,
        {tr('instrument_service.workflow.transition', 't.button')}
        FROM instrument_service_workflow_transition t
        WHERE t.workflow = %s AND t.from_step = %s AND t.actor = 'customer'
        """, (workflow, step_id))
    actions = [{'action': a, 'actor': r, 'button': render(b, noun)}
        for a, r, b in cur.fetchall()]

    records = {}
    for (rid, action, label, date, role, actor, description, reason,
            mode, appt, check_time, lat, lon, accuracy, check_address,
            to_step) in progress:
        records.setdefault(to_step, []).append({'id': rid, 'action': action,
                'label': render(label, noun) or action, 'date': date,
                'actor_role': role, 'actor_name': actor,
                'description': description, 'reason': reason,
                'photos': files.get(
                    f'instrument_service.order.progress,{rid}', []),
                'visit_mode': mode, 'appointment': appt,
                'check_in': {'time': check_time, 'latitude': lat,
                    'longitude': lon, 'accuracy': accuracy,
                    'address': check_address} if check_time else None})
    current_sequence = next((s[4] for s in steps if s[0] == step_id), None)
    step_views = []
    for sid, scode, sname, shint, sequence, final in steps:
        if current_sequence is not None and sequence < current_sequence:
            status = 'done' if sid in records else 'skipped'
        elif sid == step_id:
            status = 'done' if final else 'current'
        else:
            status = 'todo'
        step_views.append({'code': scode, 'name': render(sname, noun),
                'status': status,
                'hint': render(shint, noun) if sid == step_id else None,
                'records': records.get(sid, [])})
    return {'id': id_, 'number': number, 'name': name, 'type': type_,
        'type_name': TYPES.get(type_), 'state': state,
        'state_name': STATES.get(state),
        'step': {'code': code, 'name': render(step, noun)} if code else None,
        'submitted_at': submitted, 'appointment': appointment,
        'engineer': engineer_, 'company': company,
        'instruments': [{'instrument_name': l[1], 'brand': l[3],
                'model': l[4], 'quantity': l[5]} for l in lines],
        'contact': {'name': contact_name, 'company': company,
            'department': department, 'position': position,
            'phone': phone, 'address': address, 'email': email},
        'visit_mode': visit_mode,
        'lines': [{'instrument_name': l[1], 'category': l[2],
                'brand': l[3], 'model': l[4], 'quantity': l[5],
                'fault_description': l[6], 'appointment_time': l[7],
                'validation_categories': json.loads(l[8]) if isinstance(
                    l[8], str) and l[8].startswith('[') else [],
                'requirement': l[9], 'files': files.get(
                    f'instrument_service.order.line,{l[0]}', [])}
            for l in lines],
        'progress': {'current_step': code, 'steps': step_views,
            'actions': actions, 'quote': answers['quote'],
            'report': answers['report'],
            'rating': dict(zip(['attitude', 'quality', 'overall',
                        'comment'], rating)) if rating[2] else None},
        'can_cancel': state in {'submitted', 'in_progress'}}


def inbox(cur, employees):
    return page_of(cur, "o.state = 'submitted' AND EXISTS (SELECT 1 FROM "
        'instrument_service_order_offer f WHERE f."order" = o.id AND '
        "f.engineer = ANY(%s) AND f.state = 'offered')", (employees,),
        NEWEST, contact=False)


def tasks(cur, employees):
    """In progress first (next appointment first), then the closed ones
    (newest first), as two runs like the API"""
    engineer = 'o.engineer = %s' if len(employees) == 1 else \
        'o.engineer = ANY(%s)'
    param = employees[0] if len(employees) == 1 else employees
    running = page_of(cur, f"{engineer} AND o.state = 'in_progress'",
        (param,), 'o.appointment ASC NULLS LAST, o.id DESC')
    closed_where = f"{engineer} AND o.state IN ('done', 'cancelled')"
    cur.execute('SELECT COUNT(*) FROM instrument_service_order o '
        f'WHERE {closed_where}', (param,))
    closed = cur.fetchone()[0]
    missing = PAGE - len(running['items'])
    if missing > 0:
        running['items'] += summaries(cur, closed_where, (param,), NEWEST,
            1, limit=missing)
    running['total'] += closed
    return running


# ---- WSGI ----------------------------------------------------------------

ORDER = re.compile(r'^/floor/orders/([0-9]{1,9})$')


def app(environ, start_response):
    path = environ.get('PATH_INFO', '')
    header = environ.get('HTTP_AUTHORIZATION', '')
    token = header[7:].strip() if header[:7].lower() == 'bearer ' else ''
    status, body = '404 Not Found', {'error': {'code': 'not_found'}}
    if path == '/floor/ping':
        status, body = '200 OK', {'ok': True}
    else:
        with cursor() as cur:
            result = None
            if path.startswith('/floor/engineer/'):
                employees = engineer(cur, token)
                if employees is None:
                    status, body = '401 Unauthorized', {
                        'error': {'code': 'unauthorized'}}
                elif path == '/floor/engineer/inbox':
                    result = inbox(cur, employees)
                elif path == '/floor/engineer/tasks':
                    result = tasks(cur, employees)
            elif path.startswith('/floor/orders'):
                web_user = customer(cur, token)
                match = ORDER.match(path)
                if web_user is None:
                    status, body = '401 Unauthorized', {
                        'error': {'code': 'unauthorized'}}
                elif path == '/floor/orders':
                    result = my_orders(cur, web_user)
                elif match:
                    result = my_order(cur, web_user, int(match.group(1)))
            if result is not None:
                status, body = '200 OK', result
    data = json.dumps(body, ensure_ascii=False, default=to_json).encode()
    start_response(status, [('Content-Type',
                'application/json; charset=utf-8'),
            ('Content-Length', str(len(data)))])
    return [data]
