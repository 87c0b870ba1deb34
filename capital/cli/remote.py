"""The command line as a client of a deployed service (`capital login URL`): writes go
through the HTTP API as the signed-in user, with their roles, never straight to a
database. The token is kept in the user's configuration, readable by them alone."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capital.application.publishing import LineError, PublishReport
from events import Envelope

if TYPE_CHECKING:
    import httpx

BATCH = 500


class RemoteError(Exception):
    """The service refused the request or could not be reached; the message says which."""


@dataclass(frozen=True)
class Login:
    url: str
    user: str
    token: str

    def client(self) -> httpx.Client:
        import httpx  # only a signed-in command talks to the service: the rest need not load it

        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=httpx.Timeout(60.0, connect=10.0),
        )


def login_file() -> Path:
    explicit = os.environ.get("CAPITAL_LOGIN_FILE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "capital" / "login.json"


def stored_login() -> Login | None:
    path = login_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Login(str(data["url"]), str(data["user"]), str(data["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store_login(login: Login) -> Path:
    """Write the login readable by its owner only (0600), replacing any earlier one."""
    path = login_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"url": login.url, "user": login.user, "token": login.token}, handle)
    return path


def forget_login() -> bool:
    try:
        login_file().unlink()
        return True
    except FileNotFoundError:
        return False


def request_token(url: str, email: str, password: str, days: int) -> Login:
    """Sign in to the service and get an API token for this machine."""
    import httpx

    try:
        response = httpx.post(
            f"{url.rstrip('/')}/api/auth/token",
            json={"email": email, "password": password, "expires_in_days": days},
            timeout=30.0,
        )
    except httpx.HTTPError as error:
        raise RemoteError(f"cannot reach {url}: {error}") from None
    body = _json(response)
    if response.status_code != 200:
        raise RemoteError(f"sign-in refused ({response.status_code}): {_detail(body)}")
    return Login(url.rstrip("/"), email, str(body["token"]))


def publish_remote(
    login: Login, numbered: list[tuple[int, Envelope]], *, again: bool = False
) -> PublishReport:
    """Publish through POST /api/events in batches; refusals come back by line. `again`
    confirms changes identical to ones recorded minutes before."""
    import httpx

    report = PublishReport()
    with login.client() as client:
        for start in range(0, len(numbered), BATCH):
            batch = numbered[start : start + BATCH]
            documents = [event.model_dump(mode="json", exclude_none=True) for _, event in batch]
            try:
                params = {"again": "true"} if again else {}
                response = client.post("/api/events", json=documents, params=params)
            except httpx.HTTPError as error:
                raise RemoteError(f"cannot reach {login.url}: {error}") from None
            body = _json(response)
            if response.status_code in (401, 403):
                raise RemoteError(f"{login.url} refused {login.user}: {_detail(body)}")
            if response.status_code not in (200, 202, 422):
                raise RemoteError(f"{login.url} answered {response.status_code}: {_detail(body)}")
            lines = [number for number, _ in batch]
            detail = body.get("detail")
            refused: list[dict[str, Any]] = body.get("refused") or (
                detail if isinstance(detail, list) else []
            )
            report.errors.extend(LineError(lines[r["item"]], r["reason"]) for r in refused)
            published = {p["event_id"] for p in body.get("published", [])}
            report.published.extend(e for _, e in batch if str(e.event_id) in published)
            report.pending.extend(body.get("pending", []))
    return report


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"detail": response.text[:200]}
    return body if isinstance(body, dict) else {"detail": body}


def _detail(body: dict[str, Any]) -> str:
    detail = body.get("detail")
    return detail if isinstance(detail, str) else json.dumps(detail)
