"""An engine on the test databases, with the actions running in-process against the test portal."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.engine.actions import InProcessActions
from bot.engine.design import ConversationDesign
from bot.engine.engine import Engine
from bot.engine.store import TrackerStore
from bot.engine.understanding import Interpreter
from portal.bootstrap import Portal


@pytest.fixture
async def engine(portal: Portal, trained: tuple[ConversationDesign, Interpreter]) -> AsyncIterator[Engine]:
    design, interpreter = trained
    engine = Engine(design, interpreter, TrackerStore(portal.engine), InProcessActions(portal=portal))
    yield engine
    await engine.close()
