"""Admins cap a share link's lifetime and name the channel that hears of a user group's assignments.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("workspace_settings") as table:
        table.add_column(sa.Column("max_share_expiry_days", sa.Integer(), nullable=True))
        table.add_column(sa.Column("group_channels", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("workspace_settings") as table:
        table.drop_column("group_channels")
        table.drop_column("max_share_expiry_days")
