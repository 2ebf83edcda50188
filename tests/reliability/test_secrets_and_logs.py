"""Tokens and signing secrets are never logged; emails and descriptions are not logged above DEBUG."""

from __future__ import annotations

import json
import logging

import pytest

from bot.config import Settings
from bot.slack.modals import FORM_CALLBACK
from tests.slack import payloads
from tests.slack.conftest import SECRET, Harness, slack  # noqa: F401  (the `slack` fixture)
from tests.slack.journeys import open_transfer_modal, transfer_state

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
        rasa_url=None,
        action_endpoint_url=None,
        log_level="INFO",
        slack_signing_secret="real-signing-secret",
        slack_app_token="xapp-real-token",
    )
    shown = repr(settings) + str(settings)
    for secret in ("xoxb-real-token", "real-signing-secret", "xapp-real-token", "pa55word"):
        assert secret not in shown
