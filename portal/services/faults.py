"""Use cases: a fault report to a charger's Service Operator, and the operator's answers to it.

What each side may learn is decided here, not on the surfaces: the views the reporter gets never name the
operator, and the operator's view names the reporter only when they agreed (portal/domain/faults.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from portal.domain.actors import Customer
from portal.domain.eligibility import account_decision
from portal.domain.events import DomainEvent
from portal.domain.faults import (
    OPERATOR_ANSWERABLE,
    FaultReport,
    FaultStatus,
    may_report_again_at,
    normalise_fault_reference,
    reporter_told_key,
)
from portal.domain.organizations import Account
from portal.domain.serials import normalise_serial
from portal.domain.text import clean_description
from portal.errors import (
    FaultReportedRecently,
    InvalidTransition,
    NotEligible,
    OwnCharger,
    UnknownCharger,
    UnknownRequest,
)
from portal.services._loading import load_account
from portal.services.asked import origin_key
from portal.services.audit import audit_refusal
from portal.services.tickets import add_ticket
from portal.unit_of_work import UnitOfWork
from portal.views import RequestSummary, summarize

FAULT_REPORTED = "fault.reported"
FAULT_TO_SUPPORT = "fault.to_support"  # payload: reason "not_ours" or "unreachable"
FAULT_TICKET_OPENED = "fault.ticket_opened"  # payload: the ticket's reference
# The reporter is told their report went to support (payload: reason, as for fault.to_support). Its own event, under
# a unique key (`reporter_told_key`), so that whatever restarts or races, they are told once per report.
FAULT_REPORTER_TOLD = "fault.reporter_told"


@dataclass(frozen=True)
class FaultReportSummary:
    """A report as its reporter sees it: never who the Service Operator is."""

    reference: str
    serial: str
    with_support: bool  # False: "the Service Operator was informed"; True: "support is looking at it"
    created_at: datetime
    # Where it stands, in the reporter's terms: which of the operator's people answered, and the ticket they opened,
    # are never part of it.
    status: FaultStatus


@dataclass(frozen=True)
class FaultReportDetail:
    """One report in full, as its reporter (and only they) may see it: what they reported, never who operates it."""

    summary: FaultReportSummary
    symptom: str
    updated_at: datetime


@dataclass(frozen=True)
class SupportFault:
    """A report as support sees it in its queue and in `/support status FR-…`: everything, the operator included."""

    notice: FaultNotice
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class FaultReporter:
    """Who to tell that a report went to support: the reporter's account email (their verified Slack people), the
    Slack user and language it was reported in (None when it came from elsewhere), and the report as they see it."""

    email: str
    slack_user_id: str | None
    slack_team_id: str | None
    language: str | None
    summary: FaultReportSummary


@dataclass(frozen=True)
class FaultNotice:
    """A report as the charger's Service Operator (and support) sees it. `reporter` and `reporter_organization`
    are None unless the reporter agreed to share them."""

    reference: str
    serial: str
    symptom: str
    operator_id: int
    status: str
    reporter: str | None
    reporter_organization: str | None
    ticket_reference: str | None
    operator: str  # its name: for the operator's own people and support, never for the reporter
    operator_emails: tuple[str, ...]  # the operator's accounts, whose verified people get the DM


def fault_summary(report: FaultReport) -> FaultReportSummary:
    return FaultReportSummary(
        report.reference, report.serial, report.status.with_support, report.created_at, report.status
    )


async def report_fault(
    uow: UnitOfWork,
    email: str | None,
    serial: str,
    symptom: str,
    *,
    share_identity: bool,
    origin: Mapping[str, Any] | None = None,
) -> FaultReportSummary:
    """Tell the Service Operator of `serial` about a fault; the notifier DMs its people (`fault.reported`).

    Raises NotEligible (no usable account), UnknownCharger, OwnCharger when the reporter's organization operates
    the charger (they raise a service ticket themselves) and FaultReportedRecently within the report window.
    """
    symptom = clean_description(symptom)
    normalised = normalise_serial(serial)
    key = origin_key(origin)

    async def run() -> FaultReportSummary:
        async with uow:
            if key is not None and (again := await uow.faults.by_origin_key(key)) is not None:
                return fault_summary(again)
            account = await uow.accounts.by_email(email) if email else None
            problem = account_decision(account, uow.clock())
            if problem is not None:
                raise NotEligible(problem)
            assert account is not None and account.id is not None
            # Locked: two reports of one reporter at once on one charger queue here, the second sees the first.
            charger = (await uow.chargers.by_serials([normalised], for_update=True)).get(normalised)
            if charger is None or charger.id is None:
                raise UnknownCharger(normalised)
            if charger.service_operator_id == account.organization_id:
                raise OwnCharger(normalised)
            now = uow.clock()
            again_at = may_report_again_at(await uow.faults.last_by(charger.id, account.id))
            if again_at is not None and again_at > now:
                raise FaultReportedRecently(normalised, again_at)
            reference = await uow.faults.next_reference()
            await uow.faults.add(
                reference=reference,
                charger_id=charger.id,
                serial=normalised,
                operator_id=charger.service_operator_id,
                reporter_account_id=account.id,
                reporter_organization_id=account.organization_id,
                symptom=symptom,
                share_identity=share_identity,
                origin=origin,
                origin_key=key,
                now=now,
            )
            uow.record(DomainEvent(FAULT_REPORTED, reference, {"serial": normalised}))
            await uow.commit()
            report = await uow.faults.get(reference)
            assert report is not None
            return fault_summary(report)

    try:
        return await run()
    except IntegrityError as error:
        # The same intent reported meanwhile (two runs of one form at once): its report is the answer.
        if key is None or "origin_key" not in str(error.orig):
            raise
        async with uow:
            again = await uow.faults.by_origin_key(key)
        if again is None:
            raise
        return fault_summary(again)


async def fault_reports_of(uow: UnitOfWork, email: str | None) -> list[FaultReportSummary]:
    """The reporter's own reports, newest first (what `/support status` lists)."""
    async with uow:
        account = await load_account(uow, email)
        assert account.id is not None
        return [fault_summary(r) for r in await uow.faults.of_reporter(account.id)]


async def fault_report_for_reporter(uow: UnitOfWork, email: str | None, reference: str) -> FaultReportDetail:
    """One report in full for `/support status FR-…`, when `email` is its reporter's.

    Anyone else (another customer, the reporter's colleagues, the operator) gets UnknownRequest, audited, whatever
    the reason, exactly as for a reference that does not exist: the answer reveals nothing about the report.
    """
    try:
        async with uow:
            account = await uow.accounts.by_email(email) if email else None
            canonical = normalise_fault_reference(reference)
            report = await uow.faults.get(canonical) if canonical else None
            if account is None or report is None or report.reporter_account_id != account.id:
                raise UnknownRequest(reference)
            return FaultReportDetail(fault_summary(report), report.symptom, report.updated_at)
    except UnknownRequest as error:
        actor = Customer(email).label if email else "account:?"
        await audit_refusal(uow, actor, "fault_status", reference, type(error).__name__, "not the reporter")
        raise


async def fault_for_support(uow: UnitOfWork, reference: str) -> SupportFault | None:
    """One report as support sees it (agents only: the caller decides who is an agent); None when there is none."""
    async with uow:
        canonical = normalise_fault_reference(reference)
        report = await uow.faults.get(canonical) if canonical else None
        if report is None:
            return None
        return SupportFault(await _notice(uow, report), report.created_at, report.updated_at)


async def faults_with_support(uow: UnitOfWork, limit: int = 50) -> tuple[list[SupportFault], int]:
    """The reports support has to look at, oldest first (at most `limit`), and how many there are in all."""
    async with uow:
        reports = await uow.faults.with_support(limit)
        total = await uow.faults.count_with_support()
        return [SupportFault(await _notice(uow, r), r.created_at, r.updated_at) for r in reports], total


async def fault_reporter(uow: UnitOfWork, reference: str) -> FaultReporter | None:
    """Who reported `reference`, for the notifier's message to them; None when there is no such report."""
    async with uow:
        canonical = normalise_fault_reference(reference)
        report = await uow.faults.get(canonical) if canonical else None
        if report is None:
            return None
        email = (await uow.accounts.emails([report.reporter_account_id])).get(report.reporter_account_id, "")
        origin = report.origin or {}

        def text(name: str) -> str | None:
            value = origin.get(name)
            return value if isinstance(value, str) and value else None

        summary = fault_summary(report)
        return FaultReporter(email, text("slack_user_id"), text("slack_team_id"), text("language"), summary)


def _tell_reporter_once(uow: UnitOfWork, report: FaultReport, reason: str) -> None:
    """Record the reporter's one "support has it" message, keyed by the report (the caller checked the key)."""
    payload = {"reason": reason}
    uow.record(DomainEvent(FAULT_REPORTER_TOLD, report.reference, payload, key=reporter_told_key(report.reference)))


async def fault_notice(uow: UnitOfWork, reference: str) -> FaultNotice | None:
    """The report for the notifier, which DMs the operator's people; None when there is no such report."""
    async with uow:
        canonical = normalise_fault_reference(reference)
        report = await uow.faults.get(canonical) if canonical else None
        return await _notice(uow, report) if report is not None else None


async def _notice(uow: UnitOfWork, report: FaultReport) -> FaultNotice:
    reporter = organization = None
    if report.share_identity:
        reporter = (await uow.accounts.emails([report.reporter_account_id])).get(report.reporter_account_id)
        if report.reporter_organization_id is not None:
            org = report.reporter_organization_id
            organization = (await uow.organizations.names([org])).get(org)
    operator = (await uow.organizations.names([report.operator_id])).get(report.operator_id, "?")
    emails = tuple(a.email for a in await uow.accounts.of_organization(report.operator_id))
    return FaultNotice(
        report.reference,
        report.serial,
        report.symptom,
        report.operator_id,
        str(report.status),
        reporter,
        organization,
        report.ticket_reference,
        operator,
        emails,
    )


async def _load_for_operator(uow: UnitOfWork, email: str | None, reference: str) -> tuple[Account, FaultReport]:
    """Inside a transaction: the report, locked, when `email` is a person of its charger's current Service Operator.

    Anyone else gets UnknownRequest whatever the reason (no such report, another operator's, the charger changed
    operator since): the answer reveals nothing about the report.
    """
    account = await uow.accounts.by_email(email) if email else None
    canonical = normalise_fault_reference(reference)
    report = await uow.faults.get(canonical, for_update=True) if canonical else None
    if account is None or account.organization_id is None or report is None:
        raise UnknownRequest(reference)
    charger = (await uow.chargers.by_ids([report.charger_id])).get(report.charger_id)
    if report.operator_id != account.organization_id or charger is None:
        raise UnknownRequest(reference)
    if charger.service_operator_id != account.organization_id:
        raise UnknownRequest(reference)
    return account, report


async def _refused(uow: UnitOfWork, email: str | None, action: str, reference: str, error: Exception) -> None:
    actor = Customer(email).label if email else "account:?"
    await audit_refusal(uow, actor, action, reference, type(error).__name__, "not a person of the charger's operator")


async def fault_for_operator(uow: UnitOfWork, email: str | None, reference: str) -> FaultNotice:
    """The report as a person of its charger's current Service Operator may see it (to open a ticket from it).
    Anyone else gets UnknownRequest, audited: a forged button value shows nobody's symptom."""
    try:
        async with uow:
            _, report = await _load_for_operator(uow, email, reference)
            return await _notice(uow, report)
    except UnknownRequest as error:
        await _refused(uow, email, "fault_view", reference, error)
        raise


async def fault_not_ours(uow: UnitOfWork, email: str | None, reference: str) -> FaultNotice:
    """The operator's person says the charger is not theirs any more: support checks the charger's records."""
    try:
        async with uow:
            account, report = await _load_for_operator(uow, email, reference)
            if report.status not in OPERATOR_ANSWERABLE:
                raise InvalidTransition(report.reference, str(report.status), "answered 'not ours'")
            now = uow.clock()
            await uow.faults.set_status(report.reference, FaultStatus.NOT_OURS, now, Customer(account.email).label)
            uow.record(DomainEvent(FAULT_TO_SUPPORT, report.reference, {"reason": "not_ours"}))
            if not await uow.recorded_under(reporter_told_key(report.reference)):
                _tell_reporter_once(uow, report, "not_ours")
            try:
                await uow.commit()
            except IntegrityError as error:
                # Another answer recorded the reporter's message first (two presses at once): that one won.
                raise InvalidTransition(report.reference, str(report.status), "answered 'not ours'") from error
    except UnknownRequest as error:
        await _refused(uow, email, "fault_not_ours", reference, error)
        raise
    async with uow:
        updated = await uow.faults.get(report.reference)
        assert updated is not None
        return await _notice(uow, updated)


async def open_ticket_from_fault(
    uow: UnitOfWork,
    email: str | None,
    reference: str,
    description: str,
    origin: Mapping[str, Any] | None = None,
) -> RequestSummary:
    """The operator's person opens their own service ticket from the report, in one transaction with the link.

    Opening it again (a resubmitted modal) answers with the ticket opened the first time.
    """
    description = clean_description(description)
    try:
        async with uow:
            account, report = await _load_for_operator(uow, email, reference)
            if report.ticket_reference is not None:
                existing = await uow.requests.get(report.ticket_reference)
                if existing is not None:
                    return summarize(existing)
            if report.status not in OPERATOR_ANSWERABLE:
                raise InvalidTransition(report.reference, str(report.status), "turned into a ticket")
            ticket = await add_ticket(uow, account.email, report.serial, description, origin)
            now = uow.clock()
            label = Customer(account.email).label
            await uow.faults.set_status(report.reference, FaultStatus.TICKET_OPENED, now, label, ticket.reference)
            uow.record(DomainEvent(FAULT_TICKET_OPENED, report.reference, {"ticket": ticket.reference}))
            await uow.commit()
            return summarize(ticket)
    except UnknownRequest as error:
        await _refused(uow, email, "fault_open_ticket", reference, error)
        raise


async def send_unreachable_fault_to_support(uow: UnitOfWork, reference: str, operators: Sequence[str]) -> bool:
    """Nobody of the operator can be reached in Slack: the report goes to support (triage) with that reason.
    False (and nothing changes) when it was answered or sent already."""
    async with uow:
        canonical = normalise_fault_reference(reference)
        report = await uow.faults.get(canonical, for_update=True) if canonical else None
        if report is None or report.status != FaultStatus.SENT:
            return False
        await uow.faults.set_status(report.reference, FaultStatus.TO_SUPPORT, uow.clock(), "system")
        payload = {"reason": "unreachable", "operators": list(operators)}
        uow.record(DomainEvent(FAULT_TO_SUPPORT, report.reference, payload))
        if not await uow.recorded_under(reporter_told_key(report.reference)):
            _tell_reporter_once(uow, report, "unreachable")
        try:
            await uow.commit()
        except IntegrityError:
            return False  # another notifier sent it to support first
        return True
