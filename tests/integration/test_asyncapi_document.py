"""`capital events asyncapi` writes a document the AsyncAPI parser (npm) accepts."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capital.cli import app
from events import topics
from events.asyncapi import asyncapi_document
from tests.conftest import IN_CI, REPO

TOOL = REPO / "tools" / "asyncapi"


def asyncapi_parser() -> list[str]:
    """The command that validates a document; a skip on a developer machine without node,
    a failure in CI."""
    node = shutil.which("node")
    installed = (TOOL / "node_modules" / "@asyncapi" / "parser").is_dir()
    if node and installed:
        return [node, str(TOOL / "validate.mjs")]
    problem = "node is not installed" if not node else "the AsyncAPI parser is not installed"
    if IN_CI:
        pytest.fail(f"{problem}; CI must validate the AsyncAPI document (run scripts/setup)")
    pytest.skip(f"{problem} (install node and npm, then run scripts/setup)")


def test_the_asyncapi_document_is_valid_for_the_deployments_prefix(monkeypatch, tmp_path: Path):
    parser = asyncapi_parser()
    document = tmp_path / "asyncapi.json"
    monkeypatch.setenv("CAPITAL_KAFKA_TOPIC_PREFIX", "eh.")
    result = CliRunner().invoke(app, ["events", "asyncapi", "--output", str(document)])
    assert result.exit_code == 0, result.output

    addresses = {c["address"] for c in json.loads(document.read_text())["channels"].values()}
    assert addresses == {f"eh.{topic}" for topic in topics.ALL_TOPICS}

    run = subprocess.run([*parser, str(document)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "valid AsyncAPI 3.0.0; 4 channels" in run.stdout


def test_the_parser_refuses_a_broken_document(tmp_path: Path):
    """The check can fail: a message whose schema is not a schema is an error."""
    parser = asyncapi_parser()
    broken = asyncapi_document()
    broken["components"]["schemas"]["AlertMessage"]["type"] = "text"
    document = tmp_path / "broken.json"
    document.write_text(json.dumps(broken))
    run = subprocess.run([*parser, str(document)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert "components.schemas.AlertMessage" in run.stdout
