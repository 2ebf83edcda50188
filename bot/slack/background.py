"""The work `chargedesk run` does besides answering Slack: notifications, expiring stale transfers and reminding
their Service Operators once, the SLA checks (the daily digest, the assignee's warning before a target passes, the
customer's reminder and the close of an unanswered request), and a start-up check that the triage channel is
private to the support team."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.ops.metrics import Metrics
from bot.slack.egress.delivery import SlackSender
from bot.slack.egress.notifier import HomeView, Notifier
from bot.slack.people.channels import IsSupport
from bot.slack.people.registry import People
from portal import services
from portal.bootstrap import Portal

logger = logging.getLogger(__name__)
EXPIRY_CHECK_SECONDS = 3600.0
# Often enough that a warning comes well inside the shortest "due soon" window (a quarter of 4 hours by default).
SLA_CHECK_SECONDS = 300.0


async def expire_transfers(portal: Portal, days: int, stop: asyncio.Event, remind_days: int = 0) -> None:
    """Hourly: transfers that waited `days` for the Service Operator go to support (their events notify); those that
    waited `remind_days` (0: never) get their one consent reminder."""
    while not stop.is_set():
        await check_waiting_transfers(portal, days, remind_days)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=EXPIRY_CHECK_SECONDS)


async def check_waiting_transfers(portal: Portal, days: int, remind_days: int) -> None:
    """One round of `expire_transfers`: expiry first (an expired transfer needs no reminder), then reminders."""
    try:
        expired = await services.expire_stale_transfers(portal.uow(), timedelta(days=days))
        if expired:
            logger.info("%d transfer(s) expired to support", len(expired))
    except Exception as error:  # the database may be restarting; the next hour tries again
        logger.error("expiring transfers failed: %s", type(error).__name__)
    if remind_days <= 0:
        return
    try:
        reminded = await services.remind_awaited_consents(portal.uow(), timedelta(days=remind_days))
        if reminded:
            logger.info("%d transfer(s) reminded to their Service Operator", len(reminded))
    except Exception as error:  # as above: the next hour tries again, and a recorded reminder is never repeated
        logger.error("reminding Service Operators failed: %s", type(error).__name__)


async def watch_sla(portal: Portal, settings: Settings, stop: asyncio.Event) -> None:
    """Every few minutes, one round of `check_sla`."""
    while not stop.is_set():
        await check_sla(portal, settings.sla_digest_hour, settings.customer_remind_days, settings.customer_close_days)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=SLA_CHECK_SECONDS)


async def check_sla(portal: Portal, digest_hour: int, remind_days: int, close_days: int) -> None:
    """The day's digest (once, from `digest_hour` UTC), the warnings before a target passes (once per request and
    target), then the requests waiting for the customer: reminded once, closed when no answer came. Each is recorded
    once whatever the processes and restarts; one failing does not stop the others, and the next round tries again."""
    try:
        if await services.record_sla_digest(portal.uow(), portal.sla, digest_hour):
            logger.info("SLA digest recorded")
    except Exception as error:  # the database may be restarting
        logger.error("recording the SLA digest failed: %s", type(error).__name__)
    try:
        warned = await services.warn_before_breach(portal.uow(), portal.sla)
        if warned:
            logger.info("%d request(s) about to miss a target: assignees warned", len(warned))
    except Exception as error:
        logger.error("warning assignees failed: %s", type(error).__name__)
    try:
        reminded, closed = await services.remind_waiting_customers(
            portal.uow(), timedelta(days=remind_days), timedelta(days=close_days)
        )
        if reminded or closed:
            logger.info("%d customer(s) reminded, %d unanswered request(s) closed", len(reminded), len(closed))
    except Exception as error:
        logger.error("reminding customers failed: %s", type(error).__name__)


async def check_triage_channel(client: AsyncWebClient, channel: str | None) -> list[str]:
    """Warn once (one WARNING line) when the triage channel is not private, or is shared outside our workspace.

    Triage cards carry requesters' emails, organizations, chargers and descriptions, and agents' notes: only the
    support team should read them. Returns what was found wrong (empty when all is well or nothing is configured);
    start-up goes on either way, since the operator may have reasons, but is told.
    """
    if not channel:
        return []
    try:
        answer = await client.conversations_info(channel=channel)
    except SlackApiError as error:
        code = error.response.get("error") if isinstance(error.response.data, dict) else None
        problems = [f"could not be checked ({code or error.response.status_code})"]
    except Exception as error:  # Slack unreachable: say so, and start anyway
        problems = [f"could not be checked ({type(error).__name__})"]
    else:
        info = answer.get("channel") or {}
        problems = []
        if not info.get("is_private"):
            problems.append("is public: anyone in the workspace can read the requests in it")
        if info.get("is_ext_shared") or info.get("is_org_shared") or info.get("is_shared"):
            problems.append("is shared with another workspace or organization, whose members can read the requests")
    if problems:
        # Channel ids are not personal data; nothing else of the channel is logged.
        logger.warning(
            "CHARGEDESK_TRIAGE_CHANNEL %s %s; use a private channel of your own workspace only",
            channel,
            "; it ".join(problems),
        )
    return problems


def start_background(
    settings: Settings,
    portal: Portal,
    client: AsyncWebClient,
    people: People,
    home_view: HomeView | None,
    stop: asyncio.Event,
    metrics: Metrics | None = None,
    is_support: IsSupport | None = None,
) -> list[asyncio.Task[None]]:
    """`people` is the Slack app's own (one resolver per process: one auth.test, one profile cache); `metrics` the
    app's, which count the sender's 429s and failed deliveries; `is_support` who is an agent (the notifier relays an
    agent's words into a customer's channel only when nobody but agents and that customer's organization reads it)."""
    notifier = Notifier(
        portal,
        people,
        settings.triage_channel,
        home_view,
        agent_language=settings.agent_language,
        is_support=is_support,
    )
    sender = SlackSender(portal.engine, client, metrics=metrics)
    return [
        asyncio.create_task(notifier.run(stop), name="notifier"),
        asyncio.create_task(sender.run(stop), name="sender"),
        asyncio.create_task(
            expire_transfers(portal, settings.transfer_expiry_days, stop, settings.consent_remind_days), name="expiry"
        ),
        asyncio.create_task(watch_sla(portal, settings, stop), name="sla"),
        asyncio.create_task(_check(client, settings.triage_channel), name="triage-channel-check"),
    ]


async def _check(client: AsyncWebClient, channel: str | None) -> None:
    await check_triage_channel(client, channel)
