"""Comparison keys from a distributed point function (DPF) with early termination, two parties,
batched over n independent comparisons: XOR shares of ``[x < alpha]`` (a bit, not a ring element).

Idea (the comparison-from-DPF of Boyle et al. 2021 and SIGMA's DReLU; tree and corrections of
Boyle, Gilboa and Ishai, CCS 2016). A DPF key pair for the point alpha on ``nbits``-bit inputs
gives the two parties the same seed and the same control bit at every tree node off alpha's
path, and different seeds with control bits of XOR 1 on it. The right sibling of the node that
x's path enters at level i lies on alpha's path exactly when x and alpha agree above level i, x
takes the left branch and alpha the right one, i.e. when they first differ at level i and
x < alpha. So the XOR, over the levels where x's bit is 0, of both parties' control bits of the
right sibling is ``[x < alpha]`` restricted to the tree part; each party XORs its own bits and
holds one XOR share. Early termination: the last ``E = min(7, nbits)`` levels are one 128-bit
leaf per node (``Convert(s) = G_V(s)``, the whole block) with a correction word that makes the
two parties' leaves on alpha's path XOR to the unit vector at alpha's low E bits; the party
then also XORs its leaf bits at positions above x's low E bits. Off alpha's path both parties
compute the same bits, which cancel.

The output is XOR shared by construction. Arithmetic shares of the same bit in Z_2^64 cannot
follow without interaction: if party b ended with a function g_b of its own XOR share, then
``g_0(0) + g_1(1) = g_0(1) + g_1(0) = 1`` and ``g_0(0) + g_1(0) = g_0(1) + g_1(1) = 0`` would
give 2 = 0; making the per-level contributions arithmetic costs a 64-bit value correction word
per level, which is the DCF (``fibench.kernels.dcf``). The protocol layer converts with one
more round where it needs arithmetic shares (``fibench.mpc.protocols.compare_dpf``).

Output offset: ``flip`` (a bit per comparison, optional) is XORed into the output; it is stored
as bit 0 of word 0 of the root seed (a bit the PRG never reads), uniform in either key alone.

PRG: fixed-key AES-128 as a Matyas-Meyer-Oseas hash, ``G_T(s) = AES_K(s ^ T) ^ s ^ T``, with
the public key of ``fibench.kernels.dcf`` and the tweaks T_L, T_R (children: seed = block with
bit 0 cleared, control bit = bit 0) and T_V (leaf), from SHA-256 of their names. AES runs
inside numba where the CPU has AES-NI (``fibench.kernels.aes``): key generation and
evaluation are then one numba call each, eight comparisons per 512-bit vector with AES in the
same loop (``fibench.kernels.dpf_simd``); else AES runs
through OpenSSL (``cryptography``) in ECB mode over a whole chunk per level
(``fss_tree.run_chunks``) with the scalar kernels. Every path gives the same keys and outputs
byte for byte.

Cost per comparison with D = nbits - E tree levels: key generation 4 D + 2 AES blocks (both
parties; 226 at nbits = 63), evaluation 2 D + 1 per party (113 at nbits = 63).

Key format (one flat uint8 array per party). A key for n comparisons is the keys of its slabs
of ``fss_tree.SLAB`` comparisons (the last one shorter) one after another (``key_slabs``); the
key of one slab of n comparisons (nb = ceil(n / 8)) has these sections in this order:

=========  ===================  ========================================================
section    dtype, shape         content
=========  ===================  ========================================================
seed       u64 (n, 2)           root seed (bit 0 of word 0: the party's output offset)
scw        u64 (D, n, 2)        seed correction word per level (bit 0 of word 0 is 0)
leaf       u64 (n, 2)           leaf correction word (128 leaf bits)
tcw        u8 (D, 2, nb)        control-bit corrections (left, right), bit-packed little
=========  ===================  ========================================================

so a key has ``8 n (2 D + 4) + 2 D ceil(n / 8)`` bytes: 942 B per comparison at nbits = 63
(D = 56), 422 B at nbits = 31 (D = 24), for a multiple of 8 comparisons.
"""
from __future__ import annotations

import hashlib
import time

import numpy as np
from numba import njit

from fibench.kernels import aes, fss_tree
from fibench.kernels.dpf_simd import eval_slabs, eval_vector, gen_slabs, gen_vector, slab_words
from fibench.kernels.fss_tree import (check_chunk, check_key, check_nbits, check_points, check_slab, key_buffers, root_seeds,
                                      run_chunks, tick)
from fibench.kernels.threads import threads_for

U0 = np.uint64(0)
U1 = np.uint64(1)
NOT1 = np.uint64(0xFFFFFFFFFFFFFFFE)
ONES = np.uint64(0xFFFFFFFFFFFFFFFF)

#: bits resolved by the 128-bit leaf (early termination)
LEAF_BITS = 7
#: default number of comparisons evaluated together
CHUNK = 2048
#: default number of comparisons per chunk of key generation: 16384 keeps the Python cost per
#: level call (AES call plus kernel dispatch, ~5 us) under 2 % of the level's work, with the
#: AES buffers (1 MiB each) in the L3 cache; 2048 .. 65536 measured within noise of each other
#: in the kernel, 2048 paying ~0.1 s more per 10^6 comparisons at nbits = 63 in call overhead
GEN_CHUNK = 16384
#: comparisons per run on the vector path (``dpf_simd.gen_groups`` / ``eval_groups``, AES
#: inside numba), walked level by level with its state (64 B per comparison) in the L1 cache.
#: Key generation, 10^6 at nbits = 63, reused buffers, per 10^6 over six n around 10^6
#: (2026-12-03, load 0.6-0.9): 128: 0.58-0.69 s, 256: 0.46-0.50, 512: 0.50-0.53, 1024:
#: 0.44-0.53 s; evaluation (one party): 256: 0.24 s, 512: 0.29, 1024 .. 4096: 0.28-0.30 s
VECTOR_CHUNK = 512


def _tweak(name: bytes) -> np.ndarray:
    return np.frombuffer(hashlib.sha256(b"fibench/dpf/tweak/" + name).digest()[:16], dtype=np.uint64).copy()


#: tweaks T_L, T_R, T_V as a (3, 2) uint64 array (left child, right child, leaf)
TWEAKS = np.stack([_tweak(b"L"), _tweak(b"R"), _tweak(b"V")])
TWEAKS.setflags(write=False)


def leaf_bits(nbits: int) -> int:
    """E: the low input bits resolved by the leaf."""
    return min(LEAF_BITS, int(nbits))


def tree_levels(nbits: int) -> int:
    """D = nbits - E: levels with a seed correction word."""
    return int(nbits) - leaf_bits(nbits)


def key_nbytes(n: int, nbits: int) -> int:
    """Bytes of one party's key for ``n`` comparisons on ``nbits``-bit inputs (the sum over its
    slabs, which the formula gives exactly: ``fss_tree.SLAB`` is a multiple of 8)."""
    D = tree_levels(nbits)
    return 8 * int(slab_words(n, D)[2]) + 2 * D * ((n + 7) // 8)


def key_slabs(n: int, nbits: int):
    """``(j0, k, lo, hi)`` per slab of a key for ``n`` comparisons (``fss_tree.slabs``)."""
    return fss_tree.slabs(n, lambda k: key_nbytes(k, nbits))


def gen_aes_blocks(nbits: int) -> int:
    """AES blocks per comparison of key generation (both parties)."""
    return 4 * tree_levels(nbits) + 2


def eval_aes_blocks(nbits: int) -> int:
    """AES blocks per comparison of one party's evaluation."""
    return 2 * tree_levels(nbits) + 1


def key_sections(key: np.ndarray, n: int, nbits: int):
    """Views ``(seed, scw, leaf, tcw)`` into the flat key of one slab of ``n <= fss_tree.SLAB``
    comparisons (see the module docstring)."""
    check_slab(n)
    D = tree_levels(nbits)
    a, b, nw = slab_words(n, D)
    w = key[: 8 * nw].view(np.uint64)
    seed = w[:a].reshape(n, 2)
    scw = w[a:b].reshape(D, n, 2)
    leaf = w[b:nw].reshape(n, 2)
    tcw = key[8 * nw:].reshape(D, 2, (n + 7) // 8)
    return seed, scw, leaf, tcw


# ---------------------------------------------------------------------------------------------
# key generation kernels. AES input ``inb`` of a chunk of k comparisons, interleaved so that a
# level reads and writes one contiguous stream: comparison j's four blocks (party 0 left,
# party 0 right, party 1 left, party 1 right) at words 8 j .. 8 j + 7; the leaf pass: its two
# blocks (party 0, party 1) at words 4 j .. 4 j + 3.
# ---------------------------------------------------------------------------------------------
@njit(cache=True)
def _gen_prep(sd0, sd1, j0, k, D, tw, inb):
    """First AES input of a chunk: the root seeds ``sd0``, ``sd1`` (u64 (n, 2)) of comparisons
    j0 .. j0+k-1, bit 0 cleared, XOR the tweaks (T_L, T_R; T_V if D = 0) into ``inb``."""
    for j in range(k):
        g = j0 + j
        for b in range(2):
            lo = (sd0[g, 0] if b == 0 else sd1[g, 0]) & NOT1
            hi = sd0[g, 1] if b == 0 else sd1[g, 1]
            if D > 0:
                o = 8 * j + 4 * b
                inb[o] = lo ^ tw[0, 0]
                inb[o + 1] = hi ^ tw[0, 1]
                inb[o + 2] = lo ^ tw[1, 0]
                inb[o + 3] = hi ^ tw[1, 1]
            else:  # no tree: the roots are the leaf nodes
                o = 4 * j + 2 * b
                inb[o] = lo ^ tw[2, 0]
                inb[o + 1] = hi ^ tw[2, 1]


@njit(cache=True)
def _gen_level(inb, outb, alpha, j0, k, pos, t0, t1, scw, tcw, scw1, tcw1, tw, last):
    """One tree level of Gen for comparisons j0 .. j0+k-1 (j0 a multiple of 8).

    ``inb``, ``outb``: u64 (8 k,) AES input and output of the level (layout above); ``alpha``:
    u64 (n,); ``pos``: u64, the bit of alpha this level branches on; ``t0``, ``t1``: u64 (k,)
    the parties' control bits (0/1), updated; ``scw``: the level's u64 (n, 2) row of seed
    corrections and ``tcw`` its u8 (2, nb) row of control-bit corrections (left, right),
    bit-packed little in a register and stored a byte at a time, of key 0; ``scw1``, ``tcw1``
    the same rows of key 1 (the keys share every correction word; writing both from registers
    measured 2-10 % faster than copying key 0's sections once at the end). ``last``: lay out
    the leaf pass (4 words per comparison, over slots already read) instead of the next level.
    Branch-free (alpha's bits and the control bits are random); arrays are sliced to the chunk
    first, so that the loop indexes from 0. Cost: about 60 integer operations, 19 loads and 16
    stores per comparison, all in cache but ``scw``, ``scw1`` (32 bytes to memory)."""
    al = alpha[j0: j0 + k]
    cw = scw[j0: j0 + k].reshape(2 * k)
    cw1 = scw1[j0: j0 + k].reshape(2 * k)
    b0 = j0 >> 3
    rl = tcw[0, b0: b0 + ((k + 7) >> 3)]
    rr = tcw[1, b0: b0 + ((k + 7) >> 3)]
    rl1 = tcw1[0, b0: b0 + ((k + 7) >> 3)]
    rr1 = tcw1[1, b0: b0 + ((k + 7) >> 3)]
    twL0 = tw[0, 0]
    twL1 = tw[0, 1]
    twR0 = tw[1, 0]
    twR1 = tw[1, 1]
    twV0 = tw[2, 0]
    twV1 = tw[2, 1]
    vl = U0
    vr = U0
    for j in range(k):
        o = 8 * j
        L0l = outb[o] ^ inb[o]
        L0h = outb[o + 1] ^ inb[o + 1]
        R0l = outb[o + 2] ^ inb[o + 2]
        R0h = outb[o + 3] ^ inb[o + 3]
        L1l = outb[o + 4] ^ inb[o + 4]
        L1h = outb[o + 5] ^ inb[o + 5]
        R1l = outb[o + 6] ^ inb[o + 6]
        R1h = outb[o + 7] ^ inb[o + 7]
        a = (al[j] >> pos) & U1
        am = U0 - a  # all ones: alpha goes right (keep right, lose left)
        d = (L0l ^ R0l) & am
        k0l = L0l ^ d  # kept child of party 0 (bit 0: its control bit)
        x0l = R0l ^ d  # lost child
        d = (L0h ^ R0h) & am
        k0h = L0h ^ d
        x0h = R0h ^ d
        d = (L1l ^ R1l) & am
        k1l = L1l ^ d
        x1l = R1l ^ d
        d = (L1h ^ R1h) & am
        k1h = L1h ^ d
        x1h = R1h ^ d
        sh = np.uint64(j & 7)
        vl |= ((L0l ^ L1l ^ a ^ U1) & U1) << sh  # left correction: XOR 1 on the kept side, 0 on the lost
        vr |= ((R0l ^ R1l ^ a) & U1) << sh
        # written out in each kernel: an inline helper that returns the cleared registers
        # measured 2-3x slower key generation (2026-12-02)
        if (j & 7) == 7 or j == k - 1:
            rl[j >> 3] = np.uint8(vl)
            rr[j >> 3] = np.uint8(vr)
            rl1[j >> 3] = np.uint8(vl)
            rr1[j >> 3] = np.uint8(vr)
            vl = U0
            vr = U0
        tck = (k0l ^ k1l ^ U1) & U1  # the kept side's correction
        cl = (x0l ^ x1l) & NOT1
        ch = x0h ^ x1h
        tp0 = t0[j]
        tp1 = t1[j]
        m0 = U0 - tp0
        m1 = U0 - tp1
        n0l = k0l ^ (cl & m0)  # bit 0 still the kept control bit (cl's bit 0 is clear)
        n0h = k0h ^ (ch & m0)
        n1l = k1l ^ (cl & m1)
        n1h = k1h ^ (ch & m1)
        t0[j] = (n0l ^ (tck & tp0)) & U1
        t1[j] = (n1l ^ (tck & tp1)) & U1
        n0l &= NOT1
        n1l &= NOT1
        cw[2 * j] = cl
        cw[2 * j + 1] = ch
        cw1[2 * j] = cl
        cw1[2 * j + 1] = ch
        if last:  # leaf inputs: party 0, party 1
            q = 4 * j
            inb[q] = n0l ^ twV0
            inb[q + 1] = n0h ^ twV1
            inb[q + 2] = n1l ^ twV0
            inb[q + 3] = n1h ^ twV1
        else:
            inb[o] = n0l ^ twL0
            inb[o + 1] = n0h ^ twL1
            inb[o + 2] = n0l ^ twR0
            inb[o + 3] = n0h ^ twR1
            inb[o + 4] = n1l ^ twL0
            inb[o + 5] = n1h ^ twL1
            inb[o + 6] = n1l ^ twR0
            inb[o + 7] = n1h ^ twR1


@njit(cache=True)
def _gen_leaf(inb, outb, alpha, j0, k, E, leaf, leaf1):
    """Leaf correction words (u64 (n, 2) ``leaf`` and ``leaf1``, both keys, rows j0 .. j0+k-1)
    from the leaf pass (4 words per comparison in ``inb``/``outb``): CW = Convert(s0) ^ Convert(s1) ^ e_p with p =
    alpha's low E bits (a unit vector in 128 bits)."""
    lowmask = (U1 << np.uint64(E)) - U1
    for j in range(k):
        g = j0 + j
        o = 4 * j
        p = alpha[g] & lowmask
        lo = outb[o] ^ inb[o] ^ outb[o + 2] ^ inb[o + 2]
        hi = outb[o + 1] ^ inb[o + 1] ^ outb[o + 3] ^ inb[o + 3]
        sel = U0 - (p >> np.uint64(6))  # all ones if p >= 64
        bit = U1 << (p & np.uint64(63))
        lo ^= bit & ~sel
        hi ^= bit & sel
        leaf[g, 0] = lo
        leaf[g, 1] = hi
        leaf1[g, 0] = lo
        leaf1[g, 1] = hi


# ---------------------------------------------------------------------------------------------
# evaluation kernels (one party). AES input, interleaved: comparison j's left and right blocks
# at words 4 j .. 4 j + 3 (the leaf pass: its one block at 2 j, 2 j + 1). State: control bit t
# and output bit acc per comparison.
# ---------------------------------------------------------------------------------------------
@njit(cache=True)
def _eval_prep(seed, j0, k, D, party, tw, inb, t, acc):
    """First AES input of a chunk from the root seeds (u64 (n, 2)); acc <- the output offset
    (bit 0 of word 0), t <- party (u8 (k,) each)."""
    for j in range(k):
        g = j0 + j
        lo = seed[g, 0]
        acc[j] = np.uint8(lo & U1)
        lo &= NOT1
        hi = seed[g, 1]
        t[j] = np.uint8(party)
        if D > 0:
            inb[4 * j] = lo ^ tw[0, 0]
            inb[4 * j + 1] = hi ^ tw[0, 1]
            inb[4 * j + 2] = lo ^ tw[1, 0]
            inb[4 * j + 3] = hi ^ tw[1, 1]
        else:
            inb[2 * j] = lo ^ tw[2, 0]
            inb[2 * j + 1] = hi ^ tw[2, 1]


@njit(cache=True)
def _eval_level(inb, outb, x, j0, k, pos, scw, tcw, t, acc, tw, last):
    """One level of Eval: correct both children, XOR the right child's control bit into acc
    where x's bit is 0, descend along x. ``scw``: the level's (n, 2) row, ``tcw`` its (2, nb)
    bit-packed row; j0 a multiple of 8. Branch-free on x's bits; arrays sliced to the chunk.
    ``last``: lay out the leaf pass (2 words per comparison, over slots already read)."""
    xs = x[j0: j0 + k]
    cw = scw[j0: j0 + k].reshape(2 * k)
    nbk = (k + 7) >> 3
    bl = tcw[0, j0 >> 3: (j0 >> 3) + nbk]
    br = tcw[1, j0 >> 3: (j0 >> 3) + nbk]
    twL0 = tw[0, 0]
    twL1 = tw[0, 1]
    twR0 = tw[1, 0]
    twR1 = tw[1, 1]
    twV0 = tw[2, 0]
    twV1 = tw[2, 1]
    for j in range(k):
        o = 4 * j
        Ll = outb[o] ^ inb[o]
        Lh = outb[o + 1] ^ inb[o + 1]
        Rl = outb[o + 2] ^ inb[o + 2]
        Rh = outb[o + 3] ^ inb[o + 3]
        tp = np.uint64(t[j])
        msk = U0 - tp
        cl = cw[2 * j] & msk
        ch = cw[2 * j + 1] & msk
        sh = np.uint64(j & 7)
        tcl = (np.uint64(bl[j >> 3]) >> sh) & U1
        tcr = (np.uint64(br[j >> 3]) >> sh) & U1
        tL = (Ll & U1) ^ (tcl & tp)
        tR = (Rl & U1) ^ (tcr & tp)
        Ll = (Ll & NOT1) ^ cl
        Lh ^= ch
        Rl = (Rl & NOT1) ^ cl
        Rh ^= ch
        d = (xs[j] >> pos) & U1
        dm = U0 - d
        acc[j] ^= np.uint8(tR & (d ^ U1))
        sl = Ll ^ ((Ll ^ Rl) & dm)
        sh2 = Lh ^ ((Lh ^ Rh) & dm)
        t[j] = np.uint8(tL ^ ((tL ^ tR) & d))
        if last:
            inb[2 * j] = sl ^ twV0
            inb[2 * j + 1] = sh2 ^ twV1
        else:
            inb[o] = sl ^ twL0
            inb[o + 1] = sh2 ^ twL1
            inb[o + 2] = sl ^ twR0
            inb[o + 3] = sh2 ^ twR1


@njit(cache=True)
def _parity64(v):
    v ^= v >> np.uint64(32)
    v ^= v >> np.uint64(16)
    v ^= v >> np.uint64(8)
    v ^= v >> np.uint64(4)
    v ^= v >> np.uint64(2)
    v ^= v >> np.uint64(1)
    return v & U1


@njit(cache=True)
def _eval_leaf(inb, outb, x, j0, k, E, leaf, t, acc, out):
    # XOR of the corrected leaf bits at positions above q = x's low E bits
    lowmask = (U1 << np.uint64(E)) - U1
    c63 = np.uint64(63)
    c64 = np.uint64(64)
    for j in range(k):
        g = j0 + j
        o = 2 * j
        msk = U0 - np.uint64(t[j])
        lo = outb[o] ^ inb[o] ^ (leaf[g, 0] & msk)
        hi = outb[o + 1] ^ inb[o + 1] ^ (leaf[g, 1] & msk)
        w = (x[g] & lowmask) + U1  # positions >= w count, w in [1, 128]
        mlo = (ONES << min(w, c63)) & (U0 - np.uint64(w < c64))
        hs = min(max(w, c64) - c64, c63)
        mhi = (ONES << hs) & (U0 - np.uint64(w < np.uint64(128)))
        out[g] = np.uint8(np.uint64(acc[j]) ^ _parity64((lo & mlo) ^ (hi & mhi)))


# ---------------------------------------------------------------------------------------------
# public drivers
# ---------------------------------------------------------------------------------------------
def _as_bits(a, n, name) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype.kind not in "ub" or (a.ndim and a.size != n):
        raise ValueError(f"{name} must be an unsigned integer array of {n} bits (0 or 1)")
    a = np.broadcast_to(a, (n,)).astype(np.uint64)
    if n and int(a.max()) > 1:
        raise ValueError(f"{name} must hold bits (0 or 1)")
    return a


def _gen_scalar(alpha, L, chunk, sections0, sections1, profile):
    """Gen on the scalar path: AES through OpenSSL over a chunk per level
    (``fss_tree.run_chunks``), the numba kernels above; ``sections*``: the keys' (seed, scw,
    leaf, tcw), the seeds already written."""
    sd0, scw0, leaf0, tcw0 = sections0
    sd1, scw1, leaf1, tcw1 = sections1
    D, E = tree_levels(L), leaf_bits(L)
    c = min(chunk, alpha.size)
    t0 = np.empty(c, dtype=np.uint64)
    t1 = np.empty(c, dtype=np.uint64)
    pos = [np.uint64(L - 1 - i) for i in range(D)]

    def start(j0, k, inb):
        t0[:k] = 0
        t1[:k] = 1
        _gen_prep(sd0, sd1, j0, k, D, TWEAKS, inb)

    def step(i, j0, k, inb, outb):
        if i < D:
            _gen_level(inb, outb, alpha, j0, k, pos[i], t0, t1, scw0[i], tcw0[i], scw1[i], tcw1[i], TWEAKS,
                       i == D - 1)
        else:
            _gen_leaf(inb, outb, alpha, j0, k, E, leaf0, leaf1)

    # D levels of 4 blocks per comparison (L and R children of both parties), then the leaf pass (2)
    run_chunks(alpha.size, chunk, [8] * D + [4], start, step, profile=profile)


def _eval_scalar(party, key, x, L, chunk, out, profile):
    """One party's Eval on the scalar path (OpenSSL AES over a chunk per level, the numba
    kernels above)."""
    n = x.size
    D, E = tree_levels(L), leaf_bits(L)
    seed, scw, leaf, tcw = key_sections(key, n, L)
    c = min(chunk, n)
    t = np.empty(c, dtype=np.uint8)
    acc = np.empty(c, dtype=np.uint8)
    pos = [np.uint64(L - 1 - i) for i in range(D)]

    def start(j0, k, inb):
        _eval_prep(seed, j0, k, D, party, TWEAKS, inb, t, acc)

    def step(i, j0, k, inb, outb):
        if i < D:
            _eval_level(inb, outb, x, j0, k, pos[i], scw[i], tcw[i], t, acc, TWEAKS, i == D - 1)
        else:
            _eval_leaf(inb, outb, x, j0, k, E, leaf, t, acc, out)

    # D levels of 2 blocks per comparison (both children), then the leaf pass (1)
    run_chunks(n, chunk, [4] * D + [2], start, step, profile=profile)


def dpf_cmp_gen(alpha, nbits: int = 64, seeds=None, flip=None, chunk=None, out=None, profile=None, on_slab=None,
                split: bool = False):
    """Comparison keys for ``[x < alpha] ^ flip`` on ``nbits``-bit inputs, n at once.

    Parameters
    ----------
    alpha : (n,) uint64, each < 2**nbits
        Secret thresholds.
    nbits : int in [1, 64]
    seeds : (n, 4) uint64 or None
        Uniform randomness from the caller (a dealer's CSPRNG): root seeds of party 0 (columns
        0, 1) and party 1 (2, 3); bit 0 of column 0 is party 0's output offset. ``None``: the
        OS CSPRNG.
    flip : (n,) bits, scalar or None
        XORed into the output (e.g. the mask's top bit).
    chunk : int, multiple of 8, or None
        Comparisons processed together (tuning only; the keys do not depend on it). ``None``:
        ``VECTOR_CHUNK`` on the vector path (AES inside numba), else ``GEN_CHUNK``.
    out : (key0, key1) or None
        Two writable, C-contiguous uint8 arrays of ``key_nbytes(n, nbits)`` to write into (a
        caller that reuses buffers avoids the first-touch page faults of fresh memory).
    profile : dict or None
        If given, ``aes_blocks`` and ``total_s`` are accumulated into it, and ``aes_s`` on the
        OpenSSL path (the vector path runs AES inside its loop and does not time it apart).
    on_slab : callable or None
        Called as ``on_slab(j0, k, lo, hi)`` after each slab (``key_slabs``): bytes ``lo .. hi
        - 1`` of both keys are final (a dealer sends them while the next slab is generated).
    split : bool
        Do not write party 1's key: the two keys differ only in each slab's seed section (whose
        bit 0 of word 0 is the party's output offset), so party 1's is party 0's with those
        replaced by its root seeds (``fss_tree.key1_parts``). ``out[1]`` is then party 1's root
        seeds, u64 (n, 2) (or None).

    Returns
    -------
    (key0, key1) : two flat uint8 arrays of ``key_nbytes(n, nbits)`` bytes; with ``split``
    ``(key0, seed1)``, ``seed1`` u64 (n, 2) party 1's root seeds as its key holds them.

    Cost: ``gen_aes_blocks(nbits) * n`` AES blocks; one numba call on the vector path, else D + 1
    AES calls and kernel calls per chunk.
    """
    t_start = time.perf_counter()
    L = check_nbits(nbits)
    in_numba = aes.available()
    chunk = check_chunk((VECTOR_CHUNK if in_numba else GEN_CHUNK) if chunk is None else chunk)
    alpha, _ = check_points(alpha, L, "alpha")
    n = alpha.size
    seeds = root_seeds(seeds, n)
    flips = None if flip is None else _as_bits(flip, n, "flip")
    key0, key1 = key_buffers(out, key_nbytes(n, L), n, split)
    D, E = tree_levels(L), leaf_bits(L)
    # the whole slabs in one parallel kernel, unless each slab is handed over as it is done
    whole = n - n % fss_tree.SLAB if in_numba and on_slab is None and not split else 0
    with threads_for(n):
        for j0, k, lo, hi in key_slabs(n, L):
            j1 = j0 + k
            sd0, scw0, leaf0, tcw0 = sec0 = key_sections(key0[lo:hi], k, L)
            # split: party 1's correction words are party 0's (the kernels store the same words twice)
            sec1 = (key1[j0:j1],) + sec0[1:] if split else key_sections(key1[lo:hi], k, L)
            sd1, scw1, leaf1, tcw1 = sec1
            sd0[:] = seeds[j0:j1, 0:2]
            sd1[:] = seeds[j0:j1, 2:4]
            sd1[:, 0] = (sd1[:, 0] & NOT1) | (sd0[:, 0] & U1)
            if flips is not None:
                sd1[:, 0] ^= flips[j0:j1]
            if j0 < whole:
                continue
            if in_numba:
                gen_vector(fss_tree.ROUND_KEYS, sd0, sd1, alpha[j0:j1], L, D, E, scw0, tcw0, scw1, tcw1, leaf0, leaf1,
                           TWEAKS, chunk // 8)
            else:
                _gen_scalar(alpha[j0:j1], L, chunk, sec0, sec1, profile)
            if on_slab is not None:
                on_slab(j0, k, lo, hi)
        if whole:
            gen_slabs(fss_tree.ROUND_KEYS, key0, key1, alpha[:whole], L, D, E, TWEAKS, chunk // 8, fss_tree.SLAB,
                      key_nbytes(fss_tree.SLAB, L))
    # run_chunks counts its AES blocks; inside numba they are counted here
    tick(profile, "total_s", t_start, gen_aes_blocks(L) * n if in_numba else 0)
    return key0, key1


def dpf_cmp_eval(party: int, key, x, nbits: int = 64, chunk=None, profile=None) -> np.ndarray:
    """Party ``party``'s XOR share (uint8 0/1, shape of ``x``) of ``[x < alpha] ^ flip``.

    ``key``: that party's flat key from ``dpf_cmp_gen`` for ``x.size`` comparisons at the same
    ``nbits``; ``x``: public uint64 inputs < 2**nbits; ``chunk`` (a multiple of 8, tuning only;
    ``None``: ``VECTOR_CHUNK`` on the vector path, else ``CHUNK``). ``2 D + 1`` AES blocks per
    comparison."""
    t_start = time.perf_counter()
    if isinstance(party, bool) or party not in (0, 1):
        raise ValueError(f"party must be 0 or 1, got {party!r}")
    L = check_nbits(nbits)
    in_numba = aes.available()
    chunk = check_chunk((VECTOR_CHUNK if in_numba else CHUNK) if chunk is None else chunk)
    x, shape = check_points(x, L, "x")
    n = x.size
    key = check_key(key, key_nbytes(n, L), f"{n} comparisons at nbits = {L}")
    out = np.empty(n, dtype=np.uint8)
    D, E = tree_levels(L), leaf_bits(L)
    with threads_for(n):
        whole = n - n % fss_tree.SLAB if in_numba else 0  # the whole slabs in one parallel kernel
        if whole:
            B = key_nbytes(fss_tree.SLAB, L)
            eval_slabs(fss_tree.ROUND_KEYS, key, x[:whole], L, D, E, party, TWEAKS, out[:whole], chunk // 8,
                       fss_tree.SLAB, B)
        for j0, k, lo, hi in key_slabs(n, L):
            if j0 < whole:
                continue
            ks, xs, os_ = key[lo:hi], x[j0: j0 + k], out[j0: j0 + k]
            if in_numba:
                seed, scw, leaf, tcw = key_sections(ks, k, L)
                eval_vector(fss_tree.ROUND_KEYS, seed, xs, L, D, E, party, scw, tcw, leaf, TWEAKS, os_, chunk // 8)
            else:
                _eval_scalar(party, ks, xs, L, chunk, os_, profile)
    tick(profile, "total_s", t_start, eval_aes_blocks(L) * n if in_numba else 0)
    return out.reshape(shape)
