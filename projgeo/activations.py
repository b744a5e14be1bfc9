"""Elementwise activations with their Lipschitz constants and σ(0) (C6, C7).

Two facts about an activation ``σ`` decide what the theory says about a compressed network:

* ``σ(0) = 0`` decides whether *pruning* a layer physically equals projecting it (C6): a
  pruned channel's pre-activation is 0, and the projected full network still feeds ``σ(0)``
  forward, the physically pruned one feeds nothing;
* the Lipschitz constant ``L_σ = sup_z |σ'(z)|`` scales every functional bound of C7.

==============  ===========================  ===============  ===========================
name            σ(z)                          ``L_σ``          σ(0)
==============  ===========================  ===============  ===========================
``linear``      z                             1                0
``relu``        max(z, 0)                     1                0
``tanh``        tanh z                        1                0
``gelu``        z Φ(z) (exact, erf form)      1.1289041…       0
``silu``        z s(z), s the logistic        1.0998393…       0
``sigmoid``     s(z)                          1/4              1/2
``softplus``    log(1 + e^z)                  1                log 2
==============  ===========================  ===============  ===========================

GELU: ``σ'(z) = Φ(z) + z φ(z)`` and ``σ''(z) = φ(z)(2 − z²)``, so ``|σ'|`` peaks at ``z = √2``:
``L = Φ(√2) + √2 φ(√2) = Φ(√2) + e⁻¹/√π ≈ 1.1289`` (its minimum, at ``z = −√2``, is −0.1289).
SiLU: ``σ'(z) = s + z s(1 − s)`` and ``σ''(z) = s(1 − s)(2 + z(1 − 2s))``; the root of
``2 + z(1 − 2s(z)) = 0`` is ``z* ≈ 2.3994`` (found by bisection at import), ``L = σ'(z*) ≈ 1.0998``.
Both constants are rounded up by two ulps, so that they are upper bounds in float64.
GELU is *not* 1-Lipschitz: using ``L = 1`` for it breaks the bounds of C7.

``linear`` (the identity) is not an activation of the paper; it makes a network linear, which
is where the C7 bounds are attained, and it is the setting of C7(d).

Reference: Hendrycks & Gimpel (2016), GELU; Elfwing et al. (2018), SiLU; THEORY.md C6, C7.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, DTypeLike, Float, Int


class Activation(NamedTuple):
    """An elementwise activation with the constants the theory needs.

    Attributes:
      name: registry name.
      fn: the elementwise function ``σ``.
      lipschitz: ``L_σ = sup |σ'|`` (rounded up; an upper bound in float64).
      at_zero: ``σ(0)``.
    """

    name: str
    fn: Callable[[Array], Array]
    lipschitz: float
    at_zero: float

    @property
    def zero_at_zero(self) -> bool:
        """``σ(0) = 0``: pruning equals projection (C6) and ``||σ(z)|| ≤ L_σ ||z||`` (C7)."""
        return self.at_zero == 0.0

    def __call__(self, z: Float[Array, "..."]) -> Float[Array, "..."]:
        return self.fn(z)


def _round_up(x: float, ulps: int = 2) -> float:
    for _ in range(ulps):
        x = math.nextafter(x, math.inf)
    return x


def _gelu_lipschitz() -> float:
    r2 = math.sqrt(2.0)
    phi = 0.5 * (1.0 + math.erf(1.0))  # Φ(√2) = (1 + erf(√2/√2))/2
    return _round_up(phi + r2 * math.exp(-1.0) / math.sqrt(2.0 * math.pi))


def _logistic(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _silu_lipschitz() -> float:
    lo, hi = 2.0, 3.0  # 2 + z(1 − 2s(z)) changes sign once on [2, 3]
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if 2.0 + mid * (1.0 - 2.0 * _logistic(mid)) > 0.0:
            lo = mid
        else:
            hi = mid
    s = _logistic(lo)
    return _round_up(s + lo * s * (1.0 - s))


def _linear(z):
    return z


def _relu(z):
    return jax.nn.relu(z)


def _gelu(z):
    return jax.nn.gelu(z, approximate=False)


def _silu(z):
    return jax.nn.silu(z)


def _sigmoid(z):
    return jax.nn.sigmoid(z)


def _softplus(z):
    return jax.nn.softplus(z)


GELU_LIPSCHITZ = _gelu_lipschitz()
SILU_LIPSCHITZ = _silu_lipschitz()

ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("linear", _linear, 1.0, 0.0),
        Activation("relu", _relu, 1.0, 0.0),
        Activation("tanh", jnp.tanh, 1.0, 0.0),
        Activation("gelu", _gelu, GELU_LIPSCHITZ, 0.0),
        Activation("silu", _silu, SILU_LIPSCHITZ, 0.0),
        Activation("sigmoid", _sigmoid, 0.25, 0.5),
        Activation("softplus", _softplus, 1.0, math.log(2.0)),
    )
}
#: Registry order; ``switch`` and the tables index activations by position in it.
NAMES: tuple[str, ...] = tuple(ACTIVATIONS)


def get(act: str | Activation) -> Activation:
    """The :class:`Activation` of a registry name (or ``act`` itself).

    Raises:
      ValueError: on an unknown name. TypeError: on anything else.
    """
    if isinstance(act, Activation):
        return act
    if not isinstance(act, str):
        raise TypeError(
            f"act must be an Activation or one of the names {NAMES}; got {type(act).__name__}."
        )
    if act not in ACTIVATIONS:
        raise ValueError(f"act must be one of {NAMES}; got {act!r}.")
    return ACTIVATIONS[act]


def index(act: str | Activation) -> int:
    """Position of an activation in :data:`NAMES` (for :func:`switch`)."""
    return NAMES.index(get(act).name)


def switch(i: Int[Array, ""], z: Float[Array, "..."]) -> Float[Array, "..."]:
    """``σ_i(z)`` with a traced activation index ``i`` (one compiled kernel for all activations).

    Under ``vmap`` with a batched ``i``, ``lax.switch`` evaluates every branch and selects,
    which is cheap for small networks and saves one compilation per activation.
    """
    return jax.lax.switch(i, [ACTIVATIONS[n].fn for n in NAMES], z)


def lipschitz_table(dtype: DTypeLike | None = None) -> Float[Array, " a"]:
    """``L_σ`` of every activation, in :data:`NAMES` order."""
    return jnp.asarray([ACTIVATIONS[n].lipschitz for n in NAMES], dtype)


def at_zero_table(dtype: DTypeLike | None = None) -> Float[Array, " a"]:
    """``σ(0)`` of every activation, in :data:`NAMES` order."""
    return jnp.asarray([ACTIVATIONS[n].at_zero for n in NAMES], dtype)
