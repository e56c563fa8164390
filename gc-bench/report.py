#!/usr/bin/env python3
"""Turn criterion's results for gc-bench into the BENCHMARKS.md table.

    python3 gc-bench/report.py [DIR ...]      (default: ./target)

Each DIR is a target directory (or a copy of its criterion/ directory, to
combine several runs). Reads <group>/<bench>/new/{estimates,benchmark}.json
and prints a markdown table of ns per object (criterion's median time per
iteration divided by the group's Throughput::Elements), with pygc's ratio
to Rc and to the best peer crate. With several DIRs every cell is the median
over the runs, and a second table gives pygc's ratios run by run. The
times are the benchmark thread's CPU time unless the run set
GC_BENCH_CLOCK=wall.
"""

import json
import os
import statistics
import sys

GROUPS = [
    ("a1_list_drop", "a1 drop a 1M-node list", "node"),
    ("a1_list_build", "a1 build a 1M-node list (auto collection off)", "node"),
    ("a1_growing_build", "growing heap: 2M-node chain, auto collection on", "node"),
    ("a2_new_drop", "a2 new + drop", "object"),
    ("b_pairs_create", "b create 100k 2-cycles", "pair"),
    ("b_pairs_collect", "b collect 100k dead 2-cycles", "pair"),
    ("c_tree_alive_collect", "c full collect, 1M-node tree alive", "node"),
    ("c_tree_dead_collect", "c full collect, 1M-node tree dead", "node"),
    ("d_clone_drop", "d clone + drop", "op"),
    ("d_downgrade_drop", "d downgrade + drop the weak handle", "op"),
    ("d_upgrade_drop", "d upgrade + drop the strong handle", "op"),
    ("e_gc_collect", "e gc_collect (100 rings x 21)", "object"),
    ("e_gc_traversal", "e gc_traversal (1000 levels)", "reference"),
    ("f_churn_total", "f 10M short-lived, 1M old", "object"),
]
OURS = "pygc"
RC = "Rc"
PEERS = ["gcmodule", "bacon_rajan_cc", "rust-gc", "dumpster", "rust-cc"]
COLUMNS = [OURS, RC, "Box"] + PEERS
# Issue 19's floors: the bare-memory work a row is measured against
# (benches/workloads/floors.rs), one per group at most.
FLOOR_PREFIX = "floor: "


def load(target):
    root = os.path.join(target, "criterion")
    if not os.path.isdir(root):
        root = target
    results = {}
    for group in sorted(os.listdir(root)):
        gdir = os.path.join(root, group)
        if not os.path.isdir(gdir) or group == "report":
            continue
        for dirpath, _dirs, files in os.walk(gdir):
            if "benchmark.json" in files and os.path.basename(dirpath) == "new":
                with open(os.path.join(dirpath, "benchmark.json")) as f:
                    bench = json.load(f)
                with open(os.path.join(dirpath, "estimates.json")) as f:
                    est = json.load(f)
                elements = bench["throughput"]["Elements"]
                # The median resists this machine's noise.
                stat = "median"
                value = est[stat]["point_estimate"]
                results[(bench["group_id"], bench["function_id"])] = value / elements
    return results


def fmt(ns):
    if ns is None:
        return "—"
    if ns >= 100:
        return f"{ns:.0f}"
    if ns >= 10:
        return f"{ns:.1f}"
    return f"{ns:.2f}"


def ratios(r, group):
    ours, rc = r.get((group, OURS)), r.get((group, RC))
    peers = [(r[(group, p)], p) for p in PEERS if (group, p) in r]
    best = min(peers) if peers else None
    vs_rc = ours / rc if ours and rc else None
    vs_peer = (ours / best[0], best[1]) if ours and best else None
    return vs_rc, vs_peer


def main():
    dirs = sys.argv[1:] or ["target"]
    runs = [load(d) for d in dirs]
    keys = set().union(*runs)
    r = {k: statistics.median(run[k] for run in runs if k in run) for k in keys}
    head = ["workload (ns per unit)", "unit"] + COLUMNS + [
        "floor", "pygc / Rc", "pygc / best peer", "pygc / floor"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for group, label, unit in GROUPS:
        cells = [fmt(r.get((group, c))) for c in COLUMNS]
        vs_rc, vs_peer = ratios(r, group)
        vs_rc = f"{vs_rc:.2f}x" if vs_rc else "—"
        vs_peer = f"{vs_peer[0]:.2f}x ({vs_peer[1]})" if vs_peer else "—"
        floors = [(b[len(FLOOR_PREFIX):], v) for (g, b), v in r.items()
                  if g == group and b.startswith(FLOOR_PREFIX)]
        floor = f"{fmt(floors[0][1])} ({floors[0][0]})" if floors else "—"
        ours = r.get((group, OURS))
        vs_floor = f"{ours / floors[0][1]:.2f}x" if floors and ours else "—"
        print("| " + " | ".join([label, unit] + cells + [floor, vs_rc, vs_peer, vs_floor]) + " |")
    extra = sorted(k for k in r
                   if (k[0] in ("f_churn_total", "f_young_collect") and "/" in k[1])
                   or (k[0] == "a1_growing_build" and k[1].startswith(OURS + " ")))
    if extra:
        print()
        print("| pygc variant | ns per unit |")
        print("|---|---|")
        for group, bench in extra:
            v = r[(group, bench)]
            if group == "f_young_collect":
                print(f"| {group}/{bench} | {fmt(v)} per young object = "
                      f"{v * 700 / 1000:.1f} µs per generation-0 collection of 700 |")
            elif group == "a1_growing_build":
                rc = r.get((group, RC))
                vs = f" ({v / rc:.2f}x Rc)" if rc else ""
                print(f"| {group}/{bench} | {fmt(v)} per node{vs} |")
            else:
                print(f"| {group}/{bench} | {fmt(v)} per object |")
    if len(runs) > 1:
        print()
        print("| run | " + " | ".join(g for g, _, _ in GROUPS) + " |")
        print("|" + "---|" * (len(GROUPS) + 1))
        for i, run in enumerate(runs, 1):
            cells = []
            for group, _, _ in GROUPS:
                vs_rc, vs_peer = ratios(run, group)
                if vs_rc:
                    cells.append(f"pygc {fmt(run[(group, OURS)])}, {vs_rc:.2f}x Rc")
                elif (group, OURS) in run:
                    cells.append(f"pygc {fmt(run[(group, OURS)])}, {vs_peer[0]:.2f}x best peer")
                else:
                    cells.append("—")
            print(f"| {i} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
