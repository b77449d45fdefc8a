"""The test-database helpers themselves: an absent PostgreSQL is a failure under CI, a loud skip elsewhere."""

from __future__ import annotations

import pytest

from tests.store import databases
from tests.store.databases import PostgresProbe


@pytest.fixture
def postgres_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        databases, "probe_postgres", lambda: PostgresProbe(False, "ConnectionRefusedError: refused")
    )


@pytest.mark.usefixtures("postgres_down")
def test_an_unreachable_postgresql_fails_the_test_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"POSTGRESQL UNREACHABLE.*refused.*CI=true"):
        databases.require_postgres()


@pytest.mark.usefixtures("postgres_down")
def test_an_unreachable_postgresql_skips_loudly_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="POSTGRESQL UNREACHABLE"):
        databases.require_postgres()


def test_a_reachable_postgresql_lets_the_test_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(databases, "probe_postgres", lambda: PostgresProbe(True, ""))
    monkeypatch.setenv("CI", "true")
    databases.require_postgres()
