"""Network model: estimate arithmetic by hand, geographic placement, TOML profiles."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fibench.bench import network
from fibench.bench.network import estimate, get_profile, load_profiles


@dataclass
class R:  # a Round-like object: duck-typed on .phase and .links
    phase: str
    links: dict = field(default_factory=dict)


def test_builtin_profiles_values():
    assert get_profile("lan").rtt_s == pytest.approx(0.2e-3)
    assert get_profile("lan").bandwidth_bps == pytest.approx(10e9)
    assert get_profile("region").rtt_s == pytest.approx(10e-3)
    assert get_profile("region").bandwidth_bps == pytest.approx(1e9)
    assert get_profile("wan").rtt_s == pytest.approx(80e-3)
    assert get_profile("wan").bandwidth_bps == pytest.approx(100e6)


def test_geo_matrix_shape_symmetry_and_continents():
    m = network.GEO_RTT_MS
    assert m.shape == (len(network.GEO_CITIES), len(network.GEO_CITIES))
    assert len(network.GEO_CITIES) >= 6
    assert np.allclose(m, m.T)
    assert np.all(np.diag(m) == pytest.approx(0.2))
    off = m[~np.eye(len(m), dtype=bool)]
    assert off.min() >= 5 and off.max() <= 400
    # published values: Washington-Frankfurt ~91 ms, Tokyo-Osaka 9 ms, Sydney-Sao Paulo ~327.5 ms
    c = network.GEO_CITIES.index
    assert m[c("washington"), c("frankfurt")] == pytest.approx(91.0)
    assert m[c("tokyo"), c("osaka")] == pytest.approx(9.0)
    assert m[c("sydney"), c("sao_paulo")] == pytest.approx(327.5)


def test_uniform_estimate_by_hand():
    rounds = [
        R("offline", {("dealer", 0): 10_000}),                      # ignored for phase=online
        R("online", {(0, 1): 1000, (1, 0): 1000}),                  # 1 RTT, 1000 B on a link
        R("online", {(0, 1): 125_000, (1, 0): 500, (0, 2): 10}),    # 1 RTT, 125 kB max
        R("online", {(2, 2): 99}),                                  # self-link: no round
    ]
    est = estimate(rounds, "wan", compute_s=0.5)
    # latency: 2 rounds x 80 ms; transfer: (8*1000 + 8*125000) / 100e6 s
    assert est["latency_s"] == pytest.approx(0.160)
    assert est["transfer_s"] == pytest.approx((8_000 + 1_000_000) / 100e6)
    assert est["compute_s"] == 0.5
    assert est["est_time_s"] == pytest.approx(0.5 + 0.160 + 0.01008)
    off = estimate(rounds, "lan", phase="offline")
    assert off["latency_s"] == pytest.approx(0.2e-3)
    assert off["transfer_s"] == pytest.approx(80_000 / 10e9)
    both = estimate(rounds, "region", phase=None)
    assert both["latency_s"] == pytest.approx(3 * 10e-3)
    one_way = estimate(rounds, "wan", latency_per_round="one_way")
    assert one_way["latency_s"] == pytest.approx(0.080)


def test_estimate_accepts_commstats_and_real_rounds():
    from fibench.mpc.comm.stats import CommStats

    st_ = CommStats()
    st_.record("online", {(0, 1): 8, (1, 0): 8}, "open")
    st_.record("online", {(0, 1): 16}, "reveal")
    est = estimate(st_, "region")
    assert est["latency_s"] == pytest.approx(0.020)
    assert est["transfer_s"] == pytest.approx((64 + 128) / 1e9)


def test_geo_estimate_round_robin_by_hand():
    prof = get_profile("geo")
    m = network.GEO_RTT_MS / 1e3
    c = network.GEO_CITIES.index
    # parties 0, 1, 2 sit on washington, frankfurt, tokyo
    rounds = [R("online", {(0, 1): 100, (1, 0): 100}),
              R("online", {(0, 1): 100, (1, 2): 100, (2, 0): 100}),
              R("online", {(0, 10): 100})]  # party 10 wraps around to site 0 (same city)
    est = estimate(rounds, prof)
    expect = m[c("washington"), c("frankfurt")] + max(m[c("washington"), c("frankfurt")],
                                                      m[c("frankfurt"), c("tokyo")],
                                                      m[c("tokyo"), c("washington")]) + 0.2e-3
    assert est["latency_s"] == pytest.approx(expect)
    assert est["transfer_s"] == pytest.approx(3 * 800 / 100e6)


def test_geo_entities_and_explicit_placement():
    prof = get_profile("geo")
    m = network.GEO_RTT_MS / 1e3
    c = network.GEO_CITIES.index
    rounds = [R("online", {("owner2", 0): 8, ("querier", 1): 8})]
    est = estimate(rounds, prof)  # owner2 -> tokyo, querier -> washington (site 0)
    assert est["latency_s"] == pytest.approx(max(m[c("tokyo"), c("washington")], m[c("washington"), c("frankfurt")]))
    est2 = estimate(rounds, prof, parties_to_sites={"owner2": "sydney", 0: "london", "querier": "london", 1: "london"})
    assert est2["latency_s"] == pytest.approx(m[c("sydney"), c("london")])
    est3 = estimate(rounds, prof, parties_to_sites=lambda p: "madrid")
    assert est3["latency_s"] == pytest.approx(0.2e-3)
    with pytest.raises(ValueError, match="unknown site"):
        estimate(rounds, prof, parties_to_sites={"owner2": "atlantis"})


def test_estimate_bad_inputs():
    with pytest.raises(ValueError, match="unknown network profile 'moon'.*lan"):
        estimate([], "moon")
    with pytest.raises(ValueError, match="phase"):
        estimate([], "lan", phase="both")
    with pytest.raises(ValueError, match="compute_s"):
        estimate([], "lan", compute_s=-1)
    assert estimate([], "lan") == {"compute_s": 0.0, "latency_s": 0.0, "transfer_s": 0.0, "est_time_s": 0.0}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.dictionaries(st.tuples(st.integers(0, 4), st.integers(0, 4)), st.integers(0, 10**7), max_size=6),
                max_size=8))
def test_estimate_properties(round_links):
    rounds = [R("online", links) for links in round_links]
    used = [r for r in rounds if any(s != d and b > 0 for (s, d), b in r.links.items())]
    for name in ("lan", "region", "wan", "geo"):
        e = estimate(rounds, name, compute_s=0.25)
        assert e["est_time_s"] == pytest.approx(e["compute_s"] + e["latency_s"] + e["transfer_s"])
        prof = get_profile(name)
        if not prof.is_geographic:
            assert e["latency_s"] == pytest.approx(len(used) * prof.rtt_s)
            tx = sum(max(8 * b / prof.bandwidth_bps for (s, d), b in r.links.items() if s != d and b > 0)
                     for r in used)
            assert e["transfer_s"] == pytest.approx(tx)
    # WAN is never faster than LAN, latency grows monotonically with the uniform RTT
    assert estimate(rounds, "wan")["est_time_s"] >= estimate(rounds, "lan")["est_time_s"]


# -- TOML -----------------------------------------------------------------------------------------

def test_load_toml_profiles(tmp_path):
    f = tmp_path / "net.toml"
    f.write_text("""
[profiles.campus]
rtt_ms = 1.5
bandwidth_mbps = 1000
description = "two buildings"

[profiles.triangle]
sites = ["paris", "berlin", "rome"]
rtt_ms = [[0.1, 20, 30], [20, 0.1, 25], [30, 25, 0.1]]
bandwidth_mbps = [[1000, 100, 50], [100, 1000, 100], [50, 100, 1000]]
""")
    profs = load_profiles(f)
    assert set(profs) == {"campus", "triangle"}
    campus = profs["campus"]
    assert campus.rtt_s == pytest.approx(1.5e-3) and campus.bandwidth_bps == pytest.approx(1e9)
    tri = profs["triangle"]
    assert tri.is_geographic and tri.sites == ("paris", "berlin", "rome")
    rounds = [R("online", {(0, 2): 1000}), R("online", {(1, 0): 1000, (2, 1): 10})]
    est = estimate(rounds, "triangle", extra_profiles=profs)
    assert est["latency_s"] == pytest.approx(0.030 + 0.025)
    assert est["transfer_s"] == pytest.approx(8000 / 50e6 + 8000 / 100e6)
    # parties 3 wraps around to paris
    est2 = estimate([R("online", {(3, 0): 8})], tri)
    assert est2["latency_s"] == pytest.approx(0.1e-3)
    assert "user" in campus.source or str(f) in campus.source


@pytest.mark.parametrize("text, match", [
    ("[profiles.x\nrtt_ms = 1", "not valid TOML"),
    ("title = 'no profiles'", r"\[profiles.NAME\]"),
    ("[profiles.x]\nbandwidth_mbps = 10", "missing key 'rtt_ms'"),
    ("[profiles.x]\nrtt_ms = 1", "missing key 'bandwidth_mbps'"),
    ("[profiles.x]\nrtt_ms = -1\nbandwidth_mbps = 10", "rtt_ms must be >= 0"),
    ("[profiles.x]\nrtt_ms = 1\nbandwidth_mbps = 0", "bandwidth_mbps must be > 0"),
    ("[profiles.x]\nrtt_ms = 'fast'\nbandwidth_mbps = 10", "rtt_ms must be a number"),
    ("[profiles.x]\nrtt_ms = 1\nbandwidth_mbps = 10\nlatency = 3", "unknown key.*latency"),
    ("[profiles.x]\nsites = ['a', 'b']\nrtt_ms = [[0, 1]]\nbandwidth_mbps = 10", "2x2 matrix"),
    ("[profiles.x]\nsites = ['a', 'a']\nrtt_ms = [[0, 1], [1, 0]]\nbandwidth_mbps = 10", "unique"),
    ("[profiles.x]\nrtt_ms = [[0, 1], [1, 0]]\nbandwidth_mbps = 10", "needs a 'sites' list"),
    ("[profiles.x]\nsites = []\nrtt_ms = []\nbandwidth_mbps = 10", "non-empty list"),
])
def test_bad_toml(tmp_path, text, match):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ValueError, match=match):
        load_profiles(f)


def test_missing_toml_file(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        load_profiles(tmp_path / "nope.toml")


def test_user_profile_shadowing_and_names(tmp_path):
    f = tmp_path / "n.toml"
    f.write_text("[profiles.lan]\nrtt_ms = 5\nbandwidth_mbps = 10\n[profiles.sat]\nrtt_ms = 600\nbandwidth_mbps = 20\n")
    # a user file must not silently replace a built-in profile (issue 13): another name, or an error
    with pytest.raises(ValueError, match=r"\[profiles.lan\] would replace the built-in profile 'lan'"):
        load_profiles(f)
    f.write_text("[profiles.my_lan]\nrtt_ms = 5\nbandwidth_mbps = 10\n[profiles.sat]\nrtt_ms = 600\nbandwidth_mbps = 20\n")
    profs = load_profiles(f)
    assert get_profile("my_lan", profs).rtt_s == pytest.approx(5e-3)
    assert get_profile("lan").rtt_s == pytest.approx(0.2e-3)        # built-ins untouched
    assert network.profile_names(profs)[-1] == "sat"
