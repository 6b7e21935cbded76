"""``fss`` secure comparison: [x < 0] for additively shared x on Z_2^64, P = 2, ONE online round.

Scheme (Boyle et al., EUROCRYPT 2021, with a distributed comparison function, DCF; see
``fibench.kernels.dcf``). Let l = ``bits`` (inputs known to lie in [-2^(l-1), 2^(l-1)); l = 64
covers the whole ring) and write a value v mod 2^l as v_msb * 2^(l-1) + v_low.

Offline, the dealer (``Dealer.dcf_keys``) draws a uniform mask r, additively shared from the parties' dealer seeds
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
* ``argmax_reveal_fss`` takes random w = (rho_i, rho_j) per pair.

Their keys cost 32 l + (l-1)/4 bytes per element; evaluation still runs 2 AES blocks per
level (the chosen child's seed block and its own value block), key generation 8.
"""
from __future__ import annotations

import numpy as np

from fibench.kernels import dcf as kdcf
from fibench.mpc.dealer.correlations import FssLtzPre
from fibench.mpc.protocols import argmax as am
from fibench.mpc.protocols.compare import ComparisonProtocol
from fibench.mpc.protocols.sharing import open_arith, open_low_bits, reveal
from fibench.mpc.shares import AShare

U1 = np.uint64(1)

__all__ = ["FSS", "FssLtzPre", "argmax_reveal_fss", "ltz_fss", "ltz_fss_offline", "ltz_fss_online",
           "ltz_fss_scaled", "relu_fss", "require_two_parties"]


def require_two_parties(ctx_or_n) -> None:
    """The one check that ``fss`` runs with exactly 2 compute parties (a context or a count)."""
    n = ctx_or_n if isinstance(ctx_or_n, (int, np.integer)) else ctx_or_n.n_parties
    if n != 2:
        raise ValueError(f"protocol 'fss' needs n_parties = 2, got {n}")


def _check_bits(bits) -> int:
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 2 <= int(bits) <= 64:
        raise ValueError(f"bits must be an integer in [2, 64], got {bits!r}")
    return int(bits)


def _check_share(x) -> None:
    if not isinstance(x, AShare):
        raise TypeError(f"x must be an AShare, got {type(x).__name__}")


def ltz_fss_offline(ctx, n: int, bits: int = 64, chunk: int | None = None, payload: str | None = None) -> FssLtzPre:
    """Dealer phase for ``n`` comparisons: mask shares (from seeds) and DCF keys (sent); see
    ``Dealer.dcf_keys`` for ``payload``."""
    require_two_parties(ctx)
    bits = _check_bits(bits)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    return ctx.dealer.dcf_keys(int(n), bits, payload=payload, chunk=chunk)


def _open_and_eval(ctx, x: AShare, pre: FssLtzPre, full: bool, chunk: int | None, profile=None):
    """Open c = x + r (all 64 bits if ``full``, else only the low ``bits``: 1 round) and
    evaluate the keys. Returns ``(c, c_msb, z)``, ``z[p]`` of shape (n,) or (n, 2)."""
    require_two_parties(ctx)
    n, bits = x.size, pre.bits
    if pre.n != n:
        raise ValueError(f"preprocessing is for {pre.n} comparisons, x has {n} elements")
    if ctx.checker:
        ctx.checker.within(x, bits, "fss/ltz")
    masked = AShare({p: x.shares[p].reshape(-1) + pre.r[p] for p in ctx.parties}, (n,), 0)
    c = open_arith(ctx, masked, "fss/open") if full or bits == 64 else open_low_bits(ctx, masked, bits, "fss/open")
    c_low = c & np.uint64((1 << (bits - 1)) - 1)
    c_msb = (c >> np.uint64(bits - 1)) & U1
    z = {p: kdcf.dcf_eval(p, pre.key[p], c_low, bits - 1, chunk=chunk, profile=profile, m=pre.m)
         for p in ctx.parties}
    return c, c_msb, z


def ltz_fss_online(ctx, x: AShare, pre: FssLtzPre, chunk: int | None = None, profile: dict | None = None) -> AShare:
    """Online phase: open c = x + r (1 round), evaluate the DCF keys, finish locally."""
    require_two_parties(ctx)
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


def ltz_fss_scaled(ctx, x: AShare, bits: int = 64) -> tuple[dict, dict]:
    """Shares of ``w[:, k] * [x < 0]`` (k = 0, 1) for two fresh dealer-random words w per
    element of the flattened x (n elements). One online round (opening the low ``bits`` bits
    of x + r); offline one DCF key with a two-word payload per element. Returns
    ``(scaled, w)``: ``{party: (n, 2) uint64}`` shares of the products and of w."""
    require_two_parties(ctx)
    _check_share(x)
    pre = ltz_fss_offline(ctx, x.size, bits, payload="random")
    if x.size == 0:
        return {p: np.zeros((0, 2), dtype=np.uint64) for p in ctx.parties}, pre.w
    _, c_msb, z = _open_and_eval(ctx, x, pre, False, None)
    return _scaled_finish(z, c_msb, pre.w), pre.w


def relu_fss(ctx, x: AShare, bits: int = 64) -> AShare:
    """max(x, 0) in ONE online round (P = 2): open c = x + r, one DCF with payload (1, r).

    With s = [x < 0] and x = c - r (c public, all 64 bits opened), ReLU(x) = (1 - s)(c - r)
    = c - r - c s + r s: the key's two words give shares of s and of r s. Same frac as x."""
    require_two_parties(ctx)
    _check_share(x)
    bits = _check_bits(bits)
    if x.size == 0:
        return AShare({p: np.zeros(x.shape, dtype=np.uint64) for p in ctx.parties}, x.shape, x.frac)
    pre = ltz_fss_offline(ctx, x.size, bits, payload="relu")
    c, c_msb, z = _open_and_eval(ctx, x, pre, True, None)
    sr = _scaled_finish(z, c_msb, pre.w)
    out = {p: ((c if p == 0 else np.uint64(0)) - pre.r[p] - c * sr[p][:, 0] + sr[p][:, 1]).reshape(x.shape)
           for p in ctx.parties}
    return AShare(out, x.shape, x.frac)


def ltz_fss(ctx, x: AShare, bits: int = 64) -> AShare:
    """Additive 0/1 share (frac 0, shape of x) of [x < 0], by FSS (P = 2, 1 online round).

    ``bits`` = l in [2, 64]: the inputs are known to lie in [-2^(l-1), 2^(l-1)) (l = 64: any
    ring element, read as signed); a smaller l makes keys and evaluation proportionally cheaper
    and the opening narrower (only the low l bits of x + r are sent).
    """
    require_two_parties(ctx)
    _check_share(x)
    pre = ltz_fss_offline(ctx, x.size, bits)
    return ltz_fss_online(ctx, x, pre)


def argmax_reveal_fss(ctx, x: AShare, to) -> np.ndarray | None:
    """Argmax of each row of an ``(n, C)`` share, revealed to ``to`` only, in 2 rounds (fss).

    All C(C-1)/2 comparisons of a row run in one batched DCF round whose two payload words are
    fresh dealer randoms rho: class i collects rho * [i loses] for every pair (i loses to j > i
    iff x_i < x_j, to j < i iff x_i <= x_j, so exactly the first maximum has no loss). Its loss
    sum ``v_i`` is 0 for the winner and, for every other class, a sum of independent uniform
    ring elements: uniform and independent of everything else. ``v`` goes to ``to`` (1 round),
    which learns the label as the index of the zero and nothing more (a false zero has
    probability < C * 2^-64). Returns the labels (uint64, (n,)) where ``to`` is hosted.
    """
    n, C = x.shape
    I, J = np.triu_indices(C, k=1)
    npairs = len(I)
    diff = AShare({p: np.ascontiguousarray(s[:, I] - s[:, J]) for p, s in x.shares.items()}, (n, npairs), x.frac)
    scaled, rho_sh = ltz_fss_scaled(ctx, diff, bits=ctx.cmp_bits)  # rho_k * [x_i < x_j]
    v = {}
    for p, sp in scaled.items():
        lose_i = sp[:, 0].reshape(n, npairs)  # rho_0 [x_i < x_j]: i loses
        lose_j = (rho_sh[p][:, 1] - sp[:, 1]).reshape(n, npairs)  # rho_1 (1 - [x_i < x_j]): j loses
        vp = np.zeros((n, C), dtype=np.uint64)
        for k in range(npairs):
            vp[:, I[k]] += lose_i[:, k]
            vp[:, J[k]] += lose_j[:, k]
        v[p] = vp
    opened = reveal(ctx, AShare(v, (n, C), 0), to=to, label="argmax/reveal")
    if opened is None:
        return None
    return np.argmax(opened == 0, axis=1).astype(np.uint64)


def argmax_pairs_count(ctx, x: AShare, one_hot: bool) -> AShare:
    """``pairs`` for fss: with 1-round comparisons, counting beats an AND tree. Class c wins
    iff its C-1 indicator bits sum to C-1, decided by one more (narrow) comparison: 2 rounds."""
    n, C = x.shape
    if C == 1:
        return am.const(ctx, (n, 1), 1) if one_hot else am.const(ctx, (n,), 0)
    I, J = np.triu_indices(C, k=1)
    diff = AShare({p: np.ascontiguousarray(s[:, I] - s[:, J]) for p, s in x.shares.items()}, (n, len(I)), x.frac)
    lt = ltz_fss(ctx, diff, bits=ctx.cmp_bits)  # additive [x_i < x_j], (n, npairs)
    one, zero = np.uint64(1), np.uint64(0)
    need = np.uint64(C - 1)
    out = {}
    for p, s in lt.shares.items():
        wins = np.zeros((n, C), dtype=np.uint64)
        for k, (i, j) in enumerate(zip(I, J)):
            wins[:, j] += s[:, k]  # lower i < j loses to j: j gets a point
            wins[:, i] += (one if p == 0 else zero) - s[:, k]  # i keeps the tie
        out[p] = wins - need if p == 0 else wins  # count - (C-1) in [-(C-1), 0]
    short = ltz_fss(ctx, AShare(out, (n, C), 0), bits=max(2, int(C - 1).bit_length() + 1))
    onehot = AShare({p: ((one if p == 0 else zero) - s) for p, s in short.shares.items()}, (n, C), 0)
    return onehot if one_hot else am.labels_from_onehot(onehot)


class FSS(ComparisonProtocol):
    """``fss`` behind the comparison interface: P = 2, comparisons within ``ctx.cmp_bits``."""

    name = "fss"

    def check(self, n_parties: int) -> None:
        require_two_parties(n_parties)

    def ltz(self, ctx, x: AShare) -> AShare:
        return ltz_fss(ctx, x, bits=ctx.cmp_bits)

    def relu(self, ctx, x: AShare) -> AShare:
        return relu_fss(ctx, x, bits=ctx.cmp_bits)

    def argmax_pairs(self, ctx, x: AShare, one_hot: bool) -> AShare:
        return argmax_pairs_count(ctx, x, one_hot)

    def argmax_reveal(self, ctx, x: AShare, to, method: str = "pairs"):
        if method == "pairs" and x.shape[0] > 0 and x.shape[1] > 1:
            return argmax_reveal_fss(ctx, x, to)
        return super().argmax_reveal(ctx, x, to, method)
