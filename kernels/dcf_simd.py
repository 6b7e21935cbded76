"""DCF key generation and evaluation (``fibench.kernels.dcf``, one or two payload words) eight
comparisons at a time in 512-bit vectors, AES in the same loop, written in LLVM IR like
``fibench.kernels.dpf_simd`` (see there for the layout of vectors and why the tree is walked
level by level over a run of groups, its state in a small L1 buffer).

The functions are the scalar kernels' (``dcf._gen_prep`` / ``_gen_level``, ``_eval_prep`` /
``_eval_level`` / ``_eval_final``, on the OpenSSL path), byte for byte (tested). Per group of
eight comparisons and level, key generation expands both parties' seeds into the left, right
and value blocks (12 vector AES of four blocks) and evaluation the chosen child and the value
block (4). A comparison's value words sit in its block: the V block's (v_L, v_R) is swapped
where alpha's (or x's) bit is 1, which puts the kept value in the low word and the lost one in
the high word; V_alpha, beta and the control bits are dup (both words).

Measured (10^6 comparisons, one core, reused key buffers, 2026-12-03): see ``dcf.VECTOR_CHUNK``.
Without AVX-512 LLVM splits the vectors, without VAES AES runs as AES-NI; same results.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from fibench.kernels import aes
from fibench.kernels.fss_tree import slab_run, slab_runs
from fibench.kernels.simd import EVEN, LOW, ODD, V8, GroupState, Lanes, c64, check_arrays, data, tree_level

_GEN_STATE = ("s0a", "s0b", "s1a", "s1b", "t0a", "t0b", "t1a", "t1b", "vaa", "vab")  # 10 vectors a group
_EVAL_STATE = ("sa", "sb", "ta", "tb", "acca", "accb")
#: u64 words of state per group
GEN_STATE_WORDS = 8 * len(_GEN_STATE)
EVAL_STATE_WORDS = 8 * len(_EVAL_STATE)


@intrinsic
def gen_groups(typingctx, rk, sd0, sd1, alpha, beta, gamma, scw0, scw1, vcw0, vcw1, cwl0, cwl1, tcw0, tcw1, tw,
               state, top, L, n, nb, g0, g1, use_gamma):
    """Gen (BCG+21 Fig. 3, m = 1) for comparisons 8 g0 .. 8 g1 - 1, level by level over the
    groups, a group's seeds, control bits and V_alpha in ``state`` (u64, ``GEN_STATE_WORDS`` per
    group) between levels.

    Arrays (C-contiguous; indexed as the key format lays them out for ``n`` comparisons and
    ``nb`` bytes per control-bit row; no bounds checks: 8 g1 <= n): ``sd0``, ``sd1`` u64 (n, 2)
    root seeds (bit 0 clear); ``alpha``, ``beta`` u64 (n,); ``gamma`` u64 (n,), read only if
    ``use_gamma``; the keys' sections ``scw*`` u64 (L, n, 2), ``vcw*`` u64 (L, n), ``cwl*`` u64
    (n,), ``tcw*`` u8 (L, 2, nb), written; ``tw`` the (3, 2) tweaks T_L, T_R, T_V. ``top`` =
    L - 1, the bit of alpha the first level branches on.
    """
    check_arrays(rk=(rk, types.uint64), sd0=(sd0, types.uint64), sd1=(sd1, types.uint64),
                 alpha=(alpha, types.uint64), beta=(beta, types.uint64), gamma=(gamma, types.uint64),
                 scw0=(scw0, types.uint64), scw1=(scw1, types.uint64), vcw0=(vcw0, types.uint64),
                 vcw1=(vcw1, types.uint64), cwl0=(cwl0, types.uint64), cwl1=(cwl1, types.uint64),
                 tcw0=(tcw0, types.uint8), tcw1=(tcw1, types.uint8), tw=(tw, types.uint64),
                 state=(state, types.uint64))
    m = 2 if beta.ndim == 2 else 1
    ip = types.intp
    sig = types.void(rk, sd0, sd1, alpha, beta, gamma, scw0, scw1, vcw0, vcw1, cwl0, cwl1, tcw0, tcw1, tw, state,
                     ip, ip, ip, ip, ip, ip, types.boolean)

    def codegen(context, builder, signature, args):
        b = builder
        rks = aes.round_keys_ir(context, b, signature.args[0], args[0])
        (sd0p, sd1p, alp, bep, gap, cw0p, cw1p, vc0p, vc1p, fl0p, fl1p, tc0p, tc1p, twp, stp) = (
            data(context, b, ty, val) for ty, val in zip(signature.args[1:16], args[1:16]))
        top_v, l_v, n_v, nb, g0_v, g1_v, gam_v = args[16:]
        v = Lanes(b)
        one, zero = v.const(1), v.const(0)
        tw = [b.load(b.gep(twp, [c64(i)])) for i in range(2 * (2 + m))]
        tws = [v.pairs(tw[2 * r], tw[2 * r + 1]) for r in range(2 + m)]  # T_L, T_R, T_V | T_VL, T_VR
        count = b.sub(g1_v, g0_v)
        gsub = [cgutils.alloca_once(b, V8, name=f"gsub{h}") for h in range(2)]
        state = GroupState(v, stp, _GEN_STATE, g0_v)

        with cgutils.for_range(b, count) as groups:
            _, w, st, _ = state.group(groups.index)
            for h, half in enumerate("ab"):
                wh = b.add(w, c64(8 * h))
                state.store(v.load(sd0p, wh), st, "s0" + half)
                state.store(v.load(sd1p, wh), st, "s1" + half)
                state.store(zero, st, "t0" + half)
                state.store(one, st, "t1" + half)
                state.store(zero, st, "va" + half)
        with cgutils.for_range(b, l_v) as levels:
            i = levels.index
            pos = v.splat(b.sub(top_v, i))
            row = b.mul(i, b.shl(nb, c64(1)))
            first_gamma = b.and_(gam_v, b.icmp_signed("==", i, c64(0)))
            with cgutils.for_range(b, count) as groups:
                g, w, st, c8 = state.group(groups.index)
                alphas = v.dup_halves(v.load(alp, c8))
                # beta: dup (m = 1) or both words of a block (m = 2)
                betas = v.dup_halves(v.load(bep, c8)) if m == 1 else [v.load(bep, b.add(w, c64(8 * h))) for h in range(2)]
                seeds = [(state.load(st, "s0" + half), state.load(st, "s1" + half)) for half in "ab"]
                xs = [b.xor(s, t) for s0, s1 in seeds for s in (s0, s1) for t in tws]
                ys = [b.xor(x, y) for x, y in zip(xs, aes.encrypt_vectors_ir(b, rks, xs))]
                bits_l, bits_r, vals = [], [], []
                per = 2 * (2 + m)  # AES vectors per half
                for h, half in enumerate("ab"):
                    blocks = ys[per * h: per * (h + 1)]
                    a = b.and_(b.lshr(alphas[h], pos), one)
                    am = b.sub(zero, a)  # all ones where alpha goes right (keep right, lose left)
                    if m == 1:  # (kept value, lost value) in the words of the one V block
                        vk0 = vx0 = v.pick(blocks[2], v.swap(blocks[2]), am)
                        vk1 = vx1 = v.pick(blocks[5], v.swap(blocks[5]), am)
                    else:  # the kept child's value block and the lost one's, both words
                        vk0, vx0 = v.keep_lose(blocks[2], blocks[3], am)
                        vk1, vx1 = v.keep_lose(blocks[6], blocks[7], am)
                    va = state.load(st, "va" + half)
                    tp0, tp1 = state.load(st, "t0" + half), state.load(st, "t1" + half)
                    m1 = b.sub(zero, tp1)
                    # u = v1_lose - v0_lose - V_alpha + beta [lose = left]: m = 1 in the high words
                    u = b.add(b.sub(b.sub(vx1, vx0), va), b.and_(betas[h], am))
                    vals.append(b.sub(b.xor(u, m1), m1))  # (-1)^t1 * u
                    # V_alpha <- V_alpha - v1_keep + v0_keep + u: m = 1 in the low words (then dup)
                    va_new = b.add(b.sub(va, vk1), vk0)
                    state.store(v.dup_low(b.add(va_new, v.swap(u))) if m == 1 else b.add(va_new, u), st, "va" + half)
                    sl0, sr0, sl1, sr1 = blocks[0], blocks[1], blocks[2 + m], blocks[3 + m]
                    c, bl, br, (s0, t0), (s1, t1) = tree_level(v, sl0, sr0, sl1, sr1, a, tp0, tp1)
                    bits_l.append(bl)
                    bits_r.append(br)
                    o = b.add(b.mul(i, b.shl(n_v, c64(1))), b.add(w, c64(8 * h)))
                    v.store(c, cw0p, o)
                    v.store(c, cw1p, o)
                    for name, x in (("s0", s0), ("t0", t0), ("s1", s1), ("t1", t1)):
                        state.store(x, st, name + half)
                # the value correction words, minus gamma on the first level
                if m == 1:
                    outs = [(b.shuffle_vector(vals[0], vals[1], ODD), c8, b.add(b.mul(i, n_v), c8))]
                else:
                    outs = [(vals[h], b.add(w, c64(8 * h)), b.add(b.mul(i, b.shl(n_v, c64(1))), b.add(w, c64(8 * h))))
                            for h in range(2)]
                for q, (vv, go, vo) in enumerate(outs):
                    b.store(zero, gsub[q])
                    with b.if_then(first_gamma):
                        b.store(v.load(gap, go), gsub[q])
                    vv = b.sub(vv, b.load(gsub[q]))
                    v.store(vv, vc0p, vo)
                    v.store(vv, vc1p, vo)
                v.store_bits(bits_l, (tc0p, tc1p), b.add(row, g))
                v.store_bits(bits_r, (tc0p, tc1p), b.add(b.add(row, nb), g))
        # CW^(L+1) = (-1)^t1 * (Convert(s1) - Convert(s0) - V_alpha), Convert(s) = the high word
        # (m = 1; in the high words), (high word, low word) (m = 2)
        with cgutils.for_range(b, count) as groups:
            _, w, st, c8 = state.group(groups.index)
            fs = []
            for half in "ab":
                diff = b.sub(state.load(st, "s1" + half), state.load(st, "s0" + half))
                f = b.sub(diff if m == 1 else v.swap(diff), state.load(st, "va" + half))
                mt = b.sub(zero, state.load(st, "t1" + half))
                fs.append(b.sub(b.xor(f, mt), mt))
            if m == 1:
                f8 = b.shuffle_vector(fs[0], fs[1], ODD)
                v.store(f8, fl0p, c8)
                v.store(f8, fl1p, c8)
            else:
                for h in range(2):
                    v.store(fs[h], fl0p, b.add(w, c64(8 * h)))
                    v.store(fs[h], fl1p, b.add(w, c64(8 * h)))
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def eval_groups(typingctx, rk, seed, x, scw, vcw, tcw, cwl, tw, state, out, party, top, L, n, nb, g0, g1):
    """One party's Eval (m = 1) for comparisons 8 g0 .. 8 g1 - 1, level by level over the
    groups (state: ``EVAL_STATE_WORDS`` per group). Arrays as the key format lays them out for
    ``n`` comparisons: ``seed`` u64 (n, 2), ``scw`` (L, n, 2), ``vcw`` (L, n), ``tcw`` u8 (L,
    2, nb), ``cwl`` (n,); ``x`` u64 (n,) public inputs; ``out`` u64 (n,) the party's shares,
    written. No bounds checks: 8 g1 <= n."""
    check_arrays(rk=(rk, types.uint64), seed=(seed, types.uint64), x=(x, types.uint64), scw=(scw, types.uint64),
                 vcw=(vcw, types.uint64), tcw=(tcw, types.uint8), cwl=(cwl, types.uint64), tw=(tw, types.uint64),
                 state=(state, types.uint64), out=(out, types.uint64))
    m = 2 if out.ndim == 2 else 1
    ip = types.intp
    sig = types.void(rk, seed, x, scw, vcw, tcw, cwl, tw, state, out, ip, ip, ip, ip, ip, ip, ip)

    def codegen(context, builder, signature, args):
        b = builder
        rks = aes.round_keys_ir(context, b, signature.args[0], args[0])
        sdp, xp, cwp, vcp, tcp, flp, twp, stp, outp = (
            data(context, b, ty, val) for ty, val in zip(signature.args[1:10], args[1:10]))
        party_v, top_v, l_v, n_v, nb, g0_v, g1_v = args[10:]
        v = Lanes(b)
        one, zero = v.const(1), v.const(0)
        tw = [b.load(b.gep(twp, [c64(i)])) for i in range(2 * (2 + m))]
        tws = [v.pairs(tw[2 * r], tw[2 * r + 1]) for r in range(2 + m)]  # T_L, T_R, T_V | T_VL, T_VR
        count = b.sub(g1_v, g0_v)
        state = GroupState(v, stp, _EVAL_STATE, g0_v)

        with cgutils.for_range(b, count) as groups:
            _, w, st, _ = state.group(groups.index)
            for h, half in enumerate("ab"):
                state.store(v.load(sdp, b.add(w, c64(8 * h))), st, "s" + half)
                state.store(v.splat(party_v), st, "t" + half)
                state.store(zero, st, "acc" + half)
        with cgutils.for_range(b, l_v) as levels:
            i = levels.index
            pos = v.splat(b.sub(top_v, i))
            row = b.mul(i, b.shl(nb, c64(1)))
            with cgutils.for_range(b, count) as groups:
                g, w, st, c8 = state.group(groups.index)
                xs = v.dup_halves(v.load(xp, c8))
                if m == 1:
                    vcws = v.dup_halves(v.load(vcp, b.add(b.mul(i, n_v), c8)))
                else:
                    vcws = [v.load(vcp, b.add(b.mul(i, b.shl(n_v, c64(1))), b.add(w, c64(8 * h)))) for h in range(2)]
                dms = [b.sub(zero, b.and_(b.lshr(xh, pos), one)) for xh in xs]  # all ones: x descends right
                # the chosen child's seed block and its value block (the value tweak follows x's bit for m = 2)
                xin = [b.xor(s, t) for s, dm in zip((state.load(st, "s" + half) for half in "ab"), dms)
                       for t in (v.pick(tws[0], tws[1], dm), tws[2] if m == 1 else v.pick(tws[2], tws[3], dm))]
                ys = [b.xor(p, q) for p, q in zip(xin, aes.encrypt_vectors_ir(b, rks, xin))]
                bytes_ = [b.load(b.gep(tcp, [b.add(b.add(row, off), g)])) for off in (c64(0), nb)]
                for h, half in enumerate("ab"):
                    C, Vb = ys[2 * h], ys[2 * h + 1]
                    dm = dms[h]
                    # the chosen value: m = 1 the V block's word by x's bit (into the low word)
                    val = v.pick(Vb, v.swap(Vb), dm) if m == 1 else Vb
                    tp = state.load(st, "t" + half)
                    msk = b.sub(zero, tp)
                    C = b.xor(C, b.and_(v.load(cwp, b.add(b.mul(i, b.shl(n_v, c64(1))), b.add(w, c64(8 * h)))), msk))
                    tbit = v.pick(*(v.bits_of(byte, h) for byte in bytes_), dm)
                    state.store(b.xor(v.dup_low(b.and_(C, one)), b.and_(tbit, tp)), st, "t" + half)
                    state.store(b.and_(C, LOW), st, "s" + half)
                    state.store(b.add(state.load(st, "acc" + half), b.add(val, b.and_(vcws[h], msk))), st, "acc" + half)
        neg = b.icmp_signed("!=", party_v, c64(0))
        with cgutils.for_range(b, count) as groups:
            _, w, st, c8 = state.group(groups.index)
            cwls = v.dup_halves(v.load(flp, c8)) if m == 1 else [v.load(flp, b.add(w, c64(8 * h))) for h in range(2)]
            res = []
            for h, half in enumerate("ab"):
                msk = b.sub(zero, state.load(st, "t" + half))
                r = b.add(b.add(state.load(st, "acc" + half), v.swap(state.load(st, "s" + half))),
                          b.and_(cwls[h], msk))
                res.append(b.select(neg, b.sub(zero, r), r))
            if m == 1:
                v.store(b.shuffle_vector(res[0], res[1], EVEN), outp, c8)
            else:
                for h in range(2):
                    v.store(res[h], outp, b.add(w, c64(8 * h)))
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True, parallel=True)
def _gen_runs(rk, sd0, sd1, alpha, beta, gamma, use_gamma, L, scw0, vcw0, cwl0, tcw0, scw1, vcw1, cwl1, tcw1, tw,
              groups, n, nb, full):
    """The runs of ``groups`` whole groups (comparisons 0 .. 8 full - 1), over numba's threads
    (runs write disjoint parts of the keys)."""
    nruns = (full + groups - 1) // groups
    for q in prange(nruns):
        g0 = q * groups
        state = np.empty(GEN_STATE_WORDS * groups, np.uint64)
        gen_groups(rk, sd0, sd1, alpha, beta, gamma, scw0, scw1, vcw0, vcw1, cwl0, cwl1, tcw0, tcw1, tw, state,
                   L - 1, L, n, nb, g0, min(g0 + groups, full), use_gamma)


@njit(cache=True)
def gen_vector(rk, sd0, sd1, alpha, beta, gamma, use_gamma, L, scw0, vcw0, cwl0, tcw0, scw1, vcw1, cwl1, tcw1, tw,
               groups):
    """The whole of Gen in numba on the vector path, over runs of ``groups`` groups of eight
    comparisons; the last n mod 8 comparisons in padded scratch sections (zero seeds,
    thresholds and payloads beyond n, whose results are dropped), copied into the keys with
    their unused control bits cleared. ``beta`` (n,) for one payload word, (n, 2) for two (then
    the two-word key sections and ``TWEAKS2``); ``gamma`` like beta, read only if ``use_gamma``."""
    n = alpha.size
    nb = (n + 7) >> 3
    full = n >> 3
    _gen_runs(rk, sd0, sd1, alpha, beta, gamma, use_gamma, L, scw0, vcw0, cwl0, tcw0, scw1, vcw1, cwl1, tcw1, tw,
              groups, n, nb, full)
    state = np.empty(GEN_STATE_WORDS, np.uint64)
    r = n - 8 * full
    if r == 0:
        return
    j0 = 8 * full
    ts0 = np.zeros((8, 2), np.uint64)
    ts1 = np.zeros((8, 2), np.uint64)
    tal = np.zeros(8, np.uint64)
    tbe = np.zeros((8,) + beta.shape[1:], np.uint64)
    tga = np.zeros((8,) + beta.shape[1:], np.uint64)
    ts0[:r] = sd0[j0:]
    ts1[:r] = sd1[j0:]
    tal[:r] = alpha[j0:]
    tbe[:r] = beta[j0:]
    if use_gamma:
        tga[:r] = gamma[j0:]
    tsc0 = np.empty((L, 8, 2), np.uint64)
    tsc1 = np.empty((L, 8, 2), np.uint64)
    tvc0 = np.empty((L, 8) + beta.shape[1:], np.uint64)
    tvc1 = np.empty((L, 8) + beta.shape[1:], np.uint64)
    tfl0 = np.empty((8,) + beta.shape[1:], np.uint64)
    tfl1 = np.empty((8,) + beta.shape[1:], np.uint64)
    ttc0 = np.empty((L, 2, 1), np.uint8)
    ttc1 = np.empty((L, 2, 1), np.uint8)
    gen_groups(rk, ts0, ts1, tal, tbe, tga, tsc0, tsc1, tvc0, tvc1, tfl0, tfl1, ttc0, ttc1, tw, state,
               L - 1, L, 8, 1, 0, 1, use_gamma)
    keep = np.uint8((1 << r) - 1)
    for i in range(L):
        scw0[i, j0:] = tsc0[i, :r]
        scw1[i, j0:] = tsc1[i, :r]
        vcw0[i, j0:] = tvc0[i, :r]
        vcw1[i, j0:] = tvc1[i, :r]
        for side in range(2):
            tcw0[i, side, nb - 1] = ttc0[i, side, 0] & keep
            tcw1[i, side, nb - 1] = ttc1[i, side, 0] & keep
    cwl0[j0:] = tfl0[:r]
    cwl1[j0:] = tfl1[:r]


@njit(cache=True, parallel=True)
def _eval_runs(rk, seed, x, L, party, scw, vcw, tcw, cwl, tw, out, groups, n, nb, full):
    """The runs of ``groups`` whole groups, over numba's threads."""
    nruns = (full + groups - 1) // groups
    for q in prange(nruns):
        g0 = q * groups
        state = np.empty(EVAL_STATE_WORDS * groups, np.uint64)
        eval_groups(rk, seed, x, scw, vcw, tcw, cwl, tw, state, out, party, L - 1, L, n, nb, g0,
                    min(g0 + groups, full))


@njit(cache=True)
def slab_words(slab, L, m):
    """Word offsets of the sections in one slab's key (``slab`` comparisons, ``L`` levels,
    ``m`` payload words; ``dcf.key_sections`` and ``key_nbytes`` read the layout from here): seeds [0, a), seed corrections [a, b), value corrections [b, c), the
    last correction [c, words); the control-bit corrections are bytes from 8 * words on."""
    a = 2 * slab
    b = a + 2 * L * slab
    c = b + m * L * slab
    return a, b, c, c + m * slab


@njit(cache=True, parallel=True)
def gen_slabs(rk, key0, key1, alpha, beta, gamma, use_gamma, L, tw, groups, slab, slab_bytes):
    """Gen over whole slabs of ``slab`` comparisons (``fss_tree.slabs``; ``alpha.size`` a
    multiple of ``slab``, itself a multiple of 8), the runs of every slab in ONE parallel loop.
    ``key0``, ``key1`` the flat keys of those slabs (``slab_bytes`` each), their seed sections
    already written (bit 0 clear); the sections as flat views, as in ``eval_slabs``."""
    a, b, c, words = slab_words(slab, L, 1 if beta.ndim == 1 else 2)
    for q in prange(slab_runs(alpha.size, groups, slab)):
        j0, base, g0, g1 = slab_run(q, groups, slab, slab_bytes)
        w0 = key0[base: base + 8 * words].view(np.uint64)
        w1 = key1[base: base + 8 * words].view(np.uint64)
        t0, t1 = base + 8 * words, base + slab_bytes
        state = np.empty(GEN_STATE_WORDS * groups, np.uint64)
        gen_groups(rk, w0[:a], w1[:a], alpha[j0: j0 + slab], beta[j0: j0 + slab], gamma[j0: j0 + slab],
                   w0[a:b], w1[a:b], w0[b:c], w1[b:c], w0[c:words], w1[c:words], key0[t0:t1], key1[t0:t1], tw,
                   state, L - 1, L, slab, slab >> 3, g0, g1, use_gamma)


@njit(cache=True, parallel=True)
def eval_slabs(rk, key, x, L, party, tw, out, groups, slab, slab_bytes):
    """Eval over whole slabs of ``slab`` comparisons (``fss_tree.slabs``; ``x.size`` a multiple
    of ``slab``, itself a multiple of 8), the runs of every slab in ONE parallel loop: no call
    and no thread wake-up per slab. ``key`` the flat key of those slabs (``slab_bytes`` each);
    ``out`` (n,) or (n, 2) as in ``eval_vector``; the sections as flat views (the kernel reads
    their data pointers and strides them by ``slab``)."""
    a, b, c, words = slab_words(slab, L, 1 if out.ndim == 1 else 2)
    for q in prange(slab_runs(x.size, groups, slab)):
        j0, base, g0, g1 = slab_run(q, groups, slab, slab_bytes)
        w = key[base: base + 8 * words].view(np.uint64)
        state = np.empty(EVAL_STATE_WORDS * groups, np.uint64)
        eval_groups(rk, w[:a], x[j0: j0 + slab], w[a:b], w[b:c], key[base + 8 * words: base + slab_bytes], w[c:words],
                    tw, state, out[j0: j0 + slab], party, L - 1, L, slab, slab >> 3, g0, g1)


@njit(cache=True)
def eval_vector(rk, seed, x, L, party, scw, vcw, tcw, cwl, tw, out, groups):
    """The whole of Eval in numba on the vector path, over runs of ``groups`` groups of eight
    comparisons (``out`` (n,) for one payload word, (n, 2) for two); the last n mod 8 in padded
    scratch sections."""
    n = x.size
    nb = (n + 7) >> 3
    full = n >> 3
    _eval_runs(rk, seed, x, L, party, scw, vcw, tcw, cwl, tw, out, groups, n, nb, full)
    state = np.empty(EVAL_STATE_WORDS, np.uint64)
    r = n - 8 * full
    if r == 0:
        return
    j0 = 8 * full
    ts = np.zeros((8, 2), np.uint64)
    tx = np.zeros(8, np.uint64)
    tsc = np.zeros((L, 8, 2), np.uint64)
    tvc = np.zeros((L, 8) + out.shape[1:], np.uint64)
    ttc = np.zeros((L, 2, 1), np.uint8)
    tfl = np.zeros((8,) + out.shape[1:], np.uint64)
    to = np.empty((8,) + out.shape[1:], np.uint64)
    ts[:r] = seed[j0:]
    tx[:r] = x[j0:]
    tfl[:r] = cwl[j0:]
    for i in range(L):
        tsc[i, :r] = scw[i, j0:]
        tvc[i, :r] = vcw[i, j0:]
        ttc[i, 0, 0] = tcw[i, 0, nb - 1]
        ttc[i, 1, 0] = tcw[i, 1, nb - 1]
    eval_groups(rk, ts, tx, tsc, tvc, ttc, tfl, tw, state, to, party, L - 1, L, 8, 1, 0, 1)
    out[j0:] = to[:r]
