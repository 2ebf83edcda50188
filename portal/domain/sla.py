"""Service-level targets (issue 16 §4): how long support may take to first answer a request, and to resolve it.

Pure rules, no I/O: from a request's history (its status transitions), its messages and `now`, each target's clock
and state. The clock counts support's time only:
- it pauses while the request waits for the customer's answer (`waiting_for_customer`): the intervals between a
  transition into it and the next transition out are not counted;
- a transfer awaiting the current Service Operator's consent is not support's either: support cannot act until
  the operator answers or the wait expires, so that time is paused too (the clock starts when it reaches support);
- it stops for good once the request is resolved (per kind, below); a reopened service ticket runs again from where
  its clock stopped, against the same targets.

The first response is met by the first message an agent wrote to the requester, or by the request being resolved
(the requester heard the outcome, or withdrew it themselves), whichever came first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from portal.domain.administrative import AdministrativeRequest
from portal.domain.messages import MessageDirection
from portal.domain.requests import WAITING_FOR_CUSTOMER, RequestKind
from portal.domain.service_tickets import ServiceTicket, TicketStatus
from portal.domain.transfers import TransferRequest, TransferStatus


class Target(StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


class SlaState(StrEnum):
    MET = "met"  # the clock stopped (answered / resolved), on time or not
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"  # less than the warning share of the target is left
    BREACHED = "breached"  # the clock runs, and the target has passed
    PAUSED = "paused"  # the next step is the customer's (or the current Service Operator's), not support's


@dataclass(frozen=True)
class SlaTargets:
    """One kind's targets: support's time to the first response and to the resolution."""

    first_response: timedelta
    resolution: timedelta

    def of(self, target: Target) -> timedelta:
        return self.first_response if target == Target.FIRST_RESPONSE else self.resolution


# Defaults, in support's (paused-aware) time, around the clock:
# - a service ticket is a charger that does not work, money its Service Operator loses: someone answers within
#   4 hours, and it is fixed (remotely, or a part or a visit arranged and done) within 3 days;
# - an administrative request (link my account, change my organization's details) is desk work that blocks nothing
#   physical: answered within 8 hours, done within 2 days;
# - a transfer reaches support only once consented or expired; deciding it is checking papers: answered within
#   a day, decided within 3 days.
DEFAULT_TARGETS: Mapping[RequestKind, SlaTargets] = {
    RequestKind.SERVICE_TICKET: SlaTargets(timedelta(hours=4), timedelta(days=3)),
    RequestKind.ADMINISTRATIVE: SlaTargets(timedelta(hours=8), timedelta(days=2)),
    RequestKind.TRANSFER: SlaTargets(timedelta(days=1), timedelta(days=3)),
}
# "Due soon" when less than this share of a target is left (a quarter: 1 hour of a 4-hour first response).
DEFAULT_WARNING_SHARE = 0.25

# Where support's work on a request is done: its clocks stop. A resolved service ticket counts (the customer's side
# may still reopen it); the terminal statuses of every kind count, whoever ended the request.
RESOLVED_STATUSES: Mapping[RequestKind, frozenset[str]] = {
    RequestKind.SERVICE_TICKET: frozenset({TicketStatus.RESOLVED, *ServiceTicket.terminal}),
    RequestKind.ADMINISTRATIVE: frozenset(AdministrativeRequest.terminal),
    RequestKind.TRANSFER: frozenset(TransferRequest.terminal),
}

# Where the next step is not support's: the clocks pause.
PAUSED_STATUSES: Mapping[RequestKind, frozenset[str]] = {
    RequestKind.SERVICE_TICKET: frozenset({WAITING_FOR_CUSTOMER}),
    RequestKind.ADMINISTRATIVE: frozenset({WAITING_FOR_CUSTOMER}),
    RequestKind.TRANSFER: frozenset({WAITING_FOR_CUSTOMER, TransferStatus.AWAITING_OPERATOR}),
}


@dataclass(frozen=True)
class SlaRules:
    """Every kind's targets and the warning share; the portal's configuration (CHARGEDESK_SLA_*)."""

    targets: Mapping[RequestKind, SlaTargets]
    warning_share: float = DEFAULT_WARNING_SHARE

    @classmethod
    def default(cls) -> SlaRules:
        return cls(DEFAULT_TARGETS, DEFAULT_WARNING_SHARE)


class Step(Protocol):
    """A status transition as the clock reads it (portal.domain.requests.Transition, or its view)."""

    @property
    def to_status(self) -> str: ...
    @property
    def at(self) -> datetime: ...


class Said(Protocol):
    """A message as the clock reads it (portal.domain.messages.RequestMessage, or its view)."""

    @property
    def direction(self) -> str: ...
    @property
    def author(self) -> str: ...
    @property
    def at(self) -> datetime: ...


@dataclass(frozen=True)
class SlaClock:
    """One target's clock: support's time spent against it, and its state now."""

    target: Target
    allowed: timedelta  # the target itself
    spent: timedelta  # support's time counted so far (up to when it stopped, if it did)
    state: SlaState
    stopped_at: datetime | None  # when it was met (a response, a resolution)

    @property
    def left(self) -> timedelta:
        """Support's time left; negative once late."""
        return self.allowed - self.spent

    @property
    def late(self) -> bool:
        return self.spent > self.allowed


@dataclass(frozen=True)
class RequestSla:
    first_response: SlaClock
    resolution: SlaClock
    paused_in: str | None  # the status the clocks pause in, while they do

    @property
    def current(self) -> SlaClock:
        """The clock that matters now: the first response's until it is met, then the resolution's."""
        return self.resolution if self.first_response.state == SlaState.MET else self.first_response

    @property
    def breached(self) -> SlaClock | None:
        """A clock that runs and is late (the first response's first), if any."""
        return next((c for c in (self.first_response, self.resolution) if c.state == SlaState.BREACHED), None)


def first_response_at(messages: Sequence[Said]) -> datetime | None:
    """When an agent first wrote to the requester."""
    times = [
        m.at for m in messages if str(m.direction) == MessageDirection.TO_REQUESTER and m.author.startswith("agent:")
    ]
    return min(times, default=None)


def support_time(kind: RequestKind, history: Sequence[Step], until: datetime) -> timedelta:
    """Support's time from the request's opening until `until`: paused and resolved intervals left out."""
    skip = PAUSED_STATUSES[kind] | RESOLVED_STATUSES[kind]
    total = timedelta(0)
    steps = sorted(history, key=lambda s: s.at)
    for step, following in zip(steps, [*steps[1:], None], strict=True):
        if str(step.to_status) in skip or step.at >= until:
            continue
        end = min(following.at, until) if following is not None else until
        total += max(end - step.at, timedelta(0))
    return total


def sla_of(
    kind: RequestKind, history: Sequence[Step], messages: Sequence[Said], now: datetime, rules: SlaRules
) -> RequestSla:
    """Both clocks of a request of `kind`, as of `now`."""
    targets = rules.targets[kind]
    steps = sorted(history, key=lambda s: s.at)
    status = str(steps[-1].to_status) if steps else ""
    resolved_statuses = RESOLVED_STATUSES[kind]
    resolved = status in resolved_statuses
    first_resolved = next((s.at for s in steps if str(s.to_status) in resolved_statuses), None)
    answered = [t for t in (first_response_at(messages), first_resolved) if t is not None]
    paused_in = status if status in PAUSED_STATUSES[kind] else None
    response = _clock(
        Target.FIRST_RESPONSE, targets.first_response, kind, steps, min(answered, default=None), now, paused_in, rules
    )
    resolved_at = steps[-1].at if resolved else None
    resolution = _clock(Target.RESOLUTION, targets.resolution, kind, steps, resolved_at, now, paused_in, rules)
    return RequestSla(response, resolution, paused_in)


def _clock(
    target: Target,
    allowed: timedelta,
    kind: RequestKind,
    steps: Sequence[Step],
    stopped_at: datetime | None,
    now: datetime,
    paused_in: str | None,
    rules: SlaRules,
) -> SlaClock:
    spent = support_time(kind, steps, stopped_at if stopped_at is not None else now)
    if stopped_at is not None:
        state = SlaState.MET
    elif paused_in is not None:
        state = SlaState.PAUSED  # late or not, the next step is not support's
    elif spent > allowed:
        state = SlaState.BREACHED
    elif allowed - spent <= allowed * rules.warning_share:
        state = SlaState.DUE_SOON
    else:
        state = SlaState.ON_TRACK
    return SlaClock(target, allowed, spent, state, stopped_at)


# --- configuration: "4h/3d" ------------------------------------------------------------------------------------

_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}


def parse_duration(text: str) -> timedelta:
    """ "30m", "4h", "3d" (a whole positive number and a unit: minutes, hours, days) as a timedelta."""
    cleaned = text.strip().lower()
    number, unit = cleaned[:-1].strip(), cleaned[-1:]
    if unit not in _UNITS or not number.isdigit() or int(number) <= 0:
        raise ValueError(f"not a duration: {text!r}")
    return int(number) * _UNITS[unit]


def parse_targets(text: str) -> SlaTargets:
    """ "4h/3d": the first response's target, a slash, the resolution's; the first no longer than the second."""
    first, slash, resolution = text.partition("/")
    if not slash:
        raise ValueError(f"not two durations separated by a slash: {text!r}")
    targets = SlaTargets(parse_duration(first), parse_duration(resolution))
    if targets.first_response > targets.resolution:
        raise ValueError("the first response's target is longer than the resolution's")
    return targets


def format_duration(delta: timedelta) -> str:
    """The inverse of parse_duration, in the largest unit that divides it."""
    minutes = int(delta.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"
