"""/metrics: counters bumped where things happen, gauges read from the database when scraped, one registry per app."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client.parser import text_string_to_metric_families

from bot.engine.actions import InProcessActions
from bot.engine.design import ConversationDesign
from bot.engine.engine import Engine
from bot.engine.store import TrackerStore
from bot.engine.understanding import Interpreter
from bot.ops.metrics import Metrics
from bot.slack.app import database_readings
from bot.slack.egress.delivery import Delivery, SlackSender, enqueue
from bot.slack.ingress.context import Conversation
from bot.slack.ingress.inbox import Inbox
from bot.slack.ingress.intake import QueuedTurn, TurnKind
from portal import services
from portal.bootstrap import Portal
from tests.slack.test_delivery import client_for
from tests.support.fake_slack import FakeSlack
from tests.support.outage import records_unreachable

UNDERSTOOD = "hello"
NOT_UNDERSTOOD = "asdfgh jkl"
DAVE = "dave@newcustomer.example"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scraped(metrics: Metrics) -> Samples:
    """Every sample of a scrape, parsed as Prometheus would: (name, labels) → value."""
    text = (await metrics.scrape()).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


async def test_every_app_has_a_registry_of_its_own() -> None:
    one, other = Metrics(), Metrics()
    one.fell_back()
    one.rate_limited("queue")
    assert value(await scraped(one), "chargedesk_nlu_fallbacks_total") == 1
    assert value(await scraped(one), "chargedesk_slack_rate_limited_total", via="queue") == 1
    assert value(await scraped(other), "chargedesk_nlu_fallbacks_total") == 0
    assert value(await scraped(other), "chargedesk_slack_rate_limited_total", via="queue") == 0


async def test_turns_are_counted_and_timed_and_fallbacks_counted(
    portal: Portal, trained: tuple[ConversationDesign, Interpreter]
) -> None:
    design, interpreter = trained
    assert not interpreter.parse(UNDERSTOOD).is_fallback and interpreter.parse(NOT_UNDERSTOOD).is_fallback
    metrics = Metrics()
    engine = Engine(design, interpreter, TrackerStore(portal.engine), InProcessActions(portal=portal), metrics=metrics)
    try:
        await engine.turn("T0HOME:D0DAVE:-:U0DAVE", UNDERSTOOD)
        await engine.turn("T0HOME:D0DAVE:-:U0DAVE", NOT_UNDERSTOOD)
        await engine.turn("T0HOME:D0BEN:-:U0BEN", UNDERSTOOD)
    finally:
        await engine.close()
    samples = await scraped(metrics)
    assert value(samples, "chargedesk_turns_total") == 3
    assert value(samples, "chargedesk_turn_seconds_count") == 3
    assert (value(samples, "chargedesk_turn_seconds_sum") or 0) > 0
    assert value(samples, "chargedesk_nlu_fallbacks_total") == 1


async def test_the_sender_counts_429s_and_failed_deliveries(empty_portal: Portal) -> None:
    fake = FakeSlack()
    await fake.start()
    try:
        async with empty_portal.engine.begin() as conn:
            await enqueue(
                conn,
                [
                    Delivery("C0ALPHA", "chat.postMessage", {"text": "first"}),
                    Delivery("C0BRAVO", "chat.postMessage", {"text": "second"}),
                ],
                datetime.now(UTC),
            )
        fake.fail_next("chat.postMessage", status=429, retry_after=0)
        fake.fail_next("chat.postMessage", status=200, error="channel_not_found")
        metrics = Metrics()
        await SlackSender(empty_portal.engine, client_for(fake), interval=0.01, metrics=metrics).drain(10.0)
    finally:
        await fake.stop()
    samples = await scraped(metrics)
    assert value(samples, "chargedesk_slack_rate_limited_total", via="queue") == 1
    assert value(samples, "chargedesk_slack_rate_limited_total", via="reply") == 0
    assert value(samples, "chargedesk_deliveries_failed_total") == 1
    assert [c.http_status for c in fake.calls_to("chat.postMessage")].count(200) == 2  # one failed with ok=false


async def test_gauges_are_read_from_the_database_when_scraped(portal: Portal) -> None:
    inbox = Inbox(portal.engine)
    metrics = Metrics(database_readings(portal, inbox))
    samples = await scraped(metrics)
    assert value(samples, "chargedesk_inbox_depth") == 0
    assert value(samples, "chargedesk_delivery_queue_depth") == 0
    assert not [key for key in samples if key[0] == "chargedesk_requests"]

    await services.open_administrative_request(portal.uow(), DAVE, "Please link me to GreenFleet")
    conversation = Conversation("T0HOME", "U0DAVE", "D0DAVE", None, "im")
    async with portal.engine.begin() as conn:
        await inbox.put_many(conn, [("event:Ev1", QueuedTurn(TurnKind.MESSAGE, conversation, "hi", "1.000001"))])
        await enqueue(conn, [Delivery("C0ALPHA", "chat.postMessage", {"text": "news"})], datetime.now(UTC))
    samples = await scraped(metrics)
    assert value(samples, "chargedesk_inbox_depth") == 1
    assert value(samples, "chargedesk_delivery_queue_depth") == 1
    assert value(samples, "chargedesk_requests", kind="administrative", state="open") == 1


async def test_gauges_are_left_out_while_the_database_is_down_and_counters_stay(portal: Portal) -> None:
    metrics = Metrics(database_readings(portal, Inbox(portal.engine)))
    metrics.fell_back()
    async with records_unreachable(portal):
        samples = await scraped(metrics)
    assert value(samples, "chargedesk_nlu_fallbacks_total") == 1
    assert value(samples, "chargedesk_inbox_depth") is None
    assert value(samples, "chargedesk_delivery_queue_depth") is None
    assert value(await scraped(metrics), "chargedesk_inbox_depth") == 0  # back
