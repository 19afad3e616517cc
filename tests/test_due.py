"""Due lists (kiosk.due, `kiosk due`): the county-sync walkthrough's village (docs/county-sync.md), printed 提醒名单 and 公示."""
from __future__ import annotations

import csv
import io
import re
import subprocess
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from kiosk.config import key_file
from kiosk.core.clock import Clock
from kiosk.core.ids import check_digit
from kiosk.due import due_list, write_csv, write_pdf
from kiosk.policy import BirthdayCycle, FixedWindow
from kiosk.store import Store
from kiosk.store.syncstate import SyncState
from test_pdf import needs_poppler
from test_cli import assert_error, kiosk_home, run_cli  # noqa: F401  (kiosk_home is an autouse fixture)

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 12, 2)  # the walkthrough's day: 张桂兰 certifies at terminal A


def readme_roster() -> str:
    """The roster CSV of the "one hub, two terminals" walkthrough in docs/county-sync.md, as printed there."""
    text = (ROOT / "docs" / "county-sync.md").read_text(encoding="utf-8")
    m = re.search(r"cat > \$C/名册\.csv <<'CSV'\n(.*?)\nCSV\n", text, re.S)
    assert m, "the walkthrough's roster is gone from docs/county-sync.md"
    return m.group(1)


def walkthrough_terminal(store: Store) -> None:
    """Terminal A after the walkthrough's first sync and 张桂兰's certification: the county's roster
    (parsed by the hub's own roster reader, pulled for 东村 as the hub sends it) and her pass."""
    from kiosk.county.roster import parse_rows

    rows = list(csv.reader(io.StringIO(readme_roster())))
    load = parse_rows(rows[0], rows[1:], today=TODAY)
    assert not load.errors and len(load.rows) == 6
    pulled = [{**e, "version": i + 1} for i, e in enumerate(load.rows) if e["village"] == "东村"]
    assert SyncState(store).apply_roster(pulled) == (5, [])
    at = datetime(2026, 12, 2, 2, 0, tzinfo=timezone.utc)
    store.record_attempt(resident_id="110105194001110115", category="pension", mode="self", verdict="pass",
                         started_at=at, finished_at=at + timedelta(seconds=26))


def pdftext(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture
def terminal(capsys, kiosk_home, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("246813\n"))
    assert run_cli(capsys, "operator", "add", "李主任", "--role", "admin")[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("246813\n975312\n"))
    assert run_cli(capsys, "operator", "add", "协理员01", "--role", "assistant", "--by", "李主任")[0] == 0
    with Store.open(kiosk_home / "kiosk.db", key_file(), clock=Clock.fixed(TODAY)) as s:
        walkthrough_terminal(s)
        s.set_resident_contact("110105194001110123", {"address": "东村2组8号", "phone": "13800001111",
                                                      "contact": "李小福（儿子）"})
    return kiosk_home


# Who is due in 东村 on the walkthrough's day (birthday cycle, January birthdays, no grace):
# 李德福 never certified since his benefit began in 2008 → payment stopped 2026-01-01 (suspended);
# 赵淑芬 suspended by the county; 张桂兰 certified today, 王秀英 大数据比对, 刘长顺 deceased: not listed;
# 陈玉兰 lives in 西村 and is not on this terminal.
DUE_NAMES = {"李*福": "110105********0123", "赵*芬": "110105********014X"}
NOT_DUE = ("张*兰", "王*英", "刘*顺", "陈*兰", "张桂兰", "王秀英", "刘长顺", "陈玉兰", "李德福", "赵淑芬")


@needs_poppler
def test_done_when_kiosk_due_village_pdf_lists_the_due_residents_masked(terminal, capsys, tmp_path):
    out = tmp_path / "f.pdf"
    code, _, printed = run_cli(capsys, "due", "--village", "东村", "--pdf", out, "--today", TODAY.isoformat())
    assert code == 0, printed
    assert "2 人" in printed and "1 页" in printed
    got = pdftext(out)
    for name, masked_id in DUE_NAMES.items():
        line = next(ln for ln in got.splitlines() if name in ln)
        assert masked_id in line and "已暂停发放" in line
    for absent in NOT_DUE:
        assert absent not in got
    assert "东村 待遇领取资格认证提醒名单" in got
    assert "2026年12月2日" in got and "人社厅发〔2018〕54号" in got and "第 1 页，共 1 页" in got
    assert "13800001111" not in got  # no operator logged in: no contacts
    assert "19400111" not in got  # birth dates never printed


@needs_poppler
def test_operator_reminder_list_has_contacts_and_the_public_list_never(terminal, capsys, tmp_path, monkeypatch):
    remind, public = tmp_path / "提醒.pdf", tmp_path / "公示.pdf"
    monkeypatch.setattr("sys.stdin", io.StringIO("975312\n"))
    assert run_cli(capsys, "due", "--village", "东村", "--pdf", remind, "--operator", "协理员01",
                   "--today", TODAY.isoformat())[0] == 0
    got = pdftext(remind)
    assert "李德福" in got and "13800001111" in got and "东村2组8号" in got and "李小福" in got
    assert "110105194001110123" not in got  # the ID stays masked even for the coordinator
    assert run_cli(capsys, "due", "--village", "东村", "--pdf", public, "--public", "--today",
                   TODAY.isoformat())[0] == 0
    pub = pdftext(public)
    assert "公示名单" in pub and "李*福" in pub and "110105********0123" in pub
    assert "李德福" not in pub and "13800001111" not in pub and "东村2组8号" not in pub and "住址" not in pub
    # The viewing with contacts is audited; the operator's PIN is checked.
    with Store.open(terminal / "kiosk.db", key_file()) as s:
        assert s.db.execute("SELECT count(*) FROM audit_log WHERE action = 'due_list_viewed'").fetchone()[0] == 1
    monkeypatch.setattr("sys.stdin", io.StringIO("111111\n"))
    code, lines, _ = run_cli(capsys, "due", "--operator", "协理员01", "--json", "--today", TODAY.isoformat())
    assert code == 2 and lines[0]["error"] in ("wrong_pin", "pin_wrong", "bad_pin"), lines


def test_json_and_csv(terminal, capsys, tmp_path):
    code, lines, _ = run_cli(capsys, "due", "--village", "东村", "--json", "--today", TODAY.isoformat())
    assert code == 0
    obj = lines[0]
    assert obj["counts"] == {"suspended": 2, "overdue": 0, "never_certified": 0, "due": 0}
    assert [(r["name"], r["id"], r["urgency"]) for r in obj["residents"]] == [
        ("李*福", "110105********0123", "suspended"), ("赵*芬", "110105********014X", "suspended")]
    assert obj["rule"] == {"type": "birthday", "grace_days": 0} and obj["contacts"] is False
    f = tmp_path / "due.csv"
    assert run_cli(capsys, "due", "--village", "东村", "--csv", f, "--today", TODAY.isoformat())[0] == 0
    rows = list(csv.reader(io.StringIO(f.read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["序号", "姓名", "身份证号"] and len(rows) == 3 and rows[1][1] == "李*福"
    # Other villages: 西村 is not on this terminal.
    code, lines, _ = run_cli(capsys, "due", "--village", "西村", "--json", "--today", TODAY.isoformat())
    assert code == 0 and lines[0]["residents"] == []


def test_errors_are_one_line(terminal, capsys, tmp_path):
    assert_error(*run_cli(capsys, "due", "--days", "-1", "--json")[:2], "usage")
    assert_error(*run_cli(capsys, "due", "--json", "--csv", tmp_path / "x.csv")[:2], "usage")
    code, _, out = run_cli(capsys, "due", "--pdf", tmp_path / "no" / "such" / "f.pdf", "--today",
                           TODAY.isoformat())
    assert code == 2 and "无法写入" in out


def rid(born: str, seq: int) -> str:
    first17 = "110105" + born + f"{seq:03d}"
    return first17 + check_digit(first17)


@needs_poppler
def test_long_list_pages_are_numbered_and_the_header_repeats(tmp_path):
    """60 residents of a fixed-window county: every page says which page of how many, and the
    title, date, rule and column header are on every page."""
    rule = FixedWindow(start=(2, 10), end=(3, 25), grace_days=5)
    today = date(2027, 3, 1)  # inside the window: everyone not yet certified this year is due by 3/30
    with Store.open(tmp_path / "k.db", tmp_path / "k.key", clock=Clock.fixed(today)) as s:
        for i in range(60):
            s.upsert_resident(rid("19450203", i), f"欧阳小{'一二三四五六七八九十'[i % 10]}", village="南村",
                              categories=["pension"], benefit_start=date(2026, 1, 1))
            at = datetime(2026, 3, 1, 2, tzinfo=timezone.utc)
            s.record_attempt(resident_id=rid("19450203", i), category="pension", mode="self", verdict="pass",
                             started_at=at, finished_at=at + timedelta(seconds=20))
        due = due_list(s, s.clock, rule, village="南村", days=30)
    assert len(due.entries) == 60 and {e.urgency for e in due.entries} == {"due"}
    pages = write_pdf(due, tmp_path / "l.pdf", public=True)
    assert pages >= 3
    got = pdftext(tmp_path / "l.pdf").split("\f")
    got = [p for p in got if p.strip()]
    assert len(got) == pages
    for n, page in enumerate(got, 1):
        assert f"第 {n} 页，共 {pages} 页" in page
        assert "南村 待遇领取资格认证公示名单" in page and "2027年3月1日" in page
        assert "每年 2月10日 至 3月25日" in page and "身份证号" in page
    assert sum(p.count("欧**") for p in got) == 60  # 欧阳小一 → 欧**一
    assert write_csv(due, tmp_path / "l.csv") == 60


def test_birthday_rule_text_and_empty_list(tmp_path):
    with Store.open(tmp_path / "k.db", tmp_path / "k.key", clock=Clock.fixed(TODAY)) as s:
        due = due_list(s, s.clock, BirthdayCycle(grace_days=5))
    assert due.entries == [] and due.to_json()["rule_text"].endswith("宽限 5 天")
    assert write_pdf(due, tmp_path / "e.pdf") == 1
