"""The Slack surfaces: a slack-bolt AsyncApp, its listeners grouped by surface, and Block Kit rendering."""
