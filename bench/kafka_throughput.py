"""Benchmark: the tracker on Kafka against the floors of a bare consumer, on one topic.

    .venv/bin/python bench/kafka_throughput.py [--events 20000] [--schemes 400]

Publishes `--events` realistic events (the generator of `bench/budget_by_source.py`: a
scheme's registration, start, progress, phases, snags, revisions, budget changes,
completion and handover, interleaved as a live stream brings them) to a fresh topic with
its own prefix, then, in the same run, on the same topic:

1. a bare kafka-python consumer decoding each message (`events.decode_envelope`);
2. the same consumer inserting the raw envelopes into PostgreSQL in batches of 1,000;
3. `capital worker tracker` applying them to a fresh PostgreSQL database: from the first
   event applied until the consumer group's committed offsets reach the end offsets.

It prints events/s for each and the tracker's share of the batched-insert floor (the
target is 25% or more). It also measures latency, publish to applied (the state change's
broker timestamp less the event's), at `--rates` events/s with the worker running, and the
bytes per event of the tracker's database. Needs the broker and PostgreSQL of
`infra/` (CAPITAL_TEST_KAFKA_BOOTSTRAP, CAPITAL_TEST_POSTGRES_URL).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from budget_by_source import generate  # noqa: E402

from events import decode_envelope, topics  # noqa: E402
from tests.integration.kafka_deployment import KafkaDeployment, wait_until  # noqa: E402

FLOOR_BATCH = 1_000


def main() -> None:
    args = _arguments()
    values = realistic_events(args.events, args.schemes, args.seed)
    with (
        tempfile.TemporaryDirectory() as workdir,
        fresh_database(args.postgres_url) as database_url,
    ):
        deployment = KafkaDeployment(args.bootstrap, database_url, Path(workdir), partitions=6)
        deployment.create_topics()
        deployment.produce(topics.SCHEME_EVENTS, values)
        topic = deployment.topic(topics.SCHEME_EVENTS)
        print(
            f"{len(values):,} events on {topic} ({args.schemes} schemes, 6 partitions)", flush=True
        )

        try:
            decode_s = bare_consumer(args.bootstrap, topic, len(values), database_url=None)
            print(f"  decoded in {decode_s:.2f} s", flush=True)
            insert_s = bare_consumer(args.bootstrap, topic, len(values), database_url=database_url)
            print(f"  decoded and inserted in {insert_s:.2f} s", flush=True)
            tracker_s = tracker(deployment, database_url, len(values))
            floor = len(values) / insert_s
            rate = len(values) / tracker_s
            print(
                f"bare consumer, decode:               {decode_s:6.2f} s  "
                f"{len(values) / decode_s:9,.0f} events/s"
            )
            print(f"bare consumer + batched inserts:     {insert_s:6.2f} s  {floor:9,.0f} events/s")
            print(f"capital worker tracker:              {tracker_s:6.2f} s  {rate:9,.0f} events/s")
            print(
                f"tracker / batched-insert floor:      {rate / floor:6.1%}"
                "   (target 25%, stretch 50%)"
            )
            bytes_per_event(database_url, len(values))
            for per_second in args.rates:
                latency(deployment, per_second, args.latency_events, args.seed + per_second)
        finally:
            deployment.stop_workers()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--schemes", type=int, default=400)
    parser.add_argument("--seed", type=int, default=20241130)
    parser.add_argument("--rates", type=int, nargs="*", default=[5, 200])
    parser.add_argument("--latency-events", type=int, default=300, help="Events per rate.")
    parser.add_argument(
        "--bootstrap", default=os.environ.get("CAPITAL_TEST_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "CAPITAL_TEST_POSTGRES_URL", "postgresql+psycopg://capital@127.0.0.1:15432/capital"
        ),
    )
    return parser.parse_args()


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new PostgreSQL database on the server, dropped afterwards."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server_url.rpartition('/')[0]}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def realistic_events(
    events: int, schemes: int, seed: int, prefix: str = "BENCH"
) -> list[tuple[bytes, bytes]]:
    """(key, value) of each generated event, its schemes named PREFIX-NNNNN."""
    keyed = []
    for applied in generate(schemes, events, seed):
        event = applied.event
        if prefix != "BENCH":
            event = event.model_copy(update={"scheme_id": event.scheme_id.replace("BENCH", prefix)})
        keyed.append((event.scheme_id.encode(), event.model_dump_json().encode()))
    return keyed


def bare_consumer(bootstrap: str, topic: str, expected: int, database_url: str | None) -> float:
    """Read the whole topic in a fresh group, decoding each message (and, with a database,
    inserting the raw envelopes in batches); seconds from the first message to the last."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=FLOOR_BATCH,
    )
    engine = create_engine(database_url) if database_url else None
    if engine is not None:
        with engine.begin() as connection:
            connection.execute(
                text("CREATE TABLE IF NOT EXISTS bench_raw (event_id text PRIMARY KEY, body text)")
            )
    seen, started = 0, None
    pending: list[dict[str, str]] = []
    while seen < expected:
        for records in consumer.poll(timeout_ms=1_000).values():
            started = started or time.perf_counter()
            for record in records:
                event = decode_envelope(record.value)
                pending.append({"event_id": str(event.event_id), "body": record.value.decode()})
                seen += 1
        if engine is None:
            pending.clear()
        elif pending and (len(pending) >= FLOOR_BATCH or seen >= expected):
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO bench_raw VALUES (:event_id, :body)"), pending)
            pending.clear()
    elapsed = time.perf_counter() - (started or time.perf_counter())
    consumer.commit()
    consumer.close()
    if engine is not None:
        with engine.begin() as connection:  # the tracker wants an empty database
            connection.execute(text("DROP TABLE bench_raw"))
        engine.dispose()
    return elapsed


def tracker(deployment: KafkaDeployment, database_url: str, expected: int) -> float:
    engine = create_engine(database_url)

    def applied() -> int:
        """Events the tracker finished with: applied, or refused (the generator dates a
        few events after today, which the tracker refuses as recorded in the future)."""
        try:
            with engine.connect() as connection:
                return connection.execute(
                    text(
                        "SELECT (SELECT count(*) FROM scheme_event) "
                        "+ (SELECT count(*) FROM dead_letter)"
                    )
                ).scalar_one()
        except Exception:  # the worker has not made its tables yet
            return 0

    deployment.start_worker("tracker")
    wait_until(lambda: applied() > 0, 180, "the first event applied", deployment.worker_logs)
    started = time.perf_counter()
    while applied() < expected:
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    while deployment.lag("tracker", topics.SCHEME_EVENTS) > 0:  # and every offset committed
        time.sleep(0.2)
    engine.dispose()
    return elapsed


def bytes_per_event(database_url: str, events: int) -> None:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        size = connection.execute(
            text(
                "SELECT sum(pg_total_relation_size(c)) FROM unnest(ARRAY["
                "'scheme', 'scheme_event', 'scheme_version', 'funding_movement']) AS c"
            )
        ).scalar_one()
    engine.dispose()
    size = int(size)
    print(f"PostgreSQL projection: {size / 1e6:.1f} MB, {size / events:,.0f} bytes per event")


def latency(deployment: KafkaDeployment, per_second: int, count: int, seed: int) -> None:
    """Publish `count` events at `per_second` with the tracker running; publish to applied
    is the state change's broker timestamp less its event's (both producers on this host)."""
    values = realistic_events(count, max(count // 50, 2), seed, prefix=f"LAT{per_second}")
    producer = KafkaProducer(bootstrap_servers=deployment.bootstrap, acks="all", linger_ms=0)
    sent_at: dict[str, int] = {}
    interval = 1 / per_second
    next_at = time.perf_counter()
    for key, value in values:
        future = producer.send(deployment.topic(topics.SCHEME_EVENTS), key=key, value=value)
        metadata = future.get(timeout=10) if per_second <= 20 else None
        event_id = json.loads(value)["event_id"]
        sent_at[event_id] = metadata.timestamp if metadata else int(time.time() * 1000)
        next_at += interval
        time.sleep(max(0.0, next_at - time.perf_counter()))
    producer.flush()
    producer.close()
    consumer = KafkaConsumer(
        deployment.topic(topics.STATE_CHANGES),
        bootstrap_servers=deployment.bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=15_000,
    )
    delays = []
    for record in consumer:
        cause = json.loads(record.value)["cause"]["event_id"]
        if cause in sent_at:
            delays.append(record.timestamp - sent_at.pop(cause))
        if not sent_at:
            break
    consumer.close()
    delays.sort()
    p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    print(
        f"latency at {per_second:>3} events/s: p50 {statistics.median(delays):5.0f} ms, "
        f"p99 {p99:5.0f} ms ({len(delays)} events, {len(sent_at)} not applied)"
    )


if __name__ == "__main__":
    main()
