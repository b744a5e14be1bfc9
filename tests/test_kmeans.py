"""Folding by k-means: monotone warm starts, non-empty clusters, determinism (C2, C4)."""

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import projgeo as pg
from projgeo.kmeans import lloyd as kmeans
from tests import strategies as S
from tests.helpers import assert_close, assert_leq

# fold() compiles once per (n, d, k): keep the shapes of these properties few.
FOLD_SHAPES = ((5, 2), (8, 3), (12, 3))


@st.composite
def fold_problems(draw):
    shape = draw(st.sampled_from(FOLD_SHAPES))
    w = draw(S.weights(shape=shape))
    k = draw(st.sampled_from(sorted({1, shape[0] // 2, shape[0]})))
    return w, k


def _inertia(w, labels, k):
    return pg.fold_error(w, pg.FoldProjector(np.asarray(labels), k))


@settings(max_examples=15)
@given(fold_problems(), st.data())
def test_warm_start_never_increases_inertia(problem, data):
    w, k = problem
    start = data.draw(S.partitions(w.shape[0], k))
    before = _inertia(w, start, k)
    for refine in (0, 1000):  # Lloyd alone, then Lloyd + Hartigan
        res = pg.fold(w, k, init=start, refine_iter=refine)
        assert_leq(res.inertia, before, w=w)
        assert_close(res.inertia, _inertia(w, res.labels, k), w=w)


@settings(max_examples=15)
@given(fold_problems(), st.integers(0, 2**31 - 1))
def test_fold_returns_k_nonempty_clusters_and_their_means(problem, seed):
    w, k = problem
    res = pg.fold(w, k, key=jax.random.key(seed))
    labels = np.asarray(res.labels)
    assert set(labels.tolist()) == set(range(k))
    assert np.all(np.isfinite(res.centroids)) and np.isfinite(res.inertia)
    means = np.stack([w[labels == j].mean(axis=0) for j in range(k)])
    assert_close(res.centroids, means, w=w, scale=np.max(np.abs(w)))
    assert res.centroids.dtype == w.dtype


@given(fold_problems(), st.integers(0, 2**31 - 1))
def test_hartigan_result_has_no_improving_single_row_move(problem, seed):
    w, k = problem
    res = pg.fold(w, k, key=jax.random.key(seed))
    labels = np.asarray(res.labels)
    base = float(res.inertia)
    for i in range(w.shape[0]):
        if np.sum(labels == labels[i]) < 2:
            continue
        for b in range(k):
            if b != labels[i]:
                moved = labels.copy()
                moved[i] = b
                # The kernel only makes moves that gain more than rounding; allow that much.
                assert_leq(base, _inertia(w, moved, k), w=w)


@settings(max_examples=10)
@given(fold_problems(), st.integers(0, 2**31 - 1))
def test_fold_is_deterministic_under_a_fixed_key(problem, seed):
    w, k = problem
    a = pg.fold(w, k, key=jax.random.key(seed))
    b = pg.fold(w, k, key=jax.random.key(seed))
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.inertia, b.inertia)


def test_different_keys_give_different_kmeans_plus_plus_initialisations():
    # The default bisecting seeding uses the key only for its random sketch, which is the
    # identity for d ≤ 256; k-means++ samples its centres from the key.
    w = np.asarray(pg.families.sample("gaussian", jax.random.key(0), 12, 3))
    labels = {tuple(np.asarray(pg.fold(w, 6, key=jax.random.key(s), max_iter=1, refine_iter=0,
                                       split_merge_iter=0, seeding="kmeans++").labels))
              for s in range(5)}
    assert len(labels) > 1


@pytest.mark.parametrize("w", [np.zeros((5, 2)), np.ones((8, 3)),
                               np.repeat(np.array([[1.0, 2.0, 0.0], [3.0, -1.0, 0.0]]), 6, axis=0)])
def test_duplicates_and_zero_rows_give_nonempty_clusters_without_nan(w):
    for k in (1, w.shape[0] // 2, w.shape[0]):
        res = pg.fold(w, k, key=jax.random.key(1))
        assert set(np.asarray(res.labels).tolist()) == set(range(k))
        assert np.all(np.isfinite(res.centroids)) and float(res.inertia) >= 0.0


def test_fill_empty_never_increases_inertia():
    w = np.asarray(pg.families.sample("clustered", jax.random.key(3), 12, 3))
    labels = np.zeros(12, np.int32)  # clusters 1..5 empty
    filled = np.asarray(kmeans._fill_empty(w, labels, 6))
    assert set(filled.tolist()) == set(range(6))
    assert_leq(_inertia(w, filled, 6), _inertia(w, labels, 6), w=w)


def test_k_equals_n_folds_exactly_and_k_one_gives_total_variance():
    w = np.asarray(pg.families.sample("gaussian", jax.random.key(2), 8, 3))
    assert_close(pg.fold(w, 8, key=jax.random.key(0)).inertia, 0.0, w=w)
    assert_close(pg.fold(w, 8, init=np.zeros(8, np.int32)).inertia, 0.0, w=w)
    assert_close(pg.fold(w, 1, key=jax.random.key(0)).inertia,
                 np.sum((w - w.mean(axis=0)) ** 2), w=w)


def test_fold_matches_or_beats_scikit_learn_on_clustered_rows():
    sklearn = pytest.importorskip("sklearn.cluster")
    w = np.asarray(pg.families.sample("clustered", jax.random.key(4), 12, 3))
    ours = float(pg.fold(w, 6, key=jax.random.key(0)).inertia)
    theirs = sklearn.KMeans(6, n_init=1, random_state=0).fit(w).inertia_
    assert ours <= theirs * 1.05


def test_float32_path_keeps_dtype_and_its_own_tolerance():
    w = np.asarray(pg.families.sample("gaussian", jax.random.key(5), 12, 3), np.float32)
    start = np.arange(12, dtype=np.int32) % 6
    res = pg.fold(w, 6, init=start)
    assert res.centroids.dtype == np.float32 and res.inertia.dtype == np.float32
    # float32 tolerance: eps = 1.19e-7 in the same rule.
    assert_leq(res.inertia, _inertia(w, start, 6), w=w)


def _canonical(labels):
    """Labels renamed in order of first appearance: equal iff the partitions are equal."""
    labels = np.asarray(labels)
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(np.argsort(first))
    return order[np.searchsorted(np.unique(labels), labels)]


@pytest.mark.parametrize("dtype,scales", [(np.float32, (1e25, 1e-25, 2.0**-100)),
                                          (np.float64, (1e150, 1e-150, 1e-300))])
def test_fold_partition_is_scale_equivariant_and_its_error_scales_back(dtype, scales):
    # k-means runs on a centred copy scaled by a power of two, so the magnitude of w
    # changes neither the partition nor, up to the scale factor, the error.
    for seed in range(3):
        w = np.asarray(pg.families.sample("gaussian", jax.random.key(seed), 12, 3), dtype)
        ref = pg.fold(w, 6, key=jax.random.key(0))
        for s in scales:
            res = pg.fold(w * dtype(s), 6, key=jax.random.key(0))
            np.testing.assert_array_equal(_canonical(res.labels), _canonical(ref.labels))
            assert np.all(np.isfinite(np.asarray(res.centroids)))
            big = float(ref.inertia) * s * s  # the true error, as a Python float
            if float(np.finfo(dtype).tiny) < big < float(np.finfo(dtype).max):
                np.testing.assert_allclose(float(res.inertia), big, rtol=1e-4)


@pytest.mark.parametrize("offset", [1e4, 1e8])
def test_rows_far_from_the_origin_fold_as_well_as_centred_rows(offset):
    # Rows c + N(0, 1): the matrix-product distances of the raw rows would lose every digit
    # of the spread to cancellation; the solver sees the centred copy.
    for seed in range(3):
        z = np.asarray(pg.families.sample("clustered", jax.random.key(seed), 12, 3))
        near = pg.fold(z, 4, key=jax.random.key(0))
        far = pg.fold(z + offset, 4, key=jax.random.key(0))
        on_z = float(_inertia(z, np.asarray(far.labels), 4))
        assert on_z <= float(near.inertia) * (1 + 1e-6)
        np.testing.assert_allclose(float(far.inertia), on_z, rtol=1e-5)


def test_effort_presets_set_the_caps_and_explicit_caps_override_them():
    from projgeo.kmeans.lloyd import EFFORTS, effort_caps

    # The values fold's docstring documents.
    assert EFFORTS == {"fast": (10, 20, 0), "default": (300, 1000, 16),
                       "best": (1000, 10000, 64)}
    assert effort_caps("default") == (300, 1000, 16)
    assert effort_caps("fast", refine_iter=7) == (EFFORTS["fast"][0], 7, EFFORTS["fast"][2])
    w = np.asarray(pg.families.sample("clustered", jax.random.key(5), 40, 3))
    key = jax.random.key(0)
    fast = pg.fold(w, 6, key=key, effort="fast")
    same = pg.fold(w, 6, key=key, max_iter=10, refine_iter=20, split_merge_iter=0,
                   seeding="ward")
    assert np.array_equal(np.asarray(fast.labels), np.asarray(same.labels))
    dflt = pg.fold(w, 6, key=key)
    assert np.array_equal(np.asarray(pg.fold(w, 6, key=key, effort="default").labels),
                          np.asarray(dflt.labels))
    best = pg.fold(w, 6, key=key, effort="best")  # larger caps: not always lower, but valid
    assert np.unique(np.asarray(best.labels)).size == 6
    with pytest.raises(ValueError, match="effort must be one of"):
        pg.fold(w, 6, key=key, effort="max")


def test_ward_seeding_recovers_well_separated_groups_with_exactly_k_clusters():
    from projgeo.kmeans.seeding import agglomerate

    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(7), [1, 2, 3, 4, 5, 6, 9])
    centres = 100.0 * rng.standard_normal((7, 4))
    w = centres[groups] + 0.01 * rng.standard_normal((groups.size, 4))
    labels = np.asarray(agglomerate(jax.numpy.asarray(w), 7))
    assert np.unique(labels).size == 7
    # The same partition up to the names of the clusters.
    pairs = set(zip(groups.tolist(), labels.tolist(), strict=True))
    assert len(pairs) == 7
    for k in (1, 3, groups.size):
        assert np.unique(np.asarray(agglomerate(jax.numpy.asarray(w), k))).size == k


def test_every_effort_seeds_by_ward_merges_where_n_over_k_is_small():
    from projgeo.kmeans.lloyd import EFFORTS, capacity, effort_seeding, seeding_for

    # The rule reads (n, capacity): n ≤ 4·K and n ≤ 8192 merge bottom-up, else bisect.
    for effort in EFFORTS:
        assert effort_seeding(effort, 40, 6) == "ward"  # K = 16, 40 ≤ 64
        assert effort_seeding(effort, 65, 6) == "bisect"  # 65 > 64
        assert effort_seeding(effort, 1000, 10) == "bisect"
        assert effort_seeding(effort, 2048, 1024) == "ward"
        assert effort_seeding(effort, 9000, 8000) == "bisect"  # no n×n matrix above 8192
    # One seeding per capacity bucket: every k of a bucket runs the same program.
    for n in (40, 100, 300, 5000):
        for k in range(1, n + 1, max(1, n // 97)):
            assert effort_seeding("default", n, k) == seeding_for(n, capacity(n, k))
    with pytest.raises(ValueError, match="effort must be one of"):
        effort_seeding("quick", 40, 6)
    w = np.asarray(pg.families.sample("gaussian", jax.random.key(2), 40, 3))
    key = jax.random.key(0)
    for effort, (mi, ri, si) in EFFORTS.items():
        dflt = pg.fold(w, 12, key=key, effort=effort)
        ward = pg.fold(w, 12, key=key, seeding="ward", max_iter=mi, refine_iter=ri,
                       split_merge_iter=si)
        assert np.array_equal(np.asarray(dflt.labels), np.asarray(ward.labels))
        assert np.unique(np.asarray(dflt.labels)).size == 12
    # The certified fold's default route and fold_at_capacity follow the same rule.
    from projgeo.kmeans.lloyd import fold_at_capacity, seed
    from projgeo.kmeans.seeding import agglomerate

    wj = jax.numpy.asarray(w)
    assert np.array_equal(np.asarray(seed(wj, 12, 16, key)), np.asarray(agglomerate(wj, 12)))
    at_cap = fold_at_capacity(wj, np.int32(12), key, cap=16)
    assert np.array_equal(np.asarray(at_cap.labels), np.asarray(pg.fold(w, 12, key=key).labels))
    with pytest.raises(ValueError, match="seeding='ward' holds an n×n matrix"):
        pg.fold(np.zeros((8193, 1)), 4, key=key, seeding="ward")


def test_ward_merge_distances_equal_the_distances_of_the_merged_means():
    from projgeo.kmeans.seeding import merged_distances

    rng = np.random.default_rng(4)
    w = rng.standard_normal((9, 3))
    labels = np.array([0, 0, 1, 2, 2, 2, 3, 4, 5])  # six clusters of sizes 2, 1, 3, 1, 1, 1
    sizes = np.bincount(labels).astype(float)
    mu = np.stack([w[labels == j].mean(axis=0) for j in range(6)])
    d2 = np.sum((mu[:, None] - mu[None]) ** 2, axis=2)
    chosen = np.array([True, False, True, False, False, False])
    partner = np.array([1, 0, 4, 3, 2, 5])  # 1 joins 0, 4 joins 2
    new, new_sizes, gone = merged_distances(jax.numpy.asarray(d2), jax.numpy.asarray(sizes),
                                            jax.numpy.asarray(chosen),
                                            jax.numpy.asarray(partner, np.int32))
    merged = np.array([0, 0, 2, 3, 2, 5])[labels]
    live = [0, 2, 3, 5]
    mu2 = np.stack([w[merged == j].mean(axis=0) for j in live])
    want = np.sum((mu2[:, None] - mu2[None]) ** 2, axis=2)
    assert_close(np.asarray(new)[np.ix_(live, live)], want, w=w)
    assert np.asarray(gone).tolist() == [False, True, False, False, True, False]
    assert np.asarray(new_sizes)[live].tolist() == [3.0, 4.0, 1.0, 1.0]
