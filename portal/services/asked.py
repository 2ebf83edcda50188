"""Requests asked for by a message: the same message asking twice files one request.

A surface may run a message again when the process that ran it died before noting it was done (the Slack inbox
does). Its origin then carries the same key, and the request filed the first time is the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portal.domain.requests import SupportRequest
from portal.unit_of_work import UnitOfWork
from portal.views import RequestSummary, summarize


def origin_key(origin: Mapping[str, Any] | None) -> str | None:
    key = (origin or {}).get("delivery")
    return key if isinstance(key, str) and key else None


async def filed_before(uow: UnitOfWork, origin: Mapping[str, Any] | None) -> RequestSummary | None:
    """The request this origin's message already filed, if any (call inside the use case's unit of work)."""
    key = origin_key(origin)
    existing = await uow.requests.by_origin_key(key) if key else None
    return summarize(existing) if existing is not None else None


def note_origin(request: SupportRequest, origin: Mapping[str, Any] | None) -> None:
    request.origin = dict(origin) if origin else None
    request.origin_key = origin_key(origin)
