"""Topic names. Scheme events are keyed by scheme id (UTF-8) so each scheme stays in order."""

SCHEME_EVENTS = "capital.scheme-events"
STATE_CHANGES = "capital.scheme-state-changes"
ALERTS = "capital.alerts"
DEAD_LETTERS = "capital.dead-letters"

ALL_TOPICS = (SCHEME_EVENTS, STATE_CHANGES, ALERTS, DEAD_LETTERS)
