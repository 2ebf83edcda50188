"""Use case: may this person raise a service ticket on this charger?"""

from __future__ import annotations

from dataclasses import dataclass

from portal.domain.chargers import Charger
from portal.domain.eligibility import (
    EligibilityDecision,
    account_decision,
    charger_decision,
    serial_decision,
)
from portal.domain.organizations import Account
from portal.domain.serials import normalise_serial
from portal.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class _Decided:
    decision: EligibilityDecision
    account: Account | None
    charger: Charger | None


async def check_eligibility(uow: UnitOfWork, email: str | None, serial: str | None) -> EligibilityDecision:
    """The single outcome for (account or none, serial or none).

    With no serial, an account-level problem is reported if there is one; otherwise SERIAL_MALFORMED says that
    a serial is still needed.
    """
    async with uow:
        return (await decide(uow, email, serial)).decision


async def decide(uow: UnitOfWork, email: str | None, serial_text: str | None) -> _Decided:
    """The decision inside an open unit of work, with what it loaded, for use cases that act on it."""
    account = await uow.accounts.by_email(email) if email else None
    now = uow.clock()
    problem = account_decision(account, now) or serial_decision(serial_text)
    if problem is not None:
        return _Decided(problem, account, None)
    assert account is not None
    assert serial_text is not None
    serial = normalise_serial(serial_text)
    charger = await uow.chargers.by_serial(serial)
    pending = await uow.requests.pending_transfers_on([charger.id]) if charger and charger.id else {}
    reference, organization_id = pending.get(charger.id, (None, None)) if charger and charger.id else (None, None)
    decision = charger_decision(account, serial, charger, reference, organization_id, now.date())
    return _Decided(decision, account, charger)
