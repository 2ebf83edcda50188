"""Loading helpers shared by the use cases: each raises the portal error a surface can explain."""

from __future__ import annotations

from typing import TypeVar

from portal.domain.organizations import Account
from portal.domain.requests import SupportRequest
from portal.errors import InvalidTransition, UnknownAccount, UnknownRequest
from portal.unit_of_work import UnitOfWork

R = TypeVar("R", bound=SupportRequest)


async def load_account(uow: UnitOfWork, email: str | None) -> Account:
    account = await uow.accounts.by_email(email) if email else None
    if account is None:
        raise UnknownAccount("there is no portal account for this email address")
    return account


async def load_request(uow: UnitOfWork, reference: str, kind: type[R], verb: str) -> R:
    """The request, locked for this transaction, of the kind the decision applies to."""
    request = await uow.requests.get(reference, for_update=True)
    if request is None:
        raise UnknownRequest(reference)
    if not isinstance(request, kind):
        raise InvalidTransition(request.reference, str(request.status), verb)
    return request
