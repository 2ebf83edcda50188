"""What the reporter and support see of a fault report, through the use cases, on SQLite and PostgreSQL (issue 17
§2 gaps): the reporter's detail (and nobody else's), support's list, and the reporter's one "support has it"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert

from portal import services
from portal.adapters import tables
from portal.bootstrap import Portal
from portal.domain.faults import FaultStatus, reporter_told_key
from portal.errors import UnknownRequest
from tests.conftest import FrozenClock
from tests.integration.test_services import ANNA, BEN, CARLA, DAVE, ERIN
from tests.integration.test_withdrawals import outbox

SYMPTOM = "Display stays dark, no charging on socket 1"
CITYCHARGE_PEOPLE = ("CityCharge", "carla")  # what must never reach the reporter


async def report(portal: Portal, serial: str = "10001R002", **origin: str) -> str:
    summary = await services.report_fault(
        portal.uow(), BEN, serial, SYMPTOM, share_identity=True, origin=origin or None
    )
    return summary.reference


def reveals_the_operator(value: object) -> bool:
    return any(word in repr(value) for word in CITYCHARGE_PEOPLE)


async def test_the_reporter_sees_the_detail_of_their_report_and_never_the_operator(portal: Portal) -> None:
    reference = await report(portal)
    detail = await services.fault_report_for_reporter(portal.uow(), BEN, "fr 1")
    s = detail.summary
    assert (s.reference, s.serial, s.status, detail.symptom) == (reference, "10001R002", FaultStatus.SENT, SYMPTOM)
    assert not reveals_the_operator(detail)
    await services.open_ticket_from_fault(portal.uow(), CARLA, reference, SYMPTOM)
    opened = await services.fault_report_for_reporter(portal.uow(), BEN, reference)
    assert opened.summary.status == FaultStatus.TICKET_OPENED
    assert "ST-000001" not in repr(opened) and not reveals_the_operator(opened)


@pytest.mark.parametrize("who", [ANNA, CARLA, ERIN, DAVE, "nobody@example.com", None])
async def test_nobody_but_the_reporter_sees_it_and_the_attempt_is_audited(portal: Portal, who: str | None) -> None:
    """Not another customer, not the reporter's colleague (erin, GreenFleet), not the operator: the same refusal as
    for a report that does not exist."""
    reference = await report(portal)
    with pytest.raises(UnknownRequest) as refused:
        await services.fault_report_for_reporter(portal.uow(), who, reference)
    with pytest.raises(UnknownRequest) as unknown:
        await services.fault_report_for_reporter(portal.uow(), who, "FR-999999")
    assert type(refused.value) is type(unknown.value)
    audited = await services.audit_entries(portal.uow())
    assert [(e.action, e.outcome) for e in audited] == [("fault_status", "UnknownRequest")] * 2


async def test_forged_references_are_refused(portal: Portal) -> None:
    await report(portal)
    for forged in ("ST-000001", "x\x00'; DROP TABLE", "\ud800", ""):
        with pytest.raises(UnknownRequest):
            await services.fault_report_for_reporter(portal.uow(), BEN, forged)


async def test_support_lists_the_reports_it_has_oldest_first(portal: Portal, clock: FrozenClock) -> None:
    sent = await report(portal, "10001R002")
    assert await services.faults_with_support(portal.uow()) == ([], 0)
    clock.advance(timedelta(minutes=5))
    not_ours = await report(portal, "10001R001")
    await services.fault_not_ours(portal.uow(), CARLA, not_ours)
    clock.advance(timedelta(minutes=5))
    unreachable = await report(portal, "ACE0100002")
    await services.send_unreachable_fault_to_support(portal.uow(), unreachable, ["VoltWay"])
    faults, total = await services.faults_with_support(portal.uow())
    assert total == 2 and [(f.notice.reference, f.notice.status) for f in faults] == [
        (not_ours, "not_ours"),
        (unreachable, "to_support"),
    ]
    assert sent not in repr(faults)  # still the operator's
    assert faults[0].notice.operator == "CityCharge"  # support may know who operates it
    assert (await services.faults_with_support(portal.uow(), limit=1))[1] == 2
    detail = await services.fault_for_support(portal.uow(), "fr-2")
    assert detail is not None and detail.notice.reference == not_ours
    assert await services.fault_for_support(portal.uow(), "FR-999999") is None


async def test_the_reporter_is_told_once_per_report_whatever_the_path(portal: Portal) -> None:
    reference = await report(portal)
    await services.fault_not_ours(portal.uow(), CARLA, reference)
    assert not await services.send_unreachable_fault_to_support(portal.uow(), reference, ["CityCharge"])
    told = [(r, p) for n, r, p in await outbox(portal) if n == "fault.reporter_told"]
    assert told == [(reference, {"reason": "not_ours"})]


async def test_a_message_already_recorded_under_the_key_is_not_recorded_again(
    portal: Portal, clock: FrozenClock
) -> None:
    """The key, not the status check, is the once-only guarantee: another process that recorded it first wins."""
    reference = await report(portal)
    async with portal.engine.begin() as conn:
        await conn.execute(
            insert(tables.outbox).values(
                name="fault.reporter_told",
                reference=reference,
                payload={"reason": "unreachable"},
                created_at=clock(),
                origin_key=reporter_told_key(reference),
            )
        )
    assert await services.send_unreachable_fault_to_support(portal.uow(), reference, ["CityCharge"])
    assert [n for n, r, _ in await outbox(portal) if r == reference].count("fault.reporter_told") == 1


async def test_who_to_tell_is_the_reporter_where_they_reported_it(portal: Portal) -> None:
    reference = await report(portal, slack_user_id="U0BEN", slack_team_id="T0HOME", language="de", key="k1")
    reporter = await services.fault_reporter(portal.uow(), reference)
    assert reporter is not None
    assert (reporter.email, reporter.slack_user_id, reporter.slack_team_id, reporter.language) == (
        BEN,
        "U0BEN",
        "T0HOME",
        "de",
    )
    assert not reveals_the_operator(reporter)
    bare = await services.fault_reporter(portal.uow(), await report(portal, "10001R001"))
    assert bare is not None and (bare.email, bare.slack_user_id, bare.language) == (BEN, None, None)
    assert await services.fault_reporter(portal.uow(), "FR-999999") is None
