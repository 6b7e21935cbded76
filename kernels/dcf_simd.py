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
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from fibench.kernels import aes
from fibench.kernels.simd import EVEN, I64, ODD, V8, Lanes, c64, check_arrays, data

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
        low = ir.Constant(V8, [0xFFFFFFFFFFFFFFFE, 0xFFFFFFFFFFFFFFFF] * 4)  # clears bit 0 of low words
        tw = [b.load(b.gep(twp, [c64(i)])) for i in range(2 * (2 + m))]
        tws = [v.pairs(tw[2 * r], tw[2 * r + 1]) for r in range(2 + m)]  # T_L, T_R, T_V | T_VL, T_VR
        count = b.sub(g1_v, g0_v)
        gsub = [cgutils.alloca_once(b, V8, name=f"gsub{h}") for h in range(2)]

        def group(index):
            g = b.add(index, g0_v)
            c8 = b.shl(g, c64(3))
            return g, b.shl(g, c64(4)), b.mul(index, c64(GEN_STATE_WORDS)), c8

        def slot(st, name):
            return b.add(st, c64(8 * _GEN_STATE.index(name)))

        with cgutils.for_range(b, count) as groups:
            _, w, st, _ = group(groups.index)
            for h, half in enumerate("ab"):
                wh = b.add(w, c64(8 * h))
                v.store(v.load(sd0p, wh), stp, slot(st, "s0" + half))
                v.store(v.load(sd1p, wh), stp, slot(st, "s1" + half))
                v.store(zero, stp, slot(st, "t0" + half))
                v.store(one, stp, slot(st, "t1" + half))
                v.store(zero, stp, slot(st, "va" + half))
        with cgutils.for_range(b, l_v) as levels:
            i = levels.index
            pos = v.splat(b.sub(top_v, i))
            row = b.mul(i, b.shl(nb, c64(1)))
            first_gamma = b.and_(gam_v, b.icmp_signed("==", i, c64(0)))
            with cgutils.for_range(b, count) as groups:
                g, w, st, c8 = group(groups.index)
                alphas = v.dup_halves(v.load(alp, c8))
                # beta: dup (m = 1) or both words of a block (m = 2)
                betas = v.dup_halves(v.load(bep, c8)) if m == 1 else [v.load(bep, b.add(w, c64(8 * h))) for h in range(2)]
                seeds = [(v.load(stp, slot(st, "s0" + half)), v.load(stp, slot(st, "s1" + half))) for half in "ab"]
                xs = [b.xor(s, t) for s0, s1 in seeds for s in (s0, s1) for t in tws]
                ys = [b.xor(x, y) for x, y in zip(xs, aes.encrypt_vectors_ir(b, rks, xs))]
                bits_l, bits_r, vals = [], [], []
                per = 2 * (2 + m)  # AES vectors per half
                for h, half in enumerate("ab"):
                    blocks = ys[per * h: per * (h + 1)]
                    SL0, SR0, SL1, SR1 = blocks[0], blocks[1], blocks[2 + m], blocks[3 + m]
                    a = b.and_(b.lshr(alphas[h], pos), one)
                    am = b.sub(zero, a)  # all ones where alpha goes right (keep right, lose left)
                    d = b.and_(b.xor(SL0, SR0), am)
                    k0, x0 = b.xor(SL0, d), b.xor(SR0, d)  # kept and lost child of party 0
                    d = b.and_(b.xor(SL1, SR1), am)
                    k1, x1 = b.xor(SL1, d), b.xor(SR1, d)
                    if m == 1:  # (kept value, lost value) in the words of the one V block
                        V0, V1 = blocks[2], blocks[5]
                        vk0 = b.xor(V0, b.and_(b.xor(V0, v.swap(V0)), am))
                        vk1 = b.xor(V1, b.and_(b.xor(V1, v.swap(V1)), am))
                        vx0, vx1 = vk0, vk1
                    else:  # the kept child's value block and the lost one's, both words
                        d = b.and_(b.xor(blocks[2], blocks[3]), am)
                        vk0, vx0 = b.xor(blocks[2], d), b.xor(blocks[3], d)
                        d = b.and_(b.xor(blocks[6], blocks[7]), am)
                        vk1, vx1 = b.xor(blocks[6], d), b.xor(blocks[7], d)
                    va_slot = slot(st, "va" + half)
                    va = v.load(stp, va_slot)
                    t0_slot, t1_slot = slot(st, "t0" + half), slot(st, "t1" + half)
                    tp0, tp1 = v.load(stp, t0_slot), v.load(stp, t1_slot)
                    m0, m1 = b.sub(zero, tp0), b.sub(zero, tp1)
                    # u = v1_lose - v0_lose - V_alpha + beta [lose = left]: m = 1 in the high words
                    u = b.add(b.sub(b.sub(vx1, vx0), va), b.and_(betas[h], am))
                    vals.append(b.sub(b.xor(u, m1), m1))  # (-1)^t1 * u
                    # V_alpha <- V_alpha - v1_keep + v0_keep + u: m = 1 in the low words (then dup)
                    va_new = b.add(b.sub(va, vk1), vk0)
                    if m == 1:
                        v.store(v.dup_low(b.add(va_new, v.swap(u))), stp, va_slot)
                    else:
                        v.store(b.add(va_new, u), stp, va_slot)
                    bits_l.append(b.xor(b.xor(SL0, SL1), b.xor(a, one)))  # bit 0 of the low words
                    bits_r.append(b.xor(b.xor(SR0, SR1), a))
                    tck = b.xor(b.xor(k0, k1), one)
                    c = b.and_(b.xor(x0, x1), low)
                    o = b.add(b.mul(i, b.shl(n_v, c64(1))), b.add(w, c64(8 * h)))
                    v.store(c, cw0p, o)
                    v.store(c, cw1p, o)
                    for party, kk, tp, m_, t_slot in (("0", k0, tp0, m0, t0_slot), ("1", k1, tp1, m1, t1_slot)):
                        nn = b.xor(kk, b.and_(c, m_))
                        v.store(v.dup_low(b.and_(b.xor(nn, b.and_(tck, tp)), one)), stp, t_slot)
                        v.store(b.and_(nn, low), stp, slot(st, "s" + party + half))
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
                for bits, off in ((bits_l, c64(0)), (bits_r, nb)):
                    byte = v.bits(b.shuffle_vector(bits[0], bits[1], EVEN))
                    for tcp in (tc0p, tc1p):
                        b.store(byte, b.gep(tcp, [b.add(b.add(row, off), g)]))
        # CW^(L+1) = (-1)^t1 * (Convert(s1) - Convert(s0) - V_alpha), Convert(s) = the high word
        # (m = 1; in the high words), (high word, low word) (m = 2)
        with cgutils.for_range(b, count) as groups:
            _, w, st, c8 = group(groups.index)
            fs = []
            for half in "ab":
                diff = b.sub(v.load(stp, slot(st, "s1" + half)), v.load(stp, slot(st, "s0" + half)))
                f = b.sub(diff if m == 1 else v.swap(diff), v.load(stp, slot(st, "va" + half)))
                mt = b.sub(zero, v.load(stp, slot(st, "t1" + half)))
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
        low = ir.Constant(V8, [0xFFFFFFFFFFFFFFFE, 0xFFFFFFFFFFFFFFFF] * 4)
        tw = [b.load(b.gep(twp, [c64(i)])) for i in range(2 * (2 + m))]
        tws = [v.pairs(tw[2 * r], tw[2 * r + 1]) for r in range(2 + m)]  # T_L, T_R, T_V | T_VL, T_VR
        twL, twV = tws[0], tws[2]
        dLR = b.xor(tws[0], tws[1])
        dV = b.xor(tws[2], tws[3]) if m == 2 else None  # the value tweak follows the input bit too
        count = b.sub(g1_v, g0_v)
        bit_of = [ir.Constant(V8, [4 * h + q // 2 for q in range(8)]) for h in range(2)]

        def group(index):
            g = b.add(index, g0_v)
            c8 = b.shl(g, c64(3))
            return g, b.shl(g, c64(4)), b.mul(index, c64(EVAL_STATE_WORDS)), c8

        def slot(st, name):
            return b.add(st, c64(8 * _EVAL_STATE.index(name)))

        with cgutils.for_range(b, count) as groups:
            _, w, st, _ = group(groups.index)
            for h, half in enumerate("ab"):
                v.store(v.load(sdp, b.add(w, c64(8 * h))), stp, slot(st, "s" + half))
                v.store(v.splat(party_v), stp, slot(st, "t" + half))
                v.store(zero, stp, slot(st, "acc" + half))
        with cgutils.for_range(b, l_v) as levels:
            i = levels.index
            pos = v.splat(b.sub(top_v, i))
            row = b.mul(i, b.shl(nb, c64(1)))
            with cgutils.for_range(b, count) as groups:
                g, w, st, c8 = group(groups.index)
                xs = v.dup_halves(v.load(xp, c8))
                if m == 1:
                    vcws = v.dup_halves(v.load(vcp, b.add(b.mul(i, n_v), c8)))
                else:
                    vcws = [v.load(vcp, b.add(b.mul(i, b.shl(n_v, c64(1))), b.add(w, c64(8 * h)))) for h in range(2)]
                ds = [b.and_(b.lshr(xh, pos), one) for xh in xs]  # x's bit: 1 descends right
                dms = [b.sub(zero, d) for d in ds]
                seeds = [v.load(stp, slot(st, "s" + half)) for half in "ab"]
                xin = [q for s, dm in zip(seeds, dms)
                       for q in (b.xor(s, b.xor(twL, b.and_(dLR, dm))),
                                 b.xor(s, twV if m == 1 else b.xor(twV, b.and_(dV, dm))))]
                ys = [b.xor(p, q) for p, q in zip(xin, aes.encrypt_vectors_ir(b, rks, xin))]
                bytes_ = [v.splat(b.zext(b.load(b.gep(tcp, [b.add(b.add(row, off), g)])), I64)) for off in (c64(0), nb)]
                for h, half in enumerate("ab"):
                    C, Vb = ys[2 * h], ys[2 * h + 1]
                    dm = dms[h]
                    # the chosen value: m = 1 the V block's word by x's bit (into the low word)
                    val = b.xor(Vb, b.and_(b.xor(Vb, v.swap(Vb)), dm)) if m == 1 else Vb
                    t_slot = slot(st, "t" + half)
                    tp = v.load(stp, t_slot)
                    msk = b.sub(zero, tp)
                    C = b.xor(C, b.and_(v.load(cwp, b.add(b.mul(i, b.shl(n_v, c64(1))), b.add(w, c64(8 * h)))), msk))
                    tl_, tr_ = (b.and_(b.lshr(byte, bit_of[h]), one) for byte in bytes_)
                    tbit = b.xor(tl_, b.and_(b.xor(tl_, tr_), dm))
                    v.store(b.xor(v.dup_low(b.and_(C, one)), b.and_(tbit, tp)), stp, t_slot)
                    v.store(b.and_(C, low), stp, slot(st, "s" + half))
                    acc_slot = slot(st, "acc" + half)
                    v.store(b.add(v.load(stp, acc_slot), b.add(val, b.and_(vcws[h], msk))), stp, acc_slot)
        neg = b.icmp_signed("!=", party_v, c64(0))
        with cgutils.for_range(b, count) as groups:
            _, w, st, c8 = group(groups.index)
            cwls = v.dup_halves(v.load(flp, c8)) if m == 1 else [v.load(flp, b.add(w, c64(8 * h))) for h in range(2)]
            res = []
            for h, half in enumerate("ab"):
                msk = b.sub(zero, v.load(stp, slot(st, "t" + half)))
                r = b.add(b.add(v.load(stp, slot(st, "acc" + half)), v.swap(v.load(stp, slot(st, "s" + half)))),
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
