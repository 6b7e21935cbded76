"""Figures show what their titles promise (issue 18): explicit facets (never a most common
value), no figure of one point, one axis per unit, the dataset named, IID not joined to the
finite alphas, the seed count behind a spread. Figures are captured where they are saved and
their axes inspected."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fibench.bench.plots import accuracy as pacc
from fibench.bench.plots import common
from fibench.bench.plots import crosscheck as pxc
from fibench.bench.plots import incentives as pinc
from fibench.bench.plots import kernels as pker
from fibench.bench.plots import latency as plat
from fibench.bench.plots import privacy as ppriv


@pytest.fixture
def saved(monkeypatch):
    """{stem: figure} of every figure the plot modules save (nothing written)."""
    figs = {}

    def fake_save(fig, outdir, stem, formats=common.FORMATS):
        figs[stem] = fig
        return [f"{outdir}/{stem}.png"]

    for mod in (plat, pker, pacc, pinc, pxc, ppriv):
        monkeypatch.setattr(mod, "save", fake_save)
    return figs


def visible(fig):
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]


def lat_rows(owners, networks=("lan", "wan"), **settings):
    base = dict(workload="m2", model="mlp", hidden=16, topology="T2", servers=2, batch=1, protocol="a2b",
                argmax="tree", schedule="parallel")
    base.update(settings)
    out = []
    for k in owners:
        for i, net in enumerate(networks):
            t = 0.01 * (10 ** i) * k
            out.append({**base, "owners": k, "network": net, "compute_s": t / 2, "latency_s": t / 2,
                        "transfer_s": 0.0, "est_time_s": t, "model_params": 100 * base["hidden"] + 10,
                        "model_family": "mlp", "label": "x"})
    return out


def test_facets_return_every_combination():
    df = pd.DataFrame({"a": [1, 1, 2, 2, 2], "b": [np.nan, np.nan, 3, 3, 4], "y": range(5)})
    got = common.facets(df, ["a", "b", "zz"])
    assert [s for s, _ in got] == [{"a": 1}, {"a": 2, "b": 3}, {"a": 2, "b": 4}]
    assert [len(g) for _, g in got] == [2, 2, 1]
    assert [s for s, _ in common.facets(df, ["a"], {"b": 2})] == [{"a": 2}]   # a=1: b all missing
    assert common.varying([{"a": 1, "b": 2}, {"a": 1, "b": 3}]) == ["b"]
    assert common.constants([{"a": 1, "b": 2}, {"a": 1, "b": 3}]) == {"a": 1}
    assert common.facet_stem("x", {"b": 3}, ["b"]) == "x_b-3" and common.facet_stem("x", {"b": 3}, []) == "x"


def test_owners_one_row_per_series_and_single_owner_grids_left_out(saved, tmp_path):
    # the crossover grid (owners=2 only, hidden 32, two cmp_bits) is 3x as common as the others:
    # a "most common value" figure would have shown one bar at K=2
    crossover = [r for b in (64, 32) for _ in range(3) for r in lat_rows([2], hidden=32, protocol="fss", cmp_bits=b)]
    df = pd.DataFrame(lat_rows([2, 3, 5]) + lat_rows([3, 5, 10], hidden=64, topology="T1") + crossover)
    out = plat.plot_latency_owners(df, tmp_path)
    fig = saved["latency_vs_owners_m2"]
    axes = visible(fig)
    assert len(axes) == 2 * 2                                    # 2 series (rows) x 2 profiles
    titles = [ax.get_title() for ax in axes]
    assert sum("hidden=16" in t for t in titles) == 2 and sum("hidden=64" in t for t in titles) == 2
    assert not any("hidden=32" in t for t in titles)
    ticks = [t.get_text() for t in axes[0].get_xticklabels()]
    assert ticks == ["2", "3", "5"]
    assert not any(isinstance(p, common.NotDrawn) for p in out)


def test_owners_not_drawn_when_every_series_has_one_owner_count(saved, tmp_path):
    df = pd.DataFrame(lat_rows([2]) + lat_rows([2], hidden=32))
    out = plat.plot_latency_owners(df, tmp_path)
    assert saved == {} and len(out) == 1 and isinstance(out[0], common.NotDrawn)
    assert "two or more owner counts" in str(out[0])


def test_complexity_every_model_has_a_tick_and_series_are_rows(saved, tmp_path):
    rows = []
    for h in (16, 64, 256):
        rows += lat_rows([2], hidden=h, model=f"mlp:{h}")
    rows += lat_rows([2], hidden=16, model="mlp:16", owners_=None, batch=100)  # another series: batch 100
    rows += lat_rows([2], hidden=64, model="mlp:64", batch=100)
    plat.plot_latency_complexity(pd.DataFrame(rows).drop(columns="owners_"), tmp_path)
    axes = visible(saved["latency_vs_complexity"])
    assert len(axes) == 2 * 2                                    # batch 1 and 100 rows x 2 profiles
    assert sum("batch=1" in ax.get_title() and "batch=100" not in ax.get_title() for ax in axes) == 2
    labels = [t.get_text() for t in axes[0].get_xticklabels()]
    assert len(labels) == 3 and all(labels)                     # one labelled tick per model


def test_complexity_one_model_not_drawn(saved, tmp_path):
    out = plat.plot_latency_complexity(pd.DataFrame(lat_rows([2])), tmp_path)
    assert "latency_vs_complexity" not in saved and any(isinstance(p, common.NotDrawn) for p in out)


def test_share_never_mixes_workloads_or_sizes(saved, tmp_path):
    relu = [{"workload": "relu", "n": n, "network": net, "est_time_s": 0.1, "latency_s": 0.05}
            for n in (1, 1000) for net in ("lan", "wan")]
    m2 = [{"workload": "m2", "batch": b, "network": net, "est_time_s": 1.0, "latency_s": 0.9}
          for b in (1, 1000) for net in ("lan", "wan")]
    plat.plot_latency_share(pd.DataFrame(relu + m2), tmp_path)
    axes = visible(saved["latency_share"])
    assert len(axes) == 4                                        # 2 metrics x 2 workloads
    relu_labels = axes[0].get_legend_handles_labels()[1]
    m2_labels = axes[1].get_legend_handles_labels()[1]
    assert relu_labels == ["elements n = 1", "elements n = 1000"] and m2_labels == ["batch = 1", "batch = 1000"]


def test_kernels_one_panel_per_unit(saved, tmp_path):
    rows = [{"kernel": k, "n": n, "throughput": 1e6 * n, "ratio_vs_numpy": 1.0}
            for k, ns in (("ring_add", (1000, 10_000)), ("ring_mul", (1000, 10_000)), ("ring_matmul", (16, 64)),
                          ("shapley", (6, 10))) for n in ns]
    pker.plot_kernels(pd.DataFrame(rows), tmp_path)
    axes = visible(saved["kernels_throughput"])
    assert sorted(ax.get_xlabel() for ax in axes) == ["matrix side n", "owners K", "problem size n [elements]"]
    elem = next(ax for ax in axes if ax.get_xlabel().startswith("problem size"))
    assert sorted(line.get_label() for line in elem.get_lines()) == ["ring_add", "ring_mul"]


def acc_rows(dataset="digits"):
    out = []
    for a in (0.1, 1.0, "iid"):
        for rule, acc in (("soft_vote", 0.9), ("hard_vote", 0.8)):
            out.append({"dataset": dataset, "model": "lr", "partition": "dirichlet", "alpha": a, "owners": 5,
                        "rule": rule, "accuracy": acc, "gain_over_best": acc - 0.85, "hidden": 0})
    return out


def test_accuracy_names_the_dataset_and_leaves_iid_unjoined(saved, tmp_path):
    pacc.plot_accuracy(pd.DataFrame(acc_rows() + acc_rows("synthetic")), tmp_path)
    assert set(saved) == {"accuracy_vs_alpha_digits_lr", "gain_vs_alpha_digits_lr",
                          "accuracy_vs_alpha_synthetic_lr", "gain_vs_alpha_synthetic_lr"}
    fig = saved["accuracy_vs_alpha_digits_lr"]
    assert "dataset: digits" in fig._suptitle.get_text()
    ax = visible(fig)[0]
    lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 1]
    assert lines and all(math.isfinite(x) and x <= 1.0 for ln in lines for x in ln.get_xdata())
    assert "∞ (IID)" in [t.get_text() for t in ax.get_xticklabels()]


def inc_rows(seeds):
    out = []
    for seed in seeds:
        for a in (0.05, 0.5, "iid"):
            for s, rho in (("agreement", 0.5 + 0.1 * seed), ("loo", 0.8)):
                out.append({"scheme": s, "alpha": a, "owners": 5, "adversary": "none", "seed": seed,
                            "spearman": rho, "dataset": "digits"})
    return out


@pytest.mark.parametrize("seeds, words", [((0,), "one seed: no spread shown"), ((0, 1, 2), "over 3 seeds")])
def test_incentives_rank_says_how_many_seeds(saved, tmp_path, seeds, words):
    pinc.plot_rank_vs_alpha(pd.DataFrame(inc_rows(seeds)), tmp_path)
    fig = saved["incentives_rank_vs_alpha"]
    assert words in fig._suptitle.get_text()
    ax = visible(fig)[0]
    joined = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 1 and ln.get_linestyle() != "None"]
    assert joined and all(max(ln.get_xdata()) < 1.5 for ln in joined)   # IID (x = 2) unjoined


def test_crosscheck_model_vs_measured(saved, tmp_path):
    rows = [{"op": "lt", "parties": p, "profile": prof, "measured_s": 0.1 * p, "measured_min_s": 0.09 * p,
             "measured_max_s": 0.12 * p, "est_time_s": 0.11 * p, "n": 1000, "transport": "shm"}
            for p in (2, 3) for prof in ("lan", "region")]
    rows.append({"op": "lt", "parties": 2, "profile": "none", "measured_s": np.nan, "est_time_s": np.nan})
    pxc.plot_crosscheck(pd.DataFrame(rows), tmp_path)
    axes = visible(saved["crosscheck_model_vs_measured"])
    assert len(axes) == 2 and [ax.get_title() for ax in axes] == ["profile=lan", "profile=region"]
    assert [t.get_text() for t in axes[0].texts] == ["+10%", "+10%"]
    legend = axes[-1].get_legend()
    assert legend is not None and [t.get_text() for t in legend.get_texts()] == [
        "measured (mpi, delays injected)", "model estimate"]
    out = pxc.plot_crosscheck(pd.DataFrame(rows[-1:]), tmp_path)
    assert isinstance(out[0], common.NotDrawn)


def test_plot_run_lists_figures_not_drawn(tmp_path):
    from fibench.bench import results as res
    from fibench.bench.plots import plot_run

    run = res.RunDir(tmp_path / "run").create()
    run.write_meta({"suite": "latency"})
    run.write_results(pd.DataFrame(lat_rows([2])))
    out = plot_run(run.path)
    assert any("latency_vs_owners_m2 not drawn" in s for s in out.skipped)


def priv_rows(dataset="digits", sigmas=(0, 5, 40), delta=1e-5):
    out = []
    for a in (0.1, "iid"):
        for k in (10, 50):
            for sigma in sigmas:
                out.append({"part": "accuracy", "dataset": dataset, "model": "lr", "alpha": a, "owners": k,
                            "rule": "hard_vote", "noise": "gaussian" if sigma else "none", "sigma": sigma,
                            "delta": delta, "min_samples": 2, "self_balancing": False,
                            "accuracy": 0.9 - sigma / 100, "noiseless_accuracy": 0.9,
                            "eps_100": 100.0 / sigma if sigma else math.inf})
    return out


def test_privacy_figures_facet_explicitly(saved, tmp_path):
    """Two datasets give two accuracy-vs-epsilon figures named by the dataset (no most common
    value picked), each naming its settings; one noise scale is not drawn, and says why."""
    out = ppriv.plot_accuracy_vs_epsilon(pd.DataFrame(priv_rows() + priv_rows("synthetic")), tmp_path)
    assert set(saved) == {"accuracy_vs_epsilon_dataset-digits", "accuracy_vs_epsilon_dataset-synthetic"}
    assert len(out) == 2
    fig = saved["accuracy_vs_epsilon_dataset-synthetic"]
    assert "dataset=synthetic" in fig._suptitle.get_text() and "model=lr" in fig._suptitle.get_text()
    axes = visible(fig)
    assert len(axes) == 4 and all(len(ax.get_lines()) == 2 for ax in axes)  # noisy line + noiseless
    saved.clear()
    one = ppriv.plot_accuracy_vs_epsilon(pd.DataFrame(priv_rows(sigmas=(0, 5))), tmp_path)
    assert not saved and len(one) == 1 and isinstance(one[0], common.NotDrawn)
    assert one[0].stem == "accuracy_vs_epsilon" and "a line needs two" in one[0].reason
    saved.clear()
    budget = [{"part": "budget", "noise": n, "sigma": s, "budget": b, "delta": d, "queries": int(s * b)}
              for n in ("gaussian", "laplace") for s in (5, 20) for b in (2, 8) for d in (1e-5, 1e-6)]
    ppriv.plot_queries_vs_budget(pd.DataFrame(budget), tmp_path)
    assert set(saved) == {"queries_vs_budget_delta-1e-05", "queries_vs_budget_delta-1e-06"}
    assert "δ = 1e-06" in visible(saved["queries_vs_budget_delta-1e-06"])[0].get_ylabel()
