"""Staff accounts (kiosk.operators, `kiosk operator …`): hashed PINs, lockout, the first-admin rule, PINs
never from argv, audit entries, and `--operator` commands refusing a wrong PIN."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest

from kiosk import operators
from kiosk.config import key_file
from kiosk.core.clock import Clock
from kiosk.operators import OperatorError
from kiosk.store import Store
from kiosk.texts import TEXTS
from test_cli import assert_error, kiosk_home, run_cli  # noqa: F401  (kiosk_home is an autouse fixture)

ADMIN_PIN, PIN, NEW_PIN = "246813", "975312", "864209"
T0 = "2026-03-05T09:00:00"


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "kiosk.db", tmp_path / "t.key", clock=Clock.fixed(T0)) as s:
        yield s


def at(store: Store, seconds: float) -> None:
    store.clock = Clock.fixed(T0).shifted(timedelta(seconds=seconds))


def stdin(monkeypatch, *lines: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(line + "\n" for line in lines)))


def code_of(exc: pytest.ExceptionInfo) -> str:
    return exc.value.code


# --- rules -----------------------------------------------------------------------------------


def test_pin_is_hashed_with_salt_and_never_stored(store, tmp_path):
    a = operators.add_operator(store, "李主任", "admin", ADMIN_PIN)
    operators.add_operator(store, "王五", "assistant", ADMIN_PIN, by=a)  # same PIN, different salt
    rows = list(store.db.query("SELECT pin_hash, pin_salt, pin_params FROM operators"))
    assert rows[0]["pin_hash"] != rows[1]["pin_hash"] and rows[0]["pin_salt"] != rows[1]["pin_salt"]
    assert all(r["pin_params"].startswith("scrypt:") and len(r["pin_hash"]) == 32 for r in rows)
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("kiosk.db*"))
    assert ADMIN_PIN.encode() not in raw and ADMIN_PIN.encode("utf-16-le") not in raw
    assert operators.verify_pin(store, "王五", ADMIN_PIN).role == "assistant"


@pytest.mark.parametrize("pin", ["12345", "abcdef", "12345a", "111111", "123456", "987654", "", " 246813"])
def test_weak_pins_are_refused(store, pin):
    with pytest.raises(OperatorError) as e:
        operators.add_operator(store, "李主任", "admin", pin)
    assert code_of(e) == "weak_pin" and operators.count(store) == 0


def test_first_operator_must_be_an_admin_and_later_ones_need_one(store):
    with pytest.raises(OperatorError) as e:
        operators.add_operator(store, "王五", "assistant", PIN)
    assert code_of(e) == "first_must_be_admin"
    admin = operators.add_operator(store, "李主任", "admin", ADMIN_PIN)
    with pytest.raises(OperatorError) as e:
        operators.add_operator(store, "王五", "assistant", PIN)
    assert code_of(e) == "admin_required"
    wang = operators.add_operator(store, "王五", "assistant", PIN, by=admin)
    with pytest.raises(OperatorError) as e:
        operators.add_operator(store, "赵六", "reviewer", PIN, by=wang)
    assert code_of(e) == "not_admin"
    with pytest.raises(OperatorError) as e:
        operators.add_operator(store, "王五", "reviewer", PIN, by=admin)
    assert code_of(e) == "operator_exists"
    with pytest.raises(OperatorError) as e:
        operators.disable(store, "李主任", by=admin)
    assert code_of(e) == "last_admin"
    operators.disable(store, "王五", by=admin)
    with pytest.raises(OperatorError) as e:
        operators.verify_pin(store, "王五", PIN)
    assert code_of(e) == "inactive"
    with pytest.raises(OperatorError) as e:
        operators.verify_pin(store, "无此人", PIN)
    assert code_of(e) == "unknown_operator"


def test_lockout_grows_with_each_failure_and_a_right_pin_resets_it(store):
    operators.add_operator(store, "李主任", "admin", ADMIN_PIN)
    tries = []
    for _ in range(2):
        with pytest.raises(OperatorError) as e:
            operators.verify_pin(store, "李主任", "000001")
        tries.append((code_of(e), e.value.data))
    assert tries == [("wrong_pin", {"tries_left": 2}), ("wrong_pin", {"tries_left": 1})]
    assert "还可以再试 2 次" in TEXTS["operator_wrong_pin"].format(tries_left=2)
    with pytest.raises(OperatorError) as e:  # third failure: locked 30 s
        operators.verify_pin(store, "李主任", "000001")
    assert (code_of(e), e.value.data) == ("locked", {"seconds": 30})
    at(store, 29)  # still locked, even with the right PIN (and the PIN is not checked)
    with pytest.raises(OperatorError) as e:
        operators.verify_pin(store, "李主任", ADMIN_PIN)
    assert (code_of(e), e.value.data) == ("locked", {"seconds": 1})
    at(store, 30)  # unlocked: one more wrong PIN locks for 60 s, then 120 s
    with pytest.raises(OperatorError) as e:
        operators.verify_pin(store, "李主任", "000001")
    assert (code_of(e), e.value.data) == ("locked", {"seconds": 60})
    at(store, 90)
    with pytest.raises(OperatorError) as e:
        operators.verify_pin(store, "李主任", "000001")
    assert (code_of(e), e.value.data) == ("locked", {"seconds": 120})
    assert [operators.lock_seconds(n) for n in (2, 3, 4, 5, 9, 10, 40)] == [0, 30, 60, 120, 1920, 3600, 3600]
    at(store, 210)
    assert operators.verify_pin(store, "李主任", ADMIN_PIN).failed_attempts == 0
    with pytest.raises(OperatorError) as e:  # the count starts again
        operators.verify_pin(store, "李主任", "000001")
    assert (code_of(e), e.value.data) == ("wrong_pin", {"tries_left": 2})


def test_audit_entries_name_the_events_never_the_pin(store):
    admin = operators.add_operator(store, "李主任", "admin", ADMIN_PIN)
    operators.add_operator(store, "王五", "assistant", PIN, by=admin)
    for _ in range(3):
        with pytest.raises(OperatorError):
            operators.verify_pin(store, "王五", "000001")
    at(store, 31)
    operators.set_pin(store, "王五", PIN, NEW_PIN)
    operators.disable(store, "王五", by=admin)
    entries = [e for e in store.audit_entries() if e["action"].startswith("operator_")]
    assert [(e["actor"], e["action"]) for e in entries] == [
        ("install", "operator_added"), ("李主任", "operator_added"),
        ("王五", "operator_login_failed"), ("王五", "operator_login_failed"), ("王五", "operator_login_failed"),
        ("王五", "operator_locked"), ("王五", "operator_pin_changed"), ("李主任", "operator_disabled")]
    text = repr(store.audit_entries())
    assert not any(p in text for p in (ADMIN_PIN, PIN, NEW_PIN, "pin_hash"))


def test_every_operator_error_code_has_words():
    for c in operators.ERROR_CODES:
        msg = OperatorError(c, name="王五", tries_left=2, seconds=30, n=6, role="x").message
        assert msg and "{" not in msg and f"operator_{c}" in TEXTS, c


# --- the CLI -----------------------------------------------------------------------------------


def test_cli_first_admin_then_stdin_pins_once_or_twice(capsys, monkeypatch, kiosk_home):
    stdin(monkeypatch, PIN)
    code, lines, _ = run_cli(capsys, "operator", "add", "王五", "--role", "assistant", "--json")
    assert_error(code, lines, "first_must_be_admin")
    stdin(monkeypatch, ADMIN_PIN)  # one line
    code, lines, _ = run_cli(capsys, "operator", "add", "李主任", "--role", "admin", "--json")
    assert code == 0 and lines[0]["role"] == "admin" and lines[0]["created_by"] is None
    stdin(monkeypatch, PIN)  # a second one without --by: refused
    code, lines, _ = run_cli(capsys, "operator", "add", "王五", "--role", "assistant", "--json")
    assert_error(code, lines, "admin_required")
    stdin(monkeypatch, ADMIN_PIN, PIN, PIN)  # admin's PIN, then the new one twice
    code, lines, _ = run_cli(capsys, "operator", "add", "王五", "--role", "assistant", "--by", "李主任", "--json")
    assert code == 0 and lines[0]["created_by"] == "李主任"
    stdin(monkeypatch, ADMIN_PIN, PIN, NEW_PIN)  # two different lines: refused
    code, lines, _ = run_cli(capsys, "operator", "add", "赵六", "--role", "reviewer", "--by", "李主任", "--json")
    assert_error(code, lines, "pin_mismatch")
    stdin(monkeypatch)  # nothing on stdin
    code, lines, _ = run_cli(capsys, "operator", "add", "赵六", "--role", "reviewer", "--by", "李主任", "--json")
    assert_error(code, lines, "no_pin")
    code, lines, _ = run_cli(capsys, "operator", "list", "--json")
    ops = lines[0]["operators"]
    assert [(o["name"], o["role"], o["active"], o["locked"]) for o in ops] == [
        ("李主任", "admin", True, False), ("王五", "assistant", True, False)]
    assert all("pin" not in k for o in ops for k in o)
    stdin(monkeypatch, PIN, NEW_PIN)  # own PIN: old, then new
    code, lines, _ = run_cli(capsys, "operator", "pin", "王五", "--json")
    assert code == 0 and lines[0]["pin_changed"]
    stdin(monkeypatch, ADMIN_PIN)
    code, lines, _ = run_cli(capsys, "operator", "disable", "王五", "--by", "李主任", "--json")
    assert code == 0 and lines[0]["active"] is False
    code, _, out = run_cli(capsys, "operator", "list")
    assert "王五  协理员  已停用" in out


@pytest.mark.parametrize("argv", [["operator", "add", "李主任", "--role", "admin", "--pin", ADMIN_PIN],
                                  ["operator", "add", "李主任", "--role", "admin", ADMIN_PIN],
                                  ["operator", "pin", "李主任", ADMIN_PIN, NEW_PIN]])
def test_a_pin_is_never_accepted_from_argv(capsys, monkeypatch, kiosk_home, argv):
    stdin(monkeypatch, ADMIN_PIN)
    with pytest.raises(SystemExit) as e:
        run_cli(capsys, *argv)
    assert e.value.code == 2
    assert not (kiosk_home / "kiosk.db").exists() or not run_cli(capsys, "operator", "list", "--json")[1][0]["operators"]


def _admin_and_assistant(capsys, monkeypatch):
    stdin(monkeypatch, ADMIN_PIN)
    assert run_cli(capsys, "operator", "add", "李主任", "--role", "admin")[0] == 0
    stdin(monkeypatch, ADMIN_PIN, PIN)
    assert run_cli(capsys, "operator", "add", "协理员01", "--role", "assistant", "--by", "李主任")[0] == 0


def test_wrong_operator_pin_on_certify_resident_exits_2_in_chinese(capsys, monkeypatch, kiosk_home):
    from test_cli_resident import RESIDENT

    _admin_and_assistant(capsys, monkeypatch)
    stdin(monkeypatch, "000001")
    code, lines, _ = run_cli(capsys, "certify-resident", RESIDENT, "--virtual", "--operator", "协理员01", "--json")
    assert_error(code, lines, "wrong_pin")
    assert lines[0]["message"] == "工作人员密码不对，还可以再试 2 次。"
    stdin(monkeypatch, "000001")
    code, _, out = run_cli(capsys, "certify-resident", RESIDENT, "--virtual", "--operator", "协理员01")
    assert code == 2 and out.strip() == "错误：工作人员密码不对，还可以再试 1 次。"
    stdin(monkeypatch, PIN)  # the right PIN gets past the check to the resident (not enrolled here)
    code, lines, _ = run_cli(capsys, "certify-resident", RESIDENT, "--virtual", "--operator", "协理员01", "--json")
    assert_error(code, lines, "unknown_resident")
    stdin(monkeypatch, PIN)
    code, lines, _ = run_cli(capsys, "certify-resident", RESIDENT, "--virtual", "--operator", "无此人", "--json")
    assert_error(code, lines, "unknown_operator")
    with Store.open(kiosk_home / "kiosk.db", key_file()) as s:
        assert [e["action"] for e in s.audit_entries()].count("operator_login_failed") == 2
