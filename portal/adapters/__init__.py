"""SQLAlchemy 2 async persistence for the portal's entities."""
