"""Benchmark: `capital publish` of 20,000 events on the embedded default (in-process bus,
SQLite) against decoding the same lines and inserting them into SQLite.

    .venv/bin/python bench/embedded_publish.py [--events 20000] [--schemes 400]

Writes the realistic events of `bench/budget_by_source.py` to a JSON-lines file, times
`capital publish FILE` as a user runs it (a new process, a new database file), then times
decoding every line (`events.decode_envelope`) and inserting the raw lines into a table of
a fresh SQLite file in one transaction. Prints both, their ratio (target: within 15x) and
the bytes per event of the published database.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from budget_by_source import generate  # noqa: E402

from events import decode_envelope  # noqa: E402


def main() -> None:
    args = _arguments()
    with tempfile.TemporaryDirectory() as workdir:
        lines = Path(workdir) / "events.jsonl"
        with lines.open("w") as out:
            for applied in generate(args.schemes, args.events, args.seed):
                out.write(applied.event.model_dump_json() + "\n")
        database = Path(workdir) / "capital.db"
        env = {
            **os.environ,
            "CAPITAL_DATABASE_URL": f"sqlite:///{database}",
            "CAPITAL_BUS": "memory",
        }
        started = time.perf_counter()
        published = subprocess.run(
            [sys.executable, "-m", "capital", "publish", str(lines)],
            env=env,
            capture_output=True,
            text=True,
            cwd=workdir,
        )
        publish_s = time.perf_counter() - started
        print(published.stdout.strip().splitlines()[-1] if published.stdout else published.stderr)
        floor_s = decode_and_insert(lines, Path(workdir) / "floor.db")
        size = database.stat().st_size + _wal_size(database)
        print(
            f"capital publish {args.events:,} events:    {publish_s:6.2f} s  "
            f"{args.events / publish_s:8,.0f} events/s"
        )
        print(
            f"decode + insert into SQLite:     {floor_s:6.2f} s  "
            f"{args.events / floor_s:8,.0f} events/s"
        )
        print(f"publish / floor:                 {publish_s / floor_s:6.1f}x  (target within 15x)")
        print(f"SQLite database: {size / 1e6:.1f} MB, {size / args.events:,.0f} bytes per event")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--schemes", type=int, default=400)
    parser.add_argument("--seed", type=int, default=20241130)
    return parser.parse_args()


def decode_and_insert(lines: Path, database: Path) -> float:
    started = time.perf_counter()
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE raw (event_id TEXT PRIMARY KEY, body TEXT)")
    rows = []
    for line in lines.read_text().splitlines():
        rows.append((str(decode_envelope(line).event_id), line))
    with connection:
        connection.executemany("INSERT INTO raw VALUES (?, ?)", rows)
    connection.close()
    return time.perf_counter() - started


def _wal_size(database: Path) -> int:
    wal = database.with_name(database.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


if __name__ == "__main__":
    main()
