"""Coalition enumeration kernels for Shapley / Banzhaf values of ensemble accuracy.

The game
--------
K players (model owners) each give an integer score ``S[k, i, c]`` to class ``c`` of query
``i`` (fixed-point probabilities, clipped fixed-point logits, one-hot votes or weighted votes).
A coalition ``A`` answers query ``i`` with ``argmax_c sum_{k in A} S[k, i, c]`` (ties go to the
lowest label) and its *count* is the number of queries answered with the reference label
``y[i]``.  The empty coalition gives no answer: its count is 0 by definition.

Integer scores make a coalition's summed scores, hence its count, independent of the order in
which owners were added, so every result here is reproducible bit for bit (any thread count).

Margin form
-----------
The kernels never take an argmax.  For query i and every class c != y[i] they keep
``R[c, i] = T[c, i] + sum_{k in A} D[k, c, i]`` with the margin ``D[k, c, i] = S[k, i, y[i]] -
S[k, i, c]`` and the tie offset ``T[c, i] = 1 if c > y[i] else 0``.  Then y[i] is the argmax
(ties to the lowest label) iff ``min_c R[c, i] > 0``: classes below y[i] must be beaten strictly,
classes above y[i] only tied.  Class-major layout ``(K, C-1, n)`` makes the update, the min and
the count plain vectorisable loops over the queries.

Exact enumeration walks all 2^K coalitions in Gray-code order (coalition g(j) = j ^ (j >> 1)
differs from g(j-1) by the single owner ctz(j)), so each step is one add or subtract of an
owner's margins; the sequence is split into chunks that run in parallel, each starting its
running sum afresh.  Marginal contributions are then summed per (owner, coalition size) in
int64, so Shapley and Banzhaf values are exact rationals up to the final K float divisions.
"""
import numpy as np
from numba import njit, prange

#: largest number of players for exact enumeration (2^20 coalitions, an 4 MiB count table)
MAX_EXACT_PLAYERS = 20
_I32_LIMIT = 2**31 - 2


# --------------------------------------------------------------------------- kernels


@njit(cache=True, inline="always")
def _count_of(R, m, M, n):
    """#queries whose min over the M class rows of R (flat (M*n,)) is > 0; m is scratch (n,).

    Written as separate unit-stride loops over row views: that is the form LLVM vectorises
    (a fused add+min loop or offset indexing stays scalar, ~5x slower).
    """
    R0 = R[0:n]
    for i in range(n):
        m[i] = R0[i]
    for c in range(1, M):
        Rc = R[c * n:(c + 1) * n]
        for i in range(n):
            m[i] = min(m[i], Rc[i])
    cnt = 0
    for i in range(n):
        cnt += m[i] > 0
    return cnt


@njit(cache=True, inline="always")
def _count_add(R, Dk, m, M, n):
    """R += Dk, then the count of R."""
    for t in range(R.shape[0]):
        R[t] += Dk[t]
    return _count_of(R, m, M, n)


@njit(cache=True, inline="always")
def _count_sub(R, Dk, m, M, n):
    """R -= Dk, then the count of R."""
    for t in range(R.shape[0]):
        R[t] -= Dk[t]
    return _count_of(R, m, M, n)


@njit(cache=True, parallel=True)
def _gray_counts(D, T, n, chunk_bits, out):
    """Count of every coalition, walking the Gray code in parallel chunks.

    D: (K, M*n) margins; T: (M*n,) tie offsets, same integer dtype; out: (2^K,) int32.
    M = C - 1 >= 1 classes other than the label, n queries.
    """
    K = D.shape[0]
    L = D.shape[1]
    M = L // n
    total = np.int64(1) << K
    clen = np.int64(1) << chunk_bits
    nchunks = total // clen
    for ch in prange(nchunks):
        start = ch * clen
        R = T.copy()
        m = np.empty(n, dtype=D.dtype)
        g = start ^ (start >> 1)
        for k in range(K):
            if (g >> k) & 1:
                for t in range(L):
                    R[t] += D[k, t]
        out[g] = _count_of(R, m, M, n)
        for j in range(start + 1, start + clen):
            k = 0
            while ((j >> k) & 1) == 0:
                k += 1
            g ^= np.int64(1) << k
            if (g >> k) & 1:
                out[g] = _count_add(R, D[k], m, M, n)
            else:
                out[g] = _count_sub(R, D[k], m, M, n)
    out[0] = 0


@njit(cache=True, parallel=True)
def _subset_counts(D, T, n, masks, out):
    """Count of each coalition given as a bit mask (any K <= 62)."""
    K = D.shape[0]
    L = D.shape[1]
    M = L // n
    for q in prange(masks.shape[0]):
        g = masks[q]
        if g == 0:
            out[q] = 0
            continue
        R = T.copy()
        m = np.empty(n, dtype=D.dtype)
        for k in range(K):
            if (g >> k) & 1:
                for t in range(L):
                    R[t] += D[k, t]
        out[q] = _count_of(R, m, M, n)


@njit(cache=True, parallel=True)
def _perm_marginals(D, T, n, perms, full_count, trunc, out):
    """Marginal count increments along each permutation (row of ``perms``).

    out[p, k] = count(prefix + k) - count(prefix) with count(empty) = 0.  Truncation: once
    |full_count - count(prefix)| <= trunc (trunc >= 0) the remaining marginals are 0.
    """
    P = perms.shape[0]
    K = perms.shape[1]
    L = D.shape[1]
    M = L // n
    for p in prange(P):
        R = T.copy()
        m = np.empty(n, dtype=D.dtype)
        prev = 0
        for pos in range(K):
            k = perms[p, pos]
            if trunc >= 0 and abs(full_count - prev) <= trunc:
                out[p, k] = 0
                continue
            c = _count_add(R, D[k], m, M, n)
            out[p, k] = c - prev
            prev = c


@njit(cache=True, parallel=True)
def _marginal_table(cnt, K, nchunks):
    """delta[i, s] = sum over coalitions S without i, |S| = s, of cnt[S | i] - cnt[S] (int64)."""
    total = np.int64(1) << K
    clen = total // nchunks
    part = np.zeros((nchunks, K, K), dtype=np.int64)
    for ch in prange(nchunks):
        for S in range(ch * clen, (ch + 1) * clen):
            s = 0
            x = S
            while x:
                x &= x - 1
                s += 1
            cS = np.int64(cnt[S])
            for i in range(K):
                b = np.int64(1) << i
                if (S & b) == 0:
                    part[ch, i, s] += np.int64(cnt[S | b]) - cS
    delta = np.zeros((K, K), dtype=np.int64)
    for ch in range(nchunks):
        for i in range(K):
            for s in range(K):
                delta[i, s] += part[ch, i, s]
    return delta


# --------------------------------------------------------------------------- wrappers


def margins(scores, labels):
    """Margin form ``(D, T)`` of integer scores (see the module docstring).

    scores: (K, n, C) integer array; labels: (n,) ints in [0, C).  Returns D (K, (C-1)*n) and
    T ((C-1)*n,) in int32 when every reachable sum fits, else int64.  With C == 1 a single
    all-zero margin row with T = 1 is used (every non-empty coalition answers correctly).
    """
    scores = np.asarray(scores)
    if scores.ndim != 3:
        raise ValueError(f"scores must have shape (K, n, C), got ndim={scores.ndim}")
    if not np.issubdtype(scores.dtype, np.integer):
        raise ValueError(f"scores must be an integer array (fixed-point or votes), got dtype {scores.dtype}")
    K, n, C = scores.shape
    if K < 1 or n < 1 or C < 1:
        raise ValueError(f"scores must be non-empty, got shape {scores.shape}")
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
    if n and (labels.min() < 0 or labels.max() >= C):
        raise ValueError(f"labels must lie in [0, {C}), got range [{labels.min()}, {labels.max()}]")
    s = scores.astype(np.int64, copy=False)
    amax = int(np.abs(s).max()) if s.size else 0
    if amax >= 2**61 // max(K, 1):
        raise ValueError("scores too large: K * max|score| must stay below 2**60 (use fewer fixed-point bits)")
    if C == 1:
        D = np.zeros((K, 1, n), dtype=np.int64)
        T = np.ones((1, n), dtype=np.int64)
    else:
        idx = np.arange(n)
        own = s[:, idx, labels]  # (K, n)
        D = own[:, :, None] - s  # (K, n, C)
        # drop the label column: keep classes c != y[i] in increasing order
        keep = np.ones((n, C), dtype=bool)
        keep[idx, labels] = False
        D = D[:, keep].reshape(K, n, C - 1).transpose(0, 2, 1)  # (K, C-1, n)
        cls = np.broadcast_to(np.arange(C), (n, C))[keep].reshape(n, C - 1).T  # (C-1, n)
        T = (cls > labels[None, :]).astype(np.int64)
    bound = int(np.abs(D).sum(axis=0).max()) + 1 if D.size else 1
    dtype = np.int32 if bound <= _I32_LIMIT else np.int64
    D = np.ascontiguousarray(D.reshape(K, -1), dtype=dtype)
    T = np.ascontiguousarray(T.reshape(-1), dtype=dtype)
    return D, T


def _chunk_bits(K):
    return min(K, max(8, K - 7))


def all_coalition_counts(scores, labels):
    """Count (number of queries answered with ``labels``) of every coalition, by Gray-code enumeration.

    Returns an int32 array ``cnt`` of length 2^K indexed by the coalition bit mask (owner k is
    bit k); ``cnt[0] = 0`` (the empty coalition answers nothing).  K <= 20.
    """
    scores = np.asarray(scores)
    K = scores.shape[0] if scores.ndim == 3 else None
    if K is not None and K > MAX_EXACT_PLAYERS:
        raise ValueError(
            f"K={K} owners is too many for exact enumeration (K must be in [1, {MAX_EXACT_PLAYERS}]); "
            "use Monte-Carlo permutation Shapley"
        )
    D, T = margins(scores, labels)
    n = scores.shape[1]
    out = np.zeros(np.int64(1) << K, dtype=np.int32)
    _gray_counts(D, T, np.int64(n), np.int64(_chunk_bits(K)), out)
    return out


def subset_counts(scores, labels, masks):
    """Counts of the coalitions given as int64 bit masks (owner k = bit k); K <= 62."""
    scores = np.asarray(scores)
    if scores.ndim == 3 and scores.shape[0] > 62:
        raise ValueError(f"K={scores.shape[0]} owners: bit-mask coalitions need K <= 62")
    masks = np.ascontiguousarray(masks, dtype=np.int64).reshape(-1)
    D, T = margins(scores, labels)
    K = D.shape[0]
    if masks.size and (masks.min() < 0 or masks.max() >= (1 << K)):
        raise ValueError(f"masks must lie in [0, 2**{K})")
    out = np.zeros(masks.size, dtype=np.int64)
    _subset_counts(D, T, np.int64(scores.shape[1]), masks, out)
    return out


def marginal_table(cnt, K):
    """int64 table delta[i, s] = sum_{S not containing i, |S| = s} (cnt[S+i] - cnt[S])."""
    cnt = np.ascontiguousarray(cnt, dtype=np.int32)
    if not 1 <= K <= MAX_EXACT_PLAYERS:
        raise ValueError(f"K must be in [1, {MAX_EXACT_PLAYERS}], got {K}")
    if cnt.shape != (1 << K,):
        raise ValueError(f"cnt must have length 2**K = {1 << K}, got {cnt.shape}")
    nchunks = 1 << min(K, 6)
    return _marginal_table(cnt, np.int64(K), np.int64(nchunks))


def permutation_marginals(D, T, n, perms, full_count, trunc):
    """Marginal count increments (P, K) int64 along each permutation (rows of ``perms``).

    D, T: margin form from :func:`margins`; n: number of queries; full_count: count of the
    grand coalition; trunc: truncation in counts (-1 = off).
    """
    perms = np.ascontiguousarray(perms, dtype=np.int64)
    K = D.shape[0]
    if perms.ndim != 2 or perms.shape[1] != K:
        raise ValueError(f"perms must have shape (P, {K}), got {perms.shape}")
    if perms.size and not np.array_equal(np.sort(perms, axis=1), np.broadcast_to(np.arange(K), perms.shape)):
        raise ValueError(f"perms rows must be permutations of 0..{K - 1}")
    if D.shape[1] % int(n) or T.shape != (D.shape[1],) or T.dtype != D.dtype:
        raise ValueError("D, T must be the margin form of the same scores (see margins)")
    out = np.zeros(perms.shape, dtype=np.int64)
    _perm_marginals(D, T, np.int64(n), perms, np.int64(full_count), np.int64(trunc), out)
    return out
