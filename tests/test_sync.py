"""County sync against a real hub on 127.0.0.1 (random port): registration, push with per-record
acks, pull of roster/status/policy/templates, and recovery from hub down, HTTP 500s, timeouts,
connections cut mid-batch and the kiosk process killed with SIGKILL."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import date

import httpx
import numpy as np
import pytest

from kiosk import protocol as P
from kiosk.store import Store
from kiosk.sync import Backoff, SyncError, register, status, sync_once
from test_sync_support import hub, open_store, terminal  # noqa: F401  (fixtures)
from test_sync_support import CuttingProxy, Hub, assert_hub_holds_exactly, fill, people, self_signed_cert

FAST = dict(backoff=Backoff(base=0.01, cap=0.05))


def test_register_push_pull_happy_path(hub, terminal):
    store, ident = terminal
    assert ident.device_id.startswith("dev-") and ident.village == "东村"
    ids = people(30)
    hub.db.upsert_residents(
        [{"id_number": rid, "name": f"居民{i}", "village": "东村", "categories": ["pension"]} for i, rid in enumerate(ids[:20])]
        + [{"id_number": ids[20], "name": "比对", "village": "东村", "data_comparison_on": "2026-02-01"},
           {"id_number": ids[21], "name": "暂停", "village": "东村", "county_status": "suspended"},
           {"id_number": ids[22], "name": "身故", "village": "东村", "county_status": "deceased"},
           {"id_number": ids[23], "name": "西村人", "village": "西村"}])
    hub.db.set_setting("cycle_policy", {"type": "fixed_window", "start": [2, 10], "end": [3, 25], "grace_days": 5})
    vec = np.random.default_rng(5).normal(size=128)
    hub.db.set_templates(ids[0], "dlib-128", [vec, vec * 0.5])
    made = fill(store, ids[:10], certs_per_person=3)
    assert status(store)["pending"] == 30 and status(store)["last_success"] is None

    report = sync_once(store, **FAST)
    assert report.stored == 30 and report.duplicates == 0 and report.rejected == 0
    assert report.audit_sent > 30
    assert assert_hub_holds_exactly(hub.db, store, ident.device_id) == 30
    st = status(store)
    assert st["pending"] == 0 and st["last_success"] and st["last_error"] is None
    # Roster: the device's village only, with county statuses.
    assert store.get_resident(ids[20]).data_comparison_on == date(2026, 2, 1)
    assert store.get_resident(ids[21]).county_status == "suspended"
    assert store.get_resident(ids[22]).county_status == "deceased"
    assert store.get_resident(ids[23]) is None
    assert store.get_setting("cycle_rule")["type"] == "fixed_window"
    got = store.templates_for(ids[0], "dlib-128")
    assert len(got) == 2 and np.allclose(got[0], vec) and np.allclose(got[1], vec * 0.5)
    # The hub now knows these people were certified (push comes before pull in one pass).
    entries = {e.id_number: e for e in hub.db.roster_page(hub.db.device(ident.device_id), 0).residents}
    assert entries[ids[0]].certified_on == "2026-03-05" and entries[ids[15]].certified_on is None
    assert store.db.execute("SELECT certified_on FROM county_roster WHERE resident_id = ?", [store._ref(ids[0])]).fetchone()[0]
    again = sync_once(store, **FAST)
    assert (again.stored, again.roster_changed, again.templates_changed) == (0, 0, 0)
    assert len(made) == 30


def test_two_terminals_see_each_others_certifications(hub, tmp_path):
    ids = people(5)
    hub.db.upsert_residents([{"id_number": r, "name": "张三", "village": "东村"} for r in ids])
    a, b = open_store(tmp_path / "a"), open_store(tmp_path / "b")
    register(a, hub.url, hub.db.provision("东村"), "东村")
    register(b, hub.url, hub.db.provision("东村"), "上门认证")
    sync_once(a, **FAST)
    sync_once(b, **FAST)
    assert b.last_certified(ids[0]) is None
    fill(a, ids[:1])
    sync_once(a, **FAST)
    sync_once(b, **FAST)
    assert b.last_certified(ids[0]) == a.last_certified(ids[0]) is not None
    a.close(), b.close()


def test_hub_down_then_up(tmp_path):
    h = Hub(tmp_path / "county")
    store = open_store(tmp_path / "t")
    ident = register(store, h.url, h.db.provision(None), "t")
    fill(store, people(12))
    url, folder = h.url, tmp_path / "county"
    h.stop()
    with pytest.raises(SyncError) as info:
        sync_once(store, url, attempts=3, **FAST)
    assert info.value.code == "hub_unreachable" and info.value.retryable
    st = status(store)
    assert st["pending"] == 12 and "连不上" in st["last_error"] and st["last_success"] is None
    assert all(i.tries >= 1 for i in store.pending_outbox())
    h2 = Hub.__new__(Hub)  # same database and key, a new port
    h2.__init__(folder)
    sync_once(store, h2.url, **FAST)
    assert assert_hub_holds_exactly(h2.db, store, ident.device_id) == 12
    assert status(store)["last_error"] is None
    h2.stop()
    store.close()


def test_http_500_before_and_after_commit(hub, terminal):
    store, ident = terminal
    fill(store, people(300))
    hub.faults.fail_before = 2
    hub.faults.fail_after = 2  # the hub stored the batch, but the kiosk only saw a 500
    report = sync_once(store, batch=100, attempts=6, **FAST)
    assert report.duplicates >= 100
    assert assert_hub_holds_exactly(hub.db, store, ident.device_id) == 300
    with pytest.raises(SyncError) as info:  # still failing after every retry: a clear error, nothing lost
        fill(store, people(3, start=900))
        hub.faults.fail_before = 10
        sync_once(store, attempts=3, **FAST)
    assert info.value.code == "server_error" and "不会丢失" in info.value.message
    hub.faults.fail_before = 0
    sync_once(store, **FAST)
    assert assert_hub_holds_exactly(hub.db, store, ident.device_id) == 303


def test_timeouts(hub, terminal):
    store, ident = terminal
    fill(store, people(150))
    hub.faults.delay_next, hub.faults.delay_s = 2, 1.5  # the hub answers after the kiosk gave up
    report = sync_once(store, batch=50, timeout=0.5, attempts=6, **FAST)
    assert report.stored + report.duplicates >= 150
    time.sleep(1.6)  # let the slow request finish on the hub
    sync_once(store, **FAST)
    assert assert_hub_holds_exactly(hub.db, store, ident.device_id) == 150


def test_connection_cut_mid_batch(hub, terminal):
    store, ident = terminal
    proxy = CuttingProxy(hub.port)
    fill(store, people(400))
    proxy.cut_request_after = 20_000  # halfway through the first batch's body
    with pytest.raises(SyncError) as info:
        sync_once(store, proxy.url, batch=100, attempts=1, **FAST)
    assert info.value.code in ("connection_cut", "hub_unreachable")
    assert hub.db.count_records(ident.device_id, "certification") == 0
    proxy.drop_response = 2  # the hub stores two batches; the kiosk never hears back
    sync_once(store, proxy.url, batch=100, attempts=8, **FAST)
    assert proxy.cuts == 3
    assert assert_hub_holds_exactly(hub.db, store, ident.device_id) == 400
    proxy.stop()


@pytest.mark.slow
def test_kiosk_killed_at_random_points(hub, tmp_path):
    folder = tmp_path / "killed"
    store = open_store(folder)
    ident = register(store, hub.url, hub.db.provision(None), "t")
    fill(store, people(2000))
    store.close()
    hub.faults.slow_s = 0.05
    env = {**os.environ, "KIOSK_HOME": str(folder), "KIOSK_KEY_FILE": str(folder / "template.key")}
    cmd = [sys.executable, "-m", "kiosk.cli", "sync", "--once", "--batch", "100", "--json"]
    rng = random.Random(4)
    kills, seen_on_hub = 0, [0]
    for i in range(8):
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if i % 2 == 0:  # anywhere: while starting, pushing or pulling
            time.sleep(rng.uniform(0.2, 2.0))
        else:  # surely mid-push: once the hub has stored a new batch, however slow the machine
            deadline = time.monotonic() + 120
            while (hub.db.count_records(ident.device_id, "certification") == seen_on_hub[-1]
                   and proc.poll() is None and time.monotonic() < deadline):
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.2))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(30)
        seen_on_hub.append(hub.db.count_records(ident.device_id, "certification"))
    hub.faults.slow_s = 0
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr + done.stdout
    assert json.loads(done.stdout.strip().splitlines()[-1])["pending"] == 0
    assert kills >= 3
    assert any(0 < n < 2000 for n in seen_on_hub), seen_on_hub  # killed in the middle of a sync, not only before
    # the pull above applied the county roster, which the terminal audits: one more pass sends that entry
    assert subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120).returncode == 0
    with Store.open(folder / "kiosk.db", folder / "template.key") as s:
        assert assert_hub_holds_exactly(hub.db, s, ident.device_id) == 2000
        audit_hub = hub.db.count_records(ident.device_id, "audit")
        assert audit_hub == s.db.execute("SELECT count(*) FROM audit_log").fetchone()[0]  # each audit row once


def test_sync_payload_carries_no_face_data(hub, terminal):
    store, ident = terminal
    ids = people(4)
    fill(store, ids)
    vec = np.random.default_rng(9).normal(size=128)
    for rid in ids:
        store.add_template(rid, vec, "dlib-128")
        store.add_template(rid, vec.astype(np.float32), "dlib-128")
    hub.faults.record = True
    sync_once(store, **FAST)
    pushed = [b for b in hub.faults.bodies if b.startswith(b'{"batch_id"')]
    assert pushed
    blob = b"".join(pushed)
    for needle in (vec.tobytes(), vec.astype(np.float32).tobytes(), vec[:2].tobytes()):
        assert needle not in blob
        assert P.b64e(needle[:24]).encode()[:24] not in blob
    assert repr(float(vec[0]))[:10].encode() not in blob
    for body in pushed:
        for rec in json.loads(body)["records"]:
            P.check_no_face_data(rec["payload"])
            assert not set(json.dumps(rec).lower().split('"')) & P.FACE_DATA_KEYS


def test_templates_are_sealed_for_the_device(hub, terminal, tmp_path):
    store, ident = terminal
    rid = people(1)[0]
    hub.db.upsert_residents([{"id_number": rid, "name": "张三", "village": "东村"}])
    vec = np.random.default_rng(2).normal(size=128)
    hub.db.set_templates(rid, "dlib-128", [vec])
    hub.faults.record = True
    sync_once(store, **FAST)
    down = b"".join(hub.faults.responses)
    assert b'"sealed"' in down and vec.tobytes() not in down and repr(float(vec[0]))[:10].encode() not in down
    np.testing.assert_allclose(store.templates_for(rid, "dlib-128")[0], vec)
    # Another device cannot open this device's sealed template.
    other = P.new_box_key()
    page = hub.db.template_page(hub.db.device(ident.device_id), 0)
    with pytest.raises(P.ProtocolError):
        P.open_sealed(other, page.templates[0].sealed, P.template_aad(ident.device_id, rid, "dlib-128", page.templates[0].version))
    # Re-enrolment at the county replaces the county set; removal clears it; local templates stay.
    store.add_template(rid, vec * 2, "dlib-128", source="local")
    hub.db.set_templates(rid, "dlib-128", [vec * 3])
    sync_once(store, **FAST)
    got = store.templates_for(rid, "dlib-128")
    assert len(got) == 2 and any(np.allclose(g, vec * 3) for g in got) and any(np.allclose(g, vec * 2) for g in got)
    hub.db.set_templates(rid, "dlib-128", [])
    sync_once(store, **FAST)
    assert len(store.templates_for(rid, "dlib-128")) == 1


# ----------------------------------------------------------------------------- refused requests
def _signed(ident, method, path, body: bytes, now=None):
    return P.sign_request(P.signing_key_from(ident.sign_key), ident.device_id, method, path, body, now or time.time())


def _record(rid, **payload):
    base = {"uuid": "00000000-0000-4000-8000-000000000001", "resident_id": rid, "category": "pension", "mode": "self",
            "started_at": "2026-03-05T01:00:00.000+00:00", "finished_at": "2026-03-05T01:00:09.000+00:00",
            "verdict": "pass"}
    base.update(payload)
    return base


def test_refused_requests_get_clear_errors(hub, terminal):
    store, ident = terminal
    rid = people(1)[0]
    hub.db.upsert_residents([{"id_number": rid, "name": "张三", "village": "东村"}])
    good = {"batch_id": "b1", "records": [{"uuid": "5d3c1ad4-5b6e-4c53-9d0e-3f1b9a0e0001", "kind": "certification",
                                           "created_at": "2026-03-05T01:00:09.000+00:00", "payload": _record(rid)}]}
    body = P.canonical_json(good)
    path = "/v1/records"
    c = httpx.Client(base_url=hub.url, trust_env=False)

    def post(b, headers):
        r = c.post(path, content=b, headers={"content-type": "application/json", **headers})
        j = r.json()
        assert isinstance(j, dict)
        return r.status_code, j

    def cn(j):
        return any("\u4e00" <= ch <= "\u9fff" for ch in j.get("message", ""))

    # Unsigned
    status_code, j = post(body, {})
    assert (status_code, j["error"]) == (401, "unsigned") and cn(j)
    # Wrong signature: signed for another body
    h = _signed(ident, "POST", path, body + b" ")
    status_code, j = post(body, h)
    assert (status_code, j["error"]) == (401, "bad_signature") and cn(j)
    # Signed by a key the hub does not know for this device
    h = P.sign_request(P.new_signing_key(), ident.device_id, "POST", path, body, time.time())
    assert post(body, h)[1]["error"] == "bad_signature"
    h = P.sign_request(P.new_signing_key(), "dev-nobody", "POST", path, body, time.time())
    assert post(body, h)[1]["error"] == "unknown_device"
    # Good, then the same request replayed
    h = _signed(ident, "POST", path, body)
    status_code, j = post(body, h)
    assert status_code == 200 and j["acks"][0]["status"] == "stored"
    status_code, j = post(body, h)
    assert (status_code, j["error"]) == (409, "replayed") and cn(j)
    # An old request (outside the replay window)
    h = _signed(ident, "POST", path, body, now=time.time() - 3600)
    assert post(body, h)[1]["error"] == "clock_skew"
    # Unknown field in the envelope
    b2 = P.canonical_json({**good, "extra": 1})
    status_code, j = post(b2, _signed(ident, "POST", path, b2))
    assert (status_code, j["error"]) == (422, "unknown_field") and "extra" in j["message"]
    # Malformed JSON
    b3 = b'{"batch_id": "x", "records": ['
    status_code, j = post(b3, _signed(ident, "POST", path, b3))
    assert status_code == 422 and j["error"] == "bad_request" and cn(j)
    # Oversized body
    b4 = b" " * (P.MAX_BODY_BYTES + 10)
    status_code, j = post(b4, _signed(ident, "POST", path, b4))
    assert (status_code, j["error"]) == (413, "body_too_large") and cn(j)
    # Per-record refusals: unknown payload field, face data, bad ID; the good record is stored.
    recs = [
        {"uuid": "5d3c1ad4-5b6e-4c53-9d0e-3f1b9a0e0002", "kind": "certification", "created_at": "x",
         "payload": _record(rid, uuid="a2", surprise=1)},
        {"uuid": "5d3c1ad4-5b6e-4c53-9d0e-3f1b9a0e0003", "kind": "certification", "created_at": "x",
         "payload": _record(rid, uuid="a3", scores={"embedding": [0.1] * 128})},
        {"uuid": "5d3c1ad4-5b6e-4c53-9d0e-3f1b9a0e0004", "kind": "certification", "created_at": "x",
         "payload": _record("110105195001010000", uuid="a4")},
        {"uuid": "5d3c1ad4-5b6e-4c53-9d0e-3f1b9a0e0005", "kind": "certification", "created_at": "x",
         "payload": _record(rid, uuid="a5")},
    ]
    b5 = P.canonical_json({"batch_id": "b5", "records": recs})
    status_code, j = post(b5, _signed(ident, "POST", path, b5))
    assert status_code == 200
    assert [(a["status"], a["code"]) for a in j["acks"]] == [
        ("rejected", "unknown_field"), ("rejected", "face_data"), ("rejected", "bad_id_number"), ("stored", None)]
    assert all(cn(a) for a in j["acks"][:3])
    # Revoked device
    hub.db.revoke(ident.device_id)
    status_code, j = post(body, _signed(ident, "POST", path, body))
    assert (status_code, j["error"]) == (403, "device_revoked") and cn(j)
    c.close()


def test_refused_record_stays_on_the_kiosk_and_others_go_through(hub, terminal):
    store, ident = terminal
    ids = people(3)
    fill(store, ids)
    # A record the county cannot accept (e.g. written by a newer terminal program).
    bad = store.pending_outbox()[1]
    payload = {**bad.payload, "new_field": "x"}
    store.db.execute("UPDATE outbox SET payload = ? WHERE uuid = ?", [json.dumps(payload), bad.uuid])
    report = sync_once(store, **FAST)
    assert (report.stored, report.rejected) == (2, 1)
    st = status(store)
    assert st["pending"] == 1 and st["rejected"] == 1
    assert "new_field" in store.pending_outbox()[0].last_error
    assert sync_once(store, **FAST).rejected == 0  # not resent again and again
    from kiosk.store.syncstate import SyncState

    assert SyncState(store).retry_rejected() == 1  # staff retry after the county upgraded: offered again
    assert sync_once(store, **FAST).rejected == 1 and status(store)["pending"] == 1


def test_registration_errors(hub, tmp_path):
    code = hub.db.provision("东村")
    s1, s2 = open_store(tmp_path / "a"), open_store(tmp_path / "b")
    register(s1, hub.url, code, "a")
    with pytest.raises(SyncError) as info:
        register(s2, hub.url, code, "b")
    assert info.value.code == "code_used" and "开通码" in info.value.message
    with pytest.raises(SyncError) as info:
        register(s2, hub.url, "AAAA-BBBB-CCCC", "b")
    assert info.value.code == "bad_code"
    with pytest.raises(SyncError) as info:
        register(s1, hub.url, hub.db.provision(None), "a")
    assert info.value.code == "already_registered"
    with pytest.raises(SyncError) as info:
        register(s2, "http://192.0.2.1:8443", "X", "b")
    assert info.value.code == "insecure_hub_url"
    with pytest.raises(SyncError) as info:
        sync_once(s2)
    assert info.value.code == "not_registered"
    s1.close(), s2.close()


def test_background_sync_thread(hub, tmp_path):
    from kiosk.sync import BackgroundSync

    folder = tmp_path / "bg"
    store = open_store(folder)
    ident = register(store, hub.url, hub.db.provision(None), "bg")
    fill(store, people(20))
    bg = BackgroundSync(folder / "kiosk.db", folder / "template.key", interval_s=0.2, backoff=Backoff(0.05, 0.2))
    bg.start()
    deadline = time.monotonic() + 30
    while status(store)["pending"] and time.monotonic() < deadline:
        time.sleep(0.1)
    fill(store, people(5, start=500))  # recorded while the thread runs
    bg.wake()
    while status(store)["pending"] and time.monotonic() < deadline:
        time.sleep(0.1)
    bg.stop()
    assert bg.last_error is None
    assert assert_hub_holds_exactly(hub.db, store, ident.device_id) == 25
    store.close()


def test_tls_with_pinned_county_certificate(tmp_path):
    from kiosk.sync.client import cert_pin

    cert, key = self_signed_cert(tmp_path / "tls")
    h = Hub(tmp_path / "county", tls=(cert, key))
    pin = cert_pin(cert.read_text())
    store = open_store(tmp_path / "t")
    with pytest.raises(SyncError) as info:
        register(store, h.url, h.db.provision(None), "t")
    assert info.value.code == "pin_required"
    with pytest.raises(SyncError) as info:
        register(store, h.url, h.db.provision(None), "t", pin="00" * 32)
    assert info.value.code == "tls_pin_mismatch" and "指纹" in info.value.message
    ident = register(store, h.url, h.db.provision(None), "t", pin=pin)
    fill(store, people(5))
    sync_once(store, **FAST)
    assert assert_hub_holds_exactly(h.db, store, ident.device_id) == 5
    h.stop()
    # Someone else answers at the county's address with another certificate: refused, nothing sent.
    cert2, key2 = self_signed_cert(tmp_path / "tls2", "impostor")
    impostor = Hub(tmp_path / "impostor", tls=(cert2, key2))
    fill(store, people(2, start=300))
    with pytest.raises(SyncError) as info:
        sync_once(store, impostor.url, attempts=1)
    assert info.value.code == "tls_pin_mismatch" and not info.value.retryable
    assert impostor.db.count_records() == 0 and status(store)["pending"] == 2
    impostor.stop()
    store.close()


def test_clock_offset_is_corrected_from_the_hub(hub, terminal):
    from kiosk.store.syncstate import SyncState

    store, ident = terminal
    fill(store, people(3))
    SyncState(store).set(clock_offset=-3600.0)  # the village terminal's clock is an hour slow
    assert sync_once(store, **FAST).stored == 3
    assert abs(SyncState(store).get("clock_offset")) < 60
