"""The one tolerance helper of the tests: ``projgeo.tolerance`` with sizes filled in."""

from __future__ import annotations

import contextlib

import jax
import numpy as np

from projgeo import tolerance

_COMPILES = [0]


def _on_duration(event: str, _secs: float, **_kw) -> None:
    # The event times the whole compile step, persistent-cache lookup included, so a
    # program read back from the disk cache counts too: a warm cache hides nothing.
    if event == "/jax/core/compile/backend_compile_duration":
        _COMPILES[0] += 1


jax.monitoring.register_event_duration_secs_listener(_on_duration)


@contextlib.contextmanager
def count_compilations():
    """``with count_compilations() as n: ...; n()`` is the number of programs compiled
    (or read from the persistent cache) inside the block."""
    start = _COMPILES[0]
    yield lambda: _COMPILES[0] - start


def scale_of(w) -> float:
    """``||W||_F²``, the natural scale of squared errors of ``w``."""
    w = np.asarray(w, np.float64)
    return float(np.sum(w * w))


def assert_leq(a, b, *, w, scale=None, dtype=None):
    """``a ≤ b`` up to the tolerance rule for quantities built from ``w``."""
    w = np.asarray(w)
    dtype = w.dtype if dtype is None else dtype
    scale = scale_of(w) if scale is None else scale
    assert tolerance.leq(a, b, dtype=dtype, scale=scale, terms=w.size), (
        f"expected {float(a)!r} ≤ {float(b)!r} (tol "
        f"{tolerance.tolerance(dtype, scale=scale, terms=w.size):.3g})"
    )


def assert_close(a, b, *, w, scale=None, dtype=None):
    """``a = b`` (arrays: elementwise) up to the tolerance rule for quantities built from ``w``."""
    w = np.asarray(w)
    dtype = w.dtype if dtype is None else dtype
    scale = scale_of(w) if scale is None else scale
    ok = np.all(tolerance.close(a, b, dtype=dtype, scale=scale, terms=w.size))
    assert ok, f"expected {np.asarray(a)!r} = {np.asarray(b)!r} (scale {scale:.3g})"
