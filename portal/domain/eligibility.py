"""The one question every surface asks: may this person raise a service ticket on this charger?

The decision is pure: the service layer looks up the account, the charger and pending transfers, and these
functions say which single outcome applies, in the order a support agent would check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from portal.domain.chargers import Charger
from portal.domain.organizations import Account
from portal.domain.serials import is_valid_serial


class Outcome(StrEnum):
    MAY_RAISE = "may_raise"
    NO_ACCOUNT = "no_account"
    NOT_LINKED = "not_linked"
    NOT_YET_SERVICE_CUSTOMER = "not_yet_service_customer"
    SERIAL_MALFORMED = "serial_malformed"
    CHARGER_UNKNOWN = "charger_unknown"
    OTHER_OPERATOR = "other_operator"
    TRANSFER_PENDING = "transfer_pending"


@dataclass(frozen=True)
class EligibilityDecision:
    """Exactly one outcome, with only the facts the asker may see (never another organization's identity)."""

    outcome: Outcome
    serial: str | None = None  # normalised, once it is well-formed
    in_warranty: bool | None = None  # MAY_RAISE only
    warranty_until: date | None = None  # MAY_RAISE only
    service_customer_from: datetime | None = None  # NOT_YET_SERVICE_CUSTOMER only
    own_pending_reference: str | None = None  # TRANSFER_PENDING, when the asker's organization requested it

    @property
    def may_raise_ticket(self) -> bool:
        return self.outcome is Outcome.MAY_RAISE

    @property
    def can_request_transfer(self) -> bool:
        return self.outcome is Outcome.OTHER_OPERATOR


def account_decision(account: Account | None, now: datetime) -> EligibilityDecision | None:
    """The outcome that applies whatever the charger, or None when the account itself is fine.

    A young account is told to wait before being told it is not linked: linking takes about a day, and most
    "not linked" messages in that window resolve themselves.
    """
    if account is None:
        return EligibilityDecision(Outcome.NO_ACCOUNT)
    if not account.is_service_customer(now):
        return EligibilityDecision(
            Outcome.NOT_YET_SERVICE_CUSTOMER, service_customer_from=account.service_customer_from()
        )
    if account.organization_id is None:
        return EligibilityDecision(Outcome.NOT_LINKED)
    return None


def serial_decision(serial_text: str | None) -> EligibilityDecision | None:
    """SERIAL_MALFORMED when there is no usable serial yet (missing, or not in a label format)."""
    if serial_text is None or not is_valid_serial(serial_text):
        return EligibilityDecision(Outcome.SERIAL_MALFORMED)
    return None


def charger_decision(
    account: Account,
    serial: str,
    charger: Charger | None,
    pending_reference: str | None,
    pending_organization_id: int | None,
    today: date,
) -> EligibilityDecision:
    """The outcome for an account that passed `account_decision` and a well-formed `serial`.

    `pending_reference` / `pending_organization_id` describe a pending transfer on the charger, if any.
    """
    if charger is None:
        return EligibilityDecision(Outcome.CHARGER_UNKNOWN, serial=serial)
    if charger.service_operator_id == account.organization_id:
        return EligibilityDecision(
            Outcome.MAY_RAISE,
            serial=serial,
            in_warranty=charger.in_warranty(today),
            warranty_until=charger.warranty_until,
        )
    if pending_reference is not None:
        own = pending_reference if pending_organization_id == account.organization_id else None
        return EligibilityDecision(Outcome.TRANSFER_PENDING, serial=serial, own_pending_reference=own)
    return EligibilityDecision(Outcome.OTHER_OPERATOR, serial=serial)
