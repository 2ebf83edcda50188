"""The App Home tab: a customer's chargers and requests; for agents, the queue waiting for support.

The Home tab is private to the person viewing it, so it may show their organization's chargers and warranty.
It is published (`publish_home`) when the person opens it, and whenever one of their requests changes: the notifier
builds it (`home_view`) and queues it in the durable sender's ``home:<user>`` lane.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject
from slack_sdk.models.views import View

from bot.slack.ingress.conversations import SlackConversations
from bot.slack.messages.blocks import ENTRY_TITLE, choices, entry_button, escape, section, sections, thread_block_id
from bot.slack.messages.modals import CATEGORIES
from bot.slack.messages.queue import WAITING, queue_line
from bot.slack.messages.search import search_button
from bot.slack.messages.support import (
    NO_ACCOUNT,
    fault_line,
    no_account_text,
    request_line,
    support_fault_state,
    withdraw_button,
)
from bot.slack.messages.wording import ENGLISH, age, day_text, moment_text
from bot.slack.people.agents import Agents
from bot.slack.people.identity import IDENTITY_UNAVAILABLE, WORKSPACE_NOT_VERIFIED, IdentityUnavailable
from portal import services
from portal.domain.sla import RequestSla, SlaState, Target
from portal.errors import UnknownAccount
from portal.languages.texts import N_, Texts, texts
from portal.services.faults import SupportFault
from portal.services.overview import AccountOverview, AgentQueue, QueueItem
from portal.views import ChargerView, is_withdrawable

MAX_BLOCKS = 100  # Slack's limit for a Home tab
MAX_HEADER = 150  # Slack's limit for a header's text
MAX_SUPPORT_FAULTS = 20  # on an agent's Home; the count says how many more
HOME_BUTTON_BLOCK = thread_block_id(0, None)
WITHDRAW_BLOCK = thread_block_id(1, None)  # a press continues in the person's DM, like the entry button
ADMINISTRATIVE_CATEGORY = CATEGORIES[1][0]  # "Administrative changes", as the conversation's menu names it


async def publish_home(conversations: SlackConversations, agents: Agents, user_id: str, team_id: str) -> None:
    """Build `user_id`'s Home tab from the portal as it is now and publish it (views.publish).

    `team_id` is the user's workspace; the view itself depends only on who they are.
    """
    try:
        view = await home_view(conversations, agents, user_id, team_id)
    except IdentityUnavailable:
        # Not "no account": say so on the tab; the next time it is opened (or a request changes) it is rebuilt.
        t = await conversations.texts_for(user_id, ask_slack=False)
        view = notice_home(t.gettext(IDENTITY_UNAVAILABLE), conversations.portal.clock(), t)
    await conversations.client.views_publish(user_id=user_id, view=view)


async def home_view(
    conversations: SlackConversations, agents: Agents, user_id: str, team_id: str | None = None
) -> dict[str, Any]:
    """The Home tab in the person's language (the one they last wrote in, else their Slack locale's); an agent's
    support queue in the agents' language (`agent_language`)."""
    portal = conversations.portal
    is_agent = await agents.is_agent(user_id)
    person = await conversations.directory.resolve(user_id, team_id)
    t = await conversations.texts_for(user_id)
    if person.workspace_unverified and not is_agent:
        return notice_home(t.gettext(WORKSPACE_NOT_VERIFIED), portal.clock(), t)
    email = person.email
    account: AccountOverview | None = None
    if email:
        try:
            account = await services.account_overview(portal.uow(), email)
        except UnknownAccount:
            account = None
    queue = await services.agent_queue(portal.uow(), user_id, rules=portal.sla) if is_agent else None
    # Fault reports are not requests: for agents, those that came to support have a section of their own (a report
    # support must look at is never lost in the queue); a customer's own are part of their account's overview.
    faults = await services.faults_with_support(portal.uow(), MAX_SUPPORT_FAULTS) if is_agent else None
    agent_t = texts(agents.language)
    return render_home(
        account,
        queue,
        portal.clock(),
        no_account_text(person.status, t),
        t,
        agent_t,
        support_faults=faults,
    )


def notice_home(text: str, now: datetime, t: Texts = ENGLISH) -> dict[str, Any]:
    """A Home tab that only says `text` (nothing of any organization)."""
    blocks = [
        _header(t.gettext("Support for your chargers")),
        section(text),
        _context(t.gettext("Updated {moment}.").format(moment=moment_text(t, now))),
    ]
    return View(type="home", blocks=blocks).to_dict()


def render_home(
    account: AccountOverview | None,
    queue: AgentQueue | None,
    now: datetime,
    no_account: str | None = None,
    t: Texts = ENGLISH,
    agent_t: Texts | None = None,
    *,
    support_faults: tuple[Sequence[SupportFault], int] | None = None,
) -> dict[str, Any]:
    """The Home view: the support queue when `queue` is given (agents, in `agent_t`'s language) with the fault
    reports support has (`support_faults`: some, and how many in all), then the account's part, if any, in `t`'s,
    with the person's open fault reports (their view: never who operates the charger).

    `no_account` says why a customer without an account sees nothing (Slack hid their email, or none has it)."""
    blocks: list[Block] = []
    if queue is not None:
        faults_waiting = support_faults[1] if support_faults is not None else 0
        blocks.extend(_queue_blocks(queue, now, agent_t or t, faults_waiting))
        if support_faults is not None:
            blocks.extend(_support_fault_blocks(*support_faults, now, agent_t or t))
        if account is not None:
            blocks.append(DividerBlock())
    if account is not None:
        blocks.extend(_customer_blocks(account, t))
    elif queue is None:
        blocks.extend([_header(t.gettext("Support for your chargers")), section(no_account or t.gettext(NO_ACCOUNT))])
    updated = t.gettext("Updated {moment}. Type `/support help` to see what else you can ask.")
    blocks.append(_context(updated.format(moment=moment_text(t, now))))
    if len(blocks) > MAX_BLOCKS:
        blocks = [*blocks[: MAX_BLOCKS - 1], blocks[-1]]
    return View(type="home", blocks=blocks).to_dict()


def _queue_blocks(queue: AgentQueue, now: datetime, t: Texts = ENGLISH, faults_waiting: int = 0) -> list[Block]:
    """The agent's queue: the late requests first (whoever has them), then theirs, nobody's, others', the transfers
    still waiting for the current Service Operator and the requests waiting for the customer's answer. Each line:
    reference, kind, chargers, organization, status, age, SLA state, assignee."""
    waiting = len(queue.late) + len(queue.mine) + len(queue.unassigned) + len(queue.others)
    blocks: list[Block] = [_header(t.gettext("Waiting for support ({count})").format(count=waiting)), search_button(t)]
    if not waiting and not queue.waiting_for_operator and not queue.waiting_for_customer:
        # Fault reports with support are listed after the queue: then "nothing is waiting" would not be true.
        return blocks if faults_waiting else [*blocks, section(t.gettext("Nothing is waiting for support right now."))]
    parts = [
        (t.gettext("*Late* ({count})"), queue.late),
        (t.gettext("*Mine* ({count})"), queue.mine),
        (t.gettext("*Unassigned* ({count})"), queue.unassigned),
        (t.gettext("*Taken by someone else* ({count})"), queue.others),
        (t.gettext("*Waiting for the current Service Operator* ({count})"), queue.waiting_for_operator),
        (t.gettext("*Waiting for the customer's answer* ({count})"), queue.waiting_for_customer),
    ]
    lines = [t.gettext("Oldest first. `/support status REF` shows one request in full.")]
    for title, items in parts:
        if items:
            lines += [title.format(count=len(items)), *(_queue_line(item, now, t) for item in items)]
    blocks.extend(sections(lines))
    return blocks


def _support_fault_blocks(faults: Sequence[SupportFault], total: int, now: datetime, t: Texts) -> list[Block]:
    """The fault reports support has to look at, oldest first: the operator said the charger is not theirs any
    more, or nobody of it could be reached. Nothing at all when there are none (the queue says "nothing waiting")."""
    if not total:
        return []
    lines = [_support_fault_line(fault, now, t) for fault in faults]
    if total > len(faults):
        more = total - len(faults)
        lines.append(t.gettext("…and {count} more; `/support status FR-…` shows one in full.").format(count=more))
    title = t.gettext("Fault reports with support ({count})").format(count=total)
    return [_header(title), *sections(lines)]


def _support_fault_line(fault: SupportFault, now: datetime, t: Texts) -> str:
    n = fault.notice
    return t.gettext("• *{reference}* fault on {serial}, Service Operator {operator}: {state}; waiting {age}").format(
        reference=escape(n.reference),
        serial=escape(n.serial),
        operator=escape(n.operator),
        state=escape(support_fault_state(n.status, t)),
        age=age(now - fault.updated_at, t),
    )


def _queue_line(item: QueueItem, now: datetime, t: Texts) -> str:
    return queue_line(item, now, t, WAITING, sla_text(item.sla, t) if item.sla is not None else "")


# What a paused clock waits on, by the status it pauses in.
PAUSED_TEXTS = {
    "waiting_for_customer": N_("paused: waiting for the customer"),
    "awaiting_operator": N_("paused: waiting for the current Service Operator"),
}


def sla_text(sla: RequestSla, t: Texts = ENGLISH) -> str:
    """The state of the clock that matters now, in words: "first response due in 2 h", "resolution late by 3 h",
    "paused: waiting for the customer"; empty once both targets are met."""
    clock = sla.breached or sla.current
    return clock_text(clock.target, clock.state, clock.left, sla.paused_in, t)


def clock_text(target: Target, state: SlaState, left: timedelta, paused_in: str | None, t: Texts = ENGLISH) -> str:
    """One clock's state in words (the digest's lines and the warning DM say it the same way)."""
    if state == SlaState.PAUSED:
        return t.gettext(PAUSED_TEXTS.get(paused_in or "", PAUSED_TEXTS["waiting_for_customer"]))
    if state == SlaState.MET:
        return ""
    first = target == Target.FIRST_RESPONSE
    if state == SlaState.BREACHED:
        late = age(-left, t)
        text = t.gettext("first response late by {age}") if first else t.gettext("resolution late by {age}")
        return text.format(age=late)
    due = t.gettext("first response due in {age}") if first else t.gettext("resolution due in {age}")
    return due.format(age=age(left, t))


def _customer_blocks(account: AccountOverview, t: Texts = ENGLISH) -> list[Block]:
    blocks: list[Block] = [_header(t.gettext("Your support"))]
    if account.organization is None:
        blocks.append(
            section(
                t.gettext(
                    "Your account {email} isn't linked to an organization yet, so there are no chargers to show and "
                    "you can't raise service tickets. Press *{button}* and choose *{category}*, and support will "
                    "link you to your company."
                ).format(
                    email=escape(account.email),
                    button=t.gettext(ENTRY_TITLE),
                    category=t.gettext(ADMINISTRATIVE_CATEGORY),
                )
            )
        )
    else:
        intro = t.gettext("Your organization: *{organization}*.").format(organization=escape(account.organization))
        if not account.service_customer:
            intro += " " + t.gettext(
                "Your account was registered recently; it is linked for service from {moment}."
            ).format(moment=moment_text(t, account.service_customer_from))
        blocks.append(section(intro))
    blocks.append(choices((entry_button(t),), HOME_BUTTON_BLOCK, t))
    if account.organization is not None:
        blocks.append(_header(t.gettext("Chargers your organization operates")))
        if account.chargers:
            blocks.extend(sections([charger_line(c, t) for c in account.chargers]))
        else:
            blocks.append(
                section(
                    t.gettext(
                        "None yet. A charger bought from a reseller stays registered to the reseller until a "
                        "management transfer is completed."
                    )
                )
            )
    if account.awaiting_our_answer:
        blocks.append(_header(t.gettext("Transfers waiting for your organization's consent")))
        blocks.extend(sections([request_line(r, t) for r in account.awaiting_our_answer]))
    blocks.append(_header(t.gettext("Your requests")))
    if account.requests:
        blocks.extend(sections([request_line(r, t) for r in account.requests]))
    else:
        blocks.append(section(t.gettext("No requests yet.")))
    reported = [r for r in account.fault_reports if r.status.is_open]
    if reported:
        # Beside the requests, as the reporter sees them: reference, serial and state, never who operates it.
        blocks.append(_header(t.gettext("Your fault reports on other organizations' chargers")))
        blocks.extend(sections([fault_line(r, t) for r in reported]))
    undecided = [r for r in account.requests if is_withdrawable(r)]
    if undecided:
        # Every listed request is the person's own or their organization's, so they may withdraw these; the
        # button asks before anything is withdrawn, and the portal checks again.
        blocks.append(
            section(t.gettext("Changed your mind? You can withdraw a request that support hasn't decided yet."))
        )
        blocks.append(choices([withdraw_button(r.reference, t) for r in undecided], WITHDRAW_BLOCK, t))
    return blocks


def charger_line(charger: ChargerView, t: Texts = ENGLISH) -> str:
    warranty = t.gettext("in warranty") if charger.in_warranty else t.gettext("warranty ended")
    return t.gettext("• *{serial}* {model}: Service Operator {operator}; warranty until {until} ({warranty})").format(
        serial=escape(charger.serial),
        model=escape(charger.model),
        operator=escape(charger.service_operator),
        until=day_text(t, charger.warranty_until),
        warranty=warranty,
    )


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=text[:MAX_HEADER])


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])
