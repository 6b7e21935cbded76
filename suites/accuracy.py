"""Accuracy suite: plaintext ensemble accuracy (all aggregation rules) vs owners K and label
skew alpha, against the best/mean single owner and the centralized upper bound.

Each grid point trains K local models (each on its own partition) and returns one row per
rule (soft_vote, logit_sum, hard_vote, weighted_vote).  ``alpha="iid"`` is an IID split.
"""
NAME = "accuracy"
DESCRIPTION = "ensemble accuracy (soft/logit/hard/weighted vote) vs owners K and Dirichlet label skew alpha"
MEASURE = "fibench.bench.measures.accuracy:run_point"
PLOTS = ("fibench.bench.plots.accuracy:plot_accuracy",)

ALPHAS = [0.05, 0.1, 0.5, 1, 10, "iid"]

PRESETS = {
    "quick": {
        "dataset": "digits", "model": ["lr", "mlp"], "partition": "dirichlet",
        "alpha": ALPHAS, "owners": [2, 5, 10, 20], "seed": [0],
    },
    "paper": [
        {"dataset": "digits", "model": ["lr", "mlp"], "partition": "dirichlet",
         "alpha": ALPHAS, "owners": [2, 5, 10, 20, 50], "seed": [0, 1, 2, 3, 4]},
        {"dataset": "synthetic", "n_samples": 5000, "n_features": 20, "n_classes": 10,
         "model": ["lr", "mlp"], "partition": "dirichlet",
         "alpha": ALPHAS, "owners": [2, 5, 10, 20, 50], "seed": [0, 1, 2, 3, 4]},
        {"dataset": "digits", "model": ["lr", "mlp"], "partition": "shards", "classes_per_owner": [1, 2, 3],
         "owners": [5, 10, 20], "seed": [0, 1, 2, 3, 4]},
        {"dataset": "digits", "model": ["lr", "mlp"], "partition": "quantity", "beta": [0.1, 1.0],
         "owners": [5, 10, 20], "seed": [0, 1, 2, 3, 4]},
    ],
}
# accuracy is deterministic for a seed: repetitions would only repeat the same numbers
REPEATS = {"quick": 1, "paper": 1}

# allowed values of every grid key (checked for every point before a run writes anything;
# format: fibench.bench.keys)
KEYS = {
    "dataset": {"dataset": ("digits", "synthetic")},
    "model": {"choice": ("lr", "mlp", "logreg", "logistic")},
    "partition": {"choice": ("dirichlet", "iid", "shards", "quantity")},
    "alpha": {"real": (0, None), "open": True, "also": ("iid", "inf")},
    "owners": {"int": (1, 64)},
    "n_samples": {"int": (10, 10_000_000)},
    "n_features": {"int": (2, 100_000)},
    "n_classes": {"int": (2, 1000)},
    "classes_per_owner": {"int": (1, 1000)},
    "beta": {"real": (0, None), "open": True},
}
