"""Channel subscriptions: standing searches, what each filter last saw, events owed, polling leases.

Also who may subscribe a channel (a workspace setting like who may delete), and the share links
the app created (so that a pasted one can be unfurled).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WORKSPACE_KEY = sa.String(80)
SLACK_ID = sa.String(32)
UUID = sa.String(64)
TIMESTAMP = sa.DateTime(timezone=True)
AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("workspace_settings") as table:
        table.add_column(
            sa.Column("subscribe_audience", sa.String(16), nullable=False, server_default="everyone")
        )
        table.add_column(sa.Column("subscribe_usergroup_id", SLACK_ID, nullable=True))
    op.create_table(
        "subscriptions",
        sa.Column("id", AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("workspace_key", WORKSPACE_KEY, nullable=False),
        sa.Column("enterprise_id", SLACK_ID, nullable=True),
        sa.Column("team_id", SLACK_ID, nullable=True),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("channel_id", SLACK_ID, nullable=False),
        sa.Column("query_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("filter_key", UUID, nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("created_by", SLACK_ID, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
    )
    op.create_index(
        "ix_subscriptions_workspace_key_channel_id", "subscriptions", ["workspace_key", "channel_id"]
    )
    op.create_index(
        "ix_subscriptions_workspace_key_filter_key", "subscriptions", ["workspace_key", "filter_key"]
    )
    op.create_table(
        "subscription_filters",
        sa.Column("workspace_key", WORKSPACE_KEY, nullable=False),
        sa.Column("filter_key", UUID, nullable=False),
        sa.Column("polled_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("workspace_key", "filter_key", name="pk_subscription_filters"),
    )
    op.create_table(
        "subscription_orders",
        sa.Column("workspace_key", WORKSPACE_KEY, nullable=False),
        sa.Column("filter_key", UUID, nullable=False),
        sa.Column("order_uuid", UUID, nullable=False),
        sa.Column("images_count", sa.Integer(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("assignees", sa.JSON(), nullable=False),
        sa.Column("seen_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("workspace_key", "filter_key", "order_uuid", name="pk_subscription_orders"),
    )
    op.create_table(
        "subscription_events",
        sa.Column("id", AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("workspace_key", WORKSPACE_KEY, nullable=False),
        sa.Column("subscription_id", AUTO_ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("order_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name="fk_subscription_events_subscription_id_subscriptions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_subscription_events"),
    )
    op.create_index("ix_subscription_events_workspace_key_id", "subscription_events", ["workspace_key", "id"])
    op.create_table(
        "subscription_leases",
        sa.Column("workspace_key", WORKSPACE_KEY, nullable=False),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("polled_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("workspace_key", name="pk_subscription_leases"),
    )
    op.create_table(
        "created_links",
        sa.Column("workspace_key", WORKSPACE_KEY, nullable=False),
        sa.Column("url_key", UUID, nullable=False),
        sa.Column("order_uuid", UUID, nullable=False),
        sa.Column("institution_uuid", UUID, nullable=True),
        sa.Column("expires_on", sa.String(10), nullable=False),
        sa.Column("can_download", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("workspace_key", "url_key", name="pk_created_links"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("created_links")
    op.drop_table("subscription_leases")
    op.drop_index("ix_subscription_events_workspace_key_id", "subscription_events")
    op.drop_table("subscription_events")
    op.drop_table("subscription_orders")
    op.drop_table("subscription_filters")
    op.drop_index("ix_subscriptions_workspace_key_filter_key", "subscriptions")
    op.drop_index("ix_subscriptions_workspace_key_channel_id", "subscriptions")
    op.drop_table("subscriptions")
    with op.batch_alter_table("workspace_settings") as table:
        table.drop_column("subscribe_usergroup_id")
        table.drop_column("subscribe_audience")
