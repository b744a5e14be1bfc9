"""Batched checks on every visible device: a 1-D mesh over ``jax.devices()``.

A batched check is a function of one instance, ``vmap``-ed over a leading batch axis.
:func:`sharded_vmap` splits that axis over a :class:`jax.sharding.Mesh` of all devices
(``NamedSharding(mesh, P("batch"))``) and lets XLA run each device's slice; instances are
independent, so the results equal the single-device ones (C1–C4 checks, the model zoo).
The batch is padded to a multiple of the device count with copies of its first
instance, and the padding is dropped again.

Several hosts: start every process with :func:`initialize_multihost` (a thin wrapper of
``jax.distributed.initialize``) before any other JAX call; ``jax.devices()`` then lists the
devices of all hosts, the mesh spans them, and each process passes its *own* slice of the
batch (``local=True``). Example, two hosts with one process each::

    # on host i of 2 (same command, PROCESS_ID=i):
    from projgeo.kmeans import sharding
    sharding.initialize_multihost("10.0.0.1:1234", num_processes=2, process_id=i)
    out = sharding.sharded_vmap(check)(my_half_of_the_batch, local=True)
    host = sharding.to_host(out)  # the whole batch's results, on every host

Single-host runs need none of this; to try several devices on one CPU, set
``XLA_FLAGS=--xla_force_host_platform_device_count=4`` before JAX starts.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

AXIS = "batch"


def batch_mesh(devices=None) -> Mesh:
    """A 1-D mesh named ``"batch"`` over ``devices`` (default: all, on every host)."""
    devices = jax.devices() if devices is None else list(devices)
    if not devices:
        raise ValueError("batch_mesh needs at least one device; got none.")
    return Mesh(np.asarray(devices), (AXIS,))


def initialize_multihost(coordinator_address: str | None = None, *,
                         num_processes: int | None = None, process_id: int | None = None,
                         **kwargs) -> None:
    """Join a multi-host run: ``jax.distributed.initialize`` with the same arguments.

    On managed clusters (SLURM, Cloud TPU, …) all arguments may be left out and JAX finds
    them itself. Call once per process, before any other JAX call.
    """
    jax.distributed.initialize(coordinator_address, num_processes, process_id, **kwargs)


def _pad(x, size: int):
    extra = size - x.shape[0]
    if extra == 0:
        return x
    return jnp.concatenate([x, jnp.repeat(x[:1], extra, axis=0)])


def sharded_vmap(fn: Callable, *, mesh: Mesh | None = None) -> Callable:
    """``jit(vmap(fn))`` with the batch axis of every argument split over ``mesh``.

    Args:
      fn: a function of one instance; its arguments are arrays (or pytrees of arrays)
        whose leading axis, after batching, is the batch.
      mesh: default :func:`batch_mesh` over all devices.

    Returns:
      ``run(*args, local=False)``: the batched results, a pytree of arrays sharded over the
      mesh (length = batch). With ``local=True`` (multi-host) each process passes its own
      slice of equal length, and the result is the global batch.

    Raises:
      ValueError: if the arguments disagree on the batch size or it is zero.
    """
    mesh = batch_mesh() if mesh is None else mesh
    sharding = NamedSharding(mesh, P(AXIS))
    batched = jax.jit(jax.vmap(fn), out_shardings=sharding)

    def run(*args, local: bool = False):
        leaves = jax.tree.leaves(args)
        sizes = {np.shape(x)[0] if np.ndim(x) else None for x in leaves}
        size = next(iter(sizes)) if len(sizes) == 1 else None
        if not size:  # several sizes, an unbatched leaf (None) or an empty batch (0)
            raise ValueError(f"sharded_vmap: expected one positive batch size; got {sizes}.")
        if local:
            put = lambda x: jax.make_array_from_process_local_data(sharding, np.asarray(x))  # noqa: E731
            return batched(*jax.tree.map(put, args))
        devices = mesh.devices.size
        padded = -(-size // devices) * devices
        args = jax.tree.map(lambda x: jax.device_put(_pad(jnp.asarray(x), padded), sharding),
                            args)
        return jax.tree.map(lambda y: y[:size], batched(*args))

    return run


def to_host(tree):
    """Results as numpy on this host; on several hosts, every process gets the whole batch."""
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        return multihost_utils.process_allgather(tree, tiled=True)
    return jax.tree.map(np.asarray, tree)
