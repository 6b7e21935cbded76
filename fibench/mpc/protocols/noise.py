"""Noisy vote counts: discrete Gaussian (GNMax) or Laplace (LNMax) noise added to shared counts.

Scheme: the counts ``(n, C)`` are brought to the session's fixed-point scale f (a public
integer scaling of every share, local) and the dealer's ``noise_shares`` — i.i.d. discrete
noise on the lattice 2^-f Z, of scale ``sigma * 2^f`` raw units, i.e. ``sigma`` in vote units —
are added share by share (local). So the noisy counts cost **0 online bytes and 0 online
rounds**; offline, 8 bytes per element to party 0 in one message (``dealer/noise``). The
argmax that follows is unchanged.

Who learns the noise: no compute party and no coalition of at most P - 1 of them (their noise
shares are uniform), not the querier (it receives only the argmax). The dealer draws z and
knows it, as it knows every correlation it deals: the dealer is a trusted third party in this
threat model; a dealer that colludes with the querier removes the noise and the DP guarantee
(argmax of counts + known z reveals about the counts what the noiseless vote would).
"""
from __future__ import annotations

import numpy as np

from fibench.mpc import noise as dpnoise
from fibench.mpc.protocols import arithmetic as ar
from fibench.mpc.shares import AShare


def raw_scale(sigma: float, frac_bits: int) -> float:
    """The noise scale in raw lattice units: sigma * 2^frac_bits."""
    return float(sigma) * 2.0 ** int(frac_bits)


def to_frac(counts: AShare, frac_bits: int) -> AShare:
    """Counts at exactly ``frac_bits`` fractional bits (public scaling by 2^(f - frac), local);
    counts with more fractional bits than f are refused (they would need a truncation)."""
    if counts.frac > frac_bits:
        raise ValueError(f"counts have {counts.frac} fractional bits, more than the session's {frac_bits}")
    if counts.frac == frac_bits:
        return counts
    return ar.mul_public(counts, np.uint64(1 << (frac_bits - counts.frac)), frac_bits - counts.frac)


def add_noise(ctx, counts: AShare, kind: str, sigma: float) -> AShare:
    """``counts`` (n, C) share (frac <= ctx.frac_bits) plus dealer noise of ``kind`` with scale
    ``sigma`` vote units, at frac ``ctx.frac_bits``. 0 online bytes, 0 online rounds; offline
    8 n C bytes to party 0 (1 message)."""
    kind = dpnoise.check_kind(kind)
    scale = raw_scale(dpnoise.check_scale(sigma, "sigma"), ctx.frac_bits)
    dpnoise.check_scale(scale, f"sigma * 2^frac_bits (frac_bits={ctx.frac_bits})")
    counts = to_frac(counts, ctx.frac_bits)
    z = ctx.dealer.noise_shares(counts.shape, kind, scale)
    return AShare({p: counts.shares[p] + z.z[p] for p in counts.shares}, counts.shape, counts.frac)
