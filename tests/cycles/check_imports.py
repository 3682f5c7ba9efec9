#!/usr/bin/env python3
"""check_imports.py - the architecture invariants that a link could catch, checked on the build.

Each rule of RULES (tests/cycles/imports.txt) names a module folder, a regular expression of
symbols its object files may not need (nm's undefined symbols) and the files allowed to need
them anyway; a violation is named with the file, the symbol and the invariant it breaks.

Usage: check_imports.py NM BUILD_DIR SOURCE_ROOT RULES
"""
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from objects import node_of_object, objects_of, sources_of, symbols


def main(argv):
    if len(argv) != 5:
        sys.exit(__doc__.strip().splitlines()[-1])
    nm, build, root, rules_path = argv[1:]
    failed, checked = 0, 0
    with open(rules_path, encoding="utf-8") as f:
        rules = [l.split(None, 3) for l in f if l.strip() and not l.startswith("#")]
    for module, regex, allowed, why in rules:
        objs = objects_of(build, module)
        if not objs:
            print("check_imports: no object files of %s under %s: build it first" % (module, build))
            failed = 1
            continue
        pat = re.compile(regex)
        ok = set() if allowed == "-" else set(allowed.split(","))
        sources = sources_of(root, module)
        for obj in objs:
            src = node_of_object(obj, sources, module)
            if src in ok or "(generated)" in src or "ua_embed" in obj:
                continue
            for sym in sorted(symbols(nm, obj)[1]):
                if pat.search(sym):
                    print("%s needs %s: %s" % (src, sym, why.strip()))
                    failed = 1
        checked += 1
    if not failed:
        print("ok: %d rules hold" % checked)
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv))
