"""Hypothesis strategies for weight matrices, ranks, keep-sets and partitions.

Shapes are drawn from small buckets (every new shape recompiles the jitted kernels);
data from every family of :mod:`projgeo.families`, as raw bounded floats without
subnormals, or as raw floats shifted by up to 1e8, optionally rescaled over 12 decades.
"""

from __future__ import annotations

import jax
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from projgeo import families

ROWS = (1, 2, 3, 5, 8, 12)
COLS = (1, 2, 3, 5)
SCALES = (1e-6, 1e-3, 1.0, 1e3, 1e6)
SHIFTS = (1e2, 1e4, 1e6, 1e8)
FAMILY_NAMES = tuple(families.FAMILIES)


@st.composite
def shapes(draw, *, rows=ROWS, cols=COLS, min_rows: int = 1):
    """An (n, d) shape from the buckets, with ``n ≥ min_rows``."""
    n = draw(st.sampled_from([r for r in rows if r >= min_rows]))
    return n, draw(st.sampled_from(cols))


@st.composite
def family_matrices(draw, *, shape=None, family=None, dtype=np.float64, min_rows: int = 1,
                    rows=ROWS, cols=COLS):
    """A matrix of a named family (drawn if not given) from a drawn integer seed."""
    n, d = draw(shapes(rows=rows, cols=cols, min_rows=min_rows)) if shape is None else shape
    family = draw(st.sampled_from(FAMILY_NAMES)) if family is None else family
    seed = draw(st.integers(0, 2**31 - 1))
    w = families.sample(family, jax.random.key(seed), n, d, dtype)
    return np.asarray(w)


@st.composite
def raw_matrices(draw, *, shape=None, dtype=np.float64, min_rows: int = 1, rows=ROWS,
                 cols=COLS):
    """Arbitrary finite entries in [−1, 1] (no subnormals), with duplicate rows allowed."""
    n, d = draw(shapes(rows=rows, cols=cols, min_rows=min_rows)) if shape is None else shape
    elements = st.floats(-1.0, 1.0, allow_subnormal=False, width=np.dtype(dtype).itemsize * 8)
    w = draw(hnp.arrays(dtype, (n, d), elements=elements))
    if n > 1 and draw(st.booleans()):  # duplicate some rows
        src = draw(st.lists(st.integers(0, n - 1), min_size=n, max_size=n))
        w = w[np.asarray(src)]
    return w


@st.composite
def shifted_matrices(draw, *, shape=None, dtype=np.float64, min_rows: int = 1, rows=ROWS,
                     cols=COLS):
    """Raw entries in [−1, 1] plus one offset ``c·1``, ``c`` in SHIFTS (up to 1e8): rows far
    from the origin relative to their spread (the acceptance guards of k-means matter)."""
    w = draw(raw_matrices(shape=shape, dtype=dtype, min_rows=min_rows, rows=rows, cols=cols))
    sign = draw(st.sampled_from((1.0, -1.0)))
    return (w + sign * draw(st.sampled_from(SHIFTS))).astype(dtype)


@st.composite
def weights(draw, *, shape=None, dtype=np.float64, min_rows: int = 1, scaled: bool = True,
            rows=ROWS, cols=COLS):
    """A weight matrix from any family, raw or shifted raw entries, optionally rescaled by
    10^±6."""
    opts = dict(shape=shape, dtype=dtype, min_rows=min_rows, rows=rows, cols=cols)
    kind = st.one_of(family_matrices(**opts), raw_matrices(**opts), shifted_matrices(**opts))
    w = draw(kind)
    if scaled:
        w = (w * draw(st.sampled_from(SCALES))).astype(dtype)
    return w


@st.composite
def weight_batches(draw, *, sizes=(1, 4), rows=(3, 8, 12), cols=(2, 5), dtype=np.float64):
    """A (b, n, d) batch of :func:`weights` of one drawn shape (n ≥ 2), each drawn apart: any
    family, raw or shifted rows, its own scale."""
    b = draw(st.sampled_from(sizes))
    n, d = draw(shapes(rows=rows, cols=cols, min_rows=2))
    return np.stack([draw(weights(shape=(n, d), dtype=dtype)) for _ in range(b)])


@st.composite
def ranks(draw, n: int, *, max_rank: int | None = None):
    """A rank k with 1 ≤ k ≤ min(n, max_rank)."""
    return draw(st.integers(1, n if max_rank is None else min(n, max_rank)))


@st.composite
def keep_sets(draw, n: int, k: int):
    """k distinct row indices in [0, n), sorted, int32."""
    perm = draw(st.permutations(range(n)))
    return np.sort(np.asarray(perm[:k], np.int32))


@st.composite
def partitions(draw, n: int, k: int):
    """Labels in [0, k) of length n in which every cluster is non-empty, int32."""
    perm = draw(st.permutations(range(n)))
    extra = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    labels = np.asarray(extra, np.int32)
    labels[np.asarray(perm[:k], int)] = np.arange(k, dtype=np.int32)
    return labels


@st.composite
def problems(draw, *, dtype=np.float64, min_rows: int = 1, proper: bool = False):
    """``(w, k)`` with ``1 ≤ k ≤ n`` (``k < n`` when ``proper``)."""
    w = draw(weights(dtype=dtype, min_rows=max(min_rows, 2 if proper else 1)))
    n = w.shape[0]
    return w, draw(ranks(n, max_rank=n - 1 if proper else None))


@st.composite
def hard_weights(draw, *, rows=ROWS, cols=COLS, min_rows: int = 1):
    """:func:`weights` made adversarial: some rows zeroed, some duplicated, each row rescaled.

    Each transformation is drawn on or off; per-row scales are 10^u, u ∈ {−6, −3, 0, 3, 6},
    so the rows of one matrix can span 12 decades on top of :func:`weights`' own scaling.
    """
    w = draw(weights(rows=rows, cols=cols, min_rows=min_rows))
    n = w.shape[0]
    if draw(st.booleans()):
        zero = np.asarray(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
        w = np.where(zero[:, None], 0.0, w).astype(w.dtype)
    if n > 1 and draw(st.booleans()):
        src = draw(st.lists(st.integers(0, n - 1), min_size=n, max_size=n))
        w = w[np.asarray(src)]
    if draw(st.booleans()):
        u = draw(st.lists(st.sampled_from((-6, -3, 0, 3, 6)), min_size=n, max_size=n))
        w = (w * 10.0 ** np.asarray(u, float)[:, None]).astype(w.dtype)
    return w


# ---------------------------------------------------------------------------
# Networks (C6, C7): shapes from small buckets, weights from a family and a drawn seed.

MLP_SIZES = ((3, 4, 2), (4, 6, 5, 3))
CNN_SHAPES = (((1, 3, 3), (3,), 2), ((2, 4, 3), (3, 2), 2))
GATED_SHAPES = ((3, 4, 2), (4, 6, 3))
NETWORK_SCALES = (0.1, 1.0, 10.0)


def _scaled(net, scale: float):
    return jax.tree.map(lambda a: a * scale, net)


@st.composite
def mlps(draw, *, sizes=None, bias=None, family=None):
    """An MLP (tuple of Dense) with sizes from :data:`MLP_SIZES`, biases drawn on or off."""
    from projgeo import networks

    sizes = draw(st.sampled_from(MLP_SIZES)) if sizes is None else sizes
    bias = draw(st.booleans()) if bias is None else bias
    family = draw(st.sampled_from(FAMILY_NAMES)) if family is None else family
    key = jax.random.key(draw(st.integers(0, 2**31 - 1)))
    net = networks.init_mlp(key, sizes, bias=bias, family=family, bias_scale=0.5)
    return _scaled(net, draw(st.sampled_from(NETWORK_SCALES)))


@st.composite
def cnns(draw, *, shape=None, bias=None, family=None):
    """A CNN ``(in_shape, channels, n_out)`` from :data:`CNN_SHAPES`, 3×3 kernels."""
    from projgeo import networks

    in_shape, channels, n_out = draw(st.sampled_from(CNN_SHAPES)) if shape is None else shape
    bias = draw(st.booleans()) if bias is None else bias
    family = draw(st.sampled_from(FAMILY_NAMES)) if family is None else family
    key = jax.random.key(draw(st.integers(0, 2**31 - 1)))
    return networks.init_cnn(key, in_shape, channels, n_out, bias=bias, family=family,
                             bias_scale=0.5)


@st.composite
def gated_blocks(draw, *, shape=None, family=None):
    """A gated MLP block ``(d, h, d_out)`` from :data:`GATED_SHAPES`."""
    from projgeo import networks

    d, h, d_out = draw(st.sampled_from(GATED_SHAPES)) if shape is None else shape
    family = draw(st.sampled_from(FAMILY_NAMES)) if family is None else family
    key = jax.random.key(draw(st.integers(0, 2**31 - 1)))
    return _scaled(networks.init_gated(key, d, h, d_out, family=family),
                   draw(st.sampled_from(NETWORK_SCALES)))


def any_networks(*, kinds=("mlp", "cnn", "gated")):
    """A network of one of ``kinds``."""
    makers = {"mlp": mlps, "cnn": cnns, "gated": gated_blocks}
    return st.one_of([makers[k]() for k in kinds])


def activation_names(*, zero_at_zero=None):
    """A name from :data:`projgeo.activations.NAMES` (only σ(0) = 0 ones, or only ≠ 0 ones)."""
    from projgeo import activations

    names = [n for n in activations.NAMES
             if zero_at_zero is None or activations.ACTIVATIONS[n].zero_at_zero == zero_at_zero]
    return st.sampled_from(names)


@st.composite
def network_inputs(draw, shape, *, count: int = 3):
    """``count`` inputs of ``shape``: 0 or 1e-3 ≤ |x| ≤ 10 (squares of tinier ones underflow)."""
    mag = st.floats(1e-3, 10.0, width=64)
    elements = st.one_of(st.just(0.0), mag, mag.map(lambda v: -v))
    return draw(hnp.arrays(np.float64, (count,) + tuple(shape), elements=elements))


@st.composite
def layer_projectors(draw, widths, *, how=None, every: bool = True):
    """One projector per compressible layer (``how``: "prune", "fold" or drawn per layer).

    With ``every=False`` a single drawn layer gets a projector, the others None.
    """
    from projgeo import FoldProjector, PruneProjector

    chosen = range(len(widths)) if every else [draw(st.integers(0, len(widths) - 1))]
    out = []
    for i, n in enumerate(widths):
        if i not in chosen:
            out.append(None)
            continue
        k = draw(ranks(n))
        kind = draw(st.sampled_from(("prune", "fold"))) if how is None else how
        out.append(PruneProjector(draw(keep_sets(n, k)), n) if kind == "prune"
                   else FoldProjector(draw(partitions(n, k)), k))
    return tuple(out)


def input_shape(net) -> tuple[int, ...]:
    """The shape of one input of ``net`` (an MLP, CNN or gated block)."""
    from projgeo import networks

    k = networks.kind(net)
    if k == "mlp":
        return (net[0].w.shape[1],)
    if k == "gated":
        return (net.w_gate.shape[1],)
    c_last = net.convs[-1].w.shape[0]
    pixels = net.head.w.shape[1] // c_last
    shape = next(s for s, ch, _ in CNN_SHAPES if s[0] == net.convs[0].w.shape[1]
                 and s[1] * s[2] == pixels)
    return tuple(shape)


@st.composite
def integer_pruning_cases(draw, *, max_rows: int = 7, max_cols: int = 4, entry: int = 5):
    """``(w, keep)``: an integer matrix and a keep-set with ``k < n``; in half the cases the
    pruned rows are made to sum to zero (C3's equality case)."""
    n = draw(st.integers(2, max_rows))
    d = draw(st.integers(1, max_cols))
    w = draw(hnp.arrays(np.int64, (n, d), elements=st.integers(-entry, entry)))
    keep = draw(keep_sets(n, draw(st.integers(1, n - 1))))
    if draw(st.booleans()):
        pruned = np.setdiff1d(np.arange(n), keep)
        w[pruned[-1]] -= w[pruned].sum(axis=0)
    return w, keep
