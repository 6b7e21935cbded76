"""Bytes and rounds per op and protocol (and the time each op takes in process)."""
NAME = "communication"
DESCRIPTION = "online/offline bytes per party, rounds and in-process time of each MPC op"
MEASURE = "fibench.bench.measures.communication:run_point"
PLOTS = ("fibench.bench.plots.communication:plot_communication",)
PRESETS = {
    "quick": {
        "op": ["share", "reveal", "mul", "matmul", "lt", "relu", "argmax"],
        "protocol": ["a2b", "fss"],
        "parties": [2, 3, 5],
        "trunc": ["dealer", "local"],
        "n": [100_000],
        "rows": [1000],
        "reps": [3],
        "seed": [0],
    },
    "paper": {
        "op": ["share", "reveal", "mul", "matmul", "lt", "relu", "argmax"],
        "protocol": ["a2b", "fss"],
        "parties": [2, 3, 4, 5, 8],
        "n": [10_000, 1_000_000],
        "rows": [1000],
        "argmax_method": ["pairs", "tree"],
        "trunc": ["dealer", "local"],
        "reps": [5],
        "seed": [0],
    },
}
REPEATS = {"quick": 1, "paper": 1}

KEYS = {
    "op": {"choice": ("share", "reveal", "mul", "matmul", "lt", "relu", "argmax")},
    "protocol": {"choice": ("a2b", "fss")},
    "parties": {"int": (2, 16)},
    "n": {"int": (1, 10_000_000)},
    "rows": {"int": (1, 1_000_000)},
    "reps": {"int": (1, 1000)},
    "argmax_method": {"choice": ("pairs", "tree")},
    "trunc": {"choice": ("dealer", "local")},
}


_COMPARISONS = ("lt", "relu", "argmax")


def VALID(point: dict) -> bool:
    """fss is a 2-party comparison protocol (lt, relu, argmax with parties=2) and trunc=local a
    2-party truncation after products (mul, matmul)."""
    if point.get("protocol", "a2b") != "a2b" and (point.get("parties") != 2 or point.get("op") not in _COMPARISONS):
        return False
    return point.get("trunc") != "local" or (point.get("parties") == 2 and point.get("op") in ("mul", "matmul"))
