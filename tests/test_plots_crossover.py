"""Protocol crossover plot (a2b vs fss by network profile and batch size) and its table."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from fibench.bench.plots.common import NotDrawn
from fibench.bench.plots.latency import plot_latency, plot_protocol_crossover, protocol_crossover_table

BATCHES = (1, 10, 100)
# est_time_s per (network, protocol) at BATCHES; a2b / fss ratio:
#   lan: 0.2, 0.3, 0.5 (a2b wins at all batches); wan: 0.5, 1.5, 3 (crossover at 10**0.5)
TIMES = {("lan", "a2b"): (0.01, 0.03, 0.1), ("lan", "fss"): (0.05, 0.1, 0.2),
         ("wan", "a2b"): (1.0, 3.0, 6.0), ("wan", "fss"): (2.0, 2.0, 2.0)}
SETTINGS = dict(workload="m2", model="mlp", hidden=32, owners=2, topology="T2", servers=2, argmax="pairs")


def rows(times=TIMES, batches=BATCHES, cmp_bits=64, **over):
    out = []
    for (net, proto), ts in times.items():
        for b, t in zip(batches, ts):
            bits = cmp_bits if proto == "fss" else math.nan  # a2b grid points carry no cmp_bits
            out.append({**SETTINGS, **over, "label": f"M2 {proto} b={b}", "protocol": proto, "cmp_bits": bits,
                        "batch": b, "network": net, "compute_s": t / 2, "latency_s": t / 4, "transfer_s": t / 4,
                        "est_time_s": t, "online_rounds": 10, "online_bytes_per_party": 1000 * b})
    return out


def synthetic(**kw):
    df = pd.DataFrame(rows(**kw))
    # unrelated rows that must be ignored: a ReLU op, and an a2b-only M2 configuration
    extra = pd.DataFrame([{"workload": "relu", "n": 1000, "parties": 2, "protocol": "fss", "network": "lan",
                           "est_time_s": 0.01, "label": "relu"}]
                         + [r for r in rows(hidden=64) if r["protocol"] == "a2b"])
    return pd.concat([df, extra], ignore_index=True)


def test_table_crossover_and_winner_everywhere():
    t = protocol_crossover_table(synthetic())
    assert list(t.columns[:6]) == ["network", "series", "crossover_lo", "crossover_hi", "crossover_batch",
                                   "speedup_at_max_batch"]
    assert t["network"].tolist() == ["lan", "wan"] and set(t["series"]) == {"fss (l=64)"}
    lan, wan = t.iloc[0], t.iloc[1]
    assert math.isnan(lan["crossover_batch"]) and lan["note"] == "a2b wins at all batches"
    assert math.isnan(lan["crossover_lo"]) and math.isnan(lan["crossover_hi"])
    assert lan["speedup_at_max_batch"] == pytest.approx(0.5)
    assert wan["crossover_batch"] == pytest.approx(10 ** 0.5)  # ratio 0.5 -> 1.5 between b=1 and b=10
    assert (wan["crossover_lo"], wan["crossover_hi"]) == (1, 10)
    # the note is no more precise than the grid: the two measured batches, no interpolated number
    assert wan["speedup_at_max_batch"] == pytest.approx(3.0) and wan["note"] == "fss wins above a batch in (1, 10]"


def test_table_series_per_cmp_bits_and_downward_crossing():
    # second fss series (l=32), twice as fast: lan 0.4, 0.6, 1.0 -> crossover exactly at b=100;
    # wan ratio 1, 3, 6 -> fss wins at all batches
    fast = {k: tuple(x / 2 for x in v) if k[1] == "fss" else v for k, v in TIMES.items()}
    both = pd.DataFrame(rows() + [r for r in rows(fast, cmp_bits=32) if r["protocol"] == "fss"])
    t = protocol_crossover_table(both).set_index(["network", "series"])
    assert t.loc[("lan", "fss (l=32)"), "crossover_batch"] == pytest.approx(100.0)
    assert math.isnan(t.loc[("wan", "fss (l=32)"), "crossover_batch"])
    assert t.loc[("wan", "fss (l=32)"), "note"] == "fss wins at all batches"
    assert t.loc[("wan", "fss (l=64)"), "crossover_batch"] == pytest.approx(10 ** 0.5)
    # fss ahead at small batches, behind at large ones: ratio 2, 1.5, 0.5 -> a2b takes over at 10**1.5
    down = {("geo", "a2b"): (2.0, 1.5, 0.5), ("geo", "fss"): (1.0, 1.0, 1.0)}
    t = protocol_crossover_table(pd.DataFrame(rows(down)))
    assert t["crossover_batch"].iloc[0] == pytest.approx(10 ** 1.5)
    assert t["note"].iloc[0] == "a2b wins above a batch in (10, 100]"


@pytest.mark.parametrize("df", [
    pd.DataFrame(),
    pd.DataFrame([r for r in rows() if r["protocol"] == "a2b"]),   # one protocol only
    pd.DataFrame(rows(batches=(1, 1, 1))),                          # one batch size only
    pd.DataFrame(rows()).drop(columns="batch"),                     # no batch column
    pd.DataFrame([r for r in rows(hidden=64) if r["protocol"] == "a2b"]
                 + [r for r in rows() if r["protocol"] == "fss"]),  # fss only at other settings
])
def test_no_pairable_rows(df, tmp_path):
    assert protocol_crossover_table(df).empty
    assert plot_protocol_crossover(df, tmp_path) == []
    assert not list(tmp_path.iterdir())


def test_plot_written_and_called_from_plot_latency(tmp_path):
    paths = plot_protocol_crossover(synthetic(), tmp_path / "a")
    assert sorted(p.name for p in paths) == ["protocol_crossover.png", "protocol_crossover.svg"]
    png = tmp_path / "a" / "protocol_crossover.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    names = [p.name for p in plot_latency(synthetic(), tmp_path / "b") if not isinstance(p, NotDrawn)]
    assert "protocol_crossover.png" in names


def test_settings_are_facets_not_a_most_common_value(tmp_path):
    """Two hidden sizes, both with a2b and fss at several batches: two figures, one per setting,
    and table rows for both (nothing fixed to the most common value)."""
    df = pd.DataFrame(rows() + rows(hidden=64) + rows(hidden=64))  # hidden=64 twice as common
    t = protocol_crossover_table(df)
    assert "hidden" in t.columns and sorted(set(t["hidden"])) == [32, 64]
    names = sorted(p.name for p in plot_protocol_crossover(df, tmp_path))
    assert names == ["protocol_crossover_1.png", "protocol_crossover_1.svg",
                     "protocol_crossover_2.png", "protocol_crossover_2.svg"]
