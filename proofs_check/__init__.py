"""proofs_check: numerical verification of the claims of THEORY.md (C1–C8).

``python -m proofs_check [--claims C1,C3] [--budget quick|standard|thorough] [--seed N]
[--json PATH]`` runs one checker module per claim (``proofs_check/c<N>_*.py``, listed in
``proofs_check.registry``) in float64 and exits 0 iff no claim has a violation.
"""
