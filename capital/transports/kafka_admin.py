"""The product's topics with the kafka-python admin client: creating them, and how far
each consumer group is behind on them."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata

from events import topics


def create_topics(bootstrap: str, partitions: int, prefix: str = "") -> list[str]:
    """Create any missing topic; returns the names created. Scheme events and state
    changes get `partitions` partitions (keyed by scheme id); alerts and dead letters too,
    so they scale the same way."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="capital-admin")
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(name=prefix + name, num_partitions=partitions, replication_factor=1)
            for name in topics.ALL_TOPICS
            if prefix + name not in existing
        ]
        if not wanted:
            return []
        with contextlib.suppress(TopicAlreadyExistsError):
            admin.create_topics(wanted, timeout_ms=30_000, wait_for_metadata=True)
        return [t.name for t in wanted]
    finally:
        admin.close()


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int | None
    """The group's committed offset; None before it has committed any."""
    end: int

    @property
    def lag(self) -> int:
        """Messages on the partition the group has not yet committed as handled."""
        return self.end - (self.committed or 0)


def consumer_lag(bootstrap: str, groups: Mapping[str, Sequence[str]]) -> list[PartitionLag]:
    """For each consumer group, each partition of its topics: the committed offset against
    the end offset. A topic that does not exist yet has no partitions to show."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="capital-status")
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="capital-status")
    try:
        found: list[PartitionLag] = []
        for group, topic_names in groups.items():
            committed = admin.list_group_offsets(group).get(group, {})
            partitions = [
                TopicPartition(topic, partition)
                for topic in topic_names
                for partition in sorted(consumer.partitions_for_topic(topic) or ())
            ]
            ends = consumer.end_offsets(partitions) if partitions else {}
            found.extend(
                PartitionLag(
                    group,
                    tp.topic,
                    tp.partition,
                    _offset(committed.get(tp)),
                    ends[tp],
                )
                for tp in partitions
            )
        return found
    finally:
        consumer.close()
        admin.close()


def _offset(committed: OffsetAndMetadata | None) -> int | None:
    return committed.offset if committed is not None and committed.offset >= 0 else None
