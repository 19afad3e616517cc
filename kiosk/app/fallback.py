"""Fallback: certification without a face (不刷脸认证) in the app, and the resident's 已提交 screen.

A staff member (the logged-in operator is the witness) records 工作人员核实认证 (staff_witness) or
亲属承诺 (relative_pledge: the relative's name, relation, ID number and phone) with a reason from
the named list, through the same engine call as `kiosk fallback` (CertificationService.
record_fallback): kept pending county review, queued for the county, never a face pass. The
resident then sees (and hears) "已提交，等县里审核" with the county's review days.

Reached from the staff menu (area "fallback": type the resident's ID on the identity screen),
from a visit's person page, and from the result screen once the service offers it
(`fallback_offered`: after `fallback_after_failures` failed tries today). No rules here: who may,
which reasons, the relative's ID check are the service's and kiosk.core.ids'.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Property, QObject, Signal, Slot
from PySide6.QtQml import QmlNamedElement, QmlSingleton

from kiosk.app import qml
from kiosk.app.entry import group_id
from kiosk.core.errors import KioskError
from kiosk.core.ids import ID_LENGTH, check_partial, normalize
from kiosk.store import StoreError
from kiosk.texts import status_label, text

QML_IMPORT_NAME = "Kiosk"
QML_IMPORT_MAJOR_VERSION = 1

log = logging.getLogger(__name__)

METHODS = ("staff_witness", "relative_pledge")
# The named reasons a staff member may choose on their judgement (kiosk.store.fallbacks.REASONS);
# "attempts_exceeded" is offered only once the service says today's failed tries allow it.
JUDGEMENT_REASONS = ("cannot_perform_actions", "refuses_face_recognition", "no_template_cannot_enrol")
RELATIONS = ("child", "spouse", "relative")
ALLOWED = ("ok", "suspended", "attempts_exceeded", "no_template")  # eligibility codes record_fallback takes


@QmlNamedElement("Fallback")
@QmlSingleton
class FallbackController(QObject):  # type: ignore[operator]  # PySide6 stub gap: QmlNamedElement
    changed = Signal()
    recorded = Signal()  # a fallback was queued for the county (the sync may send it now)

    def __init__(self, service, flow, entry, current_operator: Callable[[], object | None],
                 parent: QObject | None = None):
        super().__init__(parent)
        self.service = service
        self.flow = flow
        self.entry = entry
        self.current_operator = current_operator
        self._offered = False
        self._offer_for = ""
        # The staff login for this form (bootstrap: StaffController.open_for): (area, then) -> None.
        self.login_for: Callable[[str, Callable[[], None]], None] | None = None
        self._clear()
        entry.submitted.connect(self._on_submitted)
        flow.changed.connect(self._on_flow)

    @staticmethod
    def create(engine) -> QObject:
        return qml.instance("Fallback")

    def _clear(self) -> None:
        self._id = ""
        self._person: dict = {}
        self._reasons: list[str] = []
        self._method = ""
        self._reason = ""
        self._relation = ""
        self._relative_name = ""
        self._relative_phone = ""
        self._relative_id = ""
        self._error = ""
        self._blocked = ""
        self._submitted: dict = {}

    def _operator(self) -> str:
        op = self.current_operator()
        return str(getattr(op, "name", "") or "") if op is not None else ""

    # ------------------------------------------------------------------ where it starts
    @Slot()
    def open(self) -> None:
        """The staff menu's 不刷脸认证 (area "fallback"): first the resident's ID number."""
        self._clear()
        self.changed.emit()
        self.entry.reset("fallback", purpose="fallback")
        self.flow.show("identity")

    @Slot(str, str)
    def _on_submitted(self, target: str, typed: str) -> None:
        if target != "fallback":
            return
        from kiosk.service import ServiceError

        try:
            view = self.service.lookup(typed)
        except ServiceError as e:
            self.entry.set_hint(e.message, True)
            return
        self.entry.reset("resident")
        self.open_for(view.id_number)

    def open_for(self, id_number: str) -> None:
        """The form for this resident (from a visit's person page, the result screen, the ID screen)."""
        from kiosk.service import ServiceError

        self._clear()
        try:
            view = self.service.lookup(id_number)
        except ServiceError as err:
            self._blocked = err.message
            self.changed.emit()
            self.flow.show("fallback")
            return
        self._id = view.id_number
        e = self.service.eligibility(view.id_number, "self", view=view)
        if e.code not in ALLOWED:
            self._blocked = self.service.refusal(e).message
        tries = self.service.fallback_offered(view.id_number)
        self._reasons = (["attempts_exceeded"] if tries else []) + list(JUDGEMENT_REASONS)
        self._person = {"name": view.masked_name, "id": view.masked_id, "status": status_label(view.status.kind),
                        "categories": text("engine_list").join(c.label for c in view.categories)}
        self.changed.emit()
        self.flow.show("fallback")

    @Slot()
    def openFromResult(self) -> None:
        """不刷脸认证 on the result screen (offered after the configured failed tries)."""
        view = getattr(self.flow, "_view", None)
        if view is not None and self._offered:
            self.open_for(view.id_number)

    @Slot()
    def login(self) -> None:
        """工作人员登录 on the form (nobody logged in, e.g. offered on the result screen): the PIN pad,
        then this same resident's form again (not the staff menu)."""
        if self.login_for is None:
            return
        id_number = self._id
        self.login_for("fallback", (lambda: self.open_for(id_number)) if id_number else self.open)

    def _on_flow(self) -> None:
        screen = self.flow.screen
        view = getattr(self.flow, "_view", None)
        offered = False
        if screen == "result" and view is not None and not self.flow.result.get("ok", False):
            if self._offer_for != view.id_number + str(self.flow.result.get("attemptsLeft")):
                self._offer_for = view.id_number + str(self.flow.result.get("attemptsLeft"))
                self._offered = self.service.fallback_offered(view.id_number)
                self.changed.emit()
            return
        self._offer_for = ""
        if self._offered != offered:
            self._offered = offered
            self.changed.emit()
        if screen == "home" and (self._id or self._submitted):
            self._clear()
            self.changed.emit()

    # ------------------------------------------------------------------ the form
    @Slot(str)
    def chooseMethod(self, method: str) -> None:
        if method in METHODS:
            self._method, self._error = method, ""
            self.changed.emit()

    @Slot(str)
    def chooseReason(self, reason: str) -> None:
        if reason in self._reasons:
            self._reason, self._error = reason, ""
            self.changed.emit()

    @Slot(str)
    def chooseRelation(self, key: str) -> None:
        if key in RELATIONS:
            self._relation, self._error = key, ""
            self.changed.emit()

    @Slot(str)
    def setRelativeName(self, name: str) -> None:
        self._relative_name = name.strip()
        self.changed.emit()

    @Slot(str)
    def setRelativePhone(self, phone: str) -> None:
        self._relative_phone = phone.strip()
        self.changed.emit()

    @Slot(str)
    def setRelativeId(self, typed: str) -> None:
        """The relative's ID number as typed (keyboard or wedge reader): checked as it is typed."""
        self._relative_id = normalize(typed)[:ID_LENGTH]
        self.changed.emit()

    def _relative_id_problem(self) -> str:
        return (check_partial(self._relative_id, self.service.today()) or "") if self._relative_id else ""

    def _ready(self) -> bool:
        if not self._id or self._blocked or not self._operator() or not self._method or not self._reason:
            return False
        if self._method == "relative_pledge":
            return (bool(self._relative_name and self._relation and self._relative_phone)
                    and len(self._relative_id) == ID_LENGTH and not self._relative_id_problem())
        return True

    @Slot()
    def submit(self) -> None:
        """提交县里审核: recorded pending county review (never a face pass), then 已提交."""
        from kiosk.service import FallbackRefused, ServiceError
        from kiosk.store.fallbacks import Relative

        op = self._operator()
        if not op or not self._id or self._blocked:
            return
        if not self._method or not self._reason:
            return self._fail(text("ui_fallback_choose"))
        relative = None
        if self._method == "relative_pledge":
            if not (self._relative_name and self._relation and self._relative_id and self._relative_phone):
                return self._fail(text("ui_fallback_relative_missing"))
            relative = Relative(self._relative_name, text(f"relationship_{self._relation}"), self._relative_id,
                                self._relative_phone)
        try:
            out = self.service.record_fallback(self._id, self._method, self._reason, op, relative=relative)
        except FallbackRefused as e:
            return self._fail(text("ui_fallback_not_allowed", **e.data) if e.code == "not_allowed" else e.message)
        except ServiceError as e:
            return self._fail(e.message)
        except (KioskError, StoreError) as e:  # the store (disk full, read-only …): nothing was recorded
            return self._fail(e.message)
        self.recorded.emit()
        days = int(out["expected_days"])
        self._submitted = {"title": text("ui_submitted_title"), "days": text("ui_submitted_days", n=days),
                           "person": text("ui_submitted_person", method=text(f"fallback_method_{out['method']}"),
                                          name=self._person.get("name", ""), id=out["resident"]),
                           "next": text("ui_submitted_next"), "message": out["message"], "expectedDays": days,
                           "uuid": out["uuid"]}
        self._relative_id = self._relative_name = self._relative_phone = ""  # not kept on screen
        self.changed.emit()
        voice = f"screen_fallback_submitted_{days}"
        self.flow.show("submitted", voice if voice in _voice_codes() else None)

    def _fail(self, message: str) -> None:
        self._error = message
        self.changed.emit()

    # ------------------------------------------------------------------ properties
    def _reason_list(self) -> list:
        return [{"key": k, "label": text(f"fallback_reason_{k}")} for k in self._reasons]

    methods = Property("QVariantList", lambda s: [{"key": k, "label": text(f"fallback_method_{k}")} for k in METHODS],  # type: ignore[arg-type]
                       constant=True)
    relations = Property("QVariantList", lambda s: [{"key": k, "label": text(f"relationship_{k}")} for k in RELATIONS],  # type: ignore[arg-type]
                         constant=True)
    reasons = Property("QVariantList", _reason_list, notify=changed)  # type: ignore[arg-type]
    person = Property("QVariantMap", lambda s: s._person, notify=changed)  # type: ignore[arg-type]
    method = Property(str, lambda s: s._method, notify=changed)
    reason = Property(str, lambda s: s._reason, notify=changed)
    relation = Property(str, lambda s: s._relation, notify=changed)
    relativeName = Property(str, lambda s: s._relative_name, notify=changed)
    relativePhone = Property(str, lambda s: s._relative_phone, notify=changed)
    relativeId = Property(str, lambda s: s._relative_id, notify=changed)
    relativeIdGrouped = Property(str, lambda s: group_id(s._relative_id), notify=changed)
    relativeIdHint = Property(str, _relative_id_problem, notify=changed)
    operatorName = Property(str, lambda s: s._operator(), notify=changed)
    loggedIn = Property(bool, lambda s: bool(s._operator()), notify=changed)
    blocked = Property(str, lambda s: s._blocked, notify=changed)
    error = Property(str, lambda s: s._error, notify=changed)
    ready = Property(bool, _ready, notify=changed)
    offered = Property(bool, lambda s: s._offered, notify=changed)
    submitted = Property("QVariantMap", lambda s: s._submitted, notify=changed)  # type: ignore[arg-type]


def _voice_codes() -> set[str]:
    from kiosk.texts import all_voice_texts

    return set(all_voice_texts())
