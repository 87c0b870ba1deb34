"""Who hears about what. Pure: the standard library, pydantic and `events` only.

A subscriber names a channel (email or webhook), an address, a severity threshold and
optionally the schemes they follow. Alerts at or above the threshold are sent at once;
everything else waits for their daily digest.
"""

from __future__ import annotations

import hashlib
import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from events import AlertRaised, Severity

Channel = Literal["email", "webhook"]

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


class Recipient(BaseModel):
    model_config = ConfigDict(frozen=True)

    channel: Channel
    address: str
    role: str = "head_of_capital"
    min_severity: Severity = Severity.warning
    schemes: frozenset[str] = frozenset()
    digest: bool = True
    source: Literal["cli", "settings"] = "cli"
    subscriber_id: int | None = None

    @property
    def key(self) -> str:
        """Stable identity across settings and the database: channel and address."""
        return f"{self.channel}:{self.address}"

    @property
    def key_hash(self) -> str:
        """The key, fixed length, for unique delivery keys (URLs can be long)."""
        return hashlib.sha256(self.key.encode("utf-8")).hexdigest()

    @property
    def shown_address(self) -> str:
        return masked(self.channel, self.address)

    def follows(self, scheme_id: str) -> bool:
        return not self.schemes or scheme_id in self.schemes

    def wants_now(self, alert: AlertRaised) -> bool:
        """Sent at once (rather than only in the digest)."""
        return self.follows(alert.scheme_id) and alert.severity.at_least(self.min_severity)


def merge(stored: list[Recipient], configured: list[Recipient]) -> list[Recipient]:
    """Stored subscriptions (changed with the CLI) win over settings for the same address,
    so a person can tune their own subscription without a redeploy."""
    by_key = {r.key: r for r in configured}
    by_key.update({r.key: r for r in stored})
    return sorted(by_key.values(), key=lambda r: r.key)
