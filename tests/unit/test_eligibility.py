"""Every outcome of the eligibility decision, from the pure rules."""

from __future__ import annotations

from datetime import date, timedelta

from portal.domain.eligibility import Outcome, account_decision, charger_decision
from tests.unit.factories import GREENFLEET, NOW, VOLTWAY, account, anna, ben, charger


def test_no_account() -> None:
    assert account_decision(None, NOW).outcome is Outcome.NO_ACCOUNT  # type: ignore[union-attr]


def test_account_younger_than_a_day_is_told_when_it_will_be_linked() -> None:
    young = account("erin@greenfleet.example", GREENFLEET, registered_at=NOW - timedelta(hours=2))
    decision = account_decision(young, NOW)
    assert decision is not None
    assert decision.outcome is Outcome.NOT_YET_SERVICE_CUSTOMER
    assert decision.service_customer_from == NOW + timedelta(hours=22)


def test_young_account_without_organization_is_also_told_to_wait_first() -> None:
    young = account("new@example.com", None, registered_at=NOW - timedelta(hours=23, minutes=59))
    decision = account_decision(young, NOW)
    assert decision is not None
    assert decision.outcome is Outcome.NOT_YET_SERVICE_CUSTOMER


def test_a_day_old_account_without_organization_is_not_linked() -> None:
    dave = account("dave@newcustomer.example", None, registered_at=NOW - timedelta(hours=24))
    decision = account_decision(dave, NOW)
    assert decision is not None
    assert decision.outcome is Outcome.NOT_LINKED


def test_linked_service_customer_has_no_account_problem() -> None:
    assert account_decision(ben, NOW) is None


def test_service_operator_may_raise_with_warranty_status() -> None:
    fresh = charger("ACE0100001", VOLTWAY, shipped_at=date(2025, 1, 10))
    decision = charger_decision(anna, fresh.serial, fresh, None, None, NOW.date())
    assert decision.outcome is Outcome.MAY_RAISE
    assert decision.in_warranty is True
    assert decision.warranty_until == date(2027, 1, 10)
    old = charger("10001R001", VOLTWAY, shipped_at=date(2022, 5, 1))
    assert charger_decision(anna, old.serial, old, None, None, NOW.date()).in_warranty is False


def test_unknown_charger() -> None:
    decision = charger_decision(ben, "ACE9999999", None, None, None, NOW.date())
    assert decision.outcome is Outcome.CHARGER_UNKNOWN
    assert decision.serial == "ACE9999999"


def test_other_operator_may_request_a_transfer_and_learns_nothing_about_it() -> None:
    bought_from_reseller = charger("ACE0100002", VOLTWAY)
    decision = charger_decision(ben, bought_from_reseller.serial, bought_from_reseller, None, None, NOW.date())
    assert decision.outcome is Outcome.OTHER_OPERATOR
    assert decision.can_request_transfer
    assert decision.in_warranty is None  # the SO's warranty facts are not the asker's to see


def test_pending_transfer_reference_is_shown_only_to_the_organization_that_asked() -> None:
    c = charger("ACE0100002", VOLTWAY)
    own = charger_decision(ben, c.serial, c, "MT-000001", GREENFLEET, NOW.date())
    assert own.outcome is Outcome.TRANSFER_PENDING
    assert own.own_pending_reference == "MT-000001"
    someone_elses = charger_decision(ben, c.serial, c, "MT-000001", 99, NOW.date())
    assert someone_elses.outcome is Outcome.TRANSFER_PENDING
    assert someone_elses.own_pending_reference is None


def test_the_service_operator_may_raise_even_while_a_transfer_is_pending() -> None:
    c = charger("ACE0100002", VOLTWAY)
    assert charger_decision(anna, c.serial, c, "MT-000001", GREENFLEET, NOW.date()).outcome is Outcome.MAY_RAISE


def test_missing_or_malformed_serial() -> None:
    from portal.domain.eligibility import serial_decision

    for text in (None, "", "ACE12", "12345R67", "my charger"):
        decision = serial_decision(text)
        assert decision is not None
        assert decision.outcome is Outcome.SERIAL_MALFORMED
    assert serial_decision("ace 010 0002") is None
