"""Slack Connect channels are refused unless an admin allows one; interactions are claimed once.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("channel_settings") as table:
        table.add_column(
            sa.Column("external_allowed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "interaction_claims",
        sa.Column("claim_key", sa.String(64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("claim_key", name="pk_interaction_claims"),
    )
    op.create_index("ix_interaction_claims_claimed_at", "interaction_claims", ["claimed_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_interaction_claims_claimed_at", "interaction_claims")
    op.drop_table("interaction_claims")
    with op.batch_alter_table("channel_settings") as table:
        table.drop_column("external_allowed")
