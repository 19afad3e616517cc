"""Daily online backups of kiosk.db into $KIOSK_HOME/backups/kiosk-YYYYMMDD.db.

Taken with SQLite's backup API while the kiosk runs (readers and writers carry on), at most once
per service-area day, by whoever opens the store first that day (the app at start, `kiosk sync`).
Each file is written 0600 to a temporary name and renamed, so a kill or a full disk never leaves
a half backup under the final name. Backups older than `backup_keep_days` are removed; the newest
one is always kept.
"""
from __future__ import annotations

import os
import re
import sqlite3
from datetime import date, timedelta
from pathlib import Path

from kiosk.core.atomic import fsync_dir

from . import StoreError
from .db import Store, _translate, backups_dir, translate_os_error

BACKUP_RE = re.compile(r"^kiosk-(\d{8})\.db$")
DEFAULT_KEEP_DAYS = 7


def list_backups(db_path: Path) -> list[tuple[date, Path]]:
    """(day, file) of every backup beside `db_path`, newest first."""
    folder = backups_dir(Path(db_path))
    out = []
    if folder.is_dir():
        for p in folder.iterdir():
            m = BACKUP_RE.match(p.name)
            if m and p.is_file() and p.stat().st_size > 0:
                try:
                    out.append((date(int(m[1][:4]), int(m[1][4:6]), int(m[1][6:])), p))
                except ValueError:
                    continue
    return sorted(out, reverse=True)


def _today(store: Store, clock) -> date:
    clock = clock or getattr(store, "clock", None)
    if clock is None:
        from kiosk.core.clock import default_clock

        clock = default_clock()
    return clock.today()


def make_backup(store: Store, target: Path) -> Path:
    """A consistent copy of the open store at `target` (0600, temp file + rename)."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        dest = sqlite3.connect(tmp)
        try:
            store.db.conn.backup(dest)
        finally:
            dest.close()
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except sqlite3.Error as e:
        tmp.unlink(missing_ok=True)
        translated = _translate(e, target)
        raise (translated if isinstance(translated, StoreError) else StoreError("backup_failed", detail=str(e))) from e
    except OSError as e:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise translate_os_error(e, target) from e
    fsync_dir(target.parent)
    return target


def prune_backups(db_path: Path, today: date, keep_days: int) -> list[Path]:
    """Remove backups dated `keep_days` or more days before `today`; the newest is always kept."""
    removed = []
    backups = list_backups(db_path)
    cutoff = today - timedelta(days=max(int(keep_days), 1))
    for day, p in backups[1:]:
        if day <= cutoff:
            try:
                p.unlink()
                removed.append(p)
            except OSError:
                pass
    return removed


def ensure_daily_backup(store: Store, *, keep_days: int = DEFAULT_KEEP_DAYS, clock=None) -> Path | None:
    """Today's backup if there is none yet (returns its path), else None. Raises StoreError
    (disk_full, read_only, io_error) if it cannot be written: callers show it and carry on."""
    today = _today(store, clock)
    target = backups_dir(store.path) / f"kiosk-{today:%Y%m%d}.db"
    made = None
    if not target.exists():
        made = make_backup(store, target)
        store.audit("kiosk", "backup_made", {"file": target.name})
    prune_backups(store.path, today, keep_days)
    return made
