"""Slow, obviously correct references for the kernel and protocol tests (Python ints)."""
MOD = 1 << 64


def to_signed(v: int) -> int:
    v = int(v) % MOD
    return v - MOD if v >= 1 << 63 else v


def ring_add(a, b):
    return [(int(x) + int(y)) % MOD for x, y in zip(a, b)]


def ring_mul(a, b):
    return [(int(x) * int(y)) % MOD for x, y in zip(a, b)]


def matmul(A, B):
    n, k, m = len(A), len(B), len(B[0]) if B else 0
    return [[sum(int(A[i][t]) * int(B[t][j]) for t in range(k)) % MOD for j in range(m)] for i in range(n)]


def encode(x: float, f: int) -> int:
    return round(x * (1 << f)) % MOD  # Python round: half to even, like np.rint


def decode(v: int, f: int) -> float:
    return to_signed(v) / (1 << f)


def argmax_lowest(row):
    best = 0
    for i, v in enumerate(row):
        if v > row[best]:
            best = i
    return best
