"""Dense decompositions that are safe under ``jax.vmap`` on XLA:CPU.

Why this module exists. jaxlib's batched LAPACK kernels on CPU (``eigh``, ``svd``) split a
batch over the XLA:CPU intra-op thread pool (``ParallelBatchMap``). When one vmapped program
holds two such batched decompositions, on a pool of two threads the workers can block each
other forever (measured: ``python -m proofs_check --budget standard`` stopped at C1 step 2/4,
n=11 d=5 k=5, 0 % CPU, both Eigen workers inside ``ParallelBatchMap``, one in ``eigvalsh``,
one in the SVD of ``norm(·, 2)``).

The wrappers below compute the same decompositions, but their batching rule runs the LAPACK
call one matrix at a time with ``lax.map``, so no batched kernel is ever emitted and no two
decompositions wait on each other's pool workers. The cost is a sequential loop over the
batch; the decompositions here are of small matrices (checker instances, layer deltas, the
exact path of :func:`projgeo.spectral.spectral_norm`), where it is negligible.

Every use of ``jnp.linalg.eigh``/``eigvalsh``/``svd``/``norm(·, 2)`` in projgeo and
proofs_check goes through this module; ``tests/test_linalg.py`` checks that a vmapped
program holding several of them finishes on a two-thread pool.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Scalar


def _one_at_a_time(fn):
    """``fn`` with a batching rule that maps it over the batch instead of batching LAPACK."""

    @jax.custom_batching.custom_vmap
    def wrapped(a):
        return fn(a)

    @wrapped.def_vmap
    def _rule(axis_size, in_batched, a):
        del axis_size
        (batched,) = in_batched
        out = jax.lax.map(wrapped, a) if batched else wrapped(a)
        return out, jax.tree.map(lambda _: batched, out)

    return wrapped


@_one_at_a_time
def eigh(a: Float[Array, "n n"]) -> tuple[Float[Array, " n"], Float[Array, "n n"]]:
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix (``jnp.linalg.eigh``)."""
    return tuple(jnp.linalg.eigh(a))


@_one_at_a_time
def eigvalsh(a: Float[Array, "n n"]) -> Float[Array, " n"]:
    """Eigenvalues (ascending) of a symmetric matrix (``jnp.linalg.eigvalsh``)."""
    return jnp.linalg.eigvalsh(a)


@_one_at_a_time
def svd(a: Float[Array, "n d"]) -> tuple[Float[Array, "n r"], Float[Array, " r"],
                                         Float[Array, "r d"]]:
    """Reduced SVD ``U, s, Vᵀ`` (``jnp.linalg.svd(a, full_matrices=False)``), s descending."""
    return tuple(jnp.linalg.svd(a, full_matrices=False))


@_one_at_a_time
def svdvals(a: Float[Array, "n d"]) -> Float[Array, " r"]:
    """Singular values, descending (``jnp.linalg.svd(a, compute_uv=False)``)."""
    return jnp.linalg.svd(a, compute_uv=False)


def norm2(a: Float[Array, "n d"]) -> Scalar:
    """Spectral norm ``σ_1(A) = ||A||_2`` (``jnp.linalg.norm(a, 2)``); 0 for the zero matrix."""
    return svdvals(a)[0]
