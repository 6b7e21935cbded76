"""Bytes and rounds per op and protocol (and the time each op takes in process)."""
NAME = "communication"
DESCRIPTION = "online/offline bytes per party, rounds and in-process time of each MPC op"
MEASURE = "fibench.bench.measures.communication:run_point"
PLOTS = ("fibench.bench.plots.communication:plot_communication",
         "fibench.bench.plots.communication:plot_layer_costs")
TABLES = {"Per-layer cost of one secure inference (M2 logit_sum, T2, online bytes and rounds per layer kind)":
          "fibench.bench.measures.communication:layer_table"}

# op=layers: one secure inference of each model, its cost per layer kind (dense, conv, relu,
# maxpool, avgpool, plus the input sharing and the final argmax); rows = queries
_LAYER_MODELS = ["mlp:64,32", "cnn", "cnn:8m", "cnn:16,32m"]


def _layers(parties, rows):
    return {"op": "layers", "model": _LAYER_MODELS, "protocol": ["a2b", "fss"], "parties": parties,
            "owners": [2], "rows": rows, "argmax_method": ["tree"], "seed": [0]}


def _replicated(n, rows):
    """Every op on 2-out-of-3 replicated shares (3 servers, no dealer) next to the dealer's
    scheme at P = 3 of the same grid."""
    return {"op": ["share", "reveal", "mul", "matmul", "lt", "relu", "argmax"], "sharing": ["replicated"],
            "protocol": ["a2b"], "parties": [3], "trunc": ["dealer"], "n": n, "rows": rows, "reps": [3], "seed": [0]}


def _layers_replicated(rows):
    return {"op": "layers", "model": _LAYER_MODELS, "protocol": ["a2b"], "parties": [3], "owners": [2],
            "rows": rows, "argmax_method": ["tree"], "seed": [0], "sharing": ["replicated"]}


PRESETS = {
    "quick": [{
        "op": ["share", "reveal", "mul", "matmul", "lt", "relu", "argmax"],
        "protocol": ["a2b", "fss"],
        "parties": [2, 3, 5],
        "trunc": ["dealer", "local"],
        "n": [100_000],
        "rows": [1000],
        "reps": [3],
        "seed": [0],
    }, _layers([2], [100]), _replicated([100_000], [1000]), _layers_replicated([100])],
    "paper": [{
        "op": ["share", "reveal", "mul", "matmul", "lt", "relu", "argmax"],
        "protocol": ["a2b", "fss"],
        "parties": [2, 3, 4, 5, 8],
        "n": [10_000, 1_000_000],
        "rows": [1000],
        "argmax_method": ["pairs", "tree"],
        "trunc": ["dealer", "local"],
        "reps": [5],
        "seed": [0],
    }, _layers([2, 3], [1, 100, 1000]), _replicated([10_000, 1_000_000], [1000]),
        _layers_replicated([1, 100, 1000])],
}
REPEATS = {"quick": 1, "paper": 1}
# wall time of the preset (fibench list), measured on the 2-core reference machine at load ~1;
# presets without a number are estimated from it as a lower bound
DURATION_S = {"quick": 25}

KEYS = {
    "op": {"choice": ("share", "reveal", "mul", "matmul", "lt", "relu", "argmax", "layers")},
    "model": {"model": ("lr", "mlp", "cnn", "onnx")},  # op=layers: lr, mlp:64,32 (any depth), cnn, cnn:8,16m, onnx:PATH
    "owners": {"int": (1, 16)},
    "features": {"int": (4, 4096)},
    "classes": {"int": (2, 1000)},
    "protocol": {"choice": ("a2b", "fss")},
    "parties": {"int": (2, 16)},
    "n": {"int": (1, 10_000_000)},
    "rows": {"int": (1, 1_000_000)},
    "reps": {"int": (1, 1000)},
    "argmax_method": {"choice": ("pairs", "tree")},
    "trunc": {"choice": ("dealer", "local")},
    "sharing": {"choice": ("additive", "replicated")},
}


_COMPARISONS = ("lt", "relu", "argmax")


def VALID(point: dict) -> bool:
    """fss is a 2-party comparison protocol (lt, relu, argmax, layers; parties=2), trunc=local a 2-party truncation after products (mul, matmul), and sharing=replicated runs with parties=3, a2b and trunc=dealer only."""
    if point.get("sharing", "additive") == "replicated" and (point.get("parties") != 3 or
                                                           point.get("protocol", "a2b") != "a2b" or
                                                           point.get("trunc", "dealer") != "dealer"):
        return False
    if point.get("protocol", "a2b") != "a2b" and (point.get("parties") != 2 or
                                                   point.get("op") not in _COMPARISONS + ("layers",)):
        return False
    return point.get("trunc") != "local" or (point.get("parties") == 2 and point.get("op") in ("mul", "matmul"))


def CHECK(point: dict):
    """op=layers: a CNN reads a square image (features 64 = 8x8)."""
    model = str(point.get("model", "cnn"))
    if point.get("op") == "layers" and model.startswith("cnn"):
        d = int(point.get("features", 64) or 0)
        if d < 4 or int(round(d ** 0.5)) ** 2 != d:
            return f"model {model} reads a square image: features must be a square number (64 = 8x8), got {d}"
    return None
