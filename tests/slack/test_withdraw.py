"""Withdrawing a request over Slack (issue 13 §8): `/support withdraw REF`, the buttons, the triage card, refusals.

Signed requests into the app on loopback, the fake Web API recording every call; the notifier and the sender run
by hand between steps, as `chargedesk run` does in the background. SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.slack.messages.blocks import PRESS
from portal import services
from portal.adapters import tables
from portal.domain.actors import Agent
from tests.support import payloads
from tests.support.fake_slack import Call
from tests.support.harness import TRIAGE, Harness
from tests.support.journeys import Office, support_command

CHANNEL = "C0SHARED"
CARLA, BEN, ANNA = "carla@citycharge.example", "ben@greenfleet.example", "anna@voltway.example"
CARLA_DM = {"surface": "im", "channel_id": "D0CARLA", "slack_user_id": "U0CARLA", "slack_team_id": "T0HOME"}


def shown(message: dict[str, Any]) -> str:
    return " ".join(b["text"]["text"] for b in message.get("blocks") or [] if b.get("type") == "section")


def titles(message: dict[str, Any]) -> list[str]:
    return [e["text"]["text"] for b in message.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]]


async def press(h: Harness, user: str, channel: str, message: dict[str, Any], title: str) -> None:
    """Press the button titled `title` in an (ephemeral) message the app sent `user`."""
    block_id, action_id, value = next(
        (b["block_id"], e["action_id"], e["value"])
        for b in message.get("blocks") or []
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == title
    )
    status, _ = await h.sender.interaction(
        payloads.block_actions(
            user, "T0HOME", channel, payloads.next_ts(), action_id, value=value, block_id=block_id, is_ephemeral=True
        )
    )
    assert status == 200


async def deliver(h: Harness) -> None:
    await Office.of(h).deliver()


def sent(h: Harness, method: str, channel: str) -> list[Call]:
    return [c for c in h.fake.calls_to(method) if c.ok and c.args.get("channel") == channel]


async def status_of(h: Harness, reference: str) -> str:
    return (await services.get_request(h.portal.uow(), Agent("U0AGENT"), reference)).summary.status


async def test_support_withdraw_asks_then_the_yes_button_withdraws_and_the_triage_card_loses_its_buttons(
    slack: Harness,
) -> None:
    h = slack
    ticket = await services.open_service_ticket(
        h.portal.uow(), CARLA, "10001R002", "Socket 2 stops after a minute", origin=CARLA_DM
    )
    await deliver(h)
    [card] = sent(h, "chat.postMessage", TRIAGE)
    assert any(b["type"] == "actions" for b in card.args["blocks"])

    # Without a reason: how to give one, and nothing changes (support wants to know why).
    usage = await support_command(h, "U0CARLA", f"withdraw {ticket.reference.lower()}")
    assert "tell support why after the reference, for example `withdraw ST-000001 it works again`" in shown(usage)
    assert "Nothing was changed." in shown(usage)
    assert titles(usage) == []
    assert await status_of(h, "ST-000001") == "open"

    question = await support_command(
        h, "U0CARLA", f"withdraw {ticket.reference.lower()} it charges again after a reset"
    )
    assert "Withdraw your service ticket *ST-000001* (10001R002), because “it charges again after a reset”?" in (
        shown(question)
    )
    assert titles(question) == ["Yes, withdraw ST-000001", "No, keep it"]
    assert await status_of(h, "ST-000001") == "open"  # asking changes nothing

    await press(h, "U0CARLA", CHANNEL, question, "Yes, withdraw ST-000001")
    [done] = await h.fake.wait_for(
        "chat.postEphemeral", where=lambda c: c.args.get("user") == "U0CARLA" and "withdrawn" in str(c.args)
    )
    assert "ST-000001" in done.args["text"] and done.args["channel"] == CHANNEL  # privately, where she asked
    assert await status_of(h, "ST-000001") == "withdrawn"
    async with h.portal.engine.connect() as conn:
        reason = await conn.scalar(
            select(tables.request_transitions.c.reason).where(tables.request_transitions.c.to_status == "withdrawn")
        )
    assert reason == "it charges again after a reset"  # support learns why

    h.fake.clear()
    await deliver(h)
    [updated] = sent(h, "chat.update", TRIAGE)  # the card, in place
    blocks = updated.args["blocks"]
    assert not any(b["type"] == "actions" for b in blocks)  # nothing left to decide
    assert "withdrawn" in updated.args["text"]
    assert "Withdrawn by carla@citycharge.example" in json.dumps(blocks)
    [told] = sent(h, "chat.postMessage", "U0CARLA")
    assert "service ticket ST-000001 is now withdrawn" in told.args["text"]
    assert "withdrawn by" not in told.args["text"]  # she did it herself


async def test_no_keeps_it_and_a_decided_request_cannot_be_withdrawn(slack: Harness) -> None:
    h = slack
    await services.open_service_ticket(h.portal.uow(), CARLA, "10001R002", "Socket 2 stops after a minute")
    question = await support_command(h, "U0CARLA", "withdraw ST-000001 not needed")
    await press(h, "U0CARLA", CHANNEL, question, "No, keep it")
    [kept] = await h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == "U0CARLA")
    assert "nothing was withdrawn" in kept.args["text"]
    assert await status_of(h, "ST-000001") == "open"

    await services.set_ticket_status(h.portal.uow(), Agent("U0AGENT"), "ST-000001", "resolved")
    answer = await support_command(h, "U0CARLA", "withdraw ST-000001")
    assert "ST-000001 is already resolved, so it can't be withdrawn any more." in shown(answer)
    assert titles(answer) == []
    # The old question's Yes button, pressed now, changes nothing either: the portal checks again.
    await press(h, "U0CARLA", CHANNEL, question, "Yes, withdraw ST-000001")
    await h.fake.wait_for(
        "chat.postEphemeral", where=lambda c: c.args.get("user") == "U0CARLA" and "already resolved" in str(c.args)
    )
    assert await status_of(h, "ST-000001") == "resolved"


async def test_unknown_and_someone_elses_references_get_one_answer_and_are_audited(slack: Harness) -> None:
    h = slack
    await services.open_service_ticket(h.portal.uow(), CARLA, "10001R002", "Socket 2 stops after a minute")
    theirs = shown(await support_command(h, "U0BEN", "withdraw ST-000001"))
    unknown = shown(await support_command(h, "U0BEN", "withdraw ST-000999"))
    assert theirs == unknown.replace("ST-000999", "ST-000001")
    assert "There is no request ST-000001 that you can see" in theirs
    entries = await services.audit_entries(h.portal.uow())
    assert [(e.actor, e.action, e.reference, e.outcome) for e in entries] == [
        ("slack:U0BEN", "withdraw", "ST-000001", "UnknownRequest"),
        ("slack:U0BEN", "withdraw", "ST-000999", "UnknownRequest"),
    ]
    # A forged "Yes" payload through the conversation: the same answer, audited, nothing changed.
    forged = '/withdraw_request{"reference": "ST-000001", "withdraw_answer": "yes"}'
    await h.sender.event(payloads.message_im("U0BEN", forged, "D0BEN", payloads.next_ts()))
    [said] = await h.fake.wait_for("chat.postMessage", where=lambda c: c.args.get("channel") == "D0BEN")
    assert "can't find a request ST-000001 that you can see" in said.args["text"]
    assert [e.outcome for e in await services.audit_entries(h.portal.uow())][-1] == "UnknownRequest"
    assert await status_of(h, "ST-000001") == "open"


async def test_the_service_operator_sees_a_transfer_but_may_not_withdraw_it(slack: Harness) -> None:
    h = slack
    await services.request_transfer(h.portal.uow(), BEN, ["ACE0100002"], "bought it in March", terms_accepted=True)
    # anna acts from VoltWay's Slack Connect workspace, which is linked: /support is ours, so she mentions us.
    mention = payloads.app_mention(
        "U0ANNA", "<@UBOT> withdraw MT-000001", CHANNEL, payloads.next_ts(), user_team="T0VOLT"
    )
    await h.sender.event(mention)
    [said] = await h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == "U0ANNA")
    assert "Only the person who asked for MT-000001, or someone of their organization" in said.args["text"]
    [entry] = await services.audit_entries(h.portal.uow())
    assert (entry.actor, entry.reference, entry.outcome) == ("slack:U0ANNA", "MT-000001", "NotRequester")
    assert await status_of(h, "MT-000001") == "awaiting_operator"


async def test_without_a_reference_the_person_picks_from_their_open_requests(slack: Harness) -> None:
    h = slack
    answer = await support_command(h, "U0DAVE", "withdraw")
    assert titles(answer) == ["Choose a request to withdraw"]
    await services.open_administrative_request(h.portal.uow(), "dave@newcustomer.example", "Link me to GreenFleet")
    await press(h, "U0DAVE", "D0DAVE", answer, "Choose a request to withdraw")
    [which] = await h.fake.wait_for("chat.postMessage", where=lambda c: c.args.get("channel") == "D0DAVE")
    assert "Which request would you like to withdraw?" in which.args["text"]
    assert [e["text"]["text"] for b in which.args["blocks"] if b["type"] == "actions" for e in b["elements"]] == [
        "administrative request AR-000001",
        "Keep them all",
    ]


@pytest.mark.parametrize("user", ["U0NOMAIL", "U0GHOST"])
async def test_a_person_without_a_known_account_is_told_why(slack: Harness, user: str) -> None:
    answer = shown(await support_command(slack, user, "withdraw ST-000001"))
    if user == "U0NOMAIL":
        assert "Slack doesn't share the email address" in answer
    else:
        assert "can't find a support portal account" in answer


async def test_a_reason_too_long_for_the_button_and_a_sentence_after_withdraw(slack: Harness) -> None:
    h = slack
    await services.open_service_ticket(h.portal.uow(), CARLA, "10001R002", "Socket 2 stops after a minute")
    answer = await support_command(h, "U0CARLA", "withdraw ST-000001 " + "because " * 50)
    assert "Please keep the reason under 300 characters. Nothing was changed." in shown(answer)
    assert titles(answer) == []
    # Words without a reference are no query: the conversation asks which request (not an "unknown request").
    which = await support_command(h, "U0CARLA", "withdraw my ticket please")
    assert "There is no request" not in json.dumps(which)
    assert await status_of(h, "ST-000001") == "open"


async def test_the_app_home_withdraw_button_asks_in_the_persons_dm(slack: Harness) -> None:
    h = slack
    await services.open_service_ticket(h.portal.uow(), CARLA, "10001R002", "Socket 2 stops after a minute")
    await h.sender.event(payloads.app_home_opened("U0CARLA"))
    [published] = await h.fake.wait_for("views.publish")
    view = published.args["view"]
    block_id, action_id, value = next(
        (b["block_id"], e["action_id"], e["value"])
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == "Withdraw ST-000001"
    )
    status, _ = await h.sender.interaction(
        payloads.block_actions_in_view("U0CARLA", "T0HOME", "VHOME", "", action_id, value=value, block_id=block_id)
    )
    assert status == 200
    [question] = await h.fake.wait_for("chat.postMessage", where=lambda c: c.args.get("channel") == "DU0CARLA")
    assert "Withdraw your service ticket ST-000001 (10001R002)?" in question.args["text"]
    assert titles(question.args) == ["Yes, withdraw ST-000001", "No, keep it"]
    assert await status_of(h, "ST-000001") == "open"


async def test_a_colleague_withdraws_and_the_requester_learns_who(slack: Harness) -> None:
    h = slack
    ben_dm = {"surface": "im", "channel_id": "D0BEN", "slack_user_id": "U0BEN", "slack_team_id": "T0HOME"}
    await services.request_transfer(
        h.portal.uow(), BEN, ["ACE0100002"], "bought it in March", terms_accepted=True, origin=ben_dm
    )
    await services.withdraw_request(h.portal.uow(), "erin@greenfleet.example", "MT-000001")
    await deliver(h)
    told = [c for c in sent(h, "chat.postMessage", "U0BEN") if "MT-000001" in c.args["text"]]
    assert told[-1].args["text"] == (
        "Your management transfer MT-000001 is now cancelled (withdrawn). It was withdrawn by erin@greenfleet.example."
    )
    [card] = [c for c in sent(h, "chat.update", TRIAGE) if "MT-000001" in c.args["text"]][-1:]
    assert not any(b["type"] == "actions" for b in card.args["blocks"])


def action_ids(message: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in message.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]]


async def test_support_status_of_ones_own_open_request_offers_withdraw_and_a_forged_press_is_refused(
    slack: Harness,
) -> None:
    h = slack
    await services.open_service_ticket(h.portal.uow(), CARLA, "10001R002", "Socket 2 stops after a minute")
    await services.request_transfer(h.portal.uow(), BEN, ["ACE0100002"], "bought it in March", terms_accepted=True)
    status = await support_command(h, "U0CARLA", "status st-1")
    assert "*ST-000001*: service ticket" in shown(status)
    assert titles(status) == ["Withdraw ST-000001"]
    # The button of the App Home and of a confirmation: a press continues in the conversation, which asks first.
    assert [a.rpartition("_")[0] for a in action_ids(status)] == [PRESS]
    await press(h, "U0CARLA", CHANNEL, status, "Withdraw ST-000001")
    [question] = await h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == "U0CARLA")
    assert titles(question.args) == ["Yes, withdraw ST-000001", "No, keep it"]
    assert await status_of(h, "ST-000001") == "open"

    # ben, of another organization, presses carla's button (its value forged into his own message): refused as
    # unknown, audited, nothing changed.
    await press(h, "U0BEN", CHANNEL, status, "Withdraw ST-000001")
    [refused] = await h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == "U0BEN")
    assert "can't find a request ST-000001 that you can see" in refused.args["text"]
    assert titles(refused.args) == []
    entries = await services.audit_entries(h.portal.uow())
    assert [(e.actor, e.action, e.reference, e.outcome) for e in entries] == [
        ("slack:U0BEN", "withdraw", "ST-000001", "UnknownRequest")
    ]
    assert await status_of(h, "ST-000001") == "open"

    # Only where a press would be accepted: ben's own transfer yes, not for its charger's Service Operator (who
    # may see it), nor once support decided.
    assert titles(await support_command(h, "U0BEN", "status MT-000001")) == ["Withdraw MT-000001"]
    mention = payloads.app_mention(
        "U0ANNA", "<@UBOT> status MT-000001", CHANNEL, payloads.next_ts(), user_team="T0VOLT"
    )
    await h.sender.event(mention)
    [anna] = await h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == "U0ANNA")
    assert "MT-000001" in anna.args["text"] and titles(anna.args) == []
    await services.set_ticket_status(h.portal.uow(), Agent("U0AGENT"), "ST-000001", "resolved")
    assert titles(await support_command(h, "U0CARLA", "status ST-000001")) == []
