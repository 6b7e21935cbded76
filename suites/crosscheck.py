"""The ops on the mpi backend (one process per party), cross-checked against the local backend;
MPICH on shared memory and with the network path forced; injected lan/region/wan delays
validate the network model (estimate vs measured wall time)."""
NAME = "crosscheck"
DESCRIPTION = ("mpi backend (one rank per party): counts equal to the local backend's, wall time on "
               "shared memory and TCP, and the network model against injected delays")
MEASURE = "fibench.bench.measures.crosscheck:run_point"
PLOTS = ("fibench.bench.plots.crosscheck:plot_crosscheck",)  # model vs measured with injected delays

_OPS = ["lt", "relu", "argmax", "mlp"]

PRESETS = {
    "quick": [
        {"op": _OPS, "parties": [2, 3, 5], "n": [10_000], "rows": [100], "transport": ["shm", "tcp"],
         "profile": ["none"], "reps": [3]},
        # the figure: the network model against injected delays, two profiles x two party counts
        {"op": ["lt"], "parties": [2, 3], "n": [10_000], "rows": [100], "transport": ["shm"],
         "profile": ["lan", "region"], "reps": [3]},
        # replicated 2-out-of-3 sharing (3 ranks, no dealer)
        {"op": _OPS, "sharing": ["replicated"], "parties": [3], "n": [10_000], "rows": [100], "transport": ["shm"],
         "profile": ["none", "region"], "reps": [3]},
    ],
    "paper": [
        # the figures: x<y / ReLU on 10^6 elements, argmax 1000 x 10, MLP 1000 queries
        {"op": _OPS, "parties": [2, 3, 5], "n": [1_000_000], "rows": [1000], "transport": ["shm", "tcp"],
         "profile": ["none"], "reps": [5]},
        # the 1-round FSS comparison (P = 2 only)
        {"op": _OPS, "protocol": ["fss"], "parties": [2], "n": [1_000_000], "rows": [1000],
         "transport": ["shm"], "profile": ["none"], "reps": [5]},
        # issue 8: the M2 MLP (1000 queries) a2b vs fss under injected wan delays
        {"op": ["mlp"], "protocol": ["a2b"], "parties": [2], "rows": [1000], "transport": ["shm"],
         "profile": ["wan"], "reps": [3]},
        {"op": ["mlp"], "protocol": ["fss"], "cmp_bits": [64, 32], "parties": [2], "rows": [1000],
         "transport": ["shm"], "profile": ["wan"], "reps": [3]},
        # network model validation: x<y on 10^5 elements and the MLP end to end
        {"op": ["lt", "mlp"], "parties": [2, 3, 5], "n": [100_000], "rows": [1000], "transport": ["shm"],
         "profile": ["lan", "region", "wan"], "reps": [7]},
        # replicated sharing, 3 ranks: x<y 10^6 and the MLP, then under injected delays
        {"op": _OPS, "sharing": ["replicated"], "parties": [3], "n": [1_000_000], "rows": [1000],
         "transport": ["shm", "tcp"], "profile": ["none"], "reps": [5]},
        {"op": ["lt", "mlp"], "sharing": ["replicated"], "parties": [3], "n": [100_000], "rows": [1000],
         "transport": ["shm"], "profile": ["lan", "region", "wan"], "reps": [7]},
    ],
}
REPEATS = {"quick": 1, "paper": 1}
# wall time of the preset (fibench list), measured on the 2-core reference machine at load ~1;
# presets without a number are estimated from it as a lower bound
DURATION_S = {"quick": 175}
# columns computed from measured times (fibench compare shows them as ratios, never exactly)
TIMED = {"est_error": None, "est_rtt_error": None}

KEYS = {
    "op": {"choice": ("share", "reveal", "mul", "matmul", "lt", "relu", "argmax", "mlp")},
    "protocol": {"choice": ("a2b", "fss")},
    "cmp_bits": {"int": (2, 64)},
    "parties": {"int": (2, 16)},
    "n": {"int": (1, 10_000_000)},
    "rows": {"int": (1, 1_000_000)},
    "transport": {"choice": ("shm", "tcp")},
    "profile": {"choice": ("none", "lan", "region", "wan", "geo"), "none": True},
    "reps": {"int": (1, 1000)},
    "sharing": {"choice": ("additive", "replicated")},
}


def VALID(point: dict) -> bool:
    """fss is a 2-party protocol: it runs with parties=2 only; sharing=replicated with parties=3 and a2b."""
    if point.get("sharing", "additive") == "replicated" and (point.get("parties") != 3 or
                                                           point.get("protocol", "a2b") != "a2b"):
        return False
    return point.get("protocol", "a2b") != "fss" or point.get("parties") == 2
