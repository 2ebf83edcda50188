"""Refusals are answered and audited whatever the forged value, and a database outage is said, never a bare error.

Everything goes through signed HTTP into the app (as Slack sends it), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import logging

import pytest

from bot.slack.listeners.triage import NOT_A_REQUEST, REFUSAL
from bot.slack.messages.decisions import LINK_CALLBACK, REASON_CALLBACK
from portal import services
from portal.bootstrap import Portal
from tests.support import payloads
from tests.support.harness import AGENT, TRIAGE, Harness
from tests.support.outage import records_unreachable

FORGED = {
    "17 characters": "MT-0000000000001X",
    "300 characters": "MT-" + "9" * 297,
    "10,000 characters": "x" * 10_000,
    "NUL": "MT-00\x000001",
    "lone surrogates": "MT-\ud800\udfff\udc00",
}


def quiet(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the test's log records say that they should not: errors and tracebacks."""
    return [
        f"{r.name} {r.levelname} {r.getMessage()[:200]}"
        for r in caplog.records
        if r.levelno >= logging.ERROR or r.exc_info or "Traceback" in r.getMessage()
    ]


async def press(h: Harness, user: str, channel: str, action_id: str, value: str) -> None:
    status, _ = await h.sender.interaction(
        payloads.block_actions(user, "T0HOME", channel, payloads.next_ts(), action_id, value=value)
    )
    assert status == 200


@pytest.mark.parametrize("forged", list(FORGED.values()), ids=list(FORGED))
async def test_a_forged_triage_button_is_refused_and_audited_whatever_its_value(
    slack: Harness, caplog: pytest.LogCaptureFixture, forged: str
) -> None:
    h = slack
    caplog.set_level(logging.DEBUG)
    await press(h, "U0CARLA", TRIAGE, "triage_approve", forged)
    [refusal] = await h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == "U0CARLA")
    assert "Only support agents" in refusal.args["text"]
    [entry] = await services.audit_entries(h.portal.uow())
    assert (entry.actor, entry.action, entry.outcome) == ("slack:U0CARLA", "triage_approve", "NotSupportAgent")
    assert entry.reference is None  # not a reference: kept aside, bounded and escaped
    assert entry.raw_value is not None and len(entry.raw_value) <= 200
    assert "\x00" not in entry.raw_value and all(not 0xD800 <= ord(c) <= 0xDFFF for c in entry.raw_value)
    assert quiet(caplog) == []


@pytest.mark.parametrize("forged", list(FORGED.values()), ids=list(FORGED))
async def test_a_forged_triage_button_pressed_by_an_agent_is_audited_and_not_echoed(
    slack: Harness, caplog: pytest.LogCaptureFixture, forged: str
) -> None:
    h = slack
    caplog.set_level(logging.DEBUG)
    await press(h, AGENT, TRIAGE, "triage_assign", forged)
    [said] = await h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == AGENT)
    assert said.args["text"] == NOT_A_REQUEST
    [entry] = await services.audit_entries(h.portal.uow())
    assert (entry.actor, entry.action, entry.outcome) == (f"slack:{AGENT}", "triage_assign", "ForgedValue")
    assert entry.raw_value is not None and len(entry.raw_value) <= 200
    assert quiet(caplog) == []


@pytest.mark.parametrize("forged", list(FORGED.values()), ids=list(FORGED))
async def test_a_forged_consent_button_is_refused_and_audited_whatever_its_value(
    slack: Harness, caplog: pytest.LogCaptureFixture, forged: str
) -> None:
    h = slack
    caplog.set_level(logging.DEBUG)
    await press(h, "U0CARLA", "D0CARLA", "consent_yes", forged)
    await h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == "U0CARLA")
    [entry] = await services.audit_entries(h.portal.uow())
    assert (entry.actor, entry.action, entry.reference) == ("slack:U0CARLA", "consent", None)
    assert entry.raw_value is not None and len(entry.raw_value) <= 200
    assert quiet(caplog) == []


@pytest.mark.parametrize("forged", list(FORGED.values()), ids=list(FORGED))
async def test_a_forged_reason_modal_from_a_non_agent_is_refused_and_audited(
    slack: Harness, caplog: pytest.LogCaptureFixture, forged: str
) -> None:
    h = slack
    caplog.set_level(logging.DEBUG)
    meta = json.dumps({"decision": "approve", "reference": forged, "channel": TRIAGE})
    state = {"reason": {"value": payloads.plain_text_value("because")}}
    status, body = await h.sender.interaction(
        payloads.view_submission("U0CARLA", "T0HOME", REASON_CALLBACK, meta, state)
    )
    assert status == 200
    assert json.loads(body) == {"response_action": "errors", "errors": {"reason": REFUSAL}}  # said in the modal
    [entry] = await services.audit_entries(h.portal.uow())
    assert (entry.actor, entry.outcome, entry.reference) == ("slack:U0CARLA", "NotSupportAgent", None)
    assert entry.raw_value is not None and len(entry.raw_value) <= 200
    assert quiet(caplog) == []


def test_the_audited_form_of_a_value_is_bounded_escaped_and_says_it_was_cut() -> None:
    from portal.domain.text import printable

    assert printable("MT-00\x000001", 200) == "MT-00\\x000001"
    assert printable("a\u202eb\ud800", 200) == "a\\u202eb\\ud800"
    cut = printable("x" * 10_000, 200)
    assert len(cut) == 200 and cut.endswith("…[10000 chars]")


# ---------------------------------------------------------------------- the records out of reach

DAVE = "dave@newcustomer.example"


async def dave_asks(portal: Portal) -> str:
    """An open administrative request, filed straight through the portal."""
    summary = await services.open_administrative_request(
        portal.uow(), DAVE, "Please link my account to GreenFleet, we bought two chargers"
    )
    return summary.reference


def no_traceback_or_email(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        assert not record.exc_info, f"{record.name}: {record.getMessage()[:200]}"
        assert "Traceback" not in record.getMessage() and "@" not in record.getMessage(), record.getMessage()[:200]


async def test_an_agents_click_during_an_outage_is_answered_and_changes_nothing(
    slack: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = slack
    reference = await dave_asks(h.portal)
    caplog.set_level(logging.DEBUG)
    async with records_unreachable(h.portal):
        await press(h, AGENT, TRIAGE, "triage_assign", reference)
        [said] = await h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == AGENT)
    assert "can't reach the support records" in said.args["text"]
    assert "nothing was changed" in said.args["text"]
    facts = await services.request_facts(h.portal.uow(), reference)
    assert (facts.status, facts.assignee) == ("open", None)
    no_traceback_or_email(caplog)


async def test_a_refusal_during_an_outage_is_still_answered(slack: Harness, caplog: pytest.LogCaptureFixture) -> None:
    h = slack
    caplog.set_level(logging.DEBUG)
    async with records_unreachable(h.portal):
        await press(h, "U0CARLA", TRIAGE, "triage_approve", "MT-000001")
        [said] = await h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == "U0CARLA")
    assert said.args["text"] == REFUSAL
    assert any("could not be audited" in r.getMessage() for r in caplog.records)
    no_traceback_or_email(caplog)


@pytest.mark.parametrize("callback", [REASON_CALLBACK, LINK_CALLBACK])
async def test_a_decision_modal_during_an_outage_says_so_on_the_modal(
    slack: Harness, caplog: pytest.LogCaptureFixture, callback: str
) -> None:
    h = slack
    reference = await dave_asks(h.portal)
    if callback == REASON_CALLBACK:
        meta = {"decision": "reject", "reference": reference, "channel": TRIAGE}
        state, block = {"reason": {"value": payloads.plain_text_value("Not something we can change")}}, "reason"
    else:
        meta = {"reference": reference, "email": DAVE, "channel": TRIAGE}
        state, block = {"organization": {"value": payloads.static_select_value("GreenFleet")}}, "organization"
    caplog.set_level(logging.DEBUG)
    async with records_unreachable(h.portal):
        status, body = await h.sender.interaction(
            payloads.view_submission(AGENT, "T0HOME", callback, json.dumps(meta), state)
        )
    assert status == 200, body
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert "can't reach the support records" in answer["errors"][block]
    assert (await services.request_facts(h.portal.uow(), reference)).status == "open"
    no_traceback_or_email(caplog)


UNREADABLE = {
    "not JSON": "{{{",
    "a list": "[1]",
    "no reference": json.dumps({"decision": "reject", "channel": TRIAGE, "email": DAVE}),
    "a forged reference": json.dumps({"decision": "reject", "reference": "x" * 10_000, "email": DAVE}),
    "a NUL": json.dumps({"decision": "reject", "reference": "AR-0\x0001", "email": DAVE}),
    "an unknown decision": json.dumps({"decision": "delete", "reference": "AR-000001", "email": DAVE}),
    "a number": json.dumps({"decision": "reject", "reference": 1, "email": DAVE}),
}


@pytest.mark.parametrize("callback", [REASON_CALLBACK, LINK_CALLBACK])
@pytest.mark.parametrize("metadata", list(UNREADABLE.values()), ids=list(UNREADABLE))
async def test_a_forged_private_metadata_is_answered_on_the_modal_and_audited(
    slack: Harness, caplog: pytest.LogCaptureFixture, callback: str, metadata: str
) -> None:
    h = slack
    reference = await dave_asks(h.portal)
    block = "reason" if callback == REASON_CALLBACK else "organization"
    if callback == LINK_CALLBACK and "delete" in metadata:
        metadata = "null"  # the link modal carries no decision
    state = {
        "reason": {"value": payloads.plain_text_value("Not something we can change")},
        "organization": {"value": payloads.static_select_value("GreenFleet")},
    }
    caplog.set_level(logging.DEBUG)
    status, body = await h.sender.interaction(payloads.view_submission(AGENT, "T0HOME", callback, metadata, state))
    assert status == 200, body
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert "can't be read" in answer["errors"][block]
    [entry] = await services.audit_entries(h.portal.uow())
    assert (entry.actor, entry.outcome, entry.detail) == (f"slack:{AGENT}", "ForgedValue", "private_metadata")
    assert entry.raw_value is not None and len(entry.raw_value) <= 200
    assert (await services.request_facts(h.portal.uow(), reference)).status == "open"
    no_traceback_or_email(caplog)
