"""projgeo._linalg: decompositions that never emit a batched LAPACK kernel under vmap.

Two batched CPU decompositions in one vmapped program deadlocked XLA:CPU's two-thread pool
(``proofs_check --budget standard``, C1 at n=11 d=5 k=5); the wrappers map over the batch.
"""

from __future__ import annotations

import re
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from projgeo import _linalg

ROOT = Path(__file__).resolve().parents[1]


def _batch(seed=0, b=5, n=7, d=4):
    return jax.random.normal(jax.random.key(seed), (b, n, d))


def test_wrappers_match_numpy_unbatched_and_under_nested_vmap():
    a = _batch()
    sym = jnp.einsum("bnd,bmd->bnm", a, a)
    got = jax.jit(jax.vmap(jax.vmap(_linalg.norm2)))(a[None].repeat(2, 0))
    np.testing.assert_allclose(got[0], np.linalg.norm(np.asarray(a), 2, axis=(1, 2)), rtol=1e-12)
    np.testing.assert_allclose(jax.vmap(_linalg.eigvalsh)(sym), np.linalg.eigvalsh(sym),
                               atol=1e-11)
    w, v = jax.vmap(_linalg.eigh)(sym)
    np.testing.assert_allclose(jnp.einsum("bij,bj,bkj->bik", v, w, v), sym, atol=1e-10)
    u, s, vt = jax.vmap(_linalg.svd)(a)
    assert u.shape == (5, 7, 4) and vt.shape == (5, 4, 4)
    np.testing.assert_allclose(jnp.einsum("bij,bj,bjk->bik", u, s, vt), a, atol=1e-12)
    np.testing.assert_allclose(_linalg.svdvals(a[0]), np.linalg.svd(a[0], compute_uv=False),
                               rtol=1e-12)
    assert float(_linalg.norm2(jnp.zeros((3, 2)))) == 0.0


def test_vmapped_program_has_no_batched_decomposition():
    """Under vmap the decompositions sit inside a loop (scan), one matrix at a time."""

    def prog(w):
        p = w @ w.T
        return _linalg.eigvalsh(p).sum() + _linalg.norm2(w) + _linalg.svd(p @ w)[1][0]

    text = str(jax.make_jaxpr(jax.vmap(prog))(_batch()))
    for prim in ("eigh", "svd"):
        for m in re.finditer(rf"\b{prim}\[", text):
            # every decomposition is inside a scan body, i.e. follows a "scan[" opening
            assert "scan[" in text[: m.start()], text


@pytest.mark.parametrize("folder", ["projgeo", "proofs_check", "figures", "benchmarks"])
def test_no_direct_decompositions_outside_linalg(folder):
    """Every eigh/eigvalsh/svd/norm(·, 2) goes through projgeo._linalg (deadlock, see above)."""
    bad = re.compile(r"jnp\.linalg\.(eigh|eigvalsh|svd)\b|jnp\.linalg\.norm\([^()]*,\s*(2|ord=2)\)")
    hits = [f"{p.relative_to(ROOT)}:{i}" for p in sorted((ROOT / folder).rglob("*.py"))
            if p.name != "_linalg.py"
            for i, line in enumerate(p.read_text().splitlines(), 1) if bad.search(line)]
    assert not hits, hits
