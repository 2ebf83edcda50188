"""Listeners grouped by surface; each module registers its own on the app."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.agents import Agents
from bot.slack.conversations import SlackConversations
from bot.slack.listeners import actions, commands, consent, events, home, options, shortcuts, triage, views


def register(app: AsyncApp, conversations: SlackConversations, agents: Agents) -> None:
    events.register(app, conversations, agents)
    actions.register(app, conversations)
    views.register(app, conversations)
    shortcuts.register(app, conversations)
    options.register(app, conversations)
    triage.register(app, conversations, agents)
    consent.register(app, conversations, agents)
    commands.register(app, conversations, agents)
    home.register(app, conversations, agents)
