import json
import os
import sqlite3
import stat
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest
from sqlite_utils import Database

from kiosk.policy import Category
from kiosk.core.clock import Clock
from kiosk.core.ids import InvalidIdNumber
from kiosk.store import (
    Store,
    StoreCorrupt,
    StoreError,
    StoreFull,
    StoreTooNew,
    TemplateKeyError,
)
from kiosk.store.migrations import AGEING_MIGRATION, FALLBACKS_MIGRATION, SCHEMA_VERSION, VISITS_MIGRATION, migrate

ZHANG = "11010519491231002X"
LI = "440304198001010017"
T0 = datetime(2026, 3, 5, 1, 0, tzinfo=timezone.utc)  # 09:00 in China


@pytest.fixture
def paths(tmp_path):
    return tmp_path / "kiosk.db", tmp_path / "keys" / "template.key"


@pytest.fixture
def store(paths):
    s = Store.open(*paths, clock=Clock.fixed(T0))  # no test depends on the day it runs
    s.upsert_resident(ZHANG, "张三", village="东村", categories=[Category.PENSION])
    s.upsert_resident(LI, "李四", village="西村", categories=["工伤资格认证", "other"])
    yield s
    s.close()


def attempt(store, verdict="pass", at=T0, **extra):
    fields = dict(
        resident_id=ZHANG, category=Category.PENSION, mode="self", verdict=verdict,
        started_at=at, finished_at=at + timedelta(seconds=8),
        reason=None if verdict == "pass" else "face_mismatch",
        message="恭喜您认证成功" if verdict == "pass" else "认证未通过，请再试一次。",
        scores={"distance": 0.41}, liveness={"blink": True, "turn": "left"},
    )
    fields.update(extra)
    return store.record_attempt(**fields)


def count(store, table):
    return store.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def db_files_bytes(db_path):
    """Main file plus WAL: everything a thief copying the database would get."""
    return b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))


# --- opening, schema, migrations ---------------------------------------------------


def test_new_store_uses_wal_and_current_schema(store, paths):
    assert store.db.journal_mode == "wal"
    assert store.schema_version == SCHEMA_VERSION and FALLBACKS_MIGRATION == 8 and VISITS_MIGRATION == 7
    assert AGEING_MIGRATION == 9
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] > 0
    key_path = paths[1]
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert len(key_path.read_bytes()) == 32


def test_v1_database_is_upgraded_in_place(paths):
    db_path, key_path = paths
    old = Database(db_path)
    assert migrate(old, target=1) == 1
    old.execute(
        "INSERT INTO residents (id_number, name, birth_date, sex, region, categories, updated_at)"
        " VALUES (?, '张三', '1949-12-31', '女', '110105', '[\"pension\"]', '2025-01-01T00:00:00.000+00:00')",
        [ZHANG],
    )
    old.execute(
        "INSERT INTO attempts (uuid, resident_id, category, mode, started_at, finished_at, verdict)"
        " VALUES ('a-1', ?, 'pension', 'self', '2025-03-01T01:00:00.000+00:00',"
        " '2025-03-01T01:00:08.000+00:00', 'pass')",
        [ZHANG],
    )
    old.execute("INSERT INTO audit_log (at, actor, action) VALUES ('2025-03-01T01:00:08.000+00:00', 'kiosk', 'x')")
    assert "captures" not in old.table_names()
    old.close()

    with Store.open(db_path, key_path) as s:
        assert s.schema_version == SCHEMA_VERSION
        assert "captures" in s.db.table_names()
        assert s.get_resident(ZHANG).name == "张三"
        assert [a.uuid for a in s.attempts_for(ZHANG)] == ["a-1"]
        assert s.last_certified(ZHANG) == date(2025, 3, 1)
        assert s.audit_entries()[0]["action"] == "x"
        indexes = {i.name for i in s.db.table("attempts").indexes}
        assert "attempts_resident" in indexes


def test_failed_migration_leaves_old_version(paths, monkeypatch):
    from kiosk.store import migrations

    db = Database(paths[0])
    migrate(db, target=1)

    def broken(d):
        d.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    monkeypatch.setattr(migrations, "MIGRATIONS", [migrations.MIGRATIONS[0], broken])
    with pytest.raises(RuntimeError):
        migrations.migrate(db, target=2)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    assert "half_done" not in db.table_names()
    db.close()


def test_newer_database_is_refused_untouched(paths):
    db_path, key_path = paths
    Store.open(db_path, key_path).close()
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    before = db_path.read_bytes()
    with pytest.raises(StoreTooNew) as info:
        Store.open(db_path, key_path)
    assert info.value.code == "schema_too_new"
    assert "升级" in info.value.message
    assert db_path.read_bytes() == before


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_file_is_refused_and_left_byte_identical(paths, damage):
    db_path, key_path = paths
    with Store.open(db_path, key_path) as s:
        s.upsert_resident(ZHANG, "张三")
        for i in range(200):
            attempt(s, at=T0 + timedelta(minutes=i), message="认证未通过" * 50, verdict="fail")
    good = db_path.read_bytes()
    damaged = {
        "garbage": os.urandom(len(good)),
        "truncated": good[: len(good) // 2],
    }[damage]
    db_path.write_bytes(damaged)
    with pytest.raises(StoreCorrupt) as info:
        Store.open(db_path, key_path)
    assert isinstance(info.value, StoreError)
    assert "kiosk doctor" in info.value.message and "信息科" in info.value.message
    assert db_path.read_bytes() == damaged
    assert sorted(p.name for p in db_path.parent.iterdir()) == ["keys", "kiosk.db"]


# --- templates ---------------------------------------------------------------------


def test_templates_round_trip_both_dtypes(store):
    v64 = np.random.default_rng(1).normal(size=128)
    v32 = np.random.default_rng(2).normal(size=128).astype(np.float32)
    store.add_template(ZHANG, v64, "dlib-128", source="county")
    store.add_template(ZHANG, v32, "dlib-128")
    store.add_template(LI, v64[:64], "other-64")
    got = store.templates_for(ZHANG, "dlib-128")
    assert [g.dtype for g in got] == [np.float64, np.float32]
    np.testing.assert_array_equal(got[0], v64)
    np.testing.assert_array_equal(got[1], v32)
    assert store.templates_for(ZHANG, "other-64") == []
    everyone = store.all_templates("dlib-128")
    assert list(everyone) == [ZHANG] and len(everyone[ZHANG]) == 2
    assert list(store.all_templates("other-64")) == [LI]


def test_template_vectors_not_readable_from_stolen_database(paths):
    db_path, key_path = paths
    vector = np.random.default_rng(7).normal(size=128)
    with Store.open(db_path, key_path) as s:
        s.upsert_resident(ZHANG, "张三")
        s.add_template(ZHANG, vector, "dlib-128")
        s.add_template(ZHANG, vector.astype(np.float32), "dlib-128")
        raw = db_files_bytes(db_path)  # before close: the WAL holds the newest pages
    raw += db_files_bytes(db_path)
    for needle in (vector.tobytes(), vector.astype(np.float32).tobytes(), vector[:4].tobytes()):
        assert needle not in raw
    assert key_path.read_bytes() not in raw


def test_wrong_key_file_gives_clear_error(paths, tmp_path):
    db_path, key_path = paths
    with Store.open(db_path, key_path) as s:
        s.upsert_resident(ZHANG, "张三")
        s.add_template(ZHANG, np.ones(128), "dlib-128")
    other_key = tmp_path / "other.key"
    other_key.write_bytes(os.urandom(32))
    with pytest.raises(TemplateKeyError) as info:
        Store.open(db_path, other_key)
    assert info.value.code == "key_mismatch"
    assert "密钥" in info.value.message


def test_missing_key_file_is_not_silently_replaced(paths):
    db_path, key_path = paths
    Store.open(db_path, key_path).close()
    key_path.unlink()
    with pytest.raises(TemplateKeyError) as info:
        Store.open(db_path, key_path)
    assert info.value.code == "key_missing"
    assert not key_path.exists()


def test_damaged_key_file(paths):
    db_path, key_path = paths
    Store.open(db_path, key_path).close()
    key_path.write_bytes(b"short")
    with pytest.raises(TemplateKeyError) as info:
        Store.open(db_path, key_path)
    assert info.value.code == "key_invalid"


def test_template_moved_to_another_resident_does_not_decrypt(store):
    store.add_template(ZHANG, np.ones(128), "dlib-128")
    store.db.execute("UPDATE templates SET resident_id = ?", [store._ref(LI)])
    with pytest.raises(TemplateKeyError):
        store.templates_for(LI, "dlib-128")


def test_template_validation(store):
    with pytest.raises(ValueError):
        store.add_template(ZHANG, np.ones((2, 64)), "dlib-128")
    with pytest.raises(ValueError):
        store.add_template(ZHANG, np.array([1.0, np.nan]), "dlib-128")
    with pytest.raises(ValueError):
        store.add_template(ZHANG, np.ones(8, dtype=np.int32), "dlib-128")
    with pytest.raises(StoreError) as info:
        store.add_template("11010519491231003" + "8", np.ones(128), "dlib-128")
    assert info.value.code == "unknown_resident"
    assert count(store, "templates") == 0


def test_updating_resident_keeps_templates_and_delete_removes_them(store):
    store.add_template(ZHANG, np.ones(128), "dlib-128")
    store.upsert_resident(ZHANG, "张三", village="南村", county_status="suspended")
    assert store.get_resident(ZHANG).county_status == "suspended"
    assert len(store.templates_for(ZHANG, "dlib-128")) == 1
    assert store.delete_templates(ZHANG) == 1
    assert store.templates_for(ZHANG, "dlib-128") == []
    assert store.audit_entries()[-1]["action"] == "templates_deleted"


# --- residents ---------------------------------------------------------------------


def test_residents(store):
    r = store.get_resident("11010519491231002x")
    assert r.name == "张三" and r.sex == "女" and r.birth_date == date(1949, 12, 31)
    assert r.categories == (Category.PENSION,)
    li = store.get_resident(LI)
    assert li.categories == (Category.WORK_INJURY, Category.OTHER) and li.sex == "男"
    assert [x.id_number for x in store.list_residents()] == [ZHANG, LI]
    assert [x.name for x in store.list_residents(village="西村")] == ["李四"]
    assert store.get_resident("110105194912310038") is None
    store.upsert_resident(
        ZHANG, "张三", benefit_start=date(2010, 1, 1), data_comparison_on=date(2026, 2, 1)
    )
    r = store.get_resident(ZHANG)
    assert (r.benefit_start, r.data_comparison_on) == (date(2010, 1, 1), date(2026, 2, 1))
    with pytest.raises(InvalidIdNumber):
        store.upsert_resident("110105194912310021", "错号")
    with pytest.raises(ValueError):
        store.upsert_resident(ZHANG, "  ")


def test_bulk_import_in_one_transaction_rolls_back_together(store):
    with pytest.raises(InvalidIdNumber):
        with store.transaction():
            store.upsert_resident("650102195506151239", "买买提·吐尔逊")
            store.upsert_resident("bad", "坏号")
    assert store.get_resident("650102195506151239") is None


# --- attempts, outbox, audit -------------------------------------------------------


def test_record_attempt_writes_attempt_outbox_and_audit(store):
    audit_before = count(store, "audit_log")
    uid = attempt(store)
    assert count(store, "attempts") == 1 and count(store, "outbox") == 1
    assert count(store, "audit_log") == audit_before + 1
    [a] = store.attempts_for(ZHANG)
    assert a.uuid == uid and a.verdict == "pass" and a.scores == {"distance": 0.41}
    assert a.started_at == "2026-03-05T01:00:00.000+00:00"
    [item] = store.pending_outbox()
    assert item.kind == "certification" and item.payload == a.to_dict()
    entry = store.audit_entries()[-1]
    assert entry["action"] == "attempt_recorded" and entry["details"]["attempt"] == uid
    assert entry["details"]["resident"] == "110105********002X"


def test_record_attempt_is_atomic(store):
    attempt(store)
    store.db.execute(
        "CREATE TRIGGER outbox_broken BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'broken'); END"
    )
    audit_before = count(store, "audit_log")
    with pytest.raises(sqlite3.IntegrityError):
        attempt(store, at=T0 + timedelta(hours=1))
    assert count(store, "attempts") == 1 and count(store, "outbox") == 1
    assert count(store, "audit_log") == audit_before


def test_outbox_payload_has_no_face_data(store):
    vector = np.random.default_rng(3).normal(size=128)
    store.add_template(ZHANG, vector, "dlib-128")
    attempt(store, scores={"distance": np.float64(0.38), "threshold_passed": np.bool_(True)})
    [item] = store.pending_outbox()
    assert set(item.payload) == {
        "uuid", "resident_id", "category", "mode", "helper_relationship", "helper_id_masked",
        "operator", "device_id", "started_at", "finished_at", "verdict", "reason", "message",
        "scores", "liveness",
    }
    text = store.db.execute("SELECT payload FROM outbox").fetchone()[0]
    assert json.loads(text)["scores"] == {"distance": 0.38, "threshold_passed": True}
    assert len(text) < 1000
    for bad in (
        {"scores": {"probe": vector}},
        {"scores": {"embedding": vector.tolist()}},
        {"liveness": {"frames": [{"image": "..."}]}},
        {"liveness": {"snapshot": b"\xff\xd8jpeg"}},
    ):
        with pytest.raises(ValueError):
            attempt(store, **bad)
    assert count(store, "outbox") == 1 and count(store, "attempts") == 1


def test_proxy_attempt_masks_helper_id(store):
    uid = attempt(store, mode="proxy", helper_relationship="子女", helper_id_masked=LI, operator="协办员王五")
    a = store.attempts_for(ZHANG)[0]
    assert a.uuid == uid and a.helper_id_masked == "440304********0017"
    assert LI not in store.db.execute("SELECT payload FROM outbox").fetchone()[0]
    assert store.audit_entries()[-1]["actor"] == "协办员王五"
    with pytest.raises(ValueError):
        attempt(store, mode="remote")
    with pytest.raises(ValueError):
        attempt(store, verdict="maybe")
    with pytest.raises(ValueError):
        attempt(store, category="养老")


def test_attempts_today_uses_local_china_day(store):
    late_evening_utc = datetime(2026, 3, 5, 16, 30, tzinfo=timezone.utc)  # 00:30 on 6 March in China
    attempt(store, verdict="fail", at=T0)
    attempt(store, verdict="fail", at=T0 + timedelta(minutes=5))
    attempt(store, verdict="pass", at=late_evening_utc)
    assert len(store.attempts_today(ZHANG, date(2026, 3, 5))) == 2
    assert [a.verdict for a in store.attempts_today(ZHANG, date(2026, 3, 6))] == ["pass"]
    assert store.attempts_today(LI, date(2026, 3, 5)) == []
    assert store.last_certified(ZHANG) == date(2026, 3, 6)
    assert store.last_certified(LI) is None
    assert [a.started_at[:16] for a in store.attempts_for(ZHANG)] == [
        "2026-03-05T16:30", "2026-03-05T01:05", "2026-03-05T01:00",
    ]


def test_naive_timestamps_are_refused(store):
    with pytest.raises(ValueError):
        attempt(store, at=datetime(2026, 3, 5, 9, 0))


def test_outbox_lifecycle(store):
    attempt(store)
    attempt(store, at=T0 + timedelta(minutes=1))
    items = store.pending_outbox()
    assert len(items) == 2 and store.pending_outbox(limit=1)[0].uuid == items[0].uuid
    store.mark_failed([items[0].uuid], "network unreachable")
    store.mark_sent([i.uuid for i in items])
    items = store.pending_outbox()
    assert [i.tries for i in items] == [2, 1]
    assert all(i.sent_at and i.last_error is None for i in items)
    store.mark_acked([items[0].uuid])
    assert [i.uuid for i in store.pending_outbox()] == [items[1].uuid]


def test_audit_log_is_append_only(store):
    seq = store.audit("协办员王五", "roster_synced", {"count": 2})
    assert store.audit_entries(after_seq=seq - 1)[0]["details"] == {"count": 2}
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.db.execute("UPDATE audit_log SET actor = 'someone else'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.db.execute("DELETE FROM audit_log")
    assert store.audit_entries()[-1]["actor"] == "协办员王五"


def test_settings_round_trip_and_are_audited(store):
    assert store.get_setting("cycle_rule") is None
    assert store.get_setting("cycle_rule", {"type": "birthday"}) == {"type": "birthday"}
    store.set_setting("cycle_rule", {"type": "fixed_window", "start": [2, 10]}, actor="县信息科")
    store.set_setting("cycle_rule", {"type": "birthday", "grace_days": 5}, actor="县信息科")
    assert store.get_setting("cycle_rule") == {"type": "birthday", "grace_days": 5}
    assert store.audit_entries()[-1]["action"] == "setting_changed"


# --- disk full ---------------------------------------------------------------------


def test_disk_full_raises_store_full_and_keeps_earlier_records(store):
    saved = [attempt(store, at=T0 + timedelta(minutes=i)) for i in range(3)]
    audit_before = count(store, "audit_log")
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreFull) as info:
        attempt(store, at=T0 + timedelta(hours=1), message="认证未通过" * 20000)
    assert info.value.code == "disk_full"
    assert "磁盘已满" in info.value.message and "已保存的记录不会丢失" in info.value.message
    assert isinstance(info.value, StoreError)
    assert sorted(a.uuid for a in store.attempts_for(ZHANG)) == sorted(saved)
    assert count(store, "outbox") == 3 and count(store, "audit_log") == audit_before
    # Once space is freed the kiosk carries on.
    store.db.execute("PRAGMA max_page_count = 1073741823")
    attempt(store, at=T0 + timedelta(hours=2))
    assert count(store, "attempts") == 4


# --- raw captures ------------------------------------------------------------------


def test_captures_not_kept_by_default(store):
    uid = attempt(store)
    assert store.add_capture(uid, b"\xff\xd8 jpeg bytes") is None
    assert count(store, "captures") == 0


def test_captures_kept_encrypted_then_purged(store, paths):
    image = os.urandom(2048)
    store.set_setting("capture_retention_days", 7)
    uid = attempt(store)
    assert store.add_capture(uid, image, now=T0) is not None
    assert store.captures_for(uid) == [("image/jpeg", image)]
    assert image[:64] not in db_files_bytes(paths[0])
    assert store.purge_expired(now=T0 + timedelta(days=6)) == 0
    assert store.purge_expired(now=T0 + timedelta(days=7)) == 1
    assert store.captures_for(uid) == []
    assert store.audit_entries()[-1]["action"] == "captures_purged"


def test_shortened_retention_purges_at_once(store):
    store.set_setting("capture_retention_days", 30)
    uid = attempt(store)
    store.add_capture(uid, b"img", now=T0)
    store.set_setting("capture_retention_days", 0)
    assert store.purge_expired(now=T0 + timedelta(minutes=1)) == 1


def test_missing_data_folder_is_not_created(tmp_path):
    # A data disk that is not mounted must not get a fresh empty database in its place.
    with pytest.raises(StoreError) as info:
        Store.open(tmp_path / "not-mounted" / "kiosk.db", tmp_path / "template.key")
    assert info.value.code == "cannot_open"
    assert not (tmp_path / "not-mounted").exists()


def test_key_file_that_cannot_be_created(tmp_path):
    blocker = tmp_path / "keys"
    blocker.write_text("a file where the key folder should be")
    with pytest.raises(TemplateKeyError) as info:
        Store.open(tmp_path / "kiosk.db", blocker / "template.key")
    assert info.value.code == "key_unwritable"
