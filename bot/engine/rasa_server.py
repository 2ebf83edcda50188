"""Handing turns to a Rasa server's REST channel instead of the embedded engine (`RASA_URL`)."""

from __future__ import annotations

from typing import Any

import aiohttp

from bot.engine.responses import BotMessage, Button


class RasaServerError(RuntimeError):
    """The Rasa server did not answer a turn."""


class RasaServer:
    """An `Assistant` backed by Rasa Open Source: POST /webhooks/rest/webhook with the sender and metadata.

    Rasa's REST channel passes `metadata` on to the user message, so custom actions see who is asking exactly
    as they do in embedded mode.
    """

    def __init__(self, url: str, timeout_seconds: float = 30.0) -> None:
        self.endpoint = url.rstrip("/") + "/webhooks/rest/webhook"
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    async def handle(self, sender_id: str, text: str, metadata: dict[str, Any] | None = None) -> list[BotMessage]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        body = {"sender": sender_id, "message": text, "metadata": metadata or {}}
        async with self._session.post(self.endpoint, json=body) as response:
            if response.status != 200:
                raise RasaServerError(f"Rasa answered {response.status}")
            replies = await response.json()
        return [_message(reply) for reply in replies if isinstance(reply, dict)]

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _message(reply: dict[str, Any]) -> BotMessage:
    buttons = tuple(Button(str(b.get("title", "")), str(b.get("payload", ""))) for b in reply.get("buttons") or [])
    return BotMessage(str(reply.get("text") or ""), buttons, None, reply.get("custom"))
