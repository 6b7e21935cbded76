"""Partitions of a training set among K data owners (non-IID federated splits).

Every scheme returns a list of K sorted ``int64`` index arrays that are disjoint and together
cover ``range(len(y))``; every owner gets at least ``min_samples`` indices; the result depends
only on the inputs and ``seed``.

* ``dirichlet_partition`` (label skew): for each class c, proportions p_c ~ Dir(alpha * 1_K) split
  the class's (shuffled) samples among the owners.  Small alpha (0.05) gives owners few classes;
  large alpha approaches IID; ``alpha="iid"`` (or ``inf``) deals a stratified random split (every
  owner's class counts differ by at most one from the others').  When a draw leaves an owner with
  fewer than ``min_samples`` samples, the draw is repeated (up to ``MAX_TRIES`` times) and the
  best draw is then repaired deterministically: the owner lacking samples takes random samples
  from the currently largest owner.
  ``self_balancing=True`` is Flower Datasets' ``DirichletPartitioner(self_balancing=True)``: the
  classes are dealt in label order, and an owner that already holds more than the average
  n / K samples gets proportion 0 of every further class (the other owners' proportions are
  renormalised to sum to 1); hence every owner ends with at most n / K samples plus its share
  of the last class it received.  With ``alpha="iid"`` it changes nothing (sizes differ by at
  most one already).
* ``shard_partition`` (pathological label skew, McMahan et al. 2017): the samples sorted by label
  are cut into K * s shards of equal size and each owner gets s = ``shards_per_owner`` random
  shards, hence at most s classes plus boundary classes when shards straddle two classes (on
  the digits, s = 2 at K = 5 gives 3.3 distinct classes per owner, mean of seeds 0-19).  The parameter
  counts shards, not classes: its old name ``classes_per_owner`` is an error naming the new one.
* ``pathological_partition`` (the exact class count of Flower Datasets'
  ``PathologicalPartitioner(num_classes_per_partition=c)``, with a deterministic assignment in
  consecutive blocks): owner k holds exactly c classes, the (k c)-th to (k c + c - 1)-th of the
  present labels, cyclically; each class's samples are shuffled and split evenly among the
  owners that hold it. Every class must be held (n_owners * c >= number of classes; Flower
  drops unheld classes), have a sample for each of its holders, and every owner must get
  ``min_samples``: otherwise a ValueError (no repair: it would break the exact class count).
* ``quantity_skew_partition``: owner sizes ~ Dir(beta * 1_K) (at least ``min_samples`` each), the
  samples themselves drawn at random (IID labels).

Up to ``MAX_OWNERS`` = 256 owners (PATE / CaPC ensembles of 250 teachers). ``partition`` also
takes Flower Datasets' names for two of its parameters: ``num_partitions`` (= ``n_owners``) and
``min_partition_size`` (= ``min_samples``), and ``self_balancing`` of Flower's DirichletPartitioner.
"""
from __future__ import annotations

import math

import numpy as np

from fibench.validation import check_int as _check_int
from fibench.validation import check_labels_array

MIN_OWNERS, MAX_OWNERS = 1, 256
SCHEMES = ("dirichlet", "iid", "shards", "quantity", "pathological")
#: default minimum number of training samples per owner
MIN_SAMPLES = 5
#: Dirichlet draws tried before repairing the best one
MAX_TRIES = 20
#: marks a parameter that was not given (``classes_per_owner``: the shards' old name)
_UNSET = object()


# -- validation -------------------------------------------------------------------------------

def _check_y(y) -> np.ndarray:
    if np.ndim(y) != 1 or np.size(y) == 0:
        raise ValueError(f"y must be a non-empty 1-D array of labels, got shape {np.shape(y)}")
    return check_labels_array(y, "y")


def _check_common(y, n_owners, seed, min_samples):
    y = _check_y(y)
    K = _check_int("n_owners", n_owners, MIN_OWNERS, MAX_OWNERS)
    seed = _check_int("seed", seed, 0, 2**63 - 1)
    m = _check_int("min_samples", min_samples, 1)
    if K * m > len(y):
        raise ValueError(f"min_samples * n_owners must be <= number of samples ({len(y)}); "
                         f"got min_samples={m}, n_owners={K}")
    return y, K, seed, m


def _check_positive(name, value, allow_iid=False):
    if allow_iid and isinstance(value, str) and value.lower() in ("iid", "inf", "infinity"):
        return math.inf
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        extra = ', "iid"' if allow_iid else ""
        raise ValueError(f"{name} must be a float > 0{extra} or inf, got {value!r}")
    value = float(value)
    if not (value > 0) or math.isnan(value):
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def _to_parts(owner: np.ndarray, K: int) -> list[np.ndarray]:
    order = np.argsort(owner, kind="stable")
    bounds = np.cumsum(np.bincount(owner, minlength=K))[:-1]
    return [p.astype(np.int64) for p in np.split(order, bounds)]  # each already sorted


# -- schemes ------------------------------------------------------------------------------------

def iid_partition(y, n_owners: int, seed: int = 0, min_samples: int = MIN_SAMPLES) -> list[np.ndarray]:
    """Stratified random split: sizes differ by at most 1, per-class counts by at most 1."""
    y, K, seed, m = _check_common(y, n_owners, seed, min_samples)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(y))
    perm = perm[np.argsort(y[perm], kind="stable")]  # grouped by class, random within a class
    owner = np.empty(len(y), dtype=np.int64)
    owner[perm] = (np.arange(len(y)) + rng.integers(K)) % K
    return _to_parts(owner, K)


def _repair(owner, K, m, rng):
    counts = np.bincount(owner, minlength=K)
    for k in range(K):  # deterministic order
        while counts[k] < m:
            donor = int(np.argmax(counts))  # largest owner; ties -> lowest index
            take = min(m - counts[k], counts[donor] - m)
            cand = np.flatnonzero(owner == donor)
            moved = rng.choice(cand, size=take, replace=False)
            owner[moved] = k
            counts[donor] -= take
            counts[k] += take
    return owner


def _check_bool(name, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _balance(p: np.ndarray, counts: np.ndarray, n: int, rng) -> np.ndarray:
    """Flower's self-balancing of one class's proportions: owners holding more than n / K
    samples get 0, the rest are renormalised (all remaining proportions 0 by underflow: the
    class goes to one random eligible owner)."""
    K = len(counts)
    eligible = counts * K <= n  # counts <= n / K, exactly in integers
    p = np.where(eligible, p, 0.0)
    total = p.sum()
    if total > 0:
        return p / total
    p = np.zeros(K)
    p[rng.choice(np.flatnonzero(eligible))] = 1.0  # some owner holds <= n / K: fewer than n are dealt
    return p


def dirichlet_partition(y, n_owners: int, alpha=0.5, seed: int = 0,
                        min_samples: int = MIN_SAMPLES, self_balancing: bool = False) -> list[np.ndarray]:
    """Label skew by per-class Dirichlet(alpha) proportions (``alpha="iid"``/inf: IID split);
    ``self_balancing``: Flower's rule, owners above n / K samples take no further class."""
    y, K, seed, m = _check_common(y, n_owners, seed, min_samples)
    alpha = _check_positive("alpha", alpha, allow_iid=True)
    self_balancing = _check_bool("self_balancing", self_balancing)
    if math.isinf(alpha):
        return iid_partition(y, K, seed, m)
    if K == 1:
        return [np.arange(len(y), dtype=np.int64)]
    rng = np.random.default_rng(seed)
    C = int(y.max()) + 1
    by_class = [np.flatnonzero(y == c) for c in range(C)]
    best, best_min = None, -1
    for _ in range(MAX_TRIES):
        owner = np.empty(len(y), dtype=np.int64)
        counts = np.zeros(K, dtype=np.int64)
        for idx in by_class:
            if len(idx) == 0:
                continue
            idx = rng.permutation(idx)
            p = rng.dirichlet(np.full(K, alpha))
            if not np.all(np.isfinite(p)) or p.sum() <= 0:  # numerical underflow: one random owner
                p = np.zeros(K)
                p[rng.integers(K)] = 1.0
            if self_balancing:
                p = _balance(p, counts, len(y), rng)
            cuts = np.floor(np.cumsum(p)[:-1] * len(idx) + 0.5).astype(np.int64)
            cuts = np.clip(cuts, 0, len(idx))
            for k, part in enumerate(np.split(idx, cuts)):
                owner[part] = k
                counts[k] += len(part)
        mn = int(np.bincount(owner, minlength=K).min())
        if mn > best_min:
            best, best_min = owner, mn
        if mn >= m:
            break
    owner = _repair(best, K, m, rng)
    return _to_parts(owner, K)


def _renamed(classes_per_owner) -> None:
    if classes_per_owner is not _UNSET:
        raise ValueError("classes_per_owner was renamed shards_per_owner (it counts shards, not classes: "
                         "an owner's shards can straddle class boundaries); pass shards_per_owner")


def shard_partition(y, n_owners: int, shards_per_owner: int = 2, seed: int = 0,
                    min_samples: int = MIN_SAMPLES, *, classes_per_owner=_UNSET) -> list[np.ndarray]:
    """Label-sorted shards: K * s equal shards, s = ``shards_per_owner`` random shards per owner
    (at most s classes plus the classes of shards that straddle a class boundary)."""
    _renamed(classes_per_owner)
    y, K, seed, m = _check_common(y, n_owners, seed, min_samples)
    n = len(y)
    s = _check_int("shards_per_owner", shards_per_owner, 1, n // K)
    rng = np.random.default_rng(seed)
    S = K * s
    perm = rng.permutation(n)
    order = perm[np.argsort(y[perm], kind="stable")]
    shards = np.array_split(order, S)  # sizes differ by at most 1: each owner gets ~n/K >= m
    shard_owner = rng.permutation(np.repeat(np.arange(K), s))
    owner = np.empty(n, dtype=np.int64)
    for i, idx in enumerate(shards):
        owner[idx] = shard_owner[i]
    owner = _repair(owner, K, m, rng)  # only for n/K barely above m (array_split sizes)
    return _to_parts(owner, K)


def pathological_partition(y, n_owners: int, num_classes_per_partition: int = 2, seed: int = 0,
                           min_samples: int = MIN_SAMPLES) -> list[np.ndarray]:
    """Exactly ``num_classes_per_partition`` = c classes per owner (owner k: the (k c)-th to
    (k c + c - 1)-th present classes, cyclically), each class split evenly among its holders."""
    y, K, seed, m = _check_common(y, n_owners, seed, min_samples)
    present = np.unique(y)
    C = len(present)
    c = _check_int("num_classes_per_partition", num_classes_per_partition, 1, C)
    if K * c < C:
        raise ValueError(f"num_classes_per_partition={c} with n_owners={K} leaves classes without an owner: "
                         f"need n_owners * num_classes_per_partition >= {C} (the number of classes)")
    holders = [[k for k in range(K) if j in {(k * c + i) % C for i in range(c)}] for j in range(C)]
    rng = np.random.default_rng(seed)
    owner = np.empty(len(y), dtype=np.int64)
    for j, label in enumerate(present):
        idx = rng.permutation(np.flatnonzero(y == label))
        if len(idx) < len(holders[j]):
            raise ValueError(f"num_classes_per_partition={c} with n_owners={K}: class {int(label)} has "
                             f"{len(idx)} samples for {len(holders[j])} owners holding it; lower one of them")
        for k, part in zip(holders[j], np.array_split(idx, len(holders[j]))):
            owner[part] = k
    sizes = np.bincount(owner, minlength=K)
    if sizes.min() < m:
        raise ValueError(f"num_classes_per_partition={c} with n_owners={K} gives owner {int(sizes.argmin())} "
                         f"{int(sizes.min())} samples, fewer than min_samples={m}: raise num_classes_per_partition "
                         "or lower n_owners / min_samples")
    return _to_parts(owner, K)


def quantity_skew_partition(y, n_owners: int, beta=0.5, seed: int = 0,
                            min_samples: int = MIN_SAMPLES) -> list[np.ndarray]:
    """Quantity skew: sizes ~ min_samples + Dir(beta) share of the rest; labels IID."""
    y, K, seed, m = _check_common(y, n_owners, seed, min_samples)
    beta = _check_positive("beta", beta, allow_iid=True)
    n = len(y)
    rng = np.random.default_rng(seed)
    if math.isinf(beta):
        q = np.full(K, 1.0 / K)
    else:
        q = rng.dirichlet(np.full(K, beta))
        if not np.all(np.isfinite(q)) or q.sum() <= 0:
            q = np.zeros(K)
            q[rng.integers(K)] = 1.0
    rest = n - K * m
    raw = q * rest
    sizes = np.floor(raw).astype(np.int64)
    left = rest - int(sizes.sum())
    if left:  # largest remainder, ties to the lowest owner
        order = np.lexsort((np.arange(K), -(raw - sizes)))
        sizes[order[:left]] += 1
    sizes += m
    perm = rng.permutation(n)
    owner = np.empty(n, dtype=np.int64)
    owner[perm] = np.repeat(np.arange(K), sizes)
    return _to_parts(owner, K)


def _alias(name, value, alias_name, alias_value, default):
    """One parameter given under its name or its Flower alias (both: they must agree)."""
    if alias_value is None:
        return value
    if value != default and value != alias_value:
        raise ValueError(f"{name}={value!r} and its alias {alias_name}={alias_value!r} disagree: give one of them")
    return alias_value


def partition(y, scheme: str = "dirichlet", n_owners: int = 5, *, alpha=0.5, shards_per_owner: int = 2,
              beta=0.5, seed: int = 0, min_samples: int = MIN_SAMPLES, self_balancing: bool = False,
              num_partitions: int | None = None, min_partition_size: int | None = None,
              num_classes_per_partition: int = 2, classes_per_owner=_UNSET) -> list[np.ndarray]:
    """Dispatch to a scheme: ``dirichlet`` (alpha, self_balancing), ``iid``, ``shards``
    (shards_per_owner), ``quantity`` (beta), ``pathological`` (num_classes_per_partition: exact
    classes per owner, as Flower's PathologicalPartitioner). ``num_partitions`` / ``min_partition_size``: Flower
    Datasets' names of ``n_owners`` / ``min_samples``. ``classes_per_owner`` (the old name of
    ``shards_per_owner``) is an error naming the new one."""
    _renamed(classes_per_owner)
    n_owners = _alias("n_owners", n_owners, "num_partitions", num_partitions, 5)
    min_samples = _alias("min_samples", min_samples, "min_partition_size", min_partition_size, MIN_SAMPLES)
    if _check_bool("self_balancing", self_balancing) and scheme != "dirichlet":
        raise ValueError(f"self_balancing applies to the dirichlet scheme only, got scheme={scheme!r}")
    if scheme == "dirichlet":
        return dirichlet_partition(y, n_owners, alpha, seed, min_samples, self_balancing)
    if scheme == "iid":
        return iid_partition(y, n_owners, seed, min_samples)
    if scheme == "shards":
        return shard_partition(y, n_owners, shards_per_owner, seed, min_samples)
    if scheme == "quantity":
        return quantity_skew_partition(y, n_owners, beta, seed, min_samples)
    if scheme == "pathological":
        return pathological_partition(y, n_owners, num_classes_per_partition, seed, min_samples)
    raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}, got {scheme!r}")


# -- summaries --------------------------------------------------------------------------------

def partition_summary(y, parts, n_classes: int | None = None):
    """Owner x class sample counts as a pandas DataFrame (index ``owner``, columns ``0..C-1``)."""
    import pandas as pd

    y = _check_y(y)
    C = int(y.max()) + 1 if n_classes is None else _check_int("n_classes", n_classes, 1)
    if y.max() >= C:
        raise ValueError(f"n_classes must exceed the largest label ({int(y.max())}), got {C}")
    rows = [np.bincount(y[np.asarray(p, dtype=np.int64)], minlength=C) for p in parts]
    df = pd.DataFrame(np.array(rows, dtype=np.int64).reshape(len(rows), C), columns=list(range(C)))
    df.index.name = "owner"
    df.columns.name = "class"
    return df


def heterogeneity(summary) -> dict:
    """Simple skew statistics of a summary: mean number of classes per owner, mean total-variation
    distance of an owner's label distribution to the global one, size spread (max/min)."""
    counts = np.asarray(summary, dtype=np.float64)
    sizes = counts.sum(axis=1)
    glob = counts.sum(axis=0) / counts.sum()
    dist = counts / np.maximum(sizes[:, None], 1)
    return {
        "classes_per_owner": float((counts > 0).sum(axis=1).mean()),
        "tv_to_global": float(0.5 * np.abs(dist - glob).sum(axis=1).mean()),
        "size_ratio": float(sizes.max() / max(sizes.min(), 1)),
    }


def plot_partition(summary, path, title: str | None = None):
    """Stacked bars (one per owner) of class counts; written to ``path`` (png/pdf/svg)."""
    from matplotlib.figure import Figure  # no pyplot: no global backend state (Agg canvas)

    counts = np.asarray(summary, dtype=np.float64)
    K, C = counts.shape
    fig = Figure(figsize=(max(4.0, min(16.0, 0.3 * K + 2)), 3.5))
    ax = fig.add_subplot(1, 1, 1)
    cmap = __import__("matplotlib").colormaps["tab20" if C > 10 else "tab10"]
    bottom = np.zeros(K)
    x = np.arange(K)
    for c in range(C):
        ax.bar(x, counts[:, c], bottom=bottom, color=cmap(c % cmap.N), width=0.85, label=str(c))
        bottom += counts[:, c]
    ax.set_xlabel("owner")
    ax.set_ylabel("training samples")
    if K <= 32:
        ax.set_xticks(x)
    if title:
        ax.set_title(title)
    if C <= 20:
        ax.legend(title="class", fontsize=6, title_fontsize=7, ncol=1 if C <= 10 else 2,
                  bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def owners_fit(dataset, owners: int, min_samples: int = MIN_SAMPLES, n_samples=None,
               min_samples_settable: bool = True) -> str | None:
    """None when ``owners`` x ``min_samples`` training samples fit in ``dataset``'s training
    split (``fibench.fi.data.train_size``; an unknown size, e.g. a file, passes), else a one-line
    error naming the limit and the ways out (fewer owners, a smaller ``min_samples``, or
    ``synthetic`` data of enough ``n_samples``; the ``min_samples`` way only when
    ``min_samples_settable``). For suites' ``CHECK``, before anything is written."""
    from fibench.fi.data import train_size

    n_tr = train_size(str(dataset), n_samples)
    K, m = int(owners), int(min_samples)
    if n_tr is None or K * m <= n_tr:
        return None
    need = K * m
    n = max(10, int(need / 0.6))
    while train_size("synthetic", n) < need:
        n += 1
    fewer = f", min_samples <= {max(1, n_tr // K)}," if min_samples_settable else ""
    return (f"owners={K} with min_samples={m} need {need} training samples but dataset {dataset} has {n_tr}: "
            f"use owners <= {n_tr // m}{fewer} or dataset=synthetic with n_samples >= {n}")
