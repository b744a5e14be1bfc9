"""Batched checks sharded over devices give the single-device results (issue 6)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from projgeo import tolerance
from projgeo.kmeans import sharding

ROOT = Path(__file__).resolve().parents[1]
#: 10 matrices over 4 devices: the batch is padded to 12 and cut back.
BATCH, N, D, K = 10, 12, 5, 4

_SCRIPT = f"""
import json, jax
from projgeo import config
config.setup(x64=True)
from projgeo import families
from projgeo.kmeans import sharding
from tests.test_sharding import c4_terms
ws = families.sample_batch("heavy_tailed", jax.random.key(3), {BATCH}, {N}, {D})
out = sharding.to_host(sharding.sharded_vmap(lambda w: c4_terms(w, {K}))(ws))
print(json.dumps({{"devices": len(jax.devices()),
                  **{{k: v.tolist() for k, v in out.items()}}}}))
"""


def c4_terms(w, k: int) -> dict:
    """The certified C4 chain of one matrix, ``E_fold ≤ E_fold(π_S*) ≤ E_prune`` (vmap this)."""
    import jax.numpy as jnp

    import projgeo as pg

    c = pg.certified_fold(w, k)
    return {"e_fold": c.result.inertia, "e_fold_start": c.start_error,
            "e_prune": c.prune_error, "w_sq": jnp.sum(w * w), "labels": c.result.labels}


def _run(devices: int) -> dict:
    env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
           "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", _SCRIPT], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_batched_c4_check_on_four_devices_matches_one_device():
    from projgeo import families

    many = _run(4)
    assert many["devices"] == 4
    ws = families.sample_batch("heavy_tailed", jax.random.key(3), BATCH, N, D)
    one = sharding.to_host(sharding.sharded_vmap(lambda w: c4_terms(w, K),
                                                 mesh=sharding.batch_mesh(jax.devices()[:1]))(ws))
    np.testing.assert_array_equal(np.asarray(many["labels"]), one["labels"])
    for name in ("e_fold", "e_fold_start", "e_prune"):
        assert np.all(tolerance.close(np.asarray(many[name]), one[name], dtype=np.float64,
                                      scale=one["w_sq"], terms=N * D)), name
    kw = dict(dtype=np.float64, scale=one["w_sq"], terms=N * D)
    assert np.all(one["e_fold"] <= one["e_prune"])  # C4(ii): bitwise
    assert np.all(tolerance.leq(one["e_fold_start"], one["e_prune"], **kw))  # C3


def test_sharded_vmap_keeps_order_and_length():
    out = sharding.sharded_vmap(lambda x: 2.0 * x)(np.arange(7.0))
    np.testing.assert_array_equal(np.asarray(out), 2.0 * np.arange(7.0))


def test_sharded_vmap_rejects_mismatched_batches():
    with pytest.raises(ValueError, match="batch size"):
        sharding.sharded_vmap(lambda a, b: a + b)(np.ones(3), np.ones(4))


def test_batch_mesh_needs_a_device():
    with pytest.raises(ValueError, match="at least one device"):
        sharding.batch_mesh([])
