"""Validation at the public boundary: clear errors instead of XLA crashes or NaNs.

Static checks (shape, rank, dtype) always run. Value checks (NaN/Inf, label ranges,
empty clusters) run only on concrete arrays: under ``jax.jit`` the caller has already
validated, and a traced value cannot be inspected without a host round-trip.
"""

from __future__ import annotations

import operator

import jax
import jax.numpy as jnp
import numpy as np

WEIGHTS_FORM = "a 2-D floating-point array of shape (n, d) with n ≥ 1, d ≥ 1"
LABELS_FORM = "a 1-D integer array of shape (n,) with values in [0, k)"
KEEP_FORM = "a 1-D integer array of distinct row indices in [0, n)"


def is_concrete(x) -> bool:
    """True if ``x`` holds values (not a tracer inside jit/vmap/grad)."""
    return not isinstance(x, jax.core.Tracer)


def _dtype_of(x, name: str) -> np.dtype:
    try:
        return np.dtype(x.dtype) if hasattr(x, "dtype") else np.asarray(x).dtype
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name} must be an array; got {type(x).__name__}.") from e


def check_weights(w, name: str = "w") -> jax.Array:
    """Return ``w`` as a JAX array after checking it is ``WEIGHTS_FORM`` and finite.

    Raises:
      TypeError: if ``w`` is not floating point (integer, bool and complex are refused:
        convert explicitly, e.g. ``w.astype(float)``, so that no precision choice is hidden).
      ValueError: if ``w`` is not 2-D, is empty, or contains NaN or Inf.
    """
    dtype = _dtype_of(w, name)
    if dtype.kind != "f":
        raise TypeError(
            f"{name} must be {WEIGHTS_FORM}; got dtype {dtype}. "
            f"Convert explicitly, e.g. {name}.astype(float)."
        )
    w = jnp.asarray(w)
    if w.ndim != 2:
        raise ValueError(f"{name} must be {WEIGHTS_FORM}; got shape {tuple(w.shape)}.")
    if w.shape[0] < 1 or w.shape[1] < 1:
        raise ValueError(f"{name} must be {WEIGHTS_FORM}; got empty shape {tuple(w.shape)}.")
    if is_concrete(w) and not bool(jnp.all(jnp.isfinite(w))):
        raise ValueError(f"{name} must be finite; it contains NaN or Inf.")
    return w


def check_k(k, n: int, name: str = "k") -> int:
    """Return ``k`` as a Python int after checking ``1 ≤ k ≤ n``."""
    if isinstance(k, bool | np.bool_):
        raise TypeError(f"{name} must be an integer in [1, {n}]; got a bool.")
    try:
        k = operator.index(k)
    except TypeError as e:
        raise TypeError(f"{name} must be an integer in [1, {n}]; got {k!r}.") from e
    if not 1 <= k <= n:
        raise ValueError(f"{name} must be an integer in [1, n] = [1, {n}]; got {k}.")
    return k


def check_labels(labels, n: int, k: int, *, allow_empty: bool = False, name: str = "labels"):
    """Return ``labels`` as an int32 JAX array of shape (n,) with values in [0, k).

    Raises:
      TypeError: if ``labels`` is not an integer array.
      ValueError: on wrong shape, values out of range, or (unless ``allow_empty``) a
        cluster in [0, k) that no row belongs to.
    """
    dtype = _dtype_of(labels, name)
    if dtype.kind not in "iu":
        raise TypeError(f"{name} must be {LABELS_FORM}; got dtype {dtype}.")
    labels = jnp.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"{name} must be {LABELS_FORM} with n = {n}; got shape {labels.shape}.")
    if is_concrete(labels):
        host = np.asarray(labels)
        if host.min() < 0 or host.max() >= k:
            raise ValueError(
                f"{name} must be {LABELS_FORM} with k = {k}; got values in "
                f"[{host.min()}, {host.max()}]."
            )
        if not allow_empty:
            empty = np.setdiff1d(np.arange(k), host)
            if empty.size:
                raise ValueError(
                    f"{name} leaves cluster(s) {empty[:10].tolist()} empty; a partition into "
                    f"k = {k} clusters needs every cluster in [0, {k}) to hold a row."
                )
    return labels.astype(jnp.int32)


def check_keep(keep, n: int, name: str = "keep"):
    """Return ``keep`` as a sorted int32 JAX array of distinct indices in [0, n)."""
    dtype = _dtype_of(keep, name)
    if dtype.kind not in "iu":
        raise TypeError(f"{name} must be {KEEP_FORM}; got dtype {dtype}.")
    keep = jnp.asarray(keep)
    if keep.ndim != 1 or not 1 <= keep.shape[0] <= n:
        raise ValueError(
            f"{name} must be {KEEP_FORM} with 1 ≤ len ≤ n = {n}; got shape {keep.shape}."
        )
    if is_concrete(keep):
        host = np.asarray(keep)
        if host.min() < 0 or host.max() >= n:
            raise ValueError(f"{name} must be {KEEP_FORM} with n = {n}; got values outside.")
        if np.unique(host).size != host.size:
            raise ValueError(f"{name} must be {KEEP_FORM}; got repeated indices.")
    return jnp.sort(keep).astype(jnp.int32)


def check_same_rows(w, n: int, name: str = "w") -> None:
    """Raise if ``w`` does not have ``n`` rows (projector and matrix must match)."""
    if w.shape[0] != n:
        raise ValueError(
            f"Shape mismatch: the projector acts on n = {n} rows; {name} has shape "
            f"{tuple(w.shape)}."
        )
