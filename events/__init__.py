"""The contract between producers and services: envelope, payloads, topics, codec.

Nothing here imports from the rest of the project.
"""

from events.alerts import AlertKind, AlertRaised, Severity
from events.codec import DecodeError, decode_as, decode_envelope, encode
from events.envelope import Envelope, EventType, canonical_type, new_event
from events.payloads import Rag
from events.state import SchemeSnapshot, SchemeStateChanged, SchemeStatus

__all__ = [
    "AlertKind",
    "AlertRaised",
    "DecodeError",
    "Envelope",
    "EventType",
    "Rag",
    "SchemeSnapshot",
    "SchemeStateChanged",
    "SchemeStatus",
    "Severity",
    "canonical_type",
    "decode_as",
    "decode_envelope",
    "encode",
    "new_event",
]
