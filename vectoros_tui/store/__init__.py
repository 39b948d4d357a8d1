"""Persistence: SQLModel tables, engine setup, Alembic migrations and services. No Textual."""
