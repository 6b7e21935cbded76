"""Tidy, conventional outputs (issue 18, item 5): modes that honour the umask, integer columns
that stay integers, parquet beside the CSV, README.md / ``fibench explain``, preset durations."""
from __future__ import annotations

import os
import stat
import textwrap

import pandas as pd
import pytest
from typer.testing import CliRunner

from fibench.bench import explain as ex
from fibench.bench import results as res
from fibench.bench import runner as rn
from fibench.cli import app

cli = CliRunner()

SUITE = textwrap.dedent('''
    NAME = "tidy"
    DESCRIPTION = "mixed column types"
    PRESETS = {"quick": {"a": [1, 2, 3], "alpha": [0.5, "iid"]}}
    DURATION_S = {"quick": 12}
    KEYS = {"a": {"int": (1, 10)}, "alpha": {"real": (0, None), "open": True, "also": ("iid",)}}

    def _measure(p):
        row = {"count": 10 * p["a"], "time_s": 0.5 * p["a"], "online_rounds": p["a"]}
        if p["a"] == 2:          # this task has no bytes: the column must stay an integer one
            row.pop("online_rounds")
        return [row]

    MEASURE = _measure
''')


@pytest.fixture
def suite_file(tmp_path):
    f = tmp_path / "tidy_suite.py"
    f.write_text(SUITE)
    return f


@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield lambda m: os.umask(m)
    os.umask(old)


def run_tidy(suite_file, out, *extra):
    r = cli.invoke(app, ["run", str(suite_file), "--out", str(out), "--no-progress", *extra], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return out


def modes(root):
    return {p.relative_to(root).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in [root, *root.rglob("*")]}


@pytest.mark.parametrize("mask, file_mode, dir_mode", [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700),
                                                       (0o002, 0o664, 0o775)])
def test_every_file_and_directory_honours_the_umask(suite_file, tmp_path, umask, mask, file_mode, dir_mode):
    umask(mask)
    out = run_tidy(suite_file, tmp_path / "run")
    res.atomic_write_text(out / "figures" / "x.png", "not really a png")   # what the figures use
    got = modes(out)
    assert {"meta.json", "results.csv", "results.parquet", "README.md", "points", "figures"} <= set(got)
    for name, mode in got.items():
        is_dir = (out / name).is_dir() if name != "." else True
        assert mode == (dir_mode if is_dir else file_mode), (name, oct(mode))


def test_integer_columns_stay_integers_and_parquet_round_trips(suite_file, tmp_path):
    out = run_tidy(suite_file, tmp_path / "run")
    text = (out / "results.csv").read_text().splitlines()
    header = text[0].split(",")
    rounds = [line.split(",")[header.index("online_rounds")] for line in text[1:]]
    assert rounds == ["1", "1", "", "", "3", "3"]               # not 1.0 / 3.0
    assert all("." not in line.split(",")[header.index("count")] for line in text[1:])
    pq = pd.read_parquet(out / "results.parquet")
    assert str(pq["online_rounds"].dtype) == "Int64" and pq["online_rounds"].isna().sum() == 2
    assert str(pq["count"].dtype) == "int64" and pq["time_s"].dtype == float
    assert pq["alpha"].tolist() == ["0.5", "iid"] * 3          # a mixed column: text in parquet
    csv = pd.read_csv(out / "results.csv")
    assert len(pq) == len(csv) and list(pq.columns) == list(csv.columns)
    assert (pq["count"].to_numpy() == csv["count"].to_numpy()).all()


def test_integer_columns_rules():
    a = pd.DataFrame({"i": [1, 2], "f": [1.0, 2.5], "b": [True, False]})
    b = pd.DataFrame({"i": [float("nan")], "f": [1.0], "x": [3]})
    c = pd.DataFrame({"x": [0.5]})
    assert res.integer_columns([a, b]) == {"i", "x"}
    assert res.integer_columns([a, b, c]) == {"i"}               # x holds a fraction in c
    assert res.integer_columns([]) == set()
    df = res.keep_integers(pd.concat([a, b], ignore_index=True), {"i"})
    assert str(df["i"].dtype) == "Int64" and df["i"].tolist()[:2] == [1, 2]


def test_parquet_of_mixed_and_empty_tables(tmp_path):
    df = pd.DataFrame({"alpha": [0.1, "iid", None], "k": [1, 2, 3]})
    back = pd.read_parquet(res.atomic_write_parquet(tmp_path / "t.parquet", df))
    assert back["alpha"].tolist()[:2] == ["0.1", "iid"] and pd.isna(back["alpha"][2]) and back["k"].tolist() == [1, 2, 3]
    run = res.RunDir(tmp_path / "r").create()
    assert [p.name for p in run.write_results(df)] == ["results.csv", "results.parquet"]
    assert [p.name for p in run.write_results(pd.DataFrame())] == ["results.csv"]
    assert not (run.path / "results.parquet").exists()          # no stale table beside an empty CSV


def test_readme_and_explain_describe_every_column(suite_file, tmp_path):
    out = run_tidy(suite_file, tmp_path / "run")
    readme = (out / "README.md").read_text()
    for words in ("`points/`", "`meta.json`", "`results.parquet`", "| `a` | integer | grid key (an integer in [1, 10])",
                  "| `online_rounds` | integer or empty | online communication rounds", "| `task_wall_s` | real |",
                  "| `alpha` | text | grid key", "| `count` | integer | (not documented) |"):
        assert words in readme, words
    r = cli.invoke(app, ["explain", str(out)])
    assert r.exit_code == 0 and r.output.strip() == readme.strip()
    r = cli.invoke(app, ["explain", str(tmp_path / "nope")])
    assert r.exit_code == 2 and "not a run directory" in " ".join(r.output.replace("│", " ").split())


@pytest.mark.parametrize("name, point", [
    ("kernels", {"kernel": "ring_add", "n": 10, "inner": 1}),
    ("communication", {"op": "lt", "protocol": "a2b", "parties": 2, "n": 10, "rows": 2, "reps": 1}),
    ("latency", {"workload": "relu", "n": 4, "parties": 2, "protocol": "a2b", "networks": ["lan"],
                 "features": 4, "classes": 2, "timing_reps": 1, "threads": 1}),
])
def test_the_glossary_covers_the_built_in_suites(name, point):
    suite = rn.load_suite(name)
    from fibench.bench.suite import resolve_measure

    rows = resolve_measure(suite.MEASURE)({**point, "seed": 0, "rep": 0})
    cols = list(point) + ["seed", "rep", "point", "task_wall_s"] + [c for r in rows for c in r]
    assert ex.undocumented(dict.fromkeys(cols), suite) == []


def test_list_shows_the_estimated_duration_of_each_preset(suite_file):
    r = cli.invoke(app, ["list", str(suite_file)])
    assert r.exit_code == 0 and "preset quick: 6 grid points x 1 repeats, estimated ~12 s" in r.output
    r = cli.invoke(app, ["list", "--brief"])
    assert r.exit_code == 0
    presets = [line for line in r.output.splitlines() if line.strip().startswith("preset ")]
    assert presets and all("estimated" in line for line in presets)
    assert all("unknown" not in line for line in presets)


def test_duration_lower_bound_from_the_measured_preset():
    import types

    mod = types.SimpleNamespace(PRESETS={"quick": {"a": [1, 2]}, "paper": {"a": [1, 2, 3, 4]}},
                                DURATION_S={"quick": 10}, REPEATS={"quick": 1, "paper": 1})
    assert rn.estimated_duration(mod, "quick", 2) == "~10 s"
    assert rn.estimated_duration(mod, "paper", 4).startswith(">= 20 s")
    assert rn.estimated_duration(types.SimpleNamespace(PRESETS={"quick": {}}), "quick", 1) == "unknown"
