"""The dealer: a provider of named correlations (see ``fibench.mpc.dealer.base``)."""
from fibench.mpc.dealer.base import Dealer

__all__ = ["Dealer"]
