"""Reopening a resolved service ticket, rejecting one, closing one as a duplicate (issue 16 §3): the domain rules."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.domain.actors import Agent, Customer
from portal.domain.organizations import Account
from portal.domain.service_tickets import ServiceTicket, TicketStatus
from portal.errors import InvalidTransition, NotRequester, NotSupportAgent, ReasonRequired, ReopenWindowClosed
from portal.settings import PortalSettings
from tests.unit.factories import CITYCHARGE, NOW, account, ben, carla, charger

AGENT = Agent("U_AGENT", "Sam")
DAYS = 14
carla_colleague = account("chris@citycharge.example", CITYCHARGE)


def ticket(reference: str = "ST-000001") -> ServiceTicket:
    return ServiceTicket.open(reference, carla, charger("10001R001", CITYCHARGE, date(2025, 5, 1)), "no power", NOW)


def resolved(assigned: bool = False) -> ServiceTicket:
    t = ticket()
    if assigned:
        t.assign(AGENT, NOW)
    t.set_status(AGENT, TicketStatus.RESOLVED, NOW)
    return t


def reopen_as(t: ServiceTicket, who: Account | Agent, after: timedelta, reason: str | None = None) -> None:
    if isinstance(who, Agent):
        t.reopen(who, NOW + after, reason, days=DAYS)
    else:
        t.reopen(Customer(who.email), NOW + after, reason, account=who, days=DAYS)


def test_the_requester_or_a_colleague_reopens_within_the_window_back_to_open_or_to_the_assignee() -> None:
    t = resolved()
    reopen_as(t, carla, timedelta(days=DAYS), "socket 2 stops again")  # the last moment of the window counts
    assert t.status == TicketStatus.OPEN
    last = t.history[-1]
    assert (last.from_status, last.to_status, last.actor, last.reason) == (
        "resolved",
        "open",
        "account:carla@citycharge.example",
        "socket 2 stops again",
    )
    assert t.events[-1].name == "request.status_changed"
    t = resolved(assigned=True)
    reopen_as(t, carla_colleague, timedelta(days=1))
    assert t.status == TicketStatus.IN_PROGRESS  # someone has it: back to them


def test_after_the_window_the_customer_side_is_refused_but_an_agent_may_reopen() -> None:
    t = resolved()
    with pytest.raises(ReopenWindowClosed) as refused:
        reopen_as(t, carla, timedelta(days=DAYS, seconds=1))
    assert (refused.value.reference, refused.value.resolved_at, refused.value.days) == ("ST-000001", NOW, DAYS)
    assert t.status == TicketStatus.RESOLVED
    reopen_as(t, AGENT, timedelta(days=400))
    assert t.status == TicketStatus.OPEN


def test_who_comes_before_the_state_and_only_a_resolved_ticket_reopens() -> None:
    t = ticket()
    with pytest.raises(NotRequester):
        reopen_as(t, ben, timedelta(0))  # another organization learns nothing of its state
    with pytest.raises(InvalidTransition):
        reopen_as(t, carla, timedelta(0))  # open: nothing to reopen
    assert [step.to_status for step in t.history] == ["open"]


def test_reject_needs_an_agent_and_a_reason_and_closes_the_ticket() -> None:
    t = ticket()
    with pytest.raises(NotSupportAgent):
        t.reject(Customer(carla.email), NOW, "no")
    with pytest.raises(ReasonRequired):
        t.reject(AGENT, NOW, "  ")
    with pytest.raises(InvalidTransition):
        t.set_status(AGENT, TicketStatus.REJECTED, NOW)  # not without a reason
    t.reject(AGENT, NOW, "a call-back request, not a charger fault")
    assert t.status == TicketStatus.REJECTED and t.is_closed


def test_a_duplicate_links_to_the_other_ticket_and_closes_never_to_itself() -> None:
    original, t = ticket("ST-000001"), ticket("ST-000002")
    with pytest.raises(InvalidTransition):
        t.close_as_duplicate(AGENT, NOW, t)
    t.close_as_duplicate(AGENT, NOW, original)
    assert (t.status, t.duplicate_of, t.history[-1].reason) == ("closed", "ST-000001", "duplicate of ST-000001")


def test_the_reopen_window_is_a_setting_of_14_days_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert PortalSettings().reopen_days == 14
    monkeypatch.setenv("CHARGEDESK_REOPEN_DAYS", "30")
    assert PortalSettings.from_env().reopen_days == 30
