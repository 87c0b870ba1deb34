"""Webhook URLs at rest: sealed with the deployment's secret key (CAPITAL_SECRET_KEY, or on
the embedded SQLite default a key file beside the database), opened only by the webhook
sender when it posts.

From the one secret two keys are derived, each for one purpose:

- an encryption key (Fernet: AES-128-CBC and HMAC-SHA256) for the URL itself, stored as
  `fernet:<token>` in `subscriber.sealed_address` and `alert_delivery.sealed_address`;
- a look-up key (HMAC-SHA256) for the URL's fingerprint in `recipient_hash`, so finding a
  subscriber by URL, one subscription per URL and de-duplication keys work without the URL.

A webhook from the settings is stored as `settings:<fingerprint>` and opened by finding the
URL in the settings again: the settings keep that secret, and need no key to.

Revision 0003 of the schema derives the same keys the same way (it may not import this
module: revisions are frozen), so changing a derivation here needs a revision too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

from cryptography.fernet import Fernet, InvalidToken

from services.notifier.subscriptions import SETTINGS_REFERENCE

FERNET_PREFIX = "fernet:"
SECRET_KEY_SETTING = "CAPITAL_SECRET_KEY"
_ENCRYPTION_PURPOSE = b"capital-tracker webhook address encryption"
_LOOKUP_PURPOSE = b"capital-tracker webhook address lookup"


class NoSecretKey(ValueError):
    """A webhook URL cannot be kept without the deployment's key."""


class CannotOpen(Exception):
    """A stored webhook address could not be opened; the reason says why and what to do."""


class AddressVault:
    def __init__(self, secret_key: str | None, configured_urls: Iterable[str] = ()) -> None:
        self._fernet: Fernet | None = None
        self._lookup: bytes | None = None
        if secret_key:
            secret = secret_key.encode("utf-8")
            derived = hmac.new(secret, _ENCRYPTION_PURPOSE, hashlib.sha256).digest()
            self._fernet = Fernet(base64.urlsafe_b64encode(derived))
            self._lookup = hmac.new(secret, _LOOKUP_PURPOSE, hashlib.sha256).digest()
        self._configured = {self.fingerprint(f"webhook:{url}"): url for url in configured_urls}

    def fingerprint(self, identity: str) -> str:
        data = identity.encode("utf-8")
        if self._lookup is None:
            # No key (PostgreSQL without CAPITAL_SECRET_KEY): only settings webhooks exist
            # there, and their URLs never reach the database, only this hash.
            return hashlib.sha256(data).hexdigest()
        return hmac.new(self._lookup, data, hashlib.sha256).hexdigest()

    def seal(self, url: str) -> str:
        if self._fernet is None:
            raise NoSecretKey(
                f"a webhook URL is a secret kept encrypted, and no key is set: set "
                f"{SECRET_KEY_SETTING} (any long random string, the same for every process "
                "of the deployment), or add the webhook to the settings "
                "(CAPITAL_NOTIFIER__WEBHOOK__URLS)"
            )
        return FERNET_PREFIX + self._fernet.encrypt(url.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        """The URL in clear, for the sender only. CannotOpen says why not."""
        if sealed.startswith(SETTINGS_REFERENCE):
            url = self._configured.get(sealed.removeprefix(SETTINGS_REFERENCE))
            if url is None:
                raise CannotOpen(
                    "this webhook came from the settings and is no longer in them "
                    "(CAPITAL_NOTIFIER__WEBHOOK__URLS or CAPITAL_NOTIFIER__SUBSCRIBERS), "
                    f"or {SECRET_KEY_SETTING} changed since it was queued"
                )
            return url
        if not sealed.startswith(FERNET_PREFIX):
            raise CannotOpen("the stored webhook address is not sealed in a known form")
        if self._fernet is None:
            raise CannotOpen(
                f"the webhook URL is stored encrypted and no key is set: set "
                f"{SECRET_KEY_SETTING} to the key it was encrypted with"
            )
        try:
            return self._fernet.decrypt(sealed.removeprefix(FERNET_PREFIX)).decode("utf-8")
        except InvalidToken:
            raise CannotOpen(
                f"the webhook URL cannot be decrypted with this deployment's key: "
                f"{SECRET_KEY_SETTING} (or the key file beside the SQLite database) is not "
                "the key it was encrypted with; restore that key, or subscribe the webhook "
                "again"
            ) from None
