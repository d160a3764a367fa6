"""The MariaDB/MySQL dialect: :class:`MySQLStorage`, its pool, and its SQL files
(``queries.sql``, numbered migrations). Importing it imports mysqlclient (``MySQLdb``)."""

from activejob.storage.sql.mysql.storage import MySQLStorage

__all__ = ["MySQLStorage"]
