"""Home visits (上门认证): the visit list (kiosk.visits.visit_list), visit records, `kiosk visits`."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone

import pytest

from kiosk.config import key_file
from kiosk.core.clock import Clock
from kiosk.core.ids import check_digit
from kiosk.policy import BirthdayCycle
from kiosk.store import Store
from kiosk.store.syncstate import SyncState
from kiosk.visits import visit_list
from test_cli import assert_error, kiosk_home, run_cli  # noqa: F401  (kiosk_home is an autouse fixture)

RULE = BirthdayCycle(grace_days=10)  # deadline = end of the birthday year + 10 days
TODAY = date(2026, 6, 15)


def rid(born: str, seq: str = "123") -> str:
    first17 = "110105" + born + seq
    return first17 + check_digit(first17)


SUSP = rid("19500703")  # last certified 2023-08: missed 2024-07..2025-06, payment stopped 2025-08-01
OVER = rid("19550620")  # last certified 2024-06: deadline 2026-06-10 passed, stops 2026-07-01
NEVER = rid("19600905")  # benefit from 2026-01, never certified (deadline 2026-09-10)
SOON = rid("19520711")  # last certified 2024-07: due by 2026-07-10
LATER = rid("19510808")  # last certified 2024-08: due by 2026-08-10
CERT = rid("19500714")  # certified 2025-08: done for this cycle
DC = rid("19500715")  # 大数据比对 2025-10
DEAD = rid("19400101")  # deceased
WEST = rid("19500716")  # suspended, but in 西村


def at(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 2, 0, tzinfo=timezone.utc)


def certify(store: Store, resident: str, on: date) -> None:
    store.record_attempt(resident_id=resident, category="pension", mode="self", verdict="pass",
                         started_at=at(on), finished_at=at(on) + timedelta(seconds=8))


def fill(store: Store) -> None:
    people = [(SUSP, "张一", {}), (OVER, "张二", {}), (NEVER, "张三", {"benefit_start": date(2026, 1, 1)}),
              (SOON, "张四", {}), (LATER, "张五", {}), (CERT, "张六", {}),
              (DC, "张七", {"data_comparison_on": date(2025, 10, 1)}), (DEAD, "张八", {"county_status": "deceased"})]
    for number, name, extra in people:
        store.upsert_resident(number, name, village="东村", categories=["pension"], **extra)
    store.upsert_resident(WEST, "李一", village="西村", categories=["pension"], county_status="suspended")
    for number, on in ((SUSP, date(2023, 8, 1)), (OVER, date(2024, 6, 20)), (SOON, date(2024, 7, 15)),
                       (LATER, date(2024, 8, 20)), (CERT, date(2025, 8, 1)), (WEST, date(2024, 8, 1))):
        certify(store, number, on)
    store.set_resident_contact(SUSP, {"address": "东村3组12号", "phone": "13800000000", "contact": "张小一（儿子）"})


@pytest.fixture
def paths(tmp_path):
    return tmp_path / "kiosk.db", tmp_path / "keys" / "template.key"


@pytest.fixture
def store(paths):
    s = Store.open(*paths, clock=Clock.fixed(TODAY))
    fill(s)
    yield s
    s.close()


def ids(entries):
    return [e.id_number for e in entries]


def test_list_is_sorted_by_urgency_and_excludes_the_certified_compared_and_deceased(store):
    entries = visit_list(store, store.clock, RULE, village="东村", days=60)
    assert ids(entries) == [SUSP, OVER, NEVER, SOON, LATER]
    assert [e.urgency for e in entries] == ["suspended", "overdue", "never_certified", "due", "due"]
    assert entries[0].suspended_since == date(2025, 8, 1) and entries[1].suspended_since == date(2026, 7, 1)
    assert (entries[3].due_by, entries[4].due_by) == (date(2026, 7, 10), date(2026, 8, 10))
    # What the roster knows, and the ID masked for display.
    first = entries[0]
    assert (first.address, first.phone, first.contact) == ("东村3组12号", "13800000000", "张小一（儿子）")
    assert first.to_json()["id"] == first.id_masked and "*" in first.id_masked and first.last_visit is None
    # N days: the August deadline is 56 days away.
    assert ids(visit_list(store, store.clock, RULE, village="东村")) == [SUSP, OVER, NEVER, SOON]
    # The whole terminal: 西村's suspended resident (county says so) joins the suspended.
    everyone = visit_list(store, store.clock, RULE, days=60)
    assert set(ids(everyone)[:2]) == {SUSP, WEST} and len(everyone) == 6


def test_certification_and_not_at_home_change_the_list(store):
    certify(store, SOON, TODAY)
    store.record_visit(OVER, "协理员01", "not_at_home", "邻居说去县城看病了")
    entries = visit_list(store, store.clock, RULE, village="东村")
    assert ids(entries) == [SUSP, OVER, NEVER]
    over = entries[1]
    assert over.last_visit == {"at": "2026-06-15", "outcome": "not_at_home", "operator": "协理员01",
                               "note": "邻居说去县城看病了"}
    # The visit goes to the county with the audit stream (masked ID, no note text).
    audit = [e for e in store.audit_entries() if e["action"] == "home_visit"]
    assert len(audit) == 1 and audit[0]["actor"] == "协理员01"
    assert audit[0]["details"]["outcome"] == "not_at_home" and audit[0]["details"]["resident"] != OVER
    assert "邻居" not in str(audit) and "邻居".encode() not in (store.path.read_bytes())
    with pytest.raises(ValueError):
        store.record_visit(OVER, "协理员01", "gone_fishing")


def test_offline_for_days_the_list_follows_the_clock(paths, store):
    pending = len(store.pending_outbox())
    store.close()
    later = Store.open(*paths, clock=Clock.fixed(TODAY + timedelta(days=27)))  # 2026-07-12, nothing synced
    try:
        later.record_visit(SOON, "协理员01", "visited_not_certified")
        entries = visit_list(later, later.clock, RULE, village="东村")
        # OVER's payment stopped 2026-07-01; SOON missed 2026-07-10 (stops 2026-08-01) and sorts
        # before NEVER; LATER's 2026-08-10 deadline is now within 30 days.
        assert ids(entries) == [SUSP, OVER, SOON, NEVER, LATER]
        assert [e.urgency for e in entries] == ["suspended", "suspended", "overdue", "never_certified", "due"]
        assert entries[2].last_visit["outcome"] == "visited_not_certified"
        assert len(later.pending_outbox()) == pending  # still waiting for the county
    finally:
        later.close()


def test_contact_details_from_a_roster_entry_are_kept_sealed(store):
    SyncState(store).apply_roster([{"id_number": NEVER, "name": "张三", "village": "东村", "version": 1,
                                    "benefit_start": "2026-01-01", "phone": "13900000000", "address": "东村1组"}])
    assert store.resident_contact(NEVER) == {"address": "东村1组", "phone": "13900000000"}
    assert b"13900000000" not in store.path.read_bytes()


# --- kiosk visits (CLI) -------------------------------------------------------------------

@pytest.fixture
def terminal(capsys, kiosk_home, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("246813\n"))
    assert run_cli(capsys, "operator", "add", "李主任", "--role", "admin")[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("246813\n975312\n"))
    assert run_cli(capsys, "operator", "add", "协理员01", "--role", "assistant", "--by", "李主任")[0] == 0
    with Store.open(kiosk_home / "kiosk.db", key_file(), clock=Clock.fixed(TODAY)) as s:
        fill(s)
        s.set_setting("cycle_rule", RULE.to_config())
    return kiosk_home


def test_cli_needs_an_operator_and_the_right_pin(capsys, terminal, monkeypatch):
    assert_error(*run_cli(capsys, "visits", "--today", TODAY, "--json")[:2], "operator_required")
    monkeypatch.setattr("sys.stdin", io.StringIO("111111\n"))
    code, lines, _ = run_cli(capsys, "visits", "--today", TODAY, "--operator", "协理员01", "--json")
    assert_error(code, lines, "wrong_pin")
    monkeypatch.setattr("sys.stdin", io.StringIO("111111\n"))
    code, lines, _ = run_cli(capsys, "visits", "mark", OVER, "--outcome", "not_at_home", "--today", TODAY,
                             "--operator", "协理员01", "--json")
    assert_error(code, lines, "wrong_pin")


def test_cli_lists_and_marks(capsys, terminal, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("975312\n"))
    code, lines, _ = run_cli(capsys, "visits", "--village", "东村", "--today", TODAY, "--operator", "协理员01",
                             "--json")
    assert code == 0
    got = lines[0]["residents"]
    assert [r["urgency"] for r in got] == ["suspended", "overdue", "never_certified", "due"]
    assert all("*" in r["id"] for r in got) and got[0]["phone"] == "13800000000"
    monkeypatch.setattr("sys.stdin", io.StringIO("975312\n"))
    code, lines, _ = run_cli(capsys, "visits", "mark", OVER, "--outcome", "not_at_home", "--note", "不在家",
                             "--today", TODAY, "--operator", "协理员01", "--json")
    assert code == 0 and lines[0]["outcome"] == "not_at_home" and lines[0]["operator"] == "协理员01"
    monkeypatch.setattr("sys.stdin", io.StringIO("975312\n"))
    code, _, out = run_cli(capsys, "visits", "--village", "东村", "--today", TODAY, "--operator", "协理员01")
    assert code == 0 and "上门未遇" in out and "东村3组12号" in out and "共 4 人" in out
