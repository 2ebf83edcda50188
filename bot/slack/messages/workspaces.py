"""The triage card "Link workspace to organization" and the modal where an agent picks the organization.

The card names the workspace (its id, and its name when Slack told us) and who asked, by Slack user id: never an
email, since the email is exactly what is not trusted yet.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.slack.messages.blocks import escape
from bot.slack.messages.triage import who
from bot.slack.messages.wording import ENGLISH
from portal.languages.texts import Texts

LINK_WORKSPACE = "workspace_link"  # the card's button (not "triage_…": the triage listener owns that prefix)
LINK_WORKSPACE_CALLBACK = "workspace_link"  # the modal's callback id


def message_key(team_id: str) -> str:
    return f"workspace:{team_id}"


def workspace_card(
    team_id: str, team_name: str | None, asked_by: str | None, t: Texts = ENGLISH
) -> tuple[str, list[dict[str, Any]]]:
    """The card posted when someone of an unverified workspace first asks (agents read it: `t` is theirs)."""
    name = f" ({escape(team_name)})" if team_name else ""
    asker = f"<@{escape(asked_by)}>" if asked_by else t.gettext("someone")
    text = (
        t.gettext("*Link workspace to organization*: Slack workspace `{team}`{name} is not verified.").format(
            team=escape(team_id), name=name
        )
        + "\n"
        + t.gettext(
            "{asker} asked for support from it. Until it is linked, its people see nothing of any organization. "
            "Link it only once you know which customer runs this workspace."
        ).format(asker=asker)
    )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ActionsBlock(
            block_id=f"workspace|{team_id}",
            elements=[
                ButtonElement(
                    text=t.gettext("Link workspace to organization"),
                    action_id=LINK_WORKSPACE,
                    value=team_id,
                    style="primary",
                )
            ],
        ),
    ]
    fallback = t.gettext("Link workspace {team} to an organization").format(team=team_id)
    return fallback, [b.to_dict() for b in blocks]


def workspace_linked_card(
    team_id: str, organization: str, actor: str, t: Texts = ENGLISH
) -> tuple[str, list[dict[str, Any]]]:
    """The same card once linked: who decided, no button any more."""
    text = t.gettext("*Workspace linked*: Slack workspace `{team}` now speaks for *{organization}*.").format(
        team=escape(team_id), organization=escape(organization)
    )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ContextBlock(elements=[MarkdownTextObject(text=t.gettext("Linked by {who}").format(who=who(actor)))]),
    ]
    fallback = t.gettext("Workspace {team} linked to {organization}").format(team=team_id, organization=organization)
    return fallback, [b.to_dict() for b in blocks]


def link_workspace_view(team_id: str, organizations: Sequence[str], channel: str, t: Texts = ENGLISH) -> dict[str, Any]:
    options = [Option(value=name, text=PlainTextObject(text=name[:75])) for name in organizations[:100]]
    return View(
        type="modal",
        callback_id=LINK_WORKSPACE_CALLBACK,
        title=PlainTextObject(text=t.gettext("Link workspace")[:24]),
        submit=PlainTextObject(text=t.gettext("Link")),
        close=PlainTextObject(text=t.gettext("Cancel")),
        private_metadata=json.dumps({"team_id": team_id, "channel": channel}),
        blocks=[
            InputBlock(
                block_id="organization",
                label=PlainTextObject(text=t.gettext("Link workspace {team} to").format(team=team_id[:32])),
                element=StaticSelectElement(
                    action_id="value", placeholder=t.gettext("Choose an organization"), options=options
                ),
            )
        ],
    ).to_dict()
