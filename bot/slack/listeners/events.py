"""Mentions in channels and direct messages: the conversation's text turns (queued before Slack is answered)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.slack.ingress.intake import turn_of
from bot.slack.ingress.receipts import QUEUED
from bot.slack.ingress.turns import TurnRunner


async def run_unless_queued(turns: TurnRunner, body: dict[str, Any], context: dict[str, Any]) -> None:
    """The turn of a request the inbox could not take (the database was unreachable): run it here and now."""
    if context.get(QUEUED):
        return
    turn = turn_of(body)
    if turn is not None:
        await turns.run(turn)


def register(app: AsyncApp, turns: TurnRunner) -> None:
    @app.event("app_mention")
    async def mentioned(body: dict[str, Any], context: dict[str, Any]) -> None:
        await run_unless_queued(turns, body, context)

    @app.event("message")
    async def direct_message(body: dict[str, Any], context: dict[str, Any]) -> None:
        await run_unless_queued(turns, body, context)  # edits, joins and our own messages are no turns
