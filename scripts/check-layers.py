#!/usr/bin/env python3
"""Keep gc-core's layers: every import runs downward, import circles stay small.

The layers, lowest first (DESIGN.md, "pygc modules"):

  0 leaf        types, primitive
  1 layout      trace, trace_impls, heap::header
  2 heap        heap (lists, pool, counters, refcount death), the sync heap
  3 collector   collector::*
  4 handles     handle::*, sync::handle, sync::lock
  5 API         gc, debug, weakref, sync, sync::gc, the crate root

A file may import from its own layer or below. The check reads the paths a
file names (`crate::..`, `super::..`, `self::..`, a `use` of a child
module), comments and string literals removed, and resolves each to the
file of the longest module prefix. It fails on

* an import of a higher layer, or
* an import circle (strongly connected files) of more than two files, or
  of two files other than the allowed knots (ALLOWED_KNOTS), or
* a source file over MAX_LINES lines, or
* a use of the header's raw link-word accessors (`next_word`,
  `set_prev_word`, ...) outside `heap/header.rs` and `heap/list.rs`: the
  link words are written only there (the compiler keeps them inside `heap`).

Usage: python3 scripts/check-layers.py [--verbose]   (from the repository root)
"""

import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gc-core", "src")
MAX_LINES = 700

# Module path prefix -> layer. The longest matching prefix wins.
LAYERS = {
    "types": 0,
    "primitive": 0,
    "trace": 1,
    "trace_impls": 1,
    "heap::header": 1,
    "heap::counts": 1,
    "heap": 2,
    "sync::heap": 2,
    "sync::counts": 2,
    "sync::dealloc": 2,
    "sync::world": 2,
    "sync::nursery": 2,
    "sync::pool": 2,
    "collector": 3,
    "handle": 4,
    "sync::handle": 4,
    "sync::lock": 4,
    "sync::weak": 4,
    "sync::any": 4,
    "sync::dst": 4,
    "gc": 5,
    "debug": 5,
    "weakref": 5,
    "sync": 5,
    "sync::gc": 5,
    "": 5,  # lib.rs
}
LAYER_NAMES = ["leaf", "layout", "heap", "collector", "handles", "API"]

# Two-file circles that are allowed (module paths, sorted), each for a reason:
# the vtable stores the trace function and `Tracer` hands headers around;
# a strong handle downgrades to a weak one and a weak one upgrades (std
# keeps `Rc` and `Weak` in one file), on either heap.
# Files that may touch a header's link words (`next`/`prev`) raw.
LINK_WORD_FILES = {"heap::header", "heap::list"}
LINK_WORD = re.compile(r"\b(set_)?(next|prev)_word\b")

ALLOWED_KNOTS = {
    ("heap::header", "trace"),
    ("handle::strong", "handle::weak"),
    ("sync::handle", "sync::weak"),
}


def module_files():
    """Module path ('heap::header', '' for lib.rs) -> file path."""
    mods = {}
    for dirpath, _, files in os.walk(ROOT):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), ROOT)[:-3].split(os.sep)
            if rel[-1] in ("mod", "lib"):
                rel = rel[:-1]
            mods["::".join(rel)] = os.path.join(dirpath, f)
    return mods


def strip(src):
    """Remove comments, string and char literals (keep line structure)."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if src.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif src.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    out.append("\n" if src[i] == "\n" else "")
                    i += 1
        elif c == "r" and re.match(r'r#*"', src[i:i + 10]) and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")):
            m = re.match(r'r(#*)"', src[i:])
            end = '"' + m.group(1)
            j = src.find(end, i + len(m.group(0)))
            out.append('""')
            i = n if j < 0 else j + len(end)
        elif c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            out.append('""')
            i = j + 1
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", src[i:i + 4]) or (c == "'" and src.startswith("'\\", i)):
            j = src.find("'", i + 2)
            out.append("' '")
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


# `$crate::..` in a macro body names the API as the macro's user sees it
# (expanded in their crate), not an import of this file: skipped.
PATH = re.compile(r"(?<!\$)\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE = re.compile(r"\buse\s+([A-Za-z_][A-Za-z0-9_]*)((?:::[A-Za-z_][A-Za-z0-9_]*)*)")
INLINE_MOD = re.compile(r"\bmod\s+([A-Za-z_][A-Za-z0-9_]*)\s*\{")


USE_TREE = re.compile(r"\buse\s+([^;]*\{[^;]*);")


def expand_use_trees(text):
    """Rewrite `use a::{b, c::{d, e}};` as `use a::b; use a::c::d; ...`
    (same length, padded, so positions stay valid for scope lookups)."""

    def paths(tree):
        tree = tree.strip()
        i = tree.find("{")
        if i < 0:
            return [tree.split(" as ")[0].strip()] if tree else []
        prefix, inner = tree[:i], tree[i + 1:tree.rfind("}")]
        parts, depth, cur = [], 0, ""
        for ch in inner:
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
                continue
            depth += ch == "{"
            depth -= ch == "}"
            cur += ch
        parts.append(cur)
        out = []
        for part in parts:
            for p in paths(part):
                if p == "self":
                    out.append(prefix.rstrip(":"))
                elif p:
                    out.append(prefix + p)
        return out

    def repl(m):
        flat = " ".join(f"use {p};" for p in paths(m.group(1)))
        whole = m.group(0)
        newlines = whole.count("\n")
        return (flat + " " * max(0, len(whole) - len(flat) - newlines) + "\n" * newlines)

    return USE_TREE.sub(repl, text)


def imports_of(modpath, text, mods):
    """The modules `text` (the file of `modpath`) names, resolved."""
    text = expand_use_trees(text)
    base = modpath.split("::") if modpath else []
    # Inline modules (`mod tests { .. }`): track their brace ranges so that
    # `super::` inside them resolves from the right place.
    scopes = []  # (start, end, name)
    for m in INLINE_MOD.finditer(text):
        depth, j = 0, m.end() - 1
        while j < len(text):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        scopes.append((m.start(), j, m.group(1)))

    def scope_at(pos):
        inner = [s for s in scopes if s[0] <= pos <= s[1]]
        inner.sort(key=lambda s: s[0])
        return base + [s[2] for s in inner]

    found = set()

    def resolve(segments):
        # the longest prefix that is a module file
        for k in range(len(segments), -1, -1):
            cand = "::".join(segments[:k])
            if cand in mods:
                return cand
        return None

    for m in PATH.finditer(text):
        kind, rest = m.group(1), m.group(2).split("::")[1:]
        here = scope_at(m.start())
        if kind == "crate":
            segs = rest
        elif kind == "self":
            segs = here + rest
        else:
            up = here[:]
            while rest and rest[0] == "super":
                rest = rest[1:]
                up = up[:-1]
            segs = up[:-1] + rest
        target = resolve(segs)
        if target is not None:
            found.add(target)
    for m in USE.finditer(text):
        first = m.group(1)
        if first in ("crate", "super", "self", "std", "core", "alloc"):
            continue
        here = scope_at(m.start())
        child = "::".join(here + [first])
        if child in mods:
            rest = [s for s in m.group(2).split("::") if s]
            target = resolve(here + [first] + rest)
            if target is not None:
                found.add(target)
    found.discard(modpath)
    return found


def layer_of(modpath):
    best = None
    for prefix, layer in LAYERS.items():
        if modpath == prefix or prefix == "" or modpath.startswith(prefix + "::"):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, layer)
    return best[1]


def sccs(graph):
    """Tarjan's strongly connected components."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def name(modpath):
    return modpath or "lib"


def main():
    verbose = "--verbose" in sys.argv
    mods = module_files()
    graph = {}
    errors = []
    for modpath, path in sorted(mods.items()):
        with open(path) as f:
            src = f.read()
        lines = src.count("\n")
        if lines > MAX_LINES:
            errors.append(f"{os.path.relpath(path, ROOT)}: {lines} lines (at most {MAX_LINES})")
        stripped = strip(src)
        graph[modpath] = imports_of(modpath, stripped, mods)
        if modpath not in LINK_WORD_FILES:
            for m in LINK_WORD.finditer(stripped):
                line = stripped.count("\n", 0, m.start()) + 1
                errors.append(
                    f"{os.path.relpath(path, ROOT)}:{line}: raw link word `{m.group(0)}` "
                    "outside heap/header.rs and heap/list.rs"
                )
    for modpath, targets in sorted(graph.items()):
        mine = layer_of(modpath)
        for t in sorted(targets):
            theirs = layer_of(t)
            if verbose:
                print(f"  {name(modpath)} ({mine}) -> {name(t)} ({theirs})")
            if theirs > mine:
                errors.append(
                    f"upward import: {name(modpath)} ({LAYER_NAMES[mine]}) uses "
                    f"{name(t)} ({LAYER_NAMES[theirs]})"
                )
    largest = 1
    for comp in sccs(graph):
        if len(comp) < 2:
            continue
        largest = max(largest, len(comp))
        if len(comp) > 2 or tuple(comp) not in ALLOWED_KNOTS:
            errors.append("import circle: " + " <-> ".join(name(c) for c in comp))
    print(f"check-layers: {len(mods)} files, largest import circle {largest} files")
    for e in errors:
        print("check-layers: " + e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
