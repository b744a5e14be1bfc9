"""Physical compression of a network, and the projected full network it equals (C6).

Compressing layer ``l`` to ``k`` channels with a projector ``P`` (one row per channel):

* folding (``P_π = C M``, ``C ∈ {0,1}^{n×k}`` the assignment, ``M = (CᵀC)⁻¹Cᵀ``):
  ``W_l' = M W_l``, ``b_l' = M b_l`` (average the rows of each cluster) and
  ``W_{l+1}' = W_{l+1} C`` (sum the next layer's columns over each cluster);
* pruning (``P_S = S_sel S_selᵀ``): ``W_l' = S_selᵀ W_l``, ``b_l' = S_selᵀ b_l`` and
  ``W_{l+1}' = W_{l+1} S_sel`` (keep rows and columns of ``S``).

The *projected full network* keeps every size and sets ``W_l ← P W_l``, ``b_l ← P b_l``.
Its layer ``l`` outputs ``σ(C z')`` with ``z' = W_l' x + b_l'`` the small layer's
pre-activation. ``C`` has exactly one 1 in every row, so ``σ(C z') = C σ(z')`` for every
elementwise ``σ``, and the next layer sees ``W_{l+1} C σ(z') = W_{l+1}' σ(z')``: the small
network computes exactly the projected full network. For pruning, ``S_sel`` has zero rows,
so ``σ(S_sel z') = S_sel σ(z')`` iff ``σ(0) = 0``. Otherwise the projected network feeds the
constant ``σ(0)`` from every pruned channel, which the small MLP reproduces by absorbing
``σ(0)·W_{l+1}(1 − 1_S)`` into ``b_{l+1}`` (``pruned_value=σ(0)``).

Conv layers compress output channels the same way (rows of the ``(c_out, c_in·kh·kw)``
matrix; the next layer's input channels, or the head's channel blocks, are summed or
selected). In the gated block, gate and up rows share one projector; then
``σ(C g) ⊙ (C u) = C (σ(g) ⊙ u)`` for *every* ``σ``, pruning included, since a pruned
channel's up row is zero too.

Reference: arXiv 2602.18116; THEORY.md C6.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import overload

import jax.numpy as jnp
from jaxtyping import Array, DTypeLike, Float

from projgeo.networks import CNN, MLP, Conv, Dense, Gated, Network, check, hidden_widths
from projgeo.projectors import FoldProjector, PruneProjector

Projector = PruneProjector | FoldProjector


def unmerge_matrix(p: Projector, dtype: DTypeLike = float) -> Float[Array, "n k"]:
    """The ``n×k`` map back to full size: ``C`` (folding) or ``S_sel`` (pruning).

    ``P = unmerge_matrix(p) @ (row compression)``; the next layer's columns are multiplied
    by it.
    """
    if isinstance(p, FoldProjector):
        return p.assignment(dtype)
    if isinstance(p, PruneProjector):
        return p.selection(dtype)
    raise TypeError(f"expected a PruneProjector or FoldProjector; got {type(p).__name__}.")


def _in_channels(w, p: Projector, *, blocks: int = 1):
    """``W C`` over the input-channel axis 1 of ``w`` (blocks: pixels per channel, flattened)."""
    c = unmerge_matrix(p, w.dtype)
    if blocks > 1:  # a head on a channel-major flattening: (out, c·pixels)
        out = w.reshape(w.shape[0], p.n, blocks)
        return jnp.einsum("ocs,ck->oks", out, c).reshape(w.shape[0], -1)
    return jnp.moveaxis(jnp.tensordot(w, c, axes=([1], [0])), -1, 1)


@overload
def _rows(a: None, p: Projector, project: bool) -> None: ...


@overload
def _rows(a: Array, p: Projector, project: bool) -> Array: ...


def _rows(a: Array | None, p: Projector, project: bool) -> Array | None:
    """``P a`` (``project``) or the compressed rows of ``a``; None stays None (no bias)."""
    if a is None:
        return None
    return p.apply(a) if project else p.compress(a)


Projectors = Projector | Sequence[Projector | None] | Mapping[int, Projector | None]


def normalize(params: Network, projectors: Projectors) -> tuple[Projector | None, ...]:
    """One projector (or None) per compressible layer, from a sequence or ``{layer: p}``.

    Raises:
      TypeError: if an entry is not a projector or None.
      ValueError: on a wrong number of layers, a layer index out of range, or a projector
        whose ``n`` differs from the layer's width.
    """
    widths = hidden_widths(params)
    if isinstance(projectors, PruneProjector | FoldProjector):
        projectors = (projectors,)
    if isinstance(projectors, Mapping):
        bad = [i for i in projectors if not (isinstance(i, int) and 0 <= i < len(widths))]
        if bad:
            raise ValueError(
                f"projectors maps compressible layer indices in [0, {len(widths)}) to "
                f"projectors; got keys {bad}."
            )
        projectors = tuple(projectors.get(i) for i in range(len(widths)))
    projectors = tuple(projectors)
    if len(projectors) != len(widths):
        raise ValueError(
            f"expected one projector (or None) per compressible layer, {len(widths)} in all "
            f"(widths {widths}); got {len(projectors)}."
        )
    for i, (p, n) in enumerate(zip(projectors, widths, strict=True)):
        if p is None:
            continue
        if not isinstance(p, PruneProjector | FoldProjector):
            raise TypeError(f"projectors[{i}] must be a PruneProjector, FoldProjector or None; "
                            f"got {type(p).__name__}.")
        if p.n != n:
            raise ValueError(f"projectors[{i}] acts on n = {p.n} rows; layer {i} has {n}.")
    return projectors


def _mlp(params: MLP, projectors: tuple[Projector | None, ...], project: bool,
         pruned_value: float | Array | None) -> MLP:
    layers = list(params)
    for i, p in enumerate(projectors):
        if p is None:
            continue
        layers[i] = Dense(_rows(layers[i].w, p, project), _rows(layers[i].b, p, project))
        if project:
            continue
        nxt = layers[i + 1]
        b = nxt.b
        if isinstance(p, PruneProjector) and pruned_value is not None:
            dropped = (~p.mask()).astype(nxt.w.dtype)
            b = (0.0 if b is None else b) + pruned_value * (nxt.w @ dropped)
        layers[i + 1] = Dense(_in_channels(nxt.w, p), b)
    return tuple(layers)


def _cnn(params: CNN, projectors: tuple[Projector | None, ...], project: bool) -> CNN:
    convs, head = list(params.convs), params.head
    pixels = head.w.shape[1] // convs[-1].w.shape[0]
    for i, p in enumerate(projectors):
        if p is None:
            continue
        convs[i] = Conv(_rows(convs[i].w, p, project), _rows(convs[i].b, p, project))
        if project:
            continue
        if i + 1 < len(convs):
            convs[i + 1] = Conv(_in_channels(convs[i + 1].w, p), convs[i + 1].b)
        else:
            head = Dense(_in_channels(head.w, p, blocks=pixels), head.b)
    return CNN(tuple(convs), head)


def _gated(params: Gated, p: Projector | None, project: bool) -> Gated:
    if p is None:
        return params
    down = params.w_down if project else _in_channels(params.w_down, p)
    return Gated(_rows(params.w_gate, p, project), _rows(params.w_up, p, project), down)


def compress(params: Network, projectors: Projectors, *,
             pruned_value: float | Array | None = None) -> Network:
    """The physically smaller network (C6): fewer channels in every compressed layer.

    Args:
      params: an MLP, CNN or gated block (:mod:`projgeo.networks`).
      projectors: one projector or None per compressible layer (MLP hidden layers, conv
        layers, the gated block's hidden layer), as a sequence or a ``{layer: projector}``
        mapping; a single projector for a gated block.
      pruned_value: MLP only: ``σ(0)``, the constant a pruned channel emits in the projected
        full network; ``pruned_value·W_{l+1}(1 − 1_S)`` is absorbed into ``b_{l+1}`` so
        that pruning equals projection for ``σ(0) ≠ 0`` too. A scalar (may be traced), or
        None (default) for plain pruning.

    Returns:
      Parameters of the same kind with ``k`` channels in each compressed layer.

    Raises:
      TypeError, ValueError: on a bad network or projectors (see :func:`normalize`), or a
        ``pruned_value`` for a CNN or gated block.
    """
    net = check(params)
    ps = normalize(net, projectors)
    if isinstance(net, CNN | Gated):
        if pruned_value is not None:
            what = "cnn" if isinstance(net, CNN) else "gated"
            raise ValueError(f"pruned_value is supported for MLPs only; got a {what} network.")
        return _cnn(net, ps, False) if isinstance(net, CNN) else _gated(net, ps[0], False)
    return _mlp(net, ps, False, pruned_value)


def project(params: Network, projectors: Projectors) -> Network:
    """The projected full network: ``W_l ← P W_l``, ``b_l ← P b_l`` for every compressed layer.

    Same sizes as ``params``; equals :func:`compress` functionally for folding with any
    ``σ`` and for pruning with ``σ(0) = 0`` (C6). Arguments as in :func:`compress`.
    """
    net = check(params)
    ps = normalize(net, projectors)
    if isinstance(net, CNN):
        return _cnn(net, ps, True)
    if isinstance(net, Gated):
        return _gated(net, ps[0], True)
    return _mlp(net, ps, True, None)


def layer_rows(params: Network, layer: int) -> Float[Array, "n d"]:
    """The rows compressed at layer ``l``: ``[W_l b_l]`` (conv filters flattened, bias last).

    For a gated block, ``[W_gate W_up]`` (the rows that share one partition). These are the
    rows to prune or fold when bias and weights are compressed together.
    """
    net = check(params)
    if not 0 <= layer < len(hidden_widths(net)):
        raise ValueError(f"layer must be in [0, {len(hidden_widths(net))}); got {layer}.")
    if isinstance(net, Gated):
        return jnp.concatenate([net.w_gate, net.w_up], axis=1)
    lay: Dense | Conv = net.convs[layer] if isinstance(net, CNN) else net[layer]
    w = lay.w.reshape(lay.w.shape[0], -1)
    return w if lay.b is None else jnp.concatenate([w, lay.b[:, None]], axis=1)
