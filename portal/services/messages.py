"""Use cases: support and the customer's side talk through a request (issue 16 §1 and §2).

An agent writes to the requester (a reply, or a question the request then waits on, which stops its support clock);
the requester's side adds to the request (an answer, a detail they remembered, the Slack files of a photo). Each
is one transaction: the message on the request, a status change when waiting starts or ends, and the
`request.message` event in the outbox, from which the surface carries the message where it belongs (to the
requester, or into the triage thread). A message carried twice under the same key is kept once.

Who may: agents write (the surface checks who is an agent and says so with an Agent); the requester or anyone of
their organization adds, the rule of withdrawals and reopening. Authorization comes before state: a reference that
does not exist and one the person may not see both raise UnknownRequest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from portal.domain.actors import Actor
from portal.domain.organizations import Account
from portal.domain.requests import SupportRequest
from portal.errors import NotRequester, UnknownRequest
from portal.services._loading import load_account
from portal.unit_of_work import UnitOfWork
from portal.views import MessageView, RequestSummary, summarize


async def write_to_requester(
    uow: UnitOfWork, actor: Actor, reference: str, text: str, *, ask: bool = False, key: str | None = None
) -> MessageView:
    """An agent's message to the requester of `reference`; with `ask`, the request waits for their answer."""
    async with uow:
        request = await uow.requests.get(reference, for_update=True) if reference.strip() else None
        if request is None:
            raise UnknownRequest(reference)
        message = request.write_to_requester(actor, text, uow.clock(), ask=ask, key=key)
        await uow.commit()
        return MessageView.of(message)


async def add_from_requester(
    uow: UnitOfWork,
    email: str | None,
    reference: str,
    text: str | None,
    files: Sequence[Mapping[str, str]] = (),
    *,
    key: str | None = None,
) -> RequestSummary:
    """The requester's side (the person with `email`) adds `text` and `files` to `reference`; returns the request
    as it is now (back from waiting for their answer, if it was)."""
    async with uow:
        account = await load_account(uow, email)
        request = await _for_requester(uow, reference, account)
        request.add_from_requester(account, text, uow.clock(), [dict(f) for f in files], key=key)
        await uow.commit()
        return summarize(request)


async def _for_requester(uow: UnitOfWork, reference: str, account: Account) -> SupportRequest:
    request = await uow.requests.get(reference, for_update=True) if reference.strip() else None
    if request is None or not request.visible_to(account):
        raise UnknownRequest(reference)
    if not request.acts_for_requester(account):
        raise NotRequester("only the requester or their organization may add to this request")
    return request
