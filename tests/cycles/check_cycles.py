#!/usr/bin/env python3
"""check_cycles.py - no two files of one module call or include each other in a cycle.

For each module folder named on the command line, builds the graph of its files: file A points at
file B when A's object file needs a symbol that B's object file defines (`nm` on the objects the
build made from the folder's sources), or when A includes B with #include "...". A cycle in that
graph is a module whose files cannot be read, tested or replaced one layer at a time; each one is
named with the symbols or includes that close it, and the script exits 1.

Usage: check_cycles.py NM BUILD_DIR SOURCE_ROOT MODULE...
"""
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from objects import node_of_object, objects_of, sources_of, symbols

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def build_graph(nm, build, root, module):
    """edges[a][b] = why a points at b (symbols or an include)."""
    sources = sources_of(root, module)
    edges = {}
    defs, needs = {}, {}
    for obj in objects_of(build, module):
        node = node_of_object(obj, sources, module)
        d, n = symbols(nm, obj)
        defs.setdefault(node, set()).update(d)
        needs.setdefault(node, set()).update(n)
    owner = {}
    for node, d in defs.items():
        for sym in d:
            owner.setdefault(sym, set()).add(node)
    for node, n in needs.items():
        for sym in n:
            for other in owner.get(sym, ()):
                if other != node:
                    edges.setdefault(node, {}).setdefault(other, []).append("calls " + sym)
    by_name = {}
    for s in sources:
        by_name.setdefault(os.path.basename(s), []).append(s)
    for s in sources:
        with open(os.path.join(root, s), encoding="utf-8", errors="replace") as f:
            text = f.read()
        for inc in INCLUDE.findall(text):
            here = os.path.normpath(os.path.join(os.path.dirname(s), inc))
            targets = [here] if here in sources else by_name.get(os.path.basename(inc), [])
            for t in targets:
                if t != s:
                    edges.setdefault(s, {}).setdefault(t, []).append("includes " + inc)
    return edges, set(sources) | set(defs)


def components(edges):
    """Strongly connected components with more than one file (Tarjan, iteratively)."""
    nodes = sorted(set(edges) | {b for a in edges for b in edges[a]})
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = 0
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, {}))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(edges.get(nxt, {})))))
                elif nxt in on:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def one_cycle(edges, comp):
    """A shortest cycle through the component's first file (breadth-first, inside comp)."""
    start, inside = comp[0], set(comp)
    prev, queue = {start: None}, [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(edges.get(node, {})):
            if nxt not in inside:
                continue
            if nxt == start:
                path = [node]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                path.reverse()
                return path + [start]
            if nxt not in prev:
                prev[nxt] = node
                queue.append(nxt)
    return comp + [start]


def main(argv):
    if len(argv) < 5:
        sys.exit(__doc__.strip().splitlines()[-1])
    nm, build, root, modules = argv[1], argv[2], argv[3], argv[4:]
    failed = 0
    for module in modules:
        if not os.path.isdir(os.path.join(root, module)):
            print("check_cycles: no module folder %s in %s" % (module, root))
            failed = 1
            continue
        if not objects_of(build, module):
            print("check_cycles: no object files of %s under %s: build it first" % (module, build))
            failed = 1
            continue
        edges, files = build_graph(nm, build, root, module)
        comps = components(edges)
        for comp in comps:
            cyc = one_cycle(edges, comp)
            print("cycle in %s/: %s" % (module, " -> ".join(cyc)))
            for a, b in zip(cyc, cyc[1:]):
                why = edges[a][b]
                more = " (+%d more)" % (len(why) - 3) if len(why) > 3 else ""
                print("    %s -> %s: %s%s" % (a, b, ", ".join(sorted(why)[:3]), more))
            if len(comp) > len(cyc) - 1:
                print("    (the cycle's component holds: %s)" % ", ".join(comp))
        if comps:
            failed = 1
        else:
            print("ok: %s/ has no cycle between its files (%d files)" % (module, len(files)))
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv))
