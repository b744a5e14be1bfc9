"""Reading weights from disk: safetensors checkpoints (:mod:`.checkpoint`).

The core (``projgeo`` minus ``experiments`` and ``io``) never imports this package; the
layer contract in ``pyproject.toml`` checks it.
"""
