"""The app with the on-screen keyboard on, for tests/test_keyboard.py: in its own process, because
Qt reads QT_IM_MODULE once, when the QGuiApplication is made (the test session's QApplication has
no virtual keyboard). The keyboard is asked for through the app's own seam (kiosk.app.keyboard.request
before the QGuiApplication, as kiosk.app.bootstrap.run does), on the offscreen platform.

A 协理员 fills the 亲属承诺 form of 不刷脸认证 by tapping the keyboard's keys only: the relative's
name in 拼音 ("wang", then the first candidate), the phone on the digit layout, the relative's ID
number (X included), then submits. Every step is written to OUT as one JSON object (what the
fields hold, which keys the panel showed, where the field and the panel were), and the record
the store kept; the test asserts on it. With SHOTS the form is saved as PNGs, keyboard open (the
dial pad here; the 拼音 layout with its candidates in --scenario elder).

With --scenario review, 审核建模's typed reason instead; with --scenario elder, the keyboard open on the
relative's name with "wang" typed is measured in the plain mode and in 大字模式 (tapped in the header).

    python tests/keyboard_app.py HOME OUT [--size 1366x768] [--elder] [--shots DIR] [--tag TAG] [--scenario S]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kiosk.app.bootstrap import prepare_environment

SON = "11010519800101106X"  # a valid ID number ending in X (tests/test_app_visits.py's SON)
PHONE = "13900000000"


class FakeEncoder:
    name = "dlib-128"  # no face check here: only the backend's name (templates are per backend)


class Staff:
    def __init__(self, operator):
        self.operator = operator

    def __call__(self):
        return self.operator


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("home")
    ap.add_argument("out")
    ap.add_argument("--size", default="1366x768")
    ap.add_argument("--elder", action="store_true")
    ap.add_argument("--shots")
    ap.add_argument("--tag", default="")
    ap.add_argument("--scenario", choices=("fallback", "review", "elder"), default="fallback")
    a = ap.parse_args()
    w, h = (int(x) for x in a.size.split("x"))
    home = Path(a.home)

    prepare_environment()
    from kiosk.app import keyboard
    from kiosk.app.bootstrap import Options
    from kiosk.config import Settings

    settings = Settings(grace_days=10, on_screen_keyboard="on")
    opts = Options(demo=False, fullscreen=False, realtime=False, size=(w, h), elder=a.elder)
    requested = keyboard.request(settings, opts)  # before the QGuiApplication, as bootstrap.run

    from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtTest import QTest

    from kiosk import operators
    from kiosk.app import driver
    from kiosk.app.bootstrap import KioskApp
    from kiosk.app.voice import VoicePlayer
    from kiosk.store import Store, fallbacks
    from test_visits import SOON, TODAY, fill  # the residents of every status (tests/test_visits.py)
    from kiosk.core.clock import Clock

    qapp = QGuiApplication(sys.argv[:1])  # noqa: F841 (kept alive until the end)
    store = Store.open(home / "kiosk.db", home / "keys" / "template.key", clock=Clock.fixed(TODAY))
    fill(store)
    admin = operators.add_operator(store, "李主任", "admin", "246813")
    helper = operators.add_operator(store, "王协理", "assistant", "246813", by=admin)
    k = KioskApp(opts, store=store, settings=settings, encoder=FakeEncoder(), voice=VoicePlayer(enabled=False),
                 clock=store.clock, current_operator=Staff(helper))
    k.window.show()
    QTest.qWait(100)
    report: dict = {"requested": requested, "keyboard": bool(k.app.property("keyboard")), "steps": []}

    def wait(ms: int = 60) -> None:
        QTest.qWait(ms)

    def until(cond, ms: int = 5000) -> bool:
        for _ in range(ms // 20):
            if cond():
                return True
            QTest.qWait(20)
        return bool(cond())

    def panel():
        return driver.find(k.window, keyboard.PANEL_NAME, visible_only=False)

    def rect(item) -> QRectF:
        return item.mapRectToScene(QRectF(0, 0, item.width(), item.height()))

    def panel_items():
        p = panel()
        out, todo = [], [p] if p is not None else []
        while todo:
            it = todo.pop()
            out.append(it)
            todo.extend(it.childItems())
        return out

    def key_labels() -> list[str]:
        return sorted({str(it.property("displayText")) for it in panel_items()
                       if it.isVisible() and isinstance(it.property("displayText"), str) and it.property("displayText")
                       and it.property("enabled") is not False})

    def press(item) -> None:
        p = item.mapToScene(QPointF(item.width() / 2, item.height() / 2))
        QTest.mouseClick(k.window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p.toPoint())
        wait(40)

    def key(label: str) -> None:
        """Tap the keyboard's key showing `label` (its displayText), as a finger does."""
        found = [it for it in panel_items() if it.isVisible() and it.property("displayText") == label]
        if not found:
            raise LookupError(f"no key {label!r}; keys: {key_labels()}")
        press(found[0])

    def candidates() -> list:
        """The 拼音 candidate bar's entries (their Text items), in order."""
        view = next((it for it in panel_items() if it.objectName() == "wordCandidateView"), None)
        if view is None or not view.isVisible():
            return []
        cells = [it for it in panel_items() if it.metaObject().className().startswith("SelectionListItem")
                 and it.isVisible() and view.isAncestorOf(it)]
        cells.sort(key=lambda it: it.mapToScene(QPointF(0, 0)).x())
        return cells

    def text_in(cell) -> str:
        todo = [cell]
        while todo:
            it = todo.pop(0)
            if it.metaObject().className().startswith("QQuickText") and it.property("text"):
                return str(it.property("text"))
            todo.extend(it.childItems())
        return ""

    def fonts_in(cell) -> list[str]:
        out, todo = [], [cell]
        while todo:
            it = todo.pop(0)
            if it.metaObject().className().startswith("QQuickText") and it.property("text"):
                out.append(it.property("font").family())
            todo.extend(it.childItems())
        return out

    def focus_field(name: str) -> dict:
        """Tap a field (scrolled into view first, as a person scrolls) and see where it is once the keyboard opened."""
        for item in driver.items(k.window):
            item.ensurePolished()
        driver.tap(k.window, name)
        opened = until(lambda: panel() is not None and bool(panel().property("active")))
        wait(150)
        field = driver.find(k.window, name)
        stage_flick = driver.find(k.window, "fallbackScreen") if k.flow.screen == "fallback" else None
        info = {"field": name, "opened": opened, "focus": k.window.activeFocusItem() is field,
                "fieldRect": list(rect(field).getRect()), "panelRect": list(rect(panel()).getRect()),
                "inset": k.keyboard.property("inset"), "pan": k.keyboard.property("pan"),
                "flickRect": list(rect(stage_flick).getRect()) if stage_flick is not None else None,
                "keys": key_labels()}
        report["steps"].append(info)
        return info

    def shot(name: str) -> None:
        if a.shots:
            wait(int(k.theme().property("transitionMs")) + 80)
            Path(a.shots).mkdir(parents=True, exist_ok=True)
            k.window.grabWindow().save(str(Path(a.shots) / f"{name}{a.tag}.png"))

    def review() -> None:
        """审核建模 (a page that does not scroll): the reason typed in 拼音, sent with the keyboard's Enter key."""
        import numpy as np


        eid = store.add_enrolment(SOON, [np.full(128, 0.1, dtype=np.float32)], "dlib-128", enrolled_by="王协理",
                                  consent_read_by="王协理", consent_at=store.clock.now())
        k.staff.chooseOperator("李主任")
        for d in "246813":
            k.staff.pinPress(d)
        k.staff.login()
        k.review.select(eid)
        until(lambda: k.flow.screen == "reviewDetail")
        wait(100)
        step = focus_field("rejectTyped")
        step["page"] = "reviewDetail"
        for ch in "mohu":
            key(ch)
        until(lambda: len(candidates()) > 0)
        report["candidates"] = [text_in(c) for c in candidates()[:8]]
        shot("staff-keyboard-review")
        press(candidates()[0])
        report["reason"] = driver.text_of(k.window, "rejectTyped")
        enter = [it for it in panel_items() if it.isVisible() and it.metaObject().className().startswith("EnterKey")]
        press(enter[0])
        until(lambda: k.flow.screen == "review")
        report["screen"] = k.flow.screen
        e = store.get_enrolment(eid)
        report["enrolment"] = {"status": e["status"], "reviewed_by": e["reviewed_by"], "reason": e.get("reject_reason")}
        report["afterPage"] = {"inset": k.keyboard.property("inset"), "pan": k.keyboard.property("pan")}

    def label_px(item, text: str) -> float:
        """The pixel size of the Text inside `item` (a key or a candidate) that shows `text`."""
        todo = [item]
        while todo:
            it = todo.pop(0)
            if it.metaObject().className().startswith("QQuickText") and it.property("text") == text and it.isVisible():
                return float(it.property("font").pixelSize())
            todo.extend(it.childItems())
        return 0.0

    def measure() -> dict:
        """The keyboard open on the relative's name with "wang" typed: the panel, a key, the labels, the field."""
        w = next(it for it in panel_items() if it.isVisible() and it.property("displayText") == "w")
        cells = candidates()
        field = driver.find(k.window, "fbRelativeName")
        return {"elder": bool(k.app.property("elderMode")), "panelRect": list(rect(panel()).getRect()),
                "keyRect": list(rect(w).getRect()), "keyPx": label_px(w, "w"),
                "candidatePx": label_px(cells[0], text_in(cells[0])) if cells else 0.0,
                "fieldRect": list(rect(field).getRect()), "focus": k.window.activeFocusItem() is field,
                "flickRect": list(rect(driver.find(k.window, "fallbackScreen")).getRect()),
                "inset": k.keyboard.property("inset"), "pan": k.keyboard.property("pan")}

    def elder() -> None:
        """The relative's name with "wang" typed on the 拼音 keyboard, measured (and shot) in the plain
        mode, again after 大字模式 is tapped in the header with the keyboard still open, and once more
        after it is tapped off."""
        k.fallback.open_for(SOON)
        until(lambda: k.flow.screen == "fallback")
        wait(100)
        for name in ("fb_method_relative_pledge", "fb_reason_cannot_perform_actions", "fb_rel_child"):
            driver.tap(k.window, name)
            wait(40)
        for on, name in ((False, "plain"), (True, "elder"), (False, "plainAgain")):
            if bool(k.app.property("elderMode")) is not on:
                driver.tap(k.window, "btnElder")
                until(lambda on=on: bool(k.app.property("elderMode")) is on)
                wait(int(k.theme().property("transitionMs")) + 150)
            if not (panel() is not None and panel().property("active")):
                focus_field("fbRelativeName")
            if name == "plain":  # typed once: the 拼音 being typed stays while 大字模式 is tapped
                for ch in "wang":
                    key(ch)
            until(lambda: len(candidates()) > 0)
            wait(150)
            report[name] = measure()
            if name != "plainAgain":
                shot("staff-keyboard-pinyin" + ("-elder" if on else ""))

    try:
        if a.scenario == "review":
            review()
            return 0
        if a.scenario == "elder":
            elder()
            return 0
        # The resident's ID number has the big keypad of its own: the keyboard stays away.
        k.flow.start("query")
        until(lambda: k.flow.screen == "identity")
        wait(100)
        driver.type_id(k.window, SOON[:6])
        wait(150)
        report["identity"] = {"typed": k.entry.entry, "panel": bool(panel() is not None and panel().property("active"))}
        k.flow.home()
        until(lambda: k.flow.screen == "home")
        k.fallback.open_for(SOON)
        until(lambda: k.flow.screen == "fallback")
        wait(100)
        for name in ("fb_method_relative_pledge", "fb_reason_cannot_perform_actions", "fb_rel_child"):
            driver.tap(k.window, name)
            wait(40)
        report["panelBeforeFocus"] = bool(panel() is not None and panel().property("active"))

        # The relative's name: 拼音 "wang", then the first candidate of the bar.
        focus_field("fbRelativeName")
        for ch in "wang":
            key(ch)
        until(lambda: len(candidates()) > 0)
        cells = candidates()
        report["preedit"] = str(k.window.activeFocusItem().property("preeditText") or "")
        report["candidates"] = [text_in(c) for c in cells[:8]]
        report["candidateFonts"] = sorted({f for c in cells[:8] for f in fonts_in(c)})
        report["familyUsed"] = k.family
        from PySide6.QtGui import QFont

        report["arialSubstitutes"] = QFont.substitutes("Arial")  # (the 拼音 shots: --scenario elder, both modes)
        press(cells[0])
        until(lambda: driver.text_of(k.window, "fbRelativeName") != "")
        report["first"] = driver.text_of(k.window, "fbRelativeName")
        # Then "liuliu", 六 and 六 taken one by one: a phrase the 拼音 engine would learn into its user
        # dictionary (in clear, under XDG_CONFIG_HOME) were the field not ImhSensitiveData.
        for ch in "liuliu":
            key(ch)
        for _ in range(2):
            until(lambda: len(candidates()) > 0)
            cells = candidates()
            press(next((c for c in cells if text_in(c) == "六"), cells[0]))
            wait(100)
        report["name"] = driver.text_of(k.window, "fbRelativeName")

        # The phone: the digit layout (a dial pad), digits tapped.
        focus_field("fbRelativePhone")
        for ch in PHONE:
            key(ch)
        report["phone"] = driver.text_of(k.window, "fbRelativePhone")
        shot("staff-keyboard-digits")

        # The relative's ID number: digits and the X of the check digit.
        focus_field("fbRelativeId")
        for ch in SON:  # digits on the &123 page, the check digit's X on the letters page (ABC)
            labels = key_labels()
            if ch not in labels and ch.lower() not in labels:
                key("ABC" if "ABC" in labels else "&123")
                labels = key_labels()
            key(ch if ch in labels else ch.lower())
        report["relativeId"] = driver.text_of(k.window, "fbRelativeId")
        report["idHint"] = k.fallback.relativeIdHint
        report["ready"] = bool(k.fallback.ready)

        # Hide the keyboard with its own key: the page is whole again.
        hide = [it for it in panel_items() if it.isVisible() and it.metaObject().className().startswith("HideKeyboardKey")]
        report["hideKey"] = bool(hide)
        if hide:
            press(hide[0])
        until(lambda: not panel().property("active"))
        wait(100)
        report["afterHide"] = {"active": bool(panel().property("active")), "visible": panel().isVisible(),
                               "inset": k.keyboard.property("inset"), "pan": k.keyboard.property("pan")}
        driver.tap(k.window, "btnFallbackSubmit")
        until(lambda: k.flow.screen == "submitted")
        report["screen"] = k.flow.screen
        f = fallbacks.pending(store, SOON)
        if f is not None:
            r = fallbacks.relative_of(store, f.uuid)
            report["record"] = {"method": f.method, "operator": f.operator, "status": f.status,
                                "relative": [r.name, r.relation, r.id_number, r.phone] if r is not None else None}
    except Exception as e:  # noqa: BLE001 - the test shows what went wrong with the report so far
        import traceback

        report["error"] = "".join(traceback.format_exception(e))
    finally:
        Path(a.out).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        k.close()
        QCoreApplication.processEvents()
    return 0 if "error" not in report else 1


if __name__ == "__main__":
    sys.exit(main())
