# This file is part of the instrument_service module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""Service regions: the province and city of a Chinese address.

Engineers serve regions written as "广东省 深圳市", "广东" or "上海"; orders
have the province and city of their address. Both are read the same way,
so that "广东" and "广东省" are the same province."""
import re

# The provincial-level divisions, as written in full
PROVINCES = [
    '北京市', '天津市', '上海市', '重庆市',
    '河北省', '山西省', '辽宁省', '吉林省', '黑龙江省', '江苏省', '浙江省',
    '安徽省', '福建省', '江西省', '山东省', '河南省', '湖北省', '湖南省',
    '广东省', '海南省', '四川省', '贵州省', '云南省', '陕西省', '甘肃省',
    '青海省', '台湾省',
    '内蒙古自治区', '广西壮族自治区', '西藏自治区', '宁夏回族自治区',
    '新疆维吾尔自治区',
    '香港特别行政区', '澳门特别行政区',
    ]
MUNICIPALITIES = {'北京市', '天津市', '上海市', '重庆市'}
_SUFFIXES = ['特别行政区', '维吾尔自治区', '壮族自治区', '回族自治区',
    '自治区', '省', '市']


def _short(name):
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name[:-len(suffix)]
    return name


_BY_SHORT = sorted(((_short(p), p) for p in PROVINCES),
    key=lambda item: -len(item[0]))
# A city of a province: up to the first 市, 州 (自治州), 盟 or 地区, with
# the 市 of a city named 某州 (苏州市, 广州市)
_CITY = re.compile(r'^\s*(.+?(?:自治州|州市|市|州|盟|地区))')


def parse(text):
    """Return the (province, city) of an address or region, each in full
    or None: "广东深圳市南山区" gives ("广东省", "深圳市"), "上海市浦东新区"
    ("上海市", "上海市")"""
    text = (text or '').strip()
    # A postal address may start with the country
    text = text.removeprefix('中国').strip()
    for short, province in _BY_SHORT:
        if text.startswith(province):
            rest = text[len(province):]
        elif text.startswith(short):
            rest = text[len(short):]
        else:
            continue
        if province in MUNICIPALITIES:
            return province, province
        match = _CITY.match(rest)
        return province, match.group(1) if match else None
    return None, None


def _city_key(city):
    "The city without its 市, so that 苏州 and 苏州市 are the same"
    return city[:-1] if city and city.endswith('市') else city


def covers(region, province, city):
    """Whether a served region ("广东省" or "广东省 深圳市") covers the
    province and city of an order; a province alone covers all its cities"""
    served_province, served_city = parse(region.replace(' ', ''))
    if not served_province or served_province != province:
        return False
    return served_city is None or _city_key(served_city) == _city_key(city)


# A district of a city: up to the first 区, 县 or 旗, or a county-level
# 市 (昆山市 of 苏州市)
_DISTRICT = re.compile(r'^\s*(.{1,8}?(?:自治县|自治旗|区|县|旗|市))')


def district(text):
    """The district (区, 县, 旗 or county-level 市) of an address, or None:
    "上海市浦东新区张江路" gives "浦东新区", "江苏省苏州市昆山市玉山镇"
    "昆山市\""""
    text = (text or '').strip().removeprefix('中国').strip()
    province, city = parse(text)
    if not province:
        return None
    rest = text
    for prefix in [province, province[:-1], _short(province)]:
        if rest.startswith(prefix):
            rest = rest[len(prefix):]
            break
    if city and province not in MUNICIPALITIES:
        for prefix in [city, city[:-1]]:
            if rest.startswith(prefix):
                rest = rest[len(prefix):]
                break
    elif rest.startswith('市'):
        rest = rest[1:]
    rest = rest.lstrip(' ,，')
    match = _DISTRICT.match(rest)
    return match.group(1) if match else None
