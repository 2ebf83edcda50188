"""A turn's cost does not grow with its conversation: it loads a snapshot and the latest events (issue 18).

The structural property (the events a turn reads and replays do not grow with the conversation), and that loading
less changes nothing: the same replies, state and filing keys as a turn that loads every event, on both databases.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from actions.flow import HANDOFF_EVENTS
from bench.engine_bench import CARLA, LONG_SCRIPT
from bot.engine.actions import InProcessActions
from bot.engine.design import ConversationDesign
from bot.engine.engine import Engine, form_instance
from bot.engine.snapshot import Snapshot
from bot.engine.states import STATES_KEPT
from bot.engine.store import TrackerStore
from bot.engine.tables import conversations
from bot.engine.tracker import Tracker
from bot.engine.understanding import Interpreter
from bot.engine.window import KEEP_EVENTS, NO_WINDOW, STEP_EVENTS, Window
from portal.bootstrap import Portal
from tests.conftest import FrozenClock
from tests.engine import test_conversations as transcripts

# Turns that read back through the tracker's events: the words that opened a form (a serial and a problem in one
# message), a form restarted inside itself, two misunderstandings in a row (the second offers a person), a switch
# to another form from inside one (which form was interrupted), the status, small talk.
VARIED = (
    "hello",
    "10001R002 stopped charging after a minute",
    "/request_service_ticket",
    "/cancel",
    "asdf qwerty zxcv",
    "blorp blarp",
    "/request_service_ticket",
    '/inform{"serial": "10001R002"}',
    "/request_transfer",
    "/cancel",
    "what is the status of my requests",
    "thanks!",
)


def ticking(start: float = 1_795_000_000.0) -> Callable[[], float]:
    """A clock that moves a millisecond per reading: two engines doing the same thing see the same times."""
    counter = itertools.count()
    return lambda: start + next(counter) / 1000


def make_engine(
    portal: Portal,
    trained: tuple[ConversationDesign, Interpreter],
    window: Window,
    *,
    clock: Callable[[], float] | None = None,
    cache_bytes: int | None = None,
) -> Engine:
    design, interpreter = trained
    store = TrackerStore(portal.engine) if cache_bytes is None else TrackerStore(portal.engine, cache_bytes=cache_bytes)
    return Engine(
        design,
        interpreter,
        store,
        InProcessActions(portal=portal),
        clock=clock or ticking(),
        window=window,
    )


def state(tracker: Tracker) -> dict[str, Any]:
    """What a turn reads off a tracker besides its events (the story memory compares the last few states)."""
    return {
        "slots": tracker.slots,
        "active_loop": tracker.active_loop,
        "latest_message": tracker.latest_message,
        "latest_action_name": tracker.latest_action_name,
        "followup_action": tracker.followup_action,
        "states": tracker.memory_states()[-STATES_KEPT:],
        "event_count": tracker.event_count,
        "first_timestamp": tracker.first_timestamp,
        "form_instance": form_instance(tracker),
    }


async def window_start(portal: Portal, sender_id: str) -> int:
    async with portal.engine.connect() as conn:
        start = await conn.scalar(select(conversations.c.window_start).where(conversations.c.sender_id == sender_id))
    return int(start or 0)


# ------------------------------------------------------------------------------------- the structural property


@pytest.mark.parametrize("cache_bytes", [None, 0], ids=["memory", "no-memory"])
async def test_a_turn_reads_and_replays_no_more_events_at_400_turns_than_at_50(
    portal: Portal,
    trained: tuple[ConversationDesign, Interpreter],
    monkeypatch: pytest.MonkeyPatch,
    cache_bytes: int | None,
) -> None:
    # Counted, not timed: the events the store hands a turn (from memory, or with no memory from the database),
    # and the events applied to trackers during the turn (loading, the policy's states, the forms' scratch copies).
    applied = [0]
    apply = Tracker.apply

    def counted(tracker: Tracker, event: dict[str, Any]) -> None:
        applied[0] += 1
        apply(tracker, event)

    monkeypatch.setattr(Tracker, "apply", counted)
    engine = make_engine(portal, trained, Window(), cache_bytes=cache_bytes)
    reads: list[int] = []
    replays: list[int] = []
    for number in range(400):
        read_before, applied_before = engine.store.reads.total, applied[0]
        await engine.handle("long", LONG_SCRIPT[number % len(LONG_SCRIPT)], CARLA)
        reads.append(engine.store.reads.total - read_before)
        replays.append(applied[0] - applied_before)
    stored = len((await engine.tracker("long")).events)
    await engine.close()

    # Turns 26-50 and 376-400: each span holds a whole cycle of the window moving forward (every ~16 turns).
    early, late = slice(25, 50), slice(375, 400)
    print(
        f"{stored} events stored; per turn at 50 / 400 turns: read {max(reads[early])} / {max(reads[late])}, "
        f"replayed {max(replays[early])} / {max(replays[late])}"
    )
    one_turn = 16  # events a turn of this script adds, at most: where the window's cycle stands may differ by one
    assert max(reads[late]) <= max(reads[early]) + one_turn
    assert max(replays[late]) <= max(replays[early]) + 2 * one_turn
    assert max(reads) <= KEEP_EVENTS + STEP_EVENTS + 2 * one_turn  # bounded, and far below what is stored
    if cache_bytes == 0:
        assert engine.store.reads.from_memory == 0  # every read above came from the database
    assert await window_start(portal, "long") > stored - (KEEP_EVENTS + STEP_EVENTS + 2 * one_turn)


# --------------------------------------------------------------------------- loading less changes nothing


@pytest.mark.parametrize(
    "window",
    [Window(step=1), Window(keep=1, step=1)],
    ids=["keep-64-every-turn", "keep-1-every-turn"],
)
async def test_a_moving_window_answers_exactly_as_the_whole_conversation(
    portal: Portal, trained: tuple[ConversationDesign, Interpreter], window: Window
) -> None:
    # Two conversations with the same turns at the same times: one loading every event at every turn, the other
    # from a window moved forward at every turn it can (keeping only what the actions need, with keep=1).
    whole = make_engine(portal, trained, NO_WINDOW)
    windowed = make_engine(portal, trained, window)
    for number in range(3 * len(VARIED)):
        text = VARIED[number % len(VARIED)]
        expected_notes: dict[str, Any] = {}
        notes: dict[str, Any] = {}
        expected = await whole.turn("whole", text, CARLA, notes=expected_notes)
        got = await windowed.turn("windowed", text, CARLA, notes=notes)
        where = f"turn {number + 1} ({text!r})"
        assert [(m.response, m.text, m.buttons) for m in got.messages] == [
            (m.response, m.text, m.buttons) for m in expected.messages
        ], where
        assert (got.active_form, got.slots) == (expected.active_form, expected.slots), where
        assert json.dumps(notes).replace("windowed", "whole") == json.dumps(expected_notes), where  # filing keys

    everything = await windowed.tracker("windowed")
    # The same events, all still stored (their filing keys name each conversation).
    assert json.dumps(everything.events).replace("windowed", "whole") == json.dumps(
        (await whole.tracker("whole")).events
    )
    current = await windowed.current("windowed")
    start = await window_start(portal, "windowed")
    assert 0 < start == current.offset and len(current.events) < len(everything.events) / 3
    assert state(current) == state(everything)
    assert await window_start(portal, "whole") == 0
    await whole.close()
    await windowed.close()


@pytest.mark.parametrize("path", transcripts.TRANSCRIPTS, ids=[p.stem for p in transcripts.TRANSCRIPTS])
async def test_every_transcript_passes_with_a_window_moved_at_every_turn(
    path: Path, portal: Portal, trained: tuple[ConversationDesign, Interpreter], clock: FrozenClock
) -> None:
    # The transcripts with the least a window may keep: what the rules say the actions need, and nothing else.
    engine = make_engine(portal, trained, Window(keep=1, step=1), clock=time.time)  # as the `engine` fixture's
    await transcripts.test_transcript(path, engine, portal, clock)
    await engine.close()


async def test_a_snapshot_at_any_turn_restores_the_state_a_replay_reaches(
    portal: Portal, trained: tuple[ConversationDesign, Interpreter]
) -> None:
    engine = make_engine(portal, trained, NO_WINDOW)
    for number in range(2 * len(VARIED)):
        await engine.handle("replayed", VARIED[number % len(VARIED)], CARLA)
    await engine.close()
    everything = await engine.tracker("replayed")
    turns = [index for index, event in enumerate(everything.events) if event.get("event") == "user"]
    for position in turns[1:]:
        # Through JSON, as stored: tuples become lists, and must come back as the states the memory compares.
        snapshot = Snapshot.from_json(json.loads(json.dumps(everything.snapshot_at(position).to_json())))
        restored = Tracker("replayed", engine.domain, everything.events[position:], offset=position, base=snapshot)
        assert state(restored) == state(everything), f"restored at {position}"
        assert state(restored.copy()) == state(everything)
        head = Tracker("replayed", engine.domain, everything.events[:position])
        assert Snapshot.from_json(json.loads(json.dumps(head.snapshot().to_json()))) == snapshot


# ------------------------------------------------------------------------------------------- the window's rule


def user(text: str) -> dict[str, Any]:
    parse = {"intent": {"name": "greet", "confidence": 1.0}, "entities": []}
    return {"event": "user", "text": text, "parse_data": parse, "timestamp": 1.0}


def turn(text: str) -> list[dict[str, Any]]:
    return [
        user(text),
        {"event": "action", "name": "utter_greet", "timestamp": 1.0},
        {"event": "bot", "text": "Hi!", "timestamp": 1.0},
        {"event": "action", "name": "action_listen", "timestamp": 1.0},
    ]


def users_at(tracker: Tracker) -> list[int]:
    return [tracker.offset + i for i, event in enumerate(tracker.events) if event.get("event") == "user"]


def test_the_window_keeps_what_actions_read_back(trained: tuple[ConversationDesign, Interpreter]) -> None:
    design, _ = trained
    assert KEEP_EVENTS >= HANDOFF_EVENTS  # a handoff passes on the messages among the last 40 events
    window = Window(keep=10, step=4)

    short = Tracker("s", design.domain, [event for n in range(3) for event in turn(f"m{n}")])
    assert window.next_start(short) is None  # 12 events: nothing to gain yet
    assert window.next_start(Tracker("s", design.domain, turn("one"))) is None  # one message only

    long = Tracker("l", design.domain, [event for n in range(10) for event in turn(f"m{n}")])
    start = window.next_start(long)
    assert start == 28  # the latest message from which 10 events are kept (40 - 28 = 12)
    assert start in users_at(long) and long.event_count - start >= 10

    # A form active since long ago keeps its activation and the two messages before it (the form's opening words).
    events = [event for n in range(3) for event in turn(f"m{n}")]
    events.append({"event": "active_loop", "name": "service_ticket_form", "timestamp": 1.0})
    events += [event for n in range(3, 12) for event in turn(f"m{n}")]
    form = Tracker("f", design.domain, events)
    assert form.loop_name == "service_ticket_form"
    assert window.next_start(form) == 4  # m1, the message before m2 that opened the form
    form.apply({"event": "active_loop", "name": None, "timestamp": 1.0})
    assert window.next_start(form) == 37  # the form is over: only the last events count again

    # The window moves only by `step` events or more: a snapshot is written now and then, not at every turn.
    restored = Tracker("l", design.domain, long.events[28:], offset=28, base=long.snapshot_at(28))
    assert window.next_start(restored) is None
    for n in range(10, 12):
        for event in turn(f"m{n}"):
            restored.apply(event)
    assert window.next_start(restored) == 36
    assert NO_WINDOW.next_start(long) is None
    with pytest.raises(ValueError, match="at least 1"):
        Window(keep=0)  # a turn must see the conversation's latest event (when it was, for the session's expiry)
