"""Use cases: a resolved service ticket reopened, followed up, rejected or closed as a duplicate (issue 16 §3).

Reopening: the requester, or anyone of the organization that asked (the rule of withdrawals), within the reopen
window after the resolution (`Portal.reopen_days`, CHARGEDESK_REOPEN_DAYS); agents at any time. Authorization comes
before state, as for withdrawals: a reference that does not exist and one the person may not see both raise
UnknownRequest; one they may see but not act for raises NotRequester. After the window, ReopenWindowClosed: the
surface offers a new ticket that follows the old one (`open_follow_up_ticket`).

Each is one transaction: the status change, its history entry and the `request.status_changed` event in the outbox,
from which the triage card is updated and the requester told. Pressing twice finds the ticket reopened already
(InvalidTransition): one change, one event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portal.domain.actors import Actor, Customer
from portal.domain.organizations import Account
from portal.domain.requests import SupportRequest, normalise_reference
from portal.domain.service_tickets import DEFAULT_REOPEN_DAYS, ServiceTicket
from portal.domain.text import clean_description
from portal.errors import InvalidTransition, NotRequester, UnknownRequest
from portal.services._loading import load_account, load_request
from portal.services.asked import file_once, filed_before
from portal.services.tickets import add_ticket
from portal.unit_of_work import UnitOfWork
from portal.views import RequestSummary, summarize


async def reopen_ticket(
    uow: UnitOfWork, email: str | None, reference: str, reason: str | None = None, *, days: int = DEFAULT_REOPEN_DAYS
) -> RequestSummary:
    """The customer's side reopens `reference` (the person with `email`); returns the ticket as it is now."""
    async with uow:
        account = await load_account(uow, email)
        ticket = await _authorized(uow, account, reference)
        ticket.reopen(Customer(account.email), uow.clock(), reason, account=account, days=days)
        await uow.commit()
        return summarize(ticket)


async def reopen_ticket_as_agent(
    uow: UnitOfWork, actor: Actor, reference: str, reason: str | None = None
) -> RequestSummary:
    """An agent reopens a resolved ticket, whenever it was resolved."""
    async with uow:
        ticket = await load_request(uow, reference, ServiceTicket, "reopened")
        ticket.reopen(actor, uow.clock(), reason, days=0)
        await uow.commit()
        return summarize(ticket)


async def open_follow_up_ticket(
    uow: UnitOfWork,
    email: str | None,
    reference: str,
    description: str,
    origin: Mapping[str, Any] | None = None,
) -> RequestSummary:
    """A new ticket on the charger of the resolved ticket `reference`, which it follows (the old one could no longer
    be reopened). Who may: as for reopening; the charger's Service Operator rule applies again (it may have moved).
    Filed once per intent (the origin's key)."""
    description = clean_description(description)

    async def file() -> RequestSummary:
        async with uow:
            if (again := await filed_before(uow, origin)) is not None:
                return again
            account = await load_account(uow, email)
            old = await _authorized(uow, account, reference, for_update=False)
            if not old.serials:
                raise InvalidTransition(old.reference, str(old.status), "followed up")
            ticket = await add_ticket(uow, email, old.serials[0], description, origin, follows=old.reference)
            await uow.commit()
            return summarize(ticket)

    return await file_once(uow, origin, file)


async def close_as_duplicate(uow: UnitOfWork, actor: Actor, reference: str, original: str) -> RequestSummary:
    """Close `reference` as a duplicate of the service ticket `original` (as typed: "st-12" works), linking them."""
    async with uow:
        ticket = await load_request(uow, reference, ServiceTicket, "closed as a duplicate")
        other = normalise_reference(original)
        found: SupportRequest | None = await uow.requests.get(other) if other else None
        if found is None:
            raise UnknownRequest(original.strip()[:40])
        ticket.close_as_duplicate(actor, uow.clock(), found)
        await uow.commit()
        return summarize(ticket)


async def _authorized(uow: UnitOfWork, account: Account, reference: str, *, for_update: bool = True) -> ServiceTicket:
    request = await uow.requests.get(reference, for_update=for_update) if reference.strip() else None
    if request is None or not request.visible_to(account):
        raise UnknownRequest(reference)
    if not request.acts_for_requester(account):
        raise NotRequester("only the requester or their organization may reopen this request")
    if not isinstance(request, ServiceTicket):
        raise InvalidTransition(request.reference, str(request.status), "reopened")
    return request
