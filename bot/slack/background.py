"""The work `chargedesk run` does besides answering Slack: notifications and expiring stale transfers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.slack.delivery import SlackSender
from bot.slack.identity import Directory
from bot.slack.notifier import HomeRefresh, Notifier
from bot.slack.people import People
from portal import services
from portal.bootstrap import Portal

logger = logging.getLogger(__name__)
EXPIRY_CHECK_SECONDS = 3600.0


async def expire_transfers(portal: Portal, days: int, stop: asyncio.Event) -> None:
    """Hourly: transfers that waited `days` for the Service Operator go to support (their events notify)."""
    while not stop.is_set():
        try:
            expired = await services.expire_stale_transfers(portal.uow(), timedelta(days=days))
            if expired:
                logger.warning("%d transfer(s) expired to support", len(expired))
        except Exception as error:  # the database may be restarting; the next hour tries again
            logger.error("expiring transfers failed: %s", type(error).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=EXPIRY_CHECK_SECONDS)


def start_background(
    settings: Settings, portal: Portal, client: AsyncWebClient, refresh_home: HomeRefresh | None, stop: asyncio.Event
) -> list[asyncio.Task[None]]:
    directory = Directory(client, portal)
    notifier = Notifier(portal, People(portal.engine, client, directory), settings.triage_channel, refresh_home)
    sender = SlackSender(portal.engine, client)
    return [
        asyncio.create_task(notifier.run(stop), name="notifier"),
        asyncio.create_task(sender.run(stop), name="sender"),
        asyncio.create_task(expire_transfers(portal, settings.transfer_expiry_days, stop), name="expiry"),
    ]
