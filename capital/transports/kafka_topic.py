"""Reading a whole topic from its beginning with kafka-python: the source of a projection
rebuild `--from-topic` (no consumer group, so no worker's offsets move)."""

from __future__ import annotations

from collections.abc import Iterator

from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import Connection

from projection.rebuild import FreshTables

PAGE = 5_000


class TopicSource:
    """The scheme events on a topic, partition by partition in offset order (a scheme's
    events share a partition, so each scheme's order is kept)."""

    history = False

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            enable_auto_commit=False,
            group_id=None,
            client_id="capital-projection-rebuild",
        )
        partitions = self._consumer.partitions_for_topic(topic)
        if not partitions:
            self._consumer.close()
            raise ValueError(f"topic {topic} does not exist on {bootstrap}")
        self._partitions = [TopicPartition(topic, number) for number in sorted(partitions)]
        self._consumer.assign(self._partitions)
        self._consumer.seek_to_beginning(*self._partitions)
        self._start = self._consumer.beginning_offsets(self._partitions)

    def total(self, connection: Connection) -> int:
        ends = self._consumer.end_offsets(self._partitions)
        return sum(ends[tp] - self._start[tp] for tp in self._partitions)

    def pages(self, connection: Connection) -> Iterator[list[tuple[bytes | str, str | None]]]:
        ends = self._consumer.end_offsets(self._partitions)
        for tp in self._partitions:
            # One partition at a time, so a page holds one partition's events in order.
            self._consumer.pause(*self._partitions)
            self._consumer.resume(tp)
            page: list[tuple[bytes | str, str | None]] = []
            while self._consumer.position(tp) < ends[tp]:
                fetched = self._consumer.poll(timeout_ms=1_000, max_records=PAGE)
                for records in fetched.values():
                    page.extend((record.value or b"", None) for record in records)
                if len(page) >= PAGE:
                    yield page
                    page = []
            if page:
                yield page

    def stragglers(self, connection: Connection, fresh: FreshTables) -> set[str]:
        return set()  # offsets are read in order: nothing is committed behind them

    def histories(
        self, connection: Connection, scheme_ids: set[str]
    ) -> Iterator[list[tuple[bytes | str, str | None]]]:
        return iter(())

    def close(self) -> None:
        self._consumer.close()
