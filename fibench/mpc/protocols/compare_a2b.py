"""``a2b`` secure comparison: [x < 0] for additively shared x on Z_2^64, any P >= 2.

Offline, the dealer (``Dealer.a2b_masks``) shares a uniform r both additively and bit-sliced (XOR), the pair products
q_j = r_{2j+1} & r_{2j}, boolean Beaver triples for four AND levels, and the correlated values
of the fused last level (see ``fibench.kernels.compare``). Online:

1. open c = x + r (8 bytes per element per peer);
2. four AND levels of a borrow-lookahead tree over 32 free leaves (56 AND gates per element;
   a pair's two ANDs share their first operand and its mask, so each level opens one d per
   pair and one e per AND: 30 + 56 = 86 bits per element per peer);
3. one round opening 3 bits per element per peer, after which every party selects its share
   of the sign bit from a one-time truth table of the dealer (4 words per element).

Total: 6 rounds and 8 + 89/8 = 19.1 bytes per element per peer (n a multiple of 64); offline
51 bytes per element to party 0 (``Dealer.a2b_masks``).
Inputs must satisfy |x| < 2**63 (always true for x = a - b of encoded fixed-point values).
"""
from __future__ import annotations

import numpy as np

from fibench.kernels import bitslice as kbs
from fibench.kernels import compare as kc
from fibench.mpc.protocols import arithmetic as ar
from fibench.mpc.protocols.compare import ComparisonProtocol, keep_nonnegative
from fibench.mpc.protocols.sharing import open_many, open_split
from fibench.mpc.shares import AShare, BShare


def ltz_a2b(ctx, x: AShare, output: str = "arith", also_open: tuple = ()):
    """[x < 0] as an additive 0/1 share (``output="arith"``: frac 0, shape of x) or as a
    bit-sliced XOR share (``output="bool"``: ``BShare`` with planes ``(1, ceil(n/64))`` over the
    flattened x). Both take 6 rounds; the boolean output sends 2 instead of 3 bits in the last.

    ``also_open``: further ``AShare`` values opened in the first round (their bytes added to
    it, no round more); then returns ``(result, [their opened values])``."""
    if output not in ("arith", "bool"):
        raise ValueError(f"output must be 'arith' or 'bool', got {output!r}")
    n = x.size
    parties = ctx.parties
    if n == 0 and also_open:
        raise ValueError("also_open needs a non-empty x (an empty comparison has no round to share)")
    if n == 0:
        if output == "bool":
            return BShare({p: np.zeros((1, 0), dtype=np.uint64) for p in parties}, 0)
        return AShare({p: np.zeros(x.shape, dtype=np.uint64) for p in parties}, x.shape, 0)
    pre = ctx.dealer.a2b_masks(n, output)
    masked = AShare({p: x.shares[p].reshape(-1) + pre.r[p] for p in parties}, (n,), 0)
    if also_open:
        c, *extra = open_many(ctx, [masked, *also_open], "a2b/open")
        return _ltz_a2b_rest(ctx, x, pre, kbs.bitslice(c), output), extra
    c_part, c_peer = open_split(ctx, masked.shares, "a2b/open")
    return _ltz_a2b_rest(ctx, x, pre, kbs.bitslice(c_part, plus=c_peer), output)


def _ltz_a2b_rest(ctx, x: AShare, pre, c_planes: np.ndarray, output: str):
    """Rounds 2-6 of ``ltz_a2b`` once c = x + r is open (its bit planes ``c_planes``)."""
    n = x.size
    parties = ctx.parties
    first = min(ctx.parties_all)
    G, Pn = {}, {}
    for p in parties:
        G[p], Pn[p] = kc.leaf_nodes(c_planes, pre.r_planes[p], pre.q[p], p == first)
    for lvl in range(len(kc.LEVEL_ANDS)):
        A, B, C = pre.A[lvl], pre.B[lvl], pre.C[lvl]
        de, de_peer = open_split(ctx, {p: kc.level_masked(G[p], Pn[p], A[p], B[p]) for p in parties},
                                 f"a2b/and{lvl + 1}", xor=True)
        for p in parties:
            G[p], Pn[p] = kc.level_finish(de, de_peer, A[p], B[p], C[p], G[p], p == first)
    fin = pre.fin
    if output == "bool":
        d, e = open_many(ctx, [("xor", {p: Pn[p][1:2] ^ fin[p][0:1] for p in parties}),
                               ("xor", {p: G[p][0:1] ^ fin[p][1:2] for p in parties})], "a2b/final")
        out = {}
        for p in parties:
            z = kc.and_finish(d, e, fin[p][0:1], fin[p][1:2], pre.gamma[p], p == first)
            s = z ^ G[p][1:2] ^ pre.r_planes[p][63:64]
            if p == first:
                s ^= c_planes[63:64]
            out[p] = s
        return BShare(out, n)
    msg = {p: np.stack([Pn[p][1] ^ fin[p][0], G[p][0] ^ fin[p][1],
                        pre.r_planes[p][63] ^ G[p][1] ^ fin[p][2]]) for p in parties}
    (dew,) = open_many(ctx, [("xor", msg)], "a2b/final")
    out = {}
    for p in parties:
        out[p] = kc.final_arith(dew[0], dew[1], dew[2], c_planes[63], pre.table[p], p == first, n).reshape(x.shape)
    return AShare(out, x.shape, 0)


class A2B(ComparisonProtocol):
    """``a2b`` behind the comparison interface (any P); ReLU and argmax use the generic parts."""

    name = "a2b"

    def ltz(self, ctx, x: AShare) -> AShare:
        return ltz_a2b(ctx, x)

    fuses_rescale = True

    def relu_rescale(self, ctx, z: AShare, bits: int) -> AShare:
        """max(z, 0) / 2^bits in 7 rounds instead of 8: the sign is read off the product z itself
        (z / 2^bits has the same sign, up to the 1-ulp truncation error at 0), so the
        truncation's opening travels in the comparison's first round. Needs |z| < 2^62 (the
        exact truncation's own promise) and the dealer's truncation."""
        if bits == 0 or ctx.trunc != "dealer" or z.size == 0:
            return super().relu_rescale(ctx, z, bits)
        pair, masked = ar.trunc_masked(ctx, z, bits)
        b, (c,) = ltz_a2b(ctx, z, also_open=(masked,))
        return keep_nonnegative(ctx, ar.trunc_finish(ctx, z, pair, c, bits, "relu/trunc"), b)

    def ltz_bool(self, ctx, x: AShare) -> dict:
        return ltz_a2b(ctx, x, output="bool").shares
