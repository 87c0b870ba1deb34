"""Email through an SMTP relay (smtplib): implicit TLS or STARTTLS and login from settings,
a plain-text part and an HTML part, and a subject line a busy person can triage."""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from events import AlertRaised
from services.notifier.delivery import DeliveryFailed, Outgoing
from services.notifier.delivery.render import html, plain_text, subject_of
from services.notifier.settings import SmtpSettings


class SmtpNotifier:
    channel = "email"
    shared_endpoint = True

    def __init__(self, settings: SmtpSettings, portal_url: str | None = None) -> None:
        self._settings = settings
        # Only a relay that refuses a Message-ID it has seen makes a blind re-send safe.
        self.drops_duplicates = settings.checks_message_id
        # Where the portal is: each alert links to its scheme's page there.
        self._portal_url = portal_url

    def send(self, outgoing: Outgoing) -> None:
        message = self.compose(outgoing)
        try:
            with self._connect() as smtp:
                if self._settings.username and self._settings.password is not None:
                    smtp.login(self._settings.username, self._settings.password.get_secret_value())
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            # 5xx: the relay will never take this address, a person must fix it; 4xx (a
            # full mailbox, greylisting) may pass later.
            codes = [code for code, _ in error.recipients.values()]
            raise DeliveryFailed(
                f"recipient refused: {_replies(error.recipients)}",
                permanent=all(code >= 500 for code in codes),
            ) from None
        except smtplib.SMTPDataError as error:
            raise DeliveryFailed(
                f"message refused: {error.smtp_code} {_text(error.smtp_error)}",
                permanent=500 <= error.smtp_code < 600,
            ) from None
        except smtplib.SMTPResponseException as error:
            # Authentication or sender refused: a settings problem; keep it queued so it
            # goes once the settings are fixed.
            raise DeliveryFailed(
                f"SMTP {error.smtp_code} {_text(error.smtp_error)}", endpoint_down=True
            ) from None
        except (OSError, smtplib.SMTPException) as error:
            where = f"{self._settings.host}:{self._settings.port}"
            raise DeliveryFailed(
                f"SMTP server {where} unavailable: {error!r}", endpoint_down=True
            ) from None

    def compose(self, outgoing: Outgoing) -> EmailMessage:
        content = outgoing.content
        message = EmailMessage()
        message["From"] = self._settings.sender
        message["To"] = outgoing.address
        message["Subject"] = subject_of(content)
        message["Date"] = formatdate(localtime=False, usegmt=True)
        # Stable per delivery, so a mail system can drop a duplicate re-send.
        digest = hashlib.sha256(outgoing.delivery_key.encode("utf-8")).hexdigest()[:32]
        domain = self._settings.sender.rpartition("@")[2] or "capital-tracker"
        message["Message-ID"] = f"<{digest}@{domain}>"
        if isinstance(content, AlertRaised):
            message["X-Capital-Alert-Id"] = str(content.alert_id)
            message["X-Capital-Severity"] = content.severity.value
            message["X-Capital-Scheme"] = content.scheme_id
        message.set_content(plain_text(content, self._portal_url))
        message.add_alternative(html(content, self._portal_url), subtype="html")
        return message

    def _connect(self) -> smtplib.SMTP:
        settings = self._settings
        context = ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file else None
        )
        if settings.ssl:
            return smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout_s, context=context
            )
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s)
        if settings.starttls:
            try:
                smtp.starttls(context=context)
            except BaseException:
                smtp.close()
                raise
        return smtp


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", errors="replace") if isinstance(reply, bytes) else reply


def _replies(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{who}: {code} {_text(reply)}" for who, (code, reply) in refused.items())
