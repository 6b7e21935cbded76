"""Boolean-to-arithmetic conversion of bit-sliced XOR-shared bits.

The dealer shares a random bit m both ways (bit-sliced XOR shares, and additive shares over
Z_2^64). The parties open w = b XOR m (1 bit per value per peer, 1 round); then
b = w + (1 - 2w) m is linear in the additive shares of m.
"""
from __future__ import annotations

import numpy as np

from fibench.mpc.shares import AShare
from fibench.kernels import bitslice as kbs
from fibench.mpc.protocols import replicated_boolean as rb
from fibench.mpc.protocols.sharing import open_many


def b2a(ctx, planes: dict, n: int, label: str = "b2a") -> AShare:
    """XOR-shared planes ``(k, nwords)`` holding k rows of ``n`` bits -> additive ``(k, n)`` 0/1
    (replicated sessions: ``replicated_boolean.b2a``, 2 rounds, no dealer)."""
    if ctx.sharing == "replicated":
        return rb.b2a(ctx, planes, n, label)
    k, nw = next(iter(planes.values())).shape
    m_sh, m_arith = ctx.dealer.b2a_bits(k, n)
    (w,) = open_many(ctx, [("xor", {p: planes[p] ^ m_sh[p] for p in ctx.parties})], label)
    w_bits = kbs.unslice_planes(w, n)
    first = min(ctx.parties_all)
    sign = np.uint64(1) - np.uint64(2) * w_bits  # 1 - 2w mod 2^64
    out = {p: sign * m_arith[p] + (w_bits if p == first else np.uint64(0)) for p in ctx.parties}
    return AShare(out, (k, n), 0)
