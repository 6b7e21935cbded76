"""The ``privacy`` suite: registered (``fibench run privacy`` and ``run all``), keys checked
before anything is written, a small run writes rows and both figures, and its rows agree with
the library they come from."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from fibench.bench import runner
from fibench.bench.runner import SuiteError

pytest.importorskip("dp_accounting")

SMALL = {"owners": 10, "alpha": "iid", "rule": "hard_vote", "sigma": [0, 2, 40], "noise": "gaussian",
         "sigma1": 20, "threshold_frac": 0.5}


def test_registered_and_in_run_order():
    suites = runner.discover_suites()
    assert "privacy" in suites
    names = list(suites)
    assert names.index("incentives") < names.index("privacy")
    plans = runner.plan_all("quick")
    assert "privacy" in [getattr(p, "name", getattr(getattr(p, "suite", None), "NAME", None)) for p in plans]


def test_every_preset_passes_its_key_checks():
    suite = runner.load_suite("privacy")
    for preset in suite.PRESETS:
        points, _ = runner.check_config(suite, runner.resolve_config(suite, preset))
        parts = {p["part"] for p in points}
        assert parts == {"accuracy", "budget", "confident", "cost"}
        acc = [p for p in points if p["part"] == "accuracy"]
        assert {p["owners"] for p in acc} == {10, 50, 250}
        assert {str(p["alpha"]) for p in acc} == {"0.1", "1", "iid"}
        assert {p["rule"] for p in acc} == {"hard_vote", "weighted_vote"}
        assert {p["budget"] for p in points if p["part"] == "budget"} == {2, 8}


@pytest.mark.parametrize("overrides, word", [
    ({"owners": 300}, r"owners=300"),
    ({"noise": "uniform"}, "noise"),
    ({"sigma": -1}, "sigma"),
    ({"delta": 1.0}, "delta"),
    ({"rule": "soft_vote"}, "rule"),
])
def test_bad_settings_write_nothing(tmp_path, overrides, word):
    with pytest.raises(SuiteError, match=word):
        runner.run_suite("privacy", "quick", overrides, out=tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_missing_accounting_library_is_refused_before_writing(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "dp_accounting" else real(name, *a))
    with pytest.raises(SuiteError, match=r"pip install 'fibench\[privacy\]'"):
        runner.run_suite("privacy", "quick", out=tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_small_run_rows_and_figures(tmp_path):
    from fibench.fi import privacy as pv

    r = runner.run_suite("privacy", "quick", SMALL, out=tmp_path / "run", progress=False)
    df = pd.read_csv(r.path / "results.csv")
    acc = df[df["part"] == "accuracy"]
    assert len(acc) == 3
    clean = acc[acc["sigma"] == 0].iloc[0]
    assert clean["noise"] == "none" and clean["accuracy"] == clean["noiseless_accuracy"]
    big = acc[acc["sigma"] == 40].iloc[0]
    assert big["accuracy"] < clean["accuracy"]  # sigma 40 with 10 owners drowns the vote
    assert big["eps_per_query"] == pytest.approx(pv.epsilon("gaussian", 40, 1, 1e-5), abs=1e-9)
    assert big["eps_100"] == pytest.approx(pv.epsilon("gaussian", 40, 100, 1e-5), abs=1e-9)
    assert big["eps_100_data_dependent"] <= big["eps_100"] + 1e-9
    bud = df[df["part"] == "budget"]
    assert len(bud) == 4  # sigma 2 and 40, budgets 2 and 8
    for _, row in bud.iterrows():
        q = int(row["queries"])
        assert q == pv.queries_within("gaussian", row["sigma"], row["budget"], 1e-5)
    cost = df[df["part"] == "cost"]
    assert set(cost["noise"]) == {"none", "gaussian"} and len(cost) == 4  # sigma 2 and 40, each vs noiseless
    noisy = cost[cost["noise"] == "gaussian"]
    assert (noisy["online_rounds_vs_noiseless"] == 1).all()
    assert (noisy["online_bytes_sent_per_party_vs_noiseless"] == 1).all()
    assert not math.isnan(noisy["time_s"].iloc[0])
    from fibench.bench.plots import plot_run

    out = plot_run(r.path)
    assert not out.skipped
    conf = df[df["part"] == "confident"]
    assert len(conf) > 0 and ((conf["answered_share"] >= 0) & (conf["answered_share"] <= 1)).all()
    for _, row in conf.iterrows():
        answered = int(round(100 * row["answered_share"]))
        assert row["eps_100_asked"] == pytest.approx(pv.confident_epsilon(row["sigma1"], row["sigma"], 100, answered))
    figs = sorted(p.name for p in (r.path / "figures").iterdir())
    assert "accuracy_vs_epsilon.png" in figs and "queries_vs_budget.png" in figs


def test_run_all_skips_the_suite_without_the_library(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "dp_accounting", None)
    monkeypatch.delitem(sys.modules, "fibench.bench.measures.privacy", raising=False)
    entries = runner.plan_all("quick")
    skipped = [e for e in entries if isinstance(e, runner.Skipped) and e.suite == "privacy"]
    assert len(skipped) == 1 and "pip install 'fibench[privacy]'" in skipped[0].message
    assert not skipped[0].failed
    with pytest.raises(SuiteError, match=r"fibench\[privacy\]"):
        runner.plan("privacy", "quick")
