"""The terminal's data under disk trouble: full disk, read-only disk, lost key, damaged file,
empty file; daily backups; `kiosk doctor` salvage; files 0600. Real faults where root can make
them (a tiny tmpfs, a read-only remount), portable stand-ins (max_page_count, mode=ro) besides."""
from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from kiosk.core.clock import Clock
from kiosk.store import (
    Store,
    StoreCorrupt,
    StoreEmpty,
    StoreFull,
    StoreReadOnly,
    TemplateKeyError,
    doctor,
)
from kiosk.store.backup import ensure_daily_backup, list_backups
from kiosk.store.db import _translate
from test_sync_support import hub  # noqa: F401  (fixture)

ZHANG = "11010519491231002X"
T0 = datetime(2026, 3, 5, 1, 0, tzinfo=timezone.utc)
PAGE = 4096


def record(store, i, verdict="pass", message="恭喜您认证成功"):
    at = T0 + timedelta(minutes=i)
    return store.record_attempt(resident_id=ZHANG, category="pension", mode="self", verdict=verdict,
                                started_at=at, finished_at=at + timedelta(seconds=8), message=message)


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture
def paths(tmp_path):
    return tmp_path / "kiosk.db", tmp_path / "keys" / "template.key"


# --- a tiny tmpfs (root only; skipped where mount is not allowed) ----------------------------


@pytest.fixture
def tmpfs(tmp_path):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _remount(mnt: Path, opt: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{opt}", str(mnt)], check=True, capture_output=True)


def test_full_disk_on_a_real_tiny_filesystem(tmpfs, tmp_path):
    key = tmp_path / "keys" / "template.key"
    store = Store.open(tmpfs / "kiosk.db", key)
    store.upsert_resident(ZHANG, "张三")
    saved = []
    with pytest.raises(StoreFull) as info:
        for i in range(10_000):
            saved.append(record(store, i, message="认证未通过" * 100))
    assert info.value.code == "disk_full" and "磁盘已满" in info.value.message
    assert "不会丢失" in info.value.message
    assert len(store.pending_outbox(limit=-1)) == len(saved) > 0
    store.close()
    # Reopened after the fault: every committed record is there.
    with Store.open(tmpfs / "kiosk.db", key) as again:
        assert sorted(a.uuid for a in again.attempts_for(ZHANG)) == sorted(saved)


def test_backup_on_a_full_disk_says_so_and_leaves_no_half_file(tmpfs, tmp_path):
    key = tmp_path / "keys" / "template.key"
    with Store.open(tmpfs / "kiosk.db", key) as store:
        store.upsert_resident(ZHANG, "张三")
        for i in range(5):
            record(store, i)
        filler = tmpfs / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)  # take the rest of the disk
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        os.close(fd)
        with pytest.raises(StoreFull) as info:
            ensure_daily_backup(store, clock=Clock.fixed("2026-03-05"))
        assert "磁盘已满" in info.value.message
        assert not [p for p in (tmpfs / "backups").iterdir()]
        filler.unlink()
        assert ensure_daily_backup(store, clock=Clock.fixed("2026-03-05")).name == "kiosk-20260305.db"


def test_full_disk_portable_max_page_count(paths):
    with Store.open(*paths) as store:
        store.upsert_resident(ZHANG, "张三")
        record(store, 0)
        store.db.execute(f"PRAGMA max_page_count = {store.db.execute('PRAGMA page_count').fetchone()[0]}")
        with pytest.raises(StoreFull):
            record(store, 1, message="x" * 100_000)


def test_read_only_disk_is_not_called_damaged(tmpfs, tmp_path):
    key = tmp_path / "keys" / "template.key"
    with Store.open(tmpfs / "kiosk.db", key) as s:
        s.upsert_resident(ZHANG, "张三")
        record(s, 0)
    before = {p.name: p.read_bytes() for p in tmpfs.iterdir()}
    _remount(tmpfs, "ro")
    with pytest.raises(StoreReadOnly) as info:
        Store.open(tmpfs / "kiosk.db", key)
    assert info.value.code == "read_only" and "只读" in info.value.message and "损坏" not in info.value.message
    _remount(tmpfs, "rw")
    assert {p.name: p.read_bytes() for p in tmpfs.iterdir()} == before
    with Store.open(tmpfs / "kiosk.db", key) as s:  # writable again: carries on
        assert len(s.pending_outbox()) == 1
    # (A disk that turns read-only while files are open cannot be made without a failing device;
    # the SQLITE_READONLY a write then gets is tested below with a mode=ro connection.)


def test_read_only_portable_sqlite_readonly_code(paths):
    db_path, key_path = paths
    Store.open(db_path, key_path).close()
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as raw:
        conn.execute("INSERT INTO settings (key, value) VALUES ('a', '1')")
    conn.close()
    assert raw.value.sqlite_errorname == "SQLITE_READONLY"
    assert isinstance(_translate(raw.value, db_path), StoreReadOnly)


def test_damaged_file_says_run_doctor(paths):
    db_path, key_path = paths
    Store.open(db_path, key_path).close()
    db_path.write_bytes(os.urandom(8 * PAGE))
    with pytest.raises(StoreCorrupt) as info:
        Store.open(db_path, key_path)
    assert info.value.code == "corrupt" and "kiosk doctor" in info.value.message


# --- missing key --------------------------------------------------------------------------


def test_lost_key_stops_templates_not_records(paths):
    db_path, key_path = paths
    with Store.open(db_path, key_path) as s:
        s.upsert_resident(ZHANG, "张三")
        s.add_template(ZHANG, np.ones(128), "dlib-128")
        record(s, 0)
    key_path.unlink()
    with pytest.raises(TemplateKeyError) as info:
        Store.open(db_path, key_path)
    assert info.value.code == "key_missing" and "kiosk export" in info.value.message
    with Store.open(db_path, key_path, require_key=False) as s:
        assert not s.has_key and s.key_error.code == "key_missing"
        assert len(s.pending_outbox()) == 1
        with pytest.raises(TemplateKeyError):  # certifying needs the key (templates, sealed ID numbers)
            record(s, 1)
        with pytest.raises(TemplateKeyError):
            s.templates_for(ZHANG, "dlib-128")
    assert not key_path.exists()  # never silently replaced


# --- empty file ---------------------------------------------------------------------------


def test_empty_file_from_an_unfinished_first_start_is_moved_aside(paths):
    db_path, key_path = paths
    db_path.write_bytes(b"")
    with Store.open(db_path, key_path) as s:
        s.upsert_resident(ZHANG, "张三")
        assert s.audit_entries()[0]["action"] == "empty_database_replaced"
    aside = [p for p in db_path.parent.iterdir() if p.name.startswith("kiosk.db.empty-")]
    assert len(aside) == 1 and aside[0].stat().st_size == 0


def test_empty_file_with_a_backup_says_run_doctor(paths):
    db_path, key_path = paths
    with Store.open(db_path, key_path) as s:
        s.upsert_resident(ZHANG, "张三")
        ensure_daily_backup(s, clock=Clock.fixed("2026-03-05"))
    db_path.write_bytes(b"")
    with pytest.raises(StoreEmpty) as info:
        Store.open(db_path, key_path)
    assert info.value.code == "empty_file" and "kiosk doctor" in info.value.message
    assert db_path.stat().st_size == 0


# --- backups ------------------------------------------------------------------------------


def test_daily_backup_once_a_day_0600_and_kept_n_days(paths):
    db_path, key_path = paths
    with Store.open(db_path, key_path) as s:
        s.upsert_resident(ZHANG, "张三")
        record(s, 0)
        first = ensure_daily_backup(s, clock=Clock.fixed("2026-03-01"))
        assert first.name == "kiosk-20260301.db" and mode(first) == 0o600
        assert ensure_daily_backup(s, clock=Clock.fixed("2026-03-01")) is None  # once a day
        copy = sqlite3.connect(first)
        assert copy.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        copy.close()
        for day in range(2, 12):
            ensure_daily_backup(s, keep_days=3, clock=Clock.fixed(f"2026-03-{day:02d}"))
    names = [p.name for _, p in list_backups(db_path)]
    assert names == ["kiosk-20260311.db", "kiosk-20260310.db", "kiosk-20260309.db"]
    assert not [p for p in (db_path.parent / "backups").iterdir() if p.name.endswith(".part")]


def test_new_files_are_0600_and_key_folder_0700(paths):
    db_path, key_path = paths
    old = os.umask(0o022)
    try:
        with Store.open(db_path, key_path) as s:
            record_free = s.upsert_resident(ZHANG, "张三")
            assert record_free
            wal = db_path.with_name("kiosk.db-wal")
            assert mode(db_path) == 0o600 and (not wal.exists() or mode(wal) == 0o600)
    finally:
        os.umask(old)
    assert mode(key_path) == 0o600 and mode(key_path.parent) == 0o700
    db_path.chmod(0o644)
    Store.open(db_path, key_path).close()
    assert mode(db_path) == 0o600  # an existing world-readable file is tightened


# --- kiosk doctor -------------------------------------------------------------------------


def _filled(db_path, key_path, n=400):
    """Many attempts + outbox rows; half the outbox acknowledged. Returns pending outbox uuids."""
    with Store.open(db_path, key_path) as s:
        s.upsert_resident(ZHANG, "张三")
        with s.transaction():
            for i in range(n):
                record(s, i, message=f"MARK-{i:05d} " + "认证未通过" * 20, verdict="fail" if i % 2 else "pass")
        items = s.pending_outbox(limit=-1)
        s.mark_acked([i.uuid for i in items[: n // 2]])
        return {i.uuid for i in items[n // 2:]}


def _attempts_page(db_path: Path) -> int:
    """A page in the middle of the attempts table (a leaf holding attempt rows, not the outbox)."""
    data = db_path.read_bytes()
    conn = sqlite3.connect(db_path)
    roots = {r[0] for r in conn.execute("SELECT rootpage FROM sqlite_master WHERE rootpage > 0")}
    conn.close()
    pages = []
    for i in range(len(data) // PAGE):
        page = data[i * PAGE:(i + 1) * PAGE]
        if page[0] == 0x0D and b"MARK-" in page and b"certification" not in page and b'"message"' not in page \
                and (i + 1) not in roots:
            pages.append(i)
    assert len(pages) > 4
    return pages[len(pages) // 2]


def test_doctor_salvages_every_pending_record_past_a_damaged_page(paths):
    db_path, key_path = paths
    pending = _filled(db_path, key_path)
    with Store.open(db_path, key_path) as s:
        total_attempts = s.db.execute("SELECT count(*) FROM attempts").fetchone()[0]
    page = _attempts_page(db_path)
    fd = os.open(db_path, os.O_RDWR)
    os.pwrite(fd, os.urandom(PAGE), page * PAGE)
    os.close(fd)
    damaged = db_path.read_bytes()
    with pytest.raises(StoreCorrupt):
        Store.open(db_path, key_path)
    # Python's iterdump gives up at the bad page; the doctor does not.
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    with pytest.raises(sqlite3.DatabaseError):
        list(conn.iterdump())
    conn.close()
    report = doctor.check(db_path, key_path)
    assert report.database == "damaged" and report.problems[0].code == "corrupt"
    assert db_path.read_bytes() == damaged  # looking changes nothing

    report = doctor.repair(db_path, key_path)
    assert report.repaired and report.database == "ok"
    assert report.pending_recovered == len(pending)
    assert "attempts" in report.unreadable_ranges
    assert 0 < report.salvaged["attempts"] < total_attempts
    assert report.salvaged["outbox"] == 400 and report.salvaged["audit_log"] == 400
    kept = [p for p in db_path.parent.iterdir() if p.name.startswith("kiosk.db.damaged-")
            and not p.name.endswith(("-wal", "-shm"))]
    assert len(kept) == 1 and kept[0].read_bytes() == damaged  # never deleted, never changed
    with Store.open(db_path, key_path) as s:  # the kiosk opens the salvaged database
        assert {i.uuid for i in s.pending_outbox(limit=-1)} == pending
        assert s.has_key  # key_check came across: the template key still fits
    assert mode(db_path) == 0o600
    assert "待上传的认证记录" in doctor.human(report)


def test_doctor_fills_lost_rows_from_the_backup(paths):
    db_path, key_path = paths
    _filled(db_path, key_path, n=300)
    with Store.open(db_path, key_path) as s:
        ensure_daily_backup(s, clock=Clock.fixed("2026-03-05"))
        uuids = {r[0] for r in s.db.execute("SELECT uuid FROM attempts")}
    page = _attempts_page(db_path)
    fd = os.open(db_path, os.O_RDWR)
    os.pwrite(fd, b"\xff" * PAGE, page * PAGE)
    os.close(fd)
    report = doctor.repair(db_path, key_path)
    assert report.repaired and report.from_backup.get("attempts", 0) > 0
    with Store.open(db_path, key_path) as s:
        assert {r[0] for r in s.db.execute("SELECT uuid FROM attempts")} == uuids


def test_doctor_empty_file_restores_the_backup(paths):
    db_path, key_path = paths
    pending = _filled(db_path, key_path, n=20)
    with Store.open(db_path, key_path) as s:
        ensure_daily_backup(s, clock=Clock.fixed("2026-03-05"))
    db_path.write_bytes(b"")
    report = doctor.check(db_path, key_path)
    assert report.database == "empty" and report.problems[0].code == "empty_file"
    report = doctor.repair(db_path, key_path)
    assert report.repaired and report.restored_backup == "kiosk-20260305.db"
    assert any(k.startswith("kiosk.db.empty-") for k in report.kept_as)
    with Store.open(db_path, key_path) as s:
        assert {i.uuid for i in s.pending_outbox(limit=-1)} == pending


def test_doctor_random_bytes_without_backup_keeps_the_file(paths):
    db_path, key_path = paths
    Store.open(db_path, key_path).close()
    junk = os.urandom(16 * PAGE)
    db_path.write_bytes(junk)
    report = doctor.repair(db_path, key_path)
    assert report.repaired and not any(report.salvaged.values())
    kept = db_path.parent / report.kept_as[0]
    assert kept.read_bytes() == junk
    with Store.open(db_path, key_path) as s:  # a fresh database; the county sends the roster again
        assert s.pending_outbox() == []


def test_doctor_reports_a_missing_key_and_low_backups(paths):
    db_path, key_path = paths
    _filled(db_path, key_path, n=4)
    key_path.unlink()
    report = doctor.check(db_path, key_path)
    assert report.database == "ok" and report.key == "missing"
    assert {p.code for p in report.problems} >= {"key_missing", "no_backup"}
    assert report.pending_outbox == 2
    d = report.to_dict()
    assert d["ok"] is False and d["key"] == "missing"


# --- the outbox leaves with the template key lost (CLI end to end) ------------------------


def _cli(capsys, *argv):
    import json

    from kiosk.cli import main

    code = main([str(a) for a in argv])
    out = capsys.readouterr().out
    _cli.out = out
    return code, [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_export_and_sync_work_with_the_template_key_lost(hub, tmp_path, capsys):
    from kiosk.sync import register
    from test_sync_support import assert_hub_holds_exactly, fill, people

    folder = tmp_path / "t1"
    folder.mkdir()
    db, key = folder / "kiosk.db", folder / "keys" / "template.key"
    store = Store.open(db, key)
    ident = register(store, hub.url, hub.db.provision("东村"), "东村服务点")
    assert mode(key.parent / "device.key") == 0o600
    fill(store, people(12))
    store.close()
    key.unlink()  # the template key is lost

    code, lines = _cli(capsys, "export", "--to", tmp_path / "usb", "--db", db, "--key", key, "--json")
    assert code == 0 and lines[-1]["certifications"] == 12
    bundle = Path(lines[-1]["file"])
    assert mode(bundle) == 0o600
    _, res, _ = hub.db.import_bundle(bundle.read_bytes())
    assert res.stored > 12 and res.rejected == 0
    with Store.open(db, key, require_key=False) as s:
        assert assert_hub_holds_exactly(hub.db, s, ident.device_id) == 12
    # Online sync also goes on: records up, roster down; templates wait for the key.
    code, lines = _cli(capsys, "sync", "--once", "--db", db, "--key", key, "--json")
    assert code == 0 and lines[-1]["pending"] == 0 and lines[-1]["duplicates"] == 12
    assert list_backups(db)  # kiosk sync took today's backup
    assert not key.exists()  # and nothing made up a new template key


def test_doctor_command_salvages_and_reports_json(tmp_path, capsys):
    db, key = tmp_path / "kiosk.db", tmp_path / "keys" / "template.key"
    pending = _filled(db, key, n=200)
    page = _attempts_page(db)
    fd = os.open(db, os.O_RDWR)
    os.pwrite(fd, os.urandom(PAGE), page * PAGE)
    os.close(fd)
    code, lines = _cli(capsys, "doctor", "--check-only", "--db", db, "--key", key, "--json")
    assert code == 0 and lines[-1]["database"] == "damaged" and not lines[-1]["repaired"]
    code, lines = _cli(capsys, "doctor", "--db", db, "--key", key, "--json")
    report = lines[-1]
    assert code == 0 and report["repaired"] and report["pending_recovered"] == len(pending)
    assert report["kept_as"][0].startswith("kiosk.db.damaged-") and report["database"] == "ok"
    code, _ = _cli(capsys, "doctor", "--db", db, "--key", key)
    assert code == 0 and f"待上传的认证记录：{len(pending)} 条" in _cli.out and "数据库" in _cli.out


def test_damaged_database_is_one_line_exit_2(tmp_path, capsys):
    db, key = tmp_path / "kiosk.db", tmp_path / "keys" / "template.key"
    Store.open(db, key).close()
    db.write_bytes(os.urandom(8 * PAGE))
    code, lines = _cli(capsys, "residents", "--db", db, "--key", key, "--json")
    assert code == 2 and lines[-1]["error"] == "corrupt" and "kiosk doctor" in lines[-1]["message"]


def test_kill_during_first_start_never_bricks_the_kiosk(tmp_path):
    """kill -9 while kiosk.db is being created (the issue's 14-of-60 case): the next start works."""
    import random
    import signal
    import sys
    import time

    code = ("import sys; from kiosk.store import Store; print('ready', flush=True); sys.stdin.readline();"
            " Store.open(sys.argv[1], sys.argv[2]).close()")
    rng = random.Random(11)
    outcomes = {"killed_before": 0, "killed_during": 0, "finished": 0, "left_empty": 0}
    for i in range(8):
        folder = tmp_path / f"k{i}"
        folder.mkdir()
        db, key = folder / "kiosk.db", folder / "keys" / "template.key"
        proc = subprocess.Popen([sys.executable, "-c", code, str(db), str(key)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        proc.stdin.write("go\n")
        proc.stdin.flush()
        time.sleep(rng.uniform(0, 0.03))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if not db.exists():
            outcomes["killed_before"] += 1
        elif proc.returncode == -signal.SIGKILL:
            outcomes["killed_during"] += 1
            outcomes["left_empty"] += db.stat().st_size == 0
        else:
            outcomes["finished"] += 1
        with Store.open(db, key) as s:  # the next start: never refused
            s.upsert_resident(ZHANG, "张三")
            assert s.get_resident(ZHANG).name == "张三"
    print(outcomes)  # e.g. 7 of 8 kills left a 0-byte kiosk.db (timing decides; every one reopened)


def test_export_from_a_read_only_disk(hub, tmpfs, tmp_path, capsys):
    from kiosk.sync import register
    from test_sync_support import fill, people

    db, key = tmpfs / "kiosk.db", tmp_path / "keys" / "template.key"
    with Store.open(db, key) as store:
        register(store, hub.url, hub.db.provision("东村"), "东村服务点")
        fill(store, people(6))
    _remount(tmpfs, "ro")
    try:
        code, lines = _cli(capsys, "sync", "--once", "--db", db, "--key", key, "--json")
        assert code == 2 and lines[-1]["error"] == "read_only"
        code, lines = _cli(capsys, "export", "--to", tmp_path / "usb", "--db", db, "--key", key, "--json")
        assert code == 0 and lines[-1]["certifications"] == 6 and lines[-1]["read_only_disk"]
    finally:
        _remount(tmpfs, "rw")
    _, res, _ = hub.db.import_bundle(Path(lines[-1]["file"]).read_bytes())
    assert res.stored > 6 and res.rejected == 0



# --- personal data at rest -----------------------------------------------------------------


def _raw(db_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))


def test_names_and_id_numbers_are_sealed_at_rest(paths):
    db_path, key_path = paths
    with Store.open(*paths) as s:
        s.upsert_resident(ZHANG, "张秀英", village="东村", categories=["pension"])
        s.add_template(ZHANG, np.ones(128), "dlib-128")
        record(s, 0)
        r = s.get_resident(ZHANG)
        assert (r.name, r.id_number, r.birth_date.isoformat(), r.region) == ("张秀英", ZHANG, "1949-12-31", "110105")
        assert s.attempts_for(ZHANG)[0].resident_id == ZHANG
        assert list(s.all_templates("dlib-128")) == [ZHANG]
        # Waiting to be sent, the record carries the full ID number the county needs (no key needed to send it).
        raw = _raw(db_path)
        assert "张秀英".encode() not in raw and b"1949-12-31" not in raw
        assert ZHANG.encode() in raw
        s.mark_acked([i.uuid for i in s.pending_outbox()])
        assert s.db.execute("SELECT json_extract(payload, '$.resident_id') FROM outbox").fetchone()[0] \
            == "110105********002X"
    raw = _raw(db_path)
    assert ZHANG.encode() not in raw and ZHANG[6:14].encode() not in raw and "张秀英".encode() not in raw


def test_migration_seals_an_existing_v3_database(paths):
    from sqlite_utils import Database

    from kiosk.store import crypto
    from kiosk.store.migrations import SCHEMA_VERSION, migrate

    db_path, key_path = paths
    key = crypto.create_key(key_path)
    db = Database(db_path)
    db.enable_wal()
    migrate(db, target=3)
    n, c = crypto.key_check(key)
    vec = np.arange(128, dtype=np.float64)
    dt, dim, tn, tc = crypto.encrypt_vector(key, vec, crypto.vector_aad(ZHANG, "dlib-128"))
    with db.atomic():
        db.execute("INSERT INTO key_check VALUES (1, ?, ?, '2026-01-01')", [n, c])
        db.execute("INSERT INTO residents (id_number, name, birth_date, sex, region, village, updated_at)"
                   " VALUES (?, '张秀英', '1949-12-31', '女', '110105', '东村', '2026-01-01')", [ZHANG])
        db.execute("INSERT INTO templates (resident_id, backend, dim, dtype, nonce, ciphertext, source, created_at)"
                   " VALUES (?, 'dlib-128', ?, ?, ?, ?, 'county', '2026-01-01')", [ZHANG, dim, dt, tn, tc])
        db.execute("INSERT INTO attempts (uuid, resident_id, category, mode, started_at, finished_at, verdict)"
                   " VALUES ('a1', ?, 'pension', 'self', '2026-03-05T01:00:00.000+00:00',"
                   " '2026-03-05T01:00:09.000+00:00', 'pass')", [ZHANG])
        for u, acked in (("o1", "2026-03-05"), ("o2", None)):
            db.execute("INSERT INTO outbox (uuid, kind, payload, created_at, acked_at) VALUES (?, 'certification', ?,"
                       " '2026-03-05', ?)", [u, f'{{"resident_id": "{ZHANG}", "uuid": "{u}"}}', acked])
        db.execute("INSERT INTO county_roster VALUES (?, 7, '2026-03-05', '2026-03-05')", [ZHANG])
        cn, cc = crypto.encrypt(key, b"jpeg bytes", f"capture|{ZHANG}|a1")
        db.execute("INSERT INTO captures (attempt_uuid, resident_id, media_type, nonce, ciphertext, captured_at,"
                   " expires_at) VALUES ('a1', ?, 'image/jpeg', ?, ?, '2026-03-05', '2026-03-12')", [ZHANG, cn, cc])
    db.close()
    with Store.open(db_path, key_path) as s:
        assert s.schema_version == SCHEMA_VERSION
        r = s.get_resident(ZHANG)
        assert (r.name, r.birth_date.isoformat(), r.village) == ("张秀英", "1949-12-31", "东村")
        np.testing.assert_array_equal(s.templates_for(ZHANG, "dlib-128")[0], vec)
        assert [a.uuid for a in s.attempts_for(ZHANG)] == ["a1"]
        assert s.last_certified(ZHANG).isoformat() == "2026-03-05"
        assert s.captures_for("a1") == [("image/jpeg", b"jpeg bytes")]
        pending = s.pending_outbox()
        assert [p.payload["resident_id"] for p in pending] == [ZHANG]  # still sendable as it was
    raw = _raw(db_path)
    assert "张秀英".encode() not in raw
    assert raw.count(ZHANG.encode()) == 1  # only in the one record still waiting for the county
