"""The deployment's secret key: CAPITAL_SECRET_KEY when set. It encrypts webhook URLs at rest
and signs the single sign-on state cookie.

The embedded default must work out of the box (`capital demo`, a first try on a laptop), so
a SQLite database with no key set gets one made once, into a file beside it
(`capital.db.key`, mode 0600, never committed: `*.db.key` is ignored): back it up with the
database, since the webhook URLs stored in it cannot be read without it. PostgreSQL, a real
deployment, gets no such file: without CAPITAL_SECRET_KEY it has no key, and a webhook
subscription is refused, naming the setting.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import make_url

log = logging.getLogger(__name__)

KEY_FILE_SUFFIX = ".key"


def deployment_key(database_url: str, configured: SecretStr | None) -> str | None:
    """The key set, or the SQLite database's own key file (made when missing); None for a
    server database without CAPITAL_SECRET_KEY."""
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return _process_key()  # the database lives no longer than this process
    return key_file_beside(Path(database)).read_text(encoding="ascii").strip()


def key_file_beside(database: Path) -> Path:
    """The key file of a SQLite database, made once (mode 0600) if it does not exist.
    Processes starting together agree: the file appears whole or not at all."""
    path = database.with_name(database.name + KEY_FILE_SUFFIX)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(secrets.token_urlsafe(32) + "\n")
        os.link(draft, path)  # fails if another process made it first: theirs is kept
        log.info(
            "made a secret key for %s in %s (mode 0600): it encrypts webhook URLs; keep it "
            "with the database, or set CAPITAL_SECRET_KEY",
            database,
            path,
        )
    except FileExistsError:
        pass
    finally:
        draft.unlink(missing_ok=True)
    return path


@functools.cache
def _process_key() -> str:
    return secrets.token_urlsafe(32)
