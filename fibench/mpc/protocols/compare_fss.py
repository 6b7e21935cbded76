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

Costs per element: online 1 round, the low l bits of c sent per party (8 B at l = 64, 4 B at
l = 32); offline key 24 l + (l-1)/4 bytes per party (1551.75 B at l = 64, 775.75 B at l = 32,
for a multiple of 8 elements); AES blocks: 2 (l-1) per party online, 6 (l-1) at the dealer.

Two-word payloads (``m = 2``). A key may instead output shares of ``w_k * z`` for two words
w_k the dealer knows (beta_k = w_k (1 - 2 r_msb), gamma_k = w_k r_msb), so that

* ``ltz_fss_scaled`` gives shares of ``w_k * [x < 0]`` (``w_k - w_k z`` where c_msb = 1);
* ``relu_fss`` takes w = (1, r): shares of s = [x < 0] and of r s, and with x = c - r (all 64
  bits of c opened) ReLU(x) = (1 - s)(c - r) = c - r - c s + r s, in ONE round instead of a
  comparison and a Beaver product (2 rounds, 16 more bytes per element);
* ``fibench.mpc.protocols.argmax.argmax_reveal_fss`` takes random w = (rho_i, rho_j) per pair.

Their keys cost 32 l + (l-1)/4 bytes per element; evaluation still runs 2 AES blocks per
level (the chosen child's seed block and its own value block), key generation 8.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fibench.mpc.shares import AShare
from fibench.kernels import dcf as kdcf
from fibench.mpc.protocols.sharing import open_arith, open_low_bits

U1 = np.uint64(1)


@dataclass
class FssLtzPre:
    """Preprocessed material of one batch of ``n`` comparisons, for the parties of this process.

    ``r[p]``: party p's additive share of the mask; ``key[p]``: its flat DCF key (uint8);
    ``m``: payload words per comparison (1: the bit itself; 2: two dealer-chosen words scaled
    by the bit, see ``ltz_fss_scaled``); ``w[p]``: (n, 2) shares of those words (m = 2).
    """

    n: int
    bits: int
    r: dict
    key: dict
    m: int = 1
    w: dict | None = None

    def __repr__(self) -> str:  # never show key material
        return f"FssLtzPre(n={self.n}, bits={self.bits}, m={self.m}, parties={sorted(self.key)})"


def _check_bits(bits) -> int:
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 2 <= int(bits) <= 64:
        raise ValueError(f"bits must be an integer in [2, 64], got {bits!r}")
    return int(bits)


def _check_ctx(ctx):
    if ctx.n_parties != 2:
        raise ValueError(f"protocol 'fss' needs n_parties = 2, got {ctx.n_parties}")


def ltz_fss_offline(ctx, n: int, bits: int = 64, chunk: int = kdcf.CHUNK, payload=None, mask=None) -> FssLtzPre:
    """Dealer phase for ``n`` comparisons: mask shares (from seeds) and DCF keys (sent).

    ``payload``: ``None`` (output the bit) or ``(w, w_sh)``: two words per comparison, the
    dealer's view ``w`` (n, 2) uint64 and the parties' additive shares ``w_sh[p]`` (n, 2); the
    keys then output shares of ``w[:, k] * z`` (see ``ltz_fss_scaled``). ``mask``: ``(r, r_sh)``
    to use as the comparison mask instead of a fresh one (when the payload depends on it).
    """
    _check_ctx(ctx)
    bits = _check_bits(bits)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    n, m = int(n), 1 if payload is None else 2
    w_sh = None if payload is None else {p: payload[1][p] for p in ctx.parties}
    if n == 0:  # nothing to send: no offline round either
        empty = np.zeros(0, dtype=np.uint8)
        return FssLtzPre(0, bits, {p: np.zeros(0, dtype=np.uint64) for p in ctx.parties},
                         {p: empty for p in ctx.parties}, m, w_sh)
    d = ctx.dealer
    low = np.uint64((1 << (bits - 1)) - 1)
    with d.offline():
        # shares from the parties' dealer seeds: 0 bytes
        r, r_sh = mask if mask is not None else d.random_arith((n,))
        msgs = {}
        if ctx.comm.is_local("dealer"):  # (a multi-process backend hosts the dealer on one rank)
            r_low = r & low
            r_msb = (r >> np.uint64(bits - 1)) & U1
            beta = U1 - (r_msb << U1)  # 1 - 2 r_msb mod 2^64
            gamma = r_msb
            if m == 2:  # z scaled by each word: beta * w, gamma * w
                w = np.asarray(payload[0], dtype=np.uint64).reshape(n, 2)
                beta, gamma = beta[:, None] * w, gamma[:, None] * w
            seeds = d.random_uint64(4 * n).reshape(n, 4)
            key0, key1 = kdcf.dcf_gen(r_low, beta, bits - 1, seeds=seeds, gamma=gamma, chunk=chunk)
            msgs = {("dealer", 0): key0, ("dealer", 1): key1}
            del r_low, r_msb, beta, gamma, seeds, key0, key1
        del r
        incoming = ctx.comm.exchange(msgs, "dealer/dcf")
    keys = {}
    for p in ctx.parties:
        k = incoming[("dealer", p)]
        keys[p] = k if isinstance(k, np.ndarray) else np.frombuffer(k, dtype=np.uint8)
    return FssLtzPre(n, bits, {p: r_sh[p] for p in ctx.parties}, keys, m, w_sh)


def _open_and_eval(ctx, x: AShare, pre: FssLtzPre, full: bool, chunk: int, profile=None):
    """Open c = x + r (all 64 bits if ``full``, else only the low ``bits``: 1 round) and
    evaluate the keys. Returns ``(c, c_msb, z)``, ``z[p]`` of shape (n,) or (n, 2)."""
    _check_ctx(ctx)
    n, bits = x.size, pre.bits
    if pre.n != n:
        raise ValueError(f"preprocessing is for {pre.n} comparisons, x has {n} elements")
    masked = AShare({p: x.shares[p].reshape(-1) + pre.r[p] for p in ctx.parties}, (n,), 0)
    c = open_arith(ctx, masked, "fss/open") if full or bits == 64 else open_low_bits(ctx, masked, bits, "fss/open")
    c_low = c & np.uint64((1 << (bits - 1)) - 1)
    c_msb = (c >> np.uint64(bits - 1)) & U1
    z = {p: kdcf.dcf_eval(p, pre.key[p], c_low, bits - 1, chunk=chunk, profile=profile, m=pre.m)
         for p in ctx.parties}
    return c, c_msb, z


def ltz_fss_online(ctx, x: AShare, pre: FssLtzPre, chunk: int = kdcf.CHUNK, profile: dict | None = None) -> AShare:
    """Online phase: open c = x + r (1 round), evaluate the DCF keys, finish locally."""
    _check_ctx(ctx)
    if pre.m != 1:
        raise ValueError("ltz_fss_online needs bit keys (payload=None); use ltz_fss_scaled for payload keys")
    if x.size == 0:
        return AShare({p: np.zeros(x.shape, dtype=np.uint64) for p in ctx.parties}, x.shape, 0)
    _, c_msb, z = _open_and_eval(ctx, x, pre, False, chunk, profile)
    flip = np.uint64(0) - c_msb  # all ones where c_msb = 1
    out = {}
    for p, zp in z.items():
        # c_msb = 1: party 0 outputs 1 - z0 = ~z0 + 2, party 1 outputs -z1 = ~z1 + 1
        zp ^= flip
        zp += c_msb * np.uint64(2 if p == 0 else 1)
        out[p] = zp.reshape(x.shape)
    return AShare(out, x.shape, 0)


def _scaled_finish(z: dict, c_msb: np.ndarray, w_sh: dict) -> dict:
    """Shares of w_k * [x < 0] from shares of w_k * z: [x < 0] = z, or 1 - z where c_msb = 1."""
    sel = (c_msb == U1)[:, None]
    return {p: np.where(sel, w_sh[p] - zp, zp) for p, zp in z.items()}


def ltz_fss_scaled(ctx, x: AShare, w, w_sh: dict, bits: int = 64) -> dict:
    """Shares of ``w[:, k] * [x < 0]`` (k = 0, 1) for dealer-known words ``w`` (n, 2) uint64
    (the dealer's view) with additive shares ``w_sh[p]`` (n, 2); x flattened to n elements.
    One online round (opening the low ``bits`` bits of x + r); offline one DCF key with a
    two-word payload per element. Returns ``{party: (n, 2) uint64}``."""
    _check_ctx(ctx)
    pre = ltz_fss_offline(ctx, x.size, bits, payload=(w, w_sh))
    if x.size == 0:
        return {p: np.zeros((0, 2), dtype=np.uint64) for p in ctx.parties}
    _, c_msb, z = _open_and_eval(ctx, x, pre, False, kdcf.CHUNK)
    return _scaled_finish(z, c_msb, pre.w)


def relu_fss(ctx, x: AShare, bits: int = 64) -> AShare:
    """max(x, 0) in ONE online round (P = 2): open c = x + r, one DCF with payload (1, r).

    With s = [x < 0] and x = c - r (c public, all 64 bits opened), ReLU(x) = (1 - s)(c - r)
    = c - r - c s + r s: the key's two words give shares of s and of r s. Same frac as x."""
    _check_ctx(ctx)
    if not isinstance(x, AShare):
        raise TypeError(f"x must be an AShare, got {type(x).__name__}")
    bits = _check_bits(bits)
    n = x.size
    if n == 0:
        return AShare({p: np.zeros(x.shape, dtype=np.uint64) for p in ctx.parties}, x.shape, x.frac)
    first = min(ctx.parties_all)
    d = ctx.dealer
    with d.offline():
        r, r_sh = d.random_arith((n,))
    one = {p: np.full(n, 1 if p == first else 0, dtype=np.uint64) for p in ctx.parties}
    w = np.stack([np.ones(n, dtype=np.uint64), r], axis=1)
    w_sh = {p: np.stack([one[p], r_sh[p]], axis=1) for p in ctx.parties}
    pre = ltz_fss_offline(ctx, n, bits, payload=(w, w_sh), mask=(r, r_sh))
    c, c_msb, z = _open_and_eval(ctx, x, pre, True, kdcf.CHUNK)
    sr = _scaled_finish(z, c_msb, pre.w)
    out = {p: ((c if p == first else np.uint64(0)) - r_sh[p] - c * sr[p][:, 0] + sr[p][:, 1]).reshape(x.shape)
           for p in ctx.parties}
    return AShare(out, x.shape, x.frac)


def ltz_fss(ctx, x: AShare, bits: int = 64) -> AShare:
    """Additive 0/1 share (frac 0, shape of x) of [x < 0], by FSS (P = 2, 1 online round).

    ``bits`` = l in [2, 64]: the inputs are known to lie in [-2^(l-1), 2^(l-1)) (l = 64: any
    ring element, read as signed); a smaller l makes keys and evaluation proportionally cheaper
    and the opening narrower (only the low l bits of x + r are sent).
    """
    _check_ctx(ctx)
    if not isinstance(x, AShare):
        raise TypeError(f"x must be an AShare, got {type(x).__name__}")
    pre = ltz_fss_offline(ctx, x.size, bits)
    return ltz_fss_online(ctx, x, pre)
