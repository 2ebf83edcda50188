"""The Slack surfaces: a slack-bolt AsyncApp, laid out by idea.

- ``app.py``, ``serve.py``, ``work.py``, ``background.py``: composition — the app and its services, `chargedesk run`
  (HTTP or Socket Mode), `chargedesk work` (one turn worker), and what `run` does besides answering Slack.
- ``listeners/``: thin bolt listeners grouped by surface, one callback per action id, each module a `register(app, …)`.
- ``ingress/``: requests coming in — signature checks, receipts, the inbox of conversation turns, the workers and
  consumer that take them, and running a turn (`conversations.py`, `turns.py`).
- ``egress/``: messages going out — outbox events to deliveries (`notifier/`, a module per family of events), the
  rate-limited queue and sender (`delivery.py`), and the retries of replies someone is waiting for (`retries.py`).
- ``people/``: who is who — the identity resolver (`identity.py`), who may be told about an account
  (`registry.py`), and the support agents (`agents.py`).
- ``messages/``: Block Kit — replies, triage cards, consent DMs, decision and form modals, /support answers, App Home.
- ``tables.py``: the delivery queue's tables.
"""
