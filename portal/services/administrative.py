"""Use cases: administrative requests, opened by customers and settled by support."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from portal.domain.actors import Actor
from portal.domain.administrative import AdministrativeRequest
from portal.domain.requests import RequestKind
from portal.domain.serials import normalise_serial
from portal.domain.text import clean_description
from portal.domain.transfers import MAX_CHARGERS_PER_TRANSFER
from portal.errors import TooManyChargers, UnknownCharger
from portal.services._loading import load_account, load_request
from portal.services.asked import file_once, filed_before, note_origin
from portal.unit_of_work import UnitOfWork
from portal.views import RequestSummary, summarize


async def open_administrative_request(
    uow: UnitOfWork,
    email: str | None,
    description: str,
    serials: Sequence[str] = (),
    origin: Mapping[str, Any] | None = None,
) -> RequestSummary:
    """Any account may ask for administrative changes, linked to an organization or not.

    Serials are optional; when given they must exist, so that support can act on them.
    """
    description = clean_description(description)
    normalised = list(dict.fromkeys(normalise_serial(s) for s in serials))
    if len(normalised) > MAX_CHARGERS_PER_TRANSFER:
        raise TooManyChargers(f"name at most {MAX_CHARGERS_PER_TRANSFER} chargers")

    async def file() -> RequestSummary:
        async with uow:
            if (again := await filed_before(uow, origin)) is not None:
                return again
            account = await load_account(uow, email)
            chargers = await uow.chargers.by_serials(normalised)
            missing = [s for s in normalised if s not in chargers]
            if missing:
                raise UnknownCharger(missing[0])
            reference = await uow.references.next(RequestKind.ADMINISTRATIVE)
            request = AdministrativeRequest.open(
                reference, account, description, uow.clock(), [chargers[s] for s in normalised]
            )
            note_origin(request, origin)
            uow.requests.add(request)
            await uow.commit()
            return summarize(request)

    return await file_once(uow, origin, file)


async def resolve_administrative_request(uow: UnitOfWork, actor: Actor, reference: str, note: str) -> RequestSummary:
    async with uow:
        request = await load_request(uow, reference, AdministrativeRequest, "resolved")
        request.resolve(actor, uow.clock(), note)
        await uow.commit()
        return summarize(request)
