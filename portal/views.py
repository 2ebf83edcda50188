"""What use cases return: plain frozen values, safe to hand to any surface (never ORM objects)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from portal.domain.administrative import AdministrativeRequest
from portal.domain.chargers import Charger
from portal.domain.messages import RequestMessage
from portal.domain.requests import WAITING_FOR_CUSTOMER, SupportRequest
from portal.domain.service_tickets import ServiceTicket
from portal.domain.transfers import TransferRequest


@dataclass(frozen=True)
class RequestSummary:
    reference: str
    kind: str
    status: str
    serials: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    in_warranty: bool | None = None


@dataclass(frozen=True)
class TransitionView:
    from_status: str | None
    to_status: str
    actor: str
    at: datetime
    reason: str | None


@dataclass(frozen=True)
class MessageView:
    """One message of a request's conversation between support and the customer's side."""

    number: int
    direction: str  # to_requester / from_requester
    author: str  # an actor's label: agent:U…, account:email
    text: str
    at: datetime
    files: tuple[tuple[str, str, str], ...]  # (id, name, permalink) of each Slack file
    asks: bool  # support's question, which the request waits on

    @classmethod
    def of(cls, message: RequestMessage) -> MessageView:
        files = tuple((f.get("id", ""), f.get("name", ""), f.get("permalink", "")) for f in message.files)
        direction = str(message.direction)
        return cls(message.number, direction, message.author, message.text, message.at, files, message.asks)


@dataclass(frozen=True)
class ChargerLineView:
    serial: str
    operator: str  # the charger's Service Operator when the request was opened
    answer: str | None  # transfers: consented / declined / None while waiting


@dataclass(frozen=True)
class RequestDetail:
    summary: RequestSummary
    description: str
    requester_email: str
    organization: str | None
    assignee: str | None
    resolution: str | None
    lines: tuple[ChargerLineView, ...]
    history: tuple[TransitionView, ...]


@dataclass(frozen=True)
class ChargerView:
    serial: str
    model: str
    shipped_at: date
    warranty_until: date
    in_warranty: bool
    service_operator: str


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    reference: str | None
    outcome: str
    detail: str | None
    raw_value: str | None = None  # what the attempt named when it was not a well-formed reference (escaped, cut)


@dataclass(frozen=True)
class ChargerChoices:
    operated: tuple[str, ...]
    at_site_operated_by_others: tuple[str, ...]


@dataclass(frozen=True)
class SerialCheck:
    """Serials that cannot go into a request as they are, grouped by why."""

    unknown: tuple[str, ...]
    operated_by_asker: tuple[str, ...]
    pending_transfer: tuple[str, ...]

    @property
    def all_clear(self) -> bool:
        return not (self.unknown or self.operated_by_asker or self.pending_transfer)


_WITHDRAWABLE = {
    kind.request_kind.value: kind.withdrawable for kind in (ServiceTicket, AdministrativeRequest, TransferRequest)
}


_ASKABLE = {kind.request_kind.value: kind.askable for kind in (ServiceTicket, AdministrativeRequest, TransferRequest)}


def is_askable(kind: str, status: str) -> bool:
    """Whether support may ask the customer's side something about a request of `kind` in `status` and wait for
    the answer (or already waits for one: a further question waits on)."""
    return status == WAITING_FOR_CUSTOMER or status in _ASKABLE.get(kind, frozenset())


def is_withdrawable(summary: RequestSummary) -> bool:
    """Whether the request is still undecided, so that its requester's side may withdraw it (the portal checks
    who when it is done)."""
    return summary.status in _WITHDRAWABLE.get(summary.kind, frozenset())


def summarize(request: SupportRequest) -> RequestSummary:
    return RequestSummary(
        reference=request.reference,
        kind=request.request_kind.value,
        status=str(request.status),
        serials=tuple(request.serials),
        created_at=request.created_at,
        updated_at=request.updated_at,
        in_warranty=request.in_warranty,
    )


def describe(request: SupportRequest, requester_email: str, organization_names: dict[int, str]) -> RequestDetail:
    return RequestDetail(
        summary=summarize(request),
        description=request.description,
        requester_email=requester_email,
        organization=organization_names.get(request.organization_id) if request.organization_id else None,
        assignee=request.assignee,
        resolution=request.resolution,
        lines=tuple(
            ChargerLineView(line.serial, organization_names.get(line.operator_id, "?"), line.answer)
            for line in request.lines
        ),
        history=tuple(TransitionView(t.from_status, t.to_status, t.actor, t.at, t.reason) for t in request.history),
    )


def charger_view(charger: Charger, operator_name: str, today: date) -> ChargerView:
    return ChargerView(
        serial=charger.serial,
        model=charger.model,
        shipped_at=charger.shipped_at,
        warranty_until=charger.warranty_until,
        in_warranty=charger.in_warranty(today),
        service_operator=operator_name,
    )
