"""Secure comparison front end: [x < 0], [x < y], ReLU and sign, with pluggable protocols.

``protocol="a2b"`` (any P; 6 rounds) or ``"fss"`` (P = 2; 1 round, DCF keys from the dealer).
Outputs are additive 0/1 shares with frac 0.
"""
from __future__ import annotations

import numpy as np

from fibench.mpc import config
from fibench.mpc.shares import AShare
from fibench.mpc.protocols import arithmetic as ar


def ltz(ctx, x: AShare, protocol: str = config.COMPARISON_PROTOCOL) -> AShare:
    """[x < 0] for additively shared x."""
    if protocol == "a2b":
        from fibench.mpc.protocols.compare_a2b import ltz_a2b

        return ltz_a2b(ctx, x)
    if protocol == "fss":
        if ctx.n_parties != 2:
            raise ValueError(f"protocol 'fss' needs n_parties = 2, got {ctx.n_parties}")
        from fibench.mpc.protocols.compare_fss import ltz_fss

        return ltz_fss(ctx, x, bits=_cmp_bits(ctx))
    raise ValueError(f"protocol must be one of {config.COMPARISON_PROTOCOLS}, got {protocol!r}")


def lt(ctx, x: AShare, y: AShare, protocol: str = config.COMPARISON_PROTOCOL) -> AShare:
    """[x < y] (inputs with the same fractional bits)."""
    return ltz(ctx, ar.sub(x, y), protocol)


def _cmp_bits(ctx) -> int:
    """The context's range promise for comparison inputs (``Session.cmp_bits``; 64: none)."""
    return getattr(ctx, "cmp_bits", 64)


def relu(ctx, x: AShare, protocol: str = config.COMPARISON_PROTOCOL) -> AShare:
    """max(x, 0), frac kept. ``a2b``: x * (1 - [x < 0]), one comparison and one Beaver product
    (7 rounds); ``fss``: one DCF with a two-word payload (1 round, see ``relu_fss``)."""
    if protocol == "fss":
        if ctx.n_parties != 2:
            raise ValueError(f"protocol 'fss' needs n_parties = 2, got {ctx.n_parties}")
        from fibench.mpc.protocols.compare_fss import relu_fss

        return relu_fss(ctx, x, bits=_cmp_bits(ctx))
    b = ltz(ctx, x, protocol)
    first = min(ctx.parties_all)
    one = {True: np.uint64(1), False: np.uint64(0)}
    keep = AShare({p: one[p == first] - s for p, s in b.shares.items()}, b.shape, 0)
    return ar.mul(ctx, x, keep, "relu/mul")
