"""delete_workspace (app_uninstalled, tokens_revoked): everything of that workspace goes, nothing else."""

from __future__ import annotations

from pydantic import SecretStr
from sqlalchemy import func, select

from bot.store import (
    AuditOutcome,
    ChannelSettings,
    PhiDisplay,
    Store,
    UploadMode,
    WorkspaceRef,
    WorkspaceSettings,
)
from bot.store.schema import SentInstanceRow
from tests.store.test_slack_oauth import installation

LEAVING = WorkspaceRef(None, "T0001")
STAYING = WorkspaceRef(None, "T0002")
ORG = WorkspaceRef("E0001", None, is_enterprise_install=True)
GRID_TEAM = WorkspaceRef("E0001", "T0003")
USER_UUID = "5e55e55e-0000-4000-8000-000000000001"


async def populate(store: Store, workspace: WorkspaceRef) -> str:
    """Give a workspace one of everything; return its upload job's id."""
    await store.connections.save(
        workspace,
        api_key=SecretStr("k"),
        account_key=SecretStr("a"),
        router_url="https://r",
        connected_by="U0A",
    )
    await store.workspace_settings.save(workspace, WorkspaceSettings(phi_display=PhiDisplay.FULL))
    await store.channel_settings.save(workspace, "C0ER", ChannelSettings(upload_mode=UploadMode.AUTO))
    await store.user_links.link(workspace, "U0A", USER_UUID)
    await store.audit.record(
        workspace, action="workspace.connect", outcome=AuditOutcome.SUCCEEDED, slack_user_id="U0A"
    )
    job = (await store.upload_jobs.enqueue(workspace, "F0001", channel_id="C0ER")).job
    await store.upload_jobs.record_sent(job.id, ["1.2.3.4"])
    assert store.installations is not None
    await store.installations.async_save(
        installation(
            enterprise_id=workspace.enterprise_id,
            team_id=workspace.team_id,
            org_wide=workspace.is_enterprise_install,
            suffix=workspace.key,
        )
    )
    return job.id


async def assert_populated(store: Store, workspace: WorkspaceRef, job_id: str) -> None:
    assert await store.connections.get(workspace) is not None
    assert await store.workspace_settings.get(workspace) == WorkspaceSettings(phi_display=PhiDisplay.FULL)
    assert await store.channel_settings.configured(workspace) == {
        "C0ER": ChannelSettings(upload_mode=UploadMode.AUTO)
    }
    assert await store.user_links.get(workspace, "U0A") is not None
    assert await store.upload_jobs.get(job_id) is not None
    assert await store.upload_jobs.sent_instances(job_id) == {"1.2.3.4"}
    assert store.installations is not None
    found = await store.installations.async_find_installation(
        enterprise_id=workspace.enterprise_id,
        team_id=workspace.team_id,
        is_enterprise_install=workspace.is_enterprise_install,
    )
    assert found is not None
    assert found.bot_token is not None
    assert found.bot_token.endswith(workspace.key)


async def assert_forgotten(store: Store, workspace: WorkspaceRef, job_id: str) -> None:
    assert await store.connections.get(workspace) is None
    assert await store.workspace_settings.get(workspace) == WorkspaceSettings()
    assert await store.channel_settings.configured(workspace) == {}
    assert await store.user_links.all(workspace) == []
    assert await store.upload_jobs.get(job_id) is None
    assert store.installations is not None
    assert (
        await store.installations.async_find_installation(
            enterprise_id=workspace.enterprise_id,
            team_id=workspace.team_id,
            is_enterprise_install=workspace.is_enterprise_install,
        )
        is None
    )
    assert (
        await store.installations.async_find_bot(
            enterprise_id=workspace.enterprise_id,
            team_id=workspace.team_id,
            is_enterprise_install=workspace.is_enterprise_install,
        )
        is None
    )


async def test_deleting_a_workspace_removes_all_of_it_and_nothing_else(store: Store) -> None:
    leaving_job = await populate(store, LEAVING)
    staying_job = await populate(store, STAYING)
    await store.delete_workspace(LEAVING)
    await assert_forgotten(store, LEAVING, leaving_job)
    await assert_populated(store, STAYING, staying_job)
    async with store.database.transaction() as session:
        sent = await session.scalar(select(func.count()).select_from(SentInstanceRow))
    assert sent == 1  # the leaving job's record went with it


async def test_the_audit_log_outlives_the_install(store: Store) -> None:
    await populate(store, LEAVING)
    await store.delete_workspace(LEAVING)
    assert [entry.action for entry in await store.audit.recent(LEAVING)] == ["workspace.connect"]


async def test_deleting_an_org_wide_install_leaves_a_separately_installed_team_of_the_grid(
    store: Store,
) -> None:
    org_job = await populate(store, ORG)
    team_job = await populate(store, GRID_TEAM)
    await store.delete_workspace(WorkspaceRef("E0001", "T0777", is_enterprise_install=True))
    await assert_forgotten(store, ORG, org_job)
    await assert_populated(store, GRID_TEAM, team_job)


async def test_deleting_an_unknown_workspace_is_harmless(store: Store) -> None:
    staying_job = await populate(store, STAYING)
    await store.delete_workspace(LEAVING)
    await assert_populated(store, STAYING, staying_job)
