"""Runner: grid expansion, overrides, resume after a crash (exception and SIGKILL), atomic writes."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pandas as pd
import pytest

from fibench.bench import results as res
from fibench.bench import runner
from fibench.bench.runner import RunFailed, SuiteError


def make_suite(measure, presets=None, repeats=2, **extra):
    mod = types.ModuleType("fake_suite_mod")
    mod.NAME = "fake"
    mod.DESCRIPTION = "a fake suite for tests"
    mod.MEASURE = measure
    mod.PRESETS = presets or {"quick": {"a": [1, 2, 3], "b": ["x", "y"]}, "paper": {"a": [1], "b": ["x"]}}
    mod.REPEATS = {"quick": repeats, "paper": 1}
    for k, v in extra.items():
        setattr(mod, k, v)
    return mod


class Measure:
    """Counts calls; raises after ``fail_after`` calls when set."""

    def __init__(self, fail_after=None):
        self.calls = []
        self.fail_after = fail_after

    def __call__(self, params):
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            raise RuntimeError("boom")
        self.calls.append(dict(params))
        return [{"value": params["a"] * 10 + params["rep"], "label": params["b"] * 2, "jit_compile_s": 0.5}]


# -- parsing and configuration ----------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [
    ("5", 5), ("-3", -3), ("0.1", 0.1), ("1e-3", 1e-3), ("2,5", [2, 5]), ("[1, 2]", [1, 2]),
    ("lan,wan", ["lan", "wan"]), ("[lan, wan]", ["lan", "wan"]), ("inf", math.inf), ("-inf", -math.inf),
    ("true", True), ("False", False), ("none", None), ("iid", "iid"), ("'5'", "5"), ("0.05,0.5,inf", [0.05, 0.5, math.inf]),
    ("3,", [3]),
])
def test_parse_value(text, value):
    assert runner.parse_value(text) == value


@pytest.mark.parametrize("items, match", [
    (["owners"], "key=value"), (["=3"], "bad key"), (["a="], "empty value"), (["a=[1,2"], "malformed"),
    (["a=,"], "malformed"),
])
def test_parse_sets_errors(items, match):
    with pytest.raises(SuiteError, match=match) as ei:
        runner.parse_sets(items)
    assert ei.value.param == "--set"


def test_resolve_config_overrides_and_errors():
    suite = make_suite(Measure())
    cfg = runner.resolve_config(suite, None, {"a": [4, 5], "repeats": 3, "seed": 7})
    assert cfg["preset"] == "quick" and cfg["repeats"] == 3 and cfg["seed"] == 7
    assert cfg["grids"] == [{"a": [4, 5], "b": ["x", "y"]}]
    pts = runner.expand(cfg)
    assert len(pts) == 4 and all(p["seed"] == 7 for p in pts)
    with pytest.raises(SuiteError, match=r"unknown key\(s\) 'c'.*valid keys: a, b, seed, repeats") as ei:
        runner.resolve_config(suite, "quick", {"c": 1})
    assert ei.value.param == "--set"
    assert runner.resolve_config(suite, "quick", {"c": 1}, strict=False)["grids"][0] == {"a": [1, 2, 3], "b": ["x", "y"]}
    with pytest.raises(SuiteError, match="unknown preset 'huge'.*quick, paper") as ei:
        runner.resolve_config(suite, "huge")
    assert ei.value.param == "--preset"
    with pytest.raises(SuiteError, match="repeats"):
        runner.resolve_config(suite, "quick", {"repeats": 0})
    # a seed list becomes a grid dimension
    pts = runner.expand(runner.resolve_config(suite, "paper", {"seed": [0, 1, 2]}))
    assert [p["seed"] for p in pts] == [0, 1, 2]


def test_subgrids_no_expand_valid_and_dedup():
    presets = {"quick": [
        {"w": "relu", "n": [1, 10], "nets": ["lan", "wan"]},
        {"w": "m1", "k": [2, 3], "nets": ["lan", "wan"]},
        {"w": "relu", "n": [10], "nets": ["lan", "wan"]},   # duplicate point: dropped
    ]}
    suite = make_suite(Measure(), presets, NO_EXPAND=("nets",), VALID=lambda p: p.get("k") != 3)
    cfg = runner.resolve_config(suite, "quick", {"nets": "geo", "k": [2, 3, 4]})
    pts = runner.expand(cfg, suite.VALID)
    assert [(p["w"], p.get("n"), p.get("k")) for p in pts] == [("relu", 1, None), ("relu", 10, None),
                                                                  ("m1", None, 2), ("m1", None, 4)]
    assert all(p["nets"] == ["geo"] for p in pts)


def test_task_ids_stable_and_distinct():
    p = {"a": 1, "alpha": math.inf, "seed": 0}
    assert runner.task_id(p, 0) == runner.task_id(dict(reversed(list(p.items()))), 0)
    assert runner.task_id(p, 0) != runner.task_id(p, 1)
    assert runner.task_id(p, 0) != runner.task_id({**p, "a": 2}, 0)


# -- running and resuming ----------------------------------------------------------------------------

def _check_complete(path: Path, n_tasks: int):
    df = pd.read_csv(path / "results.csv")
    assert len(df) == n_tasks
    assert not df.duplicated(["point", "rep"]).any()
    assert set(zip(df["point"], df["rep"])) == {(i, r) for i in range(n_tasks // 2) for r in range(2)}
    assert (df["value"] == df["a"] * 10 + df["rep"]).all()
    # rows are in grid order, repetitions together
    assert list(df["point"]) == sorted(df["point"])
    return df


def test_run_writes_results_and_meta(tmp_path):
    m = Measure()
    out = tmp_path / "run"
    r = runner.run_suite(make_suite(m), out=out, progress=False)
    assert r.status == "complete" and r.n_tasks == 12 and r.n_done == 12 and r.n_skipped == 0
    df = _check_complete(out, 12)
    assert list(df.columns[:6]) == ["a", "b", "seed", "rep", "point", "task_wall_s"]
    meta = res.RunDir(out).read_meta()
    assert meta["suite"] == "fake" and meta["status"] == "complete"
    assert meta["config"]["preset"] == "quick" and meta["n_tasks"] == 12 and meta["seeds"] == [0]
    assert meta["jit_compile"]["total_s"] == pytest.approx(6.0)
    for key in ("environment", "started", "ended", "config"):
        assert meta[key]
    assert set(meta["environment"]) >= {"git", "packages", "cpu"}
    assert meta["environment"]["packages"]["numpy"]
    assert meta["environment"]["cpu"]["count"] >= 1
    assert (out / "figures").is_dir()
    assert len(list((out / "points").glob("*.csv"))) == 12
    assert not list(out.rglob("*.tmp"))
    # params handed to the measure function: grid point + seed + rep
    assert m.calls[0] == {"a": 1, "b": "x", "seed": 0, "rep": 0}
    with pytest.raises(SuiteError, match="already holds a run"):
        runner.run_suite(make_suite(Measure()), out=out, progress=False)


def test_resume_after_exception(tmp_path):
    out = tmp_path / "run"
    failing = Measure(fail_after=5)
    with pytest.raises(RunFailed, match="5/12 tasks stored; resume with --resume") as ei:
        runner.run_suite(make_suite(failing), out=out, progress=False)
    assert ei.value.path == out
    meta = res.RunDir(out).read_meta()
    assert meta["status"] == "failed" and "RuntimeError: boom" in meta["error"] and meta["n_done"] == 5
    assert len(pd.read_csv(out / "results.csv")) == 5      # finished points are in results.csv already

    with pytest.raises(SuiteError, match="leave out --preset and --set"):
        runner.run_suite(make_suite(Measure()), out=None, resume=out, overrides={"a": [1]}, progress=False)
    other = make_suite(Measure())
    other.NAME = "other"
    with pytest.raises(SuiteError, match="run of suite 'fake'"):
        runner.run_suite(other, resume=out, progress=False)

    good = Measure()
    r = runner.run_suite(make_suite(good), resume=out, progress=True)
    assert r.status == "complete" and r.n_skipped == 5 and r.n_done == 12
    assert len(good.calls) == 7                             # only the missing tasks ran
    _check_complete(out, 12)
    meta = res.RunDir(out).read_meta()
    assert meta["status"] == "complete" and meta["error"] is None and len(meta["resumed"]) == 1
    # resuming a complete run runs nothing
    again = Measure()
    runner.run_suite(make_suite(again), resume=out, progress=False)
    assert again.calls == []
    _check_complete(out, 12)


def test_resume_keeps_stored_config_with_inf(tmp_path):
    presets = {"quick": {"a": [1, 2], "b": "x", "alpha": [0.5, math.inf]}}
    first = Measure(fail_after=2)
    suite = make_suite(first, presets, repeats=1)
    with pytest.raises(RunFailed):
        runner.run_suite(suite, overrides={"a": [1, 2, 3]}, out=tmp_path / "r", progress=False)
    cfg = res.RunDir(tmp_path / "r").read_meta()["config"]
    assert cfg["grids"][0]["alpha"] == [0.5, math.inf]      # inf survives meta.json
    text = (tmp_path / "r" / "meta.json").read_text()
    json.loads(text)                                          # strict JSON (no Infinity literal)
    second = Measure()
    runner.run_suite(make_suite(second, presets, repeats=1), resume=tmp_path / "r", progress=False)
    assert len(second.calls) == 4                             # 6 points (override kept) - 2 done
    df = pd.read_csv(tmp_path / "r" / "results.csv")
    assert len(df) == 6 and df["alpha"].isin([0.5, math.inf]).all()


SUITE_FILE = textwrap.dedent('''
    import os, signal
    NAME = "killme"
    DESCRIPTION = "killed by SIGKILL after N points"
    PRESETS = {"quick": {"i": list(range(8))}}
    REPEATS = {"quick": 1}
    COUNT = [0]

    def _measure(params):
        limit = int(os.environ.get("FIBENCH_TEST_KILL_AFTER", "-1"))
        if COUNT[0] == limit:
            os.kill(os.getpid(), signal.SIGKILL)
        COUNT[0] += 1
        return [{"sq": params["i"] ** 2}]

    MEASURE = _measure
''')


def test_resume_after_sigkill(tmp_path):
    suite_file = tmp_path / "killme.py"
    suite_file.write_text(SUITE_FILE)
    out = tmp_path / "run"
    code = (f"from fibench.bench.runner import run_suite; "
            f"run_suite({str(suite_file)!r}, out={str(out)!r}, progress=False)")
    env = {**os.environ, "FIBENCH_TEST_KILL_AFTER": "3", "NUMBA_DISABLE_JIT": "1"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=120)
    assert proc.returncode == -9
    run = res.RunDir(out)
    assert len(run.finished()) == 3
    assert run.read_meta()["status"] == "running"             # never got to write an end state
    assert not list((out / "points").glob("*.csv.*"))          # no torn point files left visible
    r = runner.run_suite(str(suite_file), resume=out, progress=False)
    assert r.n_skipped == 3 and r.n_done == 8
    df = pd.read_csv(out / "results.csv")
    assert list(df["i"]) == list(range(8)) and (df["sq"] == df["i"] ** 2).all()


def test_bad_measure_output_and_missing_measure(tmp_path):
    bad = make_suite(lambda params: "not rows")
    with pytest.raises(RunFailed, match="must return a list of dicts"):
        runner.run_suite(bad, out=tmp_path / "bad", progress=False)
    missing = make_suite("fibench.no_such_module:run_point")
    assert "cannot be imported" in runner.measure_available(missing)
    with pytest.raises(SuiteError, match="cannot be imported"):
        runner.run_suite(missing, out=tmp_path / "missing", progress=False)


def test_empty_rows_and_default_run_dir(tmp_path):
    suite = make_suite(lambda p: [] if p["a"] == 2 else [{"v": 1}], repeats=1)
    r = runner.run_suite(suite, results_root=tmp_path / "results", progress=False)
    assert r.path.parent == tmp_path / "results" / "fake"
    df = pd.read_csv(r.path / "results.csv")
    assert len(df) == 4 and set(df["a"]) == {1, 3}


def test_discover_and_load_suites():
    errors = {}
    suites = runner.discover_suites(errors)
    assert "latency" in suites and "kernels" in suites
    assert list(suites).index("kernels") < list(suites).index("latency")
    assert runner.load_suite("latency") is suites["latency"]
    with pytest.raises(SuiteError, match="unknown suite 'nope'; choose from .*latency"):
        runner.load_suite("nope")
    with pytest.raises(SuiteError, match="not found"):
        runner.load_suite("/no/such/suite.py")


# -- atomic writes ------------------------------------------------------------------------------------

def test_atomic_write_replaces_or_keeps(tmp_path, monkeypatch):
    f = tmp_path / "sub" / "x.json"
    res.atomic_write_json(f, {"v": 1})
    assert res.read_json(f) == {"v": 1}

    def broken_replace(src, dst):
        raise OSError("disk on fire")

    monkeypatch.setattr(res.os, "replace", broken_replace)
    with pytest.raises(OSError):
        res.atomic_write_json(f, {"v": 2})
    monkeypatch.undo()
    assert res.read_json(f) == {"v": 1}                       # old content intact
    assert [p.name for p in f.parent.iterdir()] == ["x.json"]  # temp file cleaned up
    res.atomic_write_csv(tmp_path / "t.csv", pd.DataFrame({"a": [1, 2]}))
    assert (tmp_path / "t.csv").read_text().splitlines() == ["a", "1", "2"]
    assert pd.read_parquet(res.atomic_write_parquet(tmp_path / "t.parquet", pd.DataFrame({"a": [1]})))["a"].tolist() == [1]


def test_categorical_override_selects_subgrids():
    presets = {"quick": [
        {"w": "relu", "n": [1, 10], "proto": "a2b"},
        {"w": "relu", "n": [1], "proto": "fss"},
        {"w": "m1", "k": [2, 3], "proto": "a2b"},
    ]}
    suite = make_suite(Measure(), presets)
    sel = runner.resolve_config(suite, "quick", {"w": "m1"})["grids"]
    assert [g["w"] for g in sel] == ["m1"]
    sel = runner.resolve_config(suite, "quick", {"proto": "a2b"})["grids"]
    assert [(g["w"], g["proto"]) for g in sel] == [("relu", "a2b"), ("m1", "a2b")]
    # no sub-grid has the value: plain replacement everywhere
    sel = runner.resolve_config(suite, "quick", {"proto": "new"})["grids"]
    assert len(sel) == 3 and all(g["proto"] == "new" for g in sel)
    # numeric values never select, they replace
    sel = runner.resolve_config(suite, "quick", {"n": 5, "k": 7})["grids"]
    assert [g.get("n") for g in sel] == [5, 5, None] and sel[2]["k"] == 7
