"""FSS keys longer than one slab (``fss_tree.SLAB`` comparisons): the layout (slabs one after
another, each the key of its comparisons alone), the ``on_slab`` calls a dealer streams by, and
the same bytes on the vector and the OpenSSL path."""
import numpy as np
import pytest

from fibench.kernels import aes, dcf, dpf, fss_tree

SLAB = fss_tree.SLAB
SIZES = (0, 1, SLAB - 1, SLAB, SLAB + 1, 2 * SLAB + 13)


def _rand(rng, L, size):
    return rng.integers(0, 2**L - 1, size=size, dtype=np.uint64, endpoint=True)


@pytest.mark.parametrize("n", SIZES)
def test_slabs_tile_the_key(n):
    for nbytes, slabs in ((dcf.key_nbytes(n, 63), list(dcf.key_slabs(n, 63))),
                          (dcf.key_nbytes(n, 31, 2), list(dcf.key_slabs(n, 31, 2))),
                          (dpf.key_nbytes(n, 63), list(dpf.key_slabs(n, 63)))):
        assert len(slabs) == -(-n // SLAB)
        assert sum(k for _, k, _, _ in slabs) == n
        assert all(k == SLAB for _, k, _, _ in slabs[:-1])
        ends = [0] + [hi for _, _, _, hi in slabs]
        assert [lo for _, _, lo, _ in slabs] == ends[:-1] and ends[-1] == nbytes
        assert all(lo % 8 == 0 and j0 == i * SLAB for i, (j0, _, lo, _) in enumerate(slabs))


def test_sections_describe_one_slab():
    key = np.zeros(dcf.key_nbytes(SLAB + 1, 8), dtype=np.uint8)
    with pytest.raises(ValueError, match="one slab"):
        dcf.key_sections(key, SLAB + 1, 8)
    with pytest.raises(ValueError, match="one slab"):
        dpf.key_sections(np.zeros(dpf.key_nbytes(SLAB + 1, 8), dtype=np.uint8), SLAB + 1, 8)


def _gen_dcf(n, L, m, rng):
    alpha, x = _rand(rng, L, n), _rand(rng, L, n)
    x[:5] = alpha[:5]  # x = alpha: no borrow
    x[5:10] = alpha[5:10] - np.uint64(1) if L == 64 else (alpha[5:10] - np.uint64(1)) & np.uint64(2**L - 1)
    beta = _rand(rng, 64, (n, 2) if m == 2 else n)
    gamma = _rand(rng, 64, beta.shape)
    seeds = _rand(rng, 64, (n, 4))
    return alpha, beta, gamma, seeds, x


@pytest.mark.parametrize("m", [1, 2])
def test_dcf_over_slabs_is_the_keys_of_its_slabs(m):
    rng = np.random.default_rng(40 + m)
    n, L = SLAB + 13, 20
    alpha, beta, gamma, seeds, x = _gen_dcf(n, L, m, rng)
    seen = []
    k0, k1 = dcf.dcf_gen(alpha, beta, L, seeds=seeds, gamma=gamma, on_slab=lambda lo, hi: seen.append((lo, hi)))
    slabs = list(dcf.key_slabs(n, L, m))
    assert seen == [(lo, hi) for _, _, lo, hi in slabs]
    for j0, k, lo, hi in slabs:
        s = slice(j0, j0 + k)
        a0, a1 = dcf.dcf_gen(alpha[s], beta[s], L, seeds=seeds[s], gamma=gamma[s])
        assert np.array_equal(k0[lo:hi], a0) and np.array_equal(k1[lo:hi], a1)
    y = dcf.dcf_eval(0, k0, x, L, m=m) + dcf.dcf_eval(1, k1, x, L, m=m)
    lt = (x < alpha).astype(np.uint64)
    want = (beta * (lt[:, None] if m == 2 else lt)) + gamma
    assert np.array_equal(y, want)


def test_dpf_over_slabs_is_the_keys_of_its_slabs():
    rng = np.random.default_rng(44)
    n, L = 2 * SLAB + 5, 20
    alpha, x = _rand(rng, L, n), _rand(rng, L, n)
    x[:7] = alpha[:7]
    flip = rng.integers(0, 2, n).astype(np.uint8)
    seeds = _rand(rng, 64, (n, 4))
    seen = []
    k0, k1 = dpf.dpf_cmp_gen(alpha, L, seeds=seeds, flip=flip, on_slab=lambda lo, hi: seen.append((lo, hi)))
    slabs = list(dpf.key_slabs(n, L))
    assert seen == [(lo, hi) for _, _, lo, hi in slabs] and len(seen) == 3
    for j0, k, lo, hi in slabs:
        s = slice(j0, j0 + k)
        a0, a1 = dpf.dpf_cmp_gen(alpha[s], L, seeds=seeds[s], flip=flip[s])
        assert np.array_equal(k0[lo:hi], a0) and np.array_equal(k1[lo:hi], a1)
    got = dpf.dpf_cmp_eval(0, k0, x, L) ^ dpf.dpf_cmp_eval(1, k1, x, L)
    assert np.array_equal(got, (x < alpha).astype(np.uint8) ^ flip)


@pytest.mark.skipif(not aes.available(), reason="needs AES-NI inside numba for the vector path")
def test_openssl_path_gives_the_same_slabbed_keys(monkeypatch):
    rng = np.random.default_rng(45)
    n, L = SLAB + 9, 12
    alpha, beta, gamma, seeds, x = _gen_dcf(n, L, 2, rng)
    vec = dcf.dcf_gen(alpha, beta, L, seeds=seeds, gamma=gamma)
    vdp = dpf.dpf_cmp_gen(alpha, L, seeds=seeds)
    yv = dcf.dcf_eval(1, vec[1], x, L, m=2)
    monkeypatch.setattr(aes, "path", lambda: "openssl")
    assert not aes.available()
    sca = dcf.dcf_gen(alpha, beta, L, seeds=seeds, gamma=gamma)
    sdp = dpf.dpf_cmp_gen(alpha, L, seeds=seeds)
    assert all(np.array_equal(a, b) for a, b in zip(vec + vdp, sca + sdp))
    assert np.array_equal(dcf.dcf_eval(1, sca[1], x, L, m=2), yv)
    assert np.array_equal(dpf.dpf_cmp_eval(0, sdp[0], x, L), dpf.dpf_cmp_eval(0, vdp[0], x, L))


# -- the streamed round on the local backend: the same booking as exchange, checked ready calls --
def test_exchange_streamed_books_as_exchange():
    from fibench.mpc import LocalCommunicator

    sizes = {("dealer", 0): 24, ("dealer", 1): 16}
    streamed, plain = LocalCommunicator(2), LocalCommunicator(2)

    def fill(bufs, ready):
        for key, b in bufs.items():
            b[:] = np.arange(b.size, dtype=np.uint8) + key[1]
            ready(key, 0, 8)
            ready(key, 8, b.size)

    with streamed.offline():
        got = streamed.exchange_streamed(sizes, fill, "dealer/x")
    with plain.offline():
        want = plain.exchange({k: np.arange(v, dtype=np.uint8) + k[1] for k, v in sizes.items()}, "dealer/x")
    assert set(got) == set(want) and all(np.array_equal(got[k], want[k]) for k in want)
    assert streamed.stats.summary() == plain.stats.summary()
    assert [r.__dict__ for r in streamed.stats.rounds] == [r.__dict__ for r in plain.stats.rounds]


@pytest.mark.parametrize("calls,match", [([(0, 8), (4, 16)], "start at 8"), ([(0, 20)], "start at 0 and it has 16"),
                                         ([(0, 8)], "not finished")])
def test_exchange_streamed_checks_ready_calls(calls, match):
    from fibench.mpc import LocalCommunicator

    def fill(bufs, ready):
        for lo, hi in calls:
            ready(("dealer", 1), lo, hi)

    with pytest.raises(ValueError, match=match):
        LocalCommunicator(2).exchange_streamed({("dealer", 1): 16}, fill, "dealer/x")
