"""FSS comparison (issue 8): the DCF kernels against a slow reference of BCG+21 Fig. 3 and
against plaintext, and ``ltz_fss`` (P = 2, one online round) against plaintext, edge values,
mask wrap-around cases, reduced width and exact communication counts."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SEED, make_session
from reference import RefDCF, mask_boundary_inputs, reconstruct
from fibench.kernels import dcf
from fibench.mpc.protocols.compare_fss import ltz_fss, ltz_fss_offline, ltz_fss_online

MOD = 1 << 64


# ------------------------------------------------------------------------------------------
# slow reference: BCG+21 Fig. 3 with Python integers, one AES block at a time (dcf_reference)
# ------------------------------------------------------------------------------------------
_REF = RefDCF(dcf.MMO_KEY, [int.from_bytes(dcf.TWEAKS[j].tobytes(), "little") for j in range(3)], m=1)


def ref_gen(alpha, beta, L, s0, s1, gamma=0):
    """Returns (root seeds, [(scw, vcw, tcwL, tcwR)] * L, cw_last), keys as Python ints."""
    roots, cws, last = _REF.gen(alpha, [beta], L, s0, s1, [gamma])
    return roots, [[scw, vcw[0], tl, tr] for scw, vcw, tl, tr in cws], last[0]


def ref_eval(b, root, cws, last, x, L):
    return _REF.eval(b, root, [[scw, [vcw], tl, tr] for scw, vcw, tl, tr in cws], [last], x, L)[0]


def u64(vals):
    return np.array([int(v) % MOD for v in vals], dtype=np.uint64)


def ints(a):
    return [int(v) for v in np.asarray(a).reshape(-1)]


# ------------------------------------------------------------------------------------------
# DCF kernels
# ------------------------------------------------------------------------------------------
def test_keys_match_reference_byte_exact():
    rng = np.random.default_rng(7)
    L, n = 5, 11
    alpha = rng.integers(0, 2**L, size=n, dtype=np.uint64)
    beta = rng.integers(0, 2**64 - 1, size=n, dtype=np.uint64)
    gamma = rng.integers(0, 2**64 - 1, size=n, dtype=np.uint64)
    seeds = rng.integers(0, 2**64 - 1, size=(n, 4), dtype=np.uint64)
    k0, k1 = dcf.dcf_gen(alpha, beta, L, seeds=seeds, gamma=gamma, chunk=8)
    sec = [dcf.key_sections(k, n, L) for k in (k0, k1)]
    xs = rng.integers(0, 2**L, size=n, dtype=np.uint64)
    y = [dcf.dcf_eval(b, k, xs, L, chunk=8) for b, k in ((0, k0), (1, k1))]
    for j in range(n):
        s0 = int(seeds[j, 0]) | int(seeds[j, 1]) << 64
        s1 = int(seeds[j, 2]) | int(seeds[j, 3]) << 64
        roots, cws, last = ref_gen(int(alpha[j]), int(beta[j]), L, s0, s1, int(gamma[j]))
        for b in (0, 1):
            seed, scw, vcw, cwl, tcw = sec[b]
            assert int(seed[j, 0]) | int(seed[j, 1]) << 64 == roots[b]
            for i in range(L):
                assert int(scw[i, j, 0]) | int(scw[i, j, 1]) << 64 == cws[i][0]
                assert int(vcw[i, j]) == cws[i][1]
                assert (int(tcw[i, 0, j >> 3]) >> (j & 7)) & 1 == cws[i][2]
                assert (int(tcw[i, 1, j >> 3]) >> (j & 7)) & 1 == cws[i][3]
            assert int(cwl[j]) == last
            assert int(y[b][j]) == ref_eval(b, roots[b], cws, last, int(xs[j]), L)


@pytest.mark.parametrize("L", [1, 2, 3])
def test_dcf_exhaustive_small_domains(L):
    N = 1 << L
    alpha = np.repeat(np.arange(N, dtype=np.uint64), N)
    x = np.tile(np.arange(N, dtype=np.uint64), N)
    rng = np.random.default_rng(L)
    beta = rng.integers(0, 2**64 - 1, size=alpha.size, dtype=np.uint64)
    gamma = rng.integers(0, 2**64 - 1, size=alpha.size, dtype=np.uint64)
    k0, k1 = dcf.dcf_gen(alpha, beta, L, gamma=gamma, chunk=8)
    y = dcf.dcf_eval(0, k0, x, L, chunk=16) + dcf.dcf_eval(1, k1, x, L, chunk=8)
    expect = [((b if xv < a else 0) + g) % MOD for a, xv, b, g in zip(ints(alpha), ints(x), ints(beta), ints(gamma))]
    assert ints(y) == expect


@pytest.mark.parametrize("L", [31, 63, 64])
def test_dcf_chosen_thresholds(L):
    top = (1 << L) - 1
    rng = np.random.default_rng(L)
    alphas = [0, 1, 2, top - 1, top, 1 << (L - 1), (1 << (L - 1)) - 1] + [int(v) for v in rng.integers(0, top, 5, dtype=np.uint64)]
    a_list, x_list = [], []
    for a in alphas:
        for xv in (0, 1, a - 1, a, a + 1, top, top - 1, 1 << (L - 1)):
            if 0 <= xv <= top:
                a_list.append(a)
                x_list.append(xv)
    alpha, x = u64(a_list), u64(x_list)
    k0, k1 = dcf.dcf_gen(alpha, np.uint64(1), L, chunk=16)
    y = dcf.dcf_eval(0, k0, x, L) + dcf.dcf_eval(1, k1, x, L, chunk=24)
    assert ints(y) == [int(xv < a) for a, xv in zip(a_list, x_list)]


def test_dcf_random_and_chunk_independent():
    rng = np.random.default_rng(3)
    L, n = 20, 1001
    alpha = rng.integers(0, 2**L, size=n, dtype=np.uint64)
    x = rng.integers(0, 2**L, size=n, dtype=np.uint64)
    seeds = rng.integers(0, 2**64 - 1, size=(n, 4), dtype=np.uint64)
    ka = dcf.dcf_gen(alpha, np.uint64(5), L, seeds=seeds, chunk=8)
    kb = dcf.dcf_gen(alpha, np.uint64(5), L, seeds=seeds, chunk=4096)
    assert all(np.array_equal(a, b) for a, b in zip(ka, kb))
    outs = [dcf.dcf_eval(0, ka[0], x, L, chunk=c) + dcf.dcf_eval(1, ka[1], x, L, chunk=c) for c in (8, 256, 4096)]
    expect = np.where(x < alpha, np.uint64(5), np.uint64(0))
    for o in outs:
        assert np.array_equal(o, expect)


def test_dcf_key_size_aes_blocks_and_shapes():
    n, L = 37, 9
    assert dcf.key_nbytes(n, L) == 24 * n * (L + 1) + 2 * L * 5
    assert dcf.key_nbytes(8, 63) / 8 == 1551.75
    alpha = np.arange(n, dtype=np.uint64)
    pg, pe = {}, {}
    k0, k1 = dcf.dcf_gen(alpha, np.uint64(1), L, profile=pg)
    assert k0.dtype == np.uint8 and k0.size == k1.size == dcf.key_nbytes(n, L)
    x = np.arange(n, dtype=np.uint64)[::-1].copy().reshape(37, 1)
    y0 = dcf.dcf_eval(0, bytes(k0), x, L, profile=pe)
    assert y0.shape == (37, 1)
    assert pg["aes_blocks"] == dcf.GEN_BLOCKS_PER_LEVEL * L * n
    assert pe["aes_blocks"] == dcf.EVAL_BLOCKS_PER_LEVEL * L * n
    # the two keys differ only in the root seeds
    assert np.array_equal(k0[16 * n:], k1[16 * n:]) and not np.array_equal(k0[: 16 * n], k1[: 16 * n])


def test_dcf_empty_and_one():
    k0, k1 = dcf.dcf_gen(np.zeros(0, dtype=np.uint64), np.uint64(1), 63)
    assert k0.size == k1.size == 0
    assert dcf.dcf_eval(1, k1, np.zeros(0, dtype=np.uint64), 63).shape == (0,)
    for a, xv in ((5, 4), (5, 5), (0, 0), ((1 << 63) - 1, (1 << 63) - 2)):
        k0, k1 = dcf.dcf_gen(u64([a]), np.uint64(1), 63)
        y = dcf.dcf_eval(0, k0, u64([xv]), 63) + dcf.dcf_eval(1, k1, u64([xv]), 63)
        assert ints(y) == [int(xv < a)]


def test_dcf_validation():
    a = np.zeros(4, dtype=np.uint64)
    with pytest.raises(ValueError, match="nbits"):
        dcf.dcf_gen(a, np.uint64(1), 0)
    with pytest.raises(ValueError, match="nbits"):
        dcf.dcf_gen(a, np.uint64(1), 65)
    with pytest.raises(ValueError, match="alpha"):
        dcf.dcf_gen(u64([8]), np.uint64(1), 3)
    with pytest.raises(ValueError, match="alpha"):
        dcf.dcf_gen(np.zeros(4, dtype=np.int64), np.uint64(1), 3)
    with pytest.raises(ValueError, match="beta"):
        dcf.dcf_gen(a, np.ones(3, dtype=np.uint64), 3)
    with pytest.raises(ValueError, match="seeds"):
        dcf.dcf_gen(a, np.uint64(1), 3, seeds=np.zeros((4, 2), dtype=np.uint64))
    with pytest.raises(ValueError, match="chunk"):
        dcf.dcf_gen(a, np.uint64(1), 3, chunk=12)
    k0, _ = dcf.dcf_gen(a, np.uint64(1), 3)
    with pytest.raises(ValueError, match="key"):
        dcf.dcf_eval(0, k0[:-1], a, 3)
    with pytest.raises(ValueError, match="key"):
        dcf.dcf_eval(0, k0, a, 4)
    with pytest.raises(ValueError, match="party"):
        dcf.dcf_eval(2, k0, a, 3)
    with pytest.raises(ValueError, match="x must lie"):
        dcf.dcf_eval(0, k0, u64([0, 0, 0, 8]), 3)


def test_dcf_single_key_looks_uniform():
    """Each key's correction words are balanced bits whatever alpha (extremes compared)."""
    n, L = 512, 16
    for a in (0, (1 << L) - 1):
        k0, k1 = dcf.dcf_gen(np.full(n, a, dtype=np.uint64), np.uint64(1), L)
        for k in (k0, k1):
            _, scw, vcw, cwl, tcw = dcf.key_sections(k, n, L)
            for words, first in ((scw[..., 0], 1), (scw[..., 1], 0), (vcw, 0), (cwl, 0)):
                # bit 0 of a seed's low word is its (cleared) control bit: skipped
                bits = np.unpackbits(np.ascontiguousarray(words).view(np.uint8), bitorder="little").reshape(-1, 64)[:, first:]
                p = bits.mean()
                assert abs(p - 0.5) < 5 * 0.5 / np.sqrt(bits.size)
            tb = np.unpackbits(tcw).mean()
            assert abs(tb - 0.5) < 5 * 0.5 / np.sqrt(2 * L * n)


# ------------------------------------------------------------------------------------------
# ltz_fss on a Session
# ------------------------------------------------------------------------------------------
def fss_session(**kw):
    return make_session(2, protocol="fss", **kw)


def run_ltz(vals, bits=64, s=None):
    s = s or fss_session()
    x = s.share_raw(np.asarray(vals, dtype=np.int64))
    return s, ints(s.reveal_raw(ltz_fss(s, x, bits)))


EDGES = [0, 1, -1, 2, -2, 2**62, -(2**62), 2**62 - 1, -(2**62) + 1, 2**62 + 1, -(2**62) - 1,
         2**63 - 1, -(2**63), -(2**63) + 1, 2**63 - 2, 12345, -12345]


def test_ltz_edges_and_random():
    rng = np.random.default_rng(11)
    vals = EDGES + [int(v) for v in rng.integers(-(2**63), 2**63 - 1, size=300, dtype=np.int64)]
    _, out = run_ltz(vals)
    assert out == [int(v < 0) for v in vals]


def _twin_mask(n):
    """The mask r the dealer of a fresh seeded session draws first (a twin session)."""
    twin = fss_session()
    return reconstruct(twin.dealer.random_shares((n,)))


@pytest.mark.parametrize("bits", [64, 32])
def test_ltz_mask_wraparound_boundaries(bits):
    """c = x + r (r predicted by a twin of the seeded dealer) at the mask's wrap-around
    boundaries (``reference.mask_boundary_inputs``)."""
    n = 40
    r = ints(_twin_mask(n))
    xs = mask_boundary_inputs(r, bits)
    s = fss_session()
    pre = ltz_fss_offline(s, n, bits)
    assert ints(pre.r[0] + pre.r[1]) == r  # the twin really predicted the mask
    x = s.share_raw(np.array(xs, dtype=np.int64))
    out = ints(s.reveal_raw(ltz_fss_online(s, x, pre)))
    assert out == [int(v < 0) for v in xs]
    assert 0 in xs and -(1 << (bits - 1)) in xs  # c_low == r_low: x = 0 (c_msb == r_msb) and x = -2^(l-1)


def test_ltz_reduced_width_32():
    rng = np.random.default_rng(5)
    edges = [0, 1, -1, 2**31 - 1, -(2**31), -(2**31) + 1, 2**31 - 2, 2**30, -(2**30)]
    vals = edges + [int(v) for v in rng.integers(-(2**31), 2**31, size=200)]
    _, out = run_ltz(vals, bits=32)
    assert out == [int(v < 0) for v in vals]
    _, out3 = run_ltz([1, -2, 0, -1], bits=2)  # l = 2: inputs in [-2, 2)
    assert out3 == [0, 1, 0, 1]


@pytest.mark.parametrize("bits", [64, 32])
def test_ltz_exact_communication(bits):
    n = 100
    s = fss_session()
    x = s.share_int(np.arange(-50, 50))
    m = s.stats.mark()
    out = ltz_fss(s, x, bits)
    summ = s.stats.since(m).summary()
    assert summ["online_rounds"] == 1
    width = 8 if bits == 64 else 4  # only the low l bits of x + r are opened (l = 32: 4 bytes)
    assert summ["online_bytes_sent_per_party"] == width * n and summ["online_bytes_recv_per_party"] == width * n
    assert summ["online_messages_per_party"] == 1
    assert summ["offline_rounds"] == 1
    assert summ["offline_bytes_per_party"] == dcf.key_nbytes(n, bits - 1)
    labels = [r.label for r in s.stats.since(m).rounds]
    assert labels == ["dealer/dcf", "fss/open"]
    assert ints(s.reveal_raw(out)) == [int(v < 0) for v in range(-50, 50)]
    per_elem = dcf.key_nbytes(8000, bits - 1) / 8000
    assert per_elem == {64: 1551.75, 32: 775.75}[bits]


def test_ltz_empty_one_and_shapes():
    s = fss_session()
    x0 = s.share_int(np.zeros(0, dtype=np.int64))
    m = s.stats.mark()
    e = ltz_fss(s, x0)
    assert e.shape == (0,) and e.frac == 0 and all(v.shape == (0,) for v in e.shares.values())
    assert s.stats.since(m).summary()["online_rounds"] == 0 and s.stats.since(m).summary()["offline_rounds"] == 0
    _, one = run_ltz([-7])
    assert one == [1]
    x = s.share_int(np.arange(-6, 6).reshape(3, 4))
    b = ltz_fss(s, x)
    assert b.shape == (3, 4) and b.frac == 0 and b.shares[0].dtype == np.uint64 and b.shares[1].shape == (3, 4)
    assert s.reveal_raw(b).tolist() == (np.arange(-6, 6).reshape(3, 4) < 0).astype(int).tolist()


def test_ltz_validation():
    s = fss_session()
    x = s.share_int([1, 2])
    for bad in (1, 65, 0, 3.0):
        with pytest.raises(ValueError, match="bits"):
            ltz_fss(s, x, bad)
    s3 = make_session(3)
    with pytest.raises(ValueError, match="n_parties = 2"):
        ltz_fss(s3, s3.share_int([1, 2]))
    with pytest.raises(ValueError, match="n_parties = 2"):
        make_session(3, protocol="fss")
    pre = ltz_fss_offline(s, 3)
    with pytest.raises(ValueError, match="preprocessing"):
        ltz_fss_online(s, x, pre)
    assert repr(pre) == "FssLtzPre(n=3, bits=64, m=1, parties=[0, 1])"  # no key material shown


def test_ltz_shares_and_opened_value_look_uniform():
    """Party 1's view: the opened c and its output share are balanced bits for constant x."""
    n = 4096
    for v in (0, -1):
        s = fss_session(dealer_seed=None)
        x = s.share_int(np.full(n, v))
        pre = ltz_fss_offline(s, n)
        c = x.shares[0] + x.shares[1] + pre.r[0] + pre.r[1]
        out = ltz_fss_online(s, x, pre)
        for arr in (c, out.shares[0], out.shares[1]):
            bits = np.unpackbits(np.ascontiguousarray(arr).view(np.uint8))
            assert abs(bits.mean() - 0.5) < 5 * 0.5 / np.sqrt(bits.size)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=20))
def test_ltz_property(vals):
    _, out = run_ltz(vals)
    assert out == [int(v < 0) for v in vals]


def test_session_front_end_fss():
    """relu / lt / ltz / argmax work on top of ltz_fss through Session(protocol='fss')."""
    s = fss_session()
    a = np.array([1.5, -2.25, 0.0, -0.0001, 3.0, 1e-4])
    b = np.array([1.0, -2.0, 0.0, 0.5, 3.0, -1.0])
    xa, xb = s.share(a), s.share(b, owner=1)
    assert s.reveal_raw(s.lt(xa, xb)).tolist() == (a < b).astype(int).tolist()
    assert s.reveal_raw(s.ltz(xa)).tolist() == (np.round(a * 2**16) < 0).astype(int).tolist()
    assert np.allclose(s.reveal(s.relu(xa)), np.maximum(np.round(a * 2**16) / 2**16, 0), atol=2**-15)
    logits = np.array([[0.1, 0.9, 0.3], [2.0, -1.0, 1.5], [-3.0, -2.0, -2.5]])
    lab = s.reveal_raw(s.argmax(s.share(logits)))
    assert lab.tolist() == [1, 0, 1]


def test_seeded_session_is_deterministic():
    out = []
    for _ in range(2):
        s = make_session(2, protocol="fss", dealer_seed=SEED)
        pre = ltz_fss_offline(s, 5)
        out.append(pre.key[1].tobytes())
    assert out[0] == out[1]


_MPI_SCRIPT = r"""
import numpy as np
from fibench.mpc import Session
from fibench.mpc.protocols.compare_fss import ltz_fss
s = Session(2, dealer_seed=b"fibench-test-000", protocol="fss", backend="mpi")
vals = np.array([0, 1, -1, 2**31 - 1, -2**31, 7, -7, 12345, -12345] * 3, dtype=np.int64)
x = s.share_raw(vals if s.comm.rank == 0 else None, owner=0, shape=vals.shape)
res = []
for bits in (64, 32):
    m = s.stats.mark()
    b = ltz_fss(s, x, bits)
    summ = s.stats.since(m).summary()
    ok = bool((s.reveal_raw(b) == (vals < 0)).all())
    res.append((ok, summ["online_rounds"], summ["online_bytes_sent_per_party"], summ["offline_bytes_per_party"]))
import sys
with open(f"{sys.argv[1]}/rank{s.comm.rank}.txt", "w") as fh:
    fh.write(repr(res))
"""


@pytest.mark.mpi
def test_ltz_fss_mpi_backend_matches_local(tmp_path):
    """Two MPI ranks: same outputs and the same exact counts as the local backend."""
    import shutil
    import subprocess
    import sys

    pytest.importorskip("mpi4py")
    if shutil.which("mpiexec") is None:
        pytest.skip("mpiexec not found")
    script = tmp_path / "fss_mpi.py"
    script.write_text(_MPI_SCRIPT)
    cmd = ["mpiexec", "-n", "2", sys.executable, str(script), str(tmp_path)]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    n = 27
    expect = repr([(True, 1, 8 * n, dcf.key_nbytes(n, 63)), (True, 1, 4 * n, dcf.key_nbytes(n, 31))])
    for rank in (0, 1):
        assert (tmp_path / f"rank{rank}.txt").read_text() == expect
