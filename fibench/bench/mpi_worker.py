"""Rank entry point of the ``mpi`` backend, and the launcher that starts the ranks.

Every rank runs ``python -m fibench.bench.mpi_worker COMMAND ...`` (SPMD, started by ``mpiexec``)::

    mpiexec -n P python -m fibench.bench.mpi_worker point --params '{"op": "lt", "parties": P, "n": 100000}'
    mpiexec -n P python -m fibench.bench.mpi_worker point --measure pkg.mod:func --params-file p.json --out rows.json
    mpiexec -n P python -m fibench.bench.mpi_worker selftest

``point`` runs one grid point of an SPMD measure function ``func(params, comm)`` (default
``fibench.bench.measures.crosscheck:mpi_point``) on every rank; rank 0 writes the rows as JSON to
``--out`` (or prints them). ``selftest`` shares, multiplies and reveals a few values and checks
them. Exit status: 0 ok, 2 usage / rank-count error, 1 any other failure (an exception on one
rank aborts all ranks, so nothing hangs).

From Python, ``launch_mpi(n_ranks, argv)`` runs ``mpiexec -n n_ranks python -m
fibench.bench.mpi_worker *argv`` and ``run_point_mpi(P, params)`` returns rank 0's rows. The launcher
is ``$FIBENCH_MPIEXEC``, else the ``mpiexec`` next to the Python interpreter (where the ``mpich``
wheel puts it), else the one on ``PATH``. Hosts: ``hosts=["a", "b"]`` / ``$FIBENCH_MPI_HOSTS``
(``-hosts a,b``) or ``hostfile=`` / ``$FIBENCH_MPI_HOSTFILE`` (``-f FILE``, MPICH's hydra; Open
MPI takes ``--hostfile``: pass it in ``mpiexec_args``).
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

from fibench.bench.results import atomic_write_text, json_default
from fibench.bench.suite import resolve_measure

DEFAULT_MEASURE = "fibench.bench.measures.crosscheck:mpi_point"

__all__ = ["MPIRunError", "find_mpiexec", "launch_mpi", "main", "mpi_available",
           "mpi_measure", "run_point_mpi"]


class MPIRunError(RuntimeError):
    """The ranks failed (non-zero exit); the message carries the tail of their output."""


def find_mpiexec() -> str | None:
    """Path of the MPI launcher (see the module docstring), or ``None``."""
    env = os.environ.get("FIBENCH_MPIEXEC")
    if env:
        return env
    here = Path(sys.executable).parent / "mpiexec"
    if here.exists():
        return str(here)
    return shutil.which("mpiexec")


def mpi_available() -> str | None:
    """``None`` when mpi4py and a launcher are present, else the reason (one line)."""
    from fibench.mpc.comm.mpi import _INSTALL_HINT

    if importlib.util.find_spec("mpi4py") is None:
        return f"mpi4py is not installed; {_INSTALL_HINT}"
    if find_mpiexec() is None:
        return f"no mpiexec found (set FIBENCH_MPIEXEC or put it on PATH); {_INSTALL_HINT}"
    return None


def _package_root() -> str:
    return str(Path(__file__).resolve().parents[2])  # the folder holding this fibench/


def launch_mpi(n_ranks: int, argv: list, *, env: dict | None = None, hosts=None, hostfile=None,
               mpiexec_args=(), timeout: float | None = None, capture: bool = True) -> subprocess.CompletedProcess:
    """Run ``mpiexec -n n_ranks [-hosts ..|-f ..] python -m fibench.bench.mpi_worker *argv``.

    ``env``: extra environment variables for the ranks (e.g. ``TRANSPORT_ENV["tcp"]``). The
    ranks import the same ``fibench`` as this process. Raises ``MPIUnavailableError`` when MPI
    is missing; returns the ``CompletedProcess`` (check ``returncode``).
    """
    from fibench.mpc.comm.mpi import MPIUnavailableError

    if not isinstance(n_ranks, int) or n_ranks < 1:
        raise ValueError(f"n_ranks must be a positive integer, got {n_ranks!r}")
    reason = mpi_available()
    if reason is not None:
        raise MPIUnavailableError(reason)
    cmd = [find_mpiexec(), "-n", str(n_ranks)]
    hosts = hosts if hosts is not None else os.environ.get("FIBENCH_MPI_HOSTS") or None
    hostfile = hostfile if hostfile is not None else os.environ.get("FIBENCH_MPI_HOSTFILE") or None
    if hosts:
        cmd += ["-hosts", hosts if isinstance(hosts, str) else ",".join(hosts)]
    elif hostfile:
        cmd += ["-f", str(hostfile)]
    cmd += list(mpiexec_args)
    cmd += [sys.executable, "-m", "fibench.bench.mpi_worker", *map(str, argv)]
    full_env = dict(os.environ)
    root = _package_root()
    full_env["PYTHONPATH"] = root + (os.pathsep + full_env["PYTHONPATH"] if full_env.get("PYTHONPATH") else "")
    full_env.update({k: str(v) for k, v in (env or {}).items()})
    return subprocess.run(cmd, env=full_env, timeout=timeout, capture_output=capture, text=True, check=False)


def run_point_mpi(n_ranks: int, params: dict, measure: str = DEFAULT_MEASURE, **launch_kwargs) -> list[dict]:
    """Launch the ranks for one grid point and return rank 0's rows (a list of dicts)."""
    with tempfile.TemporaryDirectory(prefix="fibench-mpi-") as tmp:
        pfile, out = Path(tmp) / "params.json", Path(tmp) / "rows.json"
        pfile.write_text(json.dumps(params))
        proc = launch_mpi(n_ranks, ["point", "--measure", measure, "--params-file", str(pfile), "--out", str(out)],
                          **launch_kwargs)
        if proc.returncode != 0 or not out.exists():
            tail = ((proc.stdout or "") + (proc.stderr or ""))[-3000:]
            raise MPIRunError(f"mpi run of {params.get('op', '?')} with {n_ranks} rank(s) failed "
                              f"(exit {proc.returncode}):\n{tail}")
        return json.loads(out.read_text())


#: the mpi measure serving the grid points of each local measure that has one (same keys)
MPI_MEASURES = {
    "fibench.bench.measures.communication:run_point": "fibench.bench.measures.crosscheck:run_point",
    "fibench.bench.measures.crosscheck:run_point": "fibench.bench.measures.crosscheck:run_point",
}


def mpi_measure(measure) -> str:
    """The measure that runs the grid points of ``measure`` (a suite's MEASURE) on the mpi
    backend, each point launching ``mpiexec -n P``; used by ``runner.run_suite(...,
    backend="mpi", parties=P)``. Raises ``ValueError`` for a measure without one."""
    if not isinstance(measure, str) or measure not in MPI_MEASURES:
        ok = sorted({m.split(".")[-1].split(":")[0] for m in MPI_MEASURES})
        raise ValueError(f"no mpi backend measure for {measure!r}; the mpi backend runs the suites {', '.join(ok)}")
    return MPI_MEASURES[measure]


# -- rank side -----------------------------------------------------------------------------------

def _cmd_point(args) -> int:
    from fibench.mpc.comm.mpi import MPICommunicator

    if args.params_file:
        params = json.loads(Path(args.params_file).read_text())
    else:
        params = json.loads(args.params or "{}")
    comm = MPICommunicator(int(params["parties"]) if "parties" in params else None)
    params.setdefault("parties", comm.n_parties)
    rows = resolve_measure(args.measure)(params, comm)
    if comm.rank == 0:
        text = json.dumps(list(rows or []), indent=1, default=json_default)
        if args.out:
            atomic_write_text(args.out, text)
        else:
            print(text)
    comm.barrier()
    return 0


def _cmd_selftest(args) -> int:
    import numpy as np

    from fibench.mpc import Session
    from fibench.mpc.comm.mpi import MPICommunicator

    comm = MPICommunicator(args.parties)
    s = Session(n_parties=comm.n_parties, comm=comm)
    x = s.share([1.5, -2.0, 3.25], owner=0, shape=(3,))
    y = s.share([2.0, 4.0, -1.0], owner=comm.n_parties - 1, shape=(3,))
    z = s.reveal(s.mul(x, y))
    ok = np.allclose(z, [3.0, -8.0, -3.25], atol=1e-3)
    oks = comm.gather(bool(ok))
    if comm.rank == 0:
        print(f"fibench mpi selftest: {comm.n_parties} ranks, {'ok' if all(oks) else 'FAILED'}; "
              f"online bytes/party {s.stats.summary()['online_bytes_sent_per_party']}")
    return 0 if ok else 1


def _world_rank() -> int:
    try:
        from mpi4py import MPI

        return MPI.COMM_WORLD.Get_rank()
    except Exception:  # noqa: BLE001 - no MPI at all: this is the only process
        return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fibench.bench.mpi_worker", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("point", help="run one grid point of an SPMD measure function on every rank")
    p.add_argument("--measure", default=DEFAULT_MEASURE, help="module:function taking (params, comm)")
    p.add_argument("--params", help="the grid point as JSON")
    p.add_argument("--params-file", help="a file holding the grid point as JSON")
    p.add_argument("--out", help="rank 0 writes the rows here (JSON); default: print them")
    t = sub.add_parser("selftest", help="share, multiply and reveal on the mpi backend")
    t.add_argument("--parties", type=int, default=None, help="expected number of parties (default: ranks)")
    args = ap.parse_args(argv)

    from fibench.mpc.comm.mpi import MPIRankMismatchError, MPIUnavailableError
    from fibench.mpc.memory import reuse_freed_memory

    reuse_freed_memory()

    try:
        return _cmd_point(args) if args.cmd == "point" else _cmd_selftest(args)
    except (MPIRankMismatchError, MPIUnavailableError) as exc:
        if _world_rank() == 0:  # every rank raises the same error: say it once
            print(f"fibench mpi: {exc}", file=sys.stderr)
        return 2
    except Exception:  # noqa: BLE001 - one rank failed: abort them all rather than leave the others waiting
        traceback.print_exc()
        sys.stderr.flush()
        with contextlib.suppress(Exception):
            from mpi4py import MPI

            MPI.COMM_WORLD.Abort(1)
        return 1


if __name__ == "__main__":
    sys.exit(main())
