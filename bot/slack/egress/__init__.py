"""Slack messages going out: domain events turned into deliveries, the rate-limited sender, and retried replies."""
