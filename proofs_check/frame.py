"""The frame every checker plugs into: claims, budgets, tallies and progress.

A checker module defines ``CLAIM = Claim(id, title, statement)`` and
``check(ctx: Context) -> Tally``. It draws its random instances from ``ctx.key``, sizes
its work by ``ctx.budget``, and records every numerical comparison through a
:class:`Tally`, which applies the tolerance rule of :mod:`projgeo.tolerance`.

Definitions used in the report:

* **trial**: one random instance (a matrix with its k and projectors, a network, …) on
  which the claim's properties are checked.
* **violation**: a trial on which at least one property fails beyond the tolerance.
* **worst margin**: the smallest relative margin over all checks of the claim:
  ``(b − a)/scale`` for an inequality ``a ≤ b``, ``−|a − b|/scale`` for an identity
  ``a = b``, with ``scale`` the natural size of the quantities (e.g. ``||W||_F²``).
  It is ≥ 0 for inequalities that hold, and ≥ ``−tol/scale`` (≈ −1e-12 in float64)
  for checks that hold up to rounding; anything lower is a violation.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import threading
import time
from typing import Any

import numpy as np

from projgeo import tolerance

BUDGETS = ("quick", "standard", "thorough")
#: Work multiplier of each budget relative to ``quick``.
SCALE = {"quick": 1, "standard": 4, "thorough": 16}
MAX_EXAMPLES = 5


@dataclasses.dataclass(frozen=True)
class Claim:
    id: str
    title: str
    statement: str


_STDERR = threading.Lock()


class Progress:
    """Progress on stderr, one line per step (silent when disabled), written by ``rich``
    (plain text when stderr is not a terminal): never on stdout, so tables stay clean.

    :meth:`step` names the step that starts now, counting steps itself; :meth:`begin` does
    the same for step ``i`` of a known ``total`` (the checkers' steps). Lines of claims
    running side by side in threads never mix: each line is written whole under a lock.
    """

    def __init__(self, enabled: bool, label: str = "", total: int | None = None):
        self.enabled, self.label, self.total = enabled, label, total
        self.t0 = time.perf_counter()
        self.steps = 0
        self._console = None

    def _write(self, text: str) -> None:
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=sys.stderr, highlight=False, soft_wrap=True,
                                    markup=False, emoji=False)
        with _STDERR:
            self._console.print(text)
            sys.stderr.flush()

    def _head(self) -> str:
        return f"{self.label:4s} {time.perf_counter() - self.t0:6.1f}s"

    def step(self, name: str) -> None:
        """Announce the step starting now: ``label  t s [i/total] name``."""
        self.steps += 1
        if not self.enabled:
            return
        count = f"[{self.steps}/{self.total}] " if self.total else f"[{self.steps}] "
        self._write(f"{self._head()} {count}{name}")

    def begin(self, i: int, total: int, name: str) -> None:
        """Announce step ``i`` (1-based) of ``total``, starting now:
        ``label t s [i/total] name``."""
        self.steps = i
        if self.enabled:
            self._write(f"{self._head()} [{i}/{total}] {name}")


@dataclasses.dataclass
class Context:
    budget: str
    seed: int
    progress: Progress

    @property
    def scale(self) -> int:
        return SCALE[self.budget]

    def key(self, *salt: int):
        """A key for one part of a checker, derived from the seed and salt integers."""
        import jax

        key = jax.random.key(self.seed)
        for s in salt:
            key = jax.random.fold_in(key, s)
        return key


class Tally:
    """Accumulates trials, violations, margins and per-property details of one claim."""

    def __init__(self) -> None:
        self.trials = 0
        self.violations = 0
        self.worst_margin = math.inf
        self.properties: dict[str, dict[str, Any]] = {}
        self.details: dict[str, Any] = {}
        self.examples: list[dict[str, Any]] = []

    def batch(self, size: int, label: str = "") -> Batch:
        """Start a batch of ``size`` trials; finish it with ``Batch.done()``."""
        return Batch(self, size, label)

    def _property(self, name: str, ok: np.ndarray, marg: np.ndarray) -> None:
        p = self.properties.setdefault(
            name, {"checked": 0, "violations": 0, "worst_margin": math.inf}
        )
        p["checked"] += int(ok.size)
        p["violations"] += int((~ok).sum())
        m = float(np.min(marg)) if marg.size else math.inf
        p["worst_margin"] = min(p["worst_margin"], m)
        self.worst_margin = min(self.worst_margin, m)

    def absorb(self, other: Tally) -> None:
        """Add the trials, violations, properties and examples of ``other`` (a part of this
        claim run on its own, e.g. in another thread); properties of one name combine."""
        self.trials += other.trials
        self.violations += other.violations
        self.worst_margin = min(self.worst_margin, other.worst_margin)
        for name, q in other.properties.items():
            p = self.properties.setdefault(
                name, {"checked": 0, "violations": 0, "worst_margin": math.inf})
            p["checked"] += q["checked"]
            p["violations"] += q["violations"]
            p["worst_margin"] = min(p["worst_margin"], q["worst_margin"])
        self.examples += other.examples[: max(0, MAX_EXAMPLES - len(self.examples))]

    def report(self) -> dict[str, Any]:
        details = dict(self.details)
        details["properties"] = {
            name: {**p, "worst_margin": _finite_or_none(p["worst_margin"])}
            for name, p in self.properties.items()
        }
        if self.examples:
            details["failing_examples"] = self.examples
        return {
            "trials": self.trials,
            "violations": self.violations,
            "worst_margin": _finite_or_none(self.worst_margin),
            "details": details,
        }


class Batch:
    """The checks made on one batch of trials; each check is elementwise over the batch."""

    def __init__(self, tally: Tally, size: int, label: str):
        self.tally, self.size, self.label = tally, size, label
        self.ok = np.ones(size, bool)

    def _mark(self, name, ok, marg, info):
        ok = np.broadcast_to(np.asarray(ok, bool), (self.size,) + np.shape(ok)[1:])
        ok_trial = ok.reshape(self.size, -1).all(axis=1)
        self.tally._property(name, ok.ravel(), np.asarray(marg, float).ravel())
        for i in np.flatnonzero(~ok_trial)[: MAX_EXAMPLES - len(self.tally.examples)]:
            self.tally.examples.append({"property": name, "batch": self.label, "index": int(i),
                                        **{k: _jsonable(v, i) for k, v in info.items()}})
        self.ok &= ok_trial

    def leq(self, name: str, a, b, *, dtype, scale, terms: int, **info) -> None:
        """Check ``a ≤ b`` (up to tolerance) elementwise."""
        ok = tolerance.leq(a, b, dtype=dtype, scale=scale, terms=terms)
        self._mark(name, ok, tolerance.margin(a, b, scale=scale), {"a": a, "b": b, **info})

    def equal(self, name: str, a, b, *, dtype, scale, terms: int, **info) -> None:
        """Check ``a = b`` (up to tolerance) elementwise."""
        ok = tolerance.close(a, b, dtype=dtype, scale=scale, terms=terms)
        marg = tolerance.margin(a, b, scale=scale, identity=True)
        self._mark(name, ok, marg, {"a": a, "b": b, **info})

    def true(self, name: str, ok, **info) -> None:
        """Check an exact (boolean) property; a failure counts as margin −1."""
        ok = np.asarray(ok, bool)
        self._mark(name, ok, np.where(ok, math.inf, -1.0), info)

    def done(self) -> None:
        self.tally.trials += self.size
        self.tally.violations += int((~self.ok).sum())


def _jsonable(v, i):
    v = np.asarray(v)
    if v.ndim and v.shape[0] > i:
        v = v[i]
    return v.tolist() if v.size <= 64 else f"array{v.shape}"


def _finite_or_none(x: float) -> float | None:
    return None if math.isinf(x) else x


def work_dtype() -> np.dtype:
    """The dtype the checkers compute in: float64 (default), float32 under ``--dtype float32``
    (x64 off). Every tolerance of a library computation uses it."""
    import jax

    return np.dtype(np.float64 if jax.config.jax_enable_x64 else np.float32)
