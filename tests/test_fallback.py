"""Certification without a face (工作人员核实认证 / 亲属承诺) on the terminal: `kiosk fallback` records it
pending county review, never as a face pass; only the county's decision changes the resident's status.

The first tests apply the county's decision with `fallbacks.decide` (what the sync pull does); the
last ones go through a real local hub: push, review queue (page with CSRF, `kiosk-county fallbacks`),
decision pulled back to the terminal."""
from __future__ import annotations

import io
import json
from datetime import date

import pytest

from kiosk.config import key_file
from kiosk.core.clock import Clock
from kiosk.core.ids import check_digit
from kiosk.policy import Category
from kiosk.store import Store, fallbacks
from test_cli import assert_error, kiosk_home, run_cli  # noqa: F401  (kiosk_home is an autouse fixture)
from test_sync_support import hub, staff_client, terminal  # noqa: F401  (fixtures)

WANG = "11010519541122123" + check_digit("11010519541122123")  # birthday in November: the cycle is open
SON = "11010519800101123" + check_digit("11010519800101123")
TODAY = "2026-11-24"
PIN = "246813"


@pytest.fixture
def kiosk_terminal(kiosk_home, capsys, monkeypatch):
    kiosk_home.mkdir(parents=True, exist_ok=True)
    with Store.open(kiosk_home / "kiosk.db", key_file()) as s:
        s.upsert_resident(WANG, "王建国", village="东村", categories=[Category.PENSION],
                          benefit_start=date(2014, 12, 1))
    monkeypatch.setattr("sys.stdin", io.StringIO(PIN + "\n"))
    assert run_cli(capsys, "operator", "add", "李主任", "--role", "admin")[0] == 0
    return kiosk_home


def fallback(capsys, monkeypatch, *argv):
    monkeypatch.setattr("sys.stdin", io.StringIO(PIN + "\n"))
    return run_cli(capsys, "fallback", WANG, "--operator", "李主任", "--today", TODAY, "--json", *argv)


def status(capsys) -> dict:
    code, lines, _ = run_cli(capsys, "status", WANG, "--today", TODAY, "--json")
    assert code == 0
    return lines[0]


class FakeEncoder:
    name = "dlib-128"


def open_store(home) -> Store:
    return Store.open(home / "kiosk.db", key_file(), clock=Clock.fixed(TODAY))


def eligibility(home):
    from kiosk.config import Settings
    from kiosk.service import CertificationService

    with open_store(home) as s:
        return CertificationService(s, Settings(attempts_per_day=3), FakeEncoder()).eligibility(WANG)


def test_a_staff_witnessed_fallback_waits_for_the_county_and_is_never_a_face_pass(capsys, monkeypatch, kiosk_terminal):
    before = status(capsys)
    code, lines, _ = fallback(capsys, monkeypatch, "--method", "staff_witness", "--reason", "cannot_perform_actions")
    assert code == 0
    out = lines[0]
    assert out["status"] == "pending_county_review" and out["expected_days"] == 3
    assert out["message"] == "已提交，等县里审核（约3个工作日）"
    assert out["method"] == "staff_witness" and out["reason"] == "cannot_perform_actions"
    assert out["operator"] == "李主任" and WANG not in str(out)  # the resident's ID masked
    # Not a face pass: no attempt, status unchanged; the resident is told to wait, not to try again.
    after = status(capsys)
    assert after["status"] == before["status"] != "certified"
    assert after["fallback"]["status"] == "pending_county_review"
    assert "等县里审核" in after["fallback"]["message"]
    with open_store(kiosk_terminal) as s:
        assert s.attempts_for(WANG) == [] and s.last_certified(WANG) is None
        assert [e["action"] for e in s.audit_entries()][-1] == "fallback_recorded"
    e = eligibility(kiosk_terminal)
    assert (e.may_certify, e.code, e.next_step_code) == (False, "fallback_pending", "wait_county_review")
    assert_error(*fallback(capsys, monkeypatch, "--method", "staff_witness",
                           "--reason", "refuses_face_recognition")[:2], "fallback_pending")
    # The county approves (the sync pull will apply it): certified on the fallback's date.
    with open_store(kiosk_terminal) as s:
        assert fallbacks.decide(s, out["uuid"], "approved", by="county-admin")
        assert not fallbacks.decide(s, out["uuid"], "rejected", reason="late")  # decided once
        assert s.last_certified(WANG) == date(2026, 11, 24)
    approved = status(capsys)
    assert approved["status"] == "certified" and "本认证周期已" in approved["message"]
    assert approved["fallback"]["status"] == "approved"


def test_a_rejected_fallback_shows_the_reason_and_the_next_step(capsys, monkeypatch, kiosk_terminal):
    code, lines, _ = fallback(capsys, monkeypatch, "--method", "staff_witness", "--reason", "refuses_face_recognition")
    assert code == 0
    with open_store(kiosk_terminal) as s:
        assert fallbacks.decide(s, lines[0]["uuid"], "rejected", by="county-admin", reason="未附影像资料")
        assert s.last_certified(WANG) is None
    after = status(capsys)
    assert after["status"] != "certified" and after["fallback"]["status"] == "rejected"
    assert "未附影像资料" in after["fallback"]["message"] and "乡镇社保所" in after["fallback"]["message"]
    assert eligibility(kiosk_terminal).code == "no_template"  # no longer fallback_pending: the usual next step


def test_free_text_needs_todays_tries_used_up(capsys, monkeypatch, kiosk_terminal):
    code, lines, _ = fallback(capsys, monkeypatch, "--method", "staff_witness", "--reason", "老人手抖")
    assert code == 2 and lines[0]["error"] == "not_allowed" and "还有3次" in lines[0]["message"]


def test_a_relative_pledge_needs_the_relative_and_keeps_their_id_sealed(capsys, monkeypatch, kiosk_terminal):
    pledge = ["--method", "relative_pledge", "--reason", "cannot_perform_actions"]
    assert fallback(capsys, monkeypatch, *pledge, "--relative-name", "王小明")[1][0]["error"] == "relative"
    bad = fallback(capsys, monkeypatch, *pledge, "--relative-name", "王小明", "--relation", "子女",
                   "--relative-id", SON[:-1] + ("0" if SON[-1] != "0" else "1"), "--relative-phone", "13800000000")
    assert bad[0] == 2 and bad[1][0]["error"] == "relative_id"
    code, lines, _ = fallback(capsys, monkeypatch, *pledge, "--relative-name", "王小明", "--relation", "子女",
                              "--relative-id", SON, "--relative-phone", "13800000000")
    assert code == 0 and lines[0]["method"] == "relative_pledge" and lines[0]["relation"] == "子女"
    assert SON not in str(lines[0]) and "*" in lines[0]["relative_id"]
    with open_store(kiosk_terminal) as s:
        assert fallbacks.relative_of(s, lines[0]["uuid"]) == fallbacks.Relative("王小明", "子女", SON, "13800000000")
        row = str(list(s.db.query("SELECT * FROM fallbacks")))  # sealed at rest
        assert SON not in row and "王小明" not in row and "13800000000" not in row
        # Only the record waiting for the county carries them (it checks the pledge); masked once acknowledged.
        [item] = [i for i in s.pending_outbox() if i.kind == "fallback"]
        assert item.payload["relative_id"] == SON and item.payload["relative_phone"] == "13800000000"
        s.mark_acked([item.uuid])
        acked = json.loads(s.db.execute("SELECT payload FROM outbox WHERE uuid = ?", [item.uuid]).fetchone()[0])
        assert acked["relative_id"] == SON[:6] + "********" + SON[14:] and "relative_phone" not in acked
        assert "relative_name" not in acked and "*" in acked["resident_id"]


# ------------------------------------------------------------------ through a real local hub
def on_both_rosters(hub, store):
    from kiosk import operators

    hub.db.upsert_residents([{"id_number": WANG, "name": "王建国", "village": "东村"}])
    store.upsert_resident(WANG, "王建国", village="东村", categories=[Category.PENSION], benefit_start=date(2014, 12, 1))
    operators.add_operator(store, "李主任", "admin", PIN)
    from kiosk.config import Settings
    from kiosk.service import CertificationService

    return CertificationService(store, Settings(attempts_per_day=3), FakeEncoder())


def hub_resident(hub):
    return next(r for r in hub.db.residents() if r.id_number == WANG)


def terminal_status(capsys, store) -> dict:
    code, lines, _ = run_cli(capsys, "status", WANG, "--db", store.path, "--key", store.path.parent / "template.key",
                             "--json")
    assert code == 0
    return lines[0]


def test_a_staff_witnessed_fallback_reaches_the_review_queue_and_once_approved_the_terminal_shows_certified(
        capsys, hub, terminal):
    import re

    from kiosk.sync import sync_once
    from kiosk.sync.backoff import Backoff

    store, ident = terminal
    service = on_both_rosters(hub, store)
    out = service.record_fallback(WANG, "staff_witness", "cannot_perform_actions", "李主任")
    report = sync_once(store, backoff=Backoff(base=0.01, cap=0.05))
    assert report.stored >= 1 and report.rejected == 0
    [(rec, decision)] = hub.db.fallback_records(pending_only=True)
    assert (rec.device_id, rec.uuid, decision) == (ident.device_id, out["uuid"], None)
    assert rec.verdict is None and hub_resident(hub).certified_on is None  # never a face pass, at the hub either
    assert terminal_status(capsys, store)["status"] != "certified"
    # The review queue: operators and admins only; the decision needs the session's CSRF token.
    viewer = staff_client(hub, "viewer1", "viewer")
    assert viewer.get("/fallbacks").status_code == 403
    clerk = staff_client(hub, "clerk", "operator")
    page = clerk.get("/fallbacks")
    assert page.status_code == 200 and "工作人员核实认证" in page.text and WANG not in page.text
    target = f"{ident.device_id}:{out['uuid']}"
    assert clerk.post("/fallbacks", data={"record": target, "decision": "approved"}).status_code == 403
    csrf = re.search(r'name=csrf value="([^"]+)"', page.text).group(1)
    assert clerk.post("/fallbacks", data={"csrf": csrf, "record": target, "decision": "approved"}).status_code == 303
    assert hub.db.fallback_records(pending_only=True) == []
    today = hub.db.clock.today().isoformat()
    assert hub_resident(hub).certified_on == today
    assert any(a.user == "clerk" and a.action == "fallback_approved" and a.target == target
               for a in hub.db.staff_audit())
    # The next sync brings the decision back: the resident shows certified on the terminal.
    again = sync_once(store, backoff=Backoff(base=0.01, cap=0.05))
    assert again.fallbacks_decided == 1
    f = fallbacks.get(store, out["uuid"])
    assert f is not None and (f.status, f.decided_by) == ("approved", "clerk")
    shown = terminal_status(capsys, store)
    assert shown["status"] == "certified" and "本认证周期已认证" in shown["message"]
    assert shown["fallback"]["status"] == "approved"


def test_a_rejected_relative_pledge_comes_back_with_the_reason(capsys, hub, terminal, tmp_path):
    from kiosk.county.cli import main as county_main
    from kiosk.sync import sync_once
    from kiosk.sync.backoff import Backoff

    store, ident = terminal
    service = on_both_rosters(hub, store)
    out = service.record_fallback(WANG, "relative_pledge", "refuses_face_recognition", "李主任",
                                  relative=fallbacks.Relative("王小明", "子女", SON, "13800000000"))
    sync_once(store, backoff=Backoff(base=0.01, cap=0.05))
    [(rec, _)] = hub.db.fallback_records(pending_only=True)
    assert json.loads(rec.payload)["relative_id"] == SON  # the county checks the pledge
    # acknowledged: the terminal keeps the relative masked only
    acked = store.db.execute("SELECT payload FROM outbox WHERE uuid = ?", [out["uuid"]]).fetchone()[0]
    assert SON not in acked and "13800000000" not in acked
    args = ["--db", hub.db.url, "--hub-key", str(tmp_path / "county" / "hub.key")]
    assert county_main(["fallbacks", "--pending", "--json", *args]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [x["uuid"] for x in listed] == [out["uuid"]] and listed[0]["status"] == "pending_review"
    assert SON not in str(listed) and listed[0]["method"] == "relative_pledge"
    target = f"{ident.device_id}:{out['uuid']}"
    assert county_main(["fallbacks", "reject", target, "--by", "clerk", "--json", *args]) == 2  # a reason is required
    capsys.readouterr()
    assert county_main(["fallbacks", "reject", target, "--by", "clerk", "--reason", "亲属未到场签字", *args]) == 0
    assert county_main(["fallbacks", "approve", target, "--by", "clerk", *args]) == 2  # decided once
    capsys.readouterr()
    assert hub_resident(hub).certified_on is None
    assert any(a.user == "clerk" and a.action == "fallback_rejected" for a in hub.db.staff_audit())
    assert sync_once(store, backoff=Backoff(base=0.01, cap=0.05)).fallbacks_decided == 1
    shown = terminal_status(capsys, store)
    assert shown["status"] != "certified" and shown["fallback"]["status"] == "rejected"
    assert "亲属未到场签字" in shown["fallback"]["message"] and "乡镇社保所" in shown["fallback"]["message"]
