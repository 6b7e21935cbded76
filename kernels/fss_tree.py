"""The chunked tree driver shared by the FSS keys (``fibench.kernels.dcf``, ``fibench.kernels.dpf``)
on their scalar path (no AES-NI for numba, or ``NUMBA_DISABLE_JIT``; where numba has AES-NI they
run their vector kernels, ``dpf_simd`` / ``dcf_simd``, instead: the same bytes).

Key generation and evaluation of both DCF and DPF keys walk a binary tree level by level over
a batch of n independent comparisons: per chunk of k comparisons, a numba kernel lays out the
first level's AES input, then every step runs fixed-key AES-128 in ECB mode (OpenSSL through
``cryptography``) over the whole chunk's input buffer and a numba kernel consumes the output
(and lays out the next step's input). This module owns that loop, the one reused AES
encryptor (``update_into`` into a preallocated buffer: no allocation per call) and the argument
checks common to the drivers; the modules own their kernels and key formats.

Nothing here depends on the key format: the callers pass closures over their kernels. The
one layout rule both key formats share is here: a key is cut into slabs (``slabs``).
"""
from __future__ import annotations

import hashlib
import secrets
import time

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from numba import njit

from fibench.kernels import aes

#: public fixed AES-128 key of the MMO hash (shared by DCF and DPF keys)
MMO_KEY = hashlib.sha256(b"fibench/dcf/mmo-key").digest()[:16]
#: its AES-128 round keys, for ``fibench.kernels.aes``
ROUND_KEYS = aes.expand_key(MMO_KEY)
#: comparisons per key slab. A key for n comparisons is the keys of its slabs one after another
#: (slab s: comparisons s * SLAB .. min((s + 1) * SLAB, n) - 1, in the module's format for that
#: many), so that a dealer can send a slab while it generates the next one (the receiver's copy
#: then overlaps the generation: ``Communicator.exchange_streamed``). A multiple of 8, so that
#: the bit-packed sections of every slab but the last are whole bytes and a key's size is still
#: one formula of n; not a power of two: with 4096 the rows of a section lie 64 KiB apart and
#: evaluation at 10^6 ran 12 % slower (cache-set conflicts), with 8000 as fast as one slab
#: (medians of 4 interleaved, 2026-12-03). 8000 comparisons: 16.5 MB of a two-word DCF key at
#: l = 64, whose transfer is what a dealer still waits for after its last slab.
SLAB = 8000


def slabs(n: int, nbytes):
    """The slabs of a key for ``n`` comparisons: ``(j0, k, lo, hi)`` per slab (comparisons
    ``j0 .. j0 + k - 1``, key bytes ``lo .. hi - 1``), where ``nbytes(k)`` is the size of one
    slab's key for k comparisons. Every ``lo`` is a multiple of 8 (``nbytes`` of a multiple of 8
    comparisons is)."""
    lo = 0
    for j0 in range(0, n, SLAB):
        k = min(SLAB, n - j0)
        hi = lo + nbytes(k)
        yield j0, k, lo, hi
        lo = hi


@njit(cache=True)
def slab_runs(n, groups, slab):
    """How many runs one parallel loop over ``n // slab`` whole slabs has, each slab's
    ``slab / 8`` groups of eight cut into runs of ``groups`` groups."""
    return (n // slab) * (((slab >> 3) + groups - 1) // groups)


@njit(cache=True)
def slab_run(q, groups, slab, slab_bytes):
    """Run ``q`` of that loop (``slab_runs``; ``slab_bytes`` of key per slab): ``(j0, base, g0,
    g1)``, the slab's first comparison and first key byte and the run's groups g0 .. g1 - 1."""
    nb = slab >> 3
    per = (nb + groups - 1) // groups
    s = q // per
    g0 = (q % per) * groups
    return s * slab, s * slab_bytes, g0, min(g0 + groups, nb)


def check_slab(n: int) -> None:
    """Key sections describe one slab: at most ``SLAB`` comparisons."""
    if n > SLAB:
        raise ValueError(f"key sections describe one slab of at most {SLAB} comparisons, got {n} "
                         "(a longer key is slabs one after another: fss_tree.slabs)")


def encryptor():
    """One AES-128-ECB encryptor under ``MMO_KEY`` (ECB keeps no state between calls, so one
    encryptor serves a whole key generation or evaluation)."""
    return Cipher(algorithms.AES(MMO_KEY), modes.ECB()).encryptor()


def tick(profile, key, t0, blocks=0):
    """Accumulate ``perf_counter() - t0`` into ``profile[key]`` (and ``blocks`` into
    ``profile['aes_blocks']``); no-op if ``profile`` is None."""
    if profile is not None:
        profile[key] = profile.get(key, 0.0) + (time.perf_counter() - t0)
        if blocks:
            profile["aes_blocks"] = profile.get("aes_blocks", 0) + blocks


def check_nbits(nbits) -> int:
    if not isinstance(nbits, (int, np.integer)) or not 1 <= int(nbits) <= 64:
        raise ValueError(f"nbits must be an integer in [1, 64], got {nbits!r}")
    return int(nbits)


def check_chunk(chunk) -> int:
    if not isinstance(chunk, (int, np.integer)) or chunk < 8 or chunk % 8:
        raise ValueError(f"chunk must be a positive multiple of 8, got {chunk!r}")
    return int(chunk)


def check_points(a, L: int, name: str):
    """``a`` as a flat contiguous uint64 array of values < 2**L, and its original shape."""
    a = np.asarray(a)
    if a.dtype != np.uint64:
        raise ValueError(f"{name} must be a uint64 array, got dtype {a.dtype}")
    shape = a.shape
    a = np.ascontiguousarray(a).reshape(-1)
    if L < 64 and a.size and int(a.max()) >> L:
        raise ValueError(f"{name} must lie in [0, 2**{L}) for nbits = {L}")
    return a, shape


def root_seeds(seeds, n: int) -> np.ndarray:
    """(n, 4) uint64 root seeds from the caller (a dealer's CSPRNG), or from the OS CSPRNG."""
    if seeds is None:
        seeds = np.frombuffer(secrets.token_bytes(32 * n), dtype=np.uint64).reshape(n, 4)
    seeds = np.asarray(seeds)
    if seeds.dtype != np.uint64 or seeds.shape != (n, 4):
        raise ValueError(f"seeds must be a uint64 array of shape ({n}, 4)")
    return seeds


def key1_parts(key0: np.ndarray, seed1: np.ndarray, j0: int, k: int, lo: int, hi: int) -> list:
    """Party 1's key bytes ``lo .. hi - 1`` (slab of comparisons ``j0 .. j0 + k - 1``) as two
    uint8 views, from party 0's key and party 1's root seeds (u64 (n, 2)) of a split key
    generation: both formats start a slab with its seed section, u64 (k, 2), and the two keys
    differ only there (the correction words are common to the parties)."""
    cut = lo + 16 * k
    return [seed1[j0: j0 + k].reshape(-1).view(np.uint8), key0[cut:hi]]


def key_buffers(out, nbytes: int, n: int = 0, split: bool = False):
    """Party 0's and party 1's uint8 key buffers of ``nbytes``: fresh ones (``out`` or an entry
    of it None) or the caller's, checked (writable, C-contiguous, 8-byte aligned: the key
    sections are uint64 views). With ``split`` the second is instead party 1's root seeds, u64
    (n, 2) (see ``key1_parts``)."""
    out = (None, None) if out is None else out
    bufs = []
    for i, kb in enumerate(out):
        if split and i == 1:
            if kb is None:
                kb = np.empty((n, 2), dtype=np.uint64)
            elif not (isinstance(kb, np.ndarray) and kb.dtype == np.uint64 and kb.shape == (n, 2)
                      and kb.flags.c_contiguous and kb.flags.writeable):
                raise ValueError(f"out[1] must be a writable, C-contiguous uint64 array of shape ({n}, 2) "
                                 "(party 1's root seeds) with split")
        elif kb is None:
            kb = np.empty(nbytes, dtype=np.uint8)
        elif not (isinstance(kb, np.ndarray) and kb.dtype == np.uint8 and kb.shape == (nbytes,)
                  and kb.flags.c_contiguous and kb.flags.writeable and kb.ctypes.data % 8 == 0):
            raise ValueError(f"out[{i}] must be a writable, aligned, C-contiguous uint8 array of {nbytes} bytes")
        bufs.append(kb)
    key0, key1 = bufs
    if np.may_share_memory(key0, key1):
        raise ValueError("out[0] and out[1] must not overlap")
    return key0, key1


def check_key(key, nbytes: int, what: str) -> np.ndarray:
    """A party's key as a flat, 8-byte aligned uint8 array of ``nbytes`` (copied if misaligned)."""
    if isinstance(key, (bytes, bytearray, memoryview)):
        key = np.frombuffer(key, dtype=np.uint8)
    key = np.asarray(key)
    if key.dtype != np.uint8 or key.ndim != 1 or key.size != nbytes:
        raise ValueError(f"key must be a flat uint8 array of {nbytes} bytes for {what}")
    if key.ctypes.data % 8:
        key = key.copy()
    return key


def run_chunks(n: int, chunk: int, words, start, step, finish=None, profile=None):
    """Walk the tree over n comparisons, ``chunk`` at a time.

    For each chunk (comparisons ``j0 .. j0 + k - 1``): ``start(j0, k, inb)`` lays out the first
    AES input; then for every step i (``len(words)`` steps) AES-128-ECB encrypts the first
    ``words[i] * k`` uint64 words of ``inb`` into ``outb`` and ``step(i, j0, k, inb, outb)``
    consumes them (and lays out step i + 1's input in ``inb``); finally ``finish(j0, k, inb,
    outb)`` if given. ``inb`` (u64, ``max(words) * chunk``) and ``outb`` (two words longer:
    OpenSSL's ``update_into`` wants a block of slack) are allocated once and reused by every
    chunk; one OpenSSL encryptor serves all calls. (Where ``aes.available()`` the FSS modules
    run their vector kernels instead, AES inside numba: the same bytes.)

    Cost: ``sum(words) * n / 2`` AES blocks and ``len(words) * ceil(n / chunk)`` AES calls and
    kernel calls (a few microseconds of Python each: pick ``chunk`` large enough that this
    stays small, small enough that the buffers stay in the L2 cache). ``profile`` (dict or
    None): ``aes_s`` and ``aes_blocks`` are accumulated into it.
    """
    words = [int(w) for w in words]
    c = min(chunk, n)
    inb = np.empty(max(words) * c, dtype=np.uint64)
    outb = np.empty(max(words) * c + 2, dtype=np.uint64)
    src = inb.view(np.uint8)
    dst = outb.view(np.uint8)
    openssl = encryptor().update_into

    def update(nwords):
        openssl(src[: 8 * nwords], dst[: 8 * nwords + 16])
    for j0 in range(0, n, chunk):
        k = min(chunk, n - j0)
        start(j0, k, inb)
        for i, w in enumerate(words):
            if profile is None:
                update(w * k)
            else:
                t_aes = time.perf_counter()
                update(w * k)
                tick(profile, "aes_s", t_aes, w // 2 * k)
            step(i, j0, k, inb, outb)
        if finish is not None:
            finish(j0, k, inb, outb)
