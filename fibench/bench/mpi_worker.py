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
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

DEFAULT_MEASURE = "fibench.bench.measures.crosscheck:mpi_point"

__all__ = ["MPIRunError", "find_mpiexec", "launch_mpi", "main", "mpi_available",
           "mpi_suite", "run_point_mpi"]


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
    import fibench

    return str(Path(fibench.__file__).resolve().parent.parent)


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


#: suites whose grid points ``fibench.bench.measures.crosscheck:run_point`` understands (same keys)
MPI_MEASURES = {
    "fibench.bench.measures.communication:run_point": "fibench.bench.measures.crosscheck:run_point",
    "fibench.bench.measures.crosscheck:run_point": "fibench.bench.measures.crosscheck:run_point",
}


def mpi_suite(suite, parties: int | None = None):
    """The suite module ``suite`` re-targeted at the mpi backend, for ``fibench run --backend mpi``.

    Each grid point launches ``mpiexec -n P`` (P = the point's ``parties``) and the rows go to
    the same results store. ``parties``: run only that number of parties (sets ``parties`` in
    every grid). Raises ``ValueError`` for suites without an mpi measure, ``MPIUnavailableError``
    when MPI is missing.
    """
    import types

    from fibench.mpc.comm.mpi import MPIUnavailableError

    measure = suite.MEASURE if isinstance(suite.MEASURE, str) else ""
    if measure not in MPI_MEASURES:
        ok = sorted({m.split(".")[-1].split(":")[0] for m in MPI_MEASURES})
        raise ValueError(f"suite {suite.NAME!r} has no mpi backend measure; --backend mpi runs the suites "
                         f"{', '.join(ok)}")
    if parties is not None and not (isinstance(parties, int) and parties >= 2):
        raise ValueError(f"--parties must be an integer >= 2, got {parties!r}")
    reason = mpi_available()
    if reason is not None:
        raise MPIUnavailableError(reason)
    mod = types.ModuleType(f"{getattr(suite, '__name__', suite.NAME)}__mpi")
    for key in ("NAME", "DESCRIPTION", "PRESETS", "REPEATS", "VALID", "NO_EXPAND", "PLOTS"):
        if hasattr(suite, key):
            setattr(mod, key, getattr(suite, key))
    mod.MEASURE = MPI_MEASURES[measure]
    mod.DESCRIPTION = f"{getattr(suite, 'DESCRIPTION', '')} [mpi backend]"
    if parties is not None:
        presets = {}
        for name, grids in suite.PRESETS.items():
            many = isinstance(grids, (list, tuple))
            new = [dict(g, parties=[parties]) for g in (grids if many else [grids])]
            presets[name] = new if many else new[0]
        mod.PRESETS = presets
    return mod


# -- rank side -----------------------------------------------------------------------------------

def _resolve(measure: str):
    modname, _, fname = measure.partition(":")
    fn = getattr(importlib.import_module(modname), fname, None)
    if fn is None:
        raise ValueError(f"measure {measure!r} not found (use 'module:function')")
    return fn


def _jsonable(v):
    try:
        import numpy as np

        if isinstance(v, np.generic):
            return v.item()
    except ImportError:  # pragma: no cover
        pass
    return v


def _cmd_point(args) -> int:
    from fibench.mpc.comm.mpi import MPICommunicator

    if args.params_file:
        params = json.loads(Path(args.params_file).read_text())
    else:
        params = json.loads(args.params or "{}")
    comm = MPICommunicator(int(params["parties"]) if "parties" in params else None)
    params.setdefault("parties", comm.n_parties)
    rows = _resolve(args.measure)(params, comm)
    if comm.rank == 0:
        rows = [{k: _jsonable(v) for k, v in r.items()} for r in (rows or [])]
        text = json.dumps(rows, indent=1)
        if args.out:
            tmp = Path(args.out).with_suffix(".tmp")
            tmp.write_text(text)
            os.replace(tmp, args.out)
        else:
            print(text)
    comm.barrier()
    return 0


def _cmd_selftest(args) -> int:
    import numpy as np

    from fibench.mpc import Session
    from fibench.mpc.comm.mpi import MPICommunicator

    comm = MPICommunicator(args.parties)
    s = Session(n_parties=comm.n_parties, comm=comm, seed=b"fibench-selftest")
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
