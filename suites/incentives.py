"""Incentives suite: how far label-free rewards are from merit (exact Shapley on labelled data).

Each grid point trains ``owners`` local models on a Dirichlet(``alpha``) label-skew partition
of the dataset (``alpha = "iid"``: an IID split; ``self_balancing=true``: Flower's
self-balancing Dirichlet partitioner, owners above the average size take no further class), optionally appends one adversarial owner
(``sybil`` copy of owner 0, ``random`` model, ``constant`` model), and scores every reward
scheme on the test set against exact Shapley of the labelled accuracy game:

* merit (labels): ``shapley`` (exact, the reference), ``mc_shapley``, ``banzhaf``, ``loo``;
* label-free: ``agreement``, ``pseudo_shapley``, ``confidence``, ``peer_ca``, ``equal``.

One row per scheme: spearman, kendall, l1 (of reward shares), topk overlap, the adversary's
reward share, and the per-owner shares (``shares``, ';'-separated, adversary last).
"""
NAME = "incentives"
DESCRIPTION = "label-free vs Shapley rewards: rank correlation, share distance, adversaries (owners x alpha x attack)"
MEASURE = "fibench.bench.measures.incentives:run_point"
PLOTS = ("fibench.bench.plots.incentives:plot_incentives",)

PRESETS = {
    "quick": {
        "dataset": "digits",
        "model": "lr",
        "owners": [5, 10],
        "alpha": [0.05, 0.5, "iid"],
        "seed": [0, 1, 2],  # three seeds: the rank figure's min..max is a spread (72 points, ~10 s)
        "adversary": ["none", "sybil", "random", "constant"],
        "rule": "soft",
        "self_balancing": False,
    },
    "paper": [
        {
            "dataset": "digits",
            "model": ["lr", "mlp", "mlp:64,32", "cnn"],
            "owners": [5, 10, 16],
            "alpha": [0.05, 0.1, 0.5, 1.0, 10.0, "iid"],
            "seed": [0, 1, 2, 3, 4],
            "adversary": ["none", "sybil", "random", "constant"],
            "rule": ["soft", "hard", "logit"],
            "self_balancing": False,
        },
        {
            # beyond exact enumeration: Monte-Carlo Shapley is the reference
            "dataset": "digits",
            "model": "lr",
            "owners": [30],
            "alpha": [0.1, 1.0, "iid"],
            "seed": [0, 1, 2],
            "adversary": ["none", "sybil"],
            "rule": "soft",
            "self_balancing": False,
        },
        {
            # PATE / CaPC ensemble sizes: 12000 training points, 48 per owner at K = 250
            "dataset": "synthetic",
            "n_samples": 20_000,
            "model": "lr",
            "owners": [100, 250],
            "alpha": [0.1, 1.0, "iid"],
            "seed": [0, 1, 2],
            "adversary": ["none", "sybil"],
            "rule": "soft",
        },
    ],
}
# grid keys are ordered so that adversary and rule vary fastest: consecutive points reuse one
# training (cached in fibench.bench.measures.incentives); results are deterministic for a seed, so
# seeds, not repetitions, give the spread
REPEATS = {"quick": 1, "paper": 1}
# wall time of the preset (fibench list), measured on the 2-core reference machine at load ~1;
# presets without a number are estimated from it as a lower bound
DURATION_S = {"quick": 12}

KEYS = {
    "dataset": {"dataset": ("digits", "iris", "wine", "breast_cancer", "synthetic")},
    "model": {"model": ("lr", "mlp", "cnn", "onnx")},  # lr, mlp, mlp:64,32 (any depth), cnn (8x8 digits), onnx:PATH
    "owners": {"int": (2, 256)},  # beyond 20 the reference is Monte-Carlo Shapley (measures.incentives.MC_REF_*)
    "n_samples": {"int": (10, 10_000_000)},  # synthetic only: enough training points for many owners
    "alpha": {"real": (0, None), "open": True, "also": ("iid", "inf")},
    "self_balancing": {"choice": (True, False)},  # Flower's DirichletPartitioner(self_balancing=True)
    "adversary": {"choice": ("none", "sybil", "random", "constant"), "none": True},
    "rule": {"choice": ("soft", "logit", "hard", "soft_vote", "logit_sum", "hard_vote")},
}


#: every owner needs ``fibench.fi.partition.MIN_SAMPLES`` training points: ``owners`` must fit in
#: the dataset's training split (synthetic: raise ``n_samples``); "module:function"
CHECKS = ("fibench.bench.measures.checks:incentives_fit",)
