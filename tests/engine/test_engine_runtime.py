"""The engine across restarts, with an HTTP action server, and when an action fails."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.engine.actions import HttpActions, InProcessActions
from bot.engine.design import ConversationDesign
from bot.engine.engine import Engine
from bot.engine.store import TrackerStore
from bot.engine.understanding import Interpreter
from portal import services
from portal.bootstrap import Portal
from tests.actions.test_action_server import Server, start_server

ROOT = Path(__file__).resolve().parents[2]
BEN = {"requester": {"email": "ben@greenfleet.example"}}


async def test_a_restart_loses_no_conversation(portal: Portal, trained: tuple[ConversationDesign, Interpreter]) -> None:
    design, interpreter = trained
    first = Engine(design, interpreter, TrackerStore(portal.engine), InProcessActions(portal=portal))
    await first.handle("conv-1", "/request_transfer", BEN)
    await first.handle("conv-1", '/inform{"serial": "ACE0100002"}', BEN)
    await first.close()
    # A new process: new engine, new store object, same database.
    second = Engine(design, interpreter, TrackerStore(portal.engine), InProcessActions(portal=portal))
    tracker = await second.tracker("conv-1")
    assert tracker.loop_name == "transfer_form"
    assert tracker.slots["serials"] == ["ACE0100002"]
    reply = await second.handle("conv-1", "Bought from VoltWay with the installation", BEN)
    assert [m.response for m in reply] == ["utter_summary_transfer", "utter_ask_transfer_confirmed"]
    reply = await second.handle("conv-1", "/affirm", BEN)
    assert [m.response for m in reply] == ["utter_transfer_requested"]
    assert [r.reference for r in await services.list_requests(portal.uow(), "ben@greenfleet.example")] == ["MT-000001"]
    await second.close()


async def test_a_failing_action_gets_an_apology_and_the_conversation_goes_on(
    portal: Portal, trained: tuple[ConversationDesign, Interpreter]
) -> None:
    design, interpreter = trained

    class Broken:
        async def call(self, body: dict[str, object]) -> dict[str, object]:
            raise ConnectionError("action server down")

        async def close(self) -> None:
            return None

    engine = Engine(design, interpreter, TrackerStore(portal.engine), Broken())
    reply = await engine.handle("conv-2", "/check_status", BEN)
    assert [m.response for m in reply] == ["utter_error_try_again"]
    reply = await engine.handle("conv-2", "hello", BEN)
    assert [m.response for m in reply] == ["utter_greet"]


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    workdir = tmp_path_factory.mktemp("http-actions")
    url = f"sqlite+aiosqlite:///{workdir / 'demo.db'}"
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "seed", "--demo"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    for server in start_server(url, workdir):
        yield server, url


async def test_custom_actions_over_http_at_an_action_server(
    action_server: tuple[Server, str], trained: tuple[ConversationDesign, Interpreter]
) -> None:
    server, url = action_server
    design, interpreter = trained
    portal = Portal.connect(url)
    engine = Engine(design, interpreter, TrackerStore(portal.engine), HttpActions(f"{server.url}/webhook"))
    carla = {"requester": {"email": "carla@citycharge.example"}}
    try:
        reply = await engine.handle("conv-http", "/request_service_ticket", carla)
        assert [m.response for m in reply] == ["utter_ask_serial"]
        assert [b.title for b in reply[0].buttons] == ["10001R001", "10001R002", "I don't know the serial", "Cancel"]
        await engine.handle("conv-http", "10001R002", carla)
        reply = await engine.handle("conv-http", "Cable lock stuck on the left socket", carla)
        # Issue 13: the summary comes first, and Submit files.
        assert [m.response for m in reply] == ["utter_summary_service_ticket", "utter_ask_submit"]
        reply = await engine.handle("conv-http", "/submit", carla)
        assert [m.response for m in reply] == ["utter_ticket_opened_in_warranty"]
        assert "ST-000001" in reply[0].text
    finally:
        await engine.close()
        await portal.close()


async def test_a_whole_form_submitted_at_once(portal: Portal, engine: Engine) -> None:
    carla = {"requester": {"email": "carla@citycharge.example"}}
    started = await engine.turn("conv-form", "/request_service_ticket", carla)
    assert started.active_form == "service_ticket_form"
    before = len((await engine.tracker("conv-form")).events)

    refused = await engine.submit_form(
        "conv-form", "service_ticket_form", {"serial": "ACE12", "description": "x"}, carla
    )
    assert refused.result is None
    assert set(refused.errors) == {"serial", "description"}
    assert "doesn't look like a serial number" in refused.errors["serial"]
    assert "At least 10 characters" in refused.errors["description"]
    assert len((await engine.tracker("conv-form")).events) == before  # nothing stored

    unknown = await engine.submit_form(
        "conv-form", "service_ticket_form", {"serial": "ACE7654321", "description": "Display is dark"}, carla
    )
    assert list(unknown.errors) == ["serial"]
    assert "ACE7654321" in unknown.errors["serial"]

    # A modal is its own summary: pressing Send on it is the customer's Submit (bot/slack/messages/modals.py: True).
    filed = await engine.submit_form(
        "conv-form",
        "service_ticket_form",
        {"serial": "10001R001", "description": "Display is dark", "request_confirmed": True},
        carla,
    )
    assert filed.errors == {}
    assert filed.result is not None
    assert [m.response for m in filed.result.messages] == ["utter_ticket_opened_out_of_warranty"]
    assert filed.result.active_form is None
    assert filed.result.slots["request_reference"] == "ST-000001"

    again = await engine.submit_form("conv-form", "service_ticket_form", {"serial": "10001R001"}, carla)
    assert again.errors == {"": "This request is no longer open here. Please start again."}


async def test_conversation_locks_do_not_accumulate(engine: Engine) -> None:
    import gc

    for i in range(20):
        await engine.handle(f"conv-lock-{i}", "hello", BEN)
    gc.collect()
    assert len(engine._locks) == 0  # each lock lived only while its turn ran
