"""``fss`` secure comparison: [x < 0] for additively shared x on Z_2^64, P = 2, ONE online round.

Scheme (Boyle et al., EUROCRYPT 2021, with a distributed comparison function, DCF; see
``fibench.kernels.dcf``). Let l = ``bits`` (inputs known to lie in [-2^(l-1), 2^(l-1)); l = 64
covers the whole ring) and write a value v mod 2^l as v_msb * 2^(l-1) + v_low.

Offline, the dealer draws a uniform mask r, additively shared from the parties' dealer seeds
(0 bytes), and sends party b a DCF key k_b (the exact key bytes are booked as one offline
message per party, label ``"dealer/dcf"``) for the (l-1)-bit comparison function

    f(c_low) = beta * [c_low < r_low] + gamma,   beta = 1 - 2 r_msb,  gamma = r_msb,

so that the two outputs add up to z = r_msb XOR [c_low < r_low] (gamma is folded into the
first-level value correction word, so it costs nothing).

Online, the parties open c = x + r (8 bytes per element per party, 1 round). Since
x mod 2^l = (c - r) mod 2^l, and the low part borrows exactly when c_low < r_low,

    [x < 0] = msb_l(x) = c_msb XOR r_msb XOR [c_low < r_low] = c_msb XOR z,

which each party finishes locally from its DCF output share z_b and the public c_msb
(party 0: 1 - z_0, party 1: -z_1 where c_msb = 1). The boundary cases are exact: c_low = r_low
(x = 0 mod 2^(l-1)) gives no borrow, and the DCF is exact on all of [0, 2^(l-1)).

Costs per element: online 8 B sent per party, 1 round; offline key 24 l + (l-1)/4 bytes per
party (1551.75 B at l = 64, 775.75 B at l = 32, for a multiple of 8 elements); AES blocks:
2 (l-1) per party online, 6 (l-1) at the dealer.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fibench.engine.shares import AShare
from fibench.kernels import dcf as kdcf
from fibench.protocols.sharing import open_arith

U1 = np.uint64(1)


@dataclass
class FssLtzPre:
    """Preprocessed material of one batch of ``n`` comparisons, for the parties of this process.

    ``r[p]``: party p's additive share of the mask; ``key[p]``: its flat DCF key (uint8).
    """

    n: int
    bits: int
    r: dict
    key: dict

    def __repr__(self) -> str:  # never show key material
        return f"FssLtzPre(n={self.n}, bits={self.bits}, parties={sorted(self.key)})"


def _check_bits(bits) -> int:
    if not isinstance(bits, (int, np.integer)) or not 2 <= int(bits) <= 64:
        raise ValueError(f"bits must be an integer in [2, 64], got {bits!r}")
    return int(bits)


def _check_ctx(ctx):
    if ctx.n_parties != 2:
        raise ValueError(f"protocol 'fss' needs n_parties = 2, got {ctx.n_parties}")


def ltz_fss_offline(ctx, n: int, bits: int = 64, chunk: int = kdcf.CHUNK) -> FssLtzPre:
    """Dealer phase for ``n`` comparisons: mask shares (from seeds) and DCF keys (sent)."""
    _check_ctx(ctx)
    bits = _check_bits(bits)
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    n = int(n)
    if n == 0:  # nothing to send: no offline round either
        empty = np.zeros(0, dtype=np.uint8)
        return FssLtzPre(0, bits, {p: np.zeros(0, dtype=np.uint64) for p in ctx.parties},
                         {p: empty for p in ctx.parties})
    d = ctx.dealer
    low = np.uint64((1 << (bits - 1)) - 1)
    with d.offline():
        r, r_sh = d.random_arith((n,))  # shares from the parties' dealer seeds: 0 bytes
        msgs = {}
        if ctx.comm.is_local("dealer"):  # (a multi-process backend hosts the dealer on one rank)
            r_low = r & low
            r_msb = (r >> np.uint64(bits - 1)) & U1
            beta = U1 - (r_msb << U1)  # 1 - 2 r_msb mod 2^64
            seeds = d.random_uint64(4 * n).reshape(n, 4)
            key0, key1 = kdcf.dcf_gen(r_low, beta, bits - 1, seeds=seeds, gamma=r_msb, chunk=chunk)
            msgs = {("dealer", 0): key0, ("dealer", 1): key1}
            del r_low, r_msb, beta, seeds, key0, key1
        del r
        incoming = ctx.comm.exchange(msgs, "dealer/dcf")
    keys = {}
    for p in ctx.parties:
        k = incoming[("dealer", p)]
        keys[p] = k if isinstance(k, np.ndarray) else np.frombuffer(k, dtype=np.uint8)
    return FssLtzPre(n, bits, {p: r_sh[p] for p in ctx.parties}, keys)


def ltz_fss_online(ctx, x: AShare, pre: FssLtzPre, chunk: int = kdcf.CHUNK, profile: dict | None = None) -> AShare:
    """Online phase: open c = x + r (1 round), evaluate the DCF keys, finish locally."""
    _check_ctx(ctx)
    n = x.size
    if pre.n != n:
        raise ValueError(f"preprocessing is for {pre.n} comparisons, x has {n} elements")
    bits = pre.bits
    parties = ctx.parties
    if n == 0:
        return AShare({p: np.zeros(x.shape, dtype=np.uint64) for p in parties}, x.shape, 0)
    masked = AShare({p: x.shares[p].reshape(-1) + pre.r[p] for p in parties}, (n,), 0)
    c = open_arith(ctx, masked, "fss/open")
    c_low = c & np.uint64((1 << (bits - 1)) - 1)
    c_msb = (c >> np.uint64(bits - 1)) & U1
    flip = np.uint64(0) - c_msb  # all ones where c_msb = 1
    out = {}
    for p in parties:
        z = kdcf.dcf_eval(p, pre.key[p], c_low, bits - 1, chunk=chunk, profile=profile)
        # c_msb = 1: party 0 outputs 1 - z0 = ~z0 + 2, party 1 outputs -z1 = ~z1 + 1
        z ^= flip
        z += c_msb * np.uint64(2 if p == 0 else 1)
        out[p] = z.reshape(x.shape)
    return AShare(out, x.shape, 0)


def ltz_fss(ctx, x: AShare, bits: int = 64) -> AShare:
    """Additive 0/1 share (frac 0, shape of x) of [x < 0], by FSS (P = 2, 1 online round).

    ``bits`` = l in [2, 64]: the inputs are known to lie in [-2^(l-1), 2^(l-1)) (l = 64: any
    ring element, read as signed); a smaller l makes keys and evaluation proportionally cheaper.
    """
    _check_ctx(ctx)
    if not isinstance(x, AShare):
        raise TypeError(f"x must be an AShare, got {type(x).__name__}")
    pre = ltz_fss_offline(ctx, x.size, bits)
    return ltz_fss_online(ctx, x, pre)
