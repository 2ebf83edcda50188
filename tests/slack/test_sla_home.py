"""The agents' App Home shows what is late first, and each request's SLA state (issue 16 §4, §5)."""

from __future__ import annotations

from datetime import timedelta

from portal import services
from portal.domain.actors import Agent
from tests.conftest import FrozenClock
from tests.slack.test_support_and_home import (
    AGENT,
    AGENT_CUSTOMER,
    CARLA,
    Desk,
    bens_transfer,
    carla_ticket,
    desk,
    section_texts,
)

__all__ = ["desk"]  # the fixture, shared with the Home tab's own tests


async def test_the_queue_shows_late_requests_first_and_each_sla_state(desk: Desk, clock: FrozenClock) -> None:
    late = await carla_ticket(desk)  # 12:00
    await services.assign_request(desk.portal.uow(), Agent(AGENT_CUSTOMER), late)  # someone else's
    asked = await services.open_service_ticket(desk.portal.uow(), CARLA, "10001R002", "Cable holder broke")
    clock.advance(timedelta(minutes=30))
    await services.write_to_requester(desk.portal.uow(), Agent(AGENT), asked.reference, "Which bay?", ask=True)
    clock.advance(timedelta(hours=4, minutes=30))  # 17:00
    fresh = await services.open_service_ticket(desk.portal.uow(), CARLA, "10001R001", "Slow charging")
    transfer = await bens_transfer(desk, consented=True)  # support's from now: a day to answer
    clock.advance(timedelta(hours=1))  # 18:00
    await services.request_transfer(desk.portal.uow(), CARLA, ["ACE0100001"], "We run it now", terms_accepted=True)

    shown = section_texts(await desk.home(AGENT))
    assert "Waiting for support (3)" in shown  # the late one, and the two nobody has
    late_part = shown.index("*Late* (1)")
    assert late_part < shown.index(late) < shown.index("*Unassigned* (2)") < shown.index(fresh.reference)
    assert shown.count(late) == 1  # late, whoever has it: listed there only, with who has it
    late_line = next(line for line in shown.splitlines() if f"*{late}*" in line)
    assert late_line.endswith(f"; waiting 6 h · _first response late by 2 h_ · <@{AGENT_CUSTOMER}>")
    assert "*Taken by someone else*" not in shown
    fresh_line = next(line for line in shown.splitlines() if f"*{fresh.reference}*" in line)
    assert fresh_line.endswith("; waiting 1 h · _first response due in 3 h_")
    transfer_line = next(line for line in shown.splitlines() if f"*{transfer}*" in line)
    assert transfer_line.endswith(" · _first response due in 23 h_")
    operator_line = next(line for line in shown.splitlines() if "*MT-000002*" in line)
    assert operator_line.endswith(" · _paused: waiting for the current Service Operator_")
    asked_line = next(line for line in shown.splitlines() if f"*{asked.reference}*" in line)
    assert asked_line.endswith(" · _paused: waiting for the customer_")  # it was answered within 30 min

    # Answered and resolved: off the queue, and nothing is late any more.
    await services.set_ticket_status(desk.portal.uow(), Agent(AGENT), late, "resolved")
    assert "*Late*" not in section_texts(await desk.home(AGENT))
