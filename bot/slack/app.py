"""The slack-bolt AsyncApp, served over HTTP (`/slack/events`, `/healthz`) or Socket Mode."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.engine.engine import Engine
from bot.slack.agents import Agents
from bot.slack.conversations import SlackConversations
from bot.slack.identity import Directory
from bot.slack.listeners import register
from bot.slack.people import People
from bot.slack.receipts import Receipts, deduplicate
from portal.bootstrap import Portal

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlackApp:
    """The bolt app, and the services its listeners share (the background work needs them too)."""

    bolt: AsyncApp
    conversations: SlackConversations
    agents: Agents


def build_app(settings: Settings, engine: Engine, portal: Portal) -> SlackApp:
    """The app with every listener registered. Nothing talks to Slack until the first request."""
    if not settings.slack_bot_token or not settings.slack_signing_secret:
        raise ValueError("SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are needed for the Slack app")
    client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url or AsyncWebClient.BASE_URL)
    bolt = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret,
        # Listeners acknowledge first; the turn runs after the HTTP response, within Slack's 3 seconds.
        process_before_response=False,
    )
    conversations = SlackConversations(engine, portal, client, Directory(client), People(portal.engine, client))
    agents = Agents(client, settings.agent_users, settings.agent_usergroup)
    bolt.use(deduplicate(Receipts(portal.engine)))  # before every listener: redeliveries stop here
    register(bolt, conversations, agents)
    return SlackApp(bolt, conversations, agents)


def web_app(app: SlackApp) -> web.Application:
    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.bolt.async_dispatch(await to_bolt_request(request)))

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    server = web.Application(client_max_size=1024 * 1024)  # Slack's payloads are far smaller
    server.router.add_post("/slack/events", events)
    server.router.add_get("/healthz", health)
    return server
