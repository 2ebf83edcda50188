"""Support and the customer's side talk through a request, through the use cases, on SQLite and PostgreSQL
(issue 16 §1 and §2)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from portal import services
from portal.adapters import tables
from portal.bootstrap import Portal
from portal.domain.actors import Agent
from portal.errors import InvalidMessage, UnknownRequest
from tests.integration.test_services import BEN, CARLA
from tests.integration.test_withdrawals import outbox

AGENT = Agent("U_AGENT", "Sam")
FILE = {"id": "F0123", "name": "label.jpg", "permalink": "https://example.slack.com/files/U1/F0123/label.jpg"}


async def message_rows(portal: Portal) -> int:
    async with portal.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(tables.request_messages))).scalar_one())


async def test_a_question_and_its_answer_are_kept_on_the_request_with_their_events(portal: Portal) -> None:
    ticket = await services.open_service_ticket(portal.uow(), CARLA, "10001R002", "Cable lock stuck on socket 2")
    asked = await services.write_to_requester(portal.uow(), AGENT, ticket.reference, "Which socket?", ask=True)
    assert (asked.number, asked.asks, asked.author) == (1, True, "agent:U_AGENT")
    waiting = await services.request_facts(portal.uow(), ticket.reference)
    assert waiting.status == "waiting_for_customer"
    assert ticket.reference not in [r.reference for r in await services.support_queue(portal.uow())]
    queue = await services.agent_queue(portal.uow(), "U_AGENT")
    assert [i.request.reference for i in queue.waiting_for_customer] == [ticket.reference]
    back = await services.add_from_requester(
        portal.uow(), CARLA, ticket.reference, "The left one", [FILE], key="slack:C1:1700.1"
    )
    assert back.status == "open"
    facts = await services.request_facts(portal.uow(), ticket.reference)
    assert [(m.number, m.direction, m.text, m.files) for m in facts.messages] == [
        (1, "to_requester", "Which socket?", ()),
        (2, "from_requester", "The left one", (("F0123", "label.jpg", FILE["permalink"]),)),
    ]
    events = [(name, payload.get("number"), payload.get("status")) for name, _, payload in await outbox(portal)]
    assert events[-4:] == [
        ("request.message", 1, None),
        ("request.status_changed", None, "waiting_for_customer"),
        ("request.message", 2, None),
        ("request.status_changed", None, "open"),
    ]


async def test_the_same_message_carried_twice_at_once_is_kept_once(portal: Portal) -> None:
    ticket = await services.open_service_ticket(portal.uow(), CARLA, "10001R002", "Cable lock stuck on socket 2")

    async def add() -> object:
        try:
            return await services.add_from_requester(portal.uow(), CARLA, ticket.reference, "E42", key="k1")
        except Exception as error:  # the loser of the race may see the unique key, never two rows
            return error

    await asyncio.gather(add(), add())
    await services.add_from_requester(portal.uow(), CARLA, ticket.reference, "E42", key="k1")
    assert await message_rows(portal) == 1


async def test_someone_else_learns_nothing_and_bad_input_changes_nothing(portal: Portal) -> None:
    ticket = await services.open_service_ticket(portal.uow(), CARLA, "10001R002", "Cable lock stuck on socket 2")
    before = await outbox(portal)
    # A stranger hears what a reference that does not exist gets: nothing about the request.
    with pytest.raises(UnknownRequest):
        await services.add_from_requester(portal.uow(), BEN, ticket.reference, "hello")
    with pytest.raises(UnknownRequest):
        await services.add_from_requester(portal.uow(), CARLA, "ST-999999", "hello")
    with pytest.raises(InvalidMessage):
        await services.add_from_requester(portal.uow(), CARLA, ticket.reference, "x" * 3001)
    with pytest.raises(InvalidMessage):
        await services.write_to_requester(portal.uow(), AGENT, ticket.reference, " \x00 ")
    with pytest.raises(UnknownRequest):
        await services.write_to_requester(portal.uow(), AGENT, "", "hello")
    assert await outbox(portal) == before and await message_rows(portal) == 0


async def test_a_transfer_never_answered_is_cancelled_and_frees_its_chargers(portal: Portal) -> None:
    transfer = await services.request_transfer(
        portal.uow(), BEN, ["ACE0100002"], "we bought this one", terms_accepted=True
    )
    await services.send_unreachable_transfer_to_support(portal.uow(), transfer.reference, ["VoltWay"])
    await services.write_to_requester(portal.uow(), AGENT, transfer.reference, "Your invoice, please", ask=True)
    async with portal.uow() as uow:
        request = await uow.requests.get(transfer.reference, for_update=True)
        assert request is not None
        request.close_unanswered(uow.clock(), "no answer")
        await uow.commit()
    again = await services.request_transfer(portal.uow(), BEN, ["ACE0100002"], "we bought it", terms_accepted=True)
    assert again.status == "awaiting_operator"
