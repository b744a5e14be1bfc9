"""One large fold in a fresh process: compile and run time, XLA and process peak memory.

``python -m benchmarks.scale N D K [OPTIONS_JSON]`` prints one JSON line. The parent
(:mod:`benchmarks.cli`) runs it per size, so that each peak RSS belongs to one fold.
"""

from __future__ import annotations

import json
import math
import resource
import sys
import time
from pathlib import Path


def measure(n: int, d: int, k: int, options: dict) -> dict:
    import jax
    import jax.numpy as jnp

    from projgeo import families
    from projgeo.kmeans import lloyd as km

    w = jax.block_until_ready(families.sample("low_rank", jax.random.key(0), n, d, jnp.float32))
    rss_data = _rss_bytes()
    opts = {"max_iter": 300, "refine_iter": 1000, "split_merge_iter": 16, **options}
    cap = km.capacity(n, k)
    # The bisecting seeding, the default's above n = 8192 (the 7B layer): the smaller sizes
    # keep it too, so that the three sizes measure one algorithm (Ward-like merges would
    # hold an n×n matrix there; benchmarks.pareto times them).
    static = dict(cap=cap, n_local_trials=2 + int(math.log(cap)), seeding="bisect", warm=False)
    args = (w, jnp.zeros(n, jnp.int32), jax.random.key(1), jnp.int32(k),
            km.options(**opts, dtype=w.dtype))
    t0 = time.perf_counter()
    compiled = km._fold_kernel.lower(*args, **static).compile()
    t_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = jax.block_until_ready(compiled(*args))
    t_run = time.perf_counter() - t0
    mem = compiled.memory_analysis()
    xla = None if mem is None else {
        "temp_bytes": int(mem.temp_size_in_bytes),
        "argument_bytes": int(mem.argument_size_in_bytes),
        "output_bytes": int(mem.output_size_in_bytes)}
    return {"n": n, "d": d, "k": k, "dtype": "float32", "family": "low_rank",
            "options": opts, "compile_seconds": t_compile, "run_seconds": t_run,
            "total_seconds": t_compile + t_run, "inertia": float(res.inertia),
            "iterations": int(res.iterations), "converged": bool(res.converged),
            "peak_rss_bytes": _rss_bytes(), "rss_after_data_bytes": rss_data, "xla_memory": xla}


def _rss_bytes() -> int:
    """This process's peak RSS since its ``exec``: ``VmHWM`` of ``/proc/self/status``.
    (``ru_maxrss`` also counts the memory held before ``exec``, the parent's after a fork:
    the benchmark process's own peak. Without ``/proc``, ru_maxrss is the fallback.)"""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


if __name__ == "__main__":
    n, d, k = (int(x) for x in sys.argv[1:4])
    options = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    print(json.dumps(measure(n, d, k, options)))
