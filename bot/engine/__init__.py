"""The embedded dialogue engine: runs conversations in-process and keeps their trackers in the database."""
