"""A/B timing of FSS key generation (issue 15): DPF comparison keys (``dpf_cmp_gen``) and DCF
keys (``dcf_gen``) for n comparisons, the kernels of a git revision ("old") against the working
tree ("new"), interleaved in one process (old, new, old, new, ...), medians of ``--rounds``.

Each figure is ``profile['total_s']`` of one call (both keys, one core) with AES time
(``profile['aes_s']``) apart, and the call's thread CPU time (less sensitive to other load); "out" reuses two preallocated key buffers (steady state, no
first-touch page faults), "fresh" allocates new ones per call (first touch included). The old
and new keys are checked byte for byte. Not collected by pytest (a script):

    .venv/bin/python tests/ab_fss_keygen.py --old 769aa74 --n 1000000 --bits 64 32 --rounds 5
"""
import argparse
import inspect
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def load_old(rev):
    d = tempfile.mkdtemp(prefix="fss_old_")
    for name in ("dcf", "dpf"):
        src = subprocess.run(["git", "show", f"{rev}:kernels/{name}.py"], check=True, capture_output=True,
                             text=True, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__)))).stdout
        src = src.replace("from fibench.kernels.dcf import", "from dcf_old import")
        with open(os.path.join(d, f"{name}_old.py"), "w") as f:
            f.write(src)
    sys.path.insert(0, d)
    import dcf_old
    import dpf_old
    return dcf_old, dpf_old


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", default="769aa74")
    ap.add_argument("--n", type=int, default=10**6)
    ap.add_argument("--bits", type=int, nargs="+", default=[64, 32])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--what", nargs="+", default=["dpf", "dcf"])
    ap.add_argument("--no-fresh", action="store_true", help="skip the fresh-buffer runs")
    ap.add_argument("--new-first", action="store_true", help="run new before old in each round (order check)")
    a = ap.parse_args()
    from fibench.kernels import dcf, dpf
    dcf_old, dpf_old = load_old(a.old)
    n = a.n
    rng = np.random.default_rng(1)
    seeds = rng.integers(0, 2**64 - 1, (n, 4), dtype=np.uint64, endpoint=True)
    print("load before:", os.getloadavg())
    for L in a.bits:
        alpha = rng.integers(0, 2**L - 1, n, dtype=np.uint64, endpoint=True)
        a1 = alpha >> np.uint64(1)  # the protocol's threshold: l - 1 bits
        cases = {}
        if "dpf" in a.what:
            nb = dpf.key_nbytes(n, L - 1)
            buf = {v: (np.ones(nb, np.uint8), np.ones(nb, np.uint8)) for v in ("old", "new")}
            cases["dpf out old"] = lambda p, a=a1, L=L, b=buf: dpf_old.dpf_cmp_gen(a, L - 1, seeds, out=b["old"], profile=p)
            cases["dpf out new"] = lambda p, a=a1, L=L, b=buf: dpf.dpf_cmp_gen(a, L - 1, seeds, out=b["new"], profile=p)
            if not a.no_fresh:
                cases["dpf fresh old"] = lambda p, a=a1, L=L: dpf_old.dpf_cmp_gen(a, L - 1, seeds, profile=p)
                cases["dpf fresh new"] = lambda p, a=a1, L=L: dpf.dpf_cmp_gen(a, L - 1, seeds, profile=p)
        if "dcf" in a.what:
            nb = dcf.key_nbytes(n, L - 1)
            dbuf = (np.ones(nb, np.uint8), np.ones(nb, np.uint8))
            old_has_out = "out" in inspect.signature(dcf_old.dcf_gen).parameters  # revisions since issue 15
            if old_has_out:
                obuf = (np.ones(nb, np.uint8), np.ones(nb, np.uint8))
                cases["dcf out old"] = lambda p, a=a1, L=L, b=obuf: dcf_old.dcf_gen(a, np.uint64(1), L - 1, seeds,
                                                                                          out=b, profile=p)
            cases["dcf out new"] = lambda p, a=a1, L=L, b=dbuf: dcf.dcf_gen(a, np.uint64(1), L - 1, seeds, out=b, profile=p)
            if not a.no_fresh or not old_has_out:  # without out= the old revision has only fresh buffers
                cases["dcf fresh old"] = lambda p, a=a1, L=L: dcf_old.dcf_gen(a, np.uint64(1), L - 1, seeds, profile=p)
            if not a.no_fresh:
                cases["dcf fresh new"] = lambda p, a=a1, L=L: dcf.dcf_gen(a, np.uint64(1), L - 1, seeds, profile=p)
        if a.new_first:
            cases = dict(sorted(cases.items(), key=lambda kv: (kv[0].split()[0], kv[0].split()[1], kv[0].endswith("old"))))
        # warm up (JIT or cache load) and check old == new byte for byte
        keys = {name: f({}) for name, f in cases.items()}
        for kind in ("dpf", "dcf"):
            ks = [k for name, k in keys.items() if name.startswith(kind)]
            assert all(np.array_equal(k[0], ks[0][0]) and np.array_equal(k[1], ks[0][1]) for k in ks), kind
        del keys
        res = {name: ([], [], []) for name in cases}
        for r in range(a.rounds):
            for name, f in cases.items():
                p = {}
                c0 = time.thread_time()
                f(p)
                res[name][2].append(time.thread_time() - c0)
                res[name][0].append(p["total_s"])
                res[name][1].append(p.get("aes_s", float("nan")))  # absent where AES runs inside numba (DPF)
        print(f"n = {n}, l = {L} (tree on {L - 1} bits), medians of {a.rounds} interleaved rounds; load after:",
              os.getloadavg())
        for name, (tt, aa, cc) in res.items():
            print(f"  {name:14s} total {np.median(tt):.3f} s (min {min(tt):.3f}, max {max(tt):.3f})  "
                  f"aes {np.median(aa):.3f} s  non-aes {np.median(np.subtract(tt, aa)):.3f} s  "
                  f"cpu {np.median(cc):.3f} s (min {min(cc):.3f})")
        for kind in ("dpf out", "dpf fresh", "dcf out", "dcf fresh"):
            if f"{kind} old" in res and f"{kind} new" in res:
                ro = np.median(res[f"{kind} old"][0])
                rn = np.median(res[f"{kind} new"][0])
                rat = np.median(np.divide(res[f"{kind} new"][0], res[f"{kind} old"][0]))
                crat = np.median(np.divide(res[f"{kind} new"][2], res[f"{kind} old"][2]))
                print(f"  {kind}: new/old wall {rn / ro:.3f} (median of per-round ratios {rat:.3f}; cpu time {crat:.3f})")


if __name__ == "__main__":
    main()
