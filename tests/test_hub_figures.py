"""The hub's per-village due list and figures pages (kiosk.county.figures, /due, /figures, XLSX),
fed by a real terminal's sync."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest

from kiosk.county import figures as hubfig
from test_sync_support import hub  # noqa: F401  (fixture)
from test_sync_support import open_store, people, staff_client

pytestmark = pytest.mark.slow  # a real hub process


def at_day(clock, days_ago: int, hour: int = 10) -> datetime:
    d = clock.today() - timedelta(days=days_ago)
    return datetime(d.year, d.month, d.day, hour - 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def village(hub, tmp_path):
    """东村 on the hub: A certifies (third try) at terminal 东村, F certified 11½ months ago, B never,
    C by 大数据比对 last month, D suspended by the county, E deceased; G lives in 西村. The county's
    rule: a yearly window that opened 40 days ago and closes in 20 (no grace), so F's certification
    counts for last year's window and this one is due within 30 days."""
    from kiosk.store import fallbacks as fb
    from kiosk.sync import register, sync_once

    db = hub.db
    today = db.clock.today()
    ids = dict(zip("ABCDEFG", people(7, start=700), strict=True))
    rows = [{"id_number": ids[k], "name": name, "village": "东村"} for k, name in
            (("A", "王秀英"), ("B", "李德福"), ("F", "陈长顺"))]
    rows += [{"id_number": ids["C"], "name": "张桂兰", "village": "东村",
              "data_comparison_on": (today - timedelta(days=30)).isoformat()},
             {"id_number": ids["D"], "name": "赵淑芬", "village": "东村", "county_status": "suspended"},
             {"id_number": ids["E"], "name": "刘玉珍", "village": "东村", "county_status": "deceased"},
             {"id_number": ids["G"], "name": "孙凤英", "village": "西村"}]
    db.upsert_residents(rows)
    opened, closes = today - timedelta(days=40), today + timedelta(days=20)
    db.set_setting("cycle_policy", {"type": "fixed_window", "start": [opened.month, opened.day],
                                    "end": [closes.month, closes.day], "grace_days": 0})
    store = open_store(tmp_path / "t")
    register(store, hub.url, db.provision("东村"), "东村服务点")
    sync_once(store)
    clock = db.clock

    def attempt(who, days_ago, verdict, reason=None, secs=30, hour=10):
        t = at_day(clock, days_ago, hour)
        store.record_attempt(resident_id=ids[who], category="pension", mode="self", verdict=verdict, reason=reason,
                             started_at=t, finished_at=t + timedelta(seconds=secs))

    attempt("F", 350, "pass")
    attempt("A", 3, "fail", "timeout", hour=9)
    attempt("A", 3, "fail", "no_match", hour=10)
    attempt("A", 2, "pass", secs=75)
    fb.record(store, resident_id=ids["B"], category="pension", method="staff_witness", reason="cannot_perform_actions",
              operator="协理员01", at=at_day(clock, 1))
    report = sync_once(store)
    assert report.stored >= 5
    store.close()
    return ids


def test_due_list_on_the_hub_by_the_county_rule(hub, village):
    due = hubfig.due_list(hub.db, "东村", days=30)
    got = {r["name"]: r["urgency"] for r in due["residents"]}
    # B never certified: last year's window was missed, so payment stopped after it (as the terminal says)
    assert got == {"赵*芬": "suspended", "李*福": "suspended", "陈*顺": "due"}
    assert [r["urgency"] for r in due["residents"]] == ["suspended", "suspended", "due"]
    assert due["rule"]["type"] == "fixed_window" and "每年" in due["rule_words"]
    c = staff_client(hub, "viewer1", "viewer", "viewer-secret-1")
    page = c.get("/due", params={"village": "东村"})
    assert page.status_code == 200
    for name in ("赵*芬", "李*福", "陈*顺"):
        assert name in page.text
    for absent in ("王*英", "张*兰", "刘*珍", "孙*英", "李德福", "赵淑芬"):
        assert absent not in page.text
    r = c.get("/due.xlsx", params={"village": "东村"})
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    first = due["residents"][0]
    assert r.status_code == 200 and [c.value for c in wb.active[2]][1:4] == [first["name"], first["id"], "已暂停发放"]
    assert c.get("/due").status_code == 200  # the village picker


def test_figures_page_charts_and_xlsx(hub, village):
    f = hubfig.figures(hub.db, "东村")
    # must certify: A, B, D, F (C by 大数据比对, E deceased); certified in this year's window: A
    assert f["villages"] == [{"village": "东村", "residents": 6, "must_certify": 4, "certified": 1,
                              "data_comparison": 1, "deceased": 1, "rate": 0.25}]
    assert f["tries_per_pass"]["buckets"] == {"1": 0, "2": 0, "3": 1, "4+": 0}
    assert {r["reason"]: r["count"] for r in f["failure_reasons"]} == {"actions": 1, "no_match": 1}
    assert f["fallbacks"][0]["pending"] == 1 and f["time_to_certify"]["median_s"] == 75.0
    c = staff_client(hub, "viewer1", "viewer", "viewer-secret-1")
    page = c.get("/figures", params={"village": "东村"})
    assert page.status_code == 200 and page.text.count("<svg") >= 4 and "认证率 25.0%" in page.text
    assert "王秀英" not in page.text
    everyone = c.get("/figures")
    assert everyone.status_code == 200 and "西村" in everyone.text
    assert c.get("/figures", params={"from": "2026-13-01"}).status_code == 400
    r = c.get("/figures.xlsx", params={"village": "东村"})
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["各村认证率", "每日", "每次通过用了几次", "未通过原因", "非刷脸认证", "认证用时"]
    assert [c.value for c in wb["各村认证率"][2]] == ["东村", 6, 4, 1, 25.0, 1, 1]
    # Staff who looked are in the audit.
    assert {a.action for a in hub.db.staff_audit()} >= {"view_figures", "export_figures"}


def save_pages(out) -> None:
    """`python tests/test_hub_figures.py DIR`: a hub with three villages and a month of certifications
    from one county-wide terminal; saves the /figures and /due pages' HTML into DIR."""
    import random
    from pathlib import Path

    from kiosk.sync import register, sync_once
    from test_sync_support import Hub

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(__import__("tempfile").mkdtemp(prefix="hubfig-"))
    h = Hub(work / "county")
    try:
        rnd = random.Random(5)
        db, clock = h.db, h.db.clock
        ids = people(90, start=800)
        names = "王李张刘陈杨赵黄周吴"
        given = ["秀英", "桂兰", "德福", "玉珍", "建国", "淑芬", "长顺", "玉兰"]
        rows = []
        for i, rid in enumerate(ids):
            v = ("东村", "西村", "南村")[i % 3]
            e = {"id_number": rid, "name": rnd.choice(names) + rnd.choice(given), "village": v}
            if rnd.random() < 0.08:
                e["data_comparison_on"] = (clock.today() - timedelta(days=40)).isoformat()
            elif rnd.random() < 0.05:
                e["county_status"] = "suspended"
            rows.append(e)
        db.upsert_residents(rows)
        store = open_store(work / "t")
        register(store, h.url, db.provision(None), "县流动认证车")
        sync_once(store)
        for rid in ids:
            if rnd.random() < 0.6:
                day = rnd.randint(0, 29)
                for k in range(rnd.choice((0, 0, 0, 1, 1, 2))):
                    t = at_day(clock, day, 9 + k)
                    store.record_attempt(resident_id=rid, category="pension", mode="self", verdict="fail",
                                         reason=rnd.choice(["timeout", "no_match", "poor_quality_dark", "cancelled"]),
                                         started_at=t, finished_at=t + timedelta(seconds=40))
                t = at_day(clock, day, 13)
                store.record_attempt(resident_id=rid, category="pension", mode="self", verdict="pass",
                                     started_at=t, finished_at=t + timedelta(seconds=rnd.randint(18, 150)))
            elif rnd.random() < 0.3:
                t = at_day(clock, rnd.randint(330, 364))
                store.record_attempt(resident_id=rid, category="pension", mode="self", verdict="pass",
                                     started_at=t, finished_at=t + timedelta(seconds=30))
        sync_once(store)
        store.close()
        c = staff_client(h)
        (out / "hub_figures.html").write_text(c.get("/figures").text, encoding="utf-8")
        (out / "hub_due.html").write_text(c.get("/due", params={"village": "东村"}).text, encoding="utf-8")
        (out / "hub_status.html").write_text(c.get("/").text, encoding="utf-8")
    finally:
        h.stop()


if __name__ == "__main__":
    import sys
    import tempfile

    save_pages(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="hub-pages-"))
