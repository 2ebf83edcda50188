"""A fault reaches the charger's Service Operator (issue 17 §2), end to end on loopback, on both databases.

ben (GreenFleet) reports a fault on a CityCharge charger; carla (CityCharge) gets the DM and opens the ticket from
it, or says it is not theirs any more; nobody reachable sends it to support. What each side learns is checked.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from bot.slack.messages.faults import FAULT_TICKET_CALLBACK
from bot.slack.messages.modals import FORM_CALLBACK
from portal import services
from portal.adapters import tables
from portal.demo import CITYCHARGE, GREENFLEET
from portal.domain.actors import Agent
from tests.slack.test_agent_journeys import Desk, has_buttons, sent
from tests.support import payloads
from tests.support.fake_slack import Call
from tests.support.harness import TRIAGE, Harness, button, inputs, text_of
from tests.support.journeys import press_button, support_command

BEN, CARLA = "ben@greenfleet.example", "carla@citycharge.example"
SYMPTOM = "Display stays dark, no charging on socket 1"


@pytest.fixture
async def desk(slack: Harness) -> Desk:
    return Desk.of(slack)


async def ben_reports(d: Desk, *, share: bool) -> str:
    report = await services.report_fault(d.h.portal.uow(), BEN, "10001R002", SYMPTOM, share_identity=share)
    await d.deliver()
    return report.reference


async def carla_opens_the_ticket(d: Desk, reference: str) -> str:
    [dm] = sent(d.h, "chat.postMessage", "U0CARLA")
    assert button(dm, "Open a service ticket")[2] == reference
    _, action_id, value = button(dm, "Open a service ticket")
    await d.press("U0CARLA", "D0CARLA", action_id, value)
    [opened] = await d.h.fake.wait_for("views.open", where=is_fault_ticket_modal)
    view = opened.args["view"]
    assert inputs(view)["description"]["initial_value"] == SYMPTOM
    assert "10001R002" in json.dumps(view["blocks"])
    answer = await d.submit("U0CARLA", view["callback_id"], view, {"description": payloads.plain_text_value(SYMPTOM)})
    assert answer["response_action"] == "update"
    assert "ST-000001" in json.dumps(answer["view"])
    await d.deliver()
    [updated] = sent(d.h, "chat.update", "DU0CARLA")  # her DM, in place: which ticket, no buttons left
    assert "service ticket ST-000001 was opened" in updated.args["text"] and not has_buttons(updated)
    return "ST-000001"


def is_fault_ticket_modal(call: Call) -> bool:
    return bool(call.ok and call.args.get("view", {}).get("callback_id") == FAULT_TICKET_CALLBACK)


async def bens_status(d: Desk) -> str:
    answer = await support_command(d.h, "U0BEN", "status", channel="D0BEN")
    return json.dumps(answer)


@pytest.mark.parametrize("share", [False, True])
async def test_the_operator_gets_the_dm_and_opens_the_ticket(desk: Desk, share: bool) -> None:
    d = desk
    reference = await ben_reports(d, share=share)
    [dm] = sent(d.h, "chat.postMessage", "U0CARLA")
    assert has_buttons(dm) and "10001R002" in text_of(dm) and SYMPTOM in text_of(dm)
    # The reporter's identity only with consent.
    assert (BEN in text_of(dm)) is share
    assert (GREENFLEET in text_of(dm)) is share
    assert "U0BEN" not in json.dumps(dm.args)
    ticket = await carla_opens_the_ticket(d, reference)
    detail = await services.get_request(d.h.portal.uow(), Agent("U0AGENT"), ticket)
    assert detail.summary.serials == ("10001R002",)
    notice = await services.fault_notice(d.h.portal.uow(), reference)
    assert notice is not None and (notice.status, notice.ticket_reference) == ("ticket_opened", ticket)
    # ben sees that the operator opened a service ticket, never who, nor the ticket.
    status = await bens_status(d)
    assert reference in status and "the Service Operator opened a service ticket" in status
    assert CITYCHARGE not in status and "carla" not in status and ticket not in status
    for call in d.h.fake.calls:
        if call.args.get("channel") in ("U0BEN", "D0BEN"):
            assert CITYCHARGE not in json.dumps(call.args) and "carla" not in json.dumps(call.args)


async def test_not_ours_goes_to_triage_and_the_dm_loses_its_buttons(desk: Desk) -> None:
    d = desk
    reference = await ben_reports(d, share=False)
    [dm] = sent(d.h, "chat.postMessage", "U0CARLA")
    _, action_id, value = button(dm, "Not ours any more")
    await d.press("U0CARLA", "D0CARLA", action_id, value)
    [thanks] = await d.h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == "U0CARLA")
    assert "check the charger's records" in thanks.args["text"]
    await d.deliver()
    [card] = sent(d.h, "chat.postMessage", TRIAGE)
    assert reference in card.args["text"] and "not theirs any more" in card.args["text"]
    [updated] = sent(d.h, "chat.update", "DU0CARLA")  # her DM, updated in place
    assert not has_buttons(updated) and "not yours any more" in updated.args["text"]
    status = await bens_status(d)
    assert "support is looking at it" in status and CITYCHARGE not in status


async def test_nobody_of_the_operator_reachable_sends_the_report_to_support(desk: Desk) -> None:
    d = desk
    async with d.h.portal.engine.begin() as conn:
        await conn.execute(
            update(tables.accounts).where(tables.accounts.c.email == CARLA).values(email="carla@offline.example")
        )
    reference = await ben_reports(d, share=False)
    assert sent(d.h, "chat.postMessage", "U0CARLA") == []
    await d.deliver()
    [card] = sent(d.h, "chat.postMessage", TRIAGE)
    assert reference in card.args["text"] and "can be reached in Slack" in card.args["text"]
    status = await bens_status(d)
    assert "support is looking at it" in status and CITYCHARGE not in status


async def test_forged_presses_and_modals_are_refused_and_audited(desk: Desk) -> None:
    d = desk
    reference = await ben_reports(d, share=False)
    # ben (not the operator) presses both answers of his own report with forged values.
    await d.press("U0BEN", "D0BEN", "fault_not_ours", reference)
    await d.press("U0BEN", "D0BEN", "fault_open_ticket", reference)
    answers = await d.h.fake.wait_for("chat.postEphemeral", 2, where=lambda c: c.args.get("user") == "U0BEN")
    assert all("Only the people of the charger's current Service Operator" in a.args["text"] for a in answers)
    assert d.h.fake.calls_to("views.open") == []  # nobody's symptom shown to him
    # A modal opened for carla, submitted by ben.
    [dm] = sent(d.h, "chat.postMessage", "U0CARLA")
    _, action_id, value = button(dm, "Open a service ticket")
    await d.press("U0CARLA", "D0CARLA", action_id, value)
    [opened] = await d.h.fake.wait_for("views.open")
    view = opened.args["view"]
    answer = await d.submit("U0BEN", view["callback_id"], view, {"description": payloads.plain_text_value(SYMPTOM)})
    assert "Only the people" in json.dumps(answer)
    notice = await services.fault_notice(d.h.portal.uow(), reference)
    assert notice is not None and notice.status == "sent"
    audited = await services.audit_entries(d.h.portal.uow())
    assert {e.action for e in audited} >= {"fault_not_ours", "fault_view", "fault_open_ticket"}


@pytest.mark.parametrize("share", [False, True])
async def test_ben_reports_from_the_conversation_and_carla_gets_the_dm(desk: Desk, share: bool) -> None:
    """The whole way: ben is told he may not raise a ticket, presses *Tell the charger's Service Operator*, fills
    in the modal (the symptom; the checkbox is his consent), and carla's DM names him only when he agreed."""
    d, h = desk, desk.h
    channel = "C0SHARED"
    await h.sender.event(
        payloads.app_mention("U0BEN", "<@UBOT> our charger 10001R002 is broken", channel, payloads.next_ts())
    )
    [why] = await h.fake.wait_for("chat.postEphemeral")
    assert CITYCHARGE not in json.dumps(why.args)
    await press_button(h, "U0BEN", why, "Tell the charger's Service Operator", channel)
    [opened] = await h.fake.wait_for("views.open")
    view = opened.args["view"]
    fields = inputs(view)
    assert set(fields) == {"fault_serial", "description", "fault_share"}
    assert fields["fault_serial"]["initial_value"] == "10001R002"
    state = {
        "fault_serial": {"value": payloads.plain_text_value("10001R002")},
        "description": {"value": payloads.plain_text_value(SYMPTOM)},
        "fault_share": {"value": payloads.checkboxes_value(["true"] if share else [])},
    }
    status, body = await h.sender.interaction(
        payloads.view_submission("U0BEN", "T0HOME", FORM_CALLBACK, str(view["private_metadata"]), state)
    )
    assert status == 200
    answer = json.dumps(json.loads(body))
    assert "Service Operator was informed" in answer and "FR-000001" in answer
    assert CITYCHARGE not in answer and "carla" not in answer
    await d.deliver()
    [dm] = sent(h, "chat.postMessage", "U0CARLA")
    assert SYMPTOM in text_of(dm) and "10001R002" in text_of(dm)
    assert (BEN in text_of(dm)) is share and (GREENFLEET in text_of(dm)) is share
    await carla_opens_the_ticket(d, "FR-000001")
