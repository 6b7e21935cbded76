"""FSS keys longer than one slab (``fss_tree.SLAB`` comparisons): the layout (slabs one after
another, each the key of its comparisons alone), the ``on_slab`` calls a dealer streams by, the
split generation (party 1's key from party 0's and its seeds), and the same bytes on the vector
and the OpenSSL path."""
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


@pytest.mark.parametrize("m,n", [(1, SLAB + 13), (2, SLAB + 13), (2, 2 * SLAB)])
def test_dcf_over_slabs_is_the_keys_of_its_slabs(m, n):
    rng = np.random.default_rng(40 + m)
    L = 20
    alpha, beta, gamma, seeds, x = _gen_dcf(n, L, m, rng)
    seen = []
    k0, k1 = dcf.dcf_gen(alpha, beta, L, seeds=seeds, gamma=gamma, on_slab=lambda *slab: seen.append(slab))
    slabs = list(dcf.key_slabs(n, L, m))
    assert seen == slabs
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
    k0, k1 = dpf.dpf_cmp_gen(alpha, L, seeds=seeds, flip=flip, on_slab=lambda *slab: seen.append(slab))
    slabs = list(dpf.key_slabs(n, L))
    assert seen == slabs and len(seen) == 3
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


def _joined_key1(key0, seed1, slabs):
    return np.concatenate([p for j0, k, lo, hi in slabs for p in fss_tree.key1_parts(key0, seed1, j0, k, lo, hi)])


@pytest.mark.parametrize("path", ["vector", "openssl"])
def test_split_generation_gives_the_same_keys(path, monkeypatch):
    """split=True writes party 1's root seeds only; key1_parts rebuild its key byte for byte."""
    if path == "openssl":
        monkeypatch.setattr(aes, "path", lambda: "openssl")
    elif not aes.available():
        pytest.skip("needs AES-NI inside numba for the vector path")
    rng = np.random.default_rng(46)
    n, L = SLAB + 21, 14
    for m in (1, 2):
        alpha, beta, gamma, seeds, _ = _gen_dcf(n, L, m, rng)
        k0, k1 = dcf.dcf_gen(alpha, beta, L, seeds=seeds, gamma=gamma)
        s0, seed1 = dcf.dcf_gen(alpha, beta, L, seeds=seeds, gamma=gamma, split=True)
        assert seed1.shape == (n, 2) and seed1.dtype == np.uint64
        assert np.array_equal(s0, k0) and np.array_equal(_joined_key1(s0, seed1, list(dcf.key_slabs(n, L, m))), k1)
    flip = rng.integers(0, 2, n).astype(np.uint8)
    k0, k1 = dpf.dpf_cmp_gen(alpha, L, seeds=seeds, flip=flip)
    s0, seed1 = dpf.dpf_cmp_gen(alpha, L, seeds=seeds, flip=flip, split=True, out=(None, np.zeros((n, 2), np.uint64)))
    assert np.array_equal(s0, k0) and np.array_equal(_joined_key1(s0, seed1, list(dpf.key_slabs(n, L))), k1)
    with pytest.raises(ValueError, match=r"out\[1\].*root seeds"):
        dcf.dcf_gen(alpha, beta, L, split=True, out=(None, np.zeros(n, np.uint64)))


def test_dealer_sends_party1_from_party0s_key_where_it_is_remote():
    """A dealer whose party 1 lives elsewhere (the MPI layout) books and delivers the same keys."""
    from fibench.mpc import Dealer, LocalCommunicator

    class Remote1(LocalCommunicator):  # party 1 "elsewhere": the dealer takes the split path
        def is_local(self, party):
            return party != 1

        def exchange_streamed(self, nbytes, fill, label=""):
            bufs = {k: np.zeros(int(v), dtype=np.uint8) for k, v in nbytes.items()}
            sent = {k: [] for k in nbytes}
            fill(bufs, lambda key, lo, hi, data=None: sent[key].append(bufs[key][lo:hi].copy() if data is None
                                                                        else data.copy()))
            assert not bufs[("dealer", 1)].any()  # party 1's buffer was never written
            return self.exchange({k: np.concatenate(v) for k, v in sent.items()}, label)

    n = 2 * SLAB + 3
    for meth, kw in (("dcf_keys", {"payload": "relu"}), ("dpf_keys", {"output": "relu"})):
        got = getattr(Dealer(Remote1(2), seed=bytes(16)), meth)(n, 64, **kw)
        want = getattr(Dealer(LocalCommunicator(2), seed=bytes(16)), meth)(n, 64, **kw)
        for p in (0, 1):
            assert np.array_equal(got.key[p], want.key[p]), (meth, p)


@pytest.mark.parametrize("n", [2 * SLAB, 2 * SLAB + 13])
def test_one_kernel_over_whole_slabs_equals_slab_by_slab(n):
    """Without on_slab the whole slabs run in one parallel kernel (gen_slabs / eval_slabs): the
    same keys as slab by slab, and outputs equal to the plaintext."""
    rng = np.random.default_rng(47)
    L = 18
    for m, gamma_on in ((1, False), (2, True)):
        alpha, beta, gamma, seeds, x = _gen_dcf(n, L, m, rng)
        gamma = gamma if gamma_on else None
        one = dcf.dcf_gen(alpha, beta, L, seeds=seeds, gamma=gamma)
        each = dcf.dcf_gen(alpha, beta, L, seeds=seeds, gamma=gamma, on_slab=lambda *slab: None)
        assert all(np.array_equal(a, b) for a, b in zip(one, each))
        y = dcf.dcf_eval(0, one[0], x, L, m=m) + dcf.dcf_eval(1, one[1], x, L, m=m)
        lt = (x < alpha).astype(np.uint64)
        want = beta * (lt[:, None] if m == 2 else lt)
        assert np.array_equal(y, want if gamma is None else want + gamma)
    one = dpf.dpf_cmp_gen(alpha, L, seeds=seeds)
    each = dpf.dpf_cmp_gen(alpha, L, seeds=seeds, on_slab=lambda *slab: None)
    assert all(np.array_equal(a, b) for a, b in zip(one, each))
    assert np.array_equal(dpf.dpf_cmp_eval(0, one[0], x, L) ^ dpf.dpf_cmp_eval(1, one[1], x, L),
                          (x < alpha).astype(np.uint8))
