"""A Kafka broker and a PostgreSQL server of the fault tests' own, started with the same
scripts as the shared ones (infra/kafka.sh, infra/postgres.sh) but on free ports with a
state folder of their own, so a test may kill and restart them while everyone else's
tests carry on against the shared services."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.conftest import REPO

INFRA = REPO / "infra"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PrivateServices:
    home: Path
    kafka_port: int
    controller_port: int
    postgres_port: int

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def postgres_server_url(self) -> str:
        return f"postgresql+psycopg://capital@127.0.0.1:{self.postgres_port}/capital"

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "CAPITAL_INFRA_HOME": str(self.home),
            "CAPITAL_KAFKA_PORT": str(self.kafka_port),
            "CAPITAL_KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "CAPITAL_PG_PORT": str(self.postgres_port),
            "PYTHON": sys.executable,  # the readiness check needs kafka-python
        }

    def _run(self, script: str, command: str) -> None:
        done = subprocess.run(
            ["bash", str(INFRA / script), command],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise AssertionError(f"{script} {command} failed:\n{done.stdout}\n{done.stderr}")

    def kafka(self, command: str) -> None:
        """`start`, `stop` or `kill` (SIGKILL) this broker."""
        self._run("kafka.sh", command)

    def postgres(self, command: str) -> None:
        """`start`, `stop` or `kill` (an immediate shutdown, like a crash) this server."""
        self._run("postgres.sh", command)

    @contextmanager
    def database(self) -> Iterator[str]:
        """A fresh database on this server, dropped afterwards."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self._admin(f'CREATE DATABASE "{name}"')
        try:
            yield self.postgres_server_url.rpartition("/")[0] + f"/{name}"
        finally:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _admin(self, statement: str) -> None:
        # A connection of its own each time: the server may have restarted meanwhile.
        admin = create_engine(self.postgres_server_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(statement))
        finally:
            admin.dispose()


def _share_broker_jars(home: Path) -> None:
    """The broker's jars, already fetched for the shared broker, are linked rather than
    fetched again (kafka.sh names their folder after its pom, so only matching ones)."""
    shared = Path(os.environ.get("CAPITAL_INFRA_HOME") or REPO / ".infra")
    for lib in shared.glob("kafka-lib-*"):
        if (lib / ".complete").exists():
            (home / lib.name).symlink_to(lib.resolve())


@contextmanager
def private_services() -> Iterator[PrivateServices]:
    # Not under pytest's own temporary folder: run as root, PostgreSQL runs as `postgres`,
    # who must be able to reach its data folder.
    home = Path(tempfile.mkdtemp(prefix="capital-faults-", dir="/tmp"))
    home.chmod(0o755)
    _share_broker_jars(home)
    services = PrivateServices(home, free_port(), free_port(), free_port())
    try:
        services.postgres("start")
        services.kafka("start")
        yield services
    finally:
        # Killed, not stopped: their state is thrown away, so a clean shutdown buys nothing.
        for script in ("kafka", "postgres"):
            try:
                getattr(services, script)("kill")
            except AssertionError as error:
                print(error, file=sys.stderr)
        shutil.rmtree(home, ignore_errors=True)
