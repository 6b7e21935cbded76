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
