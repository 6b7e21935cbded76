"""Latency suite: estimated end-to-end time of secure federated inference.

One measured local-backend run per (computation, parties) gives the exact rounds and bytes
per link and the compute time; every network profile in ``networks`` is priced from that one
run (counts do not depend on the network), so the grid is cheap. Workloads:

* ``relu``: one secure ReLU layer on ``n`` elements among ``parties`` parties (the op).
* ``m1``: output-level ensemble (M1): K ``owners`` secret-share their logits for ``batch``
  queries; the parties sum them and take the argmax; only the label goes to the querier.
  ``logits``: ``synthetic`` or a dataset (``digits``: real owners from ``fibench.fi.federated``).
  ``--set dataset=NAME`` (as in the accuracy suite) does this for every M1 point and gives M2
  the dataset's features, classes and test queries.
* ``m2``: full private inference (M2): query and the weights of K models (``model`` logreg, a
  one-hidden-layer ReLU ``mlp`` with ``hidden`` units, or a spec: ``mlp:512,512`` (any depth),
  ``cnn`` (conv 3x3 8 channels -> ReLU -> avgpool 2 -> dense on the 8x8 input), ``cnn:16,32m``
  (more blocks, m: max-pool); random weights) are secret-shared; Beaver matmuls (convs by
  im2col), secure ReLU and pools, logit sum, argmax. The complexity grid (``COMPLEXITY_MODELS``)
  spans LR, MLPs of depth 1-4 and widths 32-512 and five CNNs (measured: LR on lan 0.017 s to
  cnn:128,256 at batch 1000 on geo 176 s, 4.0 decades).

Topology ``T1``: the K owners are the compute parties; ``T2``: they outsource to ``servers``.
``sharing``: ``additive`` (the dealer's scheme) or ``replicated`` (2-out-of-3 among exactly 3
servers, no dealer); the presets put T2 with 2 servers and the dealer next to 3 servers with
replicated sharing under every profile (``_dealer_vs_replicated``).
``schedule`` (m2): ``parallel`` evaluates the K models in the same rounds, ``sequential`` one
after the other. Timing keys: ``timing_reps`` (median of that many calls), ``threads`` (numba
threads; 0 = numba's default).
"""
NAME = "latency"
DESCRIPTION = "SMPC inference time vs owners, model complexity, parties, protocol and network profile"
MEASURE = "fibench.bench.measures.latency:run_point"
PLOTS = ("fibench.bench.plots.latency:plot_latency",)
TABLES = {"Estimated time per inference and latency share, per network profile":
          "fibench.bench.measures.latency:latency_pivot"}
NO_EXPAND = ("networks",)

NETWORKS = ["lan", "region", "wan", "geo"]
# dataset (None: synthetic inputs of `features` x `classes`): a named dataset sets features and
# classes from its data, m1 takes the logits of owners trained on it, m2 its test queries
_COMMON = {"networks": NETWORKS, "network_file": None, "features": 64, "classes": 10, "dataset": None}
# timing: median of `timing_reps` calls per run; `threads` numba threads (0: numba's default)
_TIMING = {"quick": {"timing_reps": 3, "threads": 1}, "paper": {"timing_reps": 3, "threads": 0}}


def _g(preset="quick", **grid):
    return {**grid, **_COMMON, **_TIMING[preset]}


def _dealer_vs_replicated(preset):
    """T2 with 2 servers and the dealer next to 3 servers with replicated sharing (no dealer),
    under every network profile: M1 (K = 3, digits logits) and M2 (MLP 64-32-10, K = 2), at
    batch 1 and 100 (paper: 1, 100, 1000)."""
    batch = [1, 100] if preset == "quick" else [1, 100, 1000]
    m1 = dict(workload="m1", owners=3, topology="T2", batch=batch, protocol="a2b", argmax="pairs",
              logits="synthetic" if preset == "quick" else "digits", owner_model="lr")
    m2 = dict(workload="m2", model="mlp", hidden=32, owners=2, topology="T2", batch=batch, argmax="pairs",
              protocol="a2b", schedule="parallel")
    return [_g(preset, servers=2, sharing="additive", **m1), _g(preset, servers=3, sharing="replicated", **m1),
            _g(preset, servers=2, sharing="additive", **m2), _g(preset, servers=3, sharing="replicated", **m2)]


def _crossover(preset):
    """M2 MLP (64-32-10, K = 2 owners, T2 with 2 servers), a2b vs fss (full width and l = 32)
    at growing batch sizes: the data of the protocol crossover plot."""
    common = dict(workload="m2", model="mlp", hidden=32, owners=2, topology="T2", servers=2,
                  batch=[1, 10, 100, 1000], argmax="pairs", schedule="parallel")
    return [_g(preset, protocol="a2b", **common), _g(preset, protocol="fss", cmp_bits=[64, 32], **common)]


# the complexity axis (issue 14): LR, MLPs of depth 1-4 and widths 32-512, CNNs (8x8 inputs:
# conv 3x3 -> ReLU -> pool 2 blocks, then dense), K = 2 owners, T2 with 2 servers
COMPLEXITY_MODELS = ["logreg", "mlp:32", "mlp:128", "mlp:512", "mlp:64,64", "mlp:256,256", "mlp:128,128,128",
                     "mlp:32,32,32,32", "mlp:512,512,512,512", "cnn", "cnn:32", "cnn:16,32m", "cnn:64,128", "cnn:128,256"]


def _complexity(preset):
    if preset == "quick":
        return _g(workload="m2", model=["logreg", "mlp:32,32", "mlp:64,64,64", "cnn"], hidden=0, owners=2,
                  topology="T2", servers=2, batch=1, protocol="a2b", argmax="tree", schedule="parallel")
    return _g("paper", workload="m2", model=COMPLEXITY_MODELS, hidden=0, owners=2, topology="T2", servers=2,
              batch=[1, 100, 1000], protocol="a2b", argmax="tree", schedule="parallel")


PRESETS = {
    "quick": [
        _g(workload="relu", n=[1, 1000], parties=[2, 3, 5], protocol="a2b"),
        _g(workload="relu", n=[1, 1000], parties=2, protocol="fss"),
        _g(workload="m1", owners=[2, 3, 5, 10], topology=["T1", "T2"], servers=2, batch=1,
           protocol="a2b", argmax="tree", logits="synthetic", owner_model="lr"),
        _g(workload="m2", model="logreg", hidden=0, owners=[2, 3, 5], topology="T2", servers=2, batch=1,
           protocol="a2b", argmax="tree", schedule="parallel"),
        _g(workload="m2", model="mlp", hidden=[16, 64], owners=[2, 3, 5], topology="T2", servers=2, batch=1,
           protocol="a2b", argmax="tree", schedule="parallel"),
        _g(workload="m2", model="mlp", hidden=64, owners=[3, 5, 10], topology="T1", servers=2, batch=1,
           protocol="a2b", argmax="tree", schedule="parallel"),
        # where each comparison protocol wins (issue 8): M2 MLP 64-32-10, by batch size
        *_crossover("quick"),
        _complexity("quick"),
        *_dealer_vs_replicated("quick"),
    ],
    "paper": [
        _g("paper", workload="relu", n=[1, 100, 10_000, 100_000], parties=[2, 3, 5, 8], protocol="a2b"),
        _g("paper", workload="relu", n=[1, 100, 10_000, 100_000], parties=2, protocol="fss"),
        _g("paper", workload="m1", owners=[2, 3, 5, 8, 10, 16], topology=["T1", "T2"], servers=[2, 3],
           batch=[1, 100], protocol="a2b", argmax=["tree", "pairs"], logits="digits", owner_model="lr"),
        _g("paper", workload="m1", owners=[2, 3, 5, 8, 10, 16], topology="T2", servers=2, batch=[1, 100],
           protocol="fss", argmax="tree", logits="digits", owner_model="lr"),
        _g("paper", workload="m2", model="logreg", hidden=0, owners=[2, 3, 5, 10], topology="T2", servers=[2, 3],
           batch=[1, 100], protocol="a2b", argmax="tree", schedule="parallel"),
        _g("paper", workload="m2", model="mlp", hidden=[16, 64, 128, 256], owners=[2, 3, 5, 10], topology="T2",
           servers=[2, 3], batch=[1, 100], protocol="a2b", argmax="tree", schedule="parallel"),
        _g("paper", workload="m2", model="mlp", hidden=128, owners=[2, 3, 5, 8, 10, 16], topology="T1", servers=2,
           batch=[1, 100], protocol="a2b", argmax="tree", schedule="parallel"),
        *_crossover("paper"),
        _complexity("paper"),
        *_dealer_vs_replicated("paper"),
        # naive schedule: the K models one after the other (K times the rounds)
        _g("paper", workload="m2", model="mlp", hidden=128, owners=[2, 5, 10, 16], topology=["T1", "T2"], servers=2,
           batch=[1, 100], protocol="a2b", argmax="tree", schedule="sequential"),
    ],
}
REPEATS = {"quick": 1, "paper": 3}
# wall time of the preset (fibench list), measured on the 2-core reference machine at load ~1;
# presets without a number are estimated from it as a lower bound
DURATION_S = {"quick": 15}
# columns computed from measured times (fibench compare shows them as ratios, never compares
# them exactly); the latency share of an estimate has no faster direction
TIMED = {"latency_share": None}
REPORT = {
    "index": ["label", "network"],
    "values": ["compute_s", "latency_s", "transfer_s", "est_time_s", "online_rounds", "online_bytes_per_party",
               "offline_bytes_per_party", "agree"],
}


KEYS = {
    "workload": {"choice": ("relu", "m1", "m2")},
    "n": {"int": (1, 10_000_000)},
    "parties": {"int": (2, 16)},
    "protocol": {"choice": ("a2b", "fss")},
    "cmp_bits": {"int": (2, 64)},
    "owners": {"int": (1, 256)},
    "topology": {"choice": ("T1", "T2")},
    "servers": {"int": (2, 16)},
    "batch": {"int": (1, 100_000)},
    "argmax": {"choice": ("tree", "pairs")},
    "logits": {"dataset": ("synthetic", "digits", "iris", "wine", "breast_cancer")},
    "dataset": {"dataset": ("digits", "iris", "wine", "breast_cancer", "synthetic"), "none": True},
    "owner_model": {"model": ("lr", "mlp", "cnn")},
    "model": {"choice": ("logreg", "mlp"), "model": ("lr", "mlp", "cnn")},  # or mlp:64,32, cnn, cnn:16,32m
    "hidden": {"int": (0, 4096)},
    "schedule": {"choice": ("parallel", "sequential")},
    "networks": {"profiles": "network_file"},
    "network_file": {"toml": True, "none": True},
    "features": {"int": (1, 4096)},
    "classes": {"int": (2, 1000)},
    "timing_reps": {"int": (1, 1000)},
    "threads": {"int": (0, 1024)},
    "sharing": {"choice": ("additive", "replicated")},
}


def VALID(point: dict) -> bool:
    """fss needs exactly two compute parties (relu: parties=2; m1/m2: topology T2 with servers=2);
    sharing=replicated exactly three (relu: parties=3; m1/m2: T2 with servers=3, or T1 with 3 owners)."""
    if point.get("sharing", "additive") == "replicated":
        if point.get("protocol", "a2b") != "a2b":
            return False
        if point["workload"] == "relu":
            return point.get("parties") == 3
        return (point.get("servers") == 3) if point.get("topology", "T2") == "T2" else point.get("owners") == 3
    if point.get("protocol") == "fss":
        if point["workload"] == "relu":
            return point.get("parties") == 2
        return point.get("topology") == "T2" and point.get("servers") == 2
    return True


def CHECK(point: dict):
    """Errors, not filters: T1 makes the owners the compute parties (2..16 of them); an mlp
    needs hidden units."""
    if point.get("workload") in ("m1", "m2") and point.get("topology") == "T1":
        k = point.get("owners", 2)
        if not 2 <= k <= 16:
            return f"topology T1 needs owners in [2, 16] (the owners are the compute parties), got owners={k}"
    if point.get("workload") == "m2" and point.get("model", "mlp") == "mlp" and not point.get("hidden"):
        return f"model mlp needs hidden >= 1, got hidden={point.get('hidden')!r}"
    model = str(point.get("model", "mlp"))
    if point.get("workload") == "m2" and model not in ("logreg", "lr", "mlp"):
        if point.get("schedule", "parallel") != "parallel":
            return f"schedule {point.get('schedule')!r} supports the models logreg and mlp, got model={model}"
        d = int(point.get("features", 64) or 0)
        if model.startswith("cnn") and (d < 4 or int(round(d ** 0.5)) ** 2 != d):
            return f"model {model} reads a square image: features must be a square number (64 = 8x8), got {d}"
    return None
