"""Aggregation rules of an ensemble of K owners, baselines and metrics.

Owner outputs are stacked as ``(K, n, C)`` arrays (owner, query, class):

``soft_vote``      mean of the owners' probabilities;
``logit_sum``      sum of the owners' logits (an unseen class contributes ``UNSEEN_LOGIT``);
``hard_vote``      plurality of the owners' own labels (each owner's argmax; ties inside an
                   owner and between classes go to the lowest label);
``weighted_vote``  plurality with one non-negative weight per owner (by default the owner's
                   validation accuracy).

Every rule returns the aggregated scores ``(n, C)``; the ensemble's label is their argmax with
ties to the lowest label (``np.argmax``).  ``RULES`` maps names to :class:`Rule` objects that
say which owner output (``proba``, ``logits`` or ``votes``) a rule consumes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


def _check_stack(outputs, name="outputs") -> np.ndarray:
    a = np.asarray(outputs, dtype=np.float64)
    if a.ndim != 3 or min(a.shape) < 1:
        raise ValueError(f"{name} must have shape (K, n, C) with K, n, C >= 1, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return a


def to_votes(outputs) -> np.ndarray:
    """(K, n, C) one-hot of each owner's argmax (ties to the lowest label)."""
    a = _check_stack(outputs)
    K, n, C = a.shape
    lab = np.argmax(a, axis=2)
    v = np.zeros_like(a)
    v[np.arange(K)[:, None], np.arange(n)[None, :], lab] = 1.0
    return v


def soft_vote(proba) -> np.ndarray:
    """Mean probability over owners, (n, C)."""
    return _check_stack(proba, "proba").mean(axis=0)


def logit_sum(logits) -> np.ndarray:
    """Sum of logits over owners, (n, C)."""
    return _check_stack(logits, "logits").sum(axis=0)


def hard_vote(outputs) -> np.ndarray:
    """Vote counts (n, C): each owner votes for its own argmax (any per-owner scores accepted)."""
    return to_votes(outputs).sum(axis=0)


def weighted_vote(outputs, weights) -> np.ndarray:
    """Weighted vote counts (n, C): owner k's vote counts ``weights[k]``."""
    v = to_votes(outputs)
    w = check_weights(weights, v.shape[0])
    return np.tensordot(w, v, axes=(0, 0))


def check_weights(weights, K: int) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (K,):
        raise ValueError(f"weights must have one value per owner (shape ({K},)), got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and >= 0")
    return w


def accuracy_weights(val_outputs, y_val) -> np.ndarray:
    """Per-owner validation accuracy (the weights of ``weighted_vote``)."""
    a = _check_stack(val_outputs, "val_outputs")
    y = np.asarray(y_val)
    if y.shape != (a.shape[1],):
        raise ValueError(f"y_val must have one label per validation query ({a.shape[1]}), got shape {y.shape}")
    return (np.argmax(a, axis=2) == y[None, :]).mean(axis=1)


@dataclass(frozen=True)
class Rule:
    name: str
    input: str          # "proba" | "logits" | "votes": the owner output the rule consumes
    fn: Callable
    weighted: bool = False

    def scores(self, outputs, weights=None) -> np.ndarray:
        if self.weighted:
            if weights is None:
                raise ValueError(f"rule {self.name!r} needs weights (one per owner)")
            return self.fn(outputs, weights)
        return self.fn(outputs)

    def predict(self, outputs, weights=None) -> np.ndarray:
        return np.argmax(self.scores(outputs, weights), axis=1)


RULES: dict[str, Rule] = {
    "soft_vote": Rule("soft_vote", "proba", soft_vote),
    "logit_sum": Rule("logit_sum", "logits", logit_sum),
    "hard_vote": Rule("hard_vote", "votes", hard_vote),
    "weighted_vote": Rule("weighted_vote", "votes", weighted_vote, weighted=True),
}


def get_rule(rule) -> Rule:
    if isinstance(rule, Rule):
        return rule
    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")
    return RULES[rule]


def aggregate(rule, outputs, weights=None) -> np.ndarray:
    """Ensemble labels (n,) of a rule applied to stacked owner outputs."""
    return get_rule(rule).predict(outputs, weights)


# -- noisy vote (plaintext simulation and reference of the secure noisy vote) ----------------------

VOTE_RULES = ("hard_vote", "weighted_vote")


def raw_vote_counts(votes, weights=None, frac_bits: int = 16) -> np.ndarray:
    """(n, C) int64 vote counts on the fixed-point lattice 2^-frac_bits, exactly as the secure
    vote holds them: sum over owners of ``round(w_k 2^f) * votes[k]`` (hard vote: w_k = 1).
    ``votes``: (K, n, C) one-hot votes (``to_votes``)."""
    from fibench.mpc.encoding import encode

    v = _check_stack(votes, "votes")
    w = np.ones(v.shape[0]) if weights is None else check_weights(weights, v.shape[0])
    wr = encode(w, frac_bits).view(np.int64)
    return np.tensordot(wr, np.rint(v).astype(np.int64), axes=(0, 0))


def raw_counts_from_labels(labels, n_classes: int, weights=None, frac_bits: int = 16) -> np.ndarray:
    """``raw_vote_counts`` from the owners' labels (K, n) instead of one-hot votes (K, n, C):
    the same (n, C) int64 counts, without the K x n x C array."""
    from fibench.mpc.encoding import encode

    lab = np.asarray(labels)
    if lab.ndim != 2 or not np.issubdtype(lab.dtype, np.integer) or (lab.size and (lab.min() < 0 or lab.max() >= n_classes)):
        raise ValueError(f"labels must be (K, n) integers in [0, {n_classes - 1}], got shape {lab.shape}")
    K, n = lab.shape
    w = np.ones(K) if weights is None else check_weights(weights, K)
    wr = encode(w, frac_bits).view(np.int64)
    out = np.zeros((n, n_classes), dtype=np.int64)
    rows = np.arange(n)
    for k in range(K):
        out[rows, lab[k]] += wr[k]
    return out


def vote_noise(kind: str, sigma: float, shape, frac_bits: int = 16, seed=None) -> np.ndarray:
    """Discrete noise (int64, ``shape``) of scale ``sigma`` vote units on the lattice
    2^-frac_bits, from the sampler the dealer uses (``fibench.mpc.noise``). ``seed``: ``None``
    draws from ``secrets``; an integer makes a plaintext SIMULATION reproducible (such noise
    protects nothing: never use a seeded draw for a released answer)."""
    import hashlib

    from fibench.mpc import noise as dpnoise
    from fibench.mpc import prg

    kind = dpnoise.check_kind(kind)
    sigma = dpnoise.check_scale(sigma, "sigma", 1e6)
    if seed is None:
        stream = prg.SeededStream()
    else:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
            raise ValueError(f"seed must be None or an integer in [0, 2**63), got {seed!r}")
        stream = prg.SeededStream(hashlib.sha256(b"fibench/vote-noise/%d" % int(seed)).digest()[:16])
    shape = tuple(int(d) for d in shape)
    n = int(np.prod(shape)) if shape else 1
    return dpnoise.sample(kind, sigma * 2.0 ** frac_bits, n, stream.next).reshape(shape)


def noisy_argmax(raw_counts, raw_noise) -> np.ndarray:
    """Labels (n,) of the noisy vote: argmax of counts + noise (int64, ties to the lowest
    label) — the exact plaintext reference of the secure noisy vote."""
    c = np.asarray(raw_counts, dtype=np.int64)
    z = np.asarray(raw_noise, dtype=np.int64)
    if c.ndim != 2 or c.shape != z.shape:
        raise ValueError(f"raw_counts and raw_noise must be (n, C) of one shape, got {c.shape} and {z.shape}")
    return np.argmax(c + z, axis=1)


def confident_noisy_argmax(raw_counts, raw_threshold, raw_noise1, raw_noise2) -> np.ndarray:
    """Confident GNMax (PATE 2018), plaintext: query i is answered iff its largest count plus
    ``raw_noise1[i]`` reaches ``raw_threshold``; then its label is ``noisy_argmax`` with
    ``raw_noise2``; unanswered queries get -1. Shapes: counts and noise2 (n, C), noise1 (n,);
    all int64 on one lattice."""
    c = np.asarray(raw_counts, dtype=np.int64)
    z1 = np.asarray(raw_noise1, dtype=np.int64)
    if c.ndim != 2 or z1.shape != (c.shape[0],):
        raise ValueError(f"raw_noise1 must have one value per query ({c.shape[0]},), got shape {z1.shape}")
    lab = noisy_argmax(c, raw_noise2)
    return np.where(c.max(axis=1) + z1 >= int(raw_threshold), lab, -1)


# -- metrics and baselines --------------------------------------------------------------------

def accuracy(y_true, y_pred) -> float:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1 or len(y_true) == 0:
        raise ValueError(f"y_true and y_pred must be non-empty 1-D of equal length, got {y_true.shape}, {y_pred.shape}")
    return float(np.mean(y_true == y_pred))


def macro_f1(y_true, y_pred, n_classes: int | None = None) -> float:
    from sklearn.metrics import f1_score

    labels = None if n_classes is None else list(range(n_classes))
    return float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0))


def owner_accuracies(outputs, y) -> np.ndarray:
    """Accuracy of each owner alone (its own argmax), (K,)."""
    return accuracy_weights(outputs, y)


def baselines(outputs, y) -> dict:
    """Each owner alone, the best and the mean owner (test accuracy)."""
    acc = owner_accuracies(outputs, y)
    return {"owner_accuracy": acc, "best_owner_accuracy": float(acc.max()),
            "best_owner": int(np.argmax(acc)), "mean_owner_accuracy": float(acc.mean())}


def evaluate(y_true, y_pred, n_classes: int | None = None, best_owner_accuracy: float | None = None,
             mean_owner_accuracy: float | None = None) -> dict:
    """accuracy, macro_f1 and (when the baselines are given) gain_over_best, gain_over_mean."""
    acc = accuracy(y_true, y_pred)
    out = {"accuracy": acc, "macro_f1": macro_f1(y_true, y_pred, n_classes)}
    if best_owner_accuracy is not None:
        out["gain_over_best"] = acc - float(best_owner_accuracy)
    if mean_owner_accuracy is not None:
        out["gain_over_mean"] = acc - float(mean_owner_accuracy)
    return out


def train_centralized(X, y, n_classes: int, model: str = "lr", *, hidden: int = 32, seed: int = 0, **kw):
    """The upper-bound baseline: one model trained on the union of the owners' data."""
    from fibench.fi.models import LocalModel, derive_seed

    return LocalModel(model, n_classes, hidden=hidden, seed=derive_seed(seed, 1_000_000), **kw).fit(X, y)
