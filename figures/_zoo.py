"""The C8 zoo for F2, F5, F6: :func:`projgeo.experiments.zoo.for_budget`, cached in
``$PROJGEO_ZOO_CACHE``; its training steps are announced through :data:`ON_STEP`."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from projgeo.experiments import zoo

#: Called with the name of each zoo training / compression step (set by the command line).
ON_STEP: zoo.OnStep = None


def cache_dir() -> Path:
    return Path(os.environ.get("PROJGEO_ZOO_CACHE", str(zoo.DEFAULT_CACHE)))


@functools.cache
def get(budget: str) -> zoo.Zoo:
    return zoo.for_budget(budget, cache_dir(), on_step=ON_STEP)


@functools.cache
def get_cnn(budget: str) -> zoo.Zoo:
    """The CNN zoo of :mod:`projgeo.experiments.cnn_zoo` (quick: 12 CNNs, full: 96)."""
    from projgeo.experiments import cnn_zoo

    return cnn_zoo.for_budget(budget, cache_dir(), on_step=ON_STEP)
