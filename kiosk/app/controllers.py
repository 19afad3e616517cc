"""The controllers of the app's certification flow, registered into the QML module `Kiosk`
(see kiosk.app.qml): App (elder mode, volume, voice, idle reset, demo info) and KioskFlow
(which screen, who is being served, what they chose, what the result means). The keypad is
IdEntry (kiosk.app.entry), 查询认证记录 is Records (kiosk.app.records), the face check is
FaceCheck (kiosk.app.check).

QML holds no logic: it shows these properties and calls these slots. Every rule comes from
the engine (kiosk.residents, kiosk.service, kiosk.policy); "who may certify now" is the
service's `eligibility` answer, shown as it is. The service is called on the UI thread (its
SQLite connection belongs to it), the face check runs in the FaceCheck worker thread.
"""
from __future__ import annotations

import logging
from datetime import date

from PySide6.QtCore import Property, QEvent, QObject, QTimer, Signal, Slot
from PySide6.QtQml import QmlNamedElement, QmlSingleton

from kiosk.app import qml
from kiosk.app.entry import group_id
from kiosk.app.texts import ERRORS, STATUS, voice_code_for_result
from kiosk.policy import MSG_BACK_PAY, Category
from kiosk.residents import InvalidIdNumber, mask_id, parse_id_number
from kiosk.service import Helper, ServiceError

QML_IMPORT_NAME = "Kiosk"
QML_IMPORT_MAJOR_VERSION = 1

log = logging.getLogger(__name__)

# Screens that hold nothing personal (the idle reset leaves them alone).
PUBLIC_SCREENS = {"home", "help"}

RELATIONSHIPS = [("child", "子女"), ("spouse", "配偶"), ("relative", "其他亲属"), ("assistant", "村协理员/工作人员")]
RELATIONSHIPS_ELDER = [("child", "子女"), ("spouse", "配偶"), ("other", "其他亲友或协理员")]
REL_LABELS = dict(RELATIONSHIPS + RELATIONSHIPS_ELDER)

NEXT_STEPS = {
    "ok": "认证结果已保存在本机，会自动报送县社保局。",
    "timeout": "可以按“再试一次”；仍不成功，请找工作人员办理线下辅助认证。",
    "no_match": "请确认身份证号码无误后再试一次；仍不成功，请到经办机构核实或重新建模。",
    "no_template": "请前往经办机构建模（拍模板照片），或请工作人员协助办理线下辅助认证。",
    "attempts_exceeded": "请明天再来，或请工作人员协助办理线下辅助认证。",
    "camera_lost": "请工作人员检查摄像头后，按“再试一次”。",
    "no_camera": "请工作人员检查摄像头，或办理线下辅助认证。",
    "face_changed": "请让被认证人本人从头完成认证。",
    "multiple_faces": "请只让被认证人留在镜头前，再试一次。",
}
DEFAULT_NEXT = "可以按“再试一次”；多次不成功，请找工作人员办理线下辅助认证。"

# The service's eligibility answer on the notice screen: title by code, next step by next-step code.
NOTICE_TITLES = {"data_comparison": "无需认证", "already_certified": "本周期已认证", "deceased": "无法认证"}
ELIGIBILITY_NEXT = {
    "records": "可以按“查看认证记录”看有效期，不用再刷脸。",
    "enrol_at_office": NEXT_STEPS["no_template"],
    "come_tomorrow_or_assisted": NEXT_STEPS["attempts_exceeded"],
    "verify_at_township": "如信息有误，请携带身份证到乡镇社保所核实。",
    "ask_staff": "如需帮助，请找村协理员或工作人员。",
}
# Spoken on the notice screen, by eligibility code.
NOTICE_VOICE = {"already_certified": "error_not_required", "data_comparison": "status_data_comparison",
                "deceased": "error_deceased", "attempts_exceeded": "error_attempts_exceeded",
                "no_template": "error_no_template"}


@QmlNamedElement("App")
@QmlSingleton
class AppController(QObject):
    """Everything not about one resident: elder mode, volume, voice, idle reset, demo banner, font."""

    changed = Signal()
    idleReset = Signal()

    def __init__(self, settings, voice, *, demo_residents=None, demo_source: str = "", font_family: str = "",
                 parent=None):
        super().__init__(parent)
        self.settings = settings
        self.voice = voice
        self._font_family = font_family or "Noto Sans CJK SC"
        self._elder = bool(getattr(settings, "elder_mode_default", False))
        self._volume = float(getattr(settings, "volume", 0.8))
        self.voice.set_volume(self._volume)
        self._demo_residents = [
            {"id": r.id_number, "idGrouped": group_id(r.id_number), "name": r.name, "note": r.note}
            for r in (demo_residents or [])]
        self._demo_source = demo_source
        self.idle = QTimer(self)
        self.idle.setSingleShot(True)
        self.idle.setInterval(max(1, int(settings.idle_reset_s * 1000)))
        self.idle.timeout.connect(self.idleReset)
        self._idle_paused = False

    # ------------------------------------------------------------------ idle reset
    @staticmethod
    def create(engine) -> QObject:
        return qml.instance("App")

    def eventFilter(self, obj, event) -> bool:  # installed on the application
        if event.type() in (QEvent.MouseButtonPress, QEvent.TouchBegin, QEvent.KeyPress, QEvent.TouchUpdate):
            self.touch()
        return False

    @Slot()
    def touch(self) -> None:
        if not self._idle_paused:
            self.idle.start()

    def pause_idle(self, paused: bool) -> None:
        """The face check has its own time limits; nobody touches the screen meanwhile."""
        self._idle_paused = paused
        if paused:
            self.idle.stop()
        else:
            self.idle.start()

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


@QmlNamedElement("KioskFlow")
@QmlSingleton
class FlowController(QObject):
    """The resident's way through the screens: who is served, what they chose, what it means."""

    changed = Signal()
    recorded = Signal()  # an attempt was written (the county sync may send it now)

    def __init__(self, service, check, app: AppController, entry, records, *, actions: list[str] | None = None,
                 today=date.today, sync_status=None, parent=None):
        super().__init__(parent)
        self.service = service
        self.check = check
        self.app = app
        self.entry = entry
        self.records = records
        self.actions = actions
        self.today = today
        self.sync_status = sync_status
        self.attempt = None
        self._discard_result = False
        check.finished.connect(self._on_check_finished)
        check.sourceFailed.connect(self._on_source_failed)
        check.speak.connect(self._speak)
        entry.submitted.connect(self._on_submitted)
        entry.changed.connect(self.changed)  # hasPersonalData
        records.certifyRequested.connect(self.certifyFromRecord)
        app.idleReset.connect(self.idleReset)
        app.changed.connect(self.changed)  # the relationship list depends on elder mode
        self._source_error: tuple[str, str] | None = None
        self._clear()

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
        self.attempt = None
        self._source_error = None
        self.entry.forget()
        self.records.forget()

    def _go(self, screen: str, voice: str | None = None) -> None:
        self._screen = screen
        self.changed.emit()
        if voice:
            self._speak(voice)

    @Slot(str)
    def _speak(self, code: str) -> None:
        self.app.voice.play(code)

    # ------------------------------------------------------------------ home
    @Slot(str)
    def start(self, purpose: str) -> None:
        """purpose: self (本人认证), proxy (代他人认证), query (查询认证记录)."""
        self._clear()
        self._purpose = purpose
        self.entry.reset("resident", purpose=purpose)
        self._go("identity", f"screen_identity_{purpose}")

    @Slot()
    def home(self) -> None:
        self._discard_result = True
        self.check.clear()
        self._discard_result = False
        self._clear()
        self.app.pause_idle(False)
        self._go("home")

    @Slot()
    def idleReset(self) -> None:
        if self._screen in PUBLIC_SCREENS and not self.check.running:
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
        if target == "helper":
            return self._submit_helper_id(typed)
        try:
            view = self.service.lookup(typed)
        except ServiceError as e:
            self.entry.set_hint(e.message, True)
            self._speak(f"error_{e.code}" if f"error_{e.code}" in ERRORS else "error_bad_id_number")
            return
        self._view = view
        self.entry.reset("resident")  # the full number is kept only in the looked-up view
        if self._purpose == "query":
            return self._show_records()
        self._go("confirm", f"screen_confirm_{self._purpose}")

    def _show_records(self) -> None:
        self.records.show(self._view)
        code = f"status_{self._view.status.kind}"
        self._go("records", code if code in STATUS else None)

    def _submit_helper_id(self, typed: str) -> None:
        if not typed:
            return self.skipHelperId()
        try:
            parse_id_number(typed, self.today())
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
        self.entry.reset("resident", "请重新输入身份证号码。")
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
            self._category_hint = "请先选择一个认证类别。"
            self.changed.emit()
            return
        self._go("consent", "screen_consent")

    # ------------------------------------------------------------------ face check
    @Slot()
    def agree(self) -> None:
        self._begin_check()

    @Slot()
    def decline(self) -> None:
        self._show_notice("declined", "可以办理线下辅助认证",
                          "不刷脸也可以认证：请联系村协理员或工作人员，带上身份证办理线下辅助认证（上门认证也可以预约）。")

    def _begin_check(self) -> None:
        helper = Helper(self._helper_rel or "其他", self._helper_id or None) if self._purpose == "proxy" else None
        e = self.service.eligibility(self._view.id_number, self._purpose, self._category or None)
        if not e.may_certify:  # e.g. the last try of the day was used on another screen meanwhile
            return self._show_eligibility(e)
        try:
            self.attempt = self.service.begin(self._view.id_number, self._category or None, helper=helper,
                                              actions=self.actions)
        except ServiceError as err:
            return self._show_notice(err.code, "暂时不能刷脸认证", err.message)
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
            err = getattr(e, "message", "认证结果没有保存成功，请联系工作人员。")
        self.attempt = None
        self.app.pause_idle(False)
        if outcome is not None and outcome.attempt_uuid:
            self.recorded.emit()
        if self._discard_result:
            return
        if outcome is None:
            return self._show_notice("store_error", "结果未能保存", err)
        v = attempt.session.verdict
        reason = v.reason
        message = outcome.message
        if self._source_error is not None:
            reason = self._source_error[0]
            message = self._source_error[1]
        failed_action = next((s["action"] for s in v.steps if not s["passed"]), None)
        ok = outcome.verdict == "pass"
        if ok:  # the title and the valid-until line already say it; only the back-pay news is left
            message = MSG_BACK_PAY if outcome.back_pay else ""
        self._result = {
            "ok": ok,
            "reason": reason,
            "title": "恭喜您认证成功" if ok else ("认证已取消" if reason == "cancelled" else "这次没有认证成功"),
            "message": message,
            "next": NEXT_STEPS.get(reason, DEFAULT_NEXT) if reason != "cancelled" else "需要时可以再试一次。",
            "validUntil": outcome.valid_until_text,
            "attemptsLeft": outcome.attempts_left,
            "canRetry": (not ok) and outcome.attempts_left > 0 and reason not in ("no_template",),
        }
        voice = "error_camera" if reason == "no_camera" else voice_code_for_result(v.reason, failed_action)
        self._go("result", voice)

    @Slot()
    def retry(self) -> None:
        if self._view is None:
            return self.home()
        self._begin_check()

    def _show_eligibility(self, e) -> None:
        """The service's answer when the resident may not start a check now (codes → words here)."""
        refusal = self.service.refusal(e)
        self._notice = {"code": e.code, "title": NOTICE_TITLES.get(e.code, "暂时不能刷脸认证"),
                        "message": refusal.message, "nextStep": e.next_step_code,
                        "next": ELIGIBILITY_NEXT.get(e.next_step_code, "如需帮助，请找村协理员或工作人员。"),
                        "offerRecords": e.next_step_code == "records"}
        self._go("notice", NOTICE_VOICE.get(e.code))

    def _show_notice(self, code: str, title: str, message: str) -> None:
        self._notice = {"code": code, "title": title, "message": message, "nextStep": "", "offerRecords": False,
                        "next": NEXT_STEPS.get(code, "如需帮助，请找村协理员或工作人员。")}
        voice = f"error_{code}"
        self._go("notice", voice if voice in ERRORS else None)

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
