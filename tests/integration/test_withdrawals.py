"""Withdrawing a request through the use cases, on SQLite and PostgreSQL (issue 13 §8)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from portal import services
from portal.adapters import tables
from portal.bootstrap import Portal
from portal.domain.actors import Agent
from portal.errors import InvalidTransition, NotRequester, UnknownAccount, UnknownRequest
from tests.integration.test_services import ANNA, BEN, CARLA, DAVE, ERIN

AGENT = Agent("U_AGENT")


async def outbox(portal: Portal) -> list[tuple[str, str | None, dict[str, object]]]:
    async with portal.engine.connect() as conn:
        rows = await conn.execute(
            select(tables.outbox.c.name, tables.outbox.c.reference, tables.outbox.c.payload).order_by(
                tables.outbox.c.id
            )
        )
        return [(r.name, r.reference, dict(r.payload or {})) for r in rows]


async def test_withdrawing_a_ticket_records_history_and_an_event_in_one_go(portal: Portal) -> None:
    ticket = await services.open_service_ticket(portal.uow(), CARLA, "10001R002", "Cable lock stuck on socket 2")
    checked = await services.check_withdrawal(portal.uow(), CARLA, ticket.reference)
    assert (checked.reference, checked.status) == ("ST-000001", "open")
    done = await services.withdraw_request(portal.uow(), CARLA, "ST-000001", "it works again")
    assert done.status == "withdrawn"
    detail = await services.get_request(portal.uow(), AGENT, "ST-000001")
    last = detail.history[-1]
    assert (last.from_status, last.to_status, last.actor, last.reason) == (
        "open",
        "withdrawn",
        "account:carla@citycharge.example",
        "it works again",
    )
    name, reference, payload = (await outbox(portal))[-1]
    assert (name, reference, payload["status"]) == ("request.status_changed", "ST-000001", "withdrawn")
    # Off the support queue, and not withdrawable twice.
    assert "ST-000001" not in [r.reference for r in await services.support_queue(portal.uow())]
    assert await services.withdrawable_requests(portal.uow(), CARLA) == []
    with pytest.raises(InvalidTransition):
        await services.withdraw_request(portal.uow(), CARLA, "ST-000001")


async def test_a_decided_request_cannot_be_withdrawn_and_nothing_changes(portal: Portal) -> None:
    ticket = await services.open_service_ticket(portal.uow(), CARLA, "10001R002", "Cable lock stuck on socket 2")
    await services.set_ticket_status(portal.uow(), AGENT, ticket.reference, "resolved")
    before = await outbox(portal)
    with pytest.raises(InvalidTransition) as refused:
        await services.check_withdrawal(portal.uow(), CARLA, ticket.reference)
    assert refused.value.status == "resolved"
    with pytest.raises(InvalidTransition):
        await services.withdraw_request(portal.uow(), CARLA, ticket.reference)
    assert (await services.get_request(portal.uow(), AGENT, ticket.reference)).summary.status == "resolved"
    assert await outbox(portal) == before


async def test_unknown_and_invisible_references_are_the_same_refusal(portal: Portal) -> None:
    await services.request_transfer(portal.uow(), BEN, ["ACE0100002"], "we bought this one", terms_accepted=True)
    for email, reference in ((CARLA, "MT-000001"), (DAVE, "MT-000001"), (BEN, "MT-999999"), (BEN, "not a ref")):
        with pytest.raises(UnknownRequest):
            await services.check_withdrawal(portal.uow(), email, reference)
        with pytest.raises(UnknownRequest):
            await services.withdraw_request(portal.uow(), email, reference)
    # The current Service Operator may see the transfer of its charger, not withdraw it.
    with pytest.raises(NotRequester):
        await services.withdraw_request(portal.uow(), ANNA, "MT-000001")
    with pytest.raises(UnknownAccount):
        await services.withdraw_request(portal.uow(), "ghost@nowhere.example", "MT-000001")
    with pytest.raises(UnknownAccount):
        await services.withdraw_request(portal.uow(), None, "MT-000001")
    assert (await services.get_request(portal.uow(), AGENT, "MT-000001")).summary.status == "awaiting_operator"


async def test_a_colleague_withdraws_a_transfer_which_is_cancelled_and_frees_the_charger(portal: Portal) -> None:
    await services.request_transfer(portal.uow(), BEN, ["ACE0100002"], "we bought this one", terms_accepted=True)
    assert [r.reference for r in await services.withdrawable_requests(portal.uow(), ERIN)] == ["MT-000001"]
    done = await services.withdraw_request(portal.uow(), ERIN, "MT-000001")
    assert done.status == "cancelled"
    again = await services.request_transfer(
        portal.uow(), BEN, ["ACE0100002"], "asking again, with the invoice", terms_accepted=True
    )
    assert again.reference == "MT-000002"


async def test_an_administrative_request_of_a_person_without_organization(portal: Portal) -> None:
    request = await services.open_administrative_request(portal.uow(), DAVE, "Please link me to GreenFleet")
    assert [r.reference for r in await services.withdrawable_requests(portal.uow(), DAVE)] == [request.reference]
    with pytest.raises(UnknownRequest):
        await services.withdraw_request(portal.uow(), BEN, request.reference)
    done = await services.withdraw_request(portal.uow(), DAVE, request.reference)
    assert done.status == "withdrawn"


async def test_a_withdrawal_racing_support_and_itself_ends_in_exactly_one_outcome(portal: Portal) -> None:
    # Double clicks on "Yes, withdraw" while an agent resolves: one transition wins, the rest are refused.
    await services.open_service_ticket(portal.uow(), CARLA, "10001R002", "Cable lock stuck on socket 2")

    async def act(i: int) -> str:
        try:
            if i % 5 == 4:
                return (await services.set_ticket_status(portal.uow(), AGENT, "ST-000001", "resolved")).status
            return (await services.withdraw_request(portal.uow(), CARLA, "ST-000001")).status
        except InvalidTransition as refused:
            return type(refused).__name__

    results = await asyncio.gather(*(act(i) for i in range(20)))
    decided = [r for r in results if r in ("withdrawn", "resolved")]
    print(
        f"\n20 concurrent withdrawals/resolutions → {len(decided)} recorded ({decided[0]}), "
        f"{results.count('InvalidTransition')} refused"
    )
    assert len(decided) == 1 and results.count("InvalidTransition") == 19
    changes = [e for e in await outbox(portal) if e[0] == "request.status_changed"]
    assert len(changes) == 1
