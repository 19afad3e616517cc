"""The coordinator's screens in the staff app (kiosk/app/coordinator.py, ui/DueScreen.qml,
ui/StatsScreen.qml): the due list, 打印 (saved as PDF: this machine has no printer), the figures'
charts. Offscreen, real KioskApp, real store. `python tests/test_coordinator_app.py DIR` renders
the screenshots (elder on/off, 1366x768 and 1080x1920) into DIR.
"""
from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("KIOSK_AUDIO", "0")

from kiosk.app.bootstrap import prepare_environment

prepare_environment()

import pytest

from kiosk.core.clock import Clock
from kiosk.core.ids import check_digit

pytestmark = pytest.mark.slow
TODAY = date(2026, 12, 10)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["秀英", "桂兰", "德福", "玉珍", "建国", "淑芬", "长顺", "玉兰", "凤英", "国华", "春梅", "志强"]


def rid(born: str, seq: int) -> str:
    first17 = "110105" + born + f"{seq:03d}"
    return first17 + check_digit(first17)


def fill(store, seed: int = 7) -> None:
    """Three villages, 60 residents, a season of certifications over the last 30 days (seeded)."""
    from kiosk.store import fallbacks as fb

    rnd = random.Random(seed)
    n = 0
    for village, size in (("东村", 26), ("西村", 20), ("南村", 14)):
        for _ in range(size):
            n += 1
            month = rnd.randint(1, 12)
            number = rid(f"19{rnd.randint(38, 60)}{month:02d}{rnd.randint(1, 28):02d}", n)
            name = rnd.choice(SURNAMES) + rnd.choice(GIVEN)
            extra: dict = {"benefit_start": date(2015, 1, 1)}
            roll = rnd.random()
            if roll < 0.08:
                extra["data_comparison_on"] = TODAY - timedelta(days=rnd.randint(10, 200))
            elif roll < 0.11:
                extra["county_status"] = "deceased"
            elif roll < 0.15:
                extra["county_status"] = "suspended"
            store.upsert_resident(number, name, village=village, categories=["pension"], **extra)
            if rnd.random() < 0.5:
                store.set_resident_contact(number, {"phone": f"138{rnd.randint(0, 99999999):08d}",
                                                    "address": f"{village}{rnd.randint(1, 6)}组{rnd.randint(1, 40)}号"})
            # Last year's certification for most, so this year's is due around their birthday month.
            if rnd.random() < 0.85:
                last = date(2025, month, min(28, rnd.randint(1, 28)))
                _attempt(store, number, last, "pass", 30)
            if rnd.random() < 0.55:  # certifies in the last 30 days, after 0–3 failures
                day = TODAY - timedelta(days=rnd.randint(0, 29))
                for k in range(rnd.choice((0, 0, 0, 1, 1, 2, 3))):
                    _attempt(store, number, day, "fail", rnd.randint(20, 60), hour=9 + k,
                             reason=rnd.choice(["timeout", "timeout", "no_match", "poor_quality_dark",
                                                "presentation_attack", "cancelled"]))
                _attempt(store, number, day, "pass", rnd.randint(18, 150), hour=13)
            elif rnd.random() < 0.15:
                day = TODAY - timedelta(days=rnd.randint(0, 29))
                _attempt(store, number, day, "fail", 40, reason="timeout")
                f = fb.record(store, resident_id=number, category="pension",
                              method="staff_witness",
                              reason="cannot_perform_actions", operator="协理员01",
                              at=datetime(day.year, day.month, day.day, 7, tzinfo=timezone.utc))
                outcome = rnd.choice(["approved", "approved", "rejected", None])
                if outcome:
                    fb.decide(store, f.uuid, outcome, by="县社保局", reason="请到乡镇社保所办理" if outcome == "rejected" else None)


def _attempt(store, number, day, verdict, secs, hour=13, reason=None):
    t = datetime(day.year, day.month, day.day, hour - 8, 5, tzinfo=timezone.utc)
    store.record_attempt(resident_id=number, category="pension", mode="self", verdict=verdict, reason=reason,
                         started_at=t, finished_at=t + timedelta(seconds=secs))


def make_kiosk(home: Path, *, size=(1366, 768), elder=False, operator=None, encoder=None):
    from kiosk.app.bootstrap import KioskApp, Options
    from kiosk.app.voice import VoicePlayer
    from kiosk.config import Settings
    from kiosk.store import Store

    home.mkdir(parents=True, exist_ok=True)
    db, key = home / "kiosk.db", home / "template.key"
    fresh = not db.exists()
    clock = Clock.fixed(datetime(TODAY.year, TODAY.month, TODAY.day, 10, 0))
    store = Store.open(db, key, clock=clock)
    if fresh:
        fill(store)
    if encoder is None:
        from kiosk.matching.encoder import DlibEncoder

        encoder = DlibEncoder()
    opts = Options(demo=False, fullscreen=False, realtime=False, size=size, elder=elder)
    k = KioskApp(opts, store=store, settings=Settings(), encoder=encoder, voice=VoicePlayer(enabled=False),
                 clock=clock)
    k.coordinator.out_dir = home / "prints"
    if operator is not None:
        k.coordinator.current_operator = lambda: operator
    k.window.show()
    return k


@pytest.fixture(scope="module")
def encoder():
    from kiosk.matching.encoder import DlibEncoder

    return DlibEncoder()


@pytest.fixture
def kiosk(qtbot, tmp_path, encoder):
    made = []

    def make(**kw):
        k = make_kiosk(tmp_path / "home", encoder=encoder, **kw)
        qtbot.waitExposed(k.window)
        made.append(k)
        return k

    yield make
    for k in made:
        k.close()


def test_due_screen_lists_masked_rows_and_prints_to_a_pdf_without_a_printer(kiosk, qtbot, tmp_path):
    from kiosk.app import driver

    k = kiosk()
    c = k.coordinator
    c.openArea("due")
    qtbot.waitUntil(lambda: k.flow.screen == "due")
    qtbot.wait(50)
    rows = c.property("rows")
    assert rows and all("*" in r["name"] and "********" in r["id"] for r in rows)
    assert rows[0]["urgency"] == "suspended" and {r["extra"] for r in rows} == {""}  # nobody logged in
    assert "需要提醒" in driver.text_of(k.window, "dueSummary")
    driver.tap(k.window, "btnVillage_东村")
    assert c.property("village") == "东村" and {r["village"] for r in c.property("rows")} == {"东村"}
    c._printer = lambda: None  # this machine has no printer: the PDF is kept and the screen says where
    driver.tap(k.window, "btnPrintList")
    pdf = tmp_path / "home" / "prints" / f"reminder-东村-{TODAY.isoformat()}.pdf"
    assert pdf.is_file() and str(pdf) in c.property("message")
    got = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout if shutil.which(
        "pdftotext") else ""
    if got:
        assert "东村 待遇领取资格认证提醒名单" in got and c.property("rows")[0]["name"] in got
    driver.tap(k.window, "btnPrintPublic")
    assert (tmp_path / "home" / "prints" / f"public-东村-{TODAY.isoformat()}.pdf").is_file()


def test_due_screen_with_an_operator_shows_names_and_contacts(kiosk, qtbot, tmp_path):
    from kiosk import operators

    k = kiosk()
    op = operators.add_operator(k.store, "协理员01", "admin", "246813")
    k.coordinator.current_operator = lambda: op
    printed = []
    k.coordinator._printer = lambda: "HP_LaserJet"
    k.coordinator._print_pdf = lambda path, printer: printed.append((path, printer)) or True
    k.coordinator.openArea("due")
    rows = k.coordinator.property("rows")
    assert any(r["extra"] for r in rows) and not any("*" in r["name"] for r in rows)
    k.coordinator.printList()
    assert printed and printed[0][1] == "HP_LaserJet" and "HP_LaserJet" in k.coordinator.property("message")
    n = k.store.db.execute("SELECT count(*) FROM audit_log WHERE action = 'due_list_viewed'").fetchone()[0]
    assert n == 1
    k.app.idleReset.emit()  # idle: the names are forgotten
    assert k.coordinator.property("rows") == []


def test_stats_screen_shows_the_charts_and_exports_xlsx(kiosk, qtbot, tmp_path):
    from kiosk.app import driver

    k = kiosk(elder=True)
    c = k.coordinator
    c.openArea("stats")
    qtbot.waitUntil(lambda: k.flow.screen == "stats")
    assert c.wait_for_charts(120)
    charts = c.property("charts")
    assert [x["name"] for x in charts] == ["rate_by_village", "daily", "tries", "reasons", "fallbacks", "duration"]
    assert all(Path(x["source"].removeprefix("file://")).stat().st_size > 5000 for x in charts)
    assert "认证率" in driver.text_of(k.window, "statsSummary")
    driver.tap(k.window, "btnExportXlsx")
    assert (tmp_path / "home" / "prints" / f"stats-all-{TODAY.isoformat()}.xlsx").is_file()


def render_screenshots(out: Path) -> list[Path]:
    """The due and stats screens, elder off/on, 1366x768 and 1080x1920, into `out`."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtGui import QGuiApplication

    from kiosk import operators
    from kiosk.matching.encoder import DlibEncoder

    app = QGuiApplication.instance() or QGuiApplication(sys.argv)
    out.mkdir(parents=True, exist_ok=True)
    home = Path(os.environ.get("TMPDIR", "/tmp")) / "coord13-shots"
    shutil.rmtree(home, ignore_errors=True)
    enc = DlibEncoder()
    saved = []
    for size in ((1366, 768), (1080, 1920)):
        for elder in (False, True):
            k = make_kiosk(home, size=size, elder=elder, encoder=enc)
            if operators.get(k.store, "协理员01") is None:
                operators.add_operator(k.store, "协理员01", "admin", "246813")
            k.coordinator.current_operator = lambda s=k.store: operators.get(s, "协理员01")
            for area in ("due", "stats"):
                k.coordinator.openArea(area)
                if area == "stats":
                    k.coordinator.wait_for_charts(120)
                for _ in range(40):
                    QCoreApplication.processEvents()
                    import time

                    time.sleep(0.02)
                name = f"{area}_{'elder_' if elder else ''}{size[0]}x{size[1]}.png"
                k.window.grabWindow().save(str(out / name))
                saved.append(out / name)
            k.close()
    del app
    return saved


if __name__ == "__main__":
    for p in render_screenshots(Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="coord-shots-"))):
        print(p)


def test_through_the_staff_menu_names_and_contacts_follow_the_login(kiosk, qtbot):
    """Long press, PIN pad, 提醒名单 from the staff menu: the logged-in operator sees full names and
    contacts; 工作人员菜单 goes back; after logout the list is masked again."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtTest import QTest

    from kiosk import operators
    from kiosk.app import driver

    k = kiosk()
    operators.add_operator(k.store, "李主任", "admin", "246813")
    it = driver.find(k.window, "btnStaff")
    p = it.mapToScene(QPointF(it.width() / 2, it.height() / 2)).toPoint()
    QTest.mousePress(k.window, Qt.LeftButton, Qt.NoModifier, p)
    qtbot.wait(1700)
    QTest.mouseRelease(k.window, Qt.LeftButton, Qt.NoModifier, p)
    qtbot.waitUntil(lambda: k.flow.screen == "staffLogin")
    qtbot.wait(50)
    driver.tap(k.window, "op_0")
    for d in "246813":
        driver.tap(k.window, f"pin_{d}")
    driver.tap(k.window, "btnStaffLogin")
    qtbot.waitUntil(lambda: k.flow.screen == "staff")
    qtbot.wait(50)
    driver.tap(k.window, "area_due")
    qtbot.waitUntil(lambda: k.flow.screen == "due")
    rows = k.coordinator.property("rows")
    assert rows and not any("*" in r["name"] for r in rows) and any(r["extra"] for r in rows)
    qtbot.wait(50)
    driver.tap(k.window, "btnDueStats")
    qtbot.waitUntil(lambda: k.flow.screen == "stats")
    assert k.coordinator.wait_for_charts(120)
    qtbot.wait(50)
    driver.tap(k.window, "btnStatsMenu")
    qtbot.waitUntil(lambda: k.flow.screen == "staff")
    qtbot.wait(50)
    driver.tap(k.window, "btnStaffLogout")
    k.coordinator.openArea("due")  # straight in, nobody logged in: masked, no contacts
    assert all("*" in r["name"] and r["extra"] == "" for r in k.coordinator.property("rows"))
