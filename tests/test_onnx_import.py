"""fibench.fi.graph.from_onnx against onnx.reference.ReferenceEvaluator (graphs built with
onnx.helper, float64 tensors: no deep-learning framework needed). Skipped without onnx."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from fibench.fi import graph as gr

D = TensorProto.DOUBLE
RNG = np.random.default_rng(0)


def _init(name, shape, scale=0.5, positive=False):
    a = RNG.normal(0, scale, shape)
    return numpy_helper.from_array(np.abs(a) + 0.5 if positive else a, name)


def _model(nodes, inits, in_shape, out_shape, opset=17):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", D, ["N", *in_shape])],
                          [helper.make_tensor_value_info("y", D, ["N", *out_shape])], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(m)
    return m


def _cnn():
    """conv(pad 1)+BN -> relu -> maxpool -> conv(bias) -> avgpool(stride 1) -> global avg pool
    -> flatten -> gemm(alpha, beta, transB) -> relu -> matmul + add -> softmax."""
    N = helper.make_node
    nodes = [
        N("Conv", ["x", "w1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], name="conv1"),
        N("BatchNormalization", ["c1", "g1", "b1", "m1", "v1"], ["n1"], epsilon=1e-3, name="bn1"),
        N("Relu", ["n1"], ["r1"]),
        N("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        N("Conv", ["p1", "w2", "cb2"], ["c2"], kernel_shape=[2, 2], strides=[1, 1]),
        N("AveragePool", ["c2"], ["a2"], kernel_shape=[2, 2]),  # ONNX strides default to 1
        N("GlobalAveragePool", ["a2"], ["g2"]),
        N("Flatten", ["g2"], ["f"]),
        N("Gemm", ["f", "wg", "bg"], ["h"], alpha=0.5, beta=2.0, transB=1),
        N("Relu", ["h"], ["rh"]),
        N("MatMul", ["rh", "wm"], ["z0"]),
        N("Add", ["z0", "bm"], ["z"]),
        N("Softmax", ["z"], ["y"], axis=-1),
    ]
    inits = [_init("w1", (4, 1, 3, 3)), _init("g1", (4,), positive=True), _init("b1", (4,)),
             _init("m1", (4,)), _init("v1", (4,), positive=True), _init("w2", (6, 4, 2, 2)), _init("cb2", (6,)),
             _init("wg", (5, 6)), _init("bg", (5,)), _init("wm", (5, 10)), _init("bm", (10,))]
    return _model(nodes, inits, (1, 8, 8), (10,))


def _reshaping():
    """(N, 64) -> Reshape [-1,1,8,8] -> conv + per-channel Add -> avgpool 2 -> Reshape [0,-1]
    (a Constant node) -> Identity -> Gemm (bias (1, C)) + BatchNormalization -> Softmax (axis 1).
    (opset 17: the reference evaluator's BatchNormalization-9 uses batch statistics.)"""
    N = helper.make_node
    nodes = [
        N("Reshape", ["x", "s1"], ["x4"]),
        N("Conv", ["x4", "w"], ["c"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        N("Add", ["c", "cb"], ["cc"]),
        N("AveragePool", ["cc"], ["ap"], kernel_shape=[2, 2], strides=[2, 2]),
        N("Constant", [], ["s2"], value=numpy_helper.from_array(np.array([0, -1], dtype=np.int64))),
        N("Reshape", ["ap", "s2"], ["fl"]),
        N("Identity", ["fl"], ["id"]),
        N("Gemm", ["id", "wg", "bg"], ["z"]),
        N("BatchNormalization", ["z", "g", "b", "m", "v"], ["zn"]),
        N("Softmax", ["zn"], ["y"], axis=1),
    ]
    inits = [numpy_helper.from_array(np.array([-1, 1, 8, 8], dtype=np.int64), "s1"), _init("w", (3, 1, 3, 3)),
             _init("cb", (1, 3, 1, 1)), _init("wg", (12, 10)), _init("bg", (1, 10)), _init("g", (10,), positive=True),
             _init("b", (10,)), _init("m", (10,)), _init("v", (10,), positive=True)]
    return _model(nodes, inits, (64,), (10,))


def _resnet():
    """A small ResNet: conv -> relu -> [conv+BN -> relu -> conv] + skip -> relu -> [[conv] + skip
    -> relu] + skip (nested, the outer Add with its operands swapped) -> global avg pool ->
    flatten -> gemm -> [relu -> gemm] + skip -> softmax."""
    N = helper.make_node
    nodes = [
        N("Conv", ["x", "w0"], ["c0"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        N("Relu", ["c0"], ["r0"]),
        N("Conv", ["r0", "w1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        N("BatchNormalization", ["c1", "g1", "b1", "m1", "v1"], ["n1"]),
        N("Relu", ["n1"], ["r1"]),
        N("Conv", ["r1", "w2", "cb2"], ["c2"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        N("Add", ["c2", "r0"], ["s1"], name="skip1"),
        N("Relu", ["s1"], ["r2"]),
        N("Conv", ["r2", "w3"], ["c3"], kernel_shape=[1, 1]),
        N("Add", ["r2", "c3"], ["s2"], name="skip2"),
        N("Relu", ["s2"], ["r3"]),
        N("Add", ["r2", "r3"], ["s3"], name="skip3"),
        N("GlobalAveragePool", ["s3"], ["gp"]),
        N("Flatten", ["gp"], ["f"]),
        N("Gemm", ["f", "wg", "bg"], ["h"]),
        N("Relu", ["h"], ["rh"]),
        N("Gemm", ["rh", "wh", "bh"], ["h2"]),
        N("Add", ["h2", "h"], ["z"], name="skip4"),
        N("Softmax", ["z"], ["y"], axis=-1),
    ]
    inits = [_init("w0", (3, 1, 3, 3)), _init("w1", (3, 3, 3, 3), 0.3), _init("g1", (3,), positive=True),
             _init("b1", (3,)), _init("m1", (3,)), _init("v1", (3,), positive=True), _init("w2", (3, 3, 3, 3), 0.3),
             _init("cb2", (3,)), _init("w3", (3, 3, 1, 1)), _init("wg", (3, 10)), _init("bg", (10,)),
             _init("wh", (10, 10), 0.3), _init("bh", (10,))]
    return _model(nodes, inits, (1, 8, 8), (10,))


@pytest.mark.parametrize("build,shape", [(_cnn, (1, 8, 8)), (_reshaping, (64,)), (_resnet, (1, 8, 8))])
def test_imported_graph_equals_the_reference_evaluator(build, shape, tmp_path):
    model = build()
    X = RNG.normal(0, 2, (7, *shape))
    want = ReferenceEvaluator(model).run(None, {"x": X})[0]
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    for src in (model, model.SerializeToString(), str(path), path):
        g = gr.from_onnx(src)
        assert isinstance(g.layers[-1], gr.Softmax)
        got = g.forward(X).reshape(len(X), -1)
        assert np.max(np.abs(got - want.reshape(len(X), -1))) <= 1e-9
    assert not any(isinstance(layer, gr.BatchNorm) for layer in g.layers)  # folded


def test_imported_cnn_runs_securely():
    """The imported graph through M2 (one owner, logit_sum) in checking mode: the secure logits
    are the plaintext ones up to fixed point."""
    from fibench.fi import secure_graph as sg
    from fibench.mpc import Session

    g = gr.from_onnx(_cnn())
    X = RNG.normal(0, 2, (6, 64))
    s = Session(2, check=True)
    scores, _ = sg.m2_scores(s, X, [g], "logit_sum", "T2")
    assert np.max(np.abs(s.reveal(scores) - g.logits(X))) <= 1e-3


def _one(node, inits=(), in_shape=(4,), out_shape=(4,)):
    return _model([node], list(inits), in_shape, out_shape)


@pytest.mark.parametrize("op,attrs", [("MaxPool", {}), ("AveragePool", {}), ("AveragePool", {"count_include_pad": 1})])
def test_padded_pools_equal_the_reference_evaluator(op, attrs):
    m = _model([helper.make_node(op, ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], **attrs)],
               [], (2, 7, 6), (2, 4, 3))
    X = RNG.normal(0, 2, (5, 2, 7, 6)) - 3.0  # mostly negative: a zero padding would win the max
    want = ReferenceEvaluator(m).run(None, {"x": X})[0]
    g = gr.from_onnx(m)
    assert np.max(np.abs(g.forward(X) - want)) <= 1e-12


def test_residual_adds_become_residual_blocks():
    g = gr.from_onnx(_resnet())
    kinds = [layer.kind for layer in g.layers]
    assert kinds == ["conv2d", "relu", "residual", "relu", "residual", "avgpool2d", "flatten", "dense", "residual",
                     "softmax"]
    assert [layer.kind for layer in g.layers[4].branch] == ["residual", "relu"]  # nested
    X = RNG.normal(0, 2, (6, 64))
    s = __import__("fibench.mpc", fromlist=["Session"]).Session(2, check=True)
    from fibench.fi import secure_graph as sg

    scores, _ = sg.m2_scores(s, X, [g], "logit_sum", "T2")
    assert np.max(np.abs(s.reveal(scores) - g.logits(X))) <= 1e-3 * (1 + np.max(np.abs(g.logits(X))))


def test_residual_adds_that_are_not_a_chain_are_refused():
    N = helper.make_node
    # the skip path has a layer of its own (a projection): refused, naming the node
    nodes = [N("Relu", ["x"], ["a"]), N("MatMul", ["x", "w"], ["p"]), N("Add", ["a", "p"], ["y"], name="proj")]
    with pytest.raises(ValueError, match=r"node 1 \(MatMul\).*only sequential"):
        gr.from_onnx(_model(nodes, [_init("w", (4, 4))], (4,), (4,)))
    nodes = [N("Relu", ["x"], ["a"]), N("Add", ["a", "a"], ["y"], name="twice")]
    with pytest.raises(ValueError, match=r"node 1 \(Add 'twice'\).*earlier tensor"):
        gr.from_onnx(_model(nodes, [], (4,), (4,)))
    nodes = [N("Relu", ["x"], ["a"]), N("MatMul", ["a", "w"], ["b"]), N("Add", ["b", "x"], ["y"], name="shape")]
    with pytest.raises(ValueError, match=r"node 2 \(Add 'shape'\): a residual addition of shapes \(4,\) and \(3,\)"):
        gr.from_onnx(_model(nodes, [_init("w", (4, 3))], (4,), (3,)))


def test_unsupported_ops_name_the_op_and_the_node():
    N = helper.make_node
    with pytest.raises(ValueError, match=r"unsupported operator 'Sigmoid' at node 0 \(Sigmoid 'act'\)"):
        gr.from_onnx(_one(N("Sigmoid", ["x"], ["y"], name="act")))
    grouped = _model([N("Conv", ["x", "w"], ["y"], kernel_shape=[1, 1], group=2, name="gc")],
                     [_init("w", (2, 1, 1, 1))], (2, 3, 3), (2, 3, 3))
    with pytest.raises(ValueError, match=r"node 0 \(Conv 'gc'\): group=2"):
        gr.from_onnx(grouped)
    padded = _model([N("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], pads=[1, 0, 0, 1])], [], (1, 4, 4), (1, 4, 4))
    with pytest.raises(ValueError, match=r"node 0 \(MaxPool\): pads=\[1, 0, 0, 1\] are not supported"):
        gr.from_onnx(padded)
    ceil = _model([N("AveragePool", ["x"], ["y"], kernel_shape=[2, 2], ceil_mode=1)], [], (1, 5, 5), (1, 3, 3))
    with pytest.raises(ValueError, match=r"node 0 \(AveragePool\): ceil_mode=1"):
        gr.from_onnx(ceil)
    with pytest.raises(ValueError, match=r"node 0 \(Add\): a constant Add"):
        gr.from_onnx(_one(N("Add", ["x", "c"], ["y"]), [_init("c", (4,))]))
    with pytest.raises(ValueError, match=r"node 0 \(MatMul\).*constant"):
        gr.from_onnx(_model([N("MatMul", ["x", "x"], ["y"])], [], (4,), (4,)))
    with pytest.raises(ValueError, match="path_or_bytes"):
        gr.from_onnx(42)


def _export(graph) -> "onnx.ModelProto":
    """A fibench graph (Reshape, Conv2d, ReLU, Max/AvgPool2d, Flatten, Dense) as an ONNX model,
    written with onnx.helper the way a framework exporter would."""
    N, nodes, inits, x = helper.make_node, [], [], "x"
    for i, layer in enumerate(graph.layers):
        y = f"t{i}"
        if isinstance(layer, gr.Reshape):
            inits.append(numpy_helper.from_array(np.array([-1, *layer.shape], dtype=np.int64), f"s{i}"))
            nodes.append(N("Reshape", [x, f"s{i}"], [y]))
        elif isinstance(layer, gr.Conv2d):
            inits += [numpy_helper.from_array(layer.weight, f"w{i}"), numpy_helper.from_array(layer.bias, f"b{i}")]
            p, st = layer.padding, layer.stride
            nodes.append(N("Conv", [x, f"w{i}", f"b{i}"], [y], kernel_shape=list(layer.weight.shape[2:]),
                           pads=[p[0], p[1], p[0], p[1]], strides=list(st)))
        elif isinstance(layer, gr.ReLU):
            nodes.append(N("Relu", [x], [y]))
        elif isinstance(layer, (gr.MaxPool2d, gr.AvgPool2d)):
            op = "MaxPool" if isinstance(layer, gr.MaxPool2d) else "AveragePool"
            nodes.append(N(op, [x], [y], kernel_shape=list(layer.kernel), strides=list(layer.stride)))
        elif isinstance(layer, gr.Flatten):
            nodes.append(N("Flatten", [x], [y]))
        elif isinstance(layer, gr.Dense):
            inits += [numpy_helper.from_array(layer.W, f"w{i}"), numpy_helper.from_array(layer.b, f"b{i}")]
            nodes.append(N("Gemm", [x, f"w{i}", f"b{i}"], [y]))
        else:
            raise AssertionError(f"no export for {type(layer).__name__}")
        x = y
    nodes[-1].output[0] = "y"
    return _model(nodes, inits, graph.input_shape, (graph.layers[-1].W.shape[1],))


def test_onnx_cnn_agrees_with_plaintext_on_digits():
    """An ONNX CNN (conv -> relu -> maxpool -> conv -> relu -> avgpool -> dense, trained on digits
    by fibench's framework-free path and exported with onnx.helper): imported, evaluated
    securely in M2 on the whole digits test set, >= 99.5 % of labels equal the plaintext ones."""
    from fibench.fi import secure_inference as si
    from fibench.fi.data import load_dataset
    from fibench.fi.models import LocalModel
    from fibench.mpc import Session

    d = load_dataset("digits", seed=0)
    g0 = LocalModel("cnn:8m,8", n_classes=10, seed=0).fit(d.X_train, d.y_train).graph()
    g = gr.from_onnx(_export(g0).SerializeToString())
    assert np.max(np.abs(g.logits(d.X_test) - g0.logits(d.X_test))) <= 1e-9
    s = Session(2)
    labels = si.m2_labels(s, d.X_test, [g], "logit_sum", "T2", to="querier").view(np.int64)
    assert np.mean(labels == g.predict(d.X_test)) >= 0.995


def test_onnx_file_as_a_model_spec(tmp_path):
    """``model="onnx:PATH"``: every owner keeps the file's feature layers and retrains the last
    Dense on its own data; the federated secure labels equal the plaintext pipeline's."""
    from fibench.fi.data import load_dataset
    from fibench.fi.federated import FederatedEnsemble
    from fibench.fi.models import LocalModel, normalize_model, parse_model
    from fibench.fi.partition import partition

    d = load_dataset("digits", seed=0)
    g0 = LocalModel("cnn:8m", n_classes=10, seed=3).fit(d.X_train, d.y_train).graph()
    path = tmp_path / "cnn.onnx"
    path.write_bytes(_export(g0).SerializeToString())
    spec = f"onnx:{path}"
    assert parse_model(spec) == ("onnx", (str(path),)) and normalize_model(spec) == spec
    parts = partition(d.y_train, "dirichlet", 3, alpha=0.5, seed=0)
    fe = FederatedEnsemble(model=spec, rule="hard_vote", seed=0).fit(
        [(d.X_train[p], d.y_train[p]) for p in parts], n_classes=10)
    feats = [layer.kind for layer in fe.owners_[0].graph().layers]
    assert feats == [layer.kind for layer in g0.layers]  # the file's architecture
    W0, W1 = (m.graph().layers[-1].W for m in fe.owners_[:2])
    assert not np.allclose(W0, W1)  # each owner's own readout
    conv = [m.graph().layers[1].weight for m in fe.owners_]
    assert all(np.array_equal(c, g0.layers[1].weight) for c in conv)  # the file's feature layers as given
    X = d.X_test[:60]
    labels, report = fe.secure_predict(X, mode="M2", topology="T2")
    assert np.array_equal(np.asarray(labels), fe.predict(X)) and report.agreement == 1.0
    with pytest.raises(ValueError, match="needs an existing ONNX file"):
        parse_model(f"onnx:{tmp_path / 'missing.onnx'}")
    with pytest.raises(ValueError, match="'onnx' needs a file"):
        parse_model("onnx")
    no_dense = tmp_path / "relu.onnx"
    no_dense.write_bytes(_model([helper.make_node("Relu", ["x"], ["y"])], [], (64,), (64,)).SerializeToString())
    with pytest.raises(ValueError, match="must end in a dense layer"):
        LocalModel(f"onnx:{no_dense}", n_classes=10).fit(d.X_train[:50], d.y_train[:50])
