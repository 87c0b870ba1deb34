"""Delivery ports. The outbox hands each adapter one `Outgoing` at a time; an adapter
either returns (delivered) or raises `DeliveryFailed` saying whether trying again can help
and whether its whole endpoint looks down (so the dispatcher stops trying other
deliveries through it in the same pass instead of waiting out one timeout per message).

Adapters are named by technology (`SmtpNotifier`, `WebhookNotifier`); tests use fakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from events import AlertRaised
from services.notifier.digest import Digest

Content = AlertRaised | Digest


@dataclass(frozen=True)
class Outgoing:
    """One message to one address. `delivery_key` is stable across retries: it becomes the
    email Message-ID and the webhook `Idempotency-Key` (and `X-Capital-Delivery`) header,
    so a receiver can drop a duplicate when one whose outcome was unknown is sent again.
    `address` is an email address, or a webhook's URL still sealed: the webhook sender
    opens it."""

    delivery_key: str
    address: str
    content: Content


class DeliveryFailed(Exception):
    def __init__(self, reason: str, *, permanent: bool = False, endpoint_down: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.endpoint_down = endpoint_down


class Notifier(Protocol):
    @property
    def channel(self) -> str:
        """The subscriber channel it serves: `email` or `webhook`."""
        ...

    @property
    def shared_endpoint(self) -> bool:
        """True when every address goes through one server (an SMTP relay), so that
        server being down affects them all; False when each address is its own endpoint."""
        ...

    @property
    def drops_duplicates(self) -> bool:
        """True when the receiver drops a message whose delivery key it has had before (a
        webhook's idempotency key, a relay that checks Message-IDs): a delivery whose
        outcome is unknown may then be sent again without a person checking first."""
        ...

    def send(self, outgoing: Outgoing) -> None: ...
