"""What a person reads: the email parts and the webhook bodies for Teams and Slack."""

from __future__ import annotations

import json

import pytest

from events import AlertRaised
from programme.rag import RagPolicy
from services.notifier.delivery import DeliveryFailed, Outgoing
from services.notifier.delivery.email import SmtpNotifier
from services.notifier.delivery.webhook import WebhookNotifier, signature
from services.notifier.rules import alerts_for_change
from services.notifier.settings import SmtpSettings, WebhookSettings
from services.notifier.vault import AddressVault
from tests.unit.notifier.scenarios import RAISED_AT, cype_018, last_change


def cype_018_slip(reason: str = "Asbestos found in the old kitchen ceiling void") -> AlertRaised:
    [alert] = alerts_for_change(
        last_change(*cype_018(reason), today="2022-10-14"), RAISED_AT, RagPolicy()
    )
    return alert


def email_parts(alert: AlertRaised) -> tuple[str, str, str]:
    message = SmtpNotifier(SmtpSettings(sender="capital@council.gov.uk")).compose(
        Outgoing("alert:1:abc", "head@council.gov.uk", alert)
    )
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return str(message["Subject"]), text, html


def test_the_email_says_what_slipped_by_how_much_why_and_who_logged_it() -> None:
    subject, text, html = email_parts(cype_018_slip())

    assert subject == "[RED] CYPE-018 slipped 70 days: new completion 6 Jan 2023"
    for part in (text, html):
        assert "Previous anticipated completion" in part and "28 Oct 2022" in part
        assert "6 Jan 2023" in part
        assert "70" in part
        assert "green → red" in part
        assert "Asbestos found in the old kitchen ceiling void" in part
        assert "estates.pm" in part


def test_text_people_typed_is_escaped_in_the_html_email() -> None:
    _, text, html = email_parts(cype_018_slip(reason="<script>alert(1)</script> & more"))

    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<script>alert(1)</script> & more" in text


def test_the_email_message_id_is_the_same_for_every_retry_of_a_delivery() -> None:
    notifier = SmtpNotifier(SmtpSettings(sender="capital@council.gov.uk"))
    outgoing = Outgoing("alert:1:abc", "head@council.gov.uk", cype_018_slip())

    first, retry = notifier.compose(outgoing), notifier.compose(outgoing)

    assert first["Message-ID"] == retry["Message-ID"]
    assert str(first["Message-ID"]).endswith("@council.gov.uk>")


def webhook_body(alert: AlertRaised, **settings: object) -> dict:
    notifier = WebhookNotifier(WebhookSettings.model_validate(settings), AddressVault(None))
    return json.loads(notifier.body(alert))


def test_the_default_webhook_body_has_text_for_people_and_the_alert_for_machines() -> None:
    body = webhook_body(cype_018_slip())

    assert body["text"].startswith("[RED] CYPE-018 slipped 70 days")
    assert body["alert"]["kind"] == "slippage"
    assert body["alert"]["details"]["slippage_days"] == 70


def test_the_slack_body_uses_blocks_and_escapes_what_slack_would_read_as_markup() -> None:
    body = webhook_body(cype_018_slip(reason="<!channel> look"), format="slack")

    assert body["text"] == "[RED] CYPE-018 slipped 70 days: new completion 6 Jan 2023"
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "section"]
    assert "<!channel>" not in json.dumps(body)
    assert len(body["blocks"][2]["fields"]) <= 10


def test_the_teams_body_is_a_message_card_with_facts_and_the_severity_colour() -> None:
    body = webhook_body(cype_018_slip(), format="teams")

    assert body["@type"] == "MessageCard"
    assert body["themeColor"] == "B3261E"
    facts = {f["name"]: f["value"] for f in body["sections"][0]["facts"]}
    assert facts["Programme RAG"] == "green → red"


def test_a_deployment_can_supply_its_own_json_template() -> None:
    template = '{"title": {{ subject|tojson }}, "scheme": {{ alert.scheme_id|tojson }}}'

    body = webhook_body(cype_018_slip(), template=template)

    assert body == {
        "title": "[RED] CYPE-018 slipped 70 days: new completion 6 Jan 2023",
        "scheme": "CYPE-018",
    }


def test_a_template_that_does_not_render_json_fails_permanently_saying_why() -> None:
    notifier = WebhookNotifier(WebhookSettings(template="{{ subject }}"), AddressVault(None))

    with pytest.raises(DeliveryFailed, match="did not render JSON") as failure:
        notifier.body(cype_018_slip())

    assert failure.value.permanent


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    # Computed independently: printf '1700000000.{}' | openssl dgst -sha256 -hmac key
    expected = "9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"

    assert signature("key", "1700000000", b"{}") == f"sha256={expected}"
