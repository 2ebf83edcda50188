"""Requests asked for by an intent: the same intent asking twice files one request.

An intent is what the person meant to file once: a modal, a form instance in a conversation, or one Slack
delivery. A surface may run it again when the process that ran it died or lost its database before it could say
so, and the person may retry what looked like a failure. Its origin then carries the same key (`key`, else the
delivery's key), and the request filed the first time is the answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError

from portal.domain.organizations import Account
from portal.domain.requests import SupportRequest
from portal.unit_of_work import UnitOfWork
from portal.views import RequestSummary, summarize

T = TypeVar("T")


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


def keep_files(request: SupportRequest, account: Account, files: Sequence[Mapping[str, str]], at: datetime) -> None:
    """Keep the files a request was filed with (a photo of the label) as the requester's first message: support
    opens them from the request's thread like any file the customer adds later."""
    if files:
        request.add_from_requester(account, None, at, [dict(f) for f in files])


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

    async def filed(key: str) -> RequestSummary | None:
        return await filed_under(uow, [key])

    return await _once(origin, file, filed)


async def told_before(uow: UnitOfWork, origin: Mapping[str, Any] | None) -> bool:
    """Whether this origin's intent already recorded its event (call inside the use case's unit of work): the
    same rule as `filed_before`, for what is told to support without filing a request."""
    key = origin_key(origin)
    return key is not None and await uow.recorded_under(key)


async def tell_once(uow: UnitOfWork, origin: Mapping[str, Any] | None, tell: Callable[[], Awaitable[None]]) -> None:
    """Run the use case `tell`, which records an event under the origin's key; if the same intent recorded it
    meanwhile (the outbox's unique origin key admits one), that is done, not an error."""

    async def told(key: str) -> bool | None:
        async with uow:
            return await uow.recorded_under(key) or None

    async def run() -> bool:
        await tell()
        return True

    await _once(origin, run, told)


async def _once(
    origin: Mapping[str, Any] | None, run: Callable[[], Awaitable[T]], found: Callable[[str], Awaitable[T | None]]
) -> T:
    """`run`, or what the same intent's concurrent run left under its origin key when the unique key refused ours."""
    try:
        return await run()
    except IntegrityError as error:
        key = origin_key(origin)
        if key is None or "origin_key" not in str(error.orig):
            raise
        again = await found(key)
        if again is None:
            raise
        return again
