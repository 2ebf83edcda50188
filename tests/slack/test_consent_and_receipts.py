"""Nothing stalls unseen at consent, and a customer who files in a channel keeps a record (issue 16 §4, §6).

On loopback, on both databases: a transfer whose Service Operator nobody in Slack can answer for goes to support
at once; one that waits gets one reminder, once, whatever the restarts and processes; a request filed in a channel
leaves its requester a DM receipt, one filed in a DM does not.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bot.slack.background import check_waiting_transfers
from bot.slack.messages.modals import FORM_CALLBACK
from bot.slack.messages.receipts import first_line
from bot.slack.messages.triage import SYSTEM_REASONS
from portal import services
from portal.adapters import tables
from portal.domain.actors import Agent
from portal.domain.transfers import UNREACHABLE_REASON
from portal.languages.texts import texts
from portal.services.transfers import consent_reminder_key
from tests.conftest import FrozenClock
from tests.slack.test_agent_journeys import Desk, ben_requests_a_transfer, has_buttons, sent
from tests.support import payloads
from tests.support.harness import AGENT, TRIAGE, Harness, button, text_of
from tests.support.journeys import TRANSFER_REASON, press_button

CHANNEL = "C0SHARED"
REMIND_DAYS, EXPIRY_DAYS = 3, 14


@pytest.fixture
async def desk(slack: Harness) -> Desk:
    return Desk.of(slack)


async def reminders_recorded(h: Harness, reference: str) -> int:
    async with h.portal.engine.connect() as conn:
        count = await conn.scalar(
            select(func.count())
            .select_from(tables.outbox)
            .where(tables.outbox.c.origin_key == consent_reminder_key(reference))
        )
    return int(count or 0)


# --- §4: consent reminders ------------------------------------------------------------------------------------


async def test_a_waiting_transfer_reminds_its_operator_once_across_restarts_and_processes(
    desk: Desk, clock: FrozenClock
) -> None:
    d, h = desk, desk.h
    reference = await ben_requests_a_transfer(d)
    await d.deliver()
    [ask] = sent(h, "chat.postMessage", "U0ANNA")

    clock.advance(timedelta(days=REMIND_DAYS) - timedelta(hours=1))
    await check_waiting_transfers(h.portal, EXPIRY_DAYS, REMIND_DAYS)
    await d.deliver()
    assert sent(h, "chat.postMessage", "U0ANNA") == [ask]  # not yet

    clock.advance(timedelta(hours=2))
    # Two processes check at the same moment: the database keeps one reminder.
    await asyncio.gather(
        check_waiting_transfers(h.portal, EXPIRY_DAYS, REMIND_DAYS),
        check_waiting_transfers(h.portal, EXPIRY_DAYS, REMIND_DAYS),
    )
    await d.deliver()
    [_, reminder] = sent(h, "chat.postMessage", "U0ANNA")
    assert "A reminder" in text_of(reminder) and reference in text_of(reminder)
    assert "VoltWay Resellers BV" in text_of(reminder) and "ACE0100002" in text_of(reminder)
    assert button(reminder, "Consent")[2] == reference  # she can answer from the reminder too

    # A restart, a day later: the reminder is recorded, so nothing is sent again.
    clock.advance(timedelta(days=1))
    await check_waiting_transfers(h.portal, EXPIRY_DAYS, REMIND_DAYS)
    await d.deliver()
    assert len(sent(h, "chat.postMessage", "U0ANNA")) == 2
    assert await reminders_recorded(h, reference) == 1

    # She answers: the consent DM itself says so, in place; the transfer goes on as before.
    await d.press("U0ANNA", "D0ANNA", "consent_yes", reference, team="T0VOLT")
    await d.status_becomes(reference, "awaiting_support")
    await d.deliver()
    [answered] = sent(h, "chat.update", "DU0ANNA")
    assert answered.args["ts"] == ask.response["ts"]
    assert "consented by anna@voltway.example" in text_of(answered) and not has_buttons(answered)


async def test_an_answered_or_expired_transfer_gets_no_reminder(desk: Desk, clock: FrozenClock) -> None:
    d, h = desk, desk.h
    reference = await ben_requests_a_transfer(d)
    await d.deliver()
    await d.press("U0ANNA", "D0ANNA", "consent_yes", reference, team="T0VOLT")
    await d.status_becomes(reference, "awaiting_support")
    clock.advance(timedelta(days=REMIND_DAYS + 1))
    await check_waiting_transfers(h.portal, EXPIRY_DAYS, REMIND_DAYS)
    await d.deliver()
    assert len(sent(h, "chat.postMessage", "U0ANNA")) == 1  # the consent DM only
    assert await reminders_recorded(h, reference) == 0


async def test_no_reminder_when_reminders_are_off(desk: Desk, clock: FrozenClock) -> None:
    d, h = desk, desk.h
    reference = await ben_requests_a_transfer(d)
    await d.deliver()
    clock.advance(timedelta(days=REMIND_DAYS + 1))
    await check_waiting_transfers(h.portal, EXPIRY_DAYS, 0)
    await d.deliver()
    assert len(sent(h, "chat.postMessage", "U0ANNA")) == 1
    assert await reminders_recorded(h, reference) == 0


# --- §4: the Service Operator cannot be reached --------------------------------------------------------------


async def test_a_transfer_whose_operator_nobody_can_answer_for_goes_to_support_at_once(desk: Desk) -> None:
    d, h = desk, desk.h
    # VoltWay's only account is of nobody Slack knows: no consent request can reach anyone.
    async with h.portal.engine.begin() as conn:
        await conn.execute(
            update(tables.accounts)
            .where(tables.accounts.c.email == "anna@voltway.example")
            .values(email="anna@elsewhere.example")
        )
    reference = await ben_requests_a_transfer(d)
    await d.deliver()

    detail = await services.get_request(h.portal.uow(), Agent(AGENT), reference)
    assert detail.summary.status == "awaiting_support"
    last = detail.history[-1]
    assert (last.from_status, last.to_status, last.actor, last.reason) == (
        "awaiting_operator",
        "awaiting_support",
        "system",
        UNREACHABLE_REASON,
    )
    assert sent(h, "chat.postMessage", "U0ANNA") == []  # nobody was asked
    # The triage card says so, in place, and support can decide now.
    [card] = sent(h, "chat.postMessage", TRIAGE)
    final = [c for c in h.fake.calls_to("chat.update") if c.ok and c.args["channel"] == TRIAGE][-1]
    assert final.args["ts"] == card.response["ts"]
    assert "cannot be reached in Slack" in json.dumps(final.args["blocks"])
    assert "consented" not in text_of(final)  # nobody did
    assert button(final, "Approve")[2] == reference
    # ben learns that it went to support (after his receipt), and the shared thread only that there is news.
    [_, told] = sent(h, "chat.postMessage", "U0BEN")
    assert reference in told.args["text"] and "support team" in told.args["text"]
    notes = [c for c in sent(h, "chat.postMessage", CHANNEL) if c.args.get("thread_ts")]
    assert any("There's an update on" in c.args["text"] for c in notes)
    assert not any("VoltWay" in c.args["text"] or "Slack" in c.args["text"] for c in notes)

    # Another notifier round (a restart, a second process) changes nothing more.
    await d.deliver()
    assert len(sent(h, "chat.postMessage", "U0BEN")) == 2
    assert (await services.get_request(h.portal.uow(), Agent(AGENT), reference)).history[-1].reason == (
        UNREACHABLE_REASON
    )


async def test_a_reachable_operator_is_asked_and_the_transfer_waits(desk: Desk) -> None:
    d, h = desk, desk.h
    reference = await ben_requests_a_transfer(d)
    await d.deliver()
    detail = await services.get_request(h.portal.uow(), Agent(AGENT), reference)
    assert detail.summary.status == "awaiting_operator"
    assert len(sent(h, "chat.postMessage", "U0ANNA")) == 1


def test_the_reason_the_triage_card_translates_is_the_one_the_portal_records() -> None:
    assert UNREACHABLE_REASON in SYSTEM_REASONS


# --- §6: a DM receipt for what was filed in a channel ----------------------------------------------------------


async def carla_files_in_a_channel(d: Desk, description: str) -> None:
    h = d.h
    await h.sender.event(payloads.app_mention("U0CARLA", "<@UBOT> I have a question", CHANNEL, payloads.next_ts()))
    [categories] = await h.fake.wait_for("chat.postEphemeral")
    await press_button(h, "U0CARLA", categories, "A service request on a charger", CHANNEL)
    [opened] = await h.fake.wait_for("views.open")
    answer = await d.submit(
        "U0CARLA",
        FORM_CALLBACK,
        opened.args["view"],
        {
            "serial": payloads.static_select_value("10001R001"),
            "description": payloads.plain_text_value(description),
        },
    )
    assert "ST-000001" in json.dumps(answer["view"])


async def test_a_request_filed_in_a_channel_leaves_a_receipt_in_the_requesters_dm(desk: Desk) -> None:
    d, h = desk, desk.h
    await carla_files_in_a_channel(d, "The display stays dark since Monday\nIt started after a power cut last week")
    await d.deliver()
    [receipt] = sent(h, "chat.postMessage", "U0CARLA")
    text = receipt.args["text"]
    assert "ST-000001" in text and "service ticket" in text
    assert "10001R001" in text
    assert "The display stays dark since Monday" in text and "power cut" not in text  # the first line only
    assert "open" in text.lower()
    assert "/support status ST-000001" in text and "Home tab" in text
    # Delivered again (a restart, a second notifier): still one receipt.
    await d.deliver()
    assert len(sent(h, "chat.postMessage", "U0CARLA")) == 1


async def test_a_transfer_receipt_names_its_chargers_and_status(desk: Desk) -> None:
    d, h = desk, desk.h
    reference = await ben_requests_a_transfer(d)
    await d.deliver()
    [receipt] = sent(h, "chat.postMessage", "U0BEN")
    text = receipt.args["text"]
    assert reference in text and "management transfer" in text and "ACE0100002" in text
    assert TRANSFER_REASON in text
    assert f"/support status {reference}" in text


async def test_a_request_filed_in_a_dm_gets_no_second_dm(desk: Desk) -> None:
    d, h = desk, desk.h
    await h.sender.event(payloads.message_im("U0CARLA", "I need a repair on a charger", "D0CARLA", payloads.next_ts()))
    await h.fake.wait_for("chat.postMessage")
    await h.sender.event(payloads.message_im("U0CARLA", "10001R002", "D0CARLA", payloads.next_ts()))
    await h.fake.wait_for("chat.postMessage", count=2)
    await h.sender.event(
        payloads.message_im("U0CARLA", "Socket 2 will not lock the cable", "D0CARLA", payloads.next_ts())
    )
    [*_, summary] = await h.fake.wait_for("chat.postMessage", count=3)
    await press_button(h, "U0CARLA", summary, "Submit", "D0CARLA")
    [*_, filed] = await h.fake.wait_for("chat.postMessage", count=4)
    assert "ST-000001" in text_of(filed)
    await d.deliver()
    assert sent(h, "chat.postMessage", "U0CARLA") == []
    assert not any("For your records" in c.args.get("text", "") for c in h.fake.calls_to("chat.postMessage"))


def test_the_receipt_repeats_a_bounded_first_line() -> None:
    assert first_line("\n\n  First words  \nsecond") == "First words"
    long = first_line("x" * 500)
    assert len(long) == 200 and long.endswith("…")
    assert first_line("") == ""


# --- in the reader's language ---------------------------------------------------------------------------------

BEN = "ben@greenfleet.example"
IN_CHANNEL = {
    "slack_user_id": "U0BEN",
    "slack_team_id": "T0HOME",
    "channel_id": CHANNEL,
    "thread_ts": "1700000000.000100",
    "surface": "channel",
}


def set_locale(h: Harness, user: str, locale: str) -> None:
    h.fake.users[user] = {**h.fake.users[user], "locale": locale}  # a new entry: the cast's dicts are shared


async def test_receipt_reminder_and_unreachable_news_are_each_in_their_readers_language(
    desk: Desk, clock: FrozenClock
) -> None:
    d, h = desk, desk.h
    set_locale(h, "U0ANNA", "fr-FR")  # the Service Operator's person reads French
    origin = {**IN_CHANNEL, "language": "de"}  # ben asked in German
    transfer = await services.request_transfer(
        h.portal.uow(), BEN, ["ACE0100002"], "Von VoltWay gekauft", terms_accepted=True, origin=origin
    )
    await d.deliver()
    de, fr = texts("de"), texts("fr")
    [receipt] = sent(h, "chat.postMessage", "U0BEN")
    assert receipt.args["text"].startswith(
        de.gettext("For your records: your {kind} {reference} has been filed.").format(
            kind=de.gettext("management transfer"), reference=transfer.reference
        )
    )
    assert (
        de.gettext("*Status*: {status}").format(
            status=de.gettext("waiting for the current Service Operator to consent")
        )
        in receipt.args["text"]
    )

    clock.advance(timedelta(days=REMIND_DAYS, hours=1))
    await check_waiting_transfers(h.portal, EXPIRY_DAYS, REMIND_DAYS)
    await d.deliver()
    [_, reminder] = sent(h, "chat.postMessage", "U0ANNA")
    assert reminder.args["text"] == fr.gettext(
        "Reminder: management transfer {reference} still needs your answer"
    ).format(reference=transfer.reference)
    assert "[" not in reminder.args["text"] and "Reminder" not in text_of(reminder)  # French through and through


async def test_the_requester_hears_in_their_language_that_it_went_to_support(desk: Desk) -> None:
    d, h = desk, desk.h
    async with h.portal.engine.begin() as conn:
        await conn.execute(
            update(tables.accounts)
            .where(tables.accounts.c.email == "anna@voltway.example")
            .values(email="anna@elsewhere.example")
        )
    transfer = await services.request_transfer(
        h.portal.uow(),
        BEN,
        ["ACE0100002"],
        "Gekocht bij VoltWay",
        terms_accepted=True,
        origin={**IN_CHANNEL, "language": "nl"},
    )
    await d.deliver()
    nl = texts("nl")
    told = sent(h, "chat.postMessage", "U0BEN")[-1]
    assert told.args["text"] == nl.gettext(
        "Nobody of the current Service Operator of your chargers can be reached in Slack to consent, so your "
        "management transfer {reference} has gone straight to our support team, who will decide on it. You don't "
        "need to do anything."
    ).format(reference=transfer.reference)


async def test_an_operator_slack_cannot_look_up_right_now_is_not_unreachable(desk: Desk) -> None:
    """A passing users.lookupByEmail failure is "unknown", not "nobody": the transfer keeps waiting for consent."""
    d, h = desk, desk.h
    h.fake.fail_next("users.lookupByEmail", status=500, times=10)
    transfer = await services.request_transfer(
        h.portal.uow(), BEN, ["ACE0100002"], TRANSFER_REASON, terms_accepted=True, origin=IN_CHANNEL
    )
    await d.deliver()
    detail = await services.get_request(h.portal.uow(), Agent(AGENT), transfer.reference)
    assert detail.summary.status == "awaiting_operator"
