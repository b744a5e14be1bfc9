"""Compile once per capacity bucket: k and the iteration caps are traced (issue 10).

Counted with ``jax.monitoring`` compile events (and persistent-cache hits), never timed.
Each test uses a shape no other test uses, so that its counts start from nothing.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

import projgeo as pg
from projgeo.kmeans import capacity
from tests.helpers import count_compilations


def _w(n, d, seed=0, dtype=np.float64):
    """Weights on the device, already validated once: the validation's two tiny programs
    per shape (isfinite, all) are compiled here, outside the counts, which are about the
    solver."""
    w = jnp.asarray(pg.families.sample("gaussian", jax.random.key(seed), n, d), dtype)
    pg.magnitude_prune(w, 1)  # validates w: its checks compile here, outside the counts
    return w


def test_capacity_rule_has_at_most_log2_n_plus_1_buckets():
    for n in (1, 2, 5, 16, 17, 37, 64, 100, 1000, 4097):
        caps = {capacity(n, k) for k in range(1, n + 1)}
        assert len(caps) <= math.ceil(math.log2(n)) + 1
        assert all(capacity(n, k) >= k for k in range(1, n + 1))


def test_fold_sweep_over_every_k_compiles_at_most_log2_n_plus_1_programs():
    n = 37
    w = _w(n, 3)
    key = jax.random.key(0)
    with count_compilations() as compiled:
        for k in range(1, n + 1):
            res = pg.fold(w, k, key=key)
            assert res.centroids.shape == (k, 3)
    assert compiled() <= math.ceil(math.log2(n)) + 1, compiled()


def test_a_sweep_across_both_default_seedings_compiles_one_program_per_bucket():
    from projgeo.kmeans.lloyd import seeding_for

    n = 100  # bucket 16 bisects (100 > 4·16); buckets 32, 64 and 100 merge bottom-up
    assert {seeding_for(n, capacity(n, k)) for k in range(1, n + 1)} == {"bisect", "ward"}
    w = _w(n, 2, seed=3)
    key = jax.random.key(0)
    with count_compilations() as compiled:
        for k in range(1, n + 1, 3):
            pg.fold(w, k, key=key)
    assert compiled() <= len({capacity(n, k) for k in range(1, n + 1, 3)}), compiled()


def test_a_new_k_or_cap_in_a_compiled_bucket_compiles_nothing():
    w = _w(40, 2, seed=1)
    key = jax.random.key(0)
    pg.fold(w, 20, key=key)  # compiles the bucket of capacity 32
    with count_compilations() as compiled:
        for k in (17, 21, 31, 32):
            pg.fold(w, k, key=key)
        pg.fold(w, 25, key=key, max_iter=7, refine_iter=3, split_merge_iter=1, tol=1e-3)
    assert compiled() == 0, compiled()


def test_magnitude_pruning_at_every_k_reuses_one_compiled_ranking():
    w = _w(29, 3, seed=2)  # _w ranks w once: the ranking of this shape is compiled there
    with count_compilations() as compiled:
        keeps = [pg.magnitude_prune(w, k).keep for k in range(1, 30)]
    assert compiled() == 0, compiled()
    assert [len(keep) for keep in keeps] == list(range(1, 30))


def test_each_error_and_projector_map_is_one_program_per_shape():
    w = _w(23, 4, seed=3)
    prune = pg.magnitude_prune(w, 6)
    fold = pg.fold_projector(np.arange(23) % 6, 6)
    calls = (lambda: pg.prune_error(w, prune), lambda: pg.fold_error(w, fold),
             lambda: pg.projection_error(w, fold), lambda: prune.apply(w),
             lambda: fold.apply(w), lambda: fold.matrix())
    for call in calls:
        with count_compilations() as compiled:
            call()
        assert compiled() <= 1, compiled()  # run op by op, each compiled 3 to 7 programs
        with count_compilations() as compiled:
            call()
        assert compiled() == 0, compiled()
