"""Use cases for notifiers: everything about a request, for the surfaces to share with whom it may concern.

Unlike `get_request`, nothing here is filtered by viewer: only notification code that decides per recipient
(agents see everything; the requester sees their request; a Service Operator sees its chargers) calls these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from portal.adapters import tables
from portal.domain.requests import SupportRequest
from portal.errors import UnknownRequest
from portal.unit_of_work import UnitOfWork
from portal.views import MessageView, TransitionView


@dataclass(frozen=True)
class ChargerFacts:
    serial: str
    operator: str  # the Service Operator when the request was opened
    current_operator: str
    warranty_until: date | None
    in_warranty: bool | None
    answer: str | None  # transfers: consented / declined
    answered_by: str | None


@dataclass(frozen=True)
class RequestFacts:
    reference: str
    kind: str
    status: str
    topic: str | None
    description: str
    requester_email: str
    organization: str | None
    assignee: str | None
    resolution: str | None
    origin: dict[str, Any] | None
    created_at: datetime
    chargers: tuple[ChargerFacts, ...]
    history: tuple[TransitionView, ...]
    operator_accounts: tuple[tuple[str, str], ...]  # (organization, email) of the Service Operators' accounts
    is_closed: bool
    follows: str | None = None  # the resolved ticket this one follows up
    duplicate_of: str | None = None  # the ticket this one was closed as a duplicate of
    messages: tuple[MessageView, ...] = ()  # its conversation between support and the customer's side
    updated_at: datetime | None = None


async def request_facts(uow: UnitOfWork, reference: str) -> RequestFacts:
    async with uow:
        request = await uow.requests.get(reference)
        if request is None:
            raise UnknownRequest(reference)
        return await _facts(uow, request)


async def _facts(uow: UnitOfWork, request: SupportRequest) -> RequestFacts:
    chargers = await uow.chargers.by_ids([line.charger_id for line in request.lines])
    org_ids = {request.organization_id, *(line.operator_id for line in request.lines)}
    org_ids |= {c.service_operator_id for c in chargers.values()}
    names = await uow.organizations.names([i for i in org_ids if i is not None])
    emails = await uow.accounts.emails([request.requester_account_id])
    today = uow.clock().date()
    operator_accounts: list[tuple[str, str]] = []
    if request.request_kind.value == "transfer":
        for operator_id in sorted({line.operator_id for line in request.lines}):
            name = names.get(operator_id, "?")
            operator_accounts += [(name, a.email) for a in await uow.accounts.of_organization(operator_id)]
    return RequestFacts(
        reference=request.reference,
        kind=request.request_kind.value,
        status=str(request.status),
        topic=request.topic,
        description=request.description,
        requester_email=emails.get(request.requester_account_id, "?"),
        organization=names.get(request.organization_id) if request.organization_id else None,
        assignee=request.assignee,
        resolution=request.resolution,
        origin=request.origin,
        created_at=request.created_at,
        chargers=tuple(
            ChargerFacts(
                serial=line.serial,
                operator=names.get(line.operator_id, "?"),
                current_operator=names.get(chargers[line.charger_id].service_operator_id, "?")
                if line.charger_id in chargers
                else "?",
                warranty_until=chargers[line.charger_id].warranty_until if line.charger_id in chargers else None,
                in_warranty=chargers[line.charger_id].in_warranty(today) if line.charger_id in chargers else None,
                answer=line.answer,
                answered_by=line.answered_by,
            )
            for line in request.lines
        ),
        history=tuple(TransitionView(t.from_status, t.to_status, t.actor, t.at, t.reason) for t in request.history),
        operator_accounts=tuple(operator_accounts),
        is_closed=request.is_closed,
        follows=request.follows,
        duplicate_of=request.duplicate_of,
        messages=tuple(MessageView.of(m) for m in request.messages),
        updated_at=request.updated_at,
    )


async def organization_names(uow: UnitOfWork) -> list[str]:
    """Every organization, by name (for agents linking an account)."""
    async with uow:
        rows = await uow.session.scalars(select(tables.organizations.c.name).order_by(tables.organizations.c.name))
        return list(rows)
