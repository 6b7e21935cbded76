"""Measure function of the ``crosscheck`` suite: the ops on the ``mpi`` backend (one process per
party), cross-checked against the ``local`` backend, with and without injected network delays.

``run_point(params)`` runs in the runner's process: it launches ``mpiexec -n P python -m
fibench.bench.mpi_worker point ...`` (``fibench.bench.mpi_worker.run_point_mpi``); every rank runs
``mpi_point`` (SPMD) and rank 0 returns the rows. Then the same op runs on the ``local`` backend
in the runner's process for the reference counts and time.

Per point (keys): ``op`` (share, reveal, mul, matmul, lt, relu, argmax, mlp), ``parties``,
``n`` (elements; ``rows`` for matmul/argmax/mlp), ``protocol``, ``argmax_method``, ``transport``
(``shm``: MPICH's shared memory; ``tcp``: the network path forced, see ``TRANSPORT_ENV``),
``profile`` (``none`` or a ``fibench.bench.network`` profile whose delays are injected), ``reps``,
``seed``, ``threads`` (numba threads per rank; 0: cores // P), ``local_ref`` (run the local
reference), ``timeout_s``, ``spin_us``/``poll_sleep_us`` (how waiting ranks poll, see
``MPICommunicator``).

Columns: the communication suite's (``op, protocol, parties, n, online_bytes_sent_per_party,
online_rounds, offline_bytes_per_party, time_s`` ...) where ``time_s`` is the median over
``reps`` calls of the slowest rank's wall time (dealer work inline, as in the communication
suite), ``online_s`` (rank 0's wall minus its dealer seconds: rank 0 hosts the dealer, see
``fibench.mpc.comm.mpi``), ``dealer_s``, ``wall_s`` (the whole mpiexec launch), the local
backend's ``local_time_s``/``local_online_s``/``local_dealer_s`` (and the ratios to them) and
``counts_match_local`` (the complete round log
-- phase, label, bytes per link -- equals the local backend's), ``correct`` (agreement of the
revealed result with plaintext). With a ``profile``: ``measured_s`` (median wall with delays),
``compute_s`` (the same without delays, measured in the same launch), the model's estimate
``est_time_s`` = compute + latency + transfer (``fibench.bench.network.estimate`` with one-way latency
per round, which is what the injection emulates) and ``est_error`` = est / measured - 1;
``est_rtt_time_s``/``est_rtt_error`` give the model's default (one full RTT per round).
"""
from __future__ import annotations

import hashlib
import json
import os
import statistics
import time

import numpy as np

from fibench.bench.timing import time_call

OPS = ("share", "reveal", "mul", "matmul", "lt", "relu", "argmax", "mlp")
COMPARISON_OPS = ("lt", "relu", "argmax", "mlp")
ROW_OPS = ("matmul", "argmax", "mlp")
MATMUL_INNER, MATMUL_OUT, ARGMAX_CLASSES = 64, 32, 10
MLP_DIMS = (64, 32, 10)
TRANSPORTS = ("shm", "tcp")

#: environment that forces MPI onto the network path between ranks of one host: MPICH
#: (``MPIR_CVAR_NOLOCAL``: no shared memory between ranks) with its UCX netmod restricted to TCP
#: (with NOLOCAL alone UCX still picks its own shared-memory transport) or its OFI netmod on the
#: tcp provider; Open MPI: the tcp BTL only.
TRANSPORT_ENV = {
    "shm": {},
    "tcp": {"MPIR_CVAR_NOLOCAL": "1", "UCX_TLS": "tcp,self", "FI_PROVIDER": "tcp",
            "OMPI_MCA_btl": "tcp,self", "OMPI_MCA_pml": "ob1"},
}


# -- the MLP end to end ------------------------------------------------------------------------

def mlp_params(seed: int, dims=MLP_DIMS):
    """Plaintext weights (W1, b1, W2, b2) of a random 64-32-10 MLP (seeded)."""
    d_in, d_h, d_out = dims
    rng = np.random.default_rng([seed, 1])
    return (rng.normal(size=(d_in, d_h)) / np.sqrt(d_in), rng.normal(size=d_h) * 0.1,
            rng.normal(size=(d_h, d_out)) / np.sqrt(d_h), rng.normal(size=d_out) * 0.1)


def mlp_plain(X, params) -> np.ndarray:
    W1, b1, W2, b2 = params
    h = np.maximum(X @ W1 + b1, 0.0)
    return np.argmax(h @ W2 + b2, axis=1)


def _broadcast_rows(s, b, n):
    """Shares of a bias vector broadcast to ``(n, d)`` (local: shares broadcast like values)."""
    d = b.shape[0]
    return b.map(lambda sh: np.ascontiguousarray(np.broadcast_to(sh, (n, d))), shape=(n, d))


def mlp_end_to_end(s, X=None, params=None, n: int = 1000, dims=MLP_DIMS, querier="querier",
                   owner="owner0", argmax_method: str = "pairs"):
    """Secure MLP inference from inputs to the revealed label: the library's M2 pipeline
    (``fibench.fi.secure_inference.m2_labels``, one model owner, masked inputs).

    The ``querier`` sends the queries ``X`` (n x d_in), the model ``owner`` W1 (d_in x d_h), b1,
    W2 (d_h x d_out), b2; the parties compute ``argmax(relu(X @ W1 + b1) @ W2 + b2)`` and reveal
    the labels to the querier only. Works on any backend: ``X``/``params`` are read only where
    the querier/owner is hosted (elsewhere pass arrays of the right shape).
    Returns the labels (int64, shape ``(n,)``) where the querier is hosted, else ``None``.
    """
    from fibench.fi.secure_inference import m2_labels

    d_in, d_h, d_out = dims
    W1, b1, W2, b2 = params if params is not None else (np.zeros((d_in, d_h)), np.zeros(d_h),
                                                         np.zeros((d_h, d_out)), np.zeros(d_out))
    X = np.zeros((n, d_in)) if X is None else X
    topology = "T1" if isinstance(owner, (int, np.integer)) else "T2"
    if querier != "querier":
        raise ValueError(f"querier must be 'querier' (the M2 pipeline's receiver), got {querier!r}")
    if owner not in ("owner0", 0):
        raise ValueError(f"owner must be 'owner0' (outside) or 0 (compute party 0), got {owner!r}")
    out = m2_labels(s, X, [[(W1, b1), (W2, b2)]], "logit_sum", topology, argmax_method, to="querier")
    return None if out is None else out.view(np.int64).copy()


# -- ops ---------------------------------------------------------------------------------------

def _n_of(params: dict) -> int:
    op = params["op"]
    return int(params.get("rows", 1000) if op in ROW_OPS else params.get("n", 1000))


def build_op(s, params: dict):
    """``(fn, check)`` for one op on session ``s`` (any backend; call it on every rank).

    Inputs are drawn from ``seed`` identically everywhere (each owner uses its own). ``fn()`` is
    the measured call, end to end: sharing by the inputs' owners, the op, the reveal to the
    querier (``share`` and ``reveal`` time themselves alone); ``check()`` (collective) returns the fraction of results equal to the
    plaintext ones where it is known (rank 0 / the local process), else ``None``.
    """
    op = params["op"]
    n = _n_of(params)
    method = params.get("argmax_method", "pairs")
    seed = int(params.get("seed", 0))
    rng = np.random.default_rng(seed)
    P = s.n_parties
    local0 = s.comm.is_local(0)

    def agree(got, want):
        return float(np.mean(got == want)) if got is not None and local0 else None

    def near(got, want, tol):  # ``got`` is None where the querier is not hosted
        return agree(None if got is None else np.abs(got - want) < tol, True)

    if op == "share":
        xv = rng.normal(size=n)
        return (lambda: s.share(xv, owner=0, shape=(n,))), (lambda: None)
    if op == "reveal":
        xv = rng.normal(size=n)
        x = s.share(xv, 0, shape=(n,))
        return (lambda: s.reveal(x)), (lambda: agree(np.abs(s.reveal(x) - xv) < 1e-4, True))
    # every op end to end, as a user runs it: the owners share (compute parties 0 and P-1: free
    # after the session's key set-up), the op, the result revealed to the querier
    def e2e(op_fn, *inputs):
        def run():
            xs = [s.share(v, owner, shape=v.shape) for v, owner in inputs]
            return s.reveal(op_fn(*xs), to="querier")
        return run

    if op == "mul":
        xv, yv = rng.normal(size=n), rng.normal(size=n)
        fn = e2e(s.mul, (xv, 0), (yv, P - 1))
        return fn, (lambda: near(fn(), xv * yv, 1e-3))
    if op == "matmul":
        xv = rng.normal(size=(n, MATMUL_INNER))
        wv = rng.normal(size=(MATMUL_INNER, MATMUL_OUT)) * 0.1
        fn = e2e(s.matmul, (xv, "querier"), (wv, 0))
        return fn, (lambda: near(fn(), xv @ wv, 1e-2))
    if op == "lt":
        xv, yv = rng.normal(size=n), rng.normal(size=n)
        scale = 2.0 ** s.frac_bits  # compare the encoded values (ties of the encoding aside)
        want = (np.rint(xv * scale) < np.rint(yv * scale)).astype(float)
        fn = e2e(s.lt, (xv, 0), (yv, P - 1))
        return fn, (lambda: agree(fn(), want))
    if op == "relu":
        xv = rng.normal(size=n)
        fn = e2e(s.relu, (xv, 0))
        return fn, (lambda: near(fn(), np.maximum(xv, 0), 1e-4))
    if op == "argmax":
        xv = rng.normal(size=(n, ARGMAX_CLASSES))
        fn = e2e(lambda x: s.argmax(x, method=method), (xv, 0))
        return fn, (lambda: agree(fn(), np.argmax(xv, axis=1)))
    if op == "mlp":
        X = rng.normal(size=(n, MLP_DIMS[0]))
        prm = mlp_params(seed)
        owner = params.get("owner", "owner0")

        def fn():
            return mlp_end_to_end(s, X, prm, n=n, owner=owner, argmax_method=method)

        return fn, (lambda: agree(fn(), mlp_plain(X, prm)))
    raise ValueError(f"op must be one of {OPS}, got {op!r}")


def round_digest(rounds) -> str:
    """A hash of a round log: phase, label and bytes per link of every round, in order."""
    canon = [(r.phase, r.label, sorted(((str(a), str(b)), v) for (a, b), v in r.links.items())) for r in rounds]
    return hashlib.sha1(json.dumps(canon).encode()).hexdigest()[:16]


def _estimates(rounds, profile, compute_s: float, measured_s: float) -> dict:
    from fibench.bench import network

    one = network.estimate(rounds, profile, compute_s=compute_s, latency_per_round="one_way")
    rtt = network.estimate(rounds, profile, compute_s=compute_s, latency_per_round="rtt")
    return {"compute_s": compute_s, "latency_s": one["latency_s"], "transfer_s": one["transfer_s"],
            "est_time_s": one["est_time_s"], "measured_s": measured_s,
            "est_error": one["est_time_s"] / measured_s - 1.0,
            "est_rtt_time_s": rtt["est_time_s"], "est_rtt_error": rtt["est_time_s"] / measured_s - 1.0}


def _session_kwargs(params: dict) -> dict:
    # the seed of a point seeds its data; the dealer's randomness never comes from it
    return {"protocol": params.get("protocol", "a2b"), "cmp_bits": int(params.get("cmp_bits", 64) or 64),
            "sharing": params.get("sharing", "additive") or "additive"}


def _row_head(params: dict) -> dict:
    op = params["op"]
    return {"op": op, "protocol": params.get("protocol", "a2b") if op in COMPARISON_OPS else "-",
            "parties": int(params["parties"]), "n": _n_of(params),
            "argmax_method": params.get("argmax_method", "pairs") if op in ("argmax", "mlp") else "-",
            "backend": "mpi", "transport": params.get("transport", "shm"),
            "profile": params.get("profile", "none") or "none", "seed": int(params.get("seed", 0)),
            "sharing": params.get("sharing", "additive") or "additive"}


def _merge_timings(parts: list) -> dict:
    """Merge single-call ``MPICommunicator.timed`` results into medians."""
    times = [t for p in parts for t in p["times"]]
    deals = [t for p in parts for t in p["dealer"]]
    online = [t for p in parts for t in p["online"]]
    med = statistics.median
    return {"times": times, "dealer": deals, "online": online, "time_s": med(times), "time_min_s": min(times),
            "time_max_s": max(times), "dealer_s": med(deals), "online_s": med(online)}


# -- SPMD part (every rank) ----------------------------------------------------------------------

def mpi_point(params: dict, comm=None):
    """Run one grid point on the mpi backend; call on every rank. Rows on rank 0, else ``None``."""
    from fibench.bench import network
    from fibench.mpc import Session
    from fibench.mpc.comm.mpi import MPICommunicator

    P = int(params["parties"])
    comm = comm if comm is not None else MPICommunicator(P)
    if "poll_sleep_us" in params:
        comm.poll_sleep_s = float(params["poll_sleep_us"]) * 1e-6
    if "spin_us" in params:
        comm.spin_s = float(params["spin_us"]) * 1e-6
    s = Session(n_parties=P, comm=comm, **_session_kwargs(params))
    reps = int(params.get("reps", 3))
    fn, check = build_op(s, params)
    t0 = time.perf_counter()
    fn()  # warm-up: JIT compile / cache load
    warm = comm.gather(time.perf_counter() - t0)
    mark = s.stats.mark()
    fn()
    rounds = s.stats.since(mark).rounds
    counts = s.stats.since(mark).summary()
    correct = check()
    profile = params.get("profile", "none") or "none"
    delayed = None
    if profile == "none":
        base = comm.timed(fn, reps, s.dealer)
    else:  # alternate calls without and with delays, so that both see the same machine load
        runs = {"base": [], "delayed": []}
        for _ in range(reps):
            runs["base"].append(comm.timed(fn, 1, s.dealer))
            with comm.delayed(network.LinkDelay(profile)):
                runs["delayed"].append(comm.timed(fn, 1, s.dealer))
        if comm.rank == 0:
            base, delayed = (_merge_timings(runs[k]) for k in ("base", "delayed"))
    if comm.rank != 0:
        return None
    row = _row_head(params)
    row.update(counts)
    n = row["n"]
    row["online_bytes_per_element"] = counts["online_bytes_sent_per_party"] / max(n, 1)
    row["offline_bytes_per_element"] = counts["offline_bytes_per_party"] / max(n, 1)
    row["round_digest"] = round_digest(rounds)
    row["correct"] = correct
    row["warmup_s"] = max(warm)
    for k in ("time_s", "time_min_s", "time_max_s", "dealer_s", "online_s"):
        row[k] = base[k]
    if delayed is not None:
        row.update(_estimates(rounds, profile, base["time_s"], delayed["time_s"]))
        row["measured_min_s"] = delayed["time_min_s"]
        row["measured_max_s"] = delayed["time_max_s"]
        row["measured_online_s"] = delayed["online_s"]
        row["injected_s"] = comm.injected_s / max(1, reps)
    return [row]


# -- the runner's side -----------------------------------------------------------------------------

def _loopback_bytes() -> int | None:
    try:
        with open("/proc/net/dev") as fh:
            for line in fh:
                name, _, rest = line.partition(":")
                if name.strip() == "lo":
                    return int(rest.split()[0])
    except OSError:
        return None
    return None


def local_reference(params: dict) -> dict:
    """The same op on the local backend: round digest, counts and time (median of reps)."""
    from fibench.mpc import Session

    s = Session(n_parties=int(params["parties"]), **_session_kwargs(params))
    fn, _ = build_op(s, params)
    fn()
    mark = s.stats.mark()
    fn()
    rounds = s.stats.since(mark).rounds
    summary = s.stats.since(mark).summary()
    timing, _ = time_call(fn, int(params.get("reps", 3)), s.dealer)
    return {"digest": round_digest(rounds), "summary": summary,
            "time_s": timing["time_s"], "online_s": timing["online_s"], "dealer_s": timing["dealer_s"]}


def run_point(params: dict) -> list[dict]:
    """One grid point: launch the ranks, then the local reference. Rows for the results store."""
    from fibench.bench.mpi_worker import run_point_mpi
    from fibench.mpc import runs_with

    op = params["op"]
    if op not in OPS:
        raise ValueError(f"op must be one of {OPS}, got {op!r}")
    protocol = params.get("protocol", "a2b")
    P = int(params["parties"])
    if protocol != "a2b" and (op not in COMPARISON_OPS or not runs_with(protocol, P)):
        return []
    transport = params.get("transport", "shm")
    if transport not in TRANSPORTS:
        raise ValueError(f"transport must be one of {TRANSPORTS}, got {transport!r}")
    threads = int(params.get("threads", 0)) or max(1, (os.cpu_count() or 1) // P)
    env = dict(TRANSPORT_ENV[transport])
    env.setdefault("NUMBA_NUM_THREADS", str(threads))
    lo0 = _loopback_bytes()
    t0 = time.perf_counter()
    rows = run_point_mpi(P, params, env=env, timeout=float(params.get("timeout_s", 600)))
    wall = time.perf_counter() - t0
    lo1 = _loopback_bytes()
    for row in rows:
        row["wall_s"] = wall
        row["threads"] = threads
        row["loopback_bytes"] = (lo1 - lo0) if lo0 is not None and lo1 is not None else None
    if params.get("local_ref", True) and rows:
        ref = local_reference(params)
        for row in rows:
            row["counts_match_local"] = row.pop("round_digest") == ref["digest"]
            row["local_time_s"] = ref["time_s"]
            row["local_online_s"] = ref["online_s"]
            row["local_dealer_s"] = ref["dealer_s"]
            row["dealer_ratio_to_local"] = row["dealer_s"] / ref["dealer_s"] if ref["dealer_s"] > 0 else None
            row["ratio_to_local"] = row["time_s"] / ref["time_s"] if ref["time_s"] > 0 else None
            row["online_ratio_to_local"] = row["online_s"] / ref["online_s"] if ref["online_s"] > 0 else None
    return rows


def summarize(rows) -> str:
    """A one-line-per-row text summary (for quick looks from a script)."""
    out = []
    for r in rows:
        extra = ""
        if "est_time_s" in r:
            extra = f" measured {r['measured_s']:.4f} est {r['est_time_s']:.4f} err {100 * r['est_error']:+.1f}%"
        out.append(f"{r['op']:7s} P={r['parties']} n={r['n']:<8d} {r['transport']:3s} {r['profile']:6s} "
                   f"time {r['time_s']:.4f} online {r['online_s']:.4f}{extra}")
    return "\n".join(out)



# -- transcript parity (tests) ---------------------------------------------------------------------

PARITY_OPS = ("share", "reveal", "mul", "matmul", "lt", "relu", "argmax", "mlp")


def transcript(s, params: dict) -> dict:
    """Run every op of ``params["ops"]`` once on session ``s`` (any backend, SPMD) and return,
    where party 0 is hosted, ``{op: {"rounds": [[phase, label, [[src, dst, bytes], ...]], ...],
    "value": revealed result as a list}}`` (else ``None``)."""
    out = {}
    for op in params.get("ops", PARITY_OPS):
        p = dict(params, op=op)
        if op == "mlp":
            p.setdefault("rows", 8)
        fn, _ = build_op(s, p)
        mark = s.stats.mark()
        res = fn()
        rounds = s.stats.since(mark).rounds
        if hasattr(res, "shares"):  # a share (op "share"): open it
            value = s.reveal_raw(res).view(np.int64)
        else:  # already revealed to the querier (rank 0), or nothing here
            value = res
        out[op] = {"rounds": [[r.phase, r.label, sorted([str(a), str(b), v] for (a, b), v in r.links.items())]
                              for r in rounds],
                   "value": None if value is None else np.asarray(value).tolist()}
    return out if s.comm.is_local(0) else None


def parity_point(params: dict, comm):
    """SPMD measure for the tests: one row ``{"transcript": json}`` on rank 0."""
    from fibench.mpc import Session

    s = Session(n_parties=comm.n_parties, comm=comm, **_session_kwargs(params))
    t = transcript(s, params)
    return None if comm.rank != 0 else [{"transcript": json.dumps(t)}]
