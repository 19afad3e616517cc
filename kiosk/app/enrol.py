"""Enrolment (建模) and its review in the app's staff mode: Enrol (EnrolController), Review
(ReviewController) and EnrolFrame (a thumbnail of a chosen frame).

Enrol, area "enrol" (a 协理员 or admin, kiosk.enrolment.check_enroller): the resident's ID number
(our keypad or a keyboard) → kiosk.service lookup → the consent, read aloud
(`screen_enrol_consent`), confirmed by the operator (who and when are recorded) → the capture:
a kiosk.enrolment.EnrolmentSession run by the FaceCheck worker (the same camera thread, preview,
liveness prompts, PAD and colour flash as a certification; no photo is enrolled, a picture fails
the challenge), the pose guidance ("请稍微向左看" …) shown and spoken, each pose step waiting for its
sentence (the voice file's length, VoicePlayer.speaking_seconds) and kiosk.toml `pose_response_s`
before its pose is captured (kiosk.enrolment; voice off: the fixed steps) → the chosen 5–10 frames shown
to the operator as thumbnails and the template set saved as pending review
(store.add_enrolment, enrolled_by / consent_read_by = the operator). Re-enrolment goes the same
way; the store keeps the old template in use until the new one is approved.

The thumbnails are cut from the frames in memory (the face box, ~160 px) by the worker thread
while the session runs; only those of the chosen frames are kept, in this process's memory, for
the review on this terminal (at most KEEP_ENROLMENTS enrolments), and dropped once it is
reviewed. Nothing is written to disk.

Review, area "review" (a 审核员 or admin who did not enrol it, kiosk.enrolment.check_reviewer):
the pending enrolments, one's frames (when still in memory) and record, approve or reject with
a reason; the engine's refusal (e.g. the same operator) is shown as it is.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

import numpy as np
from PySide6.QtCore import Property, QObject, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtQml import QmlElement, QmlNamedElement, QmlSingleton
from PySide6.QtQuick import QQuickPaintedItem

from kiosk.app import qml
from kiosk.app.check import pose_voice_code, to_qimage
from kiosk.app.entry import IdentityEntry, group_id
from kiosk.core.ids import mask_id, mask_name
from kiosk.dupface import CONFIRM_REASONS, DupFaceError, describe, require_confirmation, save_enrolment
from kiosk.enrolment import (GUIDANCE_CODES, POSES, RESPONSE_S, EnrolmentError, EnrolmentSession, check_enroller,
                             check_reviewer, enrolment_pose_spread, pose_spread_line, refusal_message, result_of)
from kiosk.service import ServiceError
from kiosk.texts import error_text, text

QML_IMPORT_NAME = "Kiosk"
QML_IMPORT_MAJOR_VERSION = 1

log = logging.getLogger(__name__)

THUMB_PX = 160  # longest side of a thumbnail
RECENT_S = 3.0  # frames kept while the sampler may still pick them (a sampling stretch is shorter)
KEEP_ENROLMENTS = 20  # enrolments whose thumbnails stay in memory for the review
REJECT_REASONS = ("blurry", "not_person", "dark")


def thumbnail(rgb: np.ndarray, box: tuple[int, int, int, int]) -> QImage:
    """The face box with a margin, scaled down: what the operator and the reviewer see."""
    h, w = rgb.shape[:2]
    left, top, right, bottom = box
    mx, my = (right - left) * 0.35, (bottom - top) * 0.35
    x0, y0 = max(0, int(left - mx)), max(0, int(top - my))
    x1, y1 = min(w, int(right + mx)), min(h, int(bottom + my))
    if x1 <= x0 or y1 <= y0:
        x0, y0, x1, y1 = 0, 0, w, h
    img = to_qimage(rgb[y0:y1, x0:x1])
    return img.scaled(THUMB_PX, THUMB_PX, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)


class ThumbnailSession(EnrolmentSession):
    """EnrolmentSession that keeps, in memory, a thumbnail of the frames it may choose and, once
    it has chosen, only those (`chosen_thumbnails`). Runs on the worker thread like its parent."""

    def __init__(self, *a, **kw) -> None:
        super().__init__(*a, **kw)
        self._lock = threading.Lock()
        self._thumbs: dict[float, QImage] = {}
        self.chosen_t: list[float] = []

    def feed(self, obs):
        events = super().feed(obs)
        if obs.face is not None and self.state in ("challenge", "settling", "capturing"):
            img = thumbnail(obs.frame.rgb, obs.face.box)
            t = obs.frame.t
            with self._lock:
                self._thumbs[t] = img
                pinned = self.may_keep()
                for old in [k for k in self._thumbs if k < t - RECENT_S and k not in pinned]:
                    del self._thumbs[old]
        return events

    def _match(self, encodings):
        out = super()._match(encodings)
        chosen = {id(v) for v in self.template_set}
        self.chosen_t = [e.t for e in encodings if e.future.done() and id(e.future.result()) in chosen]
        with self._lock:  # only the chosen frames' thumbnails stay
            self._thumbs = {t: img for t, img in self._thumbs.items() if t in set(self.chosen_t)}
        return out

    def chosen_thumbnails(self) -> list[QImage]:
        with self._lock:
            return [self._thumbs[t] for t in self.chosen_t if t in self._thumbs]

    def drop_thumbnails(self) -> None:
        with self._lock:
            self._thumbs = {}


@QmlNamedElement("Enrol")
@QmlSingleton
class EnrolController(QObject):  # type: ignore[operator]  # PySide6 stub gap
    changed = Signal()

    def __init__(self, service, check, flow, app, settings, current_operator: Callable, *, realtime: bool = True,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.service, self.check, self.flow, self.app, self.settings = service, check, flow, app, settings
        self.store = service.store
        self.current_operator = current_operator
        self.realtime = realtime
        self.entry = IdentityEntry(service.clock.today, self)
        self.entry.purpose = "enrol"
        self.entry.changed.connect(self.changed)
        self.entry.submitted.connect(self._on_submitted)
        self.frames: dict[int, list[QImage]] = {}  # enrolment id -> chosen thumbnails (memory only)
        self.session: ThumbnailSession | None = None
        self._seen = 0
        check.finished.connect(self._on_check_finished)
        check.changed.connect(self._on_check_changed)
        flow.changed.connect(self._on_flow_changed)
        self._clear()

    @staticmethod
    def create(engine) -> QObject:
        return qml.instance("Enrol")

    def _clear(self) -> None:
        self._view = None
        self._consent_by = ""
        self._consent_at = None
        self._pose = -1
        self._result: dict = {}
        self._message = ""
        self.entry.reset("resident")

    def _on_flow_changed(self) -> None:
        if self.flow.screen == "home" and (self._view is not None or self.entry.typed):
            self._clear()  # home (idle reset, logout): forget the resident
            self.changed.emit()

    # ------------------------------------------------------------------ the ID number
    @Slot(str)
    def openArea(self, name: str) -> None:
        if name == "enrol":
            self.open()

    @Slot()
    def open(self) -> None:
        self._clear()
        op = self.current_operator()
        if op is None:
            return
        try:
            check_enroller(op)
        except EnrolmentError as e:
            self._message = e.message
        self.changed.emit()
        self.flow.show("enrol", "screen_enrol_id")

    @Slot(str)
    def press(self, key: str) -> None:
        key = key.upper()
        if key in "0123456789X" and len(key) == 1:
            self.entry.press(key)

    @Slot(int, str, result=bool)
    def key(self, key: int, typed: str) -> bool:
        """A key from a physical keyboard or a keyboard-wedge ID reader: the resident's ID screen's
        own logic (IdentityEntry.key: 18 valid characters move on by themselves, the reader's
        trailing Enter is swallowed)."""
        return bool(self.entry.key(key, typed))

    @Slot()
    def erase(self) -> None:
        self.entry.erase()

    @Slot()
    def submit(self) -> None:
        if self.entry.entryComplete:
            self.entry.submit()

    def _on_submitted(self, target: str, typed: str) -> None:
        op = self.current_operator()
        if op is None:
            return
        try:
            check_enroller(op)
            view = self.service.lookup(typed)
        except EnrolmentError as e:
            self._message = e.message
            self.changed.emit()
            return
        except ServiceError as e:
            self.entry.set_hint(error_text(e.code, **e.data), True)
            return
        self._view = view
        self._message = ""
        self.entry.reset("resident")
        self.changed.emit()
        self.flow.show("enrolConsent", "screen_enrol_consent")

    # ------------------------------------------------------------------ consent and capture
    @Slot()
    def consentGiven(self) -> None:
        op = self.current_operator()
        if op is None or self._view is None:
            return
        self._consent_by, self._consent_at = op.name, self.store.clock.utc_now()
        self._start_capture()

    @Slot()
    def consentRefused(self) -> None:
        op = self.current_operator()
        if op is None or self._view is None:
            return
        self.store.audit(op.name, "enrolment_consent_refused", {"resident": mask_id(self._view.id_number)})
        self._result = {"ok": False, "title": text("ui_enrol_done_fail_title"), "message": text("ui_enrol_declined"),
                        "frames": 0, "enrolment": 0, "canRetry": False}
        self.changed.emit()
        self.flow.show("enrolDone", None)

    def _start_capture(self) -> None:
        from kiosk.pad.options import session_pad_options

        s = self.settings
        self.session = ThumbnailSession(self.service.encoder, n_actions=s.actions_per_challenge,
                                        step_timeout_s=s.step_timeout_s, prompt_seconds=self._prompt_seconds(),
                                        response_s=float(getattr(self._live_settings(), "pose_response_s", RESPONSE_S)),
                                        **session_pad_options(s, self.realtime))
        self._seen = 0
        self._pose = -1
        self._result = {}
        self.app.pause_idle(True)
        self.changed.emit()
        self.flow.show("enrolCapture", None)  # the session's own opening line is said first
        self.check.start(self.session)

    def _live_settings(self):
        """The settings as the admin corner last saved them (AppController.settings: pose_response_s is set
        by touch there and holds from the next enrolment on); the app's own at start otherwise."""
        return getattr(self.app, "settings", None) or self.settings

    def _prompt_seconds(self) -> Callable[[str], float] | None:
        """How long each pose guidance is spoken (its voice file, as the voice queue keeps time with
        it), so each pose step waits for its sentence (kiosk.enrolment); None with the voice off."""
        seconds = getattr(self.app.voice, "speaking_seconds", None)
        if seconds is None:
            return None
        said = {code: seconds(pose_voice_code(code)) for code in GUIDANCE_CODES}
        if any(v is None for v in said.values()):
            return None
        return lambda code: float(said.get(code) or 0.0)

    def _on_check_changed(self) -> None:
        """Pose requests (events of kind "enrol") are shown and spoken here; the prompts, guidance
        and state lines go through FaceCheck as in a certification."""
        if self.session is None or self.check.session is not self.session:
            return
        new, self._seen = self.check.events[self._seen:], len(self.check.events)
        for e in new:
            if e["kind"] == "enrol":
                self._pose = int(e["data"].get("pose", self._pose + 1))
                self.app.voice.play(pose_voice_code(e["code"]))
                self.changed.emit()

    @Slot()
    def cancel(self) -> None:
        self.check.stop("cancelled")

    def _on_check_finished(self) -> None:
        session = self.session
        if session is None or self.check.session is not session or session.state != "done":
            return
        self.session = None
        self.app.pause_idle(True)  # back on a staff screen: the staff idle logout applies
        op = self.current_operator()
        result = result_of(session)
        view = self._view
        if op is None or view is None:
            session.drop_thumbnails()
            return
        if not result.ok:
            session.drop_thumbnails()
            self.store.audit(op.name, "enrolment_refused", {"resident": mask_id(view.id_number), "reason": result.code})
            self._result = {"ok": False, "title": text("ui_enrol_done_fail_title"),
                            "message": refusal_message(result), "frames": 0, "enrolment": 0, "canRetry": True}
            self.changed.emit()
            self.flow.show("enrolDone", "screen_enrol_failed")
            return
        eid = save_enrolment(self.store, self.settings, view.id_number, result.vectors, self.service.encoder.name,
                             enrolled_by=op.name, consent_read_by=self._consent_by, consent_at=self._consent_at,
                             quality=result.quality)  # with the duplicate-face check (kiosk.dupface)
        self.frames[eid] = session.chosen_thumbnails()
        session.drop_thumbnails()
        while len(self.frames) > KEEP_ENROLMENTS:
            del self.frames[min(self.frames)]
        self._result = {"ok": True, "title": text("ui_enrol_done_ok_title"), "enrolment": eid,
                        "frames": len(result.vectors), "canRetry": False,
                        "message": text("ui_enrol_done_ok", name=view.masked_name, id=view.masked_id,
                                        frames=len(result.vectors), enrolment=eid)}
        self.changed.emit()
        self.flow.show("enrolDone", "screen_enrol_saved")

    @Slot()
    def retry(self) -> None:
        if self._view is not None and self._consent_by:
            self._start_capture()

    # ------------------------------------------------------------------ thumbnails
    def frame(self, enrolment: int, index: int) -> QImage | None:
        imgs = self.frames.get(enrolment, [])
        return imgs[index] if 0 <= index < len(imgs) else None

    @Slot(int, result=int)
    def frameCount(self, enrolment: int) -> int:
        return len(self.frames.get(enrolment, []))

    def forget_frames(self, enrolment: int) -> None:
        self.frames.pop(enrolment, None)

    # ------------------------------------------------------------------ properties
    idText = Property(str, lambda s: group_id(s.entry.typed), notify=changed)
    idLength = Property(int, lambda s: len(s.entry.typed), notify=changed)
    idComplete = Property(bool, lambda s: bool(s.entry.entryComplete), notify=changed)
    hint = Property(str, lambda s: s.entry.hint, notify=changed)
    hintError = Property(bool, lambda s: bool(s.entry.hintError), notify=changed)
    message = Property(str, lambda s: s._message, notify=changed)
    maskedName = Property(str, lambda s: s._view.masked_name if s._view else "", notify=changed)
    maskedId = Property(str, lambda s: s._view.masked_id if s._view else "", notify=changed)
    consentBy = Property(str, lambda s: s._consent_by, notify=changed)
    pose = Property(int, lambda s: s._pose, notify=changed)
    poses = Property(int, lambda s: len(POSES), constant=True)
    poseText = Property(str, lambda s: text(f"state_{POSES[s._pose]}") if 0 <= s._pose < len(POSES) else "",
                        notify=changed)
    result = Property("QVariantMap", lambda s: s._result, notify=changed)  # type: ignore[arg-type]


@QmlNamedElement("Review")
@QmlSingleton
class ReviewController(QObject):  # type: ignore[operator]  # PySide6 stub gap
    changed = Signal()

    def __init__(self, store, flow, enrol: EnrolController, current_operator: Callable,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.store, self.flow, self.enrol = store, flow, enrol
        self.current_operator = current_operator
        self._items: list[dict] = []
        self._selected: dict = {}
        self._message = ""
        self._message_error = False
        self._dup_confirmed, self._dup_reason = False, ""  # the reviewer's confirmation (kiosk.dupface)
        flow.changed.connect(self._on_flow_changed)

    @staticmethod
    def create(engine) -> QObject:
        return qml.instance("Review")

    def _on_flow_changed(self) -> None:
        if self.flow.screen == "home" and (self._items or self._selected):
            self._items, self._selected, self._message = [], {}, ""
            self.changed.emit()

    def _item(self, e: dict) -> dict:
        r = self.store.get_resident(e["resident"])
        try:  # the service area's local time of an aware ISO instant
            when = datetime.fromisoformat(e["created_at"]).astimezone(self.store.clock.tz)
        except (TypeError, ValueError):
            when = None
        return {"enrolment": e["id"], "name": mask_name(r.name) if r else "", "id": mask_id(e["resident"]),
                "frames": e["frames"], "by": e["enrolled_by"], "consentBy": e["consent_read_by"] or "",
                "when": when.strftime("%m-%d %H:%M") if when else str(e["created_at"])[:16].replace("T", " "),
                "inMemory": self.enrol.frameCount(e["id"]), **pose_fields(e), **self._dup_item(e)}

    def _dup_item(self, e: dict) -> dict:
        """The duplicate-face check (kiosk.dupface): the other residents this face resembles, masked."""
        others = describe(self.store, e)
        rows = [text("ui_dupface_row", name=o["name"], id=o["id"], village=o["village"],
                     source=text(f"dupface_source_{o['source']}")) + (text("ui_dupface_removed") if o["removed"] else "")
                for o in others]
        return {"resemblesOther": len(others), "resembles": rows}

    def _load(self) -> None:
        self._items = [self._item(e) for e in self.store.list_enrolments(status="pending_review")]

    @Slot(str)
    def openArea(self, name: str) -> None:
        if name == "review":
            self.open()

    @Slot()
    def open(self) -> None:
        if self.current_operator() is None:
            return
        self._load()
        self._selected, self._message, self._message_error = {}, "", False
        self.changed.emit()
        self.flow.show("review", None)

    @Slot(int)
    def select(self, enrolment: int) -> None:
        e = self.store.get_enrolment(enrolment)
        if e is None or e["status"] != "pending_review":
            return self.open()
        self._selected = self._item(e)
        self._message, self._message_error = "", False
        self._dup_confirmed, self._dup_reason = False, ""
        self.changed.emit()
        self.flow.show("reviewDetail", None)

    @Slot()
    def approve(self) -> None:
        self._decide("approved", None)

    # ---- the duplicate-face confirmation (kiosk.dupface): a checkbox and a reason, picked or typed
    @Slot(bool)
    def setDupConfirmed(self, on: bool) -> None:
        self._dup_confirmed = bool(on)
        self._message, self._message_error = "", False  # the reviewer acts on what the message asked
        self.changed.emit()

    @Slot(str)
    def pickDupReason(self, key: str) -> None:
        self._dup_reason = key if key in CONFIRM_REASONS else ""
        self.changed.emit()

    @Slot(str)
    def typeDupReason(self, reason: str) -> None:
        self._dup_reason = reason.strip()
        self.changed.emit()

    def _dup_confirmation(self, e: dict) -> dict | None:
        return require_confirmation(e, "different_person" if self._dup_confirmed else None, self._dup_reason)

    @Slot(str)
    def rejectWith(self, reason_key: str) -> None:
        self._decide("rejected", text(f"ui_review_reason_{reason_key}") if reason_key in REJECT_REASONS else "")

    @Slot(str)
    def rejectTyped(self, reason: str) -> None:
        self._decide("rejected", reason)

    def _decide(self, decision: str, reason: str | None) -> None:
        op = self.current_operator()
        if op is None or not self._selected:
            return
        eid = int(self._selected["enrolment"])
        try:
            if decision == "rejected" and not (reason or "").strip():
                raise EnrolmentError("no_reason")
            e = self.store.get_enrolment(eid)
            if e is None:
                raise EnrolmentError("not_pending", id=eid)
            check_reviewer(op, e)
            confirmation = self._dup_confirmation(e) if decision == "approved" else None
            self.store.review_enrolment(eid, decision, op.name, reason=(reason or "").strip() or None,
                                        confirmation=confirmation)
        except DupFaceError as err:  # the app's own words: the checkbox and the reasons on this screen
            self._message = text("ui_dupface_need_confirm" if err.code == "confirmation_required" else "ui_dupface_need_reason")
            self._message_error = True
            self.changed.emit()
            return
        except EnrolmentError as err:
            self._message, self._message_error = err.message, True
            self.changed.emit()
            return
        self.enrol.forget_frames(eid)
        self._message = (text("ui_review_approved", enrolment=eid) if decision == "approved"
                         else text("ui_review_rejected", enrolment=eid, reason=(reason or "").strip()))
        self._message_error = False
        self._selected = {}
        self._load()
        self.changed.emit()
        self.flow.show("review", None)

    @Slot()
    def backToList(self) -> None:
        self.open()

    items = Property("QVariantList", lambda s: s._items, notify=changed)  # type: ignore[arg-type]
    selected = Property("QVariantMap", lambda s: s._selected, notify=changed)  # type: ignore[arg-type]
    message = Property(str, lambda s: s._message, notify=changed)
    messageError = Property(bool, lambda s: s._message_error, notify=changed)
    frames = Property(QObject, lambda s: s.enrol, constant=True)
    dupConfirmed = Property(bool, lambda s: s._dup_confirmed, notify=changed)
    dupReason = Property(str, lambda s: s._dup_reason, notify=changed)  # a CONFIRM_REASONS key or typed words
    dupReasons = Property("QVariantList", lambda s: [{"key": k, "label": text(f"dupface_reason_{k}")}  # type: ignore[arg-type]
                                                     for k in CONFIRM_REASONS], constant=True)


def pose_fields(e: dict) -> dict:
    """The review's line on the head poses the chosen frames span (kiosk.enrolment.pose_spread):
    `poseSpread` (the words, "" for a record without poses) and `poseNarrow` (the reviewer's cue)."""
    spread = enrolment_pose_spread(e.get("quality") or {})
    return {"poseSpread": pose_spread_line(spread), "poseNarrow": bool(spread and spread.get("narrow"))}


@QmlElement
class EnrolFrame(QQuickPaintedItem):
    """One chosen frame of an enrolment (from memory): `source` (Enrol), `enrolment`, `frameIndex`."""

    changedProps = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._source: QObject | None = None
        self._enrolment = 0
        self._index = 0

    def _set(self, attr: str, v) -> None:
        if getattr(self, attr) != v:
            setattr(self, attr, v)
            self.changedProps.emit()
            self.update()

    source = Property(QObject, lambda s: s._source, lambda s, v: s._set("_source", v), notify=changedProps)
    enrolment = Property(int, lambda s: s._enrolment, lambda s, v: s._set("_enrolment", v), notify=changedProps)
    frameIndex = Property(int, lambda s: s._index, lambda s, v: s._set("_index", v), notify=changedProps)

    @property
    def has_image(self) -> bool:
        src = self._source
        return isinstance(src, EnrolController) and src.frame(self._enrolment, self._index) is not None

    def paint(self, painter: QPainter) -> None:
        w, h = self.width(), self.height()
        painter.fillRect(QRectF(0, 0, w, h), QColor("#1b1b1b"))
        src = self._source
        img = src.frame(self._enrolment, self._index) if isinstance(src, EnrolController) else None
        if img is None or img.isNull() or w <= 0 or h <= 0:
            return
        scale = min(w / img.width(), h / img.height())
        dw, dh = img.width() * scale, img.height() * scale
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.translate(w, 0)
        painter.scale(-1, 1)  # mirrored, as the operator saw the preview
        painter.drawImage(QRectF((w - dw) / 2, (h - dh) / 2, dw, dh), img)
