"""Lipschitz bounds on the functional perturbation of compression (C7).

Notation: ``σ`` is ``L_σ``-Lipschitz, ``ΔW = (I − P) W``. Norms of the full layers ``W_j``
are spectral (certified upper bounds from :mod:`projgeo.spectral`); norms of the
perturbations ``ΔW`` are spectral (``norm="spectral"``, THEORY's form) or Frobenius
(``norm="frobenius"``, valid since ``||·||_2 ≤ ||·||_F``, and the form in which C4 carries over:
for one layer, ``||ΔW||_F² = E(P)``, so folding at ``k+1`` certified by C4 is never above
magnitude pruning at ``k``). An MLP has ``L`` layers
``0, …, L−1``, ``σ`` after all but the last. The bounds of THEORY.md:

* (a) layer: ``||σ(Wx) − σ(PWx)|| ≤ L_σ ||ΔW|| ||x||``;
* (b) one layer ``l`` compressed:
  ``||f(x) − f̂(x)|| ≤ L_σ^{L−1} Π_{j≠l} ||W_j|| · ||ΔW_l|| · ||x||``;
* (c) every layer compressed: ``≤ L_σ^{L−1} ||x|| Σ_l ||ΔW_l|| Π_{j≠l} ||W_j||``, which is
  THEORY's ``Π_j ||W_j|| · Σ_l ||ΔW_l|| / ||W_l||`` without dividing by a zero norm;
* (d) isotropic input, linear layer: ``E||ΔW x||² = ||ΔW||_F²``; with ``σ``: ``≤ L_σ² ||ΔW||_F²``;
* (e) softmax cross-entropy is ``√2``-Lipschitz in the logits.

**How (b) and (c) are computed.** Let ``a_j`` bound the norm of layer ``j``'s input:
``a_0 = ||x||`` and ``a_{j+1} = L_σ ||W_j|| a_j + o_j`` with the offset
``o_j = ||σ(0)·1_{n_j}|| = |σ(0)|·√n_j`` (``||σ(z)|| ≤ ||σ(0)1|| + L_σ ||z||``; ``o_j = 0`` when
``σ(0) = 0``). Changing layer ``l`` alone moves its output by at most ``||ΔW_l|| a_l``, and the
layers after it amplify that by ``T_l = Π_{j>l} L_σ ||W_j||`` (one ``σ`` per later layer). So

    (b)  B_l = ||ΔW_l|| · a_l · T_l,        (c)  Σ_l ||ΔW_l|| · a_l · T_l.

(c) telescopes over the networks with layers ``< l`` compressed: the input of layer ``l``
there is bounded by the same ``a_l``, since ``||P W_j|| ≤ ||W_j||`` (projections are
non-expansive, C1). With ``σ(0) = 0``, ``a_l = L_σ^l Π_{j<l} ||W_j|| ||x||`` and both formulas
are exactly THEORY's (b) and (c) (``L_σ^l · L_σ^{L−1−l} = L_σ^{L−1}``).

**Biases** (THEORY.md): append 1 to every layer's input and ``b_l`` as an extra column,
with a bottom row ``[0 … 0 1]``: ``W̃_l = [[W_l, b_l], [0, 1]]``, ``P̃ = diag(P, 1)`` (still a
projector), ``||ΔW̃_l|| = ||(I − P)[W_l b_l]||``, input norm ``√(||x||² + 1)``, and
``max(L_σ, 1)`` for ``L_σ`` because the constant coordinate passes through ``σ`` unchanged.

The gated block ``W_down (σ(W_gate x) ⊙ W_up x)`` is not in THEORY.md; :func:`gated_bound`
extends (a) to it (proof in its docstring). Reference: THEORY.md C7; arXiv 2602.18116.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, Scalar, ScalarLike

from projgeo import _checks, _scale
from projgeo.activations import ACTIVATIONS, Activation, get
from projgeo.compress_network import Projector, Projectors, normalize
from projgeo.networks import MLP, Gated, kind
from projgeo.spectral import spectral_norm

NORMS = ("spectral", "frobenius")
#: Lipschitz constant of softmax cross-entropy in the logits: ``||softmax(z) − e_y|| ≤ √2``.
CE_LIPSCHITZ = math.sqrt(2.0)


def _nonneg(**values) -> None:
    """Norms, Lipschitz constants and gaps must be finite and ≥ 0 (a negative one would make
    a negative "bound"); checked when concrete, passed through under jit."""
    for name, v in values.items():
        for i, x in enumerate(v) if isinstance(v, list) else ((None, v),):
            _checks.check_nonnegative(x, name if i is None else f"{name}[{i}]")


def _sigma(lipschitz, at_zero) -> tuple[ScalarLike, ScalarLike]:
    """``(L_σ, σ(0))`` from an :class:`Activation` (or its registry name) or two numbers."""
    if isinstance(lipschitz, str) and lipschitz not in ACTIVATIONS:
        raise ValueError(f"lipschitz must be L_σ (a number), an Activation or one of "
                         f"{tuple(ACTIVATIONS)}; got {lipschitz!r}.")
    if isinstance(lipschitz, (Activation, str)):
        act = get(lipschitz)
        if not (isinstance(at_zero, (int, float)) and at_zero == 0.0):
            raise ValueError(f"at_zero must be left out when an activation is given (it is "
                             f"{act.name}'s σ(0) = {act.at_zero}); got {at_zero!r}.")
        return act.lipschitz, act.at_zero
    _nonneg(lipschitz=lipschitz)
    _checks.check_finite_scalar(at_zero, "at_zero")
    return lipschitz, at_zero


def _check_norm(norm: str) -> str:
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}; got {norm!r}.")
    return norm


def matrix_norm(a: Float[Array, "n d"], norm: str = "spectral") -> Scalar:
    """Certified upper bound on ``||a||_2`` (``"spectral"``) or ``||a||_F`` (``"frobenius"``)."""
    if _check_norm(norm) == "spectral":
        return spectral_norm(a).upper
    a, e = _scale.scaled(_checks.check_weights(a, "a"))
    return _scale.unscale(jnp.linalg.norm(a), e)


# ---------------------------------------------------------------------------
# The formulas, on norms (scalars or traced arrays).


def layer_bound(delta_norm: ScalarLike, x_norm: ScalarLike,
                lipschitz: ScalarLike) -> ScalarLike:
    """(a) ``L_σ ||ΔW|| ||x||`` bounds ``||σ(Wx) − σ(PWx)||``."""
    _nonneg(delta_norm=delta_norm, x_norm=x_norm, lipschitz=lipschitz)
    return lipschitz * delta_norm * x_norm


def input_bounds(norms: Sequence[ScalarLike], x_norm: ScalarLike, lipschitz: ScalarLike,
                 offsets: Sequence[ScalarLike] | None = None) -> list[ScalarLike]:
    """``[a_0, …, a_L]``: ``a_0 = ||x||``, ``a_{j+1} = L_σ ||W_j|| a_j + o_j`` (``o_{L−1} = 0``).

    ``a_L`` bounds the output norm, ``||f(x)|| ≤ a_L``, when the last layer has no offset.
    """
    _nonneg(x_norm=x_norm, lipschitz=lipschitz, norms=list(norms),
            offsets=[] if offsets is None else list(offsets))
    a = [x_norm]
    for j, n in enumerate(norms):
        last = j == len(norms) - 1
        off = 0.0 if offsets is None or last else offsets[j]
        a.append((1.0 if last else lipschitz) * n * a[-1] + off)
    return a


def _tails(norms: Sequence[ScalarLike], lipschitz: ScalarLike) -> list[ScalarLike]:
    """``T_l = Π_{j>l} L_σ ||W_j||`` for every layer ``l``."""
    t: list[ScalarLike] = [1.0]
    for n in reversed(list(norms)[1:]):
        t.append(t[-1] * lipschitz * n)
    return t[::-1]


def one_layer_bound(norms: Sequence[ScalarLike], delta_norm: ScalarLike, layer: int,
                    x_norm: ScalarLike, lipschitz: ScalarLike,
                    offsets: Sequence[ScalarLike] | None = None) -> ScalarLike:
    """(b) ``||ΔW_l|| a_l T_l``; with zero offsets ``L_σ^{L−1} Π_{j≠l}||W_j|| ||ΔW_l|| ||x||``.

    Args:
      norms: ``||W_j||`` of the ``L`` full layers.
      delta_norm: ``||ΔW_l||``.
      layer: the compressed layer ``l``, ``0 ≤ l < L``.
      x_norm: ``||x||`` (``√(||x||² + 1)`` with biases).
      lipschitz: ``L_σ`` (``max(L_σ, 1)`` with biases).
      offsets: ``|σ(0)|·√n_j`` per layer, or None when ``σ(0) = 0``.
    """
    if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer < len(norms):
        raise ValueError(f"layer must be a layer index in [0, {len(norms)}); got {layer!r}.")
    _nonneg(delta_norm=delta_norm)
    return delta_norm * input_bounds(norms, x_norm, lipschitz, offsets)[layer] * _tails(
        norms, lipschitz)[layer]


def all_layers_bound(norms: Sequence[ScalarLike], delta_norms: Sequence[ScalarLike],
                     x_norm: ScalarLike, lipschitz: ScalarLike,
                     offsets: Sequence[ScalarLike] | None = None) -> ScalarLike:
    """(c) ``Σ_l ||ΔW_l|| a_l T_l``.

    With zero offsets it equals ``L_σ^{L−1} ||x|| Σ_l ||ΔW_l|| Π_{j≠l} ||W_j||``.
    """
    if len(delta_norms) != len(norms):
        raise ValueError(f"expected {len(norms)} delta norms (one per layer); "
                         f"got {len(delta_norms)}.")
    _nonneg(delta_norms=list(delta_norms))
    a, t = input_bounds(norms, x_norm, lipschitz, offsets), _tails(norms, lipschitz)
    return sum(_layer_terms(delta_norms, a, t))


def _layer_terms(delta_norms, a, t) -> list:
    """``||ΔW_l|| a_l T_l`` for every layer (unvalidated): (b) per layer, and (c) their sum."""
    return [d * a[j] * t[j] for j, d in enumerate(delta_norms)]


def isotropic_bound(delta_fro: ScalarLike, lipschitz: ScalarLike) -> ScalarLike:
    """(d) ``L_σ² ||ΔW||_F²`` bounds ``E||σ(Wx) − σ(PWx)||²`` when ``E[xxᵀ] = I``.

    With ``σ`` the identity (``L_σ = 1``) it is the exact value ``E||ΔW x||² = ||ΔW||_F²``:
    ``E||ΔW x||² = tr(ΔW E[xxᵀ] ΔWᵀ) = tr(ΔW ΔWᵀ)``.
    """
    _nonneg(delta_fro=delta_fro, lipschitz=lipschitz)
    return lipschitz**2 * delta_fro**2


def cross_entropy(logits: Float[Array, " c"], label: Int[Array, ""]) -> Scalar:
    """Softmax cross-entropy ``logsumexp(z) − z_y`` of one example."""
    return jax.nn.logsumexp(logits) - logits[label]


def ce_bound(logit_gap: ScalarLike) -> ScalarLike:
    """(e) ``√2 ||f(x) − f̂(x)||`` bounds ``|CE(f(x)) − CE(f̂(x))|``.

    ``∇_z CE = softmax(z) − e_y`` and ``||p − e_y||² = ||p||² − 2p_y + 1 ≤ 2``.
    """
    _nonneg(logit_gap=logit_gap)
    return CE_LIPSCHITZ * logit_gap


# ---------------------------------------------------------------------------
# Networks: norms of the (augmented) layers and the bounds (b), (c).


class NetworkBound(NamedTuple):
    """Bounds on ``||f(x) − f̂(x)||`` for an MLP and one input norm.

    Attributes:
      one_layer: (h,) bound (b) for each hidden layer compressed alone (0 if it has no
        projector).
      all_layers: bound (c), every given projector applied.
      output: ``a_L``, the bound on ``||f(x)||`` (the scale of the network's values).
    """

    one_layer: Float[Array, " h"]
    all_layers: Scalar
    output: Scalar


def _augmented(w, b):
    """``[[W, b], [0, 1]]`` (THEORY.md, C7 biases)."""
    b = jnp.zeros(w.shape[0], w.dtype) if b is None else b
    top = jnp.concatenate([w, b[:, None]], axis=1)
    bottom = jnp.zeros((1, w.shape[1] + 1), w.dtype).at[0, -1].set(1.0)
    return jnp.concatenate([top, bottom], axis=0)


def _check_mlp(params) -> bool:
    """Raise unless ``params`` is an MLP; return whether any layer has a bias."""
    if kind(params) != "mlp":
        raise TypeError("expected an MLP (a non-empty tuple of Dense layers).")
    return any(layer.b is not None for layer in params)


def layer_norms(params: MLP) -> list[Scalar]:
    """Certified ``||W̃_l||_2`` of every layer: ``[[W_l, b_l], [0, 1]]`` with biases, else ``W_l``.
    """
    biased = _check_mlp(params)
    return [matrix_norm(_augmented(layer.w, layer.b) if biased else layer.w) for layer in params]


def delta_norms(params: MLP, projectors: Projectors, *,
                norm: str = "spectral") -> list[Scalar]:
    """``||ΔW̃_l|| = ||(I − P_l)[W_l b_l]||`` (``||(I − P_l) W_l||`` without biases) per layer.

    0 for a layer without projector (the output layer always).
    """
    _check_norm(norm)
    biased = _check_mlp(params)
    projectors = normalize(params, projectors) + (None,)
    out = []
    for layer, p in zip(params, projectors, strict=True):
        if p is None:
            out.append(jnp.zeros((), layer.w.dtype))
            continue
        b = jnp.zeros(layer.w.shape[0], layer.w.dtype) if layer.b is None else layer.b
        rows = jnp.concatenate([layer.w, b[:, None]], axis=1) if biased else layer.w
        out.append(matrix_norm(rows - p.apply(rows), norm))
    return out


def mlp_bound(params: MLP, projectors: Projectors, x_norm: ScalarLike,
              lipschitz: ScalarLike | Activation | str, at_zero: ScalarLike = 0.0, *,
              norm: str = "spectral",
              norms: Sequence[ScalarLike] | None = None) -> NetworkBound:
    """Bounds (b) and (c) for an MLP compressed by ``projectors`` (one per hidden layer).

    With any bias, the augmented layers of the module docstring are used: the input norm
    becomes ``√(||x||² + 1)`` and ``L_σ`` becomes ``max(L_σ, 1)``.

    Args:
      params: the full MLP.
      projectors: one projector or None per hidden layer (see ``compress_network.normalize``).
      x_norm: ``||x||`` of the input (not augmented; this function does it).
      lipschitz: the activation σ (an :class:`~projgeo.activations.Activation` or its name,
        e.g. ``"relu"``), or ``L_σ`` as a number. at_zero: ``σ(0)`` (offsets
        ``|σ(0)|√n_j``) when ``lipschitz`` is a number; taken from the activation otherwise.
      norm: norm of the ``ΔW_l``: ``"spectral"`` (THEORY's form) or ``"frobenius"`` (the form
        that carries C4).
      norms: precomputed :func:`layer_norms` (to share them between projector sets).

    Returns:
      A :class:`NetworkBound`; the bounds hold for the projected full network (``W_l ← P W_l``,
      ``b_l ← P b_l``), which is the compressed one for folding and for pruning with ``σ(0) = 0``.
    """
    biased = _check_mlp(params)
    _nonneg(x_norm=x_norm)
    lipschitz, at_zero = _sigma(lipschitz, at_zero)
    norms = layer_norms(params) if norms is None else list(norms)
    if len(norms) != len(params):
        raise ValueError(f"norms must hold one norm per layer, {len(params)} in all; got "
                         f"{len(norms)}.")
    deltas = delta_norms(params, projectors, norm=norm)
    if biased:
        x_norm, lipschitz = jnp.sqrt(x_norm**2 + 1.0), jnp.maximum(lipschitz, 1.0)
    offsets = [jnp.abs(at_zero) * math.sqrt(layer.w.shape[0]) for layer in params]
    a = input_bounds(norms, x_norm, lipschitz, offsets)
    _nonneg(delta_norms=deltas)
    terms = _layer_terms(deltas, a, _tails(norms, lipschitz))  # a and T computed once
    hidden = terms[:-1]
    one = jnp.stack(hidden) if hidden else jnp.zeros((0,), params[0].w.dtype)
    total = jnp.asarray(sum(terms))
    return NetworkBound(one, total, jnp.asarray(a[-1]))


def gated_bound(params: Gated, p: Projector, x_norm: ScalarLike,
                lipschitz: ScalarLike | Activation | str, at_zero: ScalarLike = 0.0, *,
                norm: str = "spectral") -> Scalar:
    """Bound on ``||f(x) − f̂(x)||`` for the gated block with gate and up projected by ``p``.

    Not in THEORY.md; an extension of (a). With ``g = Gx``, ``u = Ux``, ``ĝ = PGx``, ``û = PUx``:
    ``σ(g)⊙u − σ(ĝ)⊙û = (σ(g) − σ(ĝ))⊙u + σ(ĝ)⊙(u − û)`` and ``||a⊙b|| ≤ ||a|| ||b||``, so

        ||f(x) − f̂(x)||
          ≤ ||W_down|| ||x|| (L_σ ||ΔG|| ||U|| ||x|| + (|σ(0)|√h + L_σ ||G|| ||x||) ||ΔU||),

    using ``||σ(ĝ)|| ≤ |σ(0)|√h + L_σ ||PG|| ||x||`` and ``||PG|| ≤ ||G||``. Quadratic in ``||x||``:
    the block is not globally Lipschitz. ``norm`` applies to ``ΔG`` and ``ΔU``; ``lipschitz``
    and ``at_zero`` as in :func:`mlp_bound` (an activation, or ``L_σ`` and ``σ(0)``).
    """
    _check_norm(norm)
    if kind(params) != "gated":
        raise TypeError("gated_bound needs a Gated block.")
    _nonneg(x_norm=x_norm)
    lipschitz, at_zero = _sigma(lipschitz, at_zero)
    (q,) = normalize(params, p)
    if q is None:
        raise TypeError("gated_bound needs a PruneProjector or FoldProjector; got None.")
    g, u = params.w_gate, params.w_up
    h = g.shape[0]
    dg, du = matrix_norm(g - q.apply(g), norm), matrix_norm(u - q.apply(u), norm)
    gate = lipschitz * dg * matrix_norm(u) * x_norm
    up = (jnp.abs(at_zero) * math.sqrt(h) + lipschitz * matrix_norm(g) * x_norm) * du
    return matrix_norm(params.w_down) * x_norm * (gate + up)
