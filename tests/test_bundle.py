"""USB bundles both ways: terminal -> county (kiosk export / kiosk-county import) and
county -> terminal (kiosk-county export / kiosk sync --bundle)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from kiosk import protocol as P
from kiosk.county import HubError
from kiosk.sync import SyncError, export_bundle, import_county_bundle, register, status, sync_once
from test_sync_support import hub, open_store, terminal  # noqa: F401  (fixtures)
from test_sync_support import Hub, assert_hub_holds_exactly, fill, people


def test_records_bundle_to_county_once(hub, terminal, tmp_path):
    store, ident = terminal
    fill(store, people(40))
    path, certs, audits = export_bundle(store, tmp_path / "usb")
    assert certs == 40 and audits > 40
    data = path.read_bytes()
    assert b"\xe5\xb1\x85\xe6\xb0\x91" not in data  # "居民": the contents are sealed
    dev, res, again = hub.db.import_bundle(data)
    assert (dev, res.stored, res.duplicates, res.rejected, again) == (ident.device_id, certs + audits, 0, 0, False)
    dev, res2, again = hub.db.import_bundle(data)  # importing twice adds nothing
    assert (res2.stored, res2.duplicates, again) == (0, certs + audits, True)
    assert assert_hub_holds_exactly(hub.db, store, ident.device_id) == 40
    # Still pending on the kiosk until the county acknowledges; the network then acks as duplicates.
    assert status(store)["pending"] == 40
    report = sync_once(store)
    assert (report.stored, report.duplicates) == (0, 40) and status(store)["pending"] == 0


def test_tampered_and_foreign_bundles_are_refused(hub, terminal, tmp_path):
    store, ident = terminal
    fill(store, people(5))
    path, _, _ = export_bundle(store, tmp_path / "usb")
    body = json.loads(path.read_bytes())
    # Tampered ciphertext
    ct = bytearray(P.b64d(body["sealed"]["ct"]))
    ct[10] ^= 1
    bad = {**body, "sealed": {**body["sealed"], "ct": P.b64e(bytes(ct))}}
    with pytest.raises(HubError) as info:
        hub.db.import_bundle(json.dumps(bad).encode())
    assert info.value.code == "bad_signature" and "改动" in info.value.message
    # Header changed (claims another sender)
    other = {**body, "header": {**body["header"], "sender": "dev-000000000000"}}
    with pytest.raises(HubError) as info:
        hub.db.import_bundle(json.dumps(other).encode())
    assert info.value.code == "unknown_device"
    # Not a bundle at all
    with pytest.raises(HubError) as info:
        hub.db.import_bundle(b"PK\x03\x04 a zip file")
    assert info.value.code == "not_a_bundle"
    # A bundle from a device registered at another county
    other_hub = Hub(tmp_path / "other-county")
    foreign = open_store(tmp_path / "foreign")
    register(foreign, other_hub.url, other_hub.db.provision(None), "f")
    fill(foreign, people(2))
    fpath, _, _ = export_bundle(foreign, tmp_path / "usb2")
    with pytest.raises(HubError) as info:
        hub.db.import_bundle(fpath.read_bytes())
    assert info.value.code == "unknown_device"
    # A roster bundle from the other county is refused by our terminal
    rpath = tmp_path / "r.bundle"
    rpath.write_bytes(other_hub.db.export_roster_bundle(other_hub.db.devices()[0].id))
    with pytest.raises(SyncError) as info:
        import_county_bundle(store, rpath)
    assert info.value.code == "bad_signature"
    # Revoked devices' bundles are refused
    hub.db.revoke(ident.device_id)
    with pytest.raises(HubError) as info:
        hub.db.import_bundle(path.read_bytes())
    assert info.value.code == "device_revoked"
    assert hub.db.count_records() == 0
    foreign.close()
    other_hub.stop()


def test_roster_bundle_to_terminal(hub, terminal, tmp_path):
    store, ident = terminal
    ids = people(12)
    hub.db.upsert_residents([{"id_number": r, "name": f"居民{i}", "village": "东村",
                              "county_status": "deceased" if i == 3 else "active"} for i, r in enumerate(ids)]
                            + [{"id_number": people(1, start=700)[0], "name": "外村", "village": "西村"}])
    hub.db.set_setting("cycle_policy", {"type": "birthday", "grace_days": 5})
    vec = np.random.default_rng(1).normal(size=128)
    hub.db.set_templates(ids[0], "dlib-128", [vec])
    # The terminal certified two people and carried them in on a USB stick.
    fill(store, ids[:2])
    up, _, _ = export_bundle(store, tmp_path / "usb")
    hub.db.import_bundle(up.read_bytes())
    down = tmp_path / "usb" / "county.bundle"
    down.write_bytes(hub.db.export_roster_bundle(ident.device_id))
    res = import_county_bundle(store, down)
    assert res["roster_changed"] == 12 and res["templates_changed"] == 1 and res["acked"] == 2
    assert status(store)["pending"] == 0
    assert store.get_resident(ids[3]).county_status == "deceased"
    assert len(store.list_residents()) == 12
    np.testing.assert_allclose(store.templates_for(ids[0], "dlib-128")[0], vec)
    assert store.get_setting("cycle_rule") == {"type": "birthday", "grace_days": 5}
    with pytest.raises(SyncError) as info:  # importing the same bundle twice: refused, nothing changes
        import_county_bundle(store, down)
    assert info.value.code == "bundle_old" and "比本机已有的旧" in info.value.message
    # Not for this device: a bundle made for another terminal
    other = open_store(tmp_path / "t2")
    register(other, hub.url, hub.db.provision("东村"), "t2")
    with pytest.raises(SyncError) as info:
        import_county_bundle(other, down)
    assert info.value.code in ("not_for_us", "not_for_this_device")
    # Wrong direction: a terminal bundle given to a terminal
    with pytest.raises(SyncError) as info:
        import_county_bundle(store, up)
    assert info.value.code == "wrong_bundle_kind"
    other.close()


def test_county_bundles_are_ordered_and_expire(hub, terminal, tmp_path):
    from datetime import timedelta

    from kiosk.core.clock import Clock
    from kiosk.protocol import read_bundle_header

    store, ident = terminal
    hub.db.upsert_residents([{"id_number": people(1)[0], "name": "张三", "village": "东村"}])
    hub.db.set_setting("cycle_policy", {"type": "birthday", "grace_days": 0})
    old = tmp_path / "old.bundle"
    old.write_bytes(hub.db.export_roster_bundle(ident.device_id))
    hub.db.set_setting("cycle_policy", {"type": "birthday", "grace_days": 30})
    new = tmp_path / "new.bundle"
    new.write_bytes(hub.db.export_roster_bundle(ident.device_id))
    h_old, h_new = read_bundle_header(old.read_bytes())["header"], read_bundle_header(new.read_bytes())["header"]
    assert h_new["sequence"] > h_old["sequence"] and h_new["expires_at"] > h_new["created_at"]
    import_county_bundle(store, new)
    with pytest.raises(SyncError) as info:  # the older bundle would roll the policy back
        import_county_bundle(store, old)
    assert info.value.code == "bundle_old" and "未导入" in info.value.message
    assert store.get_setting("cycle_rule") == {"type": "birthday", "grace_days": 30}
    real = hub.db.clock
    hub.db.clock = real.shifted(timedelta(days=-31))  # made 31 days ago: expired after 30
    stale = tmp_path / "stale.bundle"
    stale.write_bytes(hub.db.export_roster_bundle(ident.device_id))
    hub.db.clock = real
    with pytest.raises(SyncError) as info:
        import_county_bundle(store, stale)
    assert info.value.code == "bundle_expired" and "过期" in info.value.message
    # the validity is a county setting; a fresh bundle imports
    hub.db.set_setting("bundle_valid_days", 7)
    fresh = tmp_path / "fresh.bundle"
    fresh.write_bytes(hub.db.export_roster_bundle(ident.device_id))
    h = read_bundle_header(fresh.read_bytes())["header"]
    assert h["expires_at"][:10] == (Clock.system().utc_now() + timedelta(days=7)).date().isoformat()
    import_county_bundle(store, fresh)
