"""Multi-turn conversations as transcripts (tests/conversations/*.yml), run through the whole engine.

A transcript names who is speaking, then turns: `user:` types text, `press:` presses a button by its title
(from the assistant's last messages, or from the entry message's category buttons, as in Slack). Each turn lists
the responses the assistant must give, in order, with optional checks on text and buttons, slots and the active
form; `requests:` lists every request the conversation must have created in the portal. A transcript with
`language: nl` is a customer writing in that language: every message the assistant sends must be in it (no English
sentence, no untranslated button; tests/languages/speaks.py), and the entry buttons are that language's.

Between turns, support may act and time may pass: `support: resolve ST-000001` has an agent resolve the ticket,
`days_pass: 15` moves the portal's clock (the reopen window, issue 16).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot.engine.engine import Engine
from bot.engine.responses import BotMessage, Button, render
from portal import services
from portal.adapters import tables
from portal.bootstrap import Portal
from portal.domain.actors import Agent
from tests.conftest import FrozenClock
from tests.languages.speaks import leaks

TRANSCRIPTS = sorted((Path(__file__).resolve().parents[1] / "conversations").glob("*.yml"))
SENDER = "T0TEST:C0TEST:1700000000.000100:U0TEST"
AGENT = Agent("U0AGENT")


def entry_buttons(engine: Engine, language: str | None) -> list[Button]:
    """The buttons of the entry message and of the category question, which a channel always shows."""
    return [
        button
        for name in ("utter_greet", "utter_ask_category")
        for button in render(name, engine.domain.responses[name], {"language": language}, {}).buttons
    ]


def press(title: str, last: list[BotMessage], engine: Engine, language: str | None = None) -> str:
    for button in [b for m in last for b in m.buttons] + entry_buttons(engine, language):
        if button.title == title:
            return button.payload
    shown = [b.title for m in last for b in m.buttons]
    raise AssertionError(f"no button {title!r}; the assistant showed {shown}")


def check_messages(expected: list[Any], messages: list[BotMessage], where: str) -> None:
    names = [m.response for m in messages]
    wanted = [e if isinstance(e, str) else e["response"] for e in expected]
    assert names == wanted, f"{where}: responses {names}, expected {wanted}"
    for spec, message in zip(expected, messages, strict=True):
        if isinstance(spec, str):
            continue
        if "text_contains" in spec:
            assert spec["text_contains"] in message.text, f"{where}: {message.text!r}"
        if "text_excludes" in spec:
            assert spec["text_excludes"] not in message.text, f"{where}: {message.text!r}"
        if "buttons" in spec:
            assert [b.title for b in message.buttons] == spec["buttons"], f"{where}: {message.buttons}"


async def requests_in(portal: Portal) -> list[dict[str, Any]]:
    rq, rc = tables.requests, tables.request_chargers
    async with portal.engine.connect() as conn:
        rows = (await conn.execute(select(rq.c.id, rq.c.reference, rq.c.kind, rq.c.status).order_by(rq.c.id))).all()
        result = []
        for row in rows:
            serials = await conn.scalars(select(rc.c.serial).where(rc.c.request_id == row.id).order_by(rc.c.id))
            result.append(
                {"reference": row.reference, "kind": row.kind, "status": row.status, "serials": list(serials)}
            )
    return result


async def between_turns(turn: dict[str, Any], portal: Portal, clock: FrozenClock) -> bool:
    """What support does, or the time that passes, between two turns; False when the turn is the customer's."""
    if "support" in turn:
        verb, reference = turn["support"].split()
        assert verb == "resolve", f"unknown support step {turn['support']!r}"
        await services.set_ticket_status(portal.uow(), AGENT, reference, "resolved")
        return True
    if "days_pass" in turn:
        clock.advance(timedelta(days=turn["days_pass"]))
        return True
    return False


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
async def test_transcript(path: Path, engine: Engine, portal: Portal, clock: FrozenClock) -> None:
    script = yaml.safe_load(path.read_text(encoding="utf-8"))  # noqa: ASYNC240 (a small local file)
    metadata = {"requester": {"email": script["as"], "slack_user_id": "U0TEST", "slack_team_id": "T0TEST"}}
    language = script.get("language")
    last: list[BotMessage] = []
    for number, turn in enumerate(script["turns"], start=1):
        if await between_turns(turn, portal, clock):
            continue
        text = turn["user"] if "user" in turn else press(turn["press"], last, engine, language)
        where = f"{path.name} turn {number} ({text!r})"
        last = await engine.handle(SENDER, text, metadata)
        check_messages(turn.get("bot", []), last, where)
        if language:
            assert leaks(last, language) == [], f"{where}: not in {language}"
        tracker = await engine.tracker(SENDER)
        for name, value in (turn.get("slots") or {}).items():
            assert tracker.slots.get(name) == value, f"{where}: slot {name} is {tracker.slots.get(name)!r}"
        if "active_loop" in turn:
            assert tracker.loop_name == turn["active_loop"], f"{where}: active loop {tracker.loop_name}"
    assert await requests_in(portal) == script.get("requests", [])
