"""Measure of the ``accuracy`` suite: plaintext ensemble accuracy of K owners under non-IID data.

One grid point = (dataset, model, partition, alpha, owners, seed [, hidden, shards_per_owner,
num_classes_per_partition,
self_balancing, beta, min_samples, n_samples, n_features, n_classes, max_iter]); ``self_balancing``
is Flower's rule for the dirichlet partition (see ``fibench.fi.partition``), ``shards_per_owner``
the number of label-sorted shards per owner of the shards partition (its old name
``classes_per_owner`` is an error). ``model`` is a spec of
``fibench.fi.models`` (``lr``, ``mlp`` with ``hidden`` units, ``mlp:64,32``, ``cnn``, ``cnn:8,16m``;
a CNN reads square images, e.g. the 8x8 digits: random conv filters and a logistic-regression
readout trained per owner, see ``fibench.fi.models``).  The training set is split
among the owners, each owner trains alone, and every aggregation rule is evaluated on the
test set (one row per rule) next to the baselines: best and mean single owner, and the
centralized model trained on the union (cached per dataset/model/seed in this process).
``weighted_vote`` weighs owners by their accuracy on the validation split.

Everything is deterministic for a seed (BLAS is limited to one thread during the point).
"""
from __future__ import annotations

import math
import time


from fibench.fi import ensemble as ens
from fibench.fi.data import load_dataset
from fibench.fi.federated import FederatedEnsemble
from fibench.fi.models import normalize_model, single_thread_blas
from fibench.fi.partition import heterogeneity, partition, partition_summary

_DATASETS: dict = {}
_CENTRAL: dict = {}
_CACHE_MAX = 64


def _norm_alpha(alpha):
    if isinstance(alpha, str):
        if alpha.lower() in ("iid", "inf", "infinity"):
            return "iid"
        try:
            alpha = float(alpha)
        except ValueError:
            raise ValueError(f"alpha must be a float > 0 or 'iid', got {alpha!r}") from None
    if isinstance(alpha, (int, float)) and not isinstance(alpha, bool):
        if math.isinf(alpha) and alpha > 0:
            return "iid"
        return float(alpha)
    raise ValueError(f"alpha must be a float > 0 or 'iid', got {alpha!r}")


def _dataset(params, seed):
    key = (str(params.get("dataset", "digits")), params.get("n_samples"), params.get("n_features"),
           params.get("n_classes"), params.get("label_column"), bool(params.get("standardize", False)), seed)
    if key not in _DATASETS:
        if len(_DATASETS) >= _CACHE_MAX:
            _DATASETS.clear()
        name = key[0]
        kw = {}
        if name == "synthetic":
            kw = {k: params[k] for k in ("n_samples", "n_features", "n_classes") if params.get(k) is not None}
        elif params.get("label_column") is not None:
            kw["label_column"] = params["label_column"]
        _DATASETS[key] = load_dataset(name, seed=seed, standardize=bool(params.get("standardize", False)), **kw)
    return _DATASETS[key], key


def _centralized(ds, dkey, model, hidden, max_iter, seed):
    key = (dkey, model, hidden, max_iter, seed)
    if key not in _CENTRAL:
        if len(_CENTRAL) >= _CACHE_MAX:
            _CENTRAL.clear()
        m = ens.train_centralized(ds.X_train, ds.y_train, ds.n_classes, model, hidden=hidden, seed=seed,
                                  max_iter=max_iter)
        _CENTRAL[key] = ens.accuracy(ds.y_test, m.predict(ds.X_test))
    return _CENTRAL[key]


def clear_cache():
    _DATASETS.clear()
    _CENTRAL.clear()


def run_point(params: dict) -> list[dict]:
    """Rows (one per aggregation rule) for one grid point; see the module docstring."""
    seed = int(params.get("seed", 0))
    model = normalize_model(params.get("model", "lr"))  # "lr", "mlp" (``hidden``), "mlp:64,32", "cnn", ...
    scheme = params.get("partition", "dirichlet")
    alpha = _norm_alpha(params.get("alpha", 0.5))
    K = params.get("owners", 5)
    hidden = int(params.get("hidden", 32))
    max_iter = params.get("max_iter")
    rules = params.get("rules") or list(ens.RULES)
    if isinstance(rules, str):
        rules = [r.strip() for r in rules.split(",")]
    with single_thread_blas():
        ds, dkey = _dataset(params, seed)
        t0 = time.perf_counter()
        old = {"classes_per_owner": params["classes_per_owner"]} if "classes_per_owner" in params else {}
        parts = partition(ds.y_train, scheme, K, alpha=alpha, seed=seed,
                          shards_per_owner=params.get("shards_per_owner", 2),
                          num_classes_per_partition=params.get("num_classes_per_partition", 2),
                          self_balancing=params.get("self_balancing", False),
                          beta=params.get("beta", 0.5), min_samples=params.get("min_samples", 5), **old)
        fe = FederatedEnsemble.from_partition(ds.X_train, ds.y_train, parts, ds.n_classes,
                                              validation=(ds.X_val, ds.y_val), model=model,
                                              hidden=hidden, seed=seed, max_iter=max_iter)
        train_s = time.perf_counter() - t0
        outs = {kind: fe.owner_outputs(ds.X_test, kind) for kind in ("proba", "logits", "votes")}
        base = ens.baselines(outs["logits"], ds.y_test)
        central = _centralized(ds, dkey, model, hidden, max_iter, seed)
        het = heterogeneity(partition_summary(ds.y_train, parts, ds.n_classes))
        rows = []
        for name in rules:
            r = ens.get_rule(name)
            pred = r.predict(outs[r.input], fe.weights_ if r.weighted else None)
            m = ens.evaluate(ds.y_test, pred, ds.n_classes, base["best_owner_accuracy"], base["mean_owner_accuracy"])
            rows.append({
                "dataset": ds.name, "model": model, "hidden": hidden if model == "mlp" else 0,
                "partition": scheme, "alpha": alpha, "owners": K, "rule": r.name,
                "accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
                "gain_over_best": m["gain_over_best"], "gain_over_mean": m["gain_over_mean"],
                "best_owner_accuracy": base["best_owner_accuracy"],
                "mean_owner_accuracy": base["mean_owner_accuracy"],
                "min_owner_accuracy": float(base["owner_accuracy"].min()),
                "centralized_accuracy": central,
                "gap_to_centralized": central - m["accuracy"],
                "classes_per_owner": het["classes_per_owner"], "tv_to_global": het["tv_to_global"],
                "n_train": len(ds.y_train), "n_test": len(ds.y_test), "train_s": train_s,
                "seed": seed,
            })
    return rows
