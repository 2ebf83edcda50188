"""The retry rules of the shared Web API client (bot/slack/egress/retries.py), against the fake Slack on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.egress import retries
from bot.slack.egress.retries import reply_client
from tests.support.fake_slack import FakeSlack

TOKEN = "xoxb-test"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(users={"U0CARLA": {"email": "carla@citycharge.example"}}) as server:
        yield server


def client(fake: FakeSlack) -> AsyncWebClient:
    return reply_client(TOKEN, fake.base_url)


async def test_a_429_is_retried_after_retry_after(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    answer = await client(fake).chat_postMessage(channel="D0CARLA", text="hello")
    took = loop.time() - started
    assert answer["ok"]
    assert [c.http_status for c in fake.calls_to("chat.postMessage")] == [429, 200]
    assert 1.0 <= took < 2.0  # Retry-After exactly, without slack-sdk's jitter of up to a second


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_server_error_is_retried_for_every_method(fake: FakeSlack, status: int) -> None:
    slack = client(fake)
    for method in ("chat.postMessage", "chat.postEphemeral", "views.publish", "users.info"):
        fake.fail_next(method, status=status)
    await slack.chat_postMessage(channel="D0CARLA", text="hello")
    await slack.chat_postEphemeral(channel="C0SHARED", user="U0CARLA", text="only you")
    await slack.views_publish(user_id="U0CARLA", view={"type": "home", "blocks": []})
    await slack.users_info(user="U0CARLA")
    for method in ("chat.postMessage", "chat.postEphemeral", "views.publish", "users.info"):
        assert [c.http_status for c in fake.calls_to(method)] == [status, 200], method


async def test_a_retry_after_longer_than_the_budget_fails_at_once(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=30)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(SlackApiError) as raised:
        await client(fake).chat_postMessage(channel="D0CARLA", text="hello")
    assert raised.value.response.status_code == 429
    assert loop.time() - started < 1.0  # not 30 s of sleeping followed by a failure
    assert len(fake.calls_to("chat.postMessage")) == 1


async def test_all_waits_of_one_call_stay_within_the_budget(fake: FakeSlack) -> None:
    # Five 429s of 3 s each would wait 15 s; the budget of 10 s allows three waits, then the call fails.
    fake.fail_next("views.publish", status=429, retry_after=3, times=5)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(SlackApiError):
        await client(fake).views_publish(user_id="U0CARLA", view={"type": "home", "blocks": []})
    took = loop.time() - started
    assert len(fake.calls_to("views.publish")) == 4
    assert 9.0 <= took < retries.MAX_WAIT_SECONDS + 1.0
    print(f"five 429s with Retry-After 3 s: gave up after 4 attempts and {took:.1f} s")


async def test_an_answer_slack_refused_with_ok_false_is_not_repeated(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", status=200, error="internal_error")
    with pytest.raises(SlackApiError):
        await client(fake).chat_postMessage(channel="D0CARLA", text="hello")
    assert len(fake.calls_to("chat.postMessage")) == 1


async def test_a_connection_dropped_after_sending_is_repeated_only_for_repeatable_calls() -> None:
    """A post whose connection drops after the request went out may have reached Slack: not repeated."""
    received: list[bytes] = []

    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.readuntil(b"\r\n\r\n"))
        writer.close()  # the request arrived; no answer

    server = await asyncio.start_server(drop, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        slack = reply_client(TOKEN, f"http://127.0.0.1:{port}/api/")
        with pytest.raises(Exception):  # noqa: B017, PT011 - aiohttp's ServerDisconnectedError
            await slack.chat_postMessage(channel="D0CARLA", text="hello")
        assert len(received) == 1
        received.clear()
        with pytest.raises(Exception):  # noqa: B017, PT011
            await slack.views_publish(user_id="U0CARLA", view={"type": "home", "blocks": []})
        assert len(received) > 1  # views.publish gives the same result twice: repeated
    finally:
        server.close()
        await server.wait_closed()
