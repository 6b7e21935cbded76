"""Kernels suite: throughput of the numba kernels (ring arithmetic, fixed point, Beaver
products, truncation, bit slicing, comparison circuit, Shapley enumeration), each next to an
in-run numpy reference on the same data so that CI can gate on the *ratio* (stable on shared
machines) rather than on absolute time.

The measure function gets ``kernel`` and ``n`` (elements; for ``ring_matmul`` the side of a
square matrix, for ``shapley`` the number of owners K) and returns one row with at least
``time_s`` (median over ``inner`` calls), ``throughput`` (elements/s), ``numpy_time_s``,
``ratio_vs_numpy`` and ``jit_compile_s`` (first call, reported apart).
"""
NAME = "kernels"
DESCRIPTION = "numba kernel throughput, with an in-run numpy reference (ratio for CI)"
MEASURE = "fibench.bench.measures.kernels:run_point"
PLOTS = ("fibench.bench.plots.kernels:plot_kernels",)

_ELEMENTWISE = ["ring_add", "ring_mul", "ring_sum", "encode", "decode", "beaver_combine",
                "local_trunc", "dealer_trunc", "bitslice", "compare_leaf"]

PRESETS = {
    "quick": [
        {"kernel": _ELEMENTWISE, "n": [1_000, 100_000], "inner": 5},
        {"kernel": "ring_matmul", "n": [16, 64], "inner": 3},
        {"kernel": "shapley", "n": [6, 10], "inner": 1},
    ],
    "paper": [
        {"kernel": _ELEMENTWISE, "n": [100, 1_000, 10_000, 100_000, 1_000_000], "inner": 20},
        {"kernel": "ring_matmul", "n": [16, 64, 128, 256], "inner": 10},
        {"kernel": "shapley", "n": [6, 10, 14, 18], "inner": 3},
    ],
}
REPEATS = {"quick": 1, "paper": 5}
# wall time of the preset (fibench list), measured on the 2-core reference machine at load ~1;
# presets without a number are estimated from it as a lower bound
DURATION_S = {"quick": 20}  # first run (numba compiles); ~1 s with the compile cache warm
# columns computed from measured times (fibench compare judges them like times, never exactly):
# larger is faster for both; ratio_vs_numpy is the in-run reference (numpy on the same data)
TIMED = {"throughput": "higher", "ratio_vs_numpy": "higher"}

KEYS = {
    "kernel": {"choice": ("ring_add", "ring_mul", "ring_sum", "encode", "decode", "beaver_combine",
                          "local_trunc", "dealer_trunc", "bitslice", "compare_leaf", "ring_matmul", "shapley",
                          "prg_expand", "share", "beaver_mul", "beaver_matmul", "lt", "relu", "argmax")},
    "n": {"int": (1, 100_000_000)},
    "inner": {"int": (1, 10_000)},
}


def CHECK(point: dict):
    """ring_matmul's n is the side of a square matrix, shapley's the number of owners."""
    if point.get("kernel") == "ring_matmul" and point.get("n", 1) > 4096:
        return f"kernel ring_matmul: n (the matrix side) must be in [1, 4096], got n={point['n']}"
    if point.get("kernel") == "shapley" and not 2 <= point.get("n", 2) <= 20:
        return f"kernel shapley: n (the number of owners) must be in [2, 20], got n={point['n']}"
    return None
