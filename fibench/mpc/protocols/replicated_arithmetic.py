"""Products and exact truncation on 2-out-of-3 replicated shares over Z_2^64 (no dealer).

``mul``: server p computes z_p = x_p y_p + x_p y_{p+1} + x_{p+1} y_p + alpha_p (a
3-out-of-3 sharing of x*y re-randomised by a PRF zero sharing) and reshares it (server p sends
z_p to p-1): 1 round, 8 bytes per output element per server. ``matmul``: the same with matrix
products, z_p = X_p (Y_p + Y_{p+1}) + X_{p+1} Y_p: 8 bytes per OUTPUT element per server.

``truncate`` / ``mul_trunc`` (exact to 1 ulp for |x| < 2^62, like the dealer's method of
``fibench.kernels.truncation``): the call's helper h (it rotates over calls) plays the dealer
for the two other servers A = h+1, B = h+2.
1. r = r_A + r_B with r_A = F(k_{h+1}) (known to h and A) and r_B = F(k_h) (h and B): r is
   uniform, known to h, unknown to A and to B, and costs nothing. A's shares of msb(r) and
   (r mod 2^63) >> f come from F(k_{h+1}); h sends B the corrections (the msb one only modulo
   2^(f+1), the only bits that matter after the shift: 4 bytes at f <= 31) — 12 bytes.
2. Round 1: A and B open c = x + 2^62 + r to each other (8 bytes each). A 2-out-of-2 sharing of
   x is local from replicated x (A: x_{h+1} + x_{h+2}, B: x_h); for a product (``mul_trunc``)
   the helper's own term z_h is sent to both A and B in the same round (16 bytes more for h).
   Each of A and B sees c (uniform: masked by the r-part it does not know) and z_h (masked by
   the zero sharing's F(k_h) resp. F(k_{h+1})); h receives nothing.
3. A and B compute their shares of x >> f from c (``dealer_trunc_share``), and ``from_pair``
   makes them replicated (round 2: A and B exchange 8 bytes each, h again receives nothing).
Cost: 2 rounds; per element h sends 12 (truncate) or 28 (mul_trunc) bytes, A and B 16 each.
One corrupt server learns nothing: h sees no message at all, A and B see uniform values only.
"""
from __future__ import annotations

import numpy as np

from fibench.kernels import truncation as kt
from fibench.kernels.ring import ring_matmul
from fibench.mpc.protocols.replicated_sharing import from_pair, nxt, reshare, roles, zero_shares
from fibench.mpc.shares import AShare

OFFSET = np.uint64(1 << 62)
LOW63 = np.uint64((1 << 63) - 1)


def _local_product(ctx, x: AShare, y: AShare, matmul: bool, t: int) -> dict:
    """``{p: z_p}``: the local 3-out-of-3 product terms plus a zero sharing (no message)."""
    shape = (x.shape[0], y.shape[1]) if matmul else x.shape
    n = int(np.prod(shape)) if shape else 1
    alpha = zero_shares(ctx, t, 0, n)
    z = {}
    for p in ctx.parties:
        x0, x1, y0, y1 = x.shares[p], x.shares[nxt(p)], y.shares[p], y.shares[nxt(p)]
        if matmul:
            zp = ring_matmul(x0, y0 + y1) + ring_matmul(x1, y0)
        else:
            zp = x0 * (y0 + y1) + x1 * y0
        z[p] = zp.reshape(-1) + alpha[p]
    return z


def _check_shapes(x, y, matmul: bool):
    if matmul:
        if len(x.shape) != 2 or len(y.shape) != 2 or x.shape[1] != y.shape[0]:
            raise ValueError(f"matmul needs (n, k) @ (k, m), got {x.shape} @ {y.shape}")
        return (x.shape[0], y.shape[1])
    if x.shape != y.shape:
        raise ValueError(f"mul: shapes must match, got {x.shape} and {y.shape}")
    return x.shape


def mul(ctx, x: AShare, y: AShare, label: str = "mul", matmul: bool = False) -> AShare:
    """x * y (or x @ y) with ``x.frac + y.frac`` fractional bits: 1 round (resharing)."""
    shape = _check_shapes(x, y, matmul)
    if ctx.checker:
        ctx.checker.product(x, y, matmul, label, 2**62 if x.frac + y.frac else 2**63)
    t = ctx.prf.call()
    z = _local_product(ctx, x, y, matmul, t)
    return reshare(ctx, z, shape, x.frac + y.frac, label)


def matmul(ctx, x: AShare, y: AShare, label: str = "matmul") -> AShare:
    return mul(ctx, x, y, label, matmul=True)


def _narrow(bits: int) -> np.dtype:
    """The narrowest unsigned dtype that holds ``bits + 1`` bits (msb correction mod 2^(bits+1))."""
    return np.dtype(f"uint{next(w for w in (8, 16, 32, 64) if w >= bits + 1)}")


def _trunc_core(ctx, t: int, part: dict, zh, shape: tuple, bits: int, frac: int, label: str,
                fused: bool) -> AShare:
    """Steps 1-3 of the module docstring for the 2-out-of-2 ``part`` ({A: .., B: ..}, the local
    ones) plus, if ``fused``, the helper's own product term ``zh`` (its value where h is hosted,
    else ``None``: it arrives in round 1)."""
    h, A, B = roles(t)
    n = int(np.prod(shape)) if shape else 1
    prf, parties = ctx.prf, ctx.parties
    narrow = _narrow(bits)
    rA = prf.expand(A, t, 1, n) if prf.holds(A) else None  # k_{h+1}: h and A
    rB = prf.expand(h, t, 1, n) if prf.holds(h) else None  # k_h: h and B
    links = {}
    if h in parties:
        r = rA + rB
        msb_corr = (r >> np.uint64(63)) - prf.expand(A, t, 2, n)
        low_corr = ((r & LOW63) >> np.uint64(bits)) - prf.expand(A, t, 3, n)
        to_b = [low_corr.view(np.uint8), msb_corr.astype(narrow).view(np.uint8)]
        if fused:
            links[(h, A)] = zh
            to_b.insert(0, zh.view(np.uint8))
        links[(h, B)] = np.concatenate(to_b)
    masked = {}
    if A in parties:
        masked[A] = part[A].reshape(-1) + rA + OFFSET
        links[(A, B)] = masked[A]
    if B in parties:
        masked[B] = part[B].reshape(-1) + rB
        links[(B, A)] = masked[B]
    inc = ctx.comm.exchange(links, label)
    shares = {}
    if A in parties or B in parties:
        mA = masked[A] if A in masked else inc[(A, B)]
        mB = masked[B] if B in masked else inc[(B, A)]
        c = mA + mB
        if fused:
            c += zh if h in parties else (inc[(h, A)] if A in parties else inc[(h, B)][: 8 * n].view(np.uint64))
        if A in parties:
            shares[A] = kt.dealer_trunc_share(c, prf.expand(A, t, 2, n), prf.expand(A, t, 3, n), bits, True)
        if B in parties:
            if h in parties:
                low_b, msb_b = ((r & LOW63) >> np.uint64(bits)) - prf.expand(A, t, 3, n), msb_corr
            else:
                buf = inc[(h, B)]
                off = 8 * n if fused else 0
                low_b = buf[off: off + 8 * n].view(np.uint64)
                msb_b = buf[off + 8 * n:].view(narrow).astype(np.uint64)
            shares[B] = kt.dealer_trunc_share(c, msb_b.astype(narrow).astype(np.uint64), low_b, bits, False)
    return from_pair(ctx, t, shares, shape, frac, f"{label}/reshare")


def truncate(ctx, x: AShare, bits: int, label: str = "trunc") -> AShare:
    """x >> bits (frac - bits), exact to 1 ulp for |x| < 2^62: 2 rounds (module docstring)."""
    if bits == 0:
        return x
    if x.size == 0:
        return AShare(dict(x.shares), x.shape, x.frac - bits)
    t = ctx.prf.call()
    h, A, B = roles(t)
    part = {}
    if A in ctx.parties:
        part[A] = x.shares[A] + x.shares[B]  # A holds x_{h+1}, x_{h+2}
    if B in ctx.parties:
        part[B] = x.shares[h].copy()  # B holds x_{h+2}, x_h
    out = _trunc_core(ctx, t, part, None, x.shape, bits, x.frac - bits, label, fused=False)
    if ctx.checker:
        ctx.checker.truncation(x, out, bits, label)
    return out


def mul_trunc(ctx, x: AShare, y: AShare, bits: int, matmul: bool = False, label: str = "mul") -> AShare:
    """(x * y) >> bits (or x @ y), fused: the product's 3-out-of-3 terms go straight into the
    truncation (2 rounds in all, instead of 1 + 2)."""
    shape = _check_shapes(x, y, matmul)
    if bits == 0:
        return mul(ctx, x, y, label, matmul)
    if ctx.checker:
        ctx.checker.product(x, y, matmul, label, 2**62)
    frac = x.frac + y.frac - bits
    if int(np.prod(shape)) == 0:
        return AShare({c: np.zeros(shape, dtype=np.uint64) for c in x.shares}, shape, frac)
    t = ctx.prf.call()
    h, A, B = roles(t)
    z = _local_product(ctx, x, y, matmul, t)
    part = {p: z[p] for p in (A, B) if p in ctx.parties}
    out = _trunc_core(ctx, t, part, z.get(h), shape, bits, frac, f"{label}/trunc", fused=True)
    if ctx.checker:
        full = AShare({p: z[p].reshape(shape) for p in range(3)}, shape, x.frac + y.frac)
        ctx.checker.truncation(full, out, bits, label)
    return out
