"""Events about people rather than requests: an account linked, a workspace to link, a person asking for a person.

- account.linked: the linked person gets a DM.
- handoff.requested: someone without a portal account (or from an unverified workspace) asked for a person; the
  triage channel gets a card with their Slack user, where they asked and the conversation so far. (People with an
  account get a handoff administrative request instead, which goes through request.opened like any request.)
- workspace.verification_requested: the triage channel gets a "Link workspace to organization" card (once per
  workspace); workspace.linked: that card says who linked it to what (in place).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slack.egress.delivery import Delivery
from bot.slack.egress.notifier.deliveries import direct_message, triage_post
from bot.slack.messages.blocks import escape
from bot.slack.messages.triage import handoff_card
from bot.slack.messages.workspaces import message_key as workspace_message_key
from bot.slack.messages.workspaces import workspace_card, workspace_linked_card
from portal.outbox import OutboxEvent as Event

if TYPE_CHECKING:  # the notifier imports its handlers, which only take it as an argument
    from bot.slack.egress.notifier import Notifier


async def account_linked(notifier: Notifier, event: Event) -> list[Delivery]:
    email = str(event.payload.get("email") or "")
    organization = event.payload.get("organization")
    users = await notifier.people.user_ids([email])
    deliveries = []
    for user_id in users.get(email, []):
        t = await notifier.texts_of(user_id)
        text = t.gettext(
            "Your support account is now linked to {organization}. You can now raise service tickets on the "
            "chargers it operates, and see them on my Home tab."
        ).format(organization=escape(str(organization or t.gettext("your organization"))))
        deliveries.append(direct_message(user_id, text, f"ev{event.id}:linked:{user_id}"))
    return deliveries


async def handoff(notifier: Notifier, event: Event) -> list[Delivery]:
    """Someone the portal cannot name asked for a person: support gets a card with where to answer them."""
    if not notifier.triage_channel:
        return []
    text, blocks = handoff_card(event.payload, notifier.agent_texts)
    return [triage_post(notifier, "chat.postMessage", text, blocks, f"ev{event.id}:handoff")]


async def workspace(notifier: Notifier, event: Event) -> list[Delivery]:
    team_id = str(event.payload.get("team_id") or "")
    if not notifier.triage_channel or not team_id:
        return []
    if event.name == "workspace.verification_requested":
        method = "chat.postMessage"
        team_name = event.payload.get("team_name")
        asked_by = event.payload.get("asked_by")
        text, blocks = workspace_card(team_id, str(team_name) if team_name else None, asked_by, notifier.agent_texts)
    elif event.name == "workspace.linked" and event.payload.get("asked"):
        method = "chat.update"
        organization, actor = str(event.payload.get("organization")), str(event.payload.get("actor"))
        text, blocks = workspace_linked_card(team_id, organization, actor, notifier.agent_texts)
    else:
        return []  # linked from the CLI, an import or the demo data: no card was ever posted
    return [triage_post(notifier, method, text, blocks, f"ev{event.id}:workspace", workspace_message_key(team_id))]
