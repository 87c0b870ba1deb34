"""Webhook URLs are secrets: stored encrypted, never in clear. A `sealed_address` on the
subscriber and the delivery holds a webhook's URL encrypted (or, for one from the settings,
a reference to it there); `address` keeps only what may be shown (the URL masked); and
`recipient_hash` becomes a fingerprint keyed with the deployment's secret.

The URLs release 0.1.0 stored in clear are encrypted here, with the deployment's key as the
process upgrading finds it (CAPITAL_SECRET_KEY, or a SQLite database's key file), handed in
through `config.attributes["secret_key"]`. Without a key (PostgreSQL, CAPITAL_SECRET_KEY
unset) a database holding webhook URLs is not upgraded: it would have to keep them in clear.

The keys are derived exactly as `services.notifier.vault` derives them, written out here
because a revision must not change when the product's code does.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 14:10:00
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import context, op
from alembic.util import CommandError
from cryptography.fernet import Fernet

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ENCRYPTION_PURPOSE = b"capital-tracker webhook address encryption"
_LOOKUP_PURPOSE = b"capital-tracker webhook address lookup"

_subscriber = sa.table(
    "subscriber",
    sa.column("id", sa.Integer()),
    sa.column("channel", sa.String()),
    sa.column("address", sa.Text()),
    sa.column("sealed_address", sa.Text()),
    sa.column("recipient_hash", sa.String()),
)
_delivery = sa.table(
    "alert_delivery",
    sa.column("id", sa.Integer()),
    sa.column("channel", sa.String()),
    sa.column("address", sa.Text()),
    sa.column("sealed_address", sa.Text()),
    sa.column("recipient_hash", sa.String()),
    sa.column("delivery_key", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("alert_delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed_address", sa.Text(), nullable=True))

    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed_address", sa.Text(), nullable=True))

    _seal_webhook_urls_stored_in_clear()


def downgrade() -> None:
    bind = op.get_bind()
    for table in (_subscriber, _delivery):
        webhooks = bind.execute(
            sa.select(sa.func.count()).select_from(table).where(table.c.channel == "webhook")
        ).scalar_one()
        if webhooks:
            raise CommandError(
                f"{table.name} holds {webhooks} webhook row(s): revision 0002 kept webhook "
                "URLs in clear text, so this database is not downgraded below 0003"
            )

    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.drop_column("sealed_address")

    with op.batch_alter_table("alert_delivery", schema=None) as batch_op:
        batch_op.drop_column("sealed_address")


class _Keys:
    def __init__(self, secret_key: str) -> None:
        secret = secret_key.encode("utf-8")
        derived = hmac.new(secret, _ENCRYPTION_PURPOSE, hashlib.sha256).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))
        self._lookup = hmac.new(secret, _LOOKUP_PURPOSE, hashlib.sha256).digest()

    def seal(self, url: str) -> str:
        return "fernet:" + self._fernet.encrypt(url.encode("utf-8")).decode("ascii")

    def fingerprint(self, url: str) -> str:
        return hmac.new(self._lookup, f"webhook:{url}".encode(), hashlib.sha256).hexdigest()


def _seal_webhook_urls_stored_in_clear() -> None:
    bind = op.get_bind()
    subscribers = bind.execute(
        sa.select(_subscriber.c.id, _subscriber.c.address).where(_subscriber.c.channel == "webhook")
    ).all()
    deliveries = bind.execute(
        sa.select(_delivery.c.id, _delivery.c.address, _delivery.c.delivery_key).where(
            _delivery.c.channel == "webhook"
        )
    ).all()
    if not subscribers and not deliveries:
        return
    secret_key = context.config.attributes.get("secret_key")
    if not secret_key:
        raise CommandError(
            f"the database stores {len(subscribers)} webhook subscriber(s) and "
            f"{len(deliveries)} webhook delivery(ies) with their URLs in clear text, and "
            "this release keeps them encrypted: set CAPITAL_SECRET_KEY (any long random "
            "string, the same for every process of the deployment) and upgrade again"
        )
    keys = _Keys(secret_key)
    for row_id, url in subscribers:
        bind.execute(
            _subscriber.update()
            .where(_subscriber.c.id == row_id)
            .values(
                address=_masked(url),
                sealed_address=keys.seal(url),
                recipient_hash=keys.fingerprint(url),
            )
        )
    for row_id, url, delivery_key in deliveries:
        # The delivery key ends with the recipient's hash: the new fingerprint replaces
        # the old plain hash there too, so a replay still finds the delivery queued.
        plain_hash = hashlib.sha256(f"webhook:{url}".encode()).hexdigest()
        fingerprint = keys.fingerprint(url)
        bind.execute(
            _delivery.update()
            .where(_delivery.c.id == row_id)
            .values(
                address=_masked(url),
                sealed_address=keys.seal(url),
                recipient_hash=fingerprint,
                delivery_key=delivery_key.replace(plain_hash, fingerprint),
            )
        )


def _masked(url: str) -> str:
    """What may be shown of a webhook URL: scheme, host and port, and the last four
    characters as a hint (as `services.notifier.subscriptions.masked` showed it in 0003)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        port = ""
    tail = url[-4:] if len(parts.path) > 8 else ""
    return f"{parts.scheme}://{host}{port}/…{tail}"
