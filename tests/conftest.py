"""Test configuration: float64, strict rank promotion, Hypothesis profiles.

Profiles (``PROJGEO_HYPOTHESIS_PROFILE``):

* ``ci`` (default): derandomized, 25 examples per property (556 tests; 20 min cold on the
  2 shared CPU cores, see README "Tests").
* ``thorough``: random, 400 examples per property, for a long local run.

Memory: every jitted shape keeps its compiled program; over the whole suite they add up to
several GB. After each test module, if this process holds more than ``RSS_LIMIT`` bytes,
the in-memory JAX caches are dropped (the persistent compile cache makes a later
recompilation a cheap load).
"""

import gc
import os

import jax
import pytest
from hypothesis import HealthCheck, settings

from projgeo import config

config.setup(x64=True)
jax.config.update("jax_numpy_rank_promotion", "raise")

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("ci", max_examples=25, derandomize=True, **_COMMON)
settings.register_profile("thorough", max_examples=400, **_COMMON)
settings.load_profile(os.environ.get("PROJGEO_HYPOTHESIS_PROFILE", "ci"))

#: Resident memory above which compiled programs are dropped between test modules.
RSS_LIMIT = int(os.environ.get("PROJGEO_TEST_RSS_LIMIT", 1_000_000_000))


def _rss_bytes() -> int:
    """Current resident set size of this process (Linux ``/proc``; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


@pytest.fixture(autouse=True, scope="module")
def _bounded_memory():
    yield
    if _rss_bytes() > RSS_LIMIT:
        jax.clear_caches()
        gc.collect()
