"""The dealer: a provider of named correlations (see ``fibench.mpc.dealer.base``); ``NoDealer``
stands in for it where a session has none (replicated sharing)."""
from fibench.mpc.dealer.base import Dealer
from fibench.mpc.dealer.none import NoDealer

__all__ = ["Dealer", "NoDealer"]
