"""Listeners grouped by surface; each module registers its own on the app."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.ingress.conversations import SlackConversations
from bot.slack.ingress.turns import TurnRunner
from bot.slack.listeners import (
    actions,
    commands,
    consent,
    events,
    faults,
    home,
    options,
    photos,
    relay,
    reopen,
    search,
    shortcuts,
    triage,
    views,
    workspaces,
)
from bot.slack.people.agents import Agents


def register(app: AsyncApp, conversations: SlackConversations, agents: Agents, turns: TurnRunner) -> None:
    events.register(app, turns)
    actions.register(app, conversations, turns)
    views.register(app, conversations, turns.photos)
    shortcuts.register(app, conversations, turns)
    options.register(app, conversations)
    photos.register(app, conversations)
    triage.register(app, conversations, agents)
    consent.register(app, conversations, agents)
    faults.register(app, conversations, agents)
    reopen.register(app, conversations, agents)
    relay.register(app, conversations, agents)
    workspaces.register(app, conversations, agents)
    commands.register(app, conversations, agents)
    home.register(app, conversations, agents)
    search.register(app, conversations, agents)
