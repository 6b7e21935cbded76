"""Adversarial owners, appended as one extra owner built from the others' outputs.

``none``      no extra owner.
``sybil``     a duplicate of owner ``source`` (default 0): the same probabilities on every query.
``random``    a model with no information: each query's probabilities drawn from a flat
              Dirichlet(1, ..., 1) (seeded; this is a simulation, not cryptography).
``constant``  a free rider that always answers class ``constant_class`` (default 0) with
              probability 1.

The question the incentives suite asks is which share of the reward each scheme gives them
(see :func:`adversary_share`).
"""
from __future__ import annotations

import numpy as np

from .alignment import reward_shares
from .utility import _check_proba

ADVERSARIES = ("none", "sybil", "random", "constant")


def add_adversary(proba, kind: str = "none", seed: int = 0, source: int = 0, constant_class: int = 0):
    """Return ``(proba_with_adversary, adversary_index)``; the index is None for ``none``.

    The adversary is appended as owner K (the honest owners keep indices 0..K-1).
    """
    if kind not in ADVERSARIES:
        raise ValueError(f"adversary must be one of {ADVERSARIES}, got {kind!r}")
    proba = _check_proba(proba)
    K, n, C = proba.shape
    if kind == "none":
        return proba.copy(), None
    if kind == "sybil":
        if not 0 <= int(source) < K:
            raise ValueError(f"source must lie in [0, {K}), got {source}")
        extra = proba[int(source)].copy()
    elif kind == "random":
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0xAD5]))
        extra = rng.dirichlet(np.ones(C), size=n)
    else:
        if not 0 <= int(constant_class) < C:
            raise ValueError(f"constant_class must lie in [0, {C}), got {constant_class}")
        extra = np.zeros((n, C))
        extra[:, int(constant_class)] = 1.0
    return np.concatenate([proba, extra[None]], axis=0), K


def adversary_share(values, index) -> float:
    """Reward share (clipped, normalised; see ``reward_shares``) of owner ``index``; NaN if None."""
    if index is None:
        return float("nan")
    return float(reward_shares(values)[int(index)])
