"""Readiness check for the local Kafka broker started by infra/kafka.sh.

An open port is not enough: this proves the broker serves real traffic.

1. an admin client sees exactly one broker;
2. a temporary topic is created and waited for (leader elected);
3. one record round-trips producer -> broker -> a fresh consumer group (which also
   creates ``__consumer_offsets`` on a new cluster and commits an offset);
4. the topic and the group are deleted again.

Run it with any Python that has kafka-python 3.x installed::

    python infra/kafka_ready.py [--bootstrap 127.0.0.1:19092] [--timeout 90]

Exit status 0 when ready, 1 when not (the reason goes to stderr), 2 when kafka-python
is missing. ``kafka.sh start`` runs it with ``$PYTHON`` when that Python can import kafka.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import uuid


def _log(message: str) -> None:
    print(f"kafka_ready: {message}", file=sys.stderr, flush=True)


def _default_bootstrap() -> str:
    if os.environ.get("CAPITAL_KAFKA_BOOTSTRAP"):
        return os.environ["CAPITAL_KAFKA_BOOTSTRAP"]
    return f"127.0.0.1:{os.environ.get('CAPITAL_KAFKA_PORT', '19092')}"


def _remaining_ms(deadline: float, floor_ms: int = 1000) -> int:
    return max(floor_ms, int((deadline - time.monotonic()) * 1000))


def _connect_admin(kafka, bootstrap: str, deadline: float):
    """Retry until the admin client bootstraps and sees exactly one broker."""
    last_error: str = "no attempt made"
    while time.monotonic() < deadline:
        admin = None
        try:
            admin = kafka.KafkaAdminClient(
                bootstrap_servers=bootstrap,
                client_id="capital-ready",
                bootstrap_timeout_ms=min(10_000, _remaining_ms(deadline)),
                request_timeout_ms=15_000,
            )
            cluster = admin.describe_cluster()
            brokers = cluster.get("brokers", [])
            if len(brokers) == 1:
                return admin, cluster
            last_error = f"expected exactly 1 broker, admin client sees {len(brokers)}: {brokers}"
        except Exception as exc:
            last_error = f"{type(exc).__name__}: {exc}"
        if admin is not None:
            admin.close()
        time.sleep(1)
    raise RuntimeError(f"admin client not ready: {last_error}")


def _round_trip(kafka, bootstrap: str, topic: str, group: str, deadline: float) -> int:
    """Produce one record and read it back through a fresh consumer group."""
    marker = uuid.uuid4().hex.encode()
    producer = kafka.KafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="capital-ready",
        acks="all",
        request_timeout_ms=15_000,
    )
    try:
        metadata = producer.send(topic, key=b"ready", value=marker).get(
            timeout=_remaining_ms(deadline) / 1000
        )
        producer.flush(timeout=_remaining_ms(deadline) / 1000)
    finally:
        producer.close(timeout=5)

    consumer = kafka.KafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id="capital-ready",
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    try:
        consumer.subscribe([topic])
        while time.monotonic() < deadline:
            batches = consumer.poll(timeout_ms=1000)
            for records in batches.values():
                for record in records:
                    if record.value == marker:
                        # Commit proves the group coordinator and __consumer_offsets work.
                        consumer.commit(timeout_ms=_remaining_ms(deadline))
                        return metadata.offset
        raise RuntimeError(
            f"record produced to {topic} (offset {metadata.offset}) was not consumed "
            f"by group {group} in time"
        )
    finally:
        consumer.close(autocommit=False, timeout_ms=5000)


def check(bootstrap: str, timeout_s: float) -> None:
    try:
        import kafka
    except ImportError:
        _log("kafka-python is not installed in this Python (pip install 'kafka-python>=3')")
        sys.exit(2)
    if int(kafka.__version__.split(".")[0]) < 3:
        _log(f"needs kafka-python 3.x, this Python has {kafka.__version__}")
        sys.exit(2)

    deadline = time.monotonic() + timeout_s
    suffix = uuid.uuid4().hex[:12]
    topic = f"capital-ready-{suffix}"
    group = f"capital-ready-{suffix}"

    admin, cluster = _connect_admin(kafka, bootstrap, deadline)
    try:
        broker = cluster["brokers"][0]
        _log(
            f"cluster {cluster.get('cluster_id')} has 1 broker "
            f"(id {broker.get('broker_id')} at {broker.get('host')}:{broker.get('port')})"
        )
        admin.create_topics(
            {topic: {"num_partitions": 1, "replication_factor": 1}},
            timeout_ms=_remaining_ms(deadline),
            wait_for_metadata=True,
        )
        try:
            offset = _round_trip(kafka, bootstrap, topic, group, deadline)
            _log(f"record round-tripped through {topic} at offset {offset} (group {group})")
        finally:
            try:
                admin.delete_groups([group])
            except Exception as exc:
                _log(f"warning: could not delete group {group}: {exc}")
            admin.delete_topics([topic], timeout_ms=30_000)
    finally:
        admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default=_default_bootstrap(), help="host:port")
    parser.add_argument(
        "--timeout", type=float, default=90.0, help="seconds before giving up (default 90)"
    )
    parser.add_argument("--verbose", action="store_true", help="show kafka-python's own log")
    args = parser.parse_args(argv)
    # kafka-python logs every refused connection while the broker is still starting.
    logging.basicConfig(level=logging.INFO if args.verbose else logging.CRITICAL)
    started = time.monotonic()
    try:
        check(args.bootstrap, args.timeout)
    except Exception as exc:
        _log(f"NOT READY at {args.bootstrap}: {type(exc).__name__}: {exc}")
        return 1
    print(f"kafka ready at {args.bootstrap} ({time.monotonic() - started:.1f}s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
