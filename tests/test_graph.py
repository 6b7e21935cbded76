"""Layer graphs (fibench.fi.graph): every layer against slow loop references, shape errors,
BatchNorm folding, from_sklearn equality and the "mlp:64,32" model spec."""
import warnings

import numpy as np
import pytest

from fibench.fi import graph as gr
from fibench.fi.federated import FederatedEnsemble
from fibench.fi.models import LocalModel, parse_model


# -- slow references (loops, obviously correct) --------------------------------------------------

def conv_ref(x, w, b, stride, pad):
    n, C, H, W = x.shape
    oc, ic, kh, kw = w.shape
    xp = np.zeros((n, C, H + 2 * pad[0], W + 2 * pad[1]))
    xp[:, :, pad[0]: pad[0] + H, pad[1]: pad[1] + W] = x
    oh, ow = (H + 2 * pad[0] - kh) // stride[0] + 1, (W + 2 * pad[1] - kw) // stride[1] + 1
    out = np.zeros((n, oc, oh, ow))
    for i in range(n):
        for o in range(oc):
            for r in range(oh):
                for c in range(ow):
                    patch = xp[i, :, r * stride[0]: r * stride[0] + kh, c * stride[1]: c * stride[1] + kw]
                    out[i, o, r, c] = np.sum(patch * w[o]) + b[o]
    return out


def pool_ref(x, k, s, fn, pad=(0, 0), include_pad=True):
    """Loops; padded positions are NaN and left out of ``fn`` (max; mean without
    ``include_pad``) or count as zeros (mean with ``include_pad``)."""
    n, C, H, W = x.shape
    xp = np.full((n, C, H + 2 * pad[0], W + 2 * pad[1]), np.nan)
    xp[:, :, pad[0]: pad[0] + H, pad[1]: pad[1] + W] = x
    oh, ow = (H + 2 * pad[0] - k[0]) // s[0] + 1, (W + 2 * pad[1] - k[1]) // s[1] + 1
    out = np.zeros((n, C, oh, ow))
    for i in range(n):
        for ch in range(C):
            for r in range(oh):
                for c in range(ow):
                    win = xp[i, ch, r * s[0]: r * s[0] + k[0], c * s[1]: c * s[1] + k[1]].ravel()
                    real = win[~np.isnan(win)]
                    out[i, ch, r, c] = np.sum(real) / win.size if (include_pad and fn is np.mean) else fn(real)
    return out


EDGE = np.array([0.0, -0.0, 1.0, -1.0, 1e-6, -1e-6, 3.5, -3.5, 1e3, -1e3])


def edge_images(shape, seed=0):
    """Random images with edge values (zeros, ties, signs, large) sprinkled in."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape)
    mask = rng.random(shape) < 0.4
    x[mask] = rng.choice(EDGE, size=int(mask.sum()))
    x[0] = 0.0  # an all-zero sample
    x[-1] = 2.0  # a constant sample: every window a tie
    return x


@pytest.mark.parametrize("stride,pad,k", [(1, 0, (3, 3)), (1, 1, (3, 3)), (2, 1, (3, 3)), ((2, 1), (0, 2), (2, 3)),
                                          (1, 0, (1, 1))])
def test_conv2d_matches_loops(stride, pad, k):
    rng = np.random.default_rng(1)
    x = edge_images((3, 2, 7, 6))
    w, b = rng.normal(size=(4, 2) + k), rng.normal(size=4)
    layer = gr.Conv2d(w, b, stride=stride, padding=pad)
    want = conv_ref(x, w, b, layer.stride, layer.padding)
    assert np.allclose(layer.forward(x), want, rtol=1e-12, atol=1e-9)
    g = gr.Graph([layer], (2, 7, 6))
    assert g.output_shape == want.shape[1:]


@pytest.mark.parametrize("k,s", [(2, None), (3, 1), ((2, 3), (1, 2)), (1, None)])
def test_pools_match_loops(k, s):
    x = edge_images((3, 2, 6, 7))
    mx, av = gr.MaxPool2d(k, s), gr.AvgPool2d(k, s)
    assert np.array_equal(mx.forward(x), pool_ref(x, mx.kernel, mx.stride, np.max))
    assert np.allclose(av.forward(x), pool_ref(x, av.kernel, av.stride, np.mean), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k,s,pad", [(3, 2, 1), (2, 1, 1), ((3, 2), (2, 1), (2, 1)), (3, 1, (0, 2))])
def test_padded_pools_match_loops(k, s, pad):
    x = edge_images((3, 2, 6, 7)) - 5.0  # negative values: a zero padding would win the max
    mx = gr.MaxPool2d(k, s, pad)
    assert np.array_equal(mx.forward(x), pool_ref(x, mx.kernel, mx.stride, np.max, mx.padding))
    for include in (True, False):
        av = gr.AvgPool2d(k, s, pad, count_include_pad=include)
        want = pool_ref(x, av.kernel, av.stride, np.mean, av.padding, include)
        assert np.allclose(av.forward(x), want, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"MaxPool2d padding must be smaller than kernel_size"):
        gr.MaxPool2d(2, padding=2)
    with pytest.raises(ValueError, match="count_include_pad must be True or False"):
        gr.AvgPool2d(2, padding=1, count_include_pad="yes")


def test_dense_relu_flatten_reshape_identity_softmax():
    rng = np.random.default_rng(2)
    x = edge_images((5, 2, 3, 4))
    W, b = rng.normal(size=(24, 6)), rng.normal(size=6)
    g = gr.Graph([gr.Identity(), gr.ReLU(), gr.Flatten(), gr.Dense(W, b), gr.Reshape((2, 3)), gr.Flatten(),
                  gr.Softmax()], (2, 3, 4))
    flat = np.maximum(x, 0).reshape(5, -1)
    z = np.array([[sum(flat[i, j] * W[j, o] for j in range(24)) + b[o] for o in range(6)] for i in range(5)])
    assert np.allclose(g.logits(x), z, rtol=1e-12, atol=1e-9)
    assert np.allclose(g.logits(x.reshape(5, -1)), z, rtol=1e-12, atol=1e-9)  # flattened input accepted
    p = np.exp(z - z.max(axis=1, keepdims=True))
    assert np.allclose(g.forward(x), p / p.sum(axis=1, keepdims=True), rtol=1e-12)
    assert np.allclose(g.predict_proba(x), g.forward(x))
    assert g.n_outputs == 6 and g.output_shape == (6,)
    assert np.array_equal(gr.ReLU().forward(EDGE), np.where(EDGE > 0, EDGE, 0.0))


def test_shape_errors_name_layer_and_shapes():
    rng = np.random.default_rng(3)
    with pytest.raises(ValueError, match=r"layer 1 \(dense\): expected input shape \(10,\), got \(12,\)"):
        gr.Graph([gr.Dense(rng.normal(size=(12, 12))), gr.Dense(rng.normal(size=(10, 3)))], (12,))
    with pytest.raises(ValueError, match=r"layer 0 \(dense\): expected input shape \(64,\), got \(1, 8, 8\).*Flatten"):
        gr.Graph([gr.Dense(np.zeros((64, 3)))], (1, 8, 8))
    with pytest.raises(ValueError, match=r"layer 1 \(conv2d\): expected input shape \(3, H, W\), got \(2, 8, 8\)"):
        gr.Graph([gr.Identity(), gr.Conv2d(np.zeros((4, 3, 3, 3)))], (2, 8, 8))
    with pytest.raises(ValueError, match=r"layer 0 \(conv2d\): expected a \(C, H, W\) input"):
        gr.Graph([gr.Conv2d(np.zeros((4, 1, 3, 3)))], (64,))
    with pytest.raises(ValueError, match=r"layer 2 \(maxpool2d\): expected an input of at least 3x3 pixels"):
        gr.Graph([gr.Conv2d(np.zeros((1, 1, 3, 3))), gr.ReLU(), gr.MaxPool2d(3)], (1, 4, 4))
    with pytest.raises(ValueError, match=r"layer 0 \(reshape\): expected an input of 10 values"):
        gr.Graph([gr.Reshape((2, 5))], (64,))
    with pytest.raises(ValueError, match=r"layer 0 \(softmax\): expected only as the last layer"):
        gr.Graph([gr.Softmax(), gr.Dense(np.zeros((3, 2)))], (3,))
    with pytest.raises(ValueError, match=r"layer 0 \(batchnorm\): expected a preceding"):
        gr.Graph([gr.BatchNorm(np.ones(3), np.zeros(3), np.zeros(3), np.ones(3))], (3,))
    with pytest.raises(ValueError, match=r"layer 1: expected a layer"):
        gr.Graph([gr.ReLU(), (np.zeros((3, 2)), np.zeros(2))], (3,))
    with pytest.raises(ValueError, match="Dense b must have shape"):
        gr.Dense(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="Conv2d stride"):
        gr.Conv2d(np.zeros((1, 1, 3, 3)), stride=0)
    with pytest.raises(ValueError, match="NaN"):
        gr.Dense(np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match="input_shape"):
        gr.Graph([gr.ReLU()], (0,))
    g = gr.Graph([gr.Flatten(), gr.Dense(np.zeros((64, 3)))], (1, 8, 8))
    with pytest.raises(ValueError, match=r"X must have shape \(n, 64\) or \(n, 1, 8, 8\)"):
        g.logits(np.zeros((2, 63)))


def test_batchnorm_folds_into_dense_and_conv():
    rng = np.random.default_rng(4)
    x = edge_images((4, 2, 5, 5))
    gamma, beta, mean, var = rng.normal(size=3), rng.normal(size=3), rng.normal(size=3), rng.uniform(0.5, 2, size=3)
    conv = gr.Conv2d(rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3), padding=1)
    g = gr.Graph([conv, gr.BatchNorm(gamma, beta, mean, var, eps=1e-3), gr.ReLU()], (2, 5, 5))
    z = conv.forward(x)
    bn = gamma[None, :, None, None] * (z - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-3) + \
        beta[None, :, None, None]
    assert len(g.layers) == 2 and np.allclose(g.forward(x), np.maximum(bn, 0), rtol=1e-12, atol=1e-12)
    dense = gr.Dense(rng.normal(size=(4, 3)), rng.normal(size=3))
    g2 = gr.Graph([dense, gr.BatchNorm(gamma, beta, mean, var)], (4,))
    v = rng.normal(size=(6, 4))
    assert np.allclose(g2.logits(v), gamma * (dense.forward(v) - mean) / np.sqrt(var + 1e-5) + beta, rtol=1e-12)
    with pytest.raises(ValueError, match=r"layer 1 \(batchnorm\): expected a preceding dense or conv2d layer with 3"):
        gr.Graph([gr.Dense(np.zeros((4, 5))), gr.BatchNorm(gamma, beta, mean, var)], (4,))


def test_interval_bounds_hold():
    rng = np.random.default_rng(5)
    g = gr.Graph([gr.Reshape((1, 6, 6)), gr.Conv2d(rng.normal(size=(3, 1, 3, 3)), rng.normal(size=3), padding=1),
                  gr.ReLU(), gr.MaxPool2d(2), gr.AvgPool2d(3), gr.Flatten(), gr.Dense(rng.normal(size=(3, 4)))], (36,))
    X = rng.uniform(-2, 2, size=(200, 36))
    b = g.bounds(np.abs(X).max(axis=0))
    relu_in = g.forward(X, 2)
    assert np.abs(relu_in).max() <= b["relu"] and np.abs(g.forward(X, 3)).max() <= b["maxpool"]
    assert np.all(np.abs(g.logits(X)) <= b["out"][None, :] + 1e-12)


# -- scikit-learn import -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def data():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X[:600] / 16.0, y[:600]


def _fit(est, X, y):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.mark.parametrize("hidden,act", [((32,), "relu"), ((64, 32), "relu"), ((16, 16, 8), "relu"),
                                        ((20, 10), "identity")])
def test_from_sklearn_mlp_any_depth(data, hidden, act):
    from sklearn.neural_network import MLPClassifier

    X, y = data
    clf = _fit(MLPClassifier(hidden_layer_sizes=hidden, activation=act, max_iter=60, random_state=0), X, y)
    g = gr.from_sklearn(clf)
    assert isinstance(g.layers[-1], gr.Softmax) and sum(layer.linear for layer in g.layers) == len(hidden) + 1
    assert np.max(np.abs(g.forward(X) - clf.predict_proba(X))) < 1e-9
    assert np.max(np.abs(g.predict_proba(X) - clf.predict_proba(X))) < 1e-9
    assert np.array_equal(g.predict(X), clf.predict(X))


def test_from_sklearn_binary_and_linear_models(data):
    from sklearn.linear_model import LogisticRegression, RidgeClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import LinearSVC

    X, y = data
    lr = _fit(LogisticRegression(max_iter=300), X, y)
    g = gr.from_sklearn(lr)
    assert np.max(np.abs(g.logits(X) - lr.decision_function(X))) < 1e-9
    assert np.max(np.abs(g.forward(X) - lr.predict_proba(X))) < 1e-9
    yb = (y % 2).astype(int)
    lrb = _fit(LogisticRegression(max_iter=300), X, yb)
    gb = gr.from_sklearn(lrb)
    z = gb.logits(X)
    assert np.max(np.abs((z[:, 1] - z[:, 0]) - lrb.decision_function(X))) < 1e-9
    assert np.max(np.abs(gb.forward(X) - lrb.predict_proba(X))) < 1e-9
    mb = _fit(MLPClassifier(hidden_layer_sizes=(16,), max_iter=50, random_state=0), X, yb)
    assert np.max(np.abs(gr.from_sklearn(mb).forward(X) - mb.predict_proba(X))) < 1e-9
    for est in (LinearSVC(max_iter=2000), RidgeClassifier()):
        est = _fit(est, X, y)
        gl = gr.from_sklearn(est)
        assert np.max(np.abs(gl.logits(X) - est.decision_function(X))) < 1e-9
        assert not isinstance(gl.layers[-1], gr.Softmax)


def test_from_sklearn_refuses_clearly(data):
    from sklearn.neural_network import MLPClassifier
    from sklearn.tree import DecisionTreeClassifier

    X, y = data
    for act in ("logistic", "tanh"):
        clf = _fit(MLPClassifier(hidden_layer_sizes=(8,), activation=act, max_iter=5, random_state=0), X, y)
        with pytest.raises(ValueError, match=f"activation '{act}' is not supported"):
            gr.from_sklearn(clf)
    with pytest.raises(ValueError, match="not fitted"):
        gr.from_sklearn(MLPClassifier())
    with pytest.raises(ValueError, match="DecisionTreeClassifier"):
        gr.from_sklearn(DecisionTreeClassifier().fit(X, y))


# -- model specs -------------------------------------------------------------------------------------

def test_model_spec_trains_deep_mlps(data):
    X, y = data
    assert parse_model("mlp:64,32") == ("mlp", (64, 32)) and parse_model("lr") == ("lr", None)
    for bad in ("mlp:", "mlp:a,b", "lr:4", "mlp:0", "svm"):
        with pytest.raises(ValueError, match="model"):
            parse_model(bad)
    fe = FederatedEnsemble(model="mlp:64,32", rule="logit_sum", seed=0, max_iter=30)
    fe.fit([(X[:300], y[:300]), (X[300:], y[300:])], n_classes=10)
    assert fe.model == "mlp:64,32"
    for m in fe.owners_:
        assert [W.shape for W, _ in m.weights()] == [(64, 64), (64, 32), (32, 10)]
        assert m.activations == ("relu", "relu", "identity")
        assert np.array_equal(m.graph().logits(X), m.logits(X))
    single = LocalModel("mlp", 10, hidden=(8, 4)).fit(X[:20], np.zeros(20, dtype=int))  # one class: constant
    assert [W.shape for W, _ in single.weights()] == [(64, 8), (8, 4), (4, 10)]
    assert np.all(single.predict(X) == 0)
    assert FederatedEnsemble(model="mlp").model == "mlp" and FederatedEnsemble(model="logreg").model == "lr"


def test_residual_blocks_forward_bounds_and_shape_errors():
    rng = np.random.default_rng(11)
    W1, W2, b2 = rng.normal(size=(6, 6)), rng.normal(size=(6, 6)), rng.normal(size=6)
    g = gr.Graph([gr.Residual([gr.Dense(W1), gr.ReLU(), gr.Residual([gr.Dense(W2, b2)])]), gr.ReLU()], (6,))
    X = rng.normal(size=(5, 6))
    h = np.maximum(X @ W1, 0)
    want = np.maximum(X + h + (h @ W2 + b2), 0)  # x + branch(x), branch = relu(x W1) + its own residual
    assert np.allclose(g.logits(X), want)
    assert [W.shape for W, _ in g.linear_params()] == [(6, 6), (6, 6)]  # inside branches, in order
    b = g.bounds(np.abs(X).max(axis=0))
    assert np.all(np.abs(want) <= b["out"][None] + 1e-12) and b["relu"] >= np.abs(X @ W1).max() - 1e-12
    # a batch norm inside a branch is folded; a branch that changes the shape names both shapes
    bn = gr.BatchNorm(np.ones(6) * 2, np.zeros(6), np.zeros(6), np.ones(6), eps=0.0)
    g2 = gr.Graph([gr.Residual([gr.Dense(W1), bn])], (6,))
    assert np.allclose(g2.logits(X), X + 2 * X @ W1)
    with pytest.raises(ValueError, match=r"layer 0 \(residual\): expected the branch to keep the input shape \(6,\), "
                                         r"got output shape \(3,\)"):
        gr.Graph([gr.Residual([gr.Dense(rng.normal(size=(6, 3)))])], (6,))
    with pytest.raises(ValueError, match=r"layer 1 \(residual\): branch layer 0 \(dense\): expected"):
        gr.Graph([gr.ReLU(), gr.Residual([gr.Dense(rng.normal(size=(5, 6)))])], (6,))
    with pytest.raises(ValueError, match="at least one layer"):
        gr.Residual([])
    with pytest.raises(ValueError, match="softmax"):
        gr.Residual([gr.Softmax()])
    assert g.signature() != gr.Graph([gr.Residual([gr.Dense(W1), gr.ReLU()]), gr.ReLU()], (6,)).signature()


def test_fibench_models_is_the_graph_module():
    import fibench

    assert fibench.models.from_sklearn is gr.from_sklearn and fibench.models.from_onnx is gr.from_onnx
    from fibench import models

    assert models.Residual is gr.Residual
