"""The deployment's reference lists (funding sources and programmes), seeded with the names
the recorded events already use, so an upgraded deployment refuses only new spellings.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 13:55:02.732268
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Budget whose split between sources is unknown: a placeholder, never a source on the list.
UNALLOCATED = "Unallocated"
SEEDED_BY = "upgrade 0003"


def upgrade() -> None:
    op.create_table(
        "reference_name",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("renamed_to", sa.String(length=200), nullable=True),
        sa.Column("added_by", sa.String(length=128), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "name"),
    )
    # Plain INSERT ... SELECT, so `alembic upgrade --sql` writes it too.
    op.execute(
        sa.text(
            "INSERT INTO reference_name (kind, name, added_by, added_at) "
            "SELECT DISTINCT 'funding_source', funding_source, :by, CURRENT_TIMESTAMP "
            "FROM funding_movement WHERE funding_source <> :unallocated"
        ).bindparams(by=SEEDED_BY, unallocated=UNALLOCATED)
    )
    op.execute(
        sa.text(
            "INSERT INTO reference_name (kind, name, added_by, added_at) "
            "SELECT DISTINCT 'programme', programme, :by, CURRENT_TIMESTAMP "
            "FROM scheme WHERE programme IS NOT NULL"
        ).bindparams(by=SEEDED_BY)
    )


def downgrade() -> None:
    op.drop_table("reference_name")
