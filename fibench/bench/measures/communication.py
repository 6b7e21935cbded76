"""Measure function of the ``communication`` suite: bytes, rounds and time of one op.

Ops: ``share`` (an owner shares n reals), ``reveal`` (open n reals to all), ``mul`` (n fixed-point
products), ``matmul`` ((rows x 64) @ (64 x 32), the MLP's first layer), ``lt`` (n comparisons),
``relu`` (n), ``argmax`` (rows x 10 classes). ``trunc`` (products only): ``dealer`` (the default,
exact to 1 ulp) or ``local`` (P = 2: SecureML's probabilistic truncation, 0 rounds) — the pair
shows what exactness costs. Counts are exact and deterministic; times are the median of
``reps`` calls after a warm-up call (reported apart as ``warmup_s``).
"""
from __future__ import annotations

import numpy as np

from fibench.bench.timing import time_call
from fibench.mpc import Session, runs_with

OPS = ("share", "reveal", "mul", "matmul", "lt", "relu", "argmax")
COMPARISON_OPS = ("lt", "relu", "argmax")
PRODUCT_OPS = ("mul", "matmul")
MATMUL_INNER, MATMUL_OUT, ARGMAX_CLASSES = 64, 32, 10


def _op_fn(s: Session, op: str, n: int, rng, method: str):
    if op == "share":
        x = rng.normal(size=n)
        return lambda: s.share(x, owner=0), n
    if op == "reveal":
        x = s.share(rng.normal(size=n), 0)
        return lambda: s.reveal(x), n
    if op == "mul":
        x, y = s.share(rng.normal(size=n), 0), s.share(rng.normal(size=n), 1)
        return lambda: s.mul(x, y), n
    if op == "matmul":
        x = s.share(rng.normal(size=(n, MATMUL_INNER)), "querier")
        w = s.share(rng.normal(size=(MATMUL_INNER, MATMUL_OUT)) * 0.1, 0)
        return lambda: s.matmul(x, w), n
    if op == "lt":
        x, y = s.share(rng.normal(size=n), 0), s.share(rng.normal(size=n), 1)
        return lambda: s.lt(x, y), n
    if op == "relu":
        x = s.share(rng.normal(size=n), 0)
        return lambda: s.relu(x), n
    if op == "argmax":
        x = s.share(rng.normal(size=(n, ARGMAX_CLASSES)), 0)
        return lambda: s.argmax(x, method=method), n
    raise ValueError(f"op must be one of {OPS}, got {op!r}")


def run_point(params: dict) -> list[dict]:
    """One grid point -> one row (or none where the protocol does not apply)."""
    op = params["op"]
    protocol = params.get("protocol", "a2b")
    P = int(params["parties"])
    n = int(params.get("rows", 1000) if op in ("matmul", "argmax") else params["n"])
    method = params.get("argmax_method", "pairs")
    trunc = params.get("trunc", "dealer")
    if protocol != "a2b" and (op not in COMPARISON_OPS or not runs_with(protocol, P)):
        return []  # e.g. fss: a 2-party comparison protocol
    if trunc == "local" and (P != 2 or op not in PRODUCT_OPS):
        return []  # local truncation: 2 parties, after products only
    seed = int(params.get("seed", 0))
    s = Session(n_parties=P, protocol=protocol, cmp_bits=int(params.get("cmp_bits", 64) or 64), trunc=trunc)
    rng = np.random.default_rng(seed)
    fn, n = _op_fn(s, op, n, rng, method)
    fn()  # warm-up (JIT compile) before counting
    mark = s.stats.mark()
    fn()
    counts = s.stats.since(mark).summary()
    timing, _ = time_call(fn, int(params.get("reps", 3)), s.dealer)
    row = {"op": op, "protocol": protocol if op in COMPARISON_OPS else "-", "parties": P, "n": n,
           "argmax_method": method if op == "argmax" else "-", "trunc": trunc if op in PRODUCT_OPS else "-",
           "seed": seed}
    row.update(counts)
    row["online_bytes_per_element"] = counts["online_bytes_sent_per_party"] / max(n, 1)
    row["offline_bytes_per_element"] = counts["offline_bytes_per_party"] / max(n, 1)
    row.update(timing)
    return [row]
