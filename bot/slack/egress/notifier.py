"""From the outbox to Slack: each domain event becomes deliveries for the people it concerns.

Three steps, so that no database transaction waits on Slack: read unprocessed events; work out the deliveries
(portal reads, Slack look-ups of who is who); then, in one transaction, enqueue them (idempotently, by a key per
event and recipient) and mark the events processed. The sender (delivery.py) does the talking to Slack.

Who hears about what:
- request.opened: the triage channel gets a message with the decision buttons; the channel thread it was filed
  from (if any) a note that it was filed; for a transfer, each Slack-known person of the chargers' Service Operator
  gets a DM asking for consent, unless nobody of an operator whose answer it needs can be reached in Slack: then
  the transfer goes to support at once (transfer.operator_unreachable tells the requester). A request filed in a
  channel (whose confirmation there was ephemeral) also gets its requester a DM receipt to keep. The event is
  recorded once per filed request, so a retried modal submission or turn (which finds the request it filed)
  announces nothing twice.
- transfer.consented / transfer.declined: the triage message is updated; the requester gets a DM and the request's
  thread a note; the consent DMs are updated to say who answered.
- request.status_changed: the triage message is updated (its buttons fit the new state); the requester gets a DM
  with the reason, the thread a note; when a transfer ends, the consent DMs say so. A resolved service ticket's DM
  carries *Reopen* (the requester's side may reopen it for CHARGEDESK_REOPEN_DAYS); a ticket closed as a duplicate
  tells the requester which ticket support continues under.
- transfer.completed: the previous Service Operator's people learn that the chargers moved; the triage cards of the
  other requests still under way on those chargers are updated in place to show the new Service Operator.
- transfer.consent_reminder (recorded once per transfer, by the background check): the people of each Service
  Operator that has not answered yet get the consent DM again, as a reminder with its buttons.
- request.assigned: the triage message shows the assignee.
- request.message from the requester's side (a reply in the request's channel thread or DM thread, ingress/
  additions.py): the triage thread gets it, marked as the customer's, files as links; no customer channel does.
  (request.opened also remembers the channel thread a request was filed from, for those replies.)
- sla.digest (recorded once per UTC day by the background check): the triage channel gets the day's late and
  unassigned requests, or a short all clear, in the agents' language.
- sla.breach_warning (once per request and target): the assignee gets a DM that a target is about to pass.
- request.customer_reminder (once per support question): the requester is told support still waits for their
  answer, with the question; a request closed for want of one (request.status_changed) says so, and how to start
  again.
- request.message to the requester (an agent's reply or question, issue 16 §1): the requester gets the words with
  the agent's name and the reference, in the channel thread the request was asked in only when nobody of another
  organization can read that channel (bot/slack/people/channels.py), else in their DM (remembered under
  ``relay:<reference>:<number>``, so that a reply in its thread can be matched to the request); the triage thread
  a note of who sent what, and where. Moving into waiting_for_customer, and back out on the requester's own answer,
  sends no status DM: the question, and the answer, are the news.
- fault.reported (issue 17 §2): each verified person of the charger's Service Operator gets a DM, in their
  language, with the serial, the symptom, the reporter only if they agreed, and *Open a service ticket* / *Not
  ours any more*; when nobody of the operator can be reached in Slack, the report goes to support at once.
- fault.ticket_opened: the operator's DMs say which ticket was opened from the report, in place of their buttons.
- fault.to_support: the triage channel gets a card (the operator said "not ours any more", or nobody of it could
  be reached); after "not ours", the operator's DMs lose their buttons.
- fault.reporter_told (recorded once per report, with fault.to_support): the reporter gets a DM, in their language,
  that support has the report now, never naming the operator; their App Home is refreshed.
- account.linked: the linked person gets a DM.
- handoff.requested: someone without a portal account (or from an unverified workspace) asked for a person; the
  triage channel gets a card with their Slack user, where they asked and the conversation so far. (People with an
  account get a handoff administrative request instead, which goes through request.opened like any request.)
- workspace.verification_requested: the triage channel gets a "Link workspace to organization" card (once per
  workspace); workspace.linked: that card says who linked it to what (in place).
- every request event: the requester's App Home is built anew and published through the sender's ``home:<user>``
  lane, so that a 429 or a 5xx delays the refresh instead of losing it, and a slow publish never holds up the
  notifications behind it.

Consent DMs and the other Service Operator messages go only to people verified for that organization now: a
learned person or a users.lookupByEmail hit from a workspace that is neither home nor linked to it is skipped
(`People.user_ids`).

Public thread notes (in the channel where a request was filed, possibly shared with other organizations, e.g.
through Slack Connect) carry the reference and nothing else: no status, organization, serial or description. The
requester gets the details in a DM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from bot.logs import log_context
from bot.slack.egress.delivery import HOME_LANE_PREFIX, PUBLISH_VIEW, THREAD_OF, Delivery, enqueue
from bot.slack.egress.posted import triage_key
from bot.slack.ingress.threads import remember_thread
from bot.slack.messages.additions import customer_message_in_triage
from bot.slack.messages.blocks import escape
from bot.slack.messages.consent import consent_answered_message, consent_message, consent_reminder_message
from bot.slack.messages.faults import fault_answered_text, fault_dm, fault_triage_card, reporter_told_text
from bot.slack.messages.receipts import filing_receipt
from bot.slack.messages.relay import IN_DM, IN_THREAD, NOWHERE, to_requester, triage_note
from bot.slack.messages.reopen import with_reopen_button
from bot.slack.messages.sla import breach_warning_text, customer_reminder_text, digest_text, unanswered_close_text
from bot.slack.messages.triage import handoff_card, triage_message
from bot.slack.messages.wording import ENGLISH, kind_text, status_text
from bot.slack.messages.workspaces import message_key as workspace_message_key
from bot.slack.messages.workspaces import workspace_card, workspace_linked_card
from bot.slack.people.channels import IsSupport, private_to_organization
from bot.slack.people.identity import IdentityUnavailable
from bot.slack.people.registry import People
from portal import outbox, services
from portal.bootstrap import Portal
from portal.domain.requests import WAITING_FOR_CUSTOMER
from portal.errors import UnknownRequest
from portal.languages import DEFAULT_LANGUAGE, Language, language_of
from portal.languages.texts import Texts, texts
from portal.outbox import OutboxEvent as Event
from portal.services.facts import RequestFacts
from portal.services.faults import (
    FAULT_REPORTED,
    FAULT_REPORTER_TOLD,
    FAULT_TICKET_OPENED,
    FAULT_TO_SUPPORT,
    FaultNotice,
)
from portal.services.handoff import HANDOFF_EVENT
from portal.services.sla import BREACH_WARNING_EVENT, CUSTOMER_REMINDER_EVENT, SLA_DIGEST_EVENT
from portal.services.transfers import CONSENT_REMINDER_EVENT

logger = logging.getLogger(__name__)
BATCH = 50

# What a withdrawal by the requester's side leads to (a transfer is cancelled).
WITHDRAWN_STATUSES = {"withdrawn", "cancelled"}

# Statuses a Service Operator's answer leads to: its own event already told the requester.
ANSWERED_STATUSES = {"awaiting_support", "declined_by_operator"}

HomeView = Callable[[str, str], Awaitable[dict[str, Any]]]  # (user id, team id) → their App Home view, as of now
Wording = Callable[[Texts], str]  # a text, in the language of the Texts given
Buttons = Callable[[str, Texts], list[dict[str, Any]]]  # a DM's text → its blocks, with buttons, in that language


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
            planned[index][1].extend(await self._home_refresh(planned[index][0], *person))
        async with self.portal.engine.begin() as conn:
            for event, deliveries in planned:
                # Claim the event first: of two notifiers, only one enqueues (keys make a repeat harmless too).
                if await outbox.mark_processed(conn, event.id, self.clock()) and deliveries:
                    await enqueue(conn, deliveries, self.clock())
        return len(planned)  # those left for later are not "busy": the loop waits before trying them again

    async def _home_refresh(self, event: Event, user_id: str, team_id: str) -> list[Delivery]:
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

    async def _ask_consent_to_transfer(self, event: Event, facts: RequestFacts) -> list[Delivery]:
        if facts.kind != "transfer":
            return []
        if facts.status == "awaiting_operator":
            unreachable = await self._unreachable_operators(facts)
            if unreachable and await services.send_unreachable_transfer_to_support(
                self.portal.uow(), facts.reference, unreachable
            ):
                # Gone to support at once: its own events update the triage card and tell the requester.
                logger.info("transfer sent to support: %d Service Operator(s) not reachable in Slack", len(unreachable))
                return []
        return await self._ask_consent(event, facts)

    async def _unreachable_operators(self, facts: RequestFacts) -> list[str]:
        """The Service Operators whose answer the transfer still needs and of whom nobody can be asked in Slack
        (no account, or no account of a person verified for it now). An operator one of whose people Slack could
        not look up this time is not counted: "unknown" is not "unreachable"."""
        needed = {c.operator for c in facts.chargers if c.answer is None}
        unsure: set[str] = set()
        users = await self.people.user_ids((email for _, email in facts.operator_accounts), unsure)
        reachable = {o for o, email in facts.operator_accounts if users.get(email.strip().lower())}
        uncertain = {o for o, email in facts.operator_accounts if email.strip().lower() in unsure}
        return sorted(needed - reachable - uncertain)

    async def _remind_consent(self, event: Event, facts: RequestFacts) -> list[Delivery]:
        """The one reminder: a new consent DM to the people of each Service Operator that has not answered yet."""
        if facts.kind != "transfer" or facts.status != "awaiting_operator":
            return []
        waiting = {c.operator for c in facts.chargers if c.answer is None}
        return await self._consent_dms(
            event, facts, "chat.postMessage", "consent-reminder", consent_reminder_message, only=waiting
        )

    async def _operator_unreachable(self, event: Event, facts: RequestFacts) -> list[Delivery]:
        return await self._tell_requester(event, facts, lambda t: _unreachable_text(facts, t))

    async def _receipt(self, event: Event, facts: RequestFacts) -> list[Delivery]:
        """A request filed in a channel: its requester gets a DM to keep (the confirmation there was ephemeral)."""
        origin = facts.origin or {}
        user_id = origin.get("slack_user_id")
        if not user_id or not _filed_in_channel(origin):
            return []
        text = filing_receipt(facts, await self._requester_texts(facts))
        receipt = _direct_message(str(user_id), text, f"ev{event.id}:receipt")
        # Remembered, so that the requester's reply in its DM thread is added to the request (threads.py).
        return [replace(receipt, message_key=f"receipt:{facts.reference}")]

    async def _operator_answered(self, event: Event, facts: RequestFacts) -> list[Delivery]:
        answered = await self._consent_answered(event, facts)
        return answered + await self._tell_requester(event, facts, lambda t: _answer_text(event, facts, t))

    async def _status_changed(self, event: Event, facts: RequestFacts) -> list[Delivery]:
        if event.payload.get("status") in ANSWERED_STATUSES or _waiting_news(event):
            return []

        def reopen_button(text: str, t: Texts) -> list[dict[str, Any]]:
            return with_reopen_button(text, facts.reference, t)

        resolved = facts.kind == "service_ticket" and facts.status == "resolved"
        buttons = reopen_button if resolved else None
        deliveries = await self._tell_requester(event, facts, lambda t: _status_text(event, facts, t), buttons)
        if facts.kind == "transfer" and facts.is_closed:
            deliveries += await self._consent_answered(event, facts)
        return deliveries

    async def _triage(self, event: Event, facts: RequestFacts) -> list[Delivery]:
        if not self.triage_channel:
            return []
        text, blocks = triage_message(facts, self.agent_texts)
        message_key = f"triage:{facts.reference}"
        if event.name == "request.opened":
            return [
                Delivery(
                    self.triage_channel,
                    "chat.postMessage",
                    {"channel": self.triage_channel, "text": text, "blocks": blocks},
                    key=f"ev{event.id}:triage",
                    message_key=message_key,
                )
            ]
        return [
            Delivery(
                self.triage_channel,
                "chat.update",
                {"channel": self.triage_channel, "text": text, "blocks": blocks},
                key=f"ev{event.id}:triage",
                message_key=message_key,
            )
        ]

    async def _ask_consent(self, event: Event, facts: RequestFacts) -> list[Delivery]:
        return await self._consent_dms(event, facts, "chat.postMessage", "consent", consent_message)

    async def _consent_answered(self, event: Event, facts: RequestFacts) -> list[Delivery]:
        return await self._consent_dms(event, facts, "chat.update", "consent-answered", consent_answered_message)

    async def _consent_dms(
        self,
        event: Event,
        facts: RequestFacts,
        method: str,
        purpose: str,
        render: Callable[[RequestFacts, str, Texts], tuple[str, list[dict[str, Any]]]],
        only: set[str] | None = None,
    ) -> list[Delivery]:
        """The consent DM of each Slack-known person of each current Service Operator (of those `only` names, when
        given): posted, or updated; each in the language of the person who reads it (not the requester's)."""
        deliveries: list[Delivery] = []
        accounts = [(o, email) for o, email in facts.operator_accounts if only is None or o in only]
        users = await self.people.user_ids(email for _, email in accounts)
        for operator, email in accounts:
            for user_id in users.get(email, []):
                text, blocks = render(facts, operator, await self._texts_of(user_id))
                deliveries.append(
                    Delivery(
                        user_id,
                        method,
                        {"channel": user_id, "text": text, "blocks": blocks},
                        key=f"ev{event.id}:{purpose}:{user_id}",
                        # A reminder is not remembered: the answer updates the consent DM itself, in place.
                        message_key=None if only is not None else f"consent:{facts.reference}:{user_id}",
                    )
                )
        return deliveries

    async def _texts_of(self, user_id: str) -> Texts:
        """What a DM to `user_id` is written in: their stored language, else their Slack locale's, else English."""
        return texts(await self.people.language_for(user_id))

    async def _requester_texts(self, facts: RequestFacts) -> Texts:
        """What news of a request is written in for its requester: the language the request was made in (its
        origin's), else the requester's own (stored, else their Slack locale's), else English."""
        origin = facts.origin or {}
        made_in = language_of(origin.get("language"))
        if made_in is not None:
            return texts(made_in)
        user_id = origin.get("slack_user_id")
        return await self._texts_of(str(user_id)) if user_id else ENGLISH

    async def _tell_requester(
        self, event: Event, facts: RequestFacts, wording: Wording, buttons: Buttons | None = None
    ) -> list[Delivery]:
        origin = facts.origin or {}
        user_id = origin.get("slack_user_id")
        if not user_id:
            return []
        t = await self._requester_texts(facts)
        text = wording(t)
        message: dict[str, Any] = {"channel": user_id, "text": text}
        if buttons is not None:
            message["blocks"] = buttons(text, t)
        # Remembered, so that the requester's reply in its DM thread is added to the request (threads.py).
        remembered = f"requester:{facts.reference}:{event.id}"
        deliveries = [
            Delivery(str(user_id), "chat.postMessage", message, key=f"ev{event.id}:requester", message_key=remembered)
        ]
        thread = _public_thread(origin)
        if thread is not None:
            # The thread learns that something happened, not what: a shared channel may hold other organizations.
            note = thread_note(facts.reference, str(user_id), t)
            deliveries.append(_thread_post(event, thread, note))
        return deliveries

    async def _filed_note(self, event: Event, facts: RequestFacts) -> list[Delivery]:
        """The channel thread a request was filed from learns its reference (the details went to the requester)."""
        origin = facts.origin or {}
        thread, user_id = _public_thread(origin), origin.get("slack_user_id")
        if thread is None or not user_id:
            return []
        t = await self._requester_texts(facts)
        return [_thread_post(event, thread, filed_note(facts.kind, facts.reference, str(user_id), t))]

    async def _relay(self, event: Event, facts: RequestFacts) -> list[Delivery]:
        """An agent's message to the requester: to them (their channel thread when only their organization reads
        it, else their DM), and a note of it for agents in the triage thread."""
        if event.payload.get("direction") != "to_requester":
            return []
        message = next((m for m in facts.messages if m.number == event.payload.get("number")), None)
        if message is None:
            return []
        kind, _, agent = message.author.partition(":")
        agent = agent if kind == "agent" else ""
        origin = facts.origin or {}
        user_id = origin.get("slack_user_id")
        deliveries: list[Delivery] = []
        where = NOWHERE
        if user_id:
            t = await self._requester_texts(facts)
            name = await self._agent_name(agent)
            # Remembered, so that the requester's reply in its thread can be matched to the request.
            message_key = f"relay:{facts.reference}:{message.number}"
            thread = _public_thread(origin)
            people = self.people
            if thread is not None and await private_to_organization(
                people.client, people.directory, self.portal, thread[0], facts.organization, self.is_support
            ):
                channel, ts = thread
                text = to_requester(facts.reference, name, message.text, message.asks, t, mention=str(user_id))
                payload = {"channel": channel, "thread_ts": ts, "text": text}
                deliveries.append(Delivery(channel, "chat.postMessage", payload, f"ev{event.id}:relay", message_key))
                where = IN_THREAD
            else:
                text = to_requester(facts.reference, name, message.text, message.asks, t)
                payload = {"channel": str(user_id), "text": text}
                deliveries.append(
                    Delivery(str(user_id), "chat.postMessage", payload, f"ev{event.id}:relay", message_key)
                )
                where = IN_DM
        if self.triage_channel:
            note = triage_note(agent, message.text, message.asks, where, self.agent_texts)
            payload = {"channel": self.triage_channel, "text": note, THREAD_OF: triage_key(facts.reference)}
            deliveries.append(Delivery(self.triage_channel, "chat.postMessage", payload, f"ev{event.id}:relay-note"))
        return deliveries

    async def _agent_name(self, user_id: str) -> str | None:
        """The name Slack shows for an agent (their display name, else their real name); None when Slack cannot
        say now (the message then comes from "Support")."""
        if not user_id:
            return None
        try:
            return (await self.people.directory.profile(user_id)).name
        except IdentityUnavailable:
            return None

    async def _tell_previous_operators(self, event: Event, facts: RequestFacts) -> list[Delivery]:
        users = await self.people.user_ids(email for _, email in facts.operator_accounts)
        deliveries = []
        for operator, email in facts.operator_accounts:
            serials = ", ".join(c.serial for c in facts.chargers if c.operator == operator)
            for user_id in users.get(email, []):
                t = await self._texts_of(user_id)
                text = t.gettext(
                    "Management transfer {reference} is completed: {serials} is now operated by {organization}."
                ).format(
                    reference=facts.reference,
                    serials=escape(serials),
                    organization=escape(facts.organization or t.gettext("the requesting organization")),
                )
                deliveries.append(_direct_message(user_id, text, f"ev{event.id}:previous:{user_id}"))
        return deliveries

    async def _refresh_cards_naming(self, event: Event, facts: RequestFacts) -> list[Delivery]:
        """A completed transfer changed its chargers' Service Operator: the triage cards of the other requests still
        under way on them show the new one (in place, once per event and card)."""
        if not self.triage_channel:
            return []
        serials = [c.serial for c in facts.chargers]
        deliveries = []
        for reference in await services.open_requests_naming(self.portal.uow(), serials, excluding=facts.reference):
            try:
                other = await services.request_facts(self.portal.uow(), reference)
            except UnknownRequest:
                continue
            text, blocks = triage_message(other, self.agent_texts)
            deliveries.append(
                Delivery(
                    self.triage_channel,
                    "chat.update",
                    {"channel": self.triage_channel, "text": text, "blocks": blocks},
                    key=f"ev{event.id}:triage:{reference}",
                    message_key=f"triage:{reference}",
                )
            )
        return deliveries

    async def _account_linked(self, event: Event) -> list[Delivery]:
        email = str(event.payload.get("email") or "")
        organization = event.payload.get("organization")
        users = await self.people.user_ids([email])
        deliveries = []
        for user_id in users.get(email, []):
            t = await self._texts_of(user_id)
            text = t.gettext(
                "Your support account is now linked to {organization}. You can now raise service tickets on the "
                "chargers it operates, and see them on my Home tab."
            ).format(organization=escape(str(organization or t.gettext("your organization"))))
            deliveries.append(_direct_message(user_id, text, f"ev{event.id}:linked:{user_id}"))
        return deliveries

    async def _fault_reported(self, event: Event) -> list[Delivery]:
        """The DM of each verified person of the charger's Service Operator; nobody reachable: support has it."""
        notice = await services.fault_notice(self.portal.uow(), event.reference or "")
        if notice is None or notice.status != "sent":
            return []
        unsure: set[str] = set()
        users = await self.people.user_ids(notice.operator_emails, unsure)
        if not any(users.get(e.strip().lower()) for e in notice.operator_emails):
            if unsure:
                # "Unknown" (a look-up that failed this time) is not "unreachable": the event waits for a next round.
                raise IdentityUnavailable
            if await services.send_unreachable_fault_to_support(self.portal.uow(), notice.reference, [notice.operator]):
                logger.info("fault report sent to support: its Service Operator is not reachable in Slack")
            return []
        return [
            self._fault_dm(event, notice, user_id, await self._texts_of(user_id), "chat.postMessage")
            for email in notice.operator_emails
            for user_id in users.get(email.strip().lower(), [])
        ]

    def _fault_dm(self, event: Event, notice: FaultNotice, user_id: str, t: Texts, method: str) -> Delivery:
        if method == "chat.postMessage":
            text, blocks = fault_dm(notice, t)
            message: dict[str, Any] = {"channel": user_id, "text": text, "blocks": blocks}
        else:
            message = {"channel": user_id, "text": fault_answered_text(notice, t), "blocks": []}
        return Delivery(
            user_id,
            method,
            message,
            key=f"ev{event.id}:fault:{user_id}",
            message_key=f"fault:{notice.reference}:{user_id}",
        )

    async def _fault_to_support(self, event: Event) -> list[Delivery]:
        """Support's card; after "not ours any more", the operator's DMs say so in place of their buttons."""
        notice = await services.fault_notice(self.portal.uow(), event.reference or "")
        if notice is None:
            return []
        reason = str(event.payload.get("reason") or "")
        deliveries: list[Delivery] = []
        if self.triage_channel:
            text = fault_triage_card(notice, reason, self.agent_texts)
            message = {"channel": self.triage_channel, "text": text}
            deliveries.append(Delivery(self.triage_channel, "chat.postMessage", message, key=f"ev{event.id}:fault"))
        if reason == "not_ours":
            deliveries += await self._fault_answered(event, notice)
        return deliveries

    async def _fault_ticket_opened(self, event: Event) -> list[Delivery]:
        """One of the operator's people opened a ticket from the report: every DM of it says so, without buttons."""
        notice = await services.fault_notice(self.portal.uow(), event.reference or "")
        return await self._fault_answered(event, notice) if notice is not None else []

    async def _fault_answered(self, event: Event, notice: FaultNotice) -> list[Delivery]:
        users = await self.people.user_ids(notice.operator_emails)
        return [
            self._fault_dm(event, notice, user_id, await self._texts_of(user_id), "chat.update")
            for email in notice.operator_emails
            for user_id in users.get(email.strip().lower(), [])
        ]

    async def _fault_reporter_told(self, event: Event) -> list[Delivery]:
        """The reporter learns that support has their report: a DM to each of their verified Slack people (and the
        user it was reported from), in the language it was reported in, else theirs; and their App Home anew."""
        reporter = await services.fault_reporter(self.portal.uow(), event.reference or "")
        if reporter is None:
            return []
        found = (await self.people.user_ids([reporter.email])).get(reporter.email.strip().lower(), [])
        users = list(dict.fromkeys([*([reporter.slack_user_id] if reporter.slack_user_id else []), *found]))
        reason = str(event.payload.get("reason") or "")
        made_in = language_of(reporter.language)
        deliveries: list[Delivery] = []
        for user_id in users:
            t = texts(made_in) if made_in is not None else await self._texts_of(user_id)
            text = reporter_told_text(reporter.summary, reason, t)
            deliveries.append(_direct_message(user_id, text, f"ev{event.id}:fault-reporter:{user_id}"))
            deliveries += await self._home_refresh(event, user_id, reporter.slack_team_id or "")
        return deliveries

    async def _handoff(self, event: Event) -> list[Delivery]:
        """Someone the portal cannot name asked for a person: support gets a card with where to answer them."""
        if not self.triage_channel:
            return []
        text, blocks = handoff_card(event.payload, self.agent_texts)
        return [
            Delivery(
                self.triage_channel,
                "chat.postMessage",
                {"channel": self.triage_channel, "text": text, "blocks": blocks},
                key=f"ev{event.id}:handoff",
            )
        ]

    async def _workspace(self, event: Event) -> list[Delivery]:
        team_id = str(event.payload.get("team_id") or "")
        if not self.triage_channel or not team_id:
            return []
        if event.name == "workspace.verification_requested":
            method = "chat.postMessage"
            team_name = event.payload.get("team_name")
            asked_by = event.payload.get("asked_by")
            text, blocks = workspace_card(team_id, str(team_name) if team_name else None, asked_by, self.agent_texts)
        elif event.name == "workspace.linked" and event.payload.get("asked"):
            method = "chat.update"
            organization, actor = str(event.payload.get("organization")), str(event.payload.get("actor"))
            text, blocks = workspace_linked_card(team_id, organization, actor, self.agent_texts)
        else:
            return []  # linked from the CLI, an import or the demo data: no card was ever posted
        return [
            Delivery(
                self.triage_channel,
                method,
                {"channel": self.triage_channel, "text": text, "blocks": blocks},
                key=f"ev{event.id}:workspace",
                message_key=workspace_message_key(team_id),
            )
        ]

    async def _sla_digest(self, event: Event) -> list[Delivery]:
        """The day's digest, posted once (the event's key is the day's) in the triage channel."""
        if not self.triage_channel:
            return []
        text = digest_text(event.payload, self.agent_texts)
        message = {"channel": self.triage_channel, "text": text}
        return [Delivery(self.triage_channel, "chat.postMessage", message, key=f"ev{event.id}:digest")]

    async def _breach_warning(self, event: Event, facts: RequestFacts) -> list[Delivery]:
        """The assignee (whoever has it now) learns that a target is about to pass; nobody's request: nothing."""
        if not facts.assignee or facts.is_closed:
            return []
        text = breach_warning_text(facts, event.payload, self.agent_texts)
        return [_direct_message(facts.assignee, text, f"ev{event.id}:sla-warning")]

    async def _remind_customer(self, event: Event, facts: RequestFacts) -> list[Delivery]:
        """The requester's one reminder, unless they answered (or it ended) since it was recorded."""
        if facts.status != "waiting_for_customer":
            return []
        number = event.payload.get("number")
        question = next((m.text for m in facts.messages if m.number == number), None)
        close_on = date.fromisoformat(str(event.payload.get("close_on")))
        return await self._tell_requester(event, facts, lambda t: customer_reminder_text(facts, question, close_on, t))


async def _remember_request_thread(notifier: Notifier, event: Event, facts: RequestFacts) -> list[Delivery]:
    """A request filed from a channel thread: the thread is remembered as the request's, so that the customer's
    later messages there are added to it (ingress/threads.py). Before the filed note is posted, which invites them."""
    thread = _public_thread(facts.origin or {})
    if thread is not None:
        await remember_thread(notifier.portal.engine, *thread, facts.reference, notifier.clock())
    return []


async def _customer_message_to_triage(notifier: Notifier, event: Event, facts: RequestFacts) -> list[Delivery]:
    """The requester's side added to the request: the triage thread gets it, marked as the customer's, in the
    agents' language. Nothing goes to any customer channel (the customer was answered where they wrote)."""
    if event.payload.get("direction") != "from_requester" or not notifier.triage_channel:
        return []
    number = event.payload.get("number")
    message = next((m for m in facts.messages if m.number == number), None)
    if message is None:
        return []
    email = message.author.partition(":")[2]
    try:
        users = (await notifier.people.user_ids([email])).get(email.strip().lower(), []) if email else []
    except IdentityUnavailable:  # the email says who wrote it: the message need not wait for Slack's answer
        users = []
    text = customer_message_in_triage(message, users, notifier.agent_texts)
    channel = notifier.triage_channel
    payload = {"channel": channel, "text": text, THREAD_OF: f"triage:{facts.reference}"}
    return [Delivery(channel, "chat.postMessage", payload, key=f"ev{event.id}:triage-customer")]


EventHandler = Callable[[Notifier, Event], Awaitable[list[Delivery]]]
RequestHandler = Callable[[Notifier, Event, RequestFacts], Awaitable[list[Delivery]]]

# What each event leads to, as cosmicpython's message bus has it: a table, not an if-chain. Events about no request
# are handled from their payload alone.
EVENT_HANDLERS: dict[str, EventHandler] = {
    "account.linked": Notifier._account_linked,
    "workspace.verification_requested": Notifier._workspace,
    "workspace.linked": Notifier._workspace,
    HANDOFF_EVENT: Notifier._handoff,
    SLA_DIGEST_EVENT: Notifier._sla_digest,
    FAULT_REPORTED: Notifier._fault_reported,
    FAULT_TO_SUPPORT: Notifier._fault_to_support,
    FAULT_TICKET_OPENED: Notifier._fault_ticket_opened,
    FAULT_REPORTER_TOLD: Notifier._fault_reporter_told,
}

# Events about a request: its facts are read once and given to each handler, in order; the requester's App Home is
# refreshed after any of them (an event missing here still refreshes it).
REQUEST_HANDLERS: dict[str, tuple[RequestHandler, ...]] = {
    "request.opened": (
        _remember_request_thread,
        Notifier._triage,
        Notifier._filed_note,
        Notifier._receipt,
        Notifier._ask_consent_to_transfer,
    ),
    "request.assigned": (Notifier._triage,),
    "request.status_changed": (Notifier._triage, Notifier._status_changed),
    "transfer.consented": (Notifier._triage, Notifier._operator_answered),
    "transfer.declined": (Notifier._triage, Notifier._operator_answered),
    "transfer.completed": (Notifier._tell_previous_operators, Notifier._refresh_cards_naming),
    CONSENT_REMINDER_EVENT: (Notifier._remind_consent,),
    "transfer.operator_unreachable": (Notifier._operator_unreachable,),
    "request.message": (_customer_message_to_triage, Notifier._relay),
    BREACH_WARNING_EVENT: (Notifier._breach_warning,),
    CUSTOMER_REMINDER_EVENT: (Notifier._remind_customer,),
}


def thread_note(reference: str, requester: str, t: Texts = ENGLISH) -> str:
    """The public note in a request's thread: its reference, and that the requester has the details privately."""
    return t.gettext("There's an update on {reference}; {requester} has the details in a direct message.").format(
        reference=escape(reference), requester=f"<@{requester}>"
    )


def filed_note(kind: str, reference: str, requester: str, t: Texts = ENGLISH) -> str:
    """The public note in the thread a request was filed from: who filed what, and that support answers there."""
    return t.gettext("{requester} filed {kind} {reference}. Support will follow up in this thread.").format(
        requester=f"<@{requester}>", kind=kind_text(t, kind), reference=escape(reference)
    )


def _public_thread(origin: dict[str, Any]) -> tuple[str, str] | None:
    """The channel thread a request came from, unless it came from a DM (whose messages the requester gets anyway)."""
    channel, thread = origin.get("channel_id"), origin.get("thread_ts")
    if not channel or not thread or str(channel).startswith("D") or origin.get("surface") == "im":
        return None
    return str(channel), str(thread)


def _waiting_news(event: Event) -> bool:
    """Whether a status change is support starting to wait for the requester's answer, or the requester's own
    answer ending the wait: the question and the answer are the news, so no status DM repeats them. Anything else
    out of waiting (a decision, a withdrawal, closing it unanswered) is told as usual."""
    payload = event.payload
    if payload.get("status") == WAITING_FOR_CUSTOMER:
        return True
    answered = str(payload.get("actor") or "").startswith("account:")
    return payload.get("from") == WAITING_FOR_CUSTOMER and answered and payload.get("status") not in WITHDRAWN_STATUSES


def _direct_message(user_id: str, text: str, key: str) -> Delivery:
    """A DM to `user_id` (posting to a user id opens the conversation with the app), once per `key`."""
    return Delivery(user_id, "chat.postMessage", {"channel": user_id, "text": text}, key=key)


def _thread_post(event: Event, thread: tuple[str, str], text: str) -> Delivery:
    """A note in a request's thread, once per event (the key)."""
    channel, ts = thread
    return Delivery(
        channel, "chat.postMessage", {"channel": channel, "thread_ts": ts, "text": text}, key=f"ev{event.id}:thread"
    )


def _filed_in_channel(origin: dict[str, Any]) -> bool:
    """Whether a request was filed in a channel (where its confirmation was ephemeral), not in the requester's DM."""
    channel = origin.get("channel_id")
    return bool(channel) and not str(channel).startswith("D") and origin.get("surface") != "im"


def _origin_user(facts: RequestFacts) -> tuple[str, str] | None:
    origin = facts.origin or {}
    user, team = origin.get("slack_user_id"), origin.get("slack_team_id")
    return (str(user), str(team or "")) if user else None


def _answer_text(event: Event, facts: RequestFacts, t: Texts = ENGLISH) -> str:
    operator = next((c.operator for c in facts.chargers if c.answer), None)
    who = escape(operator) if operator else t.gettext("The current Service Operator")
    if event.name == "transfer.consented":
        return t.gettext("{operator} consented to your management transfer {reference}. It is now {status}.").format(
            operator=who, reference=facts.reference, status=status_text(t, facts.kind, facts.status)
        )
    reason = facts.history[-1].reason if facts.history else None
    text = t.gettext("{operator} declined your management transfer {reference}.").format(
        operator=who, reference=facts.reference
    )
    if reason:
        text += " " + t.gettext("Their reason: {reason}").format(reason=escape(reason))
    return text


def _unreachable_text(facts: RequestFacts, t: Texts = ENGLISH) -> str:
    return t.gettext(
        "Nobody of the current Service Operator of your chargers can be reached in Slack to consent, so your "
        "management transfer {reference} has gone straight to our support team, who will decide on it. You don't "
        "need to do anything."
    ).format(reference=facts.reference)


def _status_text(event: Event, facts: RequestFacts, t: Texts = ENGLISH) -> str:
    last = facts.history[-1] if facts.history else None
    if facts.duplicate_of and facts.is_closed:
        return t.gettext(
            "Your {kind} {reference} describes the same problem as {other}, so support closed it and continues "
            "under {other}."
        ).format(kind=kind_text(t, facts.kind), reference=facts.reference, other=escape(facts.duplicate_of))
    if last and last.from_status == "waiting_for_customer" and last.actor == "system" and facts.is_closed:
        return unanswered_close_text(facts, t)  # its recorded reason is the portal's English, for the history
    text = t.gettext("Your {kind} {reference} is now {status}.").format(
        kind=kind_text(t, facts.kind), reference=facts.reference, status=status_text(t, facts.kind, facts.status)
    )
    if last and last.reason:
        text += " " + t.gettext("Reason: {reason}").format(reason=escape(last.reason))
    if last and facts.status in WITHDRAWN_STATUSES and last.actor != f"account:{facts.requester_email}":
        # A colleague of the requester's organization withdrew it: the requester learns who.
        who = escape(last.actor.partition(":")[2] or last.actor)
        text += " " + t.gettext("It was withdrawn by {who}.").format(who=who)
    if facts.kind == "service_ticket" and facts.status == "resolved":
        text += " " + t.gettext("If the problem comes back, press Reopen and support picks it up again.")
    if facts.kind == "transfer" and facts.status == "completed":
        serials = ", ".join(c.serial for c in facts.chargers)
        text += " " + t.gettext(
            "Your organization is now the Service Operator of {serials}: you can raise service tickets on it."
        ).format(serials=escape(serials))
    return text
