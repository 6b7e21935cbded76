"""FederatedEnsemble API and the accuracy bench measure."""
import numpy as np
import pytest

from fibench.fi import ensemble as ens
from fibench.fi.data import load_dataset
from fibench.fi.federated import FederatedEnsemble
from fibench.fi.partition import dirichlet_partition


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0)


@pytest.fixture(scope="module")
def fe_iid(digits):
    parts = dirichlet_partition(digits.y_train, 5, "iid", seed=0)
    return FederatedEnsemble.from_partition(digits.X_train, digits.y_train, parts, 10,
                                            validation=(digits.X_val, digits.y_val), model="lr", seed=0)


def test_iid_k5_accuracy(digits, fe_iid):
    assert fe_iid.n_owners == 5
    for rule in ens.RULES:
        assert fe_iid.score(digits.X_test, digits.y_test, rule=rule) > 0.8
    assert fe_iid.weights_.shape == (5,) and np.all(fe_iid.weights_ > 0.8)


def test_mlp_iid_accuracy(digits):
    parts = dirichlet_partition(digits.y_train, 5, "iid", seed=1)
    fe = FederatedEnsemble.from_partition(digits.X_train, digits.y_train, parts, 10, model="mlp", hidden=16, seed=1)
    assert fe.score(digits.X_test, digits.y_test) > 0.8


def test_outputs_and_predict_consistent(digits, fe_iid):
    X = digits.X_test[:50]
    for kind in ("proba", "logits", "votes"):
        out = fe_iid.owner_outputs(X, kind)
        assert out.shape == (5, 50, 10)
    p = fe_iid.owner_outputs(X, "proba")
    assert np.array_equal(fe_iid.predict(X), np.argmax(p.mean(axis=0), axis=1))
    assert np.allclose(fe_iid.predict_proba(X), p.mean(axis=0))
    v = fe_iid.owner_outputs(X, "votes")
    assert np.all(v.sum(axis=2) == 1)
    for rule in ens.RULES:
        pp = fe_iid.predict_proba(X, rule=rule)
        assert np.allclose(pp.sum(axis=1), 1.0)
        assert np.array_equal(np.argmax(pp, axis=1), fe_iid.predict(X, rule=rule))


def test_fit_owner_list_and_single_class_owner(digits):
    X, y = digits.X_train, digits.y_train
    owners = [(X[y == 0], y[y == 0]), (X[y != 0], y[y != 0])]
    fe = FederatedEnsemble(model="mlp", hidden=8, seed=0).fit(owners, n_classes=10)
    p = fe.owner_outputs(digits.X_test, "proba")
    assert np.all(p[0][:, 0] == 1.0) and np.all(p[1][:, 0] == 0.0)
    assert fe.weights_.shape == (2,)  # training sizes without validation data
    assert np.isclose(fe.weights_.sum(), 1.0)


def test_deterministic(digits):
    parts = dirichlet_partition(digits.y_train, 3, 0.5, seed=2)
    a = FederatedEnsemble.from_partition(digits.X_train, digits.y_train, parts, 10, model="mlp", hidden=8, seed=4)
    b = FederatedEnsemble.from_partition(digits.X_train, digits.y_train, parts, 10, model="mlp", hidden=8, seed=4)
    assert np.array_equal(a.owner_outputs(digits.X_test, "logits"), b.owner_outputs(digits.X_test, "logits"))


def test_bad_params(digits):
    X, y = digits.X_train[:40], digits.y_train[:40]
    with pytest.raises(ValueError, match="model"):
        FederatedEnsemble(model="svm")
    with pytest.raises(ValueError, match="rule"):
        FederatedEnsemble(rule="max")
    with pytest.raises(ValueError, match="hidden"):
        FederatedEnsemble(hidden=-1)
    with pytest.raises(ValueError, match="seed"):
        FederatedEnsemble(seed=-3)
    with pytest.raises(ValueError, match="owner_datasets"):
        FederatedEnsemble().fit([])
    with pytest.raises(ValueError, match="owner_datasets"):
        FederatedEnsemble().fit([(X, y)] * 257)
    with pytest.raises(ValueError, match="same number of features"):
        FederatedEnsemble().fit([(X, y), (X[:, :10], y)])
    fe = FederatedEnsemble().fit([(X, y)], n_classes=10)
    with pytest.raises(ValueError, match="kind"):
        fe.owner_outputs(X, "scores")
    with pytest.raises(ValueError, match="features"):
        fe.predict(X[:, :3])
    with pytest.raises(ValueError, match="parts"):
        FederatedEnsemble.from_partition(X, y, [np.array([0, 1, 999])], 10)
    with pytest.raises(RuntimeError, match="not fitted"):
        FederatedEnsemble().predict(X)


def test_secure_predict_hard_vote_exact(fe_iid, digits):
    """Integer votes: the secure label equals the plaintext label exactly (ties to the lowest)."""
    X = digits.X_test[:10]
    labels, rep = fe_iid.secure_predict(X, mode="M1", topology="T2", rule="hard_vote")
    assert labels.shape == (10,)
    assert np.array_equal(labels, fe_iid.predict(X, rule="hard_vote")) and rep.agreement == 1.0


def test_run_point_rows():
    from fibench.bench.measures.accuracy import run_point

    rows = run_point({"dataset": "digits", "model": "lr", "partition": "dirichlet", "alpha": 0.5,
                      "owners": 3, "seed": 0, "rep": 0})
    assert [r["rule"] for r in rows] == list(ens.RULES)
    need = {"dataset", "model", "partition", "alpha", "owners", "rule", "accuracy", "macro_f1", "gain_over_best",
            "gain_over_mean", "best_owner_accuracy", "mean_owner_accuracy", "centralized_accuracy", "seed"}
    for r in rows:
        assert need <= set(r)
        assert np.isclose(r["gain_over_best"], r["accuracy"] - r["best_owner_accuracy"])
        assert 0.9 < r["centralized_accuracy"] <= 1.0
    again = run_point({"dataset": "digits", "model": "lr", "partition": "dirichlet", "alpha": 0.5,
                       "owners": 3, "seed": 0, "rep": 1})
    assert [r["accuracy"] for r in rows] == [r["accuracy"] for r in again]
    iid = run_point({"dataset": "digits", "model": "lr", "alpha": "iid", "owners": 2, "seed": 0})
    assert iid[0]["alpha"] == "iid"


def test_suite_grid():
    from pathlib import Path

    from fibench.bench.runner import expand, load_suite, resolve_config

    suite = load_suite(str(Path(__file__).resolve().parents[1] / "suites" / "accuracy.py"))
    pts = expand(resolve_config(suite, "quick"))
    assert len(pts) == 6 * 4 * 2
    assert {p["alpha"] for p in pts} == {0.05, 0.1, 0.5, 1, 10, "iid"}
    assert len(expand(resolve_config(suite, "paper"))) > len(pts)
