"""Test configuration: float64, strict rank promotion, Hypothesis profiles.

Profiles (``PROJGEO_HYPOTHESIS_PROFILE``):

* ``ci`` (default): derandomized, 25 examples per property; the whole suite stays well
  under 10 minutes on 2 CPU cores.
* ``thorough``: random, 400 examples per property, for a long local run.
"""

import os

import jax
from hypothesis import HealthCheck, settings

from proofs_check.cli import enable_compilation_cache

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")
enable_compilation_cache()

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("ci", max_examples=25, derandomize=True, **_COMMON)
settings.register_profile("thorough", max_examples=400, **_COMMON)
settings.load_profile(os.environ.get("PROJGEO_HYPOTHESIS_PROFILE", "ci"))
