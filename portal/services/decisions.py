"""Use cases: support decisions that apply to more than one request kind."""

from __future__ import annotations

from portal.domain.actors import Actor
from portal.domain.administrative import AdministrativeRequest
from portal.domain.requests import SupportRequest
from portal.domain.service_tickets import ServiceTicket, TicketStatus
from portal.domain.transfers import TransferRequest
from portal.errors import InvalidTransition
from portal.services._loading import load_request
from portal.unit_of_work import UnitOfWork
from portal.views import RequestSummary, summarize


async def reject_request(uow: UnitOfWork, actor: Actor, reference: str, reason: str) -> RequestSummary:
    """Reject a request (a transfer, an administrative request or a service ticket), with a reason."""
    async with uow:
        request: SupportRequest = await load_request(uow, reference, SupportRequest, "rejected")
        if isinstance(request, TransferRequest | AdministrativeRequest | ServiceTicket):
            request.reject(actor, uow.clock(), reason)
        else:
            raise InvalidTransition(request.reference, str(request.status), "rejected")
        await uow.commit()
        return summarize(request)


async def assign_request(uow: UnitOfWork, actor: Actor, reference: str) -> RequestSummary:
    async with uow:
        request = await load_request(uow, reference, SupportRequest, "assigned")
        request.assign(actor, uow.clock())
        await uow.commit()
        return summarize(request)


async def set_ticket_status(
    uow: UnitOfWork, actor: Actor, reference: str, status: TicketStatus | str, reason: str | None = None
) -> RequestSummary:
    async with uow:
        ticket = await load_request(uow, reference, ServiceTicket, f"moved to {status}")
        ticket.set_status(actor, status, uow.clock(), reason)
        await uow.commit()
        return summarize(ticket)
