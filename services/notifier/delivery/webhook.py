"""Webhooks (httpx): a JSON POST that Teams and Slack incoming webhooks accept, from a
preset (`generic`, `slack`, `teams`) or a Jinja2 template of the deployment's own.

With `hmac_secret` set, each POST carries

    X-Capital-Timestamp: <unix seconds>
    X-Capital-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body bytes>">

so a receiver can check the sender and refuse an old request replayed later. Every POST
also carries `Idempotency-Key` (and the same value as `X-Capital-Delivery`), stable across
retries, for receivers that de-duplicate: a webhook whose outcome a crash left unknown is
sent again with the same key (see `outbox.py`).

The URL arrives sealed (`vault.py`) and is opened here, at the moment of posting; one that
cannot be opened (a changed key, a webhook gone from the settings) is a failed delivery
saying why, and is never written anywhere in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
from jinja2 import Environment, StrictUndefined, TemplateError

from events import AlertRaised
from services.notifier.delivery import Content, DeliveryFailed, Outgoing
from services.notifier.delivery.render import (
    colour_of,
    facts,
    plain_text,
    scheme_page,
    subject_of,
)
from services.notifier.digest import Digest
from services.notifier.settings import WebhookSettings
from services.notifier.subscriptions import masked
from services.notifier.vault import AddressVault, CannotOpen

TIMESTAMP_HEADER = "X-Capital-Timestamp"
DELIVERY_HEADER = "X-Capital-Delivery"
# The name receivers that de-duplicate usually look for (IETF httpapi draft); same value.
IDEMPOTENCY_HEADER = "Idempotency-Key"
# Worth retrying: the receiver is busy, rate-limiting or failing, not refusing the request.
_RETRYABLE_STATUSES = {408, 425, 429}


class _MaskedInHttpxLogs(logging.Filter):
    """httpx logs every request with its full URL (`HTTP Request: POST <url> ...`, at
    INFO): a webhook's URL would take its token into the logs. The URLs this process has
    posted to are shown masked there instead."""

    def __init__(self) -> None:
        super().__init__()
        self.posted: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.posted and isinstance(record.args, tuple):
            record.args = tuple(
                masked("webhook", str(arg)) if str(arg) in self.posted else arg
                for arg in record.args
            )
        return True


_HTTPX_LOGS = _MaskedInHttpxLogs()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, "sha256")
    return f"sha256={mac.hexdigest()}"


class WebhookNotifier:
    channel = "webhook"
    shared_endpoint = False
    # Every POST carries its delivery's idempotency key: a receiver drops a repeat.
    drops_duplicates = True

    def __init__(
        self,
        settings: WebhookSettings,
        vault: AddressVault,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        portal_url: str | None = None,
    ) -> None:
        self._settings = settings
        self._vault = vault
        logging.getLogger("httpx").addFilter(_HTTPX_LOGS)  # once: filters are a set
        self._portal_url = portal_url
        self._client = client  # made on first use: most processes never post a webhook
        self._clock = clock
        self._template = (
            Environment(undefined=StrictUndefined, autoescape=False).from_string(settings.template)
            if settings.template
            else None
        )

    def body(self, content: Content) -> bytes:
        preset = _PRESETS[self._settings.format]
        payload = self._custom(content) if self._template else preset(content, self._portal_url)
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def send(self, outgoing: Outgoing) -> None:
        body = self.body(outgoing.content)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "capital-tracker-notifier",
        }
        headers[DELIVERY_HEADER] = headers[IDEMPOTENCY_HEADER] = hashlib.sha256(
            outgoing.delivery_key.encode("utf-8")
        ).hexdigest()
        if self._settings.hmac_secret is not None:
            timestamp = str(int(self._clock()))
            headers[TIMESTAMP_HEADER] = timestamp
            headers[self._settings.signature_header] = signature(
                self._settings.hmac_secret.get_secret_value(), timestamp, body
            )
        try:
            url = self._vault.open(outgoing.address)
        except CannotOpen as error:
            # It will not open by itself: failed and listed, sent again with `outbox retry`
            # once the key (or the setting) is back.
            raise DeliveryFailed(f"webhook not sent: {error}", permanent=True) from None
        where = masked("webhook", url)
        _HTTPX_LOGS.posted.add(str(httpx.URL(url)))
        if self._client is None:
            self._client = httpx.Client(timeout=self._settings.timeout_s, follow_redirects=False)
        try:
            response = self._client.post(url, content=body, headers=headers)
        except httpx.TransportError as error:
            # Timeouts and refused connections alike: the endpoint may come back.
            raise DeliveryFailed(
                f"webhook {where} unreachable: {type(error).__name__}", endpoint_down=True
            ) from None
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            # Their messages may quote the URL: say only what kind of error it was.
            raise DeliveryFailed(
                f"webhook {where} refused by the HTTP client: {type(error).__name__}",
                permanent=True,
            ) from None
        if response.is_success:
            return
        status = response.status_code
        reason = f"webhook {where} answered {status}: {response.text[:200]}"
        transient = status >= 500 or status in _RETRYABLE_STATUSES
        raise DeliveryFailed(reason, permanent=not transient, endpoint_down=transient)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def _custom(self, content: Content) -> Any:
        assert self._template is not None
        context = {
            "alert": content if isinstance(content, AlertRaised) else None,
            "digest": content if isinstance(content, Digest) else None,
            "subject": subject_of(content),
            "text": plain_text(content, self._portal_url),
            "facts": facts(content) if isinstance(content, AlertRaised) else [],
            "scheme_url": (
                scheme_page(self._portal_url, content.scheme_id)
                if isinstance(content, AlertRaised)
                else None
            ),
            "colour": colour_of(content),
        }
        try:
            return json.loads(self._template.render(context))
        except (TemplateError, ValueError) as error:
            # A broken template never heals by itself: fail permanently and say why.
            raise DeliveryFailed(
                f"webhook template did not render JSON: {error}", permanent=True
            ) from None


def generic(content: Content, portal_url: str | None = None) -> dict[str, Any]:
    """`text` for Slack and Teams, and the whole alert or digest for machines."""
    if isinstance(content, AlertRaised):
        return {
            "text": plain_text(content, portal_url),
            "alert": content.model_dump(mode="json"),
            "scheme_url": scheme_page(portal_url, content.scheme_id),
        }
    return {"text": plain_text(content, portal_url), "digest": content.model_dump(mode="json")}


def slack(content: Content, portal_url: str | None = None) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": subject_of(content)[:150]}},
    ]
    if isinstance(content, AlertRaised):
        text = _slack_escaped(content.message)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
        # Slack shows at most ten fields in a section.
        shown = facts(content)[:10]
        fields = [{"type": "mrkdwn", "text": f"*{k}*\n{_slack_escaped(v)}"} for k, v in shown]
        blocks.append({"type": "section", "fields": fields})
        url = scheme_page(portal_url, content.scheme_id)
        if url:
            link = f"<{url}|Open {_slack_escaped(content.scheme_id)}>"
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": link}})
    else:
        text = _slack_escaped(plain_text(content, portal_url))[:3000]
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    return {"text": subject_of(content), "blocks": blocks}


def _slack_escaped(text: str) -> str:
    """Slack reads <...> as links and mentions; people's text must not become one."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def teams(content: Content, portal_url: str | None = None) -> dict[str, Any]:
    card: dict[str, Any] = {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": subject_of(content),
        "themeColor": colour_of(content).lstrip("#"),
        "title": subject_of(content),
    }
    if isinstance(content, AlertRaised):
        card["text"] = content.message
        card["sections"] = [{"facts": [{"name": k, "value": v} for k, v in facts(content)]}]
        url = scheme_page(portal_url, content.scheme_id)
        if url:
            card["potentialAction"] = [
                {
                    "@type": "OpenUri",
                    "name": f"Open {content.scheme_id}",
                    "targets": [{"os": "default", "uri": url}],
                }
            ]
    else:
        card["text"] = plain_text(content, portal_url).replace("\n", "  \n")
    return card


_PRESETS: dict[str, Callable[[Content, str | None], dict[str, Any]]] = {
    "generic": generic,
    "slack": slack,
    "teams": teams,
}
