"""A small scikit-learn-like API for federated inference with an ensemble of owners.

    fe = FederatedEnsemble(model="mlp", rule="soft_vote", seed=0)   # or model="lr", "mlp:64,32"
    fe.fit([(X1, y1), (X2, y2), ...], n_classes=10, validation=(X_val, y_val))
    fe.predict(X_test)                       # plaintext ensemble labels
    fe.owner_outputs(X_test, kind="logits")  # (K, n, C)

Each owner trains its own :class:`~fibench.fi.models.LocalModel` on its own data only (owner k's
``random_state`` is derived from ``(seed, k)``).  ``weighted_vote`` weighs owner k by its
accuracy on ``validation`` (when given); without validation data the weights are the owners'
training-set sizes (label-free).

Noisy vote (label privacy): ``noisy_predict(X, noise="gaussian", sigma=40)`` is the plaintext
simulation of the GNMax/LNMax vote; ``secure_predict(..., noise=..., sigma=...)`` computes it
under MPC; ``vote_scale(rule)`` is the per-owner vote weight bound that the accounting of
``fibench.fi.privacy`` takes as sensitivity scale.
"""
from __future__ import annotations

import numpy as np

from fibench.validation import NotFittedError
from fibench.fi import ensemble as ens
from fibench.fi.models import (DEFAULT_HIDDEN, LocalModel, check_X, check_labels, derive_seed, normalize_model,
                            single_thread_blas)

OUTPUT_KINDS = ("proba", "logits", "votes")
MAX_OWNERS = 256


class FederatedEnsemble:
    """K independently trained owners answering together with one aggregation rule."""

    def __init__(self, model: str = "lr", rule: str = "soft_vote", hidden: int = DEFAULT_HIDDEN, seed: int = 0,
                 max_iter: int | None = None, standardize: bool = False, trainer: str = "sklearn"):
        self.model = normalize_model(model)  # "lr", "mlp" (``hidden`` units) or "mlp:64,32" (hidden sizes)
        self.rule = ens.get_rule(rule).name
        if isinstance(hidden, bool) or not isinstance(hidden, (int, np.integer)) or not 1 <= hidden <= 4096:
            raise ValueError(f"hidden must be an integer in [1, 4096], got {hidden!r}")
        self.hidden = int(hidden)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
            raise ValueError(f"seed must be an integer in [0, 2**32-1], got {seed!r}")
        self.seed = int(seed)
        self.max_iter = max_iter
        self.standardize = standardize
        # checked here, before any training: "sklearn" or "torch" (cnn and onnx:PATH models)
        LocalModel(self.model, 2, hidden=self.hidden, standardize=standardize, trainer=trainer)
        self.trainer = trainer
        self.owners_: list[LocalModel] | None = None
        self.weights_: np.ndarray | None = None

    # -- training ----------------------------------------------------------------------------
    def fit(self, owner_datasets, n_classes: int | None = None, validation=None,
            progress: bool = False) -> "FederatedEnsemble":
        """``owner_datasets``: a list of (X, y), one per owner (1 to 256 owners). ``progress``:
        a bar over the owners' trainings on stderr."""
        try:
            owner_datasets = list(owner_datasets)
        except TypeError:
            raise ValueError("owner_datasets must be a list of (X, y) pairs") from None
        K = len(owner_datasets)
        if not 1 <= K <= MAX_OWNERS:
            raise ValueError(f"owner_datasets must hold between 1 and {MAX_OWNERS} owners, got {K}")
        data = []
        for k, item in enumerate(owner_datasets):
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                raise ValueError(f"owner_datasets[{k}] must be a pair (X, y)")
            X = check_X(item[0], name=f"owner_datasets[{k}] X")
            y, _ = check_labels(item[1], len(X), n_classes, name=f"owner_datasets[{k}] y")
            data.append((X, y))
        d = {X.shape[1] for X, _ in data}
        if len(d) != 1:
            raise ValueError(f"owner_datasets: all owners must have the same number of features, got {sorted(d)}")
        if n_classes is None:
            n_classes = max(2, max(int(y.max()) + 1 for _, y in data))
        self.n_classes = int(n_classes)
        self.n_features_ = d.pop()
        todo = enumerate(data)
        if progress:
            import sys

            from tqdm import tqdm

            todo = tqdm(todo, total=len(data), desc=f"training {self.model} owners", unit="owner", file=sys.stderr,
                        leave=False)
        with single_thread_blas():
            self.owners_ = [LocalModel(self.model, self.n_classes, hidden=self.hidden,
                                       seed=derive_seed(self.seed, k), max_iter=self.max_iter,
                                       standardize=self.standardize, trainer=self.trainer).fit(X, y)
                            for k, (X, y) in todo]
        if validation is not None:
            self.set_validation(*validation)
        else:
            sizes = np.array([len(y) for _, y in data], dtype=np.float64)
            self.weights_ = sizes / sizes.sum()
        return self

    @classmethod
    def from_partition(cls, X, y, parts, n_classes: int | None = None, validation=None,
                       **kwargs) -> "FederatedEnsemble":
        """Fit on ``X[parts[k]], y[parts[k]]`` for each owner k (``parts`` from fibench.fi.partition)."""
        X = check_X(X)
        y, n_classes = check_labels(y, len(X), n_classes)
        owner_data = []
        for k, p in enumerate(parts):
            p = np.asarray(p)
            if p.ndim != 1 or len(p) == 0 or not np.issubdtype(p.dtype, np.integer) or p.min() < 0 or p.max() >= len(y):
                raise ValueError(f"parts[{k}] must be a non-empty array of indices into X (0..{len(y) - 1})")
            owner_data.append((X[p], y[p]))
        return cls(**kwargs).fit(owner_data, n_classes=n_classes, validation=validation)

    def set_validation(self, X_val, y_val) -> "FederatedEnsemble":
        """Weights of ``weighted_vote``: each owner's accuracy on (X_val, y_val)."""
        self._check_fitted()
        X_val = check_X(X_val, self.n_features_, name="X_val")
        y_val, _ = check_labels(y_val, len(X_val), self.n_classes, name="y_val")
        self.weights_ = ens.accuracy_weights(self.owner_outputs(X_val, "logits"), y_val)
        return self

    # -- plaintext inference -------------------------------------------------------------------
    def _check_fitted(self):
        if self.owners_ is None:
            raise NotFittedError("FederatedEnsemble is not fitted; call fit(owner_datasets) first")

    @property
    def n_owners(self) -> int:
        self._check_fitted()
        return len(self.owners_)

    def owner_outputs(self, X, kind: str = "proba") -> np.ndarray:
        """(K, n, C): each owner's probabilities, logits or one-hot votes."""
        self._check_fitted()
        if kind not in OUTPUT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(OUTPUT_KINDS)}, got {kind!r}")
        X = check_X(X, self.n_features_)
        fn = {"proba": LocalModel.predict_proba, "logits": LocalModel.logits, "votes": LocalModel.votes}[kind]
        return np.stack([fn(m, X) for m in self.owners_])

    def scores(self, X, rule: str | None = None) -> np.ndarray:
        """(n, C) aggregated scores of ``rule`` (default: the ensemble's rule)."""
        r = ens.get_rule(self.rule if rule is None else rule)
        return r.scores(self.owner_outputs(X, r.input), self.weights_ if r.weighted else None)

    def predict(self, X, rule: str | None = None) -> np.ndarray:
        """Plaintext ensemble labels (argmax of the aggregated scores, ties to the lowest label)."""
        return np.argmax(self.scores(X, rule), axis=1)

    def predict_proba(self, X, rule: str | None = None) -> np.ndarray:
        """(n, C) ensemble distribution: soft vote -> mean probability; logit sum -> softmax of
        the summed logits; votes -> (weighted) vote fractions."""
        r = ens.get_rule(self.rule if rule is None else rule)
        s = self.scores(X, r.name)
        if r.input == "logits":
            s = s - s.max(axis=1, keepdims=True)
            e = np.exp(s)
            return e / e.sum(axis=1, keepdims=True)
        tot = s.sum(axis=1, keepdims=True)
        return np.divide(s, tot, out=np.full_like(s, 1.0 / s.shape[1]), where=tot > 0)

    def score(self, X, y, rule: str | None = None) -> float:
        return ens.accuracy(np.asarray(y), self.predict(X, rule))

    # -- noisy vote (plaintext simulation) ------------------------------------------------------
    def _vote_rule(self, rule):
        r = ens.get_rule(self.rule if rule is None else rule)
        if r.name not in ens.VOTE_RULES:
            raise ValueError(f"noise applies to the vote-count rules {ens.VOTE_RULES}, got rule {r.name!r}")
        return r

    def raw_vote_counts(self, X, rule: str | None = None, frac_bits: int = 16) -> np.ndarray:
        """(n, C) int64 counts of a vote rule on the lattice 2^-frac_bits, as the secure vote
        holds them (``fibench.fi.ensemble.raw_vote_counts``)."""
        r = self._vote_rule(rule)
        return ens.raw_vote_counts(self.owner_outputs(X, "votes"), self.weights_ if r.weighted else None, frac_bits)

    def vote_scale(self, rule: str | None = None, frac_bits: int = 16) -> float:
        """Largest weight one owner's vote carries (hard vote: 1; weighted: the largest
        encoded public weight): the histogram's L2 sensitivity is sqrt(2) times it, L1 twice it."""
        r = self._vote_rule(rule)
        self._check_fitted()
        if not r.weighted:
            return 1.0
        from fibench.mpc.encoding import encode

        return float(encode(self.weights_, frac_bits).view(np.int64).max() * 2.0 ** -frac_bits)

    def noisy_predict(self, X, noise: str = "gaussian", sigma: float = 40.0, rule: str | None = None,
                      seed=None, frac_bits: int = 16) -> np.ndarray:
        """Labels of the noisy vote (plaintext simulation): argmax of the counts plus discrete
        noise of scale ``sigma`` vote units (``fibench.fi.ensemble.vote_noise``; ``seed``
        makes the simulation reproducible and protects nothing)."""
        counts = self.raw_vote_counts(X, rule, frac_bits)
        return ens.noisy_argmax(counts, ens.vote_noise(noise, sigma, counts.shape, frac_bits, seed))

    def confident_predict(self, X, threshold: float, sigma1: float, sigma2: float, rule: str | None = None,
                          seed=None, frac_bits: int = 16) -> np.ndarray:
        """Confident GNMax (plaintext simulation): answer a query only when its largest count
        plus N_Z(0, sigma1^2) reaches ``threshold`` (vote units), then with the GNMax label of
        scale ``sigma2``; unanswered queries get -1. Accounting:
        ``fibench.fi.privacy.confident_epsilon``."""
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer, np.floating)) \
                or not np.isfinite(threshold):
            raise ValueError(f"threshold must be a finite number of votes, got {threshold!r}")
        counts = self.raw_vote_counts(X, rule, frac_bits)
        s2 = None if seed is None else 2 * int(seed) + 1
        z1 = ens.vote_noise("gaussian", sigma1, (len(counts),), frac_bits, None if seed is None else 2 * int(seed))
        z2 = ens.vote_noise("gaussian", sigma2, counts.shape, frac_bits, s2)
        return ens.confident_noisy_argmax(counts, round(float(threshold) * 2 ** frac_bits), z1, z2)

    # -- secure inference -----------------------------------------------------------------------
    def m1_scores(self, X, rule: str | None = None) -> np.ndarray:
        """(K, n, C) what each owner secret-shares in mode M1 for ``rule`` (weighted vote:
        each owner scales its one-hot vote by its own weight)."""
        r = ens.get_rule(self.rule if rule is None else rule)
        out = self.owner_outputs(X, r.input)
        if r.weighted:
            out = out * np.asarray(self.weights_, dtype=np.float64)[:, None, None]
        return out

    def secure_predict(self, X, mode: str = "M1", topology: str = "T1", protocol: str = "a2b",
                       servers: int = 2, rule: str | None = None, argmax_method: str = "pairs",
                       batch_size: int | None = None, progress: bool = False, noise=None, sigma=None,
                       sharing: str = "additive"):
        """Secure ensemble labels for ``X`` and a cost report: ``(labels, report)``.

        ``mode`` "M1" (owners share their outputs) or "M2" (query and weights shared; soft_vote
        by a secure softmax of each owner's logits); every rule runs in both; ``topology``
        "T1" (owners compute, K >= 2) or "T2" (``servers`` = 2 or 3); ``sharing``
        "additive" (the dealer's scheme) or "replicated" (honest-majority 2-out-of-3 among exactly
        3 servers, no dealer: T2 with ``servers=3``). ``report.agreement`` is
        the share of queries whose secure label equals the plaintext pipeline's (noiseless).
        ``noise`` ("gaussian" | "laplace") and ``sigma``: the noisy vote (``hard_vote``,
        ``weighted_vote``), noise dealt by the dealer inside MPC. See ``fibench.fi.secure_inference``.
        """
        from fibench.fi import secure_inference as si

        self._check_fitted()
        X = check_X(X, self.n_features_)
        rule = self.rule if rule is None else ens.get_rule(rule).name
        si.check_setting(mode, topology, self.n_owners, servers, protocol, sharing)
        if mode == "M2":
            si.check_m2_rule(rule)
        si.check_noise(rule, noise, sigma)
        if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
            raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
        bs = len(X) if batch_size is None else int(batch_size)
        starts = range(0, len(X), max(bs, 1))
        if progress:
            from tqdm import tqdm

            import sys

            starts = tqdm(starts, desc=f"secure {mode}/{topology}", unit="batch", file=sys.stderr, leave=False)
        labels, reports = [], []
        layers = [m.graph() for m in self.owners_] if mode == "M2" else None  # graphs keep each activation
        for st in starts:
            Xb = X[st: st + bs]
            kw = ({"owner_scores": self.m1_scores(Xb, rule)} if mode == "M1" else
                  {"owner_layers": layers, "weights": self.weights_})
            lab, rep = si.run_secure(Xb, mode=mode, topology=topology, servers=servers, protocol=protocol,
                                     argmax_method=argmax_method, rule=rule, noise=noise, sigma=sigma, sharing=sharing,
                                     **kw)
            labels.append(lab)
            reports.append(rep)
        labels = np.concatenate(labels) if labels else np.zeros(0, dtype=np.int64)
        report = si.merge_reports(reports) if reports else None
        if report is not None:
            report.agreement = float(np.mean(labels == self.predict(X, rule))) if len(X) else 1.0
        return labels, report

    def __repr__(self):
        k = "unfitted" if self.owners_ is None else f"K={len(self.owners_)}"
        return f"FederatedEnsemble(model={self.model!r}, rule={self.rule!r}, {k})"
