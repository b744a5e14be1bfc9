"""The benchmark cases of issue 6: shapes, row families, and what ``--quick`` leaves out.

Rows are float32 from :mod:`projgeo.families`: ``gaussian`` (no structure), ``clustered``
(⌈n/4⌉ centres plus noise) and ``low_rank`` (rank ⌈min(n,d)/8⌉ plus 5 % noise), the
trained-like family: trained layers have a few dominant directions and correlated rows.
"""

from __future__ import annotations

import dataclasses

FAMILIES = ("gaussian", "clustered", "low_rank")
TRAINED_LIKE = ("clustered", "low_rank")


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    n: int
    d: int
    k: int
    family: str

    @property
    def id(self) -> str:
        return f"{self.name}/{self.family}"


#: (name, n, d, k): a ResNet-18 conv layer, a LLaMA-130M MLP, and a larger one.
SHAPES = (("resnet18_conv", 512, 4608, 256), ("llama130m_mlp", 2048, 768, 1024),
          ("large", 4096, 1024, 2048))
#: --quick keeps the large shape for one family only, and without scikit-learn there:
#: its greedy k-means++ alone took 106 s and 208 s on that shape on this 2-core machine.
QUICK_LARGE_FAMILIES = ("low_rank",)
QUICK_SKIP_METHODS = {"large": ("sklearn",)}

#: LLaMA-7B MLP: 11008 rows of 4096 inputs folded to 5504 clusters, with two smaller
#: sizes of the same proportions (n, d, k all halved) for the growth law.
LLAMA7B = (11008, 4096, 5504)
SCALE_SIZES = ((2752, 1024, 1376), (5504, 2048, 2752), LLAMA7B)
#: Options of the scale runs: Lloyd, Hartigan and split–merge caps that fit 60 s.
SCALE_OPTIONS = {"max_iter": 3, "refine_iter": 3, "split_merge_iter": 0}

#: Batched certified C4 check (issue 14): 20,000 matrices of 32×16, k = 12, float64, 10
#: Lloyd/Hartigan iterations of projgeo.certified_fold_batch from π_{S*}.
BATCHED = {"batch": 20000, "n": 32, "d": 16, "k": 12, "steps": 10}


def cases(quick: bool) -> list[Case]:
    out = []
    for name, n, d, k in SHAPES:
        fams = QUICK_LARGE_FAMILIES if quick and name == "large" else FAMILIES
        out += [Case(name, n, d, k, f) for f in fams]
    return out


def skipped(quick: bool) -> list[str]:
    """Human-readable list of what ``--quick`` leaves out."""
    if not quick:
        return []
    out = [f"large/{f}: --quick runs the 4096x1024 shape for {QUICK_LARGE_FAMILIES} only"
           for f in FAMILIES if f not in QUICK_LARGE_FAMILIES]
    return out + [f"{name}/*: --quick skips {', '.join(m)} (full runs include it)"
                  for name, m in QUICK_SKIP_METHODS.items()]


def skip_methods(case: Case, quick: bool) -> tuple[str, ...]:
    """Methods ``--quick`` leaves out on this case."""
    return QUICK_SKIP_METHODS.get(case.name, ()) if quick else ()
