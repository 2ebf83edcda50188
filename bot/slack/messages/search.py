"""The agents' search: the *Search requests* button on their App Home, and the modal that finds requests by
reference, charger serial or organization and lists what it found under the search field (in the agents' language).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.slack.messages.blocks import MAX_SECTION, escape, sections
from bot.slack.messages.queue import FILED, queue_line
from bot.slack.messages.wording import ENGLISH
from portal.languages.texts import N_, Texts
from portal.services.overview import QueueItem
from portal.services.search import QUERY_MAX

SEARCH_OPEN = "agent_search_open"  # the App Home button (not "triage_…": the triage listener owns that prefix)
SEARCH_CALLBACK = "agent_search"  # the modal's callback id
SEARCH_BLOCK = "query"  # the input block (and where errors are shown)
SEARCH_BUTTON_BLOCK = "agent_search"

REFUSAL = N_("Only support agents can search requests.")
TOO_LONG = N_("Please search with at most {count} characters: a reference, a serial or part of a name.")


def search_button(t: Texts = ENGLISH) -> ActionsBlock:
    """The App Home's button that opens the search (agents only: the listener checks again)."""
    return ActionsBlock(
        block_id=SEARCH_BUTTON_BLOCK,
        elements=[ButtonElement(text=t.gettext("Search requests"), action_id=SEARCH_OPEN, value="search")],
    )


def search_view(
    t: Texts = ENGLISH,
    query: str = "",
    results: Sequence[QueueItem] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The search modal: the field (holding the last query) and, after a search, what it found, newest first."""
    field = PlainTextInputElement(
        action_id="value",
        max_length=QUERY_MAX,
        initial_value=query[:QUERY_MAX] or None,
        placeholder=t.gettext("MT-42, ACE0100002 or GreenFleet"),
    )
    blocks: list[Block] = [
        InputBlock(
            block_id=SEARCH_BLOCK,
            label=PlainTextObject(text=t.gettext("Reference, charger serial or organization")),
            element=field,
        )
    ]
    if results is not None:
        blocks.extend(_results(query, results, now or datetime.now(UTC), t))
    return View(
        type="modal",
        callback_id=SEARCH_CALLBACK,
        title=PlainTextObject(text=t.gettext("Search requests")[:24]),
        submit=PlainTextObject(text=t.gettext("Search")[:24]),
        close=PlainTextObject(text=t.gettext("Close")[:24]),
        blocks=blocks,
    ).to_dict()


def notice_view(text: str, t: Texts = ENGLISH) -> dict[str, Any]:
    """A modal that only says `text` (a refusal, or that Slack could not say who pressed)."""
    return View(
        type="modal",
        title=PlainTextObject(text=t.gettext("Search requests")[:24]),
        close=PlainTextObject(text=t.gettext("Close")[:24]),
        blocks=[SectionBlock(text=MarkdownTextObject(text=text[:MAX_SECTION]))],
    ).to_dict()


def result_line(item: QueueItem, now: datetime, t: Texts = ENGLISH) -> str:
    """• reference, kind (chargers), organization: status; age · assignee."""
    return queue_line(item, now, t, FILED)


def _results(query: str, results: Sequence[QueueItem], now: datetime, t: Texts) -> list[Block]:
    shown = escape(" ".join(query.split())[:QUERY_MAX])
    if not results:
        return [
            SectionBlock(
                text=MarkdownTextObject(
                    text=t.gettext(
                        "Nothing found for “{query}”. Try a reference (MT-42), a serial or part of an "
                        "organization's name."
                    ).format(query=shown)
                )
            )
        ]
    heading = t.ngettext(
        "{count} request found for “{query}”, newest first:",
        "{count} requests found for “{query}”, newest first:",
        len(results),
    ).format(count=len(results), query=shown)
    blocks: list[Block] = [ContextBlock(elements=[MarkdownTextObject(text=heading)])]
    blocks.extend(sections([result_line(item, now, t) for item in results]))
    blocks.append(
        ContextBlock(elements=[MarkdownTextObject(text=t.gettext("`/support status REF` shows one request in full."))])
    )
    return blocks
