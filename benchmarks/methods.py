"""The clustering methods compared, each timed on one float32 matrix.

Every runner returns a dict with ``seconds`` (wall clock of the steady-state call),
``labels`` (numpy int) and method-specific extras; :func:`inertia64` scores all of them
the same way.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import time

import numpy as np

#: Lloyd iteration cap shared by every k-means method ("same iteration cap").
MAX_ITER = 50


def inertia64(w: np.ndarray, labels: np.ndarray) -> float:
    """``E_fold`` of a labelling in float64: ``Σ_i ||w_i − μ_{l_i}||²`` from differences."""
    w = np.asarray(w, np.float64)
    labels = np.asarray(labels).astype(np.int64)
    k = int(labels.max()) + 1
    sums = np.zeros((k, w.shape[1]))
    np.add.at(sums, labels, w)
    sizes = np.bincount(labels, minlength=k)
    mu = sums / np.maximum(sizes, 1)[:, None]
    r = w - mu[labels]
    return float(np.einsum("ij,ij->", r, r))


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def projgeo_fold(w: np.ndarray, k: int, *, seed: int = 0, **options) -> dict:
    """projgeo's fold: a first call (compiles) and a timed second call on the same shape."""
    import jax

    import projgeo

    wj = jax.numpy.asarray(w)
    key = jax.random.key(seed)

    def run():
        return jax.block_until_ready(projgeo.fold(wj, k, key=key, max_iter=MAX_ITER, **options))

    _, first = _timed(run)
    res, seconds = _timed(run)
    return {"seconds": seconds, "first_call_seconds": first,
            "compile_seconds": max(first - seconds, 0.0), "labels": np.asarray(res.labels),
            "iterations": int(res.iterations), "converged": bool(res.converged),
            "options": {"max_iter": MAX_ITER, **options}}


def sklearn_kmeans(w: np.ndarray, k: int, *, seed: int = 0) -> dict:
    """scikit-learn ``KMeans``: greedy k-means++, one init, the same Lloyd cap, tol 0."""
    from sklearn.cluster import KMeans

    km = KMeans(k, init="k-means++", n_init=1, max_iter=MAX_ITER, tol=0.0, random_state=seed)
    km, seconds = _timed(lambda: km.fit(w))
    return {"seconds": seconds, "labels": km.labels_, "iterations": int(km.n_iter_),
            "options": {"init": "k-means++", "n_init": 1, "max_iter": MAX_ITER, "tol": 0.0}}


def faiss_available() -> bool:
    return importlib.util.find_spec("faiss") is not None


def ott_available() -> bool:
    """Whether ott-jax (the ``bench`` extra's JAX-native k-means peer) is installed."""
    return importlib.util.find_spec("ott") is not None


def faiss_kmeans(w: np.ndarray, k: int, *, seed: int = 0) -> dict:
    """faiss-cpu k-means, ``MAX_ITER`` Lloyd iterations (faiss never stops early)."""
    import faiss

    x = np.ascontiguousarray(w, np.float32)

    def run():
        km = faiss.Kmeans(x.shape[1], k, niter=MAX_ITER, seed=seed + 1, verbose=False,
                          max_points_per_centroid=1 << 30, min_points_per_centroid=1)
        km.train(x)
        _, lab = km.index.search(x, 1)
        return lab[:, 0]

    labels, seconds = _timed(run)
    return {"seconds": seconds, "labels": labels, "iterations": MAX_ITER,
            "options": {"niter": MAX_ITER, "init": "random rows (faiss default)"}}


def ward(w: np.ndarray, k: int, *, seed: int = 0) -> dict:
    """Ward agglomerative clustering (scikit-learn), deterministic."""
    from sklearn.cluster import AgglomerativeClustering

    labels, seconds = _timed(
        lambda: AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(w))
    return {"seconds": seconds, "labels": labels, "options": {"linkage": "ward"}}


def matmul_ceiling(w: np.ndarray, k: int, *, reps: int = 15) -> dict:
    """Throughput of a bare ``jnp`` product ``(n, d) @ (d, k)`` and of one plain Lloyd step.

    All jitted, best of ``reps`` after a warm-up, interleaved, on the same matrix and shape:
    the Lloyd step (means, distance product, argmin) against the machine's ceiling, and the
    same step with the means as a one-hot product ``Aᵀ W`` instead of
    :func:`projgeo.kmeans.lloyd_step`'s segment sum (issue 14: whichever is faster per shape).
    Measured on the three case shapes (float32, 2 shared cores, load ≈ 6, two runs): segment
    sum 0.79–0.89, 0.62–0.76, 0.83–1.3 of the product; one-hot 0.37–0.38, 0.35–0.47,
    0.48–0.69; a sorted segment sum 0.61–0.67, 0.60–0.66, 0.92–1.2. So the step keeps the
    segment sum above ``DENSE_K`` clusters.
    """
    import jax
    import jax.numpy as jnp

    from projgeo.kmeans import lloyd_step

    wj = jnp.asarray(w)
    n, d = w.shape
    labels = jnp.asarray(np.arange(n) % k, jnp.int32)
    c = wj[:k]
    mm = jax.jit(lambda a, b: a @ b.T)
    step = jax.jit(lloyd_step, static_argnames="k")

    def once(fn):
        _, t = _timed(lambda: jax.block_until_ready(fn()))
        return t

    @functools.partial(jax.jit, static_argnames="k")
    def one_hot_step(w, labels, k):
        a = (labels[:, None] == jnp.arange(k, dtype=labels.dtype)[None, :]).astype(w.dtype)
        mu = jax.lax.optimization_barrier((a.T @ w) / jnp.maximum(jnp.sum(a, axis=0), 1)[:, None])
        scores = jnp.sum(mu * mu, axis=1)[None, :] - 2.0 * (w @ mu.T)
        return jnp.argmin(scores, axis=1).astype(jnp.int32)

    run_mm, run_step = (lambda: mm(wj, c)), (lambda: step(wj, labels, k=k))
    run_oh = lambda: one_hot_step(wj, labels, k=k)  # noqa: E731
    for fn in (run_mm, run_step, run_oh):
        jax.block_until_ready(fn())
    # Interleaved, best of reps: all see the same machine load (other processes).
    t_mm = t_step = t_oh = math.inf
    for _ in range(reps):
        t_mm = min(t_mm, once(run_mm))
        t_step = min(t_step, once(run_step))
        t_oh = min(t_oh, once(run_oh))
    flops = 2.0 * n * d * k
    return {"matmul_seconds": t_mm, "matmul_gflops": flops / t_mm / 1e9,
            "lloyd_step_seconds": t_step, "lloyd_step_gflops": flops / t_step / 1e9,
            "lloyd_fraction_of_matmul": t_mm / t_step,
            "lloyd_fraction_one_hot_means": t_mm / t_oh,
            "faster_means": "segment_sum" if t_step <= t_oh else "one_hot"}
