# This file is part of the instrument_service_api module.
# The COPYRIGHT file at the top level of this repository contains the full
# copyright notices and license terms.
"""Requests are checked against the JSON Schemas the OpenAPI document
publishes, with the jsonschema library: each request is described once,
and that description both validates it and documents it.

What the library finds becomes the `fields` of the error answer: the path
of each field in error (contact.phone, lines[0].quantity), a machine code
(required, unknown, type, minimum...) and a message in the caller's
language. A schema may name the message of its pattern or format with the
keyword x-message (an ir.message of this module) and the code with x-code,
where the generic "invalid format" would not tell a person what to type."""
import datetime as dt
import re
from functools import lru_cache

from jsonschema import Draft202012Validator, FormatChecker

from trytond.i18n import gettext

# Characters that do not belong in text: all controls but tab and newlines,
# and the halves of a surrogate pair, which JSON can write alone but no
# text is made of
CONTROL = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]')
# What a line (a name, a brand) does not have
LINE_BREAKS = re.compile('[\t\n\r\x0b\x0c]')
EMAIL = re.compile(r'^[^@\s]+@[^@\s]+\.[^@\s]+$')
# The times a client may send (appointments, check-ins), in UTC. Outside,
# a time is a typo, and it could not be answered as the document says:
# Asia/Shanghai is +08:05:43 (LMT) before 1901 and +09:00 in the summers of
# 1986 to 1991, and the year 9999 in UTC is 10000 in Shanghai
MIN_TIME = dt.datetime(2000, 1, 1)
MAX_TIME = dt.datetime(2100, 1, 1)

# The message of each code, and the variables it takes from the error
MESSAGES = {
    'required': 'msg_field_required',
    'unknown': 'msg_field_unknown',
    'type': 'msg_field_type',
    'choice': 'msg_field_choice',
    'minimum': 'msg_field_minimum',
    'exclusive_minimum': 'msg_field_exclusive_minimum',
    'maximum': 'msg_field_maximum',
    'exclusive_maximum': 'msg_field_exclusive_maximum',
    'min_length': 'msg_field_min_length',
    'max_length': 'msg_field_max_length',
    'min_items': 'msg_field_min_items',
    'max_items': 'msg_field_max_items',
    'unique': 'msg_field_unique',
    'pattern': 'msg_field_pattern',
    'format': 'msg_field_pattern',
    'datetime': 'msg_field_datetime',
    'email': 'msg_field_email',
    'control_characters': 'msg_field_control_characters',
    'single_line': 'msg_field_single_line',
    }
# jsonschema's keyword -> our code
KEYWORDS = {
    'minimum': 'minimum',
    'exclusiveMinimum': 'exclusive_minimum',
    'maximum': 'maximum',
    'exclusiveMaximum': 'exclusive_maximum',
    'minLength': 'min_length',
    'maxLength': 'max_length',
    'minItems': 'min_items',
    'maxItems': 'max_items',
    'uniqueItems': 'unique',
    'enum': 'choice',
    'const': 'choice',
    }
FORMAT_CODES = {'date-time': 'datetime', 'email': 'email',
    'single-line': 'single_line'}
TYPE_MESSAGES = {
    'string': 'msg_type_string',
    'integer': 'msg_type_integer',
    'number': 'msg_type_number',
    'boolean': 'msg_type_boolean',
    'array': 'msg_type_array',
    'object': 'msg_type_object',
    'null': 'msg_type_null',
    }


def parse_time(value):
    """An ISO 8601 time with an offset, from 2000 to 2099, as a naive UTC
    datetime; None when value is not one"""
    if not isinstance(value, str):
        return None
    try:
        result = dt.datetime.fromisoformat(value.replace('Z', '+00:00'))
    except (ValueError, OverflowError):
        return None
    if result.tzinfo is None:
        return None
    try:
        result = result.astimezone(dt.timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError):
        return None
    if not MIN_TIME <= result < MAX_TIME:
        return None
    return result


FORMATS = FormatChecker(formats=())


@FORMATS.checks('date-time')
def _is_time(value):
    return not isinstance(value, str) or parse_time(value) is not None


@FORMATS.checks('email')
def _is_email(value):
    return not isinstance(value, str) or bool(EMAIL.match(value))


@FORMATS.checks('single-line')
def _is_line(value):
    return not isinstance(value, str) or not LINE_BREAKS.search(value)


@lru_cache(maxsize=None)
def _validator(schemas_id, name):
    from .schemas import SCHEMAS
    return Draft202012Validator({
            '$ref': '#/components/schemas/%s' % name,
            'components': {'schemas': SCHEMAS},
            }, format_checker=FORMATS)


def validator_of(schema):
    "A validator of schema, a dict that may refer to the named schemas"
    from .schemas import SCHEMAS
    return Draft202012Validator({
            **schema, 'components': {'schemas': SCHEMAS},
            }, format_checker=FORMATS)


def path_name(path):
    "lines[0].quantity for the path ('lines', 0, 'quantity')"
    name = ''
    for part in path:
        if isinstance(part, int):
            name += '[%s]' % part
        else:
            name += ('.' if name else '') + str(part)
    return name


def problems(data, schema=None, name=None, prefix=()):
    """The problems of data against the named schema (name) or a schema:
    {path: (code, variables)}, the first problem of each path"""
    from .schemas import SCHEMAS
    if name is not None:
        schema = SCHEMAS[name]
        # The OpenAPI discriminator picks the schema of the type at once,
        # which says more than "matches none of eight"
        discriminator = schema.get('discriminator')
        if discriminator and isinstance(data, dict):
            value = data.get(discriminator['propertyName'])
            target = discriminator['mapping'].get(value) if isinstance(
                value, str) else None
            if target:
                return problems(data, name=target.rsplit('/', 1)[1],
                    prefix=prefix)
            key = discriminator['propertyName']
            if value is None or (isinstance(value, str)
                    and not value.strip()):
                problem = ('required', {})
            elif not isinstance(value, str):
                problem = ('type', {'type': 'string'})
            else:
                problem = ('choice', {
                        'choices': ', '.join(discriminator['mapping'])})
            result = {path_name(prefix + (key,)): problem}
            # What every schema of the choice requires
            required = set.intersection(*(
                    set(SCHEMAS[t.rsplit('/', 1)[1]].get('required', []))
                    for t in discriminator['mapping'].values()))
            for name in sorted(required - set(data) - {key}):
                result[path_name(prefix + (name,))] = ('required', {})
            return result
        validator = _validator(id(SCHEMAS), name)
    else:
        validator = validator_of(schema)
    result = {}
    for error in sorted(validator.iter_errors(data),
            key=lambda e: (len(e.absolute_path), list(map(str, e.path)))):
        for path, code, variables in _explain(error):
            result.setdefault(path_name(prefix + path), (code, variables))
    for path in _control_characters(data):
        result.setdefault(path_name(prefix + path),
            ('control_characters', {}))
    return result


def _explain(error):
    "[(path, code, variables)] of one error of jsonschema"
    path = tuple(error.absolute_path)
    keyword = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    if keyword == 'required':
        return [(path + (p,), 'required', {})
            for p in error.validator_value
            if isinstance(error.instance, dict) and p not in error.instance]
    if keyword == 'additionalProperties':
        known = set(schema.get('properties', {}))
        return [(path + (p,), 'unknown', {})
            for p in sorted(error.instance) if p not in known]
    if keyword in {'anyOf', 'oneOf'}:
        # nullable(): the branch that is not null says what is wrong
        context = [e for e in error.context
            if not (e.validator == 'type' and e.validator_value == 'null')]
        if context:
            result = []
            for sub in context:
                result += _explain(sub)
            return result
        return [(path, 'type', {'type': 'object'})]
    if keyword == 'type':
        if error.instance is None:
            # null where a value is needed
            return [(path, 'required', {})]
        expected = error.validator_value
        if isinstance(expected, list):
            expected = [t for t in expected if t != 'null'][0]
        return [(path, 'type', {'type': expected})]
    if keyword == 'pattern':
        code = schema.get('x-code', 'pattern')
        return [(path, code, {'message': schema.get('x-message')})]
    if keyword == 'format':
        code = FORMAT_CODES.get(error.validator_value, 'format')
        return [(path, code, {'message': schema.get('x-message')})]
    if keyword in {'enum', 'const'}:
        values = (error.validator_value if keyword == 'enum'
            else [error.validator_value])
        return [(path, 'choice', {'choices': ', '.join(
                        str(v) for v in values if v is not None)})]
    if keyword in KEYWORDS:
        return [(path, KEYWORDS[keyword], {'limit': error.validator_value})]
    return [(path, 'pattern', {})]


def _control_characters(value, path=()):
    if isinstance(value, str):
        if CONTROL.search(value):
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _control_characters(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _control_characters(item, path + (index,))


def message(code, variables):
    "The message of a problem, in the language of the transaction"
    variables = dict(variables)
    message_id = variables.pop('message', None) or MESSAGES.get(
        code, 'msg_field_pattern')
    if code == 'type':
        variables['type'] = gettext('instrument_service_api.'
            + TYPE_MESSAGES.get(variables.get('type'), 'msg_type_string'))
    return gettext('instrument_service_api.' + message_id, **variables)


def fields(problems):
    "The `fields` of an error answer"
    return {path: {'code': code, 'message': message(code, variables)}
        for path, (code, variables) in sorted(problems.items())}
