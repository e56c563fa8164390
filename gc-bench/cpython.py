#!/usr/bin/env python3
"""The gc-bench workloads (see BENCHMARKS.md) in CPython, for reference.

Same shapes as benches/workloads/: the node types are classes with
__slots__ (one GC-tracked object per node, no instance dict), except e, which
replicates pyperformance's gc_collect / gc_traversal exactly (plain class with
a __dict__, lists). The cyclic GC is disabled while a graph is built, then
gc.collect() is timed with time.perf_counter (wall clock). Each figure is the
median of several repetitions, in ns per object (per pair for b, per
reference for e/gc_traversal). The same regions are also timed with
time.thread_time (this thread's CPU time), the clock the Rust benchmarks use
by default: on a shared machine the wall-clock figure includes the time
other processes held the core.

Interpreter overhead: a1 and the collection workloads (b, c, e) time a single
C-level operation (`del head`, `gc.collect()`), so they compare directly with
the Rust figures. a2, d and f run a Python loop; for a2 and f the time of the
same loop without the allocation is also given and subtracted ("net"); d's
incref/decref cannot be separated from the loop, so only its raw figure is
given.

Run: python3 gc-bench/cpython.py   (about two minutes)
"""

import gc
import platform
import statistics
import sys
import time

LIST = 1_000_000
NEW_DROP = 1_000_000
PAIRS = 100_000
TREE = 1_000_000
CLONE_DROP = 10_000_000
RINGS, RING_LINKS = 100, 20
LEVELS = 1_000
LEVEL_REFS = LEVELS * (LEVELS - 1) // 2
OLD = 1_000_000
CHURN = 10_000_000
CHURN_BATCH = 1_000

perf = time.perf_counter


class Clock:
    """A (wall, thread CPU) pair of readings; subtraction gives durations."""

    __slots__ = ("wall", "cpu")

    def __init__(self, wall, cpu):
        self.wall = wall
        self.cpu = cpu

    def __sub__(self, other):
        return Clock(self.wall - other.wall, self.cpu - other.cpu)


def now():
    return Clock(time.perf_counter(), time.thread_time())


def median_of(n, fn):
    runs = [fn() for _ in range(n)]
    return Clock(statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs))


def report(workload, took, count, unit, note=""):
    wall = took.wall * 1e9 / count
    cpu = took.cpu * 1e9 / count
    print(f"  {workload:<36} {wall:10.2f} {cpu:10.2f}  ns/{unit} {note}", flush=True)


class Link:
    __slots__ = ("next",)

    def __init__(self, next):
        self.next = next


class Pair:
    __slots__ = ("other",)

    def __init__(self):
        self.other = None


class Tree:
    __slots__ = ("parent", "left", "right")

    def __init__(self, parent):
        self.parent = parent
        self.left = None
        self.right = None


def empty_loop(n):
    t = now()
    for _ in range(n):
        pass
    return now() - t


# a1 -------------------------------------------------------------------------
def a1():
    gc.disable()
    head = None
    for _ in range(LIST):
        head = Link(head)
    t = now()
    del head
    dt = now() - t
    gc.enable()
    return dt


# a2 -------------------------------------------------------------------------
def a2():
    t = now()
    for _ in range(NEW_DROP):
        Link(None)
    return now() - t


# b --------------------------------------------------------------------------
def b():
    gc.collect()
    gc.disable()
    for _ in range(PAIRS):
        x = Pair()
        y = Pair()
        x.other = y
        y.other = x
    del x, y
    t = now()
    gc.collect()
    dt = now() - t
    gc.enable()
    return dt


# c --------------------------------------------------------------------------
def build_tree(n):
    nodes = [Tree(None)]
    append = nodes.append
    for i in range(1, n):
        parent = nodes[(i - 1) // 2]
        child = Tree(parent)
        if i % 2:
            parent.left = child
        else:
            parent.right = child
        append(child)
    return nodes[0]


def c_both():
    gc.collect()
    gc.disable()
    root = build_tree(TREE)
    gc.collect()
    alive = []
    for _ in range(5):
        t = now()
        gc.collect()
        alive.append(now() - t)
    del root
    t = now()
    found = gc.collect()
    dead = now() - t
    gc.enable()
    assert found >= TREE, found
    return Clock(statistics.median(a.wall for a in alive), statistics.median(a.cpu for a in alive)), dead


# d --------------------------------------------------------------------------
def d():
    h = Link(None)
    t = now()
    for _ in range(CLONE_DROP):
        x = h  # Py_INCREF(h); Py_DECREF(old x)
    return now() - t


# e: pyperformance gc_collect ------------------------------------------------
class Node:
    def __init__(self):
        self.next = None
        self.prev = None


def link(n1, n2):
    n1.next = n2
    n2.prev = n1


def create_cycle(node, n_links):
    current = node
    for _ in range(n_links):
        next_node = Node()
        link(current, next_node)
        current = next_node
    link(current, node)


def create_gc_cycles(n_cycles, n_links):
    cycles = []
    for _ in range(n_cycles):
        node = Node()
        cycles.append(node)
        create_cycle(node, n_links)
    return cycles


def e_collect():
    gc.collect()
    gc.disable()
    all_cycles = create_gc_cycles(RINGS, RING_LINKS)
    del all_cycles
    t = now()
    collected = gc.collect()
    dt = now() - t
    gc.enable()
    assert collected >= RINGS * (RING_LINKS + 1)
    return dt


# e: pyperformance gc_traversal ----------------------------------------------
def create_recursive_containers(n_levels):
    current_list = []
    for n in range(n_levels):
        new_list = [None] * n
        for index in range(n):
            new_list[index] = current_list
        current_list = new_list
    return current_list


def e_traversal():
    gc.disable()
    top = create_recursive_containers(LEVELS)
    gc.collect()
    times = []
    for _ in range(20):
        t = now()
        collected = gc.collect()
        times.append(now() - t)
        assert collected == 0
    gc.enable()
    del top
    return Clock(statistics.median(a.wall for a in times), statistics.median(a.cpu for a in times))


# f --------------------------------------------------------------------------
def churn(n, batch):
    live = []
    append = live.append
    clear = live.clear
    k = 0
    for _ in range(n):
        append(Link(None))
        k += 1
        if k == batch:
            clear()
            k = 0


def churn_baseline(n, batch):
    """The same loop without the allocation (interpreter overhead)."""
    live = []
    append = live.append
    clear = live.clear
    k = 0
    for _ in range(n):
        append(None)
        k += 1
        if k == batch:
            clear()
            k = 0


def f(old_n):
    gc.collect()
    gc.set_threshold(700, 10, 10)
    old = [Link(None) for _ in range(old_n)]
    gc.collect()
    durations = {0: [], 1: [], 2: []}
    started = [0.0]

    def cb(phase, info):
        if phase == "start":
            started[0] = perf()
        else:
            durations[info["generation"]].append(perf() - started[0])

    gc.callbacks.append(cb)
    before = gc.get_stats()
    t = now()
    churn(CHURN, CHURN_BATCH)
    total = now() - t
    after = gc.get_stats()
    gc.callbacks.remove(cb)
    del old
    gc.collect()
    counts = [after[g]["collections"] - before[g]["collections"] for g in range(3)]
    means = [statistics.mean(durations[g]) * 1e6 if durations[g] else 0.0 for g in range(3)]
    return total, counts, means


def main():
    print(f"CPython {platform.python_version()} ({sys.executable}), gc thresholds {gc.get_threshold()}")
    print(f"  {'workload':<36} {'wall':>10} {'thread CPU':>10}  (ns per unit)")

    report("a1 list drop (1M)", median_of(3, a1), LIST, "node")

    loop = median_of(3, lambda: empty_loop(NEW_DROP))
    raw = median_of(3, a2)
    report("a2 new+drop (1M, raw)", raw, NEW_DROP, "object")
    report("a2 new+drop (1M, net of loop)", raw - loop, NEW_DROP, "object",
           f"(empty loop {loop.wall * 1e9 / NEW_DROP:.2f} ns wall)")

    report("b pairs collect (100k)", median_of(5, b), PAIRS, "pair")

    alive, dead = c_both()
    report("c tree alive collect (1M)", alive, TREE, "node")
    report("c tree dead collect (1M)", dead, TREE, "node")

    loop = median_of(3, lambda: empty_loop(CLONE_DROP))
    raw = median_of(3, d)
    report("d clone+drop (10M, raw)", raw, CLONE_DROP, "op")
    print(f"    (an empty loop of the same length takes {loop.wall * 1e9 / CLONE_DROP:.2f} ns per iteration: "
          f"the incref/decref of `x = h` cannot be separated from the interpreter's own work)")

    report("e gc_collect (100x21)", median_of(21, e_collect), RINGS * (RING_LINKS + 1), "object")
    report("e gc_traversal (1000 levels)", e_traversal(), LEVEL_REFS, "reference")

    base = churn_baseline
    t = now()
    base(CHURN, CHURN_BATCH)
    loop = now() - t
    for old_n in (OLD, 2 * OLD):
        total, counts, means = f(old_n)
        tag = f"{old_n // 1_000_000}M"
        report(f"f churn total (old {tag}, raw)", total, CHURN, "object")
        report(f"f churn total (old {tag}, net of loop)", total - loop, CHURN, "object",
               f"(loop without allocation {loop.wall * 1e9 / CHURN:.2f} ns wall)")
        print(f"    collections per generation: gen0 {counts[0]}, gen1 {counts[1]}, gen2 {counts[2]}; "
              f"mean duration gen0 {means[0]:.2f} us, gen1 {means[1]:.2f} us, gen2 {means[2]:.0f} us")

    # g: header sizes. A tracked object carries PyGC_Head (16 bytes, two
    # words) before its PyObject header (refcount + type, 16 bytes); an
    # untracked one only the PyObject header.
    gc_head = 16
    print(f"  g tracked header: PyGC_Head {gc_head} + PyObject head 16 = {gc_head + 16} bytes "
          f"(sys.getsizeof(Link(None)) = {sys.getsizeof(Link(None))}, incl. the slot and GC head)")
    print(f"  g untracked header: PyObject head 16 bytes (sys.getsizeof(1.0) = {sys.getsizeof(1.0)})")

    # g: peak RSS of workload c, in a fresh interpreter (VmHWM is a
    # high-water mark, and the workloads above already raised it).
    import subprocess
    out = subprocess.run([sys.executable, __file__, "--rss"], capture_output=True, text=True, check=True)
    print("  " + out.stdout.strip())


def vmhwm_kib():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def rss_main():
    gc.disable()
    before = vmhwm_kib()
    root = build_tree(TREE)
    peak = vmhwm_kib()
    gc.enable()
    gc.collect()
    del root
    found = gc.collect()
    assert found >= TREE
    print(f"g peak RSS workload c: VmHWM {peak} KiB after building the tree (+{peak - before} KiB over "
          f"{before} KiB at start, {(peak - before) * 1024 / TREE:.1f} bytes/node incl. the builder's list)")


if __name__ == "__main__":
    if sys.argv[1:] == ["--rss"]:
        rss_main()
    else:
        main()
