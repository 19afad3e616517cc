"""The hub's SQLite database encrypted whole at rest (SQLCipher 4: AES-256, an HMAC on every page).

Why the whole file, not column by column as on the terminal: the hub's pages search, sort and count
by name, village, ID number and date (the status page at 300,000 residents), which sealed columns
would make full scans; SQLCipher encrypts every page, index and journal (WAL) page alike.

The key is not a separate file: it is derived (HKDF, label "database") from the hub's one secret,
`hub.key` (kiosk.county.keys), and given to SQLCipher as a raw 256-bit key (`PRAGMA key =
"x'…'"`), so there is no passphrase stretching on every connection and one file to back up. A
copy of `county.db` without `hub.key` reads as random bytes; `hub.key` is kept outside the data
folder (kiosk.county.cli).

PostgreSQL URLs are left alone: encryption at rest there is the database server's job (docs/privacy.md).

A plaintext `county.db` (made before this) is converted in place on the first open with the key:
the only connection switches it out of WAL (refused while the hub or another command has it
open), takes an exclusive lock, `sqlcipher_export`s it into `county.db.encrypting` (created 0600),
which is fsynced, reopened with the key and compared table by table (row counts) and checked
(`PRAGMA integrity_check`), then renamed over `county.db` (atomic; folder fsynced). The plaintext
file is kept nowhere: it is replaced only after the encrypted copy verified, so a crash at any
point leaves either the plaintext database (converted again at the next open) or the encrypted one.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from kiosk.core.atomic import fsync_dir
from kiosk.core.errors import KioskError
from kiosk.county.texts import text

SQLITE_MAGIC = b"SQLite format 3\x00"
PRIVATE = 0o600
CACHE_KIB = 32 * 1024  # page cache per connection (kiosk.county.db)


class HubAtRestError(KioskError):
    """The county database cannot be opened or converted: a code and what to do next."""


def sqlite_file(url: str) -> Path | None:
    """The file of a `sqlite:///path` URL (None for PostgreSQL, in-memory or other dialects)."""
    if not url.startswith("sqlite:///"):
        return None
    rest = url[len("sqlite:///"):].split("?", 1)[0]
    return Path(rest) if rest and rest != ":memory:" else None


def raw_key(db_key: bytes) -> str:
    """SQLCipher's raw-key form (no passphrase derivation): x'64 hex digits'."""
    if len(db_key) != 32:
        raise ValueError("database key must be 32 bytes")
    return f"x'{db_key.hex()}'"


def _dbapi():
    import sqlcipher3

    return sqlcipher3


def _quiet(conn) -> None:
    # SQLCipher logs a wrong key's HMAC failures on stderr; the error we raise says it instead
    conn.execute("PRAGMA cipher_log_level = NONE")


def connect(path: Path, db_key: bytes | None, **kwargs: Any):
    """A DB-API connection (sqlcipher3) to `path`, keyed (or plaintext when db_key is None)."""
    conn = _dbapi().connect(str(path), **kwargs)
    _quiet(conn)
    if db_key is not None:
        conn.execute(f'PRAGMA key = "{raw_key(db_key)}"')
    return conn


def is_plaintext(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(16) == SQLITE_MAGIC
    except OSError:
        return False


def has_data(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def holds_keyed_data(path: Path) -> bool:
    """Does this plaintext database hold anything bound to a hub key (registered devices, whose
    terminals pinned the hub's public keys, or templates sealed with it)?"""
    conn = connect(path, None, timeout=5)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        n = 0
        if "devices" in tables:
            n += conn.execute("SELECT count(*) FROM devices").fetchone()[0]
        if "template_sets" in tables:
            n += conn.execute("SELECT count(*) FROM template_sets WHERE ciphertext IS NOT NULL").fetchone()[0]
        return n > 0
    finally:
        conn.close()


def tighten(path: Path) -> None:
    """county.db and its -wal/-shm: owner only (SQLite gives -wal/-shm the database file's mode)."""
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if stat.S_IMODE(p.stat().st_mode) & 0o077:
                os.chmod(p, PRIVATE)
        except FileNotFoundError:
            pass


def _create_private(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))


def wrong_key(path: Path, key_path: Path | str | None) -> HubAtRestError:
    where = text("atrest_key_path", key_path=key_path) if key_path else ""
    return HubAtRestError(
        "county_db_key",
        text("atrest_wrong_key", path=path, where=where))


def _counts(conn, tables: list[str]) -> dict[str, int]:
    return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def encrypt_in_place(path: Path, db_key: bytes) -> dict[str, int]:
    """Convert the plaintext SQLite database at `path` into a SQLCipher one under `db_key`.
    Returns the row counts per table (the same before and after). See the module docstring."""
    tmp = path.with_name(path.name + ".encrypting")
    plain = connect(path, None, timeout=2, isolation_level=None)
    try:
        try:
            mode = plain.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        except _dbapi().OperationalError:
            mode = "busy"
        if str(mode).lower() != "delete":
            raise HubAtRestError(
                "county_db_busy",
                text("atrest_db_in_use", path=path))
        plain.execute("PRAGMA locking_mode = EXCLUSIVE")
        plain.execute("BEGIN EXCLUSIVE")
        plain.execute("COMMIT")  # the exclusive lock is now held until this connection closes
        tables = [r[0] for r in plain.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        before = _counts(plain, tables)
        user_version = plain.execute("PRAGMA user_version").fetchone()[0]
        tmp.unlink(missing_ok=True)  # left by a conversion that stopped half-way
        for suffix in ("-journal", "-wal", "-shm"):
            tmp.with_name(tmp.name + suffix).unlink(missing_ok=True)
        _create_private(tmp)
        plain.execute(f"ATTACH DATABASE ? AS enc KEY \"{raw_key(db_key)}\"", [str(tmp)])
        plain.execute("SELECT sqlcipher_export('enc')").fetchall()
        plain.execute(f"PRAGMA enc.user_version = {int(user_version)}")
        plain.execute("DETACH DATABASE enc")
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        enc = connect(tmp, db_key, isolation_level=None)
        try:
            after = _counts(enc, tables)
            check = enc.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            enc.close()
        if after != before or check != "ok":
            tmp.unlink(missing_ok=True)
            raise HubAtRestError(
                "county_db_encrypt_failed",
                text("atrest_verify_failed", path=path, check=check))
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise HubAtRestError(
            "county_db_encrypt_failed",
            text("atrest_write_failed", path=path, strerror=e.strerror or e),
        ) from None
    finally:
        plain.close()
    return before


def prepare(path: Path, db_key: bytes, key_path: Path | str | None = None) -> str:
    """Make `path` ready to open with `db_key`: created 0600 when new, converted when plaintext,
    checked against the key when encrypted. Returns "new", "encrypted" or "converted"."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = "encrypted"
    if not has_data(path):
        if not path.exists():
            _create_private(path)
        state = "new"
    elif is_plaintext(path):
        encrypt_in_place(path, db_key)
        state = "converted"
    tighten(path)
    if state != "new":
        conn = connect(path, db_key, timeout=30)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except _dbapi().DatabaseError as e:
            if "not a database" in str(e) or "encrypted" in str(e):
                raise wrong_key(path, key_path) from None
            raise
        finally:
            conn.close()
    return state


def engine_url(path: Path, db_key: bytes):
    """The SQLAlchemy URL for the SQLCipher dialect (the key travels as the URL's password,
    never printed: SQLAlchemy masks it)."""
    from sqlalchemy.engine import URL

    return URL.create("sqlite+pysqlcipher", password=raw_key(db_key), database=str(path))
