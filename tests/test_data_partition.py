"""Datasets and partitions among owners."""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference
from fibench.fi.data import load_dataset
from fibench.fi.partition import (dirichlet_partition, heterogeneity, iid_partition, partition,
                               partition_summary, plot_partition, quantity_skew_partition,
                               pathological_partition, shard_partition)


# -- naive references ----------------------------------------------------------------------

def check_valid(parts, n, K, min_samples):
    assert len(parts) == K
    allidx = np.concatenate(parts)
    assert np.array_equal(np.sort(allidx), np.arange(n)), "parts must be disjoint and cover the set"
    for p in parts:
        assert p.dtype == np.int64
        assert len(p) >= min_samples
        assert np.all(np.diff(p) > 0)


def labels(n=600, C=10, seed=0):
    return np.random.default_rng(seed).integers(0, C, size=n)


# -- data ------------------------------------------------------------------------------------

def test_digits_split():
    ds = load_dataset("digits", seed=0)
    n = len(ds.y_train) + len(ds.y_val) + len(ds.y_test)
    assert n == 1797 and ds.n_classes == 10 and ds.X_train.shape[1] == 64
    assert 0.0 <= ds.X_train.min() and ds.X_train.max() <= 1.0
    assert abs(len(ds.y_train) / n - 0.6) < 0.01 and abs(len(ds.y_test) / n - 0.2) < 0.01
    # stratified: class frequencies similar in each split
    f_tr = np.bincount(ds.y_train, minlength=10) / len(ds.y_train)
    f_te = np.bincount(ds.y_test, minlength=10) / len(ds.y_test)
    assert np.abs(f_tr - f_te).max() < 0.02
    again = load_dataset("digits", seed=0)
    assert np.array_equal(again.X_test, ds.X_test) and np.array_equal(again.y_train, ds.y_train)
    other = load_dataset("digits", seed=1)
    assert not np.array_equal(other.y_train, ds.y_train)


def test_synthetic_shapes():
    ds = load_dataset("synthetic", n_samples=300, n_features=7, n_classes=3, seed=2)
    assert ds.n_classes == 3 and ds.X_train.shape == (180, 7)
    assert len(ds.y_val) == 60 and len(ds.y_test) == 60


def test_user_files(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = np.array(["a", "b"] * 25)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    ds = load_dataset(tmp_path / "d.npz")
    assert ds.n_classes == 2 and list(ds.classes) == ["a", "b"] and ds.name == "d"
    import pandas as pd

    pd.DataFrame({"f1": X[:, 0], "target": (X[:, 1] > 0).astype(int), "f2": X[:, 2]}).to_csv(tmp_path / "d.csv", index=False)
    ds = load_dataset(str(tmp_path / "d.csv"), label_column="target")
    assert ds.X_train.shape[1] == 2 and ds.n_classes == 2
    with pytest.raises(ValueError, match="label_column"):
        load_dataset(str(tmp_path / "d.csv"), label_column="nope")
    np.savez(tmp_path / "bad.npz", X=X, labels=y)
    with pytest.raises(ValueError, match="'X' and 'y'"):
        load_dataset(str(tmp_path / "bad.npz"))
    np.savez(tmp_path / "bad2.npz", X=X, y=y[:10])
    with pytest.raises(ValueError, match="one label per row"):
        load_dataset(str(tmp_path / "bad2.npz"))
    with pytest.raises(ValueError, match="not found"):
        load_dataset(str(tmp_path / "missing.npz"))


@pytest.mark.parametrize("kwargs, word", [
    (dict(name="mnist"), "name"),
    (dict(name="synthetic", n_classes=1), "n_classes"),
    (dict(name="synthetic", n_samples=3), "n_samples"),
    (dict(name="synthetic", n_features=0), "n_features"),
    (dict(name="digits", seed=-1), "seed"),
    (dict(name="digits", n_samples=100), "n_samples"),
    (dict(name="digits", split=(0.5, 0.5, 0.5)), "split"),
])
def test_dataset_bad_params(kwargs, word):
    with pytest.raises(ValueError, match=word):
        load_dataset(**kwargs)


# -- partitions ------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(20, 300), C=st.integers(2, 12), K=st.integers(1, 20),
       scheme=st.sampled_from(["dirichlet", "iid", "shards", "quantity"]),
       alpha=st.sampled_from([0.01, 0.05, 0.5, 5.0, "iid"]), m=st.integers(1, 3), seed=st.integers(0, 2**31))
def test_partition_properties(n, C, K, scheme, alpha, m, seed):
    y = np.random.default_rng(seed).integers(0, C, size=n)
    K = min(K, n // m)
    kw = dict(alpha=alpha, beta=alpha, shards_per_owner=max(1, min(2, n // K)), seed=seed, min_samples=m)
    parts = partition(y, scheme, K, **kw)
    check_valid(parts, n, K, m)
    again = partition(y, scheme, K, **kw)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again))


def test_k_one_and_k64():
    y = labels(700)
    for scheme in ("dirichlet", "iid", "shards", "quantity"):
        parts = partition(y, scheme, 1, alpha=0.1, seed=3)
        assert len(parts) == 1 and np.array_equal(parts[0], np.arange(700))
        check_valid(partition(y, scheme, 64, alpha=0.05, seed=3, min_samples=5), 700, 64, 5)


def test_k256_pate_sized_and_flower_aliases():
    """Up to 256 owners (PATE / CaPC ensembles), each with a few points; Flower Datasets'
    parameter names are aliases of ours."""
    y = labels(2000)
    for scheme in ("dirichlet", "iid", "shards", "quantity"):
        check_valid(partition(y, scheme, 256, alpha=0.1, shards_per_owner=1, seed=1, min_samples=2), 2000, 256, 2)
    a = partition(y, "dirichlet", num_partitions=250, alpha=1.0, min_partition_size=3, seed=2)
    b = partition(y, "dirichlet", 250, alpha=1.0, min_samples=3, seed=2)
    assert len(a) == 250 and all(np.array_equal(p, q) for p, q in zip(a, b))
    assert min(len(p) for p in a) >= 3


def test_seed_changes_partition():
    y = labels()
    a = dirichlet_partition(y, 5, 0.5, seed=1)
    b = dirichlet_partition(y, 5, 0.5, seed=2)
    assert any(not np.array_equal(p, q) for p, q in zip(a, b))


def test_iid_near_uniform():
    y = labels(2000, 10)
    glob = np.bincount(y, minlength=10) / len(y)
    for parts in (iid_partition(y, 10, seed=0), dirichlet_partition(y, 10, "iid", seed=0),
                  dirichlet_partition(y, 10, math.inf, seed=0)):
        s = partition_summary(y, parts, 10).to_numpy()
        assert s.sum(axis=1).max() - s.sum(axis=1).min() <= 1
        assert (s.max(axis=0) - s.min(axis=0)).max() <= 1  # per-class counts differ by <= 1
    big = partition_summary(y, dirichlet_partition(y, 5, 1e4, seed=0), 10).to_numpy()
    dist = big / big.sum(axis=1, keepdims=True)
    assert np.abs(dist - glob).max() < 0.05


def test_small_alpha_skews():
    y = labels(2000, 10)
    h_small = heterogeneity(partition_summary(y, dirichlet_partition(y, 10, 0.05, seed=0), 10))
    h_big = heterogeneity(partition_summary(y, dirichlet_partition(y, 10, 100.0, seed=0), 10))
    assert h_small["classes_per_owner"] < 5 and h_big["classes_per_owner"] == 10
    assert h_small["tv_to_global"] > 0.5 > 0.1 > h_big["tv_to_global"]


def test_min_samples_repair():
    y = labels(300, 10)
    parts = dirichlet_partition(y, 30, 0.01, seed=5, min_samples=8)
    check_valid(parts, 300, 30, 8)


def test_shards_per_owner():
    y = np.repeat(np.arange(10), 50)
    s = partition_summary(y, shard_partition(y, 10, 2, seed=0), 10).to_numpy()
    assert ((s > 0).sum(axis=1) <= 2).all()
    s = partition_summary(y, shard_partition(y, 10, 1, seed=0), 10).to_numpy()
    assert ((s > 0).sum(axis=1) == 1).all() and (s.sum(axis=1) == 50).all()


def test_quantity_skew_sizes():
    y = labels(1000)
    sizes = [len(p) for p in quantity_skew_partition(y, 10, 0.1, seed=0, min_samples=5)]
    assert min(sizes) >= 5 and max(sizes) > 5 * min(sizes)
    even = [len(p) for p in quantity_skew_partition(y, 10, "iid", seed=0)]
    assert max(even) - min(even) <= 1


@pytest.mark.parametrize("call, word", [
    (lambda y: partition(y, "dirichlet", 0), "n_owners"),
    (lambda y: partition(y, "dirichlet", 257), "n_owners"),
    (lambda y: partition(y, "dirichlet", 7, num_partitions=6), "disagree"),
    (lambda y: partition(y, "dirichlet", 2.5), "n_owners"),
    (lambda y: partition(y, "dirichlet", 5, alpha=0), "alpha"),
    (lambda y: partition(y, "dirichlet", 5, alpha=-1.0), "alpha"),
    (lambda y: partition(y, "dirichlet", 5, alpha="lots"), "alpha"),
    (lambda y: partition(y, "quantity", 5, beta=0), "beta"),
    (lambda y: partition(y, "shards", 5, shards_per_owner=121), r"shards_per_owner must be in \[1, 120\]"),
    (lambda y: partition(y, "shards", 5, shards_per_owner=0), "shards_per_owner"),
    (lambda y: partition(y, "shards", 5, classes_per_owner=2), "renamed shards_per_owner"),
    (lambda y: shard_partition(y, 5, classes_per_owner=2), "renamed shards_per_owner"),
    (lambda y: partition(y, "dirichlet", 5, self_balancing="yes"), "self_balancing must be True or False"),
    (lambda y: partition(y, "shards", 5, self_balancing=True), "self_balancing applies to the dirichlet"),
    (lambda y: partition(y, "nope", 5), "scheme"),
    (lambda y: partition(y, "iid", 5, seed=-1), "seed"),
    (lambda y: partition(y, "iid", 5, min_samples=0), "min_samples"),
    (lambda y: partition(y, "iid", 50, min_samples=20), "min_samples"),
    (lambda y: partition(y.astype(float) + 0.5, "iid", 5), "y"),
])
def test_partition_bad_params(call, word):
    with pytest.raises(ValueError, match=word):
        call(labels(600))


def test_summary_and_plot(tmp_path):
    y = labels(200, 4)
    parts = dirichlet_partition(y, 3, 0.5, seed=0)
    s = partition_summary(y, parts, 4)
    assert s.shape == (3, 4) and s.to_numpy().sum() == 200
    assert list(s.index) == [0, 1, 2] and s.index.name == "owner"
    out = plot_partition(s, tmp_path / "p.png", title="t")
    assert (tmp_path / "p.png").stat().st_size > 1000 and out == tmp_path / "p.png"


# -- self-balancing (Flower's DirichletPartitioner(self_balancing=True)) -----------------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(30, 300), C=st.integers(2, 10), K=st.integers(2, 12),
       alpha=st.sampled_from([0.05, 0.3, 1.0, 10.0]), balancing=st.booleans(), seed=st.integers(0, 2**31))
def test_dirichlet_matches_reference(n, C, K, alpha, balancing, seed):
    """fibench's Dirichlet partitioner equals the list-based reference (when the kept draw
    needs no repair), with and without self-balancing."""
    y = np.random.default_rng(seed).integers(0, C, size=n)
    want, mn = reference.dirichlet_partition_draws(y, K, alpha, seed, 1, balancing)
    if mn < 1:  # the repair step moves samples: not part of the reference
        return
    got = partition(y, "dirichlet", K, alpha=alpha, seed=seed, min_samples=1, self_balancing=balancing)
    assert [p.tolist() for p in got] == want


def _balanced_bound_excess(y, parts):
    """Largest (owner size - its share of the highest class it holds) - n / K: <= 0 under
    self-balancing (an owner takes a class only while it holds <= n / K samples, and the
    classes are dealt in label order)."""
    n, K = len(y), len(parts)
    worst = -math.inf
    for p in parts:
        top = int(y[p].max())
        worst = max(worst, len(p) - int((y[p] == top).sum()) - n / K)
    return worst


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(40, 400), C=st.integers(2, 12), K=st.integers(2, 16),
       alpha=st.sampled_from([0.01, 0.1, 0.5, 2.0, 50.0]), m=st.integers(1, 2), seed=st.integers(0, 2**31))
def test_self_balancing_bound(n, C, K, alpha, m, seed):
    """With self_balancing no owner holds more than n / K samples before its last class: size
    minus its share of its highest class <= n / K (so size <= n / K + the largest class)."""
    y = np.random.default_rng(seed).integers(0, C, size=n)
    K = min(K, n // m)
    parts = partition(y, "dirichlet", K, alpha=alpha, seed=seed, min_samples=m, self_balancing=True)
    check_valid(parts, n, K, m)
    assert _balanced_bound_excess(y, parts) <= 0
    assert max(len(p) for p in parts) <= n / K + np.bincount(y).max()


def test_self_balancing_changes_skewed_draws():
    """The bound is not automatic: without self-balancing small alpha breaks it (one owner
    collects several whole classes), and the balanced partition differs from the plain one."""
    y = np.repeat(np.arange(10), 60)
    plain = dirichlet_partition(y, 10, 0.05, seed=0)
    bal = dirichlet_partition(y, 10, 0.05, seed=0, self_balancing=True)
    assert _balanced_bound_excess(y, plain) > 0 >= _balanced_bound_excess(y, bal)
    assert max(len(p) for p in bal) < max(len(p) for p in plain)
    # alpha="iid" is already balanced: self_balancing changes nothing there
    a = dirichlet_partition(y, 10, "iid", seed=0)
    b = dirichlet_partition(y, 10, "iid", seed=0, self_balancing=True)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))


# -- pathological: exact class count per owner (Flower's num_classes_per_partition) ---------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(60, 400), C=st.integers(2, 10), K=st.integers(1, 12), c=st.integers(1, 10),
       seed=st.integers(0, 2**31))
def test_pathological_exact_classes(n, C, K, c, seed):
    """Every owner holds exactly c distinct classes, every class is split evenly (sizes differ
    by at most 1) among its holders, the parts cover the data; else a ValueError saying why."""
    y = np.random.default_rng(seed).integers(0, C, size=n)
    present = len(np.unique(y))
    try:
        parts = partition(y, "pathological", K, num_classes_per_partition=c, seed=seed, min_samples=1)
    except ValueError as e:
        assert c > present or K * c < present or "owners holding it" in str(e) or "fewer than min_samples" in str(e), str(e)
        return
    check_valid(parts, n, K, 1)
    s = partition_summary(y, parts, C).to_numpy()
    assert ((s > 0).sum(axis=1) == c).all()
    for j in range(C):
        held = s[:, j][s[:, j] > 0]
        assert len(held) == 0 or held.max() - held.min() <= 1


def test_pathological_vs_shards_and_errors():
    """shards_per_owner=2 gives more than 2 distinct classes per owner on the digits labels;
    num_classes_per_partition=2 exactly 2."""
    y = load_dataset("digits", seed=0).y_train
    shards = heterogeneity(partition_summary(y, shard_partition(y, 5, 2, seed=0), 10))["classes_per_owner"]
    exact = heterogeneity(partition_summary(y, pathological_partition(y, 5, 2, seed=0), 10))["classes_per_owner"]
    assert shards > 2 and exact == 2
    with pytest.raises(ValueError, match=r"need n_owners \* num_classes_per_partition >= 10"):
        partition(y, "pathological", 4, num_classes_per_partition=2)
    with pytest.raises(ValueError, match=r"num_classes_per_partition must be in \[1, 10\]"):
        partition(y, "pathological", 4, num_classes_per_partition=11)
    with pytest.raises(ValueError, match="fewer than min_samples=53"):  # ~108 per class, halved
        partition(y, "pathological", 20, num_classes_per_partition=1, min_samples=53)
