"""The start-up warning about the triage channel: private and not shared, or one WARNING line says why not."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.slack.background import check_triage_channel
from bot.slack.egress.retries import reply_client
from tests.support.fake_slack import FakeSlack

TRIAGE = "C0TRIAGE"
PRIVATE = {"is_private": True, "is_shared": False, "is_ext_shared": False, "is_org_shared": False}


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        yield server


async def check(fake: FakeSlack, caplog: pytest.LogCaptureFixture, channel: dict[str, Any] | None) -> list[str]:
    if channel is not None:
        fake.channels[TRIAGE] = channel
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.slack.background"):
        return await check_triage_channel(reply_client("xoxb-test", fake.base_url), TRIAGE)


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_private_unshared_channel_passes_quietly(fake: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    assert await check(fake, caplog, PRIVATE) == []
    assert warnings(caplog) == []
    [call] = fake.calls_to("conversations.info")
    assert call.args["channel"] == TRIAGE


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"is_private": False}, ["is public"]),
        ({"is_ext_shared": True, "is_shared": True}, ["is shared"]),
        ({"is_org_shared": True}, ["is shared"]),
        ({"is_shared": True}, ["is shared"]),
        ({"is_private": False, "is_ext_shared": True}, ["is public", "is shared"]),
    ],
)
async def test_a_public_or_shared_channel_is_warned_about_once(
    fake: FakeSlack, caplog: pytest.LogCaptureFixture, flags: dict[str, bool], expected: list[str]
) -> None:
    problems = await check(fake, caplog, {**PRIVATE, **flags})
    assert [p.split(":")[0].split(" with")[0] for p in problems] == expected
    [line] = warnings(caplog)  # one line, naming the variable and the channel id, nothing personal
    assert line.startswith(f"CHARGEDESK_TRIAGE_CHANNEL {TRIAGE} ")
    assert all(word in line for word in expected)


async def test_a_channel_slack_cannot_show_is_warned_about(fake: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    assert await check(fake, caplog, None) == ["could not be checked (channel_not_found)"]
    [line] = warnings(caplog)
    assert "could not be checked (channel_not_found)" in line


async def test_no_triage_channel_means_no_check(fake: FakeSlack) -> None:
    assert await check_triage_channel(reply_client("xoxb-test", fake.base_url), None) == []
    assert fake.calls_to("conversations.info") == []
