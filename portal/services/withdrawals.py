"""Use cases: a customer withdraws their own request before support has decided it.

Service tickets and administrative requests become `withdrawn`; a management transfer is cancelled (its chargers are
free again). Who may: the requester, or anyone of the organization that asked (DESIGN.md §1). Authorization comes
before state: a reference that does not exist and one the person may not see both raise UnknownRequest; a request
the person may see but not withdraw (a Service Operator looking at a transfer of its chargers) raises NotRequester;
only then is the state checked (InvalidTransition: it was decided already).

The withdrawal is one transaction: the status change, its history entry (who, when, why) and the
`request.status_changed` event in the outbox, from which the triage card is updated and the requester told.
"""

from __future__ import annotations

from portal.domain.organizations import Account
from portal.domain.requests import SupportRequest
from portal.errors import InvalidTransition, NotRequester, UnknownRequest
from portal.services._loading import load_account
from portal.unit_of_work import UnitOfWork
from portal.views import RequestSummary, summarize


async def check_withdrawal(uow: UnitOfWork, email: str | None, reference: str) -> RequestSummary:
    """What the person would withdraw, before they confirm; raises exactly what `withdraw_request` would."""
    async with uow:
        account = await load_account(uow, email)
        request = await _authorized(uow, account, reference, for_update=False)
        if not request.is_withdrawable:
            raise InvalidTransition(request.reference, str(request.status), "withdrawn")
        return summarize(request)


async def withdraw_request(
    uow: UnitOfWork, email: str | None, reference: str, reason: str | None = None
) -> RequestSummary:
    """Withdraw `reference` for the person with `email`; returns the request as it is now."""
    async with uow:
        account = await load_account(uow, email)
        request = await _authorized(uow, account, reference, for_update=True)
        request.withdraw(account, uow.clock(), reason)
        await uow.commit()
        return summarize(request)


async def withdrawable_requests(uow: UnitOfWork, email: str | None) -> list[RequestSummary]:
    """The requests the person could withdraw now (their own and their organization's undecided ones), newest
    first."""
    async with uow:
        account = await load_account(uow, email)
        requests = await uow.requests.of_organization_or_requester(account)
        return [summarize(r) for r in requests if r.is_withdrawable and r.may_be_withdrawn_by(account)]


async def _authorized(uow: UnitOfWork, account: Account, reference: str, *, for_update: bool) -> SupportRequest:
    request = await uow.requests.get(reference, for_update=for_update) if reference.strip() else None
    if request is None or not request.visible_to(account):
        raise UnknownRequest(reference)
    if not request.may_be_withdrawn_by(account):
        raise NotRequester("only the requester or their organization may withdraw this request")
    return request
