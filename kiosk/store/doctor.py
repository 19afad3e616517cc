"""`kiosk doctor`: check the terminal's database, key, disk and backups; salvage a damaged file.

Checks work on a snapshot (a copy of kiosk.db and its WAL in a temporary folder), so looking
never changes the original. Salvage reads every table of the snapshot row by row in rowid
order; when a page is unreadable it probes forward rowid by rowid (then in growing steps) until
the table b-tree can be entered again, like the sqlite3 shell's `.recover` — Python's
`iterdump` stops at the first bad page. Pending outbox rows are written (and committed) first.
Rows the salvage could not read are taken from the newest daily backup where they are
append-only records (attempts, outbox, audit log) or one-row facts (identity, key check).
The damaged file is renamed `kiosk.db.damaged-<time>` and never deleted.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from sqlite_utils import Database

from . import crypto
from ..texts import has, text
from .backup import list_backups
from .db import free_bytes, read_only_reason
from .migrations import SCHEMA_VERSION, migrate

LOW_SPACE_BYTES = 200 * 1024 * 1024  # warn below 200 MB free
_LINEAR_PROBES = 512  # rowids tried one by one after an unreadable page, before growing steps
# Tables whose backup rows may be merged into a salvage: append-only records and one-row facts.
# (Residents, templates and settings are not: a deletion since the backup must not come back.)
_MERGE_FROM_BACKUP = ("outbox", "attempts", "fallbacks", "audit_log", "outbox_rejected", "sync_identity", "key_check",
                      "visits")
_FIRST = ("key_check", "sync_identity", "outbox")  # what the county needs, before anything else


@dataclass
class Problem:
    code: str
    message: str

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


@dataclass
class Report:
    db_path: str
    database: str = "unknown"  # ok / missing / empty / damaged / too_new
    database_detail: str = ""
    key: str = "unknown"  # ok / missing / invalid / mismatch / unknown
    free_bytes: int | None = None
    read_only: str | None = None
    backups: list[str] = field(default_factory=list)
    newest_backup: str | None = None
    pending_outbox: int | None = None
    problems: list[Problem] = field(default_factory=list)
    repaired: bool = False
    salvaged: dict[str, int] = field(default_factory=dict)
    unreadable_ranges: dict[str, list[list[int]]] = field(default_factory=dict)
    pending_recovered: int = 0
    from_backup: dict[str, int] = field(default_factory=dict)
    restored_backup: str | None = None
    kept_as: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "problems"}
        d["problems"] = [p.to_dict() for p in self.problems]
        d["ok"] = self.ok
        return d


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")


# ----------------------------------------------------------------------------- snapshot
def _snapshot(db_path: Path, into: Path) -> Path:
    """Copy kiosk.db and its WAL (not the -shm index, which SQLite rebuilds) into `into`."""
    snap = into / "kiosk.db"
    shutil.copyfile(db_path, snap)
    wal = db_path.with_name(db_path.name + "-wal")
    if wal.is_file() and wal.stat().st_size:
        shutil.copyfile(wal, into / "kiosk.db-wal")
    return snap


@contextlib.contextmanager
def open_snapshot(db_path: Path, key_path: Path, *, clock=None):
    """A Store on a copy of kiosk.db (and its WAL) in a temporary folder, for reading records off
    a read-only disk (e.g. `kiosk export`). Whatever is written to it is thrown away."""
    from .db import Store

    with tempfile.TemporaryDirectory(prefix="kiosk-snapshot-") as tmp:
        store = Store.open(_snapshot(Path(db_path), Path(tmp)), key_path, clock=clock, require_key=False)
        try:
            yield store
        finally:
            store.close()


def _quick_check(conn: sqlite3.Connection) -> tuple[bool, str]:
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as e:
        return False, str(e)
    if rows == [("ok",)]:
        return True, ""
    return False, "; ".join(str(r[0]) for r in rows[:5])


# ----------------------------------------------------------------------------- salvage
def _tables(conn: sqlite3.Connection) -> list[str]:
    try:
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").fetchall()
    except sqlite3.DatabaseError:
        return []
    return [r[0] for r in rows]


def _columns(conn, table: str) -> list[tuple[str, bool]]:
    """(name, is the rowid alias) of each column."""
    try:
        info = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
    except sqlite3.DatabaseError:
        return []
    pks = [r for r in info if r[5]]
    alias = pks[0][1] if len(pks) == 1 and (pks[0][2] or "").upper() == "INTEGER" else None
    return [(r[1], r[1] == alias) for r in info]


def _next_readable(conn, table: str, after: int | None, top: int | None) -> int | None:
    """The first rowid past an unreadable stretch that the table b-tree can be entered at."""
    start = (after if after is not None else -1) + 1
    step, probe, n = 1, start, 0
    limit = top if top is not None else start + (1 << 40)
    while probe <= limit:
        try:
            row = conn.execute(f'SELECT rowid FROM "{table}" WHERE rowid >= ? ORDER BY rowid LIMIT 1',
                               [probe]).fetchone()
            return None if row is None else row[0]
        except sqlite3.DatabaseError:
            pass
        n += 1
        if n >= _LINEAR_PROBES:
            step *= 2
        probe += step
    return None


def read_rows(conn, table: str, columns: list[str], gaps: list[list[int]]) -> Iterator[tuple]:
    """(rowid, *columns) of every readable row, in rowid order, skipping unreadable pages.
    Unreadable stretches are appended to `gaps` as [last good rowid, next good rowid]."""
    cols = ", ".join(f'"{c}"' for c in columns)
    try:
        top = conn.execute(f'SELECT max(rowid) FROM "{table}"').fetchone()[0]
    except sqlite3.DatabaseError:
        top = None
    low = -(1 << 63)
    last = None
    while True:
        progressed = False
        try:
            for row in conn.execute(f'SELECT rowid, {cols} FROM "{table}" WHERE rowid >= ? ORDER BY rowid', [low]):
                last, progressed = row[0], True
                yield row
            return
        except sqlite3.DatabaseError:
            if not progressed and low > -(1 << 63):
                last = max(last if last is not None else low, low)  # `low` itself is unreadable
            nxt = _next_readable(conn, table, last, top)
            start = last if last is not None else 0
            if gaps and gaps[-1][1] == start:
                gaps[-1][1] = nxt if nxt is not None else -1  # one stretch, probed twice
            else:
                gaps.append([start, nxt if nxt is not None else -1])
            if nxt is None or (last is not None and nxt <= last):
                return
            low = nxt


def _insert(dest: sqlite3.Connection, table: str, names: list[str], row: tuple) -> bool:
    sql = f'INSERT OR IGNORE INTO "{table}" ({", ".join(names)}) VALUES ({", ".join("?" * len(names))})'
    try:
        return dest.execute(sql, row).rowcount > 0
    except sqlite3.Error:
        return False  # garbage that passes for a row but breaks a constraint


def salvage(source: sqlite3.Connection, dest: sqlite3.Connection, report: Report) -> None:
    """Copy every readable row of `source` into `dest` (same schema, already migrated)."""
    dest_tables = set(_tables(dest))
    tables = [t for t in _tables(source) if t in dest_tables]
    order = [t for t in _FIRST if t in tables] + [t for t in tables if t not in _FIRST]
    for table in order:
        dest_cols = {name for name, _ in _columns(dest, table)}
        cols = [(n, alias) for n, alias in _columns(source, table) if n in dest_cols]
        if not cols:
            continue
        names = [n for n, _ in cols]
        has_alias = any(alias for _, alias in cols)
        target = names if has_alias else ["rowid", *names]
        gaps: list[list[int]] = []
        rows = list(read_rows(source, table, names, gaps))
        if table == "outbox" and "acked_at" in names:
            at = names.index("acked_at") + 1
            pending = [r for r in rows if r[at] is None]
            rows = pending + [r for r in rows if r[at] is not None]
            n_pending = sum(_insert(dest, table, target, r if not has_alias else r[1:]) for r in pending)
            dest.commit()  # the county's records are safe before anything else is copied
            report.pending_recovered = n_pending
            rest = rows[len(pending):]
            copied = n_pending + sum(_insert(dest, table, target, r if not has_alias else r[1:]) for r in rest)
        else:
            copied = sum(_insert(dest, table, target, r if not has_alias else r[1:]) for r in rows)
        dest.commit()
        report.salvaged[table] = copied
        if gaps:
            report.unreadable_ranges[table] = gaps


def merge_backup(backup: Path, dest: sqlite3.Connection, report: Report) -> None:
    """Rows of append-only tables that the salvage lost but yesterday's backup holds."""
    dest.execute("ATTACH DATABASE ? AS bk", [f"file:{backup}?mode=ro"])
    try:
        for table in _MERGE_FROM_BACKUP:
            try:
                cols = [n for n, _ in _columns(dest, table)]
                names = ", ".join(f'"{c}"' for c in cols)
                before = dest.execute(f'SELECT count(*) FROM main."{table}"').fetchone()[0]
                dest.execute(f'INSERT OR IGNORE INTO main."{table}" ({names}) SELECT {names} FROM bk."{table}"')
                added = dest.execute(f'SELECT count(*) FROM main."{table}"').fetchone()[0] - before
            except sqlite3.Error:
                continue
            if added:
                report.from_backup[table] = added
        dest.commit()
    finally:
        dest.execute("DETACH DATABASE bk")


def _new_database(path: Path) -> sqlite3.Connection:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    migrate(Database(path))  # (closes nothing; the connection below is a separate one)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = OFF")
    return conn


def _move_aside(db_path: Path, label: str, report: Report) -> None:
    """kiosk.db (and its -wal/-shm) -> kiosk.db.<label>-<time>: renamed, never deleted."""
    aside = db_path.with_name(f"{db_path.name}.{label}-{_stamp()}")
    os.replace(db_path, aside)
    report.kept_as.append(aside.name)
    for suffix in ("-wal", "-shm"):
        side = db_path.with_name(db_path.name + suffix)
        if side.exists():
            os.replace(side, aside.with_name(aside.name + suffix))
            report.kept_as.append(aside.name + suffix)


# ----------------------------------------------------------------------------- the doctor
def check(db_path: Path, key_path: Path) -> Report:
    """Look only: database state, key, disk, backups, pending records."""
    db_path, key_path = Path(db_path), Path(key_path)
    r = Report(db_path=str(db_path))
    backups = list_backups(db_path)
    r.backups = [p.name for _, p in backups]
    r.newest_backup = backups[0][0].isoformat() if backups else None
    r.free_bytes = free_bytes(db_path)
    r.read_only = read_only_reason(db_path)
    key_check_row = None
    if not db_path.exists():
        r.database = "missing"
    elif db_path.stat().st_size == 0 and not _wal_size(db_path):
        r.database = "empty"
    else:
        with tempfile.TemporaryDirectory(prefix="kiosk-doctor-") as tmp:
            snap = _snapshot(db_path, Path(tmp))
            conn = sqlite3.connect(snap)
            try:
                good, detail = _quick_check(conn)
                try:
                    version = conn.execute("PRAGMA user_version").fetchone()[0]
                except sqlite3.DatabaseError:
                    version = 0
                if good and version > SCHEMA_VERSION:
                    r.database, r.database_detail = "too_new", f"version {version} > {SCHEMA_VERSION}"
                elif good and db_path.stat().st_size == 0:
                    r.database, r.database_detail = "empty", "0 bytes, the WAL holds the data"
                else:
                    r.database, r.database_detail = ("ok" if good else "damaged"), detail
                try:
                    r.pending_outbox = conn.execute(
                        "SELECT count(*) FROM outbox WHERE acked_at IS NULL").fetchone()[0]
                except sqlite3.DatabaseError:
                    r.pending_outbox = None
                try:
                    key_check_row = conn.execute("SELECT nonce, ciphertext FROM key_check WHERE id = 1").fetchone()
                except sqlite3.DatabaseError:
                    key_check_row = None
            finally:
                conn.close()
    r.key = _key_state(key_path, key_check_row)
    _problems(r, key_path)
    return r


def _wal_size(db_path: Path) -> int:
    wal = db_path.with_name(db_path.name + "-wal")
    return wal.stat().st_size if wal.is_file() else 0


def _key_state(key_path: Path, check_row) -> str:
    from . import TemplateKeyError

    if not key_path.exists():
        return "missing"
    try:
        key = crypto.read_key(key_path)
        if check_row is not None:
            crypto.verify_key(key, *check_row)
    except TemplateKeyError as e:
        return {"key_missing": "missing", "key_mismatch": "mismatch"}.get(e.code, "invalid")
    return "ok" if check_row is not None else "unknown"


def _problems(r: Report, key_path: Path) -> None:
    p = r.problems
    backup_hint = (text("doctor_newest_backup", name=r.newest_backup) if r.newest_backup
                   else text("doctor_no_backup_yet"))
    if r.database == "damaged":
        p.append(Problem("corrupt", text("doctor_corrupt", backup_hint=backup_hint)))
    elif r.database == "empty":
        p.append(Problem("empty_file", text("doctor_empty_file") + (
            text("doctor_empty_restore") if r.newest_backup else text("doctor_empty_no_backup"))))
    elif r.database == "too_new":
        p.append(Problem("schema_too_new", text("doctor_schema_too_new")))
    if r.read_only:
        p.append(Problem("read_only", text("doctor_read_only")))
    if r.free_bytes is not None and r.free_bytes < LOW_SPACE_BYTES:
        p.append(Problem("low_space", text("doctor_low_space", mb=r.free_bytes // (1024 * 1024))))
    if r.key == "missing" and r.database not in ("missing",):
        p.append(Problem("key_missing", text("doctor_key_missing", path=key_path)))
    elif r.key in ("mismatch", "invalid"):
        p.append(Problem("key_mismatch", text("doctor_key_mismatch")))
    if not r.backups and r.database == "ok":
        p.append(Problem("no_backup", text("doctor_no_backup")))


def repair(db_path: Path, key_path: Path) -> Report:
    """Check, then salvage a damaged or empty database into a fresh one (nothing is deleted)."""
    db_path = Path(db_path)
    r = check(db_path, key_path)
    if r.database not in ("damaged", "empty"):
        return r
    backups = list_backups(db_path)
    part = db_path.with_name(f"{db_path.name}.salvage-{_stamp()}.part")
    with tempfile.TemporaryDirectory(prefix="kiosk-doctor-") as tmp:
        dest = None
        try:
            if r.database == "empty" and not _wal_size(db_path):
                if not backups:
                    return r  # nothing to restore from: the next start makes a new database
                shutil.copyfile(backups[0][1], part)
                os.chmod(part, 0o600)
                r.restored_backup = backups[0][1].name
                r.actions.append(text("doctor_action_restored", name=backups[0][1].name))
                dest = sqlite3.connect(part)
            else:
                snap = _snapshot(db_path, Path(tmp))
                source = sqlite3.connect(snap)
                dest = _new_database(part)
                try:
                    salvage(source, dest, r)
                finally:
                    source.close()
                if backups:
                    merge_backup(backups[0][1], dest, r)
                if not any(r.salvaged.values()) and backups:
                    # Nothing readable (e.g. random bytes): start from the newest backup.
                    dest.close()
                    part.unlink()
                    shutil.copyfile(backups[0][1], part)
                    os.chmod(part, 0o600)
                    r.restored_backup = backups[0][1].name
                    dest = sqlite3.connect(part)
            ok, detail = _quick_check(dest)
            if not ok:
                raise RuntimeError(f"salvaged database fails its check: {detail}")
            dest.execute("PRAGMA journal_mode = WAL")
            dest.close()
            dest = None
        except BaseException:
            if dest is not None:
                dest.close()
            part.unlink(missing_ok=True)
            raise
    _move_aside(db_path, "damaged" if r.database == "damaged" else "empty", r)
    os.replace(part, db_path)
    r.repaired = True
    after = check(db_path, key_path)
    r.problems = after.problems
    r.pending_outbox = after.pending_outbox
    r.database, r.database_detail = after.database, after.database_detail
    return r


def human(r: Report) -> str:
    """The report in Chinese, for staff (the catalogue's doctor_* lines)."""
    lines = [text("doctor_line_database", path=r.db_path, state=_word("doctor_dbstate", r.database)),
             text("doctor_line_key", state=_word("doctor_keystate", r.key))]
    if r.free_bytes is not None:
        lines.append(text("doctor_line_free", mb=f"{r.free_bytes / (1024 * 1024):.0f}")
                     + (text("doctor_line_read_only") if r.read_only else ""))
    lines.append(text("doctor_line_backups", n=len(r.backups))
                 + (text("doctor_line_newest", name=r.newest_backup) if r.newest_backup else ""))
    if r.pending_outbox is not None:
        lines.append(text("doctor_line_pending", n=r.pending_outbox))
    sep = text("doctor_sep")
    if r.repaired:
        if any(r.salvaged.values()):
            lines.append(text("doctor_line_salvaged", items=sep.join(
                text("doctor_rows", table=_label(t), n=n) for t, n in r.salvaged.items() if n)))
            lines.append(text("doctor_line_pending_recovered", n=r.pending_recovered))
        if r.unreadable_ranges:
            lines.append(text("doctor_line_unreadable", items=sep.join(
                text("doctor_gaps", table=_label(t), n=len(g), rows=_lost(g)) for t, g in r.unreadable_ranges.items())))
        if r.from_backup:
            lines.append(text("doctor_line_from_backup", items=sep.join(
                text("doctor_rows", table=_label(t), n=n) for t, n in r.from_backup.items())))
        if r.restored_backup:
            lines.append(text("doctor_line_restored", name=r.restored_backup))
        lines.append(text("doctor_line_kept_as", names=text("engine_list").join(r.kept_as)))
        lines.append(text("doctor_line_next"))
    elif r.database in ("damaged", "empty"):
        lines.append(text("doctor_line_close_app"))
    for p in r.problems:
        lines.append(text("doctor_line_problem", message=p.message))
    if r.ok and not r.repaired:
        lines.append(text("doctor_line_all_ok"))
    return "\n".join(lines)


def _word(prefix: str, state: str) -> str:
    """A state's word (doctor_dbstate_ok, doctor_keystate_missing …); an unknown state as it is."""
    code = f"{prefix}_{state}"
    return text(code) if has(code) else state


def _label(table: str) -> str:
    """A table's name for staff (doctor_table_<table>); an unknown table as it is."""
    return text(f"doctor_table_{table}") if has(f"doctor_table_{table}") else table


def _lost(gaps: list[list[int]]) -> str:
    """Rows between the last good and the next good rowid (rowids here are dense)."""
    if any(b < 0 for _, b in gaps):
        return text("doctor_rows_unknown")
    return str(sum(max(b - a - 1, 0) for a, b in gaps))
