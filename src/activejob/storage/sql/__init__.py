"""SQL storages: the shared :class:`~activejob.storage.sql.base.SQLStorage` and one
package per dialect (``sqlite``, ``postgresql``) holding its module and its SQL
files. Importing this package imports no driver."""
