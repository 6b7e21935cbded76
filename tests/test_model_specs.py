"""Model specs everywhere (issue 14 items 5-6): the built-in CNN, spec parsing and KEYS, the
latency suite's complexity axis and its figure, the per-layer cost breakdown (tiny grids)."""
import numpy as np
import pandas as pd
import pytest

from fibench.bench import keys, runner
from fibench.bench.suite import SuiteError
from fibench.fi import graph as gr
from fibench.fi import models as fim


def test_cnn_spec_parsing_and_normal_forms():
    assert fim.parse_model("cnn") == ("cnn", ((8, "avg"),))
    assert fim.parse_model("cnn:8,16m") == ("cnn", ((8, "avg"), (16, "max")))
    assert fim.normalize_model("cnn:8") == "cnn" and fim.normalize_model("cnn:16,32m") == "cnn:16,32m"
    assert fim.normalize_model("mlp:64,32") == "mlp:64,32" and fim.normalize_model("logreg") == "lr"
    for bad in ("cnn:", "cnn:0", "cnn:8,8,8,8", "cnn:x", "svm", "lr:3", "mlp:64,0"):
        with pytest.raises(ValueError, match="model"):
            fim.parse_model(bad)


def test_builtin_cnn_trains_and_its_graph_is_the_model():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 16, size=(120, 64))
    y = (X[:, :32].sum(axis=1) > X[:, 32:].sum(axis=1)).astype(int) + 2 * (X[:, 0] > 8)
    m = fim.LocalModel("cnn", n_classes=5, seed=3).fit(X, y)
    g = m.graph()
    kinds = [layer.kind for layer in g.layers]
    assert kinds == ["reshape", "conv2d", "relu", "avgpool2d", "flatten", "dense"]
    assert g.layers[1].weight.shape == (8, 1, 3, 3)
    np.testing.assert_allclose(g.logits(X), m.logits(X), atol=1e-9)
    assert np.all(m.logits(X)[:, 4] == fim.UNSEEN_LOGIT)  # never seen
    assert isinstance(m.weights(), gr.Graph)
    again = fim.LocalModel("cnn", n_classes=5, seed=3).fit(X, y)
    np.testing.assert_array_equal(again.logits(X), m.logits(X))  # deterministic for a seed
    with pytest.raises(ValueError, match="square number of features"):
        fim.LocalModel("cnn", 5).fit(X[:, :10], y)
    with pytest.raises(ValueError, match="halves the image side"):
        fim.LocalModel("cnn:4,4,4", 5).fit(X[:, :16], y)


@pytest.mark.parametrize("spec,kinds", [("mlp:8,4", ["dense", "relu", "dense", "relu", "dense"]),
                                        ("cnn:4m,4", ["reshape", "conv2d", "relu", "maxpool2d", "conv2d", "relu",
                                                      "avgpool2d", "flatten", "dense"])])
def test_random_graph(spec, kinds):
    g = fim.random_graph(spec, 64, 10, np.random.default_rng(0))
    assert [layer.kind for layer in g.layers] == kinds and g.n_outputs == 10


def test_model_keys_accept_specs_and_reject_bad_ones():
    spec = {"model": ("lr", "mlp", "cnn"), "also": ("logreg",)}
    for ok in ("lr", "logreg", "mlp", "mlp:64,32", "mlp:512,512,512,512", "cnn", "cnn:16,32m"):
        assert keys.check_value("model", ok, spec) is None, ok
    for bad in ("svm", "mlp:64,x", "cnn:0", 3, None):
        assert keys.check_value("model", bad, spec) is not None, bad
    assert keys.check_value("model", "cnn", {"model": ("lr", "mlp")}) is not None
    assert "mlp:H1,H2" in keys.describe(spec)


def test_set_keeps_spec_sizes_together():
    assert runner.parse_value("lr,mlp:64,32,cnn:8,16m") == ["lr", "mlp:64,32", "cnn:8,16m"]
    assert runner.parse_value("mlp:64,32") == "mlp:64,32"
    assert runner.parse_value("2,5") == [2, 5]


@pytest.mark.parametrize("suite,sets,msg", [
    ("accuracy", {"model": "cnn:0"}, "cnn blocks"),
    ("latency", {"workload": "m2", "model": "cnn", "features": 10}, "square number"),
    ("communication", {"op": "layers", "model": "resnet"}, "model='resnet'"),
    ("incentives", {"model": "mlp:a"}, "hidden sizes"),
])
def test_suites_refuse_bad_specs(suite, sets, msg):
    s = runner.load_suite(suite)
    pts = [{**p, **sets} for p in runner.expand(runner.resolve_config(s, "quick"))[:3]]
    with pytest.raises(SuiteError, match=msg):
        keys.check_points(s, pts)


def test_suites_accept_spec_grids():
    for name in ("accuracy", "latency", "communication", "incentives"):
        s = runner.load_suite(name)
        for preset in ("quick", "paper"):
            keys.check_points(s, runner.expand(runner.resolve_config(s, preset)))


def test_latency_paper_complexity_axis():
    s = runner.load_suite("latency")
    m2 = [p for p in runner.expand(runner.resolve_config(s, "paper")) if p["workload"] == "m2"]
    models = {p["model"] for p in m2}
    mlps = [fim.parse_model(m)[1] for m in models if m.startswith("mlp:")]
    assert {len(h) for h in mlps} >= {1, 2, 3, 4} and min(map(min, mlps)) == 32 and max(map(max, mlps)) == 512
    assert len([m for m in models if m.startswith("cnn")]) >= 2 and "logreg" in models
    assert all(set(p["networks"]) >= {"lan", "region", "wan", "geo"} for p in m2)


def test_latency_complexity_points_and_figure(tmp_path):
    from fibench.bench.measures.latency import run_point
    from fibench.bench.plots.latency import complexity_span, plot_latency_complexity

    rows = []
    for model in ("logreg", "mlp:8,8", "cnn:2m"):
        rows += run_point(dict(workload="m2", model=model, hidden=0, owners=2, topology="T2", servers=2, batch=2,
                               protocol="a2b", argmax="tree", schedule="parallel", features=64, classes=3,
                               networks=["lan", "geo"], timing_reps=1, threads=1))
    df = pd.DataFrame(rows)
    assert (df["agree"] == 1.0).all()
    assert set(df["model_family"]) == {"lr", "mlp", "cnn"}
    params = df.groupby("model_family")["model_params"].first().to_dict()
    assert params == {"lr": 65 * 3, "mlp": 65 * 8 + 9 * 8 + 9 * 3, "cnn": 2 * 9 + 2 + 2 * 16 * 3 + 3}
    span = complexity_span(df)
    assert span["lo_profile"] == "lan" and span["hi_profile"] == "geo" and span["decades"] > 1
    paths = plot_latency_complexity(df, tmp_path)
    assert any(getattr(p, "name", None) == "latency_vs_complexity.png" for p in paths)


def test_layer_costs_rows_table_and_figure(tmp_path):
    from fibench.bench.measures.communication import layer_table, run_point
    from fibench.bench.plots.communication import plot_communication, plot_layer_costs

    rows = run_point({"op": "layers", "model": "cnn:2m,2", "protocol": "a2b", "parties": 2, "owners": 2,
                      "rows": 3, "seed": 0})
    rows += run_point({"op": "layers", "model": "mlp:4", "protocol": "fss", "parties": 2, "rows": 3, "seed": 0})
    assert run_point({"op": "layers", "model": "cnn", "protocol": "fss", "parties": 3, "rows": 1}) == []
    df = pd.DataFrame(rows)
    cnn = df[df["model"] == "cnn:2m,2"].set_index("layer")
    assert list(cnn.index) == ["share", "dense", "conv", "relu", "maxpool", "avgpool", "argmax"]
    assert cnn.loc["conv", "layers"] == 2 and cnn.loc["relu", "layers"] == 2
    assert cnn["online_rounds"].sum() == cnn["total_online_rounds"].iloc[0]
    assert cnn["online_bytes_sent_per_party"].sum() == cnn["total_online_bytes_per_party"].iloc[0]
    # a conv on the masked query opens nothing but its output truncation: 8 B per output element
    assert cnn.loc["conv", "online_bytes_sent_per_party"] > 0
    t = layer_table(df)
    assert {"layer", "online B/party", "rounds", "bytes %"} <= set(t.columns) and len(t) == len(df)
    assert layer_table(pd.DataFrame([{"op": "mul", "n": 1}])) is None
    assert [p.name for p in plot_layer_costs(df, tmp_path)][0] == "communication_per_layer.png"
    assert plot_communication(df, tmp_path) == []  # layer rows are not ops


def test_torch_trainer_trains_every_layer_and_matches_torch():
    """trainer='torch' (skipped without PyTorch): every conv filter moves from its start, the
    exported graph reproduces PyTorch's own float64 logits, and the CNN beats the random-feature
    CNN of the same seed on the digits test set; lr/mlp refuse it with a clear error."""
    pytest.importorskip("torch")
    from fibench.fi.data import load_dataset
    from fibench.fi.torch_train import torch_logits

    d = load_dataset("digits", seed=0)
    X, y = d.X_train[:400], d.y_train[:400]
    base = fim.LocalModel("cnn:8m", n_classes=10, seed=5).fit(X, y)
    tm = fim.LocalModel("cnn:8m", n_classes=10, seed=5, trainer="torch").fit(X, y)
    g = tm.graph()
    assert not np.allclose(g.layers[1].weight, base.graph().layers[1].weight)
    assert np.max(np.abs(torch_logits(g.layers, g.input_shape, d.X_test) - g.logits(d.X_test))) <= 1e-9
    acc = lambda m: np.mean(m.predict(d.X_test) == d.y_test)  # noqa: E731
    assert acc(tm) > acc(base)
    few = np.isin(y, [1, 2, 3])
    m3 = fim.LocalModel("cnn", n_classes=10, seed=1, trainer="torch").fit(X[few], y[few])
    assert np.all(m3.predict_proba(d.X_test)[:, [0, 4, 5, 6, 7, 8, 9]] == 0.0)  # unseen classes exactly 0
    with pytest.raises(ValueError, match="trainer 'torch' trains cnn and onnx:PATH models"):
        fim.LocalModel("mlp", trainer="torch")
    with pytest.raises(ValueError, match="trainer must be one of sklearn, torch"):
        fim.LocalModel("cnn", trainer="keras")


def test_torch_trainer_without_torch_is_a_clear_error(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_torch(name, *a, **k):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("no torch here")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(ValueError, match=r"trainer='torch' needs PyTorch: pip install 'fibench\[torch\]'"):
        fim.LocalModel("cnn", trainer="torch")
