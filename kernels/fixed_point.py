"""Fixed-point encoding of reals into Z_2^64.

A real x is stored as ``round(x * 2**f) mod 2**64`` (two's complement, uint64); decoding views
the word as int64 and divides by 2**f, which is exact for negatives (no off-by-one: the raw
value -1 decodes to -2**-f, not to -1 + 2**-f) and exact in float64 while |raw| < 2**53.
"""
import numpy as np
from numba import njit, prange

from fibench.kernels.threads import launch


@njit(cache=True, parallel=True)
def _encode(x, scale, out):
    for i in prange(x.size):
        out[i] = np.uint64(np.int64(np.rint(x[i] * scale)))


@njit(cache=True, parallel=True)
def _decode(r, inv_scale, out):
    for i in prange(r.size):
        out[i] = np.float64(np.int64(r[i])) * inv_scale


def encode_unchecked(x, frac_bits):
    """Encode a float64 array (shape kept) without range checks; see ``fibench.mpc.encoding.encode``."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty(x.shape, dtype=np.uint64)
    launch(_encode, x.size, x.reshape(-1), float(2.0**frac_bits), out.reshape(-1))
    return out


def decode(raw, frac_bits):
    """Decode uint64 ring elements (any shape) into float64 reals: int64(raw) / 2**frac_bits."""
    raw = np.ascontiguousarray(raw, dtype=np.uint64)
    out = np.empty(raw.shape, dtype=np.float64)
    launch(_decode, raw.size, raw.reshape(-1), float(2.0**-frac_bits), out.reshape(-1))
    return out
