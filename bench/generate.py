#!/usr/bin/env python3
"""Fill a PostgreSQL database with a realistic population for the benchmark.

    .venv/bin/python bench/generate.py --db bench_100k --orders 100000

What it does, in order:
  1. creates the database (refuses an existing one unless --drop) and
     activates instrument_service and instrument_service_api with the zh_CN
     translations, as scripts/build_demo.py does (its helpers are reused);
  2. creates the company, the dispatchers, the engineers (party, employee,
     res.user in the engineer group, instrument_service.engineer profile)
     and the customers (party, web.user with a WeChat openid, a login phone
     and a remembered contact), all with batched Model.create;
  3. simulates every order in Python the way the engine would have moved it
     (submission, offers to the engineers the dispatch rules match,
     declines, escalation, acceptance or assignment by a dispatcher,
     withdrawals, visit, assessment, quotes, reports, rating, cancellation,
     SLA deadlines and the "late" flags of the SLA job) over the last two
     years, and writes the result through the module's own models, one
     Model.create per model and per batch of --batch orders and one commit
     per batch: orders, lines, offers, quotes, reports, progress records
     and attachments;
  4. creates API tokens for a sample of customers (web.user.session) and
     engineers (device sessions, as POST /auth/login makes them) and
     writes them, with the ids of their orders in each state, to a JSON file
     (default data/db/<db>.bench.json) for the load driver.

The population is deterministic for a given --seed, size and --now (the
moment the history ends; by default the current hour). Tokens and the
passwords are random on every run.
"""
import argparse
import bisect
import datetime as dt
import io
import json
import math
import os
import random
import secrets
import string
import sys
import time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / 'config' / 'trytond-postgresql.conf'
sys.path.insert(0, str(ROOT / 'scripts'))

TZ = ZoneInfo('Asia/Shanghai')
LANGUAGE = 'zh_CN'
MODULE = 'instrument_service'

# ---------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------

# province, city, latitude, longitude, weight of the customers there
CITIES = [
    ('上海市', '上海市', 31.23, 121.47, 10),
    ('北京市', '北京市', 39.90, 116.40, 9),
    ('广东省', '广州市', 23.13, 113.26, 6),
    ('广东省', '深圳市', 22.54, 114.06, 6),
    ('江苏省', '苏州市', 31.30, 120.58, 5),
    ('江苏省', '南京市', 32.06, 118.80, 5),
    ('浙江省', '杭州市', 30.27, 120.15, 6),
    ('浙江省', '宁波市', 29.87, 121.55, 2),
    ('天津市', '天津市', 39.13, 117.20, 3),
    ('重庆市', '重庆市', 29.56, 106.55, 3),
    ('四川省', '成都市', 30.57, 104.07, 4),
    ('湖北省', '武汉市', 30.59, 114.31, 4),
    ('山东省', '济南市', 36.65, 117.12, 3),
    ('山东省', '青岛市', 36.07, 120.38, 3),
    ('陕西省', '西安市', 34.34, 108.94, 3),
    ('湖南省', '长沙市', 28.23, 112.94, 2),
    ('福建省', '厦门市', 24.48, 118.09, 2),
    ('福建省', '福州市', 26.07, 119.30, 1),
    ('安徽省', '合肥市', 31.82, 117.23, 2),
    ('河南省', '郑州市', 34.75, 113.62, 2),
    ('辽宁省', '沈阳市', 41.80, 123.43, 2),
    ('辽宁省', '大连市', 38.91, 121.61, 1),
    ('吉林省', '长春市', 43.82, 125.32, 1),
    ('黑龙江省', '哈尔滨市', 45.80, 126.53, 1),
    ('云南省', '昆明市', 25.04, 102.71, 1),
    ('广西壮族自治区', '南宁市', 22.82, 108.37, 1),
    ('河北省', '石家庄市', 38.04, 114.51, 1),
    ('江西省', '南昌市', 28.68, 115.86, 1),
    ]
ZONES = ['高新技术产业开发区', '经济技术开发区', '科学城', '大学科技园',
    '生物医药产业园', '自由贸易试验区', '工业园区']
ROADS = ['科技路', '创新大道', '学府路', '长江路', '人民路', '建设路',
    '星湖街', '高新南七道', '创业路', '滨江大道', '蔡伦路', '紫星路']
COMPANY_PREFIXES = ['联科', '华测', '瑞普', '中科', '恒瑞', '粤海', '博源',
    '天和', '康达', '安捷', '新元', '海正', '金域', '迪安', '谱尼', '国检',
    '普利', '微谱', '晶泰', '同济', '清源', '睿思', '思拓', '百奥', '维康']
COMPANY_SUFFIXES = ['生物科技有限公司', '检测技术有限公司', '医药有限公司',
    '环境监测有限公司', '食品检测中心', '化工研究院', '药业股份有限公司',
    '质量检验所', '材料科技有限公司', '分析测试中心', '疾病预防控制中心',
    '第一人民医院检验科']
SURNAMES = list('王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹')
GIVEN = ['伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋', '勇',
    '艳', '杰', '涛', '明', '超', '秀英', '华', '慧', '建华', '志强', '婷',
    '雪', '昊', '宇', '晨', '欣怡', '子涵', '浩然', '思远', '佳琪', '文博']
DEPARTMENTS = ['质量控制部', '理化实验室', '分析研发中心', '环境检测部',
    '仪器设备科', '中心实验室', '微生物实验室', '检验科', '研发部', '设备部']
POSITIONS = ['QC主管', '实验室经理', '高级分析员', '技术负责人', '设备管理员',
    '研究员', '检验员', '主任', '工程师']
DECLINE_REASONS = ['本周行程已满，无法按时上门。', '该型号不熟悉，建议安排其他工程师。',
    '距离太远，当天无法到达。', '正在休假。']
CUSTOMER_CANCEL_REASONS = ['设备已自行修复，不再需要服务。', '预算调整，项目暂缓。',
    '已联系原厂处理。', '培训计划调整，暂不需要。', '重复下单，取消本单。']
STAFF_CANCEL_REASONS = ['客户来电取消：设备已由原厂直接处理。',
    '客户长时间未回复，经电话确认后取消。', '超出服务范围，已与客户沟通。']
QUOTE_REJECT_REASONS = ['报价偏高，超出本年度维护预算，请提供可选国产替代配件的方案。',
    '希望分两期付款，请调整方案。', '工期太长，请压缩到3天以内。']
REPORT_REJECT_REASONS = ['报告缺少原始数据和计量器具的校准证书编号，请补充后重新提交。',
    '报告中的设备序列号有误，请更正。']
REMOTE_TEXTS = ['已通过电话和视频远程指导客户重新校准，问题解决，无需上门。',
    '远程协助客户更新固件并恢复方法参数，设备运行正常。']
DEMO_TYPES = ['repair', 'maintenance', 'recycle', 'rental', 'training',
    'validation', 'selection', 'installation']
TYPE_WEIGHTS = [30, 22, 7, 7, 7, 10, 7, 10]
# Final situation of an order by the age of its submission: (up to so many
# days, weights of the targets). A step code is "in progress at that step".
TARGETS = ['submitted', 'accepted', 'visit', 'assessment', 'quote', 'work',
    'report', 'rating', 'done', 'cancelled']
AGE_TARGETS = [
    (0.25, [55, 18, 10, 4, 3, 2, 1, 1, 1, 5]),
    (1, [20, 22, 20, 10, 8, 5, 3, 2, 4, 6]),
    (7, [3, 6, 12, 10, 12, 16, 8, 8, 19, 6]),
    (30, [0.3, 0.7, 2, 2, 4, 7, 4, 8, 65, 7]),
    (90, [0.05, 0.1, 0.3, 0.3, 0.7, 1.5, 1, 5, 83, 8]),
    (10 ** 6, [0.02, 0.02, 0.05, 0.05, 0.1, 0.2, 0.2, 3, 88.4, 8]),
    ]
HOUR_WEIGHTS = [1, 0.5, 0.3, 0.2, 0.2, 0.3, 1, 3, 8, 12, 12, 10, 6, 8, 11,
    11, 10, 8, 5, 4, 3, 2, 2, 1.5]
CRON_SLA = dt.timedelta(minutes=5)
SOFT_LIMIT = 60
ESCALATION = dt.timedelta(minutes=30)
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)


def log(*args):
    print(*args, flush=True)


def new_password():
    alphabet = string.ascii_letters + string.digits
    while True:
        password = ''.join(secrets.choice(alphabet) for _ in range(16))
        if (any(c.isdigit() for c in password)
                and any(c.isupper() for c in password)
                and any(c.islower() for c in password)):
            return password


def person_name(rng):
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def to_local(value):
    return value.replace(tzinfo=dt.timezone.utc).astimezone(TZ)


def local_to_utc(day, hour, minute=0):
    local = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


def business(value, rng):
    """Move a time falling in the night (Shanghai) to the next morning:
    engineers and customers act during the day"""
    local = to_local(value)
    if 8 <= local.hour < 21:
        return value
    day = local.date() + (DAY if local.hour >= 21 else dt.timedelta(0))
    return local_to_utc(day, rng.choice([8, 9, 9, 10]), rng.randrange(60))


def lognormal(rng, median, sigma=1.0):
    return median * math.exp(rng.gauss(0, sigma))


# ---------------------------------------------------------------------------
# Files: a small pool written once to the filestore and shared
# ---------------------------------------------------------------------------

def make_files(count=24):
    "Small JPEG photos (with their thumbnails) and PDF documents"
    from PIL import Image, ImageDraw
    rng = random.Random(7)
    photos = []
    for i in range(count):
        image = Image.new('RGB', (96, 72), tuple(
                rng.randrange(60, 230) for _ in range(3)))
        draw = ImageDraw.Draw(image)
        draw.rectangle([14, 12, 82, 58], fill=tuple(
                rng.randrange(20, 200) for _ in range(3)))
        draw.rectangle([22, 18, 52, 32], fill=(30, 40, 50))
        draw.text((24, 40), 'IMG %02d' % i, fill=(255, 255, 255))
        output = io.BytesIO()
        image.save(output, format='JPEG', quality=60)
        thumb = io.BytesIO()
        image.resize((48, 36)).save(thumb, format='JPEG', quality=60)
        photos.append((output.getvalue(), thumb.getvalue()))
    pdfs = []
    for i in range(4):
        text = 'Service report %d' % i
        stream = 'BT /F1 18 Tf 60 760 Td (%s) Tj ET' % text
        objects = [
            '<< /Type /Catalog /Pages 2 0 R >>',
            '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
            '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] '
            '/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
            '<< /Length %d >>\nstream\n%s\nendstream' % (len(stream), stream),
            '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
            ]
        out = b'%PDF-1.4\n'
        offsets = []
        for n, obj in enumerate(objects, 1):
            offsets.append(len(out))
            out += b'%d 0 obj\n%s\nendobj\n' % (n, obj.encode())
        xref = len(out)
        out += b'xref\n0 %d\n0000000000 65535 f \n' % (len(objects) + 1)
        for offset in offsets:
            out += b'%010d 00000 n \n' % offset
        out += (b'trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n'
            % (len(objects) + 1, xref))
        pdfs.append(out)
    return photos, pdfs


class Files:
    """How attachments get their content (--files):

    shared: the pool is written once to the filestore with trytond's
    FileStore and every attachment points at one of its files (file_id),
    so that 100,000 orders do not write half a million files;
    unique: every attachment writes its own file (data=...), as uploads do;
    link: attachments are links (type='link'), no file at all."""

    def __init__(self, mode, db_name):
        self.mode = mode
        photos, pdfs = make_files()
        self.photos, self.pdfs = photos, pdfs
        self.photo_ids, self.pdf_ids = [], []
        # (a counter, not the story's random numbers: the population is
        # the same whatever --files)
        self.tags = __import__('itertools').count(1)
        if mode == 'shared':
            from trytond.filestore import filestore
            from trytond.pool import Pool
            Attachment = Pool(db_name).get('ir.attachment')
            # Where the Binary fields read them: their store_prefix, else
            # the database's folder
            data = Attachment.data.store_prefix or db_name
            thumbnails = Attachment.thumbnail.store_prefix or db_name
            self.photo_ids = [(filestore.set(p, data),
                    filestore.set(t, thumbnails)) for p, t in photos]
            self.pdf_ids = [filestore.set(p, data) for p in pdfs]

    def photo(self, rng, name, resource, description=None):
        i = rng.randrange(len(self.photos))
        values = {'name': name, 'resource': resource,
            'description': description}
        if self.mode == 'link':
            values.update(type='link', link='https://files.example.com/'
                'photos/%s' % name, mimetype='image/jpeg')
        elif self.mode == 'shared':
            file_id, thumb_id = self.photo_ids[i]
            values.update(type='data', file_id=file_id,
                thumbnail_id=thumb_id, mimetype='image/jpeg')
        else:
            # Bytes after the end of the JPEG make each upload distinct
            # (ModelSQL.create stores equal values of a create once)
            data, thumb = self.photos[i]
            tag = b'%016x' % next(self.tags)
            values.update(type='data', data=data + tag,
                thumbnail=thumb + tag, mimetype='image/jpeg')
        return values

    def pdf(self, rng, name, resource, description=None):
        i = rng.randrange(len(self.pdfs))
        values = {'name': name, 'resource': resource,
            'description': description, 'mimetype': 'application/pdf'}
        if self.mode == 'link':
            values.update(type='link', link='https://files.example.com/'
                'docs/%s' % name)
        elif self.mode == 'shared':
            values.update(type='data', file_id=self.pdf_ids[i])
        else:
            values.update(type='data', data=self.pdfs[i]
                + b'%% %016x\n' % next(self.tags))
        return values

    def keys(self):
        "The keys every attachment dict has (a multi-row INSERT needs them)"
        base = ['name', 'resource', 'description', 'type', 'mimetype']
        if self.mode == 'link':
            return base + ['link']
        if self.mode == 'shared':
            return base + ['file_id', 'thumbnail_id']
        return base + ['data', 'thumbnail']


# ---------------------------------------------------------------------------
# Database and transactions
# ---------------------------------------------------------------------------

def configure(config_file):
    from trytond import config
    config.update_etc([str(Path(config_file).resolve())])
    # The filestore of the database (<path>/<db>/) in this checkout's data/
    # whatever the working directory
    path = config.get('database', 'path')
    if not os.path.isabs(path):
        config.set('database', 'path', str(ROOT / path))
    Path(config.get('database', 'path')).mkdir(parents=True, exist_ok=True)
    return Path(config.get('database', 'path'))


class Runner:
    "Run functions in a transaction as root, without access checks"

    def __init__(self, db_name):
        self.db_name = db_name
        self.context = {'language': LANGUAGE}

    def run(self, func, *args, user=0, context=None):
        from trytond.transaction import (
            Transaction, TransactionError, without_check_access)
        ctx = dict(self.context, **(context or {}))
        extras = {}
        while True:
            # A table lock (ModelSingleton.create) must be asked for when
            # the transaction starts: TransactionError.fix says how
            with Transaction().start(self.db_name, user, context=ctx,
                    **extras) as transaction:
                try:
                    with without_check_access():
                        result = func(*args)
                except TransactionError as exception:
                    transaction.rollback()
                    exception.fix(extras)
                    continue
                transaction.commit()
            return result


def create_database(db_name, db_path, drop, admin_password):
    import build_demo
    from trytond.pool import Pool
    if build_demo._database_exists(db_name):
        if not drop:
            sys.exit(f'Database "{db_name}" exists: use --drop to replace it.')
        build_demo._drop_database(db_name, db_path)
    build_demo._create_database(db_name)
    data_dir = db_path.parent
    build_demo._activate_modules(db_name, admin_password, data_dir)
    if db_name not in Pool.database_list():
        Pool(db_name).init()


# ---------------------------------------------------------------------------
# Master data
# ---------------------------------------------------------------------------

def setup_company(master):
    from trytond.pool import Pool
    import build_demo
    Configuration = Pool().get('instrument_service.configuration')
    zh, company = build_demo.create_company()
    Configuration(1).save()
    master.update(company=company.id, lang=zh.id)


def create_people(master, rng, count, role, password_hash, start=0):
    """Dispatchers or engineers: party, employee, user (and, for engineers,
    the service profile), in batches"""
    from trytond.pool import Pool
    pool = Pool()
    Party = pool.get('party.party')
    Employee = pool.get('company.employee')
    User = pool.get('res.user')
    Engineer = pool.get('instrument_service.engineer')
    ModelData = pool.get('ir.model.data')
    group = ModelData.get_id(MODULE, 'group_%s' % role)
    prefix = {'engineer': 'eng', 'dispatcher': 'dispatcher'}[role]
    people = []
    for n in range(count):
        name = person_name(rng)
        phone = '138%08d' % (rng.randrange(10 ** 8) if role == 'engineer'
            else 16620100 + n)
        people.append({'login': '%s%04d' % (prefix, start + n + 1),
                'name': name,
                'phone': phone})
    parties = Party.create([{'name': p['name'], 'lang': master['lang'],
                'contact_mechanisms': [('create', [
                                {'type': 'mobile', 'value': p['phone']}])]}
            for p in people])
    employees = Employee.create([{'company': master['company'],
                'party': party.id} for party in parties])
    users = User.create([{'login': p['login'], 'name': p['name'],
                'language': master['lang'], 'password_hash': password_hash,
                'companies': [('add', [master['company']])],
                'company': master['company'],
                'employees': [('add', [e.id])], 'employee': e.id,
                'groups': [('add', [group])]}
            for p, e in zip(people, employees)])
    for p, e, u in zip(people, employees, users):
        p.update(employee=e.id, user=u.id)
    if role == 'engineer':
        profiles = []
        brands = sorted({i[2] for i in INSTRUMENTS})
        weights = [c[4] for c in CITIES]
        for p in people:
            # 2 to 4 types; regions: a province, a city or two, or all;
            # brands: all (most) or a few
            types = rng.sample(DEMO_TYPES, rng.choice([2, 3, 3, 4]))
            kind = rng.random()
            if kind < 0.03:
                # a few travel the whole country
                regions = []
            elif kind < 0.6:
                province = rng.choices(CITIES, weights)[0][0]
                regions = [province]
            else:
                regions = sorted({'%s %s' % c[:2] if c[0] != c[1] else c[0]
                        for c in rng.choices(CITIES, weights,
                            k=rng.choice([1, 2]))})
            served = (rng.sample(brands, rng.randint(3, 6))
                if rng.random() < 0.35 else [])
            p.update(types=types, regions=regions, brands=served,
                max_open_tasks=rng.choice([30, 40, 40, 50, None]))
            profiles.append({'employee': p['employee'], 'phone': p['phone'],
                    'order_types': types,
                    'regions': '\n'.join(regions) or None,
                    'brands': '\n'.join(served) or None,
                    'max_open_tasks': p['max_open_tasks']})
        for p, profile in zip(people, Engineer.create(profiles)):
            p['profile'] = profile.id
    return people


def create_companies(master, rng, count):
    """The customers' organisations: a name and an address in a city; the
    company party is created as the first order's submission would"""
    from trytond.pool import Pool
    Party = Pool().get('party.party')
    weights = [c[4] for c in CITIES]
    names, companies = set(), []
    while len(companies) < count:
        city = rng.choices(CITIES, weights)[0]
        short = city[1].removesuffix('市')
        name = short + rng.choice(COMPANY_PREFIXES) + rng.choice(
            COMPANY_SUFFIXES)
        if name in names:
            name = '%s%s分公司' % (name, rng.choice('一二三四五六七八九'))
            if name in names:
                continue
        names.add(name)
        province = '' if city[0] == city[1] else city[0]
        address = '%s%s%s%s%d号%d号楼' % (province, city[1],
            rng.choice(ZONES), rng.choice(ROADS), rng.randint(1, 999),
            rng.randint(1, 12))
        companies.append({'name': name, 'address': address, 'city': city})
    parties = create(Party, [{'name': c['name']} for c in companies])
    for c, party in zip(companies, parties):
        c['party'] = party.id
    return companies


def create_customers(master, rng, start, count, companies):
    from trytond.pool import Pool
    pool = Pool()
    Party = pool.get('party.party')
    WebUser = pool.get('web.user')
    people = []
    for n in range(start, start + count):
        company = companies[int(len(companies) * rng.random() ** 1.3)]
        name = person_name(rng)
        phone = '139%08d' % n
        people.append({'name': name, 'phone': phone,
                'email': 'c%06d@customer.example.com' % n,
                'company': company,
                'department': rng.choice(DEPARTMENTS),
                'position': rng.choice(POSITIONS)})
    parties = Party.create([{'name': p['name'], 'lang': master['lang'],
                'contact_mechanisms': [('create', [
                                {'type': 'mobile', 'value': p['phone']},
                                {'type': 'email', 'value': p['email']}])]}
            for p in people])
    users = WebUser.create([{'email': p['email'], 'party': party.id,
                'login_phone': p['phone'],
                'wechat_openid': 'bench-openid-%s' % p['phone'],
                'contact_name': p['name'],
                'contact_company': p['company']['name'],
                'contact_department': p['department'],
                'contact_position': p['position'],
                'contact_phone': p['phone'],
                'contact_address': p['company']['address'],
                'contact_email': p['email']}
            for p, party in zip(people, parties)])
    result = []
    for p, user in zip(people, users):
        result.append((user.id, p['name'], p['phone'], p['email'],
                p['department'], p['position'], p['company']))
    return result


def load_workflows():
    "The steps and transitions of each type, as the database has them"
    from trytond.pool import Pool
    Workflow = Pool().get('instrument_service.workflow')
    result = {}
    for workflow in Workflow.search([]):
        steps = {s.code: s for s in workflow.steps}
        transitions = {}
        for t in workflow.transitions:
            key = (t.from_step.code if t.from_step else None, t.action)
            transitions.setdefault(key, t)
        result[workflow.order_type] = {
            'id': workflow.id,
            'noun': workflow.work_noun,
            'steps': {c: {'id': s.id, 'sequence': s.sequence,
                    'cancel': bool(s.customer_can_cancel),
                    'final': bool(s.final)} for c, s in steps.items()},
            'transitions': {k: {'id': t.id, 'to': t.to_step.code,
                    'min_photos': t.min_photos or 0}
                for k, t in transitions.items()},
            'sla': {m: getattr(workflow, 'sla_%s' % m)
                for m in ['accept', 'contact', 'complete']},
            }
    return result


# ---------------------------------------------------------------------------
# The simulation of one order
# ---------------------------------------------------------------------------

from build_demo import (  # noqa: E402
    AMOUNTS, ASSESSMENTS, INSTRUMENTS, PLANS, RATING_COMMENTS, REPORTS,
    SELECTION_NEEDS, WORK_NOUNS)

MILESTONES = [('accept', 'accepted'), ('contact', 'visit'),
    ('complete', 'rating')]


class World:
    "Everything the simulation of an order needs to know"

    def __init__(self, master, workflows, engineers, customers, dispatchers,
            now, seed, fallback):
        from trytond.modules.instrument_service import region
        self.region = region
        self.master = master
        self.workflows = workflows
        self.engineers = engineers
        self.customers = customers
        self.customer_weights = None
        self.dispatchers = dispatchers
        self.now = now
        self.seed = seed
        self.fallback = fallback
        self.open_tasks = {e['employee']: 0 for e in engineers}
        self.by_employee = {e['employee']: e for e in engineers}
        self._qualified = {}
        # Engineers' regions read as the dispatch reads them
        for e in engineers:
            e['_types'] = set(e['types'])
            e['_brands'] = {b.casefold() for b in e['brands']}
            e['_regions'] = e['regions']

    def qualified(self, type_, province, city, brands):
        """The engineers Engineer.qualified_for would offer the order to,
        capacity aside (checked by the caller)"""
        key = (type_, province, city, brands)
        if key not in self._qualified:
            result = []
            for e in self.engineers:
                if type_ not in e['_types']:
                    continue
                if e['_brands'] and not brands <= e['_brands']:
                    continue
                if province and e['_regions'] and not any(
                        self.region.covers(r, province, city)
                        for r in e['_regions']):
                    continue
                result.append(e['employee'])
            self._qualified[key] = result
        return self._qualified[key]

    def at_capacity(self, employee):
        """Engineer.at_capacity; without a limit, the simulation stops at
        SOFT_LIMIT open tasks all the same (nobody works on 300 orders)"""
        limit = self.by_employee[employee]['max_open_tasks'] or SOFT_LIMIT
        return self.open_tasks[employee] >= limit


def submission_times(rng, count, now, days):
    """count sorted submission times over the last days: more orders
    lately (a growing business), in office hours, fewer at weekends"""
    start = now - dt.timedelta(days=days)
    span = days * 86400
    times = []
    day_weights = HOUR_WEIGHTS
    hours = list(range(24))
    while len(times) < count:
        # density 0.4 + 1.2 x over x in [0, 1]: inverse of its CDF
        u = rng.random()
        x = (-0.4 + math.sqrt(0.16 + 2.4 * u)) / 1.2
        moment = start + dt.timedelta(seconds=x * span)
        local = to_local(moment)
        if local.weekday() >= 5 and rng.random() < 0.65:
            continue
        hour = rng.choices(hours, day_weights)[0]
        local = local.replace(hour=hour, minute=rng.randrange(60),
            second=rng.randrange(60), microsecond=rng.randrange(10 ** 6))
        value = local.astimezone(dt.timezone.utc).replace(tzinfo=None)
        if start <= value < now - MINUTE:
            times.append(value)
    times.sort()
    return times


class Story:
    """The history of one order: the values of the records the engine
    would have written, with references to each other by position"""

    def __init__(self, index, t0, world):
        self.index = index
        self.t0 = t0
        self.world = world
        self.rng = random.Random('%s-%s' % (world.seed, index))
        self.events = []      # progress values
        self.quotes = []
        self.reports = []
        self.attachments = []  # (values, resource kind, position)
        self.offers = {}      # employee -> [state, reason]
        self.lines = []

    # -- helpers ------------------------------------------------------------

    def step(self, code):
        return self.workflow['steps'][code]['id'] if code else None

    def event(self, date, action, actor, **values):
        role, web_user, user = actor
        record = {
            'date': date, 'action': action, 'transition': None,
            'from_step': self.step(self.current),
            'to_step': None, 'actor_role': role,
            'actor_user': user, 'actor_customer': web_user,
            'description': None, 'reason': None, 'visit_mode': None,
            'appointment': None, 'check_in_time': None, 'latitude': None,
            'longitude': None, 'accuracy': None, 'check_in_address': None,
            'quote': None, 'report': None,
            }
        record.update(values)
        self.events.append(record)
        return len(self.events) - 1

    def move(self, date, action, actor, photos=0, photo_purpose=None,
            **values):
        "A workflow transition, as Order._write_progress records it"
        transition = self.workflow['transitions'][(self.current, action)]
        to = transition['to']
        position = self.event(date, action, actor,
            transition=transition['id'], to_step=self.step(to), **values)
        self.current = to
        for milestone, code in MILESTONES:
            if (self.met[milestone] is None and self.workflow['steps'][
                        code]['sequence']
                    <= self.workflow['steps'][to]['sequence']):
                self.met[milestone] = date
        photos = max(photos, transition['min_photos'])
        for i in range(photos):
            self.attachments.append((self.world.files.photo(self.rng,
                        '%s_{number}_%d.jpg' % (photo_purpose or action,
                            i + 1), None), 'event', position))
        return position

    @property
    def engineer_actor(self):
        e = self.world.by_employee[self.engineer]
        return ('engineer', None, e['user'])

    @property
    def customer_actor(self):
        return ('customer', self.customer[0], None)

    SYSTEM = ('system', None, None)

    # -- the story ----------------------------------------------------------

    def build(self):
        world, rng = self.world, self.rng
        now = world.now
        self.type = rng.choices(DEMO_TYPES, TYPE_WEIGHTS)[0]
        self.workflow = world.workflows[self.type]
        self.current = None
        self.met = {m: None for m, _ in MILESTONES}
        age = (now - self.t0).total_seconds() / 86400
        for limit, weights in AGE_TARGETS:
            if age <= limit:
                break
        self.target = rng.choices(TARGETS, weights)[0]
        # Customers: a few laboratories order a lot
        self.customer = world.customers[bisect.bisect(
                world.customer_weights, rng.random() * world.customer_weights[
                    -1])]
        self.phone_order = rng.random() < 0.03
        self.build_lines()
        self.submit()
        self.dispatch()
        self.advance()
        self.finish()
        return self

    def build_lines(self):
        rng = self.rng
        count = rng.choices([1, 2, 3], [70, 22, 8])[0]
        for n in range(count):
            if self.type == 'selection':
                purpose, requirement, quantity = rng.choice(SELECTION_NEEDS)
                line = {'instrument_name': purpose, 'category': None,
                    'brand': None, 'model': None, 'quantity': quantity,
                    'fault_description': None, 'appointment_time': None,
                    'validation_categories': None,
                    'requirement': requirement}
            else:
                name, category, brand, model, _, fault = rng.choice(
                    INSTRUMENTS)
                line = {'instrument_name': name, 'category': category,
                    'brand': brand, 'model': model, 'quantity': 1,
                    'fault_description': None, 'appointment_time': None,
                    'validation_categories': None, 'requirement': None}
                if self.type == 'repair':
                    line['fault_description'] = fault
                elif self.type == 'maintenance':
                    line['fault_description'] = rng.choice([
                            '年度预防性维护，设备已连续使用约11个月。',
                            '按SOP每半年保养一次，本次需同时更换易耗件。',
                            '近期灵敏度下降约20%，希望做一次全面保养。'])
                elif self.type in {'recycle', 'rental'}:
                    line['quantity'] = rng.choice([1, 1, 1, 2, 3])
                elif self.type == 'training':
                    day = to_local(self.t0).date() + dt.timedelta(
                        days=rng.randint(5, 20))
                    line['appointment_time'] = local_to_utc(day, 9, 30)
                elif self.type == 'validation':
                    line['validation_categories'] = rng.choice(
                        [['iq', 'oq'], ['iq', 'oq', 'pq'], ['oq', 'pq'],
                            ['pq']])
            self.lines.append(line)
            photos = 0
            if self.type == 'repair':
                photos = rng.choice([1, 2, 2])
            elif self.type in {'maintenance', 'validation', 'installation',
                    'recycle'}:
                photos = rng.choice([0, 1])
            for i in range(photos):
                self.attachments.append((self.world.files.photo(rng,
                            'IMG_%d.jpg' % rng.randrange(1000, 9999), None,
                            '客户上传的设备照片'), 'line', n))
        if self.type in {'selection', 'rental', 'recycle'} \
                or rng.random() < 0.2:
            name = {'selection': '采购需求说明.pdf',
                'rental': '租赁需求及设备清单.pdf',
                'recycle': '待回收资产清单.pdf'}.get(self.type, '设备档案.pdf')
            self.attachments.append((self.world.files.pdf(rng, name, None,
                        '客户上传的文档'), 'order', 0))

    def submit(self):
        world = self.world
        (web_user, name, phone, email, department, position,
            company) = self.customer
        province, city = world.region.parse(company['address'])
        self.order = {
            'company': world.master['company'], 'type': self.type,
            'customer': None if self.phone_order else web_user,
            'party': company['party'],
            'contact_name': name, 'contact_company': company['name'],
            'contact_department': department, 'contact_position': position,
            'contact_phone': phone, 'contact_address': company['address'],
            'contact_email': email,
            'workflow': self.workflow['id'],
            'submitted_at': self.t0, 'province': province, 'city': city,
            }
        self.geo = company['city'][2:4]
        if self.phone_order:
            actor = ('staff', None, self.rng.choice(world.dispatchers))
        else:
            actor = self.customer_actor
        self.event(self.t0, 'submit', actor)
        self.due = {m: (self.t0 + self.workflow['sla'][m]
                if self.workflow['sla'][m] else None)
            for m, _ in MILESTONES}

    def dispatch(self):
        "Order.dispatch_on_submit in offer mode: offer, or escalate"
        world = self.world
        brands = frozenset(l['brand'].strip().casefold() for l in self.lines
            if (l['brand'] or '').strip())
        qualified = world.qualified(self.type, self.order['province'],
            self.order['city'], brands)
        offered = [e for e in qualified if not world.at_capacity(e)]
        if not offered:
            offered = list(world.fallback)
        self.offered_at = self.t0 + dt.timedelta(milliseconds=200)
        self.escalated_at = None
        for e in offered:
            self.offers[e] = ['offered', None]
        if offered:
            self.event(self.offered_at, 'offer', self.SYSTEM,
                description=', '.join(world.by_employee[e]['name']
                    for e in offered))
        else:
            self.escalate(self.offered_at, world.msg_nobody)

    def escalate(self, date, reason):
        self.escalated_at = date
        self.event(date, 'escalate', self.SYSTEM, reason=reason)

    def open_offers(self):
        return [e for e, (state, _) in self.offers.items()
            if state == 'offered']

    def withdraw(self, date, employees):
        for e in employees:
            self.offers[e][0] = 'withdrawn'
        if employees:
            self.event(date, 'withdraw', self.SYSTEM,
                description=', '.join(self.world.by_employee[e]['name']
                    for e in employees))

    def plan_times(self):
        """Times of the steps of the whole path, compressed so that the
        last step reached happened before now"""
        rng = self.rng
        target = self.target
        cancelled = target == 'cancelled'
        if cancelled:
            # Where the order was when it was cancelled and by whom
            self.cancel_by = rng.choices(['customer', 'staff'], [7, 3])[0]
            points = ['submitted', 'accepted', 'visit', 'assessment',
                'quote']
            if self.cancel_by == 'staff':
                points.append('work')
            self.stop = rng.choices(points, [40, 20, 20, 8, 12, 5][
                    :len(points)])[0]
        else:
            self.stop = target
        self.remote = (self.stop in {'visit', 'rating', 'done'}
            and rng.random() < 0.12)
        self.quote_revised = rng.random() < 0.1
        self.report_rejected = rng.random() < 0.06
        # Durations after the previous step (hours)
        d = {
            # grab mode: most orders are taken within minutes
            'accept': lognormal(rng, 0.12, 1.2),
            'visit': lognormal(rng, 2, 1.0),
            'appointment': rng.uniform(6, 72),
            'assessment': rng.uniform(0.5, 3),
            'quote': lognormal(rng, 4, 1.0),
            'reject_quote': lognormal(rng, 8, 0.8),
            'requote': lognormal(rng, 6, 0.8),
            'confirm_quote': lognormal(rng, 6, 1.0),
            'report': lognormal(rng, 24, 0.8),
            'reject_report': lognormal(rng, 8, 0.8),
            'rereport': lognormal(rng, 8, 0.8),
            'confirm_report': lognormal(rng, 8, 1.0),
            'remote': rng.uniform(0.3, 5),
            'rate': lognormal(rng, 20, 1.2),
            'cancel': lognormal(rng, 12, 1.2),
            }
        return d

    def advance(self):
        world, rng = self.world, self.rng
        d = self.plan_times()
        stop = self.stop
        order_of = ['submitted', 'accepted', 'visit', 'assessment', 'quote',
            'work', 'report', 'rating', 'done']
        if self.remote:
            path = ['accepted', 'visit'] + (['rating', 'done']
                if stop in {'rating', 'done'} else [])
        else:
            path = order_of[1:order_of.index(stop) + 1]
        keys = {'accepted': ['accept'], 'visit': ['visit'],
            'assessment': ['appointment', 'assessment'],
            'quote': ['quote'] + (['reject_quote', 'requote']
                if self.quote_revised else []),
            'work': ['confirm_quote'],
            'report': ['report'] + (['reject_report', 'rereport']
                if self.report_rejected else []),
            'rating': ['confirm_report'] if not self.remote else ['remote'],
            'done': ['rate']}
        # One step after the other, in office hours; an on-site visit at
        # an appointment slot
        times, cursor = {}, self.t0
        for code in path:
            for key in keys[code]:
                if key == 'appointment':
                    day = to_local(cursor + dt.timedelta(
                            hours=d['appointment'])).date()
                    slot = local_to_utc(day, rng.choice([9, 10, 14, 15]),
                        rng.choice([0, 30]))
                    cursor = max(slot, cursor + HOUR)
                else:
                    cursor = business(
                        cursor + dt.timedelta(hours=d[key]), rng)
                times[key] = cursor
        if self.target == 'cancelled':
            times['cancel'] = business(
                cursor + dt.timedelta(hours=d['cancel']), rng)
        # Everything happened before now: compress the history of the
        # recent orders (a visit decided may be ahead, though)
        limit = world.now - MINUTE
        last = max(times.values(), default=self.t0)
        if last > limit:
            factor = (limit - self.t0) / (last - self.t0)
            times = {k: self.t0 + (v - self.t0) * factor
                for k, v in times.items()}
        if 'visit' in times and 'assessment' not in times \
                and not self.remote and self.target != 'cancelled':
            # Waiting for the visit: the appointment is a slot ahead
            day = to_local(times['visit'] + dt.timedelta(
                    hours=d['appointment'])).date()
            times['appointment'] = max(local_to_utc(day,
                    rng.choice([9, 10, 14, 15]), rng.choice([0, 30])),
                times['visit'] + HOUR)
        elif 'visit' in times and not self.remote \
                and 'appointment' not in times:
            times['appointment'] = times['visit'] + dt.timedelta(
                hours=d['appointment'])

        def at(key):
            return times[key]

        accept_time = times.get('accept')
        end_of_offer = accept_time or times.get('cancel') or world.now
        # Declines by some of the engineers offered, before anyone accepts
        open_ = self.open_offers()
        if len(open_) > 2 and rng.random() < 0.08:
            e = rng.choice(open_)
            when = self.t0 + (end_of_offer - self.t0) * rng.uniform(0.1, 0.6)
            self.offers[e] = ['declined', rng.choice(DECLINE_REASONS)]
            self.event(when, 'decline', ('engineer', None,
                    world.by_employee[e]['user']),
                reason=self.offers[e][1])
        # The escalation job: 30 minutes without anybody accepting
        if not self.escalated_at and self.offers:
            escalate_at = self.offered_at + ESCALATION + dt.timedelta(
                seconds=rng.uniform(1, 60))
            if escalate_at < end_of_offer:
                self.escalate(escalate_at, world.msg_delay)
        if not path:
            self.cancel_or_stop(at)
            return
        # Accepted by one of the engineers offered, or assigned by a
        # dispatcher to the escalated ones
        # (at capacity, an engineer cannot accept: a dispatcher assigns
        # the order to another one of the type, wherever they serve)
        candidates = [e for e in self.open_offers()
            if not world.at_capacity(e)]
        assign = not candidates or (
            self.escalated_at is not None and rng.random() < 0.3)
        if assign:
            pool_ = [e for e in world.qualified(self.type, None, None,
                    frozenset()) if not world.at_capacity(e)] or [
                e for e in world.by_employee if not world.at_capacity(e)] \
                or list(world.by_employee)
            self.engineer = rng.choice(candidates or pool_)
            when = accept_time
            dispatcher = rng.choice(world.dispatchers)
            transition = self.workflow['transitions'][(None, 'accept')]
            others = [e for e in self.open_offers() if e != self.engineer]
            if self.engineer in self.offers:
                self.offers[self.engineer] = ['accepted', None]
            else:
                self.offers[self.engineer] = ['accepted', None]
            self.current = 'accepted'
            self.met['accept'] = when
            self.event(when, 'assign', ('staff', None, dispatcher),
                transition=transition['id'], from_step=self.step('accepted'),
                to_step=self.step('accepted'),
                description=world.by_employee[self.engineer]['name'])
            self.withdraw(when, others)
        else:
            self.engineer = rng.choice(candidates)
            when = accept_time
            others = [e for e in self.open_offers() if e != self.engineer]
            self.offers[self.engineer] = ['accepted', None]
            self.move(when, 'accept', self.engineer_actor)
            self.withdraw(when, others)
        self.order['engineer'] = self.engineer
        self.visit_mode = None
        self.appointment = None
        if 'visit' in path:
            when = at('visit')
            if self.remote:
                self.visit_mode = 'remote'
                self.move(when, 'visit_remote', self.engineer_actor,
                    visit_mode='remote')
            else:
                self.visit_mode = 'onsite'
                self.appointment = times['appointment']
                self.move(when, 'visit_onsite', self.engineer_actor,
                    visit_mode='onsite', appointment=self.appointment)
        line = self.lines[0]
        if 'assessment' in path:
            when = at('assessment')
            lat, lon = self.geo
            check_in = min(self.appointment + dt.timedelta(
                    minutes=rng.randint(-15, 20)), when)
            self.move(when, 'submit_assessment', self.engineer_actor,
                photos=rng.choice([1, 2]), photo_purpose='assessment',
                description=ASSESSMENTS[self.type].format(
                    fault=line.get('fault_description') or '',
                    name=line['instrument_name'],
                    hours=rng.choice([2300, 4100, 6800]),
                    count=rng.choice([3, 4, 6])),
                check_in_time=check_in,
                latitude=round(lat + rng.uniform(-0.05, 0.05), 6),
                longitude=round(lon + rng.uniform(-0.05, 0.05), 6),
                accuracy=round(rng.uniform(5, 30), 1),
                check_in_address=self.order['contact_address'])
        categories = '、'.join(c.upper() for c in (
                line.get('validation_categories') or [])) or 'IQ/OQ'
        if 'quote' in path:
            amounts = AMOUNTS[self.type]
            amount = Decimal(rng.choice(amounts))
            plan = PLANS[self.type].format(categories=categories)
            if self.quote_revised:
                self.submit_quote(at('quote'), amount * 2, plan)
                when = at('reject_quote')
                self.quotes[-1].update(state='rejected',
                    reason=rng.choice(QUOTE_REJECT_REASONS))
                self.move(when, 'reject_quote', self.customer_actor,
                    reason=self.quotes[-1]['reason'],
                    quote=len(self.quotes) - 1)
                plan = '（修订）' + plan
                self.submit_quote(at('requote'), amount, plan)
            else:
                self.submit_quote(at('quote'), amount, plan)
        if 'work' in path:
            self.quotes[-1]['state'] = 'confirmed'
            self.move(at('confirm_quote'), 'confirm_quote',
                self.customer_actor, quote=len(self.quotes) - 1)
        report_text = REPORTS[self.type].format(categories=categories)
        if 'report' in path:
            self.submit_report(at('report'), report_text)
            if self.report_rejected:
                self.reports[-1].update(state='rejected',
                    reason=rng.choice(REPORT_REJECT_REASONS))
                self.move(at('reject_report'), 'reject_report',
                    self.customer_actor, reason=self.reports[-1]['reason'],
                    report=len(self.reports) - 1)
                self.submit_report(at('rereport'),
                    report_text + '（已补充原始数据和校准证书编号。）')
        if 'rating' in path:
            if self.remote:
                self.move(at('remote'), 'finish_remote',
                    self.engineer_actor, description=rng.choice(REMOTE_TEXTS))
            else:
                self.reports[-1]['state'] = 'confirmed'
                self.move(at('confirm_report'), 'confirm_report',
                    self.customer_actor, report=len(self.reports) - 1)
        if 'done' in path:
            self.order.update(
                rating_attitude=rng.choice([3, 4, 5, 5, 5]),
                rating_quality=rng.choice([3, 4, 5, 5, 5]),
                rating_overall=rng.choice([4, 4, 5, 5, 5]),
                rating_comment=(rng.choice(RATING_COMMENTS)
                    if rng.random() < 0.6 else None))
            self.move(at('rate'), 'rate', self.customer_actor)
        self.cancel_or_stop(at)

    def submit_quote(self, when, amount, plan):
        rng = self.rng
        version = len(self.quotes) + 1
        self.quotes.append({'version': version, 'amount': amount,
                'plan': plan, 'state': 'proposed', 'reason': None})
        position = self.move(when, 'submit_quote', self.engineer_actor,
            photos=1 if rng.random() < 0.33 else 0, photo_purpose='quote',
            description=plan, quote=len(self.quotes) - 1)
        self.quotes[-1]['_event'] = position

    def submit_report(self, when, text):
        rng = self.rng
        version = len(self.reports) + 1
        self.reports.append({'version': version, 'content': text,
                'state': 'proposed', 'reason': None})
        position = self.move(when, 'submit_report', self.engineer_actor,
            photos=1 if rng.random() < 0.6 else 0, photo_purpose='report',
            report=len(self.reports) - 1)
        self.reports[-1]['_event'] = position
        # The signed PDF, attached to the report record
        self.attachments.append((self.world.files.pdf(rng,
                    '%s报告_{number}_v%d.pdf' % (WORK_NOUNS[self.type],
                        version), None, '工程师提交的报告'),
                'report', len(self.reports) - 1))

    def cancel_or_stop(self, at):
        rng = self.rng
        if self.target != 'cancelled':
            return
        when = at('cancel')
        by_customer = (self.cancel_by == 'customer' and not self.phone_order
            and (not self.current
                or self.workflow['steps'][self.current]['cancel']))
        if by_customer:
            actor = self.customer_actor
            reason = rng.choice(CUSTOMER_CANCEL_REASONS)
        else:
            actor = ('staff', None, rng.choice(self.world.dispatchers))
            reason = rng.choice(STAFF_CANCEL_REASONS)
        for e in self.open_offers():
            self.offers[e][0] = 'withdrawn'
        self.order['cancel_reason'] = reason
        self.cancelled_at = when
        self.event(when, 'cancel', actor, to_step=self.step(self.current),
            reason=reason)

    def finish(self):
        "State, step, SLA fields and the flags of the SLA job"
        world, rng = self.world, self.rng
        order = self.order
        if self.target == 'cancelled':
            state = 'cancelled'
            closed_at = self.cancelled_at
        elif self.current is None:
            state, closed_at = 'submitted', None
        elif self.workflow['steps'][self.current]['final']:
            state = 'done'
            closed_at = self.events[-1]['date']
        else:
            state, closed_at = 'in_progress', None
        if state == 'in_progress':
            world.open_tasks[self.engineer] += 1
        order.update(state=state, step=self.step(self.current),
            visit_mode=getattr(self, 'visit_mode', None),
            appointment=getattr(self, 'appointment', None),
            offered_at=self.offered_at, escalated_at=self.escalated_at)
        order.setdefault('engineer', None)
        for m, _ in MILESTONES:
            order['%s_due' % m] = self.due[m]
            order['%s_met' % m] = self.met[m]
        # check_sla: every 5 minutes, flags the next deadline once
        breaches, late = [], False
        since = self.t0
        end = closed_at or world.now
        for m, code in MILESTONES:
            due, met = self.due[m], self.met[m]
            if due is None:
                if met is None:
                    break
                continue
            flag = max(due, since)
            flag += CRON_SLA - dt.timedelta(
                seconds=flag.timestamp() % CRON_SLA.total_seconds())
            flag += dt.timedelta(seconds=rng.uniform(0, 20))
            if flag < min(met or end, end, world.now):
                breaches.append(m)
                step_then = self.current_at(flag)
                self.event(flag, 'late', self.SYSTEM,
                    from_step=self.step(step_then),
                    description=world.msg_sla[m],
                    reason=world.msg_missed(due))
                if met is None:
                    late = True
            if met is None:
                break
            since = met
        following = None
        if state not in {'done', 'cancelled'}:
            for m, _ in MILESTONES:
                if self.due[m] and not self.met[m]:
                    following = m
                    break
        order['sla_milestone'] = following
        order['sla_late'] = late and following is not None
        order['sla_breaches'] = breaches or None
        if following:
            due = self.due[following]
            order['sla_due'] = due
            order['sla_risk_at'] = self.t0 + (due - self.t0) * (
                world.sla_at_risk / 100)
        else:
            order['sla_due'] = order['sla_risk_at'] = None
        order.setdefault('cancel_reason', None)
        for key in ['rating_attitude', 'rating_quality', 'rating_overall',
                'rating_comment']:
            order.setdefault(key, None)
        # Records in the order of their dates; the positions the quotes,
        # reports and attachments refer to stay those of _unsorted
        self._unsorted = list(self.events)
        self.events.sort(key=lambda e: e['date'])
        return self

    def current_at(self, when):
        "The step the order was at, at a given time"
        step = None
        for e in self.events:
            if e['date'] <= when and e['to_step'] and e['action'] not in {
                    'cancel', 'late'}:
                step = e['to_step']
        for code, s in self.workflow['steps'].items():
            if s['id'] == step:
                return code
        return None


# ---------------------------------------------------------------------------
# Writing a batch of stories
# ---------------------------------------------------------------------------

CHUNK = int(os.environ.get('BENCH_CHUNK', 500))


TIMERS = {}


def create(Model, vlist):
    """Model.create in chunks: ModelStorage.browse asserts that every id of
    the list is an int for every instance it makes, which is quadratic in
    the number of records created at once (unless python -O)"""
    started = time.perf_counter()
    records = []
    for start in range(0, len(vlist), CHUNK):
        records += Model.create(vlist[start:start + CHUNK])
    timer = TIMERS.setdefault(Model.__name__, [0, 0.0])
    timer[0] += len(records)
    timer[1] += time.perf_counter() - started
    return records


def assign_numbers(stories):
    """Task IDs from the module's sequence (Order.submit takes them there),
    in the order of submission and dated by it: the prefix is
    FW${date_y}${date_m}${date_d}"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Sequence = pool.get('ir.sequence')
    ModelData = pool.get('ir.model.data')
    sequence = Sequence(ModelData.get_id(MODULE, 'sequence_order'))
    numbers = sequence.get_many(n=len(stories))
    for story in stories:
        with Transaction().set_context(date=to_local(story.t0).date()):
            story.order['number'] = next(numbers)


def write_batch(attachment_keys, stories):
    """Create the records of a batch of stories with one create per model
    (in chunks of CHUNK); return the number of rows created"""
    from trytond.pool import Pool
    pool = Pool()
    Order = pool.get('instrument_service.order')
    Line = pool.get('instrument_service.order.line')
    Offer = pool.get('instrument_service.order.offer')
    Quote = pool.get('instrument_service.order.quote')
    Report = pool.get('instrument_service.order.report')
    Progress = pool.get('instrument_service.order.progress')
    Attachment = pool.get('ir.attachment')

    for story in stories:
        # The name as Order.compute_name writes it on submission
        story.order['name'] = Order(type=story.type,
            contact_company=story.order['contact_company'],
            lines=[Line(**{k: l[k] for k in ['instrument_name', 'brand',
                                'model']}) for l in story.lines]
            ).compute_name()
    orders = create(Order, [s.order for s in stories])
    rows = len(orders)

    line_values = []
    for story, order in zip(stories, orders):
        story.order_id = order.id
        for line in story.lines:
            line_values.append(dict(line, order=order.id))
    lines = create(Line, line_values)
    rows += len(lines)
    it = iter(lines)
    for story in stories:
        story.line_ids = [next(it).id for _ in story.lines]

    offers = create(Offer, [{'order': s.order_id, 'engineer': e,
                'state': state, 'reason': reason}
            for s in stories for e, (state, reason) in s.offers.items()])
    rows += len(offers)

    def proposals(Model, attr):
        values = []
        for s in stories:
            for p in getattr(s, attr):
                values.append({k: v for k, v in p.items()
                        if not k.startswith('_')} | {'order': s.order_id})
        records = create(Model, values)
        it = iter(records)
        for s in stories:
            for p in getattr(s, attr):
                p['_id'] = next(it).id
        return len(records)
    rows += proposals(Quote, 'quotes')
    rows += proposals(Report, 'reports')

    progress_values = []
    for s in stories:
        for e in s.events:
            values = dict(e, order=s.order_id)
            if values['quote'] is not None:
                values['quote'] = s.quotes[values['quote']]['_id']
            if values['report'] is not None:
                values['report'] = s.reports[values['report']]['_id']
            progress_values.append(values)
    records = create(Progress, progress_values)
    rows += len(records)
    it = iter(records)
    for s in stories:
        for e in s.events:
            e['_id'] = next(it).id

    # Quotes and reports point at the record that submitted them
    for Model, attr in [(Quote, 'quotes'), (Report, 'reports')]:
        args = []
        for s in stories:
            for p in getattr(s, attr):
                args.extend([[Model(p['_id'])],
                        {'progress': s._unsorted[p['_event']][
                                '_id']}])
        if args:
            Model.write(*args)

    attachment_values = []
    for s in stories:
        number = s.order['number']
        for values, kind, position in s.attachments:
            values = dict(values, name=values['name'].replace(
                    '{number}', number))
            if values.get('link'):
                values['link'] = values['link'].replace('{number}', number)
            if kind == 'order':
                values['resource'] = 'instrument_service.order,%s' % (
                    s.order_id)
            elif kind == 'line':
                values['resource'] = 'instrument_service.order.line,%s' % (
                    s.line_ids[position])
            elif kind == 'event':
                values['resource'] = (
                    'instrument_service.order.progress,%s'
                    % s._unsorted[position]['_id'])
            else:
                values['resource'] = 'instrument_service.order.report,%s' % (
                    s.reports[position]['_id'])
            attachment_values.append(values)
    attachment_values = [{k: v.get(k) for k in attachment_keys}
        for v in attachment_values]
    rows += len(create(Attachment, attachment_values))
    return rows


# ---------------------------------------------------------------------------
# Tokens and the file for the load driver
# ---------------------------------------------------------------------------

def sample_and_tokens(world, options, customer_counts):
    from trytond.pool import Pool
    pool = Pool()
    Order = pool.get('instrument_service.order')
    Session = pool.get('web.user.session')
    User = pool.get('res.user')
    DeviceSession = pool.get('instrument_service_api.device_session')
    rng = random.Random('%s-sample' % options.seed)
    per_state = options.ids_per_state

    def ids(domain, order=None):
        return [o['id'] for o in Order.search_read(domain,
                fields_names=['id'], limit=per_state,
                order=order or [('submitted_at', 'DESC'), ('id', 'DESC')])]

    # Customers: the heaviest, and a random spread of those with orders
    with_orders = sorted(customer_counts, key=lambda c: -customer_counts[c])
    heavy = with_orders[:max(1, options.sample_customers // 5)]
    rest = with_orders[len(heavy):]
    chosen = heavy + rng.sample(rest,
        min(len(rest), options.sample_customers - len(heavy)))
    customers = []
    for web_user in chosen:
        key = Session.add(web_user)
        entry = {'web_user': web_user, 'token': 'c.%s' % key,
            'orders': customer_counts[web_user], 'ids': {}}
        for state in ['submitted', 'in_progress', 'done', 'cancelled']:
            entry['ids'][state] = ids([('customer', '=', web_user),
                    ('state', '=', state)])
        customers.append(entry)

    # Engineers: those with the most open tasks, and a random spread
    engineers = sorted(world.engineers,
        key=lambda e: -world.open_tasks[e['employee']])
    busy = engineers[:max(1, options.sample_engineers // 5)]
    rest = engineers[len(busy):]
    chosen = busy + rng.sample(rest,
        min(len(rest), options.sample_engineers - len(busy)))
    sampled = []
    for e in chosen:
        secret = DeviceSession.open(User(e['user']), device_name='bench')
        entry = {'user': e['user'], 'employee': e['employee'],
            'login': e['login'], 'name': e['name'],
            'token': 'e.%s' % secret,
            'types': e['types'], 'regions': e['regions'],
            'open_tasks': world.open_tasks[e['employee']],
            'max_open_tasks': e['max_open_tasks'], 'ids': {}}
        entry['ids']['inbox'] = ids([('state', '=', 'submitted'),
                ('offers', 'where', [('engineer', '=', e['employee']),
                        ('state', '=', 'offered')])])
        for state in ['in_progress', 'done', 'cancelled']:
            entry['ids'][state] = ids([('engineer', '=', e['employee']),
                    ('state', '=', state)])
        sampled.append(entry)
    by_state = {state: ids([('state', '=', state)])
        for state in ['submitted', 'in_progress', 'done', 'cancelled']}
    return customers, sampled, by_state


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--db', default='bench',
        help="database name (default %(default)s); use bench_<something>")
    parser.add_argument('--config', default=str(DEFAULT_CONFIG),
        help="trytond configuration (default %(default)s)")
    parser.add_argument('--orders', type=int, default=100_000,
        help="orders to create (default %(default)s, up to 1,000,000)")
    parser.add_argument('--engineers', type=int, default=None,
        help="engineers (default: orders / 200, from 20 to 1,000; "
        "500 for 100,000 orders)")
    parser.add_argument('--customers', type=int, default=None,
        help="customers (default: orders / 5, at least 50, "
        "20,000 for 100,000 orders)")
    parser.add_argument('--dispatchers', type=int, default=3)
    parser.add_argument('--years', type=float, default=2,
        help="the history spans so many years (default %(default)s)")
    parser.add_argument('--now', default=None,
        help="end of the history, ISO UTC (default: the current hour)")
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--batch', type=int, default=1000,
        help="orders per create and commit (default %(default)s)")
    parser.add_argument('--jobs', type=int, default=2,
        help="processes writing batches in parallel (default %(default)s; "
        "the simulation runs in the main process)")
    parser.add_argument('--files', choices=['shared', 'unique', 'link'],
        default='shared', help="attachment content (default %(default)s): "
        "shared files of a small pool, a file each, or links")
    parser.add_argument('--sample-customers', type=int, default=200)
    parser.add_argument('--sample-engineers', type=int, default=100)
    parser.add_argument('--ids-per-state', type=int, default=50)
    parser.add_argument('--drop', action='store_true',
        help="drop the database first when it exists")
    parser.add_argument('--out', default=None,
        help="JSON file for the load driver (default "
        "data/db/<db>.bench.json)")
    options = parser.parse_args(argv)
    if not 1 <= options.orders <= 1_000_000:
        parser.error('--orders must be between 1 and 1,000,000')
    if not options.db.startswith('bench'):
        parser.error('the database name must start with "bench"')
    # Every matching engineer is offered an order: more engineers per
    # region means more offers per order, hence the ceiling
    engineers_count = options.engineers or min(1000,
        max(20, options.orders // 200))
    customers_count = options.customers or max(50, options.orders // 5)

    import logging
    logging.basicConfig(level=logging.WARNING,
        format='%(levelname)s %(name)s %(message)s')
    db_path = configure(options.config)
    from trytond.i18n import gettext
    from trytond.pool import Pool

    started = time.monotonic()
    timings = {}
    admin_password = new_password()
    engineer_password = new_password()
    log(f'Creating database "{options.db}" and activating the modules ...')
    create_database(options.db, db_path, options.drop, admin_password)
    timings['activation_s'] = round(time.monotonic() - started, 1)
    log(f'  done in {timings["activation_s"]} s')

    runner = Runner(options.db)
    master = {}
    runner.run(setup_company, master)
    runner.context['company'] = master['company']
    rng = random.Random(options.seed)

    t = time.monotonic()
    User = Pool(options.db).get('res.user')
    password_hash = User.hash_password(engineer_password)
    dispatchers = runner.run(create_people, master, rng,
        options.dispatchers, 'dispatcher', password_hash)
    engineers = []
    for start in range(0, engineers_count, options.batch):
        engineers += runner.run(create_people, master, rng,
            min(options.batch, engineers_count - start), 'engineer',
            password_hash, start)
    timings['engineers_s'] = round(time.monotonic() - t, 1)
    log(f'  {len(dispatchers)} dispatchers, {len(engineers)} engineers '
        f'in {timings["engineers_s"]} s')

    t = time.monotonic()
    companies = runner.run(create_companies, master, rng,
        max(10, customers_count // 4))
    customers = []
    for start in range(0, customers_count, options.batch):
        customers += runner.run(create_customers, master, rng, start,
            min(options.batch, customers_count - start), companies)
    timings['customers_s'] = round(time.monotonic() - t, 1)
    log(f'  {len(companies)} customer companies, {len(customers)} '
        f'customers in {timings["customers_s"]} s '
        f'({len(customers) / timings["customers_s"]:.0f}/s)')

    # Fallback engineers: two who serve everywhere
    def configure_dispatch():
        pool = Pool()
        Configuration = pool.get('instrument_service.configuration')
        configuration = Configuration(1)
        everywhere = [e for e in engineers if not e['regions']][:2] \
            or engineers[:2]
        configuration.fallback_engineers = [e['profile'] for e in everywhere]
        configuration.save()
        return ([e['employee'] for e in everywhere],
            configuration.sla_at_risk)
    fallback, sla_at_risk = runner.run(configure_dispatch)

    if options.now:
        now = dt.datetime.fromisoformat(options.now).replace(tzinfo=None)
    else:
        now = dt.datetime.now(dt.timezone.utc).replace(
            tzinfo=None, minute=0, second=0, microsecond=0)
    world = World(master, runner.run(load_workflows), engineers, customers,
        [d['user'] for d in dispatchers], now, options.seed, fallback)
    world.sla_at_risk = sla_at_risk
    # Customer activity: a few laboratories order a lot (Zipf-like)
    # (the busiest of 20,000 has about 0.2 % of the orders, the median
    # customer a few)
    weights = [1 / (rank + 20) ** 0.7 for rank in range(len(customers))]
    world.customer_weights = list(__import__('itertools').accumulate(
            weights))

    def messages():
        world.msg_nobody = gettext(
            'instrument_service.msg_escalate_nobody')
        world.msg_delay = gettext('instrument_service.msg_escalate_delay',
            minutes=int(ESCALATION.total_seconds() // 60))
        world.msg_sla = {m: gettext('instrument_service.msg_sla_%s' % m)
            for m, _ in MILESTONES}
        template = gettext('instrument_service.msg_sla_missed',
            deadline='{deadline}')
        fmt = gettext('instrument_service.msg_datetime_format')
        world.msg_missed = lambda due: template.replace('{deadline}',
            fmt.format(date=to_local(due)))
    runner.run(messages)
    world.files = Files(options.files, options.db)

    t = time.monotonic()
    times = submission_times(random.Random('%s-times' % options.seed),
        options.orders, now, int(365 * options.years))
    log(f'Generating {options.orders} orders in batches of {options.batch} '
        f'(history until {now:%Y-%m-%d %H:%M} UTC) ...')
    rows = orders_done = 0
    cpu = time.process_time()
    customer_counts = {}
    states = {}
    keys = world.files.keys()
    progress = {'rows': 0, 'orders': 0}

    def report(orders, batch_rows, timers, took=None):
        progress['orders'] += orders
        progress['rows'] += batch_rows
        for name, (n, seconds) in timers.items():
            timer = TIMERS.setdefault(name, [0, 0.0])
            timer[0] += n
            timer[1] += seconds
        elapsed = time.monotonic() - t
        log(f"  {progress['orders']:>8} orders {progress['rows']:>9} rows  "
            f"{progress['orders'] / elapsed:7.0f} orders/s "
            f"{progress['rows'] / elapsed:8.0f} rows/s"
            + (f'  (batch {took:.1f} s)' if took else ''))

    def batches():
        "Simulated in this process, in order: the state is sequential"
        for start in range(0, options.orders, options.batch):
            stories = [Story(i, times[i], world).build() for i in range(
                    start, min(start + options.batch, options.orders))]
            runner.run(assign_numbers, stories)
            for s in stories:
                if s.order['customer']:
                    customer_counts[s.order['customer']] = (
                        customer_counts.get(s.order['customer'], 0) + 1)
                states[s.order['state']] = states.get(
                    s.order['state'], 0) + 1
                # What the writer needs only
                s.world = s.rng = s.customer = None
            yield start // options.batch, stories

    if options.jobs <= 1:
        for index, stories in batches():
            batch_started = time.monotonic()
            saved = dict(TIMERS)
            TIMERS.clear()
            batch_rows = runner.run(write_batch, keys, stories)
            timers = dict(TIMERS)
            TIMERS.clear()
            TIMERS.update(saved)
            report(len(stories), batch_rows, timers,
                time.monotonic() - batch_started)
    else:
        import multiprocessing
        import queue
        from trytond import backend
        # No connection of this process goes to the writers
        backend.Database(options.db).close()
        context = multiprocessing.get_context('fork')
        tasks = context.Queue(maxsize=options.jobs)
        results = context.Queue()
        workers = [context.Process(target=writer,
                args=(runner, keys, tasks, results))
            for _ in range(options.jobs)]
        for worker in workers:
            worker.start()
        running = len(workers)

        def drain(block=False):
            nonlocal running
            while True:
                try:
                    message = results.get(block=block, timeout=1)
                except queue.Empty:
                    return
                if message[0] == 'batch':
                    report(*message[2:])
                elif message[0] == 'error':
                    log(message[1])
                    for worker in workers:
                        worker.kill()
                    sys.exit('A writer failed.')
                elif message[0] == 'exit':
                    running -= 1
                if not block:
                    continue
                return
        for task in batches():
            while True:
                drain()
                try:
                    tasks.put(task, timeout=1)
                    break
                except queue.Full:
                    continue
        for _ in workers:
            tasks.put(None)
        while running:
            drain(block=True)
        for worker in workers:
            worker.join()
    rows = progress['rows']
    orders_done = progress['orders']
    timings['orders_s'] = round(time.monotonic() - t, 1)
    timings['orders_cpu_s'] = round(time.process_time() - cpu, 1)
    timings['create'] = {name: {'rows': n, 's': round(s, 1),
            'rows_per_s': round(n / s) if s else None}
        for name, (n, s) in TIMERS.items()}
    for name, (n, s) in sorted(TIMERS.items(), key=lambda i: -i[1][1]):
        log(f'    {name:<36} {n:>9} rows {s:7.1f} s {n / s:8.0f} rows/s')
    timings['orders_per_s'] = round(orders_done / timings['orders_s'])
    timings['rows'] = rows
    timings['rows_per_s'] = round(rows / timings['orders_s'])

    t = time.monotonic()

    def analyze():
        from trytond.transaction import Transaction
        cursor = Transaction().connection.cursor()
        cursor.execute('ANALYZE')
    runner.run(analyze)
    customers_sample, engineers_sample, by_state = runner.run(
        sample_and_tokens, world, options, customer_counts)
    counts = runner.run(count_rows)
    timings['sample_s'] = round(time.monotonic() - t, 1)
    timings['total_s'] = round(time.monotonic() - started, 1)
    out = Path(options.out) if options.out else (
        db_path / f'{options.db}.bench.json')
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        'db': options.db,
        'generated_at': dt.datetime.now(dt.timezone.utc).isoformat(
            timespec='seconds'),
        'history_until': now.isoformat(),
        'seed': options.seed,
        'parameters': {k: v for k, v in vars(options).items()},
        'states': states,
        'counts': counts,
        'timings': timings,
        'admin': {'login': 'admin', 'password': admin_password},
        'dispatchers': [{'login': d['login'], 'user': d['user']}
            for d in dispatchers],
        'engineer_password': engineer_password,
        'customers': customers_sample,
        'engineers': engineers_sample,
        'orders_by_state': by_state,
        }
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1,
            default=str))
    out.chmod(0o600)
    log(f'States: {states}')
    log(f'Rows: {counts}')
    log(f'Done in {timings["total_s"]} s; load driver data in {out}')
    return 0


def writer(runner, attachment_keys, tasks, results):
    """A writing process (--jobs): takes batches from tasks, reports the
    rows and timers of each to results. Leaves with os._exit, so that
    nothing inherited from the parent is finalised here"""
    code = 0
    try:
        while True:
            task = tasks.get()
            if task is None:
                break
            index, stories = task
            TIMERS.clear()
            rows = runner.run(write_batch, attachment_keys, stories)
            results.put(('batch', index, len(stories), rows, dict(TIMERS)))
    except BaseException:
        import traceback
        results.put(('error', traceback.format_exc()))
        code = 1
    finally:
        results.put(('exit', os.getpid()))
        # put() hands over to a feeder thread: let it finish first
        results.close()
        results.join_thread()
        sys.stdout.flush()
        os._exit(code)


def count_rows():
    from trytond.pool import Pool
    pool = Pool()
    result = {}
    for name in ['instrument_service.order', 'instrument_service.order.line',
            'instrument_service.order.offer',
            'instrument_service.order.progress',
            'instrument_service.order.quote',
            'instrument_service.order.report', 'ir.attachment',
            'web.user', 'instrument_service.engineer', 'party.party']:
        result[name] = pool.get(name).search_count([])
    return result


if __name__ == '__main__':
    if not sys.flags.optimize and not os.environ.get('BENCH_NO_OPTIMIZE'):
        # Without -O, the asserts of ModelStorage.__init__ cost a third of
        # the time of every create (see create())
        os.execv(sys.executable,
            [sys.executable, '-O', os.path.abspath(__file__), *sys.argv[1:]])
    sys.exit(main())
