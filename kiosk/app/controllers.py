"""The controllers of the app's certification flow, registered into the QML module `Kiosk`
(see kiosk.app.qml): App (elder mode, volume, voice, idle reset, demo info) and KioskFlow
(which screen, who is being served, what they chose, what the result means). The keypad is
IdEntry (kiosk.app.entry), 查询认证记录 is Records (kiosk.app.records), the face check is
FaceCheck (kiosk.app.check).

QML holds no logic: it shows these properties and calls these slots. Every rule comes from
the engine (kiosk.core.ids, kiosk.service, kiosk.policy); "who may certify now" is the
service's `eligibility` answer, shown as it is. The service is called on the UI thread (its
SQLite connection belongs to it), the face check runs in the FaceCheck worker thread.
"""
from __future__ import annotations

import logging
import time

from PySide6.QtCore import Property, QEvent, QObject, QTimer, Signal, Slot
from PySide6.QtQml import QmlNamedElement, QmlSingleton

from kiosk.app import qml
from kiosk.app.entry import group_id
from kiosk.policy import Category
from kiosk.core.ids import InvalidIdNumber, mask_id, parse_id_number
from kiosk.service import Helper, ServiceError
from kiosk.texts import (error_text, has, next_text, reason_text, text, voice_codes_for_error,
                         voice_codes_for_result)

QML_IMPORT_NAME = "Kiosk"
QML_IMPORT_MAJOR_VERSION = 1

log = logging.getLogger(__name__)

# Screens that hold nothing personal (the idle reset leaves them alone).
PUBLIC_SCREENS = {"home", "help"}
# "还需要时间吗？" is shown this long before the idle reset (at most half of idle_reset_s).
IDLE_WARNING_S = 15.0
# Leaving these screens for home ends a resident's session: volume and elder mode return to
# the kiosk's defaults (a resident who set the volume to 0 must not leave the kiosk silent).
SESSION_END_SCREENS = {"result", "records", "notice"}
# After the verdict the face screen finishes its sentence ("很好", "正在核对，请稍候") before the
# result is shown and said, at most this long (the result is recorded at once).
RESULT_AFTER_FACE_TALK_S = 8.0

RELATIONSHIPS = [(k, text(f"relationship_{k}")) for k in ("child", "spouse", "relative", "assistant")]
RELATIONSHIPS_ELDER = [(k, text(f"relationship_{k}")) for k in ("child", "spouse", "other")]
REL_LABELS = dict(RELATIONSHIPS + RELATIONSHIPS_ELDER)


@QmlNamedElement("App")
@QmlSingleton
class AppController(QObject):
    """Everything not about one resident: elder mode, volume, voice, idle reset, demo banner, font."""

    changed = Signal()
    idleReset = Signal()
    idleWarningChanged = Signal(bool)

    def __init__(self, settings, voice, *, demo_residents=None, demo_source: str = "", font_family: str = "",
                 keyboard: bool = False, parent=None):
        super().__init__(parent)
        self.settings = settings
        self.voice = voice
        self._keyboard = keyboard  # the on-screen keyboard is on (kiosk.app.keyboard.enabled)
        self._font_family = font_family or "Noto Sans CJK SC"
        self._elder = bool(getattr(settings, "elder_mode_default", False))
        self._volume = float(getattr(settings, "volume", 0.8))
        self.voice.set_volume(self._volume)
        self._demo_residents = [
            {"id": r.id_number, "idGrouped": group_id(r.id_number), "name": r.name, "note": r.note}
            for r in (demo_residents or [])]
        self._demo_source = demo_source
        # Idle: `idle` fires IDLE_WARNING_S before the reset; then, where the reset would forget
        # something (`idle_matters`, set by the flow), "还需要时间吗？" shows and is said while
        # `idle_final` counts down the rest. Any touch restarts both; at 0 the reset happens.
        reset_ms = max(2, int(settings.idle_reset_s * 1000))
        self._warn_ms = min(int(IDLE_WARNING_S * 1000), reset_ms // 2)
        self.idle = QTimer(self)
        self.idle.setSingleShot(True)
        self.idle.setInterval(reset_ms - self._warn_ms)
        self.idle.timeout.connect(self._on_idle_warn)
        self.idle_final = QTimer(self)
        self.idle_final.setSingleShot(True)
        self.idle_final.setInterval(self._warn_ms)
        self.idle_final.timeout.connect(self._on_idle_reset)
        self._tick = QTimer(self)  # the seconds left shown on the warning
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self.changed)
        self._idle_paused = False
        self._warning = False
        self._dismissing = False
        self.idle_matters = lambda: True  # the flow says whether the reset would clear anything

    # ------------------------------------------------------------------ idle reset
    @staticmethod
    def create(engine) -> QObject:
        return qml.instance("App")

    def eventFilter(self, obj, event) -> bool:  # installed on the application
        kind = event.type()
        if kind in (QEvent.MouseButtonPress, QEvent.TouchBegin, QEvent.KeyPress, QEvent.TouchUpdate):
            if self._warning and kind != QEvent.KeyPress:
                # The warning stays up until the finger is lifted, so the press lands on the
                # overlay and never on the button hidden under it; the countdown stops now.
                self.idle_final.stop()
                self.idle.start()  # (should the release never come, the warning comes round again)
                self._dismissing = True
            else:
                self.touch()
        elif kind in (QEvent.MouseButtonRelease, QEvent.TouchEnd) and self._dismissing:
            self._dismissing = False
            QTimer.singleShot(0, self.touch)
        return False

    @Slot()
    def touch(self) -> None:
        """Someone is there: the idle countdown starts again (and the warning goes)."""
        self.idle_final.stop()
        self._set_warning(False)
        if not self._idle_paused:
            self.idle.start()

    @Slot()
    def stillHere(self) -> None:
        """需要 on the idle warning."""
        self.touch()

    def pause_idle(self, paused: bool) -> None:
        """The face check has its own time limits; nobody touches the screen meanwhile."""
        self._idle_paused = paused
        self.idle_final.stop()
        self._set_warning(False)
        if paused:
            self.idle.stop()
        else:
            self.idle.start()

    def _set_warning(self, on: bool) -> None:
        if on == self._warning:
            return
        self._warning = on
        if on:
            self._tick.start()
        else:
            self._tick.stop()
        self.changed.emit()
        self.idleWarningChanged.emit(on)

    @Slot()
    def _on_idle_warn(self) -> None:
        self.idle_final.start()
        if self.idle_matters():  # on home/help the reset forgets nothing: no warning there
            self._set_warning(True)
            self.voice.play("screen_idle_warning", interrupt=True)

    @Slot()
    def _on_idle_reset(self) -> None:
        self._set_warning(False)
        self.idleReset.emit()
        self.restore_defaults()

    def _idle_left(self) -> int:
        """Whole seconds until the reset while the warning shows."""
        return max(0, -(-self.idle_final.remainingTime() // 1000)) if self._warning else 0

    def restore_defaults(self) -> None:
        """Volume and elder mode back to the kiosk's settings (idle reset, a session ended)."""
        elder = bool(getattr(self.settings, "elder_mode_default", False))
        volume = float(getattr(self.settings, "volume", 0.8))
        if (elder, volume) == (self._elder, self._volume):
            return
        log.info("volume and elder mode back to the defaults (%.1f, %s)", volume, elder)
        self._elder, self._volume = elder, volume
        self.voice.set_volume(volume)
        self.changed.emit()

    # ------------------------------------------------------------------ slots
    @Slot()
    def toggleElder(self) -> None:
        self._elder = not self._elder
        self.changed.emit()

    @Slot(bool)
    def setElder(self, on: bool) -> None:
        if on != self._elder:
            self._elder = on
            self.changed.emit()

    @Slot()
    def replay(self) -> None:
        self.voice.replay()

    @Slot(str, result=str)
    def t(self, code: str) -> str:
        """A catalogue text for QML (QML holds no words of its own): App.t("ui_replay")."""
        return text(code)

    @Slot(str, "QVariantMap", result=str)
    def tf(self, code: str, data) -> str:
        """A catalogue text filled with data: App.tf("ui_attempts_left", {n: 2})."""
        def plain(v):  # a JavaScript number is a double: 80.0 is written 80
            return int(v) if isinstance(v, float) and v.is_integer() else v

        return text(code, **{str(k): plain(v) for k, v in dict(data or {}).items()})

    @Slot(float)
    def setVolume(self, v: float) -> None:
        self._volume = max(0.0, min(1.0, v))
        self.voice.set_volume(self._volume)
        self.changed.emit()

    @Slot()
    def volumeUp(self) -> None:
        self.setVolume(round(self._volume + 0.2, 2))

    @Slot()
    def volumeDown(self) -> None:
        self.setVolume(round(self._volume - 0.2, 2))

    elderMode = Property(bool, lambda s: s._elder, notify=changed)
    volume = Property(float, lambda s: s._volume, notify=changed)
    demo = Property(bool, lambda s: bool(s._demo_residents), notify=changed)
    demoResidents = Property("QVariantList", lambda s: s._demo_residents, notify=changed)
    demoSource = Property(str, lambda s: s._demo_source, notify=changed)
    audioAvailable = Property(bool, lambda s: s.voice.available, notify=changed)
    fontFamily = Property(str, lambda s: s._font_family, constant=True)
    keyboard = Property(bool, lambda s: s._keyboard, constant=True)  # ui/KeyboardPanel.qml is loaded
    idleWarning = Property(bool, lambda s: s._warning, notify=changed)
    idleSecondsLeft = Property(int, lambda s: s._idle_left(), notify=changed)


@QmlNamedElement("KioskFlow")
@QmlSingleton
class FlowController(QObject):
    """The resident's way through the screens: who is served, what they chose, what it means."""

    changed = Signal()
    recorded = Signal()  # an attempt was written (the county sync may send it now)

    def __init__(self, service, check, app: AppController, entry, records, *, actions: list[str] | None = None,
                 clock=None, sync_status=None, parent=None):
        super().__init__(parent)
        self.service = service
        self.check = check
        self.app = app
        self.entry = entry
        self.records = records
        self.actions = actions
        self.clock = clock or service.clock  # the service area's clock (kiosk.core.clock)
        self.sync_status = sync_status
        self.attempt = None
        self._discard_result = False
        check.finished.connect(self._on_check_finished)
        check.sourceFailed.connect(self._on_source_failed)
        check.speak.connect(self._speak)
        over = getattr(app.voice, "over", None)  # the check waits for what it says to be heard
        if over is not None:
            over.connect(check._heard)
            check.voice_gated = True
        entry.submitted.connect(self._on_submitted)
        entry.changed.connect(self.changed)  # hasPersonalData
        records.certifyRequested.connect(self.certifyFromRecord)
        app.idleReset.connect(self.idleReset)
        app.idle_matters = self._idle_matters  # no "还需要时间吗？" where the reset forgets nothing
        app.changed.connect(self.changed)  # the relationship list depends on elder mode
        self._source_error: tuple[str, str] | None = None
        self.paused = lambda: False  # KioskState.paused (kiosk.app.admin): 本机暂停服务, nobody may start
        self._clear()
        app.voice.enter("home", self._intro("home"), speak=False)  # 再听一遍 works from the first screen

    @staticmethod
    def create(engine) -> QObject:
        return qml.instance("KioskFlow")

    # ------------------------------------------------------------------ state
    def _clear(self) -> None:
        """Forget the resident: everything typed, looked up, chosen and shown."""
        self._screen = "home"
        self._purpose = ""
        self._view = None
        self._helper_rel = ""
        self._helper_id = ""
        self._category = ""
        self._category_hint = ""
        self._result = {}
        self._notice = {}
        self._staff = {}
        self._operator: str | None = None  # a staff member certifying this resident (上门认证)
        self.attempt = None
        self._source_error = None
        self._result_due = None
        self.entry.forget()
        self.records.forget()

    def _go(self, screen: str, voice: str | list[str] | None = None) -> None:
        """Show `screen`; what the last screen was saying ends and `voice` (its intro) is said.
        Without `voice` nothing is said, but 再听一遍 still knows the screen's own instruction."""
        self._screen = screen
        self.changed.emit()
        intro = [voice] if isinstance(voice, str) else list(voice or [])
        self.app.voice.enter(screen, intro or self._intro(screen), speak=bool(intro))

    def show(self, screen: str, voice: str | list[str] | None = None) -> None:
        """For the other controllers (staff, visits, admin…): the one way to change the screen
        (a key of `screens` in ui/Main.qml), so the voice and idle rules stay in one place."""
        self._go(screen, voice)

    def _intro(self, screen: str) -> list[str]:
        if screen == "home" and self.paused():
            return ["screen_home_paused"]
        if screen == "identity" and self.entry.target == "helper":
            return ["screen_helper_id"]
        for code in (f"screen_{screen}_{self._purpose}", f"screen_{screen}"):
            if has(code):
                return [code]
        return []

    @Slot(str)
    def _speak(self, code: str) -> None:
        self.app.voice.play(code)

    # ------------------------------------------------------------------ home
    @Slot(str)
    def start(self, purpose: str) -> None:
        """purpose: self (本人认证), proxy (代他人认证), query (查询认证记录)."""
        if self.paused():  # the home screen shows 本机暂停服务 instead of the buttons
            return self.home()
        self._clear()
        self._purpose = purpose
        self.entry.reset("resident", purpose=purpose)
        self._go("identity", f"screen_identity_{purpose}")

    @Slot()
    def home(self) -> None:
        ended = self._screen in SESSION_END_SCREENS  # the resident's session is over
        self._discard_result = True
        self.check.clear()
        self._discard_result = False
        self._clear()
        self.app.pause_idle(False)
        if ended:
            self.app.restore_defaults()
        self._go("home")

    def _idle_matters(self) -> bool:
        return self._screen not in PUBLIC_SCREENS or self.check.running

    @Slot()
    def idleReset(self) -> None:
        if not self._idle_matters():
            return
        log.info("idle reset on %s: personal data cleared", self._screen)
        self.home()

    @Slot()
    def help(self) -> None:
        self._clear()
        self._go("help", "screen_help")

    @Slot()
    def staff(self) -> None:
        self._clear()
        self._staff = self._read_staff()
        self._go("staff")

    def _read_staff(self) -> dict:
        store = self.service.store
        out = {"pending": len(store.pending_outbox(limit=100000)), "lastSuccess": "", "lastError": "",
               "rejected": 0, "registered": False,
               "device": self.service.device_id, "residents": len(store.list_residents())}
        status = self.sync_status
        if status is None:
            try:
                from kiosk import sync  # provided by the county sync work; optional

                status = getattr(sync, "status", None)
            except ImportError:
                status = None
        if status is not None:
            try:
                s = status(store)
                out["pending"] = int(s.get("pending", out["pending"]))
                out["rejected"] = int(s.get("rejected") or 0)
                out["registered"] = bool(s.get("registered"))
                out["lastSuccess"] = str(s.get("last_success") or "")
                out["lastError"] = str(s.get("last_error") or "")
            except Exception as e:  # noqa: BLE001 - a read-only page must not fail
                out["lastError"] = str(e)
        return out

    # ------------------------------------------------------------------ the typed number
    @Slot(str, str)
    def _on_submitted(self, target: str, typed: str) -> None:
        if target not in ("resident", "helper"):
            return  # another controller's number (e.g. Fallback's)
        if target == "helper":
            return self._submit_helper_id(typed)
        try:
            view = self.service.lookup(typed)
        except ServiceError as e:
            self.entry.set_hint(e.message, True)
            for code in voice_codes_for_error(e.code) or ["error_bad_id_number"]:
                self._speak(code)
            return
        self._view = view
        self.entry.reset("resident")  # the full number is kept only in the looked-up view
        if self._purpose == "query":
            return self._show_records()
        self._go("confirm", f"screen_confirm_{self._purpose}")

    def _show_records(self) -> None:
        self.records.show(self._view)
        code = f"status_{self._view.status.kind}"
        self._go("records", code if has(code) else None)

    def _submit_helper_id(self, typed: str) -> None:
        if not typed:
            return self.skipHelperId()
        try:
            parse_id_number(typed, self.clock.today())
        except InvalidIdNumber as e:
            self.entry.set_hint(e.message, True)
            self._speak("error_bad_id_number")
            return
        self._helper_id = typed
        self.entry.reset("resident")
        self._to_category()

    # ------------------------------------------------------------------ who
    @Slot()
    def confirmPerson(self) -> None:
        if self._view is None:
            return self.home()
        e = self.service.eligibility(self._view.id_number, self._purpose, view=self._view)
        if not e.may_certify:
            return self._show_eligibility(e)
        if self._purpose == "proxy":
            self._go("helper", "screen_helper")
        else:
            self._to_category()

    @Slot()
    def notThisPerson(self) -> None:
        self._view = None
        self.entry.reset("resident", text("hint_reenter"))
        self._go("identity", f"screen_identity_{self._purpose}")

    @Slot(str)
    def chooseRelationship(self, key: str) -> None:
        self._helper_rel = REL_LABELS.get(key, key)
        self.entry.reset("helper")
        self._go("identity", "screen_helper_id")

    @Slot()
    def skipHelperId(self) -> None:
        self._helper_id = ""
        self.entry.reset("resident")
        self._to_category()

    def _to_category(self) -> None:
        self.entry.reset("resident")
        cats = self._view.categories
        self._category = cats[0].value if len(cats) == 1 else ""
        self._category_hint = ""
        self._go("category", "screen_category")

    @Slot(str)
    def chooseCategory(self, value: str) -> None:
        self._category = value
        self._category_hint = ""
        self.changed.emit()

    @Slot()
    def categoryNext(self) -> None:
        if not self._category:
            self._category_hint = text("hint_choose_category")
            self.changed.emit()
            return
        self._go("consent", "screen_consent")

    # ------------------------------------------------------------------ face check
    @Slot()
    def agree(self) -> None:
        self._begin_check()

    @Slot()
    def decline(self) -> None:
        self._show_notice("declined", text("title_declined"), text("error_declined"))

    def _begin_check(self) -> None:
        helper = (Helper(self._helper_rel or text("relationship_unknown"), self._helper_id or None)
                  if self._purpose == "proxy" else None)
        e = self.service.eligibility(self._view.id_number, self._purpose, self._category or None)
        if not e.may_certify:  # e.g. the last try of the day was used on another screen meanwhile
            return self._show_eligibility(e)
        try:
            self.attempt = self.service.begin(self._view.id_number, self._category or None, helper=helper,
                                              operator=self._operator, actions=self.actions)
        except ServiceError as err:
            return self._show_notice(err.code, text("title_refused"), error_text(err.code, **err.data))
        self._result = {}
        self._source_error = None
        self.app.pause_idle(True)
        self._go("face", "screen_proxy_face" if self._purpose == "proxy" else None)
        self.check.start(self.attempt.session)

    @Slot()
    def cancelCheck(self) -> None:
        """取消 on the face screen: stop, say so, offer to retry."""
        self.check.stop("cancelled")

    @Slot(str, str)
    def _on_source_failed(self, code: str, message: str) -> None:
        self._source_error = (code, message)

    @Slot()
    def _on_check_finished(self) -> None:
        attempt = self.attempt
        if attempt is None or attempt.session.state != "done":
            return
        try:
            outcome = self.service.record(attempt)
        except Exception as e:
            log.exception("could not record the attempt")
            outcome = None
            err = getattr(e, "message", text("error_store_error"))
        self.attempt = None
        self.app.pause_idle(False)
        if outcome is not None and outcome.attempt_uuid:
            self.recorded.emit()
        if self._discard_result:
            return
        if outcome is None:
            return self._show_notice("store_error", text("title_store_error"), err)
        v = attempt.session.verdict
        reason = v.reason
        failed_action = v.action or next((s["action"] for s in v.steps if not s["passed"]), None)
        message = reason_text(reason, failed_action)  # what happened; "next" says what to do
        if self._source_error is not None:
            reason = self._source_error[0]
            message = self._source_error[1] if self._source_error[1] else reason_text(reason)
        ok = outcome.verdict == "pass"
        if ok:  # the title and the valid-until line already say it; only the back-pay news is left
            message = text("record_back_pay") if outcome.back_pay else ""
        elif reason == "cancelled":
            message = ""  # the title says it
        self._result = {
            "ok": ok,
            "reason": reason,
            "title": text("title_ok") if ok else text("title_cancelled" if reason == "cancelled" else "title_fail"),
            "message": message,
            "next": next_text(reason),
            "validUntil": outcome.valid_until_text,
            "attemptsLeft": outcome.attempts_left,
            "canRetry": (not ok) and outcome.attempts_left > 0 and reason not in ("no_template",),
            "receipt": outcome.attempt_uuid if ok else "",  # the record a receipt is for (kiosk/app/receipt.py)
        }
        codes = voice_codes_for_result(reason, failed_action)
        if reason == "cancelled":  # 取消 was pressed: at once
            return self._go("result", codes)
        self._after_face_talk(lambda: self._go("result", codes))

    def _after_face_talk(self, show) -> None:
        """`show` once the face screen has finished its sentence (prompt, 很好, state line)."""
        q = getattr(self.app.voice, "queue", None)
        due = self._result_due = (time.monotonic() + RESULT_AFTER_FACE_TALK_S, show)

        def poll() -> None:
            if self._result_due is not due or self._screen != "face":
                return  # gone home (idle reset) or retried meanwhile
            talk = ([q.playing] if q is not None and q.playing else []) + list(q.pending if q is not None else [])
            if any(i.kind in ("prompt", "progress", "state") for i in talk) and time.monotonic() < due[0]:
                QTimer.singleShot(100, poll)
                return
            self._result_due = None
            show()

        poll()

    @Slot()
    def retry(self) -> None:
        if self._view is None:
            return self.home()
        self._begin_check()

    def _show_eligibility(self, e) -> None:
        """The service's answer when the resident may not start a check now (codes; words from kiosk.texts)."""
        err = self.service.refusal(e)  # the same code `begin` would refuse with
        title = f"title_{e.code}" if has(f"title_{e.code}") else f"title_{err.code}"
        self._notice = {"code": e.code, "nextStep": e.next_step_code, "offerRecords": e.next_step_code == "records",
                        "title": text(title) if has(title) else text("title_refused"),
                        "message": error_text(err.code, **err.data),
                        "next": next_text(err.code) if has(f"next_{err.code}") else text("next_help")}
        self._go("notice", voice_codes_for_error(err.code))

    def _show_notice(self, code: str, title: str, message: str) -> None:
        self._notice = {"code": code, "title": title, "message": message, "nextStep": "", "offerRecords": False,
                        "next": next_text(code) if has(f"next_{code}") else text("next_help")}
        self._go("notice", voice_codes_for_error(code))

    @Slot()
    def showRecords(self) -> None:
        """查看认证记录 on the notice screen (already certified, 大数据比对)."""
        if self._view is None:
            return self.home()
        self._show_records()

    # ------------------------------------------------------------------ properties
    def _categories(self) -> list:
        if self._view is None:
            return []
        return [{"value": c.value, "label": c.label} for c in self._view.categories]

    def _relationships(self) -> list:
        rels = RELATIONSHIPS_ELDER if self.app.elderMode else RELATIONSHIPS
        return [{"key": k, "label": v} for k, v in rels]

    def certify_for(self, id_number: str, purpose: str, operator: str) -> None:
        """A staff member certifies this resident (上门认证: Visits): the usual way from 核对姓名
        (confirm → helper → category → consent → face), the operator recorded with the attempt."""
        self._clear()
        try:
            view = self.service.lookup(id_number)
        except ServiceError as e:
            return self._show_notice(e.code, text("title_refused"), e.message)
        self._purpose = purpose
        self.entry.purpose = purpose
        self._view = view
        self._operator = operator
        self._go("confirm", f"screen_confirm_{purpose}")

    @Slot()
    def certifyFromRecord(self) -> None:
        """From 查询认证记录 straight to 本人认证 for the same person."""
        if self._view is None:
            return self.home()
        self._purpose = "self"
        self.entry.purpose = "self"
        self._go("confirm", "screen_confirm_self")

    @Slot()
    def back(self) -> None:
        prev = {"identity": "home", "confirm": "identity", "helper": "confirm", "category": "confirm",
                "consent": "category", "records": "identity"}.get(self._screen, "home")
        if self._screen == "identity" and self.entry.target == "helper":
            self.entry.reset("resident")
            prev = "helper"
        if prev == "home":
            return self.home()
        if prev == "identity":
            self._view = None
            self.records.forget()
            self.entry.reset("resident")
        self._go(prev, None)

    screen = Property(str, lambda s: s._screen, notify=changed)
    purpose = Property(str, lambda s: s._purpose, notify=changed)
    maskedName = Property(str, lambda s: s._view.masked_name if s._view else "", notify=changed)
    maskedId = Property(str, lambda s: s._view.masked_id if s._view else "", notify=changed)
    helperRelationship = Property(str, lambda s: s._helper_rel, notify=changed)
    helperIdMasked = Property(str, lambda s: mask_id(s._helper_id) if s._helper_id else "", notify=changed)
    categories = Property("QVariantList", _categories, notify=changed)
    category = Property(str, lambda s: s._category, notify=changed)
    categoryHint = Property(str, lambda s: s._category_hint, notify=changed)
    categoryLabel = Property(str, lambda s: Category.parse(s._category).label if s._category else "", notify=changed)
    relationships = Property("QVariantList", _relationships, notify=changed)
    result = Property("QVariantMap", lambda s: s._result, notify=changed)
    notice = Property("QVariantMap", lambda s: s._notice, notify=changed)
    staffInfo = Property("QVariantMap", lambda s: s._staff, notify=changed)
    hasPersonalData = Property(bool, lambda s: s._view is not None or bool(s.entry.typed) or bool(s._result),
                               notify=changed)


__all__ = ["AppController", "FlowController", "group_id"]
