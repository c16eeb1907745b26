"""The store contract: what every backend must do, the same data and the same assertions for each.

A backend's tests inherit ``StoreContract`` (or one role's class) in a ``Test…`` class that gives a
``store`` fixture, the way haystack's document stores share their test suite::

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            backend = MyStore(tmp_path)
            yield backend
            backend.close()

The classes need pytest (the ``dev`` extra); nothing in the product imports them.
"""

from vocmine.testing.contract.analysis import AnalysisContract
from vocmine.testing.contract.conversations import ConversationsContract
from vocmine.testing.contract.state import StateContract
from vocmine.testing.contract.themes import ThemesContract


class StoreContract(ConversationsContract, AnalysisContract, ThemesContract, StateContract):
    """Every role of ``vocmine.store.protocol.Store``."""


__all__ = ["AnalysisContract", "ConversationsContract", "StateContract", "StoreContract", "ThemesContract"]
