"""IR helpers for the vector FSS kernels (``fibench.kernels.dpf_simd``, ``dcf_simd``): numba
intrinsics that compute on <8 x i64> vectors of u64 lanes. A vector holds four 128-bit blocks
(two words each, low word first: the layout of AES blocks, seeds and correction words in the
keys), i.e. four comparisons; a group of eight comparisons is two vectors ("halves"). A value
with one word per comparison is kept "dup" (in both words of its block) or in one word of it.

Nothing here runs at import: the helpers emit IR when a kernel is compiled. numba's cache
checks only the cached function's own file, so after an edit here clear ``__pycache__``.
"""
from __future__ import annotations

from llvmlite import ir
from numba import types

I8 = ir.IntType(8)
I32 = ir.IntType(32)
I64 = ir.IntType(64)
V8 = ir.VectorType(I64, 8)
B8 = ir.VectorType(ir.IntType(1), 8)


def lane_mask(indices):
    """A shufflevector mask."""
    return ir.Constant(ir.VectorType(I32, len(indices)), list(indices))


EVEN = lane_mask(range(0, 16, 2))  # the low words of two vectors' eight blocks
ODD = lane_mask(range(1, 16, 2))  # their high words
SWAP = lane_mask([1, 0, 3, 2, 5, 4, 7, 6])  # each block's two words exchanged


def c64(x):
    return ir.Constant(I64, x)


def data(context, builder, ty, val):
    """The data pointer of an array argument."""
    return context.make_array(ty)(context, builder, val).data


def check_arrays(**arrays):
    """TypeError unless every ``name=(numba type, dtype)`` is a C-contiguous array of that dtype."""
    for name, (ty, dtype) in arrays.items():
        if not (isinstance(ty, types.Array) and ty.dtype == dtype and ty.layout == "C"):
            raise TypeError(f"{name} must be a C-contiguous {dtype} array")


class Lanes:
    """Vector helpers over one function's IR builder."""

    def __init__(self, builder):
        self.b = builder

    def splat(self, x):
        b = self.b
        v = b.insert_element(ir.Constant(V8, ir.Undefined), x, ir.Constant(I32, 0))
        return b.shuffle_vector(v, v, lane_mask([0] * 8))

    def const(self, x):
        return ir.Constant(V8, [x] * 8)

    def pairs(self, lo, hi):
        """(lo, hi, lo, hi, ...): a block's two words in every block of a vector."""
        b = self.b
        v = b.insert_element(ir.Constant(ir.VectorType(I64, 2), ir.Undefined), lo, ir.Constant(I32, 0))
        v = b.insert_element(v, hi, ir.Constant(I32, 1))
        return b.shuffle_vector(v, v, lane_mask([0, 1] * 4))

    def dup_low(self, x):
        """Each block's low word in both its words."""
        return self.b.shuffle_vector(x, x, lane_mask([0, 0, 2, 2, 4, 4, 6, 6]))

    def swap(self, x):
        """Each block's two words exchanged."""
        return self.b.shuffle_vector(x, x, SWAP)

    def dup_halves(self, x8):
        """The two halves' dup vectors of eight per-comparison words (one vector)."""
        return [self.b.shuffle_vector(x8, x8, lane_mask([q // 2 + 4 * h for q in range(8)])) for h in range(2)]

    def ptr(self, base, word):
        return self.b.bitcast(self.b.gep(base, [word]), V8.as_pointer())

    def load(self, base, word):
        return self.b.load(self.ptr(base, word), align=8)

    def store(self, v, base, word):
        self.b.store(v, self.ptr(base, word), align=8)

    def bits(self, v):
        """Bit 0 of each lane packed into a byte (lane u at bit u)."""
        b = self.b
        return b.bitcast(b.trunc(v, B8), I8)
