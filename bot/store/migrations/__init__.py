"""Alembic migrations of the store's schema (bot/store/models.py), applied at start-up by bot/store/migrate.py."""
