"""Issue 13: a battery of bad-input and damaged-state cases, CLI and API.

Every case must fail cleanly: a non-zero exit (CLI) or a ValueError/TypeError (API), no
"Traceback" in the output, a message that names the parameter (or the file) and, for the
validation cases, nothing written. Most cases never run a measure function (validation comes
first); the damaged-state cases use a tiny suite file whose measure is instantaneous.
"""
from __future__ import annotations

import errno
import json
import os
import textwrap
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from fibench.cli import app

runner = CliRunner()

TINY = textwrap.dedent('''
    import os
    NAME = "tiny"
    DESCRIPTION = "a tiny suite for the bad-input battery"
    PRESETS = {"quick": {"a": [1, 2, 3], "b": ["x"]}}
    KEYS = {"a": {"int": (1, 9)}, "b": {"choice": ("x", "y")}}

    def _measure(params):
        if os.environ.get("FIBENCH_TINY_INTERRUPT") == str(params["a"]):
            raise KeyboardInterrupt
        return [{"value": params["a"] * 100 + params["rep"]}]

    MEASURE = _measure
''')


def flat(output: str) -> str:
    for ch in "│╭╮╰╯─":
        output = output.replace(ch, " ")
    return " ".join(output.split())


def cli(*args, **kw):
    # a wide terminal: rich's error box would otherwise break long paths in the middle
    env = {"COLUMNS": "4000", "TERMINAL_WIDTH": "4000", **kw.pop("env", {})}
    r = runner.invoke(app, [str(a) for a in args], env=env, **kw)
    r.text = flat(r.output)
    return r


def assert_clean_failure(r, words, codes=(1, 2)):
    assert r.exit_code in codes, (r.exit_code, r.output, r.exception)
    # an exception escaping the command is a traceback for the user (SystemExit is typer's exit)
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.output
    for w in words:
        assert w in r.text, (w, r.output)


@pytest.fixture
def tiny(tmp_path):
    f = tmp_path / "tiny_suite.py"
    f.write_text(TINY)
    return f


# -- 1. bad input on `fibench run`: validated before anything is written -----------------------------

_BAD_TOML = "[profiles.sat\nrtt_ms = 1\n"
_LAN_TOML = "[profiles.lan]\nrtt_ms = 5\nbandwidth_mbps = 10\n"
_SAT_TOML = "[profiles.sat]\nrtt_ms = 600\nbandwidth_mbps = 20\n"

# (suite, --set items, words the one-line message must contain)
RUN_CASES = [
    # accuracy
    ("accuracy", ["alpha=0"], ["alpha=0", "> 0"]),
    ("accuracy", ["alpha=-1"], ["alpha=-1", "> 0"]),
    ("accuracy", ["alpha=nan"], ["alpha=nan", "> 0"]),
    ("accuracy", ["alpha=abc"], ["alpha='abc'", "iid"]),
    ("accuracy", ["alpha=-inf"], ["alpha=-inf"]),
    ("accuracy", ["alpha=true"], ["alpha=True"]),
    ("accuracy", ["owners=0"], ["owners=0", "[1, 256]"]),
    ("accuracy", ["owners=-1"], ["owners=-1", "[1, 256]"]),
    ("accuracy", ["owners=1e6"], ["owners=1000000.0", "integer"]),
    ("accuracy", ["owners=1000000"], ["owners=1000000", "[1, 256]"]),
    ("accuracy", ["owners=250"], ["owners=250 with min_samples=5", "1079", "min_samples <= 4"]),
    ("accuracy", ["owners=2.5"], ["owners=2.5", "integer"]),
    ("accuracy", ["owners=abc"], ["owners='abc'", "integer"]),
    ("accuracy", ["owners=2,abc"], ["owners='abc'"]),
    ("accuracy", ["owners=none"], ["owners=None"]),
    ("accuracy", ["model=svm"], ["model='svm'", "lr, mlp"]),
    ("accuracy", ["model=mlp:0"], ["model='mlp:0'", "hidden sizes"]),
    ("accuracy", ["model=cnn:8,8,8,8"], ["model='cnn:8,8,8,8'", "cnn blocks"]),
    ("accuracy", ["dataset=synthetic", "model=cnn"], ["model cnn needs a square number of features"]),
    ("accuracy", ["partition=zipf"], ["partition='zipf'", "dirichlet"]),
    ("accuracy", ["dataset=nope"], ["dataset='nope'", "digits"]),
    ("accuracy", ["dataset=/no/such/file.csv"], ["dataset='/no/such/file.csv'", "not found"]),
    ("accuracy", ["dataset=/no/such/file.npz"], ["not found"]),
    ("accuracy", ["seed=-1"], ["seed=-1", "[0, 4294967295]"]),
    ("accuracy", ["seed=abc"], ["seed", "integer"]),
    ("accuracy", ["seed=2.5"], ["seed", "integer"]),
    ("accuracy", ["seed=4294967296"], ["seed=4294967296"]),
    ("accuracy", ["seed=0,-3"], ["seed=-3"]),
    ("accuracy", ["repeats=0"], ["repeats must be an integer >= 1"]),
    ("accuracy", ["repeats=-2"], ["repeats must be an integer >= 1"]),
    ("accuracy", ["repeats=abc"], ["repeats must be an integer >= 1"]),
    ("accuracy", ["repeats=1.5"], ["repeats must be an integer >= 1"]),
    ("accuracy", ["bogus=1"], ["unknown key(s) 'bogus'", "valid keys"]),
    ("accuracy", ["owners"], ["key=value"]),
    ("accuracy", ["owners="], ["empty value"]),
    ("accuracy", ["=5"], ["bad key"]),
    ("accuracy", ["owners=[1,2"], ["malformed"]),
    ("accuracy", ["owners=[]"], ["owners", "empty list"]),
    # incentives
    ("incentives", ["owners=1"], ["owners=1", "[2, 256]"]),
    ("incentives", ["owners=0"], ["owners=0"]),
    ("incentives", ["owners=300"], ["owners=300", "[2, 256]"]),
    ("incentives", ["owners=250"], ["owners=250 with min_samples=5", "owners <= 215", "n_samples >= 2084"]),
    ("incentives", ["owners=abc"], ["owners='abc'"]),
    ("incentives", ["alpha=0"], ["alpha=0"]),
    ("incentives", ["alpha=nan"], ["alpha=nan"]),
    ("incentives", ["adversary=evil"], ["adversary='evil'", "sybil"]),
    ("incentives", ["rule=weighted"], ["rule='weighted'", "soft"]),
    ("incentives", ["rule=median"], ["rule='median'"]),
    ("incentives", ["model=svm"], ["model='svm'"]),
    ("incentives", ["dataset=/no/such.npz"], ["not found"]),
    ("incentives", ["seed=-1"], ["seed=-1"]),
    # latency
    ("latency", ["workload=train"], ["workload='train'", "relu, m1, m2"]),
    ("latency", ["parties=0"], ["parties=0", "[2, 16]"]),
    ("latency", ["parties=1"], ["parties=1", "[2, 16]"]),
    ("latency", ["parties=100"], ["parties=100", "[2, 16]"]),
    ("latency", ["parties=abc"], ["parties='abc'"]),
    ("latency", ["protocol=gc"], ["protocol='gc'", "a2b, fss"]),
    ("latency", ["protocol=fss", "parties=3"], ["parties=3 conflicts with --set protocol=fss", "VALID"]),
    ("latency", ["protocol=fss", "servers=3"], ["servers=3 conflicts with --set protocol=fss"]),
    ("latency", ["workload=relu", "protocol=fss", "parties=3"], ["grid is empty", "protocol=fss", "parties=3"]),
    ("latency", ["owners=abc"], ["owners='abc'", "integer"]),
    ("latency", ["owners=0"], ["owners=0", "[1, 256]"]),
    ("latency", ["owners=-1"], ["owners=-1"]),
    ("latency", ["owners=2.5"], ["owners=2.5"]),
    ("latency", ["owners=1e6"], ["owners=1000000.0"]),
    ("latency", ["owners=1"], ["topology T1 needs owners in [2, 16]", "owners=1"]),
    ("latency", ["owners=20", "topology=T1"], ["topology T1 needs owners in [2, 16]", "owners=20"]),
    ("latency", ["topology=T3"], ["topology='T3'", "T1, T2"]),
    ("latency", ["servers=1"], ["servers=1", "[2, 16]"]),
    ("latency", ["batch=0"], ["batch=0"]),
    ("latency", ["batch=-5"], ["batch=-5"]),
    ("latency", ["argmax=bubble"], ["argmax='bubble'", "tree, pairs"]),
    ("latency", ["model=resnet"], ["model='resnet'", "logreg, mlp"]),
    ("latency", ["model=mlp:64,0"], ["model='mlp:64,0'", "hidden sizes"]),
    ("latency", ["workload=m2", "model=cnn", "features=10"], ["features must be a square number"]),
    ("latency", ["workload=m2", "model=cnn", "schedule=sequential"], ["supports the models logreg and mlp"]),
    ("latency", ["hidden=-1"], ["hidden=-1"]),
    ("latency", ["workload=m2", "model=mlp", "hidden=0"], ["model mlp needs hidden >= 1"]),
    ("latency", ["schedule=random"], ["schedule='random'", "parallel"]),
    ("latency", ["networks=moon"], ["unknown network profile(s) 'moon'", "lan"]),
    ("latency", ["networks=lan,moon"], ["'moon'"]),
    ("latency", ["network_file=/no/such.toml"], ["network_file='/no/such.toml'", "not found"]),
    ("latency", ["timing_reps=0"], ["timing_reps=0", "[1, 1000]"]),
    ("latency", ["timing_reps=-1"], ["timing_reps=-1"]),
    ("latency", ["threads=-1"], ["threads=-1"]),
    ("latency", ["cmp_bits=1"], ["cmp_bits=1", "[2, 64]"]),
    ("latency", ["cmp_bits=65"], ["cmp_bits=65"]),
    ("latency", ["n=-5"], ["n=-5", "[1, 10000000]"]),
    ("latency", ["n=0"], ["n=0"]),
    ("latency", ["n=1e12"], ["n=1000000000000.0"]),
    ("latency", ["classes=1"], ["classes=1"]),
    ("latency", ["features=0"], ["features=0"]),
    ("latency", ["logits=imagenet"], ["logits='imagenet'"]),
    ("latency", ["owner_model=svm"], ["owner_model='svm'"]),
    ("latency", ["seed=-1"], ["seed=-1"]),
    ("latency", ["repeats=0"], ["repeats must be an integer >= 1"]),
    ("latency", ["bogus=1"], ["unknown key(s) 'bogus'"]),
    # communication
    ("communication", ["op=div"], ["op='div'", "share"]),
    ("communication", ["protocol=gc"], ["protocol='gc'"]),
    ("communication", ["protocol=fss", "parties=3"], ["grid is empty", "protocol=fss", "parties=3"]),
    ("communication", ["protocol=fss", "op=mul"], ["grid is empty", "op=mul"]),
    ("communication", ["parties=1"], ["parties=1"]),
    ("communication", ["parties=17"], ["parties=17"]),
    ("communication", ["n=-5"], ["n=-5"]),
    ("communication", ["n=abc"], ["n='abc'"]),
    ("communication", ["rows=0"], ["rows=0"]),
    ("communication", ["reps=0"], ["reps=0"]),
    ("communication", ["op=argmax", "reps=-3"], ["reps=-3"]),
    ("communication", ["trunc=magic"], ["trunc='magic'", "dealer, local"]),
    ("communication", ["trunc=local", "parties=3"], ["trunc=local", "parties=3"]),
    ("communication", ["seed=-1"], ["seed=-1"]),
    ("accuracy", ["classes_per_owner=2"], ["renamed shards_per_owner", "--set shards_per_owner="]),
    ("accuracy", ["self_balancing=maybe"], ["self_balancing='maybe'"]),
    ("accuracy", ["partition=pathological"], ["partition=pathological", "2 x 2 < 10 classes of digits"]),
    ("incentives", ["self_balancing=2"], ["self_balancing=2"]),
    ("privacy", ["self_balancing=maybe"], ["self_balancing='maybe'"]),
    # crosscheck
    ("crosscheck", ["op=div"], ["op='div'"]),
    ("crosscheck", ["transport=udp"], ["transport='udp'", "shm, tcp"]),
    ("crosscheck", ["profile=moon"], ["profile='moon'"]),
    ("crosscheck", ["parties=1"], ["parties=1"]),
    ("crosscheck", ["reps=0"], ["reps=0"]),
    ("crosscheck", ["n=-5"], ["n=-5"]),
    # kernels
    ("kernels", ["kernel=fft"], ["kernel='fft'", "ring_add"]),
    ("kernels", ["n=0"], ["n=0"]),
    ("kernels", ["n=-5"], ["n=-5"]),
    ("kernels", ["inner=0"], ["inner=0"]),
    ("kernels", ["kernel=ring_matmul", "n=100000"], ["ring_matmul", "[1, 4096]"]),
    ("kernels", ["kernel=shapley", "n=30"], ["shapley", "[2, 20]"]),
    ("kernels", ["seed=-1"], ["seed=-1"]),
]


@pytest.mark.parametrize("suite, sets, words", RUN_CASES,
                         ids=[f"{s}:{'+'.join(x)}" for s, x, _ in RUN_CASES])
def test_run_bad_set(suite, sets, words, tmp_path):
    out = tmp_path / "x"
    args = ["run", suite, "--out", out, "--no-plot", "--no-progress"]
    for item in sets:
        args += ["--set", item]
    r = cli(*args)
    assert_clean_failure(r, words, codes=(2,))
    assert not out.exists()                                   # nothing written
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content, words", [
    (_BAD_TOML, ["not valid TOML"]),
    (_LAN_TOML, ["[profiles.lan] would replace the built-in profile 'lan'"]),
    ("rtt_ms = 1\n", ["expected one or more [profiles.NAME] tables"]),
    ("[profiles.sat]\nrtt_ms = -1\nbandwidth_mbps = 1\n", ["rtt_ms"]),
    ("[profiles.sat]\nrtt_ms = 1\n", ["bandwidth_mbps"]),
    ("[profiles.sat]\nrtt_ms = 1\nbandwidth_mbps = 1\nfoo = 2\n", ["unknown key(s) foo"]),
    (b"\xff\xfe\x00garbage", ["not valid TOML"]),
])
def test_run_bad_network_file(content, words, tmp_path):
    f = tmp_path / "nets.toml"
    f.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "x"
    r = cli("run", "latency", "--out", out, "--no-plot", "--set", "workload=relu", "--set", f"network_file={f}")
    assert_clean_failure(r, ["network_file", *words], codes=(2,))
    assert not out.exists()


def test_user_network_file_with_a_new_name_runs_validation(tmp_path):
    """A TOML profile under its own name passes validation; networks may then name it."""
    from fibench.bench import runner as rn

    f = tmp_path / "nets.toml"
    f.write_text(_SAT_TOML)
    mod = rn.load_suite("latency")
    cfg = rn.resolve_config(mod, "quick", {"workload": "relu", "network_file": str(f), "networks": ["lan", "sat"]})
    points, _ = rn.check_config(mod, cfg)
    assert points and all(p["networks"] == ["lan", "sat"] for p in points)
    with pytest.raises(rn.SuiteError, match="'sat'"):      # without the file, 'sat' is unknown
        rn.check_config(mod, rn.resolve_config(mod, "quick", {"workload": "relu", "networks": ["sat"]}))


OTHER_CASES = [
    (["run", "nope"], ["unknown suite 'nope'"]),
    (["run", "/no/such/suite.py"], ["suite file not found"]),
    (["run", "latency", "--preset", "huge"], ["unknown preset 'huge'"]),
    (["run"], ["give a suite name"]),
    (["run", "all", "--preset", "huge"], ["unknown preset 'huge'"]),
    (["run", "all", "--set", "bogus=1"], ["unknown key(s) 'bogus' in every suite"]),
    (["run", "all", "--set", "alpha=0"], ["alpha=0", "accuracy"]),
    (["run", "all", "--set", "owners=abc"], ["owners='abc'"]),
    (["run", "all", "--set", "seed=-1"], ["seed=-1"]),
    (["run", "--resume", "{tmp}/nothing"], ["not a fibench run directory"]),
    (["run", "all", "--resume", "{tmp}/nothing"], ["--resume", "not a directory of suite runs"]),
    (["run", "all", "--resume", "{tmp}"], ["--resume", "holds no suite run"]),
    (["report", "/no/such/run"], ["not a run directory"]),
    (["plot", "/no/such/run"], ["not a run directory"]),
    (["list", "nope"], ["unknown suite 'nope'"]),
    (["infer", "--owners", "0"], ["--owners"]),
    (["infer", "--alpha", "0"], ["--alpha"]),
    (["infer", "--alpha", "abc"], ["--alpha"]),
    (["infer", "--mode", "M3"], ["--mode"]),
    (["infer", "--protocol", "gc"], ["--protocol"]),
    (["infer", "--seed", "-1"], ["--seed"]),
    (["infer", "--queries", "0"], ["--queries"]),
    (["infer", "--dataset", "/no/such.csv"], ["dataset file not found"]),
    (["infer", "--model", "svm"], ["model must be one of"]),
    (["infer", "--model", "mlp:64,x"], ["hidden sizes"]),
    (["infer", "--rule", "median"], ["rule must be one of"]),
]


@pytest.mark.parametrize("args, words", OTHER_CASES, ids=[" ".join(a) for a, _ in OTHER_CASES])
def test_other_bad_commands(args, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing may land in results/ either
    r = cli(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert_clean_failure(r, words)
    assert not (tmp_path / "results").exists()


def test_run_all_resume_on_a_single_run(tiny, tmp_path):
    out = tmp_path / "r"
    assert cli("run", tiny, "--out", out, "--no-plot", "--no-progress").exit_code == 0
    r = cli("run", "all", "--resume", out, "--no-progress")
    assert_clean_failure(r, ["is a run of one suite", f"fibench run --resume {out}"])


def test_failed_validation_then_rerun_works(tiny, tmp_path):
    out = tmp_path / "r"
    r = cli("run", tiny, "--out", out, "--set", "a=0", "--no-plot")
    assert_clean_failure(r, ["a=0", "[1, 9]"], codes=(2,))
    assert not out.exists()
    r = cli("run", tiny, "--out", out, "--set", "a=4", "--no-plot", "--no-progress")
    assert r.exit_code == 0, r.output
    assert (out / "meta.json").is_file()


# -- 2. file-system errors -----------------------------------------------------------------------------

def _run_tiny(tiny, out, *extra):
    return cli("run", tiny, "--out", out, "--no-plot", "--no-progress", *extra)


@pytest.fixture
def done_run(tiny, tmp_path):
    out = tmp_path / "run"
    r = _run_tiny(tiny, out)
    assert r.exit_code == 0, r.output
    return out


def test_out_is_a_file(tiny, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    assert_clean_failure(_run_tiny(tiny, f), ["--out", "is a file, not a directory"], codes=(2,))
    assert f.read_text() == "x"


def test_out_under_a_file(tiny, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    assert_clean_failure(_run_tiny(tiny, f / "sub" / "run"), ["--out", "is a file, not a directory"], codes=(2,))


def test_default_results_is_a_file(tiny, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("results").write_text("x")
    r = cli("run", tiny, "--no-plot", "--no-progress")
    assert_clean_failure(r, ["results", "is a file, not a directory"], codes=(2,))


def test_run_all_out_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    r = cli("run", "all", "--out", f, "--no-plot", "--no-progress")
    assert_clean_failure(r, ["is a file, not a directory"], codes=(2,))


def test_report_output_under_a_file_or_a_dir(done_run, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    assert_clean_failure(cli("report", done_run, "-o", f / "r.md"), ["--output"], codes=(2,))
    assert_clean_failure(cli("report", done_run, "-o", tmp_path), ["--output", "directory"], codes=(2,))


def test_plot_figures_is_a_file(done_run, monkeypatch):
    import shutil

    shutil.rmtree(done_run / "figures")
    (done_run / "figures").write_text("x")
    from fibench.bench import plots

    monkeypatch.setattr(plots, "suite_plots", lambda suite: [lambda df, outdir: []])
    r = cli("plot", done_run)
    assert_clean_failure(r, ["figures"], codes=(1,))


def _readonly(path: Path) -> bool:
    """chmod a-w; False where that does not stop writes (root)."""
    path.chmod(0o555)
    probe = path / ".probe"
    try:
        probe.write_text("x")
    except OSError:
        return True
    probe.unlink()
    path.chmod(0o755)
    return False


@pytest.mark.parametrize("where", ["out", "results", "resume", "report", "plot"])
def test_read_only(where, tiny, tmp_path, monkeypatch):
    """A read-only --out / results/ / run directory / report -o target: one line, no traceback.
    Where chmod does not block writes (tests run as root), the OS error is simulated."""
    ro = tmp_path / "ro"
    ro.mkdir()
    monkeypatch.chdir(tmp_path)
    run_dir = tmp_path / "run"
    if where in ("resume", "plot"):
        assert _run_tiny(tiny, run_dir).exit_code == 0
        target = run_dir
    else:
        target = ro
    if where == "resume":  # make it resumable: one task missing
        (run_dir / "points").joinpath(min(os.listdir(run_dir / "points"))).unlink()
    blocked = _readonly(target) if where != "plot" else _readonly(run_dir / "figures")
    if not blocked:
        from fibench.bench import results as res

        real = res.atomic_write_bytes

        def deny(path, data):
            if str(Path(path).resolve()).startswith(str(target)):
                raise PermissionError(errno.EACCES, "Permission denied", str(path))
            return real(path, data)

        monkeypatch.setattr(res, "atomic_write_bytes", deny)
        monkeypatch.setattr(os, "access", lambda p, mode, **kw: _access(p, mode, target))
    try:
        if where == "out":
            r = _run_tiny(tiny, ro / "run")
        elif where == "results":
            os.rename(ro, tmp_path / "results")
            target = tmp_path / "results"
            if not blocked:
                monkeypatch.setattr(os, "access", lambda p, mode, **kw: _access(p, mode, target))
            r = cli("run", tiny, "--no-plot", "--no-progress")
        elif where == "resume":
            r = cli("run", "--resume", run_dir, "--no-plot", "--no-progress")
        elif where == "report":
            r = cli("report", run_dir if run_dir.exists() else _make(tiny, run_dir), "-o", ro / "r.md")
        else:
            from fibench.bench import plots

            def one_png(df, outdir):
                p = Path(outdir) / "f.png"
                if not blocked:
                    raise PermissionError(errno.EACCES, "Permission denied", str(p))
                p.write_text("x")
                return [p]

            monkeypatch.setattr(plots, "suite_plots", lambda suite: [one_png])
            r = cli("plot", run_dir)
    finally:
        for p in (target, run_dir, run_dir / "figures", tmp_path / "results"):
            if p.exists():
                p.chmod(0o755)
    assert r.exit_code != 0 or where == "plot", r.output
    assert "Traceback" not in r.output and (r.exception is None or isinstance(r.exception, SystemExit))
    assert ("Permission denied" in r.text or "not writable" in r.text), r.output


def _access(path, mode, target) -> bool:
    """os.access as a read-only ``target`` would answer it."""
    return not (mode & os.W_OK and str(Path(path).resolve()).startswith(str(target)))


def _make(tiny, run_dir):
    assert _run_tiny(tiny, run_dir).exit_code == 0
    return run_dir


def test_disk_full_leaves_meta_failed(tiny, tmp_path, monkeypatch):
    from fibench.bench import results as res

    real = res.atomic_write_bytes

    def full(path, data):
        if Path(path).name != "meta.json" or (Path(path).parent / "meta.json").exists():
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, data)

    monkeypatch.setattr(res, "atomic_write_bytes", full)
    out = tmp_path / "run"
    r = _run_tiny(tiny, out)
    assert_clean_failure(r, ["No space left on device", "resume with --resume"], codes=(1,))
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "failed" and "No space left" in meta["error"]
    monkeypatch.setattr(res, "atomic_write_bytes", real)
    r = cli("run", "--resume", out, "--no-plot", "--no-progress")
    assert r.exit_code == 0, r.output
    assert json.loads((out / "meta.json").read_text())["status"] == "complete"


def test_disk_full_at_the_first_write_leaves_nothing(tiny, tmp_path, monkeypatch):
    from fibench.bench import results as res

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(res, "atomic_write_bytes", full)
    out = tmp_path / "run"
    r = _run_tiny(tiny, out)
    assert_clean_failure(r, ["No space left on device", "meta.json"], codes=(1,))
    assert not out.exists()


# -- 3. damaged run directories ------------------------------------------------------------------------

DAMAGE = {
    "meta-empty": ("meta.json", b""),
    "meta-truncated": ("meta.json", b'{"suite": "tiny", "conf'),
    "meta-list": ("meta.json", b"[]"),
    "meta-binary": ("meta.json", b"\x89PNG\r\n\x1a\n\x00\xff"),
    "meta-number": ("meta.json", b"42"),
    "points-bad-csv": ("points/{first}", b'a,b\n"1,2\n3'),
    "points-binary": ("points/{first}", b"\xff\xfe\x00\x01binary"),
    "results-binary": ("results.csv", b"\xff\xfe\x00\x01binary\x00"),
}
COMMANDS = ("report", "plot", "resume")


def _damage(run_dir: Path, which: str) -> str:
    rel, data = DAMAGE[which]
    first = min(os.listdir(run_dir / "points"))
    rel = rel.format(first=first)
    (run_dir / rel).write_bytes(data)
    return Path(rel).name


@pytest.mark.parametrize("which", list(DAMAGE))
@pytest.mark.parametrize("command", COMMANDS)
def test_damaged_run_dir(which, command, done_run):
    name = _damage(done_run, which)
    if command == "resume":
        r = cli("run", "--resume", done_run, "--no-plot", "--no-progress")
    else:
        r = cli(command, done_run)
    if which == "results-binary" and command == "resume":
        # resuming rebuilds results.csv from points/: the fix the report's message suggests
        assert r.exit_code == 0, r.output
        assert len((done_run / "results.csv").read_text().splitlines()) == 4
        return
    if which.startswith("points") and command in ("report", "plot"):
        # results.csv of the finished run is intact: the damaged task file is not read
        assert r.exit_code == 0 and "Traceback" not in r.output, r.output
        return
    assert_clean_failure(r, [name])


def test_meta_without_config_cannot_resume(done_run):
    meta = json.loads((done_run / "meta.json").read_text())
    del meta["config"]
    (done_run / "meta.json").write_text(json.dumps(meta))
    r = cli("run", "--resume", done_run, "--no-plot")
    assert_clean_failure(r, ["meta.json", "holds no run configuration"], codes=(2,))


def test_meta_of_an_unknown_suite(done_run):
    (done_run / "meta.json").write_text('{"suite": "nope", "config": {"grids": []}}')
    assert_clean_failure(cli("run", "--resume", done_run, "--no-plot"), ["unknown suite 'nope'"], codes=(2,))


# -- 4. interrupted writes, umask, history, Ctrl-C ------------------------------------------------------

def test_stale_tmp_files_are_cleaned_on_resume(done_run):
    stale = [done_run / ".meta.json.abcd1234.tmp", done_run / "points" / ".x-r0.csv.k3j2.tmp",
             done_run / ".results.csv.zz.tmp"]
    for f in stale:
        f.write_text("half a write")
    first = min(os.listdir(done_run / "points"))
    (done_run / "points" / first).unlink()
    r = cli("run", "--resume", done_run, "--no-plot", "--no-progress")
    assert r.exit_code == 0, r.output
    assert not any(f.exists() for f in stale)
    assert not list(done_run.rglob("*.tmp"))


def test_outputs_honour_the_umask(tiny, tmp_path):
    old = os.umask(0o022)
    try:
        out = tmp_path / "run"
        assert _run_tiny(tiny, out).exit_code == 0
        for f in [out / "meta.json", out / "results.csv", *(out / "points").iterdir()]:
            assert f.stat().st_mode & 0o777 == 0o644, f
        os.umask(0o077)
        out2 = tmp_path / "run2"
        assert _run_tiny(tiny, out2).exit_code == 0
        assert (out2 / "meta.json").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


def test_resume_keeps_history(done_run, monkeypatch):
    import sys

    meta0 = json.loads((done_run / "meta.json").read_text())
    for i in range(2):
        (done_run / "points" / min(os.listdir(done_run / "points"))).unlink()
        monkeypatch.setattr(sys, "argv", ["fibench", "run", "--resume", str(done_run), f"#{i}"])
        assert cli("run", "--resume", done_run, "--no-plot", "--no-progress").exit_code == 0
    meta = json.loads((done_run / "meta.json").read_text())
    assert meta["argv"] == meta0["argv"] and meta["environment"] == meta0["environment"]
    events = [h["event"] for h in meta["history"]]
    assert events == ["start", "resume", "resume"]
    assert [h["argv"][-1] for h in meta["history"][1:]] == ["#0", "#1"]
    assert all("commit" in h and "time" in h for h in meta["history"])


def test_ctrl_c_hint_and_report_count(tiny, tmp_path, monkeypatch):
    out = tmp_path / "run"
    monkeypatch.setenv("FIBENCH_TINY_INTERRUPT", "2")
    r = _run_tiny(tiny, out)
    assert r.exit_code == 130 and "Traceback" not in r.output
    assert f"resume with: fibench run --resume {out}" in r.text
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "interrupted" and meta["n_done"] == 1
    rep = cli("report", out)
    assert rep.exit_code == 0 and "(1 done)" in rep.text
    monkeypatch.setenv("FIBENCH_TINY_INTERRUPT", "3")
    r = cli("run", "--resume", out, "--no-plot", "--no-progress")
    assert r.exit_code == 130
    rep = cli("report", out)
    assert "(2 done)" in rep.text and "interrupted" in rep.text
    # a kill -9 leaves meta.json "running" with a stale count: the report counts the task files
    meta = json.loads((out / "meta.json").read_text())
    meta.update({"status": "running", "n_done": 0, "pid": 2**22 + 12345, "host": os.uname().nodename})
    (out / "meta.json").write_text(json.dumps(meta))
    rep = cli("report", out)
    assert "(2 done)" in rep.text and "process that ran it is gone" in rep.text
    monkeypatch.delenv("FIBENCH_TINY_INTERRUPT")
    r = cli("run", "--resume", out, "--no-plot", "--no-progress")
    assert r.exit_code == 0 and "3/3 tasks done (2 resumed)" in r.text
    assert "(3 done)" in cli("report", out).text


# -- 5. the API: ValueError / TypeError naming the parameter ---------------------------------------------

def _small_dataset(tmp_path, rows=12, classes=3):
    X = np.random.default_rng(0).normal(size=(rows, 3))
    y = np.arange(rows) % classes
    f = tmp_path / f"small{rows}_{classes}.npz"
    np.savez(f, X=X, y=y)
    return f


def _session(**kw):
    from fibench.mpc import Session

    return Session(**kw)


def _fe(**kw):
    from fibench.fi.federated import FederatedEnsemble

    return FederatedEnsemble(**kw)


def _part(*a, **kw):
    from fibench.fi.partition import partition

    return partition(np.arange(200) % 4, *a, **kw)


def _load(*a, **kw):
    from fibench.fi.data import load_dataset

    return load_dataset(*a, **kw)


def _suite(over):
    from fibench.bench import runner as rn

    mod = rn.load_suite("accuracy")
    return rn.check_config(mod, rn.resolve_config(mod, "quick", over))


def _profiles(tmp_path, text):
    from fibench.bench import network

    f = tmp_path / "p.toml"
    f.write_text(text)
    return network.load_profiles(f)


API_CASES = [
    # (id, callable(tmp_path), exception types, words)
    ("Session dealer_seed=-1", lambda t: _session(n_parties=2, dealer_seed=-1), ValueError, ["dealer_seed"]),
    ("Session dealer_seed=b'x'", lambda t: _session(n_parties=2, dealer_seed=b"x"), ValueError, ["dealer_seed"]),
    ("Session n_parties=1", lambda t: _session(n_parties=1), ValueError, ["n_parties", "[2, 16]"]),
    ("Session n_parties=0", lambda t: _session(n_parties=0), ValueError, ["n_parties"]),
    ("Session n_parties=-1", lambda t: _session(n_parties=-1), ValueError, ["n_parties"]),
    ("Session n_parties=2.5", lambda t: _session(n_parties=2.5), ValueError, ["n_parties"]),
    ("Session n_parties='3'", lambda t: _session(n_parties="3"), ValueError, ["n_parties"]),
    ("Session n_parties=True", lambda t: _session(n_parties=True), ValueError, ["n_parties"]),
    ("Session n_parties=10**9", lambda t: _session(n_parties=10**9), ValueError, ["n_parties"]),
    ("Session n_parties=None", lambda t: _session(n_parties=None), ValueError, ["n_parties"]),
    ("Session protocol", lambda t: _session(n_parties=2, protocol="gc"), ValueError, ["protocol"]),
    ("Session fss P=3", lambda t: _session(n_parties=3, protocol="fss"), ValueError, ["fss"]),
    ("Session cmp_bits=0", lambda t: _session(n_parties=2, cmp_bits=0), ValueError, ["cmp_bits"]),
    ("Session cmp_bits=65", lambda t: _session(n_parties=2, cmp_bits=65), ValueError, ["cmp_bits"]),
    ("Session frac_bits=-1", lambda t: _session(n_parties=2, frac_bits=-1), ValueError, ["frac_bits"]),
    ("Session frac_bits=True", lambda t: _session(n_parties=2, frac_bits=True), ValueError, ["frac_bits"]),
    ("Session trunc", lambda t: _session(n_parties=2, trunc="magic"), ValueError, ["trunc"]),
    ("Session backend", lambda t: _session(n_parties=2, backend="gpu"), ValueError, ["backend"]),
    ("share owner=2", lambda t: _session(n_parties=2).share([1.25, -3], owner=2), ValueError, ["owner"]),
    ("share owner=99", lambda t: _session(n_parties=2).share([1.0], owner=99), ValueError, ["owner"]),
    ("share owner=-1", lambda t: _session(n_parties=2).share([1.0], owner=-1), ValueError, ["owner"]),
    ("share too large", lambda t: _session(n_parties=2).share([2.0**47]), ValueError, []),
    ("share nan", lambda t: _session(n_parties=2).share([float("nan")]), ValueError, []),
    ("reveal ndarray", lambda t: _session(n_parties=2).reveal(np.zeros(3)), TypeError, ["AShare"]),
    ("mul ndarray", lambda t: _session(n_parties=2).mul(np.zeros(3), np.zeros(3)), TypeError, ["AShare"]),
    ("relu list", lambda t: _session(n_parties=2).relu([1.0]), TypeError, ["AShare"]),
    ("FE model", lambda t: _fe(model="svm"), ValueError, ["model"]),
    ("FE rule", lambda t: _fe(rule="median"), ValueError, ["rule"]),
    ("FE seed=-1", lambda t: _fe(seed=-1), ValueError, ["seed"]),
    ("FE seed=2**40", lambda t: _fe(seed=2**40), ValueError, ["seed"]),
    ("FE hidden=0", lambda t: _fe(model="mlp", hidden=0), ValueError, ["hidden"]),
    ("FE fit no owners", lambda t: _fe().fit([], n_classes=2), ValueError, ["owner_datasets"]),
    ("partition owners=0", lambda t: _part("dirichlet", 0), ValueError, ["n_owners"]),
    ("partition owners=-1", lambda t: _part("dirichlet", -1), ValueError, ["n_owners"]),
    ("partition owners=2.5", lambda t: _part("dirichlet", 2.5), ValueError, ["n_owners"]),
    ("partition owners=100", lambda t: _part("dirichlet", 100), ValueError, ["n_owners"]),
    ("partition alpha=0", lambda t: _part("dirichlet", 2, alpha=0), ValueError, ["alpha"]),
    ("partition alpha=-1", lambda t: _part("dirichlet", 2, alpha=-1), ValueError, ["alpha"]),
    ("partition alpha=nan", lambda t: _part("dirichlet", 2, alpha=float("nan")), ValueError, ["alpha"]),
    ("partition scheme", lambda t: _part("zipf", 2), ValueError, ["scheme"]),
    ("partition seed=-1", lambda t: _part("dirichlet", 2, seed=-1), ValueError, ["seed"]),
    ("partition beta=0", lambda t: _part("quantity", 2, beta=0), ValueError, ["beta"]),
    ("partition spo=0", lambda t: _part("shards", 2, shards_per_owner=0), ValueError, ["shards_per_owner", "[1, 100]"]),
    ("partition old cpo", lambda t: _part("shards", 2, classes_per_owner=2), ValueError,
     ["classes_per_owner was renamed shards_per_owner"]),
    ("partition self_balancing=1", lambda t: _part("dirichlet", 2, self_balancing=1), ValueError,
     ["self_balancing must be True or False"]),
    ("partition self_balancing shards", lambda t: _part("shards", 2, self_balancing=True), ValueError,
     ["self_balancing applies to the dirichlet scheme only"]),
    ("load name", lambda t: _load("nope"), ValueError, ["name"]),
    ("load missing file", lambda t: _load(str(t / "none.csv")), ValueError, ["not found"]),
    ("load seed=-1", lambda t: _load(seed=-1), ValueError, ["seed"]),
    ("load seed=2.5", lambda t: _load(seed=2.5), (ValueError, TypeError), ["seed"]),
    ("load split", lambda t: _load(split=(0.5, 0.5, 0.5)), ValueError, ["split"]),
    ("load n_samples=-5", lambda t: _load("synthetic", n_samples=-5), ValueError, ["n_samples"]),
    ("load n_classes=1", lambda t: _load("synthetic", n_classes=1), ValueError, ["n_classes"]),
    ("load n_features=0", lambda t: _load("synthetic", n_features=0), ValueError, ["n_features"]),
    ("load n_features='a'", lambda t: _load("synthetic", n_features="a"), (ValueError, TypeError), ["n_features"]),
    ("load n_samples for digits", lambda t: _load("digits", n_samples=100), ValueError, ["n_samples"]),
    ("load 5-row dataset", lambda t: _load(_small_dataset(t, rows=5, classes=2)), ValueError, ["at least 10"]),
    ("load 1-class dataset", lambda t: _load(_small_dataset(t, rows=12, classes=1)), ValueError, ["2 classes"]),
    ("suite alpha=0", lambda t: _suite({"alpha": 0}), ValueError, ["alpha=0"]),
    ("suite owners=abc", lambda t: _suite({"owners": "abc"}), ValueError, ["owners='abc'"]),
    ("suite seed=-1", lambda t: _suite({"seed": -1}), ValueError, ["seed=-1"]),
    ("suite classes_per_owner", lambda t: _suite({"classes_per_owner": 2}), ValueError,
     ["'classes_per_owner'", "renamed shards_per_owner"]),
    ("suite self_balancing=maybe", lambda t: _suite({"self_balancing": "maybe"}), ValueError,
     ["self_balancing='maybe'", "one of True, False"]),
    ("suite self_balancing shards", lambda t: _suite({"self_balancing": True, "partition": "shards"}), ValueError,
     ["self_balancing=true applies to partition=dirichlet only"]),
    ("profiles lan", lambda t: _profiles(t, _LAN_TOML), ValueError, ["built-in profile 'lan'"]),
    ("profiles bad TOML", lambda t: _profiles(t, _BAD_TOML), ValueError, ["not valid TOML"]),
]


@pytest.mark.parametrize("case_id, fn, exc, words", API_CASES, ids=[c[0] for c in API_CASES])
def test_api_bad_input(case_id, fn, exc, words, tmp_path):
    with pytest.raises(exc) as ei:
        fn(tmp_path)
    assert type(ei.value).__module__.split(".")[0] in ("builtins", "fibench"), type(ei.value)
    msg = str(ei.value)
    assert "\n" not in msg.strip(), msg
    for w in words:
        assert w in msg, (w, msg)


@pytest.mark.parametrize("classes", [2, 3, 4, 6])
def test_twelve_row_dataset_loads(classes, tmp_path):
    """A 12-row dataset is split (scikit-learn's test_size error used to reach the user)."""
    d = _load(_small_dataset(tmp_path, rows=12, classes=classes))
    assert len(d.y_train) + len(d.y_val) + len(d.y_test) == 12 and d.n_classes == classes


def test_every_builtin_suite_declares_every_key():
    """Each grid key of each built-in suite has an allowed range (KEYS), and every preset passes."""
    from fibench.bench import runner as rn

    for name, mod in rn.discover_suites().items():
        keys = getattr(mod, "KEYS", {})
        for preset in mod.PRESETS:
            missing = set(rn.grid_keys(mod, preset)) - set(keys) - {"seed"}
            assert not missing, (name, preset, missing)
            points, _ = rn.check_config(mod, rn.resolve_config(mod, preset))
            assert points


def test_runner_api_writes_nothing(tmp_path):
    from fibench.bench import runner as rn

    with pytest.raises(rn.SuiteError, match=r"owners=0.*\[1, 256\]"):
        rn.run_suite("accuracy", overrides={"owners": 0}, out=tmp_path / "x", progress=False)
    with pytest.raises(rn.SuiteError, match="parties=3 conflicts"):
        rn.run_suite("latency", overrides={"protocol": "fss", "parties": 3}, results_root=tmp_path / "res",
                     progress=False)
    assert list(tmp_path.iterdir()) == []
