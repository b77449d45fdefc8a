"""PostDICOM connections: save, read, change detection, acting user, delete, one row per workspace."""

from __future__ import annotations

from pydantic import SecretStr

from bot.store import PostDicomConnection, Store, WorkspaceRef
from tests.store.conftest import MutableClock

WORKSPACE = WorkspaceRef(None, "T0001")
OTHER = WorkspaceRef("E0001", "T0002")
ORG = WorkspaceRef("E0001", None, is_enterprise_install=True)
USER_UUID = "5e55e55e-0000-4000-8000-000000000001"
INSTITUTION_UUID = "0babe000-0000-4000-8000-000000000002"


async def _connect(
    store: Store, workspace: WorkspaceRef = WORKSPACE, api_key: str = "api-1"
) -> PostDicomConnection:
    return await store.connections.save(
        workspace,
        api_key=SecretStr(api_key),
        account_key=SecretStr(f"account-of-{api_key}"),
        router_url="https://router.example/api",
        connected_by="U0ADMIN",
    )


async def test_an_unconnected_workspace_has_no_connection(store: Store) -> None:
    assert await store.connections.get(WORKSPACE) is None
    assert await store.connections.version(WORKSPACE) is None


async def test_save_then_get_returns_the_keys_and_who_connected_when(
    store: Store, clock: MutableClock
) -> None:
    saved = await _connect(store)
    found = await store.connections.get(WORKSPACE)
    assert found == saved
    assert found is not None
    assert found.workspace == WORKSPACE
    assert found.api_key.get_secret_value() == "api-1"
    assert found.account_key.get_secret_value() == "account-of-api-1"
    assert found.router_url == "https://router.example/api"
    assert (found.connected_by, found.connected_at, found.updated_at) == ("U0ADMIN", clock.now, clock.now)
    assert (found.acting_user_uuid, found.default_institution_uuid, found.version) == (None, None, 1)


async def test_keys_never_show_in_repr(store: Store) -> None:
    connection = await _connect(store, api_key="very-secret-api-key")
    assert "very-secret-api-key" not in repr(connection)


async def test_choosing_the_acting_user_bumps_the_version(store: Store, clock: MutableClock) -> None:
    saved = await _connect(store)
    clock.advance(60)
    updated = await store.connections.set_acting_user(
        WORKSPACE, acting_user_uuid=USER_UUID, default_institution_uuid=INSTITUTION_UUID
    )
    assert updated is not None
    assert (updated.acting_user_uuid, updated.default_institution_uuid) == (USER_UUID, INSTITUTION_UUID)
    assert updated.version == 2
    assert updated.updated_at == clock.now
    assert updated.connected_at == saved.connected_at
    assert await store.connections.version(WORKSPACE) == 2
    assert updated.api_key.get_secret_value() == "api-1"


async def test_choosing_an_acting_user_without_a_connection_does_nothing(store: Store) -> None:
    assert (
        await store.connections.set_acting_user(
            WORKSPACE, acting_user_uuid=USER_UUID, default_institution_uuid=None
        )
        is None
    )
    assert await store.connections.get(WORKSPACE) is None


async def test_reconnecting_replaces_the_keys_and_forgets_the_old_acting_user(store: Store) -> None:
    await _connect(store)
    await store.connections.set_acting_user(
        WORKSPACE, acting_user_uuid=USER_UUID, default_institution_uuid=None
    )
    replaced = await _connect(store, api_key="api-2")
    assert replaced.api_key.get_secret_value() == "api-2"
    assert replaced.acting_user_uuid is None
    assert replaced.version == 3
    assert (await store.connections.get(WORKSPACE)) == replaced


async def test_a_version_check_tells_a_process_that_credentials_changed(
    store: Store, second_store: Store
) -> None:
    held = await _connect(store)
    assert await second_store.connections.version(WORKSPACE) == held.version
    await _connect(second_store, api_key="api-rotated")
    assert await store.connections.version(WORKSPACE) != held.version
    fresh = await store.connections.get(WORKSPACE)
    assert fresh is not None
    assert fresh.api_key.get_secret_value() == "api-rotated"


async def test_delete_forgets_the_connection(store: Store) -> None:
    await _connect(store)
    assert await store.connections.delete(WORKSPACE) is True
    assert await store.connections.get(WORKSPACE) is None
    assert await store.connections.delete(WORKSPACE) is False


async def test_each_workspace_has_its_own_connection(store: Store) -> None:
    await _connect(store, WORKSPACE, "api-plain")
    await _connect(store, OTHER, "api-grid-team")
    await _connect(store, ORG, "api-org")
    keys = {}
    for workspace in (WORKSPACE, OTHER, ORG):
        connection = await store.connections.get(workspace)
        assert connection is not None
        assert connection.workspace == workspace
        keys[workspace] = connection.api_key.get_secret_value()
    assert keys == {WORKSPACE: "api-plain", OTHER: "api-grid-team", ORG: "api-org"}
    # Any team of an org-wide install finds the organization's connection.
    found = await store.connections.get(WorkspaceRef("E0001", "T0777", is_enterprise_install=True))
    assert found is not None
    assert found.api_key.get_secret_value() == "api-org"
    await store.connections.delete(OTHER)
    assert await store.connections.get(WORKSPACE) is not None
