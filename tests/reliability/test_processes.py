"""Reliability proofs at the process level: real `chargedesk run` processes on one PostgreSQL database, driven
with signed Slack requests on loopback against the fake Slack Web API.

PostgreSQL only (two processes sharing one database is the point); each test creates its own database
(`chargedesk_rel_<random>`), migrates and seeds it with the CLI, and drops it at the end. Each prints its figure
line(s), prefixed with ``[reliability]``, for RELIABILITY.md.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from portal import services
from portal.bootstrap import Portal
from tests.reliability.processes import AGENT, TRIAGE, ChargedeskProcess, SlowSlack, figure, rig, wait_until
from tests.slack import payloads
from tests.slack.conftest import USERS
from tests.slack.fake_slack import Call

pytestmark = pytest.mark.postgres


def text_of(call: Call) -> str:
    return str(call.args.get("text") or "")


# ------------------------------------------------------------------------------------------------ 1. decisions


async def test_concurrent_approvals_across_two_processes_record_one_decision(tmp_path: Path) -> None:
    presses = 50
    async with rig(tmp_path, USERS) as world:
        db = world.db
        first, second = await asyncio.gather(world.start_process(), world.start_process())
        portal = Portal.connect(db.url)
        try:
            transfer = await services.request_transfer(
                portal.uow(),
                "ben@greenfleet.example",
                ["ACE0100002"],
                "Bought from VoltWay together with the installation in 2025",
                terms_accepted=True,
            )
            reference = transfer.reference
            answered = await services.answer_transfer(portal.uow(), "anna@voltway.example", reference, consent=True)
            assert answered.status == "awaiting_support"
        finally:
            await portal.close()
        version_before = await db.scalar("SELECT version FROM chargers WHERE serial = 'ACE0100002'")

        async def press(index: int) -> int:
            process = (first, second)[index % 2]
            status, _ = await process.sender.interaction(
                payloads.block_actions(
                    AGENT,
                    "T0HOME",
                    TRIAGE,
                    payloads.next_ts(),
                    "triage_approve",
                    value=reference,
                    block_id="b",
                    trigger_id=payloads.new_trigger_id(),
                )
            )
            return status

        started = time.monotonic()
        statuses = await asyncio.gather(*(press(i) for i in range(presses)))
        assert statuses == [200] * presses

        def not_done() -> list[Call]:
            return [
                c
                for c in world.slack.calls_to("chat.postEphemeral")
                if c.args.get("user") == AGENT and text_of(c).startswith("Not done")
            ]

        def reason_modals() -> list[Call]:
            return world.slack.calls_to("views.open")

        async def settled() -> bool:
            return len(not_done()) + len(reason_modals()) >= presses - 1 and bool(
                await db.scalar(
                    "SELECT count(*) FROM request_transitions t JOIN requests r ON r.id = t.request_id "
                    "WHERE r.reference = :ref AND t.to_status = 'completed'",
                    ref=reference,
                )
            )

        await wait_until(settled, 30, "every press answered")
        elapsed = time.monotonic() - started
        await asyncio.sleep(0.5)  # anything still running would show now

        completed = await db.scalar(
            "SELECT count(*) FROM request_transitions t JOIN requests r ON r.id = t.request_id "
            "WHERE r.reference = :ref AND t.to_status = 'completed'",
            ref=reference,
        )
        version_after = await db.scalar("SELECT version FROM chargers WHERE serial = 'ACE0100002'")
        operator = await db.scalar(
            "SELECT o.name FROM chargers c JOIN organizations o ON o.id = c.service_operator_id "
            "WHERE c.serial = 'ACE0100002'"
        )
        events = await db.scalar(
            "SELECT count(*) FROM outbox WHERE name = 'transfer.completed' AND reference = :ref", ref=reference
        )
        refused, modals = len(not_done()), len(reason_modals())
        figure(
            f"{presses} concurrent approvals of {reference} over 2 processes → {completed} recorded, "
            f"{refused + modals} refused ({refused} 'Not done' replies, {modals} reason modals for a decided "
            f"transfer); ACE0100002 version {version_before} → {version_after}; "
            f"{events} transfer.completed event; {elapsed:.1f} s"
        )
        assert completed == 1
        assert version_after == version_before + 1
        assert operator == "GreenFleet Logistics"
        assert events == 1
        assert refused + modals == presses - 1


# ------------------------------------------------------------------------------------------------ 2. one conversation


CARLA_DM = "D0CARLA"
CARLA_SENDER = f"T0HOME:{CARLA_DM}:-:U0CARLA"


def turns_of(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The tracker cut at every user event: each piece is one turn, its user event first."""
    turns: list[list[dict[str, Any]]] = []
    for event in events:
        if event.get("event") == "user":
            turns.append([event])
        elif turns:
            turns[-1].append(event)
    return turns


class OutOfOrder(AssertionError):
    """Only this failure is the known bug below; any other assertion in the test fails it normally."""


@pytest.mark.xfail(
    strict=True,
    raises=OutOfOrder,
    reason=(
        "BUG bot/engine/leases.py Leases.hold + bot/engine/engine.py Engine.turn: turns of one conversation are "
        "not taken in arrival order across processes. A process re-takes the lease for its own queued turns at "
        "once (asyncio.Lock hand-over) while the other process polls with back-off up to 100 ms, so DMs 1..12 "
        "alternating between two processes are stored as 1,3,5,…,11,2,4,…,12"
    ),
)
async def test_quick_messages_alternating_between_processes_are_whole_turns(tmp_path: Path) -> None:
    count = 12
    async with rig(tmp_path, USERS) as world:
        db = world.db
        first, second = await asyncio.gather(world.start_process(), world.start_process())
        texts = [f"hello, this is message {i:02d}" for i in range(1, count + 1)]
        started = time.monotonic()
        for index, message in enumerate(texts):
            process = (first, second)[index % 2]
            status, _ = await process.sender.event(
                payloads.message_im("U0CARLA", message, CARLA_DM, payloads.next_ts())
            )
            assert status == 200
        sent_in = time.monotonic() - started

        async def answered() -> bool:
            return len(world.slack.posts_to(CARLA_DM)) >= count

        await wait_until(answered, 30, f"{count} replies in {CARLA_DM}")
        elapsed = time.monotonic() - started
        await asyncio.sleep(0.5)
        replies = world.slack.posts_to(CARLA_DM)
        rows = await db.rows(
            "SELECT event FROM conversation_events WHERE sender_id = :sender ORDER BY seq", sender=CARLA_SENDER
        )
        events = [dict(row.event) for row in rows]
        turns = turns_of(events)
        stored = [str(turn[0].get("text")) for turn in turns]
        whole = [
            turn
            for turn in turns
            if turn[-1].get("event") == "action"
            and turn[-1].get("name") == "action_listen"
            and any(e.get("event") == "bot" for e in turn)
        ]
        in_order = stored == texts
        figure(
            f"{count} DMs of one user alternating between 2 processes (sent in {sent_in:.2f} s) → "
            f"{len(stored)} user turns stored, {len(whole)} whole (own answer, then action_listen), "
            f"{len(replies)} replies, order {'as sent' if in_order else 'DIFFERENT from the send order'}: "
            f"{[int(t.rsplit(' ', 1)[-1]) for t in stored]}; all answered in {elapsed:.1f} s"
        )
        assert len(replies) == count
        assert sorted(stored) == sorted(texts)  # every message is one turn, none lost, none doubled
        assert len(whole) == count  # no turn interleaved with another
        if stored != texts:
            raise OutOfOrder(f"the conversation took the messages in the order {stored}, not as sent")


# ------------------------------------------------------------------------------------------------ 3. SIGKILL


TICKET_OPENED = re.compile(r"opened service ticket (ST-\d{6})")
TICKET_TEXTS = ("/request_service_ticket", "10001R002", "The display shows error 42 and the cable is locked")


@dataclass
class Customer:
    user_id: str
    email: str
    channel: str
    sent: int = 0
    stopped_by: str = ""


async def converse(process: ChargedeskProcess, slack: SlowSlack, customer: Customer, killed: asyncio.Event) -> None:
    """A customer files a ticket in their DM, one message per reply, until done or the process is gone."""
    for message in TICKET_TEXTS[customer.sent :]:
        if killed.is_set():
            customer.stopped_by = "kill"
            return
        try:
            status, _ = await process.sender.event(
                payloads.message_im(customer.user_id, message, customer.channel, payloads.next_ts())
            )
        except (aiohttp.ClientError, TimeoutError):
            customer.stopped_by = "connection refused"
            return
        if status != 200:
            customer.stopped_by = f"HTTP {status}"
            return
        customer.sent += 1
        deadline = time.monotonic() + 10
        while len(slack.posts_to(customer.channel)) < customer.sent:
            if killed.is_set() or time.monotonic() > deadline:
                customer.stopped_by = "no reply"
                return
            await asyncio.sleep(0.01)
    customer.stopped_by = ""


async def test_sigkill_under_load_loses_no_ticket_and_doubles_none(tmp_path: Path) -> None:
    count, kill_after = 20, 8
    customers = [
        Customer(f"U0REL{i:02d}", f"rel{i:02d}@citycharge.example", f"D0REL{i:02d}") for i in range(1, count + 1)
    ]
    users = {**USERS, **{c.user_id: {"team_id": "T0HOME", "email": c.email, "name": c.user_id} for c in customers}}
    async with rig(tmp_path, users) as world:
        db, slack = world.db, world.slack
        await world.import_accounts([(c.email, "2025-01-01", "CityCharge") for c in customers])
        victim = await world.start_process()

        def confirmed() -> dict[str, str]:
            """user id → the reference their conversation's last reply announced."""
            found: dict[str, str] = {}
            for customer in customers:
                replies = slack.posts_to(customer.channel)
                match = TICKET_OPENED.search(text_of(replies[-1])) if replies else None
                if match:
                    found[customer.user_id] = match.group(1)
            return found

        killed = asyncio.Event()

        async def staggered(index: int, customer: Customer) -> None:
            await asyncio.sleep(index * 0.05)
            await converse(victim, slack, customer, killed)

        load = [asyncio.create_task(staggered(i, c)) for i, c in enumerate(customers)]
        started = time.monotonic()

        async def enough() -> bool:
            return len(confirmed()) >= kill_after or all(task.done() for task in load)

        await wait_until(enough, 30, f"{kill_after} tickets confirmed", interval=0.005)
        await victim.kill()
        killed.set()
        killed_at = time.monotonic() - started
        await asyncio.gather(*load)
        confirmed_at_kill = len(confirmed())
        tickets_at_kill = int(await db.scalar("SELECT count(*) FROM requests WHERE kind = 'service_ticket'"))
        # A message whose turn the kill cut off never gets its reply (Slack had its ack): that conversation's lease
        # stays until it runs out (30 s), so its customer is left alone here. Everyone else carries on.
        cut = [c for c in customers if c.sent > len(slack.posts_to(c.channel))]
        carry_on = [c for c in customers if c not in cut and c.user_id not in confirmed()]

        survivor = await world.start_process()
        restarted = time.monotonic()
        await asyncio.gather(*(converse(survivor, slack, c, asyncio.Event()) for c in carry_on))

        async def drained() -> bool:
            return await db.outbox_unsent() == 0 and await db.deliveries_pending() == 0

        await wait_until(drained, 60, "outbox and Slack deliveries drained after the restart", interval=0.2)
        drained_in = time.monotonic() - restarted
        assert await survivor.healthy()

        rows = await db.rows(
            "SELECT r.reference, a.email FROM requests r JOIN accounts a ON a.id = r.requester_account_id "
            "WHERE r.kind = 'service_ticket' ORDER BY r.id"
        )
        by_email: dict[str, list[str]] = {}
        for row in rows:
            by_email.setdefault(row.email, []).append(row.reference)
        said = confirmed()
        unconfirmed = [c.user_id for c in customers if c.user_id not in said and by_email.get(c.email)]
        doubled = {email: refs for email, refs in by_email.items() if len(refs) > 1}
        triage = [text_of(c) for c in slack.posts_to(TRIAGE)]
        triage_missing = [ref for refs in by_email.values() for ref in refs if not any(ref in t for t in triage)]
        triage_repeated = sum(1 for refs in by_email.values() for ref in refs if sum(ref in t for t in triage) > 1)
        partial_turns = 0
        for customer in customers:
            events = await db.rows(
                "SELECT event FROM conversation_events WHERE sender_id = :sender ORDER BY seq",
                sender=f"T0HOME:{customer.channel}:-:{customer.user_id}",
            )
            turns = turns_of([dict(row.event) for row in events])
            partial_turns += sum(1 for turn in turns if turn[-1].get("name") != "action_listen")
        figure(
            f"SIGKILL after {killed_at:.2f} s of {count} concurrent DM ticket conversations on 1 process "
            f"({confirmed_at_kill} tickets confirmed, {tickets_at_kill} in the database, {len(cut)} turns cut) → "
            f"restart; {len(carry_on)} conversations carried on → {len(said)} confirmed ST-… replies, "
            f"{len(rows)} tickets, {len(doubled)} conversations with two, {len(unconfirmed)} filed without the "
            f"confirming reply, {partial_turns} partial turns stored; outbox drained {drained_in:.1f} s after the "
            f"restart (0 unsent events, 0 pending deliveries; {len(triage)} triage posts, {triage_repeated} repeated)"
        )
        for customer in customers:
            if customer.user_id in said:
                assert by_email.get(customer.email) == [said[customer.user_id]], customer
        assert not doubled
        assert partial_turns == 0
        assert all(c.user_id in said for c in carry_on), [c for c in carry_on if c.user_id not in said]
        assert not triage_missing, f"tickets never announced in triage: {triage_missing}"
        assert 0 < confirmed_at_kill < count, "the kill did not land in the middle of the load"
