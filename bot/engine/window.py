"""How much of a conversation a turn loads: a snapshot of the state, then the latest events only.

A customer's DM with the assistant lives for months. Loading and replaying every event it ever had made a turn's
cost grow with the conversation (65 turns/s at 200 turns, 12 at 1,200); Rasa loads only the events since the last
session start. Here a turn loads the conversation from its *window start*: the snapshot of the state the events
before it added up to, and the events from it on. After a turn the engine moves the window start forward, in
steps, to the latest position from which the window still holds everything read off `tracker.events`:

- the last `keep` events: a handoff passes the messages among the last `actions.flow.HANDOFF_EVENTS` (40) to support;
- the two latest user messages: `action_misunderstood` offers a person when the one before also fell back;
- while a form is active, the event that activated it and the two user messages before that: a form instance is
  named by its activation's position (`engine.form_instance`, the filing key), and `actions.opening` reads the
  words that started the form (the message before a category click) from there.

Windows start at a user message, where a turn begins. The start moves only by `step` events or more, so that the
snapshot (a few kilobytes) is written once every dozen turns or so, not at every turn; a turn therefore reads at
most about `keep + step` events plus its own, however long the conversation, as long as no form stays active for
longer than that (its activation is kept). All events stay stored: `Engine.tracker` still reads them all.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine.tracker import Tracker

KEEP_EVENTS = 64
STEP_EVENTS = 128


@dataclass(frozen=True)
class Window:
    keep: int = KEEP_EVENTS
    step: int = STEP_EVENTS

    def __post_init__(self) -> None:
        # An empty window would hide when the conversation last moved (the session's expiry, engine.py).
        if self.keep < 1 or self.step < 1:
            raise ValueError(f"a window keeps at least 1 event and moves by at least 1, not {self.keep}/{self.step}")

    def next_start(self, tracker: Tracker) -> int | None:
        """Where the next turn's tracker may start, if it should start later than `tracker` does; else None."""
        offset, events = tracker.offset, tracker.events
        users = [offset + index for index, event in enumerate(events) if event.get("event") == "user"]
        if len(users) < 2:
            return None
        limit = min(tracker.event_count - self.keep, users[-2])
        loop = tracker.loop_name
        if loop is not None:
            activation = next(
                (
                    offset + index
                    for index in range(len(events) - 1, -1, -1)
                    if events[index].get("event") == "active_loop" and events[index].get("name") == loop
                ),
                None,
            )
            before = [position for position in users if activation is not None and position < activation]
            if len(before) < 2:
                return None  # what the form needs is not all here: keep everything this tracker has
            limit = min(limit, before[-2])
        start = max((position for position in users if position <= limit), default=None)
        if start is None or start - offset < self.step:
            return None
        return start


NO_WINDOW = Window(keep=1 << 62, step=1 << 62)
"""Never moves: every turn loads the whole conversation (as before snapshots; for tests that compare)."""
