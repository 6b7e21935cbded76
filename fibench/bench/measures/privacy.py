"""Measure of the ``privacy`` suite: the noisy vote's accuracy, privacy budget and secure cost.

Five parts (grid key ``part``):

* ``accuracy`` — one point = (dataset, model, alpha, owners, seed, rule, noise, sigma): the
  owners are trained once per (dataset, model, alpha, owners, seed) (cached in this process),
  then the plaintext simulation of the noisy vote (``FederatedEnsemble.noisy_predict``, the
  same discrete sampler the dealer uses, seeded by the point's seed: reproducible, protects
  nothing) labels the whole test set, one noise draw per query. ``sigma = 0`` is the noiseless
  vote. Row: accuracy, the noiseless accuracy, the drop, the label agreement with the noiseless
  vote, and epsilon at ``delta``: data-independent per query and per 100 queries, and PATE's
  data-dependent epsilon of the first 100 test queries (Gaussian only; it needs the
  histograms, so it exists in the simulation only).
* ``budget`` — pure accounting: how many answered queries fit in ``budget`` (epsilon) at
  ``delta`` for (noise, sigma), data-independent (``fibench.fi.privacy.queries_within``).
* ``confident`` — PATE's confident GNMax (plaintext simulation): a query is answered only when
  its top count plus N_Z(0, ``sigma1``^2) reaches ``threshold_frac`` x the total vote weight;
  the answer is GNMax with ``sigma``. Row: share answered, accuracy on the answered queries,
  data-independent epsilon of 100 asked queries (with the share answered measured here).
* ``incentives`` — how label privacy changes label-free rewards: the owners' probabilities on
  the test set, the vote counts of ``rule`` on the 2^-16 lattice (the secure vote's counts),
  the RELEASED labels = the noisy vote's plaintext reference (``noisy_argmax`` of the counts
  plus ``vote_noise``: the same discrete sampler and argmax as the secure noisy vote, seeded
  here for reproducibility; ``sigma = 0``: the noiseless vote), then the label-free rewards
  that read the released label (agreement, pseudo_shapley, confidence;
  ``fibench.incentives.label_free`` with ``answer=``) against the MERIT reference: Shapley of
  the labelled accuracy game of the same vote, noiseless (exact for K <= 20, Monte-Carlo
  beyond, stderr below a tenth of the mean owner value; the owners' true merit does not depend on the querier's noise, so a change across
  sigma is the noise's effect on the label-free side alone). One row per scheme: spearman,
  kendall, l1 of reward shares, top-k overlap, with the released labels' accuracy and
  agreement with the noiseless vote and the data-independent epsilon per query.
* ``cost`` — the secure noisy vote next to the noiseless one on the same owners and queries
  (``FederatedEnsemble.secure_predict``, mode M1 or M2, T2 with ``servers``): exact online /
  offline bytes and rounds, wall time (local backend; median of ``timing_reps`` calls after a
  warm-up call, which is reported as ``first_call_s``).

Accounting needs the optional ``dp-accounting`` package (``pip install 'fibench[privacy]'``).
"""
from __future__ import annotations

import math
import statistics
import time

import numpy as np

from fibench.fi import ensemble as ens
from fibench.fi import privacy as pv
from fibench.fi.data import load_dataset
from fibench.fi.federated import FederatedEnsemble
from fibench.fi.models import normalize_model, single_thread_blas
from fibench.fi.partition import partition
from fibench.kernels.shapley import MAX_EXACT_PLAYERS

pv._dp()  # the accounting library is required: without it this module does not import (``run all`` skips the suite)

PARTS = ("accuracy", "budget", "confident", "incentives", "cost")
#: label-free schemes that read the released label (peer_ca and equal do not: noise leaves them unchanged)
INCENTIVE_SCHEMES = ("agreement", "pseudo_shapley", "confidence")
#: Monte-Carlo Shapley tolerances beyond exact enumeration: merit reference, pseudo-Shapley
MC_REF_TOL, MC_TOL = 0.002, 0.005
_FITTED: dict = {}
_CACHE_MAX = 8


def _alpha(a):
    if isinstance(a, str) and a.lower() in ("iid", "inf", "infinity"):
        return "iid"
    a = float(a)
    return "iid" if math.isinf(a) else a


def _fitted(p: dict):
    """(dataset, fitted ensemble) for the point's data and owners (cached)."""
    seed = int(p.get("seed", 0))
    name = str(p.get("dataset", "digits"))
    alpha = _alpha(p.get("alpha", "iid"))
    K = int(p.get("owners", 10))
    model = normalize_model(p.get("model", "lr"))
    syn = tuple(p.get(k) for k in ("n_samples", "n_features", "n_classes")) if name == "synthetic" else ()
    min_samples = int(p.get("min_samples", 2))
    balancing = p.get("self_balancing", False)
    key = (name, syn, alpha, K, model, seed, min_samples, balancing)
    if key not in _FITTED:
        if len(_FITTED) >= _CACHE_MAX:
            _FITTED.clear()
        kw = {k: v for k, v in zip(("n_samples", "n_features", "n_classes"), syn) if v is not None}
        ds = load_dataset(name, seed=seed, **kw)
        # alpha "iid" deals the stratified IID split (self_balancing changes nothing there)
        parts = partition(ds.y_train, "dirichlet", K, alpha=alpha, seed=seed, min_samples=min_samples,
                          self_balancing=balancing)
        t0 = time.perf_counter()
        with single_thread_blas():
            fe = FederatedEnsemble.from_partition(ds.X_train, ds.y_train, parts, ds.n_classes,
                                                  validation=(ds.X_val, ds.y_val), model=model, seed=seed,
                                                  max_iter=p.get("max_iter"))
            labels = np.stack([m.predict(ds.X_test) for m in fe.owners_])  # (K, n): each owner's own label
        _FITTED[key] = (ds, fe, labels, time.perf_counter() - t0, {})
    return _FITTED[key]


def _counts(fitted, rule: str) -> np.ndarray:
    """Raw vote counts of ``rule`` on the test set (cached with the fitted owners)."""
    ds, fe, labels, _, cache = fitted
    if rule not in cache:
        r = ens.get_rule(rule)
        cache[rule] = ens.raw_counts_from_labels(labels, ds.n_classes, fe.weights_ if r.weighted else None)
    return cache[rule]


def clear_cache():
    _FITTED.clear()


def _common(p):
    return {"dataset": str(p.get("dataset", "digits")), "model": normalize_model(p.get("model", "lr")),
            "alpha": _alpha(p.get("alpha", "iid")), "owners": int(p.get("owners", 10)), "seed": int(p.get("seed", 0))}


def _noise_seed(seed: int, sigma: float) -> int:
    """Seed of the SIMULATED noise of a point (reproducible; protects nothing)."""
    return seed * 1_000_003 + int(1000 * sigma) % 1_000_003


def _accuracy(p: dict) -> list[dict]:
    fitted = _fitted(p)
    ds, fe, labels, train_s, _ = fitted
    rule = str(p.get("rule", "hard_vote"))
    noise = str(p.get("noise", "gaussian"))
    sigma = float(p.get("sigma", 0.0))
    delta = float(p.get("delta", 1e-5))
    seed = int(p.get("seed", 0))
    r = ens.get_rule(rule)
    counts = _counts(fitted, r.name)
    clean = ens.noisy_argmax(counts, np.zeros_like(counts))
    clean_acc = ens.accuracy(ds.y_test, clean)
    c = fe.vote_scale(rule)
    row = {**_common(p), "part": "accuracy", "rule": r.name, "noise": noise if sigma > 0 else "none",
           "sigma": sigma, "delta": delta, "vote_scale": c, "n_test": len(ds.y_test),
           "noiseless_accuracy": clean_acc, "train_s": train_s,
           "owner_mean_accuracy": float((labels == ds.y_test[None, :]).mean())}
    if sigma > 0:
        z = ens.vote_noise(noise, sigma, counts.shape, seed=_noise_seed(seed, sigma))
        lab = ens.noisy_argmax(counts, z)
        acc = ens.accuracy(ds.y_test, lab)
        row.update({"accuracy": acc, "accuracy_drop": clean_acc - acc, "agreement_noiseless": float(np.mean(lab == clean)),
                    "eps_per_query": pv.epsilon(noise, sigma, 1, delta, c),
                    "eps_100": pv.epsilon(noise, sigma, 100, delta, c),
                    "eps_100_data_dependent": (pv.data_dependent_epsilon(counts[:100] * 2.0 ** -16, sigma, delta, c)
                                               if noise == "gaussian" else float("nan"))})
    else:
        row.update({"accuracy": clean_acc, "accuracy_drop": 0.0, "agreement_noiseless": 1.0,
                    "eps_per_query": math.inf, "eps_100": math.inf, "eps_100_data_dependent": math.inf})
    return [row]


def _confident(p: dict) -> list[dict]:
    fitted = _fitted(p)
    ds, fe, labels, _, _ = fitted
    rule = str(p.get("rule", "hard_vote"))
    sigma1, sigma2 = float(p.get("sigma1", 20.0)), float(p.get("sigma", 40.0))
    frac = float(p.get("threshold_frac", 0.5))
    delta = float(p.get("delta", 1e-5))
    seed = int(p.get("seed", 0))
    r = ens.get_rule(rule)
    w = fe.weights_ if r.weighted else None
    counts = _counts(fitted, r.name)
    total = float((np.ones(len(labels)) if w is None else np.asarray(w)).sum())
    z1 = ens.vote_noise("gaussian", sigma1, (len(counts),), seed=2 * seed)
    z2 = ens.vote_noise("gaussian", sigma2, counts.shape, seed=2 * seed + 1)
    lab = ens.confident_noisy_argmax(counts, round(frac * total * 2 ** 16), z1, z2)
    answered = lab >= 0
    c = fe.vote_scale(rule)
    share = float(answered.mean())
    return [{**_common(p), "part": "confident", "rule": r.name, "noise": "gaussian", "sigma1": sigma1, "sigma": sigma2,
             "threshold_frac": frac, "delta": delta, "answered_share": share,
             "accuracy_answered": float(np.mean(lab[answered] == ds.y_test[answered])) if answered.any() else float("nan"),
             "noiseless_accuracy": ens.accuracy(ds.y_test, ens.noisy_argmax(counts, np.zeros_like(counts))),
             "eps_100_asked": pv.confident_epsilon(sigma1, sigma2, 100, int(round(100 * share)), delta, c),
             "eps_100_gnmax": pv.epsilon("gaussian", sigma2, 100, delta, c)}]


def _merit_game(fitted, rule):
    """(proba (K, n, C), raw weights (K,) int64, merit game, Shapley (K,), method), cached:
    integer scores = each owner's weight on the 2^-16 lattice on its own label (hard vote:
    weight 1), so the scores' sum over owners is the secure vote's counts (n, C)."""
    from fibench import incentives as inc
    from fibench.mpc.encoding import encode

    ds, fe, _, _, cache = fitted
    key = ("merit", rule.name)
    if key not in cache:
        proba = np.asarray(fe.owner_outputs(ds.X_test, "proba"), dtype=np.float64)
        K = proba.shape[0]
        w = encode(fe.weights_ if rule.weighted else np.ones(K), 16).view(np.int64)
        game = inc.CoalitionGame.from_proba(proba, np.asarray(ds.y_test, dtype=np.int64), "weighted", w)
        t0 = time.perf_counter()
        if K <= MAX_EXACT_PLAYERS:
            ref, method = inc.exact_shapley(game), "exact"
        else:
            # stderr <= min(MC_REF_TOL, 0.1 / K) x v(N): below a tenth of the mean owner value at any K
            ref, method = inc.monte_carlo_shapley(game, tol=min(MC_REF_TOL, 0.1 / K), max_perms=200_000,
                                                  seed=1).values, "mc"
        cache[key] = (proba, w, game, ref, method, time.perf_counter() - t0)
    return cache[key]


def _incentives(p: dict) -> list[dict]:
    from fibench import incentives as inc

    fitted = _fitted(p)
    ds = fitted[0]
    r = ens.get_rule(str(p.get("rule", "hard_vote")))
    noise = str(p.get("noise", "gaussian"))
    sigma = float(p.get("sigma", 0.0))
    delta = float(p.get("delta", 1e-5))
    seed = int(p.get("seed", 0))
    proba, w, game, ref, method, ref_s = _merit_game(fitted, r)
    counts = game.scores.sum(axis=0)  # (n, C): the secure vote's counts of the owners' labels
    clean = ens.noisy_argmax(counts, np.zeros_like(counts))
    released = clean if not sigma > 0 else ens.noisy_argmax(
        counts, ens.vote_noise(noise, sigma, counts.shape, seed=_noise_seed(seed, sigma)))
    t0 = time.perf_counter()
    values = inc.label_free_rewards(proba, "weighted", w, schemes=INCENTIVE_SCHEMES, answer=released,
                                    tol=min(MC_TOL, 0.1 / len(w)), seed=seed)  # used beyond 20 owners
    lf_s = time.perf_counter() - t0
    c = float(w.max()) * 2.0 ** -16  # the largest weight one vote carries (fe.vote_scale)
    base = {**_common(p), "part": "incentives", "rule": r.name, "noise": noise if sigma > 0 else "none",
            "sigma": sigma, "delta": delta, "vote_scale": c, "n_test": len(ds.y_test),
            "reference": f"shapley_{method}", "ref_cv": float(np.std(ref) / abs(np.mean(ref))) if np.mean(ref) else float("nan"),
            "released_accuracy": ens.accuracy(ds.y_test, released), "noiseless_accuracy": ens.accuracy(ds.y_test, clean),
            "agreement_noiseless": float(np.mean(released == clean)),
            "eps_per_query": pv.epsilon(noise, sigma, 1, delta, c) if sigma > 0 else math.inf,
            "reference_s": ref_s, "label_free_s": lf_s}  # reference_s: once per fitted ensemble (cached)
    rows = []
    for s in INCENTIVE_SCHEMES:
        al = inc.alignment(values[s], ref)
        rows.append({**base, "scheme": s, "spearman": al["spearman"], "kendall": al["kendall"], "l1": al["l1"],
                     "topk": al["topk"], "shares": ";".join(f"{v:.6f}" for v in inc.reward_shares(values[s]))})
    return rows


def _budget(p: dict) -> list[dict]:
    noise = str(p.get("noise", "gaussian"))
    sigma = float(p["sigma"])
    budget = float(p["budget"])
    delta = float(p.get("delta", 1e-5))
    t0 = time.perf_counter()
    q = pv.queries_within(noise, sigma, budget, delta)
    return [{"part": "budget", "noise": noise, "sigma": sigma, "budget": budget, "delta": delta, "queries": q,
             "eps_at_queries": pv.epsilon(noise, sigma, q, delta) if q else 0.0, "account_s": time.perf_counter() - t0}]


def _cost(p: dict) -> list[dict]:
    ds, fe, _, _, _ = _fitted(p)
    rule = str(p.get("rule", "hard_vote"))
    noise = str(p.get("noise", "gaussian"))
    sigma = float(p.get("sigma", 40.0))
    mode = str(p.get("mode", "M1"))
    protocol = str(p.get("protocol", "a2b"))
    servers = int(p.get("servers", 2))
    n = int(p.get("queries", 16))
    reps = int(p.get("timing_reps", 3))
    X = ds.X_test[:n]
    rows = []
    for noisy in (False, True):
        kw = {"noise": noise, "sigma": sigma} if noisy else {}

        def call():
            return fe.secure_predict(X, mode=mode, topology="T2", protocol=protocol, servers=servers, rule=rule, **kw)

        t0 = time.perf_counter()
        call()  # warm-up: JIT compilation, reported apart
        first = time.perf_counter() - t0
        times = [call()[1] for _ in range(reps)]
        rep = times[-1]
        rows.append({**_common(p), "part": "cost", "rule": rule, "mode": mode, "protocol": protocol,
                     "servers": servers, "queries": n, "noise": noise if noisy else "none",
                     "sigma": sigma if noisy else 0.0,
                     "online_bytes_sent_per_party": rep.online_bytes_sent_per_party,
                     "online_bytes_recv_per_party": rep.online_bytes_recv_per_party,
                     "online_rounds": rep.online_rounds, "offline_bytes_per_party": rep.offline_bytes_per_party,
                     "time_s": statistics.median(r.time_s for r in times),
                     "online_s": statistics.median(r.online_s for r in times),
                     "dealer_s": statistics.median(r.dealer_s for r in times), "first_call_s": first,
                     "agreement_noiseless": rep.agreement})
    base = rows[0]
    for r in rows:
        for k in ("online_bytes_sent_per_party", "online_rounds", "offline_bytes_per_party", "time_s"):
            r[f"{k}_vs_noiseless"] = (r[k] / base[k]) if base[k] else float("nan")
    return rows


def run_point(params: dict) -> list[dict]:
    """Rows for one grid point; see the module docstring."""
    part = params.get("part", "accuracy")
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, got {part!r}")
    return {"accuracy": _accuracy, "budget": _budget, "confident": _confident, "incentives": _incentives,
            "cost": _cost}[part](params)


def cost_table(df):
    """Secure cost of the noisy vote next to the noiseless one (report table)."""
    if "part" not in df.columns:
        return None
    d = df[df["part"] == "cost"]
    if d.empty:
        return None
    cols = [c for c in ("mode", "protocol", "owners", "rule", "queries", "noise", "sigma", "online_bytes_sent_per_party",
                        "online_rounds", "offline_bytes_per_party", "time_s", "online_bytes_sent_per_party_vs_noiseless",
                        "online_rounds_vs_noiseless", "offline_bytes_per_party_vs_noiseless", "time_s_vs_noiseless")
            if c in d.columns]
    return d[cols].reset_index(drop=True)


def budget_table(df):
    """Answered queries within each budget (report table)."""
    if "part" not in df.columns:
        return None
    d = df[df["part"] == "budget"]
    if d.empty:
        return None
    return d.pivot_table(index=["noise", "sigma"], columns="budget", values="queries", aggfunc="first").reset_index()


def confident_table(df):
    """Confident GNMax: share answered, accuracy on them, epsilon of 100 asked (report table)."""
    if "part" not in df.columns:
        return None
    d = df[df["part"] == "confident"]
    if d.empty:
        return None
    cols = ["dataset", "alpha", "owners", "sigma1", "sigma", "threshold_frac", "answered_share", "accuracy_answered",
            "noiseless_accuracy", "eps_100_asked", "eps_100_gnmax"]
    keys = ["dataset", "alpha", "owners", "sigma1", "sigma", "threshold_frac"]
    return d[cols].groupby(keys, dropna=False).median(numeric_only=True).reset_index()


def mpi_noisy_vote_point(params: dict, comm) -> list[dict]:
    """One noisy M1 vote on the ``mpi`` backend, on the rank's communicator ``comm`` (every
    rank calls it, through ``fibench.bench.mpi_worker.run_point_mpi``): ``owners`` x ``queries`` x ``classes`` random
    one-hot votes from ``vote_seed``, GNMax/LNMax of ``sigma``, label to party 0. Returns, on
    rank 0, the label and the exact counts. ``dealer_seed_hex`` (tests only: it fixes the
    dealer's randomness, noise included, so that a local run can reproduce it)."""
    from fibench.fi import secure_inference as si
    from fibench.mpc import Session

    rng = np.random.default_rng(int(params.get("vote_seed", 0)))
    K, n, C = int(params.get("owners", 5)), int(params.get("queries", 8)), int(params.get("classes", 4))
    votes = np.zeros((K, n, C))
    votes[np.arange(K)[:, None], np.arange(n)[None, :], rng.integers(0, C, (K, n))] = 1.0
    seed = bytes.fromhex(params["dealer_seed_hex"]) if params.get("dealer_seed_hex") else None
    s = Session(comm.n_parties, comm=comm, dealer_seed=seed, protocol=str(params.get("protocol", "a2b")))
    lab = si.m1_labels(s, votes, "T2", to=0, noise=str(params.get("noise", "gaussian")), sigma=float(params["sigma"]))
    st = s.stats.summary()
    row = {k: int(st[k]) for k in ("online_bytes_sent_per_party", "online_rounds", "offline_bytes_per_party")}
    row["labels"] = None if lab is None else lab.view(np.int64).tolist()
    return [row] if lab is not None else []


def noiseless_in_every_kind(d):
    """Rows of a privacy run with the noiseless rows (noise ``"none"``, sigma 0) copied into every
    noise kind present, so that each kind's series starts at sigma = 0 (a kind-less run keeps
    its rows under ``"none"``)."""
    import pandas as pd

    kinds = sorted(k for k in d["noise"].dropna().unique() if k != "none") or ["none"]
    return pd.concat([d[d["noise"].isin([k, "none"])].assign(noise=k) for k in kinds], ignore_index=True)


def incentives_table(df):
    """Median Spearman rank correlation of each label-free scheme with Shapley, per alpha and
    sigma (columns), over seeds (report table); the noiseless column (sigma 0) is repeated in
    every noise kind's rows."""
    import pandas as pd

    if "part" not in df.columns:
        return None
    d = df[df["part"] == "incentives"]
    if d.empty:
        return None
    d = noiseless_in_every_kind(d)
    keys = [c for c in ("dataset", "owners", "rule", "noise", "alpha", "scheme") if c in d.columns]
    return d.pivot_table(index=keys, columns="sigma", values="spearman", aggfunc="median").reset_index()
