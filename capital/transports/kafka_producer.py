"""Publishing to Kafka with kafka-python: idempotent producer, acks from all replicas."""

from __future__ import annotations

from kafka import KafkaProducer

from capital.transports import Message


class KafkaPublisher:
    def __init__(
        self, bootstrap: str, topic_prefix: str = "", client_id: str = "capital-cli"
    ) -> None:
        self._topic_prefix = topic_prefix
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap,
            client_id=client_id,
            acks="all",
            enable_idempotence=True,
            retries=2**31 - 1,
            linger_ms=5,
            request_timeout_ms=30_000,
            max_block_ms=60_000,
        )

    def send(self, messages: list[Message]) -> None:
        futures = [
            self._producer.send(self._topic_prefix + m.topic, key=m.key, value=m.value)
            for m in messages
        ]
        self._producer.flush()
        for future in futures:
            future.get(timeout=60)  # raises if the broker refused the record

    def close(self) -> None:
        self._producer.close(timeout=30)
