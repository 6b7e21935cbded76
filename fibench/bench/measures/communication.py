"""Measure function of the ``communication`` suite: bytes, rounds and time of one op.

Ops: ``share`` (an owner shares n reals), ``reveal`` (open n reals to all), ``mul`` (n fixed-point
products), ``matmul`` ((rows x 64) @ (64 x 32), the MLP's first layer), ``lt`` (n comparisons),
``relu`` (n), ``argmax`` (rows x 10 classes). ``trunc`` (products only): ``dealer`` (the default,
exact to 1 ulp) or ``local`` (P = 2: SecureML's probabilistic truncation, 0 rounds) — the pair
shows what exactness costs. Counts are exact and deterministic; times are the median of
``reps`` calls after a warm-up call (reported apart as ``warmup_s``). ``sharing``: ``additive``
(the dealer's scheme, the default) or ``replicated`` (3 servers, no dealer; other points skipped).

``layers``: the per-layer cost breakdown of ONE secure inference (M2, ``logit_sum``, T2 with
``parties`` servers, K = ``owners`` owners, ``rows`` queries of the 8x8 digits size) of a model
spec ``model`` (``cnn``, ``cnn:8m``, ``mlp:64,32``, ...; random weights, the values change no
counts) from ``fibench.fi.secure_graph``'s trace: one row per layer kind (``share``, ``dense``,
``conv``, ``relu``, ``maxpool``, ``avgpool``, ``argmax``; local layout changes cost 0 and are
left out) with its online bytes per party, rounds, offline bytes and its share of the total.
"""
from __future__ import annotations

import numpy as np

from fibench.bench.timing import time_call
from fibench.mpc import Session, runs_with

OPS = ("share", "reveal", "mul", "matmul", "lt", "relu", "argmax")  # one op each; plus "layers" (a breakdown)
COMPARISON_OPS = ("lt", "relu", "argmax")
PRODUCT_OPS = ("mul", "matmul")
MATMUL_INNER, MATMUL_OUT, ARGMAX_CLASSES = 64, 32, 10


def _op_fn(s: Session, op: str, n: int, rng, method: str):
    if op == "share":
        x = rng.normal(size=n)
        return lambda: s.share(x, owner=0), n
    if op == "reveal":
        x = s.share(rng.normal(size=n), 0)
        return lambda: s.reveal(x), n
    if op == "mul":
        x, y = s.share(rng.normal(size=n), 0), s.share(rng.normal(size=n), 1)
        return lambda: s.mul(x, y), n
    if op == "matmul":
        x = s.share(rng.normal(size=(n, MATMUL_INNER)), "querier")
        w = s.share(rng.normal(size=(MATMUL_INNER, MATMUL_OUT)) * 0.1, 0)
        return lambda: s.matmul(x, w), n
    if op == "lt":
        x, y = s.share(rng.normal(size=n), 0), s.share(rng.normal(size=n), 1)
        return lambda: s.lt(x, y), n
    if op == "relu":
        x = s.share(rng.normal(size=n), 0)
        return lambda: s.relu(x), n
    if op == "argmax":
        x = s.share(rng.normal(size=(n, ARGMAX_CLASSES)), 0)
        return lambda: s.argmax(x, method=method), n
    raise ValueError(f"op must be one of {OPS}, got {op!r}")


#: trace kinds of fibench.fi.graph layers -> the names of the breakdown
LAYER_KINDS = {"dense": "dense", "conv2d": "conv", "relu": "relu", "maxpool2d": "maxpool", "avgpool2d": "avgpool",
               "share": "share"}
LAYER_ORDER = ("share", "dense", "conv", "relu", "maxpool", "avgpool", "argmax")


def layer_costs(s: Session, X: np.ndarray, graphs: list, argmax_method: str = "tree") -> list[dict]:
    """Per layer kind: the online/offline counts of one M2 ``logit_sum`` inference of
    ``graphs`` on ``X`` (``secure_graph.m2_scores`` trace, then the argmax revealed to the
    querier), in ``LAYER_ORDER``; kinds that cost nothing (flatten, reshape) are left out."""
    from fibench.fi import secure_graph as sg

    trace = []
    mark = s.stats.mark()
    scores, _ = sg.m2_scores(s, X, graphs, "logit_sum", "T2", trace=trace)
    am = s.stats.mark()
    s.argmax_reveal(scores, "querier", method=argmax_method)
    trace.append((len(trace), "argmax", s.stats.since(am)))
    total = s.stats.since(mark).summary()
    agg: dict = {}
    for _, kind, st in trace:
        name = LAYER_KINDS.get(kind, kind)
        summ = st.summary()
        a = agg.setdefault(name, {"layers": 0, "online_bytes_sent_per_party": 0, "online_rounds": 0,
                                  "offline_bytes_per_party": 0, "online_bytes_total": 0})
        a["layers"] += 1
        for k in ("online_bytes_sent_per_party", "online_rounds", "offline_bytes_per_party", "online_bytes_total"):
            a[k] += int(summ.get(k, 0))
    rows = []
    for name in sorted(agg, key=lambda k: LAYER_ORDER.index(k) if k in LAYER_ORDER else len(LAYER_ORDER)):
        a = agg[name]
        if not (a["online_bytes_sent_per_party"] or a["online_rounds"] or a["offline_bytes_per_party"]):
            continue
        rows.append({"layer": name, **a,
                     "bytes_share": a["online_bytes_sent_per_party"] / max(total["online_bytes_sent_per_party"], 1),
                     "rounds_share": a["online_rounds"] / max(total["online_rounds"], 1),
                     "total_online_bytes_per_party": total["online_bytes_sent_per_party"],
                     "total_online_rounds": total["online_rounds"]})
    return rows


def _run_layers(params: dict) -> list[dict]:
    from fibench.fi.models import normalize_model, random_graph

    protocol = params.get("protocol", "a2b")
    P = int(params["parties"])
    sharing = params.get("sharing", "additive")
    if not runs_with(protocol, P, sharing):
        return []
    model = normalize_model(params.get("model", "cnn"))
    n, K, seed = int(params.get("rows", 100)), int(params.get("owners", 2)), int(params.get("seed", 0))
    features, classes = int(params.get("features", 64)), int(params.get("classes", 10))
    rng = np.random.default_rng(seed)
    graphs = [random_graph(model, features, classes, rng) for _ in range(K)]
    X = rng.uniform(0, 16, size=(n, features))  # the digits' pixel range
    method = params.get("argmax_method", "tree")
    layer_costs(Session(n_parties=P, protocol=protocol, sharing=sharing), X[:1], graphs, method)  # warm-up (JIT)
    s = Session(n_parties=P, protocol=protocol, sharing=sharing)
    rows = layer_costs(s, X, graphs, method)
    base = {"op": "layers", "model": model, "protocol": protocol, "parties": P, "owners": K, "n": n,
            "argmax_method": method, "trunc": "-", "seed": seed, "sharing": sharing}
    return [{**base, **r} for r in rows]


def run_point(params: dict) -> list[dict]:
    """One grid point -> one row (or none where the protocol does not apply); ``layers``: one
    row per layer kind."""
    op = params["op"]
    if op == "layers":
        return _run_layers(params)
    protocol = params.get("protocol", "a2b")
    P = int(params["parties"])
    n = int(params.get("rows", 1000) if op in ("matmul", "argmax") else params["n"])
    method = params.get("argmax_method", "pairs")
    trunc = params.get("trunc", "dealer")
    sharing = params.get("sharing", "additive")
    if sharing == "replicated" and (P != 3 or protocol != "a2b" or trunc != "dealer"):
        return []  # replicated: 3 servers, its own bit-decomposition comparison and exact truncation
    if protocol != "a2b" and (op not in COMPARISON_OPS or not runs_with(protocol, P)):
        return []  # e.g. fss: a 2-party comparison protocol
    if trunc == "local" and (P != 2 or op not in PRODUCT_OPS):
        return []  # local truncation: 2 parties, after products only
    seed = int(params.get("seed", 0))
    s = Session(n_parties=P, protocol=protocol, cmp_bits=int(params.get("cmp_bits", 64) or 64), trunc=trunc,
                sharing=sharing)
    rng = np.random.default_rng(seed)
    fn, n = _op_fn(s, op, n, rng, method)
    fn()  # warm-up (JIT compile) before counting
    mark = s.stats.mark()
    fn()
    counts = s.stats.since(mark).summary()
    timing, _ = time_call(fn, int(params.get("reps", 3)), s.dealer)
    row = {"op": op, "protocol": protocol if op in COMPARISON_OPS else "-", "parties": P, "n": n,
           "argmax_method": method if op == "argmax" else "-", "trunc": trunc if op in PRODUCT_OPS else "-",
           "seed": seed, "sharing": sharing}
    row.update(counts)
    row["online_bytes_per_element"] = counts["online_bytes_sent_per_party"] / max(n, 1)
    row["offline_bytes_per_element"] = counts["offline_bytes_per_party"] / max(n, 1)
    row.update(timing)
    return [row]


# -- report table (TABLES of suites/communication.py) ---------------------------------------------

def layer_table(df):
    """Report table of the ``layers`` op: online bytes per party, rounds and offline bytes per
    layer kind, per model / protocol / parties; ``None`` when the run has no such rows."""
    import pandas as pd

    if "layer" not in df.columns:
        return None
    d = df[df["layer"].notna() & (df["layer"].astype(str) != "")].copy()
    if d.empty:
        return None
    for c in ("online_bytes_sent_per_party", "online_rounds", "offline_bytes_per_party", "bytes_share", "n", "layers"):
        d[c] = pd.to_numeric(d[c], errors="coerce")
    keys = [c for c in ("model", "protocol", "parties", "n") if c in d.columns]
    order = {k: i for i, k in enumerate(LAYER_ORDER)}
    d = d.assign(_o=d["layer"].map(lambda k: order.get(k, len(order)))).sort_values(keys + ["_o"], kind="stable")
    out = pd.DataFrame({
        **{k: d[k].to_numpy() for k in keys},
        "layer": d["layer"].to_numpy(),
        "count": d["layers"].astype(int).to_numpy(),
        "online B/party": [f"{int(v):,}" for v in d["online_bytes_sent_per_party"]],
        "B/party/query": [f"{v / max(q, 1):,.0f}" for v, q in zip(d["online_bytes_sent_per_party"], d["n"])],
        "rounds": d["online_rounds"].astype(int).to_numpy(),
        "offline B/party": [f"{int(v):,}" for v in d["offline_bytes_per_party"]],
        "bytes %": [f"{100 * v:.1f}%" for v in d["bytes_share"]],
    })
    return out.rename(columns={"n": "queries"})
