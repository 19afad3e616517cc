"""上门认证 and 不刷脸认证 in the app (kiosk/app/visits.py, kiosk/app/fallback.py, ui/Visit*.qml,
ui/Fallback*.qml, ui/SubmittedScreen.qml), and typing ID numbers on a keyboard or a keyboard-wedge
ID-card reader (kiosk/app/entry.py IdentityEntry.key).

The real app on a real store seeded through the store API (residents of every status, a roster
contact, a real operator with a PIN), driven by objectName taps and key events like a staff
member. The wedge test types into the app under Xvfb with xdotool (a real X server and keyboard).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("KIOSK_AUDIO", "0")

from kiosk.app.bootstrap import prepare_environment

prepare_environment()

import pytest
from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtTest import QTest

from kiosk.app import driver
from kiosk.config import Settings
from kiosk.core.clock import Clock
from kiosk.core.ids import check_digit
from kiosk.store import Store, fallbacks
from test_visits import CERT, DC, DEAD, NEVER, OVER, SOON, SUSP, TODAY, fill

PIN = "246813"
SON = "11010519800101106" + check_digit("11010519800101106")  # ends in X
READER = "11010519520711102" + check_digit("11010519520711102")  # ends in X (tests/wedge_app.py's resident)
ROOT = Path(__file__).resolve().parents[1]


class FakeEncoder:
    """The embedding backend's name only: these tests run no face check (templates are per backend)."""

    name = "dlib-128"


@pytest.fixture
def village(tmp_path):
    """A terminal's store: 东村 and 西村 residents of every status (as tests/test_visits.py), one
    roster contact, an admin and a 协理员."""
    from kiosk import operators

    store = Store.open(tmp_path / "kiosk.db", tmp_path / "keys" / "template.key", clock=Clock.fixed(TODAY))
    fill(store)
    admin = operators.add_operator(store, "李主任", "admin", PIN)
    helper = operators.add_operator(store, "王协理", "assistant", PIN, by=admin)
    yield store, helper
    store.close()


class Staff:
    """Who is logged in (the staff session's `current_operator`): a real Operator, or nobody."""

    def __init__(self, operator):
        self.operator = operator

    def __call__(self):
        return self.operator


@pytest.fixture
def make_kiosk(qtbot, village):
    made = []

    def make(*, size=(1366, 768), elder=False, logged_in=True, settings=None, staff_session=False):
        from kiosk.app.bootstrap import KioskApp, Options
        from kiosk.app.voice import VoicePlayer

        store, helper = village
        opts = Options(demo=False, fullscreen=False, realtime=False, size=size, elder=elder)
        staff = Staff(helper if logged_in else None)
        k = KioskApp(opts, store=store, settings=settings or Settings(grace_days=10), encoder=FakeEncoder(),
                     voice=VoicePlayer(enabled=False), clock=store.clock,
                     current_operator=None if staff_session else staff)
        k.window.show()
        qtbot.waitExposed(k.window)
        qtbot.wait(50)
        k.logged_in_as = staff
        made.append(k)
        return k

    yield make
    for k in made:
        k.close()  # as the app closes: controllers stopped, staff session ended, store closed


def wait_screen(qtbot, k, name: str) -> None:
    qtbot.waitUntil(lambda: k.flow.screen == name, timeout=5000)
    qtbot.wait(30)  # the Loader builds the screen


def tap(k, name: str) -> None:
    """Tap a control, scrolling its screen first when it is below the fold (as a finger would).
    Positioners lay out at the next polish: done now, so the tap lands where the control will be."""
    for item in driver.items(k.window):
        item.ensurePolished()
    it = driver.find(k.window, name)
    flick = it.parentItem() if it is not None else None
    while flick is not None and flick.property("contentY") is None:
        flick = flick.parentItem()
    if it is not None and flick is not None:
        y = it.mapToItem(flick.property("contentItem"), QPointF(0, 0)).y()
        top = max(0.0, min(y - flick.height() / 3, flick.property("contentHeight") - flick.height()))
        flick.setProperty("contentY", top)
        QCoreApplication.processEvents()
    driver.tap(k.window, name)


def text_of(k, name: str) -> str:
    return driver.text_of(k.window, name)


def type_keys(qtbot, k, chars: str, item_name: str | None = None) -> None:
    """Keys as a physical keyboard sends them (focus on `item_name`'s text field first)."""
    if item_name:
        it = driver.find(k.window, item_name)
        assert it is not None, (item_name, k.flow.screen, k.fallback.method, k.fallback.reason, k.fallback.relation)
        it.forceActiveFocus()
    for ch in chars:
        if ch == "\n":
            QTest.keyClick(k.window, Qt.Key.Key_Return)
        elif ch.isascii():
            QTest.keyClick(k.window, ch)
        else:  # Chinese comes from the input method as committed text
            ev = QInputMethodEvent()
            ev.setCommitString(ch)
            QCoreApplication.sendEvent(k.window.activeFocusItem(), ev)
    qtbot.wait(20)


def row_index(k, name: str) -> int:
    return next(i for i, r in enumerate(k.visits.rows) if r["name"] == name)


# ------------------------------------------------------------------ the visit list
def test_visit_list_is_sorted_by_urgency_without_the_certified_compared_or_deceased(make_kiosk, qtbot, village):
    store, _ = village
    k = make_kiosk()
    k.visits.openArea("visits")  # the staff menu's 上门认证 (Staff.areaRequested)
    wait_screen(qtbot, k, "visits")
    names = [r["name"] for r in k.visits.rows]
    # Everyone on the terminal: the two suspended first (东村's, then 西村's, by deadline), then
    # overdue, never certified, due within 30 days; 张五 is due later, 张六 certified, 张七 by
    # 大数据比对, 张八 deceased.
    assert names[:2] == ["张一", "李一"] and names[2:] == ["张二", "张三", "张四"]
    assert [r["urgency"] for r in k.visits.rows] == ["suspended", "suspended", "overdue", "never_certified", "due"]
    assert not {"张五", "张六", "张七", "张八"} & set(names)
    # Filter by village: only 东村.
    tap(k, "village_东村")
    qtbot.waitUntil(lambda: len(k.visits.rows) == 4)
    assert [r["name"] for r in k.visits.rows] == ["张一", "张二", "张三", "张四"]
    # What the roster knows is on the row; the ID is masked.
    first = driver.find(k.window, "visitRow_0")
    assert first is not None and first.height() >= k.theme().property("touch") * 0.9
    row = k.visits.rows[0]
    assert "东村3组12号" in row["contact"] and "13800000000" in row["contact"] and "张小一" in row["contact"]
    assert "*" in row["id"] and SUSP not in json.dumps(k.visits.rows, ensure_ascii=False)
    viewed = [e for e in store.audit_entries() if e["action"] == "visit_list_viewed"]
    assert viewed and viewed[-1]["actor"] == "王协理" and viewed[-1]["details"]["village"] == "东村"
    for number in (CERT, DC, DEAD):  # never listed, whatever the filter
        assert number not in {e.id_number for e in k.visits._entries}


def test_the_staff_menu_opens_the_list_for_the_logged_in_operator(make_kiosk, qtbot, village):
    """Through the real staff session (kiosk.app.staff): PIN pad, menu, 上门认证; logging out forgets."""
    store, _ = village
    k = make_kiosk(staff_session=True)
    k.staff.open()
    wait_screen(qtbot, k, "staffLogin")
    k.staff.chooseOperator("王协理")
    for d in PIN:
        k.staff.pinPress(d)
    k.staff.login()
    qtbot.waitUntil(lambda: k.staff.current_operator() is not None)
    k.staff.showMenu()
    wait_screen(qtbot, k, "staff")
    tap(k, "area_visits")
    wait_screen(qtbot, k, "visits")
    assert k.visits.count == 5 and "王协理" in text_of(k, "visitsCount")
    tap(k, "btnVisitsMenu")
    wait_screen(qtbot, k, "staff")
    tap(k, "area_fallback")  # 不刷脸认证 from the menu: the resident's number first
    wait_screen(qtbot, k, "identity")
    assert k.entry.target == "fallback"
    k.staff.logout()
    wait_screen(qtbot, k, "home")
    qtbot.waitUntil(lambda: k.visits.rows == [])
    assert not k.visits.loggedIn


def test_nobody_logged_in_sees_no_addresses(make_kiosk, qtbot):
    k = make_kiosk(logged_in=False)
    k.visits.open()
    wait_screen(qtbot, k, "visits")
    assert k.visits.rows == [] and "先登录" in text_of(k, "visitsEmpty")
    k.visits.pick(0)  # nothing to pick
    assert k.flow.screen == "visits"


def test_not_at_home_with_a_note_is_recorded_and_shown(make_kiosk, qtbot, village):
    store, _ = village
    k = make_kiosk()
    k.visits.open()
    wait_screen(qtbot, k, "visits")
    tap(k, f"visitRow_{row_index(k, '张二')}")
    wait_screen(qtbot, k, "visit")
    assert text_of(k, "visitName") == "张二" and "逾期" in text_of(k, "visitStatus")
    type_keys(qtbot, k, "邻居说去县城看病了", "visitNote")
    tap(k, "mark_not_at_home")
    qtbot.waitUntil(lambda: k.visits.message != "")
    assert "不在家" in text_of(k, "visitMessage")
    visit = store.last_visit(OVER)
    assert visit is not None and (visit["outcome"], visit["operator"], visit["note"]) == (
        "not_at_home", "王协理", "邻居说去县城看病了")
    assert "不在家" in text_of(k, "visitLast") and "邻居说" in text_of(k, "visitLast")
    assert text_of(k, "visitNote") == ""  # ready for the next visit
    # Still on the list (not at home is not a certification), with the visit on its row.
    tap(k, "btnVisitBack")
    wait_screen(qtbot, k, "visits")
    row = k.visits.rows[row_index(k, "张二")]
    assert "不在家" in row["lastVisit"]
    # Left alone: the idle reset goes home and the addresses and phones are forgotten.
    k.app.idleReset.emit()
    wait_screen(qtbot, k, "home")
    qtbot.waitUntil(lambda: k.visits.rows == [] and k.visits.person == {})


# ------------------------------------------------------------------ certification without a face
def test_staff_witness_fallback_from_a_visit_is_queued_pending_and_not_a_certification(make_kiosk, qtbot, village):
    store, _ = village
    k = make_kiosk()
    k.visits.open()
    wait_screen(qtbot, k, "visits")
    tap(k, f"visitRow_{row_index(k, '张三')}")  # never certified, no template
    wait_screen(qtbot, k, "visit")
    assert k.visits.person["canCertify"] is False  # no template: the face check is refused
    tap(k, "btnVisitFallback")
    wait_screen(qtbot, k, "fallback")
    assert "王协理" in text_of(k, "fallbackWitness")
    # "tries used up" is not offered: no failed try today.
    assert [r["key"] for r in k.fallback.reasons] == ["cannot_perform_actions", "refuses_face_recognition",
                                                        "no_template_cannot_enrol"]
    assert not k.fallback.ready
    tap(k, "fb_method_staff_witness")
    tap(k, "fb_reason_no_template_cannot_enrol")
    assert k.fallback.ready
    before = len(store.pending_outbox(limit=1000))
    tap(k, "btnFallbackSubmit")
    wait_screen(qtbot, k, "submitted")
    assert text_of(k, "submittedTitle") == "已提交，等县里审核"
    assert "3个工作日" in text_of(k, "submittedDays") and "工作人员核实认证" in text_of(k, "submittedPerson")
    assert "screen_fallback_submitted_3" in k.voice.history  # said to the resident
    # The county's queue: one fallback record, pending review; the resident is not certified.
    items = store.pending_outbox(limit=1000)
    assert len(items) == before + 1
    [item] = [i for i in items if i.kind == "fallback"]
    assert item.payload["method"] == "staff_witness" and item.payload["operator"] == "王协理"
    assert item.payload["reason"] == "no_template_cannot_enrol" and item.payload["resident_id"] == NEVER
    f = fallbacks.pending(store, NEVER)
    assert f is not None and f.status == "pending_county_review"
    assert store.last_certified(NEVER) is None and store.attempts_for(NEVER) == []
    assert k.service.eligibility(NEVER).code == "fallback_pending"
    # Back to the person page: the list still holds them (pending is not certified), the form is blocked now.
    tap(k, "btnSubmittedVisit")
    wait_screen(qtbot, k, "visit")
    assert k.visits.person["canFallback"] is False


def test_relative_pledge_typed_on_the_keyboard_with_the_id_checked(make_kiosk, qtbot, village):
    store, _ = village
    k = make_kiosk(size=(1080, 1920), elder=True)
    k.fallback.open()  # the staff menu's 不刷脸认证: the resident's number first
    wait_screen(qtbot, k, "identity")
    assert "不刷脸认证" in text_of(k, "identityTitle")
    type_keys(qtbot, k, SOON)  # 18 valid characters from the keyboard: on by itself
    wait_screen(qtbot, k, "fallback")
    assert "张*" in text_of(k, "fallbackPerson")
    tap(k, "fb_method_relative_pledge")
    tap(k, "fb_reason_cannot_perform_actions")
    tap(k, "fb_rel_child")
    type_keys(qtbot, k, "张小四", "fbRelativeName")
    type_keys(qtbot, k, "13900000000", "fbRelativePhone")
    bad = SON[:17] + ("0" if SON[-1] != "0" else "1")
    type_keys(qtbot, k, bad, "fbRelativeId")
    assert k.fallback.relativeIdHint != "" and not k.fallback.ready  # the check digit is wrong
    QTest.keyClick(k.window, Qt.Key.Key_Backspace)
    type_keys(qtbot, k, SON[-1].lower())  # x typed lower case is X
    assert k.fallback.relativeIdHint == "" and k.fallback.ready
    tap(k, "btnFallbackSubmit")
    wait_screen(qtbot, k, "submitted")
    f = fallbacks.pending(store, SOON)
    assert f is not None and f.method == "relative_pledge" and f.operator == "王协理"
    assert fallbacks.relative_of(store, f.uuid) == fallbacks.Relative("张小四", "子女", SON, "13900000000")
    assert not k.visits.returnable and driver.find(k.window, "btnSubmittedVisit") is None
    tap(k, "btnSubmittedHome")
    wait_screen(qtbot, k, "home")
    assert k.fallback.submitted == {}


def test_fallback_is_refused_for_someone_already_certified(make_kiosk, qtbot):
    k = make_kiosk()
    k.fallback.open_for(CERT)
    wait_screen(qtbot, k, "fallback")
    assert "已认证" in text_of(k, "fallbackBlocked") and driver.find(k.window, "btnFallbackSubmit") is None


def test_tries_used_up_is_offered_after_the_configured_failed_tries(village, make_kiosk, qtbot):
    from datetime import datetime, timedelta, timezone

    store, _ = village
    k = make_kiosk(settings=Settings(grace_days=10, fallback_after_failures=2, attempts_per_day=5))
    start = datetime(2026, 6, 15, 1, 0, tzinfo=timezone.utc)
    store.record_attempt(resident_id=SOON, category="pension", mode="self", verdict="fail", reason="no_match",
                         started_at=start, finished_at=start + timedelta(seconds=20))
    assert not k.service.fallback_offered(SOON)
    store.record_attempt(resident_id=SOON, category="pension", mode="self", verdict="fail", reason="cancelled",
                         started_at=start, finished_at=start + timedelta(seconds=20))
    assert not k.service.fallback_offered(SOON)  # a cancel is not a failed try
    store.record_attempt(resident_id=SOON, category="pension", mode="self", verdict="fail", reason="no_match",
                         started_at=start, finished_at=start + timedelta(seconds=20))
    assert k.service.fallback_offered(SOON)
    k.fallback.open_for(SOON)
    wait_screen(qtbot, k, "fallback")
    assert k.fallback.reasons[0]["key"] == "attempts_exceeded"
    tap(k, "fb_method_staff_witness")
    tap(k, "fb_reason_attempts_exceeded")
    tap(k, "btnFallbackSubmit")
    wait_screen(qtbot, k, "submitted")
    assert fallbacks.pending(store, SOON).reason == "attempts_exceeded"


# ------------------------------------------------------------------ keyboard and wedge reader
def test_keyboard_typing_fills_advances_and_swallows_the_readers_enter(make_kiosk, qtbot):
    k = make_kiosk()
    k.flow.start("query")
    wait_screen(qtbot, k, "identity")
    type_keys(qtbot, k, SOON[:10])
    assert k.entry.entry == SOON[:10] and k.flow.screen == "identity"
    QTest.keyClick(k.window, Qt.Key.Key_Backspace)
    assert k.entry.entry == SOON[:9]
    type_keys(qtbot, k, SOON[9:] + "\n")  # the rest, then the reader's Enter
    wait_screen(qtbot, k, "records")
    assert k.flow.screen == "records"  # the Enter did not act on the next screen


@pytest.mark.slow
def test_wedge_reader_under_xvfb_with_xdotool(tmp_path):
    """A keyboard-wedge reader simulated by `xdotool type` on a real X server (Xvfb): the number
    fills the field and the app moves on by itself."""
    missing = [t for t in ("Xvfb", "xdotool") if shutil.which(t) is None]
    if missing:
        msg = f"needs {' and '.join(missing)} (apt-get install -y xvfb xdotool)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    import select

    # Our own X server on a free display (Xvfb picks it and writes its number to the pipe).
    r, w = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
                            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    app = None
    try:
        number = b""
        while not number.endswith(b"\n"):
            assert select.select([r], [], [], 20)[0], "Xvfb did not start"
            chunk = os.read(r, 16)
            assert chunk, "Xvfb did not start"
            number += chunk
        env = {**os.environ, "DISPLAY": f":{number.decode().strip()}", "QT_QPA_PLATFORM": "xcb", "KIOSK_AUDIO": "0"}
        out = tmp_path / "screens.jsonl"
        app = subprocess.Popen([sys.executable, str(ROOT / "tests" / "wedge_app.py"), str(tmp_path), str(out)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while not out.exists() or "identity" not in out.read_text():
            assert app.poll() is None, app.stdout.read() if app.stdout else ""
            assert time.monotonic() < deadline, "the app did not reach the ID screen"
            time.sleep(0.1)
        wid = subprocess.run(["xdotool", "search", "--sync", "--name", "村口认证"], env=env, capture_output=True,
                             text=True, timeout=20).stdout.split()[0]
        subprocess.run(["xdotool", "windowfocus", "--sync", wid], env=env, check=True, timeout=20)
        # The reader: 18 characters fast (x lower case, as some readers send it), then Enter.
        subprocess.run(["xdotool", "type", "--delay", "8", READER.lower()], env=env, check=True, timeout=20)
        subprocess.run(["xdotool", "key", "Return"], env=env, check=True, timeout=20)
        deadline = time.monotonic() + 20
        while "records" not in out.read_text():
            assert app.poll() is None, app.stdout.read() if app.stdout else ""
            assert time.monotonic() < deadline, f"did not move on: {out.read_text()}"
            time.sleep(0.1)
        time.sleep(0.5)  # the reader's Enter has arrived and was swallowed
        lines = [json.loads(x) for x in out.read_text().splitlines()]
        assert lines[-1]["screen"] == "records" and lines[-1]["name"] == "赵*卡"
        typed = [x["entry"] for x in lines if x["screen"] == "identity" and x["entry"]]
        assert typed and typed[-1] == READER
    finally:
        os.close(r)
        for p in (app, xvfb):
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()


# ------------------------------------------------------------------ every size, elder on and off
@pytest.mark.parametrize("size", [(1366, 768), (1080, 1920)])
@pytest.mark.parametrize("elder", [False, True])
def test_screens_fit_every_size_and_render(make_kiosk, qtbot, village, size, elder):
    """List, person page, fallback form and 已提交 at the laptop and portrait kiosk sizes, elder
    mode on and off: every button inside the window (scrolled into view on the scrolling pages).
    With KIOSK_SCREENSHOTS=DIR the screens are saved as PNGs there (docs/screenshots come from it)."""
    store, _ = village
    store.set_resident_contact(OVER, {"address": "东村2组5号", "phone": "13700000000"})
    store.set_resident_contact(NEVER, {"address": "东村1组8号", "contact": "张小三（女儿） 13600000000"})
    store.record_visit(SOON, "王协理", "not_at_home", "下地干活了，约好周五再来")
    k = make_kiosk(size=size, elder=elder)
    out = os.environ.get("KIOSK_SCREENSHOTS")
    tag = f"{'elder_' if elder else ''}{'portrait' if size[1] > size[0] else 'laptop'}"

    def shot(name: str) -> None:
        qtbot.wait(int(k.theme().property("transitionMs")) + 80)
        if out:
            Path(out).mkdir(parents=True, exist_ok=True)
            k.window.grabWindow().save(str(Path(out) / f"{name}_{tag}.png"))

    def inside(names: list[str]) -> None:
        w, h = size
        for item in driver.items(k.window):
            item.ensurePolished()
        for name in names:
            tap_target = driver.find(k.window, name)
            assert tap_target is not None, name
            r = tap_target.mapRectToScene(QRectF(0, 0, tap_target.width(), tap_target.height()))
            assert r.left() >= -0.5 and r.right() <= w + 0.5 and r.width() >= 40, (name, r)

    k.visits.open()
    wait_screen(qtbot, k, "visits")
    inside(["visitRow_0", "village_东村", "btnHome"])
    shot("visits")
    tap(k, f"visitRow_{row_index(k, '张三')}")
    wait_screen(qtbot, k, "visit")
    inside(["btnVisitSelf", "btnVisitProxy", "btnVisitFallback", "btnVisitBack", "mark_not_at_home"])
    shot("visit_person")
    tap(k, "btnVisitFallback")
    wait_screen(qtbot, k, "fallback")
    tap(k, "fb_method_relative_pledge")
    tap(k, "fb_reason_cannot_perform_actions")
    tap(k, "fb_rel_child")
    type_keys(qtbot, k, "张小三", "fbRelativeName")
    type_keys(qtbot, k, "13600000000", "fbRelativePhone")
    type_keys(qtbot, k, SON, "fbRelativeId")
    k.window.contentItem().forceActiveFocus()
    driver.find(k.window, "fallbackScreen").setProperty("contentY", 0)
    inside(["fb_method_staff_witness", "fb_method_relative_pledge", "fb_reason_cannot_perform_actions"])
    shot("fallback_form")
    tap(k, "btnFallbackSubmit")
    wait_screen(qtbot, k, "submitted")
    inside(["btnSubmittedHome", "btnSubmittedVisit"])
    shot("submitted")


# ------------------------------------------------------------------ through a real face check (virtual camera)
@pytest.fixture
def demo_kiosk(qtbot, tmp_path):
    """The demo database (王秀英 enrolled from the virtual camera, payments suspended) with a 协理员
    logged in; the real engine on the virtual camera, flat out."""
    from kiosk import operators
    from kiosk.app.bootstrap import KioskApp, Options
    from kiosk.app.demo import create_demo
    from kiosk.app.voice import VoicePlayer
    from kiosk.matching.encoder import DlibEncoder

    made = []

    def make(settings=None, elder=False):
        encoder = DlibEncoder()
        setup = create_demo(tmp_path / "demo", encoder)
        store = Store.open(setup.db_path, setup.key_path)
        helper = operators.get(store, "演示协理员")  # the demo database's 协理员
        assert helper is not None and helper.role == "assistant"
        k = KioskApp(Options(demo=True, fullscreen=False, realtime=False, elder=elder), store=store,
                     settings=settings or Settings(), encoder=encoder, voice=VoicePlayer(enabled=False),
                     demo_residents=setup.residents, current_operator=Staff(helper))
        k.window.show()
        qtbot.waitExposed(k.window)
        made.append(k)
        return k, setup

    yield make
    for k in made:
        k.close()


def test_certify_during_a_visit_records_the_operator_and_the_helper(demo_kiosk, qtbot):
    k, setup = demo_kiosk()
    wang = setup.face_resident.id_number
    k.visits.open()
    wait_screen(qtbot, k, "visits")
    assert [r["name"] for r in k.visits.rows] == ["王秀英"]  # the others: 大数据比对 or certified
    tap(k, "visitRow_0")
    wait_screen(qtbot, k, "visit")
    tap(k, "btnVisitProxy")  # a relative helps: the resident flow from 核对姓名
    wait_screen(qtbot, k, "confirm")
    tap(k, "btnConfirmYes")
    wait_screen(qtbot, k, "helper")
    tap(k, "rel_child")
    wait_screen(qtbot, k, "identity")
    tap(k, "btnSkipHelperId")
    wait_screen(qtbot, k, "category")
    tap(k, "btnCategoryNext")
    wait_screen(qtbot, k, "consent")
    tap(k, "btnAgree")
    wait_screen(qtbot, k, "face")
    qtbot.waitUntil(lambda: k.flow.screen == "result", timeout=150_000)
    qtbot.wait(50)
    assert k.flow.result["ok"], k.flow.result
    [attempt] = k.store.attempts_for(wang)
    assert (attempt.verdict, attempt.mode, attempt.helper_relationship, attempt.operator) == (
        "pass", "proxy", "子女", "演示协理员")
    assert driver.find(k.window, "btnResultFallback") is None  # passed: nothing to offer
    tap(k, "btnResultVisit")
    wait_screen(qtbot, k, "visit")
    assert text_of(k, "visitName") == "王秀英" and k.visits.person["canCertify"] is False
    assert "已认证" in k.visits.person["refusal"]
    tap(k, "mark_visited_certified")
    qtbot.waitUntil(lambda: k.visits.message != "")
    assert k.store.last_visit(wang)["outcome"] == "visited_certified"
    tap(k, "btnVisitBack")
    wait_screen(qtbot, k, "visits")
    assert k.visits.rows == []  # certified: off the list


def test_result_screen_offers_the_fallback_after_the_configured_failed_tries(demo_kiosk, qtbot):
    import numpy as np

    from kiosk.matching.encoder import BACKEND_NAME

    k, setup = demo_kiosk(Settings(fallback_after_failures=1), elder=True)
    # Someone whose template is not the virtual camera's face: the real check fails (no match).
    other = "13063019500301021" + check_digit("13063019500301021")
    k.store.upsert_resident(other, "孙桂兰", village="演示村", categories=["pension"])
    vec = np.random.default_rng(7).normal(size=128)
    k.store.add_template(other, (vec / np.linalg.norm(vec) * 0.6).astype(np.float32), BACKEND_NAME, source="local")
    k.flow.start("self")
    wait_screen(qtbot, k, "identity")
    type_keys(qtbot, k, other)  # the keyboard: on by itself to 核对姓名
    wait_screen(qtbot, k, "confirm")
    tap(k, "btnConfirmYes")
    wait_screen(qtbot, k, "category")
    tap(k, "btnCategoryNext")
    wait_screen(qtbot, k, "consent")
    tap(k, "btnAgree")
    wait_screen(qtbot, k, "face")
    qtbot.waitUntil(lambda: k.flow.screen == "result", timeout=150_000)
    qtbot.wait(50)
    assert not k.flow.result["ok"] and k.flow.result["canRetry"]
    qtbot.waitUntil(lambda: k.fallback.offered)
    qtbot.wait(int(k.theme().property("transitionMs")) + 80)
    for item in driver.items(k.window):
        item.ensurePolished()
    for name in ("btnRetry", "btnResultFallback", "btnResultHome"):  # 大字模式 at 1366x768: all on screen
        it = driver.find(k.window, name)
        r = it.mapRectToScene(QRectF(0, 0, it.width(), it.height()))
        assert r.bottom() <= 768.5 and r.right() <= 1366.5, (name, r)
    if os.environ.get("KIOSK_SCREENSHOTS"):
        k.window.grabWindow().save(str(Path(os.environ["KIOSK_SCREENSHOTS"]) / "result_fallback_elder_laptop.png"))
    tap(k, "btnResultFallback")
    wait_screen(qtbot, k, "fallback")
    assert k.fallback.reasons[0]["key"] == "attempts_exceeded"
    tap(k, "fb_method_staff_witness")
    tap(k, "fb_reason_attempts_exceeded")
    tap(k, "btnFallbackSubmit")
    wait_screen(qtbot, k, "submitted")
    f = fallbacks.pending(k.store, other)
    assert f is not None and (f.reason, f.operator) == ("attempts_exceeded", "演示协理员")
    assert k.store.last_certified(other) is None


def test_login_from_the_offered_fallback_continues_to_that_residents_form(village, make_kiosk, qtbot):
    """不刷脸认证 offered on the result screen with nobody logged in: 工作人员登录, the real PIN pad,
    then the form for the same resident (not the staff menu). The pending intent is forgotten at
    home (取消, idle reset) and at logout: a later login lands on the menu."""
    from datetime import datetime, timedelta, timezone

    store, _ = village
    k = make_kiosk(staff_session=True, settings=Settings(grace_days=10, fallback_after_failures=1))
    start = datetime(2026, 6, 15, 1, 0, tzinfo=timezone.utc)
    store.record_attempt(resident_id=SOON, category="pension", mode="self", verdict="fail", reason="no_match",
                         started_at=start, finished_at=start + timedelta(seconds=20))
    assert k.service.fallback_offered(SOON)

    def pin_login() -> None:
        wait_screen(qtbot, k, "staffLogin")
        names = [o["name"] for o in k.staff.operatorList]
        tap(k, f"op_{names.index('王协理')}")
        for d in PIN:
            tap(k, f"pin_{d}")
        tap(k, "btnStaffLogin")

    k.fallback.open_for(SOON)  # what 不刷脸认证 on the result screen does (Fallback.openFromResult)
    wait_screen(qtbot, k, "fallback")
    assert not k.fallback.loggedIn and driver.find(k.window, "btnFallbackSubmit") is not None
    tap(k, "btnFallbackLogin")
    pin_login()
    wait_screen(qtbot, k, "fallback")  # straight back to the form, not the menu
    assert k.staff.loggedIn and k.fallback.loggedIn and k.fallback.operatorName == "王协理"
    assert k.fallback.person["id"] == k.service.lookup(SOON).masked_id
    assert k.fallback.reasons[0]["key"] == "attempts_exceeded"
    tap(k, "fb_method_staff_witness")
    tap(k, "fb_reason_attempts_exceeded")
    tap(k, "btnFallbackSubmit")
    wait_screen(qtbot, k, "submitted")
    f = fallbacks.pending(store, SOON)
    assert f is not None and (f.reason, f.operator) == ("attempts_exceeded", "王协理")

    # 取消 on the PIN pad (home): the intent is forgotten; a later login is an ordinary one
    k.staff.logout()
    wait_screen(qtbot, k, "home")
    k.fallback.open_for(NEVER)
    wait_screen(qtbot, k, "fallback")
    tap(k, "btnFallbackLogin")
    wait_screen(qtbot, k, "staffLogin")
    tap(k, "btnStaffCancel")
    wait_screen(qtbot, k, "home")
    k.staff.open()  # the long press on the title
    pin_login()
    wait_screen(qtbot, k, "staff")
    assert k.fallback.person == {}


# ------------------------------------------------------------------ the service's rules the screens show
def test_review_days_and_failed_tries_are_settings(village):
    from datetime import datetime, timedelta, timezone

    from kiosk.service import CertificationService, FallbackRefused

    store, _ = village
    service = CertificationService(store, Settings(grace_days=10, fallback_review_days=5, fallback_after_failures=2,
                                                   attempts_per_day=5), FakeEncoder())
    with pytest.raises(FallbackRefused) as refused:  # free text needs the failed tries first
        service.record_fallback(SOON, "staff_witness", "老人手抖", "王协理")
    assert refused.value.code == "not_allowed"
    start = datetime(2026, 6, 15, 1, 0, tzinfo=timezone.utc)
    for _ in range(2):
        store.record_attempt(resident_id=SOON, category="pension", mode="self", verdict="fail", reason="no_match",
                             started_at=start, finished_at=start + timedelta(seconds=20))
    assert service.failed_tries_today(SOON) == 2 and service.fallback_offered(SOON)
    out = service.record_fallback(SOON, "staff_witness", "老人手抖", "王协理")  # 3 tries left, 2 failed: allowed
    assert out["expected_days"] == 5 and out["message"] == "已提交，等县里审核（约5个工作日）"
    assert (out["reason"], out["detail"]) == ("attempts_exceeded", "老人手抖")
    assert not service.fallback_offered(SOON)  # one is waiting for the county now
