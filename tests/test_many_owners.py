"""Up to 256 owners (PATE / CaPC ensembles): the accuracy, latency and incentives suites accept
them; a partition that cannot give every owner its minimum is refused before anything is written;
coalition counts beyond the 62-owner bit masks (grand coalition, leave-one-out)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fibench import incentives as inc
from fibench.bench import runner
from fibench.bench.runner import SuiteError
from fibench.fi.data import load_dataset, train_size
from fibench.fi.partition import owners_fit


@pytest.mark.parametrize("name", ["digits", "iris", "wine", "breast_cancer", "synthetic"])
def test_train_size_matches_the_loader(name):
    assert train_size(name) == len(load_dataset(name).y_train)
    if name == "synthetic":
        assert train_size(name, 777) == len(load_dataset(name, n_samples=777).y_train)


def test_owners_fit_limit_and_ways_out():
    assert owners_fit("digits", 215, 5) is None  # 1075 <= 1079
    msg = owners_fit("digits", 216, 5)
    assert "owners=216" in msg and "1080" in msg and "1079" in msg and "owners <= 215" in msg
    n = int(msg.rsplit(">= ", 1)[1])
    assert train_size("synthetic", n) >= 1080 > train_size("synthetic", n - 1)  # the smallest that fits
    assert "min_samples <=" not in owners_fit("digits", 216, 5, min_samples_settable=False)
    assert owners_fit("some/file.csv", 256, 5) is None  # unknown size: the partition checks it when read


@pytest.mark.parametrize("suite", ["accuracy", "incentives"])
def test_too_many_owners_for_the_data_is_refused_before_writing(tmp_path, suite):
    with pytest.raises(SuiteError, match=r"owners=250 with min_samples=5 need 1250 training samples .* has 1079"):
        runner.run_suite(suite, "quick", {"owners": 250}, out=tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("suite", ["accuracy", "incentives", "latency"])
def test_owners_cap_is_256(tmp_path, suite):
    with pytest.raises(SuiteError, match=r"owners"):
        runner.run_suite(suite, "quick", {"owners": 257}, out=tmp_path / "run", progress=False)
    s = runner.load_suite(suite)
    assert s.KEYS["owners"]["int"][1] == 256


def test_accuracy_suite_250_owners_end_to_end(tmp_path, monkeypatch):
    suite = runner.load_suite("accuracy")
    grid = {"dataset": "synthetic", "n_samples": 3000, "n_features": 8, "n_classes": 3, "model": "lr",
            "partition": "dirichlet", "alpha": "iid", "owners": 250, "seed": 0, "min_samples": 5}
    monkeypatch.setitem(suite.PRESETS, "quick", grid)
    r = runner.run_suite("accuracy", "quick", out=tmp_path / "run", progress=False)
    df = pd.read_csv(r.path / "results.csv")
    assert set(df["owners"]) == {250} and len(df) == 4  # one row per rule
    assert (df["accuracy"] > 1 / 3 + 0.1).all()  # well above chance
    soft = df[df["rule"] == "soft_vote"].iloc[0]
    assert soft["accuracy"] >= soft["mean_owner_accuracy"]


def test_counts_beyond_bit_masks():
    rng = np.random.default_rng(7)
    K, n, C = 70, 40, 4
    P = rng.dirichlet(np.ones(C), size=(K, n))
    y = rng.integers(0, C, n)
    game = inc.CoalitionGame.from_proba(P, y, "hard")
    votes = np.zeros((n, C), dtype=np.int64)
    lab = P.argmax(axis=2)
    for k in range(K):
        votes[np.arange(n), lab[k]] += 1
    assert game.full_count == int((votes.argmax(axis=1) == y).sum())  # ties to the lowest label
    loo = inc.leave_one_out(game)
    for i in (0, 33, 69):
        v = votes.copy()
        v[np.arange(n), lab[i]] -= 1
        assert loo[i] == pytest.approx((game.full_count - int((v.argmax(axis=1) == y).sum())) / n)
    with pytest.raises(ValueError, match="count_members"):
        game.counts([1])
    with pytest.raises(ValueError, match="members must be a boolean vector"):
        game.count_members(np.ones(K - 1, bool))
    small = inc.CoalitionGame.from_proba(P[:10], y, "soft")
    for mask in (1, 5, 1023, 512 + 7):
        members = np.array([(mask >> k) & 1 for k in range(10)], dtype=bool)
        assert small.count_members(members) == small.count(mask)
    assert small.count_members(np.zeros(10, bool)) == 0
