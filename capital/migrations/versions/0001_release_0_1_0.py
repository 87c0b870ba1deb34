"""The schema of release 0.1.0, exactly as its `create_all` made it: a database written by
that release is stamped here and upgraded from here, keeping its data.

Constraints are unnamed, as they were: PostgreSQL names them `<table>_<columns>_key` and
`<table>_pkey`; SQLite keeps no names (drop one there with `batch_alter_table` and a
`naming_convention` giving those same names).

Revision ID: 0001
Revises:
Create Date: 2026-11-30 13:39:06.421680
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("alert_id", sa.String(length=36), nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("scheme_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("cause_event_id", sa.String(length=36), nullable=True),
        sa.Column("actor", sa.String(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("acknowledged_by", sa.String(), nullable=True),
        sa.Column("alert_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("alert_id"),
        sa.UniqueConstraint("dedup_key"),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_raised_at"), ["raised_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_scheme_id"), ["scheme_id"], unique=False)

    op.create_table(
        "alert_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("alert_id", sa.String(length=36), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("recipient_hash", sa.String(length=64), nullable=False),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("claim_token", sa.String(length=80), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("digest_until", sa.DateTime(timezone=False), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("delivery_key"),
    )
    with op.batch_alter_table("alert_delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_delivery_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index("ix_alert_delivery_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_alert_delivery_recipient_hash"), ["recipient_hash"], unique=False
        )

    op.create_table(
        "alert_delivery_requeue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("previous_status", sa.String(length=16), nullable=False),
        sa.Column("previous_error", sa.Text(), nullable=True),
        sa.Column("requeued_by", sa.Text(), nullable=False),
        sa.Column("requeued_at", sa.DateTime(timezone=False), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alert_delivery_requeue", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_delivery_requeue_delivery_id"), ["delivery_id"], unique=False
        )

    op.create_table(
        "dead_letter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=True),
        sa.Column("scheme_id", sa.String(), nullable=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("raw_base64", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dead_letter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dead_letter_event_id"), ["event_id"], unique=False)

    op.create_table(
        "funding_movement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.String(length=64), nullable=False),
        sa.Column("funding_source", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=15, scale=2), nullable=False),
        sa.Column("approved_on", sa.Date(), nullable=True),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("funding_movement", schema=None) as batch_op:
        batch_op.create_index(
            "ix_funding_movement_asof", ["recorded_on", "funding_source"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_funding_movement_scheme_id"), ["scheme_id"], unique=False
        )
        batch_op.create_index(
            "ix_funding_movement_scheme_source",
            ["scheme_id", "funding_source", "recorded_on", "kind", "seq", "amount"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_funding_movement_seq"), ["seq"], unique=False)

    op.create_table(
        "scheme",
        sa.Column("scheme_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("programme", sa.String(), nullable=True),
        sa.Column("project_manager", sa.String(), nullable=True),
        sa.Column("public_sensitivity", sa.String(), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("baseline_completion", sa.Date(), nullable=True),
        sa.Column("anticipated_completion", sa.Date(), nullable=True),
        sa.Column("actual_completion", sa.Date(), nullable=True),
        sa.Column("original_budget", sa.Numeric(precision=15, scale=2), nullable=False),
        sa.Column("budget", sa.Numeric(precision=15, scale=2), nullable=False),
        sa.Column("forecast_outturn", sa.Numeric(precision=15, scale=2), nullable=False),
        sa.Column("open_snags", sa.Integer(), nullable=False),
        sa.Column("completion_revisions", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("state_json", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scheme_id"),
    )
    with op.batch_alter_table("scheme", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scheme_status"), ["status"], unique=False)

    op.create_table(
        "scheme_event",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("scheme_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(), nullable=True),
        sa.Column("envelope_json", sa.Text(), nullable=False),
        sa.Column("state_change_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("scheme_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scheme_event_recorded_on"), ["recorded_on"], unique=False
        )
        batch_op.create_index("ix_scheme_event_scheme_seq", ["scheme_id", "seq"], unique=False)

    op.create_table(
        "scheme_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("baseline_completion", sa.Date(), nullable=True),
        sa.Column("anticipated_completion", sa.Date(), nullable=True),
        sa.Column("actual_completion", sa.Date(), nullable=True),
        sa.Column("budget", sa.Numeric(precision=15, scale=2), nullable=False),
        sa.Column("forecast_outturn", sa.Numeric(precision=15, scale=2), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scheme_id", "seq"),
    )
    with op.batch_alter_table("scheme_version", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scheme_version_asof", ["scheme_id", "recorded_on", "seq"], unique=False
        )
        batch_op.create_index(
            "ix_scheme_version_type",
            ["event_type", "scheme_id", "seq", "recorded_on", "budget", "forecast_outturn"],
            unique=False,
        )

    op.create_table(
        "subscriber",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_hash", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("min_severity", sa.String(length=16), nullable=False),
        sa.Column("schemes_json", sa.Text(), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("created_by", sa.String(), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("removed_by", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("recipient_hash"),
    )
    op.create_table(
        "sweep_run",
        sa.Column("run_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claim_token", sa.String(length=80), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=False), nullable=True),
        sa.Column("overdue_raised", sa.Integer(), nullable=False),
        sa.Column("digests_queued", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("run_on"),
    )
    op.create_table(
        "user_account",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("roles", sa.String(), nullable=False),
        sa.Column("added_by", sa.String(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("user_account")
    op.drop_table("sweep_run")
    op.drop_table("subscriber")
    with op.batch_alter_table("scheme_version", schema=None) as batch_op:
        batch_op.drop_index("ix_scheme_version_type")
        batch_op.drop_index("ix_scheme_version_asof")

    op.drop_table("scheme_version")
    with op.batch_alter_table("scheme_event", schema=None) as batch_op:
        batch_op.drop_index("ix_scheme_event_scheme_seq")
        batch_op.drop_index(batch_op.f("ix_scheme_event_recorded_on"))

    op.drop_table("scheme_event")
    with op.batch_alter_table("scheme", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheme_status"))

    op.drop_table("scheme")
    with op.batch_alter_table("funding_movement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_funding_movement_seq"))
        batch_op.drop_index("ix_funding_movement_scheme_source")
        batch_op.drop_index(batch_op.f("ix_funding_movement_scheme_id"))
        batch_op.drop_index("ix_funding_movement_asof")

    op.drop_table("funding_movement")
    with op.batch_alter_table("dead_letter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dead_letter_event_id"))

    op.drop_table("dead_letter")
    with op.batch_alter_table("alert_delivery_requeue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_delivery_requeue_delivery_id"))

    op.drop_table("alert_delivery_requeue")
    with op.batch_alter_table("alert_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_delivery_recipient_hash"))
        batch_op.drop_index("ix_alert_delivery_due")
        batch_op.drop_index(batch_op.f("ix_alert_delivery_alert_id"))

    op.drop_table("alert_delivery")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_scheme_id"))
        batch_op.drop_index(batch_op.f("ix_alert_raised_at"))

    op.drop_table("alert")
