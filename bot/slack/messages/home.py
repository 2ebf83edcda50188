"""The App Home tab: a customer's chargers and requests; for agents, the queue waiting for support.

The Home tab is private to the person viewing it, so it may show their organization's chargers and warranty.
It is published (`publish_home`) when the person opens it, and whenever one of their requests changes: the notifier
builds it (`home_view`) and queues it in the durable sender's ``home:<user>`` lane.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.slack.ingress.conversations import SlackConversations
from bot.slack.messages.blocks import ENTRY_BUTTON, MAX_SECTION, choices, escape, thread_block_id
from bot.slack.messages.support import NO_ACCOUNT, no_account_text, request_line, withdraw_button
from bot.slack.people.agents import Agents
from bot.slack.people.identity import IDENTITY_UNAVAILABLE, WORKSPACE_NOT_VERIFIED, IdentityUnavailable
from portal import services
from portal.dates import day, moment
from portal.errors import UnknownAccount
from portal.services.overview import AccountOverview
from portal.status_text import kind_label, status_label
from portal.views import ChargerView, RequestSummary, is_withdrawable

MAX_BLOCKS = 100  # Slack's limit for a Home tab
MAX_HEADER = 150  # Slack's limit for a header's text
HOME_BUTTON_BLOCK = thread_block_id(0, None)
WITHDRAW_BLOCK = thread_block_id(1, None)  # a press continues in the person's DM, like the entry button


async def publish_home(conversations: SlackConversations, agents: Agents, user_id: str, team_id: str) -> None:
    """Build `user_id`'s Home tab from the portal as it is now and publish it (views.publish).

    `team_id` is the user's workspace; the view itself depends only on who they are.
    """
    try:
        view = await home_view(conversations, agents, user_id, team_id)
    except IdentityUnavailable:
        # Not "no account": say so on the tab; the next time it is opened (or a request changes) it is rebuilt.
        view = notice_home(IDENTITY_UNAVAILABLE, conversations.portal.clock())
    await conversations.client.views_publish(user_id=user_id, view=view)


async def home_view(
    conversations: SlackConversations, agents: Agents, user_id: str, team_id: str | None = None
) -> dict[str, Any]:
    portal = conversations.portal
    is_agent = await agents.is_agent(user_id)
    person = await conversations.directory.resolve(user_id, team_id)
    if person.workspace_unverified and not is_agent:
        return notice_home(WORKSPACE_NOT_VERIFIED, portal.clock())
    email = person.email
    account: AccountOverview | None = None
    if email:
        try:
            account = await services.account_overview(portal.uow(), email)
        except UnknownAccount:
            account = None
    queue = await services.support_queue(portal.uow()) if is_agent else None
    return render_home(account, queue, portal.clock(), no_account_text(person.status))


def notice_home(text: str, now: datetime) -> dict[str, Any]:
    """A Home tab that only says `text` (nothing of any organization)."""
    blocks = [_header("Support for your chargers"), _section(text), _context(f"Updated {moment(now)}.")]
    return View(type="home", blocks=blocks).to_dict()


def render_home(
    account: AccountOverview | None,
    queue: Sequence[RequestSummary] | None,
    now: datetime,
    no_account: str = NO_ACCOUNT,
) -> dict[str, Any]:
    """The Home view: the support queue when `queue` is given (agents), then the account's part, if any.

    `no_account` says why a customer without an account sees nothing (Slack hid their email, or none has it)."""
    blocks: list[Block] = []
    if queue is not None:
        blocks.extend(_queue_blocks(queue, now))
        if account is not None:
            blocks.append(DividerBlock())
    if account is not None:
        blocks.extend(_customer_blocks(account))
    elif queue is None:
        blocks.extend([_header("Support for your chargers"), _section(no_account)])
    blocks.append(_context(f"Updated {moment(now)}. Type `/support help` to see what else you can ask."))
    if len(blocks) > MAX_BLOCKS:
        blocks = [*blocks[: MAX_BLOCKS - 1], blocks[-1]]
    return View(type="home", blocks=blocks).to_dict()


def _queue_blocks(queue: Sequence[RequestSummary], now: datetime) -> list[Block]:
    blocks: list[Block] = [_header(f"Waiting for support ({len(queue)})")]
    if not queue:
        return [*blocks, _section("Nothing is waiting for support right now.")]
    lines = [
        f"• *{escape(r.reference)}* {kind_label(r.kind)}"
        + (f" ({escape(', '.join(r.serials))})" if r.serials else "")
        + f": {escape(status_label(r.kind, r.status))}; waiting {age(now - r.created_at)}"
        for r in queue
    ]
    blocks.extend(_sections(["Oldest first. `/support status REF` shows one request in full.", *lines]))
    return blocks


def _customer_blocks(account: AccountOverview) -> list[Block]:
    blocks: list[Block] = [_header("Your support")]
    if account.organization is None:
        blocks.append(
            _section(
                f"Your account {escape(account.email)} isn't linked to an organization yet, so there are no chargers "
                "to show and you can't raise service tickets. Press *I have a question* and choose "
                "*Administrative changes*, and support will link you to your company."
            )
        )
    else:
        intro = f"Your organization: *{escape(account.organization)}*."
        if not account.service_customer:
            intro += (
                " Your account was registered recently; it is linked for service from "
                f"{moment(account.service_customer_from)}."
            )
        blocks.append(_section(intro))
    blocks.append(choices((ENTRY_BUTTON,), HOME_BUTTON_BLOCK))
    if account.organization is not None:
        blocks.append(_header("Chargers your organization operates"))
        if account.chargers:
            blocks.extend(_sections([charger_line(c) for c in account.chargers]))
        else:
            blocks.append(
                _section(
                    "None yet. A charger bought from a reseller stays registered to the reseller until a management "
                    "transfer is completed."
                )
            )
    if account.awaiting_our_answer:
        blocks.append(_header("Transfers waiting for your organization's consent"))
        blocks.extend(_sections([request_line(r) for r in account.awaiting_our_answer]))
    blocks.append(_header("Your requests"))
    if account.requests:
        blocks.extend(_sections([request_line(r) for r in account.requests]))
    else:
        blocks.append(_section("No requests yet."))
    undecided = [r for r in account.requests if is_withdrawable(r)]
    if undecided:
        # Every listed request is the person's own or their organization's, so they may withdraw these; the
        # button asks before anything is withdrawn, and the portal checks again.
        blocks.append(_section("Changed your mind? You can withdraw a request that support hasn't decided yet."))
        blocks.append(choices([withdraw_button(r.reference) for r in undecided], WITHDRAW_BLOCK))
    return blocks


def charger_line(charger: ChargerView) -> str:
    warranty = "in warranty" if charger.in_warranty else "warranty ended"
    return (
        f"• *{escape(charger.serial)}* {escape(charger.model)}: Service Operator {escape(charger.service_operator)}; "
        f"warranty until {day(charger.warranty_until)} ({warranty})"
    )


def age(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=text[:MAX_HEADER])


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text[:MAX_SECTION]))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _sections(lines: Sequence[str]) -> list[Block]:
    """Lines packed into as few sections as Slack's 3000-character limit allows."""
    sections: list[Block] = []
    current = ""
    for line in lines:
        line = line[: MAX_SECTION - 1]
        if current and len(current) + 1 + len(line) > MAX_SECTION:
            sections.append(_section(current))
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        sections.append(_section(current))
    return sections
