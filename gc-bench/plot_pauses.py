#!/usr/bin/env python3
"""Plot the pauses of `cargo run -p gc-bench --release --example pauses -- --csv F`.

    python3 gc-bench/plot_pauses.py OUT.svg F1.csv [F2.csv ...]

One panel per heap size N: the collections of the churn phase as dots at
(seconds since the churn began, CPU milliseconds), log scale, one colour per
mode; per horizontal pixel only the longest and the shortest pause are drawn.
Plain SVG, no plotting library needed.
"""
import csv
import math
import sys

COLOURS = {"Generational": "#d62728", "Incremental": "#1f77b4"}
W, H, PAD = 360, 260, 48


def main():
    out, paths = sys.argv[1], sys.argv[2:]
    rows = [r for p in paths for r in csv.DictReader(open(p))]
    sizes = sorted({int(r["n"]) for r in rows})
    ymin, ymax = 0.001, max(float(r["cpu_ms"]) for r in rows) * 1.5
    ly0, ly1 = math.log10(ymin), math.log10(ymax)
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W * len(sizes)}" height="{H + 30}" '
           'font-family="sans-serif" font-size="11">',
           f'<rect width="100%" height="100%" fill="white"/>']
    for i, n in enumerate(sizes):
        x0 = i * W
        panel = [r for r in rows if int(r["n"]) == n]
        tmax = max(float(r["seconds"]) for r in panel) or 1.0
        def px(t):
            return x0 + PAD + (W - PAD - 10) * t / tmax
        def py(v):
            v = max(v, ymin)
            return 10 + (H - PAD) * (1 - (math.log10(v) - ly0) / (ly1 - ly0))
        svg.append(f'<text x="{x0 + W / 2}" y="{H + 22}" text-anchor="middle">'
                   f'N = {n:,} live objects: seconds into the churn</text>')
        svg.append(f'<line x1="{px(0)}" y1="{py(ymin)}" x2="{px(tmax)}" y2="{py(ymin)}" stroke="black"/>')
        svg.append(f'<line x1="{px(0)}" y1="{py(ymin)}" x2="{px(0)}" y2="{py(ymax)}" stroke="black"/>')
        e = math.floor(ly0)
        while e <= ly1:
            v = 10 ** e
            if v >= ymin:
                svg.append(f'<line x1="{px(0) - 4}" y1="{py(v)}" x2="{px(tmax)}" y2="{py(v)}" stroke="#ddd"/>')
                svg.append(f'<text x="{px(0) - 6}" y="{py(v) + 4}" text-anchor="end">{v:g} ms</text>')
            e += 1
        for mode, colour in COLOURS.items():
            # Per horizontal pixel, the longest and the shortest pause (the
            # plot shows the envelope; tens of thousands of dots would not
            # add to it).
            bins = {}
            for r in panel:
                if r["mode"] == mode:
                    t, v = float(r["seconds"]), float(r["cpu_ms"])
                    b = int(px(t))
                    lo, hi = bins.get(b, ((t, v), (t, v)))
                    bins[b] = (min(lo, (t, v), key=lambda p: p[1]), max(hi, (t, v), key=lambda p: p[1]))
            for lo, hi in bins.values():
                for t, v in {lo, hi}:
                    svg.append(f'<circle cx="{px(t):.1f}" cy="{py(v):.1f}" r="1.5" fill="{colour}" fill-opacity="0.6"/>')
    for j, (mode, colour) in enumerate(COLOURS.items()):
        svg.append(f'<circle cx="{PAD + 10}" cy="{18 + 14 * j}" r="4" fill="{colour}"/>'
                   f'<text x="{PAD + 18}" y="{22 + 14 * j}">{mode} (CPU ms per collection)</text>')
    svg.append("</svg>")
    open(out, "w").write("\n".join(svg))


if __name__ == "__main__":
    main()
