"""Whether a Slack channel is readable by nobody outside a request's own organization (and our support team).

Why: an agent's message to a requester may say anything about their request (serials, warranty, a price). It may
go into the channel thread the request was asked in only when nobody of another organization can read that
channel; everywhere else it goes to the requester's DM (DESIGN.md §5b: nothing beyond a request's reference where
another organization can read it). Slack Connect makes one channel readable by several workspaces: conversations.info
says which (`shared_team_ids`, `connected_team_ids`, `internal_team_ids`, `context_team_id`), and whether an
invitation to share it is pending (`is_pending_ext_shared`, `pending_shared`, `pending_connected_team_ids`: an
organization that accepts later reads the history).

The rule: every workspace in the channel is our home workspace (auth.test's team, or its Enterprise Grid) or one that
support linked to the request's organization (`services.workspace_organizations`). Anything else says no: a pending
share, a multi-person DM (whose members may come from anywhere), a channel said to be shared whose workspaces Slack
does not list, a workspace linked to another organization or to none, a request without an organization in a
channel shared with anyone, and Slack or the records not answering. A "no" costs the requester nothing: the message
goes to their DM instead.

The home workspace is not support's alone: customers may be its members too (a customer without a workspace of
their own is invited into ours). So the channel's members from the home workspace are checked one by one
(conversations.members, users.info): each must be an app's user, a support agent, or a person whose account
belongs to the request's organization. Someone else, someone Slack shows no email for, or a channel too large to
check (more than MEMBERS_MAX members) says no. Members from a linked workspace belong to its organization (that is
what the link says), checked above.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.people.identity import SLACK_TIMEOUT_SECONDS, Directory
from portal import services
from portal.bootstrap import Portal

logger = logging.getLogger(__name__)

# conversations.info's lists of the workspaces a channel belongs to, or is about to.
TEAM_LISTS = ("shared_team_ids", "connected_team_ids", "internal_team_ids")
PENDING_LISTS = ("pending_shared", "pending_connected_team_ids")
SHARED_FLAGS = ("is_shared", "is_ext_shared", "is_org_shared")
MEMBERS_MAX = 200  # a channel with more members than this is not checked person by person: the DM instead

IsSupport = Callable[[str], Awaitable[bool]]  # whether a Slack user id is one of support's agents


def workspaces_of(info: Mapping[str, Any]) -> frozenset[str] | None:
    """The workspaces whose members can read a channel, from its conversations.info object; None when Slack's answer
    does not settle it (a multi-person DM, a pending share, a shared channel without the list of its workspaces).
    An empty set is a channel of the workspace the app is installed in alone."""
    if not info or info.get("is_mpim") or info.get("is_im"):
        return None  # no answer, or a conversation of people rather than of workspaces
    if info.get("is_pending_ext_shared") or any(info.get(name) for name in PENDING_LISTS):
        return None
    teams: set[str] = set()
    for name in TEAM_LISTS:
        listed = info.get(name) or []
        if not isinstance(listed, list):
            return None
        teams |= {str(team) for team in listed if team}
    if info.get("context_team_id"):
        teams.add(str(info["context_team_id"]))
    shared = any(info.get(flag) for flag in SHARED_FLAGS)
    if shared and len(teams) < 2:
        return None  # shared with someone Slack does not name
    return frozenset(teams)


async def private_to_organization(
    client: AsyncWebClient,
    directory: Directory,
    portal: Portal,
    channel: str,
    organization: str | None,
    is_support: IsSupport | None = None,
) -> bool:
    """Whether `channel` is readable only by support and `organization` (a name; None: a requester of no
    organization): its workspaces are our home workspace and workspaces linked to `organization`, and its members from
    the home workspace are agents (`is_support`), apps, or people of `organization`. Never raises: no answer is no."""
    try:
        async with asyncio.timeout(SLACK_TIMEOUT_SECONDS):  # the notifier waits on it: a slow Slack means the DM
            answer = await client.conversations_info(channel=channel)
            home_team, home_enterprise = await directory.home()
        info = answer.get("channel") or {}
    except Exception as error:  # Slack unreachable, rate limited, the channel gone: the DM is the safe place
        logger.warning("checking who can read a request's channel failed: %s", type(error).__name__)
        return False
    teams = workspaces_of(info)
    if teams is None:
        return False
    home = {team for team in (home_team, home_enterprise) if team}
    others = sorted(teams - home)
    if others and organization is None:
        return False
    try:
        linked = await services.workspace_organizations(portal.uow(), others) if others else {}
        if not all(linked.get(team) == organization for team in others):
            return False
        async with asyncio.timeout(SLACK_TIMEOUT_SECONDS):
            return await _home_members_belong(client, directory, portal, channel, organization, home, is_support)
    except Exception as error:  # Slack or the records out of reach: as above
        logger.warning("checking who can read a request's channel failed: %s", type(error).__name__)
        return False


async def _home_members_belong(
    client: AsyncWebClient,
    directory: Directory,
    portal: Portal,
    channel: str,
    organization: str | None,
    home: set[str],
    is_support: IsSupport | None,
) -> bool:
    """Whether every member of `channel` from the home workspace is an app's user, an agent or a person of
    `organization` (see the module's docstring)."""
    answer = await client.conversations_members(channel=channel, limit=MEMBERS_MAX)
    if (answer.get("response_metadata") or {}).get("next_cursor"):
        return False  # more members than we check
    emails: set[str] = set()
    for user_id in [str(m) for m in answer.get("members") or []]:
        profile = await directory.profile(user_id)
        if profile.is_bot or not ({profile.team_id, profile.enterprise_id} & home):
            continue  # an app, or a member of a linked workspace (checked by its link)
        if is_support is not None and await is_support(user_id):
            continue
        if profile.email is None or organization is None:
            return False  # nobody we can place, or a requester of no organization beside a customer
        emails.add(profile.email)
    found = await services.account_organizations(portal.uow(), emails)
    return all(email in found and found[email] == organization for email in emails)
