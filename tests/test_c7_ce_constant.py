"""C7(e): the cross-entropy constant √2 is attained, so no smaller constant is a bound.

``∇_z CE(z, y) = softmax(z) − e_y`` has norm ``√(||p||² − 2p_y + 1)``, which tends to √2 when
the softmax puts its mass on one wrong class. A small step along that gradient changes the
loss by ``≈ √2 ·`` the step, so ``ce_bound`` (``√2 ||z − z'||``) is tight within 1 %, and a
bound with the constant 1 would be violated.
"""

from __future__ import annotations

import numpy as np
import pytest

from projgeo import bounds


@pytest.mark.parametrize("classes", [2, 10])
def test_the_cross_entropy_bound_is_attained_within_one_percent(classes):
    z = np.zeros(classes)
    z[1] = 30.0  # softmax ≈ e_1, label 0: the gradient ≈ e_1 − e_0, norm ≈ √2
    p = np.exp(z - z.max())
    p /= p.sum()
    g = p - np.eye(classes)[0]
    step = 1e-4 * g / np.linalg.norm(g)
    z2 = z + step
    gap = abs(float(bounds.cross_entropy(z2, 0)) - float(bounds.cross_entropy(z, 0)))
    bound = float(bounds.ce_bound(np.linalg.norm(z2 - z)))
    assert gap <= bound * (1 + 1e-9)
    assert gap >= 0.99 * bound, (gap, bound)
    assert bounds.CE_LIPSCHITZ == pytest.approx(np.sqrt(2.0), rel=1e-15)
