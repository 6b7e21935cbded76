"""The regression gate itself: it must fail on a 2x slower kernel and on a changed byte count,
and pass an unchanged tree 10 times out of 10."""
import io

import numpy as np
import pytest

from fibench.bench import regress

NAMES = {"prg_expand_2^20", "beaver_mul_P2_2^17", "lt_a2b_P2_2^17"}


@pytest.fixture(scope="module")
def fresh_baseline():
    """A baseline made the way ``fibench regress --update`` makes it (margin included)."""
    return regress.speed_baseline([regress.measure_ratios(only=NAMES) for _ in range(10)])


def test_speed_baseline_rule():
    runs = [{"k": 1.0}, {"k": 2.0}, {"k": 1.5}]
    b = regress.speed_baseline(runs, margin=0.5)
    assert b["ratios"]["k"] == pytest.approx(0.75)  # median 1.5 x margin
    assert b["relative_range"]["k"] == pytest.approx(1 / 1.5)
    assert b["tolerance"]["k"] == regress.MAX_TOLERANCE
    assert regress.speed_baseline([{"k": 1.0}])["tolerance"]["k"] == regress.MIN_TOLERANCE
    with pytest.raises(ValueError, match="margin"):
        regress.speed_baseline(runs, margin=0)
    with pytest.raises(ValueError, match="at least one run"):
        regress.speed_baseline([])


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
