"""Type aliases shared by the public signatures (static only: nothing is checked at run time).

Shapes follow jaxtyping; the checks that run live in :mod:`projgeo._checks`.
"""

from __future__ import annotations

from jaxtyping import Array, Key, UInt32

#: A ``jax.random`` key: typed (``jax.random.key``) or legacy uint32 (2,) (``PRNGKey``).
PRNGKey = Key[Array, ""] | UInt32[Array, "2"]
