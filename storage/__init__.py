"""Storage: the database (SQLite embedded, or PostgreSQL), its migrations and the repositories that hold every query."""

from storage.engine import Database

__all__ = ["Database"]
