"""Training a layer graph end to end with PyTorch (the optional ``torch`` extra).

``train_graph(layers, input_shape, X, y, n_classes, seed)`` builds the PyTorch module of the
same layers (``fibench.fi.graph``: Dense, Conv2d, ReLU, Max/AvgPool2d with padding, Flatten,
Reshape, Identity, Residual), starting from the given weights, trains every parameter with Adam
on the softmax cross-entropy in float64 (so the exported weights reproduce PyTorch's logits to
float64 rounding), and returns the trained layers. One owner's data only; one thread; the seed
fixes the initial order of the mini-batches, so a run is reproducible.

Used by ``LocalModel(..., trainer="torch")`` for the ``cnn`` and ``onnx:PATH`` models; the
framework-free default (``trainer="sklearn"``) keeps the feature layers fixed and trains only
the readout.
"""
from __future__ import annotations

import numpy as np

from fibench.fi import graph as gr

#: default budget: full passes over the owner's data, mini-batch size, Adam's step size
EPOCHS = 40
BATCH = 32
LR = 0.01


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _require_torch():
    try:
        import torch
    except ImportError:
        raise ImportError("trainer='torch' needs PyTorch: pip install 'fibench[torch]' (or a CPU build: "
                          "pip install 'torch==2.13.0+cpu')") from None
    return torch


def _modules(layers, torch):
    """(torch modules, a function that writes their trained weights back as fibench layers)."""
    nn = torch.nn
    mods, back = [], []
    for layer in layers:
        if isinstance(layer, gr.Dense):
            m = nn.Linear(*layer.W.shape, dtype=torch.float64)
            with torch.no_grad():
                m.weight.copy_(torch.from_numpy(layer.W.T.copy()))
                m.bias.copy_(torch.from_numpy(layer.b.copy()))
            back.append(lambda m=m: gr.Dense(m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy()))
        elif isinstance(layer, gr.Conv2d):
            oc, ic, kh, kw = layer.weight.shape
            m = nn.Conv2d(ic, oc, (kh, kw), stride=layer.stride, padding=layer.padding, dtype=torch.float64)
            with torch.no_grad():
                m.weight.copy_(torch.from_numpy(layer.weight.copy()))
                m.bias.copy_(torch.from_numpy(layer.bias.copy()))
            back.append(lambda m=m, L=layer: gr.Conv2d(m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy(),
                                                       L.stride, L.padding))
        elif isinstance(layer, gr.Residual):
            inner, inner_back = _modules(layer.branch, torch)
            m = _residual_module(torch)(nn.Sequential(*inner))
            back.append(lambda f=inner_back: gr.Residual(f()))
        else:
            m = _fixed_module(layer, torch)
            back.append(lambda L=layer: L)
        mods.append(m)
    return mods, lambda: [f() for f in back]


def _fixed_module(layer, torch):
    """A parameter-free layer as a torch module (ValueError for a kind torch cannot train)."""
    nn = torch.nn
    if isinstance(layer, gr.ReLU):
        return nn.ReLU()
    if isinstance(layer, gr.Identity):
        return nn.Identity()
    if isinstance(layer, gr.Flatten):
        return nn.Flatten()
    if isinstance(layer, gr.Reshape):
        return nn.Unflatten(1, layer.shape)
    if isinstance(layer, gr.MaxPool2d):
        if any(2 * p > k for p, k in zip(layer.padding, layer.kernel)):
            raise ValueError(f"trainer='torch': PyTorch's MaxPool2d needs padding <= kernel_size / 2, got {layer!r}")
        return nn.MaxPool2d(layer.kernel, layer.stride, layer.padding)
    if isinstance(layer, gr.AvgPool2d):
        if any(2 * p > k for p, k in zip(layer.padding, layer.kernel)):
            raise ValueError(f"trainer='torch': PyTorch's AvgPool2d needs padding <= kernel_size / 2, got {layer!r}")
        return nn.AvgPool2d(layer.kernel, layer.stride, layer.padding, count_include_pad=layer.count_include_pad)
    raise ValueError(f"trainer='torch' cannot train a {layer.kind} layer")


def _residual_module(torch):
    class Residual(torch.nn.Module):
        def __init__(self, branch):
            super().__init__()
            self.branch = branch

        def forward(self, x):
            return x + self.branch(x)

    return Residual


def train_graph(layers, input_shape: tuple, X: np.ndarray, y: np.ndarray, seed: int, *, epochs: int = EPOCHS,
                batch: int = BATCH, lr: float = LR, weight_decay: float = 1e-4) -> list:
    """Train ``layers`` (their weights are the starting point; the last layer's outputs are the
    classes) on one owner's ``X`` (n, prod(input_shape)) float64 and labels ``y`` (n,) int in
    0..C-1; returns the trained layers (new objects, float64)."""
    torch = _require_torch()
    mods, export = _modules(layers, torch)
    net = torch.nn.Sequential(torch.nn.Unflatten(1, tuple(input_shape)), *mods)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        gen = torch.Generator().manual_seed(int(seed))
        Xt = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float64))
        yt = torch.from_numpy(np.asarray(y, dtype=np.int64))
        opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
        loss_fn = torch.nn.CrossEntropyLoss()
        net.train()
        for _ in range(int(epochs)):
            order = torch.randperm(len(yt), generator=gen)
            for start in range(0, len(yt), int(batch)):
                idx = order[start: start + int(batch)]
                opt.zero_grad()
                loss_fn(net(Xt[idx]), yt[idx]).backward()
                opt.step()
        return export()
    finally:
        torch.set_num_threads(threads)


def torch_logits(layers, input_shape: tuple, X: np.ndarray) -> np.ndarray:
    """PyTorch's own float64 forward pass of ``layers`` (the reference the tests compare to)."""
    torch = _require_torch()
    mods, _ = _modules(layers, torch)
    net = torch.nn.Sequential(torch.nn.Unflatten(1, tuple(input_shape)), *mods)
    with torch.no_grad():
        return net(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float64))).numpy().reshape(len(X), -1)
