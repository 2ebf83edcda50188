"""The engine fixture of tests/engine, for the language tests that run whole turns."""

from tests.engine.conftest import engine

__all__ = ["engine"]
