"""Alerts held for the digest: late news waits for the next digest (`held`), and one that a
later event of its scheme superseded before then is kept, never raised (`superseded`, with
the later event's id). Every alert already stored was raised.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 16:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
# Written beside 0005 (occurred_on); when both are merged this revises 0005.
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="raised")
        )
        batch_op.add_column(sa.Column("superseded_by", sa.String(length=36), nullable=True))
        batch_op.create_index("ix_alert_scheme_status", ["scheme_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_scheme_status")
        batch_op.drop_column("superseded_by")
        batch_op.drop_column("status")
