"""Bit slicing through 512-bit byte shuffles and bit tests (AVX-512 BW + VBMI), for
``fibench.kernels.bitslice.bitslice``.

One block of 64 values (eight vectors of eight words) becomes its 64 plane words in three steps:

1. per vector, a byte permutation (``vpermb``) groups byte jb of its eight values into qword jb;
2. an 8 x 8 transpose of qwords across the eight vectors (three stages of two-input shuffles,
   each exchanging one bit of the vector index with one of the lane index) leaves vector jb
   holding byte jb of all 64 values, value v at byte v;
3. plane 8 jb + jl is the mask of the bytes of vector jb with bit jl set (``vptestmb``): one
   instruction and one mask move per plane word.

About 100 vector instructions per 64 values instead of the six swap passes of the scalar
transpose (measured at 10^6 values, one thread: 2.5-4.5 ms against 4.8-6 ms on a noisy
machine). Eight blocks' planes wait in a 4 KB scratch, block by block; an 8 x 8 word transpose
then writes each plane row 64 bytes at a time (scattered 8-byte stores to 64 rows were 2-4x
slower). The last, partial block goes through a zero-padded copy. ``available()`` is False where
numba does not compile for AVX-512 BW and VBMI (or the JIT is off): callers keep the scalar
transpose. The IR is emitted when the kernel compiles: after editing it, clear ``__pycache__``.
"""
from __future__ import annotations

import functools

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import config
from numba.extending import intrinsic

from fibench.kernels.aes import target_features
from fibench.kernels.simd import I32, I64, V8, c64, check_arrays, data, lane_mask

_B64 = ir.VectorType(ir.IntType(8), 64)
_M64 = ir.VectorType(ir.IntType(1), 64)
#: step 1: byte 8 jb + kl of the result is byte jb of the vector's value kl
_GROUP = lane_mask([8 * (i % 8) + i // 8 for i in range(64)])
#: blocks whose planes wait in the scratch (block q's 64 planes at words 64 q: L1-friendly) before
#: 8 x 8 word tiles of them are transposed into the rows, 64 bytes per row at a time
GROUP = 8
#: blocks per parallel task (a multiple of GROUP)
TASK_BLOCKS = 64


@functools.lru_cache(maxsize=None)
def available() -> bool:
    """True where the vector kernel runs (AVX-512 BW and VBMI in the CPU numba compiles for)."""
    if config.DISABLE_JIT:
        return False
    return {"avx512bw", "avx512vbmi"} <= target_features(("avx512bw", "avx512vbmi"))


def _swap_stage(b, vecs, bit):
    """Exchange bit ``bit`` of the vector index with the same bit of the lane index."""
    m = 1 << bit
    lo = lane_mask([l if not l & m else 8 + (l ^ m) for l in range(8)])
    hi = lane_mask([(l | m) if not l & m else 8 + l for l in range(8)])
    out = list(vecs)
    for v in range(8):
        if not v & m:
            x, y = vecs[v], vecs[v | m]
            out[v] = b.shuffle_vector(x, y, lo)
            out[v | m] = b.shuffle_vector(x, y, hi)
    return out


def _make_block(with_plus: bool):
    @intrinsic
    def block(typingctx, vals, plus, o, scratch, q):
        """The 64 planes of values o .. o + 63 (of ``vals`` + ``plus`` where ``with_plus``) into
        scratch[64 q + j] for j = 0..63 (no bounds check: the caller keeps o + 64 <= size)."""
        check_arrays(vals=(vals, types.uint64), plus=(plus, types.uint64), scratch=(scratch, types.uint64))
        sig = types.void(vals, plus, o, scratch, q)

        def codegen(context, builder, signature, args):
            b = builder
            vp = b.gep(data(context, b, signature.args[0], args[0]), [args[2]])
            pp = b.gep(data(context, b, signature.args[1], args[1]), [args[2]])
            sp = data(context, b, signature.args[3], args[3])
            vecs = []
            for k in range(8):
                x = b.load(b.bitcast(b.gep(vp, [c64(8 * k)]), V8.as_pointer()), align=8)
                if with_plus:
                    x = b.add(x, b.load(b.bitcast(b.gep(pp, [c64(8 * k)]), V8.as_pointer()), align=8))
                x = b.bitcast(x, _B64)
                vecs.append(b.bitcast(b.shuffle_vector(x, x, _GROUP), V8))
            for bit in range(3):
                vecs = _swap_stage(b, vecs, bit)
            zero = ir.Constant(_B64, [0] * 64)
            for jb in range(8):
                by = b.bitcast(vecs[jb], _B64)
                for jl in range(8):
                    bits = b.icmp_unsigned("!=", b.and_(by, ir.Constant(_B64, [1 << jl] * 64)), zero)
                    word = b.bitcast(bits, I64)
                    b.store(word, b.gep(sp, [b.add(b.mul(args[4], c64(64)), c64(8 * jb + jl))]), align=8)
            return context.get_dummy_value()

        return sig, codegen

    return block


_block, _block_plus = _make_block(False), _make_block(True)


@intrinsic
def _copy_tile(typingctx, scratch, out, j0, w0, q0):
    """The 8 x 8 tile of planes j0 .. j0 + 7 of the scratch's blocks q0 .. q0 + 7 (scratch[64 q
    + j]) into out[j, w0 + q0 .. + 7]: an 8 x 8 word transpose, then one 64-byte store per row
    (j0 + 8 <= planes, w0 + q0 + 8 <= nwords)."""
    check_arrays(scratch=(scratch, types.uint64), out=(out, types.uint64))
    sig = types.void(scratch, out, j0, w0, q0)

    def codegen(context, builder, signature, args):
        b = builder
        sp = data(context, b, signature.args[0], args[0])
        ary = context.make_array(signature.args[1])(context, b, args[1])
        nwords = b.extract_value(ary.shape, 1)
        j0, w0, q0 = args[2], args[3], args[4]
        vecs = [b.load(b.bitcast(b.gep(sp, [b.add(b.mul(b.add(q0, c64(q)), c64(64)), j0)]), V8.as_pointer()), align=8)
                for q in range(8)]
        for bit in range(3):
            vecs = _swap_stage(b, vecs, bit)
        col = b.add(w0, q0)
        for i in range(8):
            dst = b.gep(ary.data, [b.add(b.mul(b.add(j0, c64(i)), nwords), col)])
            b.store(vecs[i], b.bitcast(dst, V8.as_pointer()), align=8)
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True, parallel=True)
def bitslice_vector(vals, plus, has_plus, nbits, out):
    """``bitslice.bitslice``'s planes ``(nbits, ceil(n / 64))`` of vals (+ plus) into out."""
    n = vals.size
    nwords = out.shape[1]
    full = n // 64
    for task in prange((nwords + TASK_BLOCKS - 1) // TASK_BLOCKS):
        scratch = np.empty(64 * GROUP, dtype=np.uint64)  # block q's planes at 64 q
        pad = np.zeros(64, dtype=np.uint64)
        for g in range(task * TASK_BLOCKS, min(nwords, (task + 1) * TASK_BLOCKS), GROUP):
            cnt = min(GROUP, nwords - g)
            for q in range(cnt):
                w = g + q
                if w < full:
                    if has_plus:
                        _block_plus(vals, plus, 64 * w, scratch, q)
                    else:
                        _block(vals, plus, 64 * w, scratch, q)
                else:  # the last, partial block: zero padded
                    for k in range(n - 64 * w):
                        pad[k] = vals[64 * w + k] + plus[64 * w + k] if has_plus else vals[64 * w + k]
                    _block(pad, pad, 0, scratch, q)
            whole = cnt - cnt % 8
            jt = nbits - nbits % 8
            for j0 in range(0, jt, 8):  # each row's words of the group in one run
                for q in range(0, whole, 8):
                    _copy_tile(scratch, out, j0, g, q)
            for j in range(nbits):  # the rest: rows past the last whole tile, words past the last 8
                for q in range(whole if j < jt else 0, cnt):
                    out[j, g + q] = scratch[64 * q + j]
