"""Measure function of the ``latency`` suite.

One grid point = one computation among P parties, run ONCE on the local backend (all parties
in this process). The run gives the exact rounds and bytes per link (``session.stats``) and the
compute time; ``fibench.bench.network.estimate`` then prices it under every profile in
``networks`` (counts do not depend on the network), giving one row per profile with
``compute_s``, ``latency_s``, ``transfer_s`` and ``est_time_s``.

Workloads
---------
``relu``  one secure ReLU on ``n`` shared elements (inputs shared beforehand, not timed).
``m1``    output-level ensemble: each of K owners secret-shares its logits for ``batch``
          queries (``classes`` columns); the parties add them (local) and run a secure argmax;
          the label is revealed to the querier only. ``logits="synthetic"`` (Gaussian; the
          values change neither counts nor MPC time) or a dataset name (``"digits"``): real
          owners trained by ``fibench.fi.federated`` (``owner_model`` lr/mlp, IID split), their
          logits for test queries; the slowest owner's local inference time is added to compute.
``m2``    full private inference: the querier shares the query (``batch x features``); each
          owner shares its model (``logreg``: one affine layer; ``mlp``: affine, ReLU, affine
          with ``hidden`` units; or any spec of ``fibench.fi.models``: ``mlp:512,512,512``
          (ReLU layers of those sizes), ``cnn`` (conv 3x3 8 channels, ReLU, avgpool 2, dense on
          a square image: ``features`` = 64 is 8x8), ``cnn:16,32m`` (more conv blocks; ``m``:
          max-pool); random weights, a ``fibench.fi.graph.Graph`` per owner evaluated by
          ``fibench.fi.secure_graph`` through ``m2_labels``); logit sum, argmax, label to the querier. Biases are folded into
          the weights (a public column of ones appended locally). ``schedule="parallel"``
          evaluates the K models in the same rounds (weights concatenated: one matmul, one ReLU
          layer, and the second matmul of the stacked weights *is* the logit sum);
          ``"sequential"`` evaluates them one after the other (K times the rounds).

Topology ``T1``: the owners are the compute parties (P = K, owner k is party k); ``T2``: they
and the querier outsource to ``servers`` parties (entities ``owner0..``, ``querier``).

Timing: ``compute_s`` = online wall time minus the dealer's time inside it (median over
``timing_reps`` calls; counts come from the first), all P parties run one after another in this process (the sum over parties: a conservative upper bound of the
parallel critical path; ``compute_per_party_s`` = compute_s / P is the optimistic one). A
warm-up run on a tiny instance first (once per process and configuration) keeps JIT
compilation out; its time is reported as ``jit_compile_s``. ``threads`` > 0 pins the number
of numba threads for the measurement (1 in the quick preset: on a small shared machine the
start-up of parallel kernels on tiny arrays costs more than the work).

Input sharing by different owners is independent: consecutive ``share`` rounds are merged into
one round for the estimate (their links are disjoint or summed), as owners send in parallel.
"""
from __future__ import annotations

import time

import numpy as np

from fibench.bench import network
from fibench.bench.formatting import fmt_seconds, profile_order
from fibench.fi import models as fim
from fibench.fi import secure_inference as si
from fibench.mpc import Session
from fibench.mpc.protocols.sharing import join
from fibench.mpc.shares import AShare
from fibench.kernels.threads import num_threads

WORKLOADS = ("relu", "m1", "m2")
MODELS = ("logreg", "mlp")
SHARINGS = ("additive", "replicated")
TOPOLOGIES = ("T1", "T2")
SCHEDULES = ("parallel", "sequential")

_warmed: set = set()


# -- small helpers on shares (local operations only) -------------------------------------------

def _append_ones(s: Session, x: AShare) -> AShare:
    """[x | 1]: a public column of ones (party 0 holds the encoded 1, the others 0)."""
    one = np.uint64(1) << np.uint64(x.frac)  # fixed-point encoding of 1.0
    first = min(s.parties_all)
    col = {p: np.full((x.shape[0], 1), one if p == first else 0, dtype=np.uint64) for p in x.shares}
    return join(s, [x, AShare(col, (x.shape[0], 1), x.frac)], lambda a: np.concatenate(a, axis=1))


def _merge_share_rounds(rounds):
    """Consecutive online rounds labelled ``share*`` become one round (owners send in parallel)."""
    out = []
    for rnd in rounds:
        if (out and rnd.phase == "online" and out[-1].phase == "online"
                and str(rnd.label).startswith("share") and str(out[-1].label).startswith("share")):
            merged = dict(out[-1].links)
            for k, v in rnd.links.items():
                merged[k] = merged.get(k, 0) + v
            out[-1] = _MergedRound(rnd.phase, merged, out[-1].label)
        else:
            out.append(rnd)
    return out


class _MergedRound:
    __slots__ = ("phase", "links", "label")

    def __init__(self, phase, links, label):
        self.phase, self.links, self.label = phase, links, label


# -- workloads ---------------------------------------------------------------------------------------

def _check(params: dict) -> dict:
    wl = params.get("workload")
    if wl not in WORKLOADS:
        raise ValueError(f"workload must be one of {WORKLOADS}, got {wl!r}")
    p = dict(params)
    p.setdefault("protocol", "a2b")
    p.setdefault("argmax", "tree")
    p.setdefault("features", 64)
    p.setdefault("classes", 10)
    p.setdefault("batch", 1)
    p.setdefault("schedule", "parallel")
    p.setdefault("topology", "T2")
    p.setdefault("servers", 2)
    p.setdefault("sharing", "additive")
    if p["sharing"] not in SHARINGS:
        raise ValueError(f"sharing must be one of {SHARINGS}, got {p['sharing']!r}")
    if p.get("dataset") and wl != "relu":  # a named dataset: its shape, its owners, its queries
        ds = _load(str(p["dataset"]), int(p.get("seed", 0)))
        p["features"], p["classes"] = ds.n_features, ds.n_classes
        if wl == "m1":
            p["logits"] = str(p["dataset"])
    if wl == "relu":
        if int(p.get("n", 0)) < 1:
            raise ValueError(f"relu needs n >= 1, got {p.get('n')!r}")
        p["n_parties"] = int(p.get("parties", 2))
    else:
        K = int(p.get("owners", 0))
        if K < 1:
            raise ValueError(f"owners must be >= 1, got {p.get('owners')!r}")
        if p["topology"] not in TOPOLOGIES:
            raise ValueError(f"topology must be one of {TOPOLOGIES}, got {p['topology']!r}")
        p["n_parties"] = K if p["topology"] == "T1" else int(p["servers"])
        if p["topology"] == "T1" and K < 2:
            raise ValueError("topology T1 needs at least 2 owners (they are the compute parties)")
        if wl == "m2" and p.get("model", "mlp") not in MODELS:
            if p.get("model") == "lr":
                p["model"] = "logreg"
            else:
                try:
                    fim.parse_model(p.get("model"))
                except ValueError:
                    raise ValueError(f"model must be one of {MODELS} or a model spec (mlp:64,32, cnn, ...), "
                                     f"got {p.get('model')!r}") from None
                if p["schedule"] != "parallel":
                    raise ValueError(f"schedule {p['schedule']!r} supports the models {MODELS}, got {p['model']!r}")
        if p["schedule"] not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {p['schedule']!r}")
    if p["sharing"] == "replicated" and p["n_parties"] != 3:
        raise ValueError(f"sharing 'replicated' needs exactly 3 compute parties, got {p['n_parties']}")
    return p


_ensembles: dict = {}
_datasets: dict = {}


def _load(name: str, seed: int):
    """``fibench.fi.data.load_dataset(name, seed=seed)``, the last one kept in memory."""
    from fibench.fi.data import load_dataset

    if (name, seed) not in _datasets:
        _datasets.clear()
        _datasets[(name, seed)] = load_dataset(name, seed=seed)
    return _datasets[(name, seed)]


def _queries(p: dict, rng, B: int, d: int):
    """The M2 queries: ``B`` test rows of ``p['dataset']`` (cycled), else Gaussian ``B x d``."""
    if p.get("dataset"):
        X = _load(str(p["dataset"]), int(p.get("seed", 0))).X_test
        return X[np.arange(B) % len(X)]
    return rng.normal(size=(B, d))


def _trained_logits(dataset: str, K: int, batch: int, seed: int, model: str):
    """Real owners: K models trained by fibench.fi.federated on an IID split of ``dataset``; their
    logits for the first ``batch`` test queries, and the slowest owner's local inference time."""
    from fibench.fi.federated import FederatedEnsemble
    from fibench.fi.partition import iid_partition

    key = (dataset, K, seed, model)
    if key not in _ensembles:
        ds = _load(dataset, seed)
        parts = iid_partition(ds.y_train, K, seed=seed)
        fe = FederatedEnsemble(model=model, rule="logit_sum", seed=seed)
        fe.fit([(ds.X_train[ix], ds.y_train[ix]) for ix in parts], n_classes=ds.n_classes)
        _ensembles.clear()  # keep one ensemble in memory
        _ensembles[key] = (fe, ds)
    fe, ds = _ensembles[key]
    Xq = ds.X_test[np.arange(batch) % len(ds.X_test)]
    logits, slowest = [], 0.0
    for owner in fe.owners_:
        t0 = time.perf_counter()
        logits.append(owner.logits(Xq))
        slowest = max(slowest, time.perf_counter() - t0)
    return logits, slowest


def _owner_id(p: dict, k: int):
    return k if p["topology"] == "T1" else f"owner{k}"


def _build(s: Session, p: dict, rng):
    """Share the inputs (untimed for relu; timed for m1/m2 since sharing is part of inference)
    and return (fn, plaintext_reference_fn) where fn() runs the secure computation."""
    wl = p["workload"]
    if wl == "relu":
        x = s.share(rng.normal(size=int(p["n"])), owner=0)
        return (lambda: s.relu(x)), None
    K, C, B = int(p["owners"]), int(p["classes"]), int(p["batch"])
    if wl == "m1":
        source = p.get("logits", "synthetic") or "synthetic"
        if source == "synthetic":
            logits = [rng.normal(size=(B, C)) for _ in range(K)]
        else:
            logits, owner_s = _trained_logits(source, K, B, int(p.get("seed", 0)), p.get("owner_model", "lr"))
            p["owner_compute_s"] = owner_s

        def fn():
            return si.m1_labels(s, np.stack(logits), p["topology"], p["argmax"], to="querier").view(np.int64)

        ref = np.argmax(sum(logits), axis=1)
        return fn, ref
    # m2
    d, model, h = int(p["features"]), p.get("model", "mlp"), int(p.get("hidden", 0) or 0)
    if _graph_spec(p):
        xq = _queries(p, rng, B, d)
        graphs = [fim.random_graph(model, d, C, rng) for _ in range(K)]

        def gfn():
            return si.m2_labels(s, xq, graphs, "logit_sum", p["topology"], p["argmax"], to="querier").view(np.int64)

        return gfn, np.argmax(sum(g.logits(xq) for g in graphs), axis=1)
    if model == "mlp" and h < 1:
        raise ValueError(f"model 'mlp' needs hidden >= 1, got {p.get('hidden')!r}")
    xq = _queries(p, rng, B, d)
    models = []
    for _ in range(K):
        if model == "logreg":
            models.append((np.vstack([rng.normal(size=(d, C)) / np.sqrt(d), rng.normal(size=(1, C)) * 0.1]),))
        else:
            w1 = np.vstack([rng.normal(size=(d, h)) / np.sqrt(d), rng.normal(size=(1, h)) * 0.1])
            w2 = rng.normal(size=(h, C)) / np.sqrt(h)
            b2 = rng.normal(size=(1, C)) * 0.1
            models.append((w1, w2, b2))

    def plain():
        xa = np.hstack([xq, np.ones((B, 1))])
        tot = 0
        for m in models:
            tot = tot + (xa @ m[0] if model == "logreg" else np.maximum(xa @ m[0], 0) @ m[1] + m[2])
        return np.argmax(tot, axis=1)

    def fn():
        if p["schedule"] == "parallel":  # the library's M2: all owners' models in the same rounds
            layers = [[(m[0][:d], m[0][d])] if model == "logreg" else [(m[0][:d], m[0][d]), (m[1], m[2][0])]
                      for m in models]
            return si.m2_labels(s, xq, layers, "logit_sum", p["topology"], p["argmax"], to="querier").view(np.int64)
        # sequential: the owners' models one after the other (K times the rounds)
        x = _append_ones(s, s.share(xq, owner="querier"))
        shared = [tuple(s.share(w, owner=_owner_id(p, k)) for w in m) for k, m in enumerate(models)]
        tot = None
        for m in shared:
            if model == "logreg":
                z = s.matmul(x, m[0])
            else:
                hid = s.relu(s.matmul(x, m[0]))
                z = s.matmul(_append_ones(s, hid), join(s, [m[1], m[2]], np.concatenate))
            tot = z if tot is None else s.add(tot, z)
        lab = s.argmax(tot, method=p["argmax"])
        return s.reveal(lab, to="querier")

    return fn, plain()


def _graph_spec(p: dict) -> bool:
    """An m2 model given as a spec (mlp:64,32, cnn, ...) rather than logreg / mlp + hidden."""
    return p["workload"] == "m2" and p.get("model", "mlp") not in MODELS


def _tiny(p: dict) -> dict:
    t = dict(p)
    cnn = _graph_spec(p) and str(p["model"]).startswith("cnn")
    t.update(n=2, batch=1, features=int(p["features"]) if cnn else 4, classes=min(int(p.get("classes", 10)), 3), hidden=2 if p.get("hidden") else 0,
             logits="synthetic", dataset=None)
    if t.get("workload") != "relu":
        t["owners"] = int(p["owners"]) if p["topology"] == "T1" else 2
    return t


def _run_once(p: dict, seed: int, timing_reps: int = 1):
    """Run the computation; counts from the first call, times = median over ``timing_reps``
    calls (same session, same inputs; the dealer keeps handing out fresh randomness)."""
    s = Session(n_parties=p["n_parties"], protocol=p["protocol"], cmp_bits=int(p.get("cmp_bits", 64) or 64),
                sharing=p.get("sharing", "additive"))
    rng = np.random.default_rng(seed)
    fn, ref = _build(s, p, rng)
    walls, dealers, out, rounds = [], [], None, None
    for i in range(max(1, int(timing_reps))):
        s.stats.reset()
        d0 = s.dealer.elapsed
        t0 = time.perf_counter()
        res = fn()
        walls.append(time.perf_counter() - t0)
        dealers.append(s.dealer.elapsed - d0)
        if i == 0:
            out, rounds = res, list(s.stats.rounds)
    s.stats.rounds = rounds
    computes = [w - d for w, d in zip(walls, dealers)]
    k = int(np.argsort(computes)[len(computes) // 2])  # the median repetition
    return s, out, ref, walls[k], dealers[k]




def _proto(p: dict) -> str:
    bits = int(p.get("cmp_bits", 64) or 64)
    name = p["protocol"] if bits == 64 else f"{p['protocol']}(l={bits})"
    return f"{name}/replicated" if p.get("sharing") == "replicated" else name


def _label(p: dict) -> str:
    wl = p["workload"]
    if wl == "relu":
        return f"relu n={p['n']} P={p['n_parties']} {_proto(p)}"
    topo = "T1" if p["topology"] == "T1" else f"T2(S={p['n_parties']})"
    extra = f" b={p['batch']}" if int(p["batch"]) != 1 else ""
    if wl == "m1":
        return f"M1 K={p['owners']} {topo} {_proto(p)}/{p['argmax']}{extra}"
    model = p.get("model", "mlp")
    m = "logreg" if model == "logreg" else (model if _graph_spec(p) else f"mlp h={p['hidden']}")
    sched = "" if p["schedule"] == "parallel" else " seq"
    return f"M2 {m} K={p['owners']} {topo} {_proto(p)}{sched}{extra}"


def _model_params(p: dict):
    if p["workload"] != "m2":
        return None
    d, C = int(p["features"]), int(p["classes"])
    if _graph_spec(p):
        g = fim.random_graph(p["model"], d, C, np.random.default_rng(0))
        return int(sum(W.size + b.size for W, b in g.linear_params()))
    if p.get("model", "mlp") == "logreg":
        return (d + 1) * C
    h = int(p["hidden"])
    return (d + 1) * h + (h + 1) * C


def _family(p: dict):
    """lr / mlp / cnn of an m2 model (None for the other workloads): the complexity figure's
    marker."""
    if p["workload"] != "m2":
        return None
    model = p.get("model", "mlp")
    return "lr" if model == "logreg" else fim.parse_model(model)[0]


def run_point(params: dict) -> list[dict]:
    """One computation, priced under every profile in ``params['networks']``: one row each."""
    p = _check(params)
    seed = int(p.get("seed", 0))
    extra = network.load_profiles(p["network_file"]) if p.get("network_file") else None
    nets = p.get("networks") or list(network.PROFILES)
    if isinstance(nets, str):
        nets = [nets]
    profiles = [network.get_profile(n, extra) for n in nets]

    key = (p["workload"], p["protocol"], p["n_parties"], p.get("model"), p["topology"], p.get("argmax"),
           p.get("schedule"), p.get("threads"), p["sharing"])
    jit = 0.0
    with num_threads(p.get("threads")):
        if key not in _warmed:
            t0 = time.perf_counter()
            _run_once(_check(_tiny(p)), seed)
            jit = time.perf_counter() - t0
            _warmed.add(key)
        s, out, ref, wall, dealer = _run_once(p, seed, int(p.get("timing_reps", 1) or 1))
    # owners evaluate their own models in parallel before sharing: add the slowest one
    compute = max(wall - dealer, 0.0) + float(p.get("owner_compute_s", 0.0))
    rounds = _merge_share_rounds(s.stats.rounds)
    summ = s.stats.summary()
    agree = float(np.mean(np.asarray(out).round().astype(np.int64) == ref)) if ref is not None else None

    base = {
        "label": _label(p),
        "model_family": _family(p),
        "n_parties": p["n_parties"],
        "sharing": p["sharing"],
        "model_params": _model_params(p),
        "wall_s": wall,
        "dealer_s": dealer,
        "compute_per_party_s": compute / p["n_parties"],
        "online_rounds": sum(1 for r in rounds if r.phase == "online"),
        "online_rounds_engine": summ["online_rounds"],
        "online_bytes_per_party": summ["online_bytes_sent_per_party"],
        "online_bytes_total": summ["online_bytes_total"],
        "offline_bytes_per_party": summ["offline_bytes_per_party"],
        "agree": agree,
        "jit_compile_s": jit,
    }
    if p.get("dataset") and p["workload"] != "relu":  # the dataset's shape, not the grid's defaults
        base.update(features=p["features"], classes=p["classes"], logits=p.get("logits"))
    rows = []
    for prof in profiles:
        est = network.estimate(rounds, prof, compute)
        off = network.estimate(rounds, prof, 0.0, phase="offline")
        rows.append({
            "network": prof.name,
            **est,
            "latency_share": est["latency_s"] / est["est_time_s"] if est["est_time_s"] > 0 else 0.0,
            "offline_est_s": off["est_time_s"],
            **base,
        })
    return rows


# -- report table (TABLES of suites/latency.py) --------------------------------------------------

def latency_pivot(df):
    """Report table: estimated time and latency share per grid point (``label``) and network
    profile, profiles as columns; ``None`` when the rows lack those columns."""
    import pandas as pd

    need = {"network", "est_time_s", "latency_s"}
    if not need <= set(df.columns):
        return None
    d = df.copy()
    for c in ("est_time_s", "latency_s"):
        d[c] = pd.to_numeric(d[c], errors="coerce")
    label = "label" if "label" in d.columns else None
    if label is None:
        return None
    key = ["point", label] if "point" in d.columns else [label]
    m = d.groupby(key + ["network"], sort=False)[["est_time_s", "latency_s"]].median().reset_index()
    m["share"] = m["latency_s"] / m["est_time_s"]
    t = m.pivot_table(index=key, columns="network", values="est_time_s", sort=False)
    s = m.pivot_table(index=key, columns="network", values="share", sort=False)
    cols = profile_order(t.columns)
    out = pd.DataFrame(index=t.index)
    for c in cols:
        out[f"time {c}"] = [fmt_seconds(v) for v in t[c]]
    for c in cols:
        out[f"lat% {c}"] = [f"{100 * v:.0f}%" if np.isfinite(v) else "" for v in s[c]]
    out = out.reset_index().drop(columns=["point"], errors="ignore")
    return out
