"""The command line as a client of a running `capital serve`: `capital login` keeps a token
readable by its owner only, and from then on `capital publish` sends events through the API
as that user, with their roles."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.builders import event
from tests.conftest import SAMPLE_PROGRAMME

PASSWORD = "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def capital(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "capital", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def sign_in(
    url: str, user: dict[str, str], email: str = "hoc@council.gov.uk", password: str = PASSWORD
) -> subprocess.CompletedProcess:
    """`capital login URL` as `email`, the password given on standard input."""
    return capital(
        "login", url, "--email", email, "--password-stdin", env=user, stdin=password + "\n"
    )


@pytest.fixture
def service(tmp_path: Path, database_url: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A real service on 127.0.0.1 with the sample programme, an admin, a head of capital
    and a project manager who sign in by password."""
    operator = {
        **os.environ,
        "CAPITAL_DATABASE_URL": database_url,
        "CAPITAL_TODAY": "2024-07-29",
        "CAPITAL_LOGIN_FILE": str(tmp_path / "operator-login.json"),
    }
    assert capital("publish", str(SAMPLE_PROGRAMME), env=operator).returncode == 0
    admin = ["--actor", "admin@council.gov.uk"]
    for email, role in [
        ("admin@council.gov.uk", "admin"),
        ("hoc@council.gov.uk", "head_of_capital"),
        ("pm@council.gov.uk", "project_manager"),
    ]:
        added = capital(
            *admin, "users", "add", email, "--role", role, "--password-stdin",
            env=operator, stdin=PASSWORD + "\n",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "capital", "serve", "--port", str(port)],
        env=operator,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"capital serve did not start: {server.stderr.read()}")
            time.sleep(0.2)
        # The user's own environment: no database, only their login.
        user = {k: v for k, v in os.environ.items() if not k.startswith("CAPITAL_")}
        user["CAPITAL_LOGIN_FILE"] = str(tmp_path / "user" / "login.json")
        yield url, user
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_signed_in_user_publishes_through_the_api_as_themselves(service, tmp_path):
    url, user = service
    signed_in = sign_in(url, user)
    assert signed_in.returncode == 0, signed_in.stderr
    login_file = Path(user["CAPITAL_LOGIN_FILE"])
    assert stat.S_IMODE(login_file.stat().st_mode) == 0o600
    assert PASSWORD not in login_file.read_text()

    slip = event(
        "completion.revised", "2024-07-29", "CYPE-018",
        anticipated_completion="2023-03-31", reason="Asbestos in the ceiling void",
    )  # fmt: skip
    file = tmp_path / "slip.jsonl"
    file.write_text(slip.model_dump_json(exclude={"actor"}) + "\n")
    published = capital("publish", str(file), env=user)

    assert published.returncode == 0, published.stderr
    assert "published 1 event(s)" in published.stdout
    token = json.loads(login_file.read_text())["token"]
    history = httpx.get(
        f"{url}/api/schemes/CYPE-018", headers={"Authorization": f"Bearer {token}"}
    ).json()["history"]
    assert history[-1]["event_id"] == str(slip.event_id)
    assert (history[-1]["actor"], history[-1]["recorded_by"]) == ("hoc@council.gov.uk", None)


def test_a_project_manager_signed_in_is_refused_an_override(service, tmp_path):
    url, user = service
    sign_in(url, user, "pm@council.gov.uk")
    override = event(
        "rag.overridden", "2024-07-29", "CYPE-018", which="overall", value="green", reason="x"
    )
    file = tmp_path / "override.jsonl"
    file.write_text(override.model_dump_json(exclude={"actor"}) + "\n")

    refused = capital("publish", str(file), env=user)

    assert refused.returncode == 3
    assert "pm@council.gov.uk (project_manager) may not record rag.overridden" in refused.stderr


def test_a_wrong_password_stores_nothing(service):
    url, user = service
    refused = sign_in(url, user, password="not the password")
    assert refused.returncode == 3
    assert "sign-in refused (401)" in refused.stderr
    assert not Path(user["CAPITAL_LOGIN_FILE"]).exists()
