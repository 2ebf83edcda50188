"""The slack-bolt AsyncApp, served over HTTP (`/slack/events`, and `/healthz`, `/readyz`, `/metrics`) or Socket Mode."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.engine.engine import Engine
from bot.engine.store import TrackerStore
from bot.logs import quiet_chatty_loggers
from bot.ops.health import ops_routes
from bot.ops.metrics import DatabaseReadings, Metrics
from bot.slack.egress.delivery import queue_depth
from bot.slack.egress.retries import reply_client
from bot.slack.ingress.consumer import Consumer
from bot.slack.ingress.conversations import SlackConversations
from bot.slack.ingress.inbox import Inbox
from bot.slack.ingress.receipts import Receipts, deduplicate
from bot.slack.ingress.turns import TurnRunner
from bot.slack.ingress.verified import Rejected, bolt_request, parsed_body, verified_text
from bot.slack.listeners import register
from bot.slack.people.agents import Agents
from bot.slack.people.identity import Directory
from bot.slack.people.registry import People
from portal import services as portal_services
from portal.bootstrap import Portal

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlackApp:
    """The bolt app, and the services its listeners share (the background work needs them too)."""

    bolt: AsyncApp
    conversations: SlackConversations
    agents: Agents
    inbox: Inbox | None = None
    consumer: Consumer | None = None  # None: turns run in worker processes (`chargedesk work`)
    signing_secret: str = ""  # what `web_app` verifies requests with; the HTTP endpoint needs it
    metrics: Metrics = field(default_factory=Metrics)  # the engine's: /metrics shows its turns
    database: AsyncEngine | None = None  # what /readyz checks


@dataclass(frozen=True)
class Services:
    """What runs turns: shared by the Slack app and the worker processes."""

    conversations: SlackConversations
    agents: Agents
    turns: TurnRunner
    inbox: Inbox


def build_engine(settings: Settings, portal: Portal, metrics: Metrics | None = None) -> Engine:
    """The engine a Slack process (or a turn worker) runs turns with: trackers and custom actions on `portal`."""
    return Engine.build(
        settings.design_root,
        TrackerStore(portal.engine),
        action_endpoint=settings.action_endpoint_url,
        dependencies={"portal": portal},
        metrics=metrics,
        model_cache=settings.model_cache,  # a start with unchanged data loads the classifier instead of training
    )


def database_readings(portal: Portal, inbox: Inbox) -> DatabaseReadings:
    """What /metrics reads from the database when scraped."""
    return DatabaseReadings(
        inbox_depth=inbox.waiting,
        delivery_queue_depth=partial(queue_depth, portal.engine),
        requests_by_kind_and_state=lambda: portal_services.requests_by_kind_and_state(portal.uow()),
    )


def build_services(settings: Settings, engine: Engine, portal: Portal) -> Services:
    if not settings.slack_bot_token:
        raise ValueError("SLACK_BOT_TOKEN is needed to talk to Slack")
    # Replies, ephemerals, App Home publishes and look-ups retry 429 and 5xx within a bound (retries.py).
    client = reply_client(
        settings.slack_bot_token.get_secret_value(),
        settings.slack_api_url,
        on_rate_limited=partial(engine.metrics.rate_limited, "reply"),
    )
    directory = Directory(client, portal)  # the one resolver of who someone is
    conversations = SlackConversations(engine, portal, client, directory, People(portal.engine, client, directory))
    agents = Agents(
        client, settings.agent_users, settings.agent_usergroup, directory=directory, language=settings.agent_language
    )
    # Replies in the triage channel's threads are agents' notes among themselves: never a customer's addition.
    internal = frozenset({settings.triage_channel} if settings.triage_channel else ())
    return Services(
        conversations,
        agents,
        TurnRunner(conversations, agents, internal),
        Inbox(portal.engine, internal_channels=internal),
    )


def build_app(settings: Settings, engine: Engine, portal: Portal, *, turns_in_process: bool = True) -> SlackApp:
    """The app with every listener registered. Nothing talks to Slack until the first request.

    Conversation turns are queued in the inbox before Slack is answered. With `turns_in_process` this process also
    runs them (a consumer started with the web app); otherwise worker processes do, and acknowledgements never
    wait behind a turn.
    """
    if not settings.slack_bot_token or not settings.slack_signing_secret:
        raise ValueError("SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are needed for the Slack app")
    quiet_chatty_loggers()
    services = build_services(settings, engine, portal)
    bolt = AsyncApp(
        client=services.conversations.client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        # Listeners acknowledge first; what they do after runs once the HTTP response is on its way.
        process_before_response=False,
    )
    # Before every listener: redeliveries stop here, and turns go into the inbox.
    bolt.use(deduplicate(Receipts(portal.engine, services.inbox)))
    register(bolt, services.conversations, services.agents, services.turns)
    bolt.error(failed)
    engine.metrics.readings = database_readings(portal, services.inbox)
    consumer = None
    if turns_in_process:
        consumer = Consumer(services.inbox, services.turns)
        services.inbox.on_put(consumer.wake)
    return SlackApp(
        bolt,
        services.conversations,
        services.agents,
        services.inbox,
        consumer,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        metrics=engine.metrics,
        database=portal.engine,
    )


def freeze_startup_heap() -> None:
    """Take what start-up built (the design, the classifier, the listeners, SQLAlchemy's tables: about 220,000
    objects) out of the garbage collector's sight, once, before the first request.

    They live as long as the process, yet every full collection walked them all: 210-290 ms with the event loop
    stopped on the 2-core benchmark machine, so every acknowledgement due meanwhile waited that long (one such
    pause at 50 req/s puts 10 of 150 requests past 100 ms). What requests allocate later is collected as before.
    """
    gc.collect()  # start-up's own garbage goes first, so that none of it is kept for good
    gc.freeze()


async def failed(error: Exception, body: dict[str, Any]) -> None:
    """Whatever a listener or middleware did not handle: its kind is logged, never the request or a traceback (both
    can hold what people typed, their emails). A request not yet acknowledged is answered 500, so Slack tells the
    person something went wrong instead of pretending it worked; listeners translate the failures they expect."""
    kind = body.get("type") or ("command" if body.get("command") else "request")
    logger.error("%s failed: %s", kind, type(error).__name__)


@asynccontextmanager
async def turns_running(consumer: Consumer) -> AsyncIterator[None]:
    """The consumer runs inside this block; leaving it finishes the turns running and those queued."""
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop), name="inbox-consumer")
    try:
        yield
    finally:
        stop.set()
        await task


def media_type(content_type: str) -> str:
    """`application/json` of `application/json; charset=…`, read by hand: aiohttp's `request.content_type` hands
    the header to the email parser, which raises on some forged parameters (`;x*⁴=…`, found by hypothesis)."""
    return content_type.split(";", 1)[0].strip().lower()


def web_app(app: SlackApp) -> web.Application:
    """`/slack/events` (only requests Slack signed reach bolt, see `verified`), and the probes and metrics."""
    if not app.signing_secret:
        raise ValueError("SLACK_SIGNING_SECRET is needed to serve Slack over HTTP")
    verifier = SignatureVerifier(app.signing_secret)

    async def events(request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            text = verified_text(raw, request.headers, verifier)
            body = parsed_body(text, media_type(request.headers.get("Content-Type", "")))
        except Rejected as rejected:
            # Anyone on the internet can send these: a short line at DEBUG, never the body, never a traceback.
            logger.debug("request rejected (%d): %s", rejected.status, rejected)
            return web.Response(status=rejected.status, text="")
        return await to_aiohttp_response(
            await app.bolt.async_dispatch(bolt_request(text, body, request.query_string, request.headers))
        )

    server = web.Application(client_max_size=1024 * 1024)  # Slack's payloads are far smaller
    if app.consumer is not None:
        consumer = app.consumer

        async def run_turns(_: web.Application) -> AsyncIterator[None]:
            async with turns_running(consumer):
                yield

        server.cleanup_ctx.append(run_turns)
    server.router.add_post("/slack/events", events)
    if app.database is not None:
        server.add_routes(ops_routes(app.database, app.metrics))
    return server
