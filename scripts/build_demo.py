#!/usr/bin/env python3
"""Build the demo database of the instrument service platform.

    python scripts/build_demo.py                  # data/db/demo.sqlite
    python scripts/build_demo.py --force          # rebuild even if up to date
    python scripts/build_demo.py --config config/trytond-postgresql.conf

What it does, in order:
  1. skips everything when the database exists and was built from the same
     module sources, this script and the same configuration (a fingerprint in
     <data>/demo-<db>.json); otherwise drops it and its filestore and
  2. creates the database and activates instrument_service with its
     dependencies and the zh_CN translations (what `trytond-admin -d demo
     --all -u instrument_service --activate-dependencies -l zh_CN` does,
     called in-process so the paths of --data-path apply),
  3. creates the company, users (admin, dispatcher, engineers) and customers
     with random strong passwords written to <data>/demo-credentials.txt,
  4. creates orders of the eight types and drives each one through the
     module's own engine (Order.submit, Order.perform, Order.do_cancel) as
     the customer, engineer or dispatcher who would act in real life, one
     transaction per action, so every step is reached the way users reach
     it: no raw SQL and no record written behind the engine's back. The
     engine reads the time of each action from the module's clock, set to
     that of a StoryClock: orders submitted over the last days in office
     hours, visits booked on later working days. Files are stored as the
     API stores uploads (instrument_service_api.files.prepare).

build_demo() is importable. trytond keeps its configuration and pools in
process-wide state, so build one database per process (the end-to-end test
runs this script in a subprocess).
"""
import argparse
import datetime as dt
import hashlib
import json
import os
import random
import secrets
import shutil
import string
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / 'config' / 'trytond.conf'
DEFAULT_DATA = ROOT / 'data'
MODULE = 'instrument_service'
# Modules activated in the demo database (their dependencies come along)
MODULES = [MODULE, 'instrument_service_api']
LANGUAGE = 'zh_CN'
TIMEZONE = 'Asia/Shanghai'
STEPS = [
    'accepted', 'visit', 'assessment', 'quote', 'work', 'report', 'rating',
    'done']
TYPE_NAMES = {
    'repair': '仪器维修', 'maintenance': '仪器保养', 'recycle': '仪器回收',
    'rental': '仪器租赁', 'training': '培训预约', 'validation': '仪器验证',
    'selection': '仪器选型', 'installation': '仪器安装',
    }
WORK_NOUNS = {
    'repair': '维修', 'maintenance': '保养', 'recycle': '回收',
    'rental': '租赁', 'training': '培训', 'validation': '验证',
    'selection': '选型', 'installation': '安装',
    }

sys.path.insert(0, str(Path(__file__).resolve().parent))
import demo_media  # noqa: E402

# ---------------------------------------------------------------------------
# The demo cast
# ---------------------------------------------------------------------------

COMPANY = {
    'name': '仪服科技（上海）有限公司',
    'address': '上海市闵行区紫星路588号2号楼',
    'service_phone': '400-820-6688',
    }
DISPATCHER = {'login': 'dispatcher', 'name': '王芳', 'phone': '021-64301188'}
# Their service regions cover every customer below; dispatch also matches
# brands and regions when a profile lists them (Dispatch Rules)
EAST_AND_SOUTH = '上海市\n江苏省\n浙江省\n北京市\n广东省'
ENGINEERS = [
    {'login': 'zhangwei', 'name': '张伟', 'phone': '13816620101',
        'types': ['repair', 'maintenance', 'installation'],
        'regions': EAST_AND_SOUTH},
    {'login': 'lina', 'name': '李娜', 'phone': '13816620102',
        'types': ['validation', 'training', 'installation']},
    {'login': 'wangqiang', 'name': '王强', 'phone': '13816620103',
        'types': ['recycle', 'rental', 'selection']},
    {'login': 'chenlei', 'name': '陈磊', 'phone': '13816620104',
        'types': ['repair', 'maintenance', 'validation'],
        'regions': EAST_AND_SOUTH},
    {'login': 'zhaomin', 'name': '赵敏', 'phone': '13816620105',
        'types': ['training', 'selection', 'rental', 'recycle']},
    ]
# Customers (web.user accounts of the mini-program) and the contact they
# type on their orders. geo: where the engineer checks in on site.
CUSTOMERS = [
    {'email': 'liuyang@lianke-bio.example.com', 'name': '刘洋',
        'company': '上海联科生物科技有限公司', 'department': '质量控制部',
        'position': 'QC主管', 'phone': '13901760231',
        'address': '上海市浦东新区张江高科技园区蔡伦路88号3号楼',
        'geo': (31.2035, 121.5905)},
    {'email': 'chenjing@huace-test.example.com', 'name': '陈静',
        'company': '苏州华测检测技术有限公司', 'department': '理化实验室',
        'position': '实验室经理', 'phone': '13962188416',
        'address': '江苏省苏州市工业园区星湖街218号生物纳米园A4栋',
        'geo': (31.3230, 120.7270)},
    {'email': 'huangzq@ruipu-pharma.example.com', 'name': '黄志强',
        'company': '杭州瑞普医药有限公司', 'department': '分析研发中心',
        'position': '高级分析员', 'phone': '13858016672',
        'address': '浙江省杭州市滨江区江南大道3880号华荣时代大厦12楼',
        'geo': (30.2084, 120.2110)},
    {'email': 'zhouting@zkhj.example.com', 'name': '周婷',
        'company': '北京中科环境监测有限公司', 'department': '环境检测部',
        'position': '技术负责人', 'phone': '13701135809',
        'address': '北京市海淀区中关村南大街12号院5号楼',
        'geo': (39.9580, 116.3260)},
    {'email': 'wuhao@hengrui-food.example.com', 'name': '吴昊',
        'company': '南京恒瑞食品检测中心', 'department': '仪器设备科',
        'position': '设备管理员', 'phone': '13770652294',
        'address': '江苏省南京市江宁区秣陵街道天元中路99号',
        'geo': (31.9530, 118.8400)},
    {'email': 'zhengxue@yuehai-chem.example.com', 'name': '郑雪',
        'company': '广州粤海化工研究院', 'department': '中心实验室',
        'position': '研究员', 'phone': '13622287140',
        'address': '广东省广州市天河区五山路381号科研楼3层',
        'geo': (23.1560, 113.3470)},
    ]

# name, category, brand, model, drawing kind, typical fault
INSTRUMENTS = [
    ('液相色谱仪', '色谱', 'Agilent', '1260 Infinity II', 'lc',
        '泵压力波动超过±5 bar，基线漂移严重，怀疑单向阀堵塞。'),
    ('气相色谱仪', '色谱', 'Shimadzu', 'GC-2030', 'gc',
        'FID点火失败，提示“火焰熄灭”，氢气和空气流量显示正常。'),
    ('紫外可见分光光度计', '光谱', 'Thermo Scientific', 'Evolution 220',
        'spectro', '开机自检时氘灯能量低报警，270 nm以下吸光度噪音大。'),
    ('原子吸收光谱仪', '光谱', 'PerkinElmer', 'PinAAcle 900T', 'spectro',
        '石墨炉升温到2000 ℃时报警，石墨管寿命计数异常。'),
    ('电子天平', '称量', 'Mettler Toledo', 'XPR205', 'balance',
        '读数不稳定，最后一位持续跳动，内校后仍偏差0.3 mg。'),
    ('高速冷冻离心机', '离心', 'Eppendorf', '5810R', 'centrifuge',
        '运行到3000 rpm时剧烈振动并报“Imbalance”，转子已配平。'),
    ('pH计', '电化学', 'Mettler Toledo', 'SevenCompact S210', 'ph',
        '两点校准斜率只有89%，读数响应慢，已更换缓冲液。'),
    ('三重四极杆质谱仪', '质谱', 'Waters', 'Xevo TQ-S', 'ms',
        '真空度无法达到工作要求，前级泵噪音明显增大。'),
    ('电感耦合等离子体质谱仪', '质谱', 'Agilent', '7900 ICP-MS', 'ms',
        '等离子体点火后数分钟熄灭，雾化器压力不稳。'),
    ('傅里叶变换红外光谱仪', '光谱', 'Thermo Scientific', 'Nicolet iS20',
        'spectro', '干涉图信号弱，能量值只有正常的40%，干燥剂已更换。'),
    ('高效液相色谱仪', '色谱', 'Waters', 'Alliance e2695', 'lc',
        '自动进样器报“Needle wash error”，进样重复性RSD超过2%。'),
    ('实时荧光定量PCR仪', '分子生物', 'Bio-Rad', 'CFX96', 'generic',
        '热盖无法加热到105 ℃，边缘孔扩增曲线异常。'),
    ('生物安全柜', '生物安全', 'ESCO', 'AC2-4S1', 'cabinet',
        '下降气流风速报警，前窗玻璃升降卡顿。'),
    ('超纯水系统', '纯水', 'Millipore', 'Milli-Q IQ 7000', 'generic',
        '产水电阻率只有12 MΩ·cm，TOC读数偏高。'),
    ('激光粒度仪', '物性', 'Malvern', 'Mastersizer 3000', 'generic',
        '背景遮光度过高，对光失败。'),
    ('卡尔费休水分测定仪', '电化学', 'Metrohm', '917 Coulometer', 'generic',
        '漂移值持续高于20 µg/min，终点判断不准。'),
    ('溶出度仪', '药物检测', 'Agilent', '708-DS', 'generic',
        '6号杯转速偏差超过±2%，水浴温度波动。'),
    ('总有机碳分析仪', '水质分析', 'Shimadzu', 'TOC-L CPH', 'generic',
        '燃烧管温度达不到680 ℃，载气流量报警。'),
    ]
INSTRUMENTS_BY_TYPE = {
    'repair': [0, 1, 4, 5, 7, 10, 12, 16, 17],
    'maintenance': [0, 2, 3, 8, 10, 13, 11, 1, 9],
    'recycle': [1, 5, 14, 3, 12, 2, 9, 16, 13],
    'rental': [0, 8, 2, 11, 14, 4, 1, 7, 9],
    'training': [7, 8, 3, 0, 9, 14, 1, 11, 2],
    'validation': [0, 10, 4, 2, 16, 1, 6, 3, 17],
    'installation': [7, 11, 13, 12, 8, 0, 5, 17, 1],
    }
# Selection orders name a purpose, not an instrument
SELECTION_NEEDS = [
    ('食品中农药多残留筛查', '需满足GB 23200系列方法，检出限≤0.01 mg/kg，'
        '预算80万元以内，要求含安装调试和操作培训。', 1),
    ('原料药有关物质检测', '符合中国药典2025年版通则0512，需要二极管阵列检测器，'
        '能通过数据完整性审计（审计追踪、电子签名）。', 2),
    ('水中重金属快速检测', '环境监测用，需覆盖Pb、Cd、As、Hg、Cr，'
        '检出限满足GB 5749-2022，占地面积小。', 1),
    ('细胞培养室洁净工作台', '二级生物安全，1.2米宽，低噪音，'
        '需提供第三方检测报告。', 3),
    ('锂电池材料粒度分析', '测量范围0.01–3500 µm，湿法和干法都要，'
        '预算50万元。', 1),
    ('实验室超纯水制备', '日用水量约60升，需同时出RO水和超纯水，'
        '带TOC在线监测。', 2),
    ('微量水分测定', '用于电解液水分检测，要求库仑法，'
        '检测下限≤10 ppm，配自动进样器。', 1),
    ('食品重金属前处理', '微波消解，一次处理≥16个样品，带温度压力双控。', 1),
    ('蛋白质定量分析', '酶标仪或紫外，需要96孔板读数，'
        '兼顾核酸浓度测定。', 1),
    ]

ASSESSMENTS = {
    'repair': '现场检查：{fault}拆检后确认故障部件，其余模块自检正常。'
        '需更换故障部件并做性能测试。',
    'maintenance': '现场检查：设备运行{hours}小时，{name}密封件和耗材'
        '已到更换周期，光源/检测器能量正常，建议做全面保养。',
    'recycle': '检查完成：外观八成新，开机自检通过，主要模块工作正常，'
        '附件齐全（电源线、软件加密狗、说明书）。',
    'rental': '检查完成：客户实验室电源、通风和台面满足要求，'
        '已确认租赁期间的使用场景和样品类型。',
    'training': '培训准备完成：已确认学员{count}人，培训大纲包括开关机、'
        '方法编辑、日常维护和常见故障处理，实验室样品已备好。',
    'validation': '验证准备完成：已核对URS和设备清单，计量器具在有效期内，'
        '温湿度符合要求，可按方案开展验证。',
    'selection': '选型分析完成：已与客户确认检测项目、样品前处理方式、'
        '通量和预算，初步筛选出三款候选机型。',
    'installation': '安装准备完成：场地尺寸、承重、电源（220 V/16 A）、'
        '气源和排风均已确认，设备已到货开箱无破损。',
    }
PLANS = {
    'repair': '维修方案：更换故障部件（原厂配件），清洗相关流路，'
        '维修后做压力/噪音/重复性测试并出具报告。工期1天，保修3个月。',
    'maintenance': '保养方案：更换密封圈、进样针、灯等易耗件，清洁光路和流路，'
        '校准关键参数，出具保养报告。工期半天。',
    'recycle': '回收方案：按当前成色和市场行情估价回收，含上门拆机、'
        '包装运输和数据清除。',
    'rental': '租赁方案：租期3个月，含送货安装、一次上门维护和耗材包，'
        '押金另计。',
    'training': '培训方案：现场培训2天，理论+上机实操，培训后考核并颁发证书。',
    'validation': '验证方案：按GMP附录《确认与验证》执行{categories}，'
        '提供方案、原始记录和报告。',
    'selection': '选型方案：推荐三款机型的配置对比、报价区间和交付周期，'
        '并提供用户案例。',
    'installation': '安装方案：就位、连接气路和电路、安装软件、'
        '开机调试并做性能确认，现场培训1小时。',
    }
AMOUNTS = {
    'repair': ['1000.00', '2800.00', '4650.00', '1800.00', '3200.00'],
    'maintenance': ['1500.00', '2200.00', '3600.00', '1200.00'],
    'recycle': ['18000.00', '42000.00', '9500.00', '26000.00'],
    'rental': ['6000.00', '12000.00', '8500.00', '15000.00'],
    'training': ['3000.00', '4800.00', '2500.00', '6000.00'],
    'validation': ['5000.00', '8800.00', '12000.00', '6500.00'],
    'selection': ['800.00', '1500.00', '1000.00', '2000.00'],
    'installation': ['2000.00', '3500.00', '5000.00', '2600.00'],
    }
REPORTS = {
    'repair': '维修完成：已更换故障部件，系统压力波动≤1 bar，基线噪音和漂移'
        '符合出厂指标，连续进样6针重复性RSD 0.4%。',
    'maintenance': '保养完成：已更换全部易耗件并清洁光路流路，各项指标'
        '复测合格，建议12个月后再次保养。',
    'recycle': '回收完成：设备已拆机打包运回，数据已清除并出具数据清除证明，'
        '回收款将在3个工作日内支付。',
    'rental': '租赁设备已送达并安装调试完成，性能确认合格，'
        '客户已签收设备清单。',
    'training': '培训完成：学员已完成理论和上机考核，全部合格，'
        '培训签到表和考核记录见附件。',
    'validation': '验证完成：{categories}全部项目符合可接受标准，'
        '无偏差，验证报告见附件。',
    'selection': '选型报告：综合性能、价格和售后，推荐方案A，'
        '备选方案B，详见对比表。',
    'installation': '安装完成：设备就位调试完毕，安装确认和运行确认合格，'
        '已对操作人员进行现场培训。',
    }
RATING_COMMENTS = [
    '工程师很专业，响应及时，讲解也很耐心。',
    '上门准时，维修效率高，报告规范。',
    '整体满意，希望以后配件到货能再快一点。',
    '服务态度非常好，解决了困扰我们很久的问题。',
    '沟通顺畅，方案清楚，价格透明。',
    ]


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def utcnow():
    "Naive UTC now: Tryton stores datetimes as naive UTC"
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def local_to_utc(day, hour, minute=0):
    "A naive UTC datetime of day at hour:minute in Shanghai"
    local = dt.datetime.combine(day, dt.time(hour, minute),
        tzinfo=ZoneInfo(TIMEZONE))
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


# Office hours in Shanghai, in minutes of the day: people act within them
OFFICE_HOURS = (9 * 60, 18 * 60)
# Visits are booked on the hour or the half hour, from 09:00 to 16:30
VISIT_SLOTS = range(9 * 60, 16 * 60 + 31, 30)


def is_working_day(day):
    return day.weekday() < 5


def working_day(day, count):
    "The working day count working days after day (before it when negative)"
    step = dt.timedelta(days=1 if count >= 0 else -1)
    for _ in range(abs(count)):
        day += step
        while not is_working_day(day):
            day += step
    return day


def local_now():
    return dt.datetime.now(ZoneInfo(TIMEZONE))


class StoryClock:
    """When the people of a story act: submitted in office hours on a
    working day, then each action some office minutes after the one before,
    the visit on a later working day, on the hour or the half hour.

    The engine dates what it records (submission, progress, offers,
    deadlines) by the module's clock; Runner.run(now=...) sets that clock
    to these times. The times are drawn by a generator seeded by the story,
    in working days from day0 (the day of the submission): _schedule draws
    them once from any day to learn how long the story takes, then again
    from the day0 that ends it before now."""

    # Office minutes from the action before, by action (min, max)
    DELAYS = {
        'accept': (5, 60), 'visit_onsite': (5, 45), 'visit_remote': (5, 45),
        'finish_remote': (60, 240), 'submit_quote': (30, 150),
        'reject_quote': (60, 600), 'confirm_quote': (60, 600),
        'submit_report': (240, 900), 'reject_report': (60, 600),
        'confirm_report': (60, 600), 'rate': (5, 240), 'cancel': (30, 300),
        }

    def __init__(self, seed, day0, visit_pending=False):
        """visit_pending: the story stops before the visit, which is then
        in the coming working days"""
        self.rng = random.Random(seed)
        self.day0 = day0
        self.days = 0  # working days since day0
        # Submitted in the day, early enough to be accepted and the visit
        # decided on that day
        self.minute = self.rng.randint(OFFICE_HOURS[0], 16 * 60)
        # The visit, as the customer asks for it (trainings) and the
        # engineer books it: one or two working days after the submission
        slot = self.rng.choice(VISIT_SLOTS)
        if visit_pending:
            day = working_day(local_now().date(), self.rng.randint(1, 4))
            self.appointment = local_to_utc(day, slot // 60, slot % 60)
            self._visit = None
        else:
            self._visit = (self.rng.randint(1, 2), slot)
            self.appointment = self._time(*self._visit)

    def _time(self, days, minute):
        return local_to_utc(
            working_day(self.day0, days), minute // 60, minute % 60)

    @property
    def now(self):
        "The time of the current action, naive UTC"
        return self._time(self.days, self.minute)

    def local(self):
        return self.now.replace(tzinfo=dt.timezone.utc).astimezone(
            ZoneInfo(TIMEZONE))

    def advance(self, action):
        "Move on to the time of action and return it"
        if action == 'submit_assessment':
            # Checked in at the appointment, assessed during the visit
            self.days, self.minute = self._visit
            self.minute += self.rng.randint(45, 120)
        else:
            self.minute += self.rng.randint(*self.DELAYS[action])
        start, end = OFFICE_HOURS
        while self.minute > end:
            self.days += 1
            self.minute = start + self.minute - end
        if action == 'visit_onsite' and self.appointment <= self.now:
            raise ValueError('a visit decided after it took place')
        return self.now


def new_password():
    """A random password Tryton accepts (long, not the login or name)"""
    alphabet = string.ascii_letters + string.digits
    while True:
        password = ''.join(secrets.choice(alphabet) for _ in range(16))
        if (any(c.isdigit() for c in password)
                and any(c.isupper() for c in password)
                and any(c.islower() for c in password)):
            return password


def fingerprint(config_files, db_name):
    """Hash of everything the demo database is built from: a change to the
    module (code, XML, translations), this script or the configuration
    triggers a rebuild."""
    import trytond
    digest = hashlib.sha256()
    digest.update(f'{db_name}\0{trytond.__version__}\0'.encode())
    sources = sorted(
        p for p in (ROOT / 'addons').rglob('*')
        if p.is_file() and '__pycache__' not in p.parts)
    sources += [Path(__file__).resolve(), Path(demo_media.__file__).resolve()]
    sources += [Path(c).resolve() for c in config_files]
    for path in sources:
        digest.update(str(path.relative_to(ROOT)
                if path.is_relative_to(ROOT) else path).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class Runner:
    """Runs functions in transactions the way trytond's dispatcher does.

    Order.submit, perform and do_cancel lock the orders; Tryton 8 refuses a
    record lock that the transaction did not ask for when it started and
    raises a TransactionError whose fix() tells how to start it. So every
    action runs in its own transaction that is restarted with that fix."""

    def __init__(self, db_name, company_id=None):
        self.db_name = db_name
        self.company_id = company_id
        self.transactions = 0

    def run(self, func, user=0, context=None, check_access=False, now=None):
        """Run func in a transaction as user; now: the time the module's
        clock reads meanwhile (a StoryClock time), instead of the real one"""
        if now is None:
            return self._run(func, user, context, check_access)
        from trytond.modules.instrument_service import clock
        if now > utcnow():
            raise ValueError(f'{now} is in the future')
        with mock.patch.object(clock, 'now', lambda: now):
            return self._run(func, user, context, check_access)

    def _run(self, func, user, context, check_access):
        from trytond.transaction import Transaction, TransactionError
        from trytond.worker import run_task
        context = dict(context or {})
        context.setdefault('language', LANGUAGE)
        if self.company_id:
            context.setdefault('company', self.company_id)
        if check_access:
            # What the RPC layer sets for calls from the clients
            context['_check_access'] = True
        extras = {}
        while True:
            with Transaction().start(
                    self.db_name, user, context=context,
                    **extras) as transaction:
                try:
                    result = func()
                except TransactionError as exception:
                    transaction.rollback()
                    transaction.tasks.clear()
                    exception.fix(extras)
                    continue
                transaction.commit()
                self.transactions += 1
            # Queued tasks run inline, after the commit (no trytond-worker)
            while transaction.tasks:
                run_task(self.db_name, transaction.tasks.pop())
            return result


# ---------------------------------------------------------------------------
# Database creation and module activation
# ---------------------------------------------------------------------------

def _configure(config_file, data_path):
    """Load the configuration; return the configuration files, the data
    folder and the database folder.

    trytond 8.0's SQLite backend cannot open a database under a relative
    [database] path (it turns it into an absolute URI), so the relative
    paths of config/trytond.conf are written as absolute paths of this
    checkout into <data>/trytond-paths.conf, layered over the configuration:
    the server must be started with both files (the Makefile does). With
    data_path, the database, filestore and that file live in data_path."""
    from trytond import config
    config_file = Path(config_file).resolve()
    config.update_etc([str(config_file)])
    if data_path:
        data_dir = Path(data_path).resolve()
        db_path = data_dir / 'db'
    else:
        data_dir = DEFAULT_DATA
        db_path = ROOT / config.get('database', 'path')  # absolute stays
    web_root = ROOT / config.get('web', 'root')
    data_dir.mkdir(parents=True, exist_ok=True)
    db_path.mkdir(parents=True, exist_ok=True)
    paths = data_dir / 'trytond-paths.conf'
    paths.write_text(
        '# Written by scripts/build_demo.py: the absolute paths of this\n'
        f'# checkout, to layer over {config_file.name}:\n'
        f'#   trytond -c {config_file} {paths} -d DB\n'
        f'[database]\npath = {db_path}\n\n[web]\nroot = {web_root}\n')
    files = [str(config_file), str(paths)]
    config.update_etc(files)
    return files, data_dir, db_path


def _database_exists(db_name):
    from trytond import backend
    database = backend.Database().connect()
    try:
        return db_name in database.list()
    finally:
        database.close()


def _drop_database(db_name, db_path):
    from trytond import backend
    from trytond.transaction import Transaction
    if _database_exists(db_name):
        backend.Database(db_name).close()
        with Transaction().start(
                None, 0, close=True, autocommit=True) as transaction:
            transaction.database.drop(transaction.connection, db_name)
    # The filestore of the database: <path>/<database name>/
    shutil.rmtree(db_path / db_name, ignore_errors=True)


def _create_database(db_name):
    from trytond import backend
    database = backend.Database()
    database.connect()
    connection = database.get_connection(autocommit=True)
    try:
        database.create(connection, db_name)
    finally:
        database.put_connection(connection)
        database.close()
    backend.Database.clear_cache()


def _activate_modules(db_name, admin_password, data_dir):
    """trytond-admin -d DB -u instrument_service --all
    --activate-dependencies -l zh_CN, in-process.

    The admin password is passed through TRYTONPASSFILE like the command
    line tool expects; the file is removed right after."""
    from trytond import admin, commandline
    options = commandline.get_parser_admin().parse_args([
            '-d', db_name, '-u', *MODULES, '--all', '--activate-dependencies',
            '-l', LANGUAGE, '--email', 'admin@example.com'])
    options.indexes = True
    fd, passfile = tempfile.mkstemp(dir=data_dir, prefix='.admin-pass-')
    previous = os.environ.get('TRYTONPASSFILE')
    try:
        with os.fdopen(fd, 'w') as fp:
            fp.write(admin_password + '\n')
        os.environ['TRYTONPASSFILE'] = passfile
        admin.run(options)
    finally:
        os.unlink(passfile)
        if previous is None:
            os.environ.pop('TRYTONPASSFILE', None)
        else:
            os.environ['TRYTONPASSFILE'] = previous


# ---------------------------------------------------------------------------
# Master data
# ---------------------------------------------------------------------------

def create_company():
    """Chinese made translatable, the yuan and the company, with admin (made
    by the activation) in it; return (the zh_CN language, the company).
    Shared with bench/generate.py, which builds its population on the same
    company."""
    from trytond.pool import Pool
    pool = Pool()
    Lang = pool.get('ir.lang')
    Currency = pool.get('currency.currency')
    Party = pool.get('party.party')
    Company = pool.get('company.company')
    User = pool.get('res.user')

    zh, = Lang.search([('code', '=', LANGUAGE)])
    zh.translatable = True
    zh.save()

    currencies = Currency.search([('code', '=', 'CNY')])
    if currencies:
        cny, = currencies
    else:
        cny = Currency(name='人民币', code='CNY', symbol='¥',
            numeric_code='156', digits=2, rounding=Decimal('0.01'))
        cny.save()

    company_party = Party(name=COMPANY['name'], lang=zh,
        addresses=[{'street_unstructured': COMPANY['address'],
                'city': '上海'}],
        contact_mechanisms=[
            {'type': 'phone', 'value': DISPATCHER['phone']}])
    company_party.save()
    company = Company(party=company_party, currency=cny,
        timezone=TIMEZONE)
    company.save()

    admin, = User.search([('login', '=', 'admin')])
    admin.language = zh
    admin.companies = [company]
    admin.company = company
    admin.save()
    return zh, company


def _setup_master_data(runner, passwords):
    """Company, users, engineers and customers; return their ids"""
    from trytond.pool import Pool

    def setup():
        pool = Pool()
        Party = pool.get('party.party')
        Employee = pool.get('company.employee')
        User = pool.get('res.user')
        Group = pool.get('res.group')
        ModelData = pool.get('ir.model.data')
        Engineer = pool.get('instrument_service.engineer')
        WebUser = pool.get('web.user')
        from trytond.modules.instrument_service_api.user import (
            CONTACT_FIELDS)

        zh, company = create_company()

        def group(xml_id):
            return Group(ModelData.get_id(MODULE, xml_id))

        def person(name, phone, email=None):
            mechanisms = [{'type': 'mobile', 'value': phone}]
            if email:
                mechanisms.append({'type': 'email', 'value': email})
            party = Party(name=name, lang=zh,
                contact_mechanisms=mechanisms)
            party.save()
            return party

        def user(login, name, employee=None, groups=()):
            user = User(login=login, name=name, language=zh,
                password=passwords[login],
                companies=[company], company=company,
                groups=list(groups))
            if employee:
                user.employees = [employee]
                user.employee = employee
            user.save()
            return user

        dispatcher_employee = Employee(company=company,
            party=person(DISPATCHER['name'], '13816620100'))
        dispatcher_employee.save()
        dispatcher = user(DISPATCHER['login'], DISPATCHER['name'],
            dispatcher_employee, [group('group_dispatcher')])

        engineers = []
        for data in ENGINEERS:
            employee = Employee(company=company,
                party=person(data['name'], data['phone']))
            employee.save()
            engineer_user = user(data['login'], data['name'], employee,
                [group('group_engineer')])
            Engineer(employee=employee, phone=data['phone'],
                order_types=data['types'], regions=data.get('regions'),
                max_open_tasks=30).save()
            engineers.append({**data, 'user': engineer_user.id,
                    'employee': employee.id})

        customers = []
        for data in CUSTOMERS:
            party = person(data['name'], data['phone'], data['email'])
            # As if they had logged in with WeChat once: the development
            # login by phone finds them, and they get subscription messages
            web_user = WebUser(email=data['email'], party=party,
                password=passwords[data['email']], login_phone=data['phone'],
                wechat_openid='demo-openid-%s' % data['phone'],
                # The contact their orders carry, remembered as the
                # mini-program does on submission (GET /api/v1/me)
                **{'contact_' + f: data[f] for f in CONTACT_FIELDS})
            web_user.save()
            customers.append({**data, 'web_user': web_user.id})
        _wechat_templates()
        # The service desk's phone, which the apps show (GET /api/v1/config)
        Configuration = Pool().get('instrument_service.configuration')
        Configuration.write([Configuration(1)],
            {'service_phone': COMPANY['service_phone']})
        return {
            'company': company.id,
            'dispatcher': dispatcher.id,
            'engineers': engineers,
            'customers': customers,
            }

    return runner.run(setup)


def _wechat_templates():
    """A subscription message template for every event of which customers
    are told, and for every notice to engineers (the engineers' mini-program,
    for those who link their WeChat); WeChat itself is not configured in
    the demo, so their notices wait in the outbox as 渠道未开启 (channel
    off)"""
    from trytond.pool import Pool
    from trytond.modules.instrument_service_api.notice import (
        ENGINEER_KINDS, TEMPLATE_ACTIONS)
    Template = Pool().get('instrument_service_api.wechat.template')
    Template.save([Template(audience='customer', action=action,
                template_id='demo-%s' % action.replace('_', '-'),
                data='character_string1=${number}\nthing2=${name}\n'
                'thing3=${step}\nthing4=${hint}\ntime5=${time}')
            for action, _ in TEMPLATE_ACTIONS])
    # No customer data: an offer reaches engineers who have not accepted it
    Template.save([Template(audience='engineer', kind=kind,
                template_id='demo-engineer-%s' % kind.replace('_', '-'),
                data='character_string1=${number}\nthing2=${type}\n'
                'thing3=${instrument}\nthing4=${region}\n'
                'thing5=${event}\ntime6=${time}')
            for kind, _ in ENGINEER_KINDS])


def _customer_sessions(runner, customers):
    """A web.user session key per customer, as the mobile API gets at
    login; customer actions carry it in the context"""
    from trytond.pool import Pool

    def add():
        Session = Pool().get('web.user.session')
        return {c['web_user']: Session.add(c['web_user']) for c in customers}
    return runner.run(add)


# ---------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------

class Story:
    """One demo order and the actions that bring it to its target step.

    target: a step code, 'waiting' (submitted, no engineer yet) or
    'cancelled'. variant: None, 'quote_revised', 'report_rejected',
    'remote', 'cancel_customer', 'cancel_staff', 'phone' (entered by the
    dispatcher for a customer who phoned)."""

    def __init__(self, type_, target, instrument, customer, engineer,
            variant=None, index=0):
        self.type = type_
        self.target = target
        self.instrument = instrument
        self.customer = customer
        self.engineer = engineer
        self.variant = variant
        self.index = index
        self.rng = random.Random(f'{type_}-{target}-{variant}-{index}')
        self.order_id = None


def _stories(master):
    "The demo orders: every type at every step, and the special cases"
    customers, engineers = master['customers'], master['engineers']
    stories, counter = [], 0

    def engineer_for(type_, n):
        qualified = [e for e in engineers if type_ in e['types']]
        return qualified[n % len(qualified)]

    special = {
        ('repair', 'work'): 'quote_revised',
        ('maintenance', 'quote'): 'quote_revised',
        ('validation', 'done'): 'report_rejected',
        ('installation', 'work'): 'report_rejected',
        ('selection', 'visit'): 'remote',
        }
    for type_ in TYPE_NAMES:
        for n, step in enumerate(STEPS):
            if type_ == 'selection':
                instrument = SELECTION_NEEDS[n % len(SELECTION_NEEDS)]
            else:
                instrument = INSTRUMENTS[INSTRUMENTS_BY_TYPE[type_][n]]
            stories.append(Story(type_, step, instrument,
                    customers[counter % len(customers)],
                    engineer_for(type_, n), special.get((type_, step)),
                    counter))
            counter += 1
    extras = [
        ('repair', 'waiting', INSTRUMENTS[6], None),
        ('rental', 'waiting', INSTRUMENTS[5], None),
        ('selection', 'waiting', SELECTION_NEEDS[8], None),
        ('maintenance', 'waiting', INSTRUMENTS[4], 'phone'),
        ('repair', 'done', INSTRUMENTS[6], 'remote'),
        ('recycle', 'cancelled', INSTRUMENTS[15], 'cancel_staff'),
        ('training', 'cancelled', INSTRUMENTS[10], 'cancel_customer'),
        ]
    for type_, target, instrument, variant in extras:
        stories.append(Story(type_, target, instrument,
                customers[counter % len(customers)],
                engineer_for(type_, counter), variant, counter))
        counter += 1
    return stories


def _line_values(story):
    "The instrument line as the customer fills the form of the order type"
    if getattr(story, 'line', None) is None:
        story.line = _new_line_values(story)
    return dict(story.line)


def _new_line_values(story):
    rng = story.rng
    if story.type == 'selection':
        purpose, requirement, quantity = story.instrument
        return {'instrument_name': purpose, 'requirement': requirement,
            'quantity': quantity}
    name, category, brand, model, kind, fault = story.instrument
    values = {'instrument_name': name, 'category': category, 'brand': brand,
        'model': model}
    if story.type in {'repair', 'maintenance'}:
        values['fault_description'] = fault if story.type == 'repair' else (
            rng.choice([
                    '年度预防性维护，设备已连续使用约11个月。',
                    '按SOP每半年保养一次，本次需同时更换易耗件。',
                    '近期灵敏度下降约20%，希望做一次全面保养。',
                    ]))
    if story.type == 'validation':
        values['validation_categories'] = rng.choice(
            [['iq', 'oq'], ['iq', 'oq', 'pq'], ['oq', 'pq'], ['pq']])
    if story.type != 'training':
        values['quantity'] = rng.choice([1, 1, 1, 2, 3]) if story.type in {
            'recycle', 'rental'} else 1
    return values


def _instrument_label(story):
    if story.type == 'selection':
        return story.instrument[0]
    name, _, brand, model = story.instrument[:4]
    return f'{brand} {model}'


def _kind(story):
    return 'generic' if story.type == 'selection' else story.instrument[4]


def _attach(resource, name, data, description=None, service_use=None,
        sequence=None):
    """Attach the file as the API stores a customer's upload claimed by
    an order: prepared by instrument_service_api.files.prepare (type,
    photos as JPEG, thumbnail)"""
    from trytond.modules.instrument_service_api.files import prepare
    from trytond.pool import Pool
    Attachment = Pool().get('ir.attachment')
    name, mimetype, data, thumbnail = prepare(name, data)
    attachment = Attachment(name=name, type='data', data=data,
        mimetype=mimetype, thumbnail=thumbnail, resource=resource,
        description=description, service_use=service_use,
        sequence=sequence)
    attachment.save()
    return attachment.id


def _upload(order, files, images_only=False):
    """Upload files for the order's next step as the engineer's app does
    (POST /engineer/tasks/{id}/files): prepared like every upload, then
    staged on the order by the engine; return the ids the step cites"""
    from trytond.modules.instrument_service_api.files import prepare
    from trytond.pool import Pool
    from trytond.transaction import without_check_access
    pool = Pool()
    Order = pool.get('instrument_service.order')
    Attachment = pool.get('ir.attachment')
    ids = []
    for name, data in files:
        name, mimetype, data, thumbnail = prepare(name, data, images_only)
        attachment, = Attachment.browse(Order.add_upload(
                [order], name, data, images_only=images_only))
        attachment.mimetype = mimetype
        attachment.thumbnail = thumbnail
        with without_check_access():
            attachment.save()
        ids.append(attachment.id)
    return ids


def _create_order(runner, master, story):
    """The customer's form: contact snapshot, instrument line, photos and
    documents uploaded with it"""
    from trytond.pool import Pool
    customer = story.customer

    values = _line_values(story)
    if story.type == 'training':
        # The training is asked for when the visit will be
        values['appointment_time'] = story.clock.appointment

    def create():
        Order = Pool().get('instrument_service.order')
        order = Order(
            type=story.type, company=master['company'],
            customer=(customer['web_user']
                if story.variant != 'phone' else None),
            contact_name=customer['name'],
            contact_company=customer['company'],
            contact_department=customer['department'],
            contact_position=customer['position'],
            contact_phone=customer['phone'],
            contact_address=customer['address'],
            contact_email=customer['email'],
            lines=[values])
        order.save()
        line, = order.lines
        label, kind = _instrument_label(story), _kind(story)
        # Taken before the submission
        stamp = (story.clock.local()
            - dt.timedelta(minutes=40)).strftime('%Y-%m-%d %H:%M')
        if story.type in {'repair', 'maintenance', 'validation',
                'installation', 'recycle'}:
            for i in range(1 if story.type != 'repair' else 2):
                _attach(str(line), f'IMG_{2400 + story.index * 3 + i}.jpg',
                    demo_media.photo(label, kind,
                        'fault' if story.type == 'repair' else 'site',
                        stamp=stamp, seed=story.index * 10 + i),
                    '客户上传的设备照片', sequence=i + 1)
        if story.type in {'selection', 'rental', 'recycle'} \
                or story.index % 5 == 0:
            _attach(str(order), _document_name(story),
                _customer_document(story), '客户上传的文档',
                service_use='order', sequence=1)
        return order.id

    story.order_id = runner.run(create)


def _document_name(story):
    return {
        'selection': '采购需求说明.pdf',
        'rental': '租赁需求及设备清单.pdf',
        'recycle': '待回收资产清单.pdf',
        }.get(story.type, '设备档案.pdf')


def _customer_document(story):
    f = demo_media.fonts()
    customer = story.customer
    line = _line_values(story)
    rows = [f'{k}: {v}' for k, v in line.items()
        if k not in {'appointment_time'} and f.cjk]
    if not f.cjk:
        rows = [f'Instrument: {_instrument_label(story)}',
            f"Quantity: {line.get('quantity', 1)}"]
    return demo_media.pdf(
        f.text(_document_name(story)[:-4], 'Customer document'),
        f.text(customer['company'], customer['email']),
        [(f.text('一、基本信息', '1. Details'), rows),
            (f.text('二、联系人', '2. Contact'), [
                    f.text(f"{customer['name']}  {customer['department']}",
                        customer['email']), customer['phone']])],
        seed=story.index)


def _report_pdf(story, number, version):
    f = demo_media.fonts()
    label = _instrument_label(story)
    noun = WORK_NOUNS[story.type]
    checks = [
        ('外观及附件检查', 'Visual inspection and accessories'),
        ('通电自检', 'Power-on self test'),
        ('关键性能参数测试', 'Key performance parameters'),
        ('重复性测试（n=6）', 'Repeatability (n=6)'),
        ('安全检查', 'Safety check'),
        ]
    return demo_media.pdf(
        f.text(f'{noun}报告', f'{story.type.title()} report'),
        f'{number} · {label} · v{version}',
        [(f.text('一、设备信息', '1. Instrument'), [label,
                    f.text(story.customer['company'],
                        story.customer['email'])]),
            (f.text('二、检测项目与结果', '2. Checks and results'), [
                    '%-28s %s' % (f.text(zh, en), f.text('合格', 'PASS'))
                    for zh, en in checks]),
            (f.text('三、结论', '3. Conclusion'), [f.text(
                        '各项指标符合要求，设备可正常使用。',
                        'All checks passed; the instrument is fit for use.')]),
            (f.text('四、签字', '4. Signatures'), [
                    f.text('工程师：' + story.engineer['name'],
                        'Engineer: ' + story.engineer['login']),
                    f.text('客户确认：', 'Customer: ') + '________'])],
        seed=story.index, picture=(label, _kind(story)))


class Rehearsal:
    "A runner that runs nothing: _advance through it only moves the clock"

    def run(self, func, user=0, context=None, check_access=False, now=None):
        return None


# The day a rehearsal starts from: any working day does
REHEARSAL_DAY = dt.date(2025, 1, 6)


def _schedule(master, story):
    """Give the story its clock: its actions rehearsed from any working day
    tell how many working days it takes; it is then submitted that many
    working days before today (or more, to spread the finished orders over
    the last weeks) so that its last action is already past"""
    _line_values(story)
    seed = f'clock-{story.type}-{story.target}-{story.variant}-{story.index}'
    # Orders that stop before the visit have it in the coming days
    pending = story.target in {'waiting', 'accepted', 'visit', 'cancelled'}
    story.clock = StoryClock(seed, REHEARSAL_DAY, pending)
    state = story.rng.getstate()
    _advance(Rehearsal(), master, story)
    story.rng.setstate(state)
    days, minute = story.clock.days, story.clock.minute

    now = local_now()
    back = days
    if not is_working_day(now.date()) \
            or minute > now.hour * 60 + now.minute - 5:
        back += 1
    spread = random.Random(seed + '-spread')
    if story.target in {'done', 'cancelled'}:
        back += spread.randint(0, 4)
    elif story.target == 'rating':
        back += spread.randint(0, 1)
    story.clock = StoryClock(
        seed, working_day(now.date(), -back), pending)


def _perform(runner, story, action, values=None, actor='engineer'):
    """Order.perform as the actor would call it, when the story's clock
    says"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    def act():
        Order = Pool().get('instrument_service.order')
        order = Order(story.order_id)
        evidence = dict(values(order) if callable(values) else values or {})
        if actor == 'engineer':
            # The engineer app calls perform through RPC: access rights
            # and record rules apply to the engineer
            with Transaction().set_context(_check_access=True):
                Order.perform([order], action, evidence)
        else:
            Order.perform([order], action, evidence)

    now = story.clock.advance(action)
    if actor == 'engineer':
        runner.run(act, user=story.engineer['user'], now=now)
    elif actor == 'customer':
        runner.run(act, context={
                'instrument_service_session': story.session}, now=now)
    else:
        raise ValueError(actor)


def _evidence_photos(story, order, purpose, count):
    """Photos the engineer uploads before the step: staged on the order,
    then the engine moves them onto the progress record"""
    label, kind = _instrument_label(story), _kind(story)
    stamp = story.clock.local().strftime('%Y-%m-%d %H:%M')
    return _upload(order, [(f'{purpose}_{order.number}_{i + 1}.jpg',
                demo_media.photo(label, kind, purpose, stamp=stamp,
                    seed=story.index * 100 + i + len(purpose)))
            for i in range(count)], images_only=True)


def _advance(runner, master, story):
    "Take the order from draft to its target step through the engine"
    from trytond.pool import Pool
    rng = story.rng
    type_ = story.type
    customer = story.customer
    line = _line_values(story)
    categories = '、'.join(c.upper() for c in line.get(
            'validation_categories', [])) or ''

    # Submission: by the customer (mini-program), or the dispatcher for a
    # phone order
    def submit():
        Order = Pool().get('instrument_service.order')
        Order.submit([Order(story.order_id)])
    if story.variant == 'phone':
        runner.run(submit, user=master['dispatcher'], check_access=True,
            now=story.clock.now)
    else:
        runner.run(submit, context={
                'instrument_service_session': story.session},
            now=story.clock.now)
    if story.target == 'waiting':
        return

    _perform(runner, story, 'accept')
    if story.variant == 'cancel_staff':
        def cancel():
            Order = Pool().get('instrument_service.order')
            Order.do_cancel([Order(story.order_id)],
                '客户来电：设备已由原厂直接回收，取消本单。')
        runner.run(cancel, user=master['dispatcher'], check_access=True,
            now=story.clock.advance('cancel'))
        return
    if story.target == 'accepted':
        return

    if story.variant == 'remote':
        _perform(runner, story, 'visit_remote')
        if story.target == 'visit':
            return
        _perform(runner, story, 'finish_remote', {
                'description': '已通过电话和视频远程指导客户重新校准电极并'
                '更换电解液，斜率恢复到98.6%，问题解决，无需上门。'})
        _perform(runner, story, 'rate', {'ratings': {
                    'attitude': 5, 'quality': 5, 'overall': 5,
                    'comment': '远程就解决了，省了等上门的时间，赞！'}},
            actor='customer')
        return

    def visit(order):
        # On a later working day, in the coming days when the story stops
        # before the visit
        return {'appointment': story.clock.appointment}
    _perform(runner, story, 'visit_onsite', visit)
    if story.variant == 'cancel_customer':
        def cancel():
            Order = Pool().get('instrument_service.order')
            Order.do_cancel([Order(story.order_id)],
                '培训计划调整，新员工入职推迟，暂不需要培训。')
        runner.run(cancel, context={
                'instrument_service_session': story.session},
            now=story.clock.advance('cancel'))
        return
    if story.target == 'visit':
        return

    def assessment(order):
        lat, lon = customer['geo']
        return {
            'description': ASSESSMENTS[type_].format(
                fault=line.get('fault_description', ''),
                name=line['instrument_name'],
                hours=rng.choice([2300, 4100, 6800]),
                count=rng.choice([3, 4, 6])),
            'photos': _evidence_photos(story, order, 'assessment',
                rng.choice([1, 2])),
            'check_in': {
                # On arrival, around the appointment
                'time': story.clock.appointment + dt.timedelta(
                    minutes=rng.randint(-10, 5)),
                'latitude': round(lat + rng.uniform(-0.002, 0.002), 6),
                'longitude': round(lon + rng.uniform(-0.002, 0.002), 6),
                'accuracy': round(rng.uniform(5, 30), 1),
                'address': customer['address'],
                },
            }
    _perform(runner, story, 'submit_assessment', assessment)
    if story.target == 'assessment':
        return

    amounts = AMOUNTS[type_]
    amount = Decimal(amounts[story.index % len(amounts)])
    plan = PLANS[type_].format(categories=categories or 'IQ/OQ')

    def quote(amount, plan, photos):
        def values(order):
            result = {'description': plan, 'amount': amount}
            if photos:
                result['photos'] = _evidence_photos(
                    story, order, 'quote', 1)
            return result
        return values
    if story.variant == 'quote_revised':
        _perform(runner, story, 'submit_quote',
            quote(amount * 2, plan, False))
        _perform(runner, story, 'reject_quote', {
                'reason': '报价偏高，超出本年度维护预算，'
                '请提供可选国产替代配件的方案。'}, actor='customer')
        plan = '（修订）' + plan + '部分配件改用经验证的国产替代件，' \
            '质保期不变。'
    _perform(runner, story, 'submit_quote',
        quote(amount, plan, story.index % 3 == 0))
    if story.target == 'quote':
        return
    _perform(runner, story, 'confirm_quote', actor='customer')
    if story.target == 'work' and story.variant != 'report_rejected':
        return

    report_text = REPORTS[type_].format(categories=categories or 'IQ/OQ')

    def report(version):
        def values(order):
            # The signed report as a PDF, which the customer opens from the
            # progress page
            result = {'report': report_text, 'files': _upload(order, [(
                            f'{WORK_NOUNS[type_]}报告_{order.number}'
                            f'_v{version}.pdf',
                            _report_pdf(story, order.number, version))])}
            if rng.random() < 0.6:
                result['photos'] = _evidence_photos(
                    story, order, 'report', 1)
            return result
        return values

    _perform(runner, story, 'submit_report', report(1))
    if story.variant == 'report_rejected':
        _perform(runner, story, 'reject_report', {
                'reason': '报告缺少原始数据和计量器具的校准证书编号，'
                '请补充后重新提交。'}, actor='customer')
        if story.target == 'work':
            return
        report_text += '（已补充原始数据和校准证书编号。）'
        _perform(runner, story, 'submit_report', report(2))
    if story.target == 'report':
        return
    _perform(runner, story, 'confirm_report', actor='customer')
    if story.target == 'rating':
        return
    _perform(runner, story, 'rate', {'ratings': {
                'attitude': rng.choice([4, 5, 5]),
                'quality': rng.choice([4, 5, 5]),
                'overall': rng.choice([4, 5]),
                'comment': rng.choice(RATING_COMMENTS)}}, actor='customer')


def _summary(runner):
    """Task ID, type, current step and state of every order, read back
    through the models in Chinese"""
    from trytond.pool import Pool

    def read():
        Order = Pool().get('instrument_service.order')
        orders = Order.search([], order=[('id', 'ASC')])
        return [{
                'number': o.number, 'type': o.type,
                'step': o.step.code if o.step else None,
                'step_name': (o.step.render_name(o.hint_variables())
                    if o.step else ''),
                'state': o.state, 'hint': o.hint,
                } for o in orders]
    return runner.run(read)


# ---------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------

def _write_credentials(path, db_name, url, logins):
    lines = [
        '# Demo logins, generated by scripts/build_demo.py on '
        f'{dt.datetime.now():%Y-%m-%d %H:%M}.',
        '# New random passwords on every rebuild. Not for production.',
        f'URL       {url}',
        f'database  {db_name}',
        '',
        f"{'role':<12}{'login':<38}password",
        ]
    for role, login, password in logins:
        lines.append(f'{role:<12}{login:<38}{password}')
    lines.append('')
    lines.append('# back office (sao): admin, dispatcher and engineers; '
        'customers are web.user accounts for the mobile API.')
    path.write_text('\n'.join(lines) + '\n')
    path.chmod(0o600)


def server_url():
    from trytond import config
    host, port = config.split_netloc(config.get('web', 'listen'))
    return f'http://{host or "127.0.0.1"}:{port}/'


def build_demo(db_name='demo', data_path=None, config_file=DEFAULT_CONFIG,
        force=False, log=print):
    """Build (or keep, when up to date) the demo database.

    db_name: database name; data_path: folder for the database files,
    filestore, credentials and build stamp (default: the configuration's
    [database] path and the repository's data/ folder); config_file: trytond
    configuration. Returns a dict with db, url, config_files, built (False
    when it was up to date), credentials {login: password}, roles and
    orders (the summary rows)."""
    started = time.monotonic()
    config_files, data_dir, db_path = _configure(config_file, data_path)
    from trytond import backend
    from trytond.pool import Pool

    stamp_file = data_dir / f'demo-{db_name}.json'
    credentials_file = data_dir / (
        'demo-credentials.txt' if db_name == 'demo'
        else f'demo-credentials-{db_name}.txt')
    print_ = log or (lambda *a, **k: None)
    digest = fingerprint(config_files, db_name)
    if (not force and stamp_file.exists() and credentials_file.exists()
            and _database_exists(db_name)):
        stamp = json.loads(stamp_file.read_text())
        if stamp.get('fingerprint') == digest:
            print_(f'Demo database "{db_name}" is up to date '
                f'(built {stamp["built_at"]}); use --force to rebuild.')
            return {**stamp, 'built': False,
                'credentials_file': str(credentials_file)}

    print_(f'Building demo database "{db_name}" ({backend.name}, '
        f'{db_path}) ...')
    stamp_file.unlink(missing_ok=True)
    _drop_database(db_name, db_path)
    _create_database(db_name)

    logins = [('admin', 'admin')]
    logins += [('dispatcher', DISPATCHER['login'])]
    logins += [('engineer', e['login']) for e in ENGINEERS]
    logins += [('customer', c['email']) for c in CUSTOMERS]
    passwords = {login: new_password() for _, login in logins}

    _activate_modules(db_name, passwords['admin'], data_dir)
    print_(f'  modules activated ({time.monotonic() - started:.0f} s)')
    if db_name not in Pool.database_list():
        Pool(db_name).init()

    runner = Runner(db_name)
    master = _setup_master_data(runner, passwords)
    runner.company_id = master['company']
    sessions = _customer_sessions(runner, master['customers'])
    stories = _stories(master)
    for story in stories:
        story.session = sessions[story.customer['web_user']]
        _schedule(master, story)
    # In the order of their submissions, as their task IDs count them
    for story in sorted(stories, key=lambda story: story.clock.now):
        _create_order(runner, master, story)
        _advance(runner, master, story)
    orders = _summary(runner)
    print_(f'  {len(orders)} orders through {runner.transactions} '
        f'transactions ({time.monotonic() - started:.0f} s)')

    url = server_url()
    _write_credentials(credentials_file, db_name, url,
        [(role, login, passwords[login]) for role, login in logins])
    result = {
        'db': db_name,
        'url': url,
        'config_files': config_files,
        'built_at': f'{dt.datetime.now():%Y-%m-%d %H:%M:%S}',
        'fingerprint': digest,
        'roles': {login: role for role, login in logins},
        'orders': orders,
        }
    stamp_file.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    return {**result, 'built': True, 'credentials': passwords,
        'credentials_file': str(credentials_file)}


def print_orders(orders, out=sys.stdout):
    out.write(f"\n{'task ID':<16}{'type':<14}{'step':<12}{'state':<13}"
        'step name\n')
    for o in orders:
        out.write(f"{o['number'] or '-':<16}{o['type']:<14}"
            f"{o['step'] or '-':<12}{o['state']:<13}{o['step_name']}\n")
    out.write(f'{len(orders)} orders\n')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--db', default='demo', help="database name")
    parser.add_argument('--config', default=str(DEFAULT_CONFIG),
        help="trytond configuration file (default: %(default)s)")
    parser.add_argument('--data-path', default=None,
        help="put the database, filestore and credentials in this folder")
    parser.add_argument('--force', action='store_true',
        help="rebuild even when the database is up to date")
    parser.add_argument('--json', metavar='FILE',
        help="also write the result (with the passwords) to FILE")
    parser.add_argument('--quiet', action='store_true',
        help="do not print the orders and logins")
    options = parser.parse_args(argv)

    import logging
    logging.basicConfig(level=logging.WARNING,
        format='%(levelname)s %(name)s %(message)s')
    started = time.monotonic()
    result = build_demo(options.db, options.data_path, options.config,
        force=options.force)
    if result['built'] and not options.quiet:
        print_orders(result['orders'])
    if options.json:
        Path(options.json).write_text(json.dumps(
                result, ensure_ascii=False, indent=1, default=str))
    if not options.quiet:
        print(f'\nDemo database "{result["db"]}" ready in '
            f'{time.monotonic() - started:.0f} s.')
        print(f"Logins (also in {result['credentials_file']}):\n")
        print(Path(result['credentials_file']).read_text())
    return 0


if __name__ == '__main__':
    sys.exit(main())
