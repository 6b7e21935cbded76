"""The regression gate itself: it must fail on a 2x slower kernel and on a changed byte count,
and pass an unchanged tree 10 times out of 10."""
import io

import numpy as np
import pytest

from fibench.bench import regress

NAMES = {"prg_expand_2^20", "beaver_mul_P2_2^17", "lt_a2b_P2_2^17"}


@pytest.fixture(scope="module")
def fresh_baseline(tmp_path_factory):
    base = tmp_path_factory.mktemp("baseline")
    runs = [regress.measure_ratios(only=NAMES) for _ in range(10)]
    ratios = {k: float(np.median([r[k] for r in runs])) for k in NAMES}
    rel = {k: (max(r[k] for r in runs) - min(r[k] for r in runs)) / ratios[k] for k in NAMES}
    tol = {k: min(regress.MAX_TOLERANCE, max(regress.MIN_TOLERANCE, 2 * rel[k])) for k in NAMES}
    return {"ratios": ratios, "tolerance": tol}


def test_unchanged_tree_passes_10_of_10(fresh_baseline):
    fails = [regress.gate_speed(fresh_baseline, only=NAMES)[1] for _ in range(10)]
    assert [f for f in fails if f] == []


def test_two_times_slower_kernel_fails(fresh_baseline, monkeypatch):
    from fibench.mpc.protocols import compare_a2b

    real = compare_a2b.ltz_a2b

    def slow(ctx, x):  # the same comparison computed twice: a 2x slowdown
        real(ctx, x)
        return real(ctx, x)

    monkeypatch.setattr(compare_a2b, "ltz_a2b", slow)
    for _ in range(3):
        _, bad = regress.gate_speed(fresh_baseline, only={"lt_a2b_P2_2^17"})
        assert [b[0] for b in bad] == ["lt_a2b_P2_2^17"]


def test_changed_byte_count_fails(monkeypatch):
    from fibench.mpc.comm import base as communicator

    case = {"op": "lt", "protocol": "a2b", "parties": 2, "n": 1000, "rows": 100, "reps": 1, "seed": 0}
    from fibench.bench.measures.communication import run_point

    before = {"lt": {k: run_point(case)[0][k] for k in regress.COUNTER_FIELDS}}
    real = communicator.payload_nbytes
    monkeypatch.setattr(communicator, "payload_nbytes", lambda m: real(m) + 1)  # one extra byte per message
    after = {"lt": {k: run_point(case)[0][k] for k in regress.COUNTER_FIELDS}}
    rows = regress.diff_counters(before, after)
    assert ("lt", "online_bytes_sent_per_party", before["lt"]["online_bytes_sent_per_party"],
            before["lt"]["online_bytes_sent_per_party"] + 6) in rows


def test_run_check_reports_readable_diff(tmp_path, monkeypatch):
    counters = {"lt/a2b/P2": {f: 1 for f in regress.COUNTER_FIELDS}}
    regress._write_json(tmp_path / "counters.json", counters)
    regress._write_json(tmp_path / "speed.json", {"ratios": {}, "tolerance": {}})
    monkeypatch.setattr(regress, "measure_counters", lambda progress=False: {"lt/a2b/P2": {**counters["lt/a2b/P2"], "online_rounds": 7}})
    out = io.StringIO()
    assert regress.run_check(tmp_path, out) is False
    assert "| lt/a2b/P2 | online_rounds | 1 | 7 |" in out.getvalue()


def test_committed_counters_match():
    """The committed expectations equal this tree's counters (exact)."""
    counters, _ = regress.load()
    assert regress.diff_counters(counters, regress.measure_counters()) == []
