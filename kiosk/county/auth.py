"""County staff accounts and request limits for the hub: scrypt password hashes (stdlib),
session and CSRF tokens, roles, and a small in-process token bucket for rate limits.

Roles, each including the ones below it: viewer (pages and read API), operator (review
clock_suspect records), admin (staff audit). Accounts are made on the hub machine only
(`kiosk-county user add NAME --role admin`), never over the network.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from kiosk.county.texts import text

ROLES = ("viewer", "operator", "admin")
SESSION_HOURS = 8
MIN_PASSWORD = 10
_SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}


def role_at_least(role: str, needed: str) -> bool:
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt${n}${r}${p}$".format(**_SCRYPT) + base64.b64encode(salt).decode() + "$" + \
        base64.b64encode(digest).decode()


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), dklen=32, n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


def check_password_rules(password: str) -> str | None:
    """None if acceptable, else a Chinese reason."""
    if len(password) < MIN_PASSWORD:
        return text("auth_password_short", min_password=MIN_PASSWORD)
    if len(set(password)) < 4:
        return text("auth_password_common")
    return None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class RateLimiter:
    """Token buckets by key: `burst` requests at once, then `per_s` a second. `take(key)`
    returns 0 when allowed, else the seconds to wait (for Retry-After). Thread-safe; keeps at most
    `max_keys` buckets (the fullest are forgotten first: they would allow a burst anyway)."""

    def __init__(self, per_s: float, burst: int, max_keys: int = 10000, now=time.monotonic):
        self.per_s, self.burst, self.max_keys, self.now = per_s, burst, max_keys, now
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, cost: float = 1.0) -> float:
        with self._lock:
            t = self.now()
            tokens, last = self._buckets.get(key, (float(self.burst), t))
            tokens = min(float(self.burst), tokens + (t - last) * self.per_s)
            if tokens >= cost:
                self._buckets[key] = (tokens - cost, t)
                self._trim()
                return 0.0
            self._buckets[key] = (tokens, t)
            return (cost - tokens) / self.per_s

    def _trim(self) -> None:
        if len(self._buckets) > self.max_keys:
            t = self.now()
            for k, (tokens, last) in list(self._buckets.items()):
                if tokens + (t - last) * self.per_s >= self.burst:
                    del self._buckets[k]


class Limits:
    """The hub's rate limits (per client address unless said otherwise)."""

    def __init__(self, *, device=(20.0, 120), register=(1 / 30, 10), login=(1 / 6, 10), login_user=(1 / 60, 5)):
        self.device = RateLimiter(*device)
        self.register = RateLimiter(*register)
        self.login = RateLimiter(*login)
        self.login_user = RateLimiter(*login_user)
