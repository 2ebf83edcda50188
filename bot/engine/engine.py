"""The embedded dialogue engine: one user message in, the assistant's messages out, the tracker persisted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from rasa_sdk.events import ActionExecutionRejected, BotUttered, SessionStarted, UserUttered
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.engine.actions import ActionRunner, CustomActions, HttpActions, InProcessActions
from bot.engine.design import ConversationDesign, load_design
from bot.engine.forms import FormRejected, FormRunner, fill_slots_from_message
from bot.engine.leases import Leases
from bot.engine.model_cache import DEFAULT_CACHE, load_or_train
from bot.engine.policy import Policy
from bot.engine.responses import BotMessage, render
from bot.engine.snapshot import Snapshot
from bot.engine.store import NewWindow, StoredWindow, TrackerStore
from bot.engine.tracker import ACTION_LISTEN, Tracker, action_event, slot_event
from bot.engine.understanding import Interpreter
from bot.engine.window import Window
from bot.logs import log_context, request_id
from bot.ops.metrics import Metrics
from portal.languages.texts import N_, texts

logger = logging.getLogger(__name__)

MAX_ACTIONS_PER_TURN = 10  # a design that loops forever must not take the process with it
ERROR_RESPONSE = "utter_error_try_again"
REQUEST_SLOT = "request_reference"  # the reference of the request a turn filed or talks about
# The metadata entry naming the intent a user message files under; custom actions put it in the request's origin
# (`actions.requester.origin_of`), and the portal files one request per key.
FILING_KEY = "filing_key"
# Rasa runs this custom action after every user message (inside action_extract_slots) when the domain lists it: it
# fills the slots with custom mappings that belong to no form (the conversation's `language`, actions/language.py).
VALIDATE_SLOT_MAPPINGS = "action_validate_slot_mappings"


def prepare(root: Path, model_cache: Path | None = None) -> tuple[ConversationDesign, Interpreter]:
    """The checked design and a classifier trained on its data/nlu*.yml files (seconds), or read from
    ``model_cache`` when an earlier start trained it on the same data and code (``bot.engine.model_cache``)."""
    design = load_design(root)
    interpreter = load_or_train(
        root,
        model_cache,
        threshold=design.nlu.threshold,
        ambiguity_threshold=design.nlu.ambiguity_threshold,
        intents=design.domain.intents,
        entities=design.domain.entities,
    )
    return design, interpreter


class Assistant(Protocol):
    """What surfaces talk to: the embedded engine, or a Rasa server."""

    async def handle(self, sender_id: str, text: str, metadata: dict[str, Any] | None = None) -> list[BotMessage]: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class TurnResult:
    """What a turn said, and the conversation's state after it (for surfaces that open forms as modals)."""

    messages: list[BotMessage]
    active_form: str | None
    slots: dict[str, Any]


@dataclass(frozen=True)
class FormSubmission:
    """A whole form submitted at once: errors per slot (nothing stored), or the turn that followed."""

    errors: dict[str, str]
    result: TurnResult | None


Release = Callable[[AsyncConnection], Awaitable[None]]  # gives the conversation's lease back in a transaction

NOT_ACTIVE = N_("This request is no longer open here. Please start again.")
CHECK_VALUE = N_("Please check this value.")


@dataclass
class Turn:
    tracker: Tracker
    new_events: list[dict[str, Any]] = field(default_factory=list)
    messages: list[BotMessage] = field(default_factory=list)

    def add(self, event: dict[str, Any]) -> None:
        self.tracker.apply(event)
        self.new_events.append(event)


class Engine:
    def __init__(
        self,
        design: ConversationDesign,
        interpreter: Interpreter,
        store: TrackerStore,
        custom_actions: CustomActions,
        clock: Callable[[], float] = time.time,
        leases: Leases | None = None,
        metrics: Metrics | None = None,
        window: Window | None = None,
    ) -> None:
        self.design = design
        self.domain = design.domain
        self.interpreter = interpreter
        self.store = store
        self.custom_actions = custom_actions
        self.clock = clock
        self.policy = Policy(design)
        self.runner = ActionRunner(design.domain, custom_actions, clock)
        self.forms = FormRunner(design.domain, self.runner.run, clock)
        # One turn at a time per conversation: a lock in this process (cheap, and keeps our own turns in arrival
        # order), and a lease in the database against other processes.
        # Weak values: a conversation's lock lives only while a turn holds or awaits it (no growth per conversation).
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self.leases = leases if leases is not None else Leases(store.engine)
        self.metrics = metrics if metrics is not None else Metrics()
        # How much of a conversation a turn loads (bot.engine.window): not more as the conversation grows.
        self.window = window if window is not None else Window()

    @classmethod
    def build(
        cls,
        root: Path,
        store: TrackerStore,
        *,
        action_endpoint: str | None = None,
        dependencies: dict[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
        metrics: Metrics | None = None,
        model_cache: Path | None = DEFAULT_CACHE,
    ) -> Engine:
        """Load and check the design, train the classifier (or read it from ``model_cache``; None: always train),
        and choose how custom actions run."""
        design, interpreter = prepare(root, model_cache)
        actions: CustomActions = (
            HttpActions(action_endpoint) if action_endpoint else InProcessActions(**(dependencies or {}))
        )
        return cls(design, interpreter, store, actions, clock, metrics=metrics)

    async def handle(self, sender_id: str, text: str, metadata: dict[str, Any] | None = None) -> list[BotMessage]:
        return (await self.turn(sender_id, text, metadata)).messages

    async def turn(
        self,
        sender_id: str,
        text: str,
        metadata: dict[str, Any] | None = None,
        *,
        notes: dict[str, Any] | None = None,
    ) -> TurnResult:
        """One user message, with the state it leaves behind.

        A conversation's turns run one at a time, in the order they reach this process (across processes, the
        Slack inbox hands them out in the order they were sent).

        The message files under the surface's filing key (`metadata[FILING_KEY]`), else its form instance's (see
        `form_instance`). That key goes into `notes[FILING_KEY]` before anything runs, so that a caller whose turn
        failed can ask whether it filed a request; the caller's `metadata` is never changed.
        """
        metadata = dict(metadata or {})
        # The tracker's version is read in the transaction that takes the lease; its events usually come from
        # the store's memory, and the lease goes back in the transaction that stores the turn.
        loading = self.store.loading(sender_id)
        with self._observed(sender_id):
            async with self._lock(sender_id), self.leases.hold(sender_id, also=loading.check) as lease:
                stored = await loading.window()
                turn = Turn(self._restored(sender_id, stored))
                self._note_filing_key(turn.tracker, metadata, notes)
                self._start_session_if_needed(turn)
                await self._understand(turn, text, metadata)
                await self._act(turn)
                await self._store(turn, stored, lease.release)
                return self._result(turn)

    async def submit_form(
        self,
        sender_id: str,
        form: str,
        values: dict[str, Any],
        metadata: dict[str, Any] | None = None,
        *,
        wait: float | None = None,
        notes: dict[str, Any] | None = None,
    ) -> FormSubmission:
        """Fill the active `form` with every value at once, as a modal does.

        Each value is validated on its own by `validate_<form>`, so that a refusal belongs to one field. With any
        refusal nothing is stored; otherwise the values go in as one user turn and the conversation goes on (the
        form completes and its submission rule runs). The filing key goes into `notes` as in `turn`. `wait`
        bounds the wait for the conversation's lease (`TurnBusy` after it).
        """
        metadata = dict(metadata or {})
        loading = self.store.loading(sender_id)
        with self._observed(sender_id):
            async with self._lock(sender_id), self.leases.hold(sender_id, also=loading.check, wait=wait) as lease:
                stored = await loading.window()
                turn = Turn(self._restored(sender_id, stored))
                if turn.tracker.loop_name != form:
                    return FormSubmission({"": texts(turn.tracker.slots.get("language")).gettext(NOT_ACTIVE)}, None)
                self._note_filing_key(turn.tracker, metadata, notes)
                turn.add(self._user_event("", {"name": None, "confidence": 1.0}, metadata))
                errors = await self._refusals(form, turn.tracker, values)
                if errors:
                    return FormSubmission(errors, None)
                for name, value in values.items():
                    turn.add(slot_event(name, value, self.clock()))
                await self._act(turn)
                await self._store(turn, stored, lease.release)
                return FormSubmission({}, self._result(turn))

    @contextlib.contextmanager
    def _observed(self, sender_id: str) -> Iterator[None]:
        """Around a turn: counted and timed; its log lines name the conversation (and the request it files)."""
        with self.metrics.turn(), log_context(conversation_id=sender_id, request_id=None):
            yield

    async def _refusals(self, form: str, tracker: Tracker, values: dict[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        for name, value in values.items():
            outcome = await self.forms.validate_one(form, tracker, name, value)
            refused = any(
                e.get("event") == "slot" and e.get("name") == name and e.get("value") is None for e in outcome.events
            )
            if refused or value is None:
                fallback = texts(tracker.slots.get("language")).gettext(CHECK_VALUE)
                errors[name] = " ".join(m.text for m in outcome.messages) or fallback
        return errors

    @staticmethod
    def _note_filing_key(stored: Tracker, metadata: dict[str, Any], notes: dict[str, Any] | None) -> None:
        key = metadata.get(FILING_KEY) or form_instance(stored)
        if key is None:
            return
        metadata[FILING_KEY] = key
        if notes is not None:
            notes[FILING_KEY] = key

    @staticmethod
    def _result(turn: Turn) -> TurnResult:
        return TurnResult(turn.messages, turn.tracker.loop_name, dict(turn.tracker.slots))

    def _lock(self, sender_id: str) -> asyncio.Lock:
        lock = self._locks.get(sender_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[sender_id] = lock
        return lock

    async def tracker(self, sender_id: str) -> Tracker:
        """The conversation with every event it ever had (reads them all: for looking back, not for turns)."""
        return Tracker(sender_id, self.domain, await self.store.load(sender_id))

    async def current(self, sender_id: str) -> Tracker:
        """The conversation as its next turn would start from it: the same state, only the latest events."""
        return self._restored(sender_id, await self.store.loading(sender_id).window())

    def _restored(self, sender_id: str, stored: StoredWindow) -> Tracker:
        base = Snapshot.from_json(stored.snapshot) if stored.snapshot is not None else None
        return Tracker(sender_id, self.domain, stored.events, offset=stored.offset, base=base)

    async def _store(self, turn: Turn, stored: StoredWindow, release: Release) -> None:
        """Append the turn's events, moving the conversation's window start when it has fallen far enough behind."""
        tracker = turn.tracker
        start = self.window.next_start(tracker) if turn.new_events else None
        moved = NewWindow(start, tracker.snapshot_at(start).to_json()) if start is not None else None
        await self.store.append(tracker.sender_id, stored.event_count, turn.new_events, also=release, window=moved)

    async def close(self) -> None:
        await self.custom_actions.close()

    def _start_session_if_needed(self, turn: Turn) -> None:
        # A stored conversation's window always holds its latest events (bot.engine.window keeps some).
        events = turn.tracker.events
        last = events[-1].get("timestamp") if events else None
        limit = self.domain.session_expiration_minutes * 60
        expired = limit > 0 and isinstance(last, int | float) and self.clock() - last > limit
        if turn.tracker.event_count == 0 or expired:
            now = self.clock()
            turn.add(action_event("action_session_start", now))
            turn.add(SessionStarted(timestamp=now))
            turn.add(action_event(ACTION_LISTEN, now))

    async def _understand(self, turn: Turn, text: str, metadata: dict[str, Any]) -> None:
        parsed = self.interpreter.parse(text)
        if parsed.is_fallback:
            self.metrics.fell_back()
        parse_data = parsed.as_parse_data()
        turn.add(self._user_event(text, parse_data["intent"], metadata, parse_data))
        for event in fill_slots_from_message(self.domain, turn.tracker, self.clock):
            turn.add(event)
        await self._validate_slot_mappings(turn)

    async def _validate_slot_mappings(self, turn: Turn) -> None:
        if VALIDATE_SLOT_MAPPINGS not in self.domain.custom_actions:
            return
        try:
            events, _ = await self.runner.run(VALIDATE_SLOT_MAPPINGS, turn.tracker)
        except Exception as error:  # the slots it fills only shape wording: the turn goes on without them
            logger.error("%s failed: %s", VALIDATE_SLOT_MAPPINGS, type(error).__name__)
            return
        for event in events:
            turn.add(dict(event))

    def _user_event(
        self, text: str, intent: dict[str, Any], metadata: dict[str, Any], parse_data: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        parse = dict(parse_data or {"intent": intent, "entities": [], "text": text, "intent_ranking": []})
        parse["metadata"] = metadata
        conversation = metadata.get("conversation")
        surface = conversation.get("surface") if isinstance(conversation, dict) else None
        event: dict[str, Any] = UserUttered(text, parse, timestamp=self.clock(), input_channel=surface)
        # Rasa 3.6 stores the message id and metadata with the message; rasa-sdk's UserUttered takes neither.
        return {**event, "message_id": None, "metadata": metadata}

    async def _act(self, turn: Turn) -> None:
        tracker = turn.tracker
        for _ in range(MAX_ACTIONS_PER_TURN):
            # Let the loop serve what waits (a Slack acknowledgement has 3 s, and on SQLite, whose statements run
            # on this thread, a turn would otherwise hold the loop from its first statement to its last).
            await asyncio.sleep(0)
            prediction = self.policy.predict(tracker)
            action = prediction.action
            logger.debug("next action %s (%s)", action, prediction.source)
            if action == ACTION_LISTEN:
                turn.add(action_event(ACTION_LISTEN, self.clock()))
                return
            try:
                if action in self.domain.forms:
                    outcome = await self.forms.run(action, tracker)
                    events, messages = outcome.events, outcome.messages
                else:
                    events, messages = await self.runner.run(action, tracker)
            except FormRejected:
                turn.add(ActionExecutionRejected(action, timestamp=self.clock()))
                continue
            except Exception as error:  # a failing action must not lose the conversation
                logger.error("action %s failed: %s", action, type(error).__name__)
                logger.debug("action %s failed", action, exc_info=error)
                self._say_error(turn)
                turn.add(action_event(ACTION_LISTEN, self.clock()))
                return
            turn.add(action_event(action, self.clock()))
            for event in events:
                turn.add(dict(event))
            if reference := tracker.slots.get(REQUEST_SLOT):
                request_id.set(str(reference))  # filed (or named) by this action: the turn's next lines carry it
            for message in messages:
                turn.add(self._bot_event(message))
                turn.messages.append(message)
        logger.error("more than %d actions in one turn; stopping", MAX_ACTIONS_PER_TURN)
        turn.add(action_event(ACTION_LISTEN, self.clock()))

    def _say_error(self, turn: Turn) -> None:
        if ERROR_RESPONSE in self.domain.responses:
            message = render(ERROR_RESPONSE, self.domain.responses[ERROR_RESPONSE], turn.tracker.slots, {})
            turn.add(self._bot_event(message))
            turn.messages.append(message)

    def _bot_event(self, message: BotMessage) -> dict[str, Any]:
        metadata = {"utter_action": message.response} if message.response else {}
        event: dict[str, Any] = BotUttered(message.text, message.as_event_data(), metadata, timestamp=self.clock())
        return event


def form_instance(stored: Tracker) -> str | None:
    """The key of the form instance a turn starting from `stored` fills: one request per key.

    A form instance is named by where it started in the conversation: the event that activated the form that is
    active, or, when none is, the position this turn starts at (it may start and finish a form at once). Both are
    the same whenever the same turn runs again from the same stored conversation, which is what happens when a
    turn failed before it was stored and the person sends their answer again, or the turn is run again after a
    crash. The first event's timestamp tells a conversation from one deleted and started again under its id.
    A conversation with nothing stored has no key yet (the Slack delivery's key covers its first turn).
    Positions count from the conversation's first event, whether or not `stored` holds it (the activation of the
    active form it does hold, see bot.engine.window).
    """
    events, offset = stored.events, stored.offset
    if stored.event_count == 0:
        return None
    position = stored.event_count
    if stored.loop_name is not None:
        position = next(
            (
                offset + index
                for index in range(len(events) - 1, -1, -1)
                if events[index].get("event") == "active_loop" and events[index].get("name") == stored.loop_name
            ),
            position,
        )
    return f"form:{stored.sender_id}:{stored.first_timestamp}:{position}"
