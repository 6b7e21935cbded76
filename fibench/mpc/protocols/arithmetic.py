"""Linear operations, Beaver products and truncation on additive shares over Z_2^64.

Costs (per party, online): ``mul`` opens e = x - a and f = y - b in one round: 16 bytes per
element per peer. ``matmul`` opens E (n x k) and F (k x m): 8 (nk + km) bytes per peer.
``truncate``: by default 1 round, 8 bytes per element per peer (dealer-assisted, exact to
1 ulp, any P); the probabilistic 2-party ``"local"`` method (0 rounds) is an explicit opt-in.
"""
from __future__ import annotations

import numpy as np

from fibench.mpc.shares import AShare, MaskedInput
from fibench.kernels import beaver as kb
from fibench.kernels import truncation as kt
from fibench.mpc.protocols import replicated_arithmetic as rar
from fibench.mpc.protocols.sharing import open_arith, open_many


def _same_shape(x: AShare, y: AShare, what: str):
    if x.shape != y.shape:
        raise ValueError(f"{what}: shapes must match, got {x.shape} and {y.shape}")


def add(x: AShare, y: AShare) -> AShare:
    _same_shape(x, y, "add")
    if x.frac != y.frac:
        raise ValueError(f"add: fractional bits differ ({x.frac} vs {y.frac})")
    return AShare({p: x.shares[p] + y.shares[p] for p in x.shares}, x.shape, x.frac)


def sub(x: AShare, y: AShare) -> AShare:
    _same_shape(x, y, "sub")
    if x.frac != y.frac:
        raise ValueError(f"sub: fractional bits differ ({x.frac} vs {y.frac})")
    return AShare({p: x.shares[p] - y.shares[p] for p in x.shares}, x.shape, x.frac)


def neg(x: AShare) -> AShare:
    return x.map(lambda s: np.uint64(0) - s)


def add_public(x: AShare, c, first_party: int = 0) -> AShare:
    """x + c for a public uint64 ``c`` (broadcastable); only ``first_party`` adds it."""
    c = np.asarray(c, dtype=np.uint64)
    return AShare({p: (s + c if p == first_party else s.copy()) for p, s in x.shares.items()},
                  np.broadcast_shapes(x.shape, c.shape), x.frac)


def mul_public(x: AShare, c, frac: int = 0) -> AShare:
    """x * c for a public uint64 ``c`` with ``frac`` fractional bits (no truncation here)."""
    c = np.asarray(c, dtype=np.uint64)
    return AShare({p: s * c for p, s in x.shares.items()}, np.broadcast_shapes(x.shape, c.shape), x.frac + frac)


def sum_axis(x: AShare, axis: int) -> AShare:
    """Sum over one axis (local)."""
    out = {p: s.sum(axis=axis, dtype=np.uint64) for p, s in x.shares.items()}
    return AShare(out, next(iter(out.values())).shape, x.frac)


def _beaver(ctx, x, y, matmul: bool, label: str):
    """Shared Beaver step of ``mul`` and ``matmul``: triple, one opening round (only for
    operands that are not already ``MaskedInput``s; none at all if both are), local combine."""
    if ctx.checker:  # a fixed-point product must stay below 2^62 for the exact truncation
        ctx.checker.product(x, y, matmul, label, 2**62 if x.frac + y.frac else 2**63)
    masks = [v.mask if isinstance(v, MaskedInput) else None for v in (x, y)]
    t = ctx.dealer.beaver_triple(x.shape, y.shape if matmul else None, matmul=matmul, a=masks[0], b=masks[1])
    a, b, c = t.a, t.b, t.c
    todo = [AShare({p: v.shares[p] - m[p] for p in ctx.parties}, v.shape, 0)
            for v, m, known in ((x, a, masks[0]), (y, b, masks[1])) if known is None]
    opened = open_many(ctx, todo, label) if todo else []
    e = x.e if masks[0] is not None else opened.pop(0)
    f = y.e if masks[1] is not None else opened.pop(0)
    first = min(ctx.parties_all)
    combine = kb.beaver_matmul_combine if matmul else kb.beaver_combine
    return {p: combine(c[p], a[p], b[p], e, f, p == first) for p in ctx.parties}


def mul(ctx, x, y, label: str = "mul") -> AShare:
    """Elementwise product by a Beaver triple; result has ``x.frac + y.frac`` fractional bits.
    ``x``/``y``: ``AShare`` or ``MaskedInput`` (whose opening was done by its owner).
    Replicated sessions: ``replicated_arithmetic.mul`` (1 round, no dealer)."""
    if ctx.sharing == "replicated":
        return rar.mul(ctx, x, y, label)
    _same_shape(x, y, "mul")
    return AShare(_beaver(ctx, x, y, False, label), x.shape, x.frac + y.frac)


def matmul(ctx, x, y, label: str = "matmul") -> AShare:
    """Matrix product ``(n, k) @ (k, m)`` by a Beaver matrix triple (one round; none if both
    operands are ``MaskedInput``s). Replicated sessions: ``replicated_arithmetic.matmul``."""
    if ctx.sharing == "replicated":
        return rar.matmul(ctx, x, y, label)
    if len(x.shape) != 2 or len(y.shape) != 2 or x.shape[1] != y.shape[0]:
        raise ValueError(f"matmul needs (n, k) @ (k, m), got {x.shape} @ {y.shape}")
    return AShare(_beaver(ctx, x, y, True, label), (x.shape[0], y.shape[1]), x.frac + y.frac)


def truncate(ctx, x: AShare, bits: int, method: str = "dealer", label: str = "trunc") -> AShare:
    """Divide by 2**bits (fixed-point rescale). ``method``: ``"dealer"`` (default; any P, 1
    round, exact to 1 ulp for |x| < 2^62) or ``"local"`` (P = 2 only, 0 rounds; wrong by about
    2^(64-bits) with probability about |x| / 2^63 per element: an explicit opt-in)."""
    if bits == 0:
        return x
    if ctx.sharing == "replicated":
        if method != "dealer":
            raise ValueError(f"sharing 'replicated' truncates by its exact method only (trunc='dealer'), got {method!r}")
        return rar.truncate(ctx, x, bits, label)
    P = ctx.comm.n_parties
    if method == "local":
        if P != 2:
            raise ValueError(f"truncation method 'local' needs exactly 2 parties, got {P}")
        out = AShare({p: kt.local_trunc_share(s, bits, p) for p, s in x.shares.items()}, x.shape, x.frac - bits)
        if ctx.checker:
            ctx.checker.truncation(x, out, bits, label)
        return out
    if method != "dealer":
        raise ValueError(f"truncation method must be 'dealer' or 'local', got {method!r}")
    pair, masked = trunc_masked(ctx, x, bits)
    return trunc_finish(ctx, x, pair, open_arith(ctx, masked, label), bits, label)


def trunc_masked(ctx, x: AShare, bits: int):
    """The dealer's truncation pair for ``x`` and the value to open, ``x + r + 2^62`` (frac 0):
    ``(pair, masked)``. Opening it is the one round of ``truncate``; a protocol may open it
    together with other values (``compare_a2b.A2B.relu_rescale``). Offline: ``trunc_pair``."""
    pair = ctx.dealer.trunc_pair(x.shape, bits)
    offset = np.uint64(1 << 62)
    masked = AShare({p: x.shares[p] + pair.r[p] + (offset if p == 0 else np.uint64(0)) for p in ctx.parties},
                    x.shape, 0)
    return pair, masked


def trunc_finish(ctx, x: AShare, pair, c: np.ndarray, bits: int, label: str = "trunc") -> AShare:
    """Shares of ``x / 2^bits`` (exact to 1 ulp for |x| < 2^62) from the opened ``c`` of
    ``trunc_masked`` (local)."""
    out = AShare({p: kt.dealer_trunc_share(c, pair.msb[p], pair.low[p], bits, p == 0) for p in ctx.parties},
                 x.shape, x.frac - bits)
    if ctx.checker:
        ctx.checker.truncation(x, out, bits, label)
    return out


def mul_trunc(ctx, x, y, frac: int, matmul_: bool = False, label: str = "mul") -> AShare:
    """x * y (``matmul_``: x @ y) rescaled to ``frac`` fractional bits (no truncation when the
    product already has them). Additive sessions: the Beaver product, then ``truncate`` with
    ``ctx.trunc``; replicated sessions: the fused ``replicated_arithmetic.mul_trunc`` (2 rounds
    in all)."""
    bits = x.frac + y.frac - frac
    if bits < 0:
        raise ValueError(f"mul_trunc: the product has {x.frac + y.frac} fractional bits, fewer than frac={frac}")
    if ctx.sharing == "replicated":
        return rar.mul_trunc(ctx, x, y, bits, matmul_, label)
    z = matmul(ctx, x, y, label) if matmul_ else mul(ctx, x, y, label)
    return truncate(ctx, z, bits, ctx.trunc, f"{label}/trunc") if bits else z
