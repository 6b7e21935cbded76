"""Fixed-key AES-128 encryption inside numba kernels, through the x86 AES-NI instructions.

The FSS keys (``fibench.kernels.dcf``, ``fibench.kernels.dpf``) hash every tree node with
fixed-key AES-128 (a public key, ``fss_tree.MMO_KEY``). OpenSSL runs that at about 2.4-3 ns
per block on a 2 GHz AVX-512 core (one call per chunk and level, through ``cryptography``);
the VAES instructions encrypt four blocks in one 512-bit instruction, about 1.2 ns per block
on the same core, and a numba kernel can call them without a round trip through Python.

``ecb_into(rk, src, dst, nwords)`` encrypts the first ``nwords`` uint64 words of ``src``
(``nwords / 2`` blocks, little-endian words, a block is two words as laid out in memory) into
``dst`` with the expanded key ``rk`` (u64 (11, 2), ``expand_key``). It is the same function
as OpenSSL's AES-128-ECB, byte for byte (tested on every path).

Paths, chosen when a kernel is compiled, from the CPU numba compiles for:

* ``vaes``: VAES + AVX-512F: four blocks per instruction (``llvm.x86.aesni.aesenc.512``);
* ``aesni``: AES-NI only: four independent 128-bit chains interleaved;
* none (not x86-64, no AES-NI, ``NUMBA_CPU_NAME`` set to another CPU, or ``NUMBA_DISABLE_JIT``):
  ``available()`` is False and the callers keep OpenSSL. ``FIBENCH_AES=openssl`` forces that path (tests run
  both).

Nothing here is secret: the key is public and the inputs are the dealer's or a party's own
values; AES-NI is constant time.
"""
from __future__ import annotations

import functools
import os
import platform

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import config
from numba.extending import intrinsic

_I32 = ir.IntType(32)
_I64 = ir.IntType(64)
_V2 = ir.VectorType(_I64, 2)
_V8 = ir.VectorType(_I64, 8)


def _sbox() -> list:
    """The AES S-box, computed (multiplicative inverse in GF(2^8) and the affine map)."""
    box = [0] * 256
    p = q = 1
    while True:
        p ^= ((p << 1) & 0xFF) ^ (0x1B if p & 0x80 else 0)  # p *= 3
        q ^= q << 1
        q ^= q << 2
        q ^= q << 4
        q &= 0xFF
        if q & 0x80:
            q ^= 0x09  # q /= 3
        rot = q ^ ((q << 1) | (q >> 7)) ^ ((q << 2) | (q >> 6)) ^ ((q << 3) | (q >> 5)) ^ ((q << 4) | (q >> 4))
        box[p] = (rot ^ 0x63) & 0xFF
        if p == 1:
            break
    box[0] = 0x63
    return box


def expand_key(key: bytes) -> np.ndarray:
    """AES-128 key schedule: the 11 round keys of a 16-byte ``key`` as u64 (11, 2), each round
    key's 16 bytes as two little-endian words (the layout the instructions load)."""
    if not isinstance(key, (bytes, bytearray)) or len(key) != 16:
        raise ValueError("key must be 16 bytes (AES-128)")
    box = _sbox()
    w = [list(key[4 * i: 4 * i + 4]) for i in range(4)]
    rcon = 1
    for i in range(4, 44):
        t = list(w[i - 1])
        if i % 4 == 0:
            t = [box[b] for b in t[1:] + t[:1]]
            t[0] ^= rcon
            rcon = ((rcon << 1) ^ (0x11B if rcon & 0x80 else 0)) & 0xFF
        w.append([a ^ b for a, b in zip(w[i - 4], t)])
    rk = np.frombuffer(bytes(sum(w, [])), dtype=np.uint64).reshape(11, 2).copy()
    rk.setflags(write=False)
    return rk


def target_features(names=("aes", "vaes", "avx512f")) -> set:
    """Which of the CPU features ``names`` the code numba generates may use (empty unless it
    compiles for this host); explicit ``NUMBA_CPU_FEATURES`` override the host's."""
    if platform.machine().lower() not in ("x86_64", "amd64") or config.CPU_NAME not in (None, "host"):
        return set()
    import llvmlite.binding as llb
    feats = llb.get_host_cpu_features()
    extra = config.CPU_FEATURES or ""
    have = {f for f in names if feats.get(f)}
    for f in extra.split(","):
        if f[1:] in names:
            (have.add if f[0] == "+" else have.discard)(f[1:])
    return have


@functools.lru_cache(maxsize=None)
def path() -> str:
    """``'vaes'``, ``'aesni'`` or ``'openssl'``: how FSS kernels run AES in this process."""
    if os.environ.get("FIBENCH_AES", "").lower() == "openssl" or config.DISABLE_JIT:
        return "openssl"  # with NUMBA_DISABLE_JIT the kernels run as Python, which cannot call intrinsics
    have = target_features()
    if {"vaes", "avx512f", "aes"} <= have:
        return "vaes"
    return "aesni" if "aes" in have else "openssl"


def available() -> bool:
    """True where ``ecb_into`` runs (AES-NI in the CPU numba compiles for)."""
    return path() != "openssl"


def _declare(module, name, vty):
    fn = module.globals.get(name)
    return fn if fn is not None else ir.Function(module, ir.FunctionType(vty, [vty, vty]), name=name)


def round_keys_ir(context, builder, rk_ty, rk):
    """For intrinsics: the 11 round keys of an ``expand_key`` array argument as IR values."""
    ary = context.make_array(rk_ty)(context, builder, rk)
    ptr = builder.bitcast(ary.data, _V2.as_pointer())
    return [builder.load(builder.gep(ptr, [ir.Constant(_I32, r)]), align=8) for r in range(11)]


def _operands(context, builder, signature, args):
    """Round keys and the i64 pointers to word ``o`` of ``src`` and ``dst`` of an
    ``(rk, src, dst, o)`` intrinsic."""
    rks = round_keys_ir(context, builder, signature.args[0], args[0])
    sp = builder.gep(context.make_array(signature.args[1])(context, builder, args[1]).data, [args[3]])
    dp = builder.gep(context.make_array(signature.args[2])(context, builder, args[2]).data, [args[3]])
    return rks, sp, dp


def _encrypt_xmm(builder, rks, blocks):
    """AES-128 of several <2 x i64> blocks, round by round (independent chains overlap)."""
    enc = _declare(builder.module, "llvm.x86.aesni.aesenc", _V2)
    last = _declare(builder.module, "llvm.x86.aesni.aesenclast", _V2)
    blocks = [builder.xor(b, rks[0]) for b in blocks]
    for r in range(1, 10):
        blocks = [builder.call(enc, [b, rks[r]]) for b in blocks]
    return [builder.call(last, [b, rks[10]]) for b in blocks]


def encrypt_vectors_ir(builder, rks, vectors):
    """For intrinsics: AES-128 of each <8 x i64> in ``vectors`` (four blocks each, two words
    per block, low word first), round by round over all of them so that the chains overlap.
    VAES where ``path()`` is 'vaes', else four AES-NI blocks per vector."""
    if path() == "vaes":
        enc = _declare(builder.module, "llvm.x86.aesni.aesenc.512", _V8)
        last = _declare(builder.module, "llvm.x86.aesni.aesenclast.512", _V8)
        spread = ir.Constant(ir.VectorType(_I32, 8), [0, 1] * 4)
        wide = [builder.shuffle_vector(r, r, spread) for r in rks]
        out = [builder.xor(x, wide[0]) for x in vectors]
        for r in range(1, 10):
            out = [builder.call(enc, [x, wide[r]]) for x in out]
        return [builder.call(last, [x, wide[10]]) for x in out]
    pick = [ir.Constant(ir.VectorType(_I32, 2), [2 * q, 2 * q + 1]) for q in range(4)]
    blocks = [builder.shuffle_vector(x, x, m) for x in vectors for m in pick]
    blocks = _encrypt_xmm(builder, rks, blocks)
    join = ir.Constant(ir.VectorType(_I32, 4), [0, 1, 2, 3])
    whole = ir.Constant(ir.VectorType(_I32, 8), list(range(8)))
    out = []
    for i in range(len(vectors)):
        q = blocks[4 * i: 4 * i + 4]
        out.append(builder.shuffle_vector(builder.shuffle_vector(q[0], q[1], join),
                                          builder.shuffle_vector(q[2], q[3], join), whole))
    return out


def _check_rk(rk):
    if not (isinstance(rk, types.Array) and rk.dtype == types.uint64 and rk.ndim == 2 and rk.layout == "C"):
        raise TypeError("rk must be a C-contiguous uint64 (11, 2) array")


@intrinsic
def _encrypt4_at(typingctx, rk, src, dst, o):
    """Encrypt the four blocks at words o .. o + 7 of ``src`` into the same words of ``dst``
    (both 1-d C-contiguous uint64 arrays; no bounds check: the caller's loop keeps o + 8 <= size)."""
    _check_rk(rk)
    sig = types.void(rk, src, dst, types.intp)

    def codegen(context, builder, signature, args):
        rks, sp, dp = _operands(context, builder, signature, args)
        block = builder.load(builder.bitcast(sp, _V8.as_pointer()), align=8)
        (out,) = encrypt_vectors_ir(builder, rks, [block])
        builder.store(out, builder.bitcast(dp, _V8.as_pointer()), align=8)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _encrypt1_at(typingctx, rk, src, dst, o):
    """Encrypt the one block at words o, o + 1 of ``src`` into ``dst``."""
    _check_rk(rk)
    sig = types.void(rk, src, dst, types.intp)

    def codegen(context, builder, signature, args):
        rks, sp, dp = _operands(context, builder, signature, args)
        block = builder.load(builder.bitcast(sp, _V2.as_pointer()), align=8)
        (out,) = _encrypt_xmm(builder, rks, [block])
        builder.store(out, builder.bitcast(dp, _V2.as_pointer()), align=8)
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True)
def _ecb(rk, src, dst, nwords):
    n4 = nwords - nwords % 8
    for o in range(0, n4, 8):
        _encrypt4_at(rk, src, dst, o)
    for o in range(n4, nwords, 2):
        _encrypt1_at(rk, src, dst, o)


def ecb_into(rk: np.ndarray, src: np.ndarray, dst: np.ndarray, nwords: int) -> None:
    """AES-128-ECB of ``src[:nwords]`` into ``dst[:nwords]`` (u64, C-contiguous, ``nwords``
    even and within both arrays) under the round keys ``rk`` (``expand_key``). Cost: nwords / 2
    blocks, about 1.2 ns each on the ``vaes`` path (2 GHz core). Raises ``RuntimeError`` where
    ``available()`` is False."""
    if not available():
        raise RuntimeError("AES-NI is not available to numba here (see fibench.kernels.aes.path)")
    nwords = int(nwords)
    if nwords % 2 or not 0 <= nwords <= min(src.size, dst.size):
        raise ValueError(f"nwords must be even and at most the arrays' size, got {nwords}")
    for name, a in (("src", src), ("dst", dst)):
        if a.dtype != np.uint64 or a.ndim != 1 or not a.flags.c_contiguous:
            raise ValueError(f"{name} must be a 1-d C-contiguous uint64 array")
    _ecb(rk, src, dst, nwords)
