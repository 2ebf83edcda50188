"""Use cases that only read, for overviews: one charger, the support queue, one account's whole picture.

Each runs one transaction and returns frozen values. Who may see what is decided here, never by the surface:
a charger's details and requests are for support agents and the accounts of its Service Operator; anyone else
learns only that another organization manages it (never which one) and whether they can request a transfer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, false, func, or_, select

from portal.adapters import tables
from portal.domain.actors import Actor, Agent, Customer
from portal.domain.administrative import AdminStatus
from portal.domain.chargers import Charger
from portal.domain.eligibility import EligibilityDecision, account_decision
from portal.domain.organizations import Account
from portal.domain.requests import WAITING_FOR_CUSTOMER, RequestKind, SupportRequest
from portal.domain.serials import normalise_serial
from portal.domain.service_tickets import TicketStatus
from portal.domain.sla import RequestSla, SlaRules, sla_of
from portal.domain.transfers import TransferStatus
from portal.errors import UnknownCharger
from portal.services._loading import load_account
from portal.services.faults import FaultReportSummary, fault_summary
from portal.unit_of_work import UnitOfWork
from portal.views import ChargerView, RequestSummary, charger_view, summarize

# Requests still under way, i.e. worth listing as "open" on a charger.
ACTIVE_STATUSES: Mapping[RequestKind, frozenset[str]] = {
    RequestKind.SERVICE_TICKET: frozenset(
        {TicketStatus.OPEN, TicketStatus.IN_PROGRESS, TicketStatus.WAITING_FOR_CUSTOMER}
    ),
    RequestKind.ADMINISTRATIVE: frozenset({AdminStatus.OPEN, AdminStatus.WAITING_FOR_CUSTOMER}),
    RequestKind.TRANSFER: frozenset(
        {
            TransferStatus.AWAITING_OPERATOR,
            TransferStatus.AWAITING_SUPPORT,
            TransferStatus.EXPIRED,
            TransferStatus.WAITING_FOR_CUSTOMER,
        }
    ),
}

# Requests whose next step is support's. A transfer awaiting the current Service Operator is not: support acts
# only once it is consented to, or once it expired without an answer.
SUPPORT_QUEUE_STATUSES: Mapping[RequestKind, frozenset[str]] = {
    RequestKind.SERVICE_TICKET: frozenset({TicketStatus.OPEN, TicketStatus.IN_PROGRESS}),
    RequestKind.ADMINISTRATIVE: frozenset({AdminStatus.OPEN}),
    RequestKind.TRANSFER: frozenset({TransferStatus.AWAITING_SUPPORT, TransferStatus.EXPIRED}),
}

# Requests support asked the customer's side something about: the next step is the customer's answer.
CUSTOMER_WAIT_STATUSES: Mapping[RequestKind, frozenset[str]] = {
    kind: frozenset({WAITING_FOR_CUSTOMER}) for kind in RequestKind
}

QUEUE_LIMIT = 100
ACCOUNT_REQUESTS_LIMIT = 50  # as list_requests


@dataclass(frozen=True)
class ChargerDetails:
    """What only agents and the charger's Service Operator may see."""

    model: str
    service_operator: str
    shipped_at: date
    warranty_until: date
    in_warranty: bool
    open_requests: tuple[RequestSummary, ...]  # oldest first


@dataclass(frozen=True)
class ChargerOverview:
    """One charger as the viewer may see it.

    `details` is None when another organization manages the charger: the viewer then learns nothing else about
    it, not even which organization that is.
    """

    serial: str
    details: ChargerDetails | None
    operated_by_viewer: bool  # the viewer's organization is its Service Operator
    can_request_transfer: bool  # a linked service customer of another organization, and no transfer pending
    transfer_pending: bool  # a management transfer on it waits for a decision (whoever asked)
    own_pending_reference: str | None  # that transfer's reference, when the viewer's organization asked
    account_problem: EligibilityDecision | None  # customers only: no account, not yet a service customer, …

    @property
    def managed_elsewhere(self) -> bool:
        return self.details is None


@dataclass(frozen=True)
class AccountOverview:
    """Everything an account's own people may see at a glance (e.g. on the Slack App Home tab)."""

    email: str
    organization: str | None
    service_customer: bool
    service_customer_from: datetime
    chargers: tuple[ChargerView, ...]  # those its organization operates
    requests: tuple[RequestSummary, ...]  # its own and its organization's, newest first
    awaiting_our_answer: tuple[RequestSummary, ...]  # transfers of its organization's chargers, asking consent
    # The account's own fault reports on others' chargers: never who operates them.
    fault_reports: tuple[FaultReportSummary, ...] = ()


async def charger_overview(uow: UnitOfWork, viewer: Actor, serial: str) -> ChargerOverview:
    """The charger `serial` as `viewer` may see it.

    Raises MalformedSerial for text in neither label format, UnknownCharger when no charger has that serial.
    """
    normalised = normalise_serial(serial)
    async with uow:
        charger = await uow.chargers.by_serial(normalised)
        if charger is None or charger.id is None:
            raise UnknownCharger(normalised)
        account = await uow.accounts.by_email(viewer.email) if isinstance(viewer, Customer) and viewer.email else None
        now = uow.clock()
        pending = (await uow.requests.pending_transfers_on([charger.id])).get(charger.id)
        org = account.organization_id if account else None
        operated_by_viewer = org is not None and org == charger.service_operator_id
        problem = account_decision(account, now) if isinstance(viewer, Customer) else None
        details = None
        if isinstance(viewer, Agent) or operated_by_viewer:
            details = await _details(uow, charger, account, now.date())
        return ChargerOverview(
            serial=charger.serial,
            details=details,
            operated_by_viewer=operated_by_viewer,
            can_request_transfer=(
                isinstance(viewer, Customer) and problem is None and not operated_by_viewer and pending is None
            ),
            transfer_pending=pending is not None,
            own_pending_reference=pending[0] if pending is not None and org is not None and pending[1] == org else None,
            account_problem=problem,
        )


async def _details(uow: UnitOfWork, charger: Charger, viewer: Account | None, today: date) -> ChargerDetails:
    assert charger.id is not None
    names = await uow.organizations.names([charger.service_operator_id])
    rq, rc = tables.requests, tables.request_chargers
    naming_it = select(rc.c.request_id).where(rc.c.charger_id == charger.id)
    query = (
        select(SupportRequest)
        .where(rq.c.id.in_(naming_it), in_statuses(ACTIVE_STATUSES))
        .order_by(rq.c.created_at, rq.c.id)
    )
    requests = list(await uow.session.scalars(query))
    if viewer is not None:
        # The Service Operator sees what get_request would show it, no more (e.g. not another organization's
        # administrative request from before it became the Service Operator).
        requests = [r for r in requests if r.visible_to(viewer)]
    view = charger_view(charger, names.get(charger.service_operator_id, "?"), today)
    return ChargerDetails(
        model=view.model,
        service_operator=view.service_operator,
        shipped_at=view.shipped_at,
        warranty_until=view.warranty_until,
        in_warranty=view.in_warranty,
        open_requests=tuple(summarize(r) for r in requests),
    )


async def support_queue(uow: UnitOfWork, limit: int = QUEUE_LIMIT) -> list[RequestSummary]:
    """What waits for support, oldest first: consented or expired transfers, open administrative requests,
    open and in-progress service tickets."""
    async with uow:
        rq = tables.requests
        query = (
            select(SupportRequest)
            .where(in_statuses(SUPPORT_QUEUE_STATUSES))
            .order_by(rq.c.created_at, rq.c.id)
            .limit(limit)
        )
        return [summarize(r) for r in await uow.session.scalars(query)]


# Transfers an agent watches without acting on yet: the current Service Operator has not answered.
OPERATOR_WAIT_STATUSES: Mapping[RequestKind, frozenset[str]] = {
    RequestKind.TRANSFER: frozenset({TransferStatus.AWAITING_OPERATOR}),
}


@dataclass(frozen=True)
class QueueItem:
    """A request in an agent's queue, with what the queue shows beside it."""

    request: RequestSummary
    organization: str | None  # the requester's organization, if any
    assignee: str | None  # the agent's user id
    sla: RequestSla | None = None  # its clocks as of the queue's moment


@dataclass(frozen=True)
class AgentQueue:
    """One agent's view of the support queue, oldest first in each part."""

    mine: tuple[QueueItem, ...]
    unassigned: tuple[QueueItem, ...]
    others: tuple[QueueItem, ...]  # taken by another agent
    waiting_for_operator: tuple[QueueItem, ...]
    waiting_for_customer: tuple[QueueItem, ...] = ()
    late: tuple[QueueItem, ...] = ()  # a target passed while support's clock ran, whoever has it (in no other part)


async def agent_queue(
    uow: UnitOfWork, agent_user_id: str, limit: int = QUEUE_LIMIT, rules: SlaRules | None = None
) -> AgentQueue:
    """The support queue as `agent_user_id` works it: the late requests (whoever has them), then theirs, nobody's,
    someone else's, the transfers still waiting for the current Service Operator's consent, and the requests
    waiting for the customer's answer. Each with its SLA clocks under `rules` (the defaults if not given)."""
    rules = rules or SlaRules.default()
    async with uow:
        now = uow.clock()
        rq, org = tables.requests, tables.organizations
        query = (
            select(SupportRequest, org.c.name)
            .outerjoin(org, org.c.id == rq.c.organization_id)
            .where(
                or_(
                    in_statuses(SUPPORT_QUEUE_STATUSES),
                    in_statuses(OPERATOR_WAIT_STATUSES),
                    in_statuses(CUSTOMER_WAIT_STATUSES),
                )
            )
            .order_by(rq.c.created_at, rq.c.id)
            .limit(limit)
        )
        # Read while the session is open: the rows are plain values from here on.
        items = [
            QueueItem(
                summarize(request),
                organization,
                request.assignee,
                sla_of(request.request_kind, request.history, request.messages, now, rules),
            )
            for request, organization in (await uow.session.execute(query)).all()
        ]
    waiting = {str(s) for s in OPERATOR_WAIT_STATUSES[RequestKind.TRANSFER]}
    for_operator = [i for i in items if i.request.kind == RequestKind.TRANSFER and i.request.status in waiting]
    for_customer = [i for i in items if i.request.status == WAITING_FOR_CUSTOMER]
    late = [i for i in items if i.sla is not None and i.sla.breached is not None]
    for_support = [i for i in items if i not in for_operator and i not in for_customer and i not in late]
    return AgentQueue(
        mine=tuple(i for i in for_support if i.assignee == agent_user_id),
        unassigned=tuple(i for i in for_support if i.assignee is None),
        others=tuple(i for i in for_support if i.assignee not in (None, agent_user_id)),
        waiting_for_operator=tuple(for_operator),
        waiting_for_customer=tuple(for_customer),
        late=tuple(late),
    )


async def account_overview(uow: UnitOfWork, email: str | None) -> AccountOverview:
    """The account's organization, the chargers it operates and the requests its people may follow.

    Raises UnknownAccount when there is no account for `email`.
    """
    async with uow:
        account = await load_account(uow, email)
        now = uow.clock()
        org = account.organization_id
        organization: str | None = None
        chargers: list[ChargerView] = []
        awaiting: list[RequestSummary] = []
        if org is not None:
            organization = (await uow.organizations.names([org])).get(org)
            operated = await uow.chargers.operated_by(org)
            chargers = [charger_view(c, organization or "?", now.date()) for c in operated]
            awaiting = [summarize(t) for t in await uow.requests.transfers_awaiting(org)]
        requests = await uow.requests.of_organization_or_requester(account, limit=ACCOUNT_REQUESTS_LIMIT)
        return AccountOverview(
            email=account.email,
            organization=organization,
            service_customer=account.is_service_customer(now),
            service_customer_from=account.service_customer_from(),
            chargers=tuple(chargers),
            requests=tuple(summarize(r) for r in requests),
            awaiting_our_answer=tuple(awaiting),
            fault_reports=tuple(fault_summary(r) for r in await uow.faults.of_reporter(account.id or 0)),
        )


def in_statuses(statuses: Mapping[RequestKind, Iterable[str]]) -> ColumnElement[bool]:
    rq = tables.requests
    conditions = [
        and_(rq.c.kind == kind.value, rq.c.status.in_([str(s) for s in allowed])) for kind, allowed in statuses.items()
    ]
    return or_(false(), *conditions)


async def requests_by_kind_and_state(uow: UnitOfWork) -> dict[tuple[str, str], int]:
    """How many requests there are of each (kind, status), for operations (counts only, nobody's details)."""
    rq = tables.requests
    async with uow:
        rows = await uow.session.execute(select(rq.c.kind, rq.c.status, func.count()).group_by(rq.c.kind, rq.c.status))
        return {(str(kind), str(status)): int(count) for kind, status, count in rows}
