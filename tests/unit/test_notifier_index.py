"""The notifier is a package by family of events; its two handler tables stay the one index of who hears what, and
what was imported from `bot.slack.egress.notifier` before the split still is."""

from __future__ import annotations

import inspect

from bot.slack.egress import notifier

FAMILIES = {"accounts", "consent", "faults", "relay", "requests", "sla"}


def test_what_was_imported_from_the_notifier_still_is() -> None:
    for name in ("Notifier", "HomeView", "BATCH", "EVENT_HANDLERS", "REQUEST_HANDLERS", "thread_note", "filed_note"):
        assert hasattr(notifier, name), name
    assert inspect.iscoroutinefunction(notifier.Notifier.run_once)


def test_every_handler_in_the_tables_comes_from_a_family_module() -> None:
    handlers: list[object] = [*notifier.EVENT_HANDLERS.values()]
    handlers += [h for chain in notifier.REQUEST_HANDLERS.values() for h in chain]
    homes = set()
    for handler in handlers:
        module = inspect.getmodule(handler)
        assert module is not None and module.__name__.startswith(f"{notifier.__name__}.")
        homes.add(module.__name__.rpartition(".")[2])
    assert homes == FAMILIES  # every family is reached from the tables, and nothing else is
    assert all(inspect.iscoroutinefunction(h) for h in handlers)


def test_a_request_filed_is_announced_in_the_order_that_remembers_its_thread_first() -> None:
    # The thread is remembered before the filed note invites replies in it (requests.remember_request_thread).
    opened = [h.__name__ for h in notifier.REQUEST_HANDLERS["request.opened"]]
    assert opened == ["remember_request_thread", "triage", "filed_note_in_thread", "receipt", "ask_consent_to_transfer"]
