"""fibench compare (matching by point parameters, exact counts, noise-aware time gate,
unmatched points, one-line errors) and fibench report --html (parsed with html.parser)."""
from __future__ import annotations

import shutil
from html.parser import HTMLParser

import pandas as pd
import pytest
from typer.testing import CliRunner

from fibench.bench import results as res
from fibench.cli import app

runner = CliRunner()


def run(*args):
    r = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    out = r.output
    for ch in "│╭╮╰╯─":  # rich's error box wraps long lines
        out = out.replace(ch, " ")
    r.text = " ".join(out.split())
    return r


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """One real tiny run of the communication suite (with figures)."""
    out = tmp_path_factory.mktemp("cmp") / "a"
    r = run("run", "communication", "--preset", "quick", "--set", "op=share", "--set", "parties=2",
            "--set", "n=1000,2000", "--out", out, "--no-progress")
    assert r.exit_code == 0, r.output
    return out


def _copy(src, dst, edit=None):
    shutil.copytree(src, dst)
    if edit is not None:
        run_dir = res.RunDir(dst)
        df = run_dir.load_results()
        edit(df)
        run_dir.write_results(df)
    return dst


def test_identical_counts_pass(base, tmp_path):
    b = _copy(base, tmp_path / "b")
    r = run("compare", base, b, "--fail-on", "50")
    assert r.exit_code == 0, r.output
    assert "all" in r.text and "counts equal" in r.text and "PASS" in r.text
    assert "| n=1000 | time_s |" in r.output and "| n=2000 | time_s |" in r.output


def test_reordered_rows_still_match(base, tmp_path):
    b = tmp_path / "b"
    shutil.copytree(base, b)
    df = res.RunDir(b).load_results()
    res.RunDir(b).write_results(df.iloc[::-1].reset_index(drop=True).assign(point=lambda d: d["point"][::-1].values))
    r = run("compare", base, b, "--fail-on", "50")
    assert r.exit_code == 0, r.output
    assert "only in A: 0" in r.text


def test_byte_change_fails(base, tmp_path):
    def edit(df):
        df.loc[df["n"] == 2000, "offline_bytes_per_party"] += 8

    b = _copy(base, tmp_path / "b", edit)
    r = run("compare", base, b, "--fail-on", "50")
    assert r.exit_code == 1, r.output
    assert "offline_bytes_per_party" in r.text and "FAIL" in r.text
    # without --fail-on the change is reported, the exit status is 0
    r = run("compare", base, b)
    assert r.exit_code == 0 and "1 changed" in r.text


def test_slower_time_fails_noise_aware(base, tmp_path):
    def steady(df):  # a 10% spread of the repetitions (the real run's spread is the machine's)
        df["time_min_s"], df["time_max_s"] = df["time_s"] * 0.95, df["time_s"] * 1.05

    a = _copy(base, tmp_path / "a", steady)

    def slow(df):
        steady(df)
        for c in ("time_s", "time_min_s", "time_max_s", "online_s"):
            df[c] = df[c] * 3

    b = _copy(base, tmp_path / "b", slow)
    r = run("compare", a, b, "--fail-on", "50", "--metric", "time_s")
    assert r.exit_code == 1, r.output
    assert "time_s 3x slower" in r.text
    # a huge tolerance passes it
    r = run("compare", a, b, "--fail-on", "500", "--metric", "time_s")
    assert r.exit_code == 0, r.output

    # a noisy A (wide min..max of the repetitions) widens the threshold past 3x
    def noisy(df):
        steady(df)
        df["time_max_s"] = df["time_s"] * 5

    a2 = _copy(base, tmp_path / "a2", noisy)
    r = run("compare", a2, b, "--fail-on", "50", "--metric", "time_s")
    assert r.exit_code == 0, r.output


def _kernels_run(tmp_path_factory, name: str, *sets: str):
    """A real tiny ``kernels`` run with ``--set`` values ``sets`` (no figures)."""
    out = tmp_path_factory.mktemp(name) / "a"
    args = [a for kv in sets for a in ("--set", kv)]
    r = run("run", "kernels", *args, "--out", out, "--no-progress", "--no-plot")
    assert r.exit_code == 0, r.output
    return out


@pytest.fixture(scope="module")
def kern(tmp_path_factory):
    """A real tiny kernels run (3 repetitions): throughput and ratio_vs_numpy come from times."""
    return _kernels_run(tmp_path_factory, "kern", "kernel=ring_add", "n=100000", "repeats=3")


def test_timed_columns_are_not_counts(kern, tmp_path):
    """A suite's TIMED columns (kernels: throughput, ratio_vs_numpy; larger is faster) are
    judged on the slowdown A/B with the repetitions' spread, never compared exactly."""
    def steady(factor):  # repetitions 1.0, 1.05, 0.95 (x factor): a 10% spread
        def edit(df):
            for c in ("throughput", "ratio_vs_numpy"):
                df[c] = [factor * (1.0, 1.05, 0.95)[int(r) % 3] for r in df["rep"]]
        return edit

    a = _copy(kern, tmp_path / "a", steady(1.0))
    r = run("compare", a, _copy(kern, tmp_path / "b", steady(1.1)), "--fail-on", "30", "--metric", "throughput",
            "--metric", "ratio_vs_numpy")
    assert r.exit_code == 0, r.output  # 10% faster: a count would have changed, a time passes
    counts_part = r.output.split("## Counts")[1].split("## Times")[0]
    assert "counts equal" in counts_part and "throughput" not in counts_part and "ratio_vs_numpy" not in counts_part
    assert "| ratio_vs_numpy | higher |" in r.output

    # the kernel 2x slower (numpy unchanged): the in-run ratio halves and fails
    r = run("compare", a, _copy(kern, tmp_path / "s", steady(0.5)), "--fail-on", "30", "--metric", "ratio_vs_numpy")
    assert r.exit_code == 1, r.output
    assert "ratio_vs_numpy 2x slower" in r.text
    # larger is better: a 2x larger ratio is no regression
    r = run("compare", a, _copy(kern, tmp_path / "f", steady(2.0)), "--fail-on", "30", "--metric", "ratio_vs_numpy")
    assert r.exit_code == 0, r.output


@pytest.fixture(scope="module")
def kern6(tmp_path_factory):
    """A real kernels run of 6 points x 2 repetitions (times replaced by the tests)."""
    return _kernels_run(tmp_path_factory, "kern6", "kernel=ring_add,ring_mul", "n=1000,2000,4000", "repeats=2")


def _times(factors):
    """time_s of point i = 1 ms x (i + 1) x factors[i], the two repetitions 2% apart."""
    def edit(df):
        df["time_s"] = [1e-3 * (int(p) + 1) * factors[int(p)] * (1.0, 1.02)[int(r) % 2]
                        for p, r in zip(df["point"], df["rep"])]
    return edit


def test_gate_judges_the_median_slowdown_of_the_points(kern6, tmp_path):
    """One point 3x slower among five unchanged ones is listed, not failing; every point 2x
    slower fails on the overall (median) slowdown; the scatter of the points widens it."""
    a = _copy(kern6, tmp_path / "a", _times([1.0] * 6))
    one = _copy(kern6, tmp_path / "one", _times([1.0, 1.05, 0.95, 1.02, 0.98, 3.0]))
    r = run("compare", a, one, "--fail-on", "30", "--metric", "time_s")
    assert r.exit_code == 0, r.output
    assert "| time_s | 6 | 1.01 |" in r.output and "PASS" in r.text
    assert "Single points beyond their threshold" in r.output and "time_s 3x slower" in r.text
    every = _copy(kern6, tmp_path / "every", _times([2.0] * 6))
    r = run("compare", a, every, "--fail-on", "30", "--metric", "time_s")
    assert r.exit_code == 1, r.output
    assert "overall: time_s 2x slower, median of 6 points (threshold 1.3x)" in r.text
    # points scattered 0.5x..2x around a 1.4x median: the median's standard error widens the threshold
    noisy = _copy(kern6, tmp_path / "noisy", _times([0.5, 0.9, 1.4, 1.4, 2.0, 2.6]))
    r = run("compare", a, noisy, "--fail-on", "30", "--metric", "time_s")
    assert r.exit_code == 0, r.output


def test_fail_on_point_catches_one_slower_kernel(kern6, tmp_path):
    """--fail-on-point: the same single 3x slower point fails the gate, the unchanged pair passes;
    without --fail-on it is refused in one line."""
    a = _copy(kern6, tmp_path / "a", _times([1.0] * 6))
    same = _copy(kern6, tmp_path / "same", _times([1.0, 1.05, 0.95, 1.02, 0.98, 1.0]))
    one = _copy(kern6, tmp_path / "one", _times([1.0, 1.05, 0.95, 1.02, 0.98, 3.0]))
    r = run("compare", a, one, "--fail-on", "30", "--fail-on-point", "--metric", "time_s")
    assert r.exit_code == 1, r.output
    assert "time_s 3x slower" in r.text
    r = run("compare", a, same, "--fail-on", "30", "--fail-on-point", "--metric", "time_s")
    assert r.exit_code == 0, r.output
    r = run("compare", a, one, "--fail-on-point")
    assert r.exit_code == 2 and "--fail-on-point needs --fail-on" in r.output


def test_unmatched_points_listed(base, tmp_path):
    b = _copy(base, tmp_path / "b", lambda df: df.__setitem__("n", df["n"].replace(2000, 4000)))
    r = run("compare", base, b)
    assert r.exit_code == 0
    assert "Only in A" in r.output and "- n=2000" in r.output
    assert "Only in B" in r.output and "- n=4000" in r.output
    assert "matched points**: 1" in r.output


@pytest.mark.parametrize("case", ["missing", "file", "no_meta", "damaged", "suite"])
def test_bad_paths_one_line(base, tmp_path, case):
    other = tmp_path / "x"
    expect = {"missing": "does not exist", "file": "not a directory", "no_meta": "not a fibench run directory",
              "damaged": "damaged run directory", "suite": "different suites"}[case]
    if case == "file":
        other.write_text("hi")
    elif case == "no_meta":
        other.mkdir()
    elif case == "damaged":
        shutil.copytree(base, other)
        (other / "meta.json").write_text("{trunc")
    elif case == "suite":
        shutil.copytree(base, other)
        meta = res.read_json(other / "meta.json")
        meta["suite"] = "latency"
        res.atomic_write_json(other / "meta.json", meta)
    r = runner.invoke(app, ["compare", str(base), str(other)])
    assert r.exit_code == 2
    assert r.exception is None or isinstance(r.exception, SystemExit)
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and expect in lines[0], r.output
    assert "Traceback" not in r.output


def test_unknown_metric(base):
    r = runner.invoke(app, ["compare", str(base), str(base), "--metric", "nope"])
    assert r.exit_code == 2 and "--metric" in r.output and "Traceback" not in r.output


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.title, self.imgs, self.tables, self.sections, self._in_title = "", [], 0, 0, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "title":
            self._in_title = True
        elif tag == "img":
            self.imgs.append(a.get("src", ""))
        elif tag == "table":
            self.tables += 1
        elif tag == "section":
            self.sections += 1

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def _parse(path) -> _Parser:
    p = _Parser()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_html_report_single_run(base, tmp_path):
    out = tmp_path / "r.html"
    r = run("report", base, "--html", out)
    assert r.exit_code == 0, r.output
    p = _parse(out)
    pngs = sorted((base / "figures").glob("*.png"))
    assert pngs and len(p.imgs) == len(pngs)
    assert all(src.startswith("data:image/png;base64,") for src in p.imgs)
    assert "communication" in p.title
    assert p.tables >= 4  # info, results, environment, versions (+ history)
    text = out.read_text()
    assert "Results (median over repetitions)" in text and "online_bytes_total" in text
    meta = res.read_json(base / "meta.json")
    assert meta["environment"]["git"]["commit"] or "(no commit)" in text
    assert "numpy" in text and "History" in text and "http" not in text.split("<body>")[1]


def test_html_report_run_all_dir(base, tmp_path):
    root = tmp_path / "all"
    shutil.copytree(base, root / "communication")
    shutil.copytree(base, root / "other")
    meta = res.read_json(root / "other" / "meta.json")
    meta["suite"] = "other"
    res.atomic_write_json(root / "other" / "meta.json", meta)
    out = tmp_path / "all.html"
    r = run("report", root, "--html", out)
    assert r.exit_code == 0, r.output
    p = _parse(out)
    assert p.sections == 2
    assert len(p.imgs) == 2 * len(list((base / "figures").glob("*.png")))


def test_html_report_bad_dir(tmp_path):
    r = run("report", tmp_path, "--html", tmp_path / "x.html")
    assert r.exit_code == 2 and "not a run directory" in r.text
    assert not (tmp_path / "x.html").exists()


def test_html_report_needs_no_matplotlib(base, tmp_path):
    """The HTML report renders in a process where matplotlib cannot be imported."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from fibench.bench.html_report import write_html\n"
            f"write_html({str(base)!r}, {str(tmp_path / 'r.html')!r})\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert len(_parse(tmp_path / "r.html").imgs) == len(list((base / "figures").glob("*.png")))


def _chromium():
    return next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)


@pytest.mark.skipif(_chromium() is None, reason="no headless Chromium (Debian: apt-get install chromium)")
def test_html_report_renders_in_a_headless_browser(base, tmp_path):
    """The documented browser check (docs/compare_report.md): Chromium loads the report offline
    and every embedded image decodes (naturalWidth > 0), counted by a script in a wrapper page."""
    import subprocess

    out = tmp_path / "r.html"
    assert run("report", base, "--html", out).exit_code == 0
    wrapper = tmp_path / "check.html"
    wrapper.write_text(f"""<!DOCTYPE html><html><body><iframe id="f" src="{out.name}"></iframe><pre id="r">pending</pre>
<script>document.getElementById("f").onload = function () {{
  var imgs = this.contentDocument.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) {{ if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++; }}
  document.getElementById("r").textContent = "IMAGES " + ok + "/" + imgs.length;
}};</script></body></html>""")
    proc = subprocess.run([_chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                           "--virtual-time-budget=10000", "--dump-dom", wrapper.as_uri()],
                          capture_output=True, text=True, timeout=120)
    n = len(list((base / "figures").glob("*.png")))
    assert n and f"IMAGES {n}/{n}" in proc.stdout, (proc.stdout[-2000:], proc.stderr[-2000:])
