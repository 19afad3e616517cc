"""The duplicate-face check reaches the county (protocol v5): the enrolment record carries the other
residents the face resembles and the reviewer's confirmation, only once the hub has said it speaks
v5 (an older hub refuses unknown fields: it gets the v4 record, and the facts in the audit stream);
the hub's /enrolments page shows them. Through a real local hub and a USB bundle."""
from __future__ import annotations

import json

import numpy as np

from kiosk import protocol as P
from kiosk.config import Settings
from kiosk.dupface import require_confirmation, save_enrolment
from kiosk.store.syncstate import SyncState
from kiosk.sync import export_bundle, import_county_bundle, sync_once
from test_cli import kiosk_home  # noqa: F401  (kiosk_home is an autouse fixture)
from test_sync_support import hub, open_store, staff_client, terminal  # noqa: F401  (fixtures)
from test_sync_v4 import BACKEND, FAST, LI, WANG, roster_of_two, staff


def unit(seed: int, n: int = 5, spread: float = 0.02) -> list[np.ndarray]:
    """n embeddings of one made-up face (unit length, as dlib's; close to each other)."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=128)
    base /= np.linalg.norm(base)
    return [base + rng.normal(scale=spread / np.sqrt(128), size=128) for _ in range(n)]


def flagged_approved(store) -> int:
    """LI enrolled and approved; the same face then enrolled under WANG, approved with a confirmation."""
    now = store.clock.utc_now()
    who = dict(enrolled_by="李协理", consent_read_by="李协理", consent_at=now)
    face = unit(1, 10)
    li = save_enrolment(store, Settings(), LI, face[:5], BACKEND, **who)
    store.review_enrolment(li, "approved", "王审核")
    wang = save_enrolment(store, Settings(), WANG, face[5:], BACKEND, **who)
    e = store.get_enrolment(wang)
    conf = require_confirmation(e, "different_person", "双胞胎兄弟，已核对两人身份证")
    store.review_enrolment(wang, "approved", "王审核", confirmation=conf)
    return wang


def test_a_v5_hub_receives_the_finding_and_the_confirmation_and_shows_them(hub, terminal, capsys, tmp_path):
    store, ident = terminal
    roster_of_two(hub)
    sync_once(store, **FAST)  # the roster page's answer says X-Kiosk-Protocol: 5
    assert int(SyncState(store).get("county_protocol")) == P.PROTOCOL_VERSION == 5
    staff(store)
    flagged_approved(store)
    report = sync_once(store, **FAST)
    assert report.enrolments_queued == 2 and report.rejected == 0
    got = {r.resident_id: p for r, p in hub.db.enrolment_records()}
    p = got[WANG]
    assert p["resembles_other"] == 1 and p["resembles"][0]["resident_id"] == LI and p["resembles"][0]["within"]
    assert p["resemble_confirmation"] == {"kind": "different_person", "reason": "双胞胎兄弟，已核对两人身份证",
                                          "by": "王审核"}
    assert got[LI]["resembles"] == [] and got[LI]["resemble_confirmation"] is None  # the first one: nobody to resemble
    page = staff_client(hub, "clerk", "operator").get("/enrolments")
    assert page.status_code == 200 and "人脸查重" in page.text and "像本终端另 1 人" in page.text
    assert "审核人已核实不是同一人：双胞胎兄弟，已核对两人身份证（王审核）" in page.text
    assert LI not in page.text and LI[-4:] in page.text and "未发现与他人相似" in page.text
    # and `kiosk-county enrolments --json` (masked)
    from kiosk.county.cli import main as county_main

    capsys.readouterr()
    assert county_main(["enrolments", "--json", "--db", hub.db.url, "--hub-key", str(tmp_path / "county" / "hub.key")]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [one] = [o for o in listed if o["resembles_other"]]
    assert one["resembles"][0]["resident_id"].endswith(LI[-4:]) and LI not in json.dumps(listed)
    assert one["resemble_confirmation"]["by"] == "王审核"


def test_an_older_hub_gets_the_v4_record_and_the_audit_stream_carries_the_facts(hub, terminal):
    store, ident = terminal
    roster_of_two(hub)
    sync_once(store, **FAST)
    state = SyncState(store)
    state.set(county_protocol=4)
    staff(store)
    flagged_approved(store)  # a v4 hub: said share_templates, no protocol header
    assert state.queue_enrolments(ident.device_id) == 2
    items = [i for i in store.pending_outbox(500) if i.kind == "enrolment"]
    assert all(not {"resembles", "resembles_other", "resemble_confirmation"} & set(i.payload) for i in items)
    for i in items:  # what a v4 hub's strict model accepts
        fields = set(P.EnrolmentPayload.model_fields) - {"resembles", "resembles_other", "resemble_confirmation"}
        assert set(i.payload) <= fields
    acts = {a["action"]: a["details"] for a in store.audit_entries()}
    assert acts["enrolment_resembles_other"]["others"][0]["resident"].endswith(LI[-4:])
    assert acts["enrolment_approved"]["resemble_confirmation"]["reason"] == "双胞胎兄弟，已核对两人身份证"
    # the v5 hub takes a v4 record too (the fields are optional): the page shows a dash
    report = sync_once(store, **FAST)
    assert report.rejected == 0 and len(hub.db.enrolment_records()) == 2
    assert all(p.get("resembles") is None for _, p in hub.db.enrolment_records())


def test_a_county_bundle_says_v5_and_keeps_the_v4_stamp(hub, terminal, tmp_path):
    store, ident = terminal
    roster_of_two(hub)
    path = tmp_path / "roster.bundle"
    path.write_bytes(hub.db.export_roster_bundle(ident.device_id))
    header = json.loads(path.read_bytes())["header"]
    assert header["version"] == P.BUNDLE_VERSION == 4  # a v4 terminal still opens it
    import_county_bundle(store, path)
    assert int(SyncState(store).get("county_protocol")) == 5
    staff(store)
    flagged_approved(store)
    up, n, _ = export_bundle(store, tmp_path)
    assert n >= 2 and json.loads(up.read_bytes())["header"]["version"] == 4
    _, result, _ = hub.db.import_bundle(up.read_bytes())
    p = {r.resident_id: p for r, p in hub.db.enrolment_records()}[WANG]
    assert p["resembles_other"] == 1 and p["resemble_confirmation"]["by"] == "王审核"
