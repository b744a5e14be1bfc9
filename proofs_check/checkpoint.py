"""``python -m proofs_check checkpoint PATH``: C3, C4 and C5 on every layer of a checkpoint.

For every compressible layer (see :mod:`projgeo.io.checkpoint`) and compression ratio,
``k = max(1, round((1 − ratio)·n))`` rows are kept and, relative to ``||W||_F²``:

* ``prune``: magnitude pruning at k (``--score`` picks the score; the error is Frobenius);
* ``c3_fold``: the pruning-induced partition ``π_{S*}`` at k+1 (C3);
* ``certified``: the certified fold at k+1 (:func:`projgeo.certified_fold`: the better of
  the default fold and the warm start from ``π_{S*}``, never above ``prune``; C4);
* ``fold_k``: the default k-means fold at k (seeded from ``--seed``);
* ``fold_lower_bound`` and ``fold_gap`` (column "gap k"): a certified lower bound on
  ``OPT_fold(k)`` (the spectral bound of :func:`projgeo.fold_lower_bound`) and the
  certified optimality gap ``(fold_k − LB)/LB`` of the default fold; ``--lower-bound sdp``
  takes the better of it and the SDP bound (slow on large layers).

All of a layer's numbers come from one :func:`projgeo.rank_sweep` (one compiled program
per capacity bucket and layer shape), relative to ``||W||_F²`` computed on a rescaled copy,
so they are finite and correct for any finite weights (×1e200 or ×1e-200 alike).

C3 (``c3_fold ≤ prune`` up to the tolerance rule) and C4 (``certified ≤ prune``, bitwise as
computed) must hold on every layer; ``fold_k ≤ prune`` (folding wins at equal rank, C5) is
only reported. Arguments and output paths are checked before any work. Nothing is written unless the
whole checkpoint was read; the exit status is 1 on any C3/C4 violation, 2 on a usage error,
an unwritable output path, an unreadable checkpoint or one with no compressible layer.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from proofs_check import _args
from proofs_check.frame import Progress

DEFAULT_RATIOS = (0.1, 0.25, 0.5, 0.75, 0.9)
#: Most ranks per error-against-rank curve (every k for smaller layers).
CURVE_POINTS = 24


def _ratios(text: str):
    if text.strip().lower() == "all":
        return "all"
    try:
        r = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        r = ()
    if not r or any(not 0.0 <= x < 1.0 for x in r):
        raise argparse.ArgumentTypeError(
            f"expected 'all' or comma-separated ratios in [0, 1), e.g. 0.1,0.5; got {text!r}")
    return r


def _regex(text: str) -> str:
    try:
        re.compile(text)
    except re.error as e:
        raise argparse.ArgumentTypeError(f"not a regular expression: {text!r} ({e})") from e
    return text


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m proofs_check checkpoint",
        description="Check C3/C4 (and report C5) on every layer of a checkpoint.")
    p.add_argument("path", type=Path, help=".safetensors, .npz, or .pt/.pth (needs torch)")
    p.add_argument("--ratios", type=_ratios, default=DEFAULT_RATIOS,
                   help="compression ratios 1 - k/n (default 0.1,0.25,0.5,0.75,0.9), or 'all' "
                        "for every k = 1..n-1 of every layer")
    p.add_argument("--layers", type=_regex, default=None, help="only layers matching REGEX")
    p.add_argument("--score", choices=("l2", "l1"), default="l2", help="pruning score")
    p.add_argument("--seed", type=_args.seed, default=0, help="seed of the default folding")
    p.add_argument("--lower-bound", choices=("spectral", "sdp"), default="spectral",
                   help="bound behind the gap column: spectral (one SVD per layer) or sdp "
                        "(Peng-Wei relaxation per layer and ratio; an n×n eigendecomposition "
                        "per ADMM step, minutes for n in the thousands)")
    p.add_argument("--json", type=Path, metavar="OUT", help="write the report as JSON")
    p.add_argument("--figures", type=Path, metavar="DIR", help="write error-vs-rank figures")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress display on stderr (default: when stderr is a terminal)")
    p.add_argument("--jobs", type=_args.positive_int, default=_args.default_jobs(), metavar="N",
                   help="layers checked at once, in threads (default: the CPU cores, at most "
                        f"{_args.MAX_JOBS}; here {_args.default_jobs()})")
    return p


def schedule(shapes) -> list[int]:
    """Order in which to start the layers: the first layer of every distinct shape, then
    the rest in checkpoint order. Layers of one shape share compiled programs, so starting
    two of them at once would compile the same programs twice; distinct shapes compile
    different programs, which threads compile side by side."""
    first: dict = {}
    for i, s in enumerate(shapes):
        first.setdefault(tuple(s), i)
    lead = sorted(first.values())
    rest = set(range(len(shapes))) - set(lead)
    return lead + sorted(rest)


def _output_problem(path: Path | None, *, directory: bool) -> str | None:
    """Why ``path`` cannot be written (None if it can), checked before any work: the rules of
    :func:`proofs_check._args.output_file` / :func:`~proofs_check._args.output_dir`."""
    if path is None:
        return None
    try:
        (_args.output_dir if directory else _args.output_file)(str(path))
    except argparse.ArgumentTypeError as e:
        return f"{'--figures' if directory else '--json'} {path}: {e}"
    return None


def _ranks(ratios, n: int) -> list[tuple[float, int]]:
    if ratios == "all":
        return [(1.0 - k / n, k) for k in range(1, n)]
    from projgeo import keep_count  # JAX is imported only once the arguments are checked

    return [(r, keep_count(n, r)) for r in ratios]


def _curve_ks(n: int) -> list[int]:
    ks = np.linspace(1, n - 1, min(CURVE_POINTS, max(n - 1, 1))).round().astype(int)
    return sorted({int(k) for k in ks if 1 <= k < n})


def check_layer(w: np.ndarray, ratios, *, score: str, key, curve: bool = False,
                lower_bound: str = "spectral"):
    """All numbers of one layer (see the module docstring), from one :func:`projgeo.rank_sweep`.

    Errors are relative to ``||W||_F²`` (computed on a rescaled copy: finite for any finite
    weights). Returns ``(records, curve or None)``.
    """
    import projgeo as pg
    from projgeo import tolerance

    n = w.shape[0]
    pairs = _ranks(ratios, n)
    ks = sorted({k for _, k in pairs if k < n} | (set(_curve_ks(n)) if curve else set()))
    tol = tolerance.tolerance(w.dtype, scale=1.0, terms=w.size)
    at = {}
    if ks:
        s = pg.rank_sweep(w, ks, key=key, score=score, relative=True)
        at = {int(k): tuple(float(x[i]) for x in s[1:]) for i, k in enumerate(s.k.tolist())}
    out = []
    for ratio, k in pairs:
        rec = {"ratio": ratio, "k": k, "n": n, "prune": 0.0, "fold_k": 0.0,
               "fold_lower_bound": 0.0, "fold_gap": 0.0, "c3_fold": None,
               "certified": None, "c3_holds": None, "c4_holds": None}
        if k < n:
            prune, c3, cert, fold_k, lb = at[k]
            if lower_bound == "sdp":  # the better of the two certified bounds, relative,
                # on a power-of-two rescaled copy (the bound scales exactly: no overflow)
                ws = np.ldexp(w, -int(np.frexp(np.max(np.abs(w)) or 1.0)[1]))
                sdp = float(pg.fold_lower_bound(ws, k, method="sdp").sdp)
                lb = max(lb, sdp / float(np.sum(np.square(ws, dtype=np.float64))))
            rec |= {"prune": prune, "fold_k": fold_k, "c3_fold": c3, "certified": cert,
                    "fold_lower_bound": lb,
                    "fold_gap": (fold_k - lb) / lb if lb > 0 else (0.0 if fold_k == 0 else None),
                    "c3_holds": bool(c3 <= prune + tol),
                    "c4_holds": bool(cert <= prune)}  # certified: bitwise as computed
        rec["fold_wins_equal_rank"] = bool(rec["fold_k"] <= rec["prune"] + tol)
        out.append(rec)
    crv = None
    if curve:
        cks = _curve_ks(n)
        crv = {"k": cks, "prune": [at[k][0] for k in cks], "c3_fold_k1": [at[k][1] for k in cks],
               "certified_k1": [at[k][2] for k in cks]}
    return out, crv


def run(args) -> int:
    import jax

    from projgeo.io.checkpoint import (
        Checkpoint,
        CheckpointError,
        find_layers,
        layer_rows,
        layer_shape,
    )

    try:
        ckpt = Checkpoint(args.path)
        layers, skipped = find_layers(ckpt, args.layers)
    except CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not layers:
        print(f"error: {args.path}: no compressible layer (2-D or 4-D floating weights"
              + (f" matching --layers {args.layers!r}" if args.layers else "")
              + f"); {len(skipped)} tensors skipped.", file=sys.stderr)
        return 2
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    progress = Progress(show, "ckpt", total=len(layers))
    key = jax.random.key(args.seed)
    report, curves = [], {}
    print(f"{args.path}: {len(layers)} layers, {len(skipped)} tensors skipped")
    print(f"{'layer':40s} {'n×d':>11s} {'ratio':>5s} {'k':>5s} {'prune':>8s} {'C3 k+1':>8s} "
          f"{'cert k+1':>8s} {'fold k':>8s} {'gap k':>7s}  C3 C4 win")
    done: dict[int, tuple] = {}

    def emit() -> None:  # print finished layers in checkpoint order
        while len(report) in done:
            li = len(report)
            layer, shape, (recs, crv) = done.pop(li)
            report.append({"name": layer.name, "weight": layer.weight, "bias": layer.bias,
                           "shape": list(shape), "ratios": recs})
            if crv is not None:
                curves[layer.name] = crv
            for r in recs if args.ratios != "all" else recs[:: max(1, len(recs) // 5)]:
                print(_row(layer.name, shape, r), flush=True)

    # Up to --jobs layers at once, in threads (XLA runs outside the GIL); at most that many
    # layers' weights are in memory, and every layer's key depends on its index only, so
    # the report is the same for any --jobs.
    running: collections.deque = collections.deque()

    def finish_oldest() -> None:
        i, lay, shape, fut = running.popleft()
        done[i] = (lay, shape, fut.result())
        emit()

    try:
        with ThreadPoolExecutor(args.jobs) as pool:
            for li in schedule([layer_shape(ckpt, lay) for lay in layers]):
                layer = layers[li]
                progress.step(f"layer {layer.name}")
                w = layer_rows(ckpt, layer)
                running.append((li, layer, w.shape, pool.submit(
                    check_layer, w, args.ratios, score=args.score, lower_bound=args.lower_bound,
                    key=jax.random.fold_in(key, li), curve=args.figures is not None)))
                while len(running) >= args.jobs or (running and running[0][3].done()):
                    finish_oldest()
            while running:
                finish_oldest()
    except CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    summary = _summary(report, args.ratios)
    print(f"\n{summary['layers']} layers checked, {summary['violations']} C3/C4 violations; "
          "fold at k beats pruning at k (C5) in: "
          + ", ".join(f"{r}: {v:.0%}" for r, v in summary["equal_rank_win_rate"].items()))
    if args.json is not None:
        doc = {"checkpoint": str(args.path), "format": ckpt.format, "score": args.score,
               "ratios": args.ratios if args.ratios == "all" else list(args.ratios),
               "seed": args.seed, "summary": summary, "layers": report,
               "skipped": [s._asdict() for s in skipped]}
        args.json.write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n")
    if args.figures is not None:
        from proofs_check import checkpoint_figures

        ratios = args.ratios if args.ratios != "all" else ()
        checkpoint_figures.write(args.figures, report, curves, ratios)
    return 1 if summary["violations"] else 0


def _fmt(x) -> str:
    return f"{x:8.4f}" if x is not None else f"{'-':>8s}"


def _gap(g) -> str:
    return f"{'-':>7s}" if g is None else f"{100 * g:6.1f}%" if g < 10 else f"{'>999%':>7s}"


def _row(name, shape, r) -> str:
    flag = {True: "ok", False: "NO", None: "-"}
    return (f"{name[-40:]:40s} {f'{shape[0]}×{shape[1]}':>11s} {r['ratio']:5.2f} {r['k']:5d} "
            f"{_fmt(r['prune'])} {_fmt(r['c3_fold'])} {_fmt(r['certified'])} "
            f"{_fmt(r['fold_k'])} {_gap(r['fold_gap'])}  {flag[r['c3_holds']]:>2s} "
            f"{flag[r['c4_holds']]:>2s} {'yes' if r['fold_wins_equal_rank'] else 'no'}")


def _summary(report, ratios) -> dict:
    recs = [r for layer in report for r in layer["ratios"]]
    bad = [r for r in recs if r["c3_holds"] is False or r["c4_holds"] is False]
    if ratios == "all":
        groups = {"all": recs}
    else:
        groups = {str(float(x)): [r for r in recs if r["ratio"] == x] for x in ratios}
    win = {g: float(np.mean([r["fold_wins_equal_rank"] for r in rs])) for g, rs in groups.items()
           if rs}
    return {"layers": len(report), "checks": len(recs), "violations": len(bad),
            "equal_rank_win_rate": win}


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    for problem in (_output_problem(args.json, directory=False),
                    _output_problem(args.figures, directory=True)):
        if problem:
            print(f"error: {problem}; nothing was written.", file=sys.stderr)
            return 2
    # Compiling dominates on a CPU: without LLVM optimisation the example checkpoint of the
    # README ran in 1 min 44 s instead of 4 min 31 s (the products still call the optimised
    # GEMM library). XLA reads the flag when the backend starts; a user's own flag is kept.
    if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                                   + " --xla_backend_optimization_level=0").strip()

    from projgeo import config

    config.setup(x64=True)
    return run(args)
