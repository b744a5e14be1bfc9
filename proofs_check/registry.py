"""Claim ID → checker module. A checker module defines ``CLAIM`` and ``check(ctx)``."""

CHECKERS: dict[str, str] = {
    "C1": "proofs_check.c1_projector_algebra",
    "C2": "proofs_check.c2_error_optimality",
    "C3": "proofs_check.c3_pruning_partition",
    "C4": "proofs_check.c4_rank_distance_one",
    "C5": "proofs_check.c5_tightness",
    "C6": "proofs_check.c6_compression_equals_projection",
    "C7": "proofs_check.c7_lipschitz_bounds",
    "C8": "proofs_check.c8_empirical",
}

#: Claims run when ``--claims`` is not given: C8 trains a zoo (minutes the first time), so it
#: is opt-in (``--claims C8``) to keep the default quick run within its 60 s budget.
DEFAULT_CLAIMS: list[str] = [c for c in CHECKERS if c != "C8"]
