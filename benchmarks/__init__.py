"""Benchmarks of projgeo's folding against scikit-learn, faiss and Ward (issue 6).

``python -m benchmarks [--quick] [--json PATH]`` runs, on the same float32 matrices:

* projgeo's :func:`projgeo.fold` (its default seeding, Lloyd, Hartigan, split–merge);
* scikit-learn ``KMeans`` (greedy k-means++, ``n_init=1``, the same Lloyd cap, ``tol=0``);
* faiss-cpu k-means (the same number of Lloyd iterations), when faiss is installed;
* Ward agglomerative clustering (scikit-learn);
* the same-run throughput of a bare ``jnp`` matrix product of the Lloyd step's shape
  (the machine's ceiling) and of one plain Lloyd step;

then a LLaMA-7B-shaped layer at three sizes (time and peak memory, each in a fresh
process) and the batched certified C4 check. Every inertia is recomputed in float64 from
the returned labels by one function, so the methods are compared on equal terms.
Benchmarks measure; they never assert: the JSON says per target whether it was met.

``bash benchmarks/gpu.sh [--dry-run] [OUT.json]`` is one accelerator session in ≤ 8 min:
it installs the CUDA build of jax, runs the test suite, the quick checker and the quick
benchmarks (batched check and two case shapes) and writes one JSON with the devices, each
step's exit status, time and log tail, and both reports. ``--dry-run`` skips the install and
uses tiny settings, so the script is checked on a CPU.
"""
