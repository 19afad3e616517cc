"""Trust at the county hub: every record authorised against the signing device's roster scope,
idempotency keys per device, per-device sequence gaps, and one authoritative time (records a
wrong clock dated are held as clock_suspect and change no resident's status until reviewed)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk import protocol as P
from kiosk.core.clock import Clock, utc_iso
from kiosk.county.cli import main as county_main
from kiosk.sync import register, status, sync_once
from test_sync_support import hub  # noqa: F401  (fixture)
from test_sync_support import fill, open_store, people

FAST = {"backoff": None, "sleep": lambda s: None}


def _cert(uuid: str, rid: str, finished, device_id=None, verdict="pass") -> P.PushRecord:
    at = utc_iso(finished)
    payload = {"uuid": uuid, "resident_id": rid, "category": "pension", "mode": "self", "started_at": at,
               "finished_at": at, "verdict": verdict}
    if device_id is not None:
        payload["device_id"] = device_id
    return P.PushRecord(uuid=uuid, kind="certification", created_at=at, payload=payload)


def _audit(device_id: str, seq: int, at) -> P.PushRecord:
    return P.PushRecord(uuid=P.record_uuid(device_id, "audit", seq), kind="audit", created_at=utc_iso(at),
                        payload={"seq": seq, "at": utc_iso(at), "actor": "kiosk", "action": "x"})


@pytest.fixture
def two_villages(hub, tmp_path):
    """东村 and 西村 terminals, each village with one resident on the county roster."""
    east_id, west_id = people(2, start=700)
    hub.db.upsert_residents([{"id_number": east_id, "name": "王东", "village": "东村"},
                             {"id_number": west_id, "name": "陈玉兰", "village": "西村"}])
    east = open_store(tmp_path / "east")
    west = open_store(tmp_path / "west")
    a = register(east, hub.url, hub.db.provision("东村"), "东村服务点")
    b = register(west, hub.url, hub.db.provision("西村"), "西村服务点")
    yield hub, (east, a, east_id), (west, b, west_id)
    east.close(), west.close()


def U(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def test_a_village_terminal_cannot_certify_another_villages_resident(two_villages, tmp_path, monkeypatch, capsys):
    hub, (east, a, east_id), (_west, _b, west_id) = two_villages
    now = hub.db.clock.utc_now()
    acks = hub.db.store_records(a.device_id, [_cert(U(1), west_id, now), _cert(U(2), people(1, start=990)[0], now),
                                              _cert(U(3), east_id, now, device_id="dev-someoneelse"),
                                              _cert(U(4), east_id, now, device_id=a.device_id)], via="network")
    assert [(k.status, k.code) for k in acks] == [("rejected", "other_village"), ("rejected", "not_on_roster"),
                                                   ("rejected", "wrong_device"), ("stored", None)]
    assert all("\u4e00" <= ch <= "\u9fff" for k in acks[:3] for ch in k.message[:2])
    west_resident = next(r for r in hub.db.residents() if r.id_number == west_id)
    assert west_resident.certified_on is None
    # over the network: the refusal is kept on the terminal with its code and shown to staff
    east.upsert_resident(west_id, "陈玉兰", village="西村")
    fill(east, [west_id], village="西村")  # the test hub now has her in 西村 (as before)
    report = sync_once(east, **FAST)
    assert report.rejected == 1 and report.refusals["other_village"]["count"] == 1
    st = status(east)
    assert st["rejected"] == 1 and st["refusals"][0]["code"] == "other_village"
    assert "户籍所在村" in st["refusals"][0]["message"]
    # `kiosk sync --once` tells staff why, and what to do
    from kiosk.cli import main

    monkeypatch.setenv("KIOSK_HOME", str(tmp_path / "east"))
    monkeypatch.setenv("KIOSK_KEY_FILE", str(tmp_path / "east" / "template.key"))
    capsys.readouterr()
    assert main(["sync", "--once"]) == 0
    out = capsys.readouterr().out
    assert "户籍所在村" in out and "（1 条）" in out and "--retry-rejected" in out


def test_uuids_are_scoped_per_device(two_villages):
    hub, (_e, a, east_id), (_w, b, west_id) = two_villages
    now = hub.db.clock.utc_now()
    # B squats A's next audit uuids (predictable): A's own entries are still stored under A
    squat = [_audit(a.device_id, seq, now) for seq in (1, 2, 3)]
    assert [k.status for k in hub.db.store_records(b.device_id, squat, via="network")] == ["stored"] * 3
    assert [k.status for k in hub.db.store_records(a.device_id, squat, via="network")] == ["stored"] * 3
    assert [k.status for k in hub.db.store_records(a.device_id, squat, via="network")] == ["duplicate"] * 3
    assert hub.db.count_records(a.device_id, "audit") == 3 and hub.db.count_records(b.device_id, "audit") == 3
    # the same certification uuid from two devices is two records
    assert hub.db.store_records(a.device_id, [_cert(U(9), east_id, now)], "network")[0].status == "stored"
    assert hub.db.store_records(b.device_id, [_cert(U(9), west_id, now)], "network")[0].status == "stored"


def test_sequence_gaps_are_reported_per_device(two_villages, capsys):
    hub, (_e, a, _), (_w, b, _) = two_villages
    now = hub.db.clock.utc_now()
    hub.db.store_records(a.device_id, [_audit(a.device_id, s, now) for s in (1, 2, 5, 6, 9)], "network")
    hub.db.store_records(b.device_id, [_audit(b.device_id, s, now) for s in (1, 2, 3)], "network")
    assert hub.db.sequence_gaps(a.device_id) == {"received": 5, "last": 9, "missing": 4, "ranges": [[3, 4], [7, 8]]}
    assert hub.db.sequence_gaps(b.device_id)["missing"] == 0


def test_future_dated_pass_is_held_and_changes_no_status(two_villages):
    hub, (_e, a, east_id), _ = two_villages
    db = hub.db
    now = db.clock.utc_now()
    real = now - timedelta(days=3)
    assert db.store_records(a.device_id, [_cert(U(1), east_id, real)], "network")[0].code is None
    before = next(r for r in db.residents() if r.id_number == east_id).certified_on
    assert before == db.clock.local_date(real).isoformat()
    from datetime import datetime, timezone

    acks = db.store_records(a.device_id, [_cert(U(2), east_id, datetime(2099, 1, 1, 2, tzinfo=timezone.utc)),
                                          _cert(U(3), east_id, now + timedelta(days=45))], "network")
    assert [(k.status, k.code) for k in acks] == [("stored", "clock_suspect")] * 2
    assert next(r for r in db.residents() if r.id_number == east_id).certified_on == before
    assert len(db.suspect_records()) == 2
    # county staff confirm the 2099 one: still never "certified on" a day after today
    db.review_record(a.device_id, U(2), "confirmed", "admin")
    assert next(r for r in db.residents() if r.id_number == east_id).certified_on == before
    assert [r.uuid for r in db.suspect_records()] == [U(3)]


def test_device_clock_off_holds_records_until_confirmed(two_villages, capsys, monkeypatch, tmp_path):
    hub, (_e, a, east_id), _ = two_villages
    db = hub.db
    now = db.clock.utc_now()
    behind = now - timedelta(days=365)  # a clock a year behind dates today's pass a year ago
    ack = db.store_records(a.device_id, [_cert(U(1), east_id, behind)], "network",
                           device_clock=db.clock.timestamp() - 365 * 86400)[0]
    assert (ack.status, ack.code) == ("stored", "clock_suspect") and "校准" in ack.message
    assert next(r for r in db.residents() if r.id_number == east_id).certified_on is None
    # a small offset (minutes) is fine once the clock is right again
    ok = db.store_records(a.device_id, [_cert(U(2), east_id, now - timedelta(hours=2))], "network",
                          device_clock=db.clock.timestamp() + 120)[0]
    assert ok.code is None
    two_hours_ago = db.clock.local_date(now - timedelta(hours=2)).isoformat()
    assert next(r for r in db.residents() if r.id_number == east_id).certified_on == two_hours_ago
    # staff review from the command line: list, reject
    monkeypatch.setenv("KIOSK_HOME", str(tmp_path / "home"))
    args = ["--db", db.url, "--hub-key", str(tmp_path / "county" / "hub.key")]
    assert county_main(["review", *args]) == 0
    out = capsys.readouterr().out
    assert U(1) in out and "时间可疑" in out
    assert county_main(["review", *args, "--reject", f"{a.device_id}:{U(1)}"]) == 0
    assert db.suspect_records() == []


def test_terminal_clock_ahead_over_the_network_is_held(hub, tmp_path):
    """A terminal whose clock runs 45 days ahead certifies; the hub holds the pass."""
    rid = people(1, start=800)[0]
    hub.db.upsert_residents([{"id_number": rid, "name": "李四", "village": "东村"}])
    from kiosk.store import Store

    folder = tmp_path / "ahead"
    folder.mkdir()
    store = Store.open(folder / "kiosk.db", folder / "template.key", clock=Clock.system().shifted(timedelta(days=45)))
    register(store, hub.url, hub.db.provision("东村"), "快45天")
    fill(store, [rid], start=store.clock.utc_now())
    report = sync_once(store, **FAST)
    assert report.held == 1 and report.refusals["clock_suspect"]["count"] == 1
    assert next(r for r in hub.db.residents() if r.id_number == rid).certified_on is None
    assert status(store)["pending"] == 0  # the county holds it: not resent
    store.close()


def test_a_county_db_from_before_per_device_keys_is_migrated(tmp_path):
    import sqlite3

    from kiosk.county import open_hub

    db = tmp_path / "county.db"
    c = sqlite3.connect(db)
    c.execute("CREATE TABLE records (uuid VARCHAR(36) PRIMARY KEY, device_id VARCHAR(40), kind VARCHAR(16),"
              " resident_id VARCHAR(18), village VARCHAR(100), category VARCHAR(32), verdict VARCHAR(8),"
              " occurred_at VARCHAR(40), occurred_day VARCHAR(10), received_at VARCHAR(32), via VARCHAR(16),"
              " payload TEXT)")
    c.execute("CREATE INDEX ix_records_device_id ON records (device_id)")
    c.execute("INSERT INTO records VALUES (?, 'dev-a', 'audit', NULL, NULL, NULL, NULL, 't', '2026-01-01', 't',"
              " 'network', '{}')", [U(1)])
    c.commit(), c.close()
    hub = open_hub(f"sqlite:///{db}", tmp_path / "hub.key")
    assert hub.count_records("dev-a") == 1 and hub.record_uuids("dev-a") == [U(1)]
    hub.close()
    hub = open_hub(f"sqlite:///{db}", tmp_path / "hub.key")  # a second open changes nothing
    assert hub.count_records("dev-a") == 1
    hub.close()
