"""Coalition utility, label-free schemes, alignment metrics, adversaries, the measure function and plots."""
import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fibench import incentives as inc
from fibench.incentives.utility import CoalitionGame, integer_scores


def random_proba(rng, K, n, C, conc=0.5):
    return rng.dirichlet(np.full(C, conc), size=(K, n))


def skilled_owners(rng, K, n, C, skills):
    """Owners whose probability on the true label grows with their skill."""
    y = rng.integers(0, C, n)
    P = rng.dirichlet(np.ones(C), size=(K, n))
    for k, s in enumerate(skills):
        P[k, np.arange(n), y] += s
    return P / P.sum(axis=2, keepdims=True), y


# --------------------------------------------------------------------------- utility


def naive_agg(P, members, rule, weights=None):
    """Float aggregate scores (n, C) of the owners in ``members``."""
    P = P[list(members)]
    if rule == "soft":
        return P.sum(axis=0)
    if rule == "logit":
        return np.log(P).sum(axis=0)
    K, n, C = P.shape
    agg = np.zeros((n, C))
    w = np.ones(K) if weights is None else np.asarray(weights, dtype=float)[list(members)]
    for k in range(K):
        agg[np.arange(n), P[k].argmax(axis=1)] += w[k]
    return agg


@pytest.mark.parametrize("rule", ["soft", "hard", "weighted"])
def test_utility_matches_float_aggregation_exactly(rule):
    # probabilities that are multiples of 1/8: fixed point is exact, so are ties
    rng = np.random.default_rng(1)
    K, n, C = 5, 60, 4
    P = rng.multinomial(8, np.full(C, 1 / C), size=(K, n)) / 8.0
    y = rng.integers(0, C, n)
    w = np.array([3, 1, 2, 5, 1]) if rule == "weighted" else None
    game = CoalitionGame.from_proba(P, y, rule, w)
    for r in range(1, K + 1):
        for S in itertools.combinations(range(K), r):
            ans = naive_agg(P, S, rule, w).argmax(axis=1)  # numpy: ties to the lowest label
            assert game.value(S) == np.mean(ans == y), S
    assert game.value([]) == 0.0  # v(empty) = 0


def test_utility_logit_sum_clear_margins():
    rng = np.random.default_rng(11)
    K, n, C = 4, 200, 5
    P = random_proba(rng, K, n, C, conc=1.0)
    y = rng.integers(0, C, n)
    game = CoalitionGame.from_proba(P, y, "logit")
    for S in [(0,), (1, 2), (0, 1, 3), (0, 1, 2, 3)]:
        agg = naive_agg(P, S, "logit")
        srt = np.sort(agg, axis=1)
        clear = srt[:, -1] - srt[:, -2] > 1e-3
        ours = inc.utility.aggregate(game.scores, S)
        np.testing.assert_array_equal(ours[clear], agg.argmax(axis=1)[clear])
    # an owner that never saw a class (probability 0) vetoes it in the logit sum
    P2 = P.copy()
    P2[0, :, 1] = 0.0
    P2[0] /= P2[0].sum(axis=1, keepdims=True)
    assert np.all(inc.utility.aggregate(integer_scores(P2, "logit")) != 1)


def test_utility_value_and_label_free_game():
    rng = np.random.default_rng(2)
    P = random_proba(rng, 4, 30, 3)
    y = rng.integers(0, 3, 30)
    game = CoalitionGame.from_proba(P, y)
    ans = P.mean(axis=0).argmax(axis=1)
    assert game.full_value == np.mean(ans == y)
    assert inc.coalition_utility(P, y, [0, 1, 2, 3]) == game.full_value
    lf = CoalitionGame.from_proba(P, None)
    assert lf.full_value == 1.0  # the full ensemble agrees with itself
    np.testing.assert_array_equal(lf.labels, inc.ensemble_answer(P))
    # bit mask and member list agree
    assert game.value(0b0101) == game.value([0, 2])


def test_integer_scores_rules():
    P = np.array([[[0.2, 0.8, 0.0], [0.5, 0.5, 0.0]]])
    s = integer_scores(P, "soft")
    assert s.dtype == np.int64 and s[0, 0, 1] == round(0.8 * 2**20)
    h = integer_scores(P, "hard")
    np.testing.assert_array_equal(h[0], [[0, 1, 0], [1, 0, 0]])  # tie -> lowest label
    lg = integer_scores(P, "logit")
    assert lg[0, 0, 2] == -256 * 2**16  # zero probability -> clipped -inf logit
    wv = integer_scores(np.concatenate([P, P]), "weighted", weights=[2, 3])
    assert wv[1, 0, 1] == 3
    with pytest.raises(ValueError, match="weights"):
        integer_scores(P, "weighted")
    with pytest.raises(ValueError, match="weights"):
        integer_scores(P, "weighted", weights=[0.5])
    with pytest.raises(ValueError, match="proba"):
        integer_scores(P * 3, "soft")
    with pytest.raises(ValueError, match="proba"):
        integer_scores(P[0], "soft")


# --------------------------------------------------------------------------- label-free schemes


def test_label_free_schemes_naive():
    rng = np.random.default_rng(3)
    K, n, C = 5, 80, 4
    P = random_proba(rng, K, n, C)
    ans = P.mean(axis=0).argmax(axis=1)
    own = P.argmax(axis=2)
    np.testing.assert_allclose(inc.agreement(P), (own == ans).mean(axis=1))
    np.testing.assert_allclose(inc.confidence(P), [P[k, np.arange(n), ans].mean() for k in range(K)])
    np.testing.assert_allclose(inc.equal_split(K), np.full(K, 0.2))
    ps = inc.pseudo_shapley(P)
    assert abs(ps.sum() - 1.0) < 1e-12  # v(N) = 1 with the ensemble's own answers as labels
    np.testing.assert_array_equal(ps, inc.exact_shapley(CoalitionGame.from_proba(P, ans)))
    # correlated agreement, naive double loop
    ca = inc.correlated_agreement(P)
    for i in range(K):
        tot = 0.0
        for j in range(K):
            if j == i:
                continue
            J = np.zeros((C, C))
            for t in range(n):
                J[own[i, t], own[j, t]] += 1.0 / n
            pi, pj = J.sum(axis=1), J.sum(axis=0)
            tot += np.maximum(J - np.outer(pi, pj), 0).sum()
        assert ca[i] == pytest.approx(tot / (K - 1), abs=1e-12)
    lf = inc.label_free_rewards(P)
    assert set(lf) == set(inc.LABEL_FREE_SCHEMES)


def test_label_free_schemes_read_the_released_answer():
    """``answer=``: agreement, confidence and pseudo-Shapley score against the released labels
    (e.g. a noisy vote's), naive loops; peer_ca and equal do not read them; bad answers refused."""
    rng = np.random.default_rng(5)
    K, n, C = 4, 60, 3
    P = random_proba(rng, K, n, C)
    released = rng.integers(0, C, n)
    own = P.argmax(axis=2)
    assert not np.array_equal(released, inc.ensemble_answer(P))  # the test must tell them apart
    np.testing.assert_allclose(inc.agreement(P, answer=released),
                               [sum(own[k, t] == released[t] for t in range(n)) / n for k in range(K)])
    np.testing.assert_allclose(inc.confidence(P, answer=released),
                               [sum(P[k, t, released[t]] for t in range(n)) / n for k in range(K)])
    ps = inc.pseudo_shapley(P, answer=released)
    np.testing.assert_array_equal(ps, inc.exact_shapley(CoalitionGame.from_proba(P, released)))
    assert not np.allclose(ps, inc.pseudo_shapley(P))
    lf = inc.label_free_rewards(P, answer=released)
    np.testing.assert_array_equal(lf["agreement"], inc.agreement(P, answer=released))
    np.testing.assert_array_equal(lf["peer_ca"], inc.correlated_agreement(P))
    for bad in (released[:-1], released + C, released.astype(float)):
        with pytest.raises(ValueError, match="answer must be"):
            inc.agreement(P, answer=bad)


def test_peer_ca_uninformative_reports_score_zero():
    rng = np.random.default_rng(4)
    P, _ = skilled_owners(rng, 4, 200, 5, [2.0, 2.0, 2.0, 2.0])
    const = np.zeros((1, 200, 5))
    const[..., 2] = 1.0
    ca = inc.correlated_agreement(np.concatenate([P, const]))
    assert ca[-1] == 0.0 and ca[:4].min() > 0.3


def test_skill_ordering_recovered_by_shapley_and_label_free():
    rng = np.random.default_rng(5)
    skills = [0.2, 0.5, 0.8, 1.2, 1.8, 2.5]
    P, y = skilled_owners(rng, len(skills), 400, 6, skills)
    phi = inc.exact_shapley(CoalitionGame.from_proba(P, y))
    assert stats.spearmanr(phi, skills).statistic > 0.9
    for s, v in inc.label_free_rewards(P).items():
        if s != "equal":
            assert inc.spearman(v, phi) > 0.7, s


# --------------------------------------------------------------------------- alignment


def test_alignment_metrics():
    a = np.array([0.1, 0.4, 0.2, 0.3])
    b = np.array([0.2, 0.3, 0.1, 0.4])
    assert inc.spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic)
    assert inc.kendall(a, b) == pytest.approx(stats.kendalltau(a, b).statistic)
    assert inc.l1_distance(a, a * 7) == pytest.approx(0.0)
    assert inc.l1_distance(a, b) == pytest.approx(0.4)
    assert inc.topk_overlap(a, b, 2) == 1.0  # top2(a) = {1, 3} = top2(b)
    assert inc.topk_overlap(a, b, 1) == 0.0  # owner 1 vs owner 3
    assert inc.topk_overlap(a, b, 3) == pytest.approx(2 / 3)
    assert math.isnan(inc.spearman(np.ones(4), b))  # equal split: undefined rank correlation
    s = inc.reward_shares([-1.0, 1.0, 3.0])
    np.testing.assert_allclose(s, [0.0, 0.25, 0.75])
    np.testing.assert_allclose(inc.reward_shares([0.0, -2.0]), [0.5, 0.5])
    al = inc.alignment(a, b)
    assert set(al) == {"spearman", "kendall", "l1", "topk"}
    with pytest.raises(ValueError, match="length"):
        inc.spearman(a, b[:3])
    with pytest.raises(ValueError, match="k"):
        inc.topk_overlap(a, b, 9)


# --------------------------------------------------------------------------- adversaries


def test_adversaries():
    rng = np.random.default_rng(6)
    P, y = skilled_owners(rng, 5, 150, 4, [1.0, 1.5, 0.5, 2.0, 1.0])
    same, idx = inc.add_adversary(P, "none")
    assert idx is None and same.shape == P.shape
    syb, idx = inc.add_adversary(P, "sybil")
    assert idx == 5 and np.array_equal(syb[5], P[0])
    phi = inc.exact_shapley(CoalitionGame.from_proba(syb, y))
    assert phi[0] == phi[5]  # symmetric: a sybil gets exactly its original's value
    rnd, _ = inc.add_adversary(P, "random", seed=3)
    rnd2, _ = inc.add_adversary(P, "random", seed=3)
    assert np.array_equal(rnd, rnd2) and np.allclose(rnd[5].sum(axis=1), 1.0)
    const, _ = inc.add_adversary(P, "constant", constant_class=2)
    assert np.all(const[5].argmax(axis=1) == 2)
    shares = inc.reward_shares(inc.label_free_rewards(const)["peer_ca"])
    assert inc.adversary_share(inc.label_free_rewards(const)["peer_ca"], 5) == shares[5] == 0.0
    assert math.isnan(inc.adversary_share(phi, None))
    with pytest.raises(ValueError, match="adversary"):
        inc.add_adversary(P, "evil")


# --------------------------------------------------------------------------- measure function and plots


def test_score_schemes_rows():
    from fibench.bench.measures.incentives import SCHEMES, score_schemes

    rng = np.random.default_rng(7)
    P, y = skilled_owners(rng, 6, 120, 5, [0.3, 0.6, 0.9, 1.2, 1.5, 1.8])
    P, adv = inc.add_adversary(P, "constant")
    rows = score_schemes(P, y, adversary_index=adv)
    assert [r["scheme"] for r in rows] == list(SCHEMES)
    by = {r["scheme"]: r for r in rows}
    assert by["shapley"]["spearman"] == pytest.approx(1.0) and by["shapley"]["l1"] == 0.0
    assert by["peer_ca"]["adversary_share"] == 0.0
    assert by["equal"]["adversary_share"] == pytest.approx(1 / 7)
    for r in rows:
        assert len(r["shares"].split(";")) == 7


def _fake_results():
    rng = np.random.default_rng(8)
    rows = []
    for K in (5, 10):
        for alpha in (0.05, 0.5, "iid"):
            for adv in ("none", "sybil", "constant"):
                P = K + (adv != "none")
                for s in ("shapley", "mc_shapley", "agreement", "peer_ca", "equal"):
                    sh = rng.dirichlet(np.ones(P))
                    rows.append({"scheme": s, "owners": K, "alpha": alpha, "seed": 0, "adversary": adv,
                                 "players": P, "spearman": np.nan if s == "equal" else rng.uniform(-1, 1),
                                 "kendall": 0.0, "l1": 0.1, "adversary_share": sh[-1] if adv != "none" else np.nan,
                                 "shares": ";".join(f"{x:.6f}" for x in sh)})
    return pd.DataFrame(rows)


def test_plots_written(tmp_path):
    from fibench.bench.plots.incentives import plot_incentives

    df = _fake_results()
    # as read back from results.csv: alpha is a string column
    df = pd.read_csv(pd.io.common.StringIO(df.to_csv(index=False)))
    paths = plot_incentives(df, tmp_path)
    names = {p.name for p in paths}
    assert {"incentives_rank_vs_alpha.png", "incentives_shares.png", "incentives_adversary_share.png"} <= names
    assert all(p.stat().st_size > 1000 for p in paths)
    assert plot_incentives(pd.DataFrame(), tmp_path) == []


def test_run_point_smoke():
    pytest.importorskip("fibench.fi.partition")
    pytest.importorskip("fibench.fi.federated")
    from fibench.bench.measures.incentives import SCHEMES, run_point

    rows = run_point({"owners": 3, "alpha": "iid", "adversary": "sybil", "seed": 0, "model": "lr"})
    assert [r["scheme"] for r in rows] == list(SCHEMES)
    need = {"scheme", "owners", "alpha", "seed", "spearman", "kendall", "l1", "adversary", "adversary_share"}
    assert need <= set(rows[0])
    assert rows[0]["alpha"] == "iid" and rows[0]["players"] == 4
    again = run_point({"owners": 3, "alpha": "iid", "adversary": "sybil", "seed": 0, "model": "lr"})
    assert [r["shares"] for r in rows] == [r["shares"] for r in again]
    with pytest.raises(ValueError, match="alpha"):
        run_point({"owners": 3, "alpha": "skewed"})


def test_shares_figure_picks_a_readable_number_of_owners():
    """With 250-owner rows next to 10-owner rows the shares figure shows the 10 owners (one bar
    per owner stays readable); with 250 owners only, it still draws them."""
    from fibench.bench.plots.incentives import SHARES_MAX_OWNERS, _pick_setting

    rows = []
    for K in (10, 250):
        for s in ("shapley", "agreement"):
            rows.append({"scheme": s, "alpha": 0.1, "owners": K, "adversary": "none", "seed": 0,
                         "shares": ";".join(["%.6f" % (1 / K)] * K)})
    df = pd.DataFrame(rows)
    _, _, K, _ = _pick_setting(df)
    assert K == 10 <= SHARES_MAX_OWNERS
    _, _, K, _ = _pick_setting(df[df["owners"] == 250])
    assert K == 250
