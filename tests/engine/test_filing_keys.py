"""One request per form instance: a turn that filed but failed to store itself, run again, files nothing new."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import SQLAlchemyError

from bot.engine.actions import InProcessActions
from bot.engine.design import ConversationDesign
from bot.engine.engine import FILING_KEY, Engine
from bot.engine.store import TrackerStore
from bot.engine.understanding import Interpreter
from portal.adapters import tables
from portal.bootstrap import Portal

CARLA = {"requester": {"email": "carla@citycharge.example"}}
DESCRIPTION = "Socket 2 will not lock the cable"


@contextmanager
def tracker_write_fails(portal: Portal) -> Iterator[None]:
    """The next tracker write fails as SQLite does under a lock (or PostgreSQL on a lock timeout)."""
    error = portal.engine.dialect.loaded_dbapi.OperationalError
    armed = [True]

    def refuse(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if armed[0] and statement.startswith("INSERT INTO conversation_events"):
            armed[0] = False
            raise error("database is locked")

    event.listen(portal.engine.sync_engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(portal.engine.sync_engine, "before_cursor_execute", refuse)


async def origin_keys(portal: Portal) -> list[tuple[str, str | None]]:
    async with portal.engine.connect() as conn:
        rows = await conn.execute(
            select(tables.requests.c.reference, tables.requests.c.origin_key).order_by(tables.requests.c.id)
        )
        return [(r.reference, r.origin_key) for r in rows]


async def test_a_form_instance_files_once_however_often_its_last_turn_runs(
    portal: Portal, trained: tuple[ConversationDesign, Interpreter]
) -> None:
    design, interpreter = trained
    engine = Engine(design, interpreter, TrackerStore(portal.engine), InProcessActions(portal=portal))
    first: dict[str, Any] = {}
    await engine.turn("conv-k", "/request_service_ticket", CARLA, notes=first)
    assert FILING_KEY not in first  # nothing stored yet: the delivery's key (if any) is the key
    await engine.handle("conv-k", "10001R002", CARLA)
    await engine.handle("conv-k", DESCRIPTION, CARLA)  # the summary (issue 13); Submit is the last turn

    failed: dict[str, Any] = {}
    with tracker_write_fails(portal), pytest.raises(SQLAlchemyError):
        await engine.turn("conv-k", "/submit", CARLA, notes=failed)
    key = failed[FILING_KEY]
    assert key.startswith("form:conv-k:")
    assert await origin_keys(portal) == [("ST-000001", key)]  # filed, though the turn was not stored

    # The person sends their answer again: the same form instance, the same request.
    again: dict[str, Any] = {}
    reply = await engine.turn("conv-k", "/submit", CARLA, notes=again)
    assert again[FILING_KEY] == key
    assert "ST-000001" in reply.messages[0].text
    assert await origin_keys(portal) == [("ST-000001", key)]

    # A new request in the same conversation is a new form instance.
    await engine.handle("conv-k", "/request_service_ticket", CARLA)
    await engine.handle("conv-k", "10001R002", CARLA)
    await engine.handle("conv-k", DESCRIPTION, CARLA)
    third: dict[str, Any] = {}
    reply = await engine.turn("conv-k", "/submit", CARLA, notes=third)
    assert "ST-000002" in reply.messages[0].text
    assert third[FILING_KEY] != key
    assert [r for r, _ in await origin_keys(portal)] == ["ST-000001", "ST-000002"]
    await engine.close()


async def test_a_surface_key_wins_and_a_conversation_started_again_gets_new_keys(
    portal: Portal, trained: tuple[ConversationDesign, Interpreter]
) -> None:
    design, interpreter = trained
    store = TrackerStore(portal.engine)
    engine = Engine(design, interpreter, store, InProcessActions(portal=portal))
    await engine.handle("conv-s", "hello", CARLA)
    modal: dict[str, Any] = {}
    await engine.turn("conv-s", "/request_service_ticket", {**CARLA, FILING_KEY: "view:conv-s:V0ONE"}, notes=modal)
    assert modal[FILING_KEY] == "view:conv-s:V0ONE"  # the surface named the intent

    before: dict[str, Any] = {}
    await engine.turn("conv-s", "10001R002", CARLA, notes=before)
    await store.delete("conv-s")
    # The conversation starts again under the same id: its positions repeat, its first event's time does not.
    await engine.handle("conv-s", "hello", CARLA)
    await engine.handle("conv-s", "/request_service_ticket", CARLA)
    after: dict[str, Any] = {}
    await engine.turn("conv-s", "10001R002", CARLA, notes=after)
    assert after[FILING_KEY] != before[FILING_KEY]
    assert FILING_KEY not in CARLA  # the caller's metadata is left as it was
    await engine.close()
