"""Kernels of the ``a2b`` secure comparison (sign of x on Z_2^64, bit-sliced).

Protocol (``fibench.mpc.protocols.compare_a2b``): with c = x + r opened, msb(x) = msb(c - r) =
c_63 XOR r_63 XOR B, where B is the borrow out of the low 63 bits of c - r. B is the
generate bit of a borrow-lookahead tree over (g_i, p_i) = (~c_i & r_i, ~(c_i ^ r_i)), combined by
(G, P) o (G', P') = (G ^ (P & G'), P & P').

* Leaves are free: c is public, and the dealer also shares q_j = r_{2j+1} & r_{2j}, so the first
  level (31 bit pairs + bit 62 = 32 nodes) needs no AND gate.
* Four AND levels reduce 32 -> 2 nodes (31 + 15 + 7 + 3 = 56 AND planes). The lowest node of
  each level never needs its P. A pair's two ANDs, P_hi & G_lo and P_hi & P_lo, share their
  first operand, and so one mask of it: the dealer's triples are (a, b, a & b) and (a, b', a &
  b') with the same a, so d = P_hi ^ a is opened once for both (16 + 8 + 4 + 2 = 30 d planes,
  56 e planes: 86 bits per element instead of 112). Secure as two triples: a masks one value,
  opened once; each b masks its own.
* The last level (P_hi & G_lo) is fused with the bit-to-arithmetic conversion by a one-time
  truth table: the parties open d = P_hi ^ alpha, e = G_lo ^ beta and w = (r_63 ^ G_hi) ^ m,
  and the dealer has shared arithmetically the four entries U[i, j] = m ^ ((i ^ alpha) &
  (j ^ beta)). With z = P_hi & G_lo, U[d, e] = m ^ z, so the output bit
  s = c_63 ^ r_63 ^ G_hi ^ z = (c_63 ^ w) ^ U[d, e] is a public affine function of the
  selected entry's share (4 words per element from the dealer).
All planes are ``(k, nwords)`` uint64 (see ``bitslice``); XOR shares; public constants are
XORed (or added) by the ``first`` party only.
"""
import numpy as np
from numba import njit, prange

from fibench.kernels.threads import launch

U0 = np.uint64(0)
U1 = np.uint64(1)
ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
N_LEAVES = 32
#: AND planes per tree level (32 -> 16 -> 8 -> 4 -> 2 nodes)
LEVEL_ANDS = (31, 15, 7, 3)
#: first operands (P_hi of each pair) per level: the rows of its triples' shared a and of d
LEVEL_HI = tuple((k + 1) // 2 for k in LEVEL_ANDS)


@njit(cache=True, parallel=True)
def _leaves(c, r, q, first, G, P):
    nw = c.shape[1]
    for j in prange(32):  # node j: bit pair (2j+1, 2j), node 31: bit 62 alone; rows are contiguous
        if j < 31:
            hi = 2 * j + 1
            lo = 2 * j
            for w in range(nw):
                nch = ~c[hi, w]
                ncl = ~c[lo, w]
                rh = r[hi, w]
                rl = r[lo, w]
                qq = q[j, w]
                G[j, w] = (nch & rh) ^ (ncl & (qq ^ (nch & rl)))
                pv = qq ^ (ncl & rh) ^ (nch & rl)
                if first:
                    pv ^= nch & ncl
                P[j, w] = pv
        else:
            for w in range(nw):
                nc = ~c[62, w]
                G[31, w] = nc & r[62, w]
                pv = r[62, w]
                if first:
                    pv ^= nc
                P[31, w] = pv


def leaf_nodes(c_planes, r_planes, q_planes, first: bool):
    """Leaf (G, P) planes ``(32, nwords)`` of one party from public c, its shares of r bits and q."""
    nw = c_planes.shape[1]
    G = np.empty((N_LEAVES, nw), dtype=np.uint64)
    P = np.empty((N_LEAVES, nw), dtype=np.uint64)
    if nw:
        launch(_leaves, 64 * nw, c_planes, r_planes, q_planes, bool(first), G, P)
    return G, P


def level_operands(G, P):
    """AND operands (X, Y) of one tree level: P_hi & G_lo for every pair, P_hi & P_lo for pairs >= 1."""
    hi_P = P[1::2]
    lo_G = G[0::2]
    X = np.concatenate([hi_P, hi_P[1:]])
    Y = np.concatenate([lo_G, P[0::2][1:]])
    return X, Y


def level_combine(G, Z):
    """Next level's (G, P) from this level's G and the AND results Z of ``level_operands``."""
    k = G.shape[0] // 2
    G_new = G[1::2] ^ Z[:k]
    P_new = np.empty_like(G_new)
    P_new[0] = 0  # never used: the lowest node's P
    P_new[1:] = Z[k:]
    return G_new, P_new


@njit(cache=True, parallel=True)
def _level_masked(G, P, A, B, out):
    k = G.shape[0] // 2
    for row in prange(3 * k - 1):
        if row < k:  # d: P_hi of pair `row`, masked by its shared a
            x, m = P[2 * row + 1], A[row]
        elif row < 2 * k:  # e of P_hi & G_lo of pair `row - k`
            x, m = G[2 * (row - k)], B[row - k]
        else:  # e of P_hi & P_lo of pair j >= 1
            j = row - 2 * k + 1
            x, m = P[2 * j], B[row - k]
        for w in range(G.shape[1]):
            out[row, w] = x[w] ^ m[w]


def level_masked(G, P, A, B):
    """One party's masked AND operands of a tree level, one message ``(k + ANDs, nwords)`` for
    k pairs: d = P_hi ^ A for each pair (``A`` ``(k, nwords)``, shared by the pair's two ANDs),
    then e = Y ^ B for the second operands Y of ``level_operands`` (``B`` ``(ANDs, nwords)``)."""
    k, nw = A.shape
    m = B.shape[0]
    out = np.empty((k + m, nw), dtype=np.uint64)
    if (k + m) * nw:
        launch(_level_masked, (k + m) * nw, G, P, A, B, out)
    return out


@njit(cache=True, parallel=True)
def _level_finish(u, v, A, B, C, G, first, G_new, P_new):
    k = G_new.shape[0]
    for row in prange(2 * k - 1):
        r = np.int64(row)  # prange's index may be unsigned: keep the arithmetic in int64
        hi = r if r < k else r - k + 1  # the pair whose P_hi (and shared a) this AND takes
        for w in range(G.shape[1]):
            dd = u[hi, w] ^ v[hi, w]
            ee = u[k + row, w] ^ v[k + row, w]
            z = C[row, w] ^ (dd & B[row, w]) ^ (ee & A[hi, w])
            if first:
                z ^= dd & ee
            if row < k:
                G_new[row, w] = G[2 * row + 1, w] ^ z
            else:
                P_new[row - k + 1, w] = z


def level_finish(de, de_peer, A, B, C, G, first: bool):
    """Next level's (G, P) from the opened message of ``level_masked`` -- given as two parts
    ``(k + ANDs, nwords)`` whose XOR it is (``sharing.open_split``; it is never written on its
    own) --, this party's triple shares (A ``(k, nwords)`` shared by each pair's ANDs, B and C
    ``(ANDs, nwords)``) and this level's G: ``and_finish`` then ``level_combine`` in one pass."""
    k = G.shape[0] // 2
    G_new = np.empty((k, G.shape[1]), dtype=np.uint64)
    P_new = np.empty_like(G_new)
    P_new[0] = 0  # never used: the lowest node's P
    if G.size:
        launch(_level_finish, B.size, de, de_peer, A, B, C, G, bool(first), G_new, P_new)
    return G_new, P_new


def shared_first_operand(A):
    """The per-AND first-operand masks ``(ANDs, nwords)`` of a level from its pairs' shared
    ``A`` ``(k, nwords)``: pair j's a serves its P_hi & G_lo (row j) and, for j >= 1, its
    P_hi & P_lo (row k + j - 1) -- the layout of ``level_operands``' X."""
    return np.concatenate([A, A[1:]])


def and_finish(d, e, a, b, c, first: bool):
    """Boolean Beaver AND: share of x & y from opened d = x ^ a, e = y ^ b and triple shares."""
    z = c ^ (d & b) ^ (e & a)
    if first:
        z ^= d & e
    return z


@njit(cache=True, parallel=True)
def _final(d, e, w, c63, table, first, n, out):
    for k in prange((n + 63) >> 6):  # 64 elements per word of the opened planes: selects, no gather
        dw = d[k]
        ew = e[k]
        pw = w[k] ^ c63[k]
        base = k << 6
        for b in range(min(64, n - base)):
            i = base + b
            sh = np.uint64(b)
            dm = U0 - ((dw >> sh) & U1)  # all ones where the entry's first index is 1
            em = U0 - ((ew >> sh) & U1)
            lo = table[0, i] ^ ((table[0, i] ^ table[1, i]) & em)
            hi = table[2, i] ^ ((table[2, i] ^ table[3, i]) & em)
            y = lo ^ ((lo ^ hi) & dm)  # this party's share of U[d, e] = m ^ z
            pub = (pw >> sh) & U1
            s = y - np.uint64(2) * pub * y  # (1 - 2 pub) y: XOR with the public bit ...
            if first:
                s += pub  # ... plus pub, once
            out[i] = s


def final_arith(d, e, w, c63, table, first: bool, n: int):
    """Arithmetic share (uint64 ``(n,)``) of the sign bit from the opened final planes.

    ``table``: this party's arithmetic shares ``(4, n)`` uint64 of the truth-table entries
    U[2 i + j] = m ^ ((i ^ alpha) & (j ^ beta)).
    """
    out = np.empty(n, dtype=np.uint64)
    if n:
        launch(_final, n, d, e, w, c63, table, bool(first), n, out)
    return out
