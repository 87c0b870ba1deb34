"""One contract, two transports: the same CLI session gives the same board and the same
refusals on the in-memory bus (SQLite) and on Kafka (Faust worker, PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.builders import event
from tests.conftest import SAMPLE_PROGRAMME
from tests.integration.kafka_deployment import CAPITAL


def session_script(tmp_path: Path) -> Path:
    impossible = event("snagging.cleared", "2024-07-20", scheme_id="CYPE-018", snag_id="S404")
    lines = SAMPLE_PROGRAMME.read_text().splitlines()
    file = tmp_path / "session.jsonl"
    file.write_text("\n".join([*lines, lines[3], impossible.model_dump_json()]) + "\n")
    return file


@pytest.fixture(params=["memory", "kafka"])
def run_capital(request, tmp_path):
    if request.param == "memory":
        env = {
            **os.environ,
            "CAPITAL_BUS": "memory",
            "CAPITAL_DATABASE_URL": f"sqlite:///{tmp_path / 'capital.db'}",
        }

        def run(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run(
                [*CAPITAL, *args],
                env=env,
                capture_output=True,
                text=True,
                cwd=tmp_path,
                timeout=300,
            )

        return run
    deployment = request.getfixturevalue("kafka_deployment")
    deployment.start_worker("tracker")
    return deployment.cli


def test_both_transports_give_the_same_board_and_refusals(run_capital, tmp_path):
    file = session_script(tmp_path)
    published = run_capital("publish", str(file), "--wait", "--timeout", "180")
    assert published.returncode == 1
    assert published.stderr.strip() == f"{file}:36: snag 'S404' is not open on scheme CYPE-018"
    assert "published 35 event(s); refused 1 line(s)" in published.stdout

    board = json.loads(run_capital("schemes", "--format", "json", "--today", "2024-07-29").stdout)
    summary = {
        r["scheme_id"]: (
            r["status"],
            r["slippage_days"],
            r["programme_rag"],
            r["budget_rag"],
            r["overall_rag"],
            r["open_snags"],
        )
        for r in board
    }
    assert summary == {
        "CYPE-002": ("complete", 365, "red", "amber", "red", 0),
        "CYPE-003": ("on_site", 34, "red", "green", "red", 1),
        "CYPE-007": ("on_site", -23, "red", "green", "red", 0),
        "CYPE-016": ("complete", -30, "green", "green", "green", 0),
        "CYPE-018": ("on_site", 70, "red", "green", "red", 0),
        "CYPE-023": ("on_site", 305, "red", "green", "red", 0),
        "CYPE-028": ("on_site", 25, "red", "green", "red", 0),
    }
