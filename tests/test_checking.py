"""The checking mode (Session(check=True)) and range promises: every silently wrong result
of issue 13 becomes a RangeError / ValueError naming the op, and the end-to-end pipelines run
clean under it."""
import numpy as np
import pytest

from fibench.fi import secure_inference as si
from fibench.fi.data import load_dataset
from fibench.fi.federated import FederatedEnsemble
from fibench.fi.partition import partition
from fibench.mpc import Session
from fibench.mpc.checking import RangeError


def test_overflowing_product_is_caught():
    s = Session(2, check=True)
    with pytest.raises(RangeError, match="mul: 1 product"):
        s.mul(s.share([1e6]), s.share([1e6]))  # 1e12 > 2^30: wraps (was 3567587328.0)
    s30 = Session(2, frac_bits=30, check=True)
    with pytest.raises(RangeError, match="mul"):
        s30.mul(s30.share([3.0]), s30.share([3.0]))  # 9 > 2^(62-60) = 4 (was -7.0)
    ok = Session(2, check=True)
    assert ok.reveal(ok.mul(ok.share([2.0**14]), ok.share([-(2.0**15) + 1])))[0] == 2.0**14 * (-(2.0**15) + 1)


def test_matmul_sum_range_is_caught():
    s = Session(3, check=True)
    A = np.full((1, 4), 2.0**14)
    with pytest.raises(RangeError, match="matmul"):
        s.matmul(s.share(A), s.share(np.full((4, 1), 2.0**15)))  # 4 * 2^29 = 2^31 > 2^30


def test_wrapping_difference_is_caught():
    s = Session(2, check=True)
    big = 2**62 - 1
    with pytest.raises(RangeError, match="sub"):
        s.lt(s.share_raw([2**62 + 5]), s.share_raw([-(2**62) - 5]))
    assert s.reveal_raw(s.lt(s.share_int([big]), s.share_int([-big]))).tolist() == [0]


def test_broken_cmp_bits_promise_is_caught():
    s = Session(2, protocol="fss", cmp_bits=32, check=True)
    with pytest.raises(RangeError, match="cmp_bits=32"):
        s.relu(s.share_int([-(2**31) - 1]))  # returned a negative number
    with pytest.raises(RangeError, match="cmp_bits=32"):
        s.ltz(s.share_int([2**31]))


def test_probabilistic_local_truncation_is_caught_and_dealer_is_exact():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-2**15, 2**15, 4000), rng.uniform(-2**15, 2**15, 4000)
    keep = np.abs(a * b) < 2.0**30 * 0.999
    a, b = a[keep], b[keep]
    local = Session(2, trunc="local", check=True)
    with pytest.raises(RangeError, match="trunc.*off by more than 1 ulp"):
        local.mul(local.share(a), local.share(b))
    exact = Session(2, trunc="dealer", check=True)
    exact.mul(exact.share(a), exact.share(b))  # no error: within 1 ulp everywhere


def test_checking_needs_the_local_backend_and_a_bool():
    with pytest.raises(ValueError, match="check"):
        Session(2, check="yes")


@pytest.fixture(scope="module")
def fitted():
    d = load_dataset("digits", seed=0)
    parts = partition(d.y_train, scheme="dirichlet", n_owners=10, alpha=0.1, seed=0)
    fe = FederatedEnsemble(model="mlp", rule="logit_sum", seed=0).fit(
        [(d.X_train[p], d.y_train[p]) for p in parts], n_classes=10)
    return d, fe


@pytest.mark.parametrize("mode", ["M1", "M2"])
@pytest.mark.parametrize("protocol,P", [("a2b", 2), ("a2b", 3), ("fss", 2)])
def test_pipelines_run_clean_in_checking_mode(fitted, mode, protocol, P):
    d, fe = fitted
    X = d.X_test[:24]
    kw = ({"owner_scores": fe.m1_scores(X, "logit_sum")} if mode == "M1" else
          {"owner_layers": [m.weights() for m in fe.owners_], "rule": "logit_sum"})
    s = Session(P, protocol=protocol, check=True)
    labels, _ = si.run_secure(X, mode=mode, topology="T2", servers=P, protocol=protocol, session=s, **kw)
    assert np.mean(labels == fe.predict(X, "logit_sum")) >= 0.95


def test_pipeline_refuses_a_cmp_bits_promise_it_cannot_keep(fitted):
    """Unseen classes sit at a very negative logit in every owner: summed over K = 10 owners they
    leave a 32-bit promise; the pipeline derives the bound and refuses instead of answering garbage."""
    d, fe = fitted
    X = d.X_test[:8]
    scores = fe.m1_scores(X, "logit_sum")
    need = si.cmp_bits_needed(float(sum(np.abs(sc).max() for sc in scores)), 16)
    assert need > 32
    with pytest.raises(ValueError, match=rf"cmp_bits=32 is too small.*cmp_bits >= {need}"):
        si.run_secure(X, mode="M1", topology="T2", protocol="fss", owner_scores=scores,
                      session=Session(2, protocol="fss", cmp_bits=32))
    s = Session(2, protocol="fss", cmp_bits=need, check=True)
    labels, _ = si.run_secure(X, mode="M1", topology="T2", protocol="fss", owner_scores=scores, session=s)
    assert np.mean(labels == fe.predict(X, "logit_sum")) >= 0.95


@pytest.mark.parametrize("protocol,P", [("a2b", 2), ("a2b", 3), ("fss", 2)])
def test_m2_soft_vote_runs_clean_in_checking_mode(fitted, protocol, P):
    """The secure softmax of 10 owners' logits (unseen classes at -1e4) keeps every range."""
    d, fe = fitted
    X = d.X_test[:24]
    s = Session(P, protocol=protocol, check=True)
    labels, _ = si.run_secure(X, mode="M2", topology="T2", servers=P, protocol=protocol, session=s,
                              owner_layers=[m.weights() for m in fe.owners_], rule="soft_vote")
    assert np.mean(labels == fe.predict(X, "soft_vote")) >= 0.95


def test_m2_soft_vote_keeps_the_cmp_bits_it_derives(fitted):
    """fss with the tightest promise the soft-vote pipeline asks for: softmax comparisons
    (logit differences, clamp inputs) and the final argmax of the probability sums stay inside."""
    from fibench.fi import graph as gr
    from fibench.fi import secure_graph as sg

    d, fe = fitted
    X = d.X_test[:24]
    layers = [m.weights() for m in fe.owners_]
    b = sg.graph_bounds(X, [gr.as_graph(g) for g in layers], "soft_vote")
    need = max(sg.cmp_bits_needed(b["relu"], 16, differences=False), sg.cmp_bits_needed(b["final"], 16))
    assert need < 64
    with pytest.raises(ValueError, match="cmp_bits"):
        si.run_secure(X, mode="M2", topology="T2", protocol="fss", owner_layers=layers, rule="soft_vote",
                      session=Session(2, protocol="fss", cmp_bits=need - 1))
    s = Session(2, protocol="fss", cmp_bits=need, check=True)
    labels, _ = si.run_secure(X, mode="M2", topology="T2", protocol="fss", session=s, owner_layers=layers,
                              rule="soft_vote")
    assert np.mean(labels == fe.predict(X, "soft_vote")) >= 0.95
