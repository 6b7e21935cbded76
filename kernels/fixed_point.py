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
def _encode_checked(x, scale, limit, out):
    # one pass: encode and count the non-finite inputs and the encodings with |rint(x*scale)| >=
    # limit (their outputs are left 0: converting NaN or a huge float to int64 is undefined)
    nonfinite = 0
    outside = 0
    for i in prange(x.size):
        v = np.rint(x[i] * scale)
        if not np.isfinite(x[i]):
            nonfinite += 1
            out[i] = np.uint64(0)
        elif np.abs(v) >= limit:
            outside += 1
            out[i] = np.uint64(0)
        else:
            out[i] = np.uint64(np.int64(v))
    return nonfinite, outside


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


def encode_checked(x, frac_bits, limit):
    """Encode a float64 array (shape kept) in one pass that also counts the bad inputs:
    ``(out, n_nonfinite, n_outside)`` with ``n_outside`` the finite inputs whose encoding
    ``rint(x * 2**frac_bits)`` has absolute value >= ``limit`` (a float64). Bad entries of
    ``out`` are 0; the caller raises (``fibench.mpc.encoding.encode``)."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty(x.shape, dtype=np.uint64)
    nonfinite, outside = launch(_encode_checked, x.size, x.reshape(-1), float(2.0**frac_bits), float(limit),
                                out.reshape(-1))
    return out, int(nonfinite), int(outside)


def decode(raw, frac_bits):
    """Decode uint64 ring elements (any shape) into float64 reals: int64(raw) / 2**frac_bits."""
    raw = np.ascontiguousarray(raw, dtype=np.uint64)
    out = np.empty(raw.shape, dtype=np.float64)
    launch(_decode, raw.size, raw.reshape(-1), float(2.0**-frac_bits), out.reshape(-1))
    return out
