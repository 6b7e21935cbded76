"""Measure function of the ``incentives`` suite (see ``suites/incentives.py``).

``run_point(params)`` trains ``owners`` local models on a label-skew partition, appends one
adversarial owner if asked, and scores every reward scheme against exact Shapley of the
labelled accuracy game on the test set (Monte-Carlo Shapley with a tight tolerance when the
number of players exceeds 20).  One row per scheme.

``self_balancing``: Flower's self-balancing of the Dirichlet partition (``fibench.fi.partition``).
The trained owners' test-set probabilities are cached per (dataset, model, owners, alpha,
seed, self_balancing), so the adversary and rule axes of a grid reuse one training.  Everything is
deterministic for the seed.
"""
from __future__ import annotations

import math
import time
from functools import lru_cache

import numpy as np

from fibench import incentives as inc
from fibench.kernels.shapley import MAX_EXACT_PLAYERS

MERIT_SCHEMES = ("shapley", "mc_shapley", "banzhaf", "loo")
SCHEMES = MERIT_SCHEMES + inc.LABEL_FREE_SCHEMES
#: stopping tolerance of the Monte-Carlo estimate reported as ``mc_shapley`` (stderr <= tol * v(N))
MC_TOL = 0.005
#: tolerance of the Monte-Carlo *reference* used when there are more than 20 players: stderr <=
#: min(MC_REF_TOL, MC_REF_REL / K) * v(N), i.e. also below a tenth of the mean owner value v(N)/K
#: (the second bound only binds beyond 100 players, where MC_REF_TOL alone would let the
#: reference's noise exceed the values it ranks)
MC_REF_TOL = 0.001
MC_REF_REL = 0.1

DEFAULTS = {"dataset": "digits", "model": "lr", "rule": "soft", "alpha": 0.5, "adversary": "none", "seed": 0}


def parse_alpha(alpha) -> float:
    """Dirichlet concentration: a positive number, or ``"iid"`` / ``inf`` for an IID split."""
    if isinstance(alpha, str):
        a = alpha.strip().lower()
        if a in ("iid", "inf", "infinity"):
            return math.inf
        try:
            alpha = float(a)
        except ValueError:
            raise ValueError(f"alpha must be a positive number or 'iid', got {alpha!r}") from None
    try:
        alpha = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be a positive number or 'iid', got {alpha!r}") from None
    if not alpha > 0:
        raise ValueError(f"alpha must be a positive number or 'iid', got {alpha!r}")
    return alpha


# --------------------------------------------------------------------------- owners' outputs


def _pipeline_outputs(dataset, model, owners, alpha, seed, n_samples=None, self_balancing=False):
    """Owners' test probabilities via the project's data/partition/federated modules
    (``n_samples``: size of the ``synthetic`` dataset, None for its default)."""
    from fibench.fi.data import load_dataset
    from fibench.fi.federated import FederatedEnsemble
    from fibench.fi.partition import partition

    ds = load_dataset(dataset, seed=seed, **({"n_samples": n_samples} if n_samples is not None else {}))
    # alpha = inf deals the stratified IID split
    parts = partition(ds.y_train, scheme="dirichlet", n_owners=owners, alpha=alpha, seed=seed,
                      self_balancing=self_balancing)
    data = [(ds.X_train[idx], ds.y_train[idx]) for idx in parts]
    ens = FederatedEnsemble(model=model, seed=seed).fit(data, n_classes=ds.n_classes)
    proba = np.asarray(ens.owner_outputs(ds.X_test, kind="proba"), dtype=np.float64)
    return proba, np.asarray(ds.y_test, dtype=np.int64)


@lru_cache(maxsize=64)
def owner_outputs(dataset: str, model: str, owners: int, alpha: float, seed: int, n_samples: int | None = None,
                  self_balancing: bool = False):
    """(proba (K, n, C), y_test (n,)) of ``owners`` trained models; cached, read-only arrays."""
    proba, y = _pipeline_outputs(dataset, model, owners, alpha, seed, n_samples, self_balancing)
    proba.setflags(write=False)
    y.setflags(write=False)
    return proba, y


_WARMUP = {"done": False}


def warmup() -> float:
    """Compile (or load from cache) every kernel once on a tiny game; seconds spent (0 after the first)."""
    if _WARMUP["done"]:
        return 0.0
    t = time.perf_counter()
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(3), size=(3, 8))
    y = rng.integers(0, 3, 8)
    score_schemes(proba, y)
    _WARMUP["done"] = True
    return time.perf_counter() - t


# --------------------------------------------------------------------------- schemes


def _fmt_shares(values) -> str:
    return ";".join(f"{s:.6f}" for s in inc.reward_shares(values))


def score_schemes(proba, y, rule="soft", adversary_index=None, seed=0, mc_tol=MC_TOL, k=None) -> list[dict]:
    """Rows (one per scheme) of alignment with exact Shapley (labelled) for owners' ``proba``."""
    K = proba.shape[0]
    game = inc.CoalitionGame.from_proba(proba, y, rule)
    values, timing, extra = {}, {}, {}

    t = time.perf_counter()
    if K <= MAX_EXACT_PLAYERS:
        ev = inc.exact_values(game)
        values["shapley"], values["banzhaf"] = ev["shapley"], ev["banzhaf"]
        reference = "exact"
    else:
        ref = inc.monte_carlo_shapley(game, tol=min(MC_REF_TOL, MC_REF_REL / K), max_perms=200_000, seed=seed + 1)
        values["shapley"] = ref.values
        reference = "mc"
    timing["shapley"] = time.perf_counter() - t
    timing["banzhaf"] = timing["shapley"]  # same enumeration

    t = time.perf_counter()
    mc = inc.monte_carlo_shapley(game, tol=mc_tol, seed=seed)
    values["mc_shapley"] = mc.values
    timing["mc_shapley"] = time.perf_counter() - t
    extra["mc_shapley"] = {"n_perms": mc.n_perms, "mc_converged": mc.converged}

    t = time.perf_counter()
    values["loo"] = inc.leave_one_out(game)
    timing["loo"] = time.perf_counter() - t

    for s in inc.LABEL_FREE_SCHEMES:
        t = time.perf_counter()
        values[s] = inc.label_free_rewards(proba, rule, schemes=(s,))[s]
        timing[s] = time.perf_counter() - t

    rows = []
    ref_vals = values["shapley"]
    # spread of the reference: near 0 (IID owners) makes every rank correlation mostly noise
    ref_cv = float(np.std(ref_vals) / abs(np.mean(ref_vals))) if np.mean(ref_vals) != 0 else float("nan")
    for s in SCHEMES:
        if s not in values:
            continue
        al = inc.alignment(values[s], ref_vals, k)
        rows.append({
            "scheme": s,
            "kind": "merit" if s in MERIT_SCHEMES else "label_free",
            "players": K,
            "reference": reference,
            "spearman": al["spearman"],
            "kendall": al["kendall"],
            "l1": al["l1"],
            "topk": al["topk"],
            "adversary_share": inc.adversary_share(values[s], adversary_index),
            "ensemble_acc": game.full_value,
            "ref_cv": ref_cv,
            "time_s": timing[s],
            "n_perms": extra.get(s, {}).get("n_perms", 0),
            "shares": _fmt_shares(values[s]),
        })
    return rows


def run_point(params: dict) -> list[dict]:
    """One grid point of the incentives suite -> one row per reward scheme."""
    p = {**DEFAULTS, **params}
    if "owners" not in params:
        raise ValueError("owners is required (number of honest owners, >= 2)")
    owners = int(p["owners"])
    if owners < 2:
        raise ValueError(f"owners must be >= 2, got {owners}")
    rule = inc.utility.canonical_rule(p["rule"])
    if rule == "weighted":
        raise ValueError("rule must be one of soft, logit, hard (weighted needs per-owner weights)")
    if p["adversary"] is None:  # `--set adversary=none` arrives as None
        p["adversary"] = "none"
    if p["adversary"] not in inc.ADVERSARIES:
        raise ValueError(f"adversary must be one of {inc.ADVERSARIES}, got {p['adversary']!r}")
    alpha = parse_alpha(p["alpha"])
    seed = int(p["seed"])
    warm = warmup()  # JIT compile kept out of the per-scheme times, reported as warmup_s
    n_samples = int(p["n_samples"]) if p.get("n_samples") is not None and p["dataset"] == "synthetic" else None
    proba, y = owner_outputs(str(p["dataset"]), str(p["model"]), owners, alpha, seed, n_samples,
                             bool(p.get("self_balancing", False)))
    proba_all, adv = inc.add_adversary(proba, p["adversary"], seed=seed)
    rows = score_schemes(proba_all, y, rule=rule, adversary_index=adv, seed=seed, k=p.get("topk"))
    base = {
        "owners": owners,
        "alpha": "iid" if math.isinf(alpha) else alpha,
        "seed": seed,
        "adversary": p["adversary"],
        "model": p["model"],
        "rule": rule,
        "warmup_s": warm,
    }
    return [{**base, **r} for r in rows]
