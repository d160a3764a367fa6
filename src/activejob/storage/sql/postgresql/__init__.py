"""The PostgreSQL dialect: :class:`PostgreSQLStorage`, its pool and LISTEN thread, and
its SQL files (``queries.sql``, numbered migrations). Importing it imports psycopg."""

from activejob.storage.sql.postgresql.storage import PostgreSQLStorage

__all__ = ["PostgreSQLStorage"]
