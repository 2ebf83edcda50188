"""Fault reports to a charger's Service Operator through the use cases, on SQLite and PostgreSQL (issue 17 §2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import services
from portal.adapters import tables
from portal.bootstrap import Portal
from portal.demo import CITYCHARGE, GREENFLEET
from portal.errors import FaultReportedRecently, MalformedSerial, NotEligible, OwnCharger, UnknownRequest
from tests.conftest import FrozenClock
from tests.integration.test_services import ANNA, BEN, CARLA, DAVE
from tests.integration.test_withdrawals import outbox

SYMPTOM = "Display stays dark, no charging on socket 1"


async def report(portal: Portal, *, share: bool = False, serial: str = "10001R002") -> str:
    summary = await services.report_fault(portal.uow(), BEN, serial, SYMPTOM, share_identity=share)
    return summary.reference


async def test_a_report_is_recorded_with_an_event_and_the_reporter_sees_no_operator(portal: Portal) -> None:
    summary = await services.report_fault(portal.uow(), BEN, " 10001r002 ", SYMPTOM, share_identity=False)
    assert (summary.reference, summary.serial, summary.with_support) == ("FR-000001", "10001R002", False)
    name, reference, payload = (await outbox(portal))[-1]
    assert (name, reference, payload) == ("fault.reported", "FR-000001", {"serial": "10001R002"})
    # What the reporter can see, everywhere: their reports, never who operates the charger.
    overview = await services.account_overview(portal.uow(), BEN)
    assert [r.reference for r in overview.fault_reports] == ["FR-000001"]
    assert CITYCHARGE not in repr(overview.fault_reports) and CITYCHARGE not in repr(summary)
    assert CITYCHARGE not in repr(await services.fault_reports_of(portal.uow(), BEN))


async def test_the_operator_learns_the_reporter_only_with_consent(portal: Portal) -> None:
    hidden = await services.fault_notice(portal.uow(), await report(portal, share=False))
    assert hidden is not None
    assert (hidden.serial, hidden.symptom, hidden.reporter, hidden.reporter_organization) == (
        "10001R002",
        SYMPTOM,
        None,
        None,
    )
    assert "ben" not in repr(hidden) and GREENFLEET not in repr(hidden)
    shared = await services.fault_notice(portal.uow(), await report(portal, share=True, serial="10001R001"))
    assert shared is not None
    assert (shared.reporter, shared.reporter_organization) == ("ben@greenfleet.example", GREENFLEET)


async def test_no_report_on_ones_own_charger_nor_without_a_usable_account(portal: Portal) -> None:
    with pytest.raises(OwnCharger):
        await services.report_fault(portal.uow(), CARLA, "10001R002", SYMPTOM, share_identity=True)
    with pytest.raises(NotEligible):
        await services.report_fault(portal.uow(), DAVE, "10001R002", SYMPTOM, share_identity=True)
    with pytest.raises(NotEligible):
        await services.report_fault(portal.uow(), "nobody@example.com", "10001R002", SYMPTOM, share_identity=True)
    with pytest.raises(MalformedSerial):
        await services.report_fault(portal.uow(), BEN, "XYZ", SYMPTOM, share_identity=True)
    assert await services.fault_reports_of(portal.uow(), CARLA) == []
    assert [name for name, _, _ in await outbox(portal) if name.startswith("fault.")] == []


async def test_one_report_per_charger_and_reporter_per_day(portal: Portal, clock: FrozenClock) -> None:
    await report(portal)
    clock.advance(timedelta(hours=23))
    with pytest.raises(FaultReportedRecently) as refused:
        await report(portal)
    assert refused.value.again_at == clock.now + timedelta(hours=1)
    assert "you may report it again from" in str(refused.value)
    # Another charger, or another reporter of the same organization, is not held back.
    await report(portal, serial="10001R001")
    clock.advance(timedelta(hours=1))
    assert await report(portal) == "FR-000003"


async def test_the_same_intent_reports_once(portal: Portal) -> None:
    origin = {"surface": "conversation", "key": "form:abc"}
    first = await services.report_fault(portal.uow(), BEN, "10001R002", SYMPTOM, share_identity=False, origin=origin)
    again = await services.report_fault(portal.uow(), BEN, "10001R002", SYMPTOM, share_identity=False, origin=origin)
    assert first.reference == again.reference == "FR-000001"


async def test_the_operator_opens_a_ticket_from_the_report(portal: Portal) -> None:
    reference = await report(portal)
    ticket = await services.open_ticket_from_fault(portal.uow(), CARLA, reference, SYMPTOM)
    assert (ticket.reference, ticket.kind, ticket.serials) == ("ST-000001", "service_ticket", ("10001R002",))
    notice = await services.fault_notice(portal.uow(), reference)
    assert notice is not None and (notice.status, notice.ticket_reference) == ("ticket_opened", "ST-000001")
    # A resubmitted modal answers with the same ticket; the reporter still sees "informed", not the ticket.
    assert (await services.open_ticket_from_fault(portal.uow(), CARLA, reference, SYMPTOM)).reference == "ST-000001"
    mine = await services.fault_reports_of(portal.uow(), BEN)
    assert [(r.reference, r.with_support) for r in mine] == [(reference, False)]
    assert "ST-000001" not in repr(mine)


async def test_not_ours_goes_to_support_and_the_reporter_sees_support_looking(portal: Portal) -> None:
    reference = await report(portal)
    notice = await services.fault_not_ours(portal.uow(), CARLA, reference)
    assert notice.status == "not_ours"
    # Support's card, and the reporter's one message that support has it (issue 17 §2 gaps).
    events = [(name, ref, payload) for name, ref, payload in await outbox(portal)][-2:]
    assert events == [
        ("fault.to_support", reference, {"reason": "not_ours"}),
        ("fault.reporter_told", reference, {"reason": "not_ours"}),
    ]
    assert [r.with_support for r in await services.fault_reports_of(portal.uow(), BEN)] == [True]
    with pytest.raises(Exception, match="cannot be"):
        await services.open_ticket_from_fault(portal.uow(), CARLA, reference, SYMPTOM)


@pytest.mark.parametrize("forged", ["FR-000001", "FR-999999", "ST-000001", "x\x00'; DROP TABLE", "\ud800"])
async def test_answers_from_anyone_but_the_operator_are_refused_and_audited(portal: Portal, forged: str) -> None:
    await report(portal)
    for who in (ANNA, BEN, "nobody@example.com", None):
        with pytest.raises(UnknownRequest):
            await services.fault_not_ours(portal.uow(), who, forged)
        with pytest.raises(UnknownRequest):
            await services.open_ticket_from_fault(portal.uow(), who, forged, SYMPTOM)
    if forged != "FR-000001":
        with pytest.raises(UnknownRequest):
            await services.fault_not_ours(portal.uow(), CARLA, forged)
    notice = await services.fault_notice(portal.uow(), "FR-000001")
    assert notice is not None and notice.status == "sent"
    audited = await services.audit_entries(portal.uow())
    assert {e.action for e in audited} == {"fault_not_ours", "fault_open_ticket"}
    assert all(e.outcome == "UnknownRequest" for e in audited)
    assert len(audited) >= 8


async def test_an_operator_that_lost_the_charger_may_no_longer_answer(portal: Portal) -> None:
    reference = await report(portal, serial="10001R002")
    async with portal.engine.begin() as conn:
        voltway = await conn.scalar(select(tables.organizations.c.id).where(tables.organizations.c.name != CITYCHARGE))
        await conn.execute(
            tables.chargers.update().where(tables.chargers.c.serial == "10001R002").values(service_operator_id=voltway)
        )
    with pytest.raises(UnknownRequest):
        await services.fault_not_ours(portal.uow(), CARLA, reference)


async def test_unreachable_operator_sends_the_report_to_support_once(portal: Portal) -> None:
    reference = await report(portal)
    assert await services.send_unreachable_fault_to_support(portal.uow(), reference, ["CityCharge"])
    assert not await services.send_unreachable_fault_to_support(portal.uow(), reference, ["CityCharge"])
    events = [(n, p.get("reason")) for n, r, p in await outbox(portal) if r == reference]
    assert events == [
        ("fault.reported", None),
        ("fault.to_support", "unreachable"),
        ("fault.reporter_told", "unreachable"),
    ]
    assert [r.with_support for r in await services.fault_reports_of(portal.uow(), BEN)] == [True]
    # Nobody of the operator may answer what support has.
    with pytest.raises(Exception, match="cannot be"):
        await services.fault_not_ours(portal.uow(), CARLA, reference)
