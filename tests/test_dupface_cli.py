"""`kiosk enrol` / `kiosk enrolments` with the duplicate-face check (kiosk.dupface): the virtual
camera's face is already another resident's template, so enrolling it under the demo resident is
flagged, listed with a flag, refused on approve until `--confirm-different-person "reason"`."""
from __future__ import annotations

from datetime import date

import pytest

from kiosk.app.demo import enrol_virtual_face, make_id
from kiosk.config import key_file
from kiosk.matching.encoder import BACKEND_NAME
from kiosk.store import Store
from test_cli import assert_error, kiosk_home, run_cli  # noqa: F401  (kiosk_home is an autouse fixture)
from test_cli_resident import RESIDENT
from test_enrolment import ASSISTANT, REVIEWER, as_operator, terminal  # noqa: F401  (fixture)

OTHER = make_id("110105", date(1948, 3, 9), "021")  # already enrolled with the virtual camera's face


@pytest.mark.slow
def test_cli_flags_a_face_enrolled_for_someone_else_and_approve_needs_a_confirmation(capsys, terminal, monkeypatch):
    with Store.open(terminal, key_file()) as store:
        store.upsert_resident(OTHER, "李桂兰", village="东村", categories=["pension"])
        store.add_template(OTHER, enrol_virtual_face(), BACKEND_NAME, source="county")
    as_operator(monkeypatch, ASSISTANT)
    code, lines, _ = run_cli(capsys, "enrol", RESIDENT, "--virtual", "--operator", ASSISTANT[0], "--consent-read",
                             "--json")
    assert code == 0, lines
    out = lines[-1]
    assert out["status"] == "pending_review" and out["resembles_other"] == 1, out
    [m] = out["resembles"]
    assert m["within"] and m["resident"].endswith(OTHER[-4:]) and OTHER not in str(out) and m["name"] == "李*兰"
    eid = out["enrolment"]

    code, lines, raw = run_cli(capsys, "enrolments", "--pending")
    assert code == 0 and "像他人 1" in raw and "李*兰" in raw and OTHER not in raw, raw
    code, lines, _ = run_cli(capsys, "enrolments", "--json")
    assert lines[0]["enrolments"][0]["resembles"][0]["within"] is True

    as_operator(monkeypatch, REVIEWER)
    code, lines, _ = run_cli(capsys, "enrolments", "approve", eid, "--operator", REVIEWER[0], "--json")
    assert_error(code, lines, "confirmation_required")
    assert "--confirm-different-person" in lines[0]["message"]
    with Store.open(terminal, key_file()) as store:
        assert store.get_enrolment(eid)["status"] == "pending_review"
    as_operator(monkeypatch, REVIEWER)
    code, lines, _ = run_cli(capsys, "enrolments", "approve", eid, "--operator", REVIEWER[0],
                             "--confirm-different-person", " ", "--json")
    assert_error(code, lines, "no_confirm_reason")
    as_operator(monkeypatch, REVIEWER)
    code, lines, _ = run_cli(capsys, "enrolments", "approve", eid, "--operator", REVIEWER[0],
                             "--confirm-different-person", "已核对两人身份证，是双胞胎姐妹", "--json")
    assert code == 0, lines
    conf = lines[-1]["resemble_confirmation"]
    assert (lines[-1]["status"], conf["kind"], conf["reason"], conf["by"]) == (
        "approved", "different_person", "已核对两人身份证，是双胞胎姐妹", REVIEWER[0])
    with Store.open(terminal, key_file()) as store:
        acts = {a["action"]: a for a in store.audit_entries()}
        assert acts["enrolment_approved"]["details"]["resemble_confirmation"]["reason"] == "已核对两人身份证，是双胞胎姐妹"
        assert "enrolment_resembles_other" in acts


@pytest.mark.slow
def test_reject_of_a_flagged_enrolment_needs_no_confirmation(capsys, terminal, monkeypatch):
    with Store.open(terminal, key_file()) as store:
        store.upsert_resident(OTHER, "李桂兰", village="东村", categories=["pension"])
        store.add_template(OTHER, enrol_virtual_face(), BACKEND_NAME, source="county")
    as_operator(monkeypatch, ASSISTANT)
    code, lines, _ = run_cli(capsys, "enrol", RESIDENT, "--virtual", "--operator", ASSISTANT[0], "--consent-read",
                             "--json")
    assert code == 0 and lines[-1]["resembles_other"] == 1
    as_operator(monkeypatch, REVIEWER)
    code, lines, _ = run_cli(capsys, "enrolments", "reject", lines[-1]["enrolment"], "--operator", REVIEWER[0],
                             "--reason", "不是本人", "--json")
    assert code == 0 and lines[-1]["status"] == "rejected", lines
