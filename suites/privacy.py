"""Privacy suite: label privacy of the noisy vote (PATE's GNMax/LNMax, computed inside MPC).

Five parts (``part``; see ``fibench.bench.measures.privacy``):

* ``accuracy``: test accuracy of the noisy vote (plaintext simulation with the dealer's
  sampler) vs the noise scale ``sigma`` (0: noiseless), for K owners, Dirichlet ``alpha``
  (``"iid"``: IID split; ``self_balancing=true``: Flower's self-balancing Dirichlet
  partitioner), ``hard_vote`` and ``weighted_vote``; with the epsilon per query and
  per 100 queries at ``delta`` (data-independent; PATE's data-dependent epsilon of 100
  queries next to it);
* ``budget``: answered queries within an epsilon ``budget`` at ``delta``, per noise and sigma;
* ``confident``: PATE's confident GNMax (plaintext): share of queries answered, their
  accuracy and the epsilon of 100 asked queries, at K = 250;
* ``incentives``: label-free rewards (agreement, pseudo-Shapley, confidence) computed from
  the noisy RELEASED labels (the plaintext reference of the secure noisy vote: same discrete
  sampler, same argmax) against Shapley of the noiseless labelled utility (exact for K <= 20,
  Monte-Carlo beyond): rank correlation and share distance vs sigma;
* ``cost``: the secure noisy vote next to the noiseless one (M1/M2, T2, exact bytes and
  rounds, local-backend time) at K = 50.

Needs ``dp-accounting`` (``pip install 'fibench[privacy]'``).
"""
NAME = "privacy"
DESCRIPTION = "noisy secure vote (GNMax/LNMax): accuracy vs sigma and epsilon, queries within a budget, secure cost"
MEASURE = "fibench.bench.measures.privacy:run_point"
PLOTS = ("fibench.bench.plots.privacy:plot_accuracy_vs_epsilon", "fibench.bench.plots.privacy:plot_queries_vs_budget",
         "fibench.bench.plots.privacy:plot_incentives_vs_sigma")
TABLES = {"Secure cost of the noisy vote next to the noiseless one": "fibench.bench.measures.privacy:cost_table",
          "Confident GNMax (plaintext simulation)": "fibench.bench.measures.privacy:confident_table",
          "Answered queries within an epsilon budget (data-independent)": "fibench.bench.measures.privacy:budget_table",
          "Label-free rewards vs Shapley under the noisy vote (median Spearman over seeds)":
              "fibench.bench.measures.privacy:incentives_table"}
REPORT = {"index": ["part", "dataset", "alpha", "owners", "rule", "noise", "sigma"],
          "values": ["accuracy", "noiseless_accuracy", "eps_per_query", "eps_100", "eps_100_data_dependent"]}

ALPHAS = [0.1, 1, "iid"]
OWNERS = [10, 50, 250]
RULES = ["hard_vote", "weighted_vote"]
BUDGETS = [2, 8]
DELTA = 1e-5


def _accuracy(dataset, sigmas, noises, seeds, **extra):
    # rule, noise and sigma vary fastest: consecutive points reuse one training (cached)
    return {"part": "accuracy", "dataset": dataset, **extra, "model": "lr", "alpha": ALPHAS, "owners": OWNERS,
            "seed": seeds, "min_samples": 2, "self_balancing": False, "rule": RULES, "noise": noises, "sigma": sigmas, "delta": DELTA}


def _budget(sigmas, noises):
    return {"part": "budget", "noise": noises, "sigma": sigmas, "budget": BUDGETS, "delta": DELTA}


def _confident(dataset, seeds, **extra):
    return {"part": "confident", "dataset": dataset, **extra, "model": "lr", "alpha": [0.1, "iid"], "owners": 250,
            "seed": seeds, "min_samples": 2, "self_balancing": False, "rule": "hard_vote", "sigma1": [20, 60], "sigma": [10, 40],
            "threshold_frac": [0.3, 0.5, 0.7], "delta": DELTA}


def _incentives(dataset, owners, rules, sigmas, noises, seeds, **extra):
    # seed before rule/noise/sigma: consecutive points reuse one training and one merit Shapley (cached)
    return {"part": "incentives", "dataset": dataset, **extra, "model": "lr", "alpha": ALPHAS, "owners": owners,
            "seed": seeds, "min_samples": 2, "rule": rules, "noise": noises, "sigma": sigmas, "delta": DELTA}


def _cost(modes, protocols, reps, queries):
    return {"part": "cost", "dataset": "digits", "model": "lr", "alpha": "iid", "owners": 50, "seed": 0,
            "min_samples": 2, "rule": RULES, "noise": "gaussian", "sigma": 40, "mode": modes, "protocol": protocols,
            "servers": 2, "queries": queries, "timing_reps": reps}


PRESETS = {
    "quick": [
        _accuracy("digits", [0, 1, 2, 5, 10, 20, 40], ["gaussian"], [0]),
        _budget([5, 20, 40, 100], ["gaussian", "laplace"]),
        _confident("digits", [0]),
        _incentives("digits", 10, "hard_vote", [0, 1, 2, 5, 10, 20, 40], "gaussian", [0, 1, 2]),
        _cost(["M1"], ["a2b"], 1, 16),
    ],
    "paper": [
        # 125000 samples: 75000 training points, 300 per owner at K = 250
        _accuracy("synthetic", [0, 2, 5, 10, 20, 40, 80], ["gaussian", "laplace"], [0, 1, 2], n_samples=125_000),
        _accuracy("digits", [0, 2, 5, 10, 20, 40, 80], ["gaussian", "laplace"], [0, 1, 2]),
        _budget([2, 5, 10, 20, 40, 80, 160], ["gaussian", "laplace"]),
        _confident("synthetic", [0, 1, 2], n_samples=125_000),
        _incentives("digits", OWNERS, RULES, [0, 1, 2, 5, 10, 20, 40, 80], ["gaussian", "laplace"], [0, 1, 2, 3, 4]),
        _cost(["M1", "M2"], ["a2b", "fss"], 3, 16),
    ],
}
REPEATS = {"quick": 1, "paper": 1}  # deterministic for a seed (accuracy) or medians inside (cost)
# wall time of the preset (fibench list), measured on the 2-core machine (load ~4.1, other jobs running:
# an upper side; 23 s of CPU), incentives part included
DURATION_S = {"quick": 43}

KEYS = {
    "part": {"choice": ("accuracy", "budget", "confident", "incentives", "cost")},
    "dataset": {"dataset": ("digits", "synthetic")},
    "model": {"model": ("lr", "mlp")},
    "owners": {"int": (2, 256)},
    "alpha": {"real": (0, None), "open": True, "also": ("iid", "inf")},
    "min_samples": {"int": (1, 100_000)},
    "self_balancing": {"choice": (True, False)},  # Flower's DirichletPartitioner(self_balancing=True)
    "rule": {"choice": ("hard_vote", "weighted_vote")},
    "noise": {"choice": ("gaussian", "laplace")},
    "sigma": {"real": (0, 1_000_000)},
    "sigma1": {"real": (0, 1_000_000), "open": True},
    "threshold_frac": {"real": (0, 1)},
    "delta": {"real": (0, 1), "open": True},
    "budget": {"real": (0, None), "open": True},
    "mode": {"choice": ("M1", "M2")},
    "protocol": {"choice": ("a2b", "fss")},
    "servers": {"int": (2, 3)},
    "queries": {"int": (1, 100_000)},
    "timing_reps": {"int": (1, 100)},
    "n_samples": {"int": (10, 10_000_000)},
    "n_features": {"int": (2, 100_000)},
    "n_classes": {"int": (2, 1000)},
}


def VALID(point: dict) -> bool:
    """sigma = 0 (the noiseless vote) is a point of the accuracy and incentives parts only: the
    budget of no noise is nil, and the cost part measures the noiseless vote next to every noisy one."""
    noiseless = not float(point.get("sigma", 0) or 0) > 0
    if point.get("part", "accuracy") in ("accuracy", "incentives"):
        return not (noiseless and point.get("noise") == "laplace")  # one noiseless row per point, not two
    return not noiseless


#: checks that need fibench code ("module:function"): owners x min_samples fit in the training split
CHECKS = ("fibench.bench.measures.checks:privacy_fit",)


def CHECK(point: dict):
    """Errors before anything is written: the accounting library must be installed; fss needs
    2 servers; ``owners`` x ``min_samples`` must fit in the training split."""
    import importlib.util

    if importlib.util.find_spec("dp_accounting") is None:
        return "the privacy suite needs the optional package dp-accounting: pip install 'fibench[privacy]'"
    part = point.get("part", "accuracy")
    if part == "cost" and point.get("protocol") == "fss" and point.get("servers", 2) != 2:
        return f"protocol fss needs servers=2, got servers={point.get('servers')!r}"
    return None  # the data fit: CHECKS
