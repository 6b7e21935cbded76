"""Timing helpers shared by the measure functions: warm-up apart, median and spread."""
from __future__ import annotations

import statistics
import time


def median_time(fn, reps: int = 5) -> float:
    """Median wall time of ``reps`` calls of ``fn()`` (no warm-up: call it first yourself)."""
    ts = []
    for _ in range(max(1, reps)):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def time_call(fn, reps: int = 3, dealer=None):
    """Call ``fn()`` once to warm up (JIT compile), then ``reps`` times.

    Returns a dict: ``warmup_s`` (first call, includes compilation), ``time_s`` (median),
    ``time_min_s``, ``time_max_s``, and where a ``dealer`` is given ``dealer_s`` (median dealer
    time inside each call) and ``online_s`` (median of wall - dealer).
    """
    t0 = time.perf_counter()
    out = fn()
    warm = time.perf_counter() - t0
    walls, deals = [], []
    for _ in range(max(1, reps)):
        d0 = dealer.elapsed if dealer is not None else 0.0
        t0 = time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t0)
        deals.append((dealer.elapsed - d0) if dealer is not None else 0.0)
    res = {
        "warmup_s": warm,
        "time_s": statistics.median(walls),
        "time_min_s": min(walls),
        "time_max_s": max(walls),
    }
    if dealer is not None:
        res["dealer_s"] = statistics.median(deals)
        res["online_s"] = statistics.median(w - d for w, d in zip(walls, deals))
    return res, out
