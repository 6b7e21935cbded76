"""Progress where people wait, infer's network estimates and remap warnings (issue 18, item 7),
and data users bring (item 6): embedded datasets by name, CSV label column, standardize, the
latency suite's ``--set dataset=``."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fibench.bench import infer, progress
from fibench.cli import app

cli = CliRunner()


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def flat(text: str) -> str:
    return " ".join(text.replace("│", " ").split())


# -- progress ------------------------------------------------------------------------------------

def test_progress_only_on_a_terminal_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert progress.wanted(True, FakeTTY()) is True
    assert progress.wanted(False, FakeTTY()) is False                 # --no-progress
    assert progress.wanted(True, io.StringIO()) is False              # a pipe or a file
    for ci in ("true", "1", "yes"):
        monkeypatch.setenv("CI", ci)
        assert progress.wanted(True, FakeTTY()) is False
    monkeypatch.setenv("CI", "false")
    assert progress.wanted(True, FakeTTY()) is True


def test_bar_writes_to_stderr_only_when_enabled(capsys):
    assert list(progress.bar([1, 2, 3], enabled=False, desc="x")) == [1, 2, 3]
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    assert list(progress.bar([1, 2], enabled=True, desc="counting", leave=True)) == [1, 2]
    out = capsys.readouterr()
    assert out.out == "" and "counting" in out.err and "2/2" in out.err


def test_run_passes_no_progress_off_a_terminal(monkeypatch, tmp_path):
    from fibench.bench import runner as rn

    seen = []
    real = rn.execute
    monkeypatch.setattr(rn, "execute", lambda plan, progress=True, argv=None: seen.append(progress) or
                        real(plan, progress=progress, argv=argv))
    suite = tmp_path / "s.py"
    suite.write_text("NAME='s'\nPRESETS={'quick': {'a': [1]}}\nMEASURE=lambda p: [{'v': 1}]\n")
    r = cli.invoke(app, ["run", str(suite), "--out", str(tmp_path / "r"), "--no-plot"])
    assert r.exit_code == 0 and seen == [False]                       # CliRunner's stderr is no terminal


def test_regress_no_progress_flag_reaches_the_gate(monkeypatch, tmp_path):
    from fibench.bench import regress

    (tmp_path / "counters.json").write_text("{}")
    seen = []
    monkeypatch.setattr(regress, "run_check", lambda base, out=None, progress=False: seen.append(progress) or True)
    monkeypatch.setattr(regress, "wanted", lambda flag: flag)         # as if on a terminal
    assert regress.main(["--check", "--baseline", str(tmp_path)]) == 0
    assert regress.main(["--check", "--no-progress", "--baseline", str(tmp_path)]) == 0
    assert seen == [True, False]
    r = cli.invoke(app, ["regress", "--help"])
    assert "--no-progress" in r.output


def test_plot_run_progress_bar(tmp_path, capsys):
    from fibench.bench import results as res
    from fibench.bench.plots import plot_run

    run = res.RunDir(tmp_path / "run").create()
    run.write_meta({"suite": "kernels"})
    run.write_results(pd.DataFrame([{"kernel": "ring_add", "n": n, "throughput": n, "ratio_vs_numpy": 1.0}
                                    for n in (10, 100)]))
    out = plot_run(run.path, progress=True)
    assert out.files and "kernels figures" in capsys.readouterr().err


def test_every_long_command_has_no_progress():
    for cmd in ("run", "plot", "infer", "regress"):
        r = cli.invoke(app, [cmd, "--help"])
        assert "--no-progress" in r.output, cmd


# -- infer ---------------------------------------------------------------------------------------

def test_plan_notes_every_remapped_setting():
    plan = infer.plan_infer(topology="T1", owners=3, servers=3, queries=500, batch_size=1000, n_test=360)
    assert plan.queries == 360 and plan.batch_size == 360
    assert [n.split()[0] for n in plan.notes] == ["--servers", "--queries", "--batch-size"]
    plan = infer.plan_infer(topology="T2", servers=3, owners=3, queries=10, batch_size=5, n_test=360)
    assert plan.notes == [] and plan.servers == 3
    # defaults are not settings given beyond the data: the whole test set, no note (digits: 359)
    plan = infer.plan_infer(n_test=359)
    assert plan.notes == [] and plan.queries == 359 and plan.batch_size == infer.DEFAULT_BATCH
    plan = infer.plan_infer(n_test=30)
    assert plan.notes == [] and plan.queries == 30 and plan.batch_size == 30
    with pytest.raises(ValueError, match="--alpha"):
        infer.plan_infer(alpha="-1")
    with pytest.raises(ValueError, match="T1 needs 2..16 owners"):
        infer.plan_infer(topology="T1", owners=1)


def test_infer_defaults_warn_about_nothing():
    """The README's `fibench infer` example gives neither --queries nor --batch-size: no warning."""
    r = cli.invoke(app, ["infer", "--owners", "2", "--dataset", "iris", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "warning" not in r.output and "queries=30 " in r.output


def test_infer_prints_estimates_per_profile_and_warnings(tmp_path):
    r = cli.invoke(app, ["infer", "--owners", "2", "--queries", "5000", "--batch-size", "9999", "--dataset", "iris",
                         "--no-progress"])
    assert r.exit_code == 0, r.output
    text = r.output
    assert "warning: --queries 5000 exceeds the test set: answering all 30 test queries" in text
    assert "warning: --batch-size 9999 exceeds the 30 queries: one batch of 30" in text
    lines = {line.split()[0]: line for line in text.splitlines() if line.startswith("  ")}
    assert set(lines) >= {"lan", "region", "wan", "geo"} and "per query" in lines["wan"]


def test_network_estimates_price_the_runs_rounds():
    from fibench.bench import network
    from fibench.fi.data import load_dataset
    from fibench.fi.federated import FederatedEnsemble

    d = load_dataset("iris", seed=0)
    fe = FederatedEnsemble(model="lr", seed=0).fit([(d.X_train[::2], d.y_train[::2]), (d.X_train[1::2], d.y_train[1::2])],
                                                   n_classes=3)
    _, rep = fe.secure_predict(d.X_test[:8], mode="M1", topology="T2", servers=2, batch_size=4)
    assert rep.rounds and sum(r.phase == "online" for r in rep.rounds) >= rep.online_rounds // 2
    est = {e["profile"]: e for e in infer.network_estimates(rep)}
    assert [est[p]["est_time_s"] < est[q]["est_time_s"] for p, q in (("lan", "region"), ("region", "wan"))] == [1, 1]
    assert all(e["compute_s"] == rep.online_s for e in est.values())
    # latency: one RTT per online round that carries bytes (2 servers on one link, 80 ms on wan)
    wan_rtt = network.get_profile("wan").link(0, 1)[0]
    assert est["wan"]["latency_s"] == pytest.approx(wan_rtt * round(est["wan"]["latency_s"] / wan_rtt))
    assert est["wan"]["per_query_s"] == pytest.approx(est["wan"]["est_time_s"] / 8)


# -- data ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, n, d, c", [("iris", 150, 4, 3), ("wine", 178, 13, 3), ("breast_cancer", 569, 30, 2),
                                           ("digits", 1797, 64, 10)])
def test_embedded_datasets_by_name(name, n, d, c):
    from fibench.fi.data import load_dataset

    ds = load_dataset(name, seed=0)
    assert ds.n_features == d and ds.n_classes == c and ds.name == name
    assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == n
    assert set(np.unique(ds.y_test)) == set(range(c))                # stratified


def test_standardize_uses_the_training_split_only():
    from fibench.fi.data import load_dataset

    raw = load_dataset("wine", seed=1)
    st = load_dataset("wine", seed=1, standardize=True)
    assert np.allclose(st.X_train.mean(axis=0), 0, atol=1e-12) and np.allclose(st.X_train.std(axis=0), 1)
    mu, sd = raw.X_train.mean(axis=0), raw.X_train.std(axis=0)
    assert np.allclose(st.X_test, (raw.X_test - mu) / sd)            # test scaled with train statistics
    assert not np.allclose(st.X_test.mean(axis=0), 0, atol=1e-3)
    assert (st.y_test == raw.y_test).all()
    with pytest.raises(TypeError, match="standardize must be True or False"):
        load_dataset("wine", standardize="yes")


def test_standardize_constant_feature_and_one_row():
    from fibench.fi.data import standardize_splits

    X = np.array([[1.0, 5.0], [3.0, 5.0]])
    a, b = standardize_splits(X, np.array([[2.0, 6.0]]))
    assert np.allclose(a, [[-1, 0], [1, 0]]) and np.allclose(b, [[0, 1]])
    (one,) = standardize_splits(np.array([[4.0, 2.0]]))
    assert np.allclose(one, 0)


def test_csv_label_column_and_standardize_on_the_command_line(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3)) * [1, 100, 1e4]
    y = (X[:, 0] > 0).astype(int)
    f = tmp_path / "mine.csv"
    pd.DataFrame({"target": np.where(y, "yes", "no"), "a": X[:, 0], "b": X[:, 1], "c": X[:, 2]}).to_csv(f, index=False)
    for col in ("target", "0"):
        r = cli.invoke(app, ["infer", "--dataset", str(f), "--label-column", col, "--standardize", "--owners", "2",
                             "--alpha", "iid", "--queries", "24", "--no-progress"])
        assert r.exit_code == 0, r.output
        acc = float(next(line for line in r.output.splitlines() if line.startswith("accuracy")).split()[-1])
        assert acc > 0.8                                              # the label is x0 > 0: learnable
    r = cli.invoke(app, ["infer", "--dataset", str(f), "--label-column", "nope", "--no-progress"])
    assert r.exit_code == 2 and "label_column 'nope' not found" in r.output
    r = cli.invoke(app, ["infer", "--dataset", "iris", "--label-column", "0", "--no-progress"])
    assert r.exit_code == 2 and "label_column applies only to .csv files" in r.output


def test_latency_suite_takes_a_dataset(tmp_path):
    from fibench.bench.measures.latency import run_point

    rows = run_point(dict(workload="m2", model="logreg", hidden=0, owners=2, topology="T2", servers=2, batch=3,
                          protocol="a2b", argmax="tree", dataset="iris", features=64, classes=10,
                          networks=["lan"], timing_reps=1, threads=1))
    assert rows[0]["features"] == 4 and rows[0]["classes"] == 3 and rows[0]["agree"] == 1.0
    rows = run_point(dict(workload="m1", owners=2, topology="T2", servers=2, batch=3, protocol="a2b", argmax="tree",
                          dataset="wine", logits="synthetic", owner_model="lr", networks=["lan"], timing_reps=1,
                          threads=1))
    assert rows[0]["logits"] == "wine" and rows[0]["classes"] == 3
    r = cli.invoke(app, ["run", "latency", "--set", "dataset=nope", "--out", str(tmp_path / "x"), "--no-progress"])
    assert r.exit_code == 2 and "dataset='nope'" in flat(r.output) and not (tmp_path / "x").exists()
