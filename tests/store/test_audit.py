"""Audit log: append and read back, identifiers only; there is no way to store a patient's name."""

from __future__ import annotations

import inspect

import pytest

from bot.store import AuditLog, AuditOutcome, Store, WorkspaceRef
from tests.store.conftest import MutableClock

WORKSPACE = WorkspaceRef(None, "T0001")
OTHER = WorkspaceRef(None, "T0002")
ORDER = "0f0f0f0f-1234-4abc-8def-0123456789ab"
SECOND_ORDER = "0f0f0f0f-1234-4abc-8def-0123456789ac"
FOLDER = "acc0acc0-5678-4abc-9def-0123456789ab"


async def test_record_then_read_back(store: Store, clock: MutableClock) -> None:
    entry = await store.audit.record(
        WORKSPACE,
        action="order.share",
        outcome=AuditOutcome.SUCCEEDED,
        slack_user_id="U0ALICE",
        channel_id="C0ER",
        order_uuids=[ORDER, SECOND_ORDER],
        folder_uuids=[FOLDER],
    )
    assert entry.id > 0
    assert (entry.action, entry.outcome, entry.slack_user_id, entry.channel_id) == (
        "order.share",
        AuditOutcome.SUCCEEDED,
        "U0ALICE",
        "C0ER",
    )
    assert (entry.order_uuids, entry.folder_uuids, entry.error_code, entry.created_at) == (
        (ORDER, SECOND_ORDER),
        (FOLDER,),
        None,
        clock.now,
    )
    assert await store.audit.recent(WORKSPACE) == [entry]


async def test_recent_is_newest_first_limited_and_per_workspace(store: Store, clock: MutableClock) -> None:
    for number in range(5):
        clock.advance(1)
        await store.audit.record(
            WORKSPACE,
            action=f"step.{number}",
            outcome=AuditOutcome.SUCCEEDED,
            slack_user_id="U0ALICE",
        )
    await store.audit.record(OTHER, action="order.delete", outcome=AuditOutcome.DENIED, slack_user_id="U0EVE")
    recent = await store.audit.recent(WORKSPACE, limit=3)
    assert [entry.action for entry in recent] == ["step.4", "step.3", "step.2"]
    assert [entry.action for entry in await store.audit.recent(OTHER)] == ["order.delete"]


async def test_failures_carry_an_error_code_and_system_actions_no_user(store: Store) -> None:
    entry = await store.audit.record(
        WORKSPACE,
        action="upload.dicom",
        outcome=AuditOutcome.FAILED,
        slack_user_id=None,
        order_uuids=[ORDER],
        error_code="postdicom.timeout",
    )
    assert (entry.slack_user_id, entry.outcome, entry.error_code) == (
        None,
        AuditOutcome.FAILED,
        "postdicom.timeout",
    )


def test_the_api_has_no_parameter_for_patient_data() -> None:
    parameters = set(inspect.signature(AuditLog.record).parameters)
    assert parameters == {
        "self",
        "workspace",
        "action",
        "outcome",
        "slack_user_id",
        "channel_id",
        "order_uuids",
        "folder_uuids",
        "error_code",
    }


@pytest.mark.parametrize(
    "smuggled",
    [
        {"order_uuids": ["DOE^JANE"]},
        {"order_uuids": ["Jane Doe"]},
        {"folder_uuids": ["Doe, Jane 1950-01-01"]},
        {"action": "shared Jane Doe's CT"},
        {"error_code": "Patient DOE^JANE not found"},
        {"slack_user_id": "Jane Doe"},
        {"channel_id": "doe-jane"},
    ],
)
async def test_free_text_is_refused_and_not_echoed(store: Store, smuggled: dict[str, object]) -> None:
    arguments: dict[str, object] = {
        "action": "order.flag",
        "outcome": AuditOutcome.SUCCEEDED,
        "slack_user_id": "U0ALICE",
        **smuggled,
    }
    with pytest.raises(ValueError, match="must match") as raised:
        await store.audit.record(WORKSPACE, **arguments)  # type: ignore[arg-type]
    assert "Jane" not in str(raised.value)
    assert "JANE" not in str(raised.value)
    assert await store.audit.recent(WORKSPACE) == []


async def test_a_single_string_is_not_taken_for_a_list_of_uuids(store: Store) -> None:
    with pytest.raises(TypeError):
        await store.audit.record(
            WORKSPACE,
            action="order.flag",
            outcome=AuditOutcome.SUCCEEDED,
            slack_user_id="U0A",
            order_uuids=ORDER,
        )


async def test_recent_refuses_silly_limits(store: Store) -> None:
    with pytest.raises(ValueError, match="limit"):
        await store.audit.recent(WORKSPACE, limit=0)
