"""Argument checks shared by the command lines (proofs_check, figures, benchmarks).

Every argument, output path included, is checked before any work starts: a bad one exits
with status 2 and one line on stderr, and nothing is written. ``argparse``'s own errors
(unknown option, bad choice) get the same one-line form through :class:`Parser`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

#: Seeds feed ``jax.random.key``: unsigned 32-bit.
MAX_SEED = 2**32 - 1


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr and exit status 2."""

    def error(self, message: str):  # noqa: D102 (argparse API)
        self.exit(2, f"{self.prog}: error: {message}\n")


def fail(prog: str, message: str):
    """Exit 2 with one line ``prog: error: message`` on stderr (a usage error)."""
    sys.stderr.write(f"{prog}: error: {message}\n")
    raise SystemExit(2)


def seed(text: str) -> int:
    """argparse type: an integer seed in [0, 2^32 − 1]."""
    try:
        v = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed; got {text!r}") from None
    if not 0 <= v <= MAX_SEED:
        raise argparse.ArgumentTypeError(
            f"seed must be an integer in [0, 2**32 - 1] = [0, {MAX_SEED}]; got {v}")
    return v


def positive_int(text: str) -> int:
    """argparse type: an integer ≥ 1."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer (≥ 1); got {v}")
    return v


#: Most jobs (claims or layers) run side by side by default: each holds its own arrays.
MAX_JOBS = 4


def default_jobs() -> int:
    """CPU cores available to this process, at most :data:`MAX_JOBS` (the ``--jobs`` default)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(MAX_JOBS, cores))


def _nearest_existing(path: Path) -> Path:
    p = path.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def output_file(text: str) -> Path:
    """argparse type: a file path that can be written: not a directory, in an existing,
    writable directory."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a directory; expected a file path")
    parent = path.absolute().parent
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: directory {str(parent)!r} "
                                         "does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: permission denied")
    return path


def output_dir(text: str) -> Path:
    """argparse type: a directory that exists or can be created (not an existing file, and
    below a writable directory)."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} exists and is not a directory")
    base = _nearest_existing(path)
    if not base.is_dir():
        raise argparse.ArgumentTypeError(
            f"cannot create directory {text!r}: {str(base)!r} is not a directory")
    if not os.access(base, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write into {str(base)!r}: permission denied")
    return path


def names(allowed, what: str):
    """argparse type factory: a comma-separated, non-empty list of names from ``allowed``."""
    allowed = list(dict.fromkeys(allowed))

    def parse(text: str) -> list[str]:
        got = [t.strip() for t in text.split(",") if t.strip()]
        bad = [t for t in got if t not in allowed]
        if not got or bad:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated {what} from {','.join(allowed)}; got {text!r}")
        return list(dict.fromkeys(got))

    return parse
