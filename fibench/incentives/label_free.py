"""Label-free reward schemes: computable from the owners' outputs alone, without labels.

All take the owners' class probabilities ``proba`` (K, n, C) on n unlabelled queries and the
aggregation ``rule`` of the ensemble (see :mod:`fibench.incentives.utility`); the ensemble's
answer is the argmax of the full coalition's integer scores (ties to the lowest label).

``agreement``       fraction of queries on which the owner's own label equals the ensemble's answer.
``pseudo_shapley``  Shapley value of the accuracy game with the ensemble's answer as the label.
``confidence``      mean probability the owner gives to the label the ensemble chose.
``peer_ca``         correlated agreement (Shnayder et al. 2016, "Informed truthfulness in
                    multi-task peer prediction"), in its expected form: for owners i, j with
                    own labels a_i, a_j, let J(c, c') be the empirical joint frequency of
                    (a_i = c, a_j = c') over the same queries and p_i, p_j the marginals, and
                    Delta = J - p_i p_j^T.  The CA mechanism pays sign(Delta) on a shared task
                    minus sign(Delta) on two distinct tasks; its expectation is
                    sum_{c,c'} max(Delta(c, c'), 0).  Owner i gets the mean over peers j != i.
                    Uninformative reports (constant, independent random) score ~0.
``equal``           1/K each.

All values but pseudo_shapley's are non-negative (reward shares clip negatives, see alignment).

``answer`` (optional, (n,) integer labels in [0, C)): the label the system actually RELEASED
for each query, used instead of the full ensemble's noiseless answer by the schemes that read
it (agreement, pseudo_shapley, confidence) — e.g. the noisy vote's label under label privacy
(``fibench.fi.ensemble.noisy_argmax``).  peer_ca and equal never read the ensemble's answer,
so a noisy release does not change them.  In pseudo_shapley the released labels are the
reference labels of the game; the coalitions themselves are still scored noiselessly.
"""
from __future__ import annotations

import numpy as np

from .shapley import shapley
from .utility import CoalitionGame, _check_proba, aggregate, integer_scores, owner_labels

LABEL_FREE_SCHEMES = ("agreement", "pseudo_shapley", "confidence", "peer_ca", "equal")


def ensemble_answer(proba, rule: str = "soft", weights=None) -> np.ndarray:
    """The full ensemble's answer (n,) under ``rule`` (the pseudo-label of label-free schemes)."""
    return aggregate(integer_scores(proba, rule, weights))


def _answer(proba, rule, weights, answer) -> np.ndarray:
    """The released labels (n,): ``answer`` checked against ``proba`` (K, n, C), or the full
    ensemble's noiseless answer when ``answer`` is None."""
    if answer is None:
        return ensemble_answer(proba, rule, weights)
    _, n, C = np.asarray(proba).shape
    a = np.asarray(answer)
    if a.shape != (n,) or not np.issubdtype(a.dtype, np.integer) or (n and (a.min() < 0 or a.max() >= C)):
        raise ValueError(f"answer must be ({n},) integer labels in [0, {C - 1}], got shape {a.shape}, dtype {a.dtype}")
    return a.astype(np.int64, copy=False)


def agreement(proba, rule: str = "soft", weights=None, answer=None) -> np.ndarray:
    """Fraction of queries where each owner's own label equals the released answer (K,)
    (``answer`` None: the ensemble's noiseless answer)."""
    proba = _check_proba(proba)
    answer = _answer(proba, rule, weights, answer)
    return (owner_labels(proba) == answer[None, :]).mean(axis=1)


def pseudo_shapley(proba, rule: str = "soft", weights=None, method: str = "auto", answer=None,
                   **mc_kwargs) -> np.ndarray:
    """Shapley values (K,) of the accuracy game whose labels are the released answers
    (``answer`` None: the ensemble's own noiseless answers)."""
    proba = _check_proba(proba)
    if answer is None:
        game = CoalitionGame.from_proba(proba, None, rule, weights)
    else:
        game = CoalitionGame.from_proba(proba, _answer(proba, rule, weights, answer), rule, weights)
    return shapley(game, method=method, **mc_kwargs)


def confidence(proba, rule: str = "soft", weights=None, answer=None) -> np.ndarray:
    """Mean probability each owner puts on the released label (K,) (``answer`` None: the
    ensemble's noiseless choice)."""
    proba = _check_proba(proba)
    answer = _answer(proba, rule, weights, answer)
    n = proba.shape[1]
    return proba[:, np.arange(n), answer].mean(axis=1)


def correlated_agreement(proba, rule: str = "soft", weights=None) -> np.ndarray:
    """Expected correlated-agreement peer-prediction score of each owner (K,); see module doc.

    ``rule`` and ``weights`` are accepted for a uniform signature (peer prediction compares
    owners with each other, not with the ensemble).
    """
    lab = owner_labels(proba)
    K, n = lab.shape
    C = np.asarray(proba).shape[2]
    if K < 2:
        return np.zeros(K)
    onehot = np.zeros((K, n, C))
    onehot[np.arange(K)[:, None], np.arange(n)[None, :], lab] = 1.0
    marg = onehot.mean(axis=1)  # (K, C)
    joint = np.einsum("inc,jnd->ijcd", onehot, onehot) / n  # (K, K, C, C)
    delta = joint - marg[:, None, :, None] * marg[None, :, None, :]
    pair = np.maximum(delta, 0.0).sum(axis=(2, 3))  # (K, K)
    np.fill_diagonal(pair, 0.0)
    return pair.sum(axis=1) / (K - 1)


def equal_split(K: int) -> np.ndarray:
    """1/K for every owner."""
    if int(K) < 1:
        raise ValueError(f"K must be >= 1, got {K}")
    return np.full(int(K), 1.0 / int(K))


def label_free_rewards(proba, rule: str = "soft", weights=None, schemes=LABEL_FREE_SCHEMES, answer=None,
                       **mc_kwargs) -> dict:
    """{scheme: values (K,)} for the requested label-free schemes; ``answer``: the released
    labels (n,) (module docstring), None for the ensemble's noiseless answer."""
    proba = _check_proba(proba)
    if answer is not None:
        answer = _answer(proba, rule, weights, answer)
    out = {}
    for s in schemes:
        if s == "agreement":
            out[s] = agreement(proba, rule, weights, answer)
        elif s == "pseudo_shapley":
            out[s] = pseudo_shapley(proba, rule, weights, answer=answer, **mc_kwargs)
        elif s == "confidence":
            out[s] = confidence(proba, rule, weights, answer)
        elif s == "peer_ca":
            out[s] = correlated_agreement(proba, rule, weights)
        elif s == "equal":
            out[s] = equal_split(proba.shape[0])
        else:
            raise ValueError(f"schemes must be among {LABEL_FREE_SCHEMES}, got {s!r}")
    return out
