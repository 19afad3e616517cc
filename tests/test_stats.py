"""The figures (kiosk.stats, `kiosk stats`): rates per village and day, tries, reasons, fallbacks, time."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest

from kiosk.config import key_file
from kiosk.core.clock import Clock
from kiosk.core.ids import check_digit
from kiosk.policy import BirthdayCycle
from kiosk.stats import figures, reason_group, write_csv, write_xlsx
from kiosk.store import Store
from kiosk.store import fallbacks as fb
from test_cli import assert_error, kiosk_home, run_cli  # noqa: F401  (kiosk_home is an autouse fixture)

RULE = BirthdayCycle(grace_days=0)
TODAY = date(2026, 12, 10)
START = date(2026, 12, 1)


def rid(seq: int, born: str = "19500115") -> str:
    first17 = "110105" + born + f"{seq:03d}"
    return first17 + check_digit(first17)


def at(d: date, hour: int = 9, minute: int = 0) -> datetime:
    """`hour` Beijing time on day `d`, as an aware UTC instant."""
    return datetime(d.year, d.month, d.day, hour - 8, minute, tzinfo=timezone.utc)


def attempt(store, who, day, verdict, reason=None, secs=25.0, hour=9):
    t = at(day, hour)
    store.record_attempt(resident_id=who, category="pension", mode="self", verdict=verdict, reason=reason,
                         started_at=t, finished_at=t + timedelta(seconds=secs))


def fill(store: Store) -> None:
    """东村: 6 residents (born in January: their cycle is 2026-01..2026-12), one 大数据比对, one deceased;
    西村: 2 residents. Before the range, A certified in March; in the range (12/1–12/10) B passes at
    the first try, C at the third (a timeout, a no_match), D fails twice and gets a staff-witness
    fallback the county approves; E never comes. In 西村, F passes on 12/2 after a dark picture."""
    east = ["A", "B", "C", "D", "E"]
    for i, n in enumerate(east):
        store.upsert_resident(rid(i), f"东{n}", village="东村", categories=["pension"], benefit_start=date(2020, 1, 1))
    store.upsert_resident(rid(10), "东比对", village="东村", categories=["pension"],
                          data_comparison_on=date(2026, 5, 1))
    store.upsert_resident(rid(11), "东故", village="东村", categories=["pension"], county_status="deceased")
    store.upsert_resident(rid(20), "西F", village="西村", categories=["pension"], benefit_start=date(2020, 1, 1))
    store.upsert_resident(rid(21), "西G", village="西村", categories=["pension"], benefit_start=date(2020, 1, 1))
    attempt(store, rid(0), date(2026, 3, 5), "pass")
    attempt(store, rid(1), date(2026, 12, 2), "pass", secs=20)
    attempt(store, rid(2), date(2026, 12, 3), "fail", "timeout")
    attempt(store, rid(2), date(2026, 12, 3), "fail", "no_match", hour=10)
    attempt(store, rid(2), date(2026, 12, 4), "pass", secs=70)
    attempt(store, rid(3), date(2026, 12, 5), "fail", "presentation_attack")
    attempt(store, rid(3), date(2026, 12, 5), "fail", "poor_quality_dark", hour=11)
    f = fb.record(store, resident_id=rid(3), category="pension", method="staff_witness",
                  reason="attempts_exceeded", operator="协理员01", at=at(date(2026, 12, 5), 15))
    fb.decide(store, f.uuid, "approved", by="县社保局")
    attempt(store, rid(20), date(2026, 12, 2), "fail", "poor_quality_dark")
    attempt(store, rid(20), date(2026, 12, 2), "pass", secs=140, hour=10)


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "k.db", tmp_path / "k.key", clock=Clock.fixed(TODAY))
    fill(s)
    yield s
    s.close()


def test_figures_for_one_village(store):
    f = figures(store, store.clock, RULE, village="东村", start=START, end=TODAY)
    assert f.villages == [{"village": "东村", "residents": 7, "must_certify": 5, "certified": 4,
                           "data_comparison": 1, "deceased": 1, "overdue": 1, "rate": 0.8}]  # E: never since 2020
    days = {d["date"]: d for d in f.days}
    assert len(f.days) == 10
    assert days["2026-12-01"] == {"date": "2026-12-01", "attempts": 0, "passes": 0, "fails": 0, "certified": 1,
                                  "must_certify": 5, "rate": 0.2}
    assert days["2026-12-03"]["fails"] == 2 and days["2026-12-03"]["certified"] == 2
    assert days["2026-12-05"]["certified"] == 4  # D's fallback, approved, counts from its day
    assert f.tries_per_pass == {"passes": 2, "buckets": {"1": 1, "2": 0, "3": 1, "4+": 0},
                                "first_try_share": 0.5, "mean": 2.0}
    assert {r["reason"]: r["count"] for r in f.failure_reasons} == {"actions": 1, "no_match": 1, "liveness": 1,
                                                                    "quality": 1}
    assert f.fallbacks[0] == {"method": "staff_witness", "label": "工作人员核实认证", "pending": 0, "approved": 1,
                              "rejected": 0, "total": 1}
    assert f.time_to_certify["passes"] == 2 and f.time_to_certify["median_s"] == 45.0
    assert f.time_to_certify["buckets"] == {"lt30": 1, "lt60": 0, "lt120": 1, "ge120": 0}
    assert f.totals["rate"] == 0.8 and f.totals["attempts"] == 6


def test_all_villages_and_ranges(store):
    f = figures(store, store.clock, RULE, start=START, end=TODAY)
    assert [(v["village"], v["certified"], v["must_certify"]) for v in f.villages] == [("东村", 4, 5), ("西村", 1, 2)]
    assert f.time_to_certify["buckets"]["ge120"] == 1
    # Before the range's passes: 12/1 only, nobody tried.
    f1 = figures(store, store.clock, RULE, start=START, end=START)
    assert f1.totals["attempts"] == 0 and f1.tries_per_pass["mean"] is None and f1.time_to_certify["median_s"] is None
    assert f1.totals["certified"] == 1  # A, from March
    from kiosk.stats import StatsError

    with pytest.raises(StatsError):
        figures(store, store.clock, RULE, start=TODAY, end=START)
    with pytest.raises(StatsError):
        figures(store, store.clock, RULE, start=date(2020, 1, 1), end=TODAY)


def test_reason_groups_cover_the_session_reasons():
    from kiosk.texts import TEXTS

    reasons = [c.removeprefix("result_") for c in TEXTS if c.startswith("result_") and "@" not in c and c != "result_ok"]
    assert [r for r in reasons if reason_group(r) == "other"] == []


def test_csv_and_xlsx(store, tmp_path):
    import openpyxl

    f = figures(store, store.clock, RULE, village="东村", start=START, end=TODAY)
    write_csv(f, tmp_path / "s.csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "s.csv").read_text(encoding="utf-8-sig"))))
    assert rows[0][0] == "东村 认证统计" and ["各村认证率"] in rows and ["东村", "7", "5", "4", "80.0", "1", "1", "1"] in rows
    write_xlsx(f, tmp_path / "s.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "s.xlsx")
    assert wb.sheetnames == ["各村认证率", "每日", "每次通过用了几次", "未通过原因", "非刷脸认证", "认证用时"]
    assert [c.value for c in wb["各村认证率"][2]] == ["东村", 7, 5, 4, 80.0, 1, 1, 1]
    assert wb["每日"].max_row == 11


def test_cli(capsys, kiosk_home, tmp_path):
    kiosk_home.mkdir(parents=True)
    with Store.open(kiosk_home / "kiosk.db", key_file(), clock=Clock.fixed(TODAY)) as s:
        fill(s)
        s.set_setting("cycle_rule", RULE.to_config())
    code, lines, _ = run_cli(capsys, "stats", "--village", "东村", "--from", START, "--to", TODAY, "--json",
                             "--today", TODAY)
    assert code == 0 and lines[0]["totals"]["rate"] == 0.8 and lines[0]["from"] == "2026-12-01"
    assert "东" not in str(lines[0]["days"])  # counts only, no names
    code, _, out = run_cli(capsys, "stats", "--today", TODAY)
    assert code == 0 and "认证率" in out and "各村认证率" in out
    code, _, out = run_cli(capsys, "stats", "--xlsx", tmp_path / "s.xlsx", "--today", TODAY)
    assert code == 0 and (tmp_path / "s.xlsx").stat().st_size > 0
    assert_error(*run_cli(capsys, "stats", "--from", "12/1", "--json")[:2], "bad_date")
    assert_error(*run_cli(capsys, "stats", "--from", TODAY, "--to", START, "--json")[:2], "bad_range")
    code, _, out = run_cli(capsys, "stats", "--csv", tmp_path / "no" / "s.csv", "--today", TODAY)
    assert code == 2 and "无法写入" in out


@pytest.mark.slow
def test_charts_render_in_the_shipped_font(store, tmp_path):
    """Every chart as PNG and SVG; matplotlib finds every character in the shipped font."""
    import warnings

    from kiosk.charts import CHARTS, _font, render_all

    assert _font() == "Noto Sans CJK SC"
    f = figures(store, store.clock, RULE, start=START, end=TODAY)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_all(f, tmp_path / "png", "png")
        svg = render_all(f, tmp_path / "svg", "svg")
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert missing == []
    from PIL import Image

    for name in CHARTS:
        with Image.open(png[name]) as im:
            assert im.width >= 400 and im.height >= 200
        text = svg[name].read_text(encoding="utf-8")
        assert "<path" in text and "<text" not in text  # glyphs as outlines: no font needed to view
    empty = figures(store, store.clock, RULE, village="北村", start=START, end=TODAY)
    assert set(render_all(empty, tmp_path / "empty")) == set(CHARTS)
