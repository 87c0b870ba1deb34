"""A throwaway deployment on the real Kafka broker: its own topic prefix, consumer groups
and PostgreSQL database, with helpers to run the CLI and workers as real processes, and the
projection they write, to compare with the fold of the events."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient
from sqlmodel import func, select

from capital.migrations import upgrade_schema
from capital.transports.kafka_admin import create_topics
from events import Envelope, topics
from programme.scheme import SchemeState, fold
from projection.database import make_engine, session_factory
from projection.tables import SchemeEvent
from projection.views import scheme_states

CAPITAL = [sys.executable, "-m", "capital"]


@dataclass
class KafkaDeployment:
    bootstrap: str
    database_url: str
    workdir: Path
    prefix: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:10]}.")
    partitions: int = 3
    workers: list[subprocess.Popen] = field(default_factory=list)

    @property
    def app_id(self) -> str:
        return self.prefix.rstrip(".")

    def topic(self, name: str) -> str:
        return self.prefix + name

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "CAPITAL_BUS": "kafka",
            "CAPITAL_KAFKA_BOOTSTRAP": self.bootstrap,
            "CAPITAL_KAFKA_TOPIC_PREFIX": self.prefix,
            "CAPITAL_KAFKA_APP_ID": self.app_id,
            "CAPITAL_KAFKA_PARTITIONS": str(self.partitions),
            "CAPITAL_KAFKA_SESSION_TIMEOUT_S": "6",
            "CAPITAL_DATABASE_URL": self.database_url,
            "CAPITAL_WORKER_DATA_DIR": str(self.workdir / "worker-data"),
            "CAPITAL_ACTOR": "pm.kafka",
            **extra,
        }

    def create_topics(self) -> None:
        create_topics(self.bootstrap, self.partitions, self.prefix)

    def cli(self, *args: str, input: str | None = None, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*CAPITAL, *args],
            env=self.env(**env),
            input=input,
            capture_output=True,
            text=True,
            timeout=300,
            cwd=self.workdir,
        )

    def start_worker(self, role: str = "tracker", **env: str) -> subprocess.Popen:
        log = open(self.workdir / f"worker-{role}-{len(self.workers)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [*CAPITAL, "worker", role, "--loglevel", "warning"],
            env=self.env(**env),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
        )
        self.workers.append(process)
        return process

    def worker_logs(self) -> str:
        return "\n".join(
            f"== {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.workdir.glob("worker-*.log"))
        )

    def wait(self, condition: Callable[[], bool], timeout_s: float, what: str) -> None:
        """Wait for `condition`, failing at once with the logs if a worker exits on its own
        (one killed by a signal on purpose has a negative return code)."""

        def done() -> bool:
            crashed = [p for p in self.workers if p.poll() is not None and p.returncode >= 0]
            if crashed:
                raise AssertionError(
                    f"a worker exited while waiting for {what}\n" + self.worker_logs()
                )
            return condition()

        wait_until(done, timeout_s, what, self.worker_logs)

    def stop_workers(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.workers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.workers.clear()

    def produce(self, topic_name: str, values: list[tuple[bytes, bytes]]) -> None:
        producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        for key, value in values:
            producer.send(self.topic(topic_name), key=key, value=value)
        producer.flush()
        producer.close()

    def read_topic(self, topic_name: str, timeout_s: float = 10) -> list[bytes]:
        consumer = KafkaConsumer(
            self.topic(topic_name),
            bootstrap_servers=self.bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            consumer_timeout_ms=int(timeout_s * 1000),
            group_id=None,
        )
        values = [record.value for record in consumer]
        consumer.close()
        return values

    def produce_events(self, events: list[Envelope]) -> None:
        self.produce(
            topics.SCHEME_EVENTS,
            [(e.scheme_id.encode(), e.model_dump_json().encode()) for e in events],
        )

    def group_members(self, role: str) -> int:
        """How many workers the role's consumer group has now."""
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        try:
            group = f"{self.app_id}-{role}"
            return len(admin.describe_groups([group])[group]["members"])
        finally:
            admin.close()

    def lag(self, role: str, topic_name: str) -> int:
        """Messages on the topic that the role's consumer group has not committed yet."""
        group = f"{self.app_id}-{role}"
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap)
        try:
            committed = admin.list_group_offsets(group).get(group, {})
            partitions = [TopicPartition(self.topic(topic_name), p) for p in range(self.partitions)]
            ends = consumer.end_offsets(partitions)
            return sum(
                ends[tp] - (committed[tp].offset if tp in committed else 0) for tp in partitions
            )
        finally:
            consumer.close()
            admin.close()


def expected_states(events: list[Envelope]) -> dict[str, SchemeState]:
    """Each scheme's state folded from its events in order, as the tracker must end."""
    by_scheme: dict[str, list[Envelope]] = defaultdict(list)
    for event in events:
        by_scheme[event.scheme_id].append(event)
    return {scheme_id: fold(history) for scheme_id, history in by_scheme.items()}


class Projection:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        upgrade_schema(self.engine)  # the worker may not have started yet
        self.sessions = session_factory(self.engine)

    def states(self) -> dict[str, SchemeState]:
        with self.sessions() as session:
            return {state.scheme_id: state for state in scheme_states(session)}

    def applied(self) -> int:
        with self.sessions() as session:
            return session.exec(select(func.count()).select_from(SchemeEvent)).one()


def wait_until(
    condition: Callable[[], bool],
    timeout_s: float,
    what: str,
    on_timeout: Callable[[], str] = lambda: "",
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}\n{on_timeout()}")


__all__ = ["KafkaDeployment", "Projection", "expected_states", "topics", "wait_until"]
