#!/usr/bin/env python3
"""Combines several `qorgau_bench --benchmark_out=FILE --benchmark_out_format=json`
runs: for each benchmark, the median over the runs of its figure (the
"median" aggregate when the run had repetitions, else the run itself), with
the lowest and highest run beside it.

    bench/combine.py results-1.json results-2.json results-3.json
"""
import json
import statistics
import sys

KEYS = ("real_time", "items_per_second", "bytes_per_subject", "heap_bytes_per_subject",
        "changes_per_batch", "batches", "cpu_us_per_change", "audience")


def figures(path):
    out = {}
    for b in json.load(open(path))["benchmarks"]:
        if b.get("error_occurred"):
            continue
        agg = b.get("aggregate_name")
        if agg not in (None, "median"):
            continue
        name = b.get("run_name", b["name"])
        if agg is None and name in out:
            continue  # repetitions without aggregates: keep the first
        out[name] = b
    return out


def main(paths):
    runs = [figures(p) for p in paths]
    names = []
    for r in runs:
        names += [n for n in r if n not in names]
    for name in names:
        got = [r[name] for r in runs if name in r]
        unit = got[0].get("time_unit", "")
        parts = []
        for k in KEYS:
            vals = [g[k] for g in got if k in g]
            if not vals:
                continue
            med = statistics.median(vals)
            text = f"{k}={med:.4g}"
            if len(vals) > 1 and min(vals) != max(vals):
                text += f" [{min(vals):.4g}..{max(vals):.4g}]"
            if k == "real_time":
                text += unit
            parts.append(text)
        print(f"{name}  (runs: {len(got)})\n    " + "  ".join(parts))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
