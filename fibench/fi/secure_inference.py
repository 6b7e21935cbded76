"""Secure federated ensemble inference: only the ensemble's label reaches the querier.

Modes
-----
``M1`` (output level): each owner evaluates its own model in plaintext on the query and
secret-shares its output (probabilities for soft vote, logits for logit sum, one-hot votes for
hard vote, weight x votes for weighted vote). The parties add the shares (free) and run a
secure argmax; the label is revealed to the querier only.
``M2`` (full private inference): the querier shares the query, every owner shares its weights;
each owner's model is a layer graph (``fibench.fi.graph``; the ``[(W, b), ...]`` lists of LR and
MLPs are Dense/ReLU graphs) evaluated by ``fibench.fi.secure_graph``: Dense and Conv2d by Beaver
matrix products, ReLU and max-pool by secure comparisons, avg-pool by a public scaling. The
owners' logits are summed (``logit_sum``) — or each owner's label is found and counted
(``hard_vote``), or each owner's probabilities are computed by the secure softmax
(``fibench.mpc.protocols.softmax``) and summed (``soft_vote``) — and argmaxed. Owners of one architecture are batched: first layers side by
side (one matmul), later layers block-diagonal, a final Dense stacked (their sum is one matmul);
owners of different architectures run one after another.

Topologies: ``T1`` — the K owners are the compute parties (K >= 2); ``T2`` — owners and querier
share to ``servers`` (2 or 3) non-colluding servers. All inputs of one step are shared in ONE
round (owners send in parallel).

Noisy vote (label privacy, PATE's GNMax/LNMax under MPC as in CaPC): with the vote-count rules
(``hard_vote``, ``weighted_vote``) and ``noise="gaussian"|"laplace"``, the shared counts get
dealer-drawn discrete noise of scale ``sigma`` (vote units) before the argmax
(``fibench.mpc.protocols.noise``: 0 online bytes and rounds; 8 bytes per count offline). The
querier learns the noisy label only; what the noise guarantees is accounted by
``fibench.fi.privacy``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, fields

import numpy as np

from fibench.fi import secure_graph as sg
from fibench.mpc import Session
from fibench.mpc.context import comparison
from fibench.mpc import noise as dpnoise
from fibench.mpc.protocols import arithmetic as ar
from fibench.mpc.protocols import noise as noisy
from fibench.mpc.protocols import softmax as smx
from fibench.mpc.protocols.sharing import share_many
from fibench.mpc.shares import AShare

MODES = ("M1", "M2")
TOPOLOGIES = ("T1", "T2")
M2_RULES = ("soft_vote", "logit_sum", "hard_vote", "weighted_vote")
#: the rules whose scores are vote counts: the only ones that take noise
NOISE_RULES = ("hard_vote", "weighted_vote")


@dataclass
class CostReport:
    """Cost of one secure batch (counts are exact; times in seconds on the local backend)."""

    mode: str
    topology: str
    protocol: str
    parties: int
    owners: int
    queries: int
    online_bytes_sent_per_party: int
    online_bytes_recv_per_party: int
    online_rounds: int
    offline_bytes_per_party: int
    querier_bytes_sent: int
    querier_bytes_recv: int
    time_s: float
    dealer_s: float
    online_s: float
    agreement: float | None = None
    #: the online and offline rounds with their links (``fibench.mpc.comm.stats.Round``), for
    #: pricing the run under a network profile (``fibench.bench.network.estimate``)
    rounds: list = field(default_factory=list, repr=False, compare=False)
    sharing: str = "additive"

    def as_dict(self) -> dict:
        """The report's numbers (the rounds left out)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "rounds"}


def check_setting(mode: str, topology: str, owners: int, servers: int, protocol: str,
                  sharing: str = "additive") -> int:
    """Validate and return the number of compute parties (``sharing="replicated"``: exactly 3,
    i.e. T2 with ``servers=3`` or T1 with 3 owners)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if topology not in TOPOLOGIES:
        raise ValueError(f"topology must be one of {TOPOLOGIES}, got {topology!r}")
    if topology == "T1":
        if not 2 <= owners <= 16:
            raise ValueError(f"topology T1 needs 2..16 owners (they are the compute parties), got {owners}; use T2")
        P = owners
    else:
        if servers not in (2, 3):
            raise ValueError(f"servers must be 2 or 3 for topology T2, got {servers!r}")
        P = servers
    if sharing == "replicated" and P != 3:
        where = f"topology T1 with {owners} owners" if topology == "T1" else f"servers={servers}"
        raise ValueError(f"sharing 'replicated' needs exactly 3 compute parties (T2 with servers=3), got {where}")
    comparison(protocol, P, sharing)  # raises if the protocol cannot run with P compute parties
    return P


def check_m2_rule(rule: str) -> None:
    """M2 runs the rules in ``M2_RULES``; anything else is refused, never replaced."""
    if rule not in M2_RULES:
        raise ValueError(f"mode M2 supports the rules {M2_RULES}, got {rule!r}: use mode='M1' for it")


def check_noise(rule: str, noise, sigma):
    """``(noise, sigma)`` as given, validated: ``noise`` None (then ``sigma`` must be None too)
    or ``"gaussian"``/``"laplace"`` with a vote rule and ``sigma`` in (0, 1e6] vote units."""
    if noise is None:
        if sigma is not None:
            raise ValueError(f"sigma={sigma!r} needs noise='gaussian' or 'laplace' (noise is None)")
        return None, None
    dpnoise.check_kind(noise)
    if rule not in NOISE_RULES:
        raise ValueError(f"noise applies to the vote-count rules {NOISE_RULES}, got rule {rule!r}")
    if sigma is None:
        raise ValueError(f"noise={noise!r} needs sigma, a float in (0, 1e6] (vote units)")
    return noise, dpnoise.check_scale(sigma, "sigma", 1e6)


def _noisy(s: Session, counts: AShare, bound: float, noise, sigma) -> AShare:
    """Counts plus dealer noise (``noise`` None: as they are), after checking that the
    comparison range promise holds the noisy counts (``bound``: the counts' bound, reals)."""
    if noise is None:
        return counts
    scale = noisy.raw_scale(sigma, s.frac_bits)
    zmax = dpnoise.max_abs(noise, scale) * 2.0 ** -s.frac_bits
    _check_promise(s, cmp_bits_needed(bound + zmax, s.frac_bits), "noisy vote counts")
    return noisy.add_noise(s, counts, noise, sigma)


owner_entity = sg.owner_entity
_enc = sg.enc
cmp_bits_needed = sg.cmp_bits_needed
_check_promise = sg.check_promise


def _score_bound(owner_scores: np.ndarray) -> float:
    """Bound on the summed scores: each owner checks the range of its own outputs."""
    return float(sum(np.max(np.abs(sc)) if sc.size else 0.0 for sc in owner_scores))


def m1_labels(s: Session, owner_scores: np.ndarray, topology: str, argmax_method: str = "pairs", to=None,
              noise=None, sigma=None):
    """M1 on a session: ``owner_scores`` (K, n, C) plaintext, each row block known to its owner.
    ``to``: as in ``m2_labels``. ``noise``/``sigma``: noisy vote (see the module docstring);
    then ``owner_scores`` must be (weighted) one-hot votes: at most one non-zero, non-negative
    entry per owner and query."""
    K, n, C = owner_scores.shape
    bound = _score_bound(owner_scores)
    if noise is not None:
        noise, sigma = check_noise("hard_vote", noise, sigma)
        if np.any(owner_scores < 0) or np.any((owner_scores != 0).sum(axis=2) > 1):
            raise ValueError("noise needs vote counts: owner_scores must be (weighted) one-hot votes "
                             "(at most one non-negative entry per owner and query)")
    else:
        check_noise("hard_vote", None, sigma)
    _check_promise(s, cmp_bits_needed(bound, s.frac_bits), "summed scores")
    shared = share_many(s, [(_enc(owner_scores[k]), owner_entity(topology, k), (n, C), s.frac_bits) for k in range(K)],
                        "m1/share")
    total = shared[0]
    for x in shared[1:]:
        total = ar.add(total, x)
    return _finish(s, _noisy(s, total, bound, noise, sigma), argmax_method, to)


def m2_labels(s: Session, X: np.ndarray, owner_layers: list, rule: str, topology: str,
              argmax_method: str = "pairs", weights=None, masked_inputs: bool = True, to=None,
              noise=None, sigma=None):
    """M2 on a session. ``owner_layers[k]``: owner k's model in the full class space, a
    ``fibench.fi.graph.Graph`` (any depth: Dense, Conv2d, ReLU, pools, ...) or a list
    ``[(W1, b1), ..., (Wm, bm)]`` of Dense layers with ReLU between them (``[(W, b)]``: logistic
    regression; two pairs: a one-hidden-layer MLP). Owners with the same architecture are
    batched, others evaluated one after another (``fibench.fi.secure_graph``).
    ``weighted_vote`` scales each owner's one-hot vote by its public weight (``weights``, one
    per owner). ``soft_vote`` applies the secure softmax (``fibench.mpc.protocols.softmax``:
    row max, exp by the limit (1 + x/2^n)^(2^n) of the clamped logit differences, reciprocal by
    Newton) to every owner's logits in one batch and sums the probabilities (the mean's argmax);
    an owner's unseen class (logit ``UNSEEN_LOGIT`` = -1e4) falls below the clamp and gets 0.

    ``masked_inputs``: the query and the weight matrices are sent in masked form (owner sends
    x - a for a dealer mask a; see ``MaskedInput``), so the first matrix product opens nothing
    and the next ones open only their left operand: one round and one opening fewer than
    sharing them and opening ``x - a`` afterwards. ``to``: reveal the label to this receiver
    (returns the label where it is hosted, else ``None``); ``None`` returns the label's shares.
    ``noise``/``sigma`` (``hard_vote``, ``weighted_vote``): noisy vote counts (module docstring)."""
    check_m2_rule(rule)
    noise, sigma = check_noise(rule, noise, sigma)
    X = np.asarray(X, dtype=np.float64)
    K, n = len(owner_layers), X.shape[0]
    scores, order = sg.m2_scores(s, X, owner_layers, rule, topology, masked_inputs, for_argmax=True)
    if rule == "logit_sum":
        return _finish(s, scores, argmax_method, to)
    C = scores.shape[1] // K
    if rule == "soft_vote":
        proba = smx.softmax(s, scores.reshape(n * K, C))
        return _finish(s, ar.sum_axis(proba.reshape(n, K, C), axis=1), argmax_method, to)
    if rule == "weighted_vote" and (weights is None or len(weights) != K):
        raise ValueError(f"weighted_vote needs one public weight per owner ({K}), got {weights!r}")
    votes = s.argmax(scores.reshape(n * K, C), method=argmax_method, one_hot=True).reshape(n, K, C)
    bound = float(K)
    if rule == "weighted_vote":
        w = np.asarray(weights, dtype=np.float64)[np.asarray(order)]  # the owners in the scores' order
        votes = ar.mul_public(votes, _enc(w)[None, :, None], s.frac_bits)
        bound = float(np.sum(np.abs(w)))
    counts = ar.sum_axis(votes, axis=1)
    return _finish(s, _noisy(s, counts, bound, noise, sigma), argmax_method, to)


def _finish(s: Session, scores: AShare, argmax_method: str, to):
    """Argmax of the final scores: label shares (``to=None``) or the label revealed to ``to``."""
    if to is None:
        return s.argmax(scores, method=argmax_method)
    return s.argmax_reveal(scores, to, method=argmax_method)


def run_secure(X, *, mode: str, topology: str = "T2", servers: int = 2, protocol: str = "a2b",
               owner_scores=None, owner_layers=None, rule: str = "logit_sum", argmax_method: str = "pairs",
               weights=None, session: Session | None = None, noise=None, sigma=None,
               sharing: str = "additive"):
    """One secure batch. Returns ``(labels (n,) int64, CostReport)``; labels are what the
    querier decodes. M1 needs ``owner_scores`` (K, n, C); M2 needs ``owner_layers``.
    ``noise``/``sigma``: the noisy vote of ``rule`` (``hard_vote``/``weighted_vote``; in M1
    ``owner_scores`` are then the owners' (weighted) one-hot votes). ``sharing``:
    ``"additive"`` (dealer) or ``"replicated"`` (3 servers, no dealer)."""
    noise, sigma = check_noise(rule, noise, sigma)
    K = len(owner_scores) if mode == "M1" and owner_scores is not None else len(owner_layers or [])
    if session is not None:
        sharing = session.sharing
    P = check_setting(mode, topology, K, servers, protocol, sharing)
    if noise is not None and sharing == "replicated":
        raise ValueError(f"noise={noise!r} needs sharing='additive' (the dealer draws the noise shares); "
                         "sharing='replicated' has no dealer")
    s = session or Session(P, protocol=protocol, sharing=sharing)  # the dealer's randomness never comes from a user seed
    mark, d0, t0 = s.stats.mark(), s.dealer.elapsed, time.perf_counter()
    if mode == "M1":
        labels = m1_labels(s, np.asarray(owner_scores, dtype=np.float64), topology, argmax_method, to="querier",
                           noise=noise, sigma=sigma)
        n = owner_scores.shape[1]
    else:
        X = np.asarray(X, dtype=np.float64)
        labels = m2_labels(s, X, owner_layers, rule, topology, argmax_method, weights, to="querier",
                           noise=noise, sigma=sigma)
        n = X.shape[0]
    labels = labels.view(np.int64)
    wall, deal = time.perf_counter() - t0, s.dealer.elapsed - d0
    st = s.stats.since(mark)
    summ, q = st.summary(), st.party_summary("online").get("querier", {})
    rep = CostReport(mode, topology, protocol, P, K, n, summ["online_bytes_sent_per_party"],
                     summ["online_bytes_recv_per_party"], summ["online_rounds"], summ["offline_bytes_per_party"],
                     q.get("bytes_sent", 0), q.get("bytes_recv", 0), wall, deal, wall - deal,
                     rounds=list(st.rounds), sharing=s.sharing)
    return labels, rep


def merge_reports(reports: list) -> CostReport:
    """Totals over batches (counts and times add; agreement is recomputed by the caller)."""
    r0 = reports[0]
    add = ("queries", "online_bytes_sent_per_party", "online_bytes_recv_per_party", "online_rounds",
           "offline_bytes_per_party", "querier_bytes_sent", "querier_bytes_recv", "time_s", "dealer_s", "online_s")
    d = r0.as_dict()
    for key in add:
        d[key] = sum(getattr(r, key) for r in reports)
    return CostReport(**d, rounds=[rnd for r in reports for rnd in r.rounds])  # batches run one after another
