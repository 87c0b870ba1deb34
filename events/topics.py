"""Topic names. Scheme events are keyed by scheme id (UTF-8) so each scheme stays in order.

A deployment prefixes every name (`CAPITAL_KAFKA_TOPIC_PREFIX`), so several can share a
cluster. `CHANNELS` says, for each topic, what travels on it and who writes and reads it:
the AsyncAPI document (`events.asyncapi`) is generated from it.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEME_EVENTS = "capital.scheme-events"
STATE_CHANGES = "capital.scheme-state-changes"
ALERTS = "capital.alerts"
DEAD_LETTERS = "capital.dead-letters"

ALL_TOPICS = (SCHEME_EVENTS, STATE_CHANGES, ALERTS, DEAD_LETTERS)

SCHEME_ID_KEY = "The scheme id, UTF-8: every message about one scheme is on one partition."


@dataclass(frozen=True)
class Channel:
    topic: str
    message: str
    """The message's name in `events.schema.MESSAGES`."""
    key: str | None
    """What the Kafka key holds; None for an empty key."""
    publishers: dict[str, str]
    """Who sends: a service (or `edge`, `other systems`) and what makes it send."""
    consumers: dict[str, str]
    description: str


CHANNELS = (
    Channel(
        SCHEME_EVENTS,
        "envelope",
        SCHEME_ID_KEY,
        publishers={
            "edge": "`capital publish`, `capital log`, `capital import-register` and the "
            "HTTP API, after validating and stamping actor and recorded_at.",
            "other systems": "Any producer that writes valid envelopes.",
        },
        consumers={"tracker": "Applies each event once (by event_id) to the scheme's state."},
        description="Scheme events: what happened on a scheme, one envelope per message.",
    ),
    Channel(
        STATE_CHANGES,
        "state-change",
        SCHEME_ID_KEY,
        publishers={"tracker": "One message per applied event, re-sent after a crash."},
        consumers={"notifier": "Raises alerts from the change (slippage, RAG, budget)."},
        description="A scheme's state and RAG before and after each applied event.",
    ),
    Channel(
        ALERTS,
        "alert",
        SCHEME_ID_KEY,
        publishers={"notifier": "Each alert once per dedup_key; a replay repeats the id."},
        consumers={"other systems": "Dashboards and ticketing that act on alerts."},
        description="Alerts about schemes: slippage, overdue, RAG worsening, budget.",
    ),
    Channel(
        DEAD_LETTERS,
        "dead-letter",
        None,
        publishers={
            "tracker": "A scheme event it refused.",
            "notifier": "A state change it could not read.",
        },
        consumers={"operators": "Read and replay refused messages after a fix."},
        description="Messages a consumer refused, with the reason and the original bytes.",
    ),
)
