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
        assert parts == {"accuracy", "budget", "confident", "incentives", "cost"}
        inc = [p for p in points if p["part"] == "incentives"]
        assert {str(p["alpha"]) for p in inc} == {"0.1", "1", "iid"} and len({p["seed"] for p in inc}) >= 3
        assert {p["sigma"] for p in inc} >= {0, 40}
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
    ({"owners": 250, "min_samples": 5}, r"owners=250 with min_samples=5 need 1250 training samples .* 1079"),
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


def test_incentives_part_rows_match_the_mechanism_and_shapley(tmp_path):
    """The incentives part: released labels = noisy_argmax of the vote counts plus the seeded
    simulation noise; rewards from them and exact Shapley recomputed here by another route
    (owners' labels -> one-hot counts -> naive agreement; CoalitionGame on hard votes)."""
    import numpy as np

    from fibench import incentives as inc
    from fibench.bench.measures import privacy as mp
    from fibench.fi import ensemble as ens
    from fibench.fi import privacy as pv

    base = {"part": "incentives", "dataset": "digits", "model": "lr", "alpha": 1, "owners": 6, "seed": 1,
            "min_samples": 2, "rule": "hard_vote", "noise": "gaussian", "delta": 1e-5}
    clean = {r["scheme"]: r for r in mp.run_point({**base, "sigma": 0})}
    noisy = {r["scheme"]: r for r in mp.run_point({**base, "sigma": 3})}
    assert set(clean) == set(noisy) == {"agreement", "pseudo_shapley", "confidence"}
    ds, fe, labels, _, _ = mp._fitted(base)
    counts = ens.raw_counts_from_labels(labels, ds.n_classes)
    released = ens.noisy_argmax(counts, ens.vote_noise("gaussian", 3, counts.shape, seed=mp._noise_seed(1, 3)))
    clean_lab = np.argmax(counts, axis=1)
    assert noisy["agreement"]["agreement_noiseless"] == pytest.approx(np.mean(released == clean_lab))
    assert noisy["agreement"]["agreement_noiseless"] < 1  # sigma 3 at K = 6 flips labels
    assert noisy["agreement"]["released_accuracy"] == pytest.approx(np.mean(released == ds.y_test))
    assert clean["agreement"]["agreement_noiseless"] == 1 and clean["agreement"]["noise"] == "none"
    proba = fe.owner_outputs(ds.X_test, "proba")
    game = inc.CoalitionGame.from_proba(proba, ds.y_test, "hard")
    ref = inc.exact_shapley(game)
    for lab, rows in ((clean_lab, clean), (released, noisy)):
        agree = (labels == lab[None, :]).mean(axis=1)
        al = inc.alignment(agree, ref)
        assert rows["agreement"]["spearman"] == pytest.approx(al["spearman"], abs=1e-12)
        assert rows["agreement"]["l1"] == pytest.approx(al["l1"], abs=1e-12)
    assert noisy["agreement"]["l1"] != clean["agreement"]["l1"]
    assert noisy["agreement"]["eps_per_query"] == pytest.approx(pv_epsilon(3), abs=1e-9)
    assert clean["agreement"]["reference"] == "shapley_exact"
    # weighted vote: the merit game's summed scores are exactly the secure vote's weighted counts
    fitted = mp._fitted(base)
    _, w, wgame, _, _, _ = mp._merit_game(fitted, ens.get_rule("weighted_vote"))
    np.testing.assert_array_equal(wgame.scores.sum(axis=0), ens.raw_counts_from_labels(labels, ds.n_classes, fe.weights_))
    assert len(set(w.tolist())) > 1  # the weights differ: the test tells the rules apart
    wrows = mp.run_point({**base, "rule": "weighted_vote", "sigma": 3})
    assert wrows[0]["vote_scale"] == pytest.approx(fe.vote_scale("weighted_vote"))
    assert wrows[0]["eps_per_query"] == pytest.approx(pv.epsilon("gaussian", 3, 1, 1e-5, fe.vote_scale("weighted_vote")))


def pv_epsilon(sigma):
    from fibench.fi import privacy as pv

    return pv.epsilon("gaussian", sigma, 1, 1e-5)


def test_incentives_figure_and_table(tmp_path):
    """A small incentives run (3 seeds, 3 sigmas, 2 alphas) draws the figure with a spread and
    the report table has one column per sigma; a single sigma is reported as not drawn."""
    from fibench.bench.measures import privacy as mp
    from fibench.bench.plots import privacy as pp
    from fibench.bench.plots.common import NotDrawn

    over = {"part": "incentives", "owners": 5, "alpha": [1, "iid"], "seed": [0, 1, 2], "sigma": [0, 2, 20],
            "noise": "gaussian", "rule": "hard_vote"}
    r = runner.run_suite("privacy", "quick", over, out=tmp_path / "run", progress=False)
    df = pd.read_csv(r.path / "results.csv")
    assert set(df["part"]) == {"incentives"} and len(df) == 2 * 3 * 3 * 3  # alpha x seed x sigma x scheme
    from fibench.bench.plots import plot_run

    plot_run(r.path)
    assert (r.path / "figures" / "incentives_vs_sigma.png").exists()
    table = mp.incentives_table(df)
    assert {0.0, 2.0, 20.0} <= set(table.columns) and len(table) == 2 * 3
    one = df[df["sigma"] == 2]
    out = pp.plot_incentives_vs_sigma(one, tmp_path / "figs")
    assert len(out) == 1 and isinstance(out[0], NotDrawn) and "one sigma" in out[0].reason
