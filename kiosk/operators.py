"""Staff accounts on the terminal: who may act as 协理员 (assistant), 审核员 (reviewer) or 管理员 (admin).

Rules only (no Qt, no words: errors carry a code and data; kiosk.texts `operator_<code>` says it):
- a PIN is 6 or more digits (not one digit repeated, not a straight run such as 123456);
- it is kept as a scrypt hash with a per-operator random salt and the parameters it was made
  with (so they can be raised later); checked with hmac.compare_digest;
- after LOCK_AFTER wrong PINs in a row the account locks for LOCK_BASE_S seconds, doubling with
  each further wrong PIN, at most LOCK_MAX_S; a right PIN resets the count. Times come from the
  store's clock (the one service clock);
- the first operator of a terminal must be an admin and needs no one to vouch for it; every
  later one is added by an active admin;
- additions, disabling, PIN changes, wrong PINs and lockouts go to the append-only audit log
  (never the PIN, never its hash).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from kiosk.core.clock import utc_iso
from kiosk.core.errors import KioskError
from kiosk.texts import text

ROLES = ("assistant", "reviewer", "admin")
MIN_PIN_DIGITS = 6
LOCK_AFTER = 3  # wrong PINs in a row before the first lock
LOCK_BASE_S = 30
LOCK_MAX_S = 3600
# scrypt cost: ~16 MiB and ~50 ms per check on a village laptop (stored per operator).
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 2**14, 8, 1, 32
MAX_NAME = 32

# Every OperatorError code (words: kiosk.texts operator_<code>; a test walks them all).
ERROR_CODES = ("unknown_operator", "wrong_pin", "locked", "inactive", "weak_pin", "bad_role", "bad_name",
               "operator_exists", "first_must_be_admin", "admin_required", "not_admin", "last_admin",
               "pin_mismatch", "no_pin")


class OperatorError(KioskError):
    """`code` (one of ERROR_CODES) and `data` (e.g. tries_left, seconds); the message is the catalogue's."""

    def __init__(self, code: str, **data):
        self.data = data
        super().__init__(code, text(f"operator_{code}", **data))


@dataclass(frozen=True)
class Operator:
    id: int
    name: str
    role: str
    active: bool
    failed_attempts: int
    locked_until: datetime | None
    created_at: str
    created_by: str | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    def to_json(self, now: datetime) -> dict:
        """What `kiosk operator list` shows: no hash, no salt."""
        return {"name": self.name, "role": self.role, "active": self.active, "locked": self.locked_at(now),
                "locked_until": utc_iso(self.locked_until) if self.locked_at(now) and self.locked_until else None,
                "created_at": self.created_at, "created_by": self.created_by}


# --------------------------------------------------------------------- PINs and hashes
def check_pin_strength(pin: str) -> None:
    if not re.fullmatch(rf"[0-9]{{{MIN_PIN_DIGITS},}}", pin or "") or len(set(pin)) == 1:
        raise OperatorError("weak_pin", n=MIN_PIN_DIGITS)
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:])}
    if steps in ({1}, {-1}):
        raise OperatorError("weak_pin", n=MIN_PIN_DIGITS)


def _params() -> str:
    return f"scrypt:n={SCRYPT_N},r={SCRYPT_R},p={SCRYPT_P},len={SCRYPT_LEN}"


def _hash(pin: str, salt: bytes, params: str) -> bytes:
    kind, _, rest = params.partition(":")
    if kind != "scrypt":
        raise ValueError(f"unknown PIN hash: {kind!r}")
    p = {k: int(v) for k, v in (x.split("=") for x in rest.split(","))}
    return hashlib.scrypt(pin.encode(), salt=salt, n=p["n"], r=p["r"], p=p["p"], dklen=p["len"],
                          maxmem=256 * p["n"] * p["r"] * p["p"])


def hash_pin(pin: str) -> tuple[bytes, bytes, str]:
    """(hash, salt, params) of a new PIN."""
    salt, params = secrets.token_bytes(16), _params()
    return _hash(pin, salt, params), salt, params


# --------------------------------------------------------------------- lockout
def lock_seconds(failed_attempts: int) -> int:
    """How long the account locks after this many wrong PINs in a row (0: not locked)."""
    if failed_attempts < LOCK_AFTER:
        return 0
    return min(LOCK_BASE_S * 2 ** min(failed_attempts - LOCK_AFTER, 16), LOCK_MAX_S)


# --------------------------------------------------------------------- the store
def _operator(r) -> Operator:
    return Operator(id=r["id"], name=r["name"], role=r["role"], active=bool(r["active"]),
                    failed_attempts=r["failed_attempts"],
                    locked_until=datetime.fromisoformat(r["locked_until"]) if r["locked_until"] else None,
                    created_at=r["created_at"], created_by=r["created_by"])


def _row(store, name: str) -> dict | None:
    rows = list(store.db.query("SELECT * FROM operators WHERE name = ?", [name]))
    return rows[0] if rows else None


def get(store, name: str) -> Operator | None:
    r = _row(store, name.strip())
    return _operator(r) if r else None


def list_operators(store) -> list[Operator]:
    return [_operator(r) for r in store.db.query("SELECT * FROM operators ORDER BY name")]


def count(store) -> int:
    return store.db.execute("SELECT count(*) FROM operators").fetchone()[0]


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME or any(not ch.isprintable() for ch in name):
        raise OperatorError("bad_name", n=MAX_NAME)
    return name


def add_operator(store, name: str, role: str, pin: str, *, by: Operator | None = None) -> Operator:
    """Add a staff account. `by` (an admin whose PIN was checked) is required unless the terminal
    has no operator yet, in which case the new one must be an admin."""
    name = _clean_name(name)
    if role not in ROLES:
        raise OperatorError("bad_role", role=role)
    check_pin_strength(pin)
    pin_hash, salt, params = hash_pin(pin)
    with store.transaction():
        if count(store) == 0:
            if role != "admin":
                raise OperatorError("first_must_be_admin")
        elif by is None:
            raise OperatorError("admin_required")
        elif not (by.is_admin and by.active):
            raise OperatorError("not_admin", name=by.name)
        if _row(store, name) is not None:
            raise OperatorError("operator_exists", name=name)
        store.db.execute(
            "INSERT INTO operators (name, role, pin_hash, pin_salt, pin_params, created_at, created_by)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [name, role, pin_hash, salt, params, utc_iso(store.clock.utc_now()), by.name if by else None])
        store.audit(by.name if by else "install", "operator_added", {"operator": name, "role": role})
    op = get(store, name)
    assert op is not None
    return op


def verify_pin(store, name: str, pin: str) -> Operator:
    """The operator, if `pin` is theirs and they may act now; else OperatorError
    (unknown_operator, inactive, locked {seconds}, wrong_pin {tries_left})."""
    now = store.clock.utc_now()
    r = _row(store, (name or "").strip())
    if r is None:
        _hash(pin or "", b"\0" * 16, _params())  # the same work as a real check
        raise OperatorError("unknown_operator", name=name)
    op = _operator(r)
    if not op.active:
        raise OperatorError("inactive", name=op.name)
    if op.locked_at(now):
        assert op.locked_until is not None
        raise OperatorError("locked", seconds=_seconds(op.locked_until - now))
    if hmac.compare_digest(_hash(pin or "", r["pin_salt"], r["pin_params"]), r["pin_hash"]):
        if op.failed_attempts or op.locked_until:
            with store.transaction():
                store.db.execute("UPDATE operators SET failed_attempts = 0, locked_until = NULL WHERE id = ?",
                                 [op.id])
        return _operator({**r, "failed_attempts": 0, "locked_until": None})
    failed = op.failed_attempts + 1
    wait = lock_seconds(failed)
    until = now + timedelta(seconds=wait) if wait else None
    with store.transaction():
        store.db.execute("UPDATE operators SET failed_attempts = ?, locked_until = ? WHERE id = ?",
                         [failed, utc_iso(until) if until else None, op.id])
        store.audit(op.name, "operator_login_failed", {"operator": op.name, "failed_attempts": failed})
        if until:
            store.audit(op.name, "operator_locked", {"operator": op.name, "seconds": wait,
                                                     "until": utc_iso(until)})
    if until:
        raise OperatorError("locked", seconds=wait)
    raise OperatorError("wrong_pin", tries_left=LOCK_AFTER - failed)


def _seconds(delta: timedelta) -> int:
    return max(1, -int(-delta.total_seconds() // 1))  # rounded up: never "0 seconds"


def _require_admin(by: Operator) -> None:
    if not (by.is_admin and by.active):
        raise OperatorError("not_admin", name=by.name)


def disable(store, name: str, *, by: Operator) -> Operator:
    """Disable an account (kept for the records that name it). The last active admin stays."""
    _require_admin(by)
    with store.transaction():
        op = get(store, name)
        if op is None:
            raise OperatorError("unknown_operator", name=name)
        if op.is_admin and op.active:
            admins = store.db.execute(
                "SELECT count(*) FROM operators WHERE role = 'admin' AND active = 1").fetchone()[0]
            if admins <= 1:
                raise OperatorError("last_admin", name=op.name)
        store.db.execute("UPDATE operators SET active = 0 WHERE id = ?", [op.id])
        store.audit(by.name, "operator_disabled", {"operator": op.name})
    out = get(store, op.name)
    assert out is not None
    return out


def set_pin(store, name: str, old_pin: str, new_pin: str) -> Operator:
    """Change one's own PIN: the old one is checked like a login (wrong ones count)."""
    op = verify_pin(store, name, old_pin)
    check_pin_strength(new_pin)
    pin_hash, salt, params = hash_pin(new_pin)
    with store.transaction():
        store.db.execute("UPDATE operators SET pin_hash = ?, pin_salt = ?, pin_params = ? WHERE id = ?",
                         [pin_hash, salt, params, op.id])
        store.audit(op.name, "operator_pin_changed", {"operator": op.name})
    return op
