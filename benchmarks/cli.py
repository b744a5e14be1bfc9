"""Command line of ``python -m benchmarks``: run every case, print a table, write JSON.

JSON layout: ``meta`` (machine, load, versions, what ``--quick`` left out), ``records``
(one per case and method: seconds, float64 inertia, ratios to projgeo), ``ceilings``
(matrix-product and Lloyd-step throughput per shape), ``scale`` (LLaMA-7B-shaped folds
at three sizes, with the growth exponents), ``batched`` (certified C4 check, with the naive
vmapped Lloyd of the same steps timed in the same run) and
``sweep`` (issue 10: rank-sweep compile counts, certified ÷ fold time, the cold
BERT-small-shaped checkpoint) and ``targets`` (each target: value, threshold, met).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import cases as C
from benchmarks import methods as M

METHODS = ("projgeo", "sklearn", "faiss", "ward")


def _scale_sizes(text: str) -> int:
    v = int(text) if text.strip().lstrip("-").isdigit() else None
    if v is None or not 0 <= v <= len(C.SCALE_SIZES):
        raise argparse.ArgumentTypeError(
            f"expected an integer in [0, {len(C.SCALE_SIZES)}]; got {text!r}")
    return v


def build_parser() -> argparse.ArgumentParser:
    from proofs_check import _args

    p = _args.Parser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="≤ 10 min on 2 CPU cores: the large shape for one family only")
    p.add_argument("--json", type=_args.output_file, metavar="PATH",
                   help="write the results as JSON")
    p.add_argument("--only", choices=("pareto", "cases", "scale", "batched", "sweep"),
                   action="append",
                   help="run only these parts (repeatable; default: all)")
    p.add_argument("--shapes", type=_args.names([s[0] for s in C.SHAPES], "shape names"),
                   help="comma-separated shape names to run (default: all)")
    p.add_argument("--families", type=_args.names(C.FAMILIES, "families"),
                   help="comma-separated families (default: all)")
    p.add_argument("--scale-sizes", type=_scale_sizes, default=len(C.SCALE_SIZES),
                   help="how many of the scale sizes to run, smallest first (default: 3)")
    p.add_argument("--batched-size", type=_args.positive_int, default=C.BATCHED["batch"],
                   help="matrices in the batched C4 check (default 20000)")
    p.add_argument("--plot-dir", type=Path, default=Path("benchmarks/out"),
                   help="where the Pareto plot goes (pareto.png, pareto.pdf)")
    p.add_argument("--seed", type=_args.seed, default=0)
    return p


def run_case(case: C.Case, seed: int, log, skip=()) -> tuple[list[dict], dict]:
    import jax

    from projgeo import families

    w = np.asarray(families.sample(case.family, jax.random.key(seed), case.n, case.d,
                                   np.float32))
    runners = {"projgeo": M.projgeo_fold, "sklearn": M.sklearn_kmeans, "ward": M.ward}
    if M.faiss_available():
        runners["faiss"] = M.faiss_kmeans
    records = []
    for name in METHODS:
        base = {"case": case.name, "family": case.family, "n": case.n, "d": case.d,
                "k": case.k, "dtype": "float32", "method": name}
        if name in skip:
            records.append({**base, "skipped": "left out by --quick (see meta)"})
            continue
        if name not in runners:
            records.append({**base, "skipped": "faiss-cpu is not installed "
                                               "(pip install '.[bench]')"})
            continue
        out = runners[name](w, case.k, seed=seed)
        labels = out.pop("labels")
        rec = {**base, **out, "inertia": M.inertia64(w, labels),
               "clusters_used": int(np.unique(labels).size)}
        records.append(rec)
        log(f"  {case.id:28s} {name:8s} {rec['seconds']:8.2f}s  inertia {rec['inertia']:.6g}")
    ref = records[0]
    for rec in records:
        if "seconds" in rec:
            rec["time_ratio_to_projgeo"] = rec["seconds"] / ref["seconds"]
            rec["inertia_ratio_to_projgeo"] = rec["inertia"] / ref["inertia"]
    ceiling = {"case": case.name, "family": case.family, "n": case.n, "d": case.d,
               "k": case.k, **M.matmul_ceiling(w, case.k)}
    log(f"  {case.id:28s} matmul {ceiling['matmul_gflops']:.1f} GFLOP/s, Lloyd step "
        f"{ceiling['lloyd_step_gflops']:.1f} ({100 * ceiling['lloyd_fraction_of_matmul']:.0f}%)")
    return records, ceiling


def run_scale(sizes, log) -> dict:
    rows = []
    for n, d, k in sizes:
        cmd = [sys.executable, "-m", "benchmarks.scale", str(n), str(d), str(k),
               json.dumps(C.SCALE_OPTIONS)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parents[1])
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        log(f"  scale {n}x{d}->{k}: {r['total_seconds']:.1f}s (compile "
            f"{r['compile_seconds']:.1f}s), peak RSS {r['peak_rss_bytes'] / 2**30:.2f} GiB")
    growth = {}
    if len(rows) >= 2:
        work = np.log([r["n"] * r["d"] * r["k"] for r in rows])
        for key in ("run_seconds", "peak_rss_bytes"):
            growth[key] = float(np.polyfit(work, np.log([r[key] for r in rows]), 1)[0])
    return {"sizes": rows, "options": C.SCALE_OPTIONS,
            "growth_exponent_vs_ndk": growth,
            "note": "n, d and k are halved together between sizes; the exponent is the slope "
                    "of log(time or memory) against log(n*d*k) (1 = linear in n*d*k)."}


def _targets(records, ceilings, scale, batched, sweep=None, pareto=None) -> list[dict]:
    out = []
    by_case: dict[tuple, dict] = {}
    for r in records:
        by_case.setdefault((r["case"], r["family"]), {})[r["method"]] = r

    def add(name, value, threshold, met, note="", why=""):
        out.append({"target": name, "value": value, "threshold": threshold, "met": bool(met),
                    "value_over_threshold": value / threshold, "note": note,
                    "why_if_missed": "" if met else why})

    speed = [m["sklearn"]["seconds"] / m["projgeo"]["seconds"] for m in by_case.values()
             if "seconds" in m.get("sklearn", {})]
    if speed:
        add("projgeo ≥ 5x faster than sklearn KMeans (min over cases, steady state)",
            min(speed), 5.0, min(speed) >= 5.0,
            why="at small k scikit-learn's k-means++ is cheap, and projgeo spends its time in "
                "its seeding, Hartigan and split-merge, which buy the lower inertia; "
                "scikit-learn's OpenMP time also swings with the load of the machine")
        first = [m["sklearn"]["seconds"] / m["projgeo"]["first_call_seconds"]
                 for m in by_case.values() if "seconds" in m.get("sklearn", {})]
        add("same, counting projgeo's first call (compilation included)", min(first), 5.0,
            min(first) >= 5.0,
            why="compiling the fold kernel takes 5-15 s per new shape on this CPU; it is "
                "paid once per shape and cached on disk (PROJGEO_JAX_CACHE)")
    for other in ("sklearn", "faiss"):
        rat = [m[other]["inertia"] / m["projgeo"]["inertia"] for m in by_case.values()
               if "inertia" in m.get(other, {})]
        if rat:
            add(f"projgeo inertia ≤ {other} on every case (min of {other}/projgeo)", min(rat),
                1.0, min(rat) >= 1.0)
    rat = [m["ward"]["inertia"] / m["projgeo"]["inertia"] for (c, f), m in by_case.items()
           if f in C.TRAINED_LIKE and "inertia" in m.get("ward", {})]
    if rat:
        add("projgeo inertia ≤ Ward on clustered and trained-like rows (min of Ward/projgeo)",
            min(rat), 1.0, min(rat) >= 1.0,
            why="Lloyd + Hartigan + split-merge is a local search; where Ward's bottom-up "
                "merges end lower, they do so by the shortfall shown")
    if ceilings:
        frac = min(c["lloyd_fraction_of_matmul"] for c in ceilings)
        add("Lloyd step ≥ 70 % of the same-run matmul throughput (min over cases)", frac, 0.7,
            frac >= 0.7,
            why="the step adds the means (a scatter, single-threaded on XLA:CPU) and an "
                "argmin pass over n×k to the product, and the fraction swings with the load "
                "other processes put on the 2 cores (same shape, different cases differ)")
    big = [r for r in (scale or {}).get("sizes", []) if (r["n"], r["d"], r["k"]) == C.LLAMA7B]
    if big:
        r = big[0]
        add("LLaMA-7B layer 11008x4096 -> 5504 float32 in ≤ 60 s (compile + run)",
            r["total_seconds"], 60.0, r["total_seconds"] <= 60.0,
            f"options {C.SCALE_OPTIONS}",
            why="each Lloyd or Hartigan step is a 0.5 TFLOP product on this CPU")
        add("... with peak memory ≤ 4 GB (process peak RSS, bytes)", r["peak_rss_bytes"],
            4e9, r["peak_rss_bytes"] <= 4e9)
    if batched:
        cfg = (f"batch {batched['batch']} of {batched['n']}x{batched['d']}, k={batched['k']}, "
               f"float64, {batched['steps']} Lloyd steps from pi_S* (hartigan=False); with "
               f"Hartigan moves: {batched['with_hartigan']['instances_per_second']:.0f}/s, "
               f"mean inertia {batched['with_hartigan']['mean_inertia']:.4g} vs "
               f"{batched['mean_inertia']:.4g}")
        # Two products per step, (n×(k+1))ᵀ·(n×d) and (n×d)·(d×(k+1)): 4·n·d·(k+1) flops;
        # ``steps`` steps and the guard's inertia (the same two products) per instance.
        step_flops = 4.0 * batched["n"] * batched["d"] * (batched["k"] + 1)
        per = (batched["steps"] + 1) * step_flops / 1e9
        fixed = batched["fixed_trip"]
        cfg += (f"; every chunk running all {batched['steps']} steps: "
                f"{fixed['instances_per_second']:.0f}/s, "
                f"{fixed['speed_ratio_to_naive']:.3g}x the naive loop")
        add("batched certified C4 check ≥ 100,000 instances/s", batched["instances_per_second"],
            1e5, batched["instances_per_second"] >= 1e5, cfg,
            why=f"{batched['steps']} steps and the guard are {batched['steps'] + 1} pairs of "
                f"batched products of {step_flops / 1e3:.1f} kflop per instance: 100,000/s "
                f"at all steps needs {1e5 * per:.0f} GFLOP/s of float64 products of "
                f"{batched['n']}x{batched['d']}x{batched['k'] + 1} matrices; the fixed-trip "
                f"path ran at {fixed['instances_per_second'] * per:.1f} GFLOP/s and the naive "
                f"vmapped Lloyd at {batched['naive_lloyd_instances_per_second'] * per:.1f} "
                "GFLOP/s in the same run (XLA:CPU calls one small GEMM per matrix), on 2 "
                "shared cores; the per-chunk setup (scaling, ranking, pi_S*, the guard: about "
                "25 small kernels per chunk) costs several microseconds per instance more")
        ratio = min(batched["speed_ratio_to_naive"], fixed["speed_ratio_to_naive"])
        add("batched certified check not slower than a naive vmapped Lloyd at equal steps "
            "(naive time / certified time, same run; the lower of the default and the "
            "fixed-trip path)", ratio, 1.0, ratio >= 1.0, cfg,
            why="the ratio is noisy on 2 shared cores (±30 % between runs)")
    if sweep:
        from benchmarks import sweep as SW

        SW.targets(sweep, add)
    if pareto and pareto["cases"]:
        from benchmarks import pareto as P

        P.targets(pareto, add)
    return out


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    parts = set(args.only or ("pareto", "cases", "scale", "batched", "sweep"))
    todo = C.cases(args.quick)
    if "cases" in parts and args.quick and args.only is None:
        # The Pareto part has measured these cases' points: --quick keeps the one-setting
        # records (and the Lloyd ceilings) for one case per shape.
        todo = [c for c in todo if c.family == ("low_rank" if c.name == "large" else "gaussian")]
    if args.shapes:
        todo = [c for c in todo if c.name in args.shapes]
    if args.families:
        todo = [c for c in todo if c.family in args.families]
    if "cases" in parts and not todo:
        from proofs_check import _args

        _args.fail("python -m benchmarks", "no benchmark case matches --shapes/--families"
                   + (" under --quick" if args.quick else ""))

    from projgeo import config

    config.setup(x64=True)  # the C4 check is float64; folds stay float32
    log = lambda s: print(s, flush=True)  # noqa: E731
    t_start = time.perf_counter()
    records, ceilings, scale, batched, pareto = [], [], None, None, None
    if "pareto" in parts:
        from benchmarks import pareto as P

        todo_p = P.cases(args.quick, args.shapes, args.families)
        pareto = P.run(todo_p, seed=args.seed, quick=args.quick, log=log)
        pareto["plot"] = [str(p) for p in P.plot(pareto, args.plot_dir)] if todo_p else []
    if "cases" in parts:
        for case in todo:
            rec, ceil = run_case(case, args.seed, log, C.skip_methods(case, args.quick))
            records += rec
            ceilings.append(ceil)
    if "scale" in parts:
        scale = run_scale(C.SCALE_SIZES[: args.scale_sizes], log)
    if "batched" in parts:
        from benchmarks import batched as B

        batched = B.run(args.batched_size, C.BATCHED["n"], C.BATCHED["d"], C.BATCHED["k"],
                        steps=C.BATCHED["steps"], seed=args.seed)
        log(f"  batched C4: {batched['instances_per_second']:.0f} instances/s "
            f"({batched['certified']} certified, {batched['violations']} violations); naive "
            f"vmapped Lloyd, same steps: {batched['naive_lloyd_instances_per_second']:.0f}/s")
    sweep = None
    if "sweep" in parts:
        from benchmarks import sweep as SW

        sweep = SW.run(log)
    targets = _targets(records, ceilings, scale, batched, sweep, pareto)
    report = {"meta": _meta(args, time.perf_counter() - t_start), "pareto": pareto,
              "records": records,
              "ceilings": ceilings, "scale": scale, "batched": batched, "sweep": sweep,
              "targets": targets}
    for t in targets:
        log(f"{'MET   ' if t['met'] else 'MISSED'} {t['target']}: {t['value']:.4g} "
            f"(threshold {t['threshold']:.4g})")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, allow_nan=False, default=_plain) + "\n")
    return 0


def _plain(x):
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def _meta(args, seconds: float) -> dict:
    import jax
    import sklearn

    faiss_version = None
    if M.faiss_available():
        import faiss

        faiss_version = faiss.__version__
    skipped = C.skipped(args.quick)
    if args.quick:
        skipped = skipped + [
            "cases (one-setting records, Lloyd ceilings): one family per shape (gaussian; "
            "large: low_rank); the pareto part covers the others",
            "pareto: the four cases of benchmarks.pareto.QUICK_CASES, the settings of "
            "QUICK_SETTINGS, and n_init=10 of scikit-learn and ott-jax on the first case only"]
    return {"quick": args.quick, "skipped_in_quick": skipped,
            "total_seconds": seconds, "platform": platform.platform(),
            "processor": platform.processor(), "cpu_count": os.cpu_count(),
            "load_average_at_end": list(os.getloadavg()),
            "backend": jax.default_backend(), "devices": [str(d) for d in jax.devices()],
            "jax": jax.__version__, "sklearn": sklearn.__version__, "faiss": faiss_version,
            "max_iter": M.MAX_ITER, "seed": args.seed,
            "timing": "projgeo: steady state (second call on the same shape), compile time "
                      "reported apart; others: one call. Inertias recomputed in float64.",
            "nan_free": all(math.isfinite(v) for v in [seconds])}
