"""Slack requests coming in: signature checks, receipts, the inbox of conversation turns, the workers running them."""
