"""A model as a small layer graph, with the plaintext numpy evaluator that is the reference
for every secure result.

A :class:`Graph` is a sequence of layers applied to one sample of shape ``input_shape``
(per-sample shapes; the batch axis is never part of a shape):

``Dense(W (in, out), b (out,))``     ``z = x @ W + b`` on a 1-D input
``Conv2d(weight (oc, ic, kh, kw), bias (oc,), stride, padding)``  on a (C, H, W) input, zero padding
``ReLU()``, ``Identity()``
``AvgPool2d(kernel_size, stride=None, padding=0, count_include_pad=True)``,
``MaxPool2d(kernel_size, stride=None, padding=0)`` (stride defaults to the kernel size; a padded
    max-pool ignores the padding, as with -inf)
``Flatten()`` (C order, as PyTorch and ONNX), ``Reshape(shape)``
``Residual(layers)``                 ``x + branch(x)``, the branch keeping the shape (nested blocks allowed)
``Softmax()``                        only as the last layer
``BatchNorm(gamma, beta, mean, var, eps)``  folded into the preceding Dense/Conv2d when the graph is built

Shapes are checked at construction: a ``ValueError`` names the layer index, the expected and
the actual shape. ``Graph.logits(X)`` evaluates everything but a final ``Softmax`` (float64),
``Graph.predict_proba(X)`` is its softmax. Importers: :func:`from_sklearn` (logistic regression,
linear classifiers, ``MLPClassifier`` of any depth with ReLU or identity activations) and
:func:`from_onnx` (sequential ONNX graphs of ``ONNX_OPS``; needs the optional ``onnx`` package).
Secure evaluation: ``fibench.fi.secure_graph``.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["AvgPool2d", "BatchNorm", "Conv2d", "Dense", "Flatten", "Graph", "Identity", "MaxPool2d", "ReLU",
           "Reshape", "Residual", "Softmax", "as_graph", "from_dense_layers", "from_onnx", "from_sklearn", "im2col", "pool_windows"]


def _array(a, name: str, ndim: int) -> np.ndarray:
    a = np.asarray(a)
    if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
        raise ValueError(f"{name} must be a real numeric array, got dtype {a.dtype}")
    a = np.array(a, dtype=np.float64)
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must not contain NaN or infinite values")
    return a


def _pair(v, name: str, lo: int) -> tuple[int, int]:
    vals = (v, v) if isinstance(v, (int, np.integer)) and not isinstance(v, bool) else tuple(v) if \
        isinstance(v, (tuple, list)) else None
    if vals is None or len(vals) != 2 or any(isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < lo
                                             for x in vals):
        raise ValueError(f"{name} must be an integer >= {lo} or a pair of them, got {v!r}")
    return int(vals[0]), int(vals[1])


# -- layout helpers shared with the secure evaluator (any dtype: float64 or uint64 shares) ---------

def im2col(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple) -> np.ndarray:
    """(n, C, H, W) -> (n * OH * OW, C * kh * kw): one row per output position, columns ordered
    (channel, kh, kw) like ``weight.reshape(oc, -1)``; zero padding. A linear layout change."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    win = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]  # (n, C, OH, OW, kh, kw)
    n, C, OH, OW = win.shape[:4]
    return np.ascontiguousarray(win.transpose(0, 2, 3, 1, 4, 5)).reshape(n * OH * OW, C * kh * kw)


def cols_to_image(z: np.ndarray, n: int, oh: int, ow: int) -> np.ndarray:
    """(n * OH * OW, OC) -> (n, OC, OH, OW)."""
    return np.ascontiguousarray(z.reshape(n, oh, ow, z.shape[1]).transpose(0, 3, 1, 2))


def pool_windows(x: np.ndarray, kernel: tuple, stride: tuple) -> np.ndarray:
    """(n, C, H, W) -> (n, C, OH, OW, kh * kw): the window of every output position."""
    kh, kw = kernel
    win = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride[0], ::stride[1]]
    return np.ascontiguousarray(win).reshape(win.shape[:4] + (kh * kw,))


def _conv_out(h: int, w: int, kernel, stride, padding) -> tuple[int, int]:
    return ((h + 2 * padding[0] - kernel[0]) // stride[0] + 1, (w + 2 * padding[1] - kernel[1]) // stride[1] + 1)


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


# -- layers ---------------------------------------------------------------------------------------

class Layer:
    """Base class: ``out_shape(in_shape)`` (per-sample; ValueError text without the index),
    ``forward(x)`` (batch-first float64), ``bound(z)`` (elementwise bound on |output| from a
    bound on |input|), ``signature()`` (what must match for owners to be batched)."""

    kind = "layer"
    linear = False  # Dense and Conv2d: their parameters are the owners' secret inputs

    def out_shape(self, s: tuple) -> tuple:
        return s

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def bound(self, z: np.ndarray) -> np.ndarray:
        return z

    def signature(self) -> tuple:
        return (self.kind,)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _need(s: tuple, ndim: int, what: str) -> None:
    if len(s) != ndim:
        raise ValueError(f"expected {what}, got input shape {s}")


class Dense(Layer):
    """``x @ W + b``; ``W`` of shape (in, out), ``b`` (out,) (default zeros)."""

    kind = "dense"
    linear = True

    def __init__(self, W, b=None):
        self.W = _array(W, "Dense W", 2)
        self.b = np.zeros(self.W.shape[1]) if b is None else _array(b, "Dense b", 1)
        if self.b.shape != (self.W.shape[1],):
            raise ValueError(f"Dense b must have shape ({self.W.shape[1]},) to match W {self.W.shape}, "
                             f"got {self.b.shape}")

    def out_shape(self, s):
        if s != (self.W.shape[0],):
            raise ValueError(f"expected input shape ({self.W.shape[0]},), got {s}"
                             + (" (add a Flatten layer)" if len(s) > 1 else ""))
        return (self.W.shape[1],)

    def forward(self, x):
        return x @ self.W + self.b

    def bound(self, z):
        return np.abs(self.W).T @ z + np.abs(self.b)

    def matrix(self) -> tuple[np.ndarray, np.ndarray]:
        """(W as the right operand of a matrix product, bias)."""
        return self.W, self.b

    def signature(self):
        return (self.kind, self.W.shape)

    def __repr__(self):
        return f"Dense({self.W.shape[0]} -> {self.W.shape[1]})"


class Conv2d(Layer):
    """2-D convolution (cross-correlation, as PyTorch/ONNX): ``weight`` (oc, ic, kh, kw),
    ``bias`` (oc,), ``stride`` and ``padding`` (zeros, both sides) as ints or pairs."""

    kind = "conv2d"
    linear = True

    def __init__(self, weight, bias=None, stride=1, padding=0):
        self.weight = _array(weight, "Conv2d weight", 4)
        oc = self.weight.shape[0]
        self.bias = np.zeros(oc) if bias is None else _array(bias, "Conv2d bias", 1)
        if self.bias.shape != (oc,):
            raise ValueError(f"Conv2d bias must have shape ({oc},), got {self.bias.shape}")
        if min(self.weight.shape) < 1:
            raise ValueError(f"Conv2d weight must have no empty axis, got shape {self.weight.shape}")
        self.stride = _pair(stride, "Conv2d stride", 1)
        self.padding = _pair(padding, "Conv2d padding", 0)

    @property
    def kernel(self):
        return self.weight.shape[2:]

    def out_shape(self, s):
        oc, ic, kh, kw = self.weight.shape
        _need(s, 3, f"a (C, H, W) input with C = {ic}")
        if s[0] != ic:
            raise ValueError(f"expected input shape ({ic}, H, W), got {s}")
        oh, ow = _conv_out(s[1], s[2], self.kernel, self.stride, self.padding)
        if oh < 1 or ow < 1:
            raise ValueError(f"expected an input of at least {kh - 2 * self.padding[0]}x{kw - 2 * self.padding[1]} "
                             f"pixels for the {kh}x{kw} kernel, got input shape {s}")
        return (oc, oh, ow)

    def matrix(self):
        """(weight as a (ic*kh*kw, oc) matrix for ``im2col(x) @ W``, bias)."""
        return self.weight.reshape(self.weight.shape[0], -1).T.copy(), self.bias

    def _apply(self, x, W, b):
        n, _, h, w = x.shape
        oh, ow = _conv_out(h, w, self.kernel, self.stride, self.padding)
        z = im2col(x, self.kernel, self.stride, self.padding) @ W
        return cols_to_image(z, n, oh, ow) + b[None, :, None, None]

    def forward(self, x):
        W, b = self.matrix()
        return self._apply(x, W, b)

    def bound(self, z):
        W, b = self.matrix()
        return self._apply(z[None], np.abs(W), np.abs(b))[0]

    def signature(self):
        return (self.kind, self.weight.shape, self.stride, self.padding)

    def __repr__(self):
        oc, ic, kh, kw = self.weight.shape
        return f"Conv2d({ic} -> {oc}, {kh}x{kw}, stride={self.stride}, padding={self.padding})"


class ReLU(Layer):
    kind = "relu"

    def forward(self, x):
        return np.maximum(x, 0.0)


class Identity(Layer):
    kind = "identity"


class Softmax(Layer):
    """Softmax over the features of a 1-D output; only as the last layer."""

    kind = "softmax"

    def out_shape(self, s):
        _need(s, 1, "a 1-D input (scores)")
        return s

    def forward(self, x):
        return softmax(x)

    def bound(self, z):
        return np.ones_like(z)


class Flatten(Layer):
    kind = "flatten"

    def out_shape(self, s):
        return (int(np.prod(s)),)

    def forward(self, x):
        return x.reshape(x.shape[0], -1)

    def bound(self, z):
        return z.reshape(-1)


class Reshape(Layer):
    kind = "reshape"

    def __init__(self, shape):
        shape = tuple(shape) if isinstance(shape, (tuple, list)) else None
        if not shape or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1 for v in shape):
            raise ValueError(f"Reshape shape must be a non-empty tuple of positive integers, got {shape!r}")
        self.shape = tuple(int(v) for v in shape)

    def out_shape(self, s):
        if int(np.prod(s)) != int(np.prod(self.shape)):
            raise ValueError(f"expected an input of {int(np.prod(self.shape))} values for shape {self.shape}, "
                             f"got input shape {s}")
        return self.shape

    def forward(self, x):
        return x.reshape((x.shape[0],) + self.shape)

    def bound(self, z):
        return z.reshape(self.shape)

    def signature(self):
        return (self.kind, self.shape)

    def __repr__(self):
        return f"Reshape({self.shape})"


def _pool_index(h: int, w: int, kernel: tuple, stride: tuple, padding: tuple, dup: bool):
    """Gather map of a padded pool over an (H, W) image flattened to H*W values plus one zero
    slot at index H*W: ``(idx (OH, OW, kh*kw), counts (OH, OW))``, ``counts`` the real pixels of
    each window. A padded position maps to the zero slot, or (``dup``, for max) to the window's
    first real pixel, which leaves the maximum unchanged (ONNX/PyTorch pad max-pools with -inf)."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    oh, ow = _conv_out(h, w, kernel, stride, padding)
    r = (np.arange(oh) * sh - ph)[:, None, None, None] + np.arange(kh)[None, None, :, None]  # (OH, 1, kh, 1)
    c = (np.arange(ow) * sw - pw)[None, :, None, None] + np.arange(kw)[None, None, None, :]  # (1, OW, 1, kw)
    valid = (r >= 0) & (r < h) & (c >= 0) & (c < w)
    idx = np.where(valid, r * w + c, h * w).reshape(oh, ow, kh * kw)
    valid = valid.reshape(oh, ow, kh * kw)
    if dup:
        first = np.take_along_axis(idx, np.argmax(valid, axis=-1)[..., None], axis=-1)
        idx = np.where(valid, idx, first)
    return idx, valid.sum(axis=-1)


class _Pool2d(Layer):
    def __init__(self, kernel_size, stride=None, padding=0):
        name = type(self).__name__
        self.kernel = _pair(kernel_size, f"{name} kernel_size", 1)
        self.stride = self.kernel if stride is None else _pair(stride, f"{name} stride", 1)
        self.padding = _pair(padding, f"{name} padding", 0)
        if any(p >= k for p, k in zip(self.padding, self.kernel)):
            raise ValueError(f"{name} padding must be smaller than kernel_size (every window needs a real "
                             f"pixel), got padding {self.padding} for kernel_size {self.kernel}")

    @property
    def window(self) -> int:
        return self.kernel[0] * self.kernel[1]

    def out_shape(self, s):
        _need(s, 3, "a (C, H, W) input")
        oh, ow = _conv_out(s[1], s[2], self.kernel, self.stride, self.padding)
        if oh < 1 or ow < 1:
            raise ValueError(f"expected an input of at least {self.kernel[0]}x{self.kernel[1]} pixels, "
                             f"got input shape {s}")
        return (s[0], oh, ow)

    def windows(self, x):
        """(..., C, H, W) -> (..., C, OH, OW, kh*kw), any dtype (float64 or uint64 shares): the
        values of every window; padded positions hold 0 (avg) or a real pixel of the window (max)."""
        if not any(self.padding):
            return pool_windows(x, self.kernel, self.stride)
        h, w = x.shape[-2:]
        idx, _ = _pool_index(h, w, self.kernel, self.stride, self.padding, isinstance(self, MaxPool2d))
        flat = x.reshape(x.shape[:-2] + (h * w,))
        flat = np.concatenate([flat, np.zeros(flat.shape[:-1] + (1,), dtype=x.dtype)], axis=-1)
        return flat[..., idx]

    def signature(self):
        return (self.kind, self.kernel, self.stride, self.padding)

    def __repr__(self):
        pad = f", padding={self.padding}" if any(self.padding) else ""
        return f"{type(self).__name__}({self.kernel}, stride={self.stride}{pad})"


class AvgPool2d(_Pool2d):
    """Mean over each window. With ``padding``, ``count_include_pad=True`` (PyTorch's default)
    divides by kh*kw, ``False`` (ONNX's default) by the number of real pixels in the window."""

    kind = "avgpool2d"

    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad: bool = True):
        super().__init__(kernel_size, stride, padding)
        if not isinstance(count_include_pad, (bool, np.bool_)):
            raise ValueError(f"AvgPool2d count_include_pad must be True or False, got {count_include_pad!r}")
        self.count_include_pad = bool(count_include_pad)

    def divisor(self, h: int, w: int):
        """The public divisor: kh*kw (an int), or (OH, OW) real-pixel counts."""
        if self.count_include_pad or not any(self.padding):
            return self.window
        return _pool_index(h, w, self.kernel, self.stride, self.padding, False)[1].astype(np.float64)

    def forward(self, x):
        return self.windows(x).sum(axis=-1) / self.divisor(*x.shape[-2:])

    def bound(self, z):
        return self.windows(z[None])[0].sum(axis=-1) / self.divisor(*z.shape[-2:])

    def signature(self):
        return super().signature() + (self.count_include_pad,)


class MaxPool2d(_Pool2d):
    """Maximum over each window (padded positions never win, as with -inf padding)."""

    kind = "maxpool2d"

    def forward(self, x):
        return self.windows(x).max(axis=-1)

    def bound(self, z):
        return self.windows(z[None])[0].max(axis=-1)


class BatchNorm(Layer):
    """Inference-time batch normalization ``gamma (x - mean) / sqrt(var + eps) + beta`` per
    feature (after a Dense) or per channel (after a Conv2d); folded into that layer by
    :class:`Graph`, so it never reaches an evaluator."""

    kind = "batchnorm"

    def __init__(self, gamma, beta, mean, var, eps: float = 1e-5):
        self.gamma, self.beta = _array(gamma, "BatchNorm gamma", 1), _array(beta, "BatchNorm beta", 1)
        self.mean, self.var = _array(mean, "BatchNorm mean", 1), _array(var, "BatchNorm var", 1)
        if not (self.gamma.shape == self.beta.shape == self.mean.shape == self.var.shape):
            raise ValueError("BatchNorm gamma, beta, mean and var must have the same shape")
        if not isinstance(eps, (int, float)) or isinstance(eps, bool) or eps < 0 or np.any(self.var + eps <= 0):
            raise ValueError("BatchNorm needs var + eps > 0 for every feature")
        self.eps = float(eps)

    def fold(self, layer: Layer, index: int) -> Layer:
        scale = self.gamma / np.sqrt(self.var + self.eps)
        shift = self.beta - self.mean * scale
        if isinstance(layer, Dense) and layer.W.shape[1] == scale.size:
            return Dense(layer.W * scale[None, :], layer.b * scale + shift)
        if isinstance(layer, Conv2d) and layer.weight.shape[0] == scale.size:
            return Conv2d(layer.weight * scale[:, None, None, None], layer.bias * scale + shift, layer.stride,
                          layer.padding)
        raise ValueError(f"layer {index} (batchnorm): expected a preceding dense or conv2d layer with "
                         f"{scale.size} outputs, got {layer!r}")


def _fold(layers, where: str = "layer") -> list:
    """The layers with every BatchNorm folded into the preceding Dense/Conv2d."""
    folded: list[Layer] = []
    for i, layer in enumerate(list(layers)):
        if not isinstance(layer, Layer):
            raise ValueError(f"{where} {i}: expected a layer (Dense, Conv2d, ReLU, ...), got {type(layer).__name__}")
        if isinstance(layer, BatchNorm):
            if not folded:
                raise ValueError(f"{where} {i} (batchnorm): expected a preceding dense or conv2d layer, got none")
            folded[-1] = layer.fold(folded[-1], i)
            continue
        folded.append(layer)
    return folded


def _shapes(layers, input_shape: tuple, where: str = "layer") -> tuple:
    """``shapes[i]``: the input of layer i; ``shapes[-1]``: the output (ValueError naming the layer)."""
    shapes = [tuple(input_shape)]
    for i, layer in enumerate(layers):
        try:
            shapes.append(tuple(layer.out_shape(shapes[-1])))
        except ValueError as exc:
            raise ValueError(f"{where} {i} ({layer.kind}): {exc}") from None
    return tuple(shapes)


def _walk_bounds(layers, z: np.ndarray, acc: dict) -> np.ndarray:
    """Interval bounds through ``layers`` (see ``Graph.bounds``), maxima collected in ``acc``."""
    for layer in layers:
        if isinstance(layer, ReLU):
            acc["relu"] = max(acc["relu"], float(z.max()))
        elif isinstance(layer, MaxPool2d):
            acc["maxpool"] = max(acc["maxpool"], float(z.max()))
        if isinstance(layer, Residual):
            out = z + _walk_bounds(layer.branch, z, acc)
        else:
            out = layer.bound(z)
        if layer.linear:
            bias = np.abs(layer.matrix()[1]).reshape((-1,) + (1,) * (out.ndim - 1))
            acc["products"] = max(acc["products"], float((out - bias).max()))
        z = out
    return z


class Residual(Layer):
    """A residual block ``y = x + branch(x)``: ``layers`` (any of the layers above but Softmax,
    nested blocks included) must map the input shape to itself. The skip connection is a local
    addition of shares (0 bytes, 0 rounds); the branch costs what its layers cost."""

    kind = "residual"

    def __init__(self, layers):
        self.branch = _fold(layers, "branch layer")
        if not self.branch:
            raise ValueError("Residual needs at least one layer in its branch")
        if any(isinstance(layer, Softmax) for layer in self.branch):
            raise ValueError("Residual: a branch must not contain a softmax")

    def out_shape(self, s):
        shapes = _shapes(self.branch, s, "branch layer")
        if shapes[-1] != tuple(s):
            raise ValueError(f"expected the branch to keep the input shape {tuple(s)}, got output shape {shapes[-1]}")
        return tuple(s)

    def forward(self, x):
        z = x
        for layer in self.branch:
            z = layer.forward(z)
        return x + z

    def bound(self, z):
        return z + _walk_bounds(self.branch, z, {"relu": 0.0, "maxpool": 0.0, "products": 0.0})

    def linear_layers(self) -> list:
        return _linear_layers(self.branch)

    def signature(self):
        return (self.kind,) + tuple(layer.signature() for layer in self.branch)

    def __repr__(self):
        return "Residual(" + " -> ".join(map(repr, self.branch)) + ")"


def _linear_layers(layers) -> list:
    """Every Dense and Conv2d in evaluation order, inside residual branches too."""
    out = []
    for layer in layers:
        if layer.linear:
            out.append(layer)
        elif isinstance(layer, Residual):
            out += layer.linear_layers()
    return out


# -- the graph ----------------------------------------------------------------------------------

class Graph:
    """A sequence of layers with shapes checked at construction (see the module docstring).

    ``input_shape``: one sample's shape, e.g. ``(64,)`` or ``(1, 8, 8)``; inputs ``X`` may be
    given as ``(n, *input_shape)`` or flattened as ``(n, prod(input_shape))``."""

    def __init__(self, layers, input_shape):
        if isinstance(input_shape, (int, np.integer)):
            input_shape = (input_shape,)
        if not isinstance(input_shape, (tuple, list)) or not input_shape or \
                any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1 for v in input_shape):
            raise ValueError(f"input_shape must be a non-empty tuple of positive integers, got {input_shape!r}")
        self.input_shape = tuple(int(v) for v in input_shape)
        folded = _fold(layers)
        if not folded:
            raise ValueError("a graph needs at least one layer")
        for i, layer in enumerate(folded[:-1]):
            if isinstance(layer, Softmax):
                raise ValueError(f"layer {i} (softmax): expected only as the last layer, found at position {i} "
                                 f"of {len(folded)}")
        shapes = _shapes(folded, self.input_shape)
        self.layers = tuple(folded)
        self.shapes = tuple(shapes)  # shapes[i]: input of layer i; shapes[-1]: output

    # -- description ------------------------------------------------------------------------------
    @property
    def output_shape(self) -> tuple:
        return self.shapes[-1]

    @property
    def body(self) -> tuple:
        """The layers that produce the logits: all but a final Softmax."""
        return self.layers[:-1] if isinstance(self.layers[-1], Softmax) else self.layers

    @property
    def n_outputs(self) -> int:
        return int(np.prod(self.shapes[len(self.body)]))

    def linear_params(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(W, b) of every Dense and Conv2d in order, W as a matrix product's right operand."""
        return [layer.matrix() for layer in _linear_layers(self.body)]

    def signature(self) -> tuple:
        """Owners whose graphs have equal signatures are evaluated together (batched)."""
        return (self.input_shape,) + tuple(layer.signature() for layer in self.body)

    def __repr__(self):
        return f"Graph({self.input_shape} -> " + " -> ".join(map(repr, self.layers)) + f" -> {self.output_shape})"

    # -- plaintext evaluation (float64, the reference) -------------------------------------------
    def _input(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        size = int(np.prod(self.input_shape))
        if X.ndim == 2 and X.shape[1] == size:
            return X.reshape((X.shape[0],) + self.input_shape)
        if X.shape[1:] != self.input_shape:
            raise ValueError(f"X must have shape (n, {size}) or (n, {', '.join(map(str, self.input_shape))}), "
                             f"got {X.shape}")
        return X

    def forward(self, X, upto: int | None = None) -> np.ndarray:
        """Outputs of the first ``upto`` layers (default: all), batch-first float64."""
        z = self._input(X)
        for layer in self.layers[:upto]:
            z = layer.forward(z)
        return z

    def logits(self, X) -> np.ndarray:
        """(n, C) scores before a final Softmax."""
        z = self.forward(X, len(self.body))
        return z.reshape(z.shape[0], -1)

    def predict_proba(self, X) -> np.ndarray:
        return softmax(self.logits(X))

    def predict(self, X) -> np.ndarray:
        return np.argmax(self.logits(X), axis=1)

    # -- interval arithmetic ----------------------------------------------------------------------
    def bounds(self, x_bound) -> dict:
        """Bounds from a per-feature bound on |x| (shape ``input_shape`` or flattened):
        ``relu`` (max |ReLU input|), ``maxpool`` (max |value| entering a max-pool comparison;
        their inputs are differences of two such values), ``products`` (max over Dense/Conv
        outputs of sum |x||W|, the Beaver product's range) and ``out`` (per-logit bound)."""
        z = np.abs(np.asarray(x_bound, dtype=np.float64)).reshape(self.input_shape)
        acc = {"relu": 0.0, "maxpool": 0.0, "products": 0.0}
        out = _walk_bounds(self.body, z, acc)
        return {**acc, "out": out.reshape(-1)}


def from_dense_layers(layers, activations=None) -> Graph:
    """A graph from ``[(W, b), ...]`` (W of shape (in, out)): ReLU between layers (or the
    given ``activations``, one of "relu"/"identity" per layer), none after the last."""
    layers = list(layers)
    if not layers:
        raise ValueError("layers must hold at least one (W, b) pair")
    if activations is None:
        activations = ["relu"] * (len(layers) - 1) + ["identity"]
    if len(activations) != len(layers):
        raise ValueError(f"activations must name one function per layer ({len(layers)}), got {len(activations)}")
    out: list[Layer] = []
    for i, (item, act) in enumerate(zip(layers, activations)):
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise ValueError(f"layer {i}: expected a pair (W, b)")
        out.append(Dense(*item))
        if act == "relu":
            out.append(ReLU())
        elif act != "identity":
            raise ValueError(f"layer {i}: activation must be 'relu' or 'identity', got {act!r}")
    return Graph(out, (out[0].W.shape[0],))


def as_graph(model) -> Graph:
    """A ``Graph`` as it is, or a ``[(W, b), ...]`` list (Dense/ReLU sequence) as one."""
    return model if isinstance(model, Graph) else from_dense_layers(model)


def _symmetric(W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One binary score z -> logits (-z/2, z/2), whose softmax is sigmoid(z)."""
    return np.hstack([-W / 2, W / 2]), np.concatenate([-b / 2, b / 2])


def from_sklearn(estimator) -> Graph:
    """The graph of a fitted scikit-learn classifier: ``LogisticRegression`` (and any linear
    classifier with ``coef_``/``intercept_``, e.g. ``LinearSVC``, ``RidgeClassifier``), or
    ``MLPClassifier`` of any depth with activation ``relu`` or ``identity``.

    Logits equal ``decision_function`` for multi-class models; a binary model's one score z
    becomes the logits (-z/2, z/2) (their difference is z and their softmax ``predict_proba``).
    Probabilistic models (LR, MLP) end in a ``Softmax`` layer, so ``predict_proba`` matches."""
    from sklearn.linear_model._base import LinearClassifierMixin
    from sklearn.neural_network import MLPClassifier

    if isinstance(estimator, MLPClassifier):
        if not hasattr(estimator, "coefs_"):
            raise ValueError("from_sklearn: the MLPClassifier is not fitted")
        if estimator.activation not in ("relu", "identity"):
            raise ValueError(f"from_sklearn: MLPClassifier activation {estimator.activation!r} is not supported "
                             "(use 'relu' or 'identity'; logistic and tanh have no secure evaluation in fibench)")
        if estimator.out_activation_ not in ("softmax", "logistic") or \
                (estimator.out_activation_ == "logistic" and estimator.coefs_[-1].shape[1] != 1):
            raise ValueError(f"from_sklearn: MLPClassifier output {estimator.out_activation_!r} with "
                             f"{estimator.coefs_[-1].shape[1]} outputs (multi-label) is not supported")
        pairs = [(np.asarray(W, np.float64), np.asarray(b, np.float64))
                 for W, b in zip(estimator.coefs_, estimator.intercepts_)]
        if estimator.out_activation_ == "logistic":
            pairs[-1] = _symmetric(*pairs[-1])
        layers: list[Layer] = []
        for i, (W, b) in enumerate(pairs):
            layers.append(Dense(W, b))
            if i < len(pairs) - 1 and estimator.activation == "relu":
                layers.append(ReLU())
        layers.append(Softmax())
        return Graph(layers, (pairs[0][0].shape[0],))
    if isinstance(estimator, LinearClassifierMixin):
        if not hasattr(estimator, "coef_"):
            raise ValueError(f"from_sklearn: the {type(estimator).__name__} is not fitted")
        is_lr = type(estimator).__name__ == "LogisticRegression"
        if is_lr and getattr(estimator, "multi_class", "auto") == "ovr" and len(estimator.classes_) > 2:
            raise ValueError("from_sklearn: one-vs-rest LogisticRegression probabilities are not a softmax; "
                             "fit with the default multinomial setting")
        W = np.asarray(estimator.coef_, np.float64).T
        b = np.broadcast_to(np.asarray(estimator.intercept_, np.float64), (W.shape[1],)).copy()
        if W.shape[1] == 1:
            W, b = _symmetric(W, b)
        layers = [Dense(W, b)]
        if is_lr:
            layers.append(Softmax())
        return Graph(layers, (W.shape[0],))
    raise ValueError(f"from_sklearn supports LogisticRegression, linear classifiers and MLPClassifier, "
                     f"got {type(estimator).__name__}")


# -- ONNX import ---------------------------------------------------------------------------------

#: the ONNX operators ``from_onnx`` reads (a sequential graph: each node consumes the previous
#: node's output and constants)
ONNX_OPS = ("Gemm", "MatMul", "Add", "Relu", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten",
            "Reshape", "BatchNormalization", "Softmax", "Identity", "Constant")


def _onnx_model(path_or_bytes):
    try:
        import onnx
    except ImportError:
        raise ImportError("from_onnx needs the optional package onnx: pip install 'fibench[onnx]'") from None
    if isinstance(path_or_bytes, onnx.ModelProto):
        return path_or_bytes
    if isinstance(path_or_bytes, (bytes, bytearray)):
        return onnx.load_model_from_string(bytes(path_or_bytes))
    import os

    if isinstance(path_or_bytes, (str, os.PathLike)):
        return onnx.load(os.fspath(path_or_bytes))
    raise ValueError(f"path_or_bytes must be a file path, bytes or an onnx.ModelProto, got {type(path_or_bytes).__name__}")


class _OnnxReader:
    """Turns the nodes of a sequential ONNX graph into fibench layers, one node at a time."""

    def __init__(self, model):
        from onnx import numpy_helper

        self.to_array = numpy_helper.to_array
        g = model.graph
        self.consts = {t.name: np.asarray(self.to_array(t)) for t in g.initializer}
        inputs = [v for v in g.input if v.name not in self.consts]
        if len(inputs) != 1:
            raise ValueError(f"from_onnx: expected one graph input (besides initializers), got "
                             f"{[v.name for v in inputs]}")
        dims = inputs[0].type.tensor_type.shape.dim
        shape = tuple(int(d.dim_value) if d.HasField("dim_value") else 0 for d in dims[1:])
        if len(dims) < 2 or any(v < 1 for v in shape):
            raise ValueError(f"from_onnx: the input {inputs[0].name!r} must have a batch axis and fixed "
                             f"per-sample dimensions, got {len(dims)} axes {shape}")
        self.input_shape = shape
        self.current, self.shape = inputs[0].name, shape
        self.layers: list[Layer] = []
        #: tensors of the chain: name -> (number of layers before it, its shape); a residual Add
        #: reads one of them
        self.chain = {self.current: (0, shape)}
        self.outputs = [o.name for o in g.output]

    # -- helpers ----------------------------------------------------------------------------------
    def _where(self, node, i):
        return f"node {i} ({node.op_type}{' ' + repr(node.name) if node.name else ''})"

    def _attrs(self, node) -> dict:
        from onnx import helper

        return {a.name: helper.get_attribute_value(a) for a in node.attribute}

    def _const(self, node, i, name, what):
        if name not in self.consts:
            raise ValueError(f"from_onnx: {self._where(node, i)}: its {what} {name!r} must be a constant "
                             "(an initializer or a Constant node)")
        return np.asarray(self.consts[name], dtype=np.float64)

    def _data(self, node, i) -> None:
        """The node's first input must be the running tensor."""
        if not node.input or node.input[0] != self.current:
            raise ValueError(f"from_onnx: {self._where(node, i)} reads {list(node.input)}, not the output "
                             f"{self.current!r} of the previous node: only sequential graphs are supported")

    def _push(self, layer: Layer, node, i) -> None:
        try:
            self.shape = tuple(layer.out_shape(self.shape))
        except ValueError as exc:
            raise ValueError(f"from_onnx: {self._where(node, i)}: {exc}") from None
        self.layers.append(layer)

    def _refuse(self, node, i, why):
        raise ValueError(f"from_onnx: {self._where(node, i)}: {why}")

    # -- one node -----------------------------------------------------------------------------------
    def node(self, node, i) -> None:
        op, a = node.op_type, self._attrs(node)
        if op == "Constant":
            if "value" not in a:
                self._refuse(node, i, "only Constant nodes with a 'value' tensor are supported")
            self.consts[node.output[0]] = np.asarray(self.to_array(a["value"]))
            return
        if op not in ONNX_OPS or (node.domain not in ("", "ai.onnx")):
            raise ValueError(f"from_onnx: unsupported operator {op!r} at {self._where(node, i)}; supported: "
                             f"{', '.join(ONNX_OPS)}")
        if op == "Add" and len(node.input) == 2 and all(n not in self.consts for n in node.input):
            self._residual(node, i)
        else:
            self._data(node, i)
            getattr(self, f"_op_{op}")(node, i, a)
        self.current = node.output[0]
        self.chain[self.current] = (len(self.layers), self.shape)

    def _residual(self, node, i) -> None:
        """``Add`` of the running tensor and an earlier tensor of the chain: the layers between
        them become a ``Residual`` branch."""
        if self.current not in node.input:
            self._refuse(node, i, f"adds {list(node.input)}: one addend must be the previous node's output "
                                  f"{self.current!r}")
        skip = node.input[1] if node.input[0] == self.current else node.input[0]
        if skip not in self.chain or skip == self.current:
            self._refuse(node, i, f"adds {list(node.input)}: the other addend must be an earlier tensor of the "
                                  "sequential chain (a residual connection); branches with layers of their own "
                                  "on the skip path are not supported")
        start, shape = self.chain[skip]
        if shape != self.shape:
            self._refuse(node, i, f"a residual addition of shapes {shape} and {self.shape}: the branch must keep "
                                  "the shape")
        if start == len(self.layers):
            self._refuse(node, i, "the residual branch holds no layer (x + x is not supported)")
        branch = self.layers[start:]
        del self.layers[start:]
        self.chain = {k: v for k, v in self.chain.items() if v[0] <= start}  # tensors inside the branch are gone
        self._push(Residual(branch), node, i)

    def _op_Identity(self, node, i, a):
        self._push(Identity(), node, i)

    def _op_Relu(self, node, i, a):
        self._push(ReLU(), node, i)

    def _op_Softmax(self, node, i, a):
        axis = a.get("axis", -1)
        if len(self.shape) != 1 or axis not in (-1, 1):
            self._refuse(node, i, f"softmax over axis {axis} of a per-sample shape {self.shape}: only over the "
                                  "classes of a 1-D score vector")
        self._push(Softmax(), node, i)

    def _op_Gemm(self, node, i, a):
        if a.get("transA", 0):
            self._refuse(node, i, "transA=1 is not supported (the data operand must be A)")
        B = self._const(node, i, node.input[1], "B")
        W = float(a.get("alpha", 1.0)) * (B.T if a.get("transB", 0) else B)
        if W.ndim != 2:
            self._refuse(node, i, f"B must be a matrix, got shape {B.shape}")
        b = np.zeros(W.shape[1])
        if len(node.input) > 2 and node.input[2]:
            C = self._const(node, i, node.input[2], "C")
            try:
                b = float(a.get("beta", 1.0)) * np.broadcast_to(C.reshape(-1) if C.ndim == 2 and C.shape[0] == 1
                                                                else C, (W.shape[1],))
            except ValueError:
                self._refuse(node, i, f"C of shape {C.shape} is not a bias over the {W.shape[1]} outputs")
        self._push(Dense(W, b), node, i)

    def _op_MatMul(self, node, i, a):
        B = self._const(node, i, node.input[1], "B")
        if B.ndim != 2:
            self._refuse(node, i, f"B must be a matrix, got shape {B.shape}")
        self._push(Dense(B), node, i)

    def _op_Add(self, node, i, a):
        other = node.input[1]
        if other not in self.consts:
            self._refuse(node, i, "adding two computed tensors (a residual connection) is not supported; "
                                  "only a constant bias after Gemm, MatMul or Conv")
        c = self._const(node, i, other, "addend")
        prev = self.layers[-1] if self.layers else None
        try:
            full = np.broadcast_to(c, (1,) + self.shape)[0]
        except ValueError:
            self._refuse(node, i, f"the constant of shape {c.shape} does not broadcast to {self.shape}")
        if isinstance(prev, Dense) and len(self.shape) == 1:
            self.layers[-1] = Dense(prev.W, prev.b + full)
        elif isinstance(prev, Conv2d) and len(self.shape) == 3 and \
                np.all(full == full[:, :1, :1]):
            self.layers[-1] = Conv2d(prev.weight, prev.bias + full[:, 0, 0], prev.stride, prev.padding)
        else:
            self._refuse(node, i, "a constant Add is supported only right after Gemm, MatMul (any bias) or Conv "
                                  f"(a per-channel bias), found after {prev!r}")

    def _op_Conv(self, node, i, a):
        W = self._const(node, i, node.input[1], "weight")
        if W.ndim != 4:
            self._refuse(node, i, f"only 2-D convolutions are supported (weight of 4 axes), got {W.shape}")
        if a.get("group", 1) != 1:
            self._refuse(node, i, f"group={a['group']} is not supported (only group=1)")
        if any(d != 1 for d in a.get("dilations", [1, 1])):
            self._refuse(node, i, f"dilations={list(a['dilations'])} are not supported (only 1)")
        pads = self._pads(node, i, a)
        b = self._const(node, i, node.input[2], "bias") if len(node.input) > 2 and node.input[2] else None
        self._push(Conv2d(W, b, tuple(a.get("strides", [1, 1])), pads), node, i)

    def _pads(self, node, i, a):
        ap = a.get("auto_pad", b"NOTSET")
        ap = ap.decode() if isinstance(ap, bytes) else ap
        if ap not in ("NOTSET", "VALID"):
            self._refuse(node, i, f"auto_pad={ap!r} is not supported (give explicit pads)")
        p = list(a.get("pads", [0, 0, 0, 0]))
        if len(p) != 4 or p[0] != p[2] or p[1] != p[3]:
            self._refuse(node, i, f"pads={p} are not supported (symmetric 2-D pads only)")
        return (int(p[0]), int(p[1]))

    def _pool(self, node, i, a, cls, **kw):
        pads = self._pads(node, i, a)
        if a.get("ceil_mode", 0):
            self._refuse(node, i, "ceil_mode=1 is not supported")
        if any(d != 1 for d in a.get("dilations", [1, 1])):
            self._refuse(node, i, f"dilations={list(a['dilations'])} are not supported (only 1)")
        k = a.get("kernel_shape")
        if k is None or len(k) != 2:
            self._refuse(node, i, f"kernel_shape must give 2 sizes, got {k}")
        try:
            layer = cls(tuple(k), tuple(a.get("strides", [1, 1])), pads, **kw)  # ONNX strides default to 1
        except ValueError as exc:
            self._refuse(node, i, str(exc))
        self._push(layer, node, i)

    def _op_MaxPool(self, node, i, a):
        if len(node.output) > 1 and node.output[1]:
            self._refuse(node, i, "the Indices output is not supported")
        self._pool(node, i, a, MaxPool2d)

    def _op_AveragePool(self, node, i, a):
        self._pool(node, i, a, AvgPool2d, count_include_pad=bool(a.get("count_include_pad", 0)))

    def _op_GlobalAveragePool(self, node, i, a):
        if len(self.shape) != 3:
            self._refuse(node, i, f"expected a (C, H, W) input, got {self.shape}")
        self._push(AvgPool2d(self.shape[1:]), node, i)

    def _op_Flatten(self, node, i, a):
        if a.get("axis", 1) != 1:
            self._refuse(node, i, f"axis={a['axis']} is not supported (only 1: keep the batch axis)")
        self._push(Flatten(), node, i)

    def _op_Reshape(self, node, i, a):
        if len(node.input) < 2:
            self._refuse(node, i, "the target shape input is missing")
        target = [int(v) for v in self._const(node, i, node.input[1], "shape").reshape(-1)]
        if a.get("allowzero", 0) or not target:
            self._refuse(node, i, f"target shape {target} is not supported")
        per = [self.shape[j - 1] if v == 0 and 0 < j <= len(self.shape) else v for j, v in enumerate(target)][1:]
        size = int(np.prod(self.shape))
        if per.count(-1) > 1 or any(v < -1 or v == 0 for v in per):
            self._refuse(node, i, f"target shape {target} is not supported")
        if -1 in per:
            rest = int(np.prod([v for v in per if v != -1]))
            if rest < 1 or size % rest:
                self._refuse(node, i, f"target shape {target} does not fit a sample of shape {self.shape}")
            per[per.index(-1)] = size // rest
        if target[0] not in (0, -1) and target[0] < 1 or int(np.prod(per)) != size:
            self._refuse(node, i, f"target shape {target}: its first axis must be the batch, and the rest must "
                                  f"hold a sample of shape {self.shape}")
        self._push(Reshape(tuple(per)), node, i)

    def _op_BatchNormalization(self, node, i, a):
        if (len(node.output) > 1 and any(node.output[1:])) or a.get("training_mode", 0):
            self._refuse(node, i, "training mode (batch statistics) is not supported")
        gamma, beta, mean, var = (self._const(node, i, n, w)
                                  for n, w in zip(node.input[1:5], ("scale", "B", "mean", "var")))
        prev = self.layers[-1] if self.layers else None
        bn = BatchNorm(gamma, beta, mean, var, float(a.get("epsilon", 1e-5)))
        if not isinstance(prev, (Dense, Conv2d)):
            self._refuse(node, i, f"BatchNormalization must follow Gemm, MatMul or Conv (it is folded into it), "
                                  f"found after {prev!r}")
        try:
            self.layers[-1] = bn.fold(prev, len(self.layers))
        except ValueError as exc:
            self._refuse(node, i, str(exc))


def from_onnx(path_or_bytes) -> Graph:
    """A ``Graph`` from an ONNX model (a file path, its bytes or an ``onnx.ModelProto``; needs
    the optional ``onnx`` package: ``pip install 'fibench[onnx]'``).

    The graph must be sequential (each node reads the previous node's output; weights are
    initializers or ``Constant`` nodes) over one input of shape (batch, ...), with residual
    connections allowed. Operators:
    ``Gemm`` (alpha, beta, transB), ``MatMul`` -> Dense; ``Add`` of a constant -> the preceding
    Dense's bias or Conv's per-channel bias; ``Add`` of the previous node's output and an
    earlier tensor of the chain -> ``Residual`` (the nodes in between are its branch); ``Conv`` (2-D, group 1, symmetric pads, strides)
    -> Conv2d; ``MaxPool``/``AveragePool`` (symmetric pads, count_include_pad, no ceil mode) and
    ``GlobalAveragePool`` -> pools; ``Flatten`` (axis 1), ``Reshape`` (first axis the batch),
    ``Identity``, ``Relu``; ``BatchNormalization`` folded into the preceding Gemm/MatMul/Conv;
    ``Softmax`` over the classes as the last node. Anything else raises a ``ValueError``
    naming the operator and the node. Weights become float64."""
    model = _onnx_model(path_or_bytes)
    reader = _OnnxReader(model)
    for i, node in enumerate(model.graph.node):
        reader.node(node, i)
    if reader.outputs != [reader.current]:
        raise ValueError(f"from_onnx: the graph's outputs {reader.outputs} must be the last node's output "
                         f"{reader.current!r}")
    if not reader.layers:
        raise ValueError("from_onnx: the graph has no layers")
    try:
        return Graph(reader.layers, reader.input_shape)
    except ValueError as exc:
        raise ValueError(f"from_onnx: {exc}") from None
