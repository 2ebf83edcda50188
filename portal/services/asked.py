"""Requests asked for by an intent: the same intent asking twice files one request.

An intent is what the person meant to file once: a modal, a form instance in a conversation, or one Slack
delivery. A surface may run it again when the process that ran it died or lost its database before it could say
so, and the person may retry what looked like a failure. Its origin then carries the same key (`key`, else the
delivery's key), and the request filed the first time is the answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError

from portal.domain.requests import SupportRequest
from portal.unit_of_work import UnitOfWork
from portal.views import RequestSummary, summarize


def origin_key(origin: Mapping[str, Any] | None) -> str | None:
    for name in ("key", "delivery"):
        key = (origin or {}).get(name)
        if isinstance(key, str) and key:
            return key
    return None


async def filed_before(uow: UnitOfWork, origin: Mapping[str, Any] | None) -> RequestSummary | None:
    """The request this origin's intent already filed, if any (call inside the use case's unit of work)."""
    key = origin_key(origin)
    existing = await uow.requests.by_origin_key(key) if key else None
    return summarize(existing) if existing is not None else None


def note_origin(request: SupportRequest, origin: Mapping[str, Any] | None) -> None:
    request.origin = dict(origin) if origin else None
    request.origin_key = origin_key(origin)


async def filed_under(uow: UnitOfWork, keys: Iterable[str | None]) -> RequestSummary | None:
    """The request filed under any of `keys`, if one was: what a surface asks when it cannot tell whether the
    turn that failed had filed before it failed."""
    async with uow:
        for key in dict.fromkeys(k for k in keys if k):
            existing = await uow.requests.by_origin_key(key)
            if existing is not None:
                return summarize(existing)
        return None


async def file_once(
    uow: UnitOfWork, origin: Mapping[str, Any] | None, file: Callable[[], Awaitable[RequestSummary]]
) -> RequestSummary:
    """Run the use case `file`; if the same intent committed its request meanwhile (two runs of it at once: the
    unique origin key admits one), the answer is that request, not an error."""
    try:
        return await file()
    except IntegrityError as error:
        key = origin_key(origin)
        if key is None or "origin_key" not in str(error.orig):
            raise
        again = await filed_under(uow, [key])
        if again is None:
            raise
        return again
