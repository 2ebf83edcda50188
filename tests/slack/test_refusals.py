"""Refusals are answered and audited whatever the forged value, and a database outage is said, never a bare error.

Everything goes through signed HTTP into the app (as Slack sends it), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import logging

import pytest

from bot.slack.decisions import LINK_CALLBACK, REASON_CALLBACK
from portal import services
from tests.slack import payloads
from tests.slack.conftest import TRIAGE, Harness

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
    status, _ = await h.sender.interaction(payloads.view_submission("U0CARLA", "T0HOME", REASON_CALLBACK, meta, state))
    assert status == 200
    await h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == "U0CARLA")
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
