"""County sync, protocol v4, through a real local hub and through USB bundle files: enrolments go
up with who enrolled and who approved; the sealed template goes with them only where the county
shares templates (default on) and then reaches the county's other terminals; the roster carries
address, phone and 联系人 down to `kiosk visits`; the county sends operators down (PIN hashes only);
and the county's fallback decisions come back on a USB bundle, applied once."""
from __future__ import annotations

import io
import json
import re
from datetime import date

import numpy as np
import pytest

from kiosk import operators
from kiosk import protocol as P
from kiosk.core.ids import check_digit
from kiosk.policy import Category
from kiosk.store import fallbacks
from kiosk.store.syncstate import SyncState, record_uuid
from kiosk.sync import SyncError, export_bundle, import_county_bundle, register, sync_once
from kiosk.sync.backoff import Backoff
from test_cli import kiosk_home, run_cli  # noqa: F401  (kiosk_home is an autouse fixture)
from test_sync_support import hub, open_store, staff_client, terminal  # noqa: F401  (fixtures)

FAST = dict(backoff=Backoff(base=0.01, cap=0.05))
WANG = "11010519541122123" + check_digit("11010519541122123")
LI = "11010519500304123" + check_digit("11010519500304123")
PIN = "246813"
BACKEND = "dlib-128"


def vectors(seed: int, n: int = 6) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=128).astype(np.float64) for _ in range(n)]


def staff(store) -> None:
    admin = operators.add_operator(store, "李主任", "admin", PIN)
    operators.add_operator(store, "李协理", "assistant", PIN, by=admin)
    operators.add_operator(store, "王审核", "reviewer", PIN, by=admin)


def enrol(store, rid: str, vecs, decision: str = "approved", reason: str | None = None) -> int:
    """An enrolment as kiosk.enrolment / `kiosk enrolments approve` make it: consent read, pending, reviewed."""
    now = store.clock.utc_now()
    eid = store.add_enrolment(rid, vecs, BACKEND, enrolled_by="李协理", consent_read_by="李协理", consent_at=now,
                              quality={"frames": len(vecs)})
    store.review_enrolment(eid, decision, "王审核", reason=reason)
    return eid


def roster_of_two(hub) -> None:
    hub.db.upsert_residents([{"id_number": WANG, "name": "王建国", "village": "东村"},
                             {"id_number": LI, "name": "李秀英", "village": "东村"}])


# ------------------------------------------------------------------ enrolments and template sharing
def test_an_approved_enrolment_goes_up_with_who_did_it_and_its_template_reaches_the_other_terminal(hub, terminal,
                                                                                                   tmp_path):
    a, ident = terminal
    b = open_store(tmp_path / "b")
    register(b, hub.url, hub.db.provision("东村"), "东村卫生室")
    roster_of_two(hub)
    sync_once(a, **FAST), sync_once(b, **FAST)
    assert SyncState(a).share_templates()  # default on, and so said by the hub
    staff(a)
    vecs = vectors(1)
    enrol(a, WANG, vecs)
    enrol(a, LI, vectors(2), "rejected", reason="光线太暗")
    report = sync_once(a, **FAST)
    assert report.enrolments_queued == 2 and report.rejected == 0
    got = {json.loads(r.payload)["decision"]: (r, p) for r, p in hub.db.enrolment_records()}
    rec, p = got["approved"]
    assert (rec.device_id, rec.resident_id, rec.village) == (ident.device_id, WANG, "东村")
    assert (p["enrolled_by"], p["enrolled_by_role"], p["reviewed_by"], p["reviewed_by_role"]) == \
        ("李协理", "assistant", "王审核", "reviewer")
    assert p["consent_read_by"] == "李协理" and p["consent_at"] and p["template_shared"] is True
    assert p["hub_template"] == "stored" and p["frames"] == 6
    assert not {"template", "sealed", "ct", "epk"} & set(p) and len(rec.payload) < 2000  # no vectors in the record
    _, rejected = got["rejected"]
    assert rejected["reject_reason"] == "光线太暗" and rejected["template_shared"] is False
    assert rejected["hub_template"] is None
    # Once only: the next pass queues nothing and the enrolling terminal is not sent its own set back.
    again = sync_once(a, **FAST)
    assert (again.enrolments_queued, again.stored, again.templates_changed) == (0, 0, 0)
    assert len(a.templates_for(WANG, BACKEND)) == 6
    # The other terminal of the county receives the approved template, sealed for it.
    report_b = sync_once(b, **FAST)
    assert report_b.templates_changed == 1
    shared = b.templates_for(WANG, BACKEND)
    assert len(shared) == 6 and all(np.allclose(x, y) for x, y in zip(shared, vecs))
    assert b.templates_for(LI, BACKEND) == []
    # County staff see who enrolled and who approved (operator and admin), ID masked.
    page = staff_client(hub, "clerk", "operator").get("/enrolments")
    assert page.status_code == 200 and "李协理（协理员）" in page.text and "王审核（审核员）" in page.text
    assert "光线太暗" in page.text and WANG not in page.text and WANG[:6] in page.text
    assert "已收到，共享给本县其他终端" in page.text
    one = staff_client(hub, "clerk", "operator").get("/enrolments", params={"resident": LI})
    assert "光线太暗" in one.text and "王审核（审核员）" in one.text and one.text.count("<tr>") == 2  # header + LI's
    assert staff_client(hub, "viewer1", "viewer").get("/enrolments").status_code == 403
    b.close()


def test_where_the_county_does_not_share_only_the_fact_of_enrolment_goes_up(hub, terminal, tmp_path):
    a, _ident = terminal
    b = open_store(tmp_path / "b")
    register(b, hub.url, hub.db.provision("东村"), "东村卫生室")
    roster_of_two(hub)
    hub.db.set_setting("share_templates", False)
    sync_once(a, **FAST), sync_once(b, **FAST)
    assert not SyncState(a).share_templates()
    staff(a)
    enrol(a, WANG, vectors(3))
    assert sync_once(a, **FAST).enrolments_queued == 1
    [(rec, p)] = hub.db.enrolment_records()
    assert p["template_shared"] is False and p["hub_template"] is None and p["reviewed_by"] == "王审核"
    assert hub.db.template_page(hub.db.device(_ident.device_id), 0).templates == []
    assert sync_once(b, **FAST).templates_changed == 0 and b.templates_for(WANG, BACKEND) == []
    assert len(a.templates_for(WANG, BACKEND)) == 6  # it stays on the enrolling terminal
    page = staff_client(hub).get("/enrolments")
    assert "模板只留在建模的终端" in page.text and "未上传，只留在建模的终端" in page.text
    b.close()


def test_a_template_sent_while_the_county_stopped_sharing_is_not_kept(hub, terminal):
    a, ident = terminal
    roster_of_two(hub)
    sync_once(a, **FAST)
    staff(a)
    enrol(a, WANG, vectors(4))
    SyncState(a).queue_enrolments(ident.device_id)  # queued while sharing was on
    hub.db.set_setting("share_templates", False)  # the county changed its mind before it arrived
    sync_once(a, **FAST)
    [(_, p)] = hub.db.enrolment_records()
    assert p["template_shared"] is True and p["hub_template"] == "discarded"
    assert hub.db.template_page(hub.db.device(ident.device_id), 0).templates == []


def test_the_hub_refuses_an_enrolment_approved_by_its_enroller_or_a_template_on_a_rejection(hub, terminal):
    _, ident = terminal
    roster_of_two(hub)
    now = "2026-03-05T02:00:00+00:00"
    base = {"resident_id": WANG, "backend": BACKEND, "frames": 5, "enrolled_by": "李协理", "consent_read_by": "李协理",
            "consent_at": now, "created_at": now, "reviewed_by": "王审核", "reviewed_at": now}
    uuid1, uuid2 = record_uuid(ident.device_id, "enrolment", 901), record_uuid(ident.device_id, "enrolment", 902)
    assert uuid1 == P.record_uuid(ident.device_id, "enrolment", 901)  # one UUID rule on both sides
    own = P.PushRecord(uuid=uuid1, kind="enrolment", created_at=now,
                       payload={**base, "uuid": uuid1, "decision": "approved", "reviewed_by": "李协理"})
    sealed = P.seal(hub.db.keys.box_pub, np.zeros((5, 128)).tobytes(),
                    P.template_up_aad(ident.device_id, uuid2, WANG, BACKEND))
    with_template = P.PushRecord(uuid=uuid2, kind="enrolment", created_at=now,
                                 payload={**base, "uuid": uuid2, "decision": "rejected", "template_shared": True},
                                 template=P.SealedTemplate(backend=BACKEND, dtype="float64", dim=128, count=5,
                                                           sealed=sealed))
    acks = {a.uuid: a for a in hub.db.store_records(ident.device_id, [own, with_template], via="network")}
    assert acks[uuid1].code == "own_enrolment" and acks[uuid2].code == "template_not_shared"
    with pytest.raises(P.ProtocolError):  # a template on any other kind is face data
        P.validate_record(P.PushRecord(uuid=uuid1, kind="audit", created_at=now,
                                       payload={"seq": 1, "at": now, "actor": "a", "action": "b"},
                                       template=with_template.template))


# ------------------------------------------------------------------ contacts for home visits
def test_the_roster_file_carries_address_phone_and_contact_to_kiosk_visits(hub, terminal, tmp_path, capsys,
                                                                          monkeypatch):
    from kiosk.county.roster import load_roster

    store, _ = terminal
    csv = tmp_path / "名册.csv"
    csv.write_text("身份证号,姓名,村,认证类别,待遇开始日期,大数据比对日期,状态,住址,联系电话,联系人,联系人电话\n"
                   f"{WANG},王建国,东村,养老,2014-12-01,,正常,东村三组12号,13900000001,王小明,13800000000\n"
                   f"{LI},李秀英,东村,养老,2014-12-01,,正常,,,,\n", encoding="utf-8")
    load = load_roster(csv)
    assert load.errors == [] and load.notes == []
    hub.db.upsert_residents(load.rows)
    sync_once(store, **FAST)
    assert store.resident_contact(WANG) == {"address": "东村三组12号", "phone": "13900000001",
                                            "contact": "王小明 13800000000"}
    assert store.resident_contact(LI) == {}
    staff(store)
    monkeypatch.setattr("sys.stdin", io.StringIO(PIN + "\n"))
    code, lines, _ = run_cli(capsys, "visits", "--operator", "李协理", "--db", store.path, "--key",
                             store.path.parent / "template.key", "--json")
    assert code == 0
    shown = {e["name"]: e for e in lines[0]["residents"]}
    wang, li = shown["王建国"], shown["李秀英"]
    assert (li["address"], li["phone"], li["contact"]) == (None, None, None)
    assert (wang["address"], wang["phone"], wang["contact"]) == ("东村三组12号", "13900000001", "王小明 13800000000")
    monkeypatch.setattr("sys.stdin", io.StringIO(PIN + "\n"))
    code, _, out = run_cli(capsys, "visits", "--operator", "李协理", "--db", store.path, "--key",
                           store.path.parent / "template.key")
    assert code == 0 and "东村三组12号  13900000001  王小明 13800000000" in out
    # The county clears the phone: the terminal follows.
    hub.db.upsert_residents([{**load.rows[0], "phone": None}])
    sync_once(store, **FAST)
    assert "phone" not in store.resident_contact(WANG) and store.resident_contact(WANG)["address"] == "东村三组12号"


# ------------------------------------------------------------------ operators from the county
def test_the_county_sends_operators_down_with_pin_hashes_only(hub, terminal, tmp_path):
    store, ident = terminal
    operators.add_operator(store, "李主任", "admin", PIN)  # made at install, on this terminal
    hub.db.set_operator("县派协理", "assistant", "135790")
    hub.db.set_operator("西村审核", "reviewer", "135791", village="西村")  # another village's: not sent here
    page = hub.db.operator_page(hub.db.device(ident.device_id), 0)
    assert [o.name for o in page.operators] == ["县派协理"] and "135790" not in page.model_dump_json()
    report = sync_once(store, **FAST)
    assert report.operators_changed == 1
    op = operators.verify_pin(store, "县派协理", "135790")
    assert op.role == "assistant" and operators.get(store, "西村审核") is None
    with pytest.raises(operators.OperatorError):
        operators.verify_pin(store, "县派协理", "000000")
    # Disabled at the county: disabled here after the next sync; a local account of the same name is left alone.
    hub.db.set_operator("县派协理", "assistant", None, active=False)
    hub.db.set_operator("李主任", "assistant", "999999")  # the name of this terminal's own admin
    report = sync_once(store, **FAST)
    assert report.operators_changed == 1 and any("重名" in e for e in report.errors)
    assert not operators.get(store, "县派协理").active
    assert operators.verify_pin(store, "李主任", PIN).role == "admin"


# ------------------------------------------------------------------ USB bundles both ways
def test_usb_bundles_carry_enrolments_decisions_and_operators_applied_once(hub, terminal, tmp_path):
    from kiosk.config import Settings
    from kiosk.service import CertificationService
    from test_fallback import FakeEncoder

    store, ident = terminal
    roster_of_two(hub)
    first = hub.db.export_roster_bundle(ident.device_id)
    (tmp_path / "down1.bundle").write_bytes(first)
    res = import_county_bundle(store, tmp_path / "down1.bundle")
    assert res["roster_changed"] == 2 and res["fallbacks_decided"] == 0
    store.upsert_resident(WANG, "王建国", village="东村", categories=[Category.PENSION], benefit_start=date(2014, 12, 1))
    staff(store)
    service = CertificationService(store, Settings(attempts_per_day=3), FakeEncoder())
    fb = service.record_fallback(WANG, "staff_witness", "cannot_perform_actions", "李主任")
    enrol(store, LI, vectors(5))
    # Up: one file with the fallback, the enrolment (and its sealed template) and the audit log.
    path, _, _ = export_bundle(store, tmp_path / "usb")
    assert "李秀英".encode() not in path.read_bytes()
    dev, result, _ = hub.db.import_bundle(path.read_bytes())
    assert dev == ident.device_id and result.rejected == 0
    [(_, p)] = hub.db.enrolment_records()
    assert p["hub_template"] == "stored" and p["reviewed_by"] == "王审核"
    hub.db.decide_fallback(ident.device_id, fb["uuid"], "approved", "clerk")
    hub.db.set_operator("县派协理", "assistant", "135790")
    # Down: the county's decision and its operator come back on the stick.
    (tmp_path / "down2.bundle").write_bytes(hub.db.export_roster_bundle(ident.device_id))
    res = import_county_bundle(store, tmp_path / "down2.bundle")
    assert res["fallbacks_decided"] == 1 and res["operators_changed"] == 1 and res["acked"] >= 2
    f = fallbacks.get(store, fb["uuid"])
    assert f is not None and (f.status, f.decided_by) == ("approved", "clerk")
    assert operators.verify_pin(store, "县派协理", "135790").role == "assistant"
    # Exactly once: the same file again is refused; a newer one holds the decision again and changes nothing.
    with pytest.raises(SyncError) as info:
        import_county_bundle(store, tmp_path / "down2.bundle")
    assert info.value.code == "bundle_old"
    (tmp_path / "down3.bundle").write_bytes(hub.db.export_roster_bundle(ident.device_id))
    res = import_county_bundle(store, tmp_path / "down3.bundle")
    assert (res["fallbacks_decided"], res["operators_changed"]) == (0, 0)
    decided = [e for e in store.audit_entries(after_seq=0, limit=-1) if e["action"] == "fallback_approved"]
    assert len(decided) == 1
    # The network finds nothing new either: the cursors moved with the bundle.
    report = sync_once(store, **FAST)
    assert (report.fallbacks_decided, report.operators_changed, report.enrolments_queued) == (0, 0, 0)


def test_kiosk_sync_bundle_says_what_came_back(hub, terminal, tmp_path, capsys):
    store, ident = terminal
    roster_of_two(hub)
    hub.db.set_operator("县派协理", "assistant", "135790")
    (tmp_path / "down.bundle").write_bytes(hub.db.export_roster_bundle(ident.device_id))
    code, _, out = run_cli(capsys, "sync", "--bundle", tmp_path / "down.bundle", "--db", store.path, "--key",
                           store.path.parent / "template.key")
    assert code == 0 and "名册变更 2 人" in out and "操作员 1 个" in out and "不刷脸认证审核结果 0 条" in out


def test_a_bundle_with_a_malformed_decision_changes_nothing(hub, terminal, tmp_path):
    store, ident = terminal
    roster_of_two(hub)
    dev = hub.db.device(ident.device_id)
    with hub.db.Session.begin() as s:
        seq = hub.db._bump(s, "bundle", dev.id)
    content = {"device_id": dev.id, "roster": [e.model_dump() for e in hub.db.roster_page(dev, 0).residents],
               "policy": None, "templates": [], "acks": [],
               "fallback_decisions": [{"uuid": "x", "decision": "maybe", "by": "c", "at": "2026-01-01", "version": 1}]}
    data = P.make_bundle(P.BUNDLE_DOWN, "county", dev.id, dev.box_pub, hub.db.keys.sign, content, sequence=seq,
                         expires_at="2099-01-01T00:00:00+00:00")
    (tmp_path / "bad.bundle").write_bytes(data)
    with pytest.raises(SyncError) as info:
        import_county_bundle(store, tmp_path / "bad.bundle")
    assert info.value.code == "bad_bundle" and store.get_resident(WANG) is None


def test_county_cli_settings_and_operators(hub, tmp_path, capsys, monkeypatch):
    from kiosk.county.cli import main as county_main

    args = ["--db", hub.db.url, "--hub-key", str(tmp_path / "county" / "hub.key")]
    assert county_main(["setting", "share_templates", *args]) == 0
    assert "share_templates = on" in capsys.readouterr().out
    assert county_main(["setting", "share_templates", "off", *args]) == 0
    assert hub.db.share_templates is False
    assert county_main(["setting", "share_templates", "maybe", *args]) == 2
    monkeypatch.setattr("sys.stdin", io.StringIO("135790\n"))
    assert county_main(["operator", "add", "县派协理", "--role", "reviewer", "--village", "东村", *args]) == 0
    capsys.readouterr()
    assert county_main(["operator", "list", "--json", *args]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert listed == [{"operator": "县派协理", "role": "reviewer", "village": "东村", "active": True}]
    monkeypatch.setattr("sys.stdin", io.StringIO("12\n"))
    assert county_main(["operator", "add", "短口令", "--role", "assistant", *args]) == 2
    assert county_main(["operator", "disable", "县派协理", *args]) == 0
    assert not hub.db.county_operators()[0].active
    assert re.search(r"operator_(add|disable)", " ".join(a.action for a in hub.db.staff_audit()))


def test_enrolment_records_wait_until_the_hub_has_said_it_speaks_v4(hub, terminal, capsys, tmp_path):
    from kiosk.county.cli import main as county_main

    store, ident = terminal  # registered, never synced: it does not know the hub's protocol yet
    roster_of_two(hub)
    store.upsert_resident(WANG, "王建国", village="东村", categories=[Category.PENSION])
    staff(store)
    enrol(store, WANG, vectors(6))
    assert SyncState(store).queue_enrolments(ident.device_id) == 0
    first = sync_once(store, **FAST)  # push (nothing of v4), then pull: the roster page says v4
    assert first.enrolments_queued == 0 and first.rejected == 0 and hub.db.enrolment_records() == []
    second = sync_once(store, **FAST)
    assert second.enrolments_queued == 1 and second.stored >= 1
    args = ["--db", hub.db.url, "--hub-key", str(tmp_path / "county" / "hub.key")]
    capsys.readouterr()
    assert county_main(["enrolments", "--json", *args]) == 0
    [listed] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (listed["enrolled_by"], listed["reviewed_by"], listed["template"]) == ("李协理", "王审核", "stored")
    assert WANG not in json.dumps(listed)


def test_many_enrolments_with_templates_go_up_in_batches_under_the_body_limit(hub, terminal, monkeypatch):
    from kiosk.sync import engine
    from test_sync_support import people

    store, _ = terminal
    ids = people(12, start=300)
    hub.db.upsert_residents([{"id_number": r, "name": f"居民{i}", "village": "东村"} for i, r in enumerate(ids)])
    sync_once(store, **FAST)
    staff(store)
    for i, rid in enumerate(ids):
        enrol(store, rid, vectors(100 + i, n=10))
    monkeypatch.setattr(engine, "BODY_BUDGET", 40_000)  # about two templated records a batch
    sizes: list[int] = []
    post = engine.Syncer._post

    def counted(self, records):
        sizes.append(len(records))
        return post(self, records)

    monkeypatch.setattr(engine.Syncer, "_post", counted)
    report = sync_once(store, **FAST)
    assert report.enrolments_queued == 12 and report.rejected == 0
    assert len(sizes) >= 6 and max(sizes[:-1]) <= 3  # split by size, not by the 500-record batch
    records = hub.db.enrolment_records()
    assert len(records) == 12 and all(p["hub_template"] == "stored" for _, p in records)
    assert len(hub.db.template_page(hub.db.device(terminal[1].device_id), 0).templates) == 0  # its own: not sent back
    assert engine._fit_body([{"a": "x" * 100}] * 3, budget=10) == [{"a": "x" * 100}]  # at least one goes


def test_a_county_db_from_before_v4_is_migrated_in_place(tmp_path):
    from kiosk.county import atrest, open_hub
    from kiosk.county.keys import HubKeys

    url, key = f"sqlite:///{tmp_path / 'county.db'}", tmp_path / "hub.key"
    old = open_hub(url, key)
    old.upsert_residents([{"id_number": WANG, "name": "王建国", "village": "东村"}])
    old.set_templates(WANG, BACKEND, vectors(7, n=2))
    old.close()
    # the v3 schema: no contact or origin columns (county.db is SQLCipher-encrypted under the hub key)
    c = atrest.connect(tmp_path / "county.db", HubKeys.load_or_create(key).database_key)
    with c:
        for table, column in (("residents", "address"), ("residents", "phone"), ("residents", "contact_name"),
                              ("residents", "contact_phone"), ("template_sets", "origin_device")):
            c.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    c.close()
    hub = open_hub(url, key)
    assert hub.residents()[0].name == "王建国" and hub.residents()[0].address is None
    hub.upsert_residents([{"id_number": WANG, "name": "王建国", "village": "东村", "address": "东村三组12号"}])
    assert hub.residents()[0].address == "东村三组12号"
    from sqlalchemy import select

    from kiosk.county.db import TemplateSetRow

    with hub.Session() as sess:
        [row] = sess.scalars(select(TemplateSetRow)).all()
    assert (row.count, row.origin_device) == (2, None) and hub.share_templates is True
    hub.close()
