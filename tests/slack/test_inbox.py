"""The inbox hands out a conversation's turns one at a time, in Slack's order, to any number of consumers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select

from bot.slack.ingress.context import Conversation
from bot.slack.ingress.inbox import Inbox
from bot.slack.ingress.intake import QueuedTurn, TurnKind, turn_of
from bot.slack.ingress.receipts import Receipts
from portal.adapters.database import create_engine
from portal.bootstrap import Portal
from tests.conftest import Database
from tests.support import payloads

CARLA = Conversation("T0HOME", "U0CARLA", "D0CARLA", None, "im")
BEN = Conversation("T0HOME", "U0BEN", "D0BEN", None, "im")


def turn(conversation: Conversation, text: str, ts: str) -> QueuedTurn:
    return QueuedTurn(TurnKind.MESSAGE, conversation, text, ts)


async def put(inbox: Inbox, delivery: str, queued: QueuedTurn) -> None:
    async with inbox.engine.begin() as conn:
        await inbox.put_many(conn, [(delivery, queued)])


async def test_turns_of_one_conversation_are_claimed_in_order_and_one_at_a_time(portal: Portal) -> None:
    inbox = Inbox(portal.engine)
    # Sent in this order by Slack's clock, put in another (they reached different processes).
    await put(inbox, "event:2", turn(CARLA, "second", "1700000000.000200"))
    await put(inbox, "event:b", turn(BEN, "hello", "1700000000.000150"))
    await put(inbox, "event:1", turn(CARLA, "first", "1700000000.000100"))

    first = await inbox.claim("one", 10)
    assert [(c.turn.conversation.user_id, c.turn.text) for c in first] == [("U0BEN", "hello"), ("U0CARLA", "first")]
    assert await inbox.claim("two", 10) == []  # carla's next turn waits for her first
    await inbox.finish(next(c.id for c in first if c.turn.text == "first"), "one")
    [second] = await inbox.claim("two", 10)
    assert (second.turn.text, second.delivery, second.attempts) == ("second", "event:2", 1)
    assert await inbox.waiting() == 2


async def test_a_claim_that_ran_out_is_offered_again_and_counted(portal: Portal) -> None:
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    inbox = Inbox(portal.engine, claim_ttl=timedelta(seconds=15), now=lambda: now)
    await put(inbox, "event:1", turn(CARLA, "hello", "1700000000.000100"))
    [claimed] = await inbox.claim("dead", 10)
    await inbox.finish(claimed.id, "someone else")  # only the claimant finishes a turn
    assert await inbox.claim("alive", 10) == []
    now += timedelta(seconds=16)  # the claimant stopped renewing
    [again] = await inbox.claim("alive", 10)
    assert (again.id, again.attempts) == (claimed.id, 2)
    await inbox.finish(again.id, "alive")
    assert await inbox.waiting() == 0


def test_what_counts_as_a_turn() -> None:
    dm = payloads.message_im("U0CARLA", "hello", "D0CARLA", "1700000000.000100")
    envelope = {"type": "event_callback", "team_id": "T0HOME", "event": dm}
    queued = turn_of(envelope)
    assert queued is not None and (queued.kind, queued.text, queued.order_key) == (
        TurnKind.MESSAGE,
        "hello",
        "1700000000.000100",
    )
    edited = {**envelope, "event": {**dm, "subtype": "message_changed"}}
    from_a_bot = {**envelope, "event": {**dm, "bot_id": "B0BOT"}}
    assert turn_of(edited) is None and turn_of(from_a_bot) is None
    assert turn_of({"type": "view_submission"}) is None  # modals are answered within the request


async def test_receipts_arriving_together_share_a_transaction_and_a_retry_among_them_is_refused(
    portal: Portal,
) -> None:
    inbox = Inbox(portal.engine)
    receipts = Receipts(portal.engine, inbox)
    transactions = 0

    def counted(*_: object) -> None:
        nonlocal transactions
        transactions += 1

    event.listen(portal.engine.sync_engine, "begin", counted)
    bodies = [
        {"type": "event_callback", "event_id": f"Ev{i}", "team_id": "T0HOME", "event": dm}
        for i, dm in enumerate(
            payloads.message_im(f"U0{n}", "hi", f"D0{n}", f"1700000000.00{n:04d}") for n in range(10)
        )
    ]
    # Every delivery twice (Slack's retry racing its original), all at once.
    answers = await asyncio.gather(*(receipts.first_time(f"event:{b['event_id']}", b) for b in bodies + bodies))
    event.remove(portal.engine.sync_engine, "begin", counted)
    assert answers == [(True, True)] * 10 + [(False, False)] * 10
    assert await inbox.waiting() == 10
    assert transactions < len(answers)  # grouped: far fewer than one per request


async def test_requests_arriving_while_a_receipt_waits_for_its_connection_share_its_transaction(
    database: Database, empty_portal: Portal
) -> None:
    # One connection, as on SQLite, where the turns this process runs use it too.
    engine = create_engine(database.url, **database.engine_options, pool_size=1, max_overflow=0)
    inbox = Inbox(engine)
    receipts = Receipts(engine, inbox)
    transactions = 0

    def counted(*_: object) -> None:
        nonlocal transactions
        transactions += 1

    event.listen(engine.sync_engine, "begin", counted)
    bodies = [
        {"type": "event_callback", "event_id": f"Ev{n}", "team_id": "T0HOME", "event": dm}
        for n, dm in enumerate(payloads.message_im(f"U0{n}", "hi", f"D0{n}", f"1700000000.00{n:04d}") for n in range(3))
    ]
    try:
        async with engine.connect() as busy:  # a turn's transaction holds the connection
            await busy.execute(select(1))
            transactions = 0  # the receipts' from here on
            first = asyncio.create_task(receipts.first_time("event:Ev0", bodies[0]))
            await asyncio.sleep(0.05)  # its writer now waits for the connection
            later = [asyncio.create_task(receipts.first_time(f"event:Ev{n}", bodies[n])) for n in (1, 2)]
            await asyncio.sleep(0.05)
        answers = await asyncio.gather(first, *later)
    finally:
        event.remove(engine.sync_engine, "begin", counted)
        await engine.dispose()
    assert answers == [(True, True)] * 3
    assert transactions == 1  # the later two joined the waiting writer instead of queueing once more
    assert await Inbox(empty_portal.engine).waiting() == 3
