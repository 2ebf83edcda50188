"""The Slack app served over HTTP on loopback, against a fake Slack Web API, on the test databases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.config import Settings
from bot.engine.actions import InProcessActions
from bot.engine.design import ConversationDesign
from bot.engine.engine import Engine
from bot.engine.store import TrackerStore
from bot.engine.understanding import Interpreter
from bot.slack.app import build_app, web_app
from portal.bootstrap import Portal
from tests.support.fake_slack import FakeSlack, start_local_server
from tests.support.harness import AGENT, SECRET, TRIAGE, USERS, Harness
from tests.support.signing import SlackSender


@pytest.fixture
async def slack(portal: Portal, trained: tuple[ConversationDesign, Interpreter]) -> AsyncIterator[Harness]:
    fake = FakeSlack(users=USERS)
    base_url = await fake.start()
    settings = Settings(
        slack_bot_token="xoxb-test",
        slack_signing_secret=SECRET,
        slack_api_url=base_url,
        triage_channel=TRIAGE,
        agent_users=frozenset({AGENT}),
    )
    design, interpreter = trained
    engine = Engine(design, interpreter, TrackerStore(portal.engine), InProcessActions(portal=portal))
    runner, port = await start_local_server(web_app(build_app(settings, engine, portal)))
    try:
        yield Harness(fake, SlackSender(f"http://127.0.0.1:{port}/slack/events", SECRET), engine, portal, port)
    finally:
        await runner.cleanup()
        await engine.close()
        await fake.stop()
