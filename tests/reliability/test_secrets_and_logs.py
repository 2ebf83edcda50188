"""Tokens and signing secrets are never logged; emails and descriptions are not logged above DEBUG."""

from __future__ import annotations

import asyncio
import json
import logging
import re

import pytest

from bot.config import Settings
from bot.slack.messages.modals import FORM_CALLBACK
from tests.slack.conftest import slack  # noqa: F401  (the `slack` fixture)
from tests.support import payloads
from tests.support.harness import (
    SECRET,
    USERS,
    Harness,
)
from tests.support.journeys import open_transfer_modal, transfer_state
from tests.support.outage import records_unreachable, table_unavailable

DESCRIPTION = "Bought from VoltWay with the installation in 2025, invoice 2025-118"


async def test_a_whole_journey_logs_no_secret_and_no_personal_data_above_debug(
    slack: Harness,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = slack
    caplog.set_level(logging.DEBUG)
    view = await open_transfer_modal(h)
    state = transfer_state(DESCRIPTION)
    status, body = await h.sender.interaction(
        payloads.view_submission("U0BEN", "T0HOME", FORM_CALLBACK, str(view["private_metadata"]), state)
    )
    assert status == 200
    assert "MT-000001" in json.dumps(json.loads(body))
    # Unsigned and failing requests log too: include them.
    await h.sender.event(payloads.message_im("U0BEN", "hello", "D0BEN", payloads.next_ts()), signed=False)

    records = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert records, "nothing was logged at all: the test would prove nothing"
    everything = "\n".join(message for _, message in records)
    for secret in ("xoxb-test", SECRET):
        assert secret not in everything
    above_debug = "\n".join(message for level, message in records if level > logging.DEBUG)
    for personal in ("ben@greenfleet.example", DESCRIPTION, "invoice 2025-118"):
        assert personal not in above_debug
    above = sum(1 for level, _ in records if level > logging.DEBUG)
    print(f"{len(records)} log records at DEBUG: 0 secrets; {above} above DEBUG: 0 emails or descriptions")


def test_settings_never_show_their_secrets() -> None:
    settings = Settings(
        database_url="postgresql+asyncpg://chargedesk:pa55word@db.internal/chargedesk",
        slack_bot_token="xoxb-real-token",
        slack_signing_secret="real-signing-secret",
        slack_app_token="xapp-real-token",
    )
    shown = repr(settings) + str(settings)
    for secret in ("xoxb-real-token", "real-signing-secret", "xapp-real-token", "pa55word"):
        assert secret not in shown


DEMO_EMAILS = {
    "anna@voltway.example",
    "ben@greenfleet.example",
    "carla@citycharge.example",
    "erin@greenfleet.example",
    "dave@newcustomer.example",
    *(str(user["email"]) for user in USERS.values() if "email" in user),
}
AN_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)*\.example")


def everything_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every record of every logger at every level, as a handler would write it (tracebacks included)."""
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    return [formatter.format(record) for record in caplog.records]


async def test_faults_log_no_email_at_any_level(slack: Harness, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    """Database errors whose statements carry emails, Slack API errors and failing actions: 0 emails in the logs."""
    h = slack
    caplog.set_level(logging.DEBUG)
    # Statements looking people up by email fail, with those emails as their parameters.
    async with table_unavailable(h.portal, "accounts"):
        await h.sender.event(payloads.message_im("U0BEN", "what is the status of my requests", "D0BEN", "1.1"))
        await h.fake.wait_for("chat.postMessage", where=lambda c: c.args.get("channel") == "D0BEN", timeout=10)
        await h.sender.command(payloads.slash_command("U0BEN", "T0HOME", "C0SHARED", text="status"))
        await h.sender.event(payloads.app_home_opened("U0CARLA"))
        await h.sender.interaction(
            payloads.block_actions("U0BEN", "T0HOME", "D0BEN", payloads.next_ts(), "consent_yes", value="MT-000001")
        )
        await h.fake.assert_no_new_calls("views.publish", duration=0.5)  # let the listeners finish
    # The database entirely out of reach while someone talks to the assistant.
    async with records_unreachable(h.portal):
        await h.sender.event(payloads.message_im("U0CARLA", "I have a question", "D0CARLA", "1.2"))
        await h.fake.wait_for("chat.postMessage", where=lambda c: c.args.get("channel") == "D0CARLA", timeout=10)
    # Slack failing: 5xx and errors on the replies and the profile lookups.
    h.fake.fail_next("users.info", status=500)
    h.fake.fail_next("chat.postMessage", status=200, error="channel_not_found")
    h.fake.fail_next("chat.postEphemeral", status=503)
    await h.sender.event(payloads.message_im("U0DAVE", "hello there", "D0DAVE", "1.3"))
    await h.sender.command(payloads.slash_command("U0DAVE", "T0HOME", "C0SHARED", text="status"))
    await asyncio.sleep(1.0)  # the turns and the answers they fail to send

    lines = everything_logged(caplog)
    leaks = [line[:300] for line in lines if any(e in line for e in DEMO_EMAILS) or AN_EMAIL.search(line)]
    faults = sum(1 for r in caplog.records if r.levelno >= logging.WARNING)
    print(
        f"{len(lines)} log records at every level ({faults} warnings or errors from the faults): "
        f"{len(leaks)} with an email"
    )
    assert faults > 0, "no fault was logged: the test would prove nothing"
    assert leaks == []
