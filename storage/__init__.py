"""Storage: the SQLite database, its migrations and the repositories that hold every query."""

from storage.db import Database

__all__ = ["Database"]
