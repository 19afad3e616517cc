"""`kiosk certify-resident`: a real certification of an enrolled resident, recorded like the app does."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from kiosk.config import key_file
from kiosk.core.ids import check_digit
from kiosk.store import Store
from test_cli import assert_error, kiosk_home, run_cli  # noqa: F401  (kiosk_home is an autouse fixture)

ASTRONAUT = Path(__file__).resolve().parents[1] / "assets" / "demo" / "astronaut.png"
FIRST17 = "11010519541122123"
RESIDENT = FIRST17 + check_digit(FIRST17)


@pytest.fixture
def enrolled(capsys, kiosk_home):
    code, lines, _ = run_cli(capsys, "enroll", RESIDENT, "王建国", ASTRONAUT, "--village", "东村", "--json")
    assert code == 0 and lines[0]["templates"] == 1
    return kiosk_home / "kiosk.db"


@pytest.mark.slow
def test_the_virtual_resident_certifies_and_it_is_recorded(capsys, enrolled, monkeypatch):
    # The operator exists on this terminal and gives their PIN on stdin (never in argv).
    monkeypatch.setattr("sys.stdin", io.StringIO("246813\n"))
    assert run_cli(capsys, "operator", "add", "李主任", "--role", "admin")[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("246813\n975312\n"))
    assert run_cli(capsys, "operator", "add", "协理员01", "--role", "assistant", "--by", "李主任")[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("975312\n"))
    code, lines, _ = run_cli(capsys, "certify-resident", RESIDENT, "--virtual", "--actions", "blink,turn_left",
                             "--operator", "协理员01", "--json")
    assert code == 0
    out = lines[-1]
    assert (out["verdict"], out["reason"]) == ("pass", "ok"), out
    assert [s["action"] for s in out["steps"]] == ["blink", "turn_left"] and all(s["passed"] for s in out["steps"])
    assert out["valid_until"] and out["attempts_left"] == 2
    # PAD on by default; the virtual face reflects the colour flash (report mode: evidence only).
    assert out["pad"]["attack"] is False and out["pad"]["flash"]["shown"], out["pad"]
    assert out["pad"]["flash"]["decided"] is False and out["pad"]["flash"]["score"] > 0.6, out["pad"]["flash"]
    with Store.open(enrolled, key_file()) as store:
        rows = store.attempts_for(RESIDENT)
        assert [(r.verdict, r.operator, r.mode) for r in rows] == [("pass", "协理员01", "self")]
        assert len(store.pending_outbox()) == 1
    code, lines, _ = run_cli(capsys, "status", RESIDENT, "--json")
    assert lines[0]["status"] == "certified"


@pytest.mark.slow
def test_helper_is_recorded_for_proxy_certification(capsys, enrolled):
    code, lines, _ = run_cli(capsys, "certify-resident", RESIDENT, "--virtual", "--actions", "open_mouth",
                             "--helper", "子女", "--json")
    assert code == 0 and lines[-1]["verdict"] == "pass"
    with Store.open(enrolled, key_file()) as store:
        assert store.attempts_for(RESIDENT)[0].helper_relationship == "子女"


@pytest.mark.parametrize("argv, expected", [
    (["--virtual", "--video", "x.mp4"], "usage"),
    (["--virtual", "--actions", "turn_left"], "bad_actions"),  # no blink or open_mouth: refused
])
def test_bad_requests_are_refused_before_the_camera(capsys, enrolled, argv, expected):
    code, lines, _ = run_cli(capsys, "certify-resident", RESIDENT, *argv, "--json")
    assert_error(code, lines, expected)


def test_unknown_and_unenrolled_residents_get_a_next_step(capsys, kiosk_home):
    code, lines, _ = run_cli(capsys, "certify-resident", RESIDENT, "--virtual", "--json")
    assert_error(code, lines, "unknown_resident")
    assert "名册" in lines[0]["message"]
