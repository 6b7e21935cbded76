"""End-to-end figures of the README (issue 15): every op as a user runs it (owners share, the op,
the reveal to the querier), the dealer timed apart, local backend medians of 9 after warm-up;
with --mpi also on MPI processes against the local backend in the same run. Run it on an idle
machine: python docs/e2e_figures.py [--mpi]."""
import os
import sys
from fibench.mpc.memory import reuse_freed_memory
reuse_freed_memory()
import fibench
from fibench.bench.measures import crosscheck as c
from fibench.bench.timing import time_call

def local(params, reps=9, **kw):
    s = fibench.Session(int(params["parties"]), **kw)
    fn, chk = c.build_op(s, params)
    fn()
    m = s.stats.mark(); fn(); summ = s.stats.since(m).summary()
    t, _ = time_call(fn, reps, s.dealer)
    return {"time_s": round(t["time_s"], 4), "dealer_s": round(t["dealer_s"], 4), "online_s": round(t["online_s"], 4),
            "min_s": round(t["time_min_s"], 4), "rounds": summ["online_rounds"], "MB": round(summ["online_bytes_sent_per_party"] / 1e6, 3),
            "correct": chk()}

print("load", os.getloadavg())
out = {}
for P in (2, 3):
    out[f"lt a2b P{P} 1e6"] = local({"op": "lt", "parties": P, "n": 1000000})
for proto, bits in (("a2b", 64), ("fss", 64), ("fss", 32), ("fss-dpf", 64), ("fss-dpf", 32)):
    for meth in ("pairs", "tree"):
        kw = {"protocol": proto} if proto == "a2b" else {"protocol": proto, "cmp_bits": bits}
        for op in ("argmax", "mlp"):
            out[f"{op} {proto} l={bits} {meth}"] = local({"op": op, "parties": 2, "rows": 1000, "argmax_method": meth}, **kw)
for k, v in out.items():
    print(f"{k:32s} {v}", flush=True)
print("load", os.getloadavg())
if "--mpi" in sys.argv:
    for params in ({"op": "lt", "parties": 2, "n": 1000000, "reps": 9}, {"op": "lt", "parties": 3, "n": 1000000, "reps": 9},
                   {"op": "argmax", "parties": 2, "rows": 1000, "protocol": "fss", "argmax_method": "tree", "reps": 9},
                   {"op": "mlp", "parties": 2, "rows": 1000, "reps": 9}):
        rows = c.run_point(params)
        for r in rows:
            print("MPI", params["op"], params.get("protocol", "a2b"), "P", params["parties"],
                  {k: (round(r[k], 4) if isinstance(r.get(k), float) else r.get(k)) for k in
                   ("time_s", "dealer_s", "online_s", "local_time_s", "local_dealer_s", "local_online_s", "ratio_to_local",
                    "dealer_ratio_to_local", "online_ratio_to_local", "counts_match_local", "correct")}, flush=True)
    print("load", os.getloadavg())
