"""Use case: open a service ticket."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from portal.domain.requests import RequestKind
from portal.domain.service_tickets import ServiceTicket
from portal.domain.text import clean_description
from portal.errors import NotEligible
from portal.services.asked import file_once, filed_before, keep_files, note_origin
from portal.services.eligibility import decide
from portal.unit_of_work import UnitOfWork
from portal.views import RequestSummary, summarize


async def open_service_ticket(
    uow: UnitOfWork,
    email: str | None,
    serial: str,
    description: str,
    origin: Mapping[str, Any] | None = None,
    files: Sequence[Mapping[str, str]] = (),
) -> RequestSummary:
    """Open a ticket when the account's organization is the charger's Service Operator; `files` (the photo of the
    label the serial was read from, as a surface's file references) are kept on it as the requester's.

    Raises NotEligible carrying the decision otherwise, so the surface can explain why and what to do.
    """
    description = clean_description(description)

    async def file() -> RequestSummary:
        async with uow:
            if (again := await filed_before(uow, origin)) is not None:
                return again
            ticket = await add_ticket(uow, email, serial, description, origin, files=files)
            await uow.commit()
            return summarize(ticket)

    return await file_once(uow, origin, file)


async def add_ticket(
    uow: UnitOfWork,
    email: str | None,
    serial: str,
    description: str,
    origin: Mapping[str, Any] | None,
    follows: str | None = None,
    files: Sequence[Mapping[str, str]] = (),
) -> ServiceTicket:
    """Inside an open transaction: the eligibility decision, then the new ticket added (not committed).

    Raises NotEligible carrying the decision when the account's organization may not raise one on `serial`.
    """
    decided = await decide(uow, email, serial)
    if not decided.decision.may_raise_ticket:
        raise NotEligible(decided.decision)
    assert decided.account is not None and decided.charger is not None
    reference = await uow.references.next(RequestKind.SERVICE_TICKET)
    ticket = ServiceTicket.open(reference, decided.account, decided.charger, description, uow.clock(), follows=follows)
    note_origin(ticket, origin)
    keep_files(ticket, decided.account, files, uow.clock())
    uow.requests.add(ticket)
    return ticket
