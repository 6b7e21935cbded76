"""Distributed comparison function (DCF) of Boyle, Chandran, Gilboa, Gupta, Ishai, Kumar and
Rathee (EUROCRYPT 2021, "Function Secret Sharing for Mixed-Mode and Fixed-Point Secure
Computation", Fig. 3), batched over n independent comparisons, two parties.

A DCF key pair for (alpha, beta) on ``nbits``-bit inputs (``alpha, x in [0, 2**nbits)``) gives
party b a key k_b such that ``Eval(0, k_0, x) + Eval(1, k_1, x) = beta * [x < alpha]`` in
Z_2^64 (plus an optional constant ``gamma``, see below), and each key alone is pseudorandom.

PRG. G expands a seed s (128 bits, bit 0 of the low word cleared) into two child seeds, two
control bits and two 64-bit value words. It is fixed-key AES-128 used as a Matyas-Meyer-Oseas
hash with three public tweaks: ``G_j(s) = AES_K(s ^ T_j) ^ s ^ T_j`` for j in {L, R, V}; the
control bit of a child is bit 0 of its block (then cleared); the V block holds
``v_L`` (low word) and ``v_R`` (high word). K and the T_j are fixed public constants (derived
from SHA-256 of their names). Where the CPU has AES-NI for numba, key generation and
evaluation run in the vector kernels of ``fibench.kernels.dcf_simd`` (eight comparisons per
512-bit vector, AES in the same loop); else AES runs through OpenSSL (``cryptography``) in ECB
mode, one call per tree level over a whole chunk of seeds, and the scalar numba kernels below
do all the rest (control bits, correction words, value accumulation) and lay out the next
level's AES input. Both give the same keys and outputs byte for byte.
Convert(s) (the final seed to Z_2^64) is the high word of s.

Cost per comparison and party: key generation runs 3 AES blocks per party per level (dealer:
6 * nbits); evaluation runs 2 (the chosen child and the V block): ``2 * nbits`` blocks. With a
two-word payload (m = 2, below) generation runs 4 per party per level (dealer: 8 * nbits) and
evaluation still 2 (``2 * nbits``).

Offset. ``gamma`` (optional) is added to the output sum for every x: it is subtracted from the
first-level value correction word, which only party 1 applies at the root (its control bit is
1 there) and which stays pseudorandom to either party alone. This folds an additive constant
known to the dealer into the key at no cost.

Key format (one flat uint8 array per party). A key for n comparisons is the keys of its slabs
of ``fss_tree.SLAB`` comparisons (the last one shorter) one after another (``key_slabs``); the
key of one slab of n comparisons (L = nbits levels, nb = ceil(n/8), m payload words) has these
sections in this order:

=========  ===============================  ==========================================
section    dtype, shape (m = 1 | m = 2)     content
=========  ===============================  ==========================================
seed       u64 (n, 2)                       the party's root seed (the only part
                                            that differs between the two keys)
scw        u64 (L, n, 2)                    seed correction word per level
vcw        u64 (L, n)    | (L, n, 2)        value correction word(s) per level
cw_last    u64 (n,)      | (n, 2)           final correction word(s)
tcw        u8 (L, 2, nb)                    control-bit corrections (left, right),
                                            bit-packed little
=========  ===============================  ==========================================

so a key has ``8 n (2 + 2 L + m L + m) + 2 L ceil(n/8)`` bytes: ``24 n (L + 1) + 2 L ceil(n/8)``
for m = 1 (1551.75 B per comparison at L = 63, 775.75 B at L = 31) and
``32 n (L + 1) + 2 L ceil(n/8)`` for m = 2 (2063.75 B at L = 63, 1031.75 B at L = 31).

Two-word payload (m = 2, ``beta`` and ``gamma`` of shape (n, 2)): every word is a DCF on the
same tree (same seeds, control bits and seed corrections; the value correction algebra of
Fig. 3 runs per word). Each child gets its own value block, ``G_VL`` and ``G_VR`` (tweaks T_VL,
T_VR), whose low and high words are that child's payload words 0 and 1; the value tweak follows
the input bit like the seed tweak, so evaluation still runs 2 AES blocks per level (the chosen
child's seed block and its value block) and generation 8 per comparison and level (L, R, VL,
VR for each party). ``vcw`` becomes u64 (L, n, 2) and ``cw_last`` u64 (n, 2); Convert(s) =
(high word, low word) of s (bit 0 of word 1 is always 0, which does not affect correctness).
With m = 1 (``beta`` of shape (n,) or a scalar) nothing changes: same PRG, same keys byte for
byte, same kernels.
"""
from __future__ import annotations

import hashlib
import time

import numpy as np
from numba import njit

from fibench.kernels import aes, fss_tree
from fibench.kernels.dcf_simd import eval_slabs, eval_vector, gen_slabs, gen_vector, slab_words
from fibench.kernels.fss_tree import (check_chunk, check_key, check_nbits, check_points, check_slab, key_buffers, root_seeds,
                                      run_chunks, tick)
from fibench.kernels.threads import threads_for

U0 = np.uint64(0)
U1 = np.uint64(1)
NOT1 = np.uint64(0xFFFFFFFFFFFFFFFE)


#: public fixed AES-128 key of the MMO hash (``fss_tree.MMO_KEY``, shared with the DPF keys)
MMO_KEY = fss_tree.MMO_KEY


def _tweak(name: bytes) -> np.ndarray:
    return np.frombuffer(hashlib.sha256(b"fibench/dcf/tweak/" + name).digest()[:16], dtype=np.uint64).copy()


#: tweaks T_L, T_R, T_V as a (3, 2) uint64 array (rows: left child, right child, value block)
TWEAKS = np.stack([_tweak(b"L"), _tweak(b"R"), _tweak(b"V")])
TWEAKS.setflags(write=False)
#: two-word payloads (m = 2): T_L, T_R, then one value block per child, T_VL and T_VR
TWEAKS2 = np.stack([_tweak(b"L"), _tweak(b"R"), _tweak(b"VL"), _tweak(b"VR")])
TWEAKS2.setflags(write=False)
#: payload words per comparison supported
PAYLOAD_WORDS = (1, 2)

#: default number of comparisons evaluated together (AES buffers stay in the L2 cache)
CHUNK = 4096
#: default number of comparisons per chunk of key generation: 4x fewer AES calls and kernel
#: dispatches than CHUNK (AES buffers of 1.5 MiB, in the L3 cache); 10^6 at nbits = 63 with
#: reused buffers 2.33 vs 2.42 cpu-s (medians of 5 interleaved, load 3.4-5.5)
GEN_CHUNK = 16384
#: comparisons per run on the vector path (``fibench.kernels.dcf_simd``, one payload word, AES
#: inside numba), walked level by level with its state (80 B per comparison for key generation,
#: 48 B for evaluation) in the L1 cache. 10^6 at nbits = 63, reused buffers, medians of 3
#: (2026-12-03, load 0.4-0.6), key generation / one party's evaluation: 128: 1.05 / 0.28 s,
#: 256: 0.89 / 0.26, 512: 0.82 / 0.22, 1024: 0.97 / 0.32 s (nbits = 31: 0.49 / 0.14 s at 512)
VECTOR_CHUNK = 512
#: AES blocks per comparison per level: evaluation (one party) and key generation (dealer)
EVAL_BLOCKS_PER_LEVEL = 2
GEN_BLOCKS_PER_LEVEL = 6


def _key_words(n: int, nbits: int, m: int) -> int:
    return int(slab_words(n, nbits, m)[3])  # the layout's one definition (dcf_simd.slab_words)


def key_nbytes(n: int, nbits: int, m: int = 1) -> int:
    """Bytes of one party's key for ``n`` comparisons on ``nbits``-bit inputs, ``m`` payload
    words (the sum over its slabs, which the formula gives exactly: ``fss_tree.SLAB`` is a
    multiple of 8)."""
    return 8 * _key_words(n, nbits, m) + 2 * nbits * ((n + 7) // 8)


def key_slabs(n: int, nbits: int, m: int = 1):
    """``(j0, k, lo, hi)`` per slab of a key for ``n`` comparisons (``fss_tree.slabs``)."""
    return fss_tree.slabs(n, lambda k: key_nbytes(k, nbits, m))


def key_sections(key: np.ndarray, n: int, nbits: int, m: int = 1):
    """Views ``(seed, scw, vcw, cw_last, tcw)`` into the flat key of one slab of ``n <=
    fss_tree.SLAB`` comparisons (see the module docstring); with ``m = 2`` ``vcw`` is (L, n, 2)
    and ``cw_last`` (n, 2)."""
    check_slab(n)
    L = nbits
    a, b, c, nw = slab_words(n, L, m)
    w = key[: 8 * nw].view(np.uint64)
    seed = w[:a].reshape(n, 2)
    scw = w[a:b].reshape(L, n, 2)
    vcw = w[b:c].reshape((L, n) if m == 1 else (L, n, m))
    cw_last = w[c:nw].reshape((n,) if m == 1 else (n, m))
    tcw = key[8 * nw:].reshape(L, 2, (n + 7) // 8)
    return seed, scw, vcw, cw_last, tcw


# ---------------------------------------------------------------------------------------------
# numba kernels (no AES inside: the caller runs AES-ECB on ``inb`` into ``outb`` between calls)
#
# key generation kernels, one payload word (m = 1). AES input ``inb`` of a chunk of k
# comparisons, interleaved: comparison j's six blocks (party 0 L, R, V, party 1 L, R, V) at
# words 12 j .. 12 j + 11, so that a level reads and writes one contiguous stream. State per
# comparison: the parties' control bits t0, t1 (u64 0/1) and V_alpha; the seeds live only in
# ``inb`` (the last level turns them into the final correction word directly).
# ---------------------------------------------------------------------------------------------
@njit(cache=True)
def _gen_prep(sd0, sd1, j0, k, tw, inb):
    """First AES input of a chunk from the root seeds ``sd0``, ``sd1`` (u64 (n, 2), bit 0 of
    word 0 already clear) of comparisons j0 .. j0+k-1."""
    for j in range(k):
        g = j0 + j
        for b in range(2):
            lo = sd0[g, 0] if b == 0 else sd1[g, 0]
            hi = sd0[g, 1] if b == 0 else sd1[g, 1]
            o = 12 * j + 6 * b
            inb[o] = lo ^ tw[0, 0]
            inb[o + 1] = hi ^ tw[0, 1]
            inb[o + 2] = lo ^ tw[1, 0]
            inb[o + 3] = hi ^ tw[1, 1]
            inb[o + 4] = lo ^ tw[2, 0]
            inb[o + 5] = hi ^ tw[2, 1]


@njit(cache=True)
def _gen_level(inb, outb, alpha, beta, gamma, j0, k, pos, t0, t1, valpha,
               scw0, scw1, vcw0, vcw1, tcw0, tcw1, cwl0, cwl1, tw, first, last):
    """One tree level of Gen (BCG+21 Fig. 3, step 5) for comparisons j0 .. j0+k-1 (j0 a
    multiple of 8).

    ``scw*`` (n, 2), ``vcw*`` (n,), ``tcw*`` (2, nb) are the level's rows of both keys, written
    from registers (the keys share every correction word); ``first``: the level's value
    correction takes the offset ``gamma`` (u64 (n,) or an empty array for none; V_alpha keeps
    the uncorrected word); ``last``: no next level: write the final correction words ``cwl*``
    (CW^(n+1) = (-1)^t1 * (Convert(s1) - Convert(s0) - V_alpha), Convert(s) = high word)
    instead of the next AES input. Branch-free: the bits of alpha and the control bits are
    random, so every choice is a mask select. Arrays are sliced to the chunk first.
    """
    al = alpha[j0: j0 + k]
    be = beta[j0: j0 + k]
    cw0 = scw0[j0: j0 + k].reshape(2 * k)
    cw1 = scw1[j0: j0 + k].reshape(2 * k)
    vw0 = vcw0[j0: j0 + k]
    vw1 = vcw1[j0: j0 + k]
    b0 = j0 >> 3
    nbk = (k + 7) >> 3
    rl0 = tcw0[0, b0: b0 + nbk]
    rr0 = tcw0[1, b0: b0 + nbk]
    rl1 = tcw1[0, b0: b0 + nbk]
    rr1 = tcw1[1, b0: b0 + nbk]
    use_gamma = first and gamma.size > 0
    ga = gamma[j0: j0 + k] if use_gamma else gamma
    fl0 = cwl0[j0: j0 + k]
    fl1 = cwl1[j0: j0 + k]
    tl0 = tw[0, 0]
    th0 = tw[0, 1]
    tl1 = tw[1, 0]
    th1 = tw[1, 1]
    tl2 = tw[2, 0]
    th2 = tw[2, 1]
    bl = U0
    br = U0
    for j in range(k):
        o = 12 * j
        # G(s_b) for both parties: children seeds, control bits, value words
        sL0 = outb[o] ^ inb[o]
        hL0 = outb[o + 1] ^ inb[o + 1]
        sR0 = outb[o + 2] ^ inb[o + 2]
        hR0 = outb[o + 3] ^ inb[o + 3]
        vL0 = outb[o + 4] ^ inb[o + 4]
        vR0 = outb[o + 5] ^ inb[o + 5]
        sL1 = outb[o + 6] ^ inb[o + 6]
        hL1 = outb[o + 7] ^ inb[o + 7]
        sR1 = outb[o + 8] ^ inb[o + 8]
        hR1 = outb[o + 9] ^ inb[o + 9]
        vL1 = outb[o + 10] ^ inb[o + 10]
        vR1 = outb[o + 11] ^ inb[o + 11]
        a = (al[j] >> pos) & U1
        am = U0 - a  # all ones: keep right, lose left (x < alpha on the lost branch)
        # kept (k*) and lost (l*) children of both parties; bit 0 of the kept seed: its control bit
        d = (sL0 ^ sR0) & am
        kl0 = sL0 ^ d
        ll0 = sR0 ^ d
        d = (hL0 ^ hR0) & am
        kh0 = hL0 ^ d
        lh0 = hR0 ^ d
        d = (sL1 ^ sR1) & am
        kl1 = sL1 ^ d
        ll1 = sR1 ^ d
        d = (hL1 ^ hR1) & am
        kh1 = hL1 ^ d
        lh1 = hR1 ^ d
        d = (vL0 ^ vR0) & am
        vk0 = vL0 ^ d
        vl0 = vR0 ^ d
        d = (vL1 ^ vR1) & am
        vk1 = vL1 ^ d
        vl1 = vR1 ^ d
        cl = (ll0 ^ ll1) & NOT1
        ch = lh0 ^ lh1
        tp0 = t0[j]
        tp1 = t1[j]
        m0 = U0 - tp0
        m1 = U0 - tp1
        va = valpha[j]
        u = vl1 - vl0 - va + (be[j] & am)
        v = (u ^ m1) - m1  # (-1)^t1 * u
        # V_alpha <- V_alpha - v1_keep + v0_keep + (-1)^t1 * V_CW  (= u)
        va = va - vk1 + vk0 + u
        valpha[j] = va
        sh = np.uint64(j & 7)
        bl |= ((sL0 ^ sL1 ^ a ^ U1) & U1) << sh
        br |= ((sR0 ^ sR1 ^ a) & U1) << sh
        # written out in each kernel: an inline helper that returns the cleared registers
        # measured 2-3x slower key generation (2026-12-02)
        if (j & 7) == 7 or j == k - 1:
            q = j >> 3
            rl0[q] = np.uint8(bl)
            rr0[q] = np.uint8(br)
            rl1[q] = np.uint8(bl)
            rr1[q] = np.uint8(br)
            bl = U0
            br = U0
        tck = (kl0 ^ kl1 ^ U1) & U1  # the kept side's control-bit correction
        if use_gamma:
            vg = v - ga[j]
            vw0[j] = vg
            vw1[j] = vg
        else:
            vw0[j] = v
            vw1[j] = v
        cw0[2 * j] = cl
        cw0[2 * j + 1] = ch
        cw1[2 * j] = cl
        cw1[2 * j + 1] = ch
        # next seeds (bit 0 still the kept control bit: cl's bit 0 is clear) and control bits
        n0l = kl0 ^ (cl & m0)
        n0h = kh0 ^ (ch & m0)
        n1l = kl1 ^ (cl & m1)
        n1h = kh1 ^ (ch & m1)
        nt0 = (n0l ^ (tck & tp0)) & U1
        nt1 = (n1l ^ (tck & tp1)) & U1
        t0[j] = nt0
        t1[j] = nt1
        if last:
            mt = U0 - nt1
            f = n1h - n0h - va
            f = (f ^ mt) - mt
            fl0[j] = f
            fl1[j] = f
        else:
            n0l &= NOT1
            n1l &= NOT1
            inb[o] = n0l ^ tl0
            inb[o + 1] = n0h ^ th0
            inb[o + 2] = n0l ^ tl1
            inb[o + 3] = n0h ^ th1
            inb[o + 4] = n0l ^ tl2
            inb[o + 5] = n0h ^ th2
            inb[o + 6] = n1l ^ tl0
            inb[o + 7] = n1h ^ th0
            inb[o + 8] = n1l ^ tl1
            inb[o + 9] = n1h ^ th1
            inb[o + 10] = n1l ^ tl2
            inb[o + 11] = n1h ^ th2


@njit(cache=True)
def _eval_prep(x, j0, m, L, st, tw, inb):
    # st: (4, chunk) state rows: seed low word, seed high word, accumulator, control bit
    # inb: the m chosen-child blocks (words 0 .. 2m-1), then the m V blocks (2m .. 4m-1)
    pos = np.uint64(L - 1)
    for j in range(m):
        d = (x[j0 + j] >> pos) & U1
        lo = st[0, j]
        hi = st[1, j]
        inb[2 * j] = lo ^ tw[d, 0]
        inb[2 * j + 1] = hi ^ tw[d, 1]
        inb[2 * m + 2 * j] = lo ^ tw[2, 0]
        inb[2 * m + 2 * j + 1] = hi ^ tw[2, 1]


@njit(cache=True)
def _eval_level(inb, outb, x, kw, kt, st, tw, j0, m, n, L, i):
    """Level ``i`` of Eval (BCG+21 Fig. 3) for comparisons j0 .. j0+m-1.

    ``kw``: the key's uint64 words, ``kt``: its bit-packed control-bit corrections (flat);
    j0 is a multiple of 8. Branch-free on the input bits; state in rows (structure of arrays).
    """
    pos = np.uint64(L - 1 - i)
    has_next = i + 1 < L
    npos = np.uint64(L - 2 - i) if has_next else U0
    nb = (n + 7) // 8
    o = 2 * n + 2 * i * n + 2 * j0
    scw = kw[o: o + 2 * m]
    o = 2 * n + 2 * L * n + i * n + j0
    vcw = kw[o: o + m]
    o = 2 * i * nb + (j0 >> 3)
    tl = kt[o: o + (m + 7) // 8]
    o += nb
    tr = kt[o: o + (m + 7) // 8]
    xs = x[j0: j0 + m]
    ci = inb[: 2 * m]
    co = outb[: 2 * m]
    vi = inb[2 * m: 4 * m]
    vo = outb[2 * m: 4 * m]
    slo = st[0]
    shi = st[1]
    acc = st[2]
    tt = st[3]
    tw0 = tw[0, 0]
    tw1 = tw[0, 1]
    dw0 = tw[0, 0] ^ tw[1, 0]
    dw1 = tw[0, 1] ^ tw[1, 1]
    tv0 = tw[2, 0]
    tv1 = tw[2, 1]
    for j in range(m):
        xg = xs[j]
        dm = U0 - ((xg >> pos) & U1)  # all ones if the input bit is 1 (go right)
        lo = co[2 * j] ^ ci[2 * j]
        hi = co[2 * j + 1] ^ ci[2 * j + 1]
        vl = vo[2 * j] ^ vi[2 * j]
        vr = vo[2 * j + 1] ^ vi[2 * j + 1]
        v = vl ^ ((vl ^ vr) & dm)
        tp = tt[j]
        msk = U0 - tp
        lo ^= scw[2 * j] & msk
        hi ^= scw[2 * j + 1] & msk
        bl = np.uint64(tl[j >> 3])
        byte = bl ^ ((bl ^ np.uint64(tr[j >> 3])) & dm)
        tbit = (byte >> np.uint64(j & 7)) & U1
        tt[j] = (lo & U1) ^ (tbit & tp)
        lo &= NOT1
        acc[j] += v + (vcw[j] & msk)
        slo[j] = lo
        shi[j] = hi
        if has_next:
            e = U0 - ((xg >> npos) & U1)
            ci[2 * j] = lo ^ tw0 ^ (dw0 & e)
            ci[2 * j + 1] = hi ^ tw1 ^ (dw1 & e)
            vi[2 * j] = lo ^ tv0
            vi[2 * j + 1] = hi ^ tv1


@njit(cache=True)
def _eval_final(st, cw_last, j0, m, party, out):
    for j in range(m):
        msk = U0 - st[3, j]
        v = st[2, j] + st[1, j] + (cw_last[j0 + j] & msk)
        out[j0 + j] = v if party == 0 else U0 - v


# -- two-word payload (m = 2): one value block per child -------------------------------------
@njit(cache=True)
def _gen_prep2(sd0, sd1, j0, k, tw, inb):
    # inb: 16 words per comparison: party 0 (L, R, VL, VR blocks) then party 1; the root seeds
    # (bit 0 of word 0 already clear) are read from the keys
    for j in range(k):
        g = j0 + j
        for b in range(2):
            lo = sd0[g, 0] if b == 0 else sd1[g, 0]
            hi = sd0[g, 1] if b == 0 else sd1[g, 1]
            o = 16 * j + 8 * b
            for q in range(4):
                inb[o + 2 * q] = lo ^ tw[q, 0]
                inb[o + 2 * q + 1] = hi ^ tw[q, 1]


@njit(cache=True)
def _gen_level2(inb, outb, alpha, beta, gamma, j0, m, pos, t0, t1, valpha,
                scw0, scw1, vcw0, vcw1, tcw0, tcw1, cwl0, cwl1, tw, first, last):
    """``_gen_level`` for two payload words: vcw*/valpha are (n, 2)/(chunk, 2), beta (n, 2),
    gamma (n, 2) or empty, cwl* (n, 2).

    Block layout per comparison (16 words): party b at 8b: left seed, right seed, left
    value block, right value block (2 words each). ``first``: vcw takes the offset gamma;
    ``last``: write the final correction words (Convert(s) = (high word, low word) of the
    final seed) instead of the next AES input."""
    use_gamma = first and gamma.shape[0] > 0
    b0 = j0 >> 3
    nbk = (m + 7) >> 3
    rl0 = tcw0[0, b0: b0 + nbk]
    rr0 = tcw0[1, b0: b0 + nbk]
    rl1 = tcw1[0, b0: b0 + nbk]
    rr1 = tcw1[1, b0: b0 + nbk]
    bl = U0
    br = U0
    for j in range(m):
        g = j0 + j
        k = 16 * j
        a = (alpha[g] >> pos) & U1
        am = U0 - a
        kc = 2 * np.int64(a)  # word offset of the kept child (0 left, 2 right)
        lc = 2 - kc  # and of the lost one
        # kept / lost child seeds and control bits of both parties
        k0l = outb[k + kc] ^ inb[k + kc]
        k0h = outb[k + kc + 1] ^ inb[k + kc + 1]
        l0l = outb[k + lc] ^ inb[k + lc]
        l0h = outb[k + lc + 1] ^ inb[k + lc + 1]
        k1l = outb[k + 8 + kc] ^ inb[k + 8 + kc]
        k1h = outb[k + 8 + kc + 1] ^ inb[k + 8 + kc + 1]
        l1l = outb[k + 8 + lc] ^ inb[k + 8 + lc]
        l1h = outb[k + 8 + lc + 1] ^ inb[k + 8 + lc + 1]
        tk0 = k0l & U1
        tk1 = k1l & U1
        xk = tk0 ^ tk1
        xl = (l0l ^ l1l) & U1
        k0l &= NOT1
        k1l &= NOT1
        cl = (l0l ^ l1l) & NOT1
        ch = l0h ^ l1h
        tp0 = t0[j]
        tp1 = t1[j]
        m0 = U0 - tp0
        m1 = U0 - tp1
        for w in range(2):
            vk0 = outb[k + 4 + kc + w] ^ inb[k + 4 + kc + w]
            vl0 = outb[k + 4 + lc + w] ^ inb[k + 4 + lc + w]
            vk1 = outb[k + 12 + kc + w] ^ inb[k + 12 + kc + w]
            vl1 = outb[k + 12 + lc + w] ^ inb[k + 12 + lc + w]
            va = valpha[j, w]
            u = vl1 - vl0 - va + (beta[g, w] & am)  # + beta where lose = L (x < alpha there)
            v = (u ^ m1) - m1  # (-1)^t1 * u
            valpha[j, w] = va - vk1 + vk0 + u
            if use_gamma:
                v -= gamma[g, w]
            vcw0[g, w] = v
            vcw1[g, w] = v
        # control-bit corrections: left and right (tL0 ^ tL1 ^ a ^ 1, tR0 ^ tR1 ^ a)
        xL = xk ^ ((xk ^ xl) & am)
        sh = np.uint64(j & 7)
        bl |= (xL ^ a ^ U1) << sh
        br |= (xL ^ xk ^ xl ^ a) << sh
        # written out in each kernel: an inline helper that returns the cleared registers
        # measured 2-3x slower key generation (2026-12-02)
        if (j & 7) == 7 or j == m - 1:
            q = j >> 3
            rl0[q] = np.uint8(bl)
            rr0[q] = np.uint8(br)
            rl1[q] = np.uint8(bl)
            rr1[q] = np.uint8(br)
            bl = U0
            br = U0
        tck = xk ^ U1  # the kept side's correction
        scw0[g, 0] = cl
        scw0[g, 1] = ch
        scw1[g, 0] = cl
        scw1[g, 1] = ch
        n0l = k0l ^ (cl & m0)
        n0h = k0h ^ (ch & m0)
        n1l = k1l ^ (cl & m1)
        n1h = k1h ^ (ch & m1)
        nt1 = tk1 ^ (tck & tp1)
        t0[j] = tk0 ^ (tck & tp0)
        t1[j] = nt1
        if last:
            mt = U0 - nt1
            for w in range(2):
                v = (n1h - n0h if w == 0 else n1l - n0l) - valpha[j, w]
                v = (v ^ mt) - mt
                cwl0[g, w] = v
                cwl1[g, w] = v
        else:
            for q in range(4):
                inb[k + 2 * q] = n0l ^ tw[q, 0]
                inb[k + 2 * q + 1] = n0h ^ tw[q, 1]
                inb[k + 8 + 2 * q] = n1l ^ tw[q, 0]
                inb[k + 8 + 2 * q + 1] = n1h ^ tw[q, 1]


@njit(cache=True)
def _eval_prep2(x, j0, m, L, st, tw, inb):
    # st: (5, chunk) rows: seed low, seed high, accumulator word 0, word 1, control bit
    # inb: the m chosen-child seed blocks (words 0 .. 2m-1), then their value blocks (2m .. 4m-1)
    pos = np.uint64(L - 1)
    for j in range(m):
        d = np.int64((x[j0 + j] >> pos) & U1)
        inb[2 * j] = st[0, j] ^ tw[d, 0]
        inb[2 * j + 1] = st[1, j] ^ tw[d, 1]
        inb[2 * m + 2 * j] = st[0, j] ^ tw[2 + d, 0]
        inb[2 * m + 2 * j + 1] = st[1, j] ^ tw[2 + d, 1]


@njit(cache=True)
def _eval_level2(inb, outb, x, kw, kt, st, tw, j0, m, n, L, i):
    """Level ``i`` of Eval for two payload words (``_eval_level`` with a value block per child).

    ``kw``: the key's uint64 words (vcw rows are (n, 2)), ``kt``: its bit-packed control-bit
    corrections (flat); j0 is a multiple of 8. State rows: seed low, seed high, accumulator
    word 0, word 1, control bit."""
    pos = np.uint64(L - 1 - i)
    has_next = i + 1 < L
    npos = np.uint64(L - 2 - i) if has_next else U0
    nb = (n + 7) // 8
    o = 2 * n + 2 * i * n + 2 * j0
    scw = kw[o: o + 2 * m]
    o = 2 * n + 2 * L * n + 2 * i * n + 2 * j0
    vcw = kw[o: o + 2 * m]
    o = 2 * i * nb + (j0 >> 3)
    tl = kt[o: o + (m + 7) // 8]
    o += nb
    tr = kt[o: o + (m + 7) // 8]
    xs = x[j0: j0 + m]
    ci = inb[: 2 * m]
    co = outb[: 2 * m]
    vi = inb[2 * m: 4 * m]
    vo = outb[2 * m: 4 * m]
    slo = st[0]
    shi = st[1]
    acc0 = st[2]
    acc1 = st[3]
    tt = st[4]
    tw0 = tw[0, 0]
    tw1 = tw[0, 1]
    dw0 = tw[0, 0] ^ tw[1, 0]
    dw1 = tw[0, 1] ^ tw[1, 1]
    tv0 = tw[2, 0]
    tv1 = tw[2, 1]
    dv0 = tw[2, 0] ^ tw[3, 0]
    dv1 = tw[2, 1] ^ tw[3, 1]
    for j in range(m):
        xg = xs[j]
        dm = U0 - ((xg >> pos) & U1)  # all ones if the input bit is 1 (go right)
        lo = co[2 * j] ^ ci[2 * j]
        hi = co[2 * j + 1] ^ ci[2 * j + 1]
        v0 = vo[2 * j] ^ vi[2 * j]
        v1 = vo[2 * j + 1] ^ vi[2 * j + 1]
        tp = tt[j]
        msk = U0 - tp
        lo ^= scw[2 * j] & msk
        hi ^= scw[2 * j + 1] & msk
        bl = np.uint64(tl[j >> 3])
        byte = bl ^ ((bl ^ np.uint64(tr[j >> 3])) & dm)
        tbit = (byte >> np.uint64(j & 7)) & U1
        tt[j] = (lo & U1) ^ (tbit & tp)
        lo &= NOT1
        acc0[j] += v0 + (vcw[2 * j] & msk)
        acc1[j] += v1 + (vcw[2 * j + 1] & msk)
        slo[j] = lo
        shi[j] = hi
        if has_next:
            e = U0 - ((xg >> npos) & U1)
            ci[2 * j] = lo ^ tw0 ^ (dw0 & e)
            ci[2 * j + 1] = hi ^ tw1 ^ (dw1 & e)
            vi[2 * j] = lo ^ tv0 ^ (dv0 & e)
            vi[2 * j + 1] = hi ^ tv1 ^ (dv1 & e)


@njit(cache=True)
def _eval_final2(st, cw_last, j0, m, party, out):
    for j in range(m):
        msk = U0 - st[4, j]
        for w in range(2):
            v = st[2 + w, j] + st[1 - w, j] + (cw_last[j0 + j, w] & msk)
            out[j0 + j, w] = v if party == 0 else U0 - v


# ---------------------------------------------------------------------------------------------
# public drivers (validation in Python, AES through ``fss_tree.run_chunks``, the rest in the kernels above)
# ---------------------------------------------------------------------------------------------
def _as_u64_vector(a, n, name) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype != np.uint64:
        raise ValueError(f"{name} must be a uint64 array, got dtype {a.dtype}")
    if a.ndim == 0:
        return np.full(n, a, dtype=np.uint64)
    a = np.ascontiguousarray(a).reshape(-1)
    if a.size != n:
        raise ValueError(f"{name} must have {n} elements (one per comparison), got {a.size}")
    return a


def _as_u64_pairs(a, n, name) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype != np.uint64 or a.shape != (n, 2):
        raise ValueError(f"{name} must be a uint64 array of shape ({n}, 2) for a two-word payload, "
                         f"got {a.dtype} {a.shape}")
    return np.ascontiguousarray(a)


def _gen_scalar(alpha, beta, gamma, L, m, chunk, sections0, sections1, profile):
    """Gen on the scalar path: AES through OpenSSL over a chunk per level
    (``fss_tree.run_chunks``), the numba kernels above; ``sections*``: the keys' (seed, scw,
    vcw, cw_last, tcw), the seeds already written."""
    sd0, scw0, vcw0, cwl0, tcw0 = sections0
    sd1, scw1, vcw1, cwl1, tcw1 = sections1
    c = min(chunk, alpha.size)
    pos = [np.uint64(L - 1 - i) for i in range(L)]
    # per comparison of a chunk: the parties' control bits and V_alpha (the seeds live in the AES input)
    t0 = np.empty(c, dtype=np.uint64)
    t1 = np.empty(c, dtype=np.uint64)
    valpha = np.empty(c if m == 1 else (c, m), dtype=np.uint64)
    gam = np.empty((0,) if m == 1 else (0, m), dtype=np.uint64) if gamma is None else gamma
    # AES input words per comparison and level (both parties): L, R, V (m = 1) or L, R, VL, VR
    prep, level, tw, words = (_gen_prep, _gen_level, TWEAKS, 12) if m == 1 else (_gen_prep2, _gen_level2, TWEAKS2, 16)

    def start(j0, k, inb):
        t0[:k] = 0
        t1[:k] = 1
        valpha[:k] = 0
        prep(sd0, sd1, j0, k, tw, inb)

    def step(i, j0, k, inb, outb):
        level(inb, outb, alpha, beta, gam, j0, k, pos[i], t0, t1, valpha, scw0[i], scw1[i],
              vcw0[i], vcw1[i], tcw0[i], tcw1[i], cwl0, cwl1, tw, i == 0, i == L - 1)

    run_chunks(alpha.size, chunk, [words] * L, start, step, profile=profile)


def _eval_scalar(party, key, x, L, m, chunk, out, profile):
    """One party's Eval on the scalar path (OpenSSL AES over a chunk per level, the numba
    kernels above)."""
    n = x.size
    seed, _, _, cwl, _ = key_sections(key, n, L, m)
    nw = 8 * _key_words(n, L, m)
    kw = key[:nw].view(np.uint64)
    kt = key[nw:]
    tw = TWEAKS if m == 1 else TWEAKS2
    prep, level, final = (_eval_prep, _eval_level, _eval_final) if m == 1 else (_eval_prep2, _eval_level2, _eval_final2)
    c = min(chunk, n)
    st = np.empty((3 + m, c), dtype=np.uint64)  # seed low, seed high, m accumulators, control bit

    def start(j0, k, inb):
        st[0:2, :k] = seed[j0: j0 + k].T
        st[2: 2 + m, :k] = 0
        st[2 + m, :k] = party
        prep(x, j0, k, L, st, tw, inb)

    def step(i, j0, k, inb, outb):
        level(inb, outb, x, kw, kt, st, tw, j0, k, n, L, i)

    def finish(j0, k, inb, outb):
        final(st, cwl, j0, k, party, out)

    # the chosen child's seed block and its value block per comparison and level
    run_chunks(n, chunk, [4] * L, start, step, finish, profile)


def dcf_gen(alpha, beta, nbits: int = 64, seeds=None, gamma=None, chunk=None, out=None, profile=None,
            on_slab=None, split: bool = False):
    """DCF keys for ``f(x) = beta * [x < alpha] (+ gamma)`` on ``nbits``-bit inputs, n at once.

    Parameters
    ----------
    alpha : (n,) uint64, each < 2**nbits
        Secret thresholds.
    beta : (n,) uint64 or uint64 scalar, or (n, 2) uint64
        Output value where x < alpha (Z_2^64); a (n, 2) array gives a two-word payload (m = 2:
        each word is its own DCF on the same tree, see ``dcf_eval(..., m=2)``).
    nbits : int in [1, 64]
        Input bit length (tree depth).
    seeds : (n, 4) uint64 or None
        Root seeds of party 0 (columns 0, 1) and party 1 (columns 2, 3) — uniform randomness
        from the caller (a dealer's CSPRNG); ``None`` draws them from the OS CSPRNG.
    gamma : (n,) uint64, scalar or None; (n, 2) with a two-word beta
        Constant added to the output sum for every x.
    chunk : int, multiple of 8
        Comparisons processed together (tuning only; the keys do not depend on it).
    out : (key0, key1) or None
        Two writable, C-contiguous, 8-byte aligned uint8 arrays of ``key_nbytes(n, nbits, m)``
        to write into (reused buffers avoid the first-touch page faults of fresh memory).
    profile : dict or None
        If given, ``aes_blocks`` and ``total_s`` are accumulated into it, and ``aes_s`` on the
        OpenSSL path (the vector path runs AES inside its loop and does not time it apart).
    on_slab : callable or None
        Called as ``on_slab(j0, k, lo, hi)`` after each slab (``key_slabs``): bytes ``lo .. hi
        - 1`` of both keys are final (a dealer sends them while the next slab is generated).
    split : bool
        Do not write party 1's key: the two keys differ only in each slab's seed section, so
        party 1's is party 0's with those replaced by its root seeds (``fss_tree.key1_parts``).
        A dealer that sends party 1's key to another process sends it from there and saves the
        second copy of the correction words. ``out[1]`` is then party 1's root seeds, u64 (n, 2)
        (or None).

    Returns
    -------
    (key0, key1) : two flat uint8 arrays of ``key_nbytes(n, nbits, m)`` bytes; with ``split``
    ``(key0, seed1)``, ``seed1`` u64 (n, 2) party 1's root seeds as its key holds them.

    Cost: ``GEN_BLOCKS_PER_LEVEL * nbits * n`` AES blocks (8 per level with m = 2), nbits AES
    calls and kernel calls per chunk.
    """
    t_start = time.perf_counter()
    L = check_nbits(nbits)
    alpha, _ = check_points(alpha, L, "alpha")
    n = alpha.size
    m = 2 if np.ndim(beta) == 2 else 1
    in_vector = aes.available()
    chunk = check_chunk((VECTOR_CHUNK if in_vector else GEN_CHUNK) if chunk is None else chunk)
    if m == 2:
        beta = _as_u64_pairs(beta, n, "beta")
    else:
        beta = _as_u64_vector(beta, n, "beta")
    if gamma is not None:
        gamma = _as_u64_vector(gamma, n, "gamma") if m == 1 else _as_u64_pairs(gamma, n, "gamma")
    seeds = root_seeds(seeds, n)  # a dealer passes words from its own CSPRNG stream
    key0, key1 = key_buffers(out, key_nbytes(n, L, m), n, split)
    tw = TWEAKS if m == 1 else TWEAKS2
    # the whole slabs in one parallel kernel, unless each slab is handed over as it is done
    whole = n - n % fss_tree.SLAB if in_vector and on_slab is None and not split else 0
    with threads_for(n):
        for j0, k, lo, hi in key_slabs(n, L, m):
            j1 = j0 + k
            sec0 = key_sections(key0[lo:hi], k, L, m)
            # split: party 1's correction words are party 0's (the kernels store the same words twice)
            sec1 = (key1[j0:j1],) + sec0[1:] if split else key_sections(key1[lo:hi], k, L, m)
            sec0[0][:] = seeds[j0:j1, 0:2]
            sec1[0][:] = seeds[j0:j1, 2:4]
            sec0[0][:, 0] &= NOT1
            sec1[0][:, 0] &= NOT1
            if j0 < whole:
                continue
            al, be = alpha[j0:j1], beta[j0:j1]
            ga = None if gamma is None else gamma[j0:j1]
            if in_vector:
                sd0, scw0, vcw0, cwl0, tcw0 = sec0
                sd1, scw1, vcw1, cwl1, tcw1 = sec1
                gen_vector(fss_tree.ROUND_KEYS, sd0, sd1, al, be, be if ga is None else ga, ga is not None, L,
                           scw0, vcw0, cwl0, tcw0, scw1, vcw1, cwl1, tcw1, tw, chunk // 8)
            else:
                _gen_scalar(al, be, ga, L, m, chunk, sec0, sec1, profile)
            if on_slab is not None:
                on_slab(j0, k, lo, hi)
        if whole:
            gen_slabs(fss_tree.ROUND_KEYS, key0, key1, alpha[:whole], beta[:whole],
                      (beta if gamma is None else gamma)[:whole], gamma is not None, L, tw, chunk // 8, fss_tree.SLAB,
                      key_nbytes(fss_tree.SLAB, L, m))
    tick(profile, "total_s", t_start, (2 + m) * 2 * L * n if in_vector else 0)
    return key0, key1


def dcf_eval(party: int, key, x, nbits: int = 64, chunk=None, profile=None, m: int = 1) -> np.ndarray:
    """Party ``party``'s output share (uint64, shape of ``x``; ``x.shape + (2,)`` for ``m = 2``)
    of the DCF at public inputs ``x``.

    ``key`` is that party's flat key from ``dcf_gen`` (bytes or uint8 array) for ``x.size``
    comparisons with the same ``nbits`` and ``m`` payload words; ``x`` holds uint64 values
    < 2**nbits. Two AES blocks per comparison and level for either ``m``.
    """
    t_start = time.perf_counter()
    if party not in (0, 1):
        raise ValueError(f"party must be 0 or 1, got {party!r}")
    L = check_nbits(nbits)
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m not in PAYLOAD_WORDS:
        raise ValueError(f"m (payload words) must be one of {PAYLOAD_WORDS}, got {m!r}")
    in_vector = aes.available()
    chunk = check_chunk((VECTOR_CHUNK if in_vector else CHUNK) if chunk is None else chunk)
    x, shape = check_points(x, L, "x")
    n = x.size
    key = check_key(key, key_nbytes(n, L, m), f"{n} comparisons at nbits = {L}, m = {m}")
    out = np.empty((n,) if m == 1 else (n, m), dtype=np.uint64)
    out_shape = shape if m == 1 else shape + (m,)
    tw = TWEAKS if m == 1 else TWEAKS2
    with threads_for(n):
        whole = n - n % fss_tree.SLAB if in_vector else 0  # the whole slabs in one parallel kernel
        if whole:
            B = key_nbytes(fss_tree.SLAB, L, m)
            eval_slabs(fss_tree.ROUND_KEYS, key, x[:whole], L, party, tw, out[:whole], chunk // 8, fss_tree.SLAB, B)
        for j0, k, lo, hi in key_slabs(n, L, m):
            if j0 < whole:
                continue
            ks, xs, os_ = key[lo:hi], x[j0: j0 + k], out[j0: j0 + k]
            if in_vector:
                seed, scw, vcw, cwl, tcw = key_sections(ks, k, L, m)
                eval_vector(fss_tree.ROUND_KEYS, seed, xs, L, party, scw, vcw, tcw, cwl, tw, os_, chunk // 8)
            else:
                _eval_scalar(party, ks, xs, L, m, chunk, os_, profile)
    tick(profile, "total_s", t_start, EVAL_BLOCKS_PER_LEVEL * L * n if in_vector else 0)
    return out.reshape(out_shape)
