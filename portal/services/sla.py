"""Use cases that keep anything from stalling unseen (issue 16 §4): the daily SLA digest, the assignee's warning
before a target passes, and the requests waiting for the customer's answer (one reminder, then closed).

Each records an outbox event under a unique key (`DomainEvent.key`), as the consent reminder does
(transfers.remind_awaited_consents): a second process, or this one after a restart, finds it recorded and records
nothing; two racing both try, the database keeps one and the loser's batch is left to the winner. The notifier
turns the events into Slack messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.adapters import tables
from portal.domain.events import DomainEvent
from portal.domain.requests import WAITING_FOR_CUSTOMER, SupportRequest
from portal.domain.sla import RequestSla, SlaClock, SlaRules, SlaState, sla_of
from portal.services.overview import ACTIVE_STATUSES, in_statuses
from portal.unit_of_work import UnitOfWork

SLA_DIGEST_EVENT = "sla.digest"
BREACH_WARNING_EVENT = "sla.breach_warning"
CUSTOMER_REMINDER_EVENT = "request.customer_reminder"
DIGEST_LIMIT = 40  # lines per part of the digest; the rest is counted ("and 12 more")
# Why a request ended when its customer never answered (its history keeps it; the requester's DM says it in words).
UNANSWERED_REASON = "no answer to support's question within {days} days"


def digest_key(day: date) -> str:
    """The outbox key of a UTC day's one digest."""
    return f"sla-digest:{day.isoformat()}"


def breach_warning_key(reference: str, target: str) -> str:
    """The outbox key of a request's one warning for one target (first_response / resolution)."""
    return f"sla-warning:{reference}:{target}"


def customer_reminder_key(reference: str, question: int) -> str:
    """The outbox key of the one reminder about support's question number `question` of a request."""
    return f"customer-reminder:{reference}:{question}"


@dataclass(frozen=True)
class SlaItem:
    """An open request with its clocks, as the digest and the queue show it."""

    reference: str
    kind: str
    status: str
    organization: str | None
    assignee: str | None
    created_at: datetime
    sla: RequestSla


def sla_line(item: SlaItem, now: datetime) -> dict[str, Any]:
    """An item as the digest's payload keeps it: plain values (minutes), rendered later in the agents' language."""
    clock = item.sla.breached or item.sla.current
    return {
        "reference": item.reference,
        "kind": item.kind,
        "organization": item.organization,
        "assignee": item.assignee,
        "age_minutes": _minutes(now - item.created_at),
        **clock_payload(clock, item.sla.paused_in),
    }


def clock_payload(clock: SlaClock, paused_in: str | None) -> dict[str, Any]:
    return {
        "target": clock.target.value,
        "state": clock.state.value,
        "left_minutes": _minutes(clock.left),
        "paused_in": paused_in,
    }


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


async def open_items(uow: UnitOfWork, rules: SlaRules) -> list[SlaItem]:
    """Every request still under way, oldest first, with its clocks as of now (inside `uow`'s transaction)."""
    rq, org = tables.requests, tables.organizations
    query = (
        select(SupportRequest, org.c.name)
        .outerjoin(org, org.c.id == rq.c.organization_id)
        .where(in_statuses(ACTIVE_STATUSES))
        .order_by(rq.c.created_at, rq.c.id)
    )
    now = uow.clock()
    return [
        SlaItem(
            request.reference,
            request.request_kind.value,
            str(request.status),
            organization,
            request.assignee,
            request.created_at,
            sla_of(request.request_kind, request.history, request.messages, now, rules),
        )
        for request, organization in (await uow.session.execute(query)).all()
    ]


def is_unassigned_for_support(item: SlaItem) -> bool:
    """Nobody has it, and the next step is support's (not the customer's or the current Service Operator's)."""
    return item.assignee is None and item.sla.paused_in is None


async def record_sla_digest(uow: UnitOfWork, rules: SlaRules, digest_hour: int) -> bool:
    """Today's digest (late requests first, then the unassigned ones), once per UTC day from `digest_hour` on.
    True when this call recorded it."""
    async with uow:
        now = uow.clock()
        key = digest_key(now.date())
        if now.hour < digest_hour or await uow.recorded_under(key):
            return False
        items = await open_items(uow, rules)
        late = [i for i in items if i.sla.breached is not None]
        unassigned = [i for i in items if is_unassigned_for_support(i) and i.sla.breached is None]
        payload = {
            "day": now.date().isoformat(),
            "late": [sla_line(i, now) for i in late[:DIGEST_LIMIT]],
            "late_count": len(late),
            "unassigned": [sla_line(i, now) for i in unassigned[:DIGEST_LIMIT]],
            "unassigned_count": len(unassigned),
        }
        uow.record(DomainEvent(SLA_DIGEST_EVENT, None, payload, key=key))
        try:
            await uow.commit()
        except IntegrityError:
            return False  # another process recorded today's digest first
        return True


async def warn_before_breach(uow: UnitOfWork, rules: SlaRules) -> list[str]:
    """Assigned requests whose running clock is due soon (or already late, when no check saw it due soon) get one
    warning per target; the notifier DMs the assignee. Unassigned ones get none: the digest shows them.
    Returns the references warned now."""
    async with uow:
        warned: list[str] = []
        for item in await open_items(uow, rules):
            if item.assignee is None:
                continue
            for clock in (item.sla.first_response, item.sla.resolution):
                if clock.state not in (SlaState.DUE_SOON, SlaState.BREACHED):
                    continue
                key = breach_warning_key(item.reference, clock.target.value)
                if await uow.recorded_under(key):
                    continue
                payload = {"kind": item.kind, "assignee": item.assignee, **clock_payload(clock, None)}
                uow.record(DomainEvent(BREACH_WARNING_EVENT, item.reference, payload, key=key))
                warned.append(item.reference)
                break  # one warning per round and request: the first response's comes first
        if not warned:
            return []
        try:
            await uow.commit()
        except IntegrityError:
            return []  # another process recorded these warnings first
        return warned


async def remind_waiting_customers(
    uow: UnitOfWork, remind_after: timedelta, close_after: timedelta
) -> tuple[list[str], list[str]]:
    """Requests waiting for the customer's answer: `remind_after` support's last question, one reminder (the notifier
    tells the requester); `close_after` it, closed for want of an answer (its status change tells them), but never
    sooner than `close_after - remind_after` after the reminder, so that a reminder recorded late (the process was
    down) still leaves the customer that time to answer. Returns the references reminded and those closed."""
    async with uow:
        now = uow.clock()
        reminded: list[str] = []
        closed: list[str] = []
        rq = tables.requests
        waiting = select(rq.c.reference).where(rq.c.status == WAITING_FOR_CUSTOMER).order_by(rq.c.id)
        for reference in list(await uow.session.scalars(waiting)):
            request = await uow.requests.get(reference, for_update=True)
            if request is None or not request.is_waiting_for_customer:
                continue
            question = _last_question(request)
            if question is None:
                continue
            number, asked_at = question
            key = customer_reminder_key(reference, number)
            reminded_at = await _recorded_at(uow, key)
            if reminded_at is None:
                if now - asked_at >= remind_after:
                    close_on = max(asked_at + close_after, now + close_after - remind_after).date()
                    payload = {"kind": request.request_kind.value, "number": number, "close_on": close_on.isoformat()}
                    uow.record(DomainEvent(CUSTOMER_REMINDER_EVENT, reference, payload, key=key))
                    reminded.append(reference)
            elif now - asked_at >= close_after and now - reminded_at >= close_after - remind_after:
                request.close_unanswered(now, UNANSWERED_REASON.format(days=close_after.days))
                closed.append(reference)
        if not reminded and not closed:
            return [], []
        try:
            await uow.commit()
        except IntegrityError:
            return [], []  # another process recorded these first; its round did the same
        return reminded, closed


def _last_question(request: SupportRequest) -> tuple[int, datetime] | None:
    """Support's latest question (the message the request waits on): its number and when it was asked."""
    asked = [m for m in request.messages if m.asks]
    if not asked:
        since = request.waiting_since
        return (0, since) if since is not None else None
    last = max(asked, key=lambda m: m.number)
    return last.number, last.at


async def _recorded_at(uow: UnitOfWork, key: str) -> datetime | None:
    outbox = tables.outbox
    found: datetime | None = await uow.session.scalar(select(outbox.c.created_at).where(outbox.c.origin_key == key))
    if found is not None and found.tzinfo is None:
        found = found.replace(tzinfo=UTC)  # SQLite keeps no zone; the portal writes UTC
    return found
