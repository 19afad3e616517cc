"""`kiosk --demo --autopilot --screenshots DIR`: the whole flow by itself, one PNG per screen.

It taps the real controls by objectName (as a person would), waits for the virtual
camera to finish each check, and saves QQuickWindow.grabWindow() after each screen has
settled. Covers 本人认证 (success), 代他人认证 (with helper ID), a resident without a
template, a cancelled check, 查询认证记录, elder mode on and off. Exits 0 when every
step did what it should, 1 otherwise (the failing step is logged).
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QGuiApplication

from kiosk.app import driver

log = logging.getLogger(__name__)

CHECK_TIMEOUT_S = 180.0


class StepFailed(Exception):
    pass


class Autopilot(QObject):
    def __init__(self, kiosk, shots: Path | None):
        super().__init__()
        self.k = kiosk
        self.dir = shots
        self.exit_code = 1
        self.saved: list[Path] = []
        self._n = 0
        self._gen = None
        if shots:
            shots.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ engine
    def start(self) -> None:
        self._gen = self.script()
        QTimer.singleShot(800, self._step)

    def _finish(self, code: int) -> None:
        self.exit_code = code
        QGuiApplication.instance().exit(code)

    def _step(self) -> None:
        try:
            cmd = next(self._gen)
        except StopIteration:
            log.info("autopilot: done, %d screenshots", len(self.saved))
            return self._finish(0)
        except Exception:
            log.exception("autopilot step failed")
            return self._finish(1)
        kind, arg = cmd
        if kind == "sleep":
            QTimer.singleShot(int(arg * 1000), self._step)
        elif kind == "until":
            cond, deadline, what = arg
            self._poll(cond, deadline, what)

    def _poll(self, cond, deadline, what) -> None:
        if cond():
            QTimer.singleShot(0, self._step)
        elif time.monotonic() > deadline:
            log.error("autopilot: timed out waiting for %s (screen %s)", what, self.k.flow.screen)
            self._finish(1)
        else:
            QTimer.singleShot(100, lambda: self._poll(cond, deadline, what))

    # ------------------------------------------------------------------ helpers (generators)
    def settle(self):
        yield ("sleep", self.k.app.elderMode and 0.9 or 0.6)

    def until(self, cond, what: str, timeout: float = 20.0):
        yield ("until", (cond, time.monotonic() + timeout, what))

    def screen(self, name: str, timeout: float = 20.0):
        yield from self.until(lambda: self.k.flow.screen == name, f"screen {name}", timeout)
        yield from self.settle()

    def shot(self, name: str):
        yield from self.settle()
        self._n += 1
        if self.dir is None:
            return
        img = self.k.window.grabWindow()
        path = self.dir / f"{self._n:02d}_{name}.png"
        if not img.save(str(path)):
            raise StepFailed(f"could not save {path}")
        self.saved.append(path)
        log.info("autopilot: %s", path)

    def tap(self, name: str):
        driver.tap(self.k.window, name)
        yield ("sleep", 0.15)

    def type_id(self, digits: str):
        for ch in digits:
            driver.tap(self.k.window, f"key_{ch}")
            yield ("sleep", 0.04)

    def expect(self, cond: bool, what: str):
        if not cond:
            raise StepFailed(what)

    # ------------------------------------------------------------------ the flow
    def script(self):
        k = self.k
        residents = {r["name"]: r["id"] for r in k.app.demoResidents}
        wang, liu, li, zhao = residents["王秀英"], residents["刘玉珍"], residents["李建国"], residents["赵德福"]

        # A resident certifies once a cycle (the service's eligibility answer), so the checks that
        # do not pass come first: the demo resident 王秀英 is certified only in step 3.

        # 1. 代他人认证 with the helper's own ID, cancelled at the face check (no try used).
        yield from self.screen("home")
        yield from self.shot("home")
        yield from self.tap("btnProxy")
        yield from self.screen("identity")
        yield from self.type_id(wang)
        yield from self.tap("btnSubmit")
        yield from self.screen("confirm")
        yield from self.shot("proxy_confirm")
        yield from self.tap("btnConfirmYes")
        yield from self.screen("helper")
        yield from self.shot("proxy_helper")
        yield from self.tap("rel_child")
        yield from self.screen("identity")
        yield from self.type_id(li)
        yield from self.shot("proxy_helper_id")
        yield from self.tap("btnSubmit")
        yield from self.screen("category")
        yield from self.tap("btnCategoryNext")
        yield from self.screen("consent")
        yield from self.shot("proxy_consent")
        yield from self.tap("btnAgree")
        yield from self.screen("face")
        yield from self.until(lambda: k.check.action != "", "the first action prompt", 60)
        yield from self.shot("proxy_face")
        yield from self.tap("btnCancelCheck")
        yield from self.screen("result", 30)
        yield from self.shot("proxy_result_cancelled")
        self.expect(k.flow.result.get("reason") == "cancelled", f"expected cancelled: {k.flow.result}")
        yield from self.tap("btnResultHome")

        # 2. Elder mode on: a resident with no template, a cancelled check.
        yield from self.screen("home")
        yield from self.tap("btnElder")
        yield from self.settle()
        self.expect(k.app.elderMode, "elder mode should be on")
        yield from self.shot("elder_home")
        yield from self.tap("btnSelf")
        yield from self.screen("identity")
        yield from self.type_id(liu)
        yield from self.shot("elder_identity")
        yield from self.tap("btnSubmit")
        yield from self.screen("confirm")
        yield from self.shot("elder_confirm")
        yield from self.tap("btnConfirmYes")
        yield from self.screen("notice")
        yield from self.shot("elder_no_template")
        self.expect(k.flow.notice.get("code") == "no_template", f"expected no_template: {k.flow.notice}")
        yield from self.tap("btnNoticeHome")

        yield from self.screen("home")
        yield from self.tap("btnSelf")
        yield from self.screen("identity")
        yield from self.type_id(wang)
        yield from self.tap("btnSubmit")
        yield from self.screen("confirm")
        yield from self.tap("btnConfirmYes")
        yield from self.screen("category")
        yield from self.shot("elder_category")
        yield from self.tap("btnCategoryNext")
        yield from self.screen("consent")
        yield from self.shot("elder_consent")
        yield from self.tap("btnAgree")
        yield from self.screen("face")
        yield from self.until(lambda: k.check.action != "", "the first action prompt", 60)
        yield from self.shot("elder_face")
        yield from self.tap("btnCancelCheck")
        yield from self.screen("result", 30)
        yield from self.shot("elder_result_cancelled")
        yield from self.tap("btnResultHome")
        yield from self.screen("home")
        yield from self.settle()  # the session ended: elder mode back to the kiosk's default (off)
        self.expect(not k.app.elderMode, "elder mode should be off")

        # 3. 本人认证, success.
        yield from self.screen("home")
        yield from self.tap("btnSelf")
        yield from self.screen("identity")
        yield from self.type_id(wang[:10])
        yield from self.shot("identity_typing")
        bad_last = "0" if wang[-1] != "0" else "1"
        yield from self.type_id(wang[10:17] + bad_last)
        yield from self.shot("identity_check_digit_wrong")
        self.expect(k.entry.hintError, "a wrong check digit must be flagged")
        yield from self.tap("key_del")
        yield from self.type_id(wang[-1])
        self.expect(k.entry.entryComplete, "the right number must be accepted")
        yield from self.tap("btnSubmit")
        yield from self.screen("confirm")
        yield from self.shot("confirm_name")
        yield from self.tap("btnConfirmYes")
        yield from self.screen("category")
        yield from self.shot("category_preselected")
        yield from self.tap("btnCategoryNext")
        yield from self.screen("consent")
        yield from self.shot("consent")
        yield from self.tap("btnAgree")
        yield from self.screen("face")
        yield from self.until(lambda: k.check.action != "", "the first action prompt", 60)
        yield ("sleep", 0.5)
        yield from self.shot("face_action")
        yield from self.screen("result", CHECK_TIMEOUT_S)
        yield from self.shot("result_success" if k.flow.result.get("ok") else "result_failed")
        self.expect(k.flow.result.get("ok") is True, f"demo resident should pass: {k.flow.result}")
        yield from self.tap("btnResultHome")

        # 3b. Certified this cycle: told so and offered the records, no second check.
        yield from self.screen("home")
        yield from self.tap("btnSelf")
        yield from self.screen("identity")
        yield from self.type_id(wang)
        yield from self.tap("btnSubmit")
        yield from self.screen("confirm")
        yield from self.tap("btnConfirmYes")
        yield from self.screen("notice")
        yield from self.shot("already_certified")
        self.expect(k.flow.notice.get("code") == "already_certified", f"expected already_certified: {k.flow.notice}")
        yield from self.tap("btnNoticeRecords")
        yield from self.screen("records")
        yield from self.shot("records_certified")
        yield from self.tap("btnRecordsHome")

        # 4. Queries for the other kinds of status, help, staff page.
        yield from self.screen("home")
        for name, rid in (("data_comparison", li), ("due", liu), ("certified_earlier", zhao)):
            yield from self.tap("btnQuery")
            yield from self.screen("identity")
            yield from self.type_id(rid)
            yield from self.tap("btnSubmit")
            yield from self.screen("records")
            yield from self.shot(f"records_{name}")
            yield from self.tap("btnRecordsHome")
            yield from self.screen("home")
        yield from self.tap("btnHelp")
        yield from self.screen("help")
        yield from self.shot("help")
        k.staff.open()  # the long press on the title: the PIN pad, then the demo admin's menu
        yield from self.screen("staffLogin")
        yield from self.shot("staff_login")
        from kiosk.app.demo import DEMO_OPERATORS

        name, pin, _ = DEMO_OPERATORS[0]
        yield from self.tap(f"op_{[o['name'] for o in k.staff.operatorList].index(name)}")
        for d in pin:
            yield from self.tap(f"pin_{d}")
        yield from self.tap("btnStaffLogin")
        yield from self.screen("staff")
        yield from self.shot("staff")
        yield from self.tap("btnStaffLogout")
        yield from self.screen("home")
