"""Who can read a request's channel (bot/slack/people/channels.py): an agent's message goes into its thread only
when nobody of another organization can; every other case, Slack's failures included, says no (the DM instead).

Against the fake Slack (conversations.info, auth.test) and the demo's workspace links, on both databases:
T0HOME is home, T0VOLT is linked to VoltWay, T0GREEN to GreenFleet, T0CITY to CityCharge.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.people.channels import MEMBERS_MAX, private_to_organization, workspaces_of
from bot.slack.people.identity import Directory
from portal import services
from portal.bootstrap import Portal
from portal.demo import CITYCHARGE, VOLTWAY
from tests.support.fake_slack import FakeSlack

CHANNEL = "C0CUSTOMER"
UNSHARED = {"is_channel": True, "is_shared": False, "is_ext_shared": False, "is_org_shared": False}


def connected(*teams: str, **more: Any) -> dict[str, Any]:
    """A Slack Connect channel of our workspace with `teams` (home first, as Slack lists it)."""
    return {
        "is_channel": True,
        "is_shared": True,
        "is_ext_shared": True,
        "context_team_id": "T0HOME",
        "shared_team_ids": ["T0HOME", *teams],
        "pending_shared": [],
        "is_pending_ext_shared": False,
        **more,
    }


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        yield server


async def private(fake: FakeSlack, portal: Portal, info: dict[str, Any] | None, organization: str | None) -> bool:
    if info is not None:
        fake.channels[CHANNEL] = info
    fake.members.setdefault(CHANNEL, [])  # nobody of the home workspace in it (see the member tests below)
    client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url)
    return await private_to_organization(client, Directory(client, portal), portal, CHANNEL, organization)


async def test_a_channel_of_the_home_workspace_alone_is_private(fake: FakeSlack, portal: Portal) -> None:
    assert await private(fake, portal, {**UNSHARED, "context_team_id": "T0HOME"}, CITYCHARGE)
    assert await private(fake, portal, UNSHARED, None)  # no organization: the home workspace alone still is


async def test_shared_only_with_a_workspace_linked_to_the_requests_organization_is_private(
    fake: FakeSlack, portal: Portal
) -> None:
    assert await private(fake, portal, connected("T0CITY"), CITYCHARGE)
    # connected_team_ids (Slack's newer list) counts the same
    assert await private(fake, portal, {**connected(), "connected_team_ids": ["T0HOME", "T0CITY"]}, CITYCHARGE)


async def test_shared_with_a_workspace_of_another_organization_is_not(fake: FakeSlack, portal: Portal) -> None:
    assert not await private(fake, portal, connected("T0VOLT"), CITYCHARGE)
    assert not await private(fake, portal, connected("T0CITY", "T0VOLT"), CITYCHARGE)
    assert await private(fake, portal, connected("T0VOLT"), VOLTWAY)  # the same channel, for VoltWay's request


async def test_shared_with_an_unlinked_workspace_is_not(fake: FakeSlack, portal: Portal) -> None:
    assert not await private(fake, portal, connected("T0STRANGER"), CITYCHARGE)
    # asked about (a verification card is waiting), not linked: still nobody's
    await services.ask_workspace_verification(portal.uow(), "T0ASKED", "U0X")
    assert not await private(fake, portal, connected("T0ASKED"), CITYCHARGE)


async def test_a_requester_without_an_organization_gets_no_shared_channel(fake: FakeSlack, portal: Portal) -> None:
    assert not await private(fake, portal, connected("T0CITY"), None)


async def test_a_pending_share_is_not_private(fake: FakeSlack, portal: Portal) -> None:
    # Whoever accepts the invitation reads the history: not safe before, either.
    assert not await private(fake, portal, {**UNSHARED, "is_pending_ext_shared": True}, CITYCHARGE)
    assert not await private(fake, portal, {**UNSHARED, "pending_shared": ["T0VOLT"]}, CITYCHARGE)
    assert not await private(fake, portal, {**connected("T0CITY"), "pending_connected_team_ids": ["T0X"]}, CITYCHARGE)


async def test_shared_without_saying_with_whom_is_not(fake: FakeSlack, portal: Portal) -> None:
    assert not await private(fake, portal, {**UNSHARED, "is_ext_shared": True, "is_shared": True}, CITYCHARGE)
    assert not await private(fake, portal, {**UNSHARED, "is_org_shared": True, "context_team_id": "T0HOME"}, CITYCHARGE)


async def test_an_org_shared_channel_with_another_grid_workspace_is_not(fake: FakeSlack, portal: Portal) -> None:
    info = {**UNSHARED, "is_shared": True, "is_org_shared": True, "internal_team_ids": ["T0HOME", "T0OTHERGRID"]}
    assert not await private(fake, portal, info, CITYCHARGE)


async def test_a_multi_person_dm_is_not(fake: FakeSlack, portal: Portal) -> None:
    assert not await private(fake, portal, {"is_mpim": True, "is_private": True}, CITYCHARGE)


async def test_slack_not_answering_is_not_private(fake: FakeSlack, portal: Portal) -> None:
    assert not await private(fake, portal, None, CITYCHARGE)  # channel_not_found
    fake.channels[CHANNEL] = UNSHARED
    fake.fail_next("conversations.info", status=500)
    assert not await private(fake, portal, None, CITYCHARGE)
    fake.fail_next("conversations.info", status=429, retry_after=1)
    assert not await private(fake, portal, None, CITYCHARGE)
    assert await private(fake, portal, None, CITYCHARGE)  # answered again: the same channel is fine


async def test_auth_test_failing_is_not_private(fake: FakeSlack, portal: Portal) -> None:
    fake.fail_next("auth.test", status=500)
    assert not await private(fake, portal, {**UNSHARED, "context_team_id": "T0HOME"}, CITYCHARGE)


def test_what_slack_lists_is_what_counts() -> None:
    assert workspaces_of({**UNSHARED, "context_team_id": "T0HOME"}) == frozenset({"T0HOME"})
    assert workspaces_of(connected("T0CITY")) == frozenset({"T0HOME", "T0CITY"})
    assert workspaces_of({}) is None  # no answer is no answer
    assert workspaces_of({**connected(), "shared_team_ids": "T0CITY"}) is None  # not a list: not understood


# --- the home workspace's own members: customers may be among them --------------------------------------------------

HOME_ONLY = {**UNSHARED, "context_team_id": "T0HOME"}


async def members_private(
    fake: FakeSlack, portal: Portal, members: list[str], organization: str | None, info: dict[str, Any] = HOME_ONLY
) -> bool:
    fake.channels[CHANNEL] = info
    fake.members[CHANNEL] = members
    client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url)

    async def is_support(user_id: str) -> bool:
        return user_id == "U0AGENT"

    directory = Directory(client, portal)
    return await private_to_organization(client, directory, portal, CHANNEL, organization, is_support)


@pytest.fixture
async def people() -> AsyncIterator[FakeSlack]:
    from tests.support.harness import USERS

    async with FakeSlack(users=USERS) as server:
        yield server


async def test_a_home_channel_with_a_customer_of_another_organization_is_not_private(
    people: FakeSlack, portal: Portal
) -> None:
    # carla (CityCharge), the agent and the app: only CityCharge and support read it.
    assert await members_private(people, portal, ["U0CARLA", "U0AGENT", people.bot_user_id], CITYCHARGE)
    # ben (GreenFleet) is in our workspace too: his company must not read what support tells CityCharge.
    assert not await members_private(people, portal, ["U0CARLA", "U0BEN", "U0AGENT"], CITYCHARGE)
    # someone Slack shows no email for, or someone with no account, cannot be placed: no.
    assert not await members_private(people, portal, ["U0CARLA", "U0NOMAIL"], CITYCHARGE)
    assert not await members_private(people, portal, ["U0CARLA", "U0GHOST"], CITYCHARGE)
    # a requester of no organization: any customer beside them is one too many.
    assert not await members_private(people, portal, ["U0DAVE", "U0CARLA"], None)


async def test_members_of_a_linked_workspace_count_by_their_link_and_a_large_channel_is_not_checked(
    people: FakeSlack, portal: Portal
) -> None:
    assert await members_private(people, portal, ["U0ANNA", "U0AGENT"], VOLTWAY, connected("T0VOLT"))
    assert not await members_private(people, portal, ["U0ANNA", "U0BEN"], VOLTWAY, connected("T0VOLT"))
    crowd = ["U0CARLA"] + [f"U0X{i:04d}" for i in range(MEMBERS_MAX)]
    assert not await members_private(people, portal, crowd, CITYCHARGE)
    people.fail_next("conversations.members", status=500)
    assert not await members_private(people, portal, ["U0CARLA"], CITYCHARGE)
