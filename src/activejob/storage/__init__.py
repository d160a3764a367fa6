"""The worker side of durable backends: :mod:`activejob.storage.base` is the
interface; ``sql/`` holds the SQLite and PostgreSQL storages. Nothing here
imports a database driver."""
