"""``fss-dpf`` secure comparison: [x < 0] for additively shared x on Z_2^64, P = 2, from DPF keys
(``fibench.kernels.dpf``) that are 39 % smaller than ``fss``'s DCF keys.

Scheme. As in ``fss`` (``compare_fss``): with l = ``bits``, the dealer draws a uniform mask r
(additively shared from the parties' seeds, 0 bytes); the parties open c = x + r (the low l bits,
1 round, 8 B per element per party at l = 64) and

    [x < 0] = c_msb XOR r_msb XOR [c_low < r_low].

The key is a DPF comparison key for the point r_low on l-1 bits (the comparison-from-DPF of
Boyle et al. 2021 and SIGMA's DReLU, with early termination): each party evaluates it at the
public c_low and holds an XOR share of [c_low < r_low] XOR f, where the dealer folded a bit f
into the keys (0 bytes). Key per element and party: 16 (l - 8) + 32 + (l - 8) / 4 bytes (l >= 8; 32 B below),
i.e. 942 B at l = 64 (the DCF key of ``fss``: 1551.75 B) and 422 B at l = 32 (775.75 B); AES
blocks 2 (l - 8) + 1 per party online, 4 (l - 8) + 2 at the dealer.

The result is XOR shared, and no local step turns an XOR-shared bit into additive shares in
Z_2^64 (see ``fibench.kernels.dpf``): additive outputs in the same round need a 64-bit value
correction word per tree level, which is the DCF of ``fss``. So:

* ``ltz_bool`` (the input of boolean circuits: argmax's AND tree): f = r_msb, party 0 XORs in
  c_msb: XOR shares of [x < 0] in **1 round**, 8 B per element per party (l = 64).
* ``ltz`` (additive 0/1 shares): f = r_msb XOR m for a random bit m that the dealer also shares
  additively (8 B per element to party 0). The parties open e = [x < 0] XOR m (1 bit per element
  per party, a **second round**), then [x < 0] = e XOR m = m + e - 2 e m, locally. Online 2
  rounds and 8 B + 1 bit per element per party; key 950 B (party 0) and 942 B (party 1).
* ``relu``: the same opening with all 64 bits of c (x = c - r), and additive shares of m and of
  m r (16 B per element to party 0): (1 - [x < 0]) x = (1 - s)(c - r) with 1 - s = m where e = 1
  and 1 - m where e = 0, so (1 - s) r = m r or r - m r: 2 rounds, no Beaver product.
* argmax: the AND-tree ``pairs`` on ``ltz_bool`` (generic; its comparisons take 1 round).

``fss`` (1 round for ``ltz`` and ``relu``, DCF keys) stays what it is; ``fss-dpf`` is its own
protocol name, chosen explicitly (``Session(protocol="fss-dpf")``): fewer key bytes and dealer
time for one more online round wherever additive shares are needed.
"""
from __future__ import annotations

import numpy as np

from fibench.kernels import bitslice as kbs
from fibench.kernels import dpf as kdpf
from fibench.mpc.dealer.correlations import FssDpfPre
from fibench.mpc.protocols.compare import ComparisonProtocol
from fibench.mpc.protocols.compare_fss import _check_bits, _check_share
from fibench.mpc.protocols.sharing import open_arith, open_bool, open_low_bits
from fibench.mpc.shares import AShare

U1 = np.uint64(1)
NAME = "fss-dpf"

__all__ = ["FssDpf", "FssDpfPre", "ltz_bool_dpf", "ltz_dpf", "ltz_dpf_offline", "relu_dpf"]


def require_two_parties(ctx_or_n) -> None:
    n = ctx_or_n if isinstance(ctx_or_n, (int, np.integer)) else ctx_or_n.n_parties
    if n != 2:
        raise ValueError(f"protocol {NAME!r} needs n_parties = 2, got {n}")


def ltz_dpf_offline(ctx, n: int, bits: int = 64, output: str = "bool", chunk: int | None = None) -> FssDpfPre:
    """Dealer phase for ``n`` comparisons (``output``: ``"bool"``, ``"arith"`` or ``"relu"``,
    see ``Dealer.dpf_keys``)."""
    require_two_parties(ctx)
    bits = _check_bits(bits)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    return ctx.dealer.dpf_keys(int(n), bits, output=output, chunk=chunk)


def _open_and_eval(ctx, x: AShare, pre: FssDpfPre, full: bool, chunk: int | None = None, profile=None):
    """Open c = x + r (all 64 bits if ``full``, else the low ``bits``: 1 round) and evaluate the
    keys. Returns ``(c, y)``: y[p] uint64 0/1 (n,), XOR shares of [x < 0] (XOR m for the
    ``arith``/``relu`` keys)."""
    n, bits = x.size, pre.bits
    if pre.n != n:
        raise ValueError(f"preprocessing is for {pre.n} comparisons, x has {n} elements")
    if ctx.checker:
        ctx.checker.within(x, bits, "fss-dpf/ltz")
    masked = AShare({p: x.shares[p].reshape(-1) + pre.r[p] for p in ctx.parties}, (n,), 0)
    c = open_arith(ctx, masked, "fss-dpf/open") if full or bits == 64 else \
        open_low_bits(ctx, masked, bits, "fss-dpf/open")
    c_low = c & np.uint64((1 << (bits - 1)) - 1)
    c_msb = (c >> np.uint64(bits - 1)) & U1
    y = {}
    for p in ctx.parties:
        yp = kdpf.dpf_cmp_eval(p, pre.key[p], c_low, bits - 1, chunk=chunk, profile=profile).astype(np.uint64)
        if p == 0:
            yp ^= c_msb
        y[p] = yp
    return c, y


def _open_bits(ctx, y: dict) -> np.ndarray:
    """Open XOR-shared bits (1 bit per element per party, bit-sliced, 1 round); 0/1 uint64."""
    n = next(iter(y.values())).size
    planes = {p: kbs.pack_bits(v) for p, v in y.items()}
    return kbs.unslice_bit(open_bool(ctx, planes, "fss-dpf/b2a"), n)


def ltz_bool_dpf(ctx, x: AShare, bits: int = 64) -> dict:
    """Bit-sliced XOR shares ``{party: (1, ceil(n/64)) uint64}`` of [x < 0] over the flattened x:
    1 online round (open the low ``bits`` of x + r), a DPF key per element offline."""
    require_two_parties(ctx)
    _check_share(x)
    pre = ltz_dpf_offline(ctx, x.size, bits, "bool")
    if x.size == 0:
        return {p: np.zeros((1, 0), dtype=np.uint64) for p in ctx.parties}
    _, y = _open_and_eval(ctx, x, pre, False)
    return {p: kbs.pack_bits(v).reshape(1, -1) for p, v in y.items()}


def ltz_dpf(ctx, x: AShare, bits: int = 64) -> AShare:
    """Additive 0/1 shares (frac 0, shape of x) of [x < 0]: 2 online rounds (open the low
    ``bits`` of x + r; open [x < 0] XOR m, 1 bit), a DPF key and 8 B (party 0) per element offline."""
    require_two_parties(ctx)
    _check_share(x)
    pre = ltz_dpf_offline(ctx, x.size, bits, "arith")
    if x.size == 0:
        return AShare({p: np.zeros(x.shape, dtype=np.uint64) for p in ctx.parties}, x.shape, 0)
    return ltz_dpf_online(ctx, x, pre)


def ltz_dpf_online(ctx, x: AShare, pre: FssDpfPre, chunk: int | None = None, profile: dict | None = None) -> AShare:
    """Online phase of ``ltz_dpf`` with ``arith`` keys (2 rounds)."""
    require_two_parties(ctx)
    if pre.output != "arith":
        raise ValueError(f"ltz_dpf_online needs keys with output 'arith', got {pre.output!r}")
    if x.size == 0:
        return AShare({p: np.zeros(x.shape, dtype=np.uint64) for p in ctx.parties}, x.shape, 0)
    _, y = _open_and_eval(ctx, x, pre, False, chunk, profile)
    e = _open_bits(ctx, y)  # [x < 0] XOR m, public
    sel = e == U1
    out = {}
    for p in ctx.parties:
        mp = pre.m[p]
        # e = 1: [x < 0] = 1 - m; e = 0: m
        out[p] = np.where(sel, (U1 if p == 0 else np.uint64(0)) - mp, mp).reshape(x.shape)
    return AShare(out, x.shape, 0)


def relu_dpf(ctx, x: AShare, bits: int = 64) -> AShare:
    """max(x, 0) in 2 online rounds (open c = x + r, all 64 bits; open [x < 0] XOR m, 1 bit),
    without a Beaver product: (1 - s)(c - r) from shares of m and m r. Same frac as x."""
    require_two_parties(ctx)
    _check_share(x)
    bits = _check_bits(bits)
    if x.size == 0:
        return AShare({p: np.zeros(x.shape, dtype=np.uint64) for p in ctx.parties}, x.shape, x.frac)
    pre = ltz_dpf_offline(ctx, x.size, bits, "relu")
    c, y = _open_and_eval(ctx, x, pre, True)
    e = _open_bits(ctx, y)
    sel = e == U1
    out = {}
    for p in ctx.parties:
        mp, mrp, rp = pre.m[p], pre.mr[p], pre.r[p]
        delta = U1 if p == 0 else np.uint64(0)
        keep = np.where(sel, mp, delta - mp)  # 1 - [x < 0]
        keep_r = np.where(sel, mrp, rp - mrp)  # (1 - [x < 0]) r
        out[p] = (c * keep - keep_r).reshape(x.shape)
    return AShare(out, x.shape, x.frac)


class FssDpf(ComparisonProtocol):
    """``fss-dpf`` behind the comparison interface: P = 2, comparisons within ``ctx.cmp_bits``;
    argmax by the generic AND tree on ``ltz_bool``."""

    name = NAME

    def check(self, n_parties: int) -> None:
        require_two_parties(n_parties)

    def ltz(self, ctx, x: AShare) -> AShare:
        return ltz_dpf(ctx, x, bits=ctx.cmp_bits)

    def ltz_bool(self, ctx, x: AShare) -> dict:
        return ltz_bool_dpf(ctx, x, bits=ctx.cmp_bits)

    def relu(self, ctx, x: AShare) -> AShare:
        return relu_dpf(ctx, x, bits=ctx.cmp_bits)
