"""Secure M2 evaluation of layer graphs (fibench.fi.secure_graph) against the plaintext graph
evaluator: every layer on edge values, digits agreement for a deep MLP and two CNNs (a2b at P = 2
and 3, fss at P = 2), checking mode, batching and the cmp_bits refusal."""
import warnings

import numpy as np
import pytest

from fibench.fi import graph as gr
from fibench.fi import secure_graph as sg
from fibench.fi import secure_inference as si
from fibench.fi.data import load_dataset
from fibench.fi.federated import FederatedEnsemble
from fibench.fi.partition import partition
from fibench.mpc import Session

SETTINGS = [("a2b", 2), ("a2b", 3), ("fss", 2)]


def secure_logits(graphs, X, protocol, P, check=True, cmp_bits=64):
    s = Session(P, protocol=protocol, check=check, cmp_bits=cmp_bits)
    scores, _ = sg.m2_scores(s, X, graphs, "logit_sum", "T2")
    return s.reveal(scores)


# -- every layer kind on edge values ------------------------------------------------------------

def _edge_queries(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * 2
    mask = rng.random((n, d)) < 0.4
    X[mask] = rng.choice([0.0, 1.0, -1.0, 1e-6, -1e-6, 40.0, -40.0], size=int(mask.sum()))
    X[0], X[1] = 0.0, 3.0  # all zeros; all equal (every max-pool window a tie)
    return X


def _layer_graphs():
    rng = np.random.default_rng(7)
    img = [gr.Reshape((2, 6, 6))]
    return {
        "dense": gr.Graph([gr.Dense(rng.normal(size=(72, 5)), rng.normal(size=5))], (72,)),
        "relu": gr.Graph([gr.ReLU()], (72,)),
        "conv_pad_stride": gr.Graph(img + [gr.Conv2d(rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3), stride=2,
                                                     padding=1), gr.Flatten()], (72,)),
        "conv_rect": gr.Graph(img + [gr.Conv2d(rng.normal(size=(2, 2, 2, 3)), rng.normal(size=2), stride=(1, 2),
                                               padding=(0, 1)), gr.Flatten()], (72,)),
        "conv_relu_conv": gr.Graph(img + [gr.Conv2d(rng.normal(size=(3, 2, 3, 3)) / 2, padding=1), gr.ReLU(),
                                          gr.Conv2d(rng.normal(size=(2, 3, 3, 3)) / 3, rng.normal(size=2)),
                                          gr.Flatten()], (72,)),
        "maxpool2": gr.Graph(img + [gr.MaxPool2d(2), gr.Flatten()], (72,)),
        "maxpool3_odd": gr.Graph(img + [gr.MaxPool2d(3, stride=1), gr.Flatten()], (72,)),  # 9 values: odd rounds
        "avgpool2": gr.Graph(img + [gr.AvgPool2d(2), gr.Flatten()], (72,)),
        "avgpool3": gr.Graph(img + [gr.AvgPool2d((3, 2), stride=(3, 2)), gr.Flatten()], (72,)),
        "maxpool_padded": gr.Graph(img + [gr.MaxPool2d(3, stride=2, padding=1), gr.Flatten()], (72,)),
        "avgpool_padded": gr.Graph(img + [gr.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
                                          gr.AvgPool2d(2, stride=1, padding=1), gr.Flatten()], (72,)),
        "shapes": gr.Graph([gr.Identity(), gr.Reshape((8, 9)), gr.Flatten(), gr.Identity()], (72,)),
        # a residual block on the shared query (the skip is the masked input), one after a conv
        # (the skip is per owner), one nested, one with a dense branch
        "residual_first": gr.Graph(img + [gr.Residual([gr.Conv2d(rng.normal(size=(2, 2, 3, 3)) / 3, padding=1),
                                                       gr.ReLU()]), gr.Flatten()], (72,)),
        "residual_nested": gr.Graph(img + [gr.Conv2d(rng.normal(size=(3, 2, 3, 3)) / 3, padding=1),
                                           gr.Residual([gr.ReLU(), gr.Residual([gr.Conv2d(
                                               rng.normal(size=(3, 3, 3, 3)) / 4, rng.normal(size=3), padding=1)]),
                                               gr.MaxPool2d(3, stride=1), gr.Conv2d(rng.normal(size=(3, 3, 3, 3)) / 4,
                                                                                   padding=2)]),
                                           gr.AvgPool2d(2), gr.Flatten()], (72,)),
        "residual_dense": gr.Graph([gr.Dense(rng.normal(size=(72, 8)) / 4), gr.Residual([
            gr.ReLU(), gr.Dense(rng.normal(size=(8, 8)) / 2, rng.normal(size=8))]), gr.ReLU()], (72,)),
    }


@pytest.mark.parametrize("protocol,P", SETTINGS)
def test_every_layer_kind_matches_plaintext(protocol, P):
    X = _edge_queries(16, 72)
    for name, g in _layer_graphs().items():
        want = g.logits(X)
        got = secure_logits([g], X, protocol, P)
        tol = 1e-3 * (1 + np.abs(want))  # fixed point, f = 16 (weights and products rounded)
        assert got.shape == want.shape, name
        assert np.all(np.abs(got - want) <= tol), (name, float(np.max(np.abs(got - want))))
        if name.startswith(("maxpool", "relu", "shapes")):  # exact up to the input encoding
            assert np.max(np.abs(got - want)) <= 2.0**-16, name


def test_residual_blocks_of_batched_owners_match_plaintext():
    """Three owners with the same residual architecture are batched (the skip of the shared
    query is repeated per owner, locally); their summed and per-owner logits equal plaintext."""
    rng = np.random.default_rng(3)

    def net():
        return gr.Graph([gr.Reshape((2, 6, 6)), gr.Residual([gr.Conv2d(rng.normal(size=(2, 2, 3, 3)) / 3, padding=1),
                                                             gr.ReLU()]),
                         gr.Conv2d(rng.normal(size=(3, 2, 3, 3)) / 3), gr.Residual([gr.ReLU(), gr.Conv2d(
                             rng.normal(size=(3, 3, 3, 3)) / 4, padding=1)]), gr.Flatten(),
                         gr.Dense(rng.normal(size=(48, 4)) / 4, rng.normal(size=4))], (72,))

    graphs, X = [net() for _ in range(3)], _edge_queries(9, 72, seed=2)
    s = Session(2, check=True)
    scores, order = sg.m2_scores(s, X, graphs, "hard_vote", "T2")
    got = s.reveal(scores).reshape(9, 3, 4)
    for j, k in enumerate(order):
        assert np.max(np.abs(got[:, j] - graphs[k].logits(X))) <= 1e-3 * (1 + np.max(np.abs(graphs[k].logits(X))))
    assert len(sg.group_owners(graphs)) == 1  # one batched group


def test_conv_on_a_shared_input_opens_the_input_once_not_its_im2col():
    """A conv after a ReLU opens x - a on its input (8 B per input element per peer) and
    truncates its output (8 B per output element); im2col would open 9x the input."""
    rng = np.random.default_rng(1)
    n = 10
    g = gr.Graph([gr.Reshape((2, 6, 6)), gr.ReLU(), gr.Conv2d(rng.normal(size=(4, 2, 3, 3)), padding=1), gr.Flatten()],
                 (72,))
    s = Session(2)
    trace = []
    sg.m2_scores(s, _edge_queries(n, 72), [g], "hard_vote", "T2", trace=trace)
    (conv,) = [st for i, kind, st in trace if kind == "conv2d"]
    summ = conv.summary()
    assert summ["online_rounds"] == 2
    assert summ["online_bytes_sent_per_party"] == 8 * n * 72 + 8 * n * 4 * 36


# -- digits: deep MLP and CNNs -------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0)


@pytest.fixture(scope="module")
def parts(digits):
    return partition(digits.y_train, scheme="dirichlet", n_owners=3, alpha=0.5, seed=0)


def _cnn(d, parts, pool):
    """Each owner: its own random 3x3 conv filters (8 channels) -> ReLU -> pools, and a dense
    readout trained on its own data by logistic regression (no deep-learning framework)."""
    from sklearn.linear_model import LogisticRegression

    graphs = []
    for k, p in enumerate(parts):
        r = np.random.default_rng(100 + k)
        pre = [gr.Reshape((1, 8, 8)), gr.Conv2d(r.normal(size=(8, 1, 3, 3)) / 1.5, r.normal(size=8) * 0.1, padding=1),
               gr.ReLU()] + pool + [gr.Flatten()]
        F = gr.Graph(pre, (64,)).forward(d.X_train[p])
        clf = LogisticRegression(max_iter=300).fit(F, d.y_train[p])
        W, b = np.zeros((F.shape[1], 10)), np.full(10, -1e4)  # unseen classes: logit -1e4
        dense = gr.from_sklearn(clf).layers[0]
        W[:, clf.classes_], b[clf.classes_] = dense.W, dense.b
        graphs.append(gr.Graph(pre + [gr.Dense(W, b)], (64,)))
    return graphs


@pytest.fixture(scope="module")
def models(digits, parts):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fe = FederatedEnsemble(model="mlp:64,32", rule="logit_sum", seed=0).fit(
            [(digits.X_train[p], digits.y_train[p]) for p in parts], n_classes=10)
        return {"mlp_64_64_32_10": [m.graph() for m in fe.owners_],
                "cnn": _cnn(digits, parts, [gr.AvgPool2d(2)]),
                "conv_maxpool_avgpool": _cnn(digits, parts, [gr.MaxPool2d(2), gr.AvgPool2d(2)])}


def _needed_bits(X, graphs, rule="logit_sum"):
    b = sg.graph_bounds(X, graphs, rule)
    return max(sg.cmp_bits_needed(b["relu"], 16, False), sg.cmp_bits_needed(b["maxpool"], 16),
               sg.cmp_bits_needed(b["final"], 16))


@pytest.mark.parametrize("name", ["mlp_64_64_32_10", "cnn", "conv_maxpool_avgpool"])
@pytest.mark.parametrize("protocol,P", SETTINGS)
def test_digits_agreement(digits, models, name, protocol, P):
    graphs = models[name]
    X = digits.X_test
    plain = np.argmax(sum(g.logits(X) for g in graphs), axis=1)
    assert np.mean(plain == digits.y_test) > 0.6  # real models, not noise
    bits = _needed_bits(X, graphs) if protocol == "fss" else 64  # fss on the narrowest promise it can keep
    s = Session(P, protocol=protocol, cmp_bits=bits)
    labels, rep = si.run_secure(X, mode="M2", topology="T2", servers=P, protocol=protocol, owner_layers=graphs,
                                session=s)
    assert np.mean(labels == plain) >= 0.995
    # one clean run in checking mode (every product, sum, comparison and truncation verified)
    Xc = X[:12]
    sc = Session(P, protocol=protocol, cmp_bits=bits, check=True)
    lab_c, _ = si.run_secure(Xc, mode="M2", topology="T2", servers=P, protocol=protocol, owner_layers=graphs,
                             session=sc)
    assert np.mean(lab_c == plain[:12]) >= 11 / 12


def test_deep_mlp_through_federated_ensemble(digits, parts):
    fe = FederatedEnsemble(model="mlp:64,32", rule="hard_vote", seed=0, max_iter=60)
    fe.fit([(digits.X_train[p], digits.y_train[p]) for p in parts[:2]], n_classes=10)
    labels, rep = fe.secure_predict(digits.X_test[:120], mode="M2", topology="T1")
    assert rep.agreement >= 0.99 and rep.parties == 2


# -- batching, mixed architectures, votes ------------------------------------------------------------

def _plain_rule(graphs, X, rule, weights=None):
    logits = np.stack([g.logits(X) for g in graphs])
    if rule == "logit_sum":
        return np.argmax(logits.sum(axis=0), axis=1)
    votes = np.eye(logits.shape[2])[np.argmax(logits, axis=2)]
    w = np.ones(len(graphs)) if weights is None else np.asarray(weights)
    return np.argmax((votes * w[:, None, None]).sum(axis=0), axis=1)


@pytest.mark.parametrize("rule", ["logit_sum", "hard_vote", "weighted_vote"])
def test_mixed_architectures_one_after_another(digits, models, rule):
    graphs = [models["cnn"][0], models["mlp_64_64_32_10"][1], models["conv_maxpool_avgpool"][2], models["cnn"][1]]
    weights = [0.1, 0.4, 0.3, 0.2]
    X = digits.X_test[:60]
    s = Session(2, check=True)
    labels = si.m2_labels(s, X, graphs, rule, "T2", weights=weights, to="querier").view(np.int64)
    plain = _plain_rule(graphs, X, rule, weights if rule == "weighted_vote" else None)
    assert np.mean(labels == plain) >= 59 / 60
    assert sg.group_owners(graphs) == [[0, 3], [1], [2]]


def test_same_architecture_is_batched(digits, models):
    """Three CNN owners cost the rounds of one (their layers run side by side)."""
    X = digits.X_test[:20]
    rounds = []
    for graphs in (models["cnn"][:1], models["cnn"]):
        s = Session(2)
        si.m2_labels(s, X, graphs, "logit_sum", "T2", to="querier")
        rounds.append(s.stats.summary()["online_rounds"])
    assert rounds[0] == rounds[1]


def test_dense_lists_and_graphs_cost_the_same():
    """The [(W, b), ...] lists of today's pipelines and their graphs give identical counters."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 12))
    lists = [[(rng.normal(size=(12, 8)) / 3, rng.normal(size=8)), (rng.normal(size=(8, 6)) / 3, rng.normal(size=6)),
              (rng.normal(size=(6, 5)) / 3, rng.normal(size=5))] for _ in range(3)]
    out = []
    for owners in (lists, [gr.from_dense_layers(layers) for layers in lists]):
        s = Session(2)
        lab = si.m2_labels(s, X, owners, "logit_sum", "T2", to="querier").view(np.int64)
        out.append((lab.tolist(), s.stats.summary()))
    assert out[0][1] == out[1][1]
    want = np.argmax(sum(gr.from_dense_layers(layers).logits(X) for layers in lists), axis=1)
    assert np.mean(np.array(out[0][0]) == want) >= 15 / 16


def test_fss_refuses_a_cmp_bits_promise_the_graph_cannot_keep(digits, models):
    graphs = models["conv_maxpool_avgpool"][:1]
    X = digits.X_test[:8]
    b = sg.graph_bounds(X, graphs, "logit_sum")
    relu_bits = sg.cmp_bits_needed(b["relu"], 16, differences=False)
    pool_bits = sg.cmp_bits_needed(b["maxpool"], 16)
    assert pool_bits > relu_bits
    with pytest.raises(ValueError, match=rf"cmp_bits={relu_bits - 1} is too small.*ReLU.*>= {relu_bits}"):
        si.m2_labels(Session(2, protocol="fss", cmp_bits=relu_bits - 1), X, graphs, "logit_sum", "T2")
    with pytest.raises(ValueError, match=rf"max-pool comparisons need cmp_bits >= {pool_bits}"):
        si.m2_labels(Session(2, protocol="fss", cmp_bits=relu_bits), X, graphs, "logit_sum", "T2")


def test_bad_owner_models():
    X = np.zeros((2, 64))
    s = Session(2)
    with pytest.raises(ValueError, match="at least one owner"):
        sg.m2_scores(s, X, [], "logit_sum", "T2")
    with pytest.raises(ValueError, match="takes 10 input features, the query has 64"):
        sg.m2_scores(s, X, [gr.Graph([gr.Dense(np.zeros((10, 3)))], (10,))], "logit_sum", "T2")
    with pytest.raises(ValueError, match="same length"):
        sg.m2_scores(s, X, [gr.Graph([gr.Dense(np.zeros((64, 3)))], (64,)),
                            gr.Graph([gr.Dense(np.zeros((64, 4)))], (64,))], "logit_sum", "T2")
