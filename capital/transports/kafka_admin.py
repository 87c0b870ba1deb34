"""Creating the product's topics with the kafka-python admin client."""

from __future__ import annotations

import contextlib

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

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
