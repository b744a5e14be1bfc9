"""Exact ``OPT_fold(k)`` beyond enumeration: branch and bound on Peng–Wei SDP bounds (C4, C5).

Enumeration (:mod:`projgeo.exact`) stops at ``n = 10`` rows. Above that, this module proves
optimality instead of trying every partition: a depth-first search over **must-link** /
**cannot-link** decisions on pairs of rows, each node bounded below by the SDP relaxation of
:mod:`projgeo.exact.lower_bounds` restricted to the node's decisions, and pruned when that bound
reaches the best fold known (the incumbent).

A node's must-links merge rows into groups ``g`` of sizes ``m_g`` with means ``c_g``. Any
partition of the groups has

    E_fold = Σ_g scatter_g + tr G̃ − ⟨G̃, Z̃⟩,   G̃ = D^{1/2}(C − 1μᵀ)(C − 1μᵀ)ᵀD^{1/2},

with ``D = diag(m)``, ``μ`` the mean row and ``Z̃ = D^{1/2} Z D^{1/2}`` the partition's
projector: symmetric, ``Z̃ ⪰ 0``, entrywise ``≥ 0``, ``Z̃ e = e`` for ``e = D^{1/2}1/√n``,
rank k, and ``Z̃_gh = 0`` for every cannot-linked pair. The relaxation keeps all of these but
the rank, replaced by ``tr Z̃ = k``; its dual bound ``LB(N)`` (any ``N ≥ 0`` on free pairs,
any sign on cannot-linked ones) is valid however early ADMM stops, as in
:func:`projgeo.fold_lower_bound`. The problem is padded to ``n`` groups (padding has weight
0 and is forced to 0), so one compiled bound serves every node and every k of a shape.

Two cheap rules cut pairs before any SDP. Merging groups g and h costs at least
``Σ scatter + m_g m_h/(m_g + m_h)·‖c_g − c_h‖²`` (``‖w_i − w_j‖²/2`` for two rows), so a
pair whose merge alone reaches the closing threshold is cannot-linked at that node (its
forbidden completions are no better than the incumbent). At the root of each (sub)problem,
where such pairs split the rows into several connected components of the "may share a
cluster" graph, every component is solved alone for each number of clusters it may take
(recursively, centred on its own rows, so its bound has its own, finer, scale: near-duplicate
rows whose OPT is 1e-12 of ``‖W‖²`` are resolved to the relative gap) and the cheapest
allocation of the k clusters is the optimum; sub-problems start from a host-side incumbent
(Ward's agglomeration and farthest-first seeds, each polished by Hartigan moves).

Branching takes the undecided pair whose normalised relaxed entry
``Z̃_gh / √(Z̃_gg Z̃_hh)`` is closest to 0.8 (:data:`BRANCH_AT`), must-link first. A node
with exactly k groups is a leaf: its only partition is its groups. The incumbent starts as
the best of a
host-side heuristic (Ward's agglomeration and a farthest-first seeding from every row, each
polished by Hartigan moves; no compilation) and, where a ``key`` is given, of
:func:`projgeo.fold` and a few k-means++ restarts. Each child's ADMM starts from its
parent's state, and a node whose bound stalls short of the incumbent is branched at once.
The search ends with ``lower_bound = min(incumbent, bounds of the open nodes) = inertia``
up to ``rel_gap``.

Reference: THEORY.md C4, C5; Peng and Wei (2007); Piccialli, Sudoso and Wiegele, "SOS-SDP:
an exact solver for minimum sum-of-squares clustering", INFORMS J. Comput. 34 (2022).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from projgeo import _checks, tolerance
from projgeo.exact.enumeration import _projector
from projgeo.exact.lower_bounds import AdmmState, admm_dual_bound
from projgeo.kmeans.lloyd import fold
from projgeo.projectors import FoldProjector

#: Default relative gap at which a node is pruned (``LB ≥ (1 − rel_gap)·incumbent``).
REL_GAP = 1e-9


class ExactFoldBnB(NamedTuple):
    """An optimal fold proved by branch and bound.

    Attributes:
      labels: (n,) int32 cluster of each row, in ``[0, k)``.
      inertia: its inertia, ``OPT_fold(k)`` when ``proved``.
      lower_bound: certified ``≤ OPT_fold(k)``: the least bound of any closed or open
        subtree; within ``rel_gap`` of ``inertia`` when ``proved``.
      nodes: search-tree nodes bounded.
      proved: ``lower_bound ≥ (1 − rel_gap)·inertia − 2·tol``; False only if ``max_nodes``
        stopped the search first.
    """

    labels: Int[Array, " n"]
    inertia: Float[Array, ""]
    lower_bound: Float[Array, ""]
    nodes: int
    proved: bool

    def projector(self) -> FoldProjector:
        """The folding projector ``P_π`` of the best partition found."""
        return _projector(self.labels)


#: k-means++ restarts of the incumbent after the default fold, where a ``key`` is given (the
#: default seeding ignores the key at these n: Ward-like merges use none, bisection none
#: where d ≤ SKETCH_DIM). On the 405 searches of the checker's 14×4, 20×8 and 20×1 matrices
#: (k = 2…n−2) the host heuristic alone started at OPT in 401, these nine folds in 400
#: (measured while the default fold seeded by bisection); but the folds compile per shape
#: and k bucket (≈ 35 s of CPU for 20×1 and 20×8 at load 5.5), so they are opt-in.
RESTARTS = 8
#: ADMM steps a node's bound may still take when its last gain per check, repeated, must
#: reach the incumbent; a node whose bound stalls short of that is branched at once.
HORIZON = 40
#: Branching picks the free pair whose normalised relaxed entry ``Z̃_gh/√(Z̃_gg Z̃_hh)`` is
#: closest to this: a pair the relaxation leans to keep together, but not surely. Nodes of
#: the searches over k = 2…19 of 20×8 matrices (optimal incumbent given; 0.5 → 0.8): gaussian
#: seeds 0, 1, 2: 3546 → 2130, 1200 → 420, 1509 → 1083; heavy_tailed seed 0: 452 → 178;
#: clustered seed 0: 256 → 150 (0.75 and 0.85 within ±20 % of 0.8; 0.95 and 0.35 worse).
BRANCH_AT = 0.8


@functools.partial(jax.jit, static_argnames=("max_iter",))
def _node_bound(g, e, fixed, k, stop_at, init, *, max_iter: int):
    """Best dual bound ``LB(N)`` (for ``tr g``-normalised ``g``) and the last relaxed ``Z̃``.

    ``fixed`` marks entries forced to 0 (cannot-linked pairs, padding). ADMM starts from
    ``init`` (the parent's state, mapped) and stops once the bound reaches ``stop_at`` (the
    node is pruned), once it stalls short of it (:data:`HORIZON`), once the residuals fall
    below 1e-7, or after ``max_iter`` steps. Returns ``(bound, Z̃, iterations, AdmmState)``.
    """
    best, z, it, _, state, _ = admm_dual_bound(g, e, fixed, k, gerr=0.0, stop_at=stop_at,
                                            tol=1e-7, max_iter=max_iter, every=5, init=init,
                                            horizon=HORIZON)
    return best, z, it, state


def _cold_start(n, dtype):
    """The ADMM start of the root: ``Y = 0`` (projected by the first step), ``U = 0``."""
    z = np.zeros((n, n), dtype)
    return AdmmState(z, z.copy(), np.asarray(1.0 / n, dtype))


def _merged_start(state, group_of, sizes, count):
    """A child's start from its parent's state after merging groups (``group_of[old] = new``).

    ``T`` maps the parent's groups to the child's, ``T[new, old] = √(m_old / m_new)``; a
    parent's ``Z̃`` restricted to the child is ``Tᵀ Z̃' T``, so ``T Y Tᵀ`` and ``T U Tᵀ``
    carry its iterate over (and a parent multiplier ``N`` gives the child's ``T N Tᵀ`` of the
    same bound).
    """
    y, u, rho = (np.asarray(x) for x in state)
    n = y.shape[0]
    new_count = int(group_of.max()) + 1
    new_sizes = np.bincount(group_of, weights=sizes, minlength=new_count)
    t = np.zeros((n, n), y.dtype)
    t[group_of, np.arange(count)] = np.sqrt(sizes / new_sizes[group_of])
    return AdmmState(t @ y @ t.T, t @ u @ t.T, rho)


def _groups(ws, group):
    """Sizes, means and within-group scatter of the groups ``0…G−1`` named by ``group``."""
    count = int(group.max()) + 1
    onehot = np.zeros((count, ws.shape[0]), ws.dtype)
    onehot[group, np.arange(ws.shape[0])] = 1.0
    sizes = onehot.sum(axis=1)
    means = onehot @ ws / sizes[:, None]
    scatter = float(np.sum((ws - means[group]) ** 2))
    return sizes, means, scatter


def _inertia(ws, labels):
    _, _, scatter = _groups(ws, np.unique(labels, return_inverse=True)[1])
    return scatter


def _hartigan(ws, labels, k):
    """Single-row moves that lower the inertia (exact Hartigan gains), until none does."""
    labels = np.asarray(labels).copy()
    sizes = np.bincount(labels, minlength=k).astype(ws.dtype)
    sums = np.zeros((k, ws.shape[1]), ws.dtype)
    np.add.at(sums, labels, ws)
    for _ in range(50 * ws.shape[0]):
        means = sums / np.maximum(sizes, 1)[:, None]
        d2 = np.sum((ws[:, None, :] - means[None]) ** 2, axis=-1)
        own = sizes[labels]
        # a row alone in its cluster stays (k non-empty clusters): it gains -inf
        leave = np.where(own > 1, own / np.maximum(own - 1, 1) * d2[np.arange(len(ws)), labels],
                         -np.inf)
        gain = leave[:, None] - sizes / (sizes + 1) * d2  # inertia drop of moving i to j
        gain[np.arange(len(ws)), labels] = -np.inf
        i, j = np.unravel_index(np.argmax(gain), gain.shape)
        if not gain[i, j] > 1e-12 * max(float(np.max(d2)), 1e-300):
            break
        a = labels[i]
        sizes[a] -= 1
        sizes[j] += 1
        sums[a] -= ws[i]
        sums[j] += ws[i]
        labels[i] = j
    return labels


def _heuristic(ws, k):
    """A deterministic incumbent of a sub-problem (host, NumPy; n is small): Ward's
    agglomeration and farthest-first seeds from every row, each polished by Hartigan moves."""
    n = ws.shape[0]
    group = np.arange(n)
    for _ in range(n - k):  # Ward: each step merges the pair of least merge cost
        sizes, means, _ = _groups(ws, group)
        d2 = np.sum((means[:, None] - means[None]) ** 2, axis=-1)
        cost = sizes[:, None] * sizes[None] / (sizes[:, None] + sizes[None]) * d2
        np.fill_diagonal(cost, np.inf)
        a, b = np.unravel_index(np.argmin(cost), cost.shape)
        group = np.unique(np.where(group == max(a, b), min(a, b), group),
                          return_inverse=True)[1]
    starts = [group]
    d2 = np.sum((ws[:, None] - ws[None]) ** 2, axis=-1)
    for first in range(n):
        seeds = [first]
        for _ in range(k - 1):
            seeds.append(int(np.argmax(np.min(d2[:, seeds], axis=1))))
        starts.append(np.argmin(d2[:, seeds], axis=1))
    best_labels = _hartigan(ws, starts[0], k)  # Ward's k clusters, polished
    best = _inertia(ws, best_labels)
    seen = set()  # farthest-first seeds from different rows often give the same partition
    for lab in starts[1:]:
        if len(np.unique(lab)) < k or (key := _canonical(lab).tobytes()) in seen:
            continue
        seen.add(key)
        lab = _hartigan(ws, np.unique(lab, return_inverse=True)[1], k)
        v = _inertia(ws, lab)
        if v < best and len(np.unique(lab)) == k:
            best_labels, best = lab, v
    return best_labels, best


def _canonical(labels):
    """``labels`` renumbered in order of first appearance (equal partitions, equal arrays)."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), int)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[inverse]


def _components(free):
    """Connected components (labels ``0…r−1``, in order of first row) of the graph ``free``."""
    n = free.shape[0]
    comp = np.full(n, -1)
    r = 0
    for s in range(n):
        if comp[s] >= 0:
            continue
        todo = [s]
        comp[s] = r
        while todo:
            i = todo.pop()
            for j in np.flatnonzero(free[i] & (comp < 0)):
                comp[j] = r
                todo.append(int(j))
        r += 1
    return comp, r


class _Found(NamedTuple):
    labels: np.ndarray
    inertia: float
    lower: float
    nodes: int


def _closed_form(ws, k):
    """``k = n``, ``k = 1`` and ``k = n − 1`` (merge the closest pair), or None."""
    n = ws.shape[0]
    if k == n:
        return _Found(np.arange(n), 0.0, 0.0, 0)
    if k == 1:
        v = _inertia(ws, np.zeros(n, int))
        return _Found(np.zeros(n, int), v, v, 0)
    if k == n - 1:  # merge the closest pair: cost ‖w_i − w_j‖²/2, every pair tried
        d2 = np.sum((ws[:, None, :] - ws[None, :, :]) ** 2, axis=-1)
        i, j = np.unravel_index(np.argmin(d2 + np.diag(np.full(n, np.inf))), d2.shape)
        labels = np.arange(n) - (np.arange(n) > max(i, j))
        labels[max(i, j)] = min(i, j)
        v = _inertia(ws, labels)
        return _Found(labels, v, v, 0)
    return None


def _closing(best, rel_gap, slack):
    """The bound at or above which a node closes: ``(1 − rel_gap)·best − 2·slack``."""
    return best - rel_gap * best - 2 * slack


def _slack(ws):
    return tolerance.tolerance(ws.dtype, scale=float(np.sum(ws * ws)), terms=ws.size)


def _solve(ws, k, pad, labels: np.ndarray | None, best, rel_gap, budget, max_iter) -> _Found:
    """``OPT_fold(k)`` of the rows ``ws`` (centred), with node bounds padded to ``pad``.

    Starts from the incumbent ``(labels, best)`` (:func:`_heuristic` where None). Two rows
    whose merge alone costs ``‖w_i − w_j‖²/2`` at or above the closing threshold are never
    together in a partition that beats the incumbent; where such pairs split the rows into
    several components, each component is solved alone (its own, finer, scale) for every
    number of clusters it may take, and the cheapest allocation of the k clusters wins.
    """
    closed = _closed_form(ws, k)
    if closed is not None:
        return closed
    if labels is None:
        labels, best = _heuristic(ws, k)
    n = ws.shape[0]
    slack = _slack(ws)
    threshold = _closing(best, rel_gap, slack)
    d2 = np.sum((ws[:, None] - ws[None]) ** 2, axis=-1) / 2 - slack  # certified merge cost
    free = d2 < threshold
    np.fill_diagonal(free, False)
    comp, r = _components(free | np.eye(n, dtype=bool))
    if r == 1:
        return _search(ws, k, pad, labels, best, slack, rel_gap, budget, max_iter)
    excluded = float(np.min(np.where(comp[:, None] != comp[None], d2, np.inf)))
    if r > k:  # every partition into k clusters merges two components: none beats best
        return _Found(labels, best, min(best, excluded), 0)
    # options[c][kc] = the component's optimum at kc clusters (each takes at least one)
    sizes = np.bincount(comp)
    nodes, options = 0, []
    for c in range(r):
        rows = np.flatnonzero(comp == c)
        sub = ws[rows] - ws[rows].mean(0)
        opts = {}
        for kc in range(max(1, k - (n - sizes[c])), min(sizes[c], k - r + 1) + 1):
            f = _solve(sub, kc, pad, None, None, rel_gap, max(budget - nodes, 1), max_iter)
            nodes += f.nodes
            opts[kc] = (rows, f)
        options.append(opts)
    # cheapest allocation (inertia), and the least bound over allocations (lower)
    inf = (np.inf, None)
    table = {0: (0.0, [])}
    low = {0: 0.0}
    for opts in options:
        nxt, nlow = {}, {}
        for used, (v, picks) in table.items():
            for kc, (_, f) in opts.items():
                if used + kc <= k and v + f.inertia < nxt.get(used + kc, inf)[0]:
                    nxt[used + kc] = (v + f.inertia, picks + [kc])
        for used, v in low.items():
            for kc, (_, f) in opts.items():
                if used + kc <= k:
                    nlow[used + kc] = min(nlow.get(used + kc, np.inf), v + f.lower)
        table, low = nxt, nlow
    _, picks = table[k]
    out = np.zeros(n, int)
    offset = 0
    for opts, kc in zip(options, picks, strict=True):
        rows, f = opts[kc]
        out[rows] = offset + np.asarray(f.labels)
        offset += kc
    value = _inertia(ws, out)
    if value < best:
        labels, best = out, value
    return _Found(labels, best, min(best, excluded, low[k]), nodes)


def exact_fold_bnb(w: Float[Array, "n d"], k: int, *, max_nodes: int = 20000,
                   max_iter: int = 200, rel_gap: float = REL_GAP, key=None) -> ExactFoldBnB:
    """``OPT_fold(k)`` and an optimal partition, proved by SDP branch and bound (C4, C5).

    Host-side search over one compiled bound per ``(n, dtype)`` (see the module docstring);
    ``k`` does not recompile.

    Args:
      w: (n, d) floating weights, finite (float64 recommended: the gap is relative 1e-9).
      k: number of clusters, ``1 ≤ k ≤ n``.
      max_nodes: stop after this many bounded nodes (``proved`` is then False).
      max_iter: ADMM iterations per node.
      rel_gap: a node is closed when its bound ``LB`` (already lowered by the tolerance
        rule's ``tol`` for ``‖W_c‖²``) satisfies ``LB ≥ (1 − rel_gap)·incumbent − 2·tol``:
        a relative gap, with the rounding floor of the tolerance rule where OPT is tiny.
      key: optional ``jax.random`` key: where given, :func:`projgeo.fold` (its default
        seeding, then :data:`RESTARTS` k-means++ draws) also competes for the incumbent;
        by default only the deterministic host heuristic does (no compilation).

    Returns:
      :class:`ExactFoldBnB`.
    """
    w = _checks.check_weights(w)
    n = w.shape[0]
    k = _checks.check_k(k, n)
    max_nodes = _checks.check_count(max_nodes, "max_nodes")
    max_iter = _checks.check_count(max_iter, "max_iter")
    ws = np.asarray(w, np.float64 if w.dtype == jnp.float64 else np.float32)
    ws = ws - ws.mean(0)
    top = float(np.max(np.abs(ws)))
    e2 = np.frexp(top)[1] if top > 0 else 0
    ws = np.ldexp(ws, -e2)  # exact power-of-two rescaling; inertia scales by 4^e2
    unit = float(np.ldexp(1.0, 2 * e2))

    def result(f: _Found, proved):
        labels = jnp.asarray(np.asarray(f.labels, np.int32))  # int32 on the host: no convert
        return ExactFoldBnB(labels, jnp.asarray(f.inertia * unit, w.dtype),
                            jnp.asarray(max(min(f.lower, f.inertia), 0.0) * unit, w.dtype),
                            f.nodes, proved)

    closed = _closed_form(ws, k)
    if closed is not None:
        return result(closed, True)

    best_labels, best = _heuristic(ws, k)  # host: Ward, farthest-first seeds, Hartigan moves
    if key is not None:
        wj = jnp.asarray(ws)
        for i in range(1 + RESTARTS):  # the default seeding, then k-means++ draws
            sub = jax.random.fold_in(key, i)
            res = fold(wj, k, key=sub) if i == 0 else fold(wj, k, key=sub, seeding="kmeans++")
            lab = np.asarray(res.labels)
            v = _inertia(ws, lab)
            if v < best:
                best_labels, best = lab, v
    f = _solve(ws, k, n, best_labels, best, rel_gap, max_nodes, max_iter)
    slack = _slack(ws)
    proved = f.lower >= _closing(f.inertia, rel_gap, slack)
    return result(f, bool(proved))


def _search(ws, k, pad, best_labels, best, slack, rel_gap, max_nodes, max_iter) -> _Found:
    """Depth-first branch and bound on one component (see the module docstring)."""
    n = ws.shape[0]
    total = float(np.sum(ws * ws))
    stack = [(np.arange(n), frozenset(), _cold_start(pad, ws.dtype), float(total))]
    nodes, open_bound, floor = 0, np.inf, np.inf  # floor: least bound of a closed subtree
    excluded = np.inf  # least certified cost of a merge the pair rule forbade
    kk = jnp.asarray(k, jnp.int32)
    while stack:
        group, cannot, start, parent_scale = stack.pop()
        sizes, means, scatter = _groups(ws, group)
        count = len(sizes)
        if count == k:  # leaf: each group its own cluster
            floor = min(floor, scatter)
            if scatter < best:
                best_labels, best = group.copy(), scatter
            continue
        if nodes >= max_nodes:
            open_bound = min(open_bound, scatter)
            continue
        nodes += 1
        threshold = _closing(best, rel_gap, slack)
        # pair rule: merging groups g, h costs at least m_g m_h/(m_g + m_h)·‖c_g − c_h‖²
        dm = np.sum((means[:, None] - means[None]) ** 2, axis=-1)
        merge = scatter + sizes[:, None] * sizes[None] / (sizes[:, None] + sizes[None]) * dm
        merge = merge - slack
        rule = merge >= threshold
        np.fill_diagonal(rule, False)
        root = np.sqrt(sizes)
        c = (means - (sizes @ means) / n) * root[:, None]
        g = np.zeros((pad, pad), ws.dtype)
        g[:count, :count] = c @ c.T
        tr = float(np.trace(g))
        e = np.zeros(pad, ws.dtype)
        e[:count] = root / np.sqrt(n)
        linked_apart = _cannot_mask(cannot, count)
        fixed = np.ones((pad, pad), bool)
        fixed[:count, :count] = rule | linked_apart
        newly = rule & ~linked_apart
        if newly.any():
            excluded = min(excluded, float(np.min(merge[newly])))
        scale = tr if tr > 0 else 1.0
        stop_at = (best - rel_gap * best - slack - scatter) / scale
        start = AdmmState(np.where(fixed, 0.0, start.y), start.u,
                          np.asarray(start.rho * parent_scale / scale, ws.dtype))
        # numpy arguments: jit's dispatch converts them more cheaply than jnp.asarray
        lb_rel, z, _, state = _node_bound(g / scale, e, fixed, kk, np.asarray(stop_at, g.dtype),
                                          start, max_iter=max_iter)
        lb = scatter + max(float(lb_rel), 0.0) * scale - slack
        if lb >= threshold:  # closed up to the gap rule
            floor = min(floor, lb)
            continue
        z = np.asarray(z)[:count, :count]
        diag = np.sqrt(np.maximum(np.diag(z), 1e-300))
        zn = z / diag[:, None] / diag[None, :]
        free = ~fixed[:count, :count] & np.triu(np.ones((count, count), bool), 1)
        if not free.any():  # more than k groups, all pairwise apart: none beats best
            continue
        a, b = _pick(zn, free)
        state = AdmmState(*(np.asarray(x) for x in state))
        # cannot-link child (explored second), then must-link child (explored first)
        stack.append((group, cannot | {(int(a), int(b))}, state, scale))
        if count - 1 >= k:
            old = np.arange(count)
            group_of = np.where(old == b, a, old)
            group_of = group_of - (group_of > b)  # b's slot removed, later groups shift down
            relabel = group_of[group]
            moved = frozenset(tuple(sorted((int(group_of[x]), int(group_of[y]))))
                              for x, y in cannot)
            stack.append((relabel, moved, _merged_start(state, group_of, sizes, count),
                          scale))
    lower = min(best, open_bound, floor, excluded)
    return _Found(best_labels, best, lower, nodes)


def _pick(zn, free):
    """The branching pair: the free pair whose normalised relaxed entry is closest to
    :data:`BRANCH_AT` (``a < b``)."""
    score = np.where(free, -np.abs(zn - BRANCH_AT), -np.inf)
    a, b = np.unravel_index(np.argmax(score), score.shape)
    return a, b


def _cannot_mask(cannot, count):
    """(count, count) mask of the cannot-linked pairs."""
    m = np.zeros((count, count), bool)
    for a, b in cannot:
        m[a, b] = m[b, a] = True
    return m
