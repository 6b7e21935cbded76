"""Incentives: merit-based (Shapley, Banzhaf, leave-one-out) and label-free rewards for the owners
of a federated ensemble, alignment metrics between schemes, and adversarial owners.

Modules: ``utility`` (coalition game v(S) = sub-ensemble accuracy, v(empty) = 0), ``shapley``
(exact by Gray-code enumeration, Monte-Carlo, Banzhaf, leave-one-out), ``label_free``,
``alignment``, ``adversaries``.
"""
from .adversaries import ADVERSARIES, add_adversary, adversary_share
from .alignment import alignment, kendall, l1_distance, reward_shares, spearman, topk_overlap
from .label_free import (
    LABEL_FREE_SCHEMES,
    agreement,
    confidence,
    correlated_agreement,
    ensemble_answer,
    equal_split,
    label_free_rewards,
    pseudo_shapley,
)
from .shapley import MCResult, banzhaf, exact_shapley, exact_values, leave_one_out, monte_carlo_shapley, shapley
from .utility import RULES, CoalitionGame, coalition_utility, integer_scores

__all__ = [
    "ADVERSARIES", "add_adversary", "adversary_share",
    "alignment", "kendall", "l1_distance", "reward_shares", "spearman", "topk_overlap",
    "LABEL_FREE_SCHEMES", "agreement", "confidence", "correlated_agreement", "ensemble_answer",
    "equal_split", "label_free_rewards", "pseudo_shapley",
    "MCResult", "banzhaf", "exact_shapley", "exact_values", "leave_one_out", "monte_carlo_shapley", "shapley",
    "RULES", "CoalitionGame", "coalition_utility", "integer_scores",
]
