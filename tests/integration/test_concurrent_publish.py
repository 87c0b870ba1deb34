"""Several people publishing overlapping files into one database at the same moment: every
process finishes, and every event is stored exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from events import Envelope
from tests.builders import event, registered

SCHEMES = 6
EVENTS_PER_SCHEME = 12
PUBLISHERS = 4


def unstamped(envelope: Envelope) -> str:
    """As a person would write it: the edge stamps when it was recorded (now)."""
    return envelope.model_copy(update={"recorded_at": None, "actor": None}).model_dump_json()


def programme() -> tuple[list[str], list[str]]:
    registrations = [unstamped(registered(f"C-{n}")) for n in range(SCHEMES)]
    updates = [
        unstamped(
            event("snagging.raised", "2024-03-01", f"C-{n}", snag_id=f"S{k}", description="Door")
        )
        for k in range(EVENTS_PER_SCHEME)
        for n in range(SCHEMES)
    ]
    return registrations, updates


def test_overlapping_publishes_all_finish_and_store_each_event_once(
    database_url: str, tmp_path: Path
) -> None:
    registrations, updates = programme()
    half = len(updates) // 2
    slices = [updates, updates[:half], updates[half // 2 :], updates[::-1]]
    files = []
    for number, lines in enumerate(slices[:PUBLISHERS]):
        file = tmp_path / f"publisher-{number}.jsonl"
        extra = ["{not json"] if number == 1 else []  # one bad line must not stop the rest
        file.write_text("\n".join([*registrations, *lines, *extra]) + "\n", encoding="utf-8")
        files.append(file)
    environment = {
        **os.environ,
        "CAPITAL_DATABASE_URL": database_url,
        "CAPITAL_BUS": "memory",
        "CAPITAL_ACTOR": "pm.concurrent",
    }
    environment.pop("CAPITAL_TODAY", None)
    # The schema exists before the race, as it does in a deployment.
    subprocess.run(
        [sys.executable, "-m", "capital", "schemes"], env=environment, check=True, timeout=120
    )

    running = [
        subprocess.Popen(
            [sys.executable, "-m", "capital", "publish", str(file)],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for file in files
    ]
    finished = [(process, *process.communicate(timeout=300)) for process in running]

    for number, (process, stdout, stderr) in enumerate(finished):
        expected = 1 if number == 1 else 0
        assert process.returncode == expected, (number, stdout, stderr)
        lines = SCHEMES + len(slices[number])
        assert f"published {lines} event(s)" in stdout, (number, stdout, stderr)
        assert "Traceback" not in stderr
    assert "publisher-1.jsonl:" in finished[1][2] and "not valid JSON" in finished[1][2]

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            stored = connection.execute(
                text("SELECT count(*), count(DISTINCT event_id) FROM scheme_event")
            ).one()
            snags = connection.execute(text("SELECT sum(open_snags) FROM scheme")).scalar_one()
            refused = connection.execute(text("SELECT reason FROM dead_letter")).scalars().all()
    finally:
        engine.dispose()
    assert tuple(stored) == (SCHEMES + len(updates), SCHEMES + len(updates))
    assert snags == len(updates)
    assert refused == []
