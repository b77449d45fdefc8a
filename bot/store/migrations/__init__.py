"""Alembic migrations for the store; run them with ``pacsbot db upgrade`` or ``Database.upgrade()``."""
