"""import os, statistics, time, numpy as np
from fibench.kernels import aes, dcf, dpf
import fibench.kernels.aes as A
avail = A.available
rng=np.random.default_rng(1); n=10**6
print("load before", os.getloadavg(), aes.path())
for L in (63, 31):
    seeds=rng.integers(0,2**64-1,(n,4),dtype=np.uint64,endpoint=True)
    alpha=rng.integers(0,2**L-1,n,dtype=np.uint64,endpoint=True)
    x=rng.integers(0,2**L-1,n,dtype=np.uint64,endpoint=True)
    bd=(np.ones(dpf.key_nbytes(n,L),np.uint8),np.ones(dpf.key_nbytes(n,L),np.uint8))
    bc=(np.ones(dcf.key_nbytes(n,L),np.uint8),np.ones(dcf.key_nbytes(n,L),np.uint8))
    k0,_=dpf.dpf_cmp_gen(alpha,L,seeds); c0,_=dcf.dcf_gen(alpha,np.uint64(1),L,seeds)
    cases={"dpf gen":lambda p: dpf.dpf_cmp_gen(alpha,L,seeds,out=bd,profile=p),
           "dcf gen":lambda p: dcf.dcf_gen(alpha,np.uint64(1),L,seeds,out=bc,profile=p),
           "dpf eval":lambda p: dpf.dpf_cmp_eval(0,k0,x,L,profile=p),
           "dcf eval":lambda p: dcf.dcf_eval(0,c0,x,L,profile=p)}
    res={}
    for r in range(5):
        for name,f in cases.items():
            for path in ("numba","openssl"):
                A.available = avail if path=="numba" else (lambda: False)
                p={}; f(p); res.setdefault((name,path),[]).append(p["total_s"])
    A.available=avail
    for name in cases:
        a=statistics.median(res[(name,"numba")]); b=statistics.median(res[(name,"openssl")])
        print(f"l={L+1} {name}: numba {a:.3f} s, openssl {b:.3f} s, ratio {b/a:.2f}  (numba {[round(v,2) for v in res[(name,'numba')]]}, openssl {[round(v,2) for v in res[(name,'openssl')]]})")
print("load after", os.getloadavg())
"""
import os
import statistics

import numpy as np

from fibench.kernels import aes, dcf, dpf


def main(n=10**6, rounds=5):
    numba_available = aes.available
    rng = np.random.default_rng(1)
    print("load before:", os.getloadavg(), "numba AES path:", aes.path())
    for L in (63, 31):
        seeds = rng.integers(0, 2**64 - 1, (n, 4), dtype=np.uint64, endpoint=True)
        alpha = rng.integers(0, 2**L - 1, n, dtype=np.uint64, endpoint=True)
        x = rng.integers(0, 2**L - 1, n, dtype=np.uint64, endpoint=True)
        bd = tuple(np.ones(dpf.key_nbytes(n, L), np.uint8) for _ in range(2))
        bc = tuple(np.ones(dcf.key_nbytes(n, L), np.uint8) for _ in range(2))
        k0, _ = dpf.dpf_cmp_gen(alpha, L, seeds)
        c0, _ = dcf.dcf_gen(alpha, np.uint64(1), L, seeds)
        cases = {"dpf gen": lambda p: dpf.dpf_cmp_gen(alpha, L, seeds, out=bd, profile=p),
                 "dcf gen": lambda p: dcf.dcf_gen(alpha, np.uint64(1), L, seeds, out=bc, profile=p),
                 "dpf eval": lambda p: dpf.dpf_cmp_eval(0, k0, x, L, profile=p),
                 "dcf eval": lambda p: dcf.dcf_eval(0, c0, x, L, profile=p)}
        res = {}
        for _ in range(rounds):
            for name, f in cases.items():
                for path in ("numba", "openssl"):
                    aes.available = numba_available if path == "numba" else (lambda: False)
                    p = {}
                    f(p)
                    res.setdefault((name, path), []).append(p["total_s"])
        aes.available = numba_available
        for name in cases:
            a, b = (statistics.median(res[(name, path)]) for path in ("numba", "openssl"))
            print(f"l={L + 1} {name}: numba {a:.3f} s, openssl {b:.3f} s, ratio {b / a:.2f} "
                  f"(numba {[round(v, 2) for v in res[(name, 'numba')]]}, "
                  f"openssl {[round(v, 2) for v in res[(name, 'openssl')]]})")
    print("load after:", os.getloadavg())


if __name__ == "__main__":
    main()
