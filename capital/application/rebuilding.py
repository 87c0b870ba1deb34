"""Rebuilding the projection from the event log or the scheme-events topic: the use case
behind `capital projection rebuild`."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from capital.application.principal import Operation, Principal, require
from capital.bootstrap import Container
from events import topics
from projection.rebuild import FreshTables
from services.tracker.rebuild import (
    EventSource,
    LogSource,
    RebuildRefused,
    RebuildReport,
    rebuild_projection,
)

__all__ = ["RebuildRefused", "RebuildReport", "ReplayFrom", "rebuild"]


class ReplayFrom(StrEnum):
    log = "log"
    topic = "topic"


def rebuild(
    container: Container,
    principal: Principal,
    source: ReplayFrom = ReplayFrom.log,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> RebuildReport:
    """Replay every event into fresh tables beside the live projection and swap them in.
    Readers keep the live tables until the swap; no alert is raised again."""
    require(principal, Operation.rebuild_projection)
    settings = container.settings
    events: EventSource = LogSource()
    if source is ReplayFrom.topic:
        from capital.transports.kafka_topic import TopicSource

        events = TopicSource(settings.kafka_bootstrap, settings.kafka_topic(topics.SCHEME_EVENTS))
    try:
        return rebuild_projection(
            FreshTables(container.engine),
            events,
            settings.rag,
            today=settings.current_date(),
            now=settings.local_now(),
            latest=settings.latest_recorded_at(),
            progress=progress,
        )
    finally:
        events.close()
