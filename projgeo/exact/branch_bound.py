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

Branching takes the undecided pair whose normalised relaxed entry
``Z̃_gh / √(Z̃_gg Z̃_hh)`` is closest to 1/2, must-link first. A node with exactly k groups
is a leaf: its only partition is its groups. The incumbent starts as the best of
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


#: k-means++ restarts of the incumbent after the default fold (the bisecting seeding is
#: deterministic: restarting it with another key finds the same fold). A better start prunes
#: more: on 20×8 gaussian rows the default fold alone missed OPT at 5 of 17 ranks.
RESTARTS = 8
#: ADMM steps a node's bound may still take when its last gain per check, repeated, must
#: reach the incumbent; a node whose bound stalls short of that is branched at once.
HORIZON = 40


@functools.partial(jax.jit, static_argnames=("max_iter",))
def _node_bound(g, e, fixed, k, stop_at, init, *, max_iter: int):
    """Best dual bound ``LB(N)`` (for ``tr g``-normalised ``g``) and the last relaxed ``Z̃``.

    ``fixed`` marks entries forced to 0 (cannot-linked pairs, padding). ADMM starts from
    ``init`` (the parent's state, mapped) and stops once the bound reaches ``stop_at`` (the
    node is pruned), once it stalls short of it (:data:`HORIZON`), once the residuals fall
    below 1e-7, or after ``max_iter`` steps. Returns ``(bound, Z̃, iterations, AdmmState)``.
    """
    best, z, it, _, state = admm_dual_bound(g, e, fixed, k, gerr=0.0, stop_at=stop_at,
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
    sizes = np.bincount(group, minlength=count).astype(ws.dtype)
    means = np.zeros((count, ws.shape[1]), ws.dtype)
    np.add.at(means, group, ws)
    means /= sizes[:, None]
    scatter = float(np.sum((ws - means[group]) ** 2))
    return sizes, means, scatter


def _inertia(ws, labels):
    _, _, scatter = _groups(ws, np.unique(labels, return_inverse=True)[1])
    return scatter


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
      key: ``jax.random`` key of the incumbent's folds (default ``jax.random.key(0)``).

    Returns:
      :class:`ExactFoldBnB`.
    """
    w = _checks.check_weights(w)
    n = w.shape[0]
    k = _checks.check_k(k, n)
    max_nodes = _checks.check_count(max_nodes, "max_nodes")
    max_iter = _checks.check_count(max_iter, "max_iter")
    key = jax.random.key(0) if key is None else key
    ws = np.asarray(w, np.float64 if w.dtype == jnp.float64 else np.float32)
    ws = ws - ws.mean(0)
    top = float(np.max(np.abs(ws)))
    e2 = np.frexp(top)[1] if top > 0 else 0
    ws = np.ldexp(ws, -e2)  # exact power-of-two rescaling; inertia scales by 4^e2
    unit = float(np.ldexp(1.0, 2 * e2))

    def result(labels, value, lb, nodes, proved):
        labels = jnp.asarray(np.asarray(labels, np.int32))  # int32 on the host: no convert op
        return ExactFoldBnB(labels, jnp.asarray(value * unit, w.dtype),
                            jnp.asarray(max(min(lb, value), 0.0) * unit, w.dtype), nodes, proved)

    if k == n:
        return result(np.arange(n), 0.0, 0.0, 0, True)
    if k == 1:
        v = float(np.sum(ws * ws))
        return result(np.zeros(n, int), v, v, 0, True)

    if k == n - 1:  # merge the closest pair: cost ‖w_i − w_j‖²/2, every pair tried
        d2 = np.sum((ws[:, None, :] - ws[None, :, :]) ** 2, axis=-1)
        i, j = np.unravel_index(np.argmin(d2 + np.diag(np.full(n, np.inf))), d2.shape)
        labels = np.arange(n) - (np.arange(n) > max(i, j))
        labels[max(i, j)] = min(i, j)
        v = _inertia(ws, labels)
        return result(labels, v, v, 0, True)

    best_labels, best = None, np.inf
    wj = jnp.asarray(ws)
    for i in range(1 + RESTARTS):  # the deterministic bisecting seeding, then k-means++ draws
        sub = jax.random.fold_in(key, i)
        res = fold(wj, k, key=sub) if i == 0 else fold(wj, k, key=sub, seeding="kmeans++")
        lab = np.asarray(res.labels)
        v = _inertia(ws, lab)
        if v < best:
            best_labels, best = lab, v

    total = float(np.sum(ws * ws))
    slack = tolerance.tolerance(ws.dtype, scale=total, terms=ws.size)
    stack = [(np.arange(n), frozenset(), _cold_start(n, ws.dtype), float(total))]
    nodes, open_bound, floor = 0, np.inf, np.inf  # floor: least bound of a closed subtree
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
        root = np.sqrt(sizes)
        c = (means - (sizes @ means) / n) * root[:, None]
        g = np.zeros((n, n), ws.dtype)
        g[:count, :count] = c @ c.T
        tr = float(np.trace(g))
        e = np.zeros(n, ws.dtype)
        e[:count] = root / np.sqrt(n)
        fixed = np.ones((n, n), bool)
        fixed[:count, :count] = False
        for a, b in cannot:
            fixed[a, b] = fixed[b, a] = True
        scale = tr if tr > 0 else 1.0
        stop_at = (best - rel_gap * best - slack - scatter) / scale
        start = AdmmState(np.where(fixed, 0.0, start.y), start.u,
                          np.asarray(start.rho * parent_scale / scale, ws.dtype))
        # numpy arguments: jit's dispatch converts them more cheaply than jnp.asarray
        lb_rel, z, _, state = _node_bound(g / scale, e, fixed, kk, np.asarray(stop_at, g.dtype),
                                          start, max_iter=max_iter)
        lb = scatter + max(float(lb_rel), 0.0) * scale - slack
        if lb >= best - rel_gap * best - 2 * slack:  # closed up to the gap rule
            floor = min(floor, lb)
            continue
        z = np.asarray(z)[:count, :count]
        diag = np.sqrt(np.maximum(np.diag(z), 1e-300))
        zn = z / diag[:, None] / diag[None, :]
        free = ~fixed[:count, :count] & np.triu(np.ones((count, count), bool), 1)
        if not free.any():  # more than k groups, all pairwise cannot-linked: infeasible
            continue
        score = np.where(free, -np.abs(zn - 0.5), -np.inf)
        a, b = np.unravel_index(np.argmax(score), score.shape)
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
    lower = min(best, open_bound, floor)
    proved = lower >= best - rel_gap * best - 2 * slack
    return result(best_labels, best, lower, nodes, bool(proved))
