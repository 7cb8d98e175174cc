#!/usr/bin/env python3
"""Update the translation files of the modules in addons/ from their sources.

Tryton itself lists what is translatable: the module is activated in a
throwaway SQLite database and its template is exported the way
`trytond-admin --export-translations` does it.  The template is merged with
the existing locale/<lang>.po: translations whose context and source text
still match are kept, obsolete entries are dropped and new ones are added
empty.  The entries still lacking a translation are listed; the exit code
is 1 when there are any.

    .venv/bin/python scripts/update_locale.py [--lang zh_CN] [--check]
        [--module instrument_service_api]
"""
import argparse
import sys
import tempfile
from pathlib import Path

import polib

ADDONS = Path(__file__).resolve().parents[1] / 'addons'
MODULES = sorted(p.parent.name for p in ADDONS.glob('*/tryton.cfg'))


def read_template(module, lang):
    "Return the module's translation template exported by Tryton"
    with tempfile.TemporaryDirectory() as path:
        # The backend is chosen on import, so configure before importing it
        from trytond import config
        config.set('database', 'uri', 'sqlite://')
        config.set('database', 'path', path)
        from trytond import backend
        from trytond.pool import Pool
        from trytond.transaction import Transaction

        name = 'locale'
        Path(path, name + '.sqlite').touch()
        backend.Database(name).init()
        pool = Pool(name)
        pool.init(update=['ir', 'res', module], lang=['en', lang],
            activatedeps=True)
        from trytond.modules.instrument_service.tests.test_locale import (
            export_template)
        with Transaction().start(name, 0):
            template = export_template(module, lang)
        Pool.stop(name)
        backend.Database(name).close()
    return template


def merge(template, current):
    """Give the template entries the translations of current.

    The template's values are suggestions Tryton copies (fuzzy) from other
    modules for the same English text; they are often wrong here (e.g.
    "Model" as a data model), so new entries start empty."""
    translated = {(e.msgctxt, e.msgid): e for e in current if not e.obsolete}
    for entry in template:
        old = translated.get((entry.msgctxt, entry.msgid))
        flags = [f for f in entry.flags if f != 'fuzzy']
        if old and 'fuzzy' in old.flags:
            flags.insert(0, 'fuzzy')
        entry.flags = flags
        entry.msgstr = old.msgstr if old else ''
    return template


def update(module, lang, check):
    "Update (or with check, compare) the file of module; return the status"
    from trytond.ir.translation import TrytonPOFile

    filename = ADDONS / module / 'locale' / f'{lang}.po'
    current = polib.pofile(str(filename)) if filename.exists() else []
    template = merge(read_template(module, lang), current)
    # Written the way Tryton writes its exports, so diffs stay small
    pofile = TrytonPOFile(wrapwidth=78)
    pofile.metadata = {'Content-Type': 'text/plain; charset=utf-8'}
    pofile.extend(template)
    pofile.sort()
    content = str(pofile)

    old_content = filename.read_text('utf-8') if filename.exists() else None
    status = 0
    if check:
        if content != old_content:
            print(f"{filename} is not up to date", file=sys.stderr)
            status = 1
    elif content != old_content:
        filename.parent.mkdir(exist_ok=True)
        filename.write_text(content, 'utf-8')
        print(f"{filename} updated", file=sys.stderr)

    missing = [e for e in pofile if not e.msgstr or 'fuzzy' in e.flags]
    for entry in missing:
        print(f"{module}\t{entry.msgctxt}\t{entry.msgid!r}")
    print(f"{module}: {len(pofile)} entries, {len(missing)} without "
        "translation", file=sys.stderr)
    return 1 if missing else status


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--lang', default='zh_CN')
    parser.add_argument('--module', choices=MODULES, action='append',
        help="only this module (repeatable); all of addons/ by default")
    parser.add_argument('--check', action='store_true',
        help="do not write the files; fail if one is not up to date")
    args = parser.parse_args()
    # One process per module: the Pool is set up once per process
    modules = args.module or MODULES
    if len(modules) > 1:
        import subprocess
        status = 0
        for module in modules:
            command = [sys.executable, __file__, '--lang', args.lang,
                '--module', module] + (['--check'] if args.check else [])
            status |= subprocess.call(command)
        return status
    return update(modules[0], args.lang, args.check)


if __name__ == '__main__':
    sys.exit(main())
