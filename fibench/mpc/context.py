"""``Context``: the typed handle every protocol receives.

It holds the communicator (transport and accounting), the dealer (named correlations), the
numeric settings (``frac_bits``, ``cmp_bits``, ``trunc``) and the comparison protocol chosen
once (``cmp``, a ``ComparisonProtocol``). ``Session`` is a ``Context`` with the user-facing
methods on top.
"""
from __future__ import annotations

import numpy as np

from fibench.mpc import config
from fibench.mpc.checking import RangeChecker
from fibench.mpc.protocols.compare import ComparisonProtocol
from fibench.mpc.protocols.compare_a2b import A2B
from fibench.mpc.protocols.compare_dpf import FssDpf
from fibench.mpc.protocols.compare_fss import FSS
from fibench.mpc.protocols.replicated_compare import ReplicatedA2B
from fibench.mpc.protocols.replicated_sharing import components
from fibench.mpc.shares import AShare, MaskedInput

#: the comparison protocols by name (``Session(protocol=...)``)
COMPARISONS = {"a2b": A2B, "fss": FSS, "fss-dpf": FssDpf}
TRUNCATIONS = ("dealer", "local")
#: sharing schemes (``Session(sharing=...)``): ``additive`` (P parties, dealer) and
#: ``replicated`` (2-out-of-3, exactly 3 parties, no dealer)
SHARINGS = ("additive", "replicated")


def check_sharing(sharing, n_parties: int | None = None, protocol: str | None = None) -> str:
    """Validate a sharing scheme (and, for ``replicated``, P = 3 and protocol ``a2b``)."""
    if sharing not in SHARINGS:
        raise ValueError(f"sharing must be one of {SHARINGS}, got {sharing!r}")
    if sharing == "replicated":
        if n_parties is not None and n_parties != 3:
            raise ValueError(f"sharing 'replicated' needs exactly 3 parties (servers), got {n_parties}")
        if protocol is not None and protocol != "a2b":
            raise ValueError(f"sharing 'replicated' compares by bit decomposition: protocol must be 'a2b', "
                             f"got {protocol!r}")
    return sharing


def comparison(name: str, n_parties: int, sharing: str = "additive") -> ComparisonProtocol:
    """The comparison protocol ``name`` for ``n_parties`` parties (ValueError if it cannot run)."""
    if name not in COMPARISONS:
        raise ValueError(f"protocol must be one of {tuple(COMPARISONS)}, got {name!r}")
    check_sharing(sharing, n_parties, name)
    proto = ReplicatedA2B() if sharing == "replicated" else COMPARISONS[name]()
    proto.check(n_parties)
    return proto


def runs_with(name: str, n_parties: int, sharing: str = "additive") -> bool:
    """Whether comparison protocol ``name`` runs with ``n_parties`` compute parties."""
    try:
        comparison(name, n_parties, sharing)
    except ValueError:
        return False
    return True


def check_cmp_bits(cmp_bits) -> int:
    if isinstance(cmp_bits, bool) or not isinstance(cmp_bits, (int, np.integer)) or not 2 <= cmp_bits <= 64:
        raise ValueError(f"cmp_bits must be an integer in [2, 64], got {cmp_bits!r}")
    return int(cmp_bits)


class Context:
    """Attributes: ``comm``, ``dealer``, ``n_parties`` (P), ``frac_bits``, ``cmp_bits`` (range
    promise of comparison inputs: [-2^(cmp_bits-1), 2^(cmp_bits-1)) as raw ring integers),
    ``trunc`` (truncation after fixed-point products: ``"dealer"``, exact to 1 ulp for any P, or
    ``"local"``, SecureML's probabilistic 2-party truncation), ``cmp`` (the comparison protocol),
    ``protocol`` (its name), ``checker`` (the checking mode, ``fibench.mpc.checking``; ``None``
    when off), ``parties`` (compute parties hosted by this process) and ``parties_all`` (0..P-1)."""

    def __init__(self, comm, dealer, frac_bits: int = config.FRAC_BITS, cmp_bits: int = 64,
                 protocol: str = config.COMPARISON_PROTOCOL, trunc: str = "dealer", check: bool = False,
                 sharing: str = "additive"):
        self.comm = comm
        self.dealer = dealer
        self.n_parties = int(comm.n_parties)
        self.frac_bits = int(frac_bits)
        self.cmp_bits = check_cmp_bits(cmp_bits)
        #: the sharing scheme: ``"additive"`` (dealer) or ``"replicated"`` (3 servers, PRF keys)
        self.sharing = check_sharing(sharing, self.n_parties, protocol)
        #: replicated sessions: the servers' pairwise PRF keys (``replicated_sharing.PRFKeys``)
        self.prf = None
        self.cmp = comparison(protocol, self.n_parties, sharing)
        self.protocol = self.cmp.name
        if trunc not in TRUNCATIONS:
            raise ValueError(f"trunc must be one of {TRUNCATIONS}, got {trunc!r}")
        if sharing == "replicated" and trunc != "dealer":
            raise ValueError(f"sharing 'replicated' truncates exactly (trunc='dealer': the third server plays the "
                             f"dealer), got trunc={trunc!r}")
        if trunc == "local" and self.n_parties != 2:
            raise ValueError(f"trunc 'local' needs n_parties = 2, got {self.n_parties}")
        self.trunc = trunc
        if not isinstance(check, bool):
            raise ValueError(f"check must be True or False, got {check!r}")
        if check and any(not comm.is_local(p) for p in range(self.n_parties)):
            raise ValueError("check=True needs every party in this process (backend='local')")
        #: the checking mode's ``RangeChecker`` (``None``: off)
        self.checker = RangeChecker() if check else None
        #: pairwise input-sharing keys ``{(p, q): 16 bytes}`` (``sharing.setup_input_keys``) and
        #: how many inputs each compute party has shared (the same in every process)
        self.input_keys: dict = {}
        self.input_counters: dict = {}

    # -- operand checks (one-line errors naming the parameter) ----------------------------------
    def check_operand(self, x, name: str = "x") -> None:
        """``x`` must be a share of THIS context's parties (an ``AShare`` or ``MaskedInput``)."""
        if isinstance(x, MaskedInput):
            held = set(x.mask.shares)
        elif isinstance(x, AShare):
            held = set(x.shares)
        else:
            raise TypeError(f"{name} must be an AShare (a secret-shared value of this session), "
                            f"got {type(x).__name__}")
        if held != set(self.components):
            raise ValueError(f"{name} holds shares {sorted(held, key=str)}, but this session's parties hold "
                             f"{list(self.components)}: it belongs to another session (or sharing scheme)")

    def check_party(self, party, name: str, entities: bool = True) -> None:
        """``party`` must be a compute party 0..P-1 or (``entities``) an entity name such as
        ``"querier"`` or ``"owner3"`` (never ``"dealer"``)."""
        if isinstance(party, (int, np.integer)) and not isinstance(party, bool):
            if 0 <= int(party) < self.n_parties:
                return
        elif entities and isinstance(party, str) and party and party != "dealer":
            return
        what = f"a compute party in [0, {self.n_parties - 1}]" + (" or an entity name such as 'querier'" if entities else "")
        raise ValueError(f"{name} must be {what}, got {party!r}")
    @property
    def parties(self) -> tuple:
        """Compute parties hosted by this process."""
        return tuple(p for p in self.comm.local_parties if isinstance(p, int))

    @property
    def components(self) -> tuple:
        """Keys of the share dicts held here: the parties (additive) or the replicated share
        components x_p, x_{p+1} of each local party p (replicated)."""
        return components(self) if self.sharing == "replicated" else self.parties

    @property
    def parties_all(self) -> range:
        return range(self.n_parties)

    @property
    def stats(self):
        return self.comm.stats
