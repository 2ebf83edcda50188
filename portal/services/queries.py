"""Use cases that only read: status of requests, and an organization's chargers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from portal.domain.actors import Actor, Agent, Customer
from portal.domain.requests import SupportRequest
from portal.errors import UnknownRequest
from portal.services._loading import load_account
from portal.services.asked import filed_before
from portal.unit_of_work import UnitOfWork
from portal.views import (
    ChargerChoices,
    ChargerView,
    RequestDetail,
    RequestSummary,
    SerialCheck,
    charger_view,
    describe,
    summarize,
)


async def list_requests(uow: UnitOfWork, email: str | None) -> list[RequestSummary]:
    """The asker's own requests and their organization's, newest first."""
    async with uow:
        account = await load_account(uow, email)
        return [summarize(r) for r in await uow.requests.of_organization_or_requester(account)]


async def get_request(uow: UnitOfWork, viewer: Actor, reference: str) -> RequestDetail:
    """One request, for agents, the requester's organization and the chargers' Service Operators only.

    Anyone else gets UnknownRequest, exactly as if the reference did not exist.
    """
    async with uow:
        request = await uow.requests.get(reference)
        if request is None or not await _may_see(uow, viewer, request):
            raise UnknownRequest(reference)
        emails = await uow.accounts.emails([request.requester_account_id])
        org_ids = [i for i in {request.organization_id, *(line.operator_id for line in request.lines)} if i]
        names = await uow.organizations.names(org_ids)
        return describe(request, emails.get(request.requester_account_id, "?"), names)


async def _may_see(uow: UnitOfWork, viewer: Actor, request: SupportRequest) -> bool:
    if isinstance(viewer, Agent):
        return True
    if not isinstance(viewer, Customer):
        return False
    account = await uow.accounts.by_email(viewer.email)
    return account is not None and request.visible_to(account)


async def organization_chargers(uow: UnitOfWork, email: str | None) -> list[ChargerView]:
    """The chargers whose Service Operator is the asker's organization (empty when not linked)."""
    async with uow:
        account = await load_account(uow, email)
        if account.organization_id is None:
            return []
        chargers = await uow.chargers.operated_by(account.organization_id)
        names = await uow.organizations.names([account.organization_id])
        today = uow.clock().date()
        return [charger_view(c, names[account.organization_id], today) for c in chargers]


async def check_serials(
    uow: UnitOfWork, email: str | None, serials: Sequence[str], origin: Mapping[str, Any] | None = None
) -> SerialCheck:
    """What stands in the way of naming these serials in a request, before anything is filed.

    Serials must already be well-formed (normalised). Only facts about the asker's own organization and the
    existence of chargers are revealed, never who operates them. `origin` is where the request would come from: a
    transfer this very intent filed already (its process failed before it answered, and the person sent it again)
    does not stand in its own way, so the retry files nothing new and is answered with that transfer.
    """
    async with uow:
        account = await uow.accounts.by_email(email) if email else None
        chargers = await uow.chargers.by_serials(list(serials))
        pending = await uow.requests.pending_transfers_on([c.id for c in chargers.values() if c.id is not None])
        own = await filed_before(uow, origin)
        if own is not None:
            pending = {charger: held for charger, held in pending.items() if held[0] != own.reference}
        org = account.organization_id if account else None
        return SerialCheck(
            unknown=tuple(s for s in serials if s not in chargers),
            operated_by_asker=tuple(
                s for s in serials if s in chargers and org is not None and chargers[s].service_operator_id == org
            ),
            pending_transfer=tuple(s for s in serials if s in chargers and chargers[s].id in pending),
        )


async def charger_choices(uow: UnitOfWork, email: str | None) -> ChargerChoices:
    """Chargers worth offering as buttons: those the asker's organization operates (for service tickets), and
    those installed at its site but operated by someone else (candidates for a management transfer)."""
    async with uow:
        account = await uow.accounts.by_email(email) if email else None
        if account is None or account.organization_id is None:
            return ChargerChoices((), ())
        operated = await uow.chargers.operated_by(account.organization_id)
        at_site = await uow.chargers.at_site_operated_by_others(account.organization_id)
        return ChargerChoices(tuple(c.serial for c in operated), tuple(c.serial for c in at_site))
