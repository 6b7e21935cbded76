import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("MPLBACKEND", "Agg")

SEED = b"fibench-test-000"


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def make_session(P, **kw):
    from fibench.mpc import Session

    kw.setdefault("dealer_seed", SEED)
    return Session(n_parties=P, **kw)
