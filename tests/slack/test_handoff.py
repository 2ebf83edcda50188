"""Talking to a person over Slack (issue 13 §7): what the customer reads, and the card support gets.

A verified customer's handoff is an administrative request (topic `handoff`) whose triage card says so and
carries the conversation; an impostor from an unverified workspace files nothing for any organization: support
gets a card with their Slack user id and their own words, and they see nothing of the organization whose email
their profile shows.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from bot.slack.ingress.context import Conversation
from portal.adapters import tables
from portal.services.handoff import HANDOFF_EVENT
from tests.engine.test_filing_keys import tracker_write_fails
from tests.slack.test_trust import EVIL, EXTRA_USERS, IMPOSTOR, Trust, sees_nothing_of_voltway
from tests.support.harness import TRIAGE, Harness


@pytest.fixture
async def desk(slack: Harness) -> Trust:
    """test_trust's harness: its users (the impostor of an unlinked workspace), the notifier and the sender."""
    slack.fake.users.update(EXTRA_USERS)
    return Trust.of(slack)


def triage_posts(h: Harness) -> list[str]:
    return [json.dumps(c.args) for c in h.fake.calls_to("chat.postMessage") if c.ok and c.args.get("channel") == TRIAGE]


async def test_a_verified_customer_asking_for_a_person_gets_a_handoff_request_in_triage(desk: Trust) -> None:
    t, h = desk, desk.h
    await t.dm("U0CARLA", "my charger 10001R002 keeps stopping after a minute")
    answer = await t.dm("U0CARLA", "I want to talk to a human")
    assert "AR-000001" in answer and "business hours" in answer
    await t.deliver()
    [card] = [p for p in triage_posts(h) if "AR-000001" in p]
    assert "Asked to talk to a person" in card
    assert "keeps stopping after a minute" in card  # the conversation so far, for whoever picks it up
    async with h.portal.engine.connect() as conn:
        topic = await conn.scalar(select(tables.requests.c.topic).where(tables.requests.c.reference == "AR-000001"))
    assert topic == "handoff"


async def test_an_unverified_person_can_ask_for_a_person_and_files_nothing_for_any_organization(desk: Trust) -> None:
    t, h = desk, desk.h
    answer = await t.dm(IMPOSTOR, "can I talk to a real person please", team=EVIL)
    sees_nothing_of_voltway(answer)
    assert "asked the support team to get in touch" in answer
    assert "AR-" not in answer
    await t.deliver()
    async with h.portal.engine.connect() as conn:
        assert (await conn.execute(select(tables.requests.c.reference))).all() == []
    [card] = [p for p in triage_posts(h) if "asks to talk to support" in p]
    assert IMPOSTOR in card and EVIL in card
    assert "can I talk to a real person please" in card
    sees_nothing_of_voltway(card)  # only their Slack ids and their own words: not the email their profile shows


async def test_a_handoff_card_names_the_language_the_person_wrote_in(desk: Trust) -> None:
    t, h = desk, desk.h
    await t.dm(IMPOSTOR, "hallo, ik wil graag met een medewerker van support praten alsjeblieft", team=EVIL)
    await t.deliver()
    [card] = [p for p in triage_posts(h) if "asks to talk to support" in p]
    assert "*Language:* Dutch" in card
    assert "ik wil graag met een medewerker van support praten" in card  # as written, never translated


async def test_a_handoff_without_an_account_run_again_posts_one_triage_card(desk: Trust) -> None:
    """The same turn run again after it told support but could not be stored (the database failed, the process
    died, the inbox offers its delivery again): support gets one card, and one event is recorded."""
    t, h = desk, desk.h
    conversation = Conversation(EVIL, IMPOSTOR, "D0EVIL", None, "im")
    metadata = {**conversation.metadata(), "delivery": "ev:Ev0HANDOFF"}
    await h.engine.handle(conversation.sender_id, "hello", conversation.metadata())
    with tracker_write_fails(h.portal), pytest.raises(SQLAlchemyError):
        await h.engine.turn(conversation.sender_id, "can I talk to a real person please", metadata)
    reply = await h.engine.turn(conversation.sender_id, "can I talk to a real person please", metadata)
    assert "asked the support team to get in touch" in " ".join(m.text for m in reply.messages)
    await t.deliver()
    cards = [p for p in triage_posts(h) if "asks to talk to support" in p]
    async with h.portal.engine.connect() as conn:
        events = await conn.scalar(select(func.count()).where(tables.outbox.c.name == HANDOFF_EVENT))
    assert (len(cards), events) == (1, 1)
