"""CLI: list, run (tiny suite file and a tiny latency grid), resume, plot, report, bad input."""
from __future__ import annotations

import json
import textwrap

import pandas as pd
import pytest
from typer.testing import CliRunner

from fibench.cli import app

runner = CliRunner()

TINY = textwrap.dedent('''
    import os
    NAME = "tiny"
    DESCRIPTION = "a tiny suite for CLI tests"
    PRESETS = {"quick": {"a": [1, 2], "b": ["x"]}, "paper": {"a": [1, 2, 3], "b": ["x", "y"]}}
    REPEATS = {"quick": 1, "paper": 2}

    def _measure(params):
        fail_at = os.environ.get("FIBENCH_TINY_FAIL_AT")
        if fail_at is not None and params["a"] == int(fail_at):
            raise RuntimeError("planned failure")
        return [{"value": params["a"] * 100 + params["rep"], "time_s": 0.001 * params["a"]}]

    MEASURE = _measure
''')


@pytest.fixture
def tiny(tmp_path):
    f = tmp_path / "tiny_suite.py"
    f.write_text(TINY)
    return f


def run(*args, **kw):
    r = runner.invoke(app, [str(a) for a in args], catch_exceptions=False, **kw)
    r.text = flat(r.output)
    return r


def flat(output: str) -> str:
    """Output with rich's error box removed and whitespace collapsed (boxes wrap long lines)."""
    for ch in "│╭╮╰╯─":
        output = output.replace(ch, " ")
    return " ".join(output.split())


def test_help_and_list():
    r = run("--help")
    assert r.exit_code == 0 and "run" in r.output and "report" in r.output
    r = run("list")
    assert r.exit_code == 0, r.output
    for word in ("latency", "preset quick", "preset paper", "grid points", "lan", "region", "wan", "geo",
                 "--set keys"):
        assert word in r.output
    r = run("list", "latency")
    assert r.exit_code == 0 and "owners" in r.output and "networks=[lan, region, wan, geo]" in r.output


def test_list_unknown_suite():
    r = run("list", "nope")
    assert r.exit_code == 2
    assert "unknown suite 'nope'" in r.text and "latency" in r.text


def test_run_report_plot_tiny(tiny, tmp_path):
    out = tmp_path / "run1"
    r = run("run", tiny, "--out", out, "--set", "a=1,2,3", "--set", "repeats=2")
    assert r.exit_code == 0, r.output
    assert "tiny: 6/6 tasks done" in r.output
    df = pd.read_csv(out / "results.csv")
    assert len(df) == 6 and sorted(df["value"]) == [100, 101, 200, 201, 300, 301]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["suite"] == "tiny" and meta["config"]["overrides"] == {"a": [1, 2, 3], "repeats": 2}
    assert meta["status"] == "complete" and meta["environment"]["cpu"]["count"] >= 1
    r = run("report", out, "-o", tmp_path / "report.md")
    assert r.exit_code == 0
    assert "# fibench run: tiny" in r.output and "| a | value | time_s |" in r.output
    assert "| 3 | 300.5 | 0.003 (0.003–0.003) |" in r.output
    assert (tmp_path / "report.md").read_text().startswith("# fibench run: tiny")
    r = run("plot", out)
    assert r.exit_code == 0 and "no plots defined for suite 'tiny'" in r.output
    r = run("run", tiny, "--out", out)
    assert r.exit_code == 2 and "already holds a run" in r.text


@pytest.mark.parametrize("args, words", [
    (["run", "nope"], ["unknown suite 'nope'", "latency", "'all'"]),
    (["run", "latency", "--preset", "huge"], ["--preset", "unknown preset 'huge'", "quick, paper"]),
    (["run", "latency", "--set", "bogus=1"], ["--set", "unknown key(s) 'bogus'", "valid keys:", "owners", "networks"]),
    (["run", "latency", "--set", "owners"], ["--set", "key=value"]),
    (["run", "latency", "--set", "owners=[1,2"], ["--set", "malformed"]),
    (["run", "latency", "--set", "repeats=0"], ["repeats must be an integer >= 1"]),
    (["run"], ["give a suite name"]),
    (["run", "all", "--preset", "huge"], ["unknown preset 'huge'"]),
    (["run", "all", "--set", "bogus=1"], ["unknown key(s) 'bogus' in every suite"]),
    (["report", "/no/such/run"], ["not a run directory"]),
    (["plot", "/no/such/run"], ["not a run directory"]),
])
def test_bad_input(args, words, tmp_path):
    r = run(*args, "--out", tmp_path / "x") if args[0] == "run" and len(args) > 1 else run(*args)
    assert r.exit_code == 2, r.output
    for w in words:
        assert w in r.text, (w, r.output)
    assert not (tmp_path / "x" / "meta.json").exists()   # nothing written on bad input


def test_run_fail_then_resume(tiny, tmp_path, monkeypatch):
    out = tmp_path / "run2"
    monkeypatch.setenv("FIBENCH_TINY_FAIL_AT", "3")
    r = run("run", tiny, "--preset", "paper", "--out", out, "--no-plot")
    assert r.exit_code == 1
    assert "planned failure" in r.text and f"--resume {out}" in r.text
    assert len(pd.read_csv(out / "results.csv")) == 8          # a=1,2 x b=x,y x 2 repeats
    r = run("run", "--resume", out, "--set", "a=1")
    assert r.exit_code == 2 and "leave out --preset and --set" in r.text
    monkeypatch.delenv("FIBENCH_TINY_FAIL_AT")
    r = run("run", "--resume", out, "--no-plot")               # suite read from meta.json
    assert r.exit_code == 0, r.output
    assert "12/12 tasks done (8 resumed)" in r.output
    df = pd.read_csv(out / "results.csv")
    assert len(df) == 12 and not df.duplicated(["a", "b", "rep"]).any()


def test_run_latency_tiny_grid_with_plots(tmp_path):
    """The real latency suite on a 2-point grid: rows per network profile, figures, report."""
    pytest.importorskip("fibench.mpc")
    out = tmp_path / "lat"
    r = run("run", "latency", "--out", out, "--set", "workload=m1", "--set", "owners=2,3",
            "--set", "topology=T1", "--set", "networks=lan,wan,geo")
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out / "results.csv")
    assert len(df) == 2 * 3 and set(df["network"]) == {"lan", "wan", "geo"}
    assert (df["est_time_s"] - df["compute_s"] - df["latency_s"] - df["transfer_s"]).abs().max() < 1e-12
    # counts do not depend on the profile; WAN is slower than LAN; latency dominates on WAN
    for _, g in df.groupby("owners"):
        assert g["online_rounds"].nunique() == 1
        t = g.set_index("network")["est_time_s"]
        assert t["lan"] < t["wan"] < t["geo"]
        assert g.set_index("network").loc["wan", "latency_share"] > 0.5
    assert (df["agree"] == 1.0).all()
    figs = {p.name for p in (out / "figures").iterdir()}
    assert {"latency_vs_owners_m1.png", "latency_vs_owners_m1.svg", "latency_share.png"} <= figs
    r = run("report", out)
    assert r.exit_code == 0 and "time wan" in r.output and "M1 K=3 T1" in r.output


def test_run_all_plumbing(tiny, tmp_path, monkeypatch):
    """`run all` runs every discovered suite into DIR/<suite>/, skips unavailable ones, resumes."""
    from fibench.bench import runner as rn

    import types

    tiny_mod = rn.load_suite_file(tiny)
    missing = types.ModuleType("missing_suite")
    missing.NAME, missing.DESCRIPTION = "missing", "measure not written yet"
    missing.PRESETS, missing.MEASURE = {"quick": {"a": [1]}}, "fibench.bench.no_such_thing:run_point"
    monkeypatch.setattr(rn, "discover_suites", lambda errors=None: {"tiny": tiny_mod, "missing": missing})
    out = tmp_path / "all"
    r = run("run", "all", "--out", out, "--set", "a=5", "--no-progress")
    assert r.exit_code == 0, r.output
    assert "skipping suite missing" in r.text and "tiny: 1/1 tasks done" in r.text
    assert pd.read_csv(out / "tiny" / "results.csv")["value"].tolist() == [500]
    r = run("run", "all", "--resume", out, "--no-progress")
    assert r.exit_code == 0 and "tiny: 1/1 tasks done (1 resumed)" in r.text


def test_latency_user_network_file(tmp_path):
    pytest.importorskip("fibench.mpc")
    f = tmp_path / "nets.toml"
    f.write_text("[profiles.sat]\nrtt_ms = 600\nbandwidth_mbps = 20\n")
    out = tmp_path / "lat"
    r = run("run", "latency", "--out", out, "--no-plot", "--no-progress", "--set", "workload=relu",
            "--set", "n=1", "--set", "parties=2", "--set", "protocol=a2b",
            "--set", f"network_file={f}", "--set", "networks=lan,sat")
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out / "results.csv")
    assert list(df["network"]) == ["lan", "sat"]
    sat = df.set_index("network").loc["sat"]
    assert sat["latency_s"] == pytest.approx(0.6 * sat["online_rounds"])
