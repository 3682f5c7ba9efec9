#!/usr/bin/env python3
"""check_imports.py - the architecture invariants that a link could catch, checked on the build.

Each rule of RULES (tests/cycles/imports.txt) names a module folder, a regular expression of
symbols its object files may not need (nm's undefined symbols) and the files allowed to need
them anyway; a violation is named with the file, the symbol and the invariant it breaks.

Usage: check_imports.py NM BUILD_DIR SOURCE_ROOT RULES
"""
import os
import re
import subprocess
import sys


def objects_of(build, module):
    out = []
    for folder, dirs, files in os.walk(os.path.join(build, module)):
        dirs.sort()
        out += [os.path.join(folder, f) for f in sorted(files) if f.endswith(".o")]
    return out


def source_of(obj, root, module):
    """meson names src/a.c's object src_a.c.o: the source path, or the object's name."""
    stem = os.path.basename(obj)[: -len(".o")]
    for folder, _, files in os.walk(os.path.join(root, module)):
        for f in files:
            rel = os.path.relpath(os.path.join(folder, f), root)
            if os.path.relpath(rel, module).replace("/", "_") == stem:
                return rel
    return module + "/" + stem


def needed(nm, obj):
    res = subprocess.run([nm, "-P", obj], capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit("check_imports: %s %s failed: %s" % (nm, obj, res.stderr.strip()))
    return sorted({l.split()[0] for l in res.stdout.splitlines()
                   if len(l.split()) >= 2 and l.split()[1] == "U"})


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
        for obj in objs:
            src = source_of(obj, root, module)
            if src in ok or "/(generated)" in src or "ua_embed" in obj:
                continue
            for sym in needed(nm, obj):
                if pat.search(sym):
                    print("%s needs %s: %s" % (src, sym, why.strip()))
                    failed = 1
        checked += 1
    if not failed:
        print("ok: %d rules hold" % checked)
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv))
