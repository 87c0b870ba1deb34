"""Users, roles, passwords, API tokens and sessions: who a request or a command is.

Passwords are hashed with Argon2; tokens and sessions are random secrets of which only a
SHA-256 hash is stored (they carry 256 bits, so a slow hash adds nothing), shown once when
issued. A token reads `cap.<id>.<secret>`: the id finds the row, the secret proves it.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import logging
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pwdlib import PasswordHash
from sqlmodel import Session, col, func, select

from capital.application.errors import InvalidInput
from capital.application.principal import (
    AccessDenied,
    Operation,
    Principal,
    Via,
    require,
)
from capital.settings import now_utc
from programme.permissions import Role
from projection.database import SessionFactory, transaction
from projection.tables import AccessToken, UserAccount

log = logging.getLogger(__name__)

TOKEN_PREFIX = "cap"
MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHash.recommended()


@functools.cache
def _no_account_hash() -> str:
    """Verifying against this when the account does not exist takes as long as a real
    check, so the time taken does not tell which email addresses have accounts. Made on
    the first sign-in, not at import: hashing takes a tenth of a second every command
    would pay."""
    return _hasher.hash(secrets.token_urlsafe(16))


class SignInRefused(Exception):
    """Wrong email or password, or no such account: deliberately not told apart."""


class SignInThrottled(Exception):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class UnknownUser(LookupError):
    pass


@dataclass(frozen=True)
class UserView:
    name: str
    roles: list[str]
    added_by: str
    added_at: dt.datetime
    password: bool
    single_sign_on: bool


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once; never stored
    token_id: str
    user: str
    expires_at: dt.datetime | None


@dataclass(frozen=True)
class TokenView:
    token_id: str
    user: str
    kind: str
    created_by: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


Clock = Callable[[], dt.datetime]


# --- who is acting ---------------------------------------------------------------------


def roles_of(session: Session, name: str) -> frozenset[Role] | None:
    """The user's roles; None while no user is registered (an open, new deployment)."""
    if session.exec(select(func.count()).select_from(UserAccount)).one() == 0:
        return None
    account = session.get(UserAccount, name)
    return frozenset() if account is None else _roles(account)


def operator(sessions: SessionFactory, account: str, acting_as: str | None = None) -> Principal:
    """The command line run against the database. The operator acts as themselves or, when
    they name a user (`--actor`), with that user's roles; either way their own account is
    recorded beside every write."""
    name = acting_as or account
    with sessions() as session:
        return Principal(name, roles_of(session, name), "operator", operator=account)


def authenticate(
    sessions: SessionFactory, token: str, now: Clock = now_utc, kind: str | None = None
) -> Principal | None:
    """The principal a bearer token or session cookie stands for; None if it is malformed,
    unknown, forged, expired or revoked, or its user has gone."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(token) > 200:
        return None
    _, token_id, secret = parts
    with sessions() as session:
        row = session.get(AccessToken, token_id)
        if row is None or (kind is not None and row.kind != kind):
            return None
        if not hmac.compare_digest(row.secret_hash, _digest(secret)):
            return None
        if row.revoked_at is not None or (
            row.expires_at is not None and _aware(row.expires_at) <= now()
        ):
            return None
        account = session.get(UserAccount, row.user_name)
        if account is None:
            return None
        via: Via = "session" if row.kind == "session" else "token"
        return Principal.user(account.name, _roles(account), via)


# --- users ------------------------------------------------------------------------------


def add_user(
    sessions: SessionFactory,
    principal: Principal,
    name: str,
    roles: Iterable[Role],
    password: str | None = None,
    now: Clock = now_utc,
) -> UserView:
    """Register a user or replace their roles (and password, when given)."""
    roles = sorted(set(roles))
    name = normalise_name(name)
    if password is not None:
        check_password(password)
    with transaction(sessions) as session:
        require(principal, Operation.manage_users)
        first = roles_of(session, principal.name) is None
        if first and Role.admin not in roles:
            raise AccessDenied(
                "the first user registered must be an admin (--role admin): registering a "
                "user turns on role checks for every write"
            )
        account = session.get(UserAccount, name)
        if Role.admin not in roles and _admins(session) == [name]:
            raise AccessDenied(
                f"{name} is the last administrator and would lose the admin role; "
                "add another admin first"
            )
        account = account or UserAccount(name=name, roles="", added_by="", added_at=now())
        account.roles = ",".join(role.value for role in roles)
        account.added_by, account.added_at = principal.attribution, now()
        if password is not None:
            account.password_hash = _hasher.hash(password)
        session.add(account)
        session.flush()
        return _view(account)


def remove_user(sessions: SessionFactory, principal: Principal, name: str) -> bool:
    """Remove a user and every token and session they hold."""
    with transaction(sessions) as session:
        require(principal, Operation.manage_users)
        account = session.get(UserAccount, normalise_name(name))
        if account is None:
            return False
        everyone = session.exec(select(func.count()).select_from(UserAccount)).one()
        if _admins(session) == [account.name] and everyone > 1:
            raise AccessDenied(f"{account.name} is the last administrator; add another admin first")
        for token in session.exec(select(AccessToken).where(AccessToken.user_name == account.name)):
            session.delete(token)
        session.flush()
        session.delete(account)
        return True


def list_users(sessions: SessionFactory, principal: Principal) -> list[UserView]:
    require(principal, Operation.manage_users)
    with sessions() as session:
        return [_view(a) for a in session.exec(select(UserAccount).order_by(UserAccount.name))]


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "password", f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
        )
    if len(password) > 1024:
        raise InvalidInput("password", "a password may have at most 1024 characters")


def normalise_name(name: str) -> str:
    """User names are email addresses in practice; compared without regard to case."""
    name = name.strip()
    if not name or len(name) > 128 or any(c.isspace() or ord(c) < 32 for c in name):
        raise InvalidInput(
            "email", f"{name!r} is not a user name (an email address, at most 128 characters)"
        )
    return name.lower() if "@" in name else name


# --- tokens and sessions ----------------------------------------------------------------


def issue_token(
    sessions: SessionFactory,
    principal: Principal,
    name: str,
    expires_in: dt.timedelta | None,
    kind: str = "api",
    now: Clock = now_utc,
) -> IssuedToken:
    """A new token for `name`: an administrator's to give, or a user's for themselves."""
    name = normalise_name(name)
    if name != principal.name:
        require(principal, Operation.manage_users)
    with transaction(sessions) as session:
        if session.get(UserAccount, name) is None:
            raise UnknownUser(f"no user {name!r}: add them first with `capital users add`")
        return _issue(session, name, kind, expires_in, principal.attribution, now())


def revoke_tokens(
    sessions: SessionFactory,
    principal: Principal,
    *,
    token_id: str | None = None,
    user: str | None = None,
    now: Clock = now_utc,
) -> int:
    """Revoke one token by id, or every token and session of a user. Returns how many."""
    with transaction(sessions) as session:
        query = select(AccessToken).where(col(AccessToken.revoked_at).is_(None))
        if token_id is not None:
            query = query.where(AccessToken.token_id == token_id)
        if user is not None:
            query = query.where(AccessToken.user_name == normalise_name(user))
        rows = list(session.exec(query))
        if any(row.user_name != principal.name for row in rows) or not rows:
            require(principal, Operation.manage_users)
        for row in rows:
            row.revoked_at = now()
            session.add(row)
        return len(rows)


def list_tokens(sessions: SessionFactory, principal: Principal) -> list[TokenView]:
    require(principal, Operation.manage_users)
    with sessions() as session:
        rows = session.exec(select(AccessToken).order_by(col(AccessToken.created_at)))
        return [
            TokenView(
                r.token_id,
                r.user_name,
                r.kind,
                r.created_by,
                r.created_at,
                r.expires_at,
                r.revoked_at,
            )
            for r in rows
        ]


class SignInThrottle:
    """At most `limit` failed sign-ins per account in `window`, and `ADDRESS_FACTOR` times
    as many per address: past either, further attempts are refused until the oldest
    failure leaves the window. An office signs in from one address (its NAT or proxy), so
    one person mistyping must not lock out their colleagues; one address trying many
    accounts is still stopped. Kept in the serving process (a restart clears it), which is
    enough to stop password guessing."""

    ADDRESS_FACTOR = 10

    def __init__(self, limit: int = 5, window: dt.timedelta = dt.timedelta(minutes=15)) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, deque[dt.datetime]] = {}
        self._lock = threading.Lock()

    def check(self, keys: Iterable[str], now: dt.datetime) -> None:
        with self._lock:
            waits = [self._wait(key, now) for key in keys]
        longest = max(waits, default=0)
        if longest > 0:
            raise SignInThrottled(longest)

    def failed(self, keys: Iterable[str], now: dt.datetime) -> None:
        with self._lock:
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)
            if len(self._failures) > self.FORGET_BEYOND:
                self._forget_old(now)

    # Guessing with many made-up emails must not grow the process without bound: past this
    # many keys, those whose failures have all left the window are dropped.
    FORGET_BEYOND = 10_000

    def _forget_old(self, now: dt.datetime) -> None:
        for key in [k for k, times in self._failures.items() if now - times[-1] >= self.window]:
            del self._failures[key]

    def _wait(self, key: str, now: dt.datetime) -> int:
        failures = self._failures.get(key)
        if not failures:
            return 0
        while failures and now - failures[0] >= self.window:
            failures.popleft()
        limit = self.limit * (self.ADDRESS_FACTOR if key.startswith("address:") else 1)
        if len(failures) < limit:
            return 0
        return max(1, int((failures[0] + self.window - now).total_seconds()) + 1)


def sign_in(
    sessions: SessionFactory,
    throttle: SignInThrottle,
    email: str,
    password: str,
    address: str,
    session_length: dt.timedelta,
    kind: str = "session",
    now: Clock = now_utc,
) -> IssuedToken:
    """Check a password and open a session (or issue an API token, for `capital login`)."""
    at = now()
    try:
        name = normalise_name(email)
    except ValueError:
        raise SignInRefused() from None
    keys = (f"account:{name}", f"address:{address}")
    throttle.check(keys, at)
    with transaction(sessions) as session:
        account = session.get(UserAccount, name)
        stored = account.password_hash if account else None
        valid = _verify(password[:1024], stored or _no_account_hash()) and stored is not None
        if account is None or not valid:
            throttle.failed(keys, at)
            # The name as typed may be a password typed into the wrong field: only a known
            # account's name is logged.
            log.warning(
                "failed sign-in for %s from %s",
                repr(name) if account is not None else "an unknown account",
                address,
            )
            raise SignInRefused()
        return _issue(session, name, kind, session_length, name, at)


def sign_out(sessions: SessionFactory, token: str, now: Clock = now_utc) -> None:
    """End the session the token stands for, so it cannot be replayed."""
    parts = token.split(".")
    if len(parts) != 3:
        return
    with transaction(sessions) as session:
        row = session.get(AccessToken, parts[1])
        if row is not None and hmac.compare_digest(row.secret_hash, _digest(parts[2])):
            row.revoked_at = row.revoked_at or now()
            session.add(row)


# --- single sign-on ---------------------------------------------------------------------


def single_sign_on(
    sessions: SessionFactory,
    issuer: str,
    subject: str,
    email: str,
    claimed_roles: frozenset[Role],
    session_length: dt.timedelta,
    now: Clock = now_utc,
) -> IssuedToken:
    """Open a session for someone the council's identity provider vouched for. A person
    unknown to the product is added with the roles their claims map to (none, if nothing
    maps: an administrator gives them one); a known user keeps the roles an administrator
    gave them, plus what the claims map to. The first sign-on binds the account to the
    provider's subject, so another provider asserting the same email is refused."""
    name = normalise_name(email)
    with transaction(sessions) as session:
        account = session.get(UserAccount, name)
        if account is None:
            account = UserAccount(
                name=name,
                roles=",".join(sorted(claimed_roles)),
                added_by=f"single sign-on ({issuer})",
                added_at=now(),
            )
        elif account.sso_subject is not None and (
            account.sso_issuer,
            account.sso_subject,
        ) != (issuer, subject):
            raise SignInRefused()
        else:
            account.roles = ",".join(sorted(_roles(account) | claimed_roles))
        account.sso_issuer, account.sso_subject = issuer, subject
        session.add(account)
        session.flush()
        return _issue(session, name, "session", session_length, name, now())


# --- helpers ----------------------------------------------------------------------------


def _issue(
    session: Session,
    name: str,
    kind: str,
    expires_in: dt.timedelta | None,
    created_by: str,
    at: dt.datetime,
) -> IssuedToken:
    token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    expires_at = at + expires_in if expires_in is not None else None
    session.add(
        AccessToken(
            token_id=token_id,
            user_name=name,
            kind=kind,
            secret_hash=_digest(secret),
            created_by=created_by,
            created_at=at,
            expires_at=expires_at,
        )
    )
    return IssuedToken(f"{TOKEN_PREFIX}.{token_id}.{secret}", token_id, name, expires_at)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _verify(password: str, hashed: str) -> bool:
    try:
        return _hasher.verify(password, hashed)
    except Exception:  # a corrupt stored hash is a failed sign-in, not a crash
        log.exception("could not verify a stored password hash")
        return False


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands datetimes back without their zone; they are stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _view(account: UserAccount) -> UserView:
    return UserView(
        account.name,
        sorted(_roles(account)),
        account.added_by,
        account.added_at,
        account.password_hash is not None,
        account.sso_subject is not None,
    )


def _roles(account: UserAccount) -> frozenset[Role]:
    return frozenset(Role(name) for name in account.roles.split(",") if name)


def _admins(session: Session) -> list[str]:
    accounts = session.exec(select(UserAccount).order_by(UserAccount.name)).all()
    return [a.name for a in accounts if Role.admin in _roles(a)]
