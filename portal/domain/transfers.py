"""Management transfers: a new party asks to become Service Operator of one or more chargers.

awaiting_operator ──every current SO consents──▶ awaiting_support ──approve──▶ completed
        │  └─ any current SO declines ─▶ declined_by_operator
        └─ no answer in time ─▶ expired (support decides; approving then needs a reason)
awaiting_operator / awaiting_support / expired ──reject──▶ rejected, ──requester withdraws──▶ cancelled
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from portal.domain.actors import Actor, Customer, System
from portal.domain.chargers import Charger
from portal.domain.organizations import Account
from portal.domain.requests import WAITING_FOR_CUSTOMER, RequestCharger, RequestKind, SupportRequest, require_agent
from portal.domain.text import clean_reason
from portal.errors import (
    AlreadyAnswered,
    AlreadyServiceOperator,
    InvalidTransition,
    NotRequester,
    NotServiceOperator,
    OperatorChanged,
    TermsNotAccepted,
    TooManyChargers,
    TransferAlreadyPending,
)

MAX_CHARGERS_PER_TRANSFER = 50
# Why a transfer went to support at once: nobody of a Service Operator whose answer it needs is known in Slack.
UNREACHABLE_REASON = "the current Service Operator cannot be reached in Slack"


class TransferStatus(StrEnum):
    AWAITING_OPERATOR = "awaiting_operator"
    AWAITING_SUPPORT = "awaiting_support"
    COMPLETED = "completed"
    DECLINED_BY_OPERATOR = "declined_by_operator"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    WAITING_FOR_CUSTOMER = WAITING_FOR_CUSTOMER  # support asked the requester something before deciding


PENDING = frozenset(
    {
        TransferStatus.AWAITING_OPERATOR,
        TransferStatus.AWAITING_SUPPORT,
        TransferStatus.EXPIRED,
        TransferStatus.WAITING_FOR_CUSTOMER,
    }
)
_DECIDABLE = {TransferStatus.COMPLETED, TransferStatus.REJECTED, TransferStatus.CANCELLED}


class Answer(StrEnum):
    CONSENTED = "consented"
    DECLINED = "declined"


class TransferRequest(SupportRequest):
    request_kind = RequestKind.TRANSFER
    transitions: ClassVar[Mapping[str, frozenset[str]]] = {
        TransferStatus.AWAITING_OPERATOR: frozenset(
            {TransferStatus.AWAITING_SUPPORT, TransferStatus.DECLINED_BY_OPERATOR, TransferStatus.EXPIRED} | _DECIDABLE
        ),
        TransferStatus.AWAITING_SUPPORT: frozenset(_DECIDABLE | {TransferStatus.WAITING_FOR_CUSTOMER}),
        TransferStatus.EXPIRED: frozenset(_DECIDABLE | {TransferStatus.WAITING_FOR_CUSTOMER}),
        # The requester's answer takes it back to support; support may also decide without waiting longer.
        TransferStatus.WAITING_FOR_CUSTOMER: frozenset(
            _DECIDABLE | {TransferStatus.AWAITING_SUPPORT, TransferStatus.EXPIRED}
        ),
    }
    terminal = frozenset(
        {
            TransferStatus.COMPLETED,
            TransferStatus.DECLINED_BY_OPERATOR,
            TransferStatus.REJECTED,
            TransferStatus.CANCELLED,
        }
    )
    # Withdrawing a transfer is its existing cancel: it stays possible until support has decided.
    withdrawable = PENDING
    withdrawn_status = TransferStatus.CANCELLED
    askable = frozenset({TransferStatus.AWAITING_SUPPORT, TransferStatus.EXPIRED})
    unanswered_status = TransferStatus.CANCELLED

    @classmethod
    def open(
        cls,
        reference: str,
        requester: Account,
        chargers: list[Charger],
        description: str,
        at: datetime,
        *,
        terms_accepted: bool,
        pending_serials: Collection[str] = (),
    ) -> TransferRequest:
        """Open a transfer of `chargers` to the requester's organization.

        `pending_serials` are those of `chargers` that already have a pending transfer (the caller looks them up;
        the database enforces the same rule under races).
        """
        if not terms_accepted:
            raise TermsNotAccepted("the terms of the management transfer must be accepted")
        if requester.organization_id is None:
            raise NotServiceOperator("only an account linked to an organization can request a transfer")
        if not chargers:
            raise TooManyChargers("name at least one charger")
        if len({c.serial for c in chargers}) > MAX_CHARGERS_PER_TRANSFER:
            raise TooManyChargers(f"a transfer can name at most {MAX_CHARGERS_PER_TRANSFER} chargers")
        unique = list({c.serial: c for c in chargers}.values())
        already_ours = [c.serial for c in unique if c.service_operator_id == requester.organization_id]
        if already_ours:
            raise AlreadyServiceOperator(already_ours)
        pending = [c.serial for c in unique if c.serial in pending_serials]
        if pending:
            raise TransferAlreadyPending(pending)
        assert requester.id is not None
        lines = [
            RequestCharger(c.id, c.serial, c.service_operator_id, holds_transfer=True)
            for c in unique
            if c.id is not None and c.service_operator_id is not None
        ]
        return cls(
            reference,
            TransferStatus.AWAITING_OPERATOR,
            requester.id,
            requester.organization_id,
            description,
            at,
            Customer(requester.email),
            lines,
        )

    @property
    def operator_ids(self) -> list[int]:
        """The current Service Operators whose consent this transfer needs."""
        return sorted({line.operator_id for line in self.lines})

    @property
    def has_all_consents(self) -> bool:
        return all(line.answer == Answer.CONSENTED for line in self.lines)

    def answer(self, account: Account, consent: bool, at: datetime, reason: str | None = None) -> None:
        """The current SO consents or declines, for all of its chargers in this transfer at once.

        The first answer from each SO counts; a decline by any SO ends the transfer.
        """
        if self.status != TransferStatus.AWAITING_OPERATOR:
            raise InvalidTransition(self.reference, self.status, "consented to" if consent else "declined")
        mine = [line for line in self.lines if line.operator_id == account.organization_id]
        if account.organization_id is None or not mine:
            raise NotServiceOperator("only accounts of the chargers' current Service Operator may answer")
        if any(line.answer is not None for line in mine):
            raise AlreadyAnswered("your organization has already answered this transfer")
        actor = Customer(account.email)
        answer = Answer.CONSENTED if consent else Answer.DECLINED
        for line in mine:
            line.answer, line.answered_by, line.answered_at = answer, actor.label, at
        self._record(
            f"transfer.{answer.value}",
            actor,
            {"operator_id": account.organization_id, "serials": [line.serial for line in mine]},
        )
        if not consent:
            self._move(TransferStatus.DECLINED_BY_OPERATOR, actor, at, clean_reason(reason, required=False), "declined")
            self._release()
        elif self.has_all_consents:
            self._move(TransferStatus.AWAITING_SUPPORT, actor, at, None, "consented to")

    def approve(self, actor: Actor, chargers: Mapping[int, Charger], at: datetime, reason: str | None = None) -> None:
        """Support approves: every charger's SO becomes the requester's organization, all at once.

        Without every SO's consent (still waiting, or expired) the agent must say why.
        """
        require_agent(actor)
        self._ensure_can_move(TransferStatus.COMPLETED, "approved")
        reason = clean_reason(reason, required=not self.has_all_consents)
        for line in self.lines:
            charger = chargers[line.charger_id]
            if charger.service_operator_id != line.operator_id:
                raise OperatorChanged(f"the Service Operator of {charger.serial} changed since the request")
        new_operator = self.organization_id
        assert new_operator is not None  # a transfer is always opened by a linked account
        for line in self.lines:
            chargers[line.charger_id].service_operator_id = new_operator
        self._move(TransferStatus.COMPLETED, actor, at, reason, "approved")
        self._record("transfer.completed", actor, {"serials": self.serials, "new_operator_id": self.organization_id})
        self._release()

    def reject(self, actor: Actor, at: datetime, reason: str | None) -> None:
        require_agent(actor)
        self._move(TransferStatus.REJECTED, actor, at, clean_reason(reason, required=True), "rejected")
        self._release()

    def cancel(self, account: Account, at: datetime, reason: str | None = None) -> None:
        """The requester's organization withdraws the request."""
        if account.organization_id is None or account.organization_id != self.organization_id:
            raise NotRequester("only the requesting organization may cancel this transfer")
        self._move(
            TransferStatus.CANCELLED, Customer(account.email), at, clean_reason(reason, required=False), "cancelled"
        )
        self._release()

    def _after_withdrawal(self) -> None:
        self._release()

    def expire(self, actor: Actor, at: datetime, reason: str) -> None:
        """No consent in time: the transfer moves to support, who decide. The chargers stay reserved."""
        self._move(TransferStatus.EXPIRED, actor, at, reason, "expired")

    def send_to_support_unreachable(self, at: datetime, operators: Collection[str]) -> None:
        """Nobody of `operators` (Service Operators whose answer is still needed) can be asked in Slack: rather than
        wait in silence until it expires, the transfer goes to support at once, who decide (approving then needs a
        reason, as every approval without all consents does)."""
        self._move(TransferStatus.AWAITING_SUPPORT, System(), at, UNREACHABLE_REASON, "sent to support")
        self._record("transfer.operator_unreachable", System(), {"operators": sorted(operators)})

    def _release(self) -> None:
        # The chargers are free for another transfer once this one has ended.
        for line in self.lines:
            line.holds_transfer = False
