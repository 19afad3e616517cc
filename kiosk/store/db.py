"""The kiosk's local SQLite database (sqlite-utils), safe against the usual village troubles:
corrupt files are refused and left alone, a full disk rolls back cleanly, and face
templates are unreadable without the separate key file.
"""
from __future__ import annotations

import contextlib
import errno
import functools
import json
import math
import os
import sqlite3
import uuid as uuidlib
from time import sleep
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence, cast

import numpy as np
from sqlite_utils import Database

from ..policy import Category
from ..core.clock import Clock, default_clock, utc_iso
from ..core.facedata import is_face_data_key
from ..core.ids import mask_id, normalize, parse_id_number
from . import StoreCorrupt, StoreEmpty, StoreError, StoreFull, StoreReadOnly, TemplateKeyError, crypto
from .migrations import check_not_newer, migrate, schema_version

CAPTURE_RETENTION_KEY = "capture_retention_days"
# Once the county holds a record, the outbox keeps it with the ID number masked (first 6, last 4):
# a full ID number stays in clear only while a record waits to be sent (it must leave even with
# the template key lost). SQL so that it runs in the same UPDATE that marks the row acknowledged.
_MASK_RESIDENT = (
    "CASE WHEN length(json_extract(payload, '$.resident_id')) = 18 THEN json_set(payload, '$.resident_id',"
    " substr(json_extract(payload, '$.resident_id'), 1, 6) || '********'"
    " || substr(json_extract(payload, '$.resident_id'), 15, 4)) ELSE payload END"
)
# A fallback's relative (亲属承诺): their ID masked the same way, name and phone dropped.
MASK_ACKED_PAYLOAD = (
    f"CASE WHEN kind = 'fallback' AND length(json_extract(payload, '$.relative_id')) = 18 THEN json_remove("
    f"json_set(({_MASK_RESIDENT}), '$.relative_id', substr(json_extract(payload, '$.relative_id'), 1, 6)"
    f" || '********' || substr(json_extract(payload, '$.relative_id'), 15, 4)), '$.relative_name', '$.relative_phone')"
    f" ELSE ({_MASK_RESIDENT}) END"
)
# Home visits (上门认证): what a visit ended in, and what the roster may know for one.
VISIT_OUTCOMES = ("visited_certified", "visited_not_certified", "not_at_home", "refused")
CONTACT_FIELDS = ("address", "phone", "contact")
BUSY_TIMEOUT_MS = 5000
# SQLite primary result codes (extended codes keep these in the low byte).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_IOERR = 5, 6, 8, 10
_SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 11, 13, 14, 26
_LOW_SPACE_BYTES = 256 * 1024  # below this much free space a failed write is the full disk


@dataclass(frozen=True)
class Resident:
    id_number: str
    name: str
    birth_date: date
    sex: str
    region: str
    village: str | None
    categories: tuple[Category, ...]
    benefit_start: date | None
    data_comparison_on: date | None
    county_status: str  # active / suspended / deceased
    updated_at: str


@dataclass(frozen=True)
class Attempt:
    uuid: str
    resident_id: str
    category: str  # Category value
    mode: str  # self / proxy
    helper_relationship: str | None
    helper_id_masked: str | None
    operator: str | None
    device_id: str | None
    started_at: str
    finished_at: str
    verdict: str  # pass / fail
    reason: str | None
    message: str | None
    scores: dict
    liveness: dict

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class OutboxItem:
    uuid: str
    kind: str
    payload: dict
    created_at: str
    sent_at: str | None
    acked_at: str | None
    tries: int
    last_error: str | None


def read_only_reason(path: Path) -> str | None:
    """Why `path` (or its folder) cannot be written, or None: a read-only mount, a read-only or
    immutable file (root passes permission checks, but not EROFS or the immutable flag)."""
    target = path if path.exists() else path.parent
    try:
        if os.statvfs(target).f_flag & os.ST_RDONLY:
            return f"{target}: read-only file system"
    except OSError:
        return None
    for p in (path, path.parent):
        if p.exists() and not os.access(p, os.W_OK):
            return f"{p}: not writable"
    return None


def free_bytes(path: Path) -> int | None:
    target = path if path.exists() else path.parent
    try:
        st = os.statvfs(target)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def _translate(e: sqlite3.Error, path: Path | None = None) -> Exception:
    """A StoreError saying what happened: full disk, read-only disk, damaged file, busy, I/O."""
    code = (getattr(e, "sqlite_errorcode", None) or 0) & 0xFF
    text = str(e).lower()
    if code == _SQLITE_FULL or "disk is full" in text:
        return StoreFull(str(e))
    if code == _SQLITE_READONLY or "readonly database" in text:
        return StoreReadOnly(f"{e}; {read_only_reason(path) or ''}" if path else str(e))
    if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or "malformed" in text or "not a database" in text:
        return StoreCorrupt(str(e))
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED) or "locked" in text:
        return StoreError("busy", detail=str(e))
    if code in (_SQLITE_IOERR, _SQLITE_CANTOPEN) or "disk i/o" in text or "unable to open" in text:
        # The same codes come from a read-only or full disk: look at the disk before blaming it.
        if path is not None:
            reason = read_only_reason(path)
            if reason:
                return StoreReadOnly(f"{e}; {reason}")
            space = free_bytes(path)
            if space is not None and space < _LOW_SPACE_BYTES:
                return StoreFull(f"{e}; {space} bytes free")
        if code == _SQLITE_CANTOPEN or "unable to open" in text:
            return StoreError("cannot_open", detail=str(e))
        return StoreError("io_error", detail=str(e))
    return e


def translate_os_error(e: OSError, path: Path | None = None) -> StoreError:
    """The same diagnoses for file operations around the database (backups, moving files)."""
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return StoreFull(f"{path}: {e}")
    if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StoreReadOnly(f"{path}: {e}")
    return StoreError("io_error", detail=f"{path}: {e}", why="io_error_file")


class WriterDatabase(Database):
    """sqlite-utils' Database whose outermost `atomic()` takes the write lock at BEGIN.

    A deferred BEGIN starts as a reader; when its first write comes after another connection
    (the background sync thread) committed, SQLite must answer SQLITE_BUSY at once — waiting
    cannot help a stale snapshot. BEGIN IMMEDIATE waits (busy_timeout) for the lock instead,
    so a transaction that reads then writes never fails that way."""

    @contextlib.contextmanager
    def atomic(self):
        if self.conn.in_transaction:
            with super().atomic():
                yield self
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        else:
            try:
                self.conn.execute("COMMIT")
            except BaseException:
                self.rollback()
                raise


def _translating(method):
    """Turn low-level SQLite failures into StoreError with a Chinese message."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        owner = getattr(args[0], "store", args[0]) if args else None
        conn: Any = getattr(getattr(owner, "db", None), "conn", None)
        # A busy database is retried only when this call opened no transaction of its caller's
        # (its own were rolled back): SQLite answers SQLITE_BUSY at once, without the busy
        # timeout, when a read inside a deferred transaction must become a write after the
        # other thread (background sync) committed — a short wait and a fresh try resolves it.
        retry = conn is not None and not conn.in_transaction
        for attempt in range(BUSY_RETRIES + 1):
            try:
                return method(*args, **kwargs)
            except sqlite3.Error as e:
                if retry and attempt < BUSY_RETRIES and _is_busy(e) and not conn.in_transaction:
                    sleep(BUSY_RETRY_S * (2 ** attempt))
                    continue
                translated = _translate(e, getattr(owner, "path", None))
                if translated is e:
                    raise
                raise translated from e
        raise AssertionError("unreachable")

    return wrapper


BUSY_RETRIES = 4
BUSY_RETRY_S = 0.05


def _is_busy(e: sqlite3.Error) -> bool:
    code = (getattr(e, "sqlite_errorcode", None) or 0) & 0xFF
    return code in (_SQLITE_BUSY, _SQLITE_LOCKED) or "database is locked" in str(e).lower()


def protect_personal_data(db: Database, key: bytes) -> int:
    """Seal names and ID numbers written before schema v4 (or while the key was missing) and put
    blind references in every ID-number column; mask ID numbers in acknowledged outbox rows.
    One transaction; returns how many residents and attempts were converted."""
    clear = db.execute("SELECT count(*) FROM residents WHERE id_ct IS NULL").fetchone()[0]
    clear += db.execute("SELECT count(*) FROM attempts WHERE resident_ct IS NULL").fetchone()[0]
    if not clear:
        return 0
    pkey, ikey = crypto.derive_key(key, crypto.PERSONAL_LABEL), crypto.derive_key(key, crypto.INDEX_LABEL)
    refs: dict[str, str] = {}

    def ref(number: str) -> str:
        if number.startswith(crypto.REF_PREFIX):
            return number  # already a reference
        if number not in refs:
            refs[number] = crypto.blind_ref(ikey, normalize(number))
        return refs[number]

    db.execute("PRAGMA foreign_keys = OFF")  # templates point at residents.id_number: both change together
    try:
        with db.atomic():
            for number, name in db.execute("SELECT id_number, name FROM residents WHERE id_ct IS NULL").fetchall():
                r = ref(number)
                idn, idc = crypto.seal_text(pkey, number, f"id|{r}")
                nn, nc = crypto.seal_text(pkey, name, f"name|{r}")
                db.execute("UPDATE residents SET id_number = ?, name = '*', birth_date = '', region = '',"
                           " id_nonce = ?, id_ct = ?, name_nonce = ?, name_ct = ? WHERE id_number = ?",
                           [r, idn, idc, nn, nc, number])
            for uuid, number in db.execute(
                    "SELECT uuid, resident_id FROM attempts WHERE resident_ct IS NULL").fetchall():
                n, c = crypto.seal_text(pkey, number, f"attempt|{uuid}")
                db.execute("UPDATE attempts SET resident_id = ?, resident_nonce = ?, resident_ct = ? WHERE uuid = ?",
                           [ref(number), n, c, uuid])
            for cid, number, attempt_uuid, nonce, ct in db.execute(
                    "SELECT id, resident_id, attempt_uuid, nonce, ciphertext FROM captures"
                    " WHERE resident_id NOT LIKE 'R%'").fetchall():
                try:
                    image = crypto.decrypt(key, nonce, ct, f"capture|{number}|{attempt_uuid}")
                    n, c = crypto.encrypt(key, image, f"capture|{ref(number)}|{attempt_uuid}")
                except TemplateKeyError:  # already unreadable: only the clear ID number goes
                    n, c = nonce, ct
                db.execute("UPDATE captures SET resident_id = ?, nonce = ?, ciphertext = ? WHERE id = ?",
                           [ref(number), n, c, cid])
            for table in ("templates", "county_roster", "county_template_versions", "enrolments"):
                for (number,) in db.execute(
                        f"SELECT DISTINCT resident_id FROM {table} WHERE resident_id NOT LIKE 'R%'").fetchall():
                    db.execute(f"UPDATE {table} SET resident_id = ? WHERE resident_id = ?", [ref(number), number])
            db.execute(f"UPDATE outbox SET payload = {MASK_ACKED_PAYLOAD} WHERE acked_at IS NOT NULL")
    finally:
        db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # old page images (clear names) leave the WAL
    return clear


def backups_dir(db_path: Path) -> Path:
    """Daily backups live beside the database: $KIOSK_HOME/backups/."""
    return db_path.parent / "backups"


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")


def _prepare_file(path: Path) -> Path | None:
    """Before SQLite touches `path`: create a new database file 0600 (not the umask's 0644),
    tighten an existing one, and deal with a 0-byte file. Returns where an empty file was moved.

    A 0-byte kiosk.db with no backup and no WAL content is an unfinished first start (a kill or a
    full disk while the file was being created): it is moved aside to kiosk.db.empty-<time>,
    never deleted, and a fresh database is made. With a backup or WAL content the data may be
    elsewhere: StoreEmpty (run kiosk doctor)."""
    if not path.parent.is_dir():
        return None  # a data disk that is not mounted: SQLite says cannot_open, nothing is created
    try:
        size = path.stat().st_size if path.is_file() else None
    except OSError as e:
        raise translate_os_error(e, path) from e
    moved = None
    reason = read_only_reason(path)
    if reason:
        # Refused at start, not at the first certification after a resident went through it all.
        raise StoreReadOnly(reason)
    if size == 0:
        wal = path.with_name(path.name + "-wal")
        wal_size = wal.stat().st_size if wal.is_file() else 0
        backups = sorted(backups_dir(path).glob("kiosk-*.db"))
        if wal_size or backups:
            raise StoreEmpty(f"{path} is 0 bytes; wal {wal_size} bytes; backups: {len(backups)}")
        moved = path.with_name(f"{path.name}.empty-{_stamp()}")
        try:
            os.replace(path, moved)
            for suffix in ("-wal", "-shm"):
                side = path.with_name(path.name + suffix)
                if side.exists():
                    os.replace(side, moved.with_name(moved.name + suffix))
        except OSError as e:
            raise translate_os_error(e, path) from e
        size = None
    try:
        if size is None:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        elif os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)
    except FileExistsError:
        pass  # another process created it a moment ago
    except OSError as e:
        if size is None:
            raise translate_os_error(e, path) from e
    return moved


class Store:
    """Use `Store.open(path, key_path)`; close with `close()` or a `with` block."""

    def __init__(self, db: Database, key: bytes | None, path: Path, clock: Clock):
        self.db = db
        self.path = path
        self.clock = clock  # the service area's clock: dates attempts, stamps every row
        self._key_bytes = key
        self.key_path: Path | None = None
        self.key_error: TemplateKeyError | None = None  # why there is no key (open(require_key=False))

    @property
    def _key(self) -> bytes:
        """The template key; without it (lost key file) only template and identity work stops."""
        if self._key_bytes is None:
            e = self.key_error or TemplateKeyError("key_missing")
            raise TemplateKeyError(e.code, e.message, e.detail)
        return self._key_bytes

    @property
    def has_key(self) -> bool:
        return self._key_bytes is not None

    @functools.cached_property
    def _personal_key(self) -> bytes:
        return crypto.derive_key(self._key, crypto.PERSONAL_LABEL)

    @functools.cached_property
    def _index_key(self) -> bytes:
        return crypto.derive_key(self._key, crypto.INDEX_LABEL)

    def _ref(self, id_number: str) -> str:
        """What the database holds in place of an ID number: its keyed HMAC (needs the key)."""
        return crypto.blind_ref(self._index_key, normalize(id_number))

    def _open_id(self, ref: str, nonce: bytes | None, ct: bytes | None) -> str:
        if nonce is None:  # a row written before v4 and not converted yet (no key at the time)
            return ref
        return crypto.open_text(self._personal_key, nonce, cast(bytes, ct), f"id|{ref}")  # written with the nonce

    @property
    def tz(self):
        """The service area's zone (from the clock)."""
        return self.clock.tz

    def _iso(self, dt: datetime | None = None) -> str:
        """A stored timestamp: `dt`, or the clock's now, in UTC ISO-8601."""
        return utc_iso(dt if dt is not None else self.clock.utc_now())

    # --- opening -------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, key_path: str | Path, *, clock: Clock | None = None,
             require_key: bool = True) -> "Store":
        """`clock` (default: the configured zone's system clock) decides which local day a
        certification belongs to and stamps every row; tests pass `Clock.fixed(...)`.
        `require_key=False` (sync, export, doctor): a missing or wrong template key does not stop
        the records from being read and sent; `store.key_error` says what is wrong with it."""
        path, key_path = Path(path), Path(key_path)
        moved_aside = _prepare_file(path)
        existed = path.exists() and path.stat().st_size > 0
        try:
            db = WriterDatabase(path)
        except sqlite3.Error as e:
            translated = _translate(e, path)
            if not isinstance(translated, StoreError):
                translated = StoreError("cannot_open", detail=str(e))
            raise translated from e
        key_error = None
        try:
            if existed:
                cls._refuse_if_damaged(db)
            check_not_newer(db)  # before anything writes to the file
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA secure_delete = ON")  # deleted or rewritten personal data is zeroed, not left in free pages
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.enable_wal()
            # Power cuts are common in villages: fsync every commit.
            db.execute("PRAGMA synchronous = FULL")
            migrate(db)
            clock = clock or default_clock()
            try:
                key = cls._load_key(db, key_path, clock)
            except TemplateKeyError as e:
                if require_key:
                    raise
                key, key_error = None, e
            if key is not None:
                protect_personal_data(db, key)
            if moved_aside is not None:
                with db.atomic():
                    db.execute("INSERT INTO audit_log (at, actor, action, details) VALUES (?, ?, ?, ?)",
                               [utc_iso(clock.utc_now()), "kiosk", "empty_database_replaced",
                                _dumps({"kept_as": moved_aside.name})])
        except sqlite3.Error as e:
            db.close()
            translated = _translate(e, path)
            if translated is e:
                raise
            raise translated from e
        except BaseException:
            db.close()
            raise
        store = cls(db, key, path, clock)
        store.key_path, store.key_error = key_path, key_error
        return store

    @staticmethod
    def _refuse_if_damaged(db: Database) -> None:
        try:
            rows = db.execute("PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError as e:
            raise StoreCorrupt(str(e)) from e
        if rows != [("ok",)]:
            raise StoreCorrupt("; ".join(str(r[0]) for r in rows[:5]))

    @staticmethod
    def _load_key(db: Database, key_path: Path, clock: Clock) -> bytes:
        check = db.execute("SELECT nonce, ciphertext FROM key_check WHERE id = 1").fetchone()
        if not key_path.exists() and check is None:
            key = crypto.create_key(key_path)  # new database: make its key
        else:
            key = crypto.read_key(key_path)
        if check is None:
            nonce, ct = crypto.key_check(key)
            with db.atomic():
                db.execute(
                    "INSERT INTO key_check (id, nonce, ciphertext, created_at) VALUES (1, ?, ?, ?)",
                    [nonce, ct, utc_iso(clock.utc_now())],
                )
        else:
            crypto.verify_key(key, *check)
        return key

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return schema_version(self.db)

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Store"]:
        """Group many writes (e.g. a roster import) into one commit."""
        try:
            with self.db.atomic():
                yield self
        except sqlite3.Error as e:
            translated = _translate(e, self.path)
            if translated is e:
                raise
            raise translated from e

    # --- residents -----------------------------------------------------------------

    @_translating
    def upsert_resident(
        self,
        id_number: str,
        name: str,
        *,
        village: str | None = None,
        categories: Iterable[Category | str] = (),
        benefit_start: date | None = None,
        data_comparison_on: date | None = None,
        county_status: str = "active",
        now: datetime | None = None,
    ) -> Resident:
        rid = parse_id_number(id_number, self.clock.today())
        name = name.strip()
        if not name:
            raise ValueError("resident name must not be empty")
        if county_status not in ("active", "suspended", "deceased"):
            raise ValueError(f"unknown county_status: {county_status!r}")
        ref = self._ref(rid.number)
        id_nonce, id_ct = crypto.seal_text(self._personal_key, rid.number, f"id|{ref}")
        name_nonce, name_ct = crypto.seal_text(self._personal_key, name, f"name|{ref}")
        row = {
            "id_number": ref,
            "name": "*",  # sealed in name_ct
            "birth_date": "",  # derived from the ID number when read
            "sex": rid.sex,
            "region": "",
            "id_nonce": id_nonce,
            "id_ct": id_ct,
            "name_nonce": name_nonce,
            "name_ct": name_ct,
            "village": village,
            "categories": json.dumps([Category.parse(c).value for c in categories]),
            "benefit_start": benefit_start.isoformat() if benefit_start else None,
            "data_comparison_on": data_comparison_on.isoformat() if data_comparison_on else None,
            "county_status": county_status,
            "updated_at": self._iso(now),
        }
        columns = ", ".join(row)
        # ON CONFLICT ... UPDATE, not REPLACE: REPLACE deletes the row and would cascade to templates.
        updates = ", ".join(f"{c} = excluded.{c}" for c in row if c != "id_number")
        with self.db.atomic():
            self.db.execute(
                f"INSERT INTO residents ({columns}) VALUES ({', '.join('?' * len(row))}) "
                f"ON CONFLICT (id_number) DO UPDATE SET {updates}",
                list(row.values()),
            )
        return self.get_resident(rid.number)

    @_translating
    def get_resident(self, id_number: str) -> Resident | None:
        rows = list(self.db.query("SELECT * FROM residents WHERE id_number = ?", [self._ref(id_number)]))
        return self._resident(rows[0]) if rows else None

    @_translating
    def list_residents(self, village: str | None = None) -> list[Resident]:
        if village is None:
            rows = self.db.query("SELECT * FROM residents")
        else:
            rows = self.db.query("SELECT * FROM residents WHERE village = ?", [village])
        out = [self._resident(r) for r in rows]  # names are sealed: sorted here, not by SQL
        return sorted(out, key=lambda r: (r.village or "", r.name, r.id_number))

    def _resident(self, r: dict) -> Resident:
        number = self._open_id(r["id_number"], r.get("id_nonce"), r.get("id_ct"))
        if r.get("name_nonce") is not None:
            name = crypto.open_text(self._personal_key, r["name_nonce"], r["name_ct"], f"name|{r['id_number']}")
        else:
            name = r["name"]
        if r.get("birth_date"):
            born, region = date.fromisoformat(r["birth_date"]), r["region"]
        else:
            parsed = parse_id_number(number, self.clock.today())
            born, region = parsed.birth_date, parsed.region
        return Resident(
            id_number=number,
            name=name,
            birth_date=born,
            sex=r["sex"],
            region=region,
            village=r["village"],
            categories=tuple(Category(c) for c in json.loads(r["categories"])),
            benefit_start=_date(r["benefit_start"]),
            data_comparison_on=_date(r["data_comparison_on"]),
            county_status=r["county_status"],
            updated_at=r["updated_at"],
        )

    # --- home visits (kiosk.visits) ----------------------------------------------------

    @_translating
    def set_resident_contact(self, id_number: str, contact: dict[str, str | None]) -> None:
        """Address / phone / 联系人 of a resident (keys `address`, `phone`, `contact`), sealed."""
        ref = self._ref(id_number)
        clean = {k: contact.get(k) for k in CONTACT_FIELDS if contact.get(k)}
        nonce, ct = crypto.seal_text(self._personal_key, json.dumps(clean, ensure_ascii=False), f"contact|{ref}")
        with self.db.atomic():
            self.db.execute("UPDATE residents SET contact_nonce = ?, contact_ct = ? WHERE id_number = ?",
                            [nonce, ct, ref])

    @_translating
    def resident_contact(self, id_number: str) -> dict[str, str]:
        """What the roster knows for a visit ({} when nothing is stored)."""
        ref = self._ref(id_number)
        row = self.db.execute("SELECT contact_nonce, contact_ct FROM residents WHERE id_number = ?",
                              [ref]).fetchone()
        if not row or row[0] is None:
            return {}
        return json.loads(crypto.open_text(self._personal_key, row[0], row[1], f"contact|{ref}"))

    @_translating
    def record_visit(self, id_number: str, operator: str, outcome: str, note: str | None = None) -> str:
        """A home visit (dated by the clock) + its audit row, which goes to the county with the
        audit stream (the hub accepts audit records; visits need no new record kind)."""
        if outcome not in VISIT_OUTCOMES:
            raise ValueError(f"unknown visit outcome: {outcome!r}")
        ref = self._ref(id_number)
        visit = str(uuidlib.uuid4())
        note = (note or "").strip() or None
        nonce, ct = crypto.seal_text(self._personal_key, note, f"visit|{visit}") if note else (None, None)
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO visits (uuid, resident_id, operator, at, outcome, note_nonce, note_ct)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)", [visit, ref, operator, self._iso(), outcome, nonce, ct])
            self._audit_row(operator, "home_visit", {"visit": visit, "resident": mask_id(id_number),
                                                     "outcome": outcome, "note": bool(note)}, None)
        return visit

    @_translating
    def last_visit(self, id_number: str) -> dict | None:
        """The latest visit: {uuid, operator, at (UTC ISO), outcome, note}, or None."""
        rows = list(self.db.query("SELECT * FROM visits WHERE resident_id = ? ORDER BY at DESC, rowid DESC LIMIT 1",
                                  [self._ref(id_number)]))
        if not rows:
            return None
        r = rows[0]
        note = (crypto.open_text(self._personal_key, r["note_nonce"], r["note_ct"], f"visit|{r['uuid']}")
                if r["note_nonce"] is not None else None)
        return {"uuid": r["uuid"], "operator": r["operator"], "at": r["at"], "outcome": r["outcome"], "note": note}

    # --- templates -----------------------------------------------------------------

    @_translating
    def add_template(
        self,
        resident_id: str,
        vector: np.ndarray,
        backend: str,
        source: str = "local",
        now: datetime | None = None,
    ) -> int:
        resident_id = normalize(resident_id)
        if source not in ("county", "local"):
            raise ValueError(f"unknown template source: {source!r}")
        dtype, dim, nonce, ct = crypto.encrypt_vector(
            self._key, vector, crypto.vector_aad(resident_id, backend)
        )
        with self.db.atomic():
            if self.get_resident(resident_id) is None:
                raise StoreError("unknown_resident", detail=resident_id)
            cursor = self.db.execute(
                "INSERT INTO templates (resident_id, backend, dim, dtype, nonce, ciphertext, source, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [self._ref(resident_id), backend, dim, dtype, nonce, ct, source, self._iso(now)],
            )
            self._audit_row(
                "kiosk", "template_added",
                {"resident": mask_id(resident_id), "backend": backend, "source": source}, now,
            )
        return cast(int, cursor.lastrowid)  # an INSERT's rowid

    @_translating
    def templates_for(self, resident_id: str, backend: str) -> list[np.ndarray]:
        resident_id = normalize(resident_id)
        rows = self.db.query(
            f"SELECT * FROM templates WHERE resident_id = ? AND backend = ? AND {_COUNTS} ORDER BY id",
            [self._ref(resident_id), backend],
        )
        return [self._decrypt_template(r, resident_id) for r in rows]

    @_translating
    def all_templates(self, backend: str) -> dict[str, list[np.ndarray]]:
        """Every resident's templates for one backend (the roster cross-check)."""
        out: dict[str, list[np.ndarray]] = {}
        numbers: dict[str, str] = {}
        for r in self.db.query(
            "SELECT t.*, p.id_nonce AS p_nonce, p.id_ct AS p_ct FROM templates t"
            " LEFT JOIN residents p ON p.id_number = t.resident_id WHERE t.backend = ? AND "
            + _COUNTS.replace("enrolment_id", "t.enrolment_id") + " ORDER BY t.id", [backend]
        ):
            ref = r["resident_id"]
            if ref not in numbers:
                numbers[ref] = self._open_id(ref, r["p_nonce"], r["p_ct"])
            out.setdefault(numbers[ref], []).append(self._decrypt_template(r, numbers[ref]))
        return out

    @_translating
    def delete_templates(self, resident_id: str, backend: str | None = None) -> int:
        """Remove a resident's templates (re-enrolment, or the person asks for deletion)."""
        resident_id = normalize(resident_id)
        where, params = "resident_id = ?", [self._ref(resident_id)]
        if backend is not None:
            where, params = where + " AND backend = ?", params + [backend]
        with self.db.atomic():
            count = self.db.execute(f"DELETE FROM templates WHERE {where}", params).rowcount
            self.db.execute(f"DELETE FROM auto_templates WHERE {where}", params)  # what aged from them goes too
            self._audit_row(
                "kiosk", "templates_deleted",
                {"resident": mask_id(resident_id), "backend": backend, "count": count}, None,
            )
        return count

    # --- enrolments at the terminal (kiosk.enrolment; reviewed by a second operator) ---------

    @_translating
    def add_enrolment(self, resident_id: str, vectors: Sequence[np.ndarray], backend: str, *, enrolled_by: str,
                      consent_read_by: str, consent_at: datetime, quality: dict | None = None,
                      now: datetime | None = None, resembles: Sequence[dict] | None = None,
                      compared: int | None = None) -> int:
        """A template set waiting for review (`pending_review`): its vectors are sealed in `templates`
        but not returned by templates_for/all_templates until approve_enrolment. The resident's
        templates in use stay in use meanwhile (re-enrolment).

        `resembles`: the other residents this face resembles (kiosk.dupface: dicts with `resident`,
        `distance`, `within`, …) out of `compared` residents; kept with the other residents' blind
        references and audited (`enrolment_resembles_other`) in the same transaction."""
        resident_id = normalize(resident_id)
        if not vectors:
            raise ValueError("an enrolment needs at least one vector")
        ref = self._ref(resident_id)
        with self.db.atomic():
            if self.get_resident(resident_id) is None:
                raise StoreError("unknown_resident", detail=resident_id)
            eid = cast(int, self.db.execute(
                "INSERT INTO enrolments (resident_id, backend, frames, quality, enrolled_by, consent_read_by,"
                " consent_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [ref, backend, len(vectors), _dumps(_plain(quality or {}, "quality")), enrolled_by,
                 consent_read_by, self._iso(consent_at), self._iso(now)],
            ).lastrowid)  # an INSERT's rowid
            for v in vectors:
                dtype, dim, nonce, ct = crypto.encrypt_vector(self._key, v, crypto.vector_aad(resident_id, backend))
                self.db.execute(
                    "INSERT INTO templates (resident_id, backend, dim, dtype, nonce, ciphertext, source, created_at,"
                    " enrolment_id) VALUES (?, ?, ?, ?, ?, ?, 'local', ?, ?)",
                    [ref, backend, dim, dtype, nonce, ct, self._iso(now), eid],
                )
            details: dict[str, Any] = {"enrolment": eid, "resident": mask_id(resident_id), "backend": backend,
                                       "frames": len(vectors), "consent_read_by": consent_read_by}
            if resembles is not None:
                self._dupface_record(eid, resident_id, enrolled_by, list(resembles), compared, details, now)
            self._audit_row(enrolled_by, "enrolment_submitted", details, now)
        return int(eid)

    def _dupface_record(self, eid: int, resident_id: str, actor: str, resembles: list[dict], compared: int | None,
                        details: dict[str, Any], now: datetime | None) -> None:
        """The duplicate-face check's findings on an enrolment (kiosk.dupface): stored with blind
        references, audited with masked IDs (within threshold: `enrolment_resembles_other`)."""
        kept = [{**{k: v for k, v in r.items() if k != "resident"}, "ref": self._ref(r["resident"])}
                for r in resembles]
        self.db.execute("UPDATE enrolments SET resembles = ? WHERE id = ?", [_dumps(_plain(kept, "resembles")), eid])
        flagged = [r for r in resembles if r.get("within")]
        details.update(dup_checked=compared, resembles_other=len(flagged))
        if flagged:
            self._audit_row(actor, "enrolment_resembles_other",
                            {"enrolment": eid, "resident": mask_id(resident_id), "compared": compared,
                             "others": [{"resident": mask_id(r["resident"]), "distance": r.get("distance"),
                                         "method": r.get("method"), "source": r.get("source")} for r in flagged]},
                            now)

    def _resembles(self, stored: str | None) -> list[dict]:
        """The stored findings with the other residents' ID numbers opened (None: since removed)."""
        items = json.loads(stored or "[]")
        refs = [i["ref"] for i in items if i.get("ref")]
        ids: dict[str, str] = {}
        if refs:
            for r in self.db.query(f"SELECT id_number, id_nonce, id_ct FROM residents WHERE id_number IN"
                                   f" ({','.join('?' * len(refs))})", refs):
                ids[r["id_number"]] = self._open_id(r["id_number"], r["id_nonce"], r["id_ct"])
        return [{**{k: v for k, v in i.items() if k != "ref"}, "resident": ids.get(i.get("ref", ""))} for i in items]

    @_translating
    def get_enrolment(self, enrolment_id: int) -> dict | None:
        rows = list(self.db.query(
            "SELECT e.*, p.id_nonce AS p_nonce, p.id_ct AS p_ct FROM enrolments e"
            " LEFT JOIN residents p ON p.id_number = e.resident_id WHERE e.id = ?", [enrolment_id]))
        return self._enrolment(rows[0]) if rows else None

    @_translating
    def list_enrolments(self, status: str | None = None, resident_id: str | None = None) -> list[dict]:
        where: list[str] = ["1 = 1"]
        params: list[Any] = []
        if status is not None:
            where, params = where + ["e.status = ?"], params + [status]
        if resident_id is not None:
            where, params = where + ["e.resident_id = ?"], params + [self._ref(normalize(resident_id))]
        rows = self.db.query(
            "SELECT e.*, p.id_nonce AS p_nonce, p.id_ct AS p_ct FROM enrolments e"
            f" LEFT JOIN residents p ON p.id_number = e.resident_id WHERE {' AND '.join(where)} ORDER BY e.id",
            params)
        return [self._enrolment(r) for r in rows]

    def _enrolment(self, r: dict) -> dict:
        """An enrolment's record (no face data): resident is the clear ID number (callers mask it)."""
        out = {k: r[k] for k in ("id", "backend", "status", "frames", "enrolled_by", "consent_read_by", "consent_at",
                                 "created_at", "reviewed_by", "reviewed_at", "reject_reason")}
        out["resident"] = self._open_id(r["resident_id"], r["p_nonce"], r["p_ct"])
        out["quality"] = json.loads(r["quality"])
        # the duplicate-face check (kiosk.dupface): others it resembles, the reviewer's confirmation
        out["resembles"] = self._resembles(r.get("resembles"))
        out["resemble_confirmation"] = json.loads(r["resemble_confirmation"]) if r.get("resemble_confirmation") else None
        return out

    @_translating
    def review_enrolment(self, enrolment_id: int, decision: str, reviewed_by: str, *, reason: str | None = None,
                         now: datetime | None = None, confirmation: dict | None = None) -> dict:
        """`approved`: its vectors become the resident's templates for that backend (the older ones
        go); `rejected`: its vectors are deleted. Only a pending enrolment can be reviewed; who may
        review (role, not the enrolling operator) is kiosk.enrolment's rule, not the store's."""
        if decision not in ("approved", "rejected"):
            raise ValueError(f"unknown review decision: {decision!r}")
        with self.db.atomic():
            e = self.get_enrolment(enrolment_id)
            if e is None or e["status"] != "pending_review":
                raise StoreError("not_pending", detail=str(enrolment_id))
            ref = self._ref(e["resident"])
            if decision == "approved":
                replaced = self.db.execute(
                    "DELETE FROM templates WHERE resident_id = ? AND backend = ?"
                    " AND (enrolment_id IS NULL OR enrolment_id <> ?)", [ref, e["backend"], enrolment_id]).rowcount
            else:
                replaced = 0
                self.db.execute("DELETE FROM templates WHERE enrolment_id = ?", [enrolment_id])
            self.db.execute("UPDATE enrolments SET status = ?, reviewed_by = ?, reviewed_at = ?, reject_reason = ?"
                            " WHERE id = ?", [decision, reviewed_by, self._iso(now), reason, enrolment_id])
            details = {"enrolment": enrolment_id, "resident": mask_id(e["resident"]), "backend": e["backend"],
                       "enrolled_by": e["enrolled_by"]}
            if decision == "approved":
                details["replaced_templates"] = replaced
            else:
                details["reason"] = reason
            if confirmation is not None:  # kiosk.dupface: approved although the face resembles another resident
                conf = {**confirmation, "by": reviewed_by, "at": self._iso(now)}
                self.db.execute("UPDATE enrolments SET resemble_confirmation = ? WHERE id = ?",
                                [_dumps(_plain(conf, "resemble_confirmation")), enrolment_id])
                details["resemble_confirmation"] = {k: conf[k] for k in ("kind", "reason")}
            self._audit_row(reviewed_by, f"enrolment_{decision}", details, now)
        out = self.get_enrolment(enrolment_id)
        assert out is not None
        return out

    def _decrypt_template(self, r: dict, resident_id: str) -> np.ndarray:
        aad = crypto.vector_aad(normalize(resident_id), r["backend"])
        return crypto.decrypt_vector(self._key, r["dtype"], r["dim"], r["nonce"], r["ciphertext"], aad)

    # --- attempts and outbox -------------------------------------------------------

    @_translating
    def record_attempt(
        self,
        *,
        resident_id: str,
        category: Category | str,
        mode: str,
        verdict: str,
        started_at: datetime,
        finished_at: datetime,
        reason: str | None = None,
        message: str | None = None,
        scores: dict | None = None,
        liveness: dict | None = None,
        helper_relationship: str | None = None,
        helper_id_masked: str | None = None,
        operator: str | None = None,
        device_id: str | None = None,
    ) -> str:
        """Attempt + outbox message + audit row in one transaction; returns the attempt uuid."""
        if mode not in ("self", "proxy"):
            raise ValueError(f"mode must be 'self' or 'proxy', got {mode!r}")
        if verdict not in ("pass", "fail"):
            raise ValueError(f"verdict must be 'pass' or 'fail', got {verdict!r}")
        if helper_id_masked and "*" not in helper_id_masked:
            helper_id_masked = mask_id(helper_id_masked)  # never keep a helper's full ID
        attempt = Attempt(
            uuid=str(uuidlib.uuid4()),
            resident_id=normalize(resident_id),
            category=Category.parse(category).value,
            mode=mode,
            helper_relationship=helper_relationship,
            helper_id_masked=helper_id_masked,
            operator=operator,
            device_id=device_id,
            started_at=self._iso(started_at),
            finished_at=self._iso(finished_at),
            verdict=verdict,
            reason=reason,
            message=message,
            scores=_plain(scores or {}, "scores"),
            liveness=_plain(liveness or {}, "liveness"),
        )
        row = attempt.to_dict()
        row["scores"] = _dumps(attempt.scores)
        row["liveness"] = _dumps(attempt.liveness)
        row["resident_id"] = self._ref(attempt.resident_id)
        row["resident_nonce"], row["resident_ct"] = crypto.seal_text(
            self._personal_key, attempt.resident_id, f"attempt|{attempt.uuid}")
        with self.db.atomic():
            self.db.table("attempts").insert(row)
            self.db.table("outbox").insert(
                {
                    "uuid": str(uuidlib.uuid4()),
                    "kind": "certification",
                    "payload": _dumps(attempt.to_dict()),
                    "created_at": self._iso(),
                    "tries": 0,
                }
            )
            self._audit_row(
                operator or "kiosk",
                "attempt_recorded",
                {
                    "attempt": attempt.uuid,
                    "resident": mask_id(attempt.resident_id),
                    "category": attempt.category,
                    "mode": mode,
                    "verdict": verdict,
                    "reason": reason,
                },
                None,
            )
        return attempt.uuid

    @_translating
    def attempts_today(self, resident_id: str, day: date) -> list[Attempt]:
        """Attempts started on `day` in local (kiosk) time, oldest first."""
        lo, hi = self.clock.start_of(day), self.clock.start_of(day + timedelta(days=1))
        rows = self.db.query(
            "SELECT * FROM attempts WHERE resident_id = ? AND started_at >= ? AND started_at < ?"
            " ORDER BY started_at",
            [self._ref(resident_id), self._iso(lo), self._iso(hi)],
        )
        return [self._attempt(r) for r in rows]

    @_translating
    def attempts_for(self, resident_id: str) -> list[Attempt]:
        """A resident's certification record (认证记录), newest first."""
        rows = self.db.query(
            "SELECT * FROM attempts WHERE resident_id = ? ORDER BY started_at DESC",
            [self._ref(resident_id)],
        )
        return [self._attempt(r) for r in rows]

    def _attempt(self, r: dict) -> Attempt:
        r = dict(r)
        nonce, ct = r.pop("resident_nonce", None), r.pop("resident_ct", None)
        if nonce is not None:
            r["resident_id"] = crypto.open_text(self._personal_key, nonce, ct, f"attempt|{r['uuid']}")
        return _attempt(r)

    @_translating
    def last_certified(self, resident_id: str) -> date | None:
        """Local date of the latest certification: a passed attempt on this kiosk (acknowledged
        by the county or not), a fallback the county approved, or the latest one the county reported from any terminal."""
        value = self.db.execute(
            "SELECT max(finished_at) FROM attempts WHERE resident_id = ? AND verdict = 'pass'",
            [self._ref(resident_id)],
        ).fetchone()[0]
        local = self.clock.local_date(value) if value else None
        if self.db["fallbacks"].exists():  # a certification without a face, once the county approved it
            approved = self.db.execute(
                "SELECT max(created_at) FROM fallbacks WHERE resident_id = ? AND status = 'approved'",
                [self._ref(resident_id)],
            ).fetchone()[0]
            if approved and (local is None or self.clock.local_date(approved) > local):
                local = self.clock.local_date(approved)
        row = self.db.execute(
            "SELECT certified_on FROM county_roster WHERE resident_id = ?", [self._ref(resident_id)]
        ).fetchone() if self.schema_version >= 3 else None
        county = date.fromisoformat(row[0]) if row and row[0] else None
        return max((d for d in (local, county) if d is not None), default=None)

    @_translating
    def pending_outbox(self, limit: int = 100) -> list[OutboxItem]:
        """Messages not yet acknowledged by the county, oldest first."""
        rows = self.db.query(
            "SELECT * FROM outbox WHERE acked_at IS NULL ORDER BY created_at, rowid LIMIT ?", [limit]
        )
        return [_outbox(r) for r in rows]

    @_translating
    def mark_sent(self, uuids: Iterable[str], at: datetime | None = None) -> None:
        self._update_outbox(uuids, "sent_at = ?, tries = tries + 1, last_error = NULL", [self._iso(at)])

    @_translating
    def mark_failed(self, uuids: Iterable[str], error: str) -> None:
        self._update_outbox(uuids, "tries = tries + 1, last_error = ?", [error])

    @_translating
    def mark_acked(self, uuids: Iterable[str], at: datetime | None = None) -> None:
        self._update_outbox(uuids, f"acked_at = ?, payload = {MASK_ACKED_PAYLOAD}", [self._iso(at)])

    def _update_outbox(self, uuids: Iterable[str], assignments: str, params: list) -> None:
        with self.db.atomic():
            for u in uuids:
                self.db.execute(f"UPDATE outbox SET {assignments} WHERE uuid = ?", params + [u])

    # --- audit and settings --------------------------------------------------------

    @_translating
    def audit(self, actor: str, action: str, details: dict | None = None, at: datetime | None = None) -> int:
        with self.db.atomic():
            return self._audit_row(actor, action, details or {}, at)

    def _audit_row(self, actor: str, action: str, details: dict, at: datetime | None) -> int:
        return cast(int, self.db.execute(
            "INSERT INTO audit_log (at, actor, action, details) VALUES (?, ?, ?, ?)",
            [self._iso(at), actor, action, _dumps(_plain(details, "details"))],
        ).lastrowid)  # an INSERT's rowid

    @_translating
    def audit_entries(self, after_seq: int = 0, limit: int = 1000) -> list[dict]:
        rows = self.db.query(
            "SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?", [after_seq, limit]
        )
        return [{**r, "details": json.loads(r["details"])} for r in rows]

    @_translating
    def get_setting(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return json.loads(row[0]) if row else default

    @_translating
    def set_setting(self, key: str, value: Any, actor: str = "system") -> None:
        """Values are stored as JSON; every change is audited."""
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, _dumps(value)],
            )
            self._audit_row(actor, "setting_changed", {"key": key, "value": value}, None)

    # --- raw captures (kept only if the county sets a retention period) -------------

    @_translating
    def add_capture(
        self, attempt_uuid: str, image: bytes, media_type: str = "image/jpeg", now: datetime | None = None
    ) -> int | None:
        """Encrypt and keep a raw image; with retention 0 days (default) nothing is stored."""
        days = int(self.get_setting(CAPTURE_RETENTION_KEY, 0))
        if days <= 0:
            return None
        now = now or self.clock.utc_now()
        row = self.db.execute("SELECT resident_id FROM attempts WHERE uuid = ?", [attempt_uuid]).fetchone()
        if row is None:
            raise ValueError(f"unknown attempt: {attempt_uuid}")
        nonce, ct = crypto.encrypt(self._key, bytes(image), f"capture|{row[0]}|{attempt_uuid}")
        with self.db.atomic():
            return self.db.execute(
                "INSERT INTO captures (attempt_uuid, resident_id, media_type, nonce, ciphertext,"
                " captured_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [attempt_uuid, row[0], media_type, nonce, ct, self._iso(now), self._iso(now + timedelta(days=days))],
            ).lastrowid

    @_translating
    def captures_for(self, attempt_uuid: str) -> list[tuple[str, bytes]]:
        """(media_type, image bytes) kept for one attempt."""
        rows = self.db.query("SELECT * FROM captures WHERE attempt_uuid = ? ORDER BY id", [attempt_uuid])
        return [
            (r["media_type"], crypto.decrypt(
                self._key, r["nonce"], r["ciphertext"], f"capture|{r['resident_id']}|{attempt_uuid}"
            ))
            for r in rows
        ]

    @_translating
    def purge_expired(self, now: datetime | None = None) -> int:
        """Delete captures past their expiry, or older than a since-shortened retention."""
        now = now or self.clock.utc_now()
        days = max(int(self.get_setting(CAPTURE_RETENTION_KEY, 0)), 0)
        with self.db.atomic():
            count = self.db.execute(
                "DELETE FROM captures WHERE expires_at <= ? OR captured_at <= ?",
                [self._iso(now), self._iso(now - timedelta(days=days))],
            ).rowcount
            if count:
                self._audit_row("kiosk", "captures_purged", {"count": count}, now)
        return count


# --- row conversion and JSON hygiene -------------------------------------------------


# Which template rows count for matching: county/photo ones, and those of approved enrolments.
_COUNTS = "(enrolment_id IS NULL OR enrolment_id IN (SELECT id FROM enrolments WHERE status = 'approved'))"


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _attempt(r: dict) -> Attempt:
    return Attempt(**{**r, "scores": json.loads(r["scores"]), "liveness": json.loads(r["liveness"])})


def _outbox(r: dict) -> OutboxItem:
    return OutboxItem(**{**r, "payload": json.loads(r["payload"])})


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, sort_keys=True)


def _plain(value: Any, where: str) -> Any:
    """A JSON-safe copy; refuses raw bytes, arrays and face-data keys so none reach the outbox."""
    if isinstance(value, (bytes, bytearray, memoryview, np.ndarray)):
        raise ValueError(f"{where}: image or embedding data must not be stored in records")
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if is_face_data_key(k):  # the same list the county hub refuses
                raise ValueError(f"{where}: key {k!r} looks like face data and must not be stored")
            out[str(k)] = _plain(v, f"{where}.{k}")
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(v, where) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise ValueError(f"{where}: cannot store value of type {type(value).__name__}")
