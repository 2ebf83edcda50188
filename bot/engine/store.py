"""Conversation trackers in the database, so that a restart loses no conversation.

A tracker is the list of Rasa-format events of one conversation (`{"event": "user", "text": …}`,
`{"event": "slot", "name": …, "value": …}`, …). Events are only ever appended, a turn at a time, and every append
states how many events its author had loaded: if another process extended the conversation meanwhile, the append
is refused with `ConcurrentTurn` and nothing is written, so two processes can never interleave their turns.

A turn loads a *window* of its conversation (`TrackerLoad.window`): the snapshot of the tracker's state at the
window start and the events from there on (bot.engine.window says where it starts and why). An append may move the
window start forward, storing the snapshot there in the same statement that claims the conversation. Every event
stays stored; `load` returns them all.

The store keeps the JSON of recently used conversations' windows in memory (a bounded LRU) so that a turn does not
read and decode its events again: a load reads only the conversation's version (its event count, creation time and
window start) and uses the copy in memory when that is unchanged. Another process may have appended or deleted
meanwhile; the version tells, and the append's compare-and-set refuses stale writers in any case.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cachetools import LRUCache
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.engine.tables import conversation_events, conversations


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ConcurrentTurn(Exception):
    """Another process appended to the conversation after this one loaded it; nothing was written.

    The caller should load the tracker again and redo its turn on top of it.
    """

    def __init__(self, sender_id: str) -> None:
        super().__init__(f"conversation {sender_id!r} changed while a turn was being processed")
        self.sender_id = sender_id


WINDOW_READS = 3  # a window read again after a deletion raced it, before the turn gives up (ConcurrentTurn)

DEFAULT_CACHE_BYTES = 1 << 18
"""JSON kept in memory across conversations: 256 KiB holds the conversations in flight (some 80 of 3 turns, 20 of
10), which is what saves reads; a 1 MiB budget cost 2 MB of resident memory in bench.scale_bench, whose 200 MB
target leaves no room for it."""


@dataclass(frozen=True)
class Version:
    """What identifies a stored conversation's events: appends raise the count, a re-creation the timestamp."""

    event_count: int
    created_at: datetime
    window_start: int = 0


@dataclass(frozen=True)
class StoredWindow:
    """The conversation from `offset` on: the tracker's state before it (`snapshot`, None at 0) and the events."""

    offset: int
    snapshot: dict[str, Any] | None
    events: list[dict[str, Any]]

    @property
    def event_count(self) -> int:
        return self.offset + len(self.events)


@dataclass(frozen=True)
class NewWindow:
    """Where the conversation's next loads start (a position an append leaves in place), and the state there."""

    start: int
    snapshot: dict[str, Any]


@dataclass
class Reads:
    """Events the store has handed out since it was made: read from the database, or decoded from memory.

    Counted so that a test can tell that a turn reads as many events in a long conversation as in a short one.
    """

    from_database: int = 0
    from_memory: int = 0

    @property
    def total(self) -> int:
        return self.from_database + self.from_memory


@dataclass
class _Cached:
    version: Version
    snapshot: str | None  # the snapshot's JSON at `version.window_start`, as stored
    texts: list[str]  # each event's JSON from `version.window_start` on, as stored
    size: int  # characters in `snapshot` and `texts`


class _Cache:
    """The events' JSON of recently used conversations, least recently used dropped first beyond `budget`."""

    def __init__(self, budget: int) -> None:
        # Sized by characters of JSON, not by entries: one long conversation weighs as much as many short ones.
        self._entries: LRUCache[str, _Cached] = LRUCache(maxsize=budget, getsizeof=lambda entry: entry.size)

    @property
    def size(self) -> int:
        return int(self._entries.currsize)

    def get(self, sender_id: str, version: Version) -> _Cached | None:
        entry = self._entries.get(sender_id)
        if entry is None or entry.version != version:
            return None
        return entry

    def put(self, sender_id: str, version: Version, snapshot: str | None, texts: list[str]) -> None:
        self.drop(sender_id)
        size = len(snapshot or "") + sum(len(text) for text in texts)
        if size <= self._entries.maxsize:  # larger than the whole budget: not kept
            self._entries[sender_id] = _Cached(version, snapshot, texts, size)

    def extend(
        self, sender_id: str, expected: int, new_count: int, texts: list[str], window: tuple[int, str] | None
    ) -> None:
        """Add an append's events to a conversation cached at `expected` events; forget it if it was not.

        `window` is the new window start and its snapshot's JSON, if the append moved it.
        """
        entry = self._entries.get(sender_id)
        if entry is None or entry.version.event_count != expected:
            self.drop(sender_id)
            return
        start, snapshot, kept = entry.version.window_start, entry.snapshot, entry.texts + texts
        if window is not None:
            kept = kept[window[0] - start :]
            start, snapshot = window
        self.put(sender_id, Version(new_count, entry.version.created_at, start), snapshot, kept)

    def drop(self, sender_id: str) -> None:
        self._entries.pop(sender_id, None)


class TrackerLoad:
    """One load of a conversation in two steps, so that the first can join a transaction of the caller's.

    `check` reads the conversation's version on the caller's connection (the engine does it in the transaction
    that takes the conversation's lease, saving one of its own); `window` (what a turn needs) or `events` (all of
    them) then returns the events, from memory when they are unchanged, and reads them from the database otherwise.
    """

    def __init__(self, store: TrackerStore, sender_id: str) -> None:
        self._store = store
        self.sender_id = sender_id
        self._version: Version | None = None
        self._checked = False

    async def check(self, conn: AsyncConnection) -> None:
        row = (
            await conn.execute(
                select(conversations.c.event_count, conversations.c.created_at, conversations.c.window_start).where(
                    conversations.c.sender_id == self.sender_id
                )
            )
        ).one_or_none()
        self._version = (
            Version(int(row.event_count), row.created_at, int(row.window_start)) if row is not None else None
        )
        self._checked = True

    async def window(self) -> StoredWindow:
        """The conversation from its window start on, with the snapshot there; nothing for one never stored."""
        cached = await self._cached()
        if cached is None and self._version is None:
            return StoredWindow(0, None, [])
        if cached is None:
            return await self._store._load_window(self.sender_id)
        return StoredWindow(
            cached.version.window_start,
            json.loads(cached.snapshot) if cached.snapshot is not None else None,
            self._store._from_memory(cached.texts),
        )

    async def events(self) -> list[dict[str, Any]]:
        """All events of the conversation in order; `[]` for a conversation never stored."""
        cached = await self._cached()
        if cached is not None and cached.version.window_start == 0:
            return self._store._from_memory(cached.texts)
        if self._version is None:
            return []
        return await self._store._load_all(self.sender_id, self._version)

    async def _cached(self) -> _Cached | None:
        store, sender_id = self._store, self.sender_id
        if not self._checked:
            async with store.engine.connect() as conn:
                await self.check(conn)
        if self._version is None:
            store._cache.drop(sender_id)
            return None
        return store._cache.get(sender_id, self._version)


class TrackerStore:
    """Append-only storage of conversation events.

    Each method is one transaction on its own connection, so one store can serve many concurrent conversations.
    `cache_bytes` bounds the JSON kept in memory (0 keeps none).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Callable[[], datetime] = _utc_now,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._cache = _Cache(cache_bytes)
        self.reads = Reads()

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    def _from_memory(self, texts: list[str]) -> list[dict[str, Any]]:
        self.reads.from_memory += len(texts)
        # Decoding our own copy gives each caller fresh events, exactly as a read from the database would.
        decoded: list[dict[str, Any]] = json.loads("[" + ",".join(texts) + "]")
        return decoded

    async def load(self, sender_id: str) -> list[dict[str, Any]]:
        """All events of the conversation in order; `[]` for a conversation never stored."""
        return await self.loading(sender_id).events()

    def loading(self, sender_id: str) -> TrackerLoad:
        """A load whose version check can run in a transaction of the caller's (see `TrackerLoad`)."""
        return TrackerLoad(self, sender_id)

    async def _load_all(self, sender_id: str, version: Version) -> list[dict[str, Any]]:
        query = (
            select(conversation_events.c.event)
            .where(conversation_events.c.sender_id == sender_id)
            .order_by(conversation_events.c.seq)
        )
        async with self._engine.connect() as conn:
            rows = await conn.execute(query)
            events = [dict(event) for event in rows.scalars()]
        self.reads.from_database += len(events)
        if version.window_start > 0:
            return events  # what is kept in memory is the window, which this read does not change
        # Only a copy known to match the version is kept: without a lease another process may have appended
        # between the version check and this read.
        if len(events) == version.event_count:
            self._cache.put(sender_id, version, None, [json.dumps(event) for event in events])
        else:
            self._cache.drop(sender_id)
        return events

    async def _load_window(self, sender_id: str) -> StoredWindow:
        """The window as stored now, read from the database (and kept in memory)."""
        for _ in range(WINDOW_READS):
            async with self._engine.connect() as conn:
                row = (
                    await conn.execute(
                        select(
                            conversations.c.event_count,
                            conversations.c.created_at,
                            conversations.c.window_start,
                            conversations.c.snapshot,
                        ).where(conversations.c.sender_id == sender_id)
                    )
                ).one_or_none()
                if row is None:
                    self._cache.drop(sender_id)
                    return StoredWindow(0, None, [])
                version = Version(int(row.event_count), row.created_at, int(row.window_start))
                # Events are only ever appended, so the ones below the count just read are those of the row: a
                # later append adds none there. Only a deletion meanwhile (and a new conversation under the same
                # id) can make them disagree, which the count of rows tells.
                rows = await conn.execute(
                    select(conversation_events.c.event)
                    .where(
                        conversation_events.c.sender_id == sender_id,
                        conversation_events.c.seq >= version.window_start,
                        conversation_events.c.seq < version.event_count,
                    )
                    .order_by(conversation_events.c.seq)
                )
                events = [dict(event) for event in rows.scalars()]
            self.reads.from_database += len(events)
            if len(events) == version.event_count - version.window_start:
                snapshot = dict(row.snapshot) if row.snapshot is not None else None
                snapshot_text = json.dumps(snapshot) if snapshot is not None else None
                self._cache.put(sender_id, version, snapshot_text, [json.dumps(event) for event in events])
                return StoredWindow(version.window_start, snapshot, events)
        self._cache.drop(sender_id)
        raise ConcurrentTurn(sender_id)

    async def append(
        self,
        sender_id: str,
        expected_count: int,
        events: Sequence[dict[str, Any]],
        *,
        also: Callable[[AsyncConnection], Awaitable[None]] | None = None,
        window: NewWindow | None = None,
    ) -> int:
        """Store `events` after the first `expected_count` events of the conversation; return the new count.

        Everything happens in one transaction. If the stored conversation does not have exactly `expected_count`
        events any more (or, for `expected_count == 0`, another process created it first), raises
        `ConcurrentTurn` and writes nothing. Events must be JSON values (timestamps as floats, never datetimes);
        anything else raises `ValueError` before the database is touched. `also`, if given, runs last in the same
        transaction (the engine releases its conversation lease there, saving a transaction per turn); it does
        not run when the append is refused. `window`, if given, moves the conversation's window start (see
        `window`) to a position up to the new count, with the snapshot of the state there; it is stored with the
        events, so it needs some.
        """
        if expected_count < 0:
            raise ValueError(f"expected_count must be >= 0, not {expected_count}")
        texts = [_json_text(event, f"event {offset}") for offset, event in enumerate(events)]
        moved: tuple[int, str] | None = None
        if window is not None:
            if not events or not 0 < window.start <= expected_count + len(events):
                raise ValueError(f"window start {window.start} is not a position this append can move to")
            moved = (window.start, _json_text(window.snapshot, "the snapshot"))
        rows = [
            {"sender_id": sender_id, "seq": expected_count + offset, "event": dict(event)}
            for offset, event in enumerate(events)
        ]
        new_count = expected_count + len(rows)
        now = self._clock()
        try:
            created_at = await self._append(sender_id, expected_count, new_count, rows, now, also, window)
        except BaseException:
            self._cache.drop(sender_id)  # refused, or unknown whether it committed: read it again next time
            raise
        if created_at is not None:  # this append created the conversation: its whole JSON is `texts`
            start, snapshot = moved or (0, None)
            self._cache.put(sender_id, Version(new_count, created_at, start), snapshot, texts[start:])
        elif rows:
            self._cache.extend(sender_id, expected_count, new_count, texts, moved)
        return new_count

    async def _append(
        self,
        sender_id: str,
        expected_count: int,
        new_count: int,
        rows: list[dict[str, Any]],
        now: datetime,
        also: Callable[[AsyncConnection], Awaitable[None]] | None,
        window: NewWindow | None,
    ) -> datetime | None:
        """The append's transaction; the creation time of the conversation if this append created it."""
        created_at: datetime | None = None
        # The window moves in the statement that claims the conversation: with the events, or not at all.
        moved = {"window_start": window.start, "snapshot": window.snapshot} if window is not None else {}
        async with self._engine.begin() as conn:
            if not rows:
                # Nothing to write, but the caller still learns whether its view of the conversation is current.
                if await self._stored_count(conn, sender_id) != expected_count:
                    raise ConcurrentTurn(sender_id)
                if also is not None:
                    await also(conn)
                return None
            try:
                # The compare-and-set on event_count is what serializes turns: PostgreSQL makes a concurrent
                # UPDATE of the row wait and then re-check the WHERE against the winner's committed count, and
                # SQLite runs whole transactions one after the other (BEGIN IMMEDIATE).
                claimed = await conn.execute(
                    update(conversations)
                    .where(conversations.c.sender_id == sender_id, conversations.c.event_count == expected_count)
                    .values(event_count=new_count, updated_at=now, **moved)
                )
                if claimed.rowcount != 1:
                    if expected_count > 0:
                        raise ConcurrentTurn(sender_id)
                    # A first turn: there is no row to compare against yet, so creating it is the claim. Of two
                    # processes inserting it at once the primary key admits one; the other gets IntegrityError.
                    await conn.execute(
                        insert(conversations).values(
                            sender_id=sender_id, event_count=new_count, created_at=now, updated_at=now, **moved
                        )
                    )
                    created_at = now
                # The unique (sender_id, seq) constraint is a second line of defence: even a writer that skipped
                # the claim above could not store a position twice.
                await conn.execute(insert(conversation_events), rows)
                if also is not None:
                    await also(conn)
            except IntegrityError as error:
                # Leaving the `begin()` block with an exception rolls everything back: nothing of this turn stays.
                raise ConcurrentTurn(sender_id) from error
        return created_at

    async def delete(self, sender_id: str) -> None:
        """Forget the conversation and all its events; nothing happens if it was never stored."""
        self._cache.drop(sender_id)
        async with self._engine.begin() as conn:
            # Events first, explicitly, rather than relying on ON DELETE CASCADE: SQLite enforces foreign keys
            # only on connections that enabled them, and an engine configured elsewhere might not have.
            await conn.execute(delete(conversation_events).where(conversation_events.c.sender_id == sender_id))
            await conn.execute(delete(conversations).where(conversations.c.sender_id == sender_id))

    async def count(self) -> int:
        """The number of stored conversations."""
        async with self._engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(conversations)) or 0)

    @staticmethod
    async def _stored_count(conn: AsyncConnection, sender_id: str) -> int:
        stored = await conn.scalar(select(conversations.c.event_count).where(conversations.c.sender_id == sender_id))
        return int(stored or 0)


def _json_text(event: Mapping[str, Any], label: str) -> str:
    """The event's JSON, which also checks that the event survives JSON unchanged in kind.

    The check runs here, before any SQL, so that a bad event fails the same way on both databases: a datetime
    would otherwise fail only inside the driver, and NaN would be stored by SQLite but refused by PostgreSQL.
    """
    if not isinstance(event, Mapping):
        raise ValueError(f"{label} is a {type(event).__name__}, not a dict")
    try:
        return json.dumps(event, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{label} ({event.get('event')!r}) is not plain JSON: {error}") from error
