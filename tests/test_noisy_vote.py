"""The noisy secure vote (GNMax/LNMax inside MPC): the secure noisy label equals the plaintext
argmax of (the same counts + the same noise) exactly, in M1 and M2, hard and weighted vote, a2b
and fss, P = 2..8; it costs no online byte or round; bad input is refused.

Test hook: the noise is read where it is dealt — a spy wraps ``Dealer.noise_shares`` and sums
the shares it returns (what a coalition of ALL parties could do). Nothing in a normal run
stores or reveals the noise.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import make_session
from reference import reconstruct

from fibench.fi import ensemble as ens
from fibench.fi import secure_inference as si
from fibench.fi.data import load_dataset
from fibench.fi.federated import FederatedEnsemble
from fibench.fi.partition import partition
from fibench.mpc import noise as dpnoise
from fibench.mpc.dealer import base as dealer_base


@pytest.fixture
def noise_log(monkeypatch):
    """Every noise vector the dealer deals in this test (int64), in order."""
    log = []
    real = dealer_base.Dealer.noise_shares

    def spy(self, shape, kind, scale):
        out = real(self, shape, kind, scale)
        log.append(reconstruct(out.z).view(np.int64).reshape(shape))
        return out

    monkeypatch.setattr(dealer_base.Dealer, "noise_shares", spy)
    return log


@pytest.fixture(scope="module")
def fe5():
    d = load_dataset("digits", seed=0)
    parts = partition(d.y_train, "dirichlet", 5, alpha=1.0, seed=0)
    fe = FederatedEnsemble.from_partition(d.X_train, d.y_train, parts, d.n_classes,
                                          validation=(d.X_val, d.y_val), model="lr", seed=0)
    return fe, d.X_test[:24]


@pytest.mark.parametrize("mode", ["M1", "M2"])
@pytest.mark.parametrize("rule", ["hard_vote", "weighted_vote"])
@pytest.mark.parametrize("topology, protocol", [("T1", "a2b"), ("T2", "fss"), ("T2", "a2b")])
@pytest.mark.parametrize("noise", ["gaussian", "laplace"])
def test_secure_noisy_label_equals_plaintext_reference(fe5, noise_log, mode, rule, topology, protocol, noise):
    fe, X = fe5
    lab, rep = fe.secure_predict(X, mode=mode, topology=topology, protocol=protocol, rule=rule,
                                 noise=noise, sigma=1.5)
    assert len(noise_log) == 1 and noise_log[0].shape == (len(X), 10)
    ref = ens.noisy_argmax(fe.raw_vote_counts(X, rule), noise_log[0])
    assert np.array_equal(lab, ref)
    # the noise changed something (the test can fail): not the noiseless vote everywhere
    assert np.any(ref != fe.predict(X, rule)) or np.all(noise_log[0] == 0)


def test_noise_changes_labels_and_sigma_matters(fe5, noise_log):
    fe, X = fe5
    lab_small, _ = fe.secure_predict(X, mode="M1", topology="T2", rule="hard_vote", noise="gaussian", sigma=0.01)
    lab_big, _ = fe.secure_predict(X, mode="M1", topology="T2", rule="hard_vote", noise="gaussian", sigma=1000.0)
    clean = fe.predict(X, "hard_vote")
    assert np.mean(lab_small == clean) >= 0.95  # tiny noise: only ties can move
    assert np.mean(lab_big == clean) < 0.6      # huge noise: labels close to random
    assert np.array_equal(lab_big, ens.noisy_argmax(fe.raw_vote_counts(X, "hard_vote"), noise_log[1]))


@pytest.mark.parametrize("mode", ["M1", "M2"])
@pytest.mark.parametrize("protocol", ["a2b", "fss"])
def test_noisy_vote_costs_no_online_byte_or_round(fe5, mode, protocol):
    fe, X = fe5
    _, r0 = fe.secure_predict(X, mode=mode, topology="T2", protocol=protocol, rule="hard_vote")
    _, r1 = fe.secure_predict(X, mode=mode, topology="T2", protocol=protocol, rule="hard_vote",
                              noise="gaussian", sigma=40.0)
    assert r1.online_rounds == r0.online_rounds
    assert r1.online_bytes_sent_per_party == r0.online_bytes_sent_per_party
    assert r1.online_bytes_recv_per_party == r0.online_bytes_recv_per_party
    assert r1.querier_bytes_recv == r0.querier_bytes_recv
    # offline: 8 bytes per count, to party 0 (the report's per-party figure is the busiest party's)
    assert r1.offline_bytes_per_party - r0.offline_bytes_per_party == 8 * len(X) * 10


@settings(max_examples=25, deadline=None)
@given(P=st.integers(2, 8), n=st.integers(1, 6), C=st.integers(1, 5), K=st.integers(1, 9),
       sigma=st.sampled_from([0.2, 0.7, 3.0]), kind=st.sampled_from(dpnoise.KINDS), weighted=st.booleans(),
       data=st.data())
def test_m1_noisy_vote_property(P, n, C, K, sigma, kind, weighted, data):
    """Random (weighted) one-hot votes, including ties and one class / one query / one owner:
    the secure label equals argmax(raw counts + the dealt noise), ties to the lowest label."""
    labels = np.array(data.draw(st.lists(st.integers(0, C - 1), min_size=K * n, max_size=K * n))).reshape(K, n)
    w = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=K, max_size=K))) if weighted \
        else np.ones(K)
    votes = np.zeros((K, n, C))
    votes[np.arange(K)[:, None], np.arange(n)[None, :], labels] = 1.0
    s = make_session(P)
    dealt = []
    real = s.dealer.noise_shares
    s.dealer.noise_shares = lambda shape, k, sc: dealt.append(real(shape, k, sc)) or dealt[-1]
    lab = si.m1_labels(s, votes * w[:, None, None], "T2", to="querier", noise=kind, sigma=sigma).view(np.int64)
    z = reconstruct(dealt[0].z).view(np.int64)
    ref = ens.noisy_argmax(ens.raw_vote_counts(votes, w if weighted else None), z)
    assert np.array_equal(lab, ref)


def test_wrap_around_noise_values():
    """Negative noise shares wrap around 2^64 in the ring; counts + noise stay exact."""
    s = make_session(2)
    votes = np.zeros((3, 4, 3))
    votes[:, :, 0] = 1.0
    dealt = []
    real = s.dealer.noise_shares
    s.dealer.noise_shares = lambda shape, k, sc: dealt.append(real(shape, k, sc)) or dealt[-1]
    lab = si.m1_labels(s, votes, "T2", to="querier", noise="laplace", sigma=50.0).view(np.int64)
    z = reconstruct(dealt[0].z).view(np.int64)
    assert (z < 0).any()  # some noise is negative: its raw value is above 2^63
    assert np.array_equal(lab, ens.noisy_argmax(ens.raw_vote_counts(votes), z))


def test_plaintext_simulation_matches_its_reference(fe5):
    fe, X = fe5
    a = fe.noisy_predict(X, "gaussian", 2.0, rule="hard_vote", seed=7)
    b = fe.noisy_predict(X, "gaussian", 2.0, rule="hard_vote", seed=7)
    assert np.array_equal(a, b)  # a seeded simulation is reproducible
    z = ens.vote_noise("gaussian", 2.0, (len(X), 10), seed=7)
    assert np.array_equal(a, ens.noisy_argmax(fe.raw_vote_counts(X, "hard_vote"), z))
    assert not np.array_equal(ens.vote_noise("gaussian", 2.0, (50, 10)), ens.vote_noise("gaussian", 2.0, (50, 10)))
    assert fe.vote_scale("hard_vote") == 1.0
    assert fe.vote_scale("weighted_vote") == pytest.approx(float(np.max(fe.weights_)), abs=2**-16)


@pytest.mark.parametrize("kw, word", [
    ({"rule": "soft_vote", "noise": "gaussian", "sigma": 1.0}, "vote-count rules"),
    ({"rule": "logit_sum", "noise": "laplace", "sigma": 1.0}, "vote-count rules"),
    ({"rule": "hard_vote", "noise": "gaussian"}, "needs sigma"),
    ({"rule": "hard_vote", "sigma": 3.0}, "needs noise"),
    ({"rule": "hard_vote", "noise": "uniform", "sigma": 1.0}, "noise must be one of"),
    ({"rule": "hard_vote", "noise": "gaussian", "sigma": 0.0}, "sigma"),
    ({"rule": "hard_vote", "noise": "gaussian", "sigma": -2.0}, "sigma"),
    ({"rule": "hard_vote", "noise": "gaussian", "sigma": 1e7}, "sigma"),
    ({"rule": "hard_vote", "noise": "gaussian", "sigma": float("nan")}, "sigma"),
    ({"rule": "hard_vote", "noise": "gaussian", "sigma": 1.0, "servers": 3, "sharing": "replicated"},
     "needs sharing='additive'"),
])
def test_bad_input_is_refused_before_any_computation(fe5, kw, word, noise_log):
    fe, X = fe5
    with pytest.raises(ValueError, match=word):
        fe.secure_predict(X, mode="M1", topology="T2", **kw)
    assert noise_log == []
    with pytest.raises(ValueError, match="vote-count rules"):
        fe.noisy_predict(X, "gaussian", 1.0, rule="soft_vote")


def test_m1_refuses_noise_on_scores_that_are_not_votes():
    s = make_session(2)
    with pytest.raises(ValueError, match="one-hot votes"):
        si.m1_labels(s, np.full((2, 3, 4), 0.25), "T2", to="querier", noise="gaussian", sigma=1.0)


def test_fss_range_promise_covers_the_noise():
    s = make_session(2, protocol="fss", cmp_bits=24)
    votes = np.zeros((3, 2, 3))
    votes[:, :, 1] = 1.0
    si.m1_labels(s, votes, "T2", to="querier")  # noiseless: 24 bits suffice
    with pytest.raises(ValueError, match="noisy vote counts need cmp_bits"):
        si.m1_labels(s, votes, "T2", to="querier", noise="gaussian", sigma=40.0)


def test_256_owners_noisy_vote():
    """A PATE-sized ensemble: 256 owners (T2), M1 hard vote with GNMax, exact reference."""
    rng = np.random.default_rng(0)
    K, n, C = 256, 4, 10
    votes = np.zeros((K, n, C))
    votes[np.arange(K)[:, None], np.arange(n)[None, :], rng.integers(0, C, (K, n))] = 1.0
    s = make_session(2)
    dealt = []
    real = s.dealer.noise_shares
    s.dealer.noise_shares = lambda shape, k, sc: dealt.append(real(shape, k, sc)) or dealt[-1]
    lab = si.m1_labels(s, votes, "T2", to="querier", noise="gaussian", sigma=40.0).view(np.int64)
    z = reconstruct(dealt[0].z).view(np.int64)
    assert np.array_equal(lab, ens.noisy_argmax(ens.raw_vote_counts(votes), z))


def test_confident_gnmax_against_a_plain_loop(fe5):
    fe, X = fe5
    counts = fe.raw_vote_counts(X, "hard_vote")
    rng = np.random.default_rng(1)
    z1 = rng.integers(-3 * 2**16, 3 * 2**16, len(X))
    z2 = rng.integers(-2**16, 2**16, counts.shape)
    T = 3 * 2**16
    got = ens.confident_noisy_argmax(counts, T, z1, z2)
    for i in range(len(X)):
        row = [int(c) + int(z) for c, z in zip(counts[i], z2[i])]
        best = max(range(len(row)), key=lambda j: (row[j], -j))  # ties to the lowest label
        assert got[i] == (best if int(counts[i].max()) + int(z1[i]) >= T else -1)
    assert (got == -1).any() and (got >= 0).any()  # both branches exercised
    # threshold 0 with no noise: every query answered; above K: none
    assert np.all(ens.confident_noisy_argmax(counts, 0, np.zeros(len(X), np.int64), np.zeros_like(counts)) >= 0)
    assert np.all(fe.confident_predict(X, 6.0, 0.01, 1.0, rule="hard_vote", seed=0) == -1)
    lab = fe.confident_predict(X, 0.0, 0.01, 0.01, rule="hard_vote", seed=0)
    assert np.mean(lab == fe.predict(X, "hard_vote")) > 0.9
    with pytest.raises(ValueError, match="threshold"):
        fe.confident_predict(X, float("nan"), 1.0, 1.0, rule="hard_vote")
    with pytest.raises(ValueError, match="raw_noise1"):
        ens.confident_noisy_argmax(counts, 0, np.zeros(3, np.int64), z2)


def test_counts_from_labels_equal_counts_from_votes(fe5):
    fe, X = fe5
    labels = np.stack([m.predict(X) for m in fe.owners_])
    for w in (None, fe.weights_):
        assert np.array_equal(ens.raw_counts_from_labels(labels, 10, w), ens.raw_vote_counts(fe.owner_outputs(X, "votes"), w))
    with pytest.raises(ValueError, match="labels"):
        ens.raw_counts_from_labels(labels, 3)


@pytest.mark.mpi
@pytest.mark.parametrize("P, protocol", [(2, "a2b"), (2, "fss"), (3, "a2b")])
def test_noisy_vote_on_mpi_ranks_equals_local(P, protocol):
    """The dealer's noise shares through the mpi backend: with the same (test-only) dealer seed,
    the ranks' label and counts equal the local backend's."""
    from test_mpi import _mpi_unusable

    reason = _mpi_unusable()
    if reason is not None:
        pytest.skip(f"MPI not usable: {reason}")
    from fibench.bench.mpi_worker import run_point_mpi
    from fibench.mpc import Session

    seed = b"mpi-noise-test!!"
    params = {"owners": 5, "queries": 8, "classes": 4, "vote_seed": 3, "sigma": 2.0, "noise": "laplace",
              "protocol": protocol, "dealer_seed_hex": seed.hex()}
    (row,) = run_point_mpi(P, params, measure="fibench.bench.measures.privacy:mpi_noisy_vote_point", timeout=180)
    rng = np.random.default_rng(3)
    votes = np.zeros((5, 8, 4))
    votes[np.arange(5)[:, None], np.arange(8)[None, :], rng.integers(0, 4, (5, 8))] = 1.0
    s = Session(P, dealer_seed=seed, protocol=protocol)
    lab = si.m1_labels(s, votes, "T2", to=0, noise="laplace", sigma=2.0).view(np.int64)
    st = s.stats.summary()
    assert row["labels"] == lab.tolist()
    assert row["online_rounds"] == st["online_rounds"]
    assert row["online_bytes_sent_per_party"] == st["online_bytes_sent_per_party"]
    assert row["offline_bytes_per_party"] == st["offline_bytes_per_party"]
