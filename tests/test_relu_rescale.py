"""ReLU of a product before its rescale (``Session.relu_of_product``) and the pipeline's use of
it: equal to relu(truncate(z)) within the exact truncation's 1 ulp, on every sharing and
protocol; with ``a2b`` one round less (the truncation opens with the comparison)."""
import numpy as np
import pytest
from conftest import make_session

F = 16
EDGE = [0.0, 2.0**-16, -(2.0**-16), 2.0**-8, -(2.0**-8), 1.0, -1.0, 3.5, -3.5, 2.0**14, -(2.0**14)]


def _operands(rng):
    x = np.concatenate([EDGE, rng.normal(size=300) * 50, [2.0**14, -(2.0**14)]])
    y = np.concatenate([[1.0, 2.0**-16, 2.0**-16, -(2.0**-8), 2.0**-8, -1.0, 1.0, 2.0, -2.0, 1.0, 1.0],
                        rng.normal(size=300), [2.0**14, 2.0**14]])  # the last two: |z| = 2^28, raw 2^60
    return x, y


def _reference(x, y):
    """max(floor(z_raw / 2^F), 0) for the raw product of the encodings (the exact truncation)."""
    xr = np.rint(x * 2.0**F).astype(object)
    yr = np.rint(y * 2.0**F).astype(object)
    z = xr * yr
    return np.array([max(v // 2**F, 0) for v in z], dtype=float) / 2.0**F


def _rounds(s, fn):
    mark = s.stats.mark()
    out = fn()
    return out, s.stats.since(mark).summary()["online_rounds"]


@pytest.mark.parametrize("P", [2, 3, 5, 8])
def test_a2b_relu_of_product_matches_and_saves_a_round(P, rng):
    s = make_session(P)
    x, y = _operands(rng)
    xs, ys = s.share(x, 0), s.share(y, P - 1)
    z = s.mul(xs, ys, rescale=False)
    assert z.frac == 2 * F
    fused, r_fused = _rounds(s, lambda: s.relu_of_product(z))
    plain, r_plain = _rounds(s, lambda: s.relu(s.mul(xs, ys)))
    want = _reference(x, y)
    assert np.abs(s.reveal(fused) - want).max() <= 2.0**-F
    assert np.abs(s.reveal(plain) - want).max() <= 2.0**-F
    assert fused.frac == F
    assert s.fuses_relu_rescale
    assert r_fused == 7  # a2b: open (with the truncation's opening), 4 AND levels, final, product
    assert r_plain == 1 + 1 + 7  # Beaver product, truncation, then the same 7


@pytest.mark.parametrize("kw", [{"protocol": "fss"}, {"protocol": "fss-dpf"}, {"trunc": "local"}])
def test_generic_path_truncates_first(kw, rng):
    s = make_session(2, **kw)
    x, y = _operands(rng)
    z = s.mul(s.share(x, 0), s.share(y, 1), rescale=False)
    assert not s.fuses_relu_rescale
    got = s.reveal(s.relu_of_product(z))
    tol = 2.0**-F
    err = np.abs(got - _reference(x, y))
    assert np.mean(err <= tol) >= (1.0 if "trunc" not in kw else 0.99)


def test_replicated_path(rng):
    from fibench.mpc import Session

    s = Session(3, sharing="replicated")
    x, y = _operands(rng)
    z = s.mul(s.share(x, 0), s.share(y, 2), rescale=False)
    assert np.abs(s.reveal(s.relu_of_product(z)) - _reference(x, y)).max() <= 2.0**-F


def test_relu_of_product_refuses_a_rescaled_value(rng):
    s = make_session(2)
    x = s.share(rng.normal(size=4), 0)
    with pytest.raises(ValueError, match="relu_of_product needs a product"):
        s.relu_of_product(x)


def test_empty_product(rng):
    s = make_session(2)
    e = s.share(np.zeros(0), 0)
    z = s.mul(e, e, rescale=False)
    assert s.reveal(s.relu_of_product(z)).shape == (0,)


@pytest.mark.parametrize("P", [2, 3])
def test_m2_mlp_rounds_and_labels(P):
    """The MLP of the crosscheck suite: 21 rounds with a2b (ReLU fused with the first rescale,
    the final argmax on the exact products), the plaintext labels."""
    from fibench.bench.measures import crosscheck as c

    s = make_session(P)
    fn, check = c.build_op(s, {"op": "mlp", "parties": P, "rows": 200})
    fn()
    mark = s.stats.mark()
    fn()
    assert s.stats.since(mark).summary()["online_rounds"] == 21
    assert check() == 1.0


@pytest.mark.parametrize("bits, rounds", [(64, 6), (32, 7)])
def test_fss_final_scores_unrescaled_only_where_the_range_allows(bits, rounds):
    """fss at l = 64: the final argmax takes the unrescaled products (6 rounds); at l = 32 their
    range would break the promise, so the scores are rescaled first (7 rounds)."""
    from fibench.bench.measures import crosscheck as c

    s = make_session(2, protocol="fss", cmp_bits=bits)
    fn, check = c.build_op(s, {"op": "mlp", "parties": 2, "rows": 200})
    fn()
    mark = s.stats.mark()
    fn()
    assert s.stats.since(mark).summary()["online_rounds"] == rounds
    assert check() == 1.0
