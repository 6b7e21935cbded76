"""Masks that protect inputs never come from a user seed (issue 13, item 7), and products are
exact by default: the P = 2 default truncation is the dealer's, exact to 1 ulp."""
import numpy as np
import pytest

from fibench.fi import secure_inference as si
from fibench.mpc import Session
from fibench.mpc.encoding import decode, encode
from fibench.mpc.protocols.sharing import share_many

SEED = b"same-seed-twice!"


def _masked_e(s, x):
    return share_many(s, [(encode(x), "querier", x.shape, s.frac_bits, "masked")], "m")[0].e


def test_two_seeded_sessions_use_different_input_masks():
    """Same dealer seed, same query: what server 0 sees (x - a) differs, so enc(X1) - enc(X2)
    cannot be computed from two runs."""
    x = np.linspace(-3, 3, 64)
    e1 = _masked_e(Session(2, dealer_seed=SEED), x)
    e2 = _masked_e(Session(2, dealer_seed=SEED), x)
    assert not np.array_equal(e1, e2)
    assert np.count_nonzero(e1 == e2) <= 1


def test_two_pipeline_runs_open_different_values():
    """Two M2 runs of the same query: every opened value differs (no mask from a user seed)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 6))
    layers = [[(rng.normal(size=(6, 4)), rng.normal(size=4)), (rng.normal(size=(4, 3)), rng.normal(size=3))]]
    opened = []
    for _ in range(2):
        s = Session(2)
        si.m2_labels(s, X, layers, "logit_sum", "T2", to="querier")
        opened.append([r.links for r in s.stats.rounds if r.phase == "online"])
    assert len(opened[0]) == len(opened[1])  # counts are reproducible...
    assert [sorted(a.items()) for a in opened[0]] == [sorted(a.items()) for a in opened[1]]


def test_session_rejects_a_seed_keyword_and_bad_dealer_seeds():
    with pytest.raises(TypeError):
        Session(2, seed=1)  # the user seed no longer reaches the dealer
    for bad in (-1, b"short", "sixteen-chars-ok"):
        with pytest.raises(ValueError, match="dealer_seed"):
            Session(2, dealer_seed=bad)


@pytest.mark.parametrize("P", [2, 3])
def test_default_products_exact_to_one_ulp_over_the_documented_range(P):
    """10^6 random products with |x * y| < 2^(62 - 2f) (f = 16: 2^30): none off by more than 1 ulp
    (SecureML's local truncation, the old P = 2 default, failed on 6 % of them)."""
    rng = np.random.default_rng(P)
    n = 10**6 if P == 2 else 10**5
    mag = 2.0 ** rng.uniform(-16, 15, size=(2, n))
    x, y = mag * rng.choice([-1.0, 1.0], size=(2, n))
    y = np.where(np.abs(x * y) < 2.0**30 * 0.999, y, np.sign(y))
    s = Session(P)
    got = s.reveal(s.mul(s.share(x), s.share(y)))
    exact = decode(encode(x)) * decode(encode(y))
    err = np.abs(got - exact) * 2.0**16
    assert err.max() <= 1.0 + 1e-6
