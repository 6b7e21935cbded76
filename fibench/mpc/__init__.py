"""MPC engine: sessions, communicators with exact accounting, dealer, share containers."""
from fibench.mpc.comm import Communicator, LocalCommunicator
from fibench.mpc.dealer import Dealer
from fibench.mpc.context import COMPARISONS, runs_with
from fibench.mpc.session import Session
from fibench.mpc.shares import AShare, BShare
from fibench.mpc.comm.stats import CommStats, Round

__all__ = ["Session", "Communicator", "LocalCommunicator", "Dealer", "AShare", "BShare", "CommStats", "Round"]
