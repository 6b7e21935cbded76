"""DPF key generation (``fibench.kernels.dpf``) eight comparisons at a time in 512-bit vectors
of u64 lanes, with AES in the same loop, written in LLVM IR: numba's auto-vectoriser leaves the
scalar kernels scalar (it cannot prove their dozen arrays apart, and the loop spills to the
stack), and a separate AES pass over a buffer costs a store and a load of every block.

``gen_groups`` computes exactly what the scalar kernels (``dpf._gen_prep``, ``_gen_level``,
``_gen_leaf``, on the OpenSSL path) compute: the same keys byte for byte (tested). It walks
the tree level by level over a run of groups of eight comparisons: per group and level the
two parties' seeds are expanded (8 vector AES of four blocks: left and right child of each
party), the kept and lost children selected by alpha's bit, the shared corrections written to
both keys, and the seeds and control bits kept for the next level in a small state buffer (L1).
Walking all levels of one group before the next would keep the state in registers, but then
the D levels' correction rows of both keys are 2 D concurrent write streams, which measured
2-6x slower at 10^6 comparisons (cache-set conflicts of rows n * 16 B apart, worst for n a
power of two); level by level each row is written as one run of 16 B per comparison.

Measured (10^6 comparisons, nbits 63, both keys, reused key buffers, one core, load 0.6-0.9,
2026-12-03): 0.44-0.53 s for 256 .. 1024 comparisons per run, against 1.45 s for the chunked
scalar levels with AES in numba and 1.83 s with OpenSSL. Without AVX-512 LLVM splits the
vectors (AVX2: halves), and without VAES the AES runs as four AES-NI blocks per vector; the
results do not depend on the target.

The drivers ``gen_vector`` / ``eval_vector`` (numba, cached) live here beside the IR they
inline, because numba's cache checks only the source file of the cached function: a driver in
another file would keep running stale IR after an edit here. (An edit of
``fibench.kernels.aes``'s IR helpers still needs ``__pycache__`` cleared.)
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from fibench.kernels import aes
from fibench.kernels.fss_tree import slab_run, slab_runs
from fibench.kernels.simd import EVEN, I8, LOW, V8, GroupState, Lanes, c64, check_arrays, data, tree_level

#: a group's state between levels: 8 vectors in key generation, 6 in evaluation
GEN_STATE = ("s0a", "s0b", "s1a", "s1b", "t0a", "t0b", "t1a", "t1b")
EVAL_STATE = ("sa", "sb", "ta", "tb", "acca", "accb")
#: u64 words of state per group
GEN_STATE_WORDS = 8 * len(GEN_STATE)
EVAL_STATE_WORDS = 8 * len(EVAL_STATE)


@intrinsic
def gen_groups(typingctx, rk, sd0, sd1, alpha, scw0, scw1, tcw0, tcw1, leaf0, leaf1, tw, state, top, D, E, n, nb,
               g0, g1):
    """Gen for comparisons 8 g0 .. 8 g1 - 1, eight at a time (a group) in vectors: level by
    level over all the groups (so that each level's corrections are written as one run per
    key), a group's seeds and control bits kept in ``state`` (u64, ``GEN_STATE_WORDS`` per
    group: keep g1 - g0 small enough for the L1 cache) between levels.

    Arrays (C-contiguous; their data are indexed as the key format lays them out for ``n``
    comparisons and ``nb`` = ceil(n / 8) bytes per control-bit row; no bounds checks: 8 g1 <=
    n): ``rk`` the AES round keys; ``sd0``, ``sd1`` u64 (n, 2) root seeds; ``alpha`` u64 (n,);
    ``scw0``, ``scw1`` u64 (D, n, 2), ``tcw0``, ``tcw1`` u8 (D, 2, nb), ``leaf0``, ``leaf1`` u64
    (n, 2): the two keys' sections, written; ``tw`` u64 (3, 2) tweaks. ``top``: the bit of
    alpha the first level branches on (nbits - 1); ``D`` levels, then the leaf over the low
    ``E`` bits.

    Layout in vectors: a vector holds four blocks (two words each, low word first) as the key
    stores them, so seeds and corrections load and store without shuffles; a comparison's
    threshold and control bits sit in both words of its block. Cost per group and level: 8
    vector AES (32 blocks), about 40 logic operations, 2 x 2 vector stores of corrections, 4
    byte stores of control bits, 8 + 8 state loads and stores (L1).
    """
    check_arrays(rk=(rk, types.uint64), sd0=(sd0, types.uint64), sd1=(sd1, types.uint64),
                  alpha=(alpha, types.uint64), scw0=(scw0, types.uint64), scw1=(scw1, types.uint64),
                  tcw0=(tcw0, types.uint8), tcw1=(tcw1, types.uint8), leaf0=(leaf0, types.uint64),
                  leaf1=(leaf1, types.uint64), tw=(tw, types.uint64), state=(state, types.uint64))
    ip = types.intp
    sig = types.void(rk, sd0, sd1, alpha, scw0, scw1, tcw0, tcw1, leaf0, leaf1, tw, state, ip, ip, ip, ip, ip, ip, ip)

    def codegen(context, builder, signature, args):
        b = builder
        rks = aes.round_keys_ir(context, b, signature.args[0], args[0])
        sd0p, sd1p, alp, cw0p, cw1p, tc0p, tc1p, lf0p, lf1p, twp, stp = (
            data(context, b, ty, val) for ty, val in zip(signature.args[1:12], args[1:12]))
        top_v, d_v, e_v, n_v, nb, g0_v, g1_v = args[12:]
        v = Lanes(b)
        one, zero = v.const(1), v.const(0)
        tw = [b.load(b.gep(twp, [c64(i)])) for i in range(6)]
        twL, twR, twV = (v.pairs(tw[2 * r], tw[2 * r + 1]) for r in range(3))
        level_words = b.shl(n_v, c64(1))  # words of one level's seed corrections
        count = b.sub(g1_v, g0_v)
        state = GroupState(v, stp, GEN_STATE, g0_v)

        with cgutils.for_range(b, count) as groups:
            _, w, st, _ = state.group(groups.index)
            for h, half in enumerate("ab"):
                wh = b.add(w, c64(8 * h))
                state.store(b.and_(v.load(sd0p, wh), LOW), st, "s0" + half)
                state.store(b.and_(v.load(sd1p, wh), LOW), st, "s1" + half)
                state.store(zero, st, "t0" + half)
                state.store(one, st, "t1" + half)
        with cgutils.for_range(b, d_v) as levels:
            i = levels.index
            pos = v.splat(b.sub(top_v, i))
            row = b.mul(i, b.shl(nb, c64(1)))  # byte of the level's left control-bit row
            with cgutils.for_range(b, count) as groups:
                g, w, st, c8 = state.group(groups.index)
                alphas = v.dup_halves(v.load(alp, c8))
                seeds = [(state.load(st, "s0" + half), state.load(st, "s1" + half)) for half in "ab"]
                xs = [b.xor(s, t) for s0, s1 in seeds for s, t in ((s0, twL), (s0, twR), (s1, twL), (s1, twR))]
                ys = [b.xor(x, y) for x, y in zip(xs, aes.encrypt_vectors_ir(b, rks, xs))]
                bits_l, bits_r = [], []
                for h, half in enumerate("ab"):
                    a = b.and_(b.lshr(alphas[h], pos), one)
                    tp0, tp1 = state.load(st, "t0" + half), state.load(st, "t1" + half)
                    c, bl, br, (s0, t0), (s1, t1) = tree_level(v, *ys[4 * h: 4 * h + 4], a, tp0, tp1)
                    bits_l.append(bl)
                    bits_r.append(br)
                    o = b.add(b.mul(i, level_words), b.add(w, c64(8 * h)))
                    v.store(c, cw0p, o)
                    v.store(c, cw1p, o)
                    for name, x in (("s0", s0), ("t0", t0), ("s1", s1), ("t1", t1)):
                        state.store(x, st, name + half)
                v.store_bits(bits_l, (tc0p, tc1p), b.add(row, g))
                v.store_bits(bits_r, (tc0p, tc1p), b.add(b.add(row, nb), g))
        lowmask = v.splat(b.sub(b.shl(c64(1), e_v), c64(1)))
        word = ir.Constant(V8, [0, 1] * 4)
        with cgutils.for_range(b, count) as groups:
            _, w, st, c8 = state.group(groups.index)
            alphas = v.dup_halves(v.load(alp, c8))
            xs = [b.xor(state.load(st, s + half), twV) for half in "ab" for s in ("s0", "s1")]
            ys = [b.xor(x, y) for x, y in zip(xs, aes.encrypt_vectors_ir(b, rks, xs))]
            for h in range(2):
                p = b.and_(alphas[h], lowmask)  # the leaf position of alpha: a unit vector in 128 bits
                unit = b.select(b.icmp_unsigned("==", b.lshr(p, v.const(6)), word),
                                b.shl(one, b.and_(p, v.const(63))), zero)
                cw = b.xor(b.xor(ys[2 * h], ys[2 * h + 1]), unit)
                wh = b.add(w, c64(8 * h))
                v.store(cw, lf0p, wh)
                v.store(cw, lf1p, wh)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def eval_groups(typingctx, rk, seed, x, scw, tcw, leaf, tw, state, out, party, top, D, E, n, nb, g0, g1):
    """One party's Eval for comparisons 8 g0 .. 8 g1 - 1, eight at a time in vectors, level by
    level over the groups (as ``gen_groups``; a group's seeds, control bits and output bits in
    ``state``, u64, ``EVAL_STATE_WORDS`` per group, between levels).

    Arrays (C-contiguous, indexed as the key format lays them out for ``n`` comparisons and
    ``nb`` bytes per control-bit row; no bounds checks: 8 g1 <= n): ``seed`` u64 (n, 2),
    ``scw`` u64 (D, n, 2), ``tcw`` u8 (D, 2, nb), ``leaf`` u64 (n, 2): the party's key
    sections; ``x`` u64 (n,) the public inputs; ``out`` u8 (n,) the party's output bits,
    written. Cost per group and level: 4 vector AES (16 blocks), about 30 logic operations,
    two vector loads of corrections and two bytes of control bits.
    """
    check_arrays(rk=(rk, types.uint64), seed=(seed, types.uint64), x=(x, types.uint64), scw=(scw, types.uint64),
                  tcw=(tcw, types.uint8), leaf=(leaf, types.uint64), tw=(tw, types.uint64),
                  state=(state, types.uint64), out=(out, types.uint8))
    ip = types.intp
    sig = types.void(rk, seed, x, scw, tcw, leaf, tw, state, out, ip, ip, ip, ip, ip, ip, ip, ip)

    def codegen(context, builder, signature, args):
        b = builder
        rks = aes.round_keys_ir(context, b, signature.args[0], args[0])
        sdp, xp, cwp, tcp, lfp, twp, stp, outp = (
            data(context, b, ty, val) for ty, val in zip(signature.args[1:9], args[1:9]))
        party_v, top_v, d_v, e_v, n_v, nb, g0_v, g1_v = args[9:]
        v = Lanes(b)
        one, zero = v.const(1), v.const(0)
        tw = [b.load(b.gep(twp, [c64(i)])) for i in range(6)]
        twL, twR, twV = (v.pairs(tw[2 * r], tw[2 * r + 1]) for r in range(3))
        level_words = b.shl(n_v, c64(1))
        count = b.sub(g1_v, g0_v)
        state = GroupState(v, stp, EVAL_STATE, g0_v)

        with cgutils.for_range(b, count) as groups:
            _, w, st, _ = state.group(groups.index)
            for h, half in enumerate("ab"):
                s = v.load(sdp, b.add(w, c64(8 * h)))
                state.store(v.dup_low(b.and_(s, one)), st, "acc" + half)  # the output offset
                state.store(b.and_(s, LOW), st, "s" + half)
                state.store(v.splat(party_v), st, "t" + half)
        with cgutils.for_range(b, d_v) as levels:
            i = levels.index
            pos = v.splat(b.sub(top_v, i))
            row = b.mul(i, b.shl(nb, c64(1)))
            with cgutils.for_range(b, count) as groups:
                g, w, st, c8 = state.group(groups.index)
                xs = v.dup_halves(v.load(xp, c8))
                seeds = [state.load(st, "s" + half) for half in "ab"]
                xin = [b.xor(s, t) for s in seeds for t in (twL, twR)]
                ys = [b.xor(p, q) for p, q in zip(xin, aes.encrypt_vectors_ir(b, rks, xin))]
                bytes_ = [b.load(b.gep(tcp, [b.add(b.add(row, off), g)])) for off in (c64(0), nb)]
                for h, half in enumerate("ab"):
                    L, R = ys[2 * h], ys[2 * h + 1]
                    tp = state.load(st, "t" + half)  # control bit, in both words of a block
                    msk = b.sub(zero, tp)
                    c = b.and_(v.load(cwp, b.add(b.mul(i, level_words), b.add(w, c64(8 * h)))), msk)
                    tcl, tcr = (v.bits_of(byte, h) for byte in bytes_)
                    tL = b.xor(v.dup_low(b.and_(L, one)), b.and_(tcl, tp))
                    tR = b.xor(v.dup_low(b.and_(R, one)), b.and_(tcr, tp))
                    L = b.xor(b.and_(L, LOW), c)
                    R = b.xor(b.and_(R, LOW), c)
                    d = b.and_(b.lshr(xs[h], pos), one)  # x's bit: 1 descends right
                    dm = b.sub(zero, d)
                    state.store(b.xor(state.load(st, "acc" + half), b.and_(tR, b.xor(d, one))), st, "acc" + half)
                    state.store(v.pick(L, R, dm), st, "s" + half)
                    state.store(v.pick(tL, tR, dm), st, "t" + half)
        lowmask = v.splat(b.sub(b.shl(c64(1), e_v), c64(1)))
        is_hi = b.icmp_unsigned("==", ir.Constant(V8, [0, 1] * 4), one)
        ones = v.const(0xFFFFFFFFFFFFFFFF)
        ctpop = b.module.globals.get("llvm.ctpop.v8i64") or ir.Function(
            b.module, ir.FunctionType(V8, [V8]), name="llvm.ctpop.v8i64")
        with cgutils.for_range(b, count) as groups:
            g, w, st, c8 = state.group(groups.index)
            xs = v.dup_halves(v.load(xp, c8))
            xin = [b.xor(state.load(st, "s" + half), twV) for half in "ab"]
            ys = [b.xor(p, q) for p, q in zip(xin, aes.encrypt_vectors_ir(b, rks, xin))]
            bits = []
            for h, half in enumerate("ab"):
                msk = b.sub(zero, state.load(st, "t" + half))
                val = b.xor(ys[h], b.and_(v.load(lfp, b.add(w, c64(8 * h))), msk))
                # count the leaf bits at positions >= q + 1 (q = x's low E bits, in [0, 128))
                q1 = b.add(b.and_(xs[h], lowmask), one)
                lo_m = b.select(b.icmp_unsigned("<", q1, v.const(64)), b.shl(ones, q1), zero)
                hs = b.sub(b.select(b.icmp_unsigned("<", q1, v.const(64)), v.const(64), q1), v.const(64))
                hi_m = b.select(b.icmp_unsigned("<", q1, v.const(128)), b.shl(ones, hs), zero)
                val = b.and_(val, b.select(is_hi, hi_m, lo_m))
                val = b.xor(val, v.swap(val))
                par = b.and_(b.call(ctpop, [val]), one)
                bits.append(b.xor(par, state.load(st, "acc" + half)))
            outv = b.trunc(b.shuffle_vector(bits[0], bits[1], EVEN), ir.VectorType(I8, 8))
            b.store(outv, b.bitcast(b.gep(outp, [c8]), ir.VectorType(I8, 8).as_pointer()), align=1)
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True, parallel=True)
def _gen_runs(rk, sd0, sd1, alpha, L, D, E, scw0, tcw0, scw1, tcw1, leaf0, leaf1, tw, groups, n, nb, full):
    """The runs of ``groups`` whole groups (comparisons 0 .. 8 full - 1), over numba's threads
    (runs write disjoint parts of the keys)."""
    nruns = (full + groups - 1) // groups
    for q in prange(nruns):
        g0 = q * groups
        state = np.empty(GEN_STATE_WORDS * groups, np.uint64)
        gen_groups(rk, sd0, sd1, alpha, scw0, scw1, tcw0, tcw1, leaf0, leaf1, tw, state, L - 1, D, E, n, nb, g0,
                   min(g0 + groups, full))


@njit(cache=True, parallel=True)
def _eval_runs(rk, seed, x, L, D, E, party, scw, tcw, leaf, tw, out, groups, n, nb, full):
    """The runs of ``groups`` whole groups, over numba's threads."""
    nruns = (full + groups - 1) // groups
    for q in prange(nruns):
        g0 = q * groups
        state = np.empty(EVAL_STATE_WORDS * groups, np.uint64)
        eval_groups(rk, seed, x, scw, tcw, leaf, tw, state, out, party, L - 1, D, E, n, nb, g0,
                    min(g0 + groups, full))


@njit(cache=True)
def gen_vector(rk, sd0, sd1, alpha, L, D, E, scw0, tcw0, scw1, tcw1, leaf0, leaf1, tw, groups):
    """The whole of Gen in numba on the vector path (``gen_groups``, AES through
    ``fibench.kernels.aes``), over runs of ``groups`` groups of eight comparisons. The last n
    mod 8 comparisons run in padded scratch sections (zero seeds and thresholds beyond n, whose
    results are dropped) and are copied into the keys, their unused control bits cleared."""
    n = alpha.size
    nb = (n + 7) >> 3
    full = n >> 3
    _gen_runs(rk, sd0, sd1, alpha, L, D, E, scw0, tcw0, scw1, tcw1, leaf0, leaf1, tw, groups, n, nb, full)
    state = np.empty(GEN_STATE_WORDS, np.uint64)
    r = n - 8 * full
    if r == 0:
        return
    j0 = 8 * full
    ts0 = np.zeros((8, 2), np.uint64)
    ts1 = np.zeros((8, 2), np.uint64)
    tal = np.zeros(8, np.uint64)
    ts0[:r] = sd0[j0:]
    ts1[:r] = sd1[j0:]
    tal[:r] = alpha[j0:]
    tc0 = np.empty((D, 8, 2), np.uint64)
    tc1 = np.empty((D, 8, 2), np.uint64)
    tt0 = np.empty((D, 2, 1), np.uint8)
    tt1 = np.empty((D, 2, 1), np.uint8)
    tl0 = np.empty((8, 2), np.uint64)
    tl1 = np.empty((8, 2), np.uint64)
    gen_groups(rk, ts0, ts1, tal, tc0, tc1, tt0, tt1, tl0, tl1, tw, state, L - 1, D, E, 8, 1, 0, 1)
    keep = np.uint8((1 << r) - 1)
    for i in range(D):
        scw0[i, j0:] = tc0[i, :r]
        scw1[i, j0:] = tc1[i, :r]
        for side in range(2):
            tcw0[i, side, nb - 1] = tt0[i, side, 0] & keep
            tcw1[i, side, nb - 1] = tt1[i, side, 0] & keep
    leaf0[j0:] = tl0[:r]
    leaf1[j0:] = tl1[:r]


@njit(cache=True)
def slab_words(slab, D):
    """Word offsets of the sections in one slab's key (``slab`` comparisons, ``D`` levels;
    ``dpf.key_sections`` and ``key_nbytes`` read the layout from here):
    seeds [0, a), seed corrections [a, b), leaf corrections [b, words); the control-bit
    corrections are bytes from 8 * words on."""
    a = 2 * slab
    b = a + 2 * D * slab
    return a, b, b + 2 * slab


@njit(cache=True, parallel=True)
def gen_slabs(rk, key0, key1, alpha, L, D, E, tw, groups, slab, slab_bytes):
    """Gen over whole slabs of ``slab`` comparisons (``fss_tree.slabs``; ``alpha.size`` a
    multiple of ``slab``, itself a multiple of 8), the runs of every slab in ONE parallel loop.
    ``key0``, ``key1`` the flat keys of those slabs (``slab_bytes`` each), their seed sections
    already written; the sections as flat views, as in ``eval_slabs``."""
    a, b, words = slab_words(slab, D)
    for q in prange(slab_runs(alpha.size, groups, slab)):
        j0, base, g0, g1 = slab_run(q, groups, slab, slab_bytes)
        w0 = key0[base: base + 8 * words].view(np.uint64)
        w1 = key1[base: base + 8 * words].view(np.uint64)
        t0, t1 = base + 8 * words, base + slab_bytes
        state = np.empty(GEN_STATE_WORDS * groups, np.uint64)
        gen_groups(rk, w0[:a], w1[:a], alpha[j0: j0 + slab], w0[a:b], w1[a:b], key0[t0:t1], key1[t0:t1],
                   w0[b:words], w1[b:words], tw, state, L - 1, D, E, slab, slab >> 3, g0, g1)


@njit(cache=True, parallel=True)
def eval_slabs(rk, key, x, L, D, E, party, tw, out, groups, slab, slab_bytes):
    """Eval over whole slabs of ``slab`` comparisons (``fss_tree.slabs``; ``x.size`` a multiple
    of ``slab``, itself a multiple of 8), the runs of every slab in ONE parallel loop: no call
    and no thread wake-up per slab. ``key`` the flat key of those slabs (``slab_bytes`` each);
    the sections as flat views (the kernel reads their data pointers and strides them by
    ``slab``)."""
    a, b, words = slab_words(slab, D)
    for q in prange(slab_runs(x.size, groups, slab)):
        j0, base, g0, g1 = slab_run(q, groups, slab, slab_bytes)
        w = key[base: base + 8 * words].view(np.uint64)
        state = np.empty(EVAL_STATE_WORDS * groups, np.uint64)
        eval_groups(rk, w[:a], x[j0: j0 + slab], w[a:b], key[base + 8 * words: base + slab_bytes], w[b:words], tw,
                    state, out[j0: j0 + slab], party, L - 1, D, E, slab, slab >> 3, g0, g1)


@njit(cache=True)
def eval_vector(rk, seed, x, L, D, E, party, scw, tcw, leaf, tw, out, groups):
    """The whole of Eval in numba on the vector path (``eval_groups``), over runs of
    ``groups`` groups of eight comparisons; the last n mod 8 in padded scratch sections."""
    n = x.size
    nb = (n + 7) >> 3
    full = n >> 3
    _eval_runs(rk, seed, x, L, D, E, party, scw, tcw, leaf, tw, out, groups, n, nb, full)
    state = np.empty(EVAL_STATE_WORDS, np.uint64)
    r = n - 8 * full
    if r == 0:
        return
    j0 = 8 * full
    ts = np.zeros((8, 2), np.uint64)
    tx = np.zeros(8, np.uint64)
    tc = np.zeros((D, 8, 2), np.uint64)
    tt = np.zeros((D, 2, 1), np.uint8)
    tl = np.zeros((8, 2), np.uint64)
    to = np.empty(8, np.uint8)
    ts[:r] = seed[j0:]
    tx[:r] = x[j0:]
    tl[:r] = leaf[j0:]
    for i in range(D):
        tc[i, :r] = scw[i, j0:]
        tt[i, 0, 0] = tcw[i, 0, nb - 1]
        tt[i, 1, 0] = tcw[i, 1, nb - 1]
    eval_groups(rk, ts, tx, tc, tt, tl, tw, state, to, party, L - 1, D, E, 8, 1, 0, 1)
    out[j0:] = to[:r]
