"""C5 at scale (proofs_check._c5_certified): a certified loss is a real loss."""

import numpy as np

from projgeo import exact_fold, fold_lower_bound, magnitude_prune, prune_error
from proofs_check import _c5_certified
from proofs_check.frame import Context, Progress


def test_certified_rates_partition_every_instance():
    """loss + win + undecided = 1 per family and ratio, with the instance count reported."""
    ctx = Context(budget="standard", seed=0, progress=Progress(enabled=False))
    rates = _c5_certified.certified_rates(ctx, shapes=((12, 3),))  # small: quick
    table = rates["12x3"]
    assert set(table) == set(_c5_certified.families.FAMILIES)
    for rows in table.values():
        for row in rows.values():
            assert row["loss"] + row["win"] + row["undecided"] == 1.0
    # zero rows make pruning free: some family must certifiably lose at ratio 0.25
    assert any(rows["0.25"]["loss"] > 0 for rows in table.values())


def test_a_certified_loss_is_a_loss_of_the_optimum():
    """LB > OPT_prune(k) implies OPT_fold(k) > OPT_prune(k), checked by enumeration."""
    rng = np.random.default_rng(5)
    found = 0
    for _ in range(40):
        w = rng.normal(size=(8, 2)) * (rng.random((8, 1)) < 0.6)
        k = 6
        prune = float(prune_error(w, magnitude_prune(w, k)))
        if float(fold_lower_bound(w, k, method="sdp").bound) > prune:
            found += 1
            assert float(exact_fold(w, k).inertia) > prune
    assert found > 0
