"""The one check before the current Service Operator's people answer from their DM (a transfer's consent, a fault
report): who pressed must be a verified person. Someone who is not gets the same answer as another organization's
press, the attempt is audited, and the portal then decides the rest (authorization before state).

Not a surface of its own (nothing registers here): the consent and fault listeners both use it, as the triage
listener uses `agent_or_refuse` for agents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.slack.ingress.context import acting_team
from bot.slack.ingress.conversations import SlackConversations
from bot.slack.people.identity import WORKSPACE_NOT_VERIFIED, Person
from portal import services
from portal.languages.texts import N_, Texts

ALREADY_ANSWERED = N_("{reference} has already been answered; nothing was changed.")


@dataclass(frozen=True)
class Press:
    """A DM button's press: who (in their own workspace, which Slack Connect may make another), where, and the
    reference the button carries (as sent: it may be forged)."""

    user_id: str
    team_id: str
    channel: str
    reference: str

    @classmethod
    def of(cls, body: dict[str, Any], action: dict[str, Any]) -> Press:
        user = body.get("user") or {}
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        return cls(
            user_id=str(user.get("id")),
            team_id=acting_team(user, (body.get("team") or {}).get("id")),
            channel=str(channel),
            reference=str(action.get("value") or ""),
        )


async def tell(conversations: SlackConversations, press: Press, text: str) -> None:
    """`text` (already in the reader's language) to the person who pressed, where they pressed, for their eyes."""
    await conversations.client.chat_postEphemeral(channel=press.channel, user=press.user_id, text=text)


async def person_or_refuse(
    conversations: SlackConversations, press: Press, verb: str, not_yours: str
) -> tuple[Person, Texts] | None:
    """The verified person who pressed and the texts they read; None after auditing the press as
    `IdentityNotVerified` and telling them so (their workspace is not linked yet, else `not_yours`, untranslated).
    Raises IdentityUnavailable when Slack cannot say who they are (not a refusal: the caller says "try again")."""
    person = await conversations.directory.resolve(press.user_id, press.team_id)
    t = await conversations.texts_for(press.user_id)
    if person.verified:
        return person, t
    await services.audit_refusal(
        conversations.portal.uow(),
        f"slack:{press.user_id}",
        verb,
        press.reference,
        "IdentityNotVerified",
        person.status.value,
    )
    await tell(conversations, press, t.gettext(WORKSPACE_NOT_VERIFIED if person.workspace_unverified else not_yours))
    return None
