"""Webhook URLs kept secret: sealed with the deployment's key, found again by a keyed
fingerprint, opened only with the right key, and a settings webhook only while the settings
still hold it."""

from __future__ import annotations

import pytest

from services.notifier.subscriptions import webhook_recipient
from services.notifier.vault import AddressVault, CannotOpen, NoSecretKey

HOOK = "https://hooks.slack.com/services/T0/B0/tok3nOfTheChannel"


def test_a_sealed_url_opens_with_the_key_and_shows_nothing_of_its_token() -> None:
    vault = AddressVault("key-one")

    recipient = webhook_recipient(HOOK, vault, from_settings=False)

    assert recipient.address == "https://hooks.slack.com/…nnel"
    assert recipient.sealed is not None and "tok3n" not in recipient.sealed
    assert "tok3n" not in recipient.model_dump_json()
    assert vault.open(recipient.sealed) == HOOK
    # The same URL is the same subscriber however often it is sealed; another key, another.
    again = webhook_recipient(HOOK, vault, from_settings=False)
    assert again.sealed != recipient.sealed and again.key_hash == recipient.key_hash
    other = webhook_recipient(HOOK, AddressVault("key-two"), from_settings=False)
    assert other.key_hash != recipient.key_hash


def test_another_key_cannot_open_it_and_says_which_setting_to_look_at() -> None:
    sealed = AddressVault("key-one").seal(HOOK)

    with pytest.raises(CannotOpen, match=r"CAPITAL_SECRET_KEY .* is not the key it was encrypted"):
        AddressVault("key-two").open(sealed)
    with pytest.raises(CannotOpen, match="no key is set: set CAPITAL_SECRET_KEY"):
        AddressVault(None).open(sealed)


def test_without_a_key_a_url_cannot_be_sealed_but_a_settings_webhook_works() -> None:
    vault = AddressVault(None, configured_urls=[HOOK])

    with pytest.raises(NoSecretKey, match="no key is set: set CAPITAL_SECRET_KEY"):
        webhook_recipient(HOOK, vault, from_settings=False)
    channel = webhook_recipient(HOOK, vault, from_settings=True)

    assert channel.sealed == f"settings:{channel.key_hash}"
    assert vault.open(channel.sealed) == HOOK


def test_a_settings_webhook_removed_from_the_settings_is_not_opened() -> None:
    queued = webhook_recipient(HOOK, AddressVault("k", [HOOK]), from_settings=True).sealed

    with pytest.raises(CannotOpen, match="no longer in them"):
        AddressVault("k", configured_urls=[]).open(queued or "")
