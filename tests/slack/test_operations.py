"""HTTP mode: the probes and /metrics answer beside /slack/events, without a signature (Socket Mode: tests/ops)."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from bot.slack.app import failed
from tests.support import payloads
from tests.support.harness import Harness
from tests.support.outage import records_unreachable


async def test_probes_and_metrics_beside_the_events_endpoint(slack: Harness) -> None:
    base = f"http://127.0.0.1:{slack.port}"
    status, _ = await slack.sender.event(payloads.message_im("U0CARLA", "hello", "D0CARLA", payloads.next_ts()))
    assert status == 200
    await slack.fake.wait_for("chat.postMessage")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/readyz") as response:
            assert (response.status, await response.json()) == (200, {"ok": True})
        async with session.get(f"{base}/metrics") as response:
            assert response.status == 200 and response.content_type == "text/plain"
            lines = (await response.text()).splitlines()
        assert "chargedesk_turns_total 1.0" in lines
        assert "chargedesk_inbox_depth 0.0" in lines
        async with records_unreachable(slack.portal), session.get(f"{base}/readyz") as response:
            assert response.status == 503
            assert (await response.json())["ok"] is False
        async with session.get(f"{base}/readyz") as response:
            assert response.status == 200


async def test_a_reply_slack_rate_limited_is_counted(slack: Harness) -> None:
    slack.fake.fail_next("chat.postMessage", status=429, retry_after=0)
    status, _ = await slack.sender.event(payloads.message_im("U0CARLA", "hello", "D0CARLA", payloads.next_ts()))
    assert status == 200
    await slack.fake.wait_for("chat.postMessage", count=2)  # the 429, then the reply
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{slack.port}/metrics") as response:
        lines = (await response.text()).splitlines()
    assert 'chargedesk_slack_rate_limited_total{via="reply"} 1.0' in lines
    assert 'chargedesk_slack_rate_limited_total{via="queue"} 0.0' in lines


async def test_what_no_listener_handled_is_logged_by_kind_only(caplog: pytest.LogCaptureFixture) -> None:
    """bolt's `@app.error`: the failure's kind and type, never the request or the exception's text."""
    caplog.set_level(logging.DEBUG, logger="bot.slack.app")
    body = {"type": "event_callback", "event": {"text": "my charger at Hauptstrasse 5", "user": "U0CARLA"}}
    await failed(RuntimeError("carla@citycharge.example: my charger at Hauptstrasse 5"), body)
    await failed(ValueError("x"), {"command": "/support", "text": "carla@citycharge.example"})
    assert [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "bot.slack.app"] == [
        (logging.ERROR, "event_callback failed: RuntimeError"),
        (logging.ERROR, "command failed: ValueError"),
    ]
