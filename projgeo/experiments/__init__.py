"""Experiments built on the library, apart from its core: the C8 zoo (:mod:`.zoo`).

The core (``projgeo`` minus ``experiments`` and ``io``) never imports this package; the
layer contract in ``pyproject.toml`` checks it.
"""
