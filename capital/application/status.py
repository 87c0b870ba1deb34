"""How the deployment is doing, for operators (`capital status`): how far each consumer
group is behind on Kafka, what was refused (dead letters), and what the notifier has not
delivered (the outbox)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from capital.application.principal import Operation, Principal, require
from capital.bootstrap import Container, consumer_groups
from projection.dead_letters import dead_letter_count
from projection.views import dead_letters
from services.notifier.outbox import Backlog

ALL_ROLES_GROUP = "all"
"""`capital worker all` runs both roles in one group of its own."""


@dataclass(frozen=True)
class GroupLag:
    group: str
    topic: str
    partition: int
    committed: int | None
    end: int
    lag: int


@dataclass
class Status:
    bus: str
    dead_letters: int
    latest_dead_letters: list[dict[str, Any]]
    outbox: Backlog
    lag: list[GroupLag] | None = None
    """Per group and partition on Kafka; None on the embedded bus, which has no lag."""

    @property
    def total_lag(self) -> int:
        return sum(row.lag for row in self.lag or [])


def deployment_status(container: Container, principal: Principal, latest: int = 5) -> Status:
    require(principal, Operation.view_programme)
    with container.sessions() as session:
        count = dead_letter_count(session)
        recent = [row.model_dump() for row in dead_letters(session, latest)]
    status = Status(container.settings.bus, count, recent, container.notifier.outbox.backlog())
    if container.settings.bus == "kafka":
        status.lag = consumer_lag(container)
    return status


def consumer_lag(container: Container) -> list[GroupLag]:
    """Committed against end offsets for the tracker and notifier groups (and the group of
    `capital worker all`, when it has ever committed)."""
    from capital.transports.kafka_admin import consumer_lag as read_lag  # kafka-python: here

    settings = container.settings
    groups = consumer_groups(settings)
    both = tuple(topic for topics in groups.values() for topic in topics)
    combined = settings.kafka_group(ALL_ROLES_GROUP)
    rows = read_lag(settings.kafka_bootstrap, {**groups, combined: both})
    combined_used = any(row.committed is not None for row in rows if row.group == combined)
    return [
        GroupLag(row.group, row.topic, row.partition, row.committed, row.end, row.lag)
        for row in rows
        if row.group != combined or combined_used
    ]
