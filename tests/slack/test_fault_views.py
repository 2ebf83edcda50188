"""What the reporter and support see of a fault report in Slack (issue 17 §2 gaps), end to end on loopback, on both
databases: `/support status FR-…` (and the same words in a mention), the reporter's DM once support has the report,
and the App Home of the reporter and of the agents. The reporter never learns who operates the charger.

ben (GreenFleet) reports a fault on a CityCharge charger; carla (CityCharge) is its operator; anna (VoltWay) and
dave are other customers; U0AGENT is support.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import update

from bot.slack.egress.notifier import Notifier
from bot.slack.people.agents import Agents
from bot.slack.people.registry import People
from portal import services
from portal.adapters import tables
from portal.demo import CITYCHARGE
from tests.slack.test_agent_journeys import Desk, sent
from tests.slack.test_fault_reports import carla_opens_the_ticket
from tests.support import payloads
from tests.support.harness import AGENT, TRIAGE, Harness, button
from tests.support.journeys import support_command

BEN, CARLA = "ben@greenfleet.example", "carla@citycharge.example"
SYMPTOM = "Display stays dark, no charging on socket 1"
# What would give the operator away: its name, its person's name and email, her Slack user.
OPERATOR_TRACES = (CITYCHARGE, "carla", "U0CARLA")


@pytest.fixture
async def desk(slack: Harness) -> Desk:
    return Desk.of(slack)


async def ben_reports(d: Desk, serial: str = "10001R002", **origin: str) -> str:
    report = await services.report_fault(
        d.h.portal.uow(), BEN, serial, SYMPTOM, share_identity=True, origin=origin or None
    )
    await d.deliver()
    return report.reference


async def status(d: Desk, user: str, reference: str) -> str:
    return json.dumps(await support_command(d.h, user, f"status {reference}", channel=f"D{user}"))


def hides_the_operator(shown: str) -> bool:
    return not any(trace in shown for trace in OPERATOR_TRACES)


async def home(d: Desk, user: str) -> str:
    d.h.fake.clear()
    code, _ = await d.h.sender.event(payloads.app_home_opened(user))
    assert code == 200
    [published] = await d.h.fake.wait_for("views.publish")
    return json.dumps(published.args["view"])


async def carla_says_not_ours(d: Desk) -> None:
    """carla presses *Not ours any more* in her DM about the report."""
    [dm] = sent(d.h, "chat.postMessage", "U0CARLA")
    _, action_id, value = button(dm, "Not ours any more")
    await d.press("U0CARLA", "D0CARLA", action_id, value)
    await d.h.fake.wait_for("chat.postEphemeral", where=lambda c: c.args.get("user") == "U0CARLA")


# ---------------------------------------------------------------------------------------------- /support status FR-…


async def test_the_reporter_sees_the_detail_of_the_report_as_it_moves(desk: Desk) -> None:
    d = desk
    reference = await ben_reports(d)
    shown = await status(d, "U0BEN", "fr-1")  # typed loosely, like any reference
    for expected in (reference, "10001R002", SYMPTOM, "*Status*: the Service Operator was informed", "*Reported*:"):
        assert expected in shown, expected
    assert hides_the_operator(shown)
    # The plain list shows it too, with how to see it in full.
    listed = json.dumps(await support_command(d.h, "U0BEN", "status", channel="D0BEN"))
    assert reference in listed and f"`status {reference}` shows one in full." in listed and hides_the_operator(listed)

    await carla_opens_the_ticket(d, reference)
    opened = await status(d, "U0BEN", reference)
    assert "*Status*: the Service Operator opened a service ticket" in opened
    assert "ST-000001" not in opened and hides_the_operator(opened)


async def test_the_same_words_in_a_mention_answer_the_same(desk: Desk) -> None:
    d = desk
    reference = await ben_reports(d)
    d.h.fake.clear()
    await d.h.sender.event(payloads.app_mention("U0BEN", f"<@UBOT> status {reference}", "C0SHARED", payloads.next_ts()))
    [answer] = await d.h.fake.wait_for("chat.postEphemeral")
    shown = json.dumps(answer.args)
    assert answer.args["user"] == "U0BEN" and SYMPTOM in shown and "the Service Operator was informed" in shown
    assert hides_the_operator(shown)


@pytest.mark.parametrize("user", ["U0ANNA", "U0CARLA", "U0DAVE", "U0GHOST"])
async def test_anyone_but_the_reporter_hears_what_an_unknown_reference_gets(desk: Desk, user: str) -> None:
    """Another customer, the operator itself, someone without an organization or an account: word for word the
    answer to a reference that does not exist, and nothing of the report."""
    d = desk
    reference = await ben_reports(d)
    refused = await status(d, user, reference)
    unknown = await status(d, user, "FR-999999")
    assert refused.replace(reference, "FR-999999") == unknown
    assert f"There is no request {reference} that you can see." in refused
    assert SYMPTOM not in refused and "10001R002" not in refused
    audited = await services.audit_entries(d.h.portal.uow())
    assert ("fault_status", reference) in {(e.action, e.reference) for e in audited}


async def test_an_agent_sees_the_report_as_support_does(desk: Desk) -> None:
    d = desk
    reference = await ben_reports(d)
    await carla_says_not_ours(d)
    shown = await status(d, AGENT, reference)
    assert f"*Service Operator*: {CITYCHARGE}" in shown and SYMPTOM in shown and BEN in shown
    assert "the Service Operator says the charger is not theirs any more" in shown


# ---------------------------------------------------------------------------------------------- the reporter's DM


def dms_to_ben(d: Desk) -> list[Any]:
    return [c for c in d.h.fake.calls_to("chat.postMessage") if c.ok and c.args.get("channel") == "U0BEN"]


async def test_the_reporter_is_told_once_when_the_operator_says_not_ours(desk: Desk) -> None:
    d = desk
    reference = await ben_reports(d)
    assert dms_to_ben(d) == []  # "informed" needs no DM: the conversation said so
    await carla_says_not_ours(d)
    await d.deliver()
    await d.deliver()  # a second round sends nothing again
    [told] = dms_to_ben(d)
    text = told.args["text"]
    assert f"Your fault report {reference} on 10001R002 is now with our support team." in text
    assert "does not look after this charger any more" in text and hides_the_operator(json.dumps(told.args))


async def test_the_reporter_is_told_when_nobody_of_the_operator_is_reachable(desk: Desk) -> None:
    """Reported from Slack in German: the DM to the user it was reported from is in German."""
    d = desk
    async with d.h.portal.engine.begin() as conn:
        await conn.execute(
            update(tables.accounts).where(tables.accounts.c.email == CARLA).values(email="carla@offline.example")
        )
    origin = {"slack_user_id": "U0BEN", "slack_team_id": "T0HOME", "language": "de", "key": "form-1"}
    reference = await ben_reports(d, **origin)
    await d.deliver()
    [told] = dms_to_ben(d)
    text = told.args["text"]
    assert f"Ihre Störungsmeldung {reference} zu 10001R002 liegt jetzt bei unserem Support-Team." in text
    assert "in Slack nicht erreichen" in text and hides_the_operator(json.dumps(told.args))
    [card] = sent(d.h, "chat.postMessage", TRIAGE)  # support's card names the operator: that is for support
    assert CITYCHARGE in card.args["text"]


async def test_the_reporters_home_is_refreshed_when_support_takes_the_report(desk: Desk) -> None:
    d = desk
    built: list[str] = []

    async def home_view(user_id: str, team_id: str) -> dict[str, Any]:
        built.append(user_id)
        return {"type": "home", "blocks": []}

    client = AsyncWebClient(token="xoxb-test", base_url=d.h.fake.base_url)
    agents = Agents(client, frozenset({AGENT}))
    d.notifier = Notifier(
        d.h.portal, People(d.h.portal.engine, client), TRIAGE, home_view=home_view, is_support=agents.is_agent
    )
    await ben_reports(d)
    await carla_says_not_ours(d)
    await d.deliver()
    assert built == ["U0BEN"]
    [published] = [c for c in d.h.fake.calls_to("views.publish") if c.ok]
    assert published.args["user_id"] == "U0BEN"


# ---------------------------------------------------------------------------------------------- App Home


async def test_the_reporters_home_lists_the_open_reports_without_the_operator(desk: Desk) -> None:
    d = desk
    reference = await ben_reports(d)
    shown = await home(d, "U0BEN")
    assert "Your fault reports on other organizations' chargers" in shown
    assert f"*{reference}* fault on 10001R002: the Service Operator was informed" in shown
    assert hides_the_operator(shown)
    await services.fault_not_ours(d.h.portal.uow(), CARLA, reference)
    with_support = await home(d, "U0BEN")
    assert f"*{reference}* fault on 10001R002: support is looking at it" in with_support
    assert hides_the_operator(with_support)
    # anna (another customer) sees nothing of it.
    assert reference not in await home(d, "U0ANNA")


async def test_a_report_with_a_ticket_leaves_the_reporters_home(desk: Desk) -> None:
    d = desk
    reference = await ben_reports(d)
    await services.open_ticket_from_fault(d.h.portal.uow(), CARLA, reference, SYMPTOM)
    shown = await home(d, "U0BEN")
    assert reference not in shown and "Your fault reports" not in shown and "ST-000001" not in shown


async def test_the_agents_home_has_the_reports_support_must_look_at(desk: Desk) -> None:
    d = desk
    reference = await ben_reports(d)
    before = await home(d, AGENT)
    assert "Fault reports with support" not in before and reference not in before  # still the operator's
    await services.fault_not_ours(d.h.portal.uow(), CARLA, reference)
    after = await home(d, AGENT)
    assert "Fault reports with support (1)" in after
    line = f"*{reference}* fault on 10001R002, Service Operator {CITYCHARGE}: the Service Operator says the charger"
    assert line in after
    # Nothing else waits, but the report does: "nothing is waiting" would be untrue.
    assert "Nothing is waiting for support right now." not in after
