"""The schema revision this code expects (the newest migration), importable without
SQLAlchemy or Alembic: start-up compares a database with it before loading either."""

SCHEMA_HEAD = "0016"
