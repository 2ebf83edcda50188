"""Photos customers send of a charger's label: fetched from Slack with the bot token, read, and confirmed."""
