"""Coalition utility of an ensemble of owners: accuracy of a sub-ensemble.

For owners' class probabilities ``proba`` (K, n, C) on n evaluation queries, a coalition S of
owners answers query i with the aggregation rule applied to the owners in S only:

``soft``      soft vote, the mean probability (argmax of the summed probabilities);
``logit``     logit sum, the sum of log-probabilities (a product of experts; classes an owner
              never saw have probability 0, i.e. a -inf logit, clipped at ``-LOGIT_CLIP``).
              A softmax model's logits and log-probabilities differ by a per-query constant,
              so the argmax of their sums is the same (up to the clipping);
``hard``      hard vote, plurality of the owners' own labels;
``weighted``  weighted vote, plurality with non-negative integer weights per owner.

In every rule the argmax breaks ties to the lowest label.  The utility is

    v(S) = fraction of the n queries whose answer equals the reference label,

with labels ``y`` (merit-based, needs labels) or, label-free, with the pseudo-label of the
full ensemble's answer.  **v(empty) = 0**: an empty coalition gives no answer, so it answers
no query correctly (this is also what makes the Shapley values sum to v(N)).

Scores are integers (fixed-point probabilities ``round(p * 2**SCALE_BITS)``, fixed-point
clipped logits, vote counts): a coalition's summed scores and hence v(S) do not depend on
the order in which owners are added, so every value is reproducible bit for bit.  The
ensemble's answer itself is the argmax of the same integer sums (two classes whose float
means differ by less than ~K * 2**-SCALE_BITS count as tied).
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from fibench.kernels import shapley as _ks

RULES = ("soft", "logit", "hard", "weighted")
#: the names used by ``fibench.fi.ensemble`` are accepted too
RULE_ALIASES = {"soft_vote": "soft", "logit_sum": "logit", "hard_vote": "hard", "weighted_vote": "weighted"}
#: fractional bits of the fixed-point probabilities used by the soft vote
SCALE_BITS = 20
#: fractional bits of the fixed-point log-probabilities used by the logit sum
LOGIT_SCALE_BITS = 16
#: log-probabilities are clipped to [-LOGIT_CLIP, 0] (exp(-256) is zero in any practical sense)
LOGIT_CLIP = 256.0


def _check_proba(proba) -> np.ndarray:
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 3:
        raise ValueError(f"proba must have shape (K, n, C), got ndim={proba.ndim}")
    K, n, C = proba.shape
    if K < 1 or n < 1 or C < 1:
        raise ValueError(f"proba must be non-empty, got shape {proba.shape}")
    if not np.all(np.isfinite(proba)):
        raise ValueError("proba must be finite")
    if proba.min() < 0.0 or proba.max() > 1.0 + 1e-9:
        raise ValueError("proba must lie in [0, 1]")
    return proba


def _check_weights(weights, K) -> np.ndarray:
    if weights is None:
        raise ValueError("weights are required for rule='weighted' (non-negative integers, one per owner)")
    w = np.asarray(weights)
    if w.shape != (K,):
        raise ValueError(f"weights must have shape ({K},), got {w.shape}")
    if not np.issubdtype(w.dtype, np.integer):
        wf = w.astype(np.float64)
        if not np.all(np.isfinite(wf)) or np.any(wf != np.round(wf)):
            raise ValueError("weights must be integers (scale and round real weights first)")
        w = wf.astype(np.int64)
    w = w.astype(np.int64)
    if w.min() < 0 or w.max() > 2**30:
        raise ValueError("weights must lie in [0, 2**30]")
    return w


def owner_labels(proba) -> np.ndarray:
    """Each owner's own answer (K, n): argmax of its probabilities, ties to the lowest label."""
    proba = _check_proba(proba)
    return np.argmax(proba, axis=2).astype(np.int64)


def canonical_rule(rule: str) -> str:
    """``soft``/``logit``/``hard``/``weighted`` (also accepts ``soft_vote``, ``logit_sum``, ...)."""
    rule = RULE_ALIASES.get(rule, rule)
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES} (or {tuple(RULE_ALIASES)}), got {rule!r}")
    return rule


def integer_scores(proba, rule: str = "soft", weights=None) -> np.ndarray:
    """Integer per-owner class scores (K, n, C) int64 whose coalition sums realise ``rule``."""
    rule = canonical_rule(rule)
    proba = _check_proba(proba)
    K, n, C = proba.shape
    if rule == "soft":
        return np.rint(np.minimum(proba, 1.0) * float(2**SCALE_BITS)).astype(np.int64)
    if rule == "logit":
        with np.errstate(divide="ignore"):
            lp = np.log(np.minimum(proba, 1.0))
        lp = np.clip(lp, -LOGIT_CLIP, 0.0)
        return np.rint(lp * float(2**LOGIT_SCALE_BITS)).astype(np.int64)
    votes = np.zeros((K, n, C), dtype=np.int64)
    lab = np.argmax(proba, axis=2)
    kk, ii = np.meshgrid(np.arange(K), np.arange(n), indexing="ij")
    if rule == "hard":
        votes[kk, ii, lab] = 1
    else:
        w = _check_weights(weights, K)
        votes[kk, ii, lab] = w[:, None]
    return votes


def aggregate(scores, members=None) -> np.ndarray:
    """Answer (n,) of the coalition ``members`` (all owners if None) from integer scores."""
    scores = np.asarray(scores)
    if members is not None:
        members = list(members)
        if not members:
            raise ValueError("members must be non-empty: the empty coalition gives no answer")
        scores = scores[members]
    return np.argmax(scores.sum(axis=0), axis=1).astype(np.int64)


def _as_mask(coalition, K) -> int:
    if isinstance(coalition, (int, np.integer)):
        mask = int(coalition)
        if not 0 <= mask < (1 << K):
            raise ValueError(f"coalition mask must lie in [0, 2**{K}), got {mask}")
        return mask
    mask = 0
    for k in coalition:
        k = int(k)
        if not 0 <= k < K:
            raise ValueError(f"coalition members must lie in [0, {K}), got {k}")
        mask |= 1 << k
    return mask


class CoalitionGame:
    """The cooperative game v(S) = accuracy of sub-ensemble S (see the module docstring).

    Build it with :meth:`from_proba` (labelled or label-free) or directly from integer scores
    ``(K, n, C)`` and reference labels ``(n,)``.
    """

    def __init__(self, scores, labels):
        scores = np.asarray(scores)
        labels = np.asarray(labels)
        self.D, self.T = _ks.margins(scores, labels)  # validates shapes and dtypes
        self.scores = scores.astype(np.int64, copy=False)
        self.labels = labels.astype(np.int64, copy=False)
        self.K, self.n, self.C = scores.shape
        self._counts = None
        self._full = None

    @classmethod
    def from_proba(cls, proba, y=None, rule: str = "soft", weights=None) -> "CoalitionGame":
        """Game on owners' probabilities; ``y=None`` gives the label-free game (pseudo-labels =
        the full ensemble's answer)."""
        scores = integer_scores(proba, rule, weights)
        if y is None:
            labels = aggregate(scores)
        else:
            labels = np.asarray(y)
            if labels.shape != (scores.shape[1],):
                raise ValueError(f"y must have shape ({scores.shape[1]},), got {labels.shape}")
            if not np.issubdtype(labels.dtype, np.integer):
                raise ValueError(f"y must be integer class labels, got dtype {labels.dtype}")
        return cls(scores, labels)

    # -- counts (integers) ---------------------------------------------------------------
    def count(self, coalition) -> int:
        """Number of queries answered correctly by ``coalition`` (iterable of owners or bit mask)."""
        mask = _as_mask(coalition, self.K)
        return int(self.counts([mask])[0])

    def count_members(self, members) -> int:
        """Count of one coalition given as a boolean membership vector (K,) — any K (the bit
        masks of :meth:`counts` stop at 62 owners): the margin form summed over the members in
        int64, a query counts iff every margin stays > 0 (``fibench.kernels.shapley``)."""
        m = np.asarray(members)
        if m.shape != (self.K,) or m.dtype != bool:
            raise ValueError(f"members must be a boolean vector of shape ({self.K},), got {m.shape} {m.dtype}")
        if not m.any():
            return 0
        R = self.T.astype(np.int64) + self.D[m].astype(np.int64).sum(axis=0)
        return int((R.reshape(-1, self.n).min(axis=0) > 0).sum())

    def counts(self, masks) -> np.ndarray:
        """Counts of coalitions given as bit masks (owner k = bit k); K <= 62."""
        if self.K > 62:
            raise ValueError(f"K={self.K}: bit-mask coalitions need K <= 62; use count_members or permutation sampling")
        masks = np.ascontiguousarray(masks, dtype=np.int64).reshape(-1)
        if masks.size and (masks.min() < 0 or masks.max() >= (1 << self.K)):
            raise ValueError(f"masks must lie in [0, 2**{self.K})")
        out = np.zeros(masks.size, dtype=np.int64)
        _ks._subset_counts(self.D, self.T, np.int64(self.n), masks, out)
        return out

    def all_counts(self) -> np.ndarray:
        """Counts of all 2^K coalitions (int32, indexed by bit mask), Gray-code enumeration; K <= 20."""
        if self._counts is None:
            if self.K > _ks.MAX_EXACT_PLAYERS:
                raise ValueError(
                    f"K={self.K} owners: exact enumeration needs K <= {_ks.MAX_EXACT_PLAYERS}; "
                    "use monte_carlo_shapley"
                )
            out = np.zeros(1 << self.K, dtype=np.int32)
            _ks._gray_counts(self.D, self.T, np.int64(self.n), np.int64(_ks._chunk_bits(self.K)), out)
            self._counts = out
        return self._counts

    @property
    def full_count(self) -> int:
        if self._full is None:
            self._full = self.count((1 << self.K) - 1) if self.K <= 62 else self.count_members(np.ones(self.K, bool))
        return self._full

    # -- utilities (accuracies) ----------------------------------------------------------
    def value(self, coalition) -> float:
        """v(S): accuracy of the sub-ensemble ``coalition``; v(empty) = 0."""
        return self.count(coalition) / self.n

    def all_values(self) -> np.ndarray:
        """v(S) for all 2^K coalitions (float64, indexed by bit mask)."""
        return self.all_counts() / float(self.n)

    @property
    def full_value(self) -> float:
        return self.full_count / self.n


def coalition_utility(proba, y, coalition: Iterable[int], rule: str = "soft", weights=None) -> float:
    """Accuracy on labels ``y`` of the sub-ensemble ``coalition`` (label-free if ``y`` is None)."""
    return CoalitionGame.from_proba(proba, y, rule, weights).value(coalition)
