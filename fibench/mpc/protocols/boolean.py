"""Boolean (XOR-shared, bit-sliced) gates: AND by boolean Beaver triples.

Shares are per-party uint64 word arrays of one shape; 64 independent bits per word.
``and_gates`` costs one round and 2 bits per AND per peer (the opened d = x ^ a, e = y ^ b).
"""
from __future__ import annotations

import numpy as np

from fibench.kernels.compare import and_finish
from fibench.mpc.protocols import replicated_boolean as rb
from fibench.mpc.protocols.sharing import open_many

ALL_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)


def and_gates(ctx, X: dict, Y: dict, label: str = "and") -> dict:
    """Elementwise AND of XOR-shared word arrays (same shape) in one round (replicated sessions:
    ``replicated_boolean.and_gates``, 1 bit per gate per server)."""
    if ctx.sharing == "replicated":
        return rb.and_gates(ctx, X, Y, label)
    shape = next(iter(X.values())).shape
    t = ctx.dealer.and_triple(shape)
    a_sh, b_sh, c_sh = t.a, t.b, t.c
    d, e = open_many(ctx, [("xor", {p: X[p] ^ a_sh[p] for p in ctx.parties}),
                           ("xor", {p: Y[p] ^ b_sh[p] for p in ctx.parties})], label)
    first = min(ctx.parties_all)
    return {p: and_finish(d, e, a_sh[p], b_sh[p], c_sh[p], p == first) for p in ctx.parties}


def and_tree(ctx, F: dict, label: str = "and_tree") -> dict:
    """AND over axis 1 of XOR-shared ``(rows, k, nwords)`` words -> ``(rows, nwords)``, in
    ceil(log2 k) rounds (all rows batched)."""
    k = next(iter(F.values())).shape[1]
    while k > 1:
        half = k // 2
        lo = {p: np.ascontiguousarray(f[:, 0:2 * half:2]) for p, f in F.items()}
        hi = {p: np.ascontiguousarray(f[:, 1:2 * half:2]) for p, f in F.items()}
        prod = and_gates(ctx, lo, hi, label)
        if k % 2:
            prod = {p: np.concatenate([prod[p], F[p][:, k - 1:k]], axis=1) for p in prod}
        F, k = prod, half + k % 2
    return {p: f[:, 0] for p, f in F.items()}
