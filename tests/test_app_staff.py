"""Staff mode in the app (issue 12): the PIN pad behind the long press, the menu by role, the idle
logout, enrolment (建模) from the virtual camera through the real engine, and its review by a
second operator — driven by objectName taps like a staff member, offscreen.
"""
from __future__ import annotations

import os
from dataclasses import replace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("KIOSK_AUDIO", "0")

import pytest
from PySide6.QtCore import QPointF, Qt

from kiosk import operators
from kiosk.app import driver
from kiosk.config import Settings
from kiosk.matching.encoder import BACKEND_NAME
from test_app import CHECK_TIMEOUT_MS, demo, demo_master, encoder, make_app, quick_voice  # noqa: F401 (fixtures)

from kiosk.app.demo import DEMO_OPERATORS

# The demo database's staff (kiosk.app.demo: made through kiosk.operators, scrypt-hashed PINs).
ADMIN, ASSISTANT, REVIEWER = ((name, pin) for name, pin, _ in DEMO_OPERATORS)

pytestmark = [pytest.mark.slow, pytest.mark.data]


def long_press(h, name: str = "btnStaff") -> None:
    from PySide6.QtTest import QTest

    it = driver.find(h.window, name)
    p = it.mapToScene(QPointF(it.width() / 2, it.height() / 2)).toPoint()
    QTest.mousePress(h.window, Qt.LeftButton, Qt.NoModifier, p)
    h.qtbot.wait(1700)  # pressAndHoldInterval 1500 ms
    QTest.mouseRelease(h.window, Qt.LeftButton, Qt.NoModifier, p)


def login(h, who, *, keyboard: bool = False) -> None:
    names = [o["name"] for o in h.k.staff.operatorList]
    h.tap(f"op_{names.index(who[0])}")
    if keyboard:
        from PySide6.QtTest import QTest

        for d in who[1]:
            QTest.keyClick(h.window, Qt.Key(ord(d)))
        QTest.keyClick(h.window, Qt.Key_Return)
    else:
        for d in who[1]:
            h.tap(f"pin_{d}")
        h.tap("btnStaffLogin")


@pytest.fixture
def staff_app(make_app):
    def make(**kw):
        h = make_app(**kw)
        roles = {o.name: o.role for o in operators.list_operators(h.k.store)}
        assert roles == {ADMIN[0]: "admin", ASSISTANT[0]: "assistant", REVIEWER[0]: "reviewer"}
        return h

    return make


def visible_areas(h) -> set[str]:
    return {it.objectName().removeprefix("area_") for it in driver.items(h.window)
            if it.objectName().startswith("area_") and it.isVisible()}


# ------------------------------------------------------------------ login, menu, logout
def test_long_press_leads_to_a_pin_pad_and_the_pin_decides(staff_app, qtbot):
    h = staff_app()
    k = h.k
    long_press(h)
    h.wait_screen("staffLogin")
    assert driver.find(h.window, "staffPending") is None  # no data before the PIN
    assert not k.staff.loggedIn and driver.find(h.window, "pin_5") is not None
    # wrong PIN: refused with the tries left (kiosk.operators' message)
    login(h, (ASSISTANT[0], "111222"))
    assert h.k.flow.screen == "staffLogin" and not k.staff.loggedIn
    assert "密码不对" in h.text("staffMessage") and "2" in h.text("staffMessage")
    login(h, (ASSISTANT[0], "111223"))
    # the third wrong one locks the account: the message says how long to wait
    login(h, (ASSISTANT[0], "111224"))
    assert "锁定" in h.text("staffMessage") and "30 秒" in h.text("staffMessage"), h.text("staffMessage")
    locked = next(o for o in k.staff.operatorList if o["name"] == ASSISTANT[0])
    assert locked["locked"] and locked["role"] == "协理员，暂时锁定"
    login(h, ASSISTANT)  # even the right PIN waits until the lock ends
    assert not k.staff.loggedIn and "锁定" in h.text("staffMessage")
    actions = [a["action"] for a in k.store.audit_entries()]
    assert actions.count("operator_login_failed") == 3 and "operator_locked" in actions

    # the reviewer, typing on a keyboard: the menu of a reviewer
    login(h, REVIEWER, keyboard=True)
    h.wait_screen("staff")
    assert k.staff.loggedIn and k.staff.role == "reviewer" and k.staff.current_operator().name == REVIEWER[0]
    assert h.text("staffWho") == "演示审核员（审核员）"
    assert driver.find(h.window, "staffPending") is not None  # the old staff page's figures stay
    areas = visible_areas(h)
    assert "review" in areas and "enrol" not in areas and "admin" not in areas
    seen = []
    k.staff.areaRequested.connect(seen.append)
    h.tap("area_due")
    assert seen == ["due"]
    h.wait_screen("due")  # the coordinator's due list (kiosk.app.coordinator); back to the menu
    h.tap("btnDueMenu")
    h.wait_screen("staff")
    k.staff.openArea("enrol")  # not for a reviewer: nothing is asked for
    assert seen == ["due"]
    h.tap("btnStaffLogout")
    h.wait_screen("home")
    assert not k.staff.loggedIn and k.staff.current_operator() is None
    long_press(h)
    h.wait_screen("staffLogin")  # logged out: the PIN again

    h.tap("btnStaffCancel")
    h.wait_screen("home")
    long_press(h)
    h.wait_screen("staffLogin")
    login(h, ADMIN)
    h.wait_screen("staff")
    assert {"enrol", "review", "admin", "visits", "fallback", "due", "stats", "selftest"} <= visible_areas(h)
    acts = [(a["actor"], a["action"]) for a in k.store.audit_entries()]
    assert (REVIEWER[0], "operator_login") in acts and (REVIEWER[0], "operator_logout") in acts


def test_the_staff_session_ends_by_itself_when_idle(staff_app, qtbot):
    # Staff idle logout far longer than the resident idle reset, so a slow machine cannot log out
    # before the first check; then the staff timer is shortened to see the logout itself.
    h = staff_app(settings=replace(Settings(), staff_idle_logout_s=60, idle_reset_s=0.5))
    k = h.k
    long_press(h)
    h.wait_screen("staffLogin")
    login(h, ASSISTANT)
    h.wait_screen("staff")
    qtbot.wait(800)  # longer than the resident idle reset: a staff screen is not reset by it
    assert k.flow.screen == "staff" and k.staff.loggedIn
    k.staff.idle.setInterval(300)
    k.staff.idle.start()
    qtbot.waitUntil(lambda: not k.staff.loggedIn, timeout=10_000)
    h.wait_screen("home")
    assert (ASSISTANT[0], "operator_logout") in [(a["actor"], a["action"]) for a in k.store.audit_entries()]
    assert {"operator": ASSISTANT[0], "how": "idle"} in [a["details"] for a in k.store.audit_entries()]


def test_no_staff_timer_fires_into_a_closed_app(staff_app, qtbot):
    """A staff member still logged in when the app closes: the idle logout must not run afterwards (it
    would audit into the closed store; pytest-qt fails the test on an exception in the event loop)."""
    h = staff_app(settings=replace(Settings(), staff_idle_logout_s=60))
    k = h.k
    long_press(h)
    h.wait_screen("staffLogin")
    login(h, ASSISTANT)
    h.wait_screen("staff")
    k.staff.idle.setInterval(200)
    k.staff.idle.start()
    k.close()
    # a key pressed later, anywhere (the next test's window): no closed controller may restart its timers
    from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
    from PySide6.QtGui import QKeyEvent

    QCoreApplication.sendEvent(QObject(), QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_A, Qt.KeyboardModifier.NoModifier))
    qtbot.wait(600)
    assert not k.staff.idle.isActive() and not k.app.idle.isActive()
    # the session ended with the app, and the audit says so (read from the file the app wrote)
    assert not k.staff.loggedIn
    from kiosk.store import Store

    with Store.open(h.setup.db_path, h.setup.key_path) as store:
        assert {"operator": ASSISTANT[0], "how": "app_closed"} in [a["details"] for a in store.audit_entries()]


def test_the_idle_logout_setting_is_checked_like_the_others(tmp_path, monkeypatch):
    from kiosk.config import SettingsError

    monkeypatch.setenv("KIOSK_HOME", str(tmp_path))
    (tmp_path / "kiosk.toml").write_text("staff_idle_logout_s = 5\n", encoding="utf-8")
    with pytest.raises(SettingsError):
        Settings.load()
    (tmp_path / "kiosk.toml").write_text("staff_idle_logout_s = 600\n", encoding="utf-8")
    assert Settings.load().staff_idle_logout_s == 600


# ------------------------------------------------------------------ enrolment and review
def test_enrol_in_the_app_then_review_by_a_second_operator_then_certify(staff_app, qtbot):
    h = staff_app(voice=quick_voice())
    k = h.k
    wang = h.ids["王秀英"]
    k.store.delete_templates(wang)  # a resident without a template: only the enrolment can let her certify
    assert k.store.templates_for(wang, BACKEND_NAME) == []

    long_press(h)
    h.wait_screen("staffLogin")
    login(h, ASSISTANT)
    h.wait_screen("staff")
    h.tap("area_enrol")
    h.wait_screen("enrol")
    from PySide6.QtTest import QTest

    for ch in wang[:9]:  # half on the screen's pad, half on a keyboard (the 18th moves on by itself)
        h.tap(f"ekey_{ch}")
    for ch in wang[9:17]:
        QTest.keyClick(h.window, Qt.Key(ord(ch)))
    assert h.text("enrolIdDisplay").replace(" ", "") == wang[:17]
    QTest.keyClick(h.window, Qt.Key(ord(wang[17])))
    QTest.keyClick(h.window, Qt.Key_Return)  # swallowed (a reader's Enter after the number)
    h.wait_screen("enrolConsent")
    assert "王*英" in h.text("enrolConsentWho") and wang not in h.text("enrolConsentWho")
    assert k.voice.history[-1] == "screen_enrol_consent"  # the consent is read aloud
    h.tap("btnEnrolConsentYes")
    h.wait_screen("enrolCapture")
    cam = driver.find(h.window, "enrolCamera")
    qtbot.waitUntil(lambda: cam.has_image, timeout=30_000)
    h.wait_screen("enrolDone", CHECK_TIMEOUT_MS)
    res = k.enrol.result
    assert res["ok"], res
    eid = res["enrolment"]
    spoken = k.voice.history
    assert any(c.startswith("prompt_") for c in spoken)  # liveness first
    assert "state_enrol_look_left" in spoken and "state_enrol_look_right" in spoken  # spoken pose guidance
    assert spoken.index(next(c for c in spoken if c.startswith("prompt_"))) < spoken.index("state_enrol_look_left")
    assert spoken[-1] == "screen_enrol_saved"
    assert 5 <= res["frames"] <= 10
    thumbs = [it for it in driver.items(h.window) if it.objectName().startswith("enrolThumb_") and it.isVisible()]
    assert len(thumbs) == res["frames"] and all(t.has_image for t in thumbs)
    e = k.store.get_enrolment(eid)
    assert (e["status"], e["enrolled_by"], e["consent_read_by"]) == ("pending_review", ASSISTANT[0], ASSISTANT[0])
    assert k.store.templates_for(wang, BACKEND_NAME) == []  # pending: does not count yet
    spread = e["quality"]["pose_spread"]  # the demo face turned on 请稍微向左看 / 向右看 (tests/test_enrol_pose.py)
    assert max(spread["yaw"]) - min(spread["yaw"]) > 8.0 and not spread["narrow"], spread
    assert not list(k.store.path.parent.rglob("*.png")) and not list(k.store.path.parent.rglob("*.jpg"))

    # the same operator may not approve it (an assistant sees no review button; a direct try is refused too)
    k.review.open()
    h.wait_screen("review")
    h.tap(f"review_{eid}")
    h.wait_screen("reviewDetail")
    h.tap("btnApprove")
    assert k.review.messageError and "不能审核自己" in h.text("reviewMessage")
    assert k.store.get_enrolment(eid)["status"] == "pending_review"
    h.tap("btnReject")  # no reason: refused with the engine's words
    assert "原因" in h.text("reviewMessage")

    k.staff.logout()
    h.wait_screen("home")
    long_press(h)
    h.wait_screen("staffLogin")
    login(h, REVIEWER)
    h.wait_screen("staff")
    h.tap("area_review")
    h.wait_screen("review")
    h.tap(f"review_{eid}")
    h.wait_screen("reviewDetail")
    frames = [it for it in driver.items(h.window) if it.objectName().startswith("reviewThumb_") and it.isVisible()]
    assert len(frames) == res["frames"] and all(f.has_image for f in frames)  # the reviewer sees the frames
    assert h.text("reviewPoseSpread").startswith("角度范围 左")  # ... and how far they turn
    h.tap("btnApprove")
    h.wait_screen("review")
    assert "审核通过" in h.text("reviewMessage") and not k.review.messageError
    e = k.store.get_enrolment(eid)
    assert (e["status"], e["reviewed_by"]) == ("approved", REVIEWER[0])
    assert len(k.store.templates_for(wang, BACKEND_NAME)) == res["frames"]
    assert k.enrol.frameCount(eid) == 0  # reviewed: the thumbnails are dropped from memory
    acts = [(a["actor"], a["action"]) for a in k.store.audit_entries()]
    assert (ASSISTANT[0], "enrolment_submitted") in acts and (REVIEWER[0], "enrolment_approved") in acts

    # the resident now certifies through the app's face check
    k.staff.logout()
    h.wait_screen("home")
    h.to_face("王秀英")
    h.wait_screen("result", CHECK_TIMEOUT_MS)
    assert k.flow.result["ok"], k.flow.result


def test_enrol_id_typed_on_a_keyboard_moves_on_by_itself_and_swallows_the_readers_enter(staff_app, qtbot):
    """The enrolment ID screen types like the resident's (IdentityEntry.key): a keyboard-wedge reader's
    18 characters move on by themselves, its trailing Enter acts on nothing; a wrong check digit
    does not move on, whatever Enter says."""
    from PySide6.QtTest import QTest

    from kiosk.core.ids import check_digit

    h = staff_app()
    k = h.k
    liu = h.ids["刘玉珍"]
    long_press(h)
    h.wait_screen("staffLogin")
    login(h, ASSISTANT)
    h.wait_screen("staff")
    h.tap("area_enrol")
    h.wait_screen("enrol")

    bad = liu[:17] + next(c for c in "0123456789X" if c != check_digit(liu[:17]))
    for ch in bad:
        QTest.keyClick(h.window, Qt.Key(ord(ch)))
    assert k.enrol.hintError and not k.enrol.idComplete
    QTest.keyClick(h.window, Qt.Key_Return)
    assert k.flow.screen == "enrol"  # a wrong check digit: Enter does not move on
    QTest.keyClick(h.window, Qt.Key_Backspace)
    assert k.enrol.idLength == 17
    QTest.keyClick(h.window, Qt.Key_Escape)  # as on the resident's screen: Esc empties the field
    assert k.enrol.idLength == 0

    for ch in liu.lower():  # as a reader types it (a lower-case x too)
        QTest.keyClick(h.window, ch)
    h.wait_screen("enrolConsent")  # no Enter needed: 18 valid characters move on by themselves
    assert "刘*珍" in h.text("enrolConsentWho")
    QTest.keyClick(h.window, Qt.Key_Return)  # the reader's own Enter after the number
    qtbot.wait(100)
    assert k.flow.screen == "enrolConsent" and k.store.list_enrolments() == []
    assert not [a for a in k.store.audit_entries() if a["action"].startswith("enrolment_")]

    # an unknown number (valid check digit): refused on the ID screen; the reader's Enter is swallowed there
    h.tap("btnEnrolConsentNo")
    h.wait_screen("enrolDone")
    h.tap("btnEnrolAnother")
    h.wait_screen("enrol")
    unknown = "11010519520711102"
    unknown += check_digit(unknown)
    assert k.store.get_resident(unknown) is None
    for ch in unknown.lower():
        QTest.keyClick(h.window, ch)
    assert k.flow.screen == "enrol" and k.enrol.hintError and k.enrol.hint
    hint = k.enrol.hint
    QTest.keyClick(h.window, Qt.Key_Return)  # swallowed: the refusal stays as it was
    assert k.flow.screen == "enrol" and k.enrol.hint == hint and k.enrol.idLength == 18


def type_id_to_consent(h, resident_id: str) -> None:
    """On the 建模 ID screen: the number on the screen's pad, 下一步, the consent screen."""
    for ch in resident_id:
        h.tap(f"ekey_{ch}")
    h.tap("btnEnrolNext")
    h.wait_screen("enrolConsent")


def enrol_to_consent(h, resident_id: str, operator=ASSISTANT) -> None:
    """From home: the long press, the operator's PIN, 建模, the resident's ID, up to the consent screen."""
    long_press(h)
    h.wait_screen("staffLogin")
    login(h, operator)
    h.wait_screen("staff")
    h.tap("area_enrol")
    h.wait_screen("enrol")
    type_id_to_consent(h, resident_id)


def test_consent_refused_or_capture_cancelled_enrols_nothing_and_is_audited(staff_app, qtbot):
    h = staff_app(voice=quick_voice(0.05))
    k = h.k
    liu = h.ids["刘玉珍"]
    enrol_to_consent(h, liu)
    h.tap("btnEnrolConsentNo")
    h.wait_screen("enrolDone")
    assert "不同意" in h.text("enrolDoneMessage") and driver.find(h.window, "btnEnrolRetry") is None
    h.tap("btnEnrolAnother")
    h.wait_screen("enrol")
    type_id_to_consent(h, liu)
    h.tap("btnEnrolConsentYes")
    h.wait_screen("enrolCapture")
    qtbot.waitUntil(lambda: k.check.running and k.check.worker is not None and k.check.worker.frames > 0,
                    timeout=30_000)
    h.tap("btnEnrolCancel")
    h.wait_screen("enrolDone", 30_000)
    assert not k.enrol.result["ok"] and driver.find(h.window, "btnEnrolRetry") is not None
    assert k.store.list_enrolments() == [] and k.store.templates_for(liu, BACKEND_NAME) == []
    acts = [(a["actor"], a["action"], a["details"].get("reason")) for a in k.store.audit_entries()]
    assert (ASSISTANT[0], "enrolment_consent_refused", None) in acts
    assert (ASSISTANT[0], "enrolment_refused", "cancelled") in acts


def test_reject_with_a_reason_and_re_enrolment_keeps_the_old_template(staff_app, qtbot):
    import numpy as np

    h = staff_app()
    k = h.k
    wang = h.ids["王秀英"]
    old = k.store.templates_for(wang, BACKEND_NAME)
    assert old
    now = k.store.clock.utc_now()
    rng = np.random.default_rng(1)
    eid = k.store.add_enrolment(wang, [rng.normal(size=128) for _ in range(5)], BACKEND_NAME,
                                enrolled_by=ASSISTANT[0], consent_read_by=ASSISTANT[0], consent_at=now)
    assert [v.tolist() for v in k.store.templates_for(wang, BACKEND_NAME)] == [v.tolist() for v in old]
    long_press(h)
    h.wait_screen("staffLogin")
    login(h, REVIEWER)
    h.wait_screen("staff")
    h.tap("area_review")
    h.wait_screen("review")
    h.tap(f"review_{eid}")
    h.wait_screen("reviewDetail")
    h.tap("reject_dark")
    h.wait_screen("review")
    e = k.store.get_enrolment(eid)
    assert (e["status"], e["reviewed_by"], e["reject_reason"]) == ("rejected", REVIEWER[0], "光线太暗")
    assert "已退回" in h.text("reviewMessage") and h.text("reviewNone")
    assert [v.tolist() for v in k.store.templates_for(wang, BACKEND_NAME)] == [v.tolist() for v in old]


# ------------------------------------------------------------------ layouts and screenshots
STAFF_CONTROLS = ("btn", "pin_", "ekey_", "op_", "area_", "review_", "reject_")


def _shot(h, shots, name: str) -> None:
    from test_app import _check_inside, _unnamed

    h.qtbot.wait(max(250, int(h.k.theme().property("transitionMs")) + 100))  # faded in
    img = h.window.grabWindow()
    assert img.save(str(shots / f"{name}.png")), name
    assert _check_inside(h, STAFF_CONTROLS) == [], name
    assert _unnamed(h, STAFF_CONTROLS) == [], name


@pytest.mark.parametrize("size", [(1366, 768), (1080, 1920)])
@pytest.mark.parametrize("elder", [False, True])
def test_staff_screens_fit_and_render(staff_app, qtbot, tmp_path, size, elder):
    """Every staff screen at laptop and portrait kiosk size, elder mode on and off: every control on
    screen and named; PNGs in $STAFF_SCREENSHOTS (if set) for docs/screens.md, else a temporary folder."""
    from pathlib import Path

    tag = f"{'elder_' if elder else ''}{size[0]}x{size[1]}"
    shots = Path(os.environ.get("STAFF_SCREENSHOTS") or tmp_path) / tag
    shots.mkdir(parents=True, exist_ok=True)
    h = staff_app(size=size, elder=elder, voice=quick_voice(0.05))
    k = h.k
    long_press(h)
    h.wait_screen("staffLogin")
    h.tap("op_1")
    for d in "97531":
        h.tap(f"pin_{d}")
    _shot(h, shots, "staff_login")
    h.tap("pin_3")
    h.tap("btnStaffLogin")  # a wrong PIN: the message
    _shot(h, shots, "staff_login_wrong")
    login(h, ADMIN)
    h.wait_screen("staff")
    _shot(h, shots, "staff_menu")
    h.tap("area_enrol")
    h.wait_screen("enrol")
    for ch in h.ids["刘玉珍"][:10]:
        h.tap(f"ekey_{ch}")
    _shot(h, shots, "enrol_id")
    for ch in h.ids["刘玉珍"][10:]:
        h.tap(f"ekey_{ch}")
    h.tap("btnEnrolNext")
    h.wait_screen("enrolConsent")
    _shot(h, shots, "enrol_consent")
    h.tap("btnEnrolConsentYes")
    h.wait_screen("enrolCapture")
    qtbot.waitUntil(lambda: k.enrol.pose == 1, timeout=CHECK_TIMEOUT_MS)  # "请稍微向左看"
    _shot(h, shots, "enrol_capture")
    h.wait_screen("enrolDone", CHECK_TIMEOUT_MS)
    assert k.enrol.result["ok"], k.enrol.result
    _shot(h, shots, "enrol_done")
    eid = k.enrol.result["enrolment"]
    k.staff.logout()
    h.wait_screen("home")
    long_press(h)
    h.wait_screen("staffLogin")
    login(h, REVIEWER)
    h.wait_screen("staff")
    h.tap("area_review")
    h.wait_screen("review")
    _shot(h, shots, "review_list")
    h.tap(f"review_{eid}")
    h.wait_screen("reviewDetail")
    _shot(h, shots, "review_detail")
