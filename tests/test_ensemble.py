"""Aggregation rules, metrics and local models in full class space."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fibench.fi import ensemble as ens
from fibench.fi.models import UNSEEN_LOGIT, LocalModel


# -- naive references ------------------------------------------------------------------------

def naive_plurality(outputs, weights=None):
    K, n, C = outputs.shape
    w = np.ones(K) if weights is None else weights
    out = []
    for i in range(n):
        counts = [0.0] * C
        for k in range(K):
            scores = list(outputs[k, i])
            counts[scores.index(max(scores))] += w[k]  # first maximum = lowest label
        out.append(counts.index(max(counts)))
    return np.array(out)


stacks = arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 8), st.integers(2, 6)),
                elements=st.sampled_from([0.0, 0.25, 0.5, 1.0]))


@settings(max_examples=60, deadline=None)
@given(stacks)
def test_hard_vote_matches_naive(outputs):
    assert np.array_equal(ens.aggregate("hard_vote", outputs), naive_plurality(outputs))


@settings(max_examples=40, deadline=None)
@given(stacks, st.data())
def test_weighted_vote_matches_naive(outputs, data):
    w = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0]), min_size=outputs.shape[0],
                                    max_size=outputs.shape[0])))
    assert np.array_equal(ens.aggregate("weighted_vote", outputs, w), naive_plurality(outputs, w))


def test_hard_vote_ties_lowest_label():
    # owner 0 votes 2, owner 1 votes 1: tie -> label 1; a tie inside an owner -> its lowest label
    outputs = np.array([[[0, 0, 1.0]], [[0, 1.0, 0]]])
    assert ens.aggregate("hard_vote", outputs).tolist() == [1]
    assert ens.aggregate("hard_vote", np.array([[[0.5, 0.5, 0.0]]])).tolist() == [0]
    assert ens.aggregate("hard_vote", np.zeros((3, 2, 4))).tolist() == [0, 0]


def test_soft_vote_is_mean_and_logit_sum_is_sum():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(5), size=(4, 7))
    assert np.allclose(ens.soft_vote(p), sum(p[k] for k in range(4)) / 4)
    assert np.array_equal(ens.aggregate("soft_vote", p), np.argmax(p.mean(axis=0), axis=1))
    z = rng.normal(size=(3, 7, 5))
    assert np.allclose(ens.logit_sum(z), z[0] + z[1] + z[2])


def test_rule_registry_and_weights():
    assert set(ens.RULES) == {"soft_vote", "logit_sum", "hard_vote", "weighted_vote"}
    assert ens.RULES["soft_vote"].input == "proba" and ens.RULES["logit_sum"].input == "logits"
    v = np.array([[[1.0, 0]], [[0, 1.0]], [[0, 1.0]]])
    assert ens.aggregate("weighted_vote", v, [3.0, 1.0, 1.0]).tolist() == [0]
    with pytest.raises(ValueError, match="weights"):
        ens.aggregate("weighted_vote", v)
    with pytest.raises(ValueError, match="weights"):
        ens.aggregate("weighted_vote", v, [1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="rule"):
        ens.aggregate("median", v)
    with pytest.raises(ValueError, match="outputs"):
        ens.hard_vote(np.zeros((2, 3)))
    y = np.array([0, 1])
    val = np.array([[[1.0, 0], [1.0, 0]], [[1.0, 0], [0, 1.0]]])
    assert ens.accuracy_weights(val, y).tolist() == [0.5, 1.0]


def test_metrics_and_baselines():
    y = np.array([0, 1, 2, 2])
    m = ens.evaluate(y, np.array([0, 1, 2, 0]), 3, best_owner_accuracy=0.5, mean_owner_accuracy=0.25)
    assert m["accuracy"] == 0.75 and m["gain_over_best"] == 0.25 and m["gain_over_mean"] == 0.5
    assert 0 < m["macro_f1"] < 1
    outs = np.zeros((2, 4, 3))
    outs[0, :, 0] = 1  # owner 0 always says 0
    outs[1, np.arange(4), y] = 1  # owner 1 is perfect
    b = ens.baselines(outs, y)
    assert b["best_owner_accuracy"] == 1.0 and b["best_owner"] == 1 and b["mean_owner_accuracy"] == 0.625


# -- local models --------------------------------------------------------------------------------

def _toy(n=120, d=5, C=4, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3, size=(C, d))
    y = rng.integers(0, C, size=n)
    return centers[y] + rng.normal(size=(n, d)), y


@pytest.mark.parametrize("kind", ["lr", "mlp"])
@pytest.mark.parametrize("seen", [[0, 2], [1, 2, 3], [3]])
def test_unseen_classes_zero_probability(kind, seen):
    X, y = _toy()
    m = np.isin(y, seen)
    lm = LocalModel(kind, 6, hidden=8, seed=0, max_iter=50).fit(X[m], y[m])
    p, z = lm.predict_proba(X), lm.logits(X)
    assert p.shape == z.shape == (len(X), 6)
    unseen = [c for c in range(6) if c not in seen]
    assert np.all(p[:, unseen] == 0.0) and np.all(z[:, unseen] == UNSEEN_LOGIT)
    assert np.allclose(p.sum(axis=1), 1.0)
    assert set(np.unique(lm.predict(X))) <= set(seen)
    # the exported layers reproduce the logits
    h = X
    for (W, b), act in zip(lm.weights(), lm.activations):
        assert W.dtype == b.dtype == np.float64
        h = h @ W + b
        if act == "relu":
            h = np.maximum(h, 0)
    assert np.allclose(h, z)
    assert len(lm.weights()) == (1 if kind == "lr" else 2) and lm.weights()[-1][0].shape[1] == 6


@pytest.mark.parametrize("kind", ["lr", "mlp"])
def test_matches_sklearn_probabilities(kind):
    X, y = _toy(C=3)
    for seen in ([0, 1, 2], [0, 2]):  # multinomial and binary (one sklearn output)
        m = np.isin(y, seen)
        lm = LocalModel(kind, 3, hidden=8, seed=1, max_iter=300).fit(X[m], y[m])
        if kind == "lr":
            from sklearn.linear_model import LogisticRegression

            ref = LogisticRegression(max_iter=300).fit(X[m], y[m]).predict_proba(X)
            assert np.allclose(lm.predict_proba(X)[:, seen], ref, atol=1e-4)
        else:
            assert np.all(lm.predict_proba(X)[:, [c for c in range(3) if c not in seen]] == 0)


def test_standardize_folds_into_layers():
    X, y = _toy()
    X = X * 100 + 50
    lm = LocalModel("lr", 4, seed=0, standardize=True).fit(X, y)
    (W, b), = lm.weights()
    assert np.allclose(X @ W + b, lm.logits(X))
    assert (lm.predict(X) == y).mean() > 0.9


def test_local_model_bad_params():
    X, y = _toy()
    with pytest.raises(ValueError, match="model"):
        LocalModel("svm")
    with pytest.raises(ValueError, match="hidden"):
        LocalModel("mlp", hidden=0)
    with pytest.raises(ValueError, match="n_classes"):
        LocalModel("lr", 3).fit(X, y)  # label 3 out of range
    with pytest.raises(ValueError, match="X"):
        LocalModel("lr").fit(X[:, :, None], y)
    lm = LocalModel("lr").fit(X, y)
    with pytest.raises(ValueError, match="features"):
        lm.predict(X[:, :2])
    with pytest.raises(RuntimeError, match="not fitted"):
        LocalModel("lr").predict(X)
