"""The heartbeat (issue 14, item 4): terminal -> real local hub, kept per device, silent kiosks flagged."""
from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import timedelta

import pytest

from kiosk import protocol as P
from kiosk.config import Settings
from kiosk.selftest import run_selftest
from kiosk.sync import Backoff, register
from kiosk.sync.heartbeat import build_heartbeat, send_heartbeat
from test_sync_support import fill, hub, open_store, people, staff_client, terminal  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow  # a real hub (uvicorn) per test


def test_heartbeat_carries_health_and_nothing_personal(terminal):
    store, ident = terminal
    ids = people(3)
    fill(store, ids)
    run_selftest(Settings(), store, store.clock, camera=9999, audio_probe=lambda: [])  # no such camera
    hb = build_heartbeat(store, Settings())
    assert hb.checks["camera"] == "broken" and hb.paused and hb.queue_length == 3
    assert hb.last_certification_at and hb.disk_free_mb and hb.disk_free_mb > 0
    wire = json.dumps(hb.model_dump(), ensure_ascii=False)
    names = [r.name for r in store.list_residents()]
    assert not any(i in wire or i[-6:] in wire for i in ids) and not any(n in wire for n in names)
    assert set(hb.model_dump()) == set(P.Heartbeat.model_fields)


def test_the_hub_keeps_the_latest_and_shows_it_on_the_status_page(hub, terminal):
    store, ident = terminal
    run_selftest(Settings(), store, store.clock, camera=9999, audio_probe=lambda: [])
    assert send_heartbeat(store, Settings())
    health = hub.db.device_health()[ident.device_id]
    assert health["checks"]["camera"] == "broken" and health["paused"] and not health["silent"]
    page = staff_client(hub).get("/").text
    assert "终端状态（心跳）" in page and "暂停服务" in page and "摄像头故障" in page
    # the next one replaces it
    from kiosk.store.syncstate import SyncState

    SyncState(store).set(selftest_last={"at": "x", "paused": False, "checks": {"camera": "ok"}})
    assert send_heartbeat(store, Settings())
    health = hub.db.device_health()[ident.device_id]
    assert health["checks"] == {"camera": "ok"} and not health["paused"]


def test_a_kiosk_that_stops_reporting_is_flagged_silent(hub, terminal):
    store, ident = terminal
    assert send_heartbeat(store, Settings())
    real = hub.db.clock
    hub.db.clock = real.shifted(timedelta(minutes=31))
    try:
        h = hub.db.device_health()[ident.device_id]
        assert h["silent"] and h["minutes_ago"] >= 31
        page = staff_client(hub).get("/").text
        assert "失联" in page and "超过 30 分钟没有报告状态" in page
    finally:
        hub.db.clock = real


def test_a_registered_kiosk_that_never_reported_is_silent(hub, tmp_path):
    store = open_store(tmp_path / "t2")
    ident = register(store, hub.url, hub.db.provision("西村"), "西村")
    h = hub.db.device_health()[ident.device_id]
    assert h["silent"] and h["minutes_ago"] is None
    store.close()


def test_an_unsigned_or_forged_heartbeat_is_refused(hub, terminal):
    import httpx

    body = P.Heartbeat(sent_at="2026-12-02T00:00:00+00:00", app_version="x").model_dump()
    r = httpx.post(hub.url + P.API + P.HEARTBEAT_PATH, json=body, trust_env=False)
    assert r.status_code == 401
    store, ident = terminal
    from kiosk.sync.client import HubClient

    other = P.new_signing_key()  # right device id, wrong key
    with HubClient(hub.url, ident.device_id, other) as c:
        with pytest.raises(Exception) as info:
            c.request("POST", P.HEARTBEAT_PATH, body)
    assert getattr(info.value, "code", "") == "bad_signature"
    assert hub.db.device_health()[ident.device_id]["minutes_ago"] is None


def test_the_background_sync_sends_heartbeats(hub, tmp_path):
    from kiosk.sync import BackgroundSync

    folder = tmp_path / "bg"
    store = open_store(folder)
    ident = register(store, hub.url, hub.db.provision(None), "bg")
    settings = replace(Settings(), heartbeat_interval_s=30)
    bg = BackgroundSync(folder / "kiosk.db", folder / "template.key", settings, interval_s=0.2,
                        backoff=Backoff(0.05, 0.2), hub_url=hub.url)
    bg.start()
    deadline = time.monotonic() + 30
    while bg.passes < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    bg.stop()
    assert bg.last_error is None and bg.passes >= 4
    assert bg.heartbeats == 1  # one per heartbeat_interval_s, not one per pass
    assert hub.db.device_health()[ident.device_id]["minutes_ago"] is not None
    store.close()


def test_the_county_sends_the_maintenance_window_with_its_policy(hub, terminal):
    from kiosk.maintenance import schedule_in_force
    from kiosk.sync import sync_once

    store, _ = terminal
    hub.db.set_setting("cycle_policy", {"type": "birthday", "grace_days": 0, "maintenance_window": "monthly 1-3"})
    sync_once(store)
    local = replace(Settings(), maintenance_window="daily 01:00-05:00")
    assert schedule_in_force(store, local).text == "monthly 1-3"
