"""MPC engine: sessions, communicators with exact accounting, dealer, share containers."""
from fibench.engine.communicator import Communicator, LocalCommunicator
from fibench.engine.dealer import Dealer
from fibench.engine.session import Session
from fibench.engine.shares import AShare, BShare
from fibench.engine.stats import CommStats, Round

__all__ = ["Session", "Communicator", "LocalCommunicator", "Dealer", "AShare", "BShare", "CommStats", "Round"]
