"""The Slack process's start-up heap is frozen before serving: full collections no longer walk it."""

from __future__ import annotations

import gc
import weakref

from bot.slack.app import freeze_startup_heap


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_start_up_garbage_is_collected_and_the_rest_is_frozen() -> None:
    garbage = Node()
    garbage.other = Node()
    garbage.other.other = garbage  # a cycle: only the collector frees it
    gone = weakref.ref(garbage)
    del garbage
    kept = [Node() for _ in range(1000)]
    try:
        freeze_startup_heap()
        assert gone() is None  # collected first, not kept for good
        assert gc.get_freeze_count() >= len(kept)
        # what a full collection still walks: a small part of the process's objects
        assert len(gc.get_objects()) < gc.get_freeze_count() / 10
    finally:
        gc.unfreeze()
