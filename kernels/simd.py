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
LOW = ir.Constant(V8, [0xFFFFFFFFFFFFFFFE, 0xFFFFFFFFFFFFFFFF] * 4)  # clears bit 0 of each low word


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

    def pick(self, x, y, mask):
        """y where ``mask`` is all ones, else x."""
        b = self.b
        return b.xor(x, b.and_(b.xor(x, y), mask))

    def keep_lose(self, left, right, mask):
        """(kept, lost) of two children: (right, left) where ``mask`` is all ones, else (left, right)."""
        b = self.b
        d = b.and_(b.xor(left, right), mask)
        return b.xor(left, d), b.xor(right, d)

    def store_bits(self, halves, rows, index):
        """Bit 0 of the low words of a group's two vectors as one byte (comparison u at bit u)
        into byte ``index`` of each pointer in ``rows``."""
        b = self.b
        byte = self.bits(b.shuffle_vector(halves[0], halves[1], EVEN))
        for row in rows:
            b.store(byte, b.gep(row, [index]))

    def bits_of(self, byte, h):
        """The bits of a control-bit byte for half ``h`` of its group, each in both words of its
        comparison's block (0/1)."""
        b = self.b
        shifts = ir.Constant(V8, [4 * h + q // 2 for q in range(8)])
        return b.and_(b.lshr(self.splat(b.zext(byte, I64)), shifts), self.const(1))


class GroupState:
    """The state of a run of groups between tree levels: per group, 8 u64 words per named
    vector in the buffer at ``ptr`` (L1-sized); ``g0`` is the run's first group."""

    def __init__(self, lanes, ptr, names, g0):
        self.v, self.ptr, self.names, self.g0 = lanes, ptr, tuple(names), g0
        self.words = 8 * len(self.names)

    def group(self, index):
        """(group number, word of its first block in (n, 2) arrays, word of its state, its
        first comparison) of the run's group ``index``."""
        b = self.v.b
        g = b.add(index, self.g0)
        return g, b.shl(g, c64(4)), b.mul(index, c64(self.words)), b.shl(g, c64(3))

    def _slot(self, st, name):
        return self.v.b.add(st, c64(8 * self.names.index(name)))

    def load(self, st, name):
        return self.v.load(self.ptr, self._slot(st, name))

    def store(self, x, st, name):
        self.v.store(x, self.ptr, self._slot(st, name))


def tree_level(v, sl0, sr0, sl1, sr1, a, tp0, tp1):
    """One level of two-party DPF / DCF key generation (BGI16; BCG+21 Fig. 3) on four vectors
    of expanded children (``sl*``, ``sr*``: party 0's and 1's left and right child, bit 0 of
    the low word the control bit), ``a`` alpha's bit (0/1) and the parties' control bits
    ``tp0``, ``tp1`` (dup). Returns ``(c, bits_left, bits_right, (s0, t0), (s1, t1))``: the
    shared seed correction (bit 0 clear), the control-bit corrections (bit 0 of the low words),
    and each party's next seed (bit 0 clear) and control bit (dup)."""
    b = v.b
    one, zero = v.const(1), v.const(0)
    am = b.sub(zero, a)  # all ones where alpha goes right (keep right, lose left)
    k0, x0 = v.keep_lose(sl0, sr0, am)
    k1, x1 = v.keep_lose(sl1, sr1, am)
    bits_l = b.xor(b.xor(sl0, sl1), b.xor(a, one))
    bits_r = b.xor(b.xor(sr0, sr1), a)
    tck = b.xor(b.xor(k0, k1), one)  # the kept side's control-bit correction
    c = b.and_(b.xor(x0, x1), LOW)
    nxt = []
    for kk, tp in ((k0, tp0), (k1, tp1)):
        nn = b.xor(kk, b.and_(c, b.sub(zero, tp)))
        nxt.append((b.and_(nn, LOW), v.dup_low(b.and_(b.xor(nn, b.and_(tck, tp)), one))))
    return c, bits_l, bits_r, nxt[0], nxt[1]
