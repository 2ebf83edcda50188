"""Rasa server mode against a fake Rasa REST channel on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from bot.engine.rasa_server import RasaServer, RasaServerError


@pytest.fixture
async def fake_rasa() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        received.append(body)
        if body["message"] == "break":
            return web.json_response({"error": "boom"}, status=500)
        return web.json_response(
            [
                {"recipient_id": body["sender"], "text": "What is your question about?"},
                {
                    "recipient_id": body["sender"],
                    "text": "Pick one",
                    "buttons": [{"title": "Administrative changes", "payload": "/request_admin_change"}],
                },
            ]
        )

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}", received
    await runner.cleanup()


async def test_turns_and_metadata_go_to_the_rest_channel(fake_rasa: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = fake_rasa
    rasa = RasaServer(url + "/")
    metadata = {"requester": {"email": "dave@newcustomer.example", "slack_user_id": "U1", "slack_team_id": "T1"}}
    try:
        replies = await rasa.handle("T1:C1:-:U1", "/have_question", metadata)
    finally:
        await rasa.close()
    assert received == [{"sender": "T1:C1:-:U1", "message": "/have_question", "metadata": metadata}]
    assert [r.text for r in replies] == ["What is your question about?", "Pick one"]
    assert [(b.title, b.payload) for b in replies[1].buttons] == [("Administrative changes", "/request_admin_change")]


async def test_a_failing_rasa_server_raises(fake_rasa: tuple[str, list[dict[str, Any]]]) -> None:
    url, _ = fake_rasa
    rasa = RasaServer(url)
    try:
        with pytest.raises(RasaServerError, match="500"):
            await rasa.handle("s", "break")
    finally:
        await rasa.close()
