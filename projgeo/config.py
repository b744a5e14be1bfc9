"""Runtime configuration shared by every entry point: float64 and the compile cache.

Each command (``python -m proofs_check``, ``figures``, ``benchmarks``, the tests) calls
:func:`setup` once before any JAX work; library functions never change the configuration.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax

#: Where compiled XLA programs persist across runs (``$PROJGEO_JAX_CACHE``; "off" disables).
DEFAULT_CACHE = Path.home() / ".cache" / "projgeo" / "jax"


def enable_compilation_cache() -> None:
    """Persist XLA compilations across runs (compiling dominates short runs on a CPU).

    The cache lives in ``$PROJGEO_JAX_CACHE`` (default ``~/.cache/projgeo/jax``); set it
    to ``off`` to disable. Results do not depend on it, only the start-up time does.
    """
    path = os.environ.get("PROJGEO_JAX_CACHE", str(DEFAULT_CACHE))
    if path.lower() in ("", "off", "0", "none"):
        return
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)


def setup(*, x64: bool = True) -> None:
    """``jax_enable_x64`` as asked (default on: the checks are float64) and the compile cache."""
    jax.config.update("jax_enable_x64", bool(x64))
    enable_compilation_cache()
