import numpy as np
import pytest

from conftest import make_session
from uniformity import bytes_look_uniform, same_distribution
from fibench.mpc import prg
from fibench.mpc.shares import AShare


def test_expand_deterministic_prefix_and_streams():
    s = prg.new_seed()
    for n in [0, 1, 2, 3, 7, 100, 1001]:
        a = prg.expand(s, 5, n)
        assert a.dtype == np.uint64 and a.shape == (n,)
        assert (a == prg.expand(s, 5, n)).all()
        assert (prg.expand(s, 5, n + 9)[:n] == a).all()
    assert not (prg.expand(s, 1, 64) == prg.expand(s, 2, 64)).all()
    with pytest.raises(ValueError, match="seed"):
        prg.expand(b"short", 0, 4)


def test_expand_into_preallocated():
    s = prg.new_seed()
    out = np.empty(1000, dtype=np.uint64)
    prg.expand_into(s, 3, out)
    assert (out == prg.expand(s, 3, 1000)).all()


@pytest.mark.parametrize("P", [2, 3, 5, 8])
def test_single_share_is_uniform_and_independent_of_secret(P):
    n = 20000
    for secret in (np.zeros(n), np.full(n, 123.25)):
        s = make_session(P)
        x = s.share(secret, owner=0)
        for p in range(P):
            # every byte value equally likely (chi-square); a constant secret leaves no trace
            assert bytes_look_uniform(x.shares[p])
            assert len(np.unique(x.shares[p])) > n * 0.99
        assert not bytes_look_uniform(s.reveal_raw(x))  # the check can fail: the secret is not uniform
    s = make_session(P)
    zero, big = s.share(np.zeros(n), 0), s.share(np.full(n, 1e6), 0)
    for p in range(P):
        assert same_distribution(zero.shares[p], big.shares[p])
    assert not same_distribution(zero.shares[0], zero.shares[0] >> np.uint64(1))  # a missing top bit fails


@pytest.mark.parametrize("P", [2, 3, 5, 8])
@pytest.mark.parametrize("owner", [0, 1, "querier"])
def test_share_reveal_roundtrip_and_bytes(P, owner, rng):
    s = make_session(P)
    x = rng.normal(size=(7, 3)) * 100
    m = s.stats.mark()
    sh = s.share(x, owner=owner)
    st = s.stats.since(m).party_summary("online")
    n_seeded = P - 1
    if owner == "querier":
        assert st["querier"]["bytes_sent"] == 16 * n_seeded + 8 * x.size
    else:  # a compute party shares for free: its peers expand their pairwise keys
        assert st == {} and s.stats.since(m).summary()["online_rounds"] == 0
    assert np.abs(s.reveal(sh) - x).max() <= 2.0**-17
    m = s.stats.mark()
    got = s.reveal(sh, to="querier")
    assert np.abs(got - x).max() <= 2.0**-17
    assert s.stats.since(m).party_summary("online")["querier"]["bytes_recv"] == P * 8 * x.size
    assert s.stats.since(m).summary()["online_rounds"] == 1


@pytest.mark.parametrize("P", [2, 3, 5])
def test_input_key_setup_is_one_round_and_every_share_is_fresh(P):
    """Set-up: one round, 16 B per ordered pair; then the same value shared twice by the same
    party gives unrelated shares (a fresh counter per input) whose peer views look uniform."""
    s = make_session(P)
    setup = [r for r in s.stats.rounds if r.label == "setup/input-keys"]
    assert len(setup) == 1 and setup[0].links == {(p, q): 16 for p in range(P) for q in range(P) if q != p}
    x = np.zeros(4096)
    a, b = s.share(x, owner=0), s.share(x, owner=0)
    for q in range(1, P):
        assert not np.array_equal(a.shares[q], b.shares[q])
        assert bytes_look_uniform(a.shares[q])
    assert np.all(s.reveal(a) == 0) and np.all(s.reveal(b) == 0)
    other = make_session(P)  # another session: other keys, other shares
    assert not np.array_equal(other.share(x, owner=0).shares[1], a.shares[1])


def test_reveal_to_one_party(rng):
    s = make_session(3)
    x = s.share(rng.normal(size=5), 0)
    m = s.stats.mark()
    s.reveal(x, to=2)
    ps = s.stats.since(m).party_summary("online")
    assert ps[2]["bytes_recv"] == 2 * 5 * 8 and ps[2]["bytes_sent"] == 0


def test_repr_never_shows_shares_or_seeds():
    s = make_session(2)
    x = s.share([1.0, 2.0], 0)
    text = repr(x) + repr(s) + repr(s.dealer)
    for p in x.shares:
        for v in x.shares[p]:
            assert str(int(v)) not in text


def test_session_validation():
    from fibench.mpc import Session

    for bad in [1, 0, 17, 2.5]:
        with pytest.raises(ValueError, match="n_parties"):
            Session(n_parties=bad)
    with pytest.raises(ValueError, match="frac_bits"):
        Session(2, frac_bits=40)
    with pytest.raises(ValueError, match="protocol"):
        Session(2, protocol="garbled")
    with pytest.raises(ValueError, match="fss"):
        Session(3, protocol="fss")
    with pytest.raises(ValueError, match="trunc"):
        Session(3, trunc="local")
    s = make_session(2)
    with pytest.raises(ValueError, match="finite"):
        s.share([np.nan], 0)
    with pytest.raises(ValueError, match="range"):
        s.share([1e30], 0)
    with pytest.raises(ValueError, match="shapes"):
        s.mul(s.share([1.0, 2.0], 0), s.share([1.0], 0))
    with pytest.raises(ValueError, match="matmul"):
        s.matmul(s.share(np.ones((2, 3)), 0), s.share(np.ones((2, 3)), 0))


def test_dealer_seeds_offline_bytes():
    s = make_session(4)
    off = s.stats.party_summary("offline")
    assert all(off[p]["bytes_recv"] == 16 for p in range(4))
