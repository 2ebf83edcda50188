"""Nothing stalls unseen (issue 16 §4): the daily SLA digest, the assignee's warning before a target passes, and the
customer who never answers support's question (one reminder, then closed, and told so).

On loopback with a frozen clock, on both databases: the background check records each once (per day, per request
and target, per question) whatever the restarts and processes; the notifier and the sender turn them into Slack
messages on the fake Web API.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.slack.background import check_sla
from portal import services
from portal.adapters import tables
from portal.domain.actors import Agent
from portal.languages.texts import texts
from portal.services.sla import SLA_DIGEST_EVENT, breach_warning_key, customer_reminder_key, digest_key
from tests.conftest import FrozenClock
from tests.slack.test_agent_journeys import Desk, ben_requests_a_transfer, sent
from tests.support.harness import TRIAGE, Harness

CARLA, BEN, ANNA = "carla@citycharge.example", "ben@greenfleet.example", "anna@voltway.example"
AGENT = "U0SAM"
DIGEST_HOUR, REMIND_DAYS, CLOSE_DAYS = 14, 3, 7  # the frozen clock starts at 12:00 UTC


@pytest.fixture
async def desk(slack: Harness) -> Desk:
    return Desk.of(slack)


async def check(d: Desk) -> None:
    """One round of the background SLA check, then its messages delivered."""
    await check_sla(d.h.portal, DIGEST_HOUR, REMIND_DAYS, CLOSE_DAYS)
    await d.deliver()


async def recorded(h: Harness, key: str) -> int:
    async with h.portal.engine.connect() as conn:
        count = await conn.scalar(
            select(func.count()).select_from(tables.outbox).where(tables.outbox.c.origin_key == key)
        )
    return int(count or 0)


def digests(h: Harness) -> list[str]:
    return [c.args["text"] for c in sent(h, "chat.postMessage", TRIAGE) if "SLA digest" in c.args["text"]]


async def carla_ticket(h: Harness) -> str:
    ticket = await services.open_service_ticket(h.portal.uow(), CARLA, "10001R001", "Display stays dark")
    return ticket.reference


# --- the daily digest --------------------------------------------------------------------------------------------


async def test_the_digest_lists_late_and_unassigned_requests_once_a_day(desk: Desk, clock: FrozenClock) -> None:
    d, h = desk, desk.h
    late = await carla_ticket(h)
    clock.advance(timedelta(hours=1))
    fresh = await services.open_service_ticket(h.portal.uow(), CARLA, "10001R002", "Cable holder broke")
    taken = await services.open_service_ticket(h.portal.uow(), CARLA, "10001R001", "Slow charging")
    await services.assign_request(h.portal.uow(), Agent(AGENT), taken.reference)
    await d.deliver()

    await check(d)  # 13:00: before the digest hour
    assert digests(h) == []

    clock.advance(timedelta(hours=4))  # 17:00: the first ticket waits 5 h for a first response, the others 4 h
    # Two processes check at the same moment: the database keeps one digest.
    await asyncio.gather(
        check_sla(h.portal, DIGEST_HOUR, REMIND_DAYS, CLOSE_DAYS),
        check_sla(h.portal, DIGEST_HOUR, REMIND_DAYS, CLOSE_DAYS),
    )
    await d.deliver()
    [digest] = digests(h)
    assert digest.startswith("*SLA digest for 24 November 2026*")
    lines = digest.splitlines()
    assert lines[1] == "*Late* (1)"
    assert lines[2] == f"• *{late}* service ticket, CityCharge: open 5 h; first response late by 1 h"
    assert lines[3] == "*Unassigned* (1)"
    assert lines[4] == f"• *{fresh.reference}* service ticket, CityCharge: open 4 h; first response due in 0 min"
    assert taken.reference not in digest  # assigned and not late: its assignee has it in hand

    # Later the same day, and after a restart: recorded, so nothing is posted again.
    clock.advance(timedelta(hours=5))
    await check(d)
    assert len(digests(h)) == 1
    assert await recorded(h, digest_key(clock.now.date())) == 1

    # The next day's digest: everything is late by now, assigned or not.
    clock.advance(timedelta(hours=20))
    await check(d)
    [_, second] = digests(h)
    assert "*Late* (3)" in second and "*Unassigned*" not in second
    assert f"• *{taken.reference}* service ticket, CityCharge: open 29 h; first response late by" in second
    assert f"<@{AGENT}>" in second  # who has it


async def test_nothing_late_or_unassigned_is_a_short_all_clear(desk: Desk, clock: FrozenClock) -> None:
    d, h = desk, desk.h
    clock.advance(timedelta(hours=DIGEST_HOUR - 12))
    await check(d)
    assert digests(h) == ["SLA digest for 24 November 2026: all clear, nothing is late or unassigned."]
    async with h.portal.engine.connect() as conn:
        names = list(await conn.scalars(select(tables.outbox.c.name).where(tables.outbox.c.name == SLA_DIGEST_EVENT)))
    assert names == [SLA_DIGEST_EVENT]


# --- the assignee's warning ----------------------------------------------------------------------------------------


async def test_the_assignee_is_warned_once_before_the_first_response_is_due(desk: Desk, clock: FrozenClock) -> None:
    d, h = desk, desk.h
    ticket = await carla_ticket(h)
    nobodys = await services.open_service_ticket(h.portal.uow(), CARLA, "10001R002", "Cable holder broke")
    await services.assign_request(h.portal.uow(), Agent(AGENT), ticket)
    await d.deliver()

    clock.advance(timedelta(hours=2, minutes=59))  # 61 minutes left of 4 h: not yet due soon
    await check(d)
    assert sent(h, "chat.postMessage", AGENT) == []

    clock.advance(timedelta(minutes=21))  # 40 minutes left
    await asyncio.gather(
        check_sla(h.portal, DIGEST_HOUR, REMIND_DAYS, CLOSE_DAYS),
        check_sla(h.portal, DIGEST_HOUR, REMIND_DAYS, CLOSE_DAYS),
    )
    await d.deliver()
    [warning] = sent(h, "chat.postMessage", AGENT)
    assert warning.args["text"] == (
        f"*{ticket}* (service ticket, CityCharge) is about to miss its target: first response due in 40 min."
    )
    clock.advance(timedelta(hours=2))  # now late: the first response's warning was given, nothing more
    await check(d)
    assert len(sent(h, "chat.postMessage", AGENT)) == 1
    assert await recorded(h, breach_warning_key(ticket, "first_response")) == 1
    assert await recorded(h, breach_warning_key(nobodys.reference, "first_response")) == 0  # the digest shows it


# --- the customer who does not answer -------------------------------------------------------------------------------


async def bens_transfer_waits_for_his_answer(d: Desk) -> str:
    reference = await ben_requests_a_transfer(d)
    await d.deliver()
    await d.press("U0ANNA", "D0ANNA", "consent_yes", reference, team="T0VOLT")
    await d.status_becomes(reference, "awaiting_support")
    await services.write_to_requester(
        d.h.portal.uow(), Agent(AGENT), reference, "Could you send the invoice for ACE0100002?", ask=True
    )
    await d.deliver()
    return reference


def bens_dms(h: Harness) -> list[str]:
    return [c.args["text"] for c in sent(h, "chat.postMessage", "U0BEN")]


async def test_a_customer_who_never_answers_is_reminded_once_then_the_request_closes(
    desk: Desk, clock: FrozenClock
) -> None:
    d, h = desk, desk.h
    reference = await bens_transfer_waits_for_his_answer(d)
    before = len(bens_dms(h))

    clock.advance(timedelta(days=REMIND_DAYS) - timedelta(minutes=1))
    await check(d)
    assert len(bens_dms(h)) == before  # not yet

    clock.advance(timedelta(minutes=1))
    await asyncio.gather(
        check_sla(h.portal, DIGEST_HOUR, REMIND_DAYS, CLOSE_DAYS),
        check_sla(h.portal, DIGEST_HOUR, REMIND_DAYS, CLOSE_DAYS),
    )
    await d.deliver()
    [reminder] = bens_dms(h)[before:]
    assert reminder == (
        f"Support is still waiting for your answer about your management transfer {reference}.\n"
        "Their question: \n> Could you send the invoice for ACE0100002?\n"
        "Please answer so they can go on. Without an answer, the request will be closed on 1 December 2026."
    )
    clock.advance(timedelta(days=1))
    await check(d)
    assert len(bens_dms(h)) == before + 1  # one reminder only
    assert await recorded(h, customer_reminder_key(reference, 1)) == 1

    clock.advance(timedelta(days=CLOSE_DAYS - REMIND_DAYS - 1))  # a week after the question
    await check(d)
    assert (await services.request_facts(h.portal.uow(), reference)).status == "cancelled"
    closed = bens_dms(h)[before + 1 :]
    assert closed == [
        f"Support closed your management transfer {reference} because no answer came to their question. If you "
        "still need help, type `/support` or write to me to start a new request, and mention "
        f"{reference}."
    ]


async def test_an_answer_in_time_means_no_reminder_and_no_close(desk: Desk, clock: FrozenClock) -> None:
    d, h = desk, desk.h
    reference = await bens_transfer_waits_for_his_answer(d)
    clock.advance(timedelta(days=1))
    await services.add_from_requester(h.portal.uow(), BEN, reference, "Attached, see the invoice")
    before = len(bens_dms(h))
    clock.advance(timedelta(days=CLOSE_DAYS + 1))
    await check(d)
    assert (await services.request_facts(h.portal.uow(), reference)).status == "awaiting_support"
    assert not [text for text in bens_dms(h)[before:] if "still waiting for your answer" in text]
    assert await recorded(h, customer_reminder_key(reference, 1)) == 0


async def test_a_reminder_sent_late_still_leaves_the_customer_time(desk: Desk, clock: FrozenClock) -> None:
    """The process was down for ten days: the reminder comes first, and the close only the usual time after it."""
    d, h = desk, desk.h
    reference = await bens_transfer_waits_for_his_answer(d)
    clock.advance(timedelta(days=10))
    await check(d)
    assert await recorded(h, customer_reminder_key(reference, 1)) == 1
    assert (await services.request_facts(h.portal.uow(), reference)).status == "waiting_for_customer"
    clock.advance(timedelta(days=CLOSE_DAYS - REMIND_DAYS) - timedelta(minutes=5))
    await check(d)
    assert (await services.request_facts(h.portal.uow(), reference)).status == "waiting_for_customer"
    clock.advance(timedelta(minutes=5))
    await check(d)
    assert (await services.request_facts(h.portal.uow(), reference)).status == "cancelled"


async def test_the_digest_and_the_warning_are_in_the_agents_language(desk: Desk, clock: FrozenClock) -> None:
    d, h = desk, desk.h
    d.notifier.agent_texts = texts("nl")  # CHARGEDESK_AGENT_LANGUAGE=nl
    ticket = await carla_ticket(h)
    await services.assign_request(h.portal.uow(), Agent(AGENT), ticket)
    clock.advance(timedelta(hours=DIGEST_HOUR - 12, minutes=30))  # 14:30: 1 h 30 min left of 4 h, not due soon
    await d.deliver()
    await check(d)
    assert sent(h, "chat.postMessage", AGENT) == []
    [digest] = [c.args["text"] for c in sent(h, "chat.postMessage", TRIAGE) if "SLA-overzicht" in c.args["text"]]
    assert digest == "SLA-overzicht van 24 november 2026: alles in orde, niets is te laat of zonder behandelaar."
    clock.advance(timedelta(hours=2))
    await check(d)
    [warning] = sent(h, "chat.postMessage", AGENT)
    assert warning.args["text"] == (
        f"*{ticket}* (servicemelding, CityCharge) heeft zijn doel gemist: eerste reactie 30 min te laat."
    )
