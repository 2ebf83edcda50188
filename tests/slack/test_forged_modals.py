"""Modals whose private metadata was forged or mangled, and modals submitted while the database is down: always
acknowledged with an answer on the modal, nothing filed, refusals audited."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select

from bot.slack.ingress.conversations import TRY_AGAIN
from bot.slack.listeners.views import FORGED
from bot.slack.messages.modals import FORM_CALLBACK, FROM_MESSAGE_CALLBACK
from portal import services
from portal.adapters import tables
from tests.support import payloads
from tests.support.harness import Harness
from tests.support.journeys import press_button

TICKET = {
    "serial": {"value": payloads.static_select_value("10001R002")},
    "description": {"value": payloads.plain_text_value("Socket 2 will not lock the cable")},
}


async def _carlas_ticket_modal(h: Harness) -> dict[str, Any]:
    thread = payloads.next_ts()
    await h.sender.event(payloads.app_mention("U0CARLA", "<@UBOT> I have a question", "C0SHARED", thread))
    [categories] = await h.fake.wait_for("chat.postEphemeral")
    await press_button(h, "U0CARLA", categories, "A service request on a charger", "C0SHARED")
    [opened] = await h.fake.wait_for("views.open")
    view: dict[str, Any] = opened.args["view"]
    return view


async def _submit(h: Harness, user: str, metadata: str, callback: str = FORM_CALLBACK, **state: Any) -> dict[str, Any]:
    status, body = await h.sender.interaction(
        payloads.view_submission(user, "T0HOME", callback, metadata, state or TICKET, view_id=f"V0{user}")
    )
    assert status == 200, f"HTTP {status}: {body}"
    answer: dict[str, Any] = json.loads(body) if body else {}
    return answer


async def _count(h: Harness, table: Any) -> int:
    async with h.portal.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


MANGLED = (
    "{not json",
    "[1, 2]",
    '"a string"',
    '{"conversation": 5, "form": "service_ticket_form"}',
    '{"conversation": "{}", "form": "service_ticket_form"}',
    '{"form": "service_ticket_form"}',
    '{"conversation": "x", "form": ["service_ticket_form"]}',
)


async def test_someone_elses_or_mangled_modal_metadata_is_refused_on_the_modal_and_audited(slack: Harness) -> None:
    h = slack
    carlas = str((await _carlas_ticket_modal(h))["private_metadata"])
    # dave sends a modal carrying carla's metadata (her conversation): refused, never filed in her name.
    answers = [await _submit(h, "U0DAVE", carlas)]
    answers += [await _submit(h, "U0CARLA", mangled) for mangled in MANGLED]
    for answer in answers:
        assert answer["response_action"] == "update"
        assert "it was opened for someone else, or it was changed on the way" in json.dumps(answer["view"])
    assert await _count(h, tables.requests) == 0
    audit = await services.audit_entries(h.portal.uow())
    refused = [(a.actor, a.action, a.outcome, a.detail) for a in audit]
    print(
        f"{len(answers)} forged or mangled modals → {len(answers)} refusals on the modal, "
        f"{await _count(h, tables.requests)} requests, {len(audit)} audited"
    )
    assert refused[0] == ("slack:U0DAVE", "submit service_ticket_form", "ForgedValue", "private_metadata")
    assert len(refused) == len(answers)
    assert {r[2] for r in refused} == {"ForgedValue"}
    # The first step of "raise a request from this message" with dave sending carla's metadata: refused too.
    kind = {"category": {"value": payloads.static_select_value("/request_service_ticket")}}
    answer = await _submit(h, "U0DAVE", carlas, FROM_MESSAGE_CALLBACK, **kind)
    assert FORGED in json.dumps(answer["view"])
    assert (await services.audit_entries(h.portal.uow()))[-1].action == "submit request kind"
    # carla's own modal still works.
    answer = await _submit(h, "U0CARLA", carlas)
    assert "ST-000001" in json.dumps(answer)
    assert FORGED not in json.dumps(answer)


@contextmanager
def database_down(h: Harness) -> Iterator[None]:
    """Every statement fails as it does while the database is restarting."""
    error = h.portal.engine.dialect.loaded_dbapi.OperationalError

    def refuse(*_: Any) -> None:
        raise error("the database system is starting up")

    event.listen(h.portal.engine.sync_engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(h.portal.engine.sync_engine, "before_cursor_execute", refuse)


async def test_choosing_a_kind_while_the_database_is_down_answers_on_the_modal(slack: Harness) -> None:
    h = slack
    metadata = json.dumps(
        {"conversation": json.dumps({"team_id": "T0HOME", "user_id": "U0CARLA", "channel_id": "C0SHARED",
                                     "thread_ts": payloads.next_ts(), "surface": "channel"})}
    )  # fmt: skip
    state = {
        "category": {"value": payloads.static_select_value("/request_service_ticket")},
        "description": {"value": payloads.plain_text_value("The display stays dark since Monday")},
    }
    with database_down(h):
        answer = await _submit(h, "U0CARLA", metadata, FROM_MESSAGE_CALLBACK, **state)
    assert answer == {"response_action": "errors", "errors": {"category": TRY_AGAIN}}
    answer = await _submit(h, "U0CARLA", metadata, FROM_MESSAGE_CALLBACK, **state)
    assert answer["response_action"] == "update"  # back: the form follows
    assert answer["view"]["callback_id"] == FORM_CALLBACK


async def test_a_modal_sent_while_the_database_is_down_is_told_the_truth(slack: Harness) -> None:
    h = slack
    view = await _carlas_ticket_modal(h)
    with database_down(h):
        answer = await _submit(h, "U0CARLA", str(view["private_metadata"]))
    # Nothing was filed, but the database cannot say so: the modal's first field says we can't tell and to try
    # again, and sending it again files it once.
    assert answer["response_action"] == "errors"
    [said] = answer["errors"].values()
    assert "can't tell whether your request went through" in said
    assert await _count(h, tables.requests) == 0
    answer = await _submit(h, "U0CARLA", str(view["private_metadata"]))
    assert "ST-000001" in json.dumps(answer)
