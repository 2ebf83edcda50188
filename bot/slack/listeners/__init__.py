"""Listeners grouped by surface; each module registers its own on the app."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.conversations import SlackConversations
from bot.slack.listeners import actions, events, options, shortcuts, views


def register(app: AsyncApp, conversations: SlackConversations) -> None:
    events.register(app, conversations)
    actions.register(app, conversations)
    views.register(app, conversations)
    shortcuts.register(app, conversations)
    options.register(app, conversations)
