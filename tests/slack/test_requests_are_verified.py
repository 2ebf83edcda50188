"""Only requests signed by Slack, recently, reach the app; the health check answers without a signature."""

from __future__ import annotations

import time

import aiohttp
import pytest

from tests.support import payloads
from tests.support.harness import Harness
from tests.support.signing import STALE_SECONDS


async def test_url_verification_echoes_the_challenge(slack: Harness) -> None:
    status, body = await slack.sender.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    assert status == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in body


@pytest.mark.parametrize(
    "signing",
    [
        {"signed": False},
        {"secret": "not-the-signing-secret"},
        {"timestamp": int(time.time()) - STALE_SECONDS},
    ],
    ids=["unsigned", "wrongly signed", "older than 5 minutes"],
)
async def test_unverified_requests_get_401_and_change_nothing(slack: Harness, signing: dict[str, object]) -> None:
    h = slack
    status, _ = await h.sender.event(
        payloads.app_mention("U0CARLA", "<@UBOT> I have a question", "C0SHARED", payloads.next_ts()),
        **signing,  # type: ignore[arg-type]
    )
    assert status == 401
    status, _ = await h.sender.interaction(
        payloads.block_actions(
            "U0CARLA", "T0HOME", "C0SHARED", payloads.next_ts(), "chargedesk_press_0", value="/request_admin_change"
        ),
        **signing,  # type: ignore[arg-type]
    )
    assert status == 401
    await h.fake.assert_no_new_calls("chat.postEphemeral", duration=0.3)
    assert [c.method for c in h.fake.calls if c.method not in ("auth.test",)] == []
    assert await h.engine.store.count() == 0  # no conversation was started


async def test_health_check(slack: Harness) -> None:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{slack.port}/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"ok": True}
