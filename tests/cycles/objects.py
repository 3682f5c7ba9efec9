"""objects.py - what check_cycles.py and check_imports.py share: a module's sources, the object
files the build made from them, the source of each object, and nm's symbols of one object."""
import os
import subprocess
import sys

DEFINED = set("TDBRGSVWiu")  # text, data, bss, read-only, small data, weak, indirect, unique


def sources_of(root, module):
    """Every .c/.h (and .S) file under SOURCE_ROOT/module, as module-relative paths."""
    out = []
    base = os.path.join(root, module)
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.endswith((".c", ".h", ".S")):
                out.append(os.path.relpath(os.path.join(folder, name), root))
    return out


def objects_of(build, module):
    """The object files the build made from the module's sources, ignoring tests and benches."""
    found = []
    base = os.path.join(build, module)
    for folder, dirs, files in os.walk(base):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".o"):
                found.append(os.path.join(folder, name))
    return found


def node_of_object(obj, sources, module):
    """The source file an object was compiled from: meson names src/a.c's object src_a.c.o."""
    stem = os.path.basename(obj)[: -len(".o")]
    for s in sources:
        rel = os.path.relpath(s, module)
        if rel.replace("/", "_") == stem:
            return s
    return module + "/(generated) " + stem


def symbols(nm, obj):
    res = subprocess.run([nm, "-P", obj], capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit("%s %s failed: %s" % (nm, obj, res.stderr.strip()))
    defined, needed = set(), set()
    for line in res.stdout.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "U":
            needed.add(name)
        elif kind in DEFINED:
            defined.add(name)
    return defined, needed
