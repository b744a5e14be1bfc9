"""Command line of ``python -m figures``: regenerate F1–F7 (PNG, PDF, data) deterministically.

Every figure draws its randomness from fixed ``jax.random`` keys or seeded NumPy
generators, so two runs write the same numbers. F2, F5 and F6 use the C8 zoo
(:mod:`projgeo.experiments.zoo`), trained once and cached in ``--zoo-cache``.
"""

from __future__ import annotations

import argparse
import importlib
import time
from pathlib import Path

from figures import gallery

FIGURES = {
    "F1": "figures.f1_geometry",
    "F2": "figures.f2_error_vs_compression",
    "F3": "figures.f3_c4_theorem",
    "F4": "figures.f4_c3_identity",
    "F5": "figures.f5_c7_bounds",
    "F6": "figures.f6_c8_accuracy",
    "F7": "figures.f7_c5_loss_rate",
}
DEFAULT_OUT = Path(__file__).parent / "out"
#: Its gallery is rewritten from the captions when every figure is made into DEFAULT_OUT.
README = Path(__file__).parent / "README.md"


def _parse_only(text: str) -> list[str]:
    ids = [t.strip().upper() for t in text.split(",") if t.strip()]
    bad = [i for i in ids if i not in FIGURES]
    if not ids or bad:
        raise argparse.ArgumentTypeError(f"expected figure IDs from {','.join(FIGURES)}; "
                                         f"got {text!r}")
    return ids


def main(argv: list[str] | None = None) -> int:
    from proofs_check import _args

    p = _args.Parser(prog="python -m figures", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=_args.output_dir, default=DEFAULT_OUT,
                   help=f"output directory, created if missing (default {DEFAULT_OUT})")
    p.add_argument("--budget", choices=("quick", "full"), default="quick",
                   help="quick (the 12-network zoos; about 1 min with both cached) or full")
    p.add_argument("--only", type=_parse_only, default=list(FIGURES),
                   help="comma-separated figure IDs (default: all)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                   help="one line per step on stderr (default: on)")
    args = p.parse_args(argv)

    from figures import _zoo
    from projgeo import config
    from proofs_check.frame import Progress

    config.setup(x64=True)
    full = args.out.resolve() == DEFAULT_OUT.resolve() and args.only == list(FIGURES)
    progress = Progress(args.progress, "figs", total=len(args.only) + full)
    _zoo.ON_STEP = Progress(args.progress, "zoo").step
    total = time.perf_counter()
    for fid in args.only:
        progress.step(f"{fid} {FIGURES[fid].split('.')[-1]}")
        t0 = time.perf_counter()
        paths = importlib.import_module(FIGURES[fid]).make(args.out, args.budget)
        names = ", ".join(p.name for p in paths)
        print(f"{fid}: {names} ({time.perf_counter() - t0:.1f} s)", flush=True)
    print(f"{len(args.only)} figures in {time.perf_counter() - total:.1f} s -> {args.out}")
    if full:
        progress.step("gallery of figures/README.md from the captions")
        gallery.update(README, args.out, [m.split(".")[-1] for m in FIGURES.values()])
    return 0
