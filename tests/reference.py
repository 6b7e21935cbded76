"""Slow, obviously correct plaintext references shared by the kernel and protocol tests.

Everything here works on Python ints (or plain numpy) and is written for clarity, not speed:
ring arithmetic mod 2^64, fixed point, argmax with ties to the lowest index, the
reconstruction of additive shares, and a straightforward DCF (``RefDCF``). Every kernel and
protocol test compares against these; ``dirichlet_partition_draws`` is the Dirichlet partitioner
(with Flower's self-balancing) as a loop over lists.
"""
import math

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

import numpy as np

MOD = 1 << 64


def to_signed(v: int) -> int:
    v = int(v) % MOD
    return v - MOD if v >= 1 << 63 else v


def ring_add(a, b):
    return [(int(x) + int(y)) % MOD for x, y in zip(a, b)]


def ring_mul(a, b):
    return [(int(x) * int(y)) % MOD for x, y in zip(a, b)]


def matmul(A, B):
    n, k, m = len(A), len(B), len(B[0]) if B else 0
    return [[sum(int(A[i][t]) * int(B[t][j]) for t in range(k)) % MOD for j in range(m)] for i in range(n)]


def encode(x: float, f: int) -> int:
    return round(x * (1 << f)) % MOD  # Python round: half to even, like np.rint


def decode(v: int, f: int) -> float:
    return to_signed(v) / (1 << f)


def bitslice(v, nbits: int = 64) -> np.ndarray:
    """Planes ``(nbits, ceil(n/64))``: bit k of word w of plane j is bit j of v[64 w + k]."""
    v = np.asarray(v, dtype=np.uint64)
    nw = (v.size + 63) // 64
    out = np.zeros((nbits, nw), dtype=np.uint64)
    for j in range(nbits):
        bits = ((v >> np.uint64(j)) & np.uint64(1)).astype(np.uint8)
        packed = np.zeros(8 * nw, dtype=np.uint8)
        packed[: (v.size + 7) // 8] = np.packbits(bits, bitorder="little")
        out[j] = packed.view("<u8")
    return out


def bitslice_inverse(plane, n: int) -> np.ndarray:
    """The first n bits of one plane ``(nwords,)``, as uint64 0/1."""
    return np.unpackbits(np.asarray(plane, dtype="<u8").view(np.uint8), bitorder="little")[:n].astype(np.uint64)


def argmax_lowest(row):
    best = 0
    for i, v in enumerate(row):
        if v > row[best]:
            best = i
    return best


def reconstruct(shares: dict) -> np.ndarray:
    """The value of additive shares ``{party: uint64 array}`` (sum mod 2^64)."""
    parts = [np.asarray(v, dtype=np.uint64) for v in shares.values()]
    total = parts[0].copy()
    for v in parts[1:]:
        total += v
    return total


# -- inputs at a comparison mask's wrap-around boundaries ----------------------------------------
def mask_boundary_inputs(r: list, bits: int) -> list:
    """Signed ``bits``-bit inputs x that put the opened value c = x + r (mod 2^bits) at the
    boundaries of a masked comparison: for r[j], c_low (the low bits - 1 bits of c) is r_low,
    r_low + 1, r_low - 1, 0 or 2^(bits-1) - 1 and c_msb both 0 and 1 (cycling through 10 cases
    over j), so that x = 0 and x = -2^(bits-1) occur; r: the masks (ints < 2^bits, e.g. predicted
    by a twin of a seeded dealer). Shared by the ``fss`` and ``fss-dpf`` protocol tests."""
    half = 1 << (bits - 1)
    lmask = (1 << bits) - 1
    xs = []
    for j, rj in enumerate(r):
        rl = rj & (half - 1)
        rm = (rj >> (bits - 1)) & 1
        choice = j % 10
        c_low = [rl, rl, (rl + 1) % half, (rl - 1) % half, 0, half - 1, 0, half - 1, rl, rl][choice]
        c_msb = [0, 1, 0, 1, 0, 1, 1, 0, rm, 1 - rm][choice]
        xl = (c_low + c_msb * half - rj) & lmask  # x mod 2^bits
        xs.append(xl - (1 << bits) if xl >= half else xl)  # signed
    return xs


# -- DCF ------------------------------------------------------------------------------------
# Slow reference of the batched DCF (BCG+21 Fig. 3) with Python integers, one AES block at a
# time, for m = 1 or 2 payload words; shared by ``test_fss`` (m = 1) and ``test_dcf_vector``
# (m = 2). The caller passes the MMO key and the tweaks, so a test can derive them independently
# of the module under test.
# 
# PRG: ``G_T(s) = AES_K(s ^ T) ^ s ^ T`` on 128-bit seeds. Tweaks: m = 1 ``[T_L, T_R, T_V]`` (the
# value block holds v_L low, v_R high); m = 2 ``[T_L, T_R, T_VL, T_VR]`` (one value block per
# child, two words each). Convert(s): m = 1 the high word; m = 2 (high word, low word).
M64 = (1 << 64) - 1


class RefDCF:
    def __init__(self, mmo_key: bytes, tweaks: list, m: int):
        if len(tweaks) != 2 + m:
            raise ValueError(f"m = {m} needs {2 + m} tweaks, got {len(tweaks)}")
        self.aes = Cipher(algorithms.AES(mmo_key), modes.ECB()).encryptor()
        self.tweaks, self.m = list(tweaks), m

    def G(self, s: int, tweak: int) -> int:
        blk = s ^ tweak
        return int.from_bytes(self.aes.update(blk.to_bytes(16, "little")), "little") ^ blk

    def expand(self, s: int) -> dict:
        cl, cr = self.G(s, self.tweaks[0]), self.G(s, self.tweaks[1])
        if self.m == 1:
            vb = self.G(s, self.tweaks[2])
            vl, vr = (vb & M64,), (vb >> 64,)
        else:
            bl, br = self.G(s, self.tweaks[2]), self.G(s, self.tweaks[3])
            vl, vr = (bl & M64, bl >> 64), (br & M64, br >> 64)
        return {"sL": cl & ~1, "tL": cl & 1, "sR": cr & ~1, "tR": cr & 1, "vL": vl, "vR": vr}

    def convert(self, s: int) -> tuple:
        return (s >> 64,) if self.m == 1 else (s >> 64, s & M64)

    def gen(self, alpha: int, beta: list, L: int, s0: int, s1: int, gamma: list):
        """Keys as Python ints: (roots, [[scw, vcw (m words), tcwL, tcwR]] * L, cw_last (m words))."""
        m = self.m
        s = [s0 & ~1, s1 & ~1]
        roots = list(s)
        t = [0, 1]
        va = [0] * m
        cws = []
        for i in range(L):
            a = (alpha >> (L - 1 - i)) & 1
            e = [self.expand(s[0]), self.expand(s[1])]
            keep, lose = ("L", "R") if a == 0 else ("R", "L")
            scw = e[0]["s" + lose] ^ e[1]["s" + lose]
            sign = -1 if t[1] else 1
            vcw = []
            for w in range(m):
                v = e[1]["v" + lose][w] - e[0]["v" + lose][w] - va[w] + (beta[w] if lose == "L" else 0)
                v = sign * v % MOD
                va[w] = (va[w] - e[1]["v" + keep][w] + e[0]["v" + keep][w] + sign * v) % MOD
                vcw.append(v)
            tl = e[0]["tL"] ^ e[1]["tL"] ^ a ^ 1
            tr = e[0]["tR"] ^ e[1]["tR"] ^ a
            cws.append([scw, vcw, tl, tr])
            tk = tl if keep == "L" else tr
            for b in (0, 1):
                s[b], t[b] = e[b]["s" + keep] ^ (scw if t[b] else 0), e[b]["t" + keep] ^ (tk & t[b])
        c0, c1 = self.convert(s[0]), self.convert(s[1])
        last = [(-1 if t[1] else 1) * (c1[w] - c0[w] - va[w]) % MOD for w in range(m)]
        cws[0][1] = [(cws[0][1][w] - gamma[w]) % MOD for w in range(m)]
        return roots, cws, last

    def eval(self, b: int, root: int, cws: list, last: list, x: int, L: int) -> list:
        """Party b's output share (m words) at x."""
        m = self.m
        s, t, v = root, b, [0] * m
        for i in range(L):
            d = (x >> (L - 1 - i)) & 1
            scw, vcw, tl, tr = cws[i]
            e = self.expand(s)
            side = "L" if d == 0 else "R"
            s = e["s" + side] ^ (scw if t else 0)
            tn = e["t" + side] ^ (t & (tl if d == 0 else tr))
            v = [v[w] + e["v" + side][w] + (vcw[w] if t else 0) for w in range(m)]
            t = tn
        c = self.convert(s)
        v = [(v[w] + c[w] + (last[w] if t else 0)) % MOD for w in range(m)]
        return v if b == 0 else [(-vw) % MOD for vw in v]


# -- differential privacy of the noisy vote (issue 17) -----------------------------------------

def discrete_laplace_cdf(k: int, t: float) -> float:
    """P(Z <= k) of the discrete Laplace P(z) ∝ exp(-|z|/t), in closed form."""
    import math

    q = math.exp(-1.0 / t)
    return 1.0 - q ** (k + 1) / (1.0 + q) if k >= 0 else q ** (-k) / (1.0 + q)


def gaussian_rdp_epsilon(sigma: float, scale: float, queries: int, delta: float, orders) -> float:
    """Epsilon of ``queries`` GNMax answers, by hand: RDP alpha * (sqrt(2) c)^2 / (2 sigma^2) per
    answer, composed by addition, converted by eps = rdp + log(1 - 1/a) - log(delta a) / (a - 1)
    (Canonne-Kamath-Steinke 2020 / Asoodeh et al.), minimised over the orders a > 1.01."""
    import math

    best = math.inf
    for a in orders:
        a = float(a)
        if a <= 1.01:
            continue
        rdp = queries * a * 2.0 * scale * scale / (2.0 * sigma * sigma)
        best = min(best, rdp + math.log(1.0 - 1.0 / a) - math.log(delta * a) / (a - 1.0))
    return max(best, 0.0)


def laplace_rdp(eps: float, a: float) -> float:
    """Mironov 2017 Proposition 6, as written there: RDP of the Laplace mechanism with pure
    epsilon ``eps`` at order a > 1."""
    import math

    # log(a/(2a-1) e^{(a-1)eps} + (a-1)/(2a-1) e^{-a eps}), the larger term factored out
    big = math.log(a / (2 * a - 1)) + (a - 1) * eps
    return (big + math.log1p((a - 1) / a * math.exp(-(2 * a - 1) * eps))) / (a - 1)


def pate_data_dependent_rdp(counts, sigma: float, scale: float, order: float) -> float:
    """PATE 2018 (Papernot et al.), Theorem 6 with Proposition 10's higher orders, one query and
    one order, in plain Python; q bounded by the discrete Gaussian's sub-Gaussian tail
    exp(-d^2 / (4 sigma^2)) per runner-up (union bound, capped at 1)."""
    import math

    counts = [float(c) for c in counts]
    top = max(range(len(counts)), key=lambda i: (counts[i], -i))
    q = 0.0
    for i, c in enumerate(counts):
        if i != top:
            d = counts[top] - c
            q += math.exp(-d * d / (4 * sigma * sigma)) if d > 0 else 1.0
    q = min(q, 1.0)
    s = sigma / scale
    indep = order / (s * s)
    if q == 0.0:
        return 0.0
    logq = math.log(q)
    mu2 = math.sqrt(s * s * -logq)
    mu1 = mu2 + 1
    if not (mu1 > order and mu2 > 1):
        return indep
    eps1, eps2 = mu1 / (s * s), mu2 / (s * s)
    if not logq <= (mu2 - 1) * eps2 - mu2 * (math.log(1 + 1 / (mu1 - 1)) + math.log(1 + 1 / (mu2 - 1))):
        return indep
    A = (1 - q) / (1 - (math.exp(eps2) * q) ** (1 - 1 / mu2))
    B = math.exp(eps1) / q ** (1 / (mu1 - 1))
    val = math.log((1 - q) * A ** (order - 1) + q * B ** (order - 1)) / (order - 1)
    return min(indep, val)


# -- DPF comparison ---------------------------------------------------------------------------
# Slow reference of the DPF-based comparison (``fibench.kernels.dpf``) with Python integers, one
# AES block at a time: a BGI16 DPF tree for the point alpha on L bits, early termination at the
# last E = min(7, L) bits (a 128-bit leaf), and Eval = XOR of the right siblings' control bits
# where x's bit is 0, XOR the leaf bits above x's low E bits, XOR the root's offset bit. The
# caller passes the MMO key and the tweaks [T_L, T_R, T_V].
class RefDPFCmp:
    def __init__(self, mmo_key: bytes, tweaks: list):
        self.aes = Cipher(algorithms.AES(mmo_key), modes.ECB()).encryptor()
        self.tweaks = list(tweaks)

    def G(self, s: int, tweak: int) -> int:
        blk = s ^ tweak
        return int.from_bytes(self.aes.update(blk.to_bytes(16, "little")), "little") ^ blk

    def children(self, s: int):
        cl, cr = self.G(s, self.tweaks[0]), self.G(s, self.tweaks[1])
        return (cl & ~1, cl & 1), (cr & ~1, cr & 1)

    @staticmethod
    def split(L: int):
        E = min(7, L)
        return L - E, E

    def gen(self, alpha: int, L: int, s0: int, s1: int, flip: int = 0):
        """Keys as Python ints: (roots with offset bits, [[scw, tcwL, tcwR]] * D, leaf cw)."""
        D, E = self.split(L)
        u0 = s0 & 1
        roots = [s0, (s1 & ~1) | (u0 ^ flip)]
        s = [s0 & ~1, s1 & ~1]
        t = [0, 1]
        cws = []
        for i in range(D):
            a = (alpha >> (L - 1 - i)) & 1
            e = [self.children(s[0]), self.children(s[1])]  # e[b][side] = (seed, bit)
            keep, lose = a, 1 - a
            scw = e[0][lose][0] ^ e[1][lose][0]
            tl = e[0][0][1] ^ e[1][0][1] ^ a ^ 1
            tr = e[0][1][1] ^ e[1][1][1] ^ a
            cws.append([scw, tl, tr])
            tk = tr if keep else tl
            for b in (0, 1):
                s[b], t[b] = e[b][keep][0] ^ (scw if t[b] else 0), e[b][keep][1] ^ (tk & t[b])
        p = alpha & ((1 << E) - 1)
        leaf = self.G(s[0], self.tweaks[2]) ^ self.G(s[1], self.tweaks[2]) ^ (1 << p)
        return roots, cws, leaf

    def eval(self, b: int, root: int, cws: list, leaf: int, x: int, L: int) -> int:
        """Party b's output bit at x."""
        D, E = self.split(L)
        s, t, out = root & ~1, b, root & 1
        for i in range(D):
            d = (x >> (L - 1 - i)) & 1
            scw, tl, tr = cws[i]
            (sl, bl), (sr, br) = self.children(s)
            if t:
                sl, sr, bl, br = sl ^ scw, sr ^ scw, bl ^ tl, br ^ tr
            if d == 0:
                out ^= br
            s, t = (sr, br) if d else (sl, bl)
        v = self.G(s, self.tweaks[2]) ^ (leaf if t else 0)
        q = x & ((1 << E) - 1)
        for pos in range(q + 1, 128):
            out ^= (v >> pos) & 1
        return out


# -- partitions (issue 18) ----------------------------------------------------------------------

def dirichlet_partition_draws(y, K: int, alpha: float, seed: int, min_samples: int,
                              self_balancing: bool, max_tries: int = 20):
    """Flower Datasets' DirichletPartitioner loop, written out with lists and dicts: per class
    in label order, proportions ~ Dir(alpha); with ``self_balancing`` an owner holding more than
    n / K samples gets 0 and the rest is renormalised; cut points rounded to the nearest
    integer; the draw is repeated (up to ``max_tries``) until every owner has ``min_samples``.
    Returns (owner lists of indices, smallest owner size) of the draw kept (the first that
    meets ``min_samples``, else the first of the largest minimum); the random calls are made in
    the same order as fibench's (no repair step here: compare only draws that need none)."""
    rng = np.random.default_rng(seed)
    n = len(y)
    C = int(max(y)) + 1
    best, best_min = None, -1
    for _ in range(max_tries):
        owners = {k: [] for k in range(K)}
        for c in range(C):
            members = [i for i in range(n) if y[i] == c]
            if not members:
                continue
            members = list(rng.permutation(members))
            p = list(rng.dirichlet([alpha] * K))
            if not all(math.isfinite(v) for v in p) or sum(p) <= 0:
                p = [0.0] * K
                p[int(rng.integers(K))] = 1.0
            if self_balancing:
                for k in range(K):
                    if len(owners[k]) > n / K:
                        p[k] = 0.0
                total = sum(p)
                if total > 0:
                    p = [v / total for v in p]
                else:
                    eligible = [k for k in range(K) if len(owners[k]) <= n / K]
                    p = [0.0] * K
                    p[int(rng.choice(eligible))] = 1.0
            acc, start = 0.0, 0
            for k in range(K):
                acc += p[k]
                end = len(members) if k == K - 1 else math.floor(acc * len(members) + 0.5)
                end = min(max(end, start), len(members))
                owners[k].extend(int(i) for i in members[start:end])
                start = end
        mn = min(len(v) for v in owners.values())
        if mn > best_min:
            best, best_min = owners, mn
        if mn >= min_samples:
            break
    return [sorted(best[k]) for k in range(K)], best_min


def a2b_final_share(d, e, w, c63, table, first: bool, n: int) -> np.ndarray:
    """One party's arithmetic share of the a2b sign bit, element by element: its share y of
    the table entry U[2 d_i + e_i], then (1 - 2 p) y (+ p for the first party) with the public
    bit p = w_i ^ c63_i (planes: bit i % 64 of word i // 64)."""
    out = np.zeros(n, dtype=np.uint64)
    for i in range(n):
        bit = lambda plane: (int(plane[i // 64]) >> (i % 64)) & 1  # noqa: E731
        y = int(table[2 * bit(d) + bit(e), i])
        p = bit(w) ^ bit(c63)
        out[i] = ((1 - 2 * p) * y + (p if first else 0)) % 2**64
    return out
