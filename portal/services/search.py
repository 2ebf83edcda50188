"""Use cases that find requests for agents: by reference, by charger serial, or by part of an organization's name;
and, for notifiers, the requests still under way that name given chargers.

What a person types is read with the same rules as everywhere else (`normalise_reference`, `normalise_serial`), so
"st 42" finds ST-000042 and "ace-010 0002" finds the requests naming ACE0100002. Anything else is matched as part of
an organization's name, case-insensitively and literally: `%` and `_` are not wildcards here.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, false, func, or_, select

from portal.adapters import tables
from portal.domain.actors import Actor
from portal.domain.administrative import AdministrativeRequest
from portal.domain.requests import SupportRequest, find_reference, normalise_reference, require_agent
from portal.domain.serials import corrected_serial, find_serials, is_valid_serial, normalise_serial
from portal.domain.service_tickets import ServiceTicket
from portal.domain.transfers import TransferRequest
from portal.errors import InvalidInput
from portal.services.overview import QueueItem
from portal.unit_of_work import UnitOfWork
from portal.views import summarize

SEARCH_LIMIT = 25  # results shown at once: a modal holds at most 100 blocks
SEARCH_MAX = 50  # whatever the caller asks for
QUERY_MAX = 100  # characters; the modal's input allows no more, a forged submission is refused
NAME_MIN = 2  # a single letter would match most organizations: not a search
OPEN_LIMIT = 200  # requests naming a charger, refreshed on one event: bounded, like every list here

# Every kind of request, for "still under way": each knows its terminal statuses, so statuses added later count.
_KINDS: tuple[type[SupportRequest], ...] = (ServiceTicket, AdministrativeRequest, TransferRequest)


class SearchTooLong(InvalidInput):
    def __init__(self) -> None:
        super().__init__(f"a search is at most {QUERY_MAX} characters")


def search_terms(query: str) -> tuple[str | None, str | None, str | None]:
    """(reference, serial, name part) that `query` may mean, each None when it cannot mean that.

    Raises SearchTooLong past QUERY_MAX characters. Text with control characters (NUL, escapes, lone surrogates) means
    nothing: PostgreSQL could not even compare it.
    """
    if len(query) > QUERY_MAX:
        raise SearchTooLong()
    text = " ".join(query.split())
    if not text or not text.isprintable():
        return None, None, None
    reference = normalise_reference(text) or find_reference(text)
    serial: str | None = None
    if is_valid_serial(text):
        serial = normalise_serial(text)
    elif found := find_serials(text):
        serial = found[0]
    else:
        serial = corrected_serial(text)  # "ACEO1OOOO2", read off a label
    name = text.casefold() if len(text) >= NAME_MIN else None
    return reference, serial, name


async def search_requests(uow: UnitOfWork, actor: Actor, query: str, limit: int = SEARCH_LIMIT) -> list[QueueItem]:
    """Requests whose reference, charger serial or organization name `query` names, newest first, at most `limit`
    (and never more than SEARCH_MAX). Agents only (NotSupportAgent otherwise): the results name any organization.

    An empty or meaningless query finds nothing; one longer than QUERY_MAX raises SearchTooLong.
    """
    require_agent(actor)
    reference, serial, name = search_terms(query)
    rq, rc, org = tables.requests, tables.request_chargers, tables.organizations
    conditions: list[ColumnElement[bool]] = []
    if reference is not None:
        conditions.append(rq.c.reference == reference)
    if serial is not None:
        conditions.append(rq.c.id.in_(select(rc.c.request_id).where(rc.c.serial == serial)))
    if name is not None:
        conditions.append(func.lower(org.c.name).like(f"%{_literal(name)}%", escape="\\"))
    if not conditions:
        return []
    bounded = max(1, min(limit, SEARCH_MAX))
    async with uow:
        found = (
            select(SupportRequest, org.c.name)
            .outerjoin(org, org.c.id == rq.c.organization_id)
            .where(or_(*conditions))
            .order_by(rq.c.created_at.desc(), rq.c.id.desc())
            .limit(bounded)
        )
        # Read while the session is open: the rows are plain values from here on.
        return [
            QueueItem(summarize(request), organization, request.assignee)
            for request, organization in (await uow.session.execute(found)).all()
        ]


async def open_requests_naming(uow: UnitOfWork, serials: Sequence[str], excluding: str | None = None) -> list[str]:
    """References of the requests still under way (of any kind) that name any of `serials`, oldest first, without
    `excluding`. For notifiers: a fact about those chargers changed, so their triage cards are out of date."""
    if not serials:
        return []
    rq, rc = tables.requests, tables.request_chargers
    naming = select(rc.c.request_id).where(rc.c.serial.in_(list(serials)))
    query = select(rq.c.reference).where(rq.c.id.in_(naming), _under_way()).order_by(rq.c.created_at, rq.c.id)
    if excluding is not None:
        query = query.where(rq.c.reference != excluding)
    async with uow:
        return list(await uow.session.scalars(query.limit(OPEN_LIMIT)))


def _under_way() -> ColumnElement[bool]:
    rq = tables.requests
    return or_(
        false(),
        *(and_(rq.c.kind == k.request_kind.value, rq.c.status.not_in([str(s) for s in k.terminal])) for k in _KINDS),
    )


def _literal(text: str) -> str:
    """`text` for a LIKE pattern in which it matches only itself (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
