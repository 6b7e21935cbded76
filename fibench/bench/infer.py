"""``fibench infer``: train K owners on a non-IID split, answer test queries securely, and say
what it costs — counts, local time, and the estimated end-to-end time under every network
profile ("is it feasible on my network?" answered on the spot).

:func:`plan_infer` checks the settings and lists, as notes, every setting that will not be
used as given (``queries`` beyond the test set, a batch larger than the queries, ``servers``
with topology T1) — nothing is changed silently. :func:`run_infer` does the work; the CLI
only prints.

Estimates: the run's rounds (every message, with its links) priced by
:func:`fibench.bench.network.estimate` under each profile, the compute being the measured
online time of the local backend (all parties in one process: an upper bound of one party's
compute), the owners' input sharing merged into one round as in the latency suite.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class InferPlan:
    """Validated settings of one ``fibench infer`` call and the notes about remapped ones."""

    mode: str
    topology: str
    owners: int
    alpha: object
    model: str
    rule: str
    protocol: str
    servers: int
    dataset: str
    queries: int | None       # None: the whole test set (no note)
    batch_size: int | None    # None: DEFAULT_BATCH, or all the queries when they are fewer (no note)
    seed: int
    label_column: object = None
    standardize: bool = False
    notes: list = field(default_factory=list)
    trainer: str = "sklearn"
    sharing: str = "additive"


@dataclass
class InferResult:
    plan: InferPlan
    accuracy: float
    report: object                       # fibench.fi.secure_inference.CostReport (merged batches)
    estimates: list                      # one dict per network profile: profile, compute_s, latency_s, ...
    notes: list


#: queries per secure batch when ``batch_size`` is not given
DEFAULT_BATCH = 120


def _opt_int(v):
    return None if v is None else int(v)


def parse_alpha(alpha) -> object:
    """``"iid"``/``"inf"`` -> ``"iid"``; else a float > 0; ``ValueError`` naming ``--alpha``."""
    text = str(alpha).strip().lower()
    if text in ("iid", "inf"):
        return "iid"
    try:
        a = float(text)
    except ValueError:
        raise ValueError(f"--alpha must be a number > 0 or 'iid', got {alpha!r}") from None
    if not a > 0 or not np.isfinite(a):
        raise ValueError(f"--alpha must be a number > 0 or 'iid', got {alpha!r}")
    return a


def plan_infer(*, mode="M1", topology="T1", owners=5, alpha="0.5", model="lr", rule="soft_vote", protocol="a2b",
               servers=None, dataset="digits", queries=None, batch_size=None, seed=0, label_column=None,
               standardize=False, n_test: int | None = None, trainer: str = "sklearn",
               sharing: str = "additive") -> InferPlan:
    """Check the settings (``ValueError`` naming the option) and note what will be remapped;
    ``n_test``: the test set's size when known (else checked in :func:`run_infer`);
    ``queries=None``: the whole test set, ``batch_size=None``: ``DEFAULT_BATCH`` (or all the
    queries when they are fewer) -- defaults are not notes, only settings given beyond the data."""
    from fibench.fi import secure_inference as si

    notes = []
    if topology == "T1" and servers is not None:
        notes.append(f"--servers {servers} is not used with topology T1: the {owners} owners are the compute parties")
    servers_used = 2 if servers is None else int(servers)
    si.check_setting(mode, topology, owners, servers_used, protocol, sharing)
    if mode == "M2":
        si.check_m2_rule(rule)
    plan = InferPlan(mode, topology, int(owners), parse_alpha(alpha), model, rule, protocol, servers_used, dataset,
                     _opt_int(queries), _opt_int(batch_size), int(seed), label_column, bool(standardize), notes, trainer,
                     sharing)
    from fibench.fi.models import LocalModel

    LocalModel(model, 2, standardize=False, trainer=trainer)  # the trainer fits the model (ValueError)
    if n_test is not None:
        _note_sizes(plan, n_test)
    return plan


def _note_sizes(plan: InferPlan, n_test: int) -> None:
    if plan.queries is None:
        plan.queries = n_test
    elif plan.queries > n_test:
        plan.notes.append(f"--queries {plan.queries} exceeds the test set: answering all {n_test} test queries")
        plan.queries = n_test
    if plan.batch_size is None:
        plan.batch_size = min(DEFAULT_BATCH, plan.queries)
    elif plan.batch_size > plan.queries:
        plan.notes.append(f"--batch-size {plan.batch_size} exceeds the {plan.queries} queries: one batch of "
                          f"{plan.queries}")
        plan.batch_size = plan.queries


def network_estimates(report, profiles=None) -> list[dict]:
    """Estimated online time of the run under each network profile (default: every built-in
    one): ``{"profile", "compute_s", "latency_s", "transfer_s", "est_time_s", "per_query_s"}``."""
    from fibench.bench import network
    from fibench.bench.measures.latency import _merge_share_rounds

    rounds = _merge_share_rounds(report.rounds)
    out = []
    for name in (profiles or list(network.PROFILES)):
        est = network.estimate(rounds, name, report.online_s)
        out.append({"profile": name, **est, "per_query_s": est["est_time_s"] / max(report.queries, 1)})
    return out


def run_infer(plan: InferPlan, progress: bool = False) -> InferResult:
    """Load the data, partition it among the owners (Dirichlet ``alpha``), train them, answer the
    queries securely in batches; ``progress``: bars for training and the batches (stderr)."""
    from fibench.fi.data import load_dataset
    from fibench.fi.federated import FederatedEnsemble
    from fibench.fi.partition import partition

    d = load_dataset(plan.dataset, seed=plan.seed, label_column=plan.label_column, standardize=plan.standardize)
    _note_sizes(plan, len(d.y_test))
    parts = partition(d.y_train, scheme="dirichlet", n_owners=plan.owners, alpha=plan.alpha, seed=plan.seed)
    fe = FederatedEnsemble(model=plan.model, rule=plan.rule, seed=plan.seed, trainer=plan.trainer).fit(
        [(d.X_train[p], d.y_train[p]) for p in parts], n_classes=d.n_classes, validation=(d.X_val, d.y_val),
        progress=progress)
    X, y = d.X_test[:plan.queries], d.y_test[:plan.queries]
    labels, rep = fe.secure_predict(X, mode=plan.mode, topology=plan.topology, protocol=plan.protocol,
                                    servers=plan.servers, batch_size=plan.batch_size, progress=progress,
                                    sharing=plan.sharing)
    return InferResult(plan, float(np.mean(labels == y)), rep, network_estimates(rep), plan.notes)
