"""Local models, each trained by one data owner on its own data only.

``LocalModel(kind="lr")``: multinomial logistic regression (scikit-learn ``LogisticRegression``,
lbfgs); ``LocalModel(kind="mlp", hidden=32)``: one hidden layer of ReLU units
(``MLPClassifier``, adam); ``LocalModel(kind="mlp:64,32")`` (or ``hidden=(64, 32)``): ReLU
hidden layers of those sizes.  Whatever classes an owner saw, the model answers in the FULL class
space 0..C-1: a class the owner never saw gets probability exactly 0 and logit ``UNSEEN_LOGIT``
(-1e4).  An owner that saw a single class gets a constant model (logit 0 for its class).

The model is exported as plain layers for secure inference: ``weights()`` returns
``[(W, b), ...]`` (float64, ``W`` of shape (in, out)) and ``activations`` names the function
applied after each layer (``"relu"`` or ``"identity"``):

* LR:  ``logits = X @ W + b``                              (one layer, identity)
* MLP: ``logits = relu(X @ W1 + b1) @ W2 + b2``            (relu, then identity)
* deeper MLPs: ``relu`` after every hidden layer, ``identity`` after the last

``graph()`` returns the same model as a ``fibench.fi.graph.Graph``.

``LocalModel(kind="cnn")``: the built-in small CNN for square one-channel images (8x8 digits):
conv 3x3 (8 channels, padding 1) -> ReLU -> avgpool 2 -> dense. ``"cnn:8,16"`` stacks such
blocks (one per channel count; ``"16m"``: max-pool instead of avg-pool). Trainers:
``trainer="sklearn"`` (the default, framework-free, what every suite uses): the conv filters are
random (drawn from the owner's seed, He-scaled) and only the dense readout is trained, by
scikit-learn's ``LogisticRegression`` on the owner's conv features (a random-feature CNN);
``trainer="torch"`` (needs the optional ``torch`` extra): PyTorch trains every layer of the same
graph from that start on the owner's data (``fibench.fi.torch_train``). Either way its layers are
no Dense list: ``weights()`` returns the ``Graph`` itself (``m2_labels`` takes both).

``LocalModel(kind="onnx:PATH")``: the ONNX model in file PATH (``fibench.fi.graph.from_onnx``;
needs the optional ``onnx`` package). Every owner keeps the file's layers up to its last Dense
(Gemm/MatMul) as given — a shared, pretrained feature extractor — and trains that last layer on
its own data exactly like the CNN's readout (so each owner has its own weights there, in the full
class space); the graph must end in that Dense (a Softmax or Identity may follow). With
``trainer="torch"`` every layer is fine-tuned on the owner's data, starting from the file's.

``logits(X)`` is computed from exactly these layers, and ``predict_proba(X)`` is their softmax
(with unseen classes set to exactly 0).  Binary owners (two seen classes, for which
scikit-learn keeps one output z) use the symmetric logits (-z/2, +z/2), whose softmax is
scikit-learn's sigmoid probability.  With ``standardize=True`` the owner standardizes its
features and the scaler is folded into the first layer, so the layers still take raw X.
"""
from __future__ import annotations

import contextlib
import warnings

import numpy as np

from fibench.validation import check_int as _check_int
from fibench.validation import NotFittedError, check_labels_array

KINDS = ("lr", "mlp", "cnn", "onnx")
#: ``trainer``: scikit-learn (LR, MLP; the readout of a CNN / ONNX model) or PyTorch (every layer
#: of a CNN / ONNX model; the optional ``torch`` extra)
TRAINERS = ("sklearn", "torch")
#: accepted synonyms of the model kinds (the latency suite says ``logreg``)
ALIASES = {"logreg": "lr", "logistic": "lr"}
#: logit of a class the owner never saw (its probability is exactly 0)
UNSEEN_LOGIT = -1e4
#: default training budgets (kept modest: grids train hundreds of models)
LR_MAX_ITER = 200
MLP_MAX_ITER = 200
DEFAULT_HIDDEN = 32
MAX_HIDDEN = 4096
#: the built-in CNN: conv channels per block ("cnn" = one block of 8 channels), at most 3 blocks
DEFAULT_CNN = ((8, "avg"),)
MAX_CNN_BLOCKS = 3
MAX_CHANNELS = 256




def check_X(X, n_features: int | None = None, name: str = "X") -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (samples x features), got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
        raise ValueError(f"{name} must be real numeric, got dtype {X.dtype}")
    X = X.astype(np.float64, copy=False)
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} must not contain NaN or infinite values")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{name} must have {n_features} features (columns), got {X.shape[1]}")
    return X


def check_labels(y, n: int, n_classes: int | None, name: str = "y") -> tuple[np.ndarray, int]:
    """``y`` as int64 labels, one per sample (``n``), within ``n_classes`` (default: max + 1)."""
    if np.ndim(y) != 1 or len(y) != n:
        raise ValueError(f"{name} must be 1-D with one label per sample ({n}), got shape {np.shape(y)}")
    y = check_labels_array(y, name)
    if n_classes is None:
        n_classes = int(y.max()) + 1
    n_classes = _check_int("n_classes", n_classes, 2)
    if y.max() >= n_classes:
        raise ValueError(f"{name} labels must be in [0, {n_classes - 1}] (n_classes={n_classes}), "
                         f"found {int(y.max())}")
    return y, n_classes


def normalize_kind(kind) -> str:
    """``"lr"`` or ``"mlp"`` (accepts the ALIASES); ValueError naming ``model`` otherwise."""
    k = ALIASES.get(kind, kind) if isinstance(kind, str) else kind
    if k not in KINDS:
        raise ValueError(f"model must be one of {', '.join(KINDS)} (or {', '.join(ALIASES)}), got {kind!r}")
    return k


def _parse_cnn(spec: str, sizes: str) -> tuple:
    """``"8,16m"`` -> ((8, "avg"), (16, "max")): conv 3x3 -> ReLU -> pool 2 blocks."""
    blocks = []
    for item in sizes.split(","):
        item = item.strip()
        pool = "max" if item.endswith("m") else "avg"
        try:
            ch = int(item[:-1] if pool == "max" else item)
        except ValueError:
            raise ValueError(f"model: cnn blocks must be comma-separated channel counts, 'm' for a max-pool "
                             f"(e.g. 'cnn:8,16m'), got {spec!r}") from None
        blocks.append((ch, pool))
    if not 1 <= len(blocks) <= MAX_CNN_BLOCKS or any(not 1 <= c <= MAX_CHANNELS for c, _ in blocks):
        raise ValueError(f"model: 1 to {MAX_CNN_BLOCKS} cnn blocks, each of 1 to {MAX_CHANNELS} channels, "
                         f"got {spec!r}")
    return tuple(blocks)


def parse_model(spec) -> tuple[str, tuple | None]:
    """A model spec as ``(kind, sizes or None)``: ``"lr"``, ``"mlp"`` (the ``hidden``
    parameter decides its one hidden layer), ``"mlp:64,32"`` (ReLU hidden layers of those
    sizes, 1 to 8 of them), ``"cnn"`` (the built-in CNN, blocks ``DEFAULT_CNN``),
    ``"cnn:8,16m"`` (conv blocks: channels, ``m`` = max-pool; sizes are ``((8, "avg"),
    (16, "max"))``) or ``"onnx:PATH"`` (an ONNX file; sizes are ``(PATH,)``). ValueError naming
    ``model`` otherwise."""
    if isinstance(spec, str) and ":" in spec:
        kind, _, sizes = spec.partition(":")
        kind = ALIASES.get(kind, kind)
        if kind == "onnx":
            import os

            if not sizes or not os.path.isfile(sizes):
                raise ValueError(f"model: 'onnx:PATH' needs an existing ONNX file, got {spec!r}")
            return "onnx", (sizes,)
        if kind == "cnn":
            return "cnn", _parse_cnn(spec, sizes)
        if kind != "mlp":
            raise ValueError(f"model: only 'mlp', 'cnn' and 'onnx' take a ':' part (e.g. 'mlp:64,32', 'cnn:8,16', "
                             f"'onnx:model.onnx'), got {spec!r}")
        try:
            hidden = tuple(int(v) for v in sizes.split(","))
        except ValueError:
            raise ValueError(f"model: hidden sizes must be comma-separated integers (e.g. 'mlp:64,32'), "
                             f"got {spec!r}") from None
        if not 1 <= len(hidden) <= 8 or any(not 1 <= h <= MAX_HIDDEN for h in hidden):
            raise ValueError(f"model: 1 to 8 hidden sizes, each in [1, {MAX_HIDDEN}], got {spec!r}")
        return "mlp", hidden
    kind = normalize_kind(spec)
    if kind == "onnx":
        raise ValueError("model: 'onnx' needs a file, as 'onnx:PATH'")
    return kind, (DEFAULT_CNN if kind == "cnn" else None)


def normalize_model(spec) -> str:
    """The canonical spelling of a model spec (``"lr"``, ``"mlp"``, ``"mlp:64,32"``, ``"cnn"``,
    ``"cnn:8,16m"``; ``"cnn:8"`` is ``"cnn"``)."""
    kind, sizes = parse_model(spec)
    if kind == "onnx":
        return "onnx:" + sizes[0]
    if kind == "cnn":
        return "cnn" if sizes == DEFAULT_CNN else "cnn:" + ",".join(f"{c}{'m' if p == 'max' else ''}" for c, p in sizes)
    return kind if sizes is None else f"{kind}:{','.join(map(str, sizes))}"


def image_side(n_features: int, name: str = "X") -> int:
    """The side of the square one-channel image a CNN reads from ``n_features`` pixels."""
    side = int(round(np.sqrt(n_features)))
    if side * side != n_features:
        raise ValueError(f"model cnn reads square one-channel images: {name} must have a square number of "
                         f"features (64 for 8x8 digits), got {n_features}")
    return side


def cnn_body(blocks, n_features: int, rng) -> list:
    """The conv part of a CNN (reshape, blocks of conv 3x3 pad 1 -> ReLU -> pool 2, flatten) with
    random He-scaled filters from ``rng``; ValueError when the image is too small for the pools."""
    from fibench.fi import graph as gr

    side = image_side(n_features)
    layers, ch = [gr.Reshape((1, side, side))], 1
    for i, (c, pool) in enumerate(blocks):
        if side < 2:
            raise ValueError(f"model: cnn block {i + 1} of {len(blocks)} has a {side}x{side} input; each block "
                             f"halves the image side, so a {int(np.sqrt(n_features))}-pixel side allows fewer blocks")
        w = rng.normal(size=(c, ch, 3, 3)) * np.sqrt(2.0 / (9 * ch))
        layers += [gr.Conv2d(w, rng.normal(size=c) * 0.1, padding=1), gr.ReLU(),
                   gr.MaxPool2d(2) if pool == "max" else gr.AvgPool2d(2)]
        ch, side = c, side // 2
    return layers + [gr.Flatten()]


def onnx_body(path: str, n_features: int) -> list:
    """The layers of the ONNX model in ``path`` before its last Dense (the readout every owner
    retrains); ValueError when the graph does not end in a Dense or takes another input size."""
    from fibench.fi import graph as gr

    g = gr.from_onnx(path)
    if int(np.prod(g.input_shape)) != n_features:
        raise ValueError(f"model onnx:{path} takes {int(np.prod(g.input_shape))} input features, "
                         f"the data has {n_features}")
    body = list(g.body)
    while body and isinstance(body[-1], gr.Identity):
        body.pop()
    if not body or not isinstance(body[-1], gr.Dense):
        raise ValueError(f"model onnx:{path} must end in a dense layer (Gemm or MatMul, then at most a Softmax): "
                         "each owner retrains it as its readout")
    return body[:-1]


def random_graph(spec, n_features: int, n_classes: int, rng, hidden: int = DEFAULT_HIDDEN):
    """A ``Graph`` of architecture ``spec`` with random weights (benchmarks of secure inference:
    the values change no counts). Dense layers are scaled by 1/sqrt(fan-in), biases by 0.1."""
    from fibench.fi import graph as gr

    kind, sizes = parse_model(spec)
    if kind in ("cnn", "onnx"):
        body = cnn_body(sizes, n_features, rng) if kind == "cnn" else onnx_body(sizes[0], n_features)
        d = int(np.prod(gr.Graph(body, (n_features,)).output_shape))
        dims = (d, n_classes)
        acts = ["identity"]
    else:
        hs = () if kind == "lr" else (sizes if sizes is not None else (_check_int("hidden", hidden, 1, MAX_HIDDEN),))
        body = []
        dims = (n_features,) + tuple(hs) + (n_classes,)
        acts = ["relu"] * len(hs) + ["identity"]
    for (a, b), act in zip(zip(dims[:-1], dims[1:]), acts):
        body.append(gr.Dense(rng.normal(size=(a, b)) / np.sqrt(a), rng.normal(size=b) * 0.1))
        if act == "relu":
            body.append(gr.ReLU())
    return gr.Graph(body, (n_features,))


def derive_seed(seed: int, *path: int) -> int:
    """A 31-bit random_state derived from (seed, path...) (independent streams per owner)."""
    return int(np.random.SeedSequence([int(seed), *map(int, path)]).generate_state(1)[0] & 0x7FFFFFFF)


_blas_depth = 0


@contextlib.contextmanager
def single_thread_blas():
    """Limit BLAS to one thread (re-entrant; cheap when nested).

    Training many small models with a multi-threaded BLAS on a shared 2-core machine was
    measured ~200x slower (threads spin while the cores are busy elsewhere)."""
    global _blas_depth
    if _blas_depth:
        _blas_depth += 1
        try:
            yield
        finally:
            _blas_depth -= 1
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        _blas_depth = 1
        try:
            yield
        finally:
            _blas_depth = 0


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


class LocalModel:
    """One owner's classifier in the full class space (see the module docstring)."""

    def __init__(self, kind: str = "lr", n_classes: int | None = None, *, hidden: int = DEFAULT_HIDDEN,
                 seed: int = 0, max_iter: int | None = None, C: float = 1.0, standardize: bool = False,
                 trainer: str = "sklearn"):
        self.kind, sizes = parse_model(kind)
        if trainer not in TRAINERS:
            raise ValueError(f"trainer must be one of {', '.join(TRAINERS)}, got {trainer!r}")
        if trainer == "torch" and self.kind not in ("cnn", "onnx"):
            raise ValueError(f"trainer 'torch' trains cnn and onnx:PATH models; model {self.kind!r} is trained by "
                             "scikit-learn (trainer='sklearn')")
        if trainer == "torch" and standardize:
            raise ValueError("standardize=True is not supported with trainer='torch'")
        if trainer == "torch":
            from fibench.fi.torch_train import torch_available

            if not torch_available():
                raise ValueError("trainer='torch' needs PyTorch: pip install 'fibench[torch]' (a CPU build: "
                                 "pip install 'torch==2.13.0+cpu')")
        #: who trains the model: "sklearn" (LR/MLP; a CNN's or ONNX file's readout only) or "torch" (every layer)
        self.trainer = trainer
        self.n_classes = None if n_classes is None else _check_int("n_classes", n_classes, 2)
        #: conv blocks of a CNN ((channels, "avg" | "max"), ...); None for lr/mlp
        self.cnn_blocks = sizes if self.kind == "cnn" else None
        #: the ONNX file of an ``onnx:PATH`` model
        self.onnx_path = sizes[0] if self.kind == "onnx" else None
        self._spec = normalize_model(kind) if self.kind in ("cnn", "onnx") else None
        if self.kind in ("cnn", "onnx"):
            sizes = None
        if sizes is None and isinstance(hidden, (tuple, list)):
            if not 1 <= len(hidden) <= 8:
                raise ValueError(f"hidden must hold 1 to 8 layer sizes, got {hidden!r}")
            sizes = tuple(_check_int("hidden", h, 1, MAX_HIDDEN) for h in hidden)
        if sizes is None:
            sizes = (_check_int("hidden", hidden, 1, MAX_HIDDEN),)
        #: sizes of the hidden layers (MLP); ``hidden`` is the first one
        self.hidden_sizes = sizes
        self.hidden = sizes[0]
        self.seed = _check_int("seed", seed, 0, 2**32 - 1)
        default_iter = LR_MAX_ITER if self.kind == "lr" else MLP_MAX_ITER
        self.max_iter = _check_int("max_iter", default_iter if max_iter is None else max_iter, 1, 100_000)
        if isinstance(C, bool) or not isinstance(C, (int, float)) or not C > 0:
            raise ValueError(f"C must be a float > 0, got {C!r}")
        self.C = float(C)
        self.standardize = bool(standardize)
        self._layers = None
        self._body = None  # a CNN's conv layers (before the dense readout)

    # -- training --------------------------------------------------------------------------
    def fit(self, X, y) -> "LocalModel":
        X = check_X(X)
        y, C = check_labels(y, len(X), self.n_classes)
        self.n_classes = C
        self.n_features_ = X.shape[1]
        self.n_samples_ = len(y)
        self.classes_seen_ = np.unique(y)
        mu = np.zeros(X.shape[1])
        sd = np.ones(X.shape[1])
        if self.standardize:
            mu = X.mean(axis=0)
            sd = X.std(axis=0)
            sd[sd < 1e-12] = 1.0
            Xs = (X - mu) / sd
        else:
            Xs = X
        seen = self.classes_seen_
        if self.kind in ("cnn", "onnx"):
            return self._fit_readout(X, y, C)
        d = X.shape[1]
        if len(seen) == 1:  # constant model: sklearn refuses a single class
            b_out = np.full(C, UNSEEN_LOGIT)
            b_out[seen[0]] = 0.0
            if self.kind == "lr":
                layers = [(np.zeros((d, C)), b_out)]
            else:
                dims = (d,) + self.hidden_sizes
                layers = [(np.zeros((a, b)), np.zeros(b)) for a, b in zip(dims[:-1], dims[1:])]
                layers.append((np.zeros((dims[-1], C)), b_out))
            self._layers = layers
            self._fold_scaler(mu, sd)
            return self
        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings(), single_thread_blas():
            warnings.simplefilter("ignore", category=ConvergenceWarning)
            if self.kind == "lr":
                from sklearn.linear_model import LogisticRegression

                clf = LogisticRegression(C=self.C, solver="lbfgs", max_iter=self.max_iter,
                                         random_state=derive_seed(self.seed))
                clf.fit(Xs, y)
                W_s, b_s = clf.coef_.T, clf.intercept_
                layers_seen = [(W_s, b_s)]
            else:
                from sklearn.neural_network import MLPClassifier

                clf = MLPClassifier(hidden_layer_sizes=self.hidden_sizes, activation="relu", solver="adam",
                                    max_iter=self.max_iter, random_state=derive_seed(self.seed),
                                    n_iter_no_change=10, tol=1e-4)
                clf.fit(Xs, y)
                layers_seen = list(zip(clf.coefs_, clf.intercepts_))
        W_s, b_s = layers_seen[-1]
        if W_s.shape[1] == 1:  # binary: one output z -> symmetric logits (-z/2, z/2)
            W_s = np.hstack([-W_s / 2, W_s / 2])
            b_s = np.concatenate([-b_s / 2, b_s / 2])
        W_full = np.zeros((W_s.shape[0], C))
        b_full = np.full(C, UNSEEN_LOGIT)
        W_full[:, seen] = W_s
        b_full[seen] = b_s
        layers = [(np.asarray(W, np.float64).copy(), np.asarray(b, np.float64).copy()) for W, b in layers_seen[:-1]]
        layers.append((W_full, b_full))
        self._layers = layers
        self._fold_scaler(mu, sd)
        return self

    def _fit_readout(self, X, y, C):
        """Fixed feature layers — a CNN's random conv filters (the owner's seed) or an ONNX
        file's layers before its last Dense — and a logistic-regression readout trained on the
        owner's features; ``standardize`` standardizes those features (folded into the readout)."""
        from fibench.fi import graph as gr

        if self.kind == "onnx":
            self._body = onnx_body(self.onnx_path, X.shape[1])
        else:
            self._body = cnn_body(self.cnn_blocks, X.shape[1], np.random.default_rng(derive_seed(self.seed, 1)))
        if self.trainer == "torch" and len(self.classes_seen_) > 1:
            return self._fit_torch(X, y, C)
        with single_thread_blas():
            F = gr.Graph(self._body, (X.shape[1],)).forward(X)
        F = F.reshape(len(F), -1)
        mu, sd = np.zeros(F.shape[1]), np.ones(F.shape[1])
        if self.standardize:
            mu, sd = F.mean(axis=0), F.std(axis=0)
            sd[sd < 1e-12] = 1.0
        seen = self.classes_seen_
        W_full, b_full = np.zeros((F.shape[1], C)), np.full(C, UNSEEN_LOGIT)
        if len(seen) == 1:
            b_full[seen[0]] = 0.0
        else:
            from sklearn.exceptions import ConvergenceWarning
            from sklearn.linear_model import LogisticRegression

            with warnings.catch_warnings(), single_thread_blas():
                warnings.simplefilter("ignore", category=ConvergenceWarning)
                clf = LogisticRegression(C=self.C, solver="lbfgs", max_iter=self.max_iter,
                                         random_state=derive_seed(self.seed)).fit((F - mu) / sd, y)
            W_s, b_s = clf.coef_.T, clf.intercept_
            if W_s.shape[1] == 1:
                W_s, b_s = np.hstack([-W_s / 2, W_s / 2]), np.concatenate([-b_s / 2, b_s / 2])
            W_full[:, seen], b_full[seen] = W_s, b_s
        W2 = W_full / sd[:, None]
        self._layers = [(W2, b_full - mu @ W2)]  # the dense readout on the raw conv features
        return self

    def _fit_torch(self, X, y, C):
        """Every layer trained by PyTorch (``fibench.fi.torch_train``) from the feature layers
        above and a small random readout; unseen classes then get ``UNSEEN_LOGIT`` exactly."""
        from fibench.fi import graph as gr
        from fibench.fi.torch_train import train_graph

        d = int(np.prod(gr.Graph(self._body, (X.shape[1],)).output_shape))
        rng = np.random.default_rng(derive_seed(self.seed, 2))
        readout = gr.Dense(rng.normal(size=(d, C)) / np.sqrt(d), np.zeros(C))
        trained = train_graph(list(self._body) + [readout], (X.shape[1],), X, y, derive_seed(self.seed, 3))
        self._body, last = trained[:-1], trained[-1]
        unseen = np.setdiff1d(np.arange(C), self.classes_seen_)
        W, b = last.W.copy(), last.b.copy()
        W[:, unseen], b[unseen] = 0.0, UNSEEN_LOGIT
        self._layers = [(W, b)]
        return self

    def _fold_scaler(self, mu, sd):
        """Fold x -> (x - mu) / sd into the first layer: W' = W / sd, b' = b - (mu / sd) @ W."""
        if not self.standardize:
            return
        W, b = self._layers[0]
        W2 = W / sd[:, None]
        self._layers[0] = (W2, b - mu @ W2)

    # -- inference -------------------------------------------------------------------------
    def _check_fitted(self):
        if self._layers is None:
            raise NotFittedError("LocalModel is not fitted; call fit(X, y) first")

    @property
    def activations(self) -> tuple[str, ...]:
        """Function applied after each layer of ``weights()``."""
        if self.kind in ("cnn", "onnx"):
            return ("identity",)  # of the dense readout (after the conv blocks / the file's layers)
        return ("identity",) if self.kind == "lr" else ("relu",) * len(self.hidden_sizes) + ("identity",)

    def weights(self):
        """The layers ``[(W, b), ...]`` in full class space (copies; float64). A CNN is no
        Dense list: its ``graph()`` is returned instead (``m2_labels`` accepts both)."""
        self._check_fitted()
        if self.kind in ("cnn", "onnx"):
            return self.graph()
        return [(W.copy(), b.copy()) for W, b in self._layers]

    def graph(self):
        """The model as a ``fibench.fi.graph.Graph`` (Dense/ReLU layers of ``weights()``; a
        CNN: its conv blocks and the dense readout)."""
        from fibench.fi import graph as gr

        self._check_fitted()
        if self.kind in ("cnn", "onnx"):
            W, b = self._layers[0]
            return gr.Graph(list(self._body) + [gr.Dense(W.copy(), b.copy())], (self.n_features_,))
        return gr.from_dense_layers(self.weights(), list(self.activations))

    def logits(self, X) -> np.ndarray:
        """(n, C) pre-softmax scores; unseen classes get ``UNSEEN_LOGIT``."""
        self._check_fitted()
        z = check_X(X, self.n_features_)
        if self.kind in ("cnn", "onnx"):
            from fibench.fi import graph as gr

            z = gr.Graph(self._body, (self.n_features_,)).forward(z)
            z = z.reshape(len(z), -1)
        for (W, b), act in zip(self._layers, self.activations):
            z = z @ W + b
            if act == "relu":
                z = np.maximum(z, 0.0)
        unseen = np.setdiff1d(np.arange(self.n_classes), self.classes_seen_)
        z[:, unseen] = UNSEEN_LOGIT  # exact (no rounding from a zero column)
        return z

    def predict_proba(self, X) -> np.ndarray:
        """(n, C) class probabilities; exactly 0 for classes the owner never saw."""
        z = self.logits(X)
        p = np.zeros_like(z)
        seen = self.classes_seen_
        p[:, seen] = _softmax(z[:, seen])
        return p

    def predict(self, X) -> np.ndarray:
        return np.argmax(self.logits(X), axis=1)

    def votes(self, X) -> np.ndarray:
        """(n, C) one-hot of the owner's own label (ties to the lowest label)."""
        lab = self.predict(X)
        out = np.zeros((len(lab), self.n_classes))
        out[np.arange(len(lab)), lab] = 1.0
        return out

    def __repr__(self):
        state = "unfitted" if self._layers is None else f"seen={len(self.classes_seen_)}/{self.n_classes} classes"
        sizes = self.hidden if len(self.hidden_sizes) == 1 else self.hidden_sizes
        extra = f", hidden={sizes}" if self.kind == "mlp" else (f", spec={self._spec!r}" if self._spec else "")
        return f"LocalModel(kind={self.kind!r}{extra}, {state})"


def train_local_model(X, y, n_classes: int | None = None, kind: str = "lr", *, hidden: int = DEFAULT_HIDDEN,
                      seed: int = 0, **kwargs) -> LocalModel:
    """Train one owner's model (shortcut for ``LocalModel(...).fit(X, y)``)."""
    return LocalModel(kind, n_classes, hidden=hidden, seed=seed, **kwargs).fit(X, y)
