"""The mpi backend: one process per party (mpiexec -n 2 and -n 3), against the local backend.

Launches real MPI jobs (a few seconds each). Skipped, with the reason, only where mpi4py or
mpiexec is missing or cannot start.
"""
from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from fibench.bench.measures.crosscheck import _session_kwargs, transcript
from fibench.mpc import Dealer, LocalCommunicator, Session
from fibench.bench.mpi_worker import launch_mpi, mpi_available, run_point_mpi

_STATE: dict = {}


def _mpi_unusable() -> str | None:
    """Why MPI cannot be used here (``None``: it can); checked once, on first use."""
    if "reason" not in _STATE:
        reason = mpi_available()
        if reason is None:  # can the launcher start ranks here at all?
            try:
                p = launch_mpi(1, ["selftest", "--help"], timeout=60)
                if p.returncode != 0:
                    reason = f"mpiexec cannot start ranks: {(p.stderr or p.stdout)[-300:]}"
            except (OSError, subprocess.SubprocessError) as exc:
                reason = f"mpiexec cannot start ranks: {exc}"
        _STATE["reason"] = reason
    return _STATE["reason"]


@pytest.fixture
def needs_mpi():
    reason = _mpi_unusable()
    if reason is not None:
        pytest.skip(f"MPI not usable: {reason}")


def _local_transcript(params):
    s = Session(n_parties=params["parties"], **_session_kwargs(params))
    return json.loads(json.dumps(transcript(s, params)))


def _mpi_transcript(params):
    rows = run_point_mpi(params["parties"], params, measure="fibench.bench.measures.crosscheck:parity_point", timeout=120)
    return json.loads(rows[0]["transcript"])


def _assert_same(got, want):
    assert set(got) == set(want)
    for op in want:
        # the complete round log: phase, label and bytes of every link, in order
        assert got[op]["rounds"] == want[op]["rounds"], op
        a, b = got[op]["value"], want[op]["value"]
        if b is None:
            assert a is None, op
        else:
            # same dealer seed, so the same masks: fixed-point results agree to 1 ulp (local
            # truncation depends on the parties' input shares, which come from the OS)
            diff = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))
            assert diff.max(initial=0) <= 1, op


@pytest.mark.mpi
@pytest.mark.usefixtures("needs_mpi")
@pytest.mark.parametrize("parties,protocol,sharing", [(2, "a2b", "additive"), (2, "fss", "additive"),
                                                    (3, "a2b", "additive"), (3, "a2b", "replicated")])
def test_counts_and_results_equal_local(parties, protocol, sharing):
    params = {"parties": parties, "protocol": protocol, "n": 200, "rows": 30, "seed": 3, "sharing": sharing,
              "ops": ["share", "reveal", "mul", "matmul", "lt", "relu", "argmax", "mlp"]}
    _assert_same(_mpi_transcript(params), _local_transcript(params))


@pytest.mark.mpi
@pytest.mark.usefixtures("needs_mpi")
@pytest.mark.parametrize("protocol", ["fss", "fss-dpf"])
def test_streamed_keys_over_several_slabs(protocol):
    """Keys of several slabs go to rank 1 in parts while the dealer generates them: the same
    rounds, bytes and results as the local backend."""
    from fibench.kernels import fss_tree

    params = {"parties": 2, "protocol": protocol, "n": 2 * fss_tree.SLAB + 5, "seed": 4, "ops": ["lt", "relu"]}
    _assert_same(_mpi_transcript(params), _local_transcript(params))


@pytest.mark.mpi
@pytest.mark.usefixtures("needs_mpi")
def test_selftest_and_rank_mismatch():
    ok = launch_mpi(3, ["selftest"], timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "3 ranks, ok" in ok.stdout
    bad = launch_mpi(2, ["selftest", "--parties", "3"], timeout=120)
    assert bad.returncode == 2
    assert "P = 3 parties but 2 MPI rank(s)" in bad.stderr
    assert bad.stderr.count("fibench mpi:") == 1  # said once, not once per rank


@pytest.mark.mpi
@pytest.mark.usefixtures("needs_mpi")
@pytest.mark.parametrize("op", ["mul", "matmul", "relu", "argmax"])
def test_crosscheck_ops_end_to_end(op):
    """Every op timed end to end (share, op, reveal to the querier) on real ranks: right results
    where the querier is hosted, counts equal the local backend's (the other ranks get None)."""
    from fibench.bench.measures.crosscheck import run_point

    (row,) = run_point({"op": op, "parties": 2, "n": 500, "rows": 20, "transport": "shm", "profile": "none",
                        "reps": 1, "seed": 2})
    assert row["correct"] == 1.0 and row["counts_match_local"] is True


@pytest.mark.mpi
@pytest.mark.usefixtures("needs_mpi")
def test_crosscheck_point_with_delay():
    from fibench.bench.measures.crosscheck import run_point

    (row,) = run_point({"op": "lt", "parties": 2, "n": 1000, "transport": "shm", "profile": "region",
                        "reps": 2, "seed": 1})
    assert row["counts_match_local"] is True
    assert row["correct"] == 1.0
    assert row["online_rounds"] > 0 and row["online_bytes_sent_per_party"] > 0
    # 10 ms RTT: the injected delay is there (one-way latency per round at least)
    assert row["measured_s"] >= row["online_rounds"] * 0.005


@pytest.mark.mpi
@pytest.mark.usefixtures("needs_mpi")
def test_rank_failure_aborts_all():
    # an unknown op raises on every rank; the job must end (no hang) with a non-zero status
    proc = launch_mpi(2, ["point", "--params", json.dumps({"op": "nope", "parties": 2})], timeout=120)
    assert proc.returncode != 0
    assert "op must be one of" in proc.stderr


def test_unavailable_is_a_clear_error(monkeypatch):
    import fibench.bench.mpi_worker as w
    from fibench.mpc.comm.mpi import MPIUnavailableError

    monkeypatch.setattr(w.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MPIUnavailableError, match="pip install 'fibench\\[mpi\\]'"):
        launch_mpi(2, ["selftest"])


def test_dealer_hook_keeps_local_dealer():
    comm = LocalCommunicator(2)
    d = Dealer(comm, b"0123456789abcdef")
    assert type(d) is Dealer
    assert comm.stats.rounds[0].label == "dealer/seeds"


@pytest.mark.mpi
@pytest.mark.usefixtures("needs_mpi")
def test_cli_run_backend_mpi(tmp_path):
    """`fibench run SUITE --backend mpi`: the runner launches the ranks and stores the rows like any
    run; the counts equal the local backend's (checked by the measure)."""
    import pandas as pd
    from typer.testing import CliRunner

    from fibench.cli import app

    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["run", "communication", "--preset", "quick", "--set", "op=lt", "--set", "n=1000",
                                   "--set", "parties=2", "--set", "protocol=a2b", "--backend", "mpi", "--out",
                                   str(out), "--no-progress", "--no-plot"])
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out / "results.csv")
    assert list(df["backend"]) == ["mpi"] and bool(df["counts_match_local"].iloc[0])
    meta = json.loads((out / "meta.json").read_text())
    assert meta["config"]["backend"] == "mpi"


@pytest.mark.mpi
@pytest.mark.usefixtures("needs_mpi")
@pytest.mark.parametrize("placement", ["hosts", "hostfile"])
def test_cli_run_on_several_hosts(tmp_path, placement):
    """The multi-host recipe of docs/mpi.md with host names that all resolve to this machine
    (localhost, its own name, 127.0.0.1): ``--hosts a,b`` and ``--hostfile F`` (MPICH's
    ``host:slots`` lines) reach mpiexec, are stored with the run, and the counts still equal the
    local backend's."""
    import os
    import socket

    import pandas as pd
    from typer.testing import CliRunner

    from fibench.cli import app

    names = ["localhost", socket.gethostname(), "127.0.0.1"]
    where = ["--hosts", ",".join(names)]
    if placement == "hostfile":
        hf = tmp_path / "hosts.txt"
        hf.write_text("".join(f"{h}:1\n" for h in names))
        where = ["--hostfile", str(hf)]
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["run", "communication", "--preset", "quick", "--set", "op=lt", "--set", "n=1000",
                                   "--set", "parties=3", "--set", "protocol=a2b", "--backend", "mpi", *where,
                                   "--out", str(out), "--no-progress", "--no-plot"])
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out / "results.csv")
    assert set(df["backend"]) == {"mpi"} and df["counts_match_local"].astype(bool).all()
    config = json.loads((out / "meta.json").read_text())["config"]
    assert config.get("mpi_hosts" if placement == "hosts" else "mpi_hostfile") == \
        (",".join(names) if placement == "hosts" else str(hf.resolve()))
    assert "FIBENCH_MPI_HOSTS" not in os.environ and "FIBENCH_MPI_HOSTFILE" not in os.environ  # restored


def test_cli_backend_errors(tmp_path):
    from typer.testing import CliRunner

    from fibench.cli import app

    cli = CliRunner()
    for args, hint in ((["run", "all", "--preset", "quick", "--backend", "mpi"], "one suite at a time"),
                       (["run", "communication", "--preset", "quick", "--backend", "grpc"], "unknown backend"),
                       (["run", "accuracy", "--preset", "quick", "--backend", "mpi"], "the mpi backend runs the suites"),
                       (["run", "communication", "--preset", "quick", "--hosts", "a,b"], "use them with --backend mpi"),
                       (["run", "communication", "--preset", "quick", "--backend", "mpi", "--hosts", "a, -x"],
                        "--hosts must be comma-separated host names"),
                       (["run", "communication", "--preset", "quick", "--backend", "mpi", "--hostfile",
                         str(tmp_path / "none.txt")], "no such file"),
                       (["run", "communication", "--preset", "quick", "--backend", "mpi", "--hosts", "a",
                         "--hostfile", __file__], "not both")):
        res = cli.invoke(app, args + ["--out", str(tmp_path / "x")])
        text = " ".join(res.output.replace("│", " ").split())  # the error box wraps lines
        assert res.exit_code == 2 and hint in text and "Traceback" not in text, res.output
        assert not (tmp_path / "x").exists()
