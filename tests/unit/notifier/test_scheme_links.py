"""Alert emails and webhook messages link to the scheme's page in the portal."""

from __future__ import annotations

import json

import pytest

from services.notifier.delivery import Outgoing
from services.notifier.delivery.email import SmtpNotifier
from services.notifier.delivery.webhook import WebhookNotifier
from services.notifier.settings import SmtpSettings, WebhookSettings
from services.notifier.vault import AddressVault
from tests.unit.notifier.test_formats import cype_018_slip

PORTAL = "https://capital.council.gov.uk/"
PAGE = "https://capital.council.gov.uk/schemes/CYPE-018"


def test_the_alert_email_links_to_the_schemes_page() -> None:
    message = SmtpNotifier(SmtpSettings(sender="capital@council.gov.uk"), PORTAL).compose(
        Outgoing("alert:1:abc", "head@council.gov.uk", cype_018_slip())
    )

    assert f"Open the scheme: {PAGE}" in message.get_body(("plain",)).get_content()
    assert f'<a href="{PAGE}"' in message.get_body(("html",)).get_content()


def test_without_a_portal_the_email_has_no_link() -> None:
    message = SmtpNotifier(SmtpSettings(sender="capital@council.gov.uk")).compose(
        Outgoing("alert:1:abc", "head@council.gov.uk", cype_018_slip())
    )

    assert "/schemes/" not in message.get_body(("plain",)).get_content()


@pytest.mark.parametrize("preset", ["generic", "slack", "teams"])
def test_every_webhook_format_links_to_the_schemes_page(preset: str) -> None:
    notifier = WebhookNotifier(
        WebhookSettings(format=preset), AddressVault(None), portal_url=PORTAL
    )

    body = notifier.body(cype_018_slip()).decode("utf-8")

    assert PAGE in body


def test_a_custom_webhook_template_may_use_the_schemes_url() -> None:
    settings = WebhookSettings(template='{"see": {{ scheme_url|tojson }}}')

    body = json.loads(
        WebhookNotifier(settings, AddressVault(None), portal_url=PORTAL).body(cype_018_slip())
    )

    assert body == {"see": PAGE}
