"""The requester's side presses *Reopen* on a resolved ticket's message, or *Open a new ticket* when it was
resolved too long ago; the portal decides who may (the requester or their organization, as for withdrawals).

Who pressed goes through the one identity check first. Authorization comes before state: an unknown reference and
another organization's ticket get the same answer, and every refused press (a forged value included) is audited
with nothing changed. Slack or the database failing is said as such, never as a refusal.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from sqlalchemy.exc import SQLAlchemyError

from bot.slack.ingress.context import acting_team
from bot.slack.ingress.conversations import TRY_AGAIN, SlackConversations
from bot.slack.messages.reopen import (
    FOLLOW_UP,
    REOPEN,
    follow_up_description,
    not_reopenable,
    read_follow_up_value,
    too_late,
)
from bot.slack.people.agents import Agents
from bot.slack.people.identity import IDENTITY_UNAVAILABLE, WORKSPACE_NOT_VERIFIED, IdentityUnavailable
from portal import services
from portal.domain.requests import looks_like_reference
from portal.errors import InvalidTransition, NotEligible, NotRequester, ReopenWindowClosed, UnknownRequest
from portal.languages.texts import N_

logger = logging.getLogger(__name__)

NOT_VISIBLE = N_("I can't find a request {reference} that you can see. Nothing was changed.")
NOT_REQUESTER = N_(
    "Only the person who asked for {reference}, or someone of their organization, can reopen it. Nothing was changed."
)
NOT_A_REQUEST = N_("This button doesn't name a request of yours, so nothing was changed.")


def register(app: AsyncApp, conversations: SlackConversations, agents: Agents) -> None:
    portal, client, directory = conversations.portal, conversations.client, conversations.directory

    async def pressed(body: dict[str, Any], action: dict[str, Any], verb: str) -> None:
        user = body.get("user") or {}
        user_id = str(user.get("id"))
        team_id = acting_team(user, (body.get("team") or {}).get("id"))
        channel = str((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id"))
        value = str(action.get("value") or "")
        actor = f"slack:{user_id}"
        t = await conversations.texts_for(user_id, ask_slack=False)

        async def say(text: str, blocks: list[dict[str, Any]] | None = None) -> None:
            await client.chat_postEphemeral(channel=channel, user=user_id, text=text, blocks=blocks)

        async def refuse(reference: str, outcome: str, detail: str, text: str) -> None:
            await services.audit_refusal(portal.uow(), actor, verb, reference, outcome, detail)
            await say(text)

        try:
            person = await directory.resolve(user_id, team_id)
            t = await conversations.texts_for(user_id)
            reason = ""
            if verb == "reopen":
                reference = value
            else:
                read = read_follow_up_value(value)
                reference, reason = read if read else ("", "")
            if not looks_like_reference(reference):
                # Our buttons carry a reference; anything else was made up. Remembered, and not echoed back.
                await refuse(value, "ForgedValue", f"{verb} button value", t.gettext(NOT_A_REQUEST))
                return
            if not person.verified:
                text = WORKSPACE_NOT_VERIFIED if person.workspace_unverified else NOT_VISIBLE
                await refuse(
                    reference, "IdentityNotVerified", person.status.value, t.gettext(text).format(reference=reference)
                )
                return
            try:
                if verb == "reopen":
                    summary = await services.reopen_ticket(
                        portal.uow(), person.email, reference, days=portal.reopen_days
                    )
                    await say(
                        t.gettext("{reference} is open again; support will pick it up.").format(
                            reference=summary.reference
                        )
                    )
                    return
                message_ts = (body.get("container") or {}).get("message_ts") or action.get("action_ts") or ""
                origin = {
                    "surface": "im" if channel.startswith("D") else "channel",
                    "channel_id": channel,
                    "slack_user_id": user_id,
                    "slack_team_id": team_id,
                    "language": t.language,
                    "key": f"follow-up:{reference}:{user_id}:{message_ts}",
                }
                description = follow_up_description(reference, reason, t)
                summary = await services.open_follow_up_ticket(
                    portal.uow(), person.email, reference, description, origin
                )
                await say(
                    t.gettext(
                        "I opened service ticket {new} for you; it refers to {reference}, so support sees what was "
                        "done before."
                    ).format(new=summary.reference, reference=reference)
                )
            except UnknownRequest:
                # Unknown, another organization's or not theirs to see: one answer, and remembered.
                await refuse(
                    reference, "UnknownRequest", "not theirs", t.gettext(NOT_VISIBLE).format(reference=reference)
                )
            except NotRequester:
                await refuse(
                    reference,
                    "NotRequester",
                    "may see, not reopen",
                    t.gettext(NOT_REQUESTER).format(reference=reference),
                )
            except ReopenWindowClosed as closed:
                await say(*too_late(closed, None, t))
            except InvalidTransition as error:
                await say(not_reopenable(t, error))
            except NotEligible:
                await say(
                    t.gettext(
                        "Your organization can't raise service tickets on the charger of {reference} any more, so "
                        "I couldn't open a new one. Nothing was changed."
                    ).format(reference=reference)
                )
        except IdentityUnavailable:
            await say(t.gettext(IDENTITY_UNAVAILABLE))
        except (SQLAlchemyError, OSError) as error:
            logger.error("%s press failed: %s", verb, type(error).__name__)
            await say(t.gettext(TRY_AGAIN))

    @app.action(REOPEN)
    async def reopen(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await pressed(body, action, "reopen")

    @app.action(FOLLOW_UP)
    async def follow_up(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await pressed(body, action, "follow_up")
