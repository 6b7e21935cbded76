"""fibench: benchmarking suite and reference implementation for secure federated inference.

Layers (each imports only the ones above it in this list; importing fibench has no side effects):

fibench.kernels      pure numba kernels on numpy arrays (ring Z_2^64, fixed point, Beaver steps,
                     bit-sliced circuits, DCF, Shapley enumeration)
fibench.mpc          the MPC engine: shares, encoding, PRG, communicators (transport and exact
                     accounting), the dealer (named correlations), protocols, ``Session``
fibench.fi           federated inference: data, partitions, local models, ensembles, secure M1/M2
fibench.incentives   reward schemes (Shapley, Banzhaf, LOO, label-free), alignment, adversaries
fibench.bench        the harness: runner, results store, report, regression gate, network model,
                     one measure and one plot module per suite
fibench.cli          the ``fibench`` command
fibench.suites       benchmark grids (what to measure)

``fibench.Session`` and ``fibench.FederatedEnsemble`` are importable from here, and
``fibench.models`` is the model layer graph module ``fibench.fi.graph`` (layers, ``Graph``,
``from_sklearn``, ``from_onnx``): all loaded on first use.
"""

__version__ = "0.1.0"

_LAZY = {"Session": "fibench.mpc.session", "FederatedEnsemble": "fibench.fi.federated"}
_LAZY_MODULES = {"models": "fibench.fi.graph"}


def __getattr__(name):
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _LAZY_MODULES:
        return importlib.import_module(_LAZY_MODULES[name])
    raise AttributeError(f"module 'fibench' has no attribute {name!r}")
