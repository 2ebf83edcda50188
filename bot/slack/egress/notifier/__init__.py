"""From the outbox to Slack: each domain event becomes deliveries for the people it concerns.

Three steps, so that no database transaction waits on Slack: read unprocessed events; work out the deliveries
(portal reads, Slack look-ups of who is who); then, in one transaction, enqueue them (idempotently, by a key per
event and recipient) and mark the events processed. The sender (delivery.py) does the talking to Slack.

Who hears about what: the two tables below (EVENT_HANDLERS, REQUEST_HANDLERS) are the index; each family of events
has its module, whose docstring says who hears what:
- requests.py: a request filed, assigned, its status changed (the triage card, the requester's DM, the thread note);
- consent.py: a management transfer and the current Service Operator's people (consent asked, reminded, answered,
  the transfer completed);
- relay.py: messages on a request between support and the requester's side;
- sla.py: the daily digest, the warning before a target passes, the reminder to a customer who has not answered;
- faults.py: fault reports on another organization's charger;
- accounts.py: an account linked, a workspace to link, someone without an account asking for a person;
- deliveries.py: the DMs and thread notes they share.

Every request event also refreshes the requester's App Home: built anew and published through the sender's
``home:<user>`` lane, so that a 429 or a 5xx delays the refresh instead of losing it, and a slow publish never holds
up the notifications behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from bot.logs import log_context
from bot.slack.egress.delivery import HOME_LANE_PREFIX, PUBLISH_VIEW, Delivery, enqueue
from bot.slack.egress.notifier import accounts, consent, faults, relay, requests, sla
from bot.slack.egress.notifier.deliveries import thread_note
from bot.slack.egress.notifier.requests import ANSWERED_STATUSES, WITHDRAWN_STATUSES, filed_note
from bot.slack.messages.wording import ENGLISH
from bot.slack.people.channels import IsSupport
from bot.slack.people.identity import IdentityUnavailable
from bot.slack.people.registry import People
from portal import outbox, services
from portal.bootstrap import Portal
from portal.errors import UnknownRequest
from portal.languages import DEFAULT_LANGUAGE, Language, language_of
from portal.languages.texts import Texts, texts
from portal.outbox import OutboxEvent as Event
from portal.services.facts import RequestFacts
from portal.services.faults import FAULT_REPORTED, FAULT_REPORTER_TOLD, FAULT_TICKET_OPENED, FAULT_TO_SUPPORT
from portal.services.handoff import HANDOFF_EVENT
from portal.services.sla import BREACH_WARNING_EVENT, CUSTOMER_REMINDER_EVENT, SLA_DIGEST_EVENT
from portal.services.transfers import CONSENT_REMINDER_EVENT

__all__ = [
    "ANSWERED_STATUSES",
    "BATCH",
    "EVENT_HANDLERS",
    "REQUEST_HANDLERS",
    "WITHDRAWN_STATUSES",
    "HomeView",
    "Notifier",
    "filed_note",
    "thread_note",
]

logger = logging.getLogger(__name__)
BATCH = 50

HomeView = Callable[[str, str], Awaitable[dict[str, Any]]]  # (user id, team id) → their App Home view, as of now


class Notifier:
    def __init__(
        self,
        portal: Portal,
        people: People,
        triage_channel: str | None,
        home_view: HomeView | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        agent_language: Language = DEFAULT_LANGUAGE,
        is_support: IsSupport | None = None,
    ) -> None:
        self.portal = portal
        self.is_support = is_support  # who is an agent: they may read a customer's channel beside the customer
        self.people = people
        self.triage_channel = triage_channel
        self.home_view = home_view
        self.clock = clock
        self.agent_texts = texts(agent_language)  # triage cards: the agents' language, English by default

    async def run_once(self) -> int:
        """Process a batch of events; returns how many."""
        events = await outbox.unprocessed(self.portal.engine, BATCH)
        if not events:
            return 0
        planned: list[tuple[Event, list[Delivery]]] = []
        homes: dict[tuple[str, str], int] = {}  # whose App Home to refresh → the batch's last event concerning them
        for event in events:
            with log_context(request_id=event.reference):  # the lines about an event name its request
                try:
                    deliveries, affected = await self._plan(event)
                except IdentityUnavailable:
                    # Slack cannot say who is verified right now: keep this event (and those after it, in order)
                    # for the next round rather than send its consent DMs to nobody.
                    logger.warning("planning notifications for event %d waits: Slack identity unavailable", event.id)
                    break
                except Exception as error:  # one bad event must not stop every notification behind it
                    logger.error("planning notifications for event %d failed: %s", event.id, type(error).__name__)
                    deliveries, affected = [], set()
            homes.update(dict.fromkeys(affected, len(planned)))
            planned.append((event, deliveries))
        for person, index in sorted(homes.items()):
            # One refresh per person and batch, with the batch's last event: built now, it shows all of them.
            planned[index][1].extend(await self.home_refresh(planned[index][0], *person))
        async with self.portal.engine.begin() as conn:
            for event, deliveries in planned:
                # Claim the event first: of two notifiers, only one enqueues (keys make a repeat harmless too).
                if await outbox.mark_processed(conn, event.id, self.clock()) and deliveries:
                    await enqueue(conn, deliveries, self.clock())
        return len(planned)  # those left for later are not "busy": the loop waits before trying them again

    async def home_refresh(self, event: Event, user_id: str, team_id: str) -> list[Delivery]:
        """The person's App Home, built now and queued in their ``home:`` lane (none without a `home_view`).

        Built after the event committed, so the view shows at least the event's outcome; the lane sends a person's
        refreshes in order, so the last one queued is the last one shown, and a 429 or 5xx delays it, never loses it.
        """
        if self.home_view is None:
            return []
        try:
            view = await self.home_view(user_id, team_id)
        except Exception as error:  # the App Home is a convenience; the DM already carries the news
            logger.warning("building the App Home for event %d failed: %s", event.id, type(error).__name__)
            return []
        payload = {"user_id": user_id, "view": view}
        return [Delivery(f"{HOME_LANE_PREFIX}{user_id}", PUBLISH_VIEW, payload, key=f"ev{event.id}:home:{user_id}")]

    async def run(self, stop: asyncio.Event, interval: float = 1.0) -> None:
        while not stop.is_set():
            try:
                busy = await self.run_once()
            except Exception as error:  # e.g. the database is restarting: try again shortly
                logger.error("notifier: %s", type(error).__name__)
                busy = 0
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=interval)

    # --- planning -------------------------------------------------------------------------------------------

    async def _plan(self, event: Event) -> tuple[list[Delivery], set[tuple[str, str]]]:
        """The deliveries of one event, from the handlers the tables below name, and whose App Home it changes."""
        handler = EVENT_HANDLERS.get(event.name)
        if handler is not None:
            return await handler(self, event), set()
        if not event.reference:
            return [], set()
        try:
            facts = await services.request_facts(self.portal.uow(), event.reference)
        except UnknownRequest:
            return [], set()
        deliveries: list[Delivery] = []
        for handle in REQUEST_HANDLERS.get(event.name, ()):
            deliveries += await handle(self, event, facts)
        requester = _origin_user(facts)
        return deliveries, {requester} if requester else set()

    # --- the reader's language ------------------------------------------------------------------------------

    async def texts_of(self, user_id: str) -> Texts:
        """What a DM to `user_id` is written in: their stored language, else their Slack locale's, else English."""
        return texts(await self.people.language_for(user_id))

    async def reader_texts(self, made_in: object, user_id: str | None) -> Texts:
        """What news of something a person asked for is written in: the language they asked in (`made_in`), else
        the person's own (`texts_of`), else English."""
        language = language_of(made_in)
        if language is not None:
            return texts(language)
        return await self.texts_of(user_id) if user_id else ENGLISH

    async def requester_texts(self, facts: RequestFacts) -> Texts:
        """What news of a request is written in for its requester: the language the request was made in (its
        origin's), else the requester's own (stored, else their Slack locale's), else English."""
        origin = facts.origin or {}
        user_id = origin.get("slack_user_id")
        return await self.reader_texts(origin.get("language"), str(user_id) if user_id else None)


def _origin_user(facts: RequestFacts) -> tuple[str, str] | None:
    origin = facts.origin or {}
    user, team = origin.get("slack_user_id"), origin.get("slack_team_id")
    return (str(user), str(team or "")) if user else None


EventHandler = Callable[[Notifier, Event], Awaitable[list[Delivery]]]
RequestHandler = Callable[[Notifier, Event, RequestFacts], Awaitable[list[Delivery]]]

# What each event leads to, as cosmicpython's message bus has it: a table, not an if-chain. Events about no request
# are handled from their payload alone.
EVENT_HANDLERS: dict[str, EventHandler] = {
    "account.linked": accounts.account_linked,
    "workspace.verification_requested": accounts.workspace,
    "workspace.linked": accounts.workspace,
    HANDOFF_EVENT: accounts.handoff,
    SLA_DIGEST_EVENT: sla.sla_digest,
    FAULT_REPORTED: faults.fault_reported,
    FAULT_TO_SUPPORT: faults.fault_to_support,
    FAULT_TICKET_OPENED: faults.fault_ticket_opened,
    FAULT_REPORTER_TOLD: faults.fault_reporter_told,
}

# Events about a request: its facts are read once and given to each handler, in order; the requester's App Home is
# refreshed after any of them (an event missing here still refreshes it).
REQUEST_HANDLERS: dict[str, tuple[RequestHandler, ...]] = {
    "request.opened": (
        requests.remember_request_thread,
        requests.triage,
        requests.filed_note_in_thread,
        requests.receipt,
        consent.ask_consent_to_transfer,
    ),
    "request.assigned": (requests.triage,),
    "request.status_changed": (requests.triage, requests.status_changed),
    "transfer.consented": (requests.triage, consent.operator_answered),
    "transfer.declined": (requests.triage, consent.operator_answered),
    "transfer.completed": (consent.tell_previous_operators, consent.refresh_cards_naming),
    CONSENT_REMINDER_EVENT: (consent.remind_consent,),
    "transfer.operator_unreachable": (consent.operator_unreachable,),
    "request.message": (relay.customer_message_to_triage, relay.relay),
    BREACH_WARNING_EVENT: (sla.breach_warning,),
    CUSTOMER_REMINDER_EVENT: (sla.remind_customer,),
}
