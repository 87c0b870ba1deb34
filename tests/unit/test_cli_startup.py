"""`capital` starts quickly: each area's commands are imported when one of them runs, and
a database already at the head revision is recognised without loading Alembic."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from capital.cli import COMMANDS, app
from capital.cli.lazy import load_area
from capital.migrations import declared_head, head_revision


def test_the_index_names_every_command_each_area_registers_and_no_other():
    registered = {
        name: module
        for module in {area.module for area in COMMANDS.values()}
        for name in load_area(module)
    }
    assert registered == {name: area.module for name, area in COMMANDS.items()}


def test_help_lists_every_command_with_its_summary():
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name, area in COMMANDS.items():
        assert f" {name} " in result.stdout and area.summary in result.stdout


def _modules_loaded_by(*args: str) -> set[str]:
    script = (
        "import json, sys\n"
        "from capital.cli import app\n"
        f"try:\n    app({list(args)!r})\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def test_help_imports_no_command_area_nor_the_heavy_libraries():
    loaded = _modules_loaded_by("--help")
    areas = {f"capital.cli.{area.module}" for area in COMMANDS.values()}
    assert not loaded & areas
    assert not loaded & {"sqlalchemy", "alembic", "kafka", "httpx", "openpyxl", "faust"}


def test_a_command_imports_its_own_area_only(tmp_path, monkeypatch):
    monkeypatch.setenv("CAPITAL_DATABASE_URL", f"sqlite:///{tmp_path / 'capital.db'}")
    monkeypatch.setenv("CAPITAL_LOGIN_FILE", str(tmp_path / "login.json"))
    subprocess.run(  # a first command creates the database at the head revision
        [sys.executable, "-m", "capital", "schemes"], check=True, capture_output=True
    )
    loaded = _modules_loaded_by("schemes")
    assert "capital.cli.scheme_commands" in loaded
    assert "capital.cli.report_commands" not in loaded
    # Neither Kafka, nor Alembic for a database already at the head, nor the HTTP client,
    # nor the spreadsheet writer.
    assert not loaded & {"kafka", "alembic", "httpx", "openpyxl", "jinja2", "apscheduler"}


def test_the_head_revision_read_from_the_files_is_alembics():
    assert declared_head() == head_revision()
