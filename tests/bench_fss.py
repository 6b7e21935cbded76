"""Benchmarks of the ``fss`` comparison (issue 8): 10^6 comparisons [x < 0] at l = 64 and l = 32
bits, local backend, P = 2.

* ``test_fss_online``: the online phase, both parties' work (open c = x + r, DCF evaluation by
  party 0 and by party 1, local finish), keys made once beforehand. ``extra_info`` reports the
  exact online bytes and rounds, key bytes per element, the dealer's time for the batch, AES
  blocks per comparison (both parties) and the share of the online time spent inside AES.
* ``test_fss_dealer``: the offline phase (mask and DCF key generation for both parties).

JIT compilation is excluded: a small warm-up call compiles (or loads) every kernel before
timing, plus one untimed warm-up round. The preprocessed keys are reused across timing rounds
(a real run uses each key once; the online work does not depend on it).

Run: ``pytest tests/bench_fss.py --benchmark-enable`` (about 1 minute, ~3.5 GB of memory).
"""
import statistics
import time

import numpy as np
import pytest

from fibench.mpc import Session
from fibench.kernels import dcf
from fibench.mpc.protocols.compare_fss import ltz_fss, ltz_fss_offline, ltz_fss_online

N = 1_000_000
SEED = b"bench-fss-000000"


def _warm_up(bits):
    t0 = time.perf_counter()
    s = Session(2, protocol="fss", dealer_seed=SEED)
    ltz_fss(s, s.share_int(np.arange(-40, 40)), bits)
    return time.perf_counter() - t0


def _inputs(s, bits):
    rng = np.random.default_rng(bits)
    vals = rng.integers(-(2 ** (bits - 1)), 2 ** (bits - 1), size=N, dtype=np.int64, endpoint=False)
    return vals, s.share_int(vals)


@pytest.mark.parametrize("bits", [64, 32])
def test_fss_online(benchmark, bits):
    compile_s = _warm_up(bits)
    s = Session(2, protocol="fss", dealer_seed=SEED)
    vals, x = _inputs(s, bits)
    d0 = s.dealer.elapsed
    m = s.stats.mark()
    pre = ltz_fss_offline(s, N, bits)
    dealer_s = s.dealer.elapsed - d0
    m_on = s.stats.mark()
    out = ltz_fss_online(s, x, pre)
    on = s.stats.since(m_on).summary()
    off = s.stats.since(m).summary()
    assert np.array_equal(s.reveal_raw(out), (vals < 0).astype(np.uint64))
    benchmark.pedantic(ltz_fss_online, args=(s, x, pre), rounds=5, warmup_rounds=1)
    prof = {}
    t0 = time.perf_counter()
    ltz_fss_online(s, x, pre, profile=prof)
    prof_s = time.perf_counter() - t0
    median_s = statistics.median(benchmark.stats.stats.data) if benchmark.stats else prof_s
    benchmark.extra_info.update(
        n=N, bits=bits, compile_s=compile_s, median_s=median_s,
        online_rounds=on["online_rounds"],
        online_bytes_sent_per_elem_per_party=on["online_bytes_sent_per_party"] / N,
        key_bytes_per_elem_per_party=off["offline_bytes_per_party"] / N,
        dealer_s=dealer_s,
        aes_blocks_per_comparison_both_parties=prof["aes_blocks"] / N,
        aes_s=prof.get("aes_s", float("nan")), aes_share_of_online=prof.get("aes_s", float("nan")) / prof_s,
    )
    assert on["online_rounds"] == 1 and on["online_bytes_sent_per_party"] == 8 * N


@pytest.mark.parametrize("bits", [64, 32])
def test_fss_dealer(benchmark, bits):
    compile_s = _warm_up(bits)
    s = Session(2, protocol="fss", dealer_seed=SEED)

    def run():
        ltz_fss_offline(s, N, bits)  # result dropped at once: keys are 2 x 1.55 KB per element at l = 64

    benchmark.pedantic(run, rounds=2, warmup_rounds=1)  # warm-up also pre-faults the key memory
    prof = {}
    r = np.random.default_rng(0).integers(0, 2 ** (bits - 1), size=N, dtype=np.uint64)
    t0 = time.perf_counter()
    dcf.dcf_gen(r, np.uint64(1), bits - 1, profile=prof)
    gen_s = time.perf_counter() - t0
    benchmark.extra_info.update(
        n=N, bits=bits, compile_s=compile_s,
        key_bytes_per_elem_per_party=dcf.key_nbytes(N, bits - 1) / N,
        aes_blocks_per_comparison=prof["aes_blocks"] / N, aes_share_of_gen=prof.get("aes_s", float("nan")) / gen_s,
    )
