"""The SQLite dialect: :class:`SQLiteStorage` and its SQL files (``queries.sql``,
numbered migrations). Importing it imports ``sqlite3``."""

from activejob.storage.sql.sqlite.storage import SQLiteStorage

__all__ = ["SQLiteStorage"]
