"""Bit-sliced boolean values: 64 values per uint64 word.

Layout: ``planes`` has shape ``(nbits, nwords)`` with ``nwords = ceil(n / 64)``; bit ``k`` of
``planes[j, w]`` is bit ``j`` of value ``64 * w + k``. Padding values (past ``n``) are 0.
``bitslice`` transposes 64x64 bit blocks in place (Hacker's Delight, 6 passes of 32 swaps),
about 10x fewer operations than bit-by-bit extraction, ``LANES`` blocks at a time.
"""
import numpy as np
from numba import njit, prange

from fibench.kernels import bitslice_simd
from fibench.kernels.threads import launch

U0 = np.uint64(0)
U1 = np.uint64(1)


#: 64x64 blocks transposed side by side: each swap below is one operation on LANES words,
#: which LLVM vectorises (measured at 10^6 values, one thread: 4.9 ms vs 14.5 ms one block at a time)
LANES = 32
#: words per parallel task (a multiple of LANES)
TASK_WORDS = 128


@njit(cache=True, inline="always")
def _swap_stage(a, j, m):
    uj = np.uint64(j)
    for hi in range(0, 64, 2 * j):
        for lo in range(j):
            k = hi + lo
            for lane in range(LANES):
                x = a[k, lane]
                y = a[k + j, lane]
                t = ((x >> uj) ^ y) & m
                a[k, lane] = x ^ (t << uj)
                a[k + j, lane] = y ^ t


@njit(cache=True, inline="always")
def _transpose64(a):
    """Transpose the 64x64 bit blocks ``a[:, lane]`` in place (bit j of word k <-> bit k of word j)."""
    _swap_stage(a, 32, np.uint64(0x00000000FFFFFFFF))
    _swap_stage(a, 16, np.uint64(0x0000FFFF0000FFFF))
    _swap_stage(a, 8, np.uint64(0x00FF00FF00FF00FF))
    _swap_stage(a, 4, np.uint64(0x0F0F0F0F0F0F0F0F))
    _swap_stage(a, 2, np.uint64(0x3333333333333333))
    _swap_stage(a, 1, np.uint64(0x5555555555555555))


@njit(cache=True, parallel=True)
def _bitslice(vals, plus, has_plus, nbits, out):
    n = vals.size
    nwords = out.shape[1]
    for task in prange((nwords + TASK_WORDS - 1) // TASK_WORDS):
        blk = np.empty((64, LANES), dtype=np.uint64)
        for w0 in range(task * TASK_WORDS, min(nwords, (task + 1) * TASK_WORDS), LANES):
            for lane in range(LANES):
                base = 64 * (w0 + lane)
                cnt = max(0, min(64, n - base))
                if has_plus:  # the sum of two parts, never written on its own
                    for k in range(cnt):
                        blk[k, lane] = vals[base + k] + plus[base + k]
                else:
                    for k in range(cnt):
                        blk[k, lane] = vals[base + k]
                for k in range(cnt, 64):
                    blk[k, lane] = U0
            _transpose64(blk)
            lanes = min(LANES, nwords - w0)
            for j in range(nbits):
                for lane in range(lanes):
                    out[j, w0 + lane] = blk[j, lane]


def bitslice(vals, nbits: int = 64, plus=None):
    """uint64 values ``(n,)`` -> planes ``(nbits, ceil(n/64))`` holding bits 0..nbits-1; with
    ``plus`` (uint64, n values) the planes of ``vals + plus`` (mod 2^64), the sum never written:
    an opened value straight from its two parts (``sharing.open_split``)."""
    vals = np.ascontiguousarray(vals, dtype=np.uint64).reshape(-1)
    if not 1 <= nbits <= 64:
        raise ValueError(f"nbits must be in [1, 64], got {nbits}")
    if plus is not None:
        plus = np.ascontiguousarray(plus, dtype=np.uint64).reshape(-1)
        if plus.size != vals.size:
            raise ValueError(f"plus must have the {vals.size} values of vals, got {plus.size}")
    out = np.empty((nbits, (vals.size + 63) // 64), dtype=np.uint64)
    if vals.size:
        kernel = bitslice_simd.bitslice_vector if bitslice_simd.available() else _bitslice
        launch(kernel, vals.size, vals, vals if plus is None else plus, plus is not None, nbits, out)
    return out


@njit(cache=True, parallel=True)
def _unslice_planes(planes, n, acc, out):
    for w in prange(planes.shape[1]):  # 64 contiguous outputs per word and plane: vectorised
        base = 64 * w
        cnt = min(64, n - base)
        for j in range(planes.shape[0]):
            word = planes[j, w]
            if acc is None:
                for b in range(cnt):
                    out[j, base + b] = (word >> np.uint64(b)) & U1
            else:
                for b in range(cnt):
                    out[j, base + b] = ((word >> np.uint64(b)) & U1) - acc[j, base + b]


def unslice_planes(planes, n: int, minus=None, out=None):
    """Planes ``(k, nwords)`` -> their bits ``(k, n)`` as uint64 0/1, minus ``minus`` ``(k, n)``
    (mod 2^64) where given; written into ``out`` (which may be ``minus``) where given."""
    planes = np.ascontiguousarray(planes, dtype=np.uint64)
    k = planes.shape[0]
    if out is None:
        out = np.empty((k, n), dtype=np.uint64)
    if out.shape != (k, n) or out.dtype != np.uint64 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous uint64 array of shape {(k, n)}")
    if minus is not None and (minus.shape != (k, n) or minus.dtype != np.uint64):
        raise ValueError(f"minus must be a uint64 array of shape {(k, n)}")
    if n:
        launch(_unslice_planes, k * n, planes, n, minus, out)
    return out


def unslice_bit(plane, n: int):
    """One plane ``(nwords,)`` -> the ``n`` bits as a uint64 array of 0/1."""
    return unslice_planes(np.reshape(plane, (1, -1)), n)[0]


@njit(cache=True, parallel=True)
def _pack_bits(bits, out):
    for w in prange(out.size):
        acc = U0
        base = 64 * w
        for k in range(min(64, bits.size - base)):
            acc |= (bits[base + k] & U1) << np.uint64(k)
        out[w] = acc


def pack_bits(bits):
    """0/1 uint64 array ``(n,)`` -> one plane ``(ceil(n/64),)``."""
    bits = np.ascontiguousarray(bits, dtype=np.uint64).reshape(-1)
    out = np.zeros((bits.size + 63) // 64, dtype=np.uint64)
    if bits.size:
        launch(_pack_bits, bits.size, bits, out)
    return out

