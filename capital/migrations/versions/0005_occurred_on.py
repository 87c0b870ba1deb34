"""The date each version and funding movement occurred on, beside the date it was recorded,
so reports of a position on both time axes (as at, as known on) aggregate in SQL. Existing
rows take the date from the event that produced them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 16:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    "funding_movement": (
        "ix_funding_movement_scheme_source",
        ["scheme_id", "funding_source", "recorded_on", "kind", "seq", "amount"],
        ["scheme_id", "funding_source", "recorded_on", "occurred_on", "kind", "seq", "amount"],
    ),
    "scheme_version": (
        "ix_scheme_version_type",
        ["event_type", "scheme_id", "seq", "recorded_on", "budget", "forecast_outturn"],
        [
            "event_type",
            "scheme_id",
            "seq",
            "recorded_on",
            "occurred_on",
            "budget",
            "forecast_outturn",
        ],
    ),
}


def upgrade() -> None:
    for table, (index, _, after) in _INDEXES.items():
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("occurred_on", sa.Date(), nullable=True))
        # Both tables share `seq` with the event that produced the row.
        op.execute(
            f"UPDATE {table} SET occurred_on = (SELECT scheme_event.occurred_on "
            f"FROM scheme_event WHERE scheme_event.seq = {table}.seq)"
        )
        # A row without its event (the tracker never writes one) keeps the date it was
        # recorded on: the only date left to give it.
        op.execute(f"UPDATE {table} SET occurred_on = recorded_on WHERE occurred_on IS NULL")
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column("occurred_on", existing_type=sa.Date(), nullable=False)
            batch_op.drop_index(index)
            batch_op.create_index(index, after, unique=False)


def downgrade() -> None:
    for table, (index, before, _) in _INDEXES.items():
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_index(index)
            batch_op.create_index(index, before, unique=False)
            batch_op.drop_column("occurred_on")
