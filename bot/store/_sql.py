"""SQL shared by the repositories: the INSERT … ON CONFLICT both backends spell the same way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, Result
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.dml import Insert


def _insert(dialect: str, entity: type[DeclarativeBase]) -> postgresql.Insert | sqlite.Insert:
    return sqlite.insert(entity) if dialect == "sqlite" else postgresql.insert(entity)


def upsert(
    dialect: str,
    entity: type[DeclarativeBase],
    values: Mapping[str, Any],
    *,
    key: Sequence[str],
    update: Mapping[str, Any],
) -> Insert:
    """Build an INSERT that updates ``update`` on the existing row when ``key`` already exists."""
    return (
        _insert(dialect, entity).values(dict(values)).on_conflict_do_update(index_elements=key, set_=update)
    )


def insert_or_ignore(
    dialect: str,
    entity: type[DeclarativeBase],
    rows: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    key: Sequence[str],
) -> Insert:
    """Build an INSERT of one or several rows that skips each row whose ``key`` already exists."""
    values = dict(rows) if isinstance(rows, Mapping) else [dict(row) for row in rows]
    return _insert(dialect, entity).values(values).on_conflict_do_nothing(index_elements=key)


def affected_rows(result: Result[Any]) -> int:
    """Return how many rows an UPDATE or DELETE touched."""
    # Session.execute is typed as returning Result; for DML it is a CursorResult, which counts.
    return cast(CursorResult[Any], result).rowcount
