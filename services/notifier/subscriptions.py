"""Who hears about what. Pure: the standard library, pydantic and `events` only.

A subscriber names a channel (email or webhook), an address, a severity threshold and
optionally the schemes they follow. Alerts at or above the threshold are sent at once;
everything else waits for their daily digest.

A webhook URL is a secret (its token is in it), so a webhook recipient never holds it in
clear: it holds the URL sealed (`Sealer.seal`, encrypted with the deployment's key) or, for
a channel from the settings, a reference to it there; a keyed fingerprint of the URL as its
identity (for look-ups, uniqueness and de-duplication keys); and the URL masked, to show.
Only the webhook sender opens the sealed URL, when it posts.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, model_validator

from events import AlertRaised, Severity

Channel = Literal["email", "webhook"]

SETTINGS_REFERENCE = "settings:"
"""How a webhook from the settings is referred to in the database: by its fingerprint."""

_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
_ROLE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def email_address(text: str) -> str:
    """A bare address (`name@council.gov.uk`), lower-cased so one person is one subscriber
    however they type it (no mail system in use treats the local part's case as
    significant); ValueError otherwise."""
    address = text.strip()
    if not _EMAIL.match(address):
        raise ValueError(f"{text!r} is not an email address (expected name@example.org)")
    return address.lower()


def webhook_url(text: str) -> str:
    url = text.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("a webhook URL starts with https:// (or http://) and names a host")
    return url


def role_name(text: str) -> str:
    role = text.strip().lower().replace("-", "_")
    if not _ROLE.match(role):
        raise ValueError(f"{text!r} is not a role name (letters, digits and _, e.g. finance)")
    return role


def masked(channel: Channel | str, address: str) -> str:
    """What may be shown or logged. A webhook URL is a secret: its token is in the path or
    the query, and it may carry `user:password@` before the host. Only the scheme, host
    and port are kept, and the last four characters as a hint."""
    if channel != "webhook":
        return address
    parts = urlsplit(address)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # IPv6
    try:
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        port = ""
    tail = address[-4:] if len(parts.path) > 8 else ""
    return f"{parts.scheme}://{host}{port}/…{tail}"


class Sealer(Protocol):
    """Keeps webhook URLs secret (the adapter is `services.notifier.vault.AddressVault`)."""

    def fingerprint(self, identity: str) -> str:
        """A keyed hash of `channel:address`: the same URL always gives the same one."""
        ...

    def seal(self, url: str) -> str:
        """The URL encrypted; ValueError (naming the setting) when there is no key."""
        ...


class Recipient(BaseModel):
    """`address` is what may be shown: the email address, or the webhook URL masked.
    `sealed` is where a webhook posts, sealed or a settings reference (None for email)."""

    # A refused value is never quoted back: it may be a webhook URL.
    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    channel: Channel
    address: str
    sealed: str | None = None
    fingerprint: str = ""
    role: str = "head_of_capital"
    min_severity: Severity = Severity.warning
    schemes: frozenset[str] = frozenset()
    digest: bool = True
    source: Literal["cli", "settings"] = "cli"
    subscriber_id: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _identified(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("fingerprint"):
            return data
        if data.get("channel") == "webhook":
            raise ValueError("a webhook recipient is made by webhook_recipient, which seals it")
        # Email addresses are not secret: their identity is a plain hash, as it always was.
        identity = f"{data.get('channel')}:{data.get('address')}"
        return {**data, "fingerprint": hashlib.sha256(identity.encode("utf-8")).hexdigest()}

    @property
    def key_hash(self) -> str:
        """Identity across settings and the database, fixed length for delivery keys."""
        return self.fingerprint

    @property
    def shown_address(self) -> str:
        return self.address

    def follows(self, scheme_id: str) -> bool:
        return not self.schemes or scheme_id in self.schemes

    def wants_now(self, alert: AlertRaised) -> bool:
        """Sent at once (rather than only in the digest)."""
        return self.follows(alert.scheme_id) and alert.severity.at_least(self.min_severity)


def webhook_recipient(url: str, sealer: Sealer, *, from_settings: bool, **fields: Any) -> Recipient:
    """A webhook recipient from its URL in clear, which it does not keep. From the settings
    it refers to them (the settings keep the secret, and need no key to); from a person it
    is sealed with the deployment's key, so a deployment without one refuses it."""
    checked = webhook_url(url)
    fingerprint = sealer.fingerprint(f"webhook:{checked}")
    return Recipient(
        channel="webhook",
        address=masked("webhook", checked),
        sealed=SETTINGS_REFERENCE + fingerprint if from_settings else sealer.seal(checked),
        fingerprint=fingerprint,
        source="settings" if from_settings else "cli",
        **fields,
    )


def fingerprints_of(text: str, sealer: Sealer) -> list[str]:
    """The identities a typed address may have: as an email address and as a webhook URL."""
    found = []
    with contextlib.suppress(ValueError):
        found.append(Recipient(channel="email", address=email_address(text)).key_hash)
    with contextlib.suppress(ValueError):
        found.append(sealer.fingerprint(f"webhook:{webhook_url(text)}"))
    return found


def merge(stored: list[Recipient], configured: list[Recipient]) -> list[Recipient]:
    """Stored subscriptions (changed with the CLI) win over settings for the same address,
    so a person can tune their own subscription without a redeploy."""
    by_key = {r.key_hash: r for r in configured}
    by_key.update({r.key_hash: r for r in stored})
    return sorted(by_key.values(), key=lambda r: (r.channel, r.address, r.key_hash))
