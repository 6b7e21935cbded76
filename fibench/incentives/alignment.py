"""Alignment between a reward scheme and a reference (exact Shapley on labelled data).

* ``reward_shares``  values -> shares of one reward budget: negative values are clipped to 0
                     (nobody pays to take part), then normalised to sum 1; all zero -> equal split.
* ``spearman`` / ``kendall``  rank correlation of the raw values (scipy; Kendall is tau-b, which
                     handles ties).  NaN when either side is constant (e.g. the equal split):
                     a rank correlation is undefined there.
* ``l1_distance``    sum_i |share_i - ref_share_i|, in [0, 2].
* ``topk_overlap``   |top_k(values) & top_k(reference)| / k, ties broken by the lower owner
                     index; default k = ceil(K / 3).
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats


def _vec(a, name) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 1 or a.size < 1:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return a


def _pair(a, b):
    a, b = _vec(a, "values"), _vec(b, "reference")
    if a.shape != b.shape:
        raise ValueError(f"values and reference must have the same length, got {a.size} and {b.size}")
    return a, b


def reward_shares(values) -> np.ndarray:
    """Non-negative shares summing to 1 (negatives clipped to 0; all zero -> equal split)."""
    v = np.maximum(_vec(values, "values"), 0.0)
    s = v.sum()
    if s <= 0.0:
        return np.full(v.size, 1.0 / v.size)
    return v / s


def _constant(a) -> bool:
    return bool(np.all(a == a[0]))


def spearman(values, reference) -> float:
    a, b = _pair(values, reference)
    if a.size < 2 or _constant(a) or _constant(b):
        return float("nan")
    return float(stats.spearmanr(a, b).statistic)


def kendall(values, reference) -> float:
    a, b = _pair(values, reference)
    if a.size < 2 or _constant(a) or _constant(b):
        return float("nan")
    return float(stats.kendalltau(a, b).statistic)


def l1_distance(values, reference) -> float:
    a, b = _pair(values, reference)
    return float(np.abs(reward_shares(a) - reward_shares(b)).sum())


def default_k(K: int) -> int:
    return max(1, math.ceil(K / 3))


def top_k(values, k: int) -> np.ndarray:
    """Indices of the k largest values (ties to the lower index)."""
    v = _vec(values, "values")
    return np.argsort(-v, kind="stable")[:k]


def topk_overlap(values, reference, k: int | None = None) -> float:
    a, b = _pair(values, reference)
    if k is None:
        k = default_k(a.size)
    if not 1 <= int(k) <= a.size:
        raise ValueError(f"k must be in [1, {a.size}], got {k}")
    k = int(k)
    return len(set(top_k(a, k).tolist()) & set(top_k(b, k).tolist())) / k


def alignment(values, reference, k: int | None = None) -> dict:
    """{"spearman", "kendall", "l1", "topk"} of ``values`` against ``reference``."""
    return {
        "spearman": spearman(values, reference),
        "kendall": kendall(values, reference),
        "l1": l1_distance(values, reference),
        "topk": topk_overlap(values, reference, k),
    }
