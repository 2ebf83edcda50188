"""The triage channel's message for a request: what an agent needs, and the buttons that fit its kind and state."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock

from bot.slack.messages.blocks import escape
from portal.dates import short_moment
from portal.services.facts import RequestFacts
from portal.status_text import kind_label, status_label

APPROVE, REJECT, ASSIGN, PROGRESS, RESOLVE, CLOSE, LINK = (
    "triage_approve",
    "triage_reject",
    "triage_assign",
    "triage_progress",
    "triage_resolve",
    "triage_close",
    "triage_link",
)
TRIAGE_ACTIONS = (APPROVE, REJECT, ASSIGN, PROGRESS, RESOLVE, CLOSE, LINK)
DESCRIPTION_SHOWN = 1500


def who(actor: str) -> str:
    """An actor label as agents read it: a Slack mention for agents, the email for accounts."""
    kind, _, ident = actor.partition(":")
    if kind == "agent":
        return f"<@{ident}>"
    if kind == "account":
        return escape(ident)
    return escape(actor)


def buttons_for(facts: RequestFacts) -> list[tuple[str, str, str | None]]:
    """(action id, title, style) of the decisions that fit the request's kind and state."""
    if facts.is_closed:
        return []
    assign = (ASSIGN, "Assign to me", None)
    if facts.kind == "transfer":
        return [(APPROVE, "Approve", "primary"), (REJECT, "Reject", "danger"), assign]
    if facts.kind == "administrative":
        choices = [(RESOLVE, "Approve", "primary"), (REJECT, "Reject", "danger"), assign]
        if facts.topic == "not_linked":
            choices.insert(0, (LINK, "Link account to an organization", "primary"))
        return choices
    if facts.status == "open":
        return [(PROGRESS, "In progress", None), (RESOLVE, "Resolve", "primary"), assign]
    if facts.status == "in_progress":
        return [(RESOLVE, "Resolve", "primary"), assign]
    return [(CLOSE, "Close", None)]  # resolved: closing for good (or reopening through the portal)


def triage_message(facts: RequestFacts) -> tuple[str, list[dict[str, Any]]]:
    title = f"{kind_label(facts.kind).capitalize()} {facts.reference}"
    state = status_label(facts.kind, facts.status)
    lines = [
        f"*{escape(title)}* — {escape(state)}",
        f"*Requester:* {escape(facts.requester_email)} ({escape(facts.organization or 'no organization')})",
    ]
    if facts.topic == "handoff":
        lines.append("*Asked to talk to a person*: the description is the conversation so far; reply to them here.")
    for charger in facts.chargers:
        warranty = (
            f"warranty until {charger.warranty_until:%d %b %Y} ({'in' if charger.in_warranty else 'out of'} warranty)"
            if charger.warranty_until
            else "warranty unknown"
        )
        answer = f"; {charger.answer} by {who(charger.answered_by or '')}" if charger.answer else ""
        lines.append(f"*Charger {escape(charger.serial)}:* SO {escape(charger.operator)}, {warranty}{answer}")
    description = facts.description[:DESCRIPTION_SHOWN] + ("…" if len(facts.description) > DESCRIPTION_SHOWN else "")
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines))),
        SectionBlock(text=MarkdownTextObject(text=f"*Description:*\n{escape(description)}")),
    ]
    last = facts.history[-1] if facts.history else None
    notes = []
    if last is not None and len(facts.history) > 1:
        reason = f": {escape(last.reason)}" if last.reason else ""
        what = escape(status_label(facts.kind, last.to_status)).capitalize()
        notes.append(f"{what} by {who(last.actor)}, {short_moment(last.at)}{reason}")
    if facts.assignee:
        notes.append(f"Assigned to <@{escape(facts.assignee)}>")
    if notes:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(notes))]))
    choices = buttons_for(facts)
    if choices:
        blocks.append(
            ActionsBlock(
                block_id=f"triage|{facts.reference}",
                elements=[
                    ButtonElement(text=title_, action_id=action, value=facts.reference, style=style)
                    for action, title_, style in choices
                ],
            )
        )
    return f"{title}: {state}", [b.to_dict() for b in blocks]


def handoff_card(payload: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The triage card for a person without a portal account who asked to talk to someone (no request exists:
    nothing may be filed for an organization on their word). Agents answer them in Slack where they asked."""
    user, team = payload.get("slack_user_id"), payload.get("slack_team_id")
    channel, thread = payload.get("channel_id"), payload.get("thread_ts")
    who_asked = f"<@{escape(str(user))}>" if user else "someone (no Slack user known)"
    where = f"<#{escape(str(channel))}>" if channel and not str(channel).startswith("D") else "a direct message"
    lines = [
        "*A person asks to talk to support* (no verified portal account: nothing was filed)",
        f"*Who:* {who_asked}{f' of workspace {escape(str(team))}' if team else ''}, in {where}"
        + (f" (thread {escape(str(thread))})" if thread else ""),
    ]
    conversation = str(payload.get("conversation") or "")
    shown = conversation[:DESCRIPTION_SHOWN] + ("…" if len(conversation) > DESCRIPTION_SHOWN else "")
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines))),
        SectionBlock(text=MarkdownTextObject(text=f"*Conversation:*\n{escape(shown)}")),
    ]
    text = f"A person asks to talk to support: {who_asked}"
    return text, [b.to_dict() for b in blocks]
