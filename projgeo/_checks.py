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
    """True if ``x`` holds values (not a tracer inside jit/vmap/grad).

    Public API only: host values (numpy, Python numbers) are concrete; a ``jax.Array``
    is concrete iff it answers ``is_fully_addressable``, a property of materialised arrays
    that a tracer refuses with ``jax.errors.ConcretizationTypeError``.
    """
    if not isinstance(x, jax.Array):
        return True
    try:
        x.is_fully_addressable  # noqa: B018 (evaluated for the error it raises on a tracer)
    except (jax.errors.ConcretizationTypeError, AttributeError):
        return False
    return True


def _host_view(x) -> np.ndarray | None:
    """``x`` as a NumPy array without a device transfer (host values, and JAX arrays that live
    on CPU devices, which NumPy reads in place), else None.

    Value checks on such arrays run in NumPy: an eager ``jnp`` reduction compiles one small
    XLA program per shape and dtype, which costs more than the check itself on a CPU.
    """
    if not isinstance(x, jax.Array):
        return np.asarray(x)
    if x.is_fully_addressable and all(dev.platform == "cpu" for dev in x.devices()):
        return np.asarray(x)
    return None


def all_finite(x) -> bool:
    """True iff the concrete array ``x`` has no NaN or Inf (NumPy on the host where ``x``
    already is, a device reduction otherwise)."""
    host = _host_view(x)
    if host is not None:
        return bool(np.isfinite(host).all())
    return bool(jnp.all(jnp.isfinite(x)))


def _dtype_of(x, name: str) -> np.dtype:
    try:
        return np.dtype(x.dtype) if hasattr(x, "dtype") else np.asarray(x).dtype
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name} must be an array; got {type(x).__name__}.") from e


def is_float(dtype) -> bool:
    """True for float16, bfloat16, float32, float64 (``kind`` of bfloat16 is ``"V"``)."""
    return jnp.issubdtype(dtype, jnp.floating)


def x64_enabled() -> bool:
    return bool(jax.config.read("jax_enable_x64"))


def _check_fits_float32(host: np.ndarray, name: str) -> None:
    """float64 input with x64 off becomes float32: refuse values that conversion would destroy.

    Overflow (|w| > 3.4e38 → inf) or a whole matrix below float32's normal range (→ 0)
    would silently change the answer; every other float64 input is rounded to float32 (what
    JAX does) and the result is computed in float32.
    """
    if host.size == 0 or not np.all(np.isfinite(host)):
        return
    big = float(np.max(np.abs(host)))
    f32 = np.finfo(np.float32)
    fmax, tiny = float(f32.max), float(f32.tiny)
    if big > fmax or 0 < big < tiny:
        raise ValueError(
            f"{name} is float64 with max |{name}| = {big:.3g}, outside float32's range "
            f"[{tiny:.3g}, {fmax:.3g}], and jax_enable_x64 is off, so JAX would turn "
            f"it into {'inf' if big > fmax else 'zeros'}. Enable float64 with "
            f"jax.config.update('jax_enable_x64', True), or rescale {name}."
        )


def to_device(x) -> jax.Array:
    """``x`` as a JAX array: JAX arrays (and tracers) as they are, host values copied by
    ``jax.device_put``. (``jnp.asarray`` of a host array compiles a small copy program for
    every new shape; ``device_put`` compiles nothing.)"""
    if isinstance(x, jax.Array):
        return x
    return jax.device_put(np.asarray(x))


def as_float_array(w, name: str = "w") -> jax.Array:
    """``w`` as a JAX array (:func:`to_device`) for floating ``w``, refusing float64 values
    that x64-off would destroy."""
    dtype = _dtype_of(w, name)
    if dtype == np.float64 and not x64_enabled() and is_concrete(w):
        _check_fits_float32(np.asarray(w), name)
    return to_device(w)


def check_weights(w, name: str = "w") -> jax.Array:
    """Return ``w`` as a JAX array after checking it is ``WEIGHTS_FORM`` and finite.

    float16, bfloat16, float32 and float64 are accepted; float64 with ``jax_enable_x64`` off
    is rounded to float32 (JAX's rule), and refused with a ValueError if its magnitude is
    outside float32's range (it would become inf or zeros).

    Raises:
      TypeError: if ``w`` is not floating point (integer, bool and complex are refused:
        convert explicitly, e.g. ``w.astype(float)``, so that no precision choice is hidden).
      ValueError: if ``w`` is not 2-D, is empty, or contains NaN or Inf.
    """
    dtype = _dtype_of(w, name)
    if not is_float(dtype):
        raise TypeError(
            f"{name} must be {WEIGHTS_FORM}; got dtype {dtype}. "
            f"Convert explicitly, e.g. {name}.astype(float)."
        )
    w = as_float_array(w, name)
    if w.ndim != 2:
        raise ValueError(f"{name} must be {WEIGHTS_FORM}; got shape {tuple(w.shape)}.")
    if w.shape[0] < 1 or w.shape[1] < 1:
        raise ValueError(f"{name} must be {WEIGHTS_FORM}; got empty shape {tuple(w.shape)}.")
    if is_concrete(w) and not all_finite(w):
        raise ValueError(f"{name} must be finite; it contains NaN or Inf.")
    return w


def _integer(x, name: str, form: str) -> int:
    """``x`` as a Python int (bools refused), else a TypeError saying ``name must be form``."""
    if isinstance(x, bool | np.bool_):
        raise TypeError(f"{name} must be {form}; got a bool.")
    try:
        return operator.index(x)
    except TypeError as e:
        raise TypeError(f"{name} must be {form}; got {x!r}.") from e


def check_k(k, n: int, name: str = "k") -> int:
    """Return ``k`` as a Python int after checking ``1 ≤ k ≤ n``."""
    k = _integer(k, name, f"an integer in [1, {n}]")
    if not 1 <= k <= n:
        raise ValueError(f"{name} must be an integer in [1, n] = [1, {n}]; got {k}.")
    return k


def check_count(x, name: str, *, minimum: int = 1) -> int:
    """Return the iteration cap or count ``x`` as a Python int after checking ``x ≥ minimum``."""
    x = _integer(x, name, f"an integer ≥ {minimum}")
    if x < minimum:
        raise ValueError(f"{name} must be an integer ≥ {minimum}; got {x}.")
    return x


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
    if np.shape(labels) != (n,):
        raise ValueError(
            f"{name} must be {LABELS_FORM} with n = {n}; got shape {np.shape(labels)}.")
    if is_concrete(labels):
        # Range-check the values as given, before any conversion: int64 values outside the
        # int32 range would otherwise wrap (2**32 → 0) and pass.
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
        return to_device(host.astype(np.int32))
    return jnp.asarray(labels).astype(jnp.int32)


def check_keep(keep, n: int, name: str = "keep"):
    """Return ``keep`` as a sorted int32 JAX array of distinct indices in [0, n)."""
    dtype = _dtype_of(keep, name)
    if dtype.kind not in "iu":
        raise TypeError(f"{name} must be {KEEP_FORM}; got dtype {dtype}.")
    shape = np.shape(keep)
    if len(shape) != 1 or not 1 <= shape[0] <= n:
        raise ValueError(
            f"{name} must be {KEEP_FORM} with 1 ≤ len ≤ n = {n}; got shape {shape}."
        )
    if is_concrete(keep):
        host = np.asarray(keep)  # checked before conversion: int64 must not wrap to int32
        if host.min() < 0 or host.max() >= n:
            raise ValueError(
                f"{name} must be {KEEP_FORM} with n = {n}; got values outside it, in "
                f"[{host.min()}, {host.max()}].")
        if np.unique(host).size != host.size:
            raise ValueError(f"{name} must be {KEEP_FORM}; got repeated indices.")
        return to_device(np.sort(host).astype(np.int32))
    return jnp.sort(jnp.asarray(keep)).astype(jnp.int32)


def check_same_rows(w, n: int, name: str = "w") -> None:
    """Raise if ``w`` does not have ``n`` rows (projector and matrix must match)."""
    if w.shape[0] != n:
        raise ValueError(
            f"Shape mismatch: the projector acts on n = {n} rows; {name} has shape "
            f"{tuple(w.shape)}."
        )


KEY_FORM = "a jax.random key, e.g. jax.random.key(0)"


def check_key(key, name: str = "key"):
    """Return ``key`` after checking it is a jax.random key (typed, or a legacy uint32 (2,)).

    An int seed is refused, not silently turned into a key: randomness stays explicit.

    Raises:
      TypeError: if ``key`` is not a key.
    """
    dtype = getattr(key, "dtype", None)
    if dtype is not None and jnp.issubdtype(dtype, jax.dtypes.prng_key):
        if np.shape(key) != ():
            raise TypeError(f"{name} must be a single key ({KEY_FORM}); got a batch of shape "
                            f"{np.shape(key)} (use jax.vmap to map over keys).")
        return key
    if dtype is not None and np.dtype(dtype) == np.uint32 and np.shape(key) == (2,):
        return key  # legacy jax.random.PRNGKey
    got = f"{type(key).__name__} {key!r}" if isinstance(key, int | float) else (
        f"{type(key).__name__} of dtype {dtype}" if dtype is not None else type(key).__name__)
    raise TypeError(f"{name} must be {KEY_FORM}; got {got}. An int seed is not accepted: "
                    f"pass jax.random.key(seed).")


def check_nonnegative(x, name: str, *, allow_zero: bool = True):
    """Return ``x`` after checking (when concrete) that it is finite and ``≥ 0``.

    For the norms, Lipschitz constants and gaps the C7 bounds multiply: a negative one would
    give a negative "bound". Traced values are passed through (checked by the caller).

    Raises:
      TypeError: if ``x`` is not a real number or array.
      ValueError: if some value is negative, NaN or infinite.
    """
    if not is_concrete(x):
        return x
    try:
        host = np.asarray(x)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name} must be a real number ≥ 0; got {type(x).__name__}.") from e
    if host.dtype.kind not in "fiu" and not is_float(host.dtype):
        raise TypeError(f"{name} must be a real number ≥ 0; got dtype {host.dtype}.")
    host = host.astype(np.float64)
    if not np.all(np.isfinite(host)) or np.any(host < 0) or (not allow_zero and np.any(host == 0)):
        bad = host[~np.isfinite(host) | (host < 0)] if host.ndim else host
        raise ValueError(f"{name} must be finite and ≥ 0; got {bad.ravel()[:5].tolist()}.")
    return x


def check_finite_scalar(x, name: str):
    """Return ``x`` after checking (when concrete) that it is a finite real scalar."""
    if not is_concrete(x):
        return x
    try:
        v = float(np.asarray(x))
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name} must be a finite real scalar; got {x!r}.") from e
    if not np.isfinite(v):
        raise ValueError(f"{name} must be a finite real scalar; got {v}.")
    return x
