"""Block Kit: what the assistant shows — replies, triage cards, consent DMs, decision and form modals, App Home."""
