"""Small networks as pure functions over parameter pytrees (C6, C7).

Three kinds, each written for one example and batched with ``jax.vmap``:

* **MLP** ``f(x) = W_L σ(… σ(W_1 x + b_1) …) + b_L``: a tuple of :class:`Dense` layers, the
  last one linear (logits). Layer ``l`` has weights ``(n_l, n_{l−1})``: one row per neuron.
* **CNN**: :class:`Conv` layers (``'SAME'`` padding, stride 1, ``σ`` after each), flattened
  channel-major into a :class:`Dense` head. A conv weight ``(c_out, c_in, kh, kw)`` has one
  row per output channel once flattened to ``(c_out, c_in·kh·kw)`` (THEORY.md, Setting).
* **Gated MLP block** (LLaMA): ``f(x) = W_down (σ(W_gate x) ⊙ W_up x)``, no biases.

The activation ``sigma`` is any elementwise callable, e.g. ``projgeo.activations.get("gelu")``
or, inside a kernel shared by all activations, ``partial(activations.switch, i)``.

:func:`count` gives parameter and FLOP counts: a multiply-add is 2 FLOPs, a bias add or the
gate product 1; activations are not counted; convolutions are counted densely (the zeros of
the ``'SAME'`` padding included). Compression ratios are ratios of these counts (C6).

Reference: THEORY.md C6, C7; Touvron et al. (2023), LLaMA, for the gated block.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, NamedTuple, TypeGuard

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import DTypeLike
from jaxtyping import Array, Float, PRNGKeyArray, ScalarLike

from projgeo import _checks, families

Sigma = Callable[[Array], Array]
CONV_DIMS = ("NCHW", "OIHW", "NCHW")


class Dense(NamedTuple):
    """A dense layer ``x ↦ W x + b``. ``w``: (n_out, n_in); ``b``: (n_out,) or None."""

    w: Float[Array, "n_out n_in"]
    b: Float[Array, " n_out"] | None


class Conv(NamedTuple):
    """A conv layer. ``w``: (c_out, c_in, kh, kw); ``b``: (c_out,) or None."""

    w: Float[Array, "c_out c_in kh kw"]
    b: Float[Array, " c_out"] | None


class CNN(NamedTuple):
    """Conv layers (σ after each) then a dense head on the channel-major flattening."""

    convs: tuple[Conv, ...]
    head: Dense


class Gated(NamedTuple):
    """Gated MLP block ``W_down (σ(W_gate x) ⊙ W_up x)``: gate, up (h, d); down (d_out, h)."""

    w_gate: Float[Array, "h d"]
    w_up: Float[Array, "h d"]
    w_down: Float[Array, "d_out h"]


MLP = tuple[Dense, ...]
Network = MLP | CNN | Gated


class Counts(NamedTuple):
    """Parameter and FLOP counts of one forward pass on one example."""

    params: int
    flops: int


# ---------------------------------------------------------------------------
# Checks.


def _check_input(x, size: tuple[int, ...], what: str) -> jax.Array:
    x = jnp.asarray(x)
    if x.shape != size:
        raise ValueError(f"x must have shape {size} for this {what}; got {tuple(x.shape)}.")
    return x


def _check_sizes(sizes, name: str, min_len: int) -> tuple[int, ...]:
    sizes = tuple(sizes)
    if len(sizes) < min_len or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes):
        raise ValueError(f"{name} must be ≥ {min_len} positive ints; got {sizes!r}.")
    return sizes


def _is_dense_chain(params: object) -> TypeGuard[MLP]:
    """A non-empty tuple of :class:`Dense` (the shape of an MLP, sizes not yet checked)."""
    return isinstance(params, tuple) and bool(params) and all(
        isinstance(p, Dense) for p in params)


def check(params: object) -> Network:
    """``params`` itself, checked to be a well-formed :data:`Network` (shapes chain).

    Dispatch on the kinds with ``isinstance(net, CNN)``, ``isinstance(net, Gated)``; what
    remains is an :data:`MLP`.

    Raises:
      TypeError: if ``params`` is none of :data:`Network`.
      ValueError: if its layer shapes do not chain.
    """
    if isinstance(params, CNN):
        _check_cnn(params)
        return params
    if isinstance(params, Gated):
        _check_gated(params)
        return params
    if _is_dense_chain(params):
        _check_mlp_chain(params)
        return params
    raise TypeError(
        "params must be an MLP (a non-empty tuple of Dense), a CNN or a Gated block; "
        f"got {type(params).__name__}."
    )


Kind = Literal["mlp", "cnn", "gated"]


def kind(params: object) -> Kind:
    """``"mlp"``, ``"cnn"`` or ``"gated"`` (after :func:`check`).

    Raises:
      TypeError: if ``params`` is none of :data:`Network`.
    """
    net = check(params)
    if isinstance(net, CNN):
        return "cnn"
    if isinstance(net, Gated):
        return "gated"
    return "mlp"


def _shape(a, name: str, ndim: int) -> tuple[int, ...]:
    shape = np.shape(a)
    dtype = getattr(a, "dtype", None)
    if len(shape) != ndim or 0 in shape or dtype is None or not jnp.issubdtype(
            dtype, jnp.floating):
        raise ValueError(f"{name} must be a non-empty {ndim}-D floating array; got shape "
                         f"{shape}, dtype {dtype}.")
    return shape


def _check_bias(b, n_out: int, name: str) -> None:
    if b is not None and np.shape(b) != (n_out,):
        raise ValueError(f"{name} must be None or of shape ({n_out},); got {np.shape(b)}.")


def _check_mlp_chain(params: MLP) -> None:
    """Every Dense is (n_out, n_in) with a matching bias, and layer l+1 reads layer l."""
    prev = None
    for i, layer in enumerate(params):
        n_out, n_in = _shape(layer.w, f"params[{i}].w", 2)
        _check_bias(layer.b, n_out, f"params[{i}].b")
        if prev is not None and n_in != prev:
            raise ValueError(
                f"layer shapes do not chain: params[{i - 1}].w has {prev} outputs but "
                f"params[{i}].w has shape ({n_out}, {n_in}), i.e. {n_in} inputs.")
        prev = n_out


def _check_cnn(params: CNN) -> None:
    if not (isinstance(params.convs, tuple) and params.convs and all(
            isinstance(c, Conv) for c in params.convs) and isinstance(params.head, Dense)):
        raise TypeError("a CNN needs convs = a non-empty tuple of Conv and head = a Dense.")
    prev = 0
    for i, layer in enumerate(params.convs):
        c_out, c_in, _, _ = _shape(layer.w, f"convs[{i}].w", 4)
        _check_bias(layer.b, c_out, f"convs[{i}].b")
        if i and c_in != prev:
            raise ValueError(f"layer shapes do not chain: convs[{i - 1}] has {prev} output "
                             f"channels but convs[{i}].w expects {c_in}.")
        prev = c_out
    n_out, n_in = _shape(params.head.w, "head.w", 2)
    _check_bias(params.head.b, n_out, "head.b")
    if n_in % prev:
        raise ValueError(f"layer shapes do not chain: the head reads {n_in} inputs, not a "
                         f"multiple of the last conv's {prev} channels (c·H·W).")


def _check_gated(params: Gated) -> None:
    h, d = _shape(params.w_gate, "w_gate", 2)
    if _shape(params.w_up, "w_up", 2) != (h, d):
        raise ValueError(f"w_up must have w_gate's shape ({h}, {d}); got {np.shape(params.w_up)}.")
    if _shape(params.w_down, "w_down", 2)[1] != h:
        raise ValueError(f"layer shapes do not chain: w_down must read the h = {h} hidden "
                         f"units; got shape {np.shape(params.w_down)}.")


# ---------------------------------------------------------------------------
# Initialisation (weights from a projgeo.families family).


def _sample(family: str | families.Family, key: PRNGKeyArray, n: int, d: int,
            dtype: DTypeLike | None) -> Float[Array, "n d"]:
    """A family matrix: ``family`` is a :mod:`projgeo.families` name or a ``(key, n, d, dtype)``
    callable (e.g. one that switches on a traced family index)."""
    if callable(family):
        return family(key, n, d, dtype)
    return families.sample(family, key, n, d, dtype)


def _bias(key: PRNGKeyArray, n: int, bias: bool, scale: float,
          dtype: DTypeLike | None) -> Float[Array, " n"] | None:
    if not bias:
        return None
    dt = jnp.zeros((), float).dtype if dtype is None else dtype
    return scale * jax.random.normal(key, (n,), dt)


def init_mlp(key: PRNGKeyArray, sizes: Sequence[int], *, bias: bool = True,
             family: str | families.Family = "gaussian", bias_scale: float = 0.1,
             dtype: DTypeLike | None = None) -> MLP:
    """An MLP with layer sizes ``sizes = (d_0, d_1, …, d_L)``; weights from ``family``.

    Args:
      key: a ``jax.random`` key.
      sizes: input size, hidden sizes, output size (at least 2 entries).
      bias: give every layer a bias (N(0, bias_scale²) entries).
      family: a :mod:`projgeo.families` name (or a ``(key, n, d, dtype)`` callable) for every
        weight matrix.
      bias_scale: standard deviation of the biases.
      dtype: float dtype (default: JAX's default float).

    Returns:
      A tuple of ``L = len(sizes) − 1`` :class:`Dense` layers.
    """
    sizes = _check_sizes(sizes, "sizes", 2)
    keys = jax.random.split(_checks.check_key(key), 2 * (len(sizes) - 1))
    return tuple(
        Dense(_sample(family, keys[2 * i], n_out, n_in, dtype),
              _bias(keys[2 * i + 1], n_out, bias, bias_scale, dtype))
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True))
    )


def init_cnn(key: PRNGKeyArray, in_shape: Sequence[int], channels: Sequence[int], n_out: int, *,
             kernel: int = 3, bias: bool = True, family: str | families.Family = "gaussian",
             bias_scale: float = 0.1, dtype: DTypeLike | None = None) -> CNN:
    """A CNN on inputs of shape ``in_shape = (c, H, W)`` with conv ``channels`` and a head.

    Each conv weight is a ``family`` matrix of shape ``(c_out, c_in·kernel²)``, reshaped.
    """
    c, h, w = _check_sizes(in_shape, "in_shape", 3)[:3]
    channels = _check_sizes(channels, "channels", 1)
    keys = jax.random.split(_checks.check_key(key), 2 * len(channels) + 2)
    convs, c_in = [], c
    for i, c_out in enumerate(channels):
        wr = _sample(family, keys[2 * i], c_out, c_in * kernel * kernel, dtype)
        convs.append(Conv(wr.reshape(c_out, c_in, kernel, kernel),
                          _bias(keys[2 * i + 1], c_out, bias, bias_scale, dtype)))
        c_in = c_out
    head = Dense(_sample(family, keys[-2], n_out, c_in * h * w, dtype),
                 _bias(keys[-1], n_out, bias, bias_scale, dtype))
    return CNN(tuple(convs), head)


def init_gated(key: PRNGKeyArray, d: int, h: int, d_out: int, *,
               family: str | families.Family = "gaussian",
               dtype: DTypeLike | None = None) -> Gated:
    """A gated MLP block ``d → h → d_out`` with weights from ``family``."""
    d, h, d_out = _check_sizes((d, h, d_out), "(d, h, d_out)", 3)
    k1, k2, k3 = jax.random.split(_checks.check_key(key), 3)
    return Gated(_sample(family, k1, h, d, dtype),
                 _sample(family, k2, h, d, dtype),
                 _sample(family, k3, d_out, h, dtype))


# ---------------------------------------------------------------------------
# Forward passes (one example).


def dense(layer: Dense, x: Float[Array, " n_in"]) -> Float[Array, " n_out"]:
    """``W x + b`` (or ``W x`` without bias)."""
    y = layer.w @ x
    return y if layer.b is None else y + layer.b


def mlp(params: MLP, x: Float[Array, " d"], sigma: Sigma) -> Float[Array, " d_out"]:
    """``W_L σ(… σ(W_1 x + b_1) …) + b_L`` for one input vector ``x``.

    Raises:
      ValueError: if ``x`` does not have shape ``(d_0,)``.
    """
    check(params)
    x = _check_input(x, (params[0].w.shape[1],), "MLP")
    for layer in params[:-1]:
        x = sigma(dense(layer, x))
    return dense(params[-1], x)


def conv(layer: Conv, x: Float[Array, "c h w"]) -> Float[Array, "c_out h w"]:
    """``'SAME'``, stride-1 convolution of one ``(c_in, H, W)`` image, plus bias."""
    y = jax.lax.conv_general_dilated(x[None], layer.w, (1, 1), "SAME",
                                     dimension_numbers=CONV_DIMS)[0]
    return y if layer.b is None else y + layer.b[:, None, None]


def cnn(params: CNN, x: Float[Array, "c h w"], sigma: Sigma) -> Float[Array, " d_out"]:
    """Conv layers with ``σ``, flatten (channel-major), dense head, for one image ``x``.

    Raises:
      ValueError: if ``x`` is not a ``(c_in, H, W)`` image matching the head's width.
    """
    check(params)
    x = jnp.asarray(x)
    c_last = params.convs[-1].w.shape[0]
    if x.ndim != 3 or x.shape[0] != params.convs[0].w.shape[1] or (
            c_last * x.shape[1] * x.shape[2] != params.head.w.shape[1]):
        raise ValueError(
            f"x must be an image (c_in, H, W) with c_in = {params.convs[0].w.shape[1]} and "
            f"{c_last}·H·W = {params.head.w.shape[1]}; got shape {tuple(x.shape)}."
        )
    for layer in params.convs:
        x = sigma(conv(layer, x))
    return dense(params.head, x.reshape(-1))


def gated(params: Gated, x: Float[Array, " d"], sigma: Sigma) -> Float[Array, " d_out"]:
    """``W_down (σ(W_gate x) ⊙ W_up x)`` for one input vector ``x``."""
    check(params)
    x = _check_input(x, (params.w_gate.shape[1],), "gated block")
    return params.w_down @ (sigma(params.w_gate @ x) * (params.w_up @ x))


def apply(params: Network, x: Float[Array, "..."], sigma: Sigma) -> Float[Array, " d_out"]:
    """Forward pass of any :data:`Network` kind on one example."""
    net = check(params)
    if isinstance(net, CNN):
        return cnn(net, x, sigma)
    if isinstance(net, Gated):
        return gated(net, x, sigma)
    return mlp(net, x, sigma)


def magnitude(params: Network, x: Float[Array, "..."], lipschitz: ScalarLike,
              at_zero: ScalarLike = 0.0) -> Float[Array, " d_out"]:
    """Entrywise bound on ``|f(x)|``: the net on ``|W|, |b|, |x|`` with ``σ̄(z) = |σ(0)| + L_σ z``.

    ``|σ(z)| ≤ |σ(0)| + L_σ |z|`` and ``|Wx + b| ≤ |W||x| + |b|`` (also for convolutions and the
    gate product), so every value of the network is bounded by its counterpart here. It is
    the scale of the rounding error of a forward pass, hence the tolerance scale for
    comparing two forward passes (C6).
    """
    absolute = jax.tree.map(jnp.abs, params)
    return apply(absolute, jnp.abs(x), lambda z: jnp.abs(at_zero) + lipschitz * z)


def hidden_widths(params: Network) -> tuple[int, ...]:
    """Output widths of the compressible layers: MLP hidden layers, conv layers, gate/up."""
    net = check(params)
    if isinstance(net, CNN):
        return tuple(layer.w.shape[0] for layer in net.convs)
    if isinstance(net, Gated):
        return (net.w_gate.shape[0],)
    return tuple(layer.w.shape[0] for layer in net[:-1])


# ---------------------------------------------------------------------------
# Counts.


def _dense_counts(layer: Dense) -> Counts:
    n_out, n_in = layer.w.shape
    has_b = layer.b is not None
    return Counts(n_out * n_in + n_out * has_b, 2 * n_out * n_in + n_out * has_b)


def count(params: Network) -> Counts:
    """Parameters and FLOPs of one forward pass (conventions in the module docstring)."""
    net = check(params)
    if isinstance(net, Gated):
        h, d = net.w_gate.shape
        d_out = net.w_down.shape[0]
        return Counts(2 * h * d + d_out * h, 4 * h * d + h + 2 * d_out * h)
    if isinstance(net, CNN):
        c_last = net.convs[-1].w.shape[0]
        pixels = net.head.w.shape[1] // c_last
        parts = [_dense_counts(net.head)]
        for layer in net.convs:
            c_out, c_in, kh, kw = layer.w.shape
            has_b = layer.b is not None
            parts.append(Counts(c_out * c_in * kh * kw + c_out * has_b,
                                (2 * c_out * c_in * kh * kw + c_out * has_b) * pixels))
    else:
        parts = [_dense_counts(layer) for layer in net]
    return Counts(sum(p.params for p in parts), sum(p.flops for p in parts))
