"""WorkspaceRef: keyed like slack_sdk's installation stores."""

from __future__ import annotations

import pytest

from bot.store import WorkspaceRef


def test_a_plain_workspace_is_keyed_by_its_team() -> None:
    assert WorkspaceRef(None, "T123").key == "-:T123"


def test_a_team_of_a_grid_is_keyed_by_enterprise_and_team() -> None:
    assert WorkspaceRef("E1", "T123").key == "E1:T123"


def test_an_org_wide_install_drops_the_team() -> None:
    ref = WorkspaceRef("E1", "T123", is_enterprise_install=True)
    assert ref.team_id is None
    assert ref.key == "E1:-"
    assert ref == WorkspaceRef("E1", "T999", is_enterprise_install=True)


def test_empty_strings_mean_absent() -> None:
    assert WorkspaceRef("", "T1") == WorkspaceRef(None, "T1")


@pytest.mark.parametrize(
    ("enterprise_id", "team_id", "is_enterprise_install"),
    [(None, None, False), ("E1", None, False), (None, "T1", True), ("", "", False)],
)
def test_incomplete_refs_are_refused(
    enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool
) -> None:
    with pytest.raises(ValueError, match="needs"):
        WorkspaceRef(enterprise_id, team_id, is_enterprise_install)


def test_refs_are_hashable_values() -> None:
    assert len({WorkspaceRef(None, "T1"), WorkspaceRef(None, "T1"), WorkspaceRef(None, "T2")}) == 2
