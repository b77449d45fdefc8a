"""Upload jobs of one share show in one Slack message: the share, the file's place in it, its part.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("upload_jobs") as table:
        table.add_column(sa.Column("share_id", sa.String(36), nullable=True))
        table.add_column(sa.Column("share_index", sa.Integer(), nullable=True))
        table.add_column(sa.Column("display_encrypted", sa.LargeBinary(), nullable=True))
    op.create_index("ix_upload_jobs_share_id", "upload_jobs", ["share_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_upload_jobs_share_id", "upload_jobs")
    with op.batch_alter_table("upload_jobs") as table:
        table.drop_column("display_encrypted")
        table.drop_column("share_index")
        table.drop_column("share_id")
