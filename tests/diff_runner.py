"""CPython side of the differential harness (tests/src/diff/mod.rs).

Reads programs from stdin (one op per line, each program ends with `end`),
runs each under CPython's real `gc` with automatic collection disabled and
prints its canonical trace, in the exact format of the Rust runner, followed
by `end`. Every node is ONE gc-tracked container (a class with `__slots__`,
no `__dict__`; edges are four slots, finalizer actions live in a runner-level
dict), weak handles are instances of a `weakref.ref` subclass held by the
runner (never inside nodes, never shared as CPython shares plain refs), so
`gc.collect()` counts exactly the nodes it finds unreachable.

Usage: python3 tests/diff_runner.py < programs.txt
"""

import gc
import sys
import weakref

try:
    import _testcapi

    with_tp_del = _testcapi.with_tp_del
except (ImportError, AttributeError):  # legacy (tp_del) nodes need _testcapi
    with_tp_del = None

EDGES = 4
roots = []  # node id -> node or None
weaks = []  # weak slot -> W or None
acts = {}  # node id -> finalizer actions
events = []  # events of the current op
cleaning = [False]


class W(weakref.ref):
    __slots__ = ()


def probe(w):
    if w >= len(weaks):
        return "x"
    r = weaks[w]
    if r is None:
        return "x"
    o = r()
    return "-" if o is None else str(o.id)


def fin(self):
    if cleaning[0]:
        return
    parts = []
    for a in acts[self.id]:
        if a[0] == "w":
            w = int(a[1:])
            parts.append("w%d=%s" % (w, probe(w)))
        elif a == "s":
            roots[self.id] = self
        elif a[0] == "c":
            ch = getattr(self, "e" + a[1])
            if ch is not None:
                roots[ch.id] = ch
    events.append("fin%d(%s)" % (self.id, ",".join(parts)))


SLOTS = ("id", "e0", "e1", "e2", "e3", "__weakref__")


class Plain:
    __slots__ = SLOTS


class Pep:
    __slots__ = SLOTS

    def __del__(self):
        fin(self)


if with_tp_del is not None:

    class Leg:
        __slots__ = SLOTS

        def __tp_del__(self):
            fin(self)

    Leg = with_tp_del(Leg)
else:
    Leg = None

KINDS = {"p": Plain, "f": Pep, "l": Leg}


def make_cb(w):
    return lambda _ref: events.append("cb%d" % w) if not cleaning[0] else None


def ids(objs):
    return sorted(o.id for o in objs if type(o) in (Plain, Pep, Leg) and o is not None)


def snapshot():
    gens = " ".join("g%d=%s" % (g, fmt(ids(gc.get_objects(generation=g)))) for g in range(3))
    return "%s garbage=%s" % (gens, fmt(ids(gc.garbage)))


def fmt(xs):
    return "[" + ",".join(str(x) for x in xs) + "]"


def run_op(words):
    op = words[0]
    if op == "new":
        cls = KINDS[words[1]]
        node = cls()
        node.id = len(roots)
        node.e0 = node.e1 = node.e2 = node.e3 = None
        acts[node.id] = tuple(words[2:])
        roots.append(node)
        return "n%d" % node.id
    if op == "edge":
        a, k, b = int(words[1]), words[2], int(words[3])
        if roots[a] is None or roots[b] is None:
            return "skip"
        setattr(roots[a], "e" + k, roots[b])
        return "ok"
    if op == "unedge":
        a, k = int(words[1]), words[2]
        if roots[a] is None:
            return "skip"
        setattr(roots[a], "e" + k, None)
        return "ok"
    if op == "drop":
        a = int(words[1])
        if roots[a] is None:
            return "skip"
        roots[a] = None
        return "ok"
    if op == "root":
        a, k = int(words[1]), words[2]
        if roots[a] is None or getattr(roots[a], "e" + k) is None:
            return "skip"
        roots[getattr(roots[a], "e" + k).id] = getattr(roots[a], "e" + k)
        return "ok"
    if op == "weak":
        a, cb = int(words[1]), words[2] == "1"
        w = len(weaks)
        if roots[a] is None:
            weaks.append(None)
            return "skip"
        weaks.append(W(roots[a], make_cb(w)) if cb else W(roots[a]))
        return "w%d" % w
    if op == "unweak":
        w = int(words[1])
        if weaks[w] is None:
            return "skip"
        weaks[w] = None
        return "ok"
    if op == "probe":
        return probe(int(words[1]))
    if op == "wcount":
        a = int(words[1])
        if roots[a] is None:
            return "skip"
        return str(weakref.getweakrefcount(roots[a]))
    if op == "collect":
        n = gc.collect() if words[1] == "full" else gc.collect(int(words[1]))
        return "c%d %s" % (n, snapshot())
    raise ValueError("unknown op %r" % (words,))


def cleanup():
    cleaning[0] = True
    roots.clear()
    weaks.clear()
    for _ in range(10):
        gc.collect()
        left = [o for o in gc.get_objects() if type(o) in (Plain, Pep, Leg)]
        for o in left:
            o.e0 = o.e1 = o.e2 = o.e3 = None
            del o
        del left
        gc.garbage.clear()
    if any(type(o) in (Plain, Pep, Leg) for o in gc.get_objects()):
        print("error: nodes left after cleanup")
    acts.clear()
    events.clear()
    cleaning[0] = False


def main():
    gc.disable()
    gc.collect()
    gc.freeze()  # the runner's own objects: out of the generations
    out = sys.stdout
    i = 0
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "end":
            cleanup()
            out.write("end\n")
            out.flush()
            i = 0
            continue
        result = run_op(words)
        evs = sorted(events)
        events.clear()
        out.write("%d %s => %s [%s]\n" % (i, " ".join(words), result, " ".join(evs)))
        i += 1


if __name__ == "__main__":
    main()
