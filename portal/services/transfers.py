"""Use cases: management transfers, from request through the current SO's answer to support's decision."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from portal.domain.actors import Actor, System
from portal.domain.eligibility import account_decision
from portal.domain.events import DomainEvent
from portal.domain.requests import RequestKind
from portal.domain.serials import normalise_serial
from portal.domain.text import clean_description
from portal.domain.transfers import MAX_CHARGERS_PER_TRANSFER, TransferRequest, TransferStatus
from portal.errors import NotEligible, TooManyChargers, TransferAlreadyPending, UnknownCharger
from portal.services._loading import load_account, load_request
from portal.services.asked import file_once, filed_before, keep_files, note_origin
from portal.unit_of_work import UnitOfWork
from portal.views import RequestSummary, summarize

PENDING_TRANSFER_INDEX = "uq_request_chargers_pending_transfer"


async def request_transfer(
    uow: UnitOfWork,
    email: str | None,
    serials: Sequence[str],
    description: str,
    *,
    terms_accepted: bool,
    origin: Mapping[str, Any] | None = None,
    files: Sequence[Mapping[str, str]] = (),
) -> RequestSummary:
    """Ask for the requester's organization to become Service Operator of `serials` (`files`: the photo of a
    label, kept on the request as the requester's)."""
    description = clean_description(description)
    normalised = list(dict.fromkeys(normalise_serial(s) for s in serials))
    if len(normalised) > MAX_CHARGERS_PER_TRANSFER:
        raise TooManyChargers(f"a transfer can name at most {MAX_CHARGERS_PER_TRANSFER} chargers")

    async def file() -> RequestSummary:
        async with uow:
            if (again := await filed_before(uow, origin)) is not None:
                return again
            account = await uow.accounts.by_email(email) if email else None
            problem = account_decision(account, uow.clock())
            if problem is not None:
                raise NotEligible(problem)
            assert account is not None
            chargers = await uow.chargers.by_serials(normalised, for_update=True)
            missing = [s for s in normalised if s not in chargers]
            if missing:
                raise UnknownCharger(missing[0])
            held = await uow.requests.pending_transfers_on([c.id for c in chargers.values() if c.id is not None])
            pending_serials = {c.serial for c in chargers.values() if c.id in held}
            reference = await uow.references.next(RequestKind.TRANSFER)
            transfer = TransferRequest.open(
                reference,
                account,
                [chargers[s] for s in normalised],
                description,
                uow.clock(),
                terms_accepted=terms_accepted,
                pending_serials=pending_serials,
            )
            note_origin(transfer, origin)
            keep_files(transfer, account, files, uow.clock())
            uow.requests.add(transfer)
            try:
                await uow.commit()
            except IntegrityError as error:
                # Another transfer on one of these chargers committed between our check and our insert.
                if _violates_pending_index(error):
                    raise TransferAlreadyPending(normalised) from error
                raise
            return summarize(transfer)

    return await file_once(uow, origin, file)


def _violates_pending_index(error: IntegrityError) -> bool:
    text = str(error.orig)
    return PENDING_TRANSFER_INDEX in text or "request_chargers.charger_id" in text


async def answer_transfer(
    uow: UnitOfWork, email: str | None, reference: str, *, consent: bool, reason: str | None = None
) -> RequestSummary:
    """The current Service Operator consents to or declines the transfer of its chargers."""
    async with uow:
        account = await load_account(uow, email)
        transfer = await load_request(uow, reference, TransferRequest, "consented to" if consent else "declined")
        transfer.answer(account, consent, uow.clock(), reason)
        await uow.commit()
        return summarize(transfer)


async def approve_transfer(uow: UnitOfWork, actor: Actor, reference: str, reason: str | None = None) -> RequestSummary:
    """Support approves; every charger's Service Operator changes in this one transaction."""
    async with uow:
        transfer = await load_request(uow, reference, TransferRequest, "approved")
        chargers = await uow.chargers.by_ids([line.charger_id for line in transfer.lines], for_update=True)
        transfer.approve(actor, chargers, uow.clock(), reason)
        await uow.commit()
        return summarize(transfer)


async def cancel_transfer(
    uow: UnitOfWork, email: str | None, reference: str, reason: str | None = None
) -> RequestSummary:
    async with uow:
        account = await load_account(uow, email)
        transfer = await load_request(uow, reference, TransferRequest, "cancelled")
        transfer.cancel(account, uow.clock(), reason)
        await uow.commit()
        return summarize(transfer)


async def expire_stale_transfers(uow: UnitOfWork, after: timedelta) -> list[str]:
    """Transfers that waited longer than `after` for the current SO move to support. Returns their references."""
    async with uow:
        now = uow.clock()
        expired: list[str] = []
        for reference in await uow.requests.transfers_awaiting_operator_since(now - after):
            transfer = await load_request(uow, reference, TransferRequest, "expired")
            transfer.expire(System(), now, f"no answer from the Service Operator within {after.days} days")
            expired.append(transfer.reference)
        await uow.commit()
        return expired


CONSENT_REMINDER_EVENT = "transfer.consent_reminder"


def consent_reminder_key(reference: str) -> str:
    """The outbox key of a transfer's one consent reminder: recorded once, whatever restarts or races."""
    return f"consent-reminder:{reference}"


async def remind_awaited_consents(uow: UnitOfWork, after: timedelta) -> list[str]:
    """Transfers waiting longer than `after` for the current SO get one reminder event each (the notifier DMs the
    Service Operators' people who have not answered). Returns the references reminded now.

    The reminder is an outbox event under a unique key: a second process, or this one after a restart, finds it
    recorded and records nothing; two processes racing both try, the database keeps one, and the loser's whole
    batch is left to the winner (it recorded the same events, or the next round records the rest).
    """
    async with uow:
        now = uow.clock()
        reminded: list[str] = []
        for reference in await uow.requests.transfers_awaiting_operator_since(now - after):
            key = consent_reminder_key(reference)
            if await uow.recorded_under(key):
                continue
            payload = {"kind": "transfer", "days": after.days}
            uow.record(DomainEvent(CONSENT_REMINDER_EVENT, reference, payload, key=key))
            reminded.append(reference)
        if not reminded:
            return []
        try:
            await uow.commit()
        except IntegrityError:
            return []  # another process recorded these reminders first
        return reminded


async def send_unreachable_transfer_to_support(uow: UnitOfWork, reference: str, operators: Sequence[str]) -> bool:
    """Nobody of `operators` can be asked for consent in Slack: the transfer goes to support at once, with that
    reason on its history. False (and nothing changes) when it no longer waits for the Service Operator, e.g.
    because another notifier already sent it."""
    async with uow:
        transfer = await uow.requests.get(reference, for_update=True)
        if not isinstance(transfer, TransferRequest) or transfer.status != TransferStatus.AWAITING_OPERATOR:
            return False
        transfer.send_to_support_unreachable(uow.clock(), operators)
        await uow.commit()
        return True
