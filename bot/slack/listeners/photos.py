"""The "No" under "Is it ACE0123456?" (a serial read off a photo of the label): nothing was taken from the photo, so
nothing changes; the question is replaced by a request to type the serial. Its "Yes" is a conversation button."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.slack.ingress.conversations import SlackConversations
from bot.slack.messages.photos import LABEL_NO, NO_THANKS


def register(app: AsyncApp, conversations: SlackConversations) -> None:
    @app.action(LABEL_NO)
    async def not_that_serial(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        t = await conversations.texts_for(str((body.get("user") or {}).get("id") or ""), ask_slack=False)
        await respond(text=t.gettext(NO_THANKS), replace_original=True)
