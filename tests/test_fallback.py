"""Certification without a face (工作人员核实认证 / 亲属承诺) on the terminal: `kiosk fallback` records it
pending county review, never as a face pass; only the county's decision changes the resident's status.

The hub side (review queue, record kind, decision pull) is not built yet: the decision is applied
here with `fallbacks.decide`, as the sync pull will."""
from __future__ import annotations

import io
from datetime import date

import pytest

from kiosk.config import key_file
from kiosk.core.clock import Clock
from kiosk.core.ids import check_digit
from kiosk.policy import Category
from kiosk.store import Store, fallbacks
from test_cli import assert_error, kiosk_home, run_cli  # noqa: F401  (kiosk_home is an autouse fixture)

WANG = "11010519541122123" + check_digit("11010519541122123")  # birthday in November: the cycle is open
SON = "11010519800101123" + check_digit("11010519800101123")
TODAY = "2026-11-24"
PIN = "246813"


@pytest.fixture
def terminal(kiosk_home, capsys, monkeypatch):
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


def open_store(home) -> Store:
    return Store.open(home / "kiosk.db", key_file(), clock=Clock.fixed(TODAY))


def eligibility(home):
    from kiosk.config import Settings
    from kiosk.service import CertificationService

    class FakeEncoder:
        name = "dlib-128"

    with open_store(home) as s:
        return CertificationService(s, Settings(attempts_per_day=3), FakeEncoder()).eligibility(WANG)


def test_a_staff_witnessed_fallback_waits_for_the_county_and_is_never_a_face_pass(capsys, monkeypatch, terminal):
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
    with open_store(terminal) as s:
        assert s.attempts_for(WANG) == [] and s.last_certified(WANG) is None
        assert [e["action"] for e in s.audit_entries()][-1] == "fallback_recorded"
    e = eligibility(terminal)
    assert (e.may_certify, e.code, e.next_step_code) == (False, "fallback_pending", "wait_county_review")
    assert_error(*fallback(capsys, monkeypatch, "--method", "staff_witness",
                           "--reason", "refuses_face_recognition")[:2], "fallback_pending")
    # The county approves (the sync pull will apply it): certified on the fallback's date.
    with open_store(terminal) as s:
        assert fallbacks.decide(s, out["uuid"], "approved", by="county-admin")
        assert not fallbacks.decide(s, out["uuid"], "rejected", reason="late")  # decided once
        assert s.last_certified(WANG) == date(2026, 11, 24)
    approved = status(capsys)
    assert approved["status"] == "certified" and "本认证周期已" in approved["message"]
    assert approved["fallback"]["status"] == "approved"


def test_a_rejected_fallback_shows_the_reason_and_the_next_step(capsys, monkeypatch, terminal):
    code, lines, _ = fallback(capsys, monkeypatch, "--method", "staff_witness", "--reason", "refuses_face_recognition")
    assert code == 0
    with open_store(terminal) as s:
        assert fallbacks.decide(s, lines[0]["uuid"], "rejected", by="county-admin", reason="未附影像资料")
        assert s.last_certified(WANG) is None
    after = status(capsys)
    assert after["status"] != "certified" and after["fallback"]["status"] == "rejected"
    assert "未附影像资料" in after["fallback"]["message"] and "乡镇社保所" in after["fallback"]["message"]
    assert eligibility(terminal).code == "no_template"  # no longer fallback_pending: the usual next step


def test_free_text_needs_todays_tries_used_up(capsys, monkeypatch, terminal):
    code, lines, _ = fallback(capsys, monkeypatch, "--method", "staff_witness", "--reason", "老人手抖")
    assert code == 2 and lines[0]["error"] == "not_allowed" and "还有3次" in lines[0]["message"]


def test_a_relative_pledge_needs_the_relative_and_keeps_their_id_sealed(capsys, monkeypatch, terminal):
    pledge = ["--method", "relative_pledge", "--reason", "cannot_perform_actions"]
    assert fallback(capsys, monkeypatch, *pledge, "--relative-name", "王小明")[1][0]["error"] == "relative"
    bad = fallback(capsys, monkeypatch, *pledge, "--relative-name", "王小明", "--relation", "子女",
                   "--relative-id", SON[:-1] + ("0" if SON[-1] != "0" else "1"), "--relative-phone", "13800000000")
    assert bad[0] == 2 and bad[1][0]["error"] == "relative_id"
    code, lines, _ = fallback(capsys, monkeypatch, *pledge, "--relative-name", "王小明", "--relation", "子女",
                              "--relative-id", SON, "--relative-phone", "13800000000")
    assert code == 0 and lines[0]["method"] == "relative_pledge" and lines[0]["relation"] == "子女"
    assert SON not in str(lines[0]) and "*" in lines[0]["relative_id"]
    with open_store(terminal) as s:
        assert fallbacks.relative_of(s, lines[0]["uuid"]) == fallbacks.Relative("王小明", "子女", SON, "13800000000")
    raw = (terminal / "kiosk.db").read_bytes()
    assert SON.encode() not in raw and "王小明".encode() not in raw and b"13800000000" not in raw
