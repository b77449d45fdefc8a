"""Initial schema: PostDICOM connections, settings, links, audit, upload jobs, Slack OAuth.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WORKSPACE_KEY = sa.String(80)
SLACK_ID = sa.String(32)
UUID = sa.String(64)
TIMESTAMP = sa.DateTime(timezone=True)
AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "postdicom_connections",
        sa.Column("workspace_key", WORKSPACE_KEY, nullable=False),
        sa.Column("enterprise_id", SLACK_ID, nullable=True),
        sa.Column("team_id", SLACK_ID, nullable=True),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("api_key_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("account_key_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("router_url", sa.String(500), nullable=False),
        sa.Column("acting_user_uuid", UUID, nullable=True),
        sa.Column("default_institution_uuid", UUID, nullable=True),
        sa.Column("connected_by", SLACK_ID, nullable=False),
        sa.Column("connected_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_key", name="pk_postdicom_connections"),
    )
    op.create_table(
        "workspace_settings",
        sa.Column("workspace_key", WORKSPACE_KEY, nullable=False),
        sa.Column("phi_display", sa.String(16), nullable=False),
        sa.Column("default_share_expiry_days", sa.Integer(), nullable=False),
        sa.Column("email_share_audience", sa.String(16), nullable=False),
        sa.Column("email_share_usergroup_id", SLACK_ID, nullable=True),
        sa.Column("delete_audience", sa.String(16), nullable=False),
        sa.Column("delete_usergroup_id", SLACK_ID, nullable=True),
        sa.Column("allowed_channels", sa.JSON(), nullable=False),
        sa.Column("cache_ttl_seconds", sa.Integer(), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("workspace_key", name="pk_workspace_settings"),
    )
    op.create_table(
        "channel_settings",
        sa.Column("workspace_key", WORKSPACE_KEY, nullable=False),
        sa.Column("channel_id", SLACK_ID, nullable=False),
        sa.Column("upload_mode", sa.String(8), nullable=False),
        sa.Column("target_folder_uuid", UUID, nullable=True),
        sa.Column("target_folder_path", sa.String(500), nullable=True),
        sa.Column("anonymize_by_default", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("workspace_key", "channel_id", name="pk_channel_settings"),
    )
    op.create_table(
        "user_links",
        sa.Column("workspace_key", WORKSPACE_KEY, nullable=False),
        sa.Column("slack_user_id", SLACK_ID, nullable=False),
        sa.Column("postdicom_user_uuid", UUID, nullable=False),
        sa.Column("linked_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("workspace_key", "slack_user_id", name="pk_user_links"),
    )
    op.create_index(
        "ix_user_links_workspace_key_postdicom_user_uuid",
        "user_links",
        ["workspace_key", "postdicom_user_uuid"],
    )
    op.create_table(
        "audit_log",
        sa.Column("id", AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("workspace_key", WORKSPACE_KEY, nullable=False),
        sa.Column("slack_user_id", SLACK_ID, nullable=True),
        sa.Column("channel_id", SLACK_ID, nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("order_uuids", sa.JSON(), nullable=False),
        sa.Column("folder_uuids", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_workspace_key_id", "audit_log", ["workspace_key", "id"])
    op.create_table(
        "upload_jobs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("workspace_key", WORKSPACE_KEY, nullable=False),
        sa.Column("enterprise_id", SLACK_ID, nullable=True),
        sa.Column("team_id", SLACK_ID, nullable=True),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("slack_file_id", SLACK_ID, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_expires_at", TIMESTAMP, nullable=True),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("channel_id", SLACK_ID, nullable=False),
        sa.Column("thread_ts", SLACK_ID, nullable=True),
        sa.Column("progress_message_ts", SLACK_ID, nullable=True),
        sa.Column("requested_by", SLACK_ID, nullable=True),
        sa.Column("anonymize", sa.Boolean(), nullable=False),
        sa.Column("folder_uuid", UUID, nullable=True),
        sa.Column("folder_path", sa.String(500), nullable=True),
        sa.Column("replacements_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("order_uuids", sa.JSON(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_upload_jobs"),
        sa.UniqueConstraint(
            "workspace_key", "slack_file_id", name="uq_upload_jobs_workspace_key_slack_file_id"
        ),
    )
    op.create_index("ix_upload_jobs_state_next_attempt_at", "upload_jobs", ["state", "next_attempt_at"])
    op.create_index("ix_upload_jobs_state_lease_expires_at", "upload_jobs", ["state", "lease_expires_at"])
    op.create_table(
        "upload_job_sent_instances",
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("sop_instance_uid", sa.String(64), nullable=False),
        sa.Column("sent_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["upload_jobs.id"],
            name="fk_upload_job_sent_instances_job_id_upload_jobs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "sop_instance_uid", name="pk_upload_job_sent_instances"),
    )
    _create_slack_tables()


def _create_slack_tables() -> None:
    # slack_sdk's AsyncSQLAlchemy stores, column for column, except that the token columns are TEXT:
    # they hold Fernet tokens (EncryptedInstallationStore), which are longer than the raw tokens.
    # The timestamps stay naive: slack_sdk writes naive UTC values into them.
    op.create_table(
        "slack_installations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("enterprise_id", sa.String(32), nullable=True),
        sa.Column("enterprise_name", sa.String(200), nullable=True),
        sa.Column("enterprise_url", sa.String(200), nullable=True),
        sa.Column("team_id", sa.String(32), nullable=True),
        sa.Column("team_name", sa.String(200), nullable=True),
        sa.Column("bot_token", sa.Text(), nullable=True),
        sa.Column("bot_id", sa.String(32), nullable=True),
        sa.Column("bot_user_id", sa.String(32), nullable=True),
        sa.Column("bot_scopes", sa.String(1000), nullable=True),
        sa.Column("bot_refresh_token", sa.Text(), nullable=True),
        sa.Column("bot_token_expires_at", sa.DateTime(), nullable=True),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("user_token", sa.Text(), nullable=True),
        sa.Column("user_scopes", sa.String(1000), nullable=True),
        sa.Column("user_refresh_token", sa.Text(), nullable=True),
        sa.Column("user_token_expires_at", sa.DateTime(), nullable=True),
        sa.Column("incoming_webhook_url", sa.String(200), nullable=True),
        sa.Column("incoming_webhook_channel", sa.String(200), nullable=True),
        sa.Column("incoming_webhook_channel_id", sa.String(200), nullable=True),
        sa.Column("incoming_webhook_configuration_url", sa.String(200), nullable=True),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("token_type", sa.String(32), nullable=True),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_slack_installations"),
    )
    op.create_index(
        "slack_installations_idx",
        "slack_installations",
        ["client_id", "enterprise_id", "team_id", "user_id", "installed_at"],
    )
    op.create_table(
        "slack_bots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("enterprise_id", sa.String(32), nullable=True),
        sa.Column("enterprise_name", sa.String(200), nullable=True),
        sa.Column("team_id", sa.String(32), nullable=True),
        sa.Column("team_name", sa.String(200), nullable=True),
        sa.Column("bot_token", sa.Text(), nullable=True),
        sa.Column("bot_id", sa.String(32), nullable=True),
        sa.Column("bot_user_id", sa.String(32), nullable=True),
        sa.Column("bot_scopes", sa.String(1000), nullable=True),
        sa.Column("bot_refresh_token", sa.Text(), nullable=True),
        sa.Column("bot_token_expires_at", sa.DateTime(), nullable=True),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_slack_bots"),
    )
    op.create_index("slack_bots_idx", "slack_bots", ["client_id", "enterprise_id", "team_id", "installed_at"])
    op.create_table(
        "slack_oauth_states",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("state", sa.String(200), nullable=False),
        sa.Column("expire_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_slack_oauth_states"),
    )
    op.create_index("ix_slack_oauth_states_state", "slack_oauth_states", ["state"])


def downgrade() -> None:
    """Revert this revision."""
    for table in (
        "slack_oauth_states",
        "slack_bots",
        "slack_installations",
        "upload_job_sent_instances",
        "upload_jobs",
        "audit_log",
        "user_links",
        "channel_settings",
        "workspace_settings",
        "postdicom_connections",
    ):
        op.drop_table(table)
