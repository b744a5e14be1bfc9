"""Command line of ``python -m proofs_check``: run checkers, print a table, write JSON.

Exit status: 0 iff no checked claim has a violation, 1 otherwise, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

from proofs_check import _args
from proofs_check.frame import BUDGETS, Context, Progress
from proofs_check.registry import CHECKERS, DEFAULT_CLAIMS


def _parse_claims(text: str) -> list[str]:
    ids = [c.strip().upper() for c in text.split(",") if c.strip()]
    unknown = [c for c in ids if c not in CHECKERS]
    if not ids or unknown:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of implemented claims from "
            f"{','.join(CHECKERS)}; got {text!r}"
        )
    return list(dict.fromkeys(ids))


def build_parser() -> argparse.ArgumentParser:
    p = _args.Parser(
        prog="python -m proofs_check",
        description="Numerically verify the claims of THEORY.md (float64, or float32). "
                    "`python -m proofs_check checkpoint PATH` checks a checkpoint instead.",
    )
    p.add_argument("--claims", type=_parse_claims, default=list(DEFAULT_CLAIMS),
                   help=f"comma-separated claim IDs (default: {','.join(DEFAULT_CLAIMS)}; "
                        "C8 trains a zoo and is opt-in)")
    p.add_argument("--budget", choices=BUDGETS, default="quick",
                   help="quick (≤ 60 s on 2 CPU cores, the default), standard or thorough")
    p.add_argument("--seed", type=_args.seed, default=0,
                   help="seed of the jax.random keys, in [0, 2**32 - 1] (default 0)")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                   help="float64 (default) or float32: every claim computed in float32 (x64 "
                        "off) with float32 tolerances, as on most accelerators")
    p.add_argument("--json", type=_args.output_file, metavar="PATH",
                   help="also write the report as JSON (checked before any work)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress display on stderr (default: on for standard and thorough)")
    p.add_argument("--jobs", type=_args.positive_int, default=_args.default_jobs(), metavar="N",
                   help="claims checked at once, in threads (default: the CPU cores, at most "
                        f"{_args.MAX_JOBS}; here {_args.default_jobs()}); the results do not "
                        "depend on it")
    return p


#: Relative cost of each checker (its share of a cold quick run), so that the dearest start
#: first and the threads finish together; C5 reuses C4's exact optima, so it starts after.
COST = {"C7": 7, "C4": 6, "C1": 4, "C3": 3, "C6": 3, "C2": 2, "C5": 1, "C8": 9}


def _fmt_margin(m) -> str:
    return "-" if m is None or (isinstance(m, float) and math.isinf(m)) else f"{m:+.2e}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["checkpoint"]:
        from proofs_check import checkpoint

        return checkpoint.main(argv[1:])
    args = build_parser().parse_args(argv)
    import jax

    from projgeo import config

    config.setup(x64=args.dtype == "float64")
    show = args.progress if args.progress is not None else args.budget != "quick"

    def run(cid: str) -> dict:
        module = importlib.import_module(CHECKERS[cid])
        ctx = Context(budget=args.budget, seed=args.seed, progress=Progress(show, cid))
        t0 = time.perf_counter()
        rep = module.check(ctx).report()
        return {"id": cid, "title": module.CLAIM.title, **rep,
                "seconds": round(time.perf_counter() - t0, 3),
                "statement": module.CLAIM.statement}

    # Claims run side by side in threads (XLA compiles and runs outside the GIL); every
    # claim's instances and keys depend on the seed only, so the report does not depend on
    # --jobs or on the order in which the threads finish.
    jobs = min(args.jobs, len(args.claims))
    if jobs == 1:
        results = [run(cid) for cid in args.claims]
    else:
        with ThreadPoolExecutor(jobs) as pool:
            order = sorted(args.claims, key=lambda c: -COST.get(c, 1))
            futures = {cid: pool.submit(run, cid) for cid in order}
            results = [futures[cid].result() for cid in args.claims]
    _print_table(results)
    for r in results:
        if r["id"] == "C8" and "cnn" in r["details"]:
            _print_c8(r["details"])
    report = {
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "x64": bool(jax.config.jax_enable_x64),
        "dtype": args.dtype,
        "budget": args.budget,
        "seed": args.seed,
        "claims": [{k: r[k] for k in ("id", "title", "trials", "violations", "worst_margin",
                                      "seconds", "details")} for r in results],
    }
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, allow_nan=False) + "\n")
    bad = [r["id"] for r in results if r["violations"]]
    print(f"\n{len(results)} claims checked, {len(bad)} with violations"
          + (f": {', '.join(bad)}" if bad else "."))
    return 1 if bad else 0


#: Width of the statement column; longer statements wrap onto further lines.
STATEMENT_WIDTH = 50

TABLE_NOTE = (
    "worst margin: the smallest of (b - a)/scale over checks a <= b and -|a - b|/scale over\n"
    "identities a = b. An inequality passes with margin >= 0 (its slack), an identity with\n"
    "margin <= 0 (its residual); either also passes down to -tol/scale, the rounding the\n"
    "tolerance rule allows (docs/theory.md). Below that it is a violation, counted in viol.")


def _print_table(results) -> None:
    """One row per claim, the full statement wrapped in its column, and what margins mean."""
    head = (f"{'claim':5s} {'statement':{STATEMENT_WIDTH}s} {'trials':>7s} {'viol.':>6s} "
            f"{'worst margin':>13s} {'s':>6s}")
    print(head)
    print("-" * len(head))
    for r in results:
        lines = textwrap.wrap(r["statement"], STATEMENT_WIDTH, break_on_hyphens=False) or [""]
        print(f"{r['id']:5s} {lines[0]:{STATEMENT_WIDTH}s} {r['trials']:7d} "
              f"{r['violations']:6d} {_fmt_margin(r['worst_margin']):>13s} "
              f"{r['seconds']:6.1f}")
        for line in lines[1:]:
            print(f"{'':5s} {line}")
    print("-" * len(head))
    print(TABLE_NOTE)


def _print_c8(details) -> None:
    """The per-ratio C8 table, MLP and CNN zoos side by side: the share of networks where
    folding is at least as accurate as pruning, and the mean gap in accuracy points."""
    mlp, cnn = details, details["cnn"]
    print(f"\nC8 per ratio ({mlp['networks']} MLPs | {cnn['networks']} CNNs): "
          "fold >= prune (% of networks), mean gap fold - prune (accuracy points)")
    print(f"{'ratio':>6s} {'MLP %':>7s} {'MLP gap':>8s} {'CNN %':>7s} {'CNN gap':>8s}")
    for m, c in zip(mlp["per_ratio"], cnn["per_ratio"], strict=True):
        print(f"{100 * m['ratio']:5.0f}% {100 * m['fold_at_least_prune']:7.1f} "
              f"{100 * m['mean_gap']:+8.2f} {100 * c['fold_at_least_prune']:7.1f} "
              f"{100 * c['mean_gap']:+8.2f}")
