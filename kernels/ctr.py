"""AES-128-CTR key streams inside numba, through VAES / AES-NI: the PRG of ``fibench.mpc.prg``.

``ctr_into(key, stream, dst, src=None, mode="set")`` writes the key stream of AES-128-CTR under
the 16-byte ``key`` with the initial counter block ``stream`` (8 bytes, big-endian) || 0 (8
bytes), read as little-endian uint64 words, into ``dst`` (``mode="set"``), or combines it with
``src`` word by word: ``"xor"`` (src ^ ks), ``"sub"`` (src - ks mod 2^64), ``"add"``. Byte for
byte the stream OpenSSL's AES-128-CTR gives for that key and counter (tested on every path), so
seeds expand to the same shares on every path and in every process.

Why not OpenSSL: through ``cryptography`` its CTR runs at about 3.5 GB/s on the 2-core
AVX-512 machines this project measures on; the VAES loop here encrypts four blocks per
instruction and sixteen in flight (about 2.5x that while the output stays in cache), writes no
zero plaintext first, and the combining modes save the dealer a pass over each correction.
From ``max(threads.PARALLEL_MIN, 2 TASK_WORDS)`` words on, the words are split over numba's
threads in tasks of ``TASK_WORDS``.

The key schedule is computed inside the kernel with AESKEYGENASSIST (constant time; no table
lookup touches a key byte). The round keys live in a 176-byte scratch array of the call, which
the kernel overwrites with zeros before it returns. Nothing is logged or raised with key
material in it.

Paths: ``fibench.kernels.aes.path()``; ``available()`` is False where it is ``'openssl'`` (no
AES-NI, not x86-64, ``NUMBA_DISABLE_JIT``, ``FIBENCH_AES=openssl``) and the caller keeps
OpenSSL. Cost: n / 2 AES blocks for n words; no table, no allocation beyond the scratch.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic

from fibench.kernels import aes
from fibench.kernels.simd import I32, I64, V8, c64, check_arrays, data, lane_mask
from fibench.kernels.threads import PARALLEL_MIN, num_threads

_V2 = ir.VectorType(I64, 2)
_V4 = ir.VectorType(I32, 4)
_RCON = (0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1B, 0x36)
MODES = {"set": 0, "xor": 1, "sub": 2, "add": 3}
#: vectors (four blocks each) encrypted per step: enough chains in flight to hide VAES latency
UNROLL = 4
STEP = 8 * UNROLL  # words per step
#: words per thread task on the parallel path (a multiple of STEP)
TASK_WORDS = 1 << 15


@intrinsic
def _schedule(typingctx, key, rk):
    """The 11 AES-128 round keys of the 16 bytes ``key`` (u8) into ``rk`` (u64, 22 words), by
    AESKEYGENASSIST."""
    check_arrays(key=(key, types.uint8), rk=(rk, types.uint64))
    sig = types.void(key, rk)

    def codegen(context, builder, signature, args):
        b = builder
        kp = b.bitcast(data(context, b, signature.args[0], args[0]), _V2.as_pointer())
        rp = b.bitcast(data(context, b, signature.args[1], args[1]), _V2.as_pointer())
        fn = b.module.globals.get("llvm.x86.aesni.aeskeygenassist")
        if fn is None:
            fn = ir.Function(b.module, ir.FunctionType(_V2, [_V2, ir.IntType(8)]), name="llvm.x86.aesni.aeskeygenassist")
        k = b.load(kp, align=1)
        b.store(k, rp, align=8)
        zero = ir.Constant(_V4, [0, 0, 0, 0])
        for r, rc in enumerate(_RCON, start=1):
            t = b.bitcast(b.call(fn, [k, ir.Constant(ir.IntType(8), rc)]), _V4)
            t = b.shuffle_vector(t, t, lane_mask([3, 3, 3, 3]))
            w = b.bitcast(k, _V4)
            for _ in range(3):  # w ^= w << 32 bits, three times: the prefix XOR of the words
                w = b.xor(w, b.shuffle_vector(zero, w, lane_mask([0, 4, 5, 6])))
            k = b.bitcast(b.xor(w, t), _V2)
            b.store(k, b.gep(rp, [ir.Constant(I32, r)]), align=8)
        return context.get_dummy_value()

    return sig, codegen


def _combine(b, mode, x, ks):
    if mode == 0:
        return ks
    if mode == 1:
        return b.xor(x, ks)
    return b.sub(x, ks) if mode == 2 else b.add(x, ks)


def _make_step(mode: int):
    @intrinsic
    def step(typingctx, rk, stream, block, dst, src, o, nvec):
        """Key stream of ``nvec`` (a literal: UNROLL or 1) vectors from counter block ``block``
        (native integer; the nonce's high word is ``stream``), combined into dst[o : o + 8 nvec]."""
        check_arrays(rk=(rk, types.uint64), dst=(dst, types.uint64), src=(src, types.uint64))
        if not isinstance(nvec, types.IntegerLiteral):
            return None
        count = nvec.literal_value
        sig = types.void(rk, stream, block, dst, src, o, nvec)

        def codegen(context, builder, signature, args):
            b = builder
            rks = aes.round_keys_ir(context, b, signature.args[0], args[0])
            s, blk, o_ = args[1], args[2], args[5]
            bswap = b.module.globals.get("llvm.bswap.v8i64")
            if bswap is None:
                bswap = ir.Function(b.module, ir.FunctionType(V8, [V8]), name="llvm.bswap.v8i64")
            base = b.insert_element(ir.Constant(V8, ir.Undefined), s, ir.Constant(I32, 0))
            base = b.insert_element(base, blk, ir.Constant(I32, 1))
            base = b.shuffle_vector(base, base, lane_mask([0, 1] * 4))
            ctrs = [b.call(bswap, [b.add(base, ir.Constant(V8, [0, 4 * v, 0, 4 * v + 1, 0, 4 * v + 2, 0, 4 * v + 3]))])
                    for v in range(count)]
            ks = aes.encrypt_vectors_ir(b, rks, ctrs)
            dp = data(context, b, signature.args[3], args[3])
            sp = data(context, b, signature.args[4], args[4])
            for v in range(count):
                word = b.add(o_, c64(8 * v))
                x = b.load(b.bitcast(b.gep(sp, [word]), V8.as_pointer()), align=8) if mode else None
                b.store(_combine(b, mode, x, ks[v]), b.bitcast(b.gep(dp, [word]), V8.as_pointer()), align=8)
            return context.get_dummy_value()

        return sig, codegen

    return step


_step_set, _step_xor, _step_sub, _step_add = (_make_step(m) for m in range(4))


@njit(cache=True, inline="always")
def _span(step, rk, stream, dst, src, lo, hi):
    """Words [lo, hi) of the key stream (lo a multiple of 8) through ``step``, but the last
    hi % 8; returns where those start."""
    o = lo
    while o + STEP <= hi:
        step(rk, stream, np.uint64(o >> 1), dst, src, o, UNROLL)
        o += STEP
    while o + 8 <= hi:
        step(rk, stream, np.uint64(o >> 1), dst, src, o, 1)
        o += 8
    return o


@njit(cache=True)
def _task(rk, s, dst, src, mode, lo, hi):
    """Words [lo, hi) (lo a multiple of 8) in the given mode."""
    tail = np.zeros(8, dtype=np.uint64)
    if mode == 0:
        o = _span(_step_set, rk, s, dst, src, lo, hi)
    elif mode == 1:
        o = _span(_step_xor, rk, s, dst, src, lo, hi)
    elif mode == 2:
        o = _span(_step_sub, rk, s, dst, src, lo, hi)
    else:
        o = _span(_step_add, rk, s, dst, src, lo, hi)
    if o < hi:  # the last < 8 words: one vector into the scratch
        _step_set(rk, s, np.uint64(o >> 1), tail, tail, 0, 1)
        for i in range(hi - o):
            x = tail[i]
            if mode == 1:
                x = src[o + i] ^ x
            elif mode == 2:
                x = src[o + i] - x
            elif mode == 3:
                x = src[o + i] + x
            dst[o + i] = x
        tail[:] = 0


@njit(cache=True)
def _run_serial(key, stream, dst, src, mode, n):
    rk = np.empty(22, dtype=np.uint64)
    _schedule(key, rk)
    _task(rk.reshape(11, 2), stream, dst, src, mode, 0, n)
    rk[:] = 0


@njit(cache=True, parallel=True)
def _run_parallel(key, stream, dst, src, mode, n):
    rk = np.empty(22, dtype=np.uint64)
    _schedule(key, rk)
    rk2 = rk.reshape(11, 2)
    for t in prange((n + TASK_WORDS - 1) // TASK_WORDS):
        lo = t * TASK_WORDS
        _task(rk2, stream, dst, src, mode, lo, min(n, lo + TASK_WORDS))
    rk[:] = 0


#: values per task of ``bits_minus_into`` (its key stream waits in a scratch of this many words)
BITS_CHUNK = 4096


@njit(cache=True)
def _fill(rk, s, scratch, o, cnt):
    """scratch[: r + cnt] <- words o - r, ..., o + cnt - 1 of the stream, r = o % 8 (the
    vector holding word o starts at o - r); returns r. scratch holds cnt + 15 words."""
    r = o & 7
    o8 = o - r
    tot = cnt + r
    q = 0
    while q + STEP <= tot:
        _step_set(rk, s, np.uint64((o8 + q) >> 1), scratch, scratch, q, UNROLL)
        q += STEP
    while q < tot:
        _step_set(rk, s, np.uint64((o8 + q) >> 1), scratch, scratch, q, 1)
        q += 8
    return r


@njit(cache=True, parallel=True)
def _bits_minus(key, stream, planes, n, dst):
    rk = np.empty(22, dtype=np.uint64)
    _schedule(key, rk)
    rk2 = rk.reshape(11, 2)
    per_row = (n + BITS_CHUNK - 1) // BITS_CHUNK
    for task in prange(planes.shape[0] * per_row):
        j = task // per_row
        i0 = (task - j * per_row) * BITS_CHUNK
        cnt = min(BITS_CHUNK, n - i0)
        scratch = np.empty(BITS_CHUNK + 16, dtype=np.uint64)
        r = _fill(rk2, stream, scratch, j * n + i0, cnt)
        for i in range(cnt):
            ii = i0 + i
            dst[j, ii] = ((planes[j, ii >> 6] >> np.uint64(ii & 63)) & np.uint64(1)) - scratch[r + i]
        scratch[:] = 0
    rk[:] = 0


def bits_minus_into(key: bytes, stream: int, planes: np.ndarray, n: int, dst: np.ndarray) -> np.ndarray:
    """``dst[j, i] = bit i of planes row j - word j * n + i of AES-128-CTR(key, stream)`` (mod
    2^64): bit planes ``(k, ceil(n / 64))`` (``fibench.kernels.bitslice``'s layout) unsliced
    minus the stream over ``dst`` ``(k, n)`` in one pass, the stream never written out. Equals
    ``unslice_planes(planes, n, minus=<the stream as (k, n)>)``. Returns dst."""
    if not available():
        raise RuntimeError("AES-NI is not available to numba here (see fibench.kernels.aes.path)")
    if len(key) != 16:
        raise ValueError("key must be 16 bytes (AES-128)")
    if not 0 <= stream < 2**64:
        raise ValueError("stream must be in [0, 2**64)")
    k, n = planes.shape[0], int(n)
    if planes.ndim != 2 or planes.dtype != np.uint64 or planes.shape[1] != (n + 63) // 64:
        raise ValueError(f"planes must be uint64 of shape (k, {(n + 63) // 64}), got {planes.dtype} {planes.shape}")
    if dst.shape != (k, n) or dst.dtype != np.uint64 or not dst.flags.c_contiguous:
        raise ValueError(f"dst must be a C-contiguous uint64 array of shape {(k, n)}")
    if k and n:
        with num_threads(None if k * n >= PARALLEL_MIN else 1):
            _bits_minus(np.frombuffer(key, dtype=np.uint8), np.uint64(stream), np.ascontiguousarray(planes), n, dst)
    return dst


def available() -> bool:
    """True where ``ctr_into`` runs (AES-NI in the CPU numba compiles for)."""
    return aes.available()


def ctr_into(key: bytes, stream: int, dst: np.ndarray, src: np.ndarray | None = None, mode: str = "set") -> np.ndarray:
    """AES-128-CTR(key, counter block ``stream`` || 0) over ``dst`` (1-d view of a C-contiguous
    uint64 array; see the module docstring for ``mode``); ``src`` has dst's size (it may be dst
    itself). Returns dst. Raises ``RuntimeError`` where ``available()`` is False."""
    if not available():
        raise RuntimeError("AES-NI is not available to numba here (see fibench.kernels.aes.path)")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {tuple(MODES)}, got {mode!r}")
    if len(key) != 16:
        raise ValueError("key must be 16 bytes (AES-128)")
    if not 0 <= stream < 2**64:
        raise ValueError("stream must be in [0, 2**64)")
    flat = dst.reshape(-1)
    if dst.dtype != np.uint64 or not dst.flags.c_contiguous:
        raise ValueError("dst must be a C-contiguous uint64 array")
    if src is None:
        if mode != "set":
            raise ValueError(f"mode {mode!r} needs src")
        sflat = flat
    else:
        if src.dtype != np.uint64 or not src.flags.c_contiguous or src.size != dst.size:
            raise ValueError(f"src must be a C-contiguous uint64 array of dst's size {dst.size}, got {src.size}")
        sflat = src.reshape(-1)
    n = flat.size
    args = (np.frombuffer(key, dtype=np.uint8), np.uint64(stream), flat, sflat, MODES[mode], n)
    if n >= max(PARALLEL_MIN, 2 * TASK_WORDS):
        _run_parallel(*args)
    elif n:
        _run_serial(*args)
    return dst
