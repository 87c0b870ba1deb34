"""The SQL projection: written by the tracker, read by every other part of the product.

- `scheme`: each scheme's current state (columns for queries, the full state as JSON).
- `scheme_event`: every applied event in the order applied. Its unique `event_id` is the
  processed-events record, written in the same transaction as the state change, which is
  what makes at-least-once delivery idempotent.
- `scheme_version`: the figures after each event, with both its dates (occurred, recorded),
  so reports of a position on both time axes aggregate in SQL.
- `funding_movement`: budget by funding source over time (approvals and changes).
- `dead_letter`: everything refused in a stream, with the reason and the original bytes.
- `reference_name`: the deployment's funding sources and programmes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Column, Index, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

MONEY = Numeric(15, 2)


class Scheme(SQLModel, table=True):
    scheme_id: str = Field(primary_key=True, max_length=64)
    title: str
    status: str = Field(index=True)
    programme: str | None = None
    project_manager: str | None = None
    public_sensitivity: str = "low"
    registered_on: dt.date
    baseline_completion: dt.date | None = None
    anticipated_completion: dt.date | None = None
    actual_completion: dt.date | None = None
    original_budget: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    budget: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    forecast_outturn: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    open_snags: int = 0
    completion_revisions: int = 0
    last_seq: int = 0
    state_json: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: dt.datetime


class SchemeEvent(SQLModel, table=True):
    __tablename__ = "scheme_event"
    __table_args__ = (Index("ix_scheme_event_scheme_seq", "scheme_id", "seq"),)

    seq: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, max_length=36)
    scheme_id: str = Field(max_length=64)
    type: str
    occurred_on: dt.date
    recorded_at: dt.datetime
    recorded_on: dt.date = Field(index=True)
    actor: str | None = None
    envelope_json: str = Field(sa_column=Column(Text, nullable=False))
    state_change_json: str = Field(sa_column=Column(Text, nullable=False))


class SchemeVersion(SQLModel, table=True):
    __tablename__ = "scheme_version"
    __table_args__ = (
        UniqueConstraint("scheme_id", "seq"),
        Index("ix_scheme_version_asof", "scheme_id", "recorded_on", "seq"),
        # Budget by source reads each scheme's registration and latest forecast revision
        # in a position (as at, as known on) from this index alone, never the table.
        Index(
            "ix_scheme_version_type",
            "event_type",
            "scheme_id",
            "seq",
            "recorded_on",
            "occurred_on",
            "budget",
            "forecast_outturn",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    scheme_id: str = Field(max_length=64)
    seq: int
    # The event that produced these figures, and its two dates: a report of a position
    # takes a scheme's forecast from its latest forecast.revised that had occurred by the
    # as-at date and been recorded by the known-on date.
    event_type: str = Field(max_length=40)
    occurred_on: dt.date
    recorded_on: dt.date
    status: str
    baseline_completion: dt.date | None = None
    anticipated_completion: dt.date | None = None
    actual_completion: dt.date | None = None
    budget: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    forecast_outturn: Decimal = Field(sa_column=Column(MONEY, nullable=False))


class FundingMovement(SQLModel, table=True):
    __tablename__ = "funding_movement"
    __table_args__ = (
        Index("ix_funding_movement_asof", "recorded_on", "funding_source"),
        # Covers budget by source: per scheme and source, what stood in a position.
        Index(
            "ix_funding_movement_scheme_source",
            "scheme_id",
            "funding_source",
            "recorded_on",
            "occurred_on",
            "kind",
            "seq",
            "amount",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(index=True)
    scheme_id: str = Field(max_length=64, index=True)
    funding_source: str
    kind: str  # "approved" at registration, "change" (budget.changed), "transfer"
    amount: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    approved_on: dt.date | None = None
    occurred_on: dt.date
    recorded_on: dt.date


class DeadLetter(SQLModel, table=True):
    __tablename__ = "dead_letter"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str | None = Field(default=None, index=True, max_length=36)
    scheme_id: str | None = None
    source: str
    reason: str = Field(sa_column=Column(Text, nullable=False))
    raw: str = Field(sa_column=Column(Text, nullable=False))
    raw_base64: str = Field(sa_column=Column(Text, nullable=False))
    at: dt.datetime


class UserAccount(SQLModel, table=True):
    """A user and their roles. While no user is registered the product is open to the
    operator (the embedded demo); once one is, every write needs a user with the role."""

    __tablename__ = "user_account"

    name: str = Field(primary_key=True, max_length=128)
    roles: str  # comma-separated role names
    added_by: str
    added_at: dt.datetime
    # Argon2 hash; None for users who sign in by single sign-on or tokens only.
    password_hash: str | None = Field(default=None, max_length=255)
    # The identity provider's issuer and subject, bound at the first single sign-on.
    sso_issuer: str | None = Field(default=None, max_length=255)
    sso_subject: str | None = Field(default=None, max_length=255)


class AccessToken(SQLModel, table=True):
    """An API token or a portal session. Only a hash of the secret is kept: the token is
    shown once, when issued."""

    __tablename__ = "access_token"

    token_id: str = Field(primary_key=True, max_length=32)
    user_name: str = Field(foreign_key="user_account.name", index=True, max_length=128)
    kind: str = Field(max_length=16)  # "api" or "session"
    secret_hash: str = Field(max_length=64)
    created_by: str = Field(max_length=128)
    created_at: dt.datetime
    expires_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None


class ReferenceName(SQLModel, table=True):
    """An entry of one of the deployment's reference lists (`kind`: funding_source or
    programme). A renamed entry stays as a retired row naming its successor in
    `renamed_to`, so an event that still uses the old name is told the new one."""

    __tablename__ = "reference_name"
    __table_args__ = (UniqueConstraint("kind", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    name: str = Field(max_length=200)
    renamed_to: str | None = Field(default=None, max_length=200)
    added_by: str = Field(max_length=128)
    added_at: dt.datetime
