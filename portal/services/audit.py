"""Use case: remember a refused attempt, in a transaction of its own (the refused one changed nothing)."""

from __future__ import annotations

import logging

from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError

from portal.adapters import tables
from portal.domain.actors import Actor
from portal.domain.requests import looks_like_reference
from portal.domain.text import printable
from portal.unit_of_work import UnitOfWork
from portal.views import AuditEntry

logger = logging.getLogger(__name__)

REFERENCE_MAX = 16  # the column's size; every real reference fits
RAW_VALUE_MAX = 200


async def audit_refusal(
    uow: UnitOfWork, actor: Actor | str, action: str, reference: str | None, outcome: str, detail: str = ""
) -> bool:
    """Record a refusal; False when it could not be recorded (then it is logged, by kind only).

    `reference` is whatever the refused attempt named, forged or not: a well-formed reference is stored as such,
    anything else (too long, control characters, lone surrogates, …) escaped and cut in `raw_value`, so the insert
    cannot fail on the value. `outcome` is the refusal's kind (e.g. NotSupportAgent); `detail` a short reason, never
    personal data.

    A refusal is answered whatever happens here: the caller gets False rather than an exception, because failing
    to remember an attempt must not turn the answer to it into an error.
    """
    stored, raw = _reference_and_raw(reference)
    try:
        async with uow:
            await uow.session.execute(
                insert(tables.audit_log).values(
                    at=uow.clock(),
                    actor=printable(actor if isinstance(actor, str) else actor.label, 400),
                    action=printable(action, 60),
                    reference=stored,
                    outcome=printable(outcome, 60),
                    detail=printable(detail, 400) or None,
                    raw_value=raw,
                )
            )
            await uow.commit()
    except (SQLAlchemyError, OSError) as error:
        # The kind of failure only: the statement's parameters could hold what a person typed.
        logger.error("a refusal (%s) could not be audited: %s", printable(outcome, 60), type(error).__name__)
        return False
    return True


def _reference_and_raw(value: str | None) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if len(value) <= REFERENCE_MAX and looks_like_reference(value):
        return value, None
    return None, printable(value, RAW_VALUE_MAX)


async def audit_entries(uow: UnitOfWork, reference: str | None = None) -> list[AuditEntry]:
    async with uow:
        query = select(tables.audit_log).order_by(tables.audit_log.c.id)
        if reference is not None:
            query = query.where(tables.audit_log.c.reference == reference)
        rows = await uow.session.execute(query)
        return [AuditEntry(r.at, r.actor, r.action, r.reference, r.outcome, r.detail, r.raw_value) for r in rows]
