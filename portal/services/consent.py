"""Use case: a Service Operator's person answers a transfer, authorization checked before anything about its state."""

from __future__ import annotations

from portal.domain.transfers import TransferRequest
from portal.errors import UnknownRequest
from portal.unit_of_work import UnitOfWork
from portal.views import RequestSummary, summarize


async def answer_consent(
    uow: UnitOfWork, email: str | None, reference: str, *, consent: bool, reason: str | None = None
) -> RequestSummary:
    """Consent to or decline `reference` for the account's organization.

    Whoever may not answer it gets UnknownRequest, whether the reference does not exist, is another kind of
    request, belongs to other organizations' chargers or was decided long ago: the answer reveals nothing. Only
    a person of one of its current Service Operators learns about its state (AlreadyAnswered, InvalidTransition).
    """
    async with uow:
        account = await uow.accounts.by_email(email) if email else None
        request = await uow.requests.get(reference, for_update=True) if reference.strip() else None
        if (
            account is None
            or account.organization_id is None
            or not isinstance(request, TransferRequest)
            or all(line.operator_id != account.organization_id for line in request.lines)
        ):
            raise UnknownRequest(reference)
        request.answer(account, consent, uow.clock(), reason)
        await uow.commit()
        return summarize(request)
