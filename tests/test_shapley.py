"""Exact / Monte-Carlo Shapley, Banzhaf and leave-one-out against slow, obviously correct references."""
import itertools
from math import factorial

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fibench import incentives as inc
from fibench.incentives.utility import CoalitionGame, integer_scores
from fibench.kernels import shapley as ks


# --------------------------------------------------------------------------- naive references


def naive_count(scores, labels, members):
    """Pure Python: queries whose argmax (ties to the lowest label) of the summed scores is the label."""
    if not members:
        return 0
    K, n, C = scores.shape
    correct = 0
    for i in range(n):
        best, best_c = None, None
        for c in range(C):
            tot = sum(int(scores[k, i, c]) for k in members)
            if best is None or tot > best:
                best, best_c = tot, c
        correct += best_c == int(labels[i])
    return correct


def naive_values(scores, labels):
    K, n, _ = scores.shape
    v = {}
    for r in range(K + 1):
        for S in itertools.combinations(range(K), r):
            v[frozenset(S)] = naive_count(scores, labels, list(S)) / n
    return v


def naive_shapley(v, K):
    phi = []
    for i in range(K):
        others = [j for j in range(K) if j != i]
        tot = 0.0
        for r in range(K):
            w = factorial(r) * factorial(K - r - 1) / factorial(K)
            for S in itertools.combinations(others, r):
                S = frozenset(S)
                tot += w * (v[S | {i}] - v[S])
        phi.append(tot)
    return np.array(phi)


def naive_banzhaf(v, K):
    out = []
    for i in range(K):
        others = [j for j in range(K) if j != i]
        tot = 0.0
        for r in range(K):
            for S in itertools.combinations(others, r):
                S = frozenset(S)
                tot += v[S | {i}] - v[S]
        out.append(tot / 2 ** (K - 1))
    return np.array(out)


def naive_loo(v, K):
    N = frozenset(range(K))
    return np.array([v[N] - v[N - {i}] for i in range(K)])


def random_scores(rng, K, n, C, high=4):
    # small integer range: plenty of exact ties, which exercises the tie rule
    return rng.integers(0, high, size=(K, n, C)).astype(np.int64), rng.integers(0, C, size=n)


def random_proba(rng, K, n, C, conc=0.5):
    return rng.dirichlet(np.full(C, conc), size=(K, n))


# --------------------------------------------------------------------------- counts


@pytest.mark.parametrize("K,n,C", [(1, 7, 3), (3, 20, 2), (5, 30, 4), (6, 25, 1), (8, 15, 10)])
def test_all_counts_match_naive(K, n, C):
    rng = np.random.default_rng(K * 100 + C)
    S, y = random_scores(rng, K, n, C)
    cnt = ks.all_coalition_counts(S, y)
    assert cnt.dtype == np.int32 and cnt.shape == (1 << K,)
    for mask in range(1 << K):
        members = [k for k in range(K) if mask >> k & 1]
        assert cnt[mask] == naive_count(S, y, members), mask
    assert cnt[0] == 0  # v(empty) = 0 by definition


def test_counts_many_chunks_match_numpy():
    # K = 11 splits the Gray code into 8 chunks, each restarting its running sum
    rng = np.random.default_rng(7)
    K, n, C = 11, 40, 5
    S, y = random_scores(rng, K, n, C, high=6)
    cnt = ks.all_coalition_counts(S, y)
    masks = np.arange(1 << K)
    bits = (masks[:, None] >> np.arange(K)[None, :]) & 1  # (2^K, K)
    tot = np.einsum("mk,knc->mnc", bits, S)
    ref = (tot.argmax(axis=2) == y[None, :]).sum(axis=1)
    ref[0] = 0
    np.testing.assert_array_equal(cnt, ref)
    np.testing.assert_array_equal(ks.subset_counts(S, y, masks), ref)


def test_int64_path_large_scores():
    rng = np.random.default_rng(3)
    K, n, C = 5, 12, 3
    S = rng.integers(-(2**40), 2**40, size=(K, n, C))
    y = rng.integers(0, C, n)
    D, _ = ks.margins(S, y)
    assert D.dtype == np.int64
    cnt = ks.all_coalition_counts(S, y)
    for mask in range(1 << K):
        assert cnt[mask] == naive_count(S, y, [k for k in range(K) if mask >> k & 1])


# --------------------------------------------------------------------------- exact values


@pytest.mark.parametrize("K", [1, 2, 3, 5, 8])
@pytest.mark.parametrize("rule", ["soft", "logit", "hard", "weighted"])
def test_exact_shapley_banzhaf_loo_match_naive(K, rule):
    rng = np.random.default_rng(K + 17 * len(rule))
    n, C = 18, 4
    P = random_proba(rng, K, n, C)
    y = rng.integers(0, C, n)
    w = rng.integers(0, 5, K) if rule == "weighted" else None
    game = CoalitionGame.from_proba(P, y, rule, w)
    v = naive_values(game.scores, y)
    np.testing.assert_allclose(inc.exact_shapley(game), naive_shapley(v, K), rtol=0, atol=1e-12)
    np.testing.assert_allclose(inc.banzhaf(game), naive_banzhaf(v, K), rtol=0, atol=1e-12)
    np.testing.assert_allclose(inc.leave_one_out(game), naive_loo(v, K), rtol=0, atol=1e-12)
    allv = game.all_values()
    for S, val in v.items():
        mask = sum(1 << k for k in S)
        assert allv[mask] == val


@settings(max_examples=25, deadline=None)
@given(
    K=st.integers(1, 7),
    n=st.integers(1, 12),
    C=st.integers(1, 5),
    high=st.integers(1, 5),
    seed=st.integers(0, 2**31),
)
def test_shapley_axioms_property(K, n, C, high, seed):
    rng = np.random.default_rng(seed)
    S, y = random_scores(rng, K, n, C, high)
    game = CoalitionGame(S, y)
    phi = inc.exact_shapley(game)
    # efficiency: sum = v(N) - v(empty) = v(N)
    assert abs(phi.sum() - game.full_value) <= 1e-12
    np.testing.assert_allclose(phi, naive_shapley(naive_values(S, y), K), rtol=0, atol=1e-12)


def test_symmetry_identical_owners_equal_value():
    rng = np.random.default_rng(11)
    P = random_proba(rng, 6, 50, 5)
    P[3] = P[1]  # identical owners
    y = rng.integers(0, 5, 50)
    for rule in ("soft", "hard", "logit"):
        game = CoalitionGame.from_proba(P, y, rule)
        phi, bz = inc.exact_shapley(game), inc.banzhaf(game)
        assert phi[1] == phi[3] and bz[1] == bz[3]  # bit for bit


def test_null_player_gets_zero():
    # A zero-score owner never changes a coalition's answer; alone it answers label 0 everywhere
    # (ties to the lowest label), so it is a null player exactly when no query has label 0
    # (v({i}) = v(empty) = 0).  With label-0 queries it earns v({i}) / K of solo credit.
    rng = np.random.default_rng(12)
    S, _ = random_scores(rng, 6, 40, 4, high=8)
    y = rng.integers(1, 4, 40)
    S[2] = 0
    game = CoalitionGame(S, y)
    assert inc.exact_shapley(game)[2] == 0.0
    assert inc.banzhaf(game)[2] == 0.0
    assert inc.leave_one_out(game)[2] == 0.0
    # a per-query offset equal for every class adds nothing to any comparison either
    S[2] = rng.integers(0, 9, size=(40, 1))
    assert inc.exact_shapley(CoalitionGame(S, y))[2] == 0.0


def test_bit_for_bit_reproducible_threads_and_owner_order():
    rng = np.random.default_rng(5)
    K, n, C = 13, 60, 6
    P = random_proba(rng, K, n, C)
    y = rng.integers(0, C, n)
    prev = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = inc.exact_shapley(CoalitionGame.from_proba(P, y))
        numba.set_num_threads(max(1, min(2, numba.config.NUMBA_NUM_THREADS)))
        b = inc.exact_shapley(CoalitionGame.from_proba(P, y))
    finally:
        numba.set_num_threads(prev)
    assert a.tobytes() == b.tobytes()
    perm = rng.permutation(K)
    c = inc.exact_shapley(CoalitionGame.from_proba(P[perm], y))
    assert c.tobytes() == a[perm].tobytes()


def test_exact_values_consistent():
    rng = np.random.default_rng(9)
    game = CoalitionGame.from_proba(random_proba(rng, 7, 30, 3), rng.integers(0, 3, 30))
    ev = inc.exact_values(game)
    assert ev["shapley"].tobytes() == inc.exact_shapley(game).tobytes()
    assert ev["banzhaf"].tobytes() == inc.banzhaf(game).tobytes()


# --------------------------------------------------------------------------- Monte-Carlo


def test_monte_carlo_close_to_exact_and_deterministic():
    rng = np.random.default_rng(21)
    K, n, C = 9, 80, 5
    game = CoalitionGame.from_proba(random_proba(rng, K, n, C, 0.3), rng.integers(0, C, n))
    phi = inc.exact_shapley(game)
    r = inc.monte_carlo_shapley(game, tol=0.004, seed=1)
    assert r.converged and r.n_perms >= 64
    assert np.abs(r.values - phi).max() <= 5 * r.stderr.max() + 1e-12
    # every permutation's marginals sum to v(N): efficiency holds for the estimate
    assert abs(r.values.sum() - game.full_value) < 1e-12
    r2 = inc.monte_carlo_shapley(game, tol=0.004, seed=1)
    assert r.values.tobytes() == r2.values.tobytes() and r.n_perms == r2.n_perms
    r3 = inc.monte_carlo_shapley(game, tol=0.004, seed=1, antithetic=False, truncation=0.01)
    assert np.abs(r3.values - phi).max() < 0.05


def test_monte_carlo_permutation_marginals_match_naive():
    rng = np.random.default_rng(4)
    K, n, C = 5, 20, 3
    S, y = random_scores(rng, K, n, C)
    game = CoalitionGame(S, y)
    perms = np.array([rng.permutation(K) for _ in range(6)])
    marg = ks.permutation_marginals(game.D, game.T, n, perms, game.full_count, -1)
    for p, perm in enumerate(perms):
        prev = 0
        for pos in range(K):
            c = naive_count(S, y, list(perm[: pos + 1]))
            assert marg[p, perm[pos]] == c - prev
            prev = c


def test_shapley_dispatch_large_k_uses_mc():
    rng = np.random.default_rng(8)
    K, n, C = 22, 30, 3
    game = CoalitionGame.from_proba(random_proba(rng, K, n, C), rng.integers(0, C, n))
    phi = inc.shapley(game, method="auto", tol=0.02, max_perms=256)
    assert phi.shape == (K,)
    with pytest.raises(ValueError, match="Monte-Carlo|monte_carlo"):
        inc.exact_shapley(game)
    with pytest.raises(ValueError, match="Monte-Carlo"):
        ks.all_coalition_counts(game.scores, game.labels)


# --------------------------------------------------------------------------- validation


def test_validation_errors_name_the_parameter():
    S = np.zeros((2, 3, 2), dtype=np.int64)
    with pytest.raises(ValueError, match="scores"):
        ks.margins(S.astype(float), np.zeros(3, int))
    with pytest.raises(ValueError, match="labels"):
        ks.margins(S, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="labels"):
        ks.margins(S, np.zeros(4, int))
    with pytest.raises(ValueError, match="scores"):
        ks.margins(np.zeros((2, 3)), np.zeros(3, int))
    with pytest.raises(ValueError, match="K"):
        ks.marginal_table(np.zeros(8, np.int32), 21)
    game = CoalitionGame(S, np.zeros(3, int))
    with pytest.raises(ValueError, match="tol"):
        inc.monte_carlo_shapley(game, tol=0)
    with pytest.raises(ValueError, match="truncation"):
        inc.monte_carlo_shapley(game, truncation=1.5)
    with pytest.raises(ValueError, match="method"):
        inc.shapley(game, method="fast")
    with pytest.raises(ValueError, match="coalition"):
        game.value([5])
    with pytest.raises(ValueError, match="rule"):
        integer_scores(np.full((2, 3, 2), 0.5), "median")
