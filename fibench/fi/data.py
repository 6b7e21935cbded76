"""Datasets for the federated-inference pipeline.

``load_dataset(name)`` returns a :class:`Dataset` with a fixed, stratified train/validation/test
split (60/20/20 by default) that depends only on ``seed``:

* ``"digits"``: scikit-learn's embedded ``load_digits`` (1797 images 8x8, 10 classes; no
  network), features divided by 16 so that they lie in [0, 1];
* ``"iris"`` (150 x 4, 3 classes), ``"wine"`` (178 x 13, 3 classes), ``"breast_cancer"``
  (569 x 30, 2 classes): the other datasets scikit-learn ships inside its package (no network),
  features as they come (their scales differ by decades: ``standardize=True`` is advised);
* ``"synthetic"``: ``make_classification`` with any ``n_samples``, ``n_features``, ``n_classes``;
* a path to a user's ``.npz`` (arrays ``X`` and ``y``) or ``.csv`` (numeric features; the label
  column is ``label_column``, a name or an integer position, default the last column).

``standardize=True`` scales every feature to mean 0 and standard deviation 1 with the statistics
of the training split only (applied to all three splits, so no test information leaks; a
constant feature is centred and left unscaled).

Labels are always re-encoded to ``0..C-1`` (``Dataset.classes`` keeps the original values).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fibench.validation import check_int as _check_int

#: scikit-learn's embedded datasets (in its package: no network), by name -> loader function name
EMBEDDED = {"digits": "load_digits", "iris": "load_iris", "wine": "load_wine", "breast_cancer": "load_breast_cancer"}
BUILTIN = (*EMBEDDED, "synthetic")
#: default split fractions (train, val, test)
SPLIT = (0.6, 0.2, 0.2)
MAX_CLASSES = 1000


@dataclass
class Dataset:
    """A dataset split into train / validation / test (labels encoded as 0..n_classes-1)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    name: str
    classes: np.ndarray = field(default=None, repr=False)

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    def __repr__(self) -> str:  # no data in the repr
        return (f"Dataset(name={self.name!r}, n_classes={self.n_classes}, n_features={self.n_features}, "
                f"train={len(self.y_train)}, val={len(self.y_val)}, test={len(self.y_test)})")




def _check_seed(seed):
    return _check_int("seed", seed, 0, 2**32 - 1)


def _check_split(split):
    try:
        split = tuple(float(s) for s in split)
    except (TypeError, ValueError):
        raise ValueError("split must be three fractions (train, val, test)") from None
    if len(split) != 3 or any(not (s > 0) for s in split) or not math.isclose(sum(split), 1.0, abs_tol=1e-9):
        raise ValueError(f"split must be three positive fractions summing to 1, got {split}")
    return split


#: number of samples of the embedded datasets (tests check them against the loaders)
EMBEDDED_SIZES = {"digits": 1797, "iris": 150, "wine": 178, "breast_cancer": 569}
#: ``synthetic``'s default number of samples
SYNTHETIC_SAMPLES = 2000


def train_size(name, n_samples=None, split=SPLIT):
    """Number of training samples ``load_dataset(name, n_samples=...)`` yields with ``split``
    (the same rounding as its split), without loading anything; None for a file path (unknown
    until read). Lets a suite refuse a partition that cannot give every owner its minimum
    before a run writes anything."""
    if name == "synthetic":
        n = SYNTHETIC_SAMPLES if n_samples is None else int(n_samples)
    elif name in EMBEDDED_SIZES:
        n = EMBEDDED_SIZES[name]
    else:
        return None
    _, f_va, f_te = _check_split(split)
    return n - max(1, round(f_te * n)) - max(1, round(f_va * n))  # as _split rounds


def _load_embedded(name: str):
    import sklearn.datasets

    d = getattr(sklearn.datasets, EMBEDDED[name])()
    X = d.data.astype(np.float64)
    if name == "digits":
        X = X / 16.0  # pixel intensities 0..16 -> [0, 1]
    return X, d.target.astype(np.int64)


def standardize_splits(X_train, *others):
    """``(X_train, *others)`` scaled by the training split's mean and standard deviation (a
    constant feature: centred, divided by 1)."""
    mu = X_train.mean(axis=0)
    sd = X_train.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return tuple((X - mu) / sd for X in (X_train, *others))


def _load_synthetic(n_samples, n_features, n_classes, seed):
    from sklearn.datasets import make_classification

    n_samples = _check_int("n_samples", SYNTHETIC_SAMPLES if n_samples is None else n_samples, 10, 10_000_000)
    n_features = _check_int("n_features", 20 if n_features is None else n_features, 2, 100_000)
    n_classes = _check_int("n_classes", 10 if n_classes is None else n_classes, 2, MAX_CLASSES)
    # make_classification needs n_classes * n_clusters_per_class <= 2**n_informative
    n_informative = max(2, min(n_features, int(math.ceil(math.log2(n_classes))) + 1))
    n_informative = max(n_informative, min(n_features, n_features // 2))
    if 2 ** n_informative < n_classes:
        raise ValueError(f"n_features must be at least log2(n_classes) = {math.ceil(math.log2(n_classes))} "
                         f"for n_classes={n_classes}, got {n_features}")
    n_redundant = min(n_features - n_informative, n_features // 4)
    if n_samples < 5 * n_classes:
        raise ValueError(f"n_samples must be >= 5 * n_classes = {5 * n_classes}, got {n_samples}")
    X, y = make_classification(n_samples=n_samples, n_features=n_features, n_informative=n_informative,
                               n_redundant=n_redundant, n_classes=n_classes, n_clusters_per_class=1,
                               class_sep=1.0, random_state=seed)
    return X.astype(np.float64), y.astype(np.int64)


def _load_file(path: Path, label_column):
    if not path.is_file():
        raise ValueError(f"dataset file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as f:
                missing = [k for k in ("X", "y") if k not in f.files]
                if missing:
                    raise ValueError(f"{path.name}: .npz must hold arrays 'X' and 'y' (missing {', '.join(missing)}; "
                                     f"found {', '.join(f.files) or 'none'})")
                X, y = f["X"], f["y"]
        except ValueError:
            raise
        except Exception as exc:
            raise ValueError(f"{path.name}: cannot read .npz ({type(exc).__name__})") from None
    elif suffix == ".csv":
        import pandas as pd

        try:
            df = pd.read_csv(path)
        except Exception as exc:
            raise ValueError(f"{path.name}: cannot read .csv ({type(exc).__name__})") from None
        if df.shape[1] < 2:
            raise ValueError(f"{path.name}: .csv needs at least one feature column and a label column")
        if label_column is None:
            col = df.columns[-1]
        elif isinstance(label_column, (int, np.integer)) and not isinstance(label_column, bool):
            if not -df.shape[1] <= label_column < df.shape[1]:
                raise ValueError(f"label_column must be in [{-df.shape[1]}, {df.shape[1] - 1}] for {path.name}, "
                                 f"got {label_column}")
            col = df.columns[int(label_column)]
        elif label_column in df.columns:
            col = label_column
        else:
            raise ValueError(f"label_column {label_column!r} not found in {path.name}; "
                             f"columns: {', '.join(map(str, df.columns[:20]))}")
        y = df[col].to_numpy()
        feats = df.drop(columns=[col])
        non_num = [c for c in feats.columns if not pd.api.types.is_numeric_dtype(feats[c])]
        if non_num:
            raise ValueError(f"{path.name}: feature columns must be numeric; non-numeric: "
                             f"{', '.join(map(str, non_num[:10]))}")
        X = feats.to_numpy(dtype=np.float64)
    else:
        raise ValueError(f"dataset file must be .npz or .csv, got {path.name!r}")
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2:
        raise ValueError(f"{path.name}: X must be 2-D (samples x features), got shape {X.shape}")
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(f"{path.name}: y must be 1-D with one label per row of X "
                         f"(X has {len(X)} rows, y has shape {y.shape})")
    if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
        raise ValueError(f"{path.name}: X must be real numeric, got dtype {X.dtype}")
    X = X.astype(np.float64)
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{path.name}: X contains NaN or infinite values")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError(f"{path.name}: y contains NaN or infinite values")
    return X, y


def _split(X, y, seed, split):
    from sklearn.model_selection import train_test_split

    n = len(y)
    C = int(y.max()) + 1
    counts = np.bincount(y, minlength=C)
    f_tr, f_va, f_te = split
    idx = np.arange(n)
    n_te = max(1, int(round(f_te * n)))
    n_va = max(1, int(round(f_va * n)))
    if n - n_te - n_va < 1:
        raise ValueError(f"dataset too small to split: {n} samples give no training sample with "
                         f"split={split}")
    # stratify only where every part can hold every class (each class needs a member in each of
    # the 3 parts); otherwise a plain random split (scikit-learn would refuse the stratified one)
    stratify = y if counts.min() >= 3 and min(n_te, n_va, n - n_te - n_va) >= C else None
    rest, te = train_test_split(idx, test_size=n_te, random_state=seed, stratify=stratify)
    tr, va = train_test_split(rest, test_size=n_va, random_state=seed + 1 if seed < 2**32 - 1 else 0,
                              stratify=None if stratify is None else y[rest])
    tr, va, te = np.sort(tr), np.sort(va), np.sort(te)
    return X[tr], y[tr], X[va], y[va], X[te], y[te]


def load_dataset(name="digits", *, n_samples: int | None = None, n_features: int | None = None,
                 n_classes: int | None = None, label_column=None, seed: int = 0,
                 split=SPLIT, standardize: bool = False) -> Dataset:
    """Load a dataset and split it (stratified, fixed by ``seed``) into train/val/test.

    ``name``: ``"digits"``, ``"iris"``, ``"wine"``, ``"breast_cancer"``, ``"synthetic"`` or a
    path to a ``.npz``/``.csv`` file. ``standardize``: z-score the features with the training
    split's statistics (see the module docstring).
    ``n_samples``/``n_features``/``n_classes`` apply to ``synthetic`` only (defaults 2000/20/10);
    ``label_column`` to ``.csv`` only (name or position; default the last column).
    """
    seed = _check_seed(seed)
    split = _check_split(split)
    if not isinstance(standardize, (bool, np.bool_)):
        raise TypeError(f"standardize must be True or False, got {standardize!r}")
    if isinstance(name, Path) or (isinstance(name, str) and name not in BUILTIN):
        path = Path(name)
        if isinstance(name, str) and path.suffix.lower() not in (".npz", ".csv"):
            raise ValueError(f"name must be one of {', '.join(BUILTIN)} or a path to a .npz/.csv file, got {name!r}")
        X, y = _load_file(path, label_column)
        ds_name = path.stem
    elif not isinstance(name, str):
        raise ValueError(f"name must be one of {', '.join(BUILTIN)} or a path to a .npz/.csv file, got {name!r}")
    else:
        if name != "synthetic":
            for pname, val in (("n_samples", n_samples), ("n_features", n_features), ("n_classes", n_classes)):
                if val is not None:
                    raise ValueError(f"{pname} applies only to name='synthetic', not {name!r}")
        if label_column is not None:
            raise ValueError("label_column applies only to .csv files")
        if name in EMBEDDED:
            X, y = _load_embedded(name)
        else:
            X, y = _load_synthetic(n_samples, n_features, n_classes, seed)
        ds_name = name
    classes, y_enc = np.unique(y, return_inverse=True)
    C = len(classes)
    if C < 2:
        raise ValueError(f"dataset {ds_name!r} must have at least 2 classes, got {C}")
    if C > MAX_CLASSES:
        raise ValueError(f"dataset {ds_name!r} has {C} classes; at most {MAX_CLASSES} allowed")
    if len(y_enc) < 10:
        raise ValueError(f"dataset {ds_name!r} must have at least 10 samples, got {len(y_enc)}")
    y_enc = y_enc.astype(np.int64)
    X_tr, y_tr, X_va, y_va, X_te, y_te = _split(X, y_enc, seed, split)
    if standardize:
        X_tr, X_va, X_te = standardize_splits(X_tr, X_va, X_te)
    return Dataset(X_tr, y_tr, X_va, y_va, X_te, y_te, n_classes=C, name=ds_name, classes=classes)
