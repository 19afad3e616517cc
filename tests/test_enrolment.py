"""Enrolment at the terminal (建模, issue 12 item 2): liveness + pose capture, pending review, a second operator approves.

The "Done when" flow on a fresh terminal with the virtual camera, plus the store's and the rules' edges.
"""
from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import pytest

from kiosk.config import key_file
from kiosk.matching.encoder import BACKEND_NAME
from kiosk.enrolment import EnrolmentError, check_enroller, check_reviewer
from kiosk.store import Store, StoreError
from test_cli import assert_error, kiosk_home, run_cli  # noqa: F401  (kiosk_home is an autouse fixture)
from test_cli_resident import RESIDENT

ADMIN, ASSISTANT, REVIEWER = ("李主任", "246813"), ("协理员01", "975312"), ("审核员01", "864209")


@pytest.fixture
def terminal(capsys, kiosk_home, monkeypatch):
    """A fresh terminal: the demo resident in the roster (no template), an admin, a 协理员 and a 审核员."""
    db = kiosk_home / "kiosk.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    with Store.open(db, key_file()) as store:
        store.upsert_resident(RESIDENT, "王建国", village="东村", categories=["pension"])
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{ADMIN[1]}\n"))
    assert run_cli(capsys, "operator", "add", ADMIN[0], "--role", "admin")[0] == 0
    for (name, pin), role in ((ASSISTANT, "assistant"), (REVIEWER, "reviewer")):
        monkeypatch.setattr("sys.stdin", io.StringIO(f"{ADMIN[1]}\n{pin}\n"))
        assert run_cli(capsys, "operator", "add", name, "--role", role, "--by", ADMIN[0])[0] == 0
    return db


def as_operator(monkeypatch, who) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{who[1]}\n"))


@pytest.mark.slow
def test_enrol_at_the_terminal_then_review_by_a_second_operator(capsys, terminal, monkeypatch):
    as_operator(monkeypatch, ASSISTANT)
    code, lines, _ = run_cli(capsys, "enrol", RESIDENT, "--virtual", "--operator", ASSISTANT[0], "--consent-read",
                             "--json")
    assert code == 0, lines
    out = lines[-1]
    assert out["status"] == "pending_review" and 5 <= out["frames"] <= 10, out
    eid = out["enrolment"]
    with Store.open(terminal, key_file()) as store:
        assert store.templates_for(RESIDENT, BACKEND_NAME) == [] and store.all_templates(BACKEND_NAME) == {}
        e = store.get_enrolment(eid)
        assert (e["status"], e["enrolled_by"], e["consent_read_by"]) == ("pending_review", ASSISTANT[0], ASSISTANT[0])

    # Before approval: no template, so certification is refused.
    code, lines, _ = run_cli(capsys, "certify-resident", RESIDENT, "--virtual", "--json")
    assert_error(code, lines, "no_template")

    code, lines, _ = run_cli(capsys, "enrolments", "--pending", "--json")
    listed = lines[0]["enrolments"]
    assert [x["enrolment"] for x in listed] == [eid] and RESIDENT not in str(listed) and "王建国" not in str(listed)

    # The operator who enrolled it may not approve it (an admin's role would not change that either).
    as_operator(monkeypatch, ASSISTANT)
    code, lines, _ = run_cli(capsys, "enrolments", "approve", eid, "--operator", ASSISTANT[0], "--json")
    assert_error(code, lines, "own_enrolment")

    as_operator(monkeypatch, REVIEWER)
    code, lines, _ = run_cli(capsys, "enrolments", "approve", RESIDENT, "--operator", REVIEWER[0], "--json")
    assert code == 0 and lines[0]["status"] == "approved" and lines[0]["reviewed_by"] == REVIEWER[0], lines

    code, lines, _ = run_cli(capsys, "certify-resident", RESIDENT, "--virtual", "--actions", "blink,turn_left", "--json")
    assert code == 0 and (lines[-1]["verdict"], lines[-1]["reason"]) == ("pass", "ok"), lines[-1]

    with Store.open(terminal, key_file()) as store:
        assert len(store.templates_for(RESIDENT, BACKEND_NAME)) == out["frames"]
        actions = [(a["actor"], a["action"]) for a in store.audit_entries()]
        assert (ASSISTANT[0], "enrolment_submitted") in actions and (REVIEWER[0], "enrolment_approved") in actions
        for a in store.audit_entries():
            assert "vector" not in str(a["details"]) and RESIDENT not in str(a["details"])


def test_consent_is_required_and_only_assistants_or_admins_enrol(capsys, terminal, monkeypatch):
    as_operator(monkeypatch, ASSISTANT)
    code, lines, _ = run_cli(capsys, "enrol", RESIDENT, "--virtual", "--operator", ASSISTANT[0], "--json")
    assert_error(code, lines, "consent_required")
    as_operator(monkeypatch, REVIEWER)
    code, lines, _ = run_cli(capsys, "enrol", RESIDENT, "--virtual", "--operator", REVIEWER[0], "--consent-read",
                             "--json")
    assert_error(code, lines, "not_allowed_to_enrol")


def test_re_enrolment_keeps_the_old_template_until_the_new_one_is_approved_and_reject_drops_it(terminal):
    rng = np.random.default_rng(0)
    vecs = [rng.normal(size=128) for _ in range(5)]
    with Store.open(terminal, key_file()) as store:
        now = store.clock.utc_now()
        store.add_template(RESIDENT, rng.normal(size=128), "dlib", source="county")
        old = store.templates_for(RESIDENT, "dlib")
        e1 = store.add_enrolment(RESIDENT, vecs, "dlib", enrolled_by="a", consent_read_by="a", consent_at=now,
                                 quality={"frames": 5})
        assert [v.tolist() for v in store.templates_for(RESIDENT, "dlib")] == [v.tolist() for v in old]
        store.review_enrolment(e1, "rejected", "r", reason="照片太暗")
        assert len(store.templates_for(RESIDENT, "dlib")) == 1
        with pytest.raises(StoreError):
            store.review_enrolment(e1, "approved", "r")
        e2 = store.add_enrolment(RESIDENT, vecs, "dlib", enrolled_by="a", consent_read_by="a", consent_at=now)
        assert len(store.templates_for(RESIDENT, "dlib")) == 1
        store.review_enrolment(e2, "approved", "r")
        got = store.templates_for(RESIDENT, "dlib")
        assert len(got) == 5 and np.allclose(got[0], vecs[0])
        assert [e["status"] for e in store.list_enrolments()] == ["rejected", "approved"]
        assert store.get_enrolment(e1)["reject_reason"] == "照片太暗"


def test_review_rules():
    pending = {"id": 1, "status": "pending_review", "enrolled_by": "甲"}
    check_reviewer(SimpleNamespace(name="乙", role="reviewer"), pending)
    check_reviewer(SimpleNamespace(name="乙", role="admin"), pending)
    for op, e, code in ((SimpleNamespace(name="甲", role="admin"), pending, "own_enrolment"),
                        (SimpleNamespace(name="乙", role="assistant"), pending, "not_allowed_to_review"),
                        (SimpleNamespace(name="乙", role="reviewer"), {**pending, "status": "approved"}, "not_pending")):
        with pytest.raises(EnrolmentError) as err:
            check_reviewer(op, e)
        assert err.value.code == code and err.value.message
    with pytest.raises(EnrolmentError):
        check_enroller(SimpleNamespace(name="乙", role="reviewer"))
