"""Fixed-point truncation (division by 2**f) of additively shared values on Z_2^64.

* ``local_trunc_share``: SecureML's 2-party local truncation. Party 0 computes
  ``x0 >> f``; party 1 computes ``2**64 - ((2**64 - x1) >> f)`` (logical shifts). Correct to
  within 1 ulp except with probability about |x| / 2**63 per element.
* ``dealer_trunc_share``: dealer-assisted truncation for any P (and exact up to 1 ulp always,
  for |x| < 2**62). The dealer shares r (uniform), r_msb = r >> 63 and
  r_low_t = (r mod 2**63) >> f. The parties open c = x + 2**62 + r; with v = c_msb XOR r_msb
  (linear since c is public): x >> f = (c mod 2**63) >> f + v * 2**(63-f) - r_low_t - 2**(62-f).
"""
import numpy as np
from numba import njit, prange

from fibench.kernels.threads import launch

U0 = np.uint64(0)
U1 = np.uint64(1)
LOW63 = np.uint64((1 << 63) - 1)


@njit(cache=True, parallel=True)
def _local_trunc(x, f, party, out):
    sh = np.uint64(f)
    for i in prange(x.size):
        if party == 0:
            out[i] = x[i] >> sh
        else:
            out[i] = U0 - ((U0 - x[i]) >> sh)


def local_trunc_share(x, frac_bits: int, party: int):
    """Party ``party`` (0 or 1)'s truncated share; uint64 array of any shape."""
    out = np.empty(x.shape, dtype=np.uint64)
    launch(_local_trunc, x.size, x.reshape(-1), int(frac_bits), int(party), out.reshape(-1))
    return out


@njit(cache=True, parallel=True)
def _dealer_trunc(c, r_msb, r_low_t, f, first, out):
    sh = np.uint64(f)
    top = np.uint64(63) - sh
    off = U1 << (np.uint64(62) - sh)
    for i in prange(c.size):
        cmsb = c[i] >> np.uint64(63)
        # [v] = c_msb + [r_msb] * (1 - 2 c_msb)
        if cmsb == U1:
            v = U0 - r_msb[i]
        else:
            v = r_msb[i]
        z = (v << top) - r_low_t[i]
        if first:
            z += cmsb << top
            z += ((c[i] & LOW63) >> sh) - off
        out[i] = z


def dealer_trunc_share(c, r_msb, r_low_t, frac_bits: int, first: bool):
    """One party's share of x >> f from the opened c and its dealer shares (uint64, one shape)."""
    out = np.empty(c.shape, dtype=np.uint64)
    launch(_dealer_trunc, c.size, c.reshape(-1), r_msb.reshape(-1), r_low_t.reshape(-1), int(frac_bits), bool(first),
           out.reshape(-1))
    return out
