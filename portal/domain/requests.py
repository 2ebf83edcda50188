"""What the three request kinds share: a reference, a status with allowed transitions, and a history."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from portal.domain.actors import Actor, Agent, Customer, System
from portal.domain.events import DomainEvent
from portal.domain.messages import MessageDirection, RequestMessage, clean_files, clean_message
from portal.domain.organizations import Account
from portal.domain.text import clean_reason
from portal.errors import InvalidTransition, NotRequester, NotSupportAgent


class RequestKind(StrEnum):
    SERVICE_TICKET = "service_ticket"
    ADMINISTRATIVE = "administrative"
    TRANSFER = "transfer"


REFERENCE_PREFIX: Mapping[RequestKind, str] = {
    RequestKind.SERVICE_TICKET: "ST",
    RequestKind.ADMINISTRATIVE: "AR",
    RequestKind.TRANSFER: "MT",
}


def format_reference(kind: RequestKind, number: int) -> str:
    return f"{REFERENCE_PREFIX[kind]}-{number:06d}"


# Every reference is a short prefix, a dash and digits (ST-000042). Anything else cannot name a request.
_REFERENCE_SHAPE = re.compile(r"[A-Z]{2,4}-[0-9]{1,10}", re.ASCII)


def looks_like_reference(text: str) -> bool:
    """Whether `text` (case and surrounding spaces aside) has a reference's shape; it may still name nothing."""
    return _REFERENCE_SHAPE.fullmatch(text.strip().upper()) is not None


# A reference as customers type it: its kind's prefix, then its number, in any case, with or without a dash, spaces
# and leading zeros ("mt-42", "MT 42", "mt42", "MT000042"). Inside a sentence it stands on its own (the `regex:` of
# data/nlu.yml, where Rasa's RegexEntityExtractor finds it, has the same shape).
_PREFIXES = "|".join(REFERENCE_PREFIX.values())
_REFERENCE_TYPED = re.compile(rf"\s*({_PREFIXES})\s*-?\s*0*(\d{{1,9}})\s*", re.IGNORECASE | re.ASCII)
REFERENCE_IN_TEXT = re.compile(rf"(?<![a-z0-9])(?:{_PREFIXES}) ?-? ?\d{{1,9}}(?![a-z0-9])", re.IGNORECASE | re.ASCII)


def normalise_reference(text: str) -> str | None:
    """The canonical form of a reference as typed (`MT-000042` for "mt-42", "MT 42", "mt42" or "MT000042"); None
    when `text` is not one of a known kind. The one rule for every surface: the engine's entities, the actions'
    (whose values come as typed from Rasa's extractor), `/support` and the portal's lookups."""
    match = _REFERENCE_TYPED.fullmatch(text)
    if match is None:
        return None
    kind = kind_of_reference(match.group(1))
    return format_reference(kind, int(match.group(2))) if kind else None


def find_reference(text: str) -> str | None:
    """The first request reference in `text`, in its canonical form (`ST-000001`), or None."""
    for match in REFERENCE_IN_TEXT.finditer(text):
        if (reference := normalise_reference(match.group(0))) is not None:
            return reference
    return None


def kind_of_reference(reference: str) -> RequestKind | None:
    prefix = reference.strip().upper().split("-", 1)[0]
    for kind, known in REFERENCE_PREFIX.items():
        if known == prefix:
            return kind
    return None


# Every kind has it: support asked the customer's side something, and the request waits for their answer (the
# support clock stops meanwhile). Their answer takes it back to where it was.
WAITING_FOR_CUSTOMER = "waiting_for_customer"


class Transition:
    """One step in a request's history: who moved it from which status to which, when and why."""

    id: int | None

    def __init__(self, from_status: str | None, to_status: str, actor: str, at: datetime, reason: str | None) -> None:
        self.id = None
        self.from_status = from_status
        self.to_status = to_status
        self.actor = actor
        self.at = at
        self.reason = reason


class RequestCharger:
    """A charger named in a request, with its Service Operator when the request was opened.

    For a transfer, `holds_transfer` is true while the transfer is pending; the database allows at most one
    such row per charger, which is what makes two pending transfers on one charger impossible.
    """

    id: int | None

    def __init__(self, charger_id: int, serial: str, operator_id: int, holds_transfer: bool = False) -> None:
        self.id = None
        self.charger_id = charger_id
        self.serial = serial
        self.operator_id = operator_id
        self.holds_transfer = holds_transfer
        self.answer: str | None = None  # "consented" / "declined", transfers only
        self.answered_by: str | None = None
        self.answered_at: datetime | None = None


class SupportRequest:
    """Base of ServiceTicket, AdministrativeRequest and TransferRequest (never instantiated itself)."""

    request_kind: ClassVar[RequestKind]
    transitions: ClassVar[Mapping[str, frozenset[str]]]
    terminal: ClassVar[frozenset[str]]
    # Statuses from which the customer's side may still withdraw the request: nobody has decided it yet.
    withdrawable: ClassVar[frozenset[str]]
    withdrawn_status: ClassVar[str]
    # Statuses in which support may ask the customer's side something and wait for the answer.
    askable: ClassVar[frozenset[str]]
    # Where a request goes when the customer never answered support's question (after a reminder).
    unanswered_status: ClassVar[str]

    id: int | None
    version: int
    events: list[DomainEvent]

    def __init__(
        self,
        reference: str,
        status: str,
        requester_account_id: int,
        organization_id: int | None,
        description: str,
        at: datetime,
        actor: Actor,
        lines: list[RequestCharger] | None = None,
    ) -> None:
        self.id = None
        self.reference = reference
        self.status = status
        self.requester_account_id = requester_account_id
        self.organization_id = organization_id
        self.description = description
        self.assignee: str | None = None
        self.resolution: str | None = None
        self.topic: str | None = None
        self.in_warranty: bool | None = None
        self.origin: dict[str, Any] | None = None  # where it was asked; only surfaces read it
        # The surface's key for the message that asked (Slack's delivery): asking again with it finds this request.
        self.origin_key: str | None = None
        # Links to another request: the one this follows up (filed after a resolved one could not be reopened), and
        # the one it duplicates (closed in its favour).
        self.follows: str | None = None
        self.duplicate_of: str | None = None
        self.created_at = at
        self.updated_at = at
        self.lines: list[RequestCharger] = lines or []
        self.history: list[Transition] = [Transition(None, status, actor.label, at, None)]
        self.messages: list[RequestMessage] = []
        self.events = []
        self._record("request.opened", actor, {"status": status})

    @property
    def serials(self) -> list[str]:
        return [line.serial for line in self.lines]

    @property
    def is_closed(self) -> bool:
        return self.status in self.terminal

    def assign(self, actor: Actor, at: datetime) -> None:
        """An agent takes the request; assigning is not a status change, but it is recorded."""
        agent = require_agent(actor)
        if self.is_closed:
            raise InvalidTransition(self.reference, self.status, "assigned")
        self.assignee = agent.user_id
        self.updated_at = at
        self._record("request.assigned", actor, {"assignee": agent.user_id})

    @property
    def is_withdrawable(self) -> bool:
        return self.status in self.withdrawable

    def visible_to(self, account: Account) -> bool:
        """Whether a customer's account may see this request: its requester, their organization, and the
        organization operating one of its chargers (whose consent a transfer asks)."""
        if account.id == self.requester_account_id:
            return True
        org = account.organization_id
        return org is not None and (org == self.organization_id or any(line.operator_id == org for line in self.lines))

    def acts_for_requester(self, account: Account) -> bool:
        """The requester, or anyone of the organization that asked: who may withdraw, reopen or follow up."""
        return self.may_be_withdrawn_by(account)

    def may_be_withdrawn_by(self, account: Account) -> bool:
        """The requester, or anyone of the organization that asked (DESIGN.md §1: every account linked to an
        organization has the organization's permissions, so a colleague may withdraw what a colleague filed)."""
        if account.id is not None and account.id == self.requester_account_id:
            return True
        return account.organization_id is not None and account.organization_id == self.organization_id

    def withdraw(self, account: Account, at: datetime, reason: str | None = None) -> None:
        """The customer's side takes the request back before support has decided it.

        Who may comes first: someone else learns nothing about the request's state.
        """
        if not self.may_be_withdrawn_by(account):
            raise NotRequester("only the requester or their organization may withdraw this request")
        if not self.is_withdrawable:
            raise InvalidTransition(self.reference, self.status, "withdrawn")
        why = clean_reason(reason, required=False)
        self._move(self.withdrawn_status, Customer(account.email), at, why, "withdrawn")
        self._after_withdrawal()

    @property
    def is_waiting_for_customer(self) -> bool:
        return self.status == WAITING_FOR_CUSTOMER

    def write_to_requester(
        self, actor: Actor, text: str, at: datetime, *, ask: bool = False, key: str | None = None
    ) -> RequestMessage:
        """An agent writes to the requester; with `ask`, the request then waits for their answer.

        The same `key` (what carried it) twice is one message: a retried submission sends nothing twice.
        """
        require_agent(actor)
        if (known := self._message_keyed(key)) is not None:
            return known
        if self.is_closed:
            raise InvalidTransition(self.reference, self.status, "written to")
        if ask and not self.is_waiting_for_customer and self.status not in self.askable:
            raise InvalidTransition(self.reference, self.status, "put on hold for the customer's answer")
        message = self._add_message(MessageDirection.TO_REQUESTER, actor, clean_message(text), at, [], ask, key)
        if ask and not self.is_waiting_for_customer:
            self._move(WAITING_FOR_CUSTOMER, actor, at, None, "put on hold for the customer's answer")
        return message

    def add_from_requester(
        self,
        account: Account,
        text: str | None,
        at: datetime,
        files: list[dict[str, str]] | None = None,
        *,
        key: str | None = None,
    ) -> RequestMessage:
        """The requester's side adds to the request (an answer, a detail, a photo of the label). A request that
        waited for their answer goes back to where it was. Who may comes first: someone else learns nothing."""
        if not self.acts_for_requester(account):
            raise NotRequester("only the requester or their organization may add to this request")
        if (known := self._message_keyed(key)) is not None:
            return known
        if self.is_closed:
            raise InvalidTransition(self.reference, self.status, "added to")
        kept = clean_files(files or [])
        body = clean_message(text, required=not kept)
        actor = Customer(account.email)
        message = self._add_message(MessageDirection.FROM_REQUESTER, actor, body, at, kept, False, key)
        if self.is_waiting_for_customer:
            self._move(self.status_before_waiting, actor, at, None, "answered")
        return message

    @property
    def status_before_waiting(self) -> str:
        """The status the request had when support started waiting for the customer's answer."""
        for step in reversed(self.history):
            if step.to_status == WAITING_FOR_CUSTOMER and step.from_status:
                return step.from_status
        return self.history[0].to_status

    @property
    def waiting_since(self) -> datetime | None:
        """Since when the request waits for the customer's answer, while it does."""
        if not self.is_waiting_for_customer:
            return None
        return next((s.at for s in reversed(self.history) if s.to_status == WAITING_FOR_CUSTOMER), None)

    def close_unanswered(self, at: datetime, reason: str) -> None:
        """The customer never answered support's question (they were reminded): the request ends."""
        if not self.is_waiting_for_customer:
            raise InvalidTransition(self.reference, self.status, "closed for want of an answer")
        self._move(self.unanswered_status, System(), at, reason, "closed for want of an answer")
        self._after_withdrawal()

    def _message_keyed(self, key: str | None) -> RequestMessage | None:
        return next((m for m in self.messages if key is not None and m.key == key), None)

    def _add_message(
        self,
        direction: MessageDirection,
        actor: Actor,
        text: str,
        at: datetime,
        files: list[dict[str, str]],
        asks: bool,
        key: str | None,
    ) -> RequestMessage:
        number = max((m.number for m in self.messages), default=0) + 1
        message = RequestMessage(number, direction, actor.label, text, at, files=files, asks=asks, key=key)
        self.messages.append(message)
        self.updated_at = at
        self._record("request.message", actor, {"number": number, "direction": direction.value, "asks": asks})
        return message

    def _after_withdrawal(self) -> None:
        """What else ends with the request when its customer's side withdraws it or never answers (a transfer frees
        its chargers)."""

    def _ensure_can_move(self, to: str, verb: str) -> None:
        if to not in self.transitions.get(self.status, frozenset()):
            raise InvalidTransition(self.reference, self.status, verb)

    def _move(self, to: str, actor: Actor, at: datetime, reason: str | None, verb: str) -> None:
        self._ensure_can_move(to, verb)
        previous = self.status
        self.status = to
        self.updated_at = at
        self.history.append(Transition(previous, to, actor.label, at, reason))
        self._record("request.status_changed", actor, {"from": previous, "status": to, "reason": reason})

    def _record(self, name: str, actor: Actor, payload: dict[str, Any]) -> None:
        self.events.append(
            DomainEvent(
                name=name,
                reference=self.reference,
                payload={"kind": self.request_kind.value, "actor": actor.label, **payload},
            )
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.reference} {self.status}>"


def require_agent(actor: Actor) -> Agent:
    if not isinstance(actor, Agent):
        raise NotSupportAgent("only support agents may do this")
    return actor
