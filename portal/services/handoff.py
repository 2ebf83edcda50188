"""Use case: a customer asks to talk to a person.

Someone with a portal account gets an administrative request marked as a handoff (topic `handoff`): support sees
it in triage like any request, answers through it, and the customer follows it with its reference. Someone the
portal cannot name (no account, or a Slack workspace not verified for any organization, DESIGN.md §5b) may still
ask: nothing is filed for an organization, only an outbox event carrying their Slack user id and the conversation,
which the notifier turns into a triage card. Either way the person's own words are all that is passed on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from portal.domain.administrative import AdministrativeRequest, AdminTopic
from portal.domain.conversation import Line, handoff_description
from portal.domain.events import DomainEvent
from portal.domain.requests import RequestKind
from portal.services._loading import load_account
from portal.services.asked import file_once, filed_before, note_origin, origin_key, tell_once, told_before
from portal.unit_of_work import UnitOfWork
from portal.views import RequestSummary, summarize

HANDOFF_EVENT = "handoff.requested"


@dataclass(frozen=True)
class Handoff:
    """What was passed on: the request's reference for an account, None when only support was told."""

    reference: str | None


async def ask_for_person(
    uow: UnitOfWork,
    email: str | None,
    conversation: Iterable[Line],
    origin: Mapping[str, Any] | None = None,
) -> Handoff:
    """Pass the conversation to support: a handoff request for a known account, a triage event for anyone else."""
    description = handoff_description(conversation)
    async with uow:
        account = await uow.accounts.by_email(email) if email else None
    if account is None:
        await _tell_support(uow, description, origin)
        return Handoff(None)

    async def file() -> RequestSummary:
        async with uow:
            if (again := await filed_before(uow, origin)) is not None:
                return again
            known = await load_account(uow, email)
            reference = await uow.references.next(RequestKind.ADMINISTRATIVE)
            request = AdministrativeRequest.open(reference, known, description, uow.clock(), topic=AdminTopic.HANDOFF)
            note_origin(request, origin)
            uow.requests.add(request)
            await uow.commit()
            return summarize(request)

    # Filed once per intent like every request: a retried turn finds the handoff it already filed.
    return Handoff((await file_once(uow, origin, file)).reference)


async def _tell_support(uow: UnitOfWork, description: str, origin: Mapping[str, Any] | None) -> None:
    """Only the Slack ids of where the person asked, and their conversation: nothing of any organization.

    Told once per intent, as a request is filed once: a redelivered message or a retried turn finds the event it
    already recorded, and support gets one card."""
    where = dict(origin or {})

    async def tell() -> None:
        async with uow:
            if await told_before(uow, origin):
                return
            uow.record(
                DomainEvent(
                    HANDOFF_EVENT,
                    None,
                    {
                        "slack_user_id": where.get("slack_user_id"),
                        "slack_team_id": where.get("slack_team_id"),
                        "channel_id": where.get("channel_id"),
                        "thread_ts": where.get("thread_ts"),
                        "conversation": description,
                        "language": where.get("language"),  # the language the person wrote in, for the agents' card
                    },
                    key=origin_key(origin),
                )
            )
            await uow.commit()

    await tell_once(uow, origin, tell)
