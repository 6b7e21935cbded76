"""Accuracy suite: plaintext ensemble accuracy (all aggregation rules) vs owners K and label
skew alpha, against the best/mean single owner and the centralized upper bound.

``dataset``: digits, iris, wine, breast_cancer (scikit-learn's embedded sets), synthetic or a
.npz/.csv path; ``standardize``: z-score the features with the training split's statistics
(``--set dataset=wine --set standardize=true``: wine's features span four decades).

Each grid point trains K local models (each on its own partition) and returns one row per
rule (soft_vote, logit_sum, hard_vote, weighted_vote).  ``alpha="iid"`` is an IID split;
``self_balancing=true``: Flower's DirichletPartitioner(self_balancing=True) (owners above the
average size take no further class); ``partition=shards`` deals ``shards_per_owner`` label-sorted
shards per owner (the result column ``classes_per_owner`` is the measured mean number of distinct
classes), ``partition=pathological`` exactly ``num_classes_per_partition`` classes per owner (Flower's
PathologicalPartitioner count).
``model``: ``lr``, ``mlp`` (``hidden`` units), ``mlp:64,32`` (any depth) or ``cnn`` (the built-in
CNN for 8x8 digits: random conv filters, logistic-regression readout; no deep-learning framework).
"""
NAME = "accuracy"
DESCRIPTION = "ensemble accuracy (soft/logit/hard/weighted vote) vs owners K and Dirichlet label skew alpha"
MEASURE = "fibench.bench.measures.accuracy:run_point"
PLOTS = ("fibench.bench.plots.accuracy:plot_accuracy",)

ALPHAS = [0.05, 0.1, 0.5, 1, 10, "iid"]

PRESETS = {
    "quick": {
        "dataset": "digits", "model": ["lr", "mlp"], "partition": "dirichlet",
        "alpha": ALPHAS, "owners": [2, 5, 10, 20], "seed": [0], "standardize": False, "min_samples": 5,
        "self_balancing": False,
    },
    "paper": [
        {"dataset": "digits", "model": ["lr", "mlp", "mlp:64,32", "cnn"], "partition": "dirichlet",
         "alpha": ALPHAS, "owners": [2, 5, 10, 20, 50], "seed": [0, 1, 2, 3, 4],
         "standardize": False, "self_balancing": False},
        {"dataset": "synthetic", "n_samples": 5000, "n_features": 20, "n_classes": 10,
         "model": ["lr", "mlp"], "partition": "dirichlet",
         "alpha": ALPHAS, "owners": [2, 5, 10, 20, 50], "seed": [0, 1, 2, 3, 4], "self_balancing": False},
        # PATE / CaPC scale: 250 owners of ~300 training points each (125000 samples, 60% training)
        {"dataset": "synthetic", "n_samples": 125_000, "n_features": 20, "n_classes": 10, "model": "lr",
         "partition": "dirichlet", "alpha": [0.1, 1, "iid"], "owners": [50, 100, 250], "seed": [0, 1, 2],
         "min_samples": 5},
        {"dataset": "digits", "model": ["lr", "mlp"], "partition": "shards", "shards_per_owner": [1, 2, 3],
         "owners": [5, 10, 20], "seed": [0, 1, 2, 3, 4]},
        {"dataset": "digits", "model": ["lr", "mlp"], "partition": "pathological",
         "num_classes_per_partition": [2, 3], "owners": [5, 10, 20], "seed": [0, 1, 2, 3, 4]},
        {"dataset": "digits", "model": ["lr", "mlp"], "partition": "quantity", "beta": [0.1, 1.0],
         "owners": [5, 10, 20], "seed": [0, 1, 2, 3, 4]},
    ],
}
# accuracy is deterministic for a seed: repetitions would only repeat the same numbers
REPEATS = {"quick": 1, "paper": 1}
# wall time of the preset (fibench list), measured on the 2-core reference machine at load ~1;
# presets without a number are estimated from it as a lower bound
DURATION_S = {"quick": 40}

# allowed values of every grid key (checked for every point before a run writes anything;
# format: fibench.bench.keys)
KEYS = {
    "dataset": {"dataset": ("digits", "iris", "wine", "breast_cancer", "synthetic")},
    "model": {"model": ("lr", "mlp", "cnn", "onnx")},  # lr, mlp, mlp:64,32 (any depth), cnn, cnn:8,16m, onnx:PATH
    "partition": {"choice": ("dirichlet", "iid", "shards", "quantity", "pathological")},
    "alpha": {"real": (0, None), "open": True, "also": ("iid", "inf")},
    "owners": {"int": (1, 256)},  # fibench.fi.partition.MAX_OWNERS (PATE / CaPC ensembles of 250)
    "min_samples": {"int": (1, 100_000)},  # every owner's minimum number of training samples (default 5)
    "n_samples": {"int": (10, 10_000_000)},
    "n_features": {"int": (2, 100_000)},
    "n_classes": {"int": (2, 1000)},
    "shards_per_owner": {"int": (1, 1000)},  # label-sorted shards per owner (not a class count)
    "num_classes_per_partition": {"int": (1, 1000)},  # pathological: exact classes per owner (Flower's name)
    "self_balancing": {"choice": (True, False)},  # Flower's DirichletPartitioner(self_balancing=True)
    "beta": {"real": (0, None), "open": True},
    "standardize": {"choice": (True, False)},  # z-score features with the training split's statistics
}

#: classes of the embedded datasets (the CHECK of partition=pathological)
_CLASSES = {"digits": 10, "iris": 3, "wine": 3, "breast_cancer": 2}

# keys renamed since an earlier release: ``--set OLD=...`` is an error naming the new key
RENAMED = {"classes_per_owner": "shards_per_owner (it counts label-sorted shards, not classes)"}


#: checks that need fibench code ("module:function"): owners x min_samples fit in the training split
CHECKS = ("fibench.bench.measures.checks:accuracy_fit",)


def CHECK(point: dict):
    """A CNN reads square one-channel images (the 8x8 digits; synthetic data of a square
    ``n_features``); ``owners`` x ``min_samples`` must fit in the training split;
    ``self_balancing`` belongs to the dirichlet partition; a pathological partition of an
    embedded dataset needs owners x num_classes_per_partition >= its classes. (``CHECKS``: the
    data fit, which needs fibench code.)"""
    if point.get("partition") == "pathological":
        c, k = int(point.get("num_classes_per_partition", 2)), int(point.get("owners", 5))
        known = _CLASSES.get(str(point.get("dataset", "digits")))
        if known is not None and k * c < known:
            return (f"partition=pathological: owners x num_classes_per_partition = {k} x {c} < {known} classes "
                    f"of {point.get('dataset', 'digits')}: some classes would have no owner")
    if point.get("self_balancing") and point.get("partition", "dirichlet") != "dirichlet":
        return f"self_balancing=true applies to partition=dirichlet only, got partition={point.get('partition')}"
    model = str(point.get("model", "lr"))
    if model.startswith("cnn") and point.get("dataset") == "synthetic":
        d = int(point.get("n_features") or 20)  # the synthetic default
        if d < 4 or int(round(d ** 0.5)) ** 2 != d:
            return f"model {model} needs a square number of features (e.g. 64 = 8x8), got n_features={d}"
    return None
