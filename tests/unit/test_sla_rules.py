"""Support's targets (issue 16 §4): the clocks of a request from its history, its messages and now, exact figures."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.domain.actors import Agent
from portal.domain.requests import RequestKind
from portal.domain.service_tickets import ServiceTicket, TicketStatus
from portal.domain.sla import (
    DEFAULT_TARGETS,
    RequestSla,
    SlaRules,
    SlaState,
    SlaTargets,
    Target,
    parse_duration,
    parse_targets,
    sla_of,
    support_time,
)
from portal.domain.transfers import TransferRequest
from portal.settings import PortalSettings, SettingsError
from tests.unit.factories import CITYCHARGE, NOW, VOLTWAY, anna, ben, carla, charger

AGENT = Agent("U_AGENT", "Sam")
RULES = SlaRules.default()  # service ticket: 4 h first response, 3 days resolution; warning share a quarter
H = timedelta(hours=1)


def ticket() -> ServiceTicket:
    return ServiceTicket.open("ST-000001", carla, charger("10001R001", CITYCHARGE, date(2025, 5, 1)), "no power", NOW)


def sla(t: ServiceTicket | TransferRequest, after: timedelta) -> RequestSla:
    return sla_of(t.request_kind, t.history, t.messages, NOW + after, RULES)


def test_a_new_ticket_is_on_track_then_due_soon_then_breached() -> None:
    t = ticket()
    s = sla(t, 2 * H)
    assert (s.first_response.state, s.first_response.spent, s.first_response.left) == (SlaState.ON_TRACK, 2 * H, 2 * H)
    assert s.current.target == Target.FIRST_RESPONSE
    # Due soon once less than a quarter (1 h) of the 4 h is left: at 3 h exactly.
    assert sla(t, 3 * H - timedelta(minutes=1)).first_response.state == SlaState.ON_TRACK
    assert sla(t, 3 * H).first_response.state == SlaState.DUE_SOON
    assert sla(t, 4 * H).first_response.state == SlaState.DUE_SOON  # on the dot is still on time
    late = sla(t, 7 * H)
    assert late.first_response.state == SlaState.BREACHED and late.first_response.left == -3 * H
    assert late.breached is late.first_response
    assert late.resolution.state == SlaState.ON_TRACK and late.resolution.spent == 7 * H


def test_an_agents_message_to_the_requester_meets_the_first_response_a_note_does_not() -> None:
    t = ticket()
    t.add_from_requester(carla, "it blinks red", NOW + H)  # the customer's own message is no response
    assert sla(t, 2 * H).first_response.state == SlaState.ON_TRACK
    t.write_to_requester(AGENT, "we're looking at it", NOW + 5 * H)  # late, but answered
    s = sla(t, 6 * H)
    assert s.first_response.state == SlaState.MET and s.first_response.stopped_at == NOW + 5 * H
    assert s.first_response.spent == 5 * H and s.first_response.late  # met, an hour late
    assert s.breached is None  # met late is not "late now": nothing to chase
    assert s.current is s.resolution and s.resolution.spent == 6 * H


def test_waiting_for_the_customer_pauses_both_clocks() -> None:
    t = ticket()
    t.write_to_requester(AGENT, "which charger exactly?", NOW + H, ask=True)  # 1 h of support's time
    paused = sla(t, 30 * H)
    assert paused.paused_in == "waiting_for_customer"
    assert paused.resolution.state == SlaState.PAUSED and paused.resolution.spent == H
    t.add_from_requester(carla, "the one at the gate", NOW + 49 * H)  # 48 h later: back to open
    s = sla(t, 51 * H)
    assert s.paused_in is None and s.resolution.spent == 3 * H  # 1 h before, 2 h since; the 48 h do not count
    assert s.resolution.state == SlaState.ON_TRACK and s.resolution.left == timedelta(days=3) - 3 * H
    # Due soon when 18 h (a quarter of 3 days) are left: at 54 h of support's time.
    assert sla(t, 49 * H + 53 * H).resolution.state == SlaState.DUE_SOON
    assert sla(t, 49 * H + 72 * H).resolution.state == SlaState.BREACHED


def test_resolving_stops_the_clocks_and_a_reopened_ticket_runs_on_from_there() -> None:
    t = ticket()
    t.set_status(AGENT, TicketStatus.RESOLVED, NOW + 10 * H)
    s = sla(t, 100 * H)
    # The requester heard the outcome: the first response counts as met when it was resolved (late: 10 h > 4 h).
    assert s.first_response.state == SlaState.MET and s.first_response.spent == 10 * H
    assert s.resolution.state == SlaState.MET and s.resolution.spent == 10 * H
    t.reopen(AGENT, NOW + 20 * H, "it failed again", days=14)
    s = sla(t, 25 * H)
    assert s.resolution.state == SlaState.ON_TRACK and s.resolution.spent == 15 * H  # 10 h + 5 h; resolved time out


def test_every_end_stops_the_clocks() -> None:
    t = ticket()
    t.set_status(AGENT, TicketStatus.CLOSED, NOW + 2 * H)
    assert sla(t, 50 * H).resolution.state == SlaState.MET
    withdrawn = ticket()
    withdrawn.withdraw(carla, NOW + H)
    assert sla(withdrawn, 50 * H).resolution.state == SlaState.MET
    rejected = ticket()
    rejected.reject(AGENT, NOW + H, "not a charger fault")
    assert sla(rejected, 50 * H).first_response.state == SlaState.MET


def test_a_transfer_runs_support_clock_only_once_it_reached_support() -> None:
    t = TransferRequest.open("MT-000001", ben, [charger("ACE0100002", VOLTWAY)], "bought it", NOW, terms_accepted=True)
    waiting = sla(t, 48 * H)
    assert waiting.paused_in == "awaiting_operator" and waiting.first_response.state == SlaState.PAUSED
    assert waiting.first_response.spent == timedelta(0)
    t.answer(anna, True, NOW + 48 * H)  # consented: now support's (1 day to answer, 3 to decide)
    s = sla(t, 48 * H + 20 * H)
    assert s.first_response.spent == 20 * H and s.first_response.state == SlaState.DUE_SOON  # 4 h left of 24
    assert sla(t, 48 * H + 25 * H).first_response.left == -H


def test_support_time_leaves_out_paused_and_resolved_intervals() -> None:
    t = ticket()
    t.write_to_requester(AGENT, "a photo of the label, please?", NOW + H, ask=True)
    t.add_from_requester(carla, "here", NOW + 3 * H)
    t.set_status(AGENT, TicketStatus.RESOLVED, NOW + 4 * H)
    assert support_time(RequestKind.SERVICE_TICKET, t.history, NOW + 10 * H) == 2 * H  # 0-1 h and 3-4 h


def test_targets_are_read_as_first_response_slash_resolution() -> None:
    assert parse_duration("30m") == timedelta(minutes=30)
    assert parse_duration(" 4H ") == 4 * H
    assert parse_targets("4h/3d") == SlaTargets(4 * H, timedelta(days=3))
    for bad in ("4h", "4/3d", "0h/1d", "-1h/1d", "2d/1d", "4 hours/3 days", "h/d"):
        with pytest.raises(ValueError, match=r"duration|slash|longer"):
            parse_targets(bad)
    settings = PortalSettings(CHARGEDESK_SLA_ADMINISTRATIVE="1h/1d", CHARGEDESK_SLA_WARNING_SHARE=0.5)
    rules = settings.sla_rules()
    assert rules.targets[RequestKind.ADMINISTRATIVE] == SlaTargets(H, timedelta(days=1))
    assert rules.targets[RequestKind.SERVICE_TICKET] == DEFAULT_TARGETS[RequestKind.SERVICE_TICKET]
    assert rules.warning_share == 0.5
    assert PortalSettings().sla_rules() == SlaRules.default()


def test_a_bad_target_is_a_clear_start_up_error(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(str(tmp_path))
    monkeypatch.setenv("CHARGEDESK_SLA_SERVICE_TICKET", "3d/4h")
    monkeypatch.setenv("CHARGEDESK_SLA_WARNING_SHARE", "2")
    with pytest.raises(SettingsError) as raised:
        PortalSettings.from_env()
    lines = str(raised.value).splitlines()
    assert any(line.startswith("CHARGEDESK_SLA_SERVICE_TICKET: expected two durations") for line in lines)
    assert "(got '3d/4h')" in str(raised.value)
    assert any(line.startswith("CHARGEDESK_SLA_WARNING_SHARE: expected a share") for line in lines)


def test_the_requesters_own_message_never_stops_supports_clock() -> None:
    t = ticket()
    t.add_from_requester(carla, "hello?", NOW + 5 * H)
    assert sla(t, 5 * H).first_response.state == SlaState.BREACHED
