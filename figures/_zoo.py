"""The C8 zoo for F2, F5, F6: :func:`projgeo.experiments.zoo.for_budget`, cached in
``$PROJGEO_ZOO_CACHE``."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from projgeo.experiments import zoo


@functools.cache
def get(budget: str) -> zoo.Zoo:
    cache = Path(os.environ.get("PROJGEO_ZOO_CACHE", str(zoo.DEFAULT_CACHE)))
    return zoo.for_budget(budget, cache)
