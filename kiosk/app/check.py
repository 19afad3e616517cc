"""The 人脸认证 screen's controller and its camera worker thread.

The worker thread opens the frame source, runs FaceMesh (`FaceObserver`) and feeds the
`CertificationSession`; it emits preview frames (QImage) and session events. Nothing of
the engine runs on the UI thread. The camera runs only while a check runs: it is opened
when the screen starts a check and closed when the check ends or is stopped.

In demo mode the worker is also the "person": when the session asks for an action, the
virtual camera performs it about a second after the prompt has been heard (and, in an enrolment,
turns the head about a second after each pose guidance has been heard).

Voice timing as a person hears it (with a voice queue attached, `voice_gated`): the session
is fed only once the face screen's opening line ("请正对屏幕，把脸放进框内", after the
helper instruction in 代他人认证) has been spoken, so no step clock runs under it; the
camera preview shows meanwhile.

Colour flash (炫彩活体, kiosk.pad.flash): when the session drew a sequence, FaceCheck.flash
holds `seq.to_qml()` for ui/FlashBorder.qml on the face screen; `flashRunning` turns true when
the challenge starts. The border's `started` signal calls `flashStarted()`; the worker maps that
instant onto the frames' clock (the last frame's time plus the monotonic time since it arrived)
and tells the session (`flash_started(t)`), and, in demo mode, the virtual camera
(`show_flash(seq, t)`) so its face reflects the colours.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Property, QObject, QThread, Signal, Slot
from PySide6.QtGui import QImage
from PySide6.QtQml import QmlNamedElement, QmlSingleton

from kiosk.frames import FrameSourceError
from kiosk.texts import event_text, text, voice_code_for_event

QML_IMPORT_NAME = "Kiosk"
QML_IMPORT_MAJOR_VERSION = 1

log = logging.getLogger(__name__)

REACTION_S = 1.0  # the demo "person" starts an action this long after hearing the prompt (PromptFollower)
OPENING_LINE = "state_waiting_face"  # the session is fed once this has been heard (voice_gated)
HOLD_MAX_S = 25.0  # ... or after this long (a voice that never reports its end)


class _HeldSession:
    """The session, fed only once `go` is set (or HOLD_MAX_S has passed): the frames before are
    shown, not judged, so no clock of the session runs while the resident is still listening."""

    def __init__(self, session, go: threading.Event):
        self._session, self._go, self._since = session, go, None

    def feed(self, obs):
        if not self._go.is_set():
            now = time.monotonic()
            self._since = self._since or now
            if now - self._since < HOLD_MAX_S:
                return []
            self._go.set()
        return self._session.feed(obs)

    def __getattr__(self, name):
        return getattr(self._session, name)


def pose_voice_code(code: str) -> str:
    """The voice file of enrolment's pose guidance (kiosk.enrolment POSES; said by kiosk.app.enrol)."""
    return f"state_{code}"


def to_qimage(rgb: np.ndarray) -> QImage:
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888).copy()


class CameraWorker(QThread):
    frameReady = Signal(QImage)
    sessionEvents = Signal(list)  # [dict(kind, code, text, data)]: text from the catalogue
    sourceFailed = Signal(str, str)  # code, Chinese message

    def __init__(self, session, source_factory: Callable, *, actor: bool = False, pace: bool = False,
                 observer_factory: Callable | None = None, voice_gated: bool = False, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.voice_gated = voice_gated
        self._heard: Counter = Counter()  # voice code -> times it was over (finished, cut or dropped)
        self._go = threading.Event()
        if not voice_gated:
            self._go.set()
        self.source_factory = source_factory
        self.actor = actor
        self.pace = pace  # sleep to play a recorded clip at its own speed
        self.observer_factory = observer_factory
        self._stop_reason: str | None = None
        self._lock = threading.Lock()
        self.frames = 0
        self._flash_mono: float | None = None  # monotonic time the border started (set from the UI thread)

    def flash_started(self, mono: float) -> None:
        """The flash border started at `mono` (time.monotonic()); applied on the worker's next frame."""
        with self._lock:
            if self._flash_mono is None:
                self._flash_mono = mono

    def request_stop(self, reason: str) -> None:
        with self._lock:
            if self._stop_reason is None:
                self._stop_reason = reason

    def _stopping(self) -> str | None:
        with self._lock:
            return self._stop_reason

    def heard(self, code: str, how: str) -> None:
        """The voice queue is done with `code` (any thread)."""
        with self._lock:
            self._heard[code] += 1
        if code == OPENING_LINE and how != "interrupted":  # 再听一遍 cuts it to say it again
            self._go.set()

    def _heard_count(self, ev) -> int:
        code = pose_voice_code(ev.code) if ev.kind == "enrol" else voice_code_for_event(ev.kind, ev.code, ev.data)
        with self._lock:
            return self._heard[code] if code else 1

    def _emit(self, events) -> None:
        if events:
            self.sessionEvents.emit([{"kind": e.kind, "code": e.code, "text": event_text(e.kind, e.code, e.data),
                                      "data": dict(e.data)}
                                     for e in events])

    def run(self) -> None:
        """Open the source, then `kiosk.driver.drive` with callbacks that emit Qt signals."""
        from kiosk.demo.follower import PromptFollower
        from kiosk.driver import drive

        session = self.session
        try:
            source = self.source_factory()
        except FrameSourceError as e:
            self._emit(session.abort("camera_lost"))
            self.sourceFailed.emit(e.code, e.message)
            return
        except Exception as e:
            log.exception("camera could not be opened")
            self._emit(session.abort("camera_lost"))
            self.sourceFailed.emit("no_camera", text("ui_camera_cannot_open", detail=type(e).__name__))
            return
        if self.observer_factory is not None:
            observer = self.observer_factory()
        else:
            from kiosk.observe import FaceObserver

            observer = FaceObserver()
        follower = (PromptFollower(source, REACTION_S, heard=self._heard_count if self.voice_gated else None)
                    if self.actor else None)
        if self.voice_gated:
            session = _HeldSession(session, self._go)
        last: list[tuple[float, float]] = []  # (frame.t, monotonic when it arrived) of the previous frame
        flash_applied = False

        def on_frame(frame, obs) -> None:
            nonlocal flash_applied
            self.frames += 1
            now = time.monotonic()
            with self._lock:
                mono = self._flash_mono
            if mono is not None and not flash_applied:
                flash_applied = True
                prev_t, prev_mono = last[-1] if last else (frame.t, now)
                start = prev_t + max(0.0, mono - prev_mono)  # the border's start on the frames' clock
                session.flash_started(start)
                if self.actor and hasattr(source, "show_flash") and session.flash_sequence is not None:
                    source.show_flash(session.flash_sequence, start)
            last[:] = [(frame.t, now)]
            self.frameReady.emit(to_qimage(frame.rgb))

        def on_events(t, events) -> None:
            self._emit(events)
            if follower is not None and t is not None:
                follower(t, events)

        try:
            drive(session, source, observer, on_frame=on_frame, on_events=on_events,
                  should_stop=self._stopping, pace=self.pace)
        except Exception:  # the driver has ended the session (internal_error); the screen goes on
            log.exception("certification worker failed")
        finally:
            observer.close()


@QmlNamedElement("FaceCheck")
@QmlSingleton
class CheckController(QObject):
    """FaceCheck: properties for ui/FaceScreen.qml; started and stopped by the flow controller."""

    changed = Signal()
    frameReady = Signal(QImage)
    frameCleared = Signal()
    finished = Signal()  # the session has its verdict and the camera is closed
    sourceFailed = Signal(str, str)
    speak = Signal(str)  # voice code

    def __init__(self, source_factory: Callable, *, actor: bool = False, pace: bool = False,
                 observer_factory: Callable | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.source_factory = source_factory
        self.actor = actor
        self.pace = pace
        self.observer_factory = observer_factory
        self.worker: CameraWorker | None = None
        self.voice_gated = False  # set when a voice queue reports to `heard` (FlowController)
        self.session = None
        self.events: list[dict] = []
        self._reset_view()

    @staticmethod
    def create(engine) -> QObject:
        from kiosk.app import qml

        return qml.instance("FaceCheck")

    def _reset_view(self) -> None:
        self._running = False
        self._action = ""
        self._action_text = ""
        self._guidance = ""
        self._state_text = ""
        self._steps = 0
        self._done = 0
        self._matching = False
        self._result_reason = ""
        self._flash: dict = {}
        self._flash_running = False

    # ------------------------------------------------------------------ control (UI thread)
    def start(self, session) -> None:
        self.stop("cancelled", wait=True)
        self.session = session
        self.events = []
        self._reset_view()
        self._running = True
        self._steps = len(session.actions)
        seq = getattr(session, "flash_sequence", None)
        self._flash = seq.to_qml() if seq is not None else {}
        self._state_text = text("camera_starting")
        self.changed.emit()
        w = CameraWorker(session, self.source_factory, actor=self.actor, pace=self.pace,
                         observer_factory=self.observer_factory, voice_gated=self.voice_gated)
        w.frameReady.connect(self.frameReady)
        w.sessionEvents.connect(self._on_events)
        w.sourceFailed.connect(self.sourceFailed)
        w.finished.connect(self._on_worker_finished)
        self.worker = w
        w.start()

    def stop(self, reason: str = "cancelled", wait: bool = True) -> None:
        w = self.worker
        if w is None:
            return
        w.request_stop(reason)
        if wait:
            w.wait()
            self._on_worker_finished()

    @Slot(list)
    def _on_events(self, events: list) -> None:
        if self.sender() is not None and self.sender() is not self.worker:
            return  # a stopped worker's last words: the check they belong to is over
        for e in events:
            self.events.append(e)
            kind, code, text = e["kind"], e["code"], e["text"]
            if kind == "prompt":
                self._action, self._action_text = code, text
                self._done = e["data"].get("step", self._done)
            elif kind == "progress":
                self._done = e["data"].get("done", self._done + 1)
                self._action_text = text  # 很好
                self._action = ""
            elif kind == "guidance":
                self._guidance = text
            elif kind == "state":
                if code == "challenge":
                    self._state_text = ""
                    self._flash_running = bool(self._flash)  # the border starts with the challenge
                elif code == "settling":  # actions done, still watching: "很好，请保持不动"
                    self._action_text, self._action = text, ""
                elif code == "matching":
                    self._matching = True
                    self._state_text, self._action_text, self._action = text, "", ""
                    self._done = self._steps
                else:
                    self._state_text = text
            elif kind == "result":
                self._result_reason = code
            voice = voice_code_for_event(kind, code, e["data"])
            # Guidance waits while an action is asked for, except a second face: it fails the
            # check if it stays (LivenessThresholds.max_multi_face_s), so it is said at once.
            if voice and not (kind == "guidance" and self._action and code != "second_face"):
                self.speak.emit(voice)
        self.changed.emit()

    @Slot(float)
    def flashStarted(self, t0: float = 0.0) -> None:
        """FlashBorder's `started(t0)`: the colours are on screen from now (t0 is wall time, unused)."""
        if self.worker is not None:
            self.worker.flash_started(time.monotonic())

    @Slot(str, str)
    def _heard(self, code: str, how: str) -> None:
        """A sentence is over (VoicePlayer.over): the worker may go on (see the module doc)."""
        if self.worker is not None:
            self.worker.heard(code, how)

    @Slot()
    def _on_worker_finished(self) -> None:
        w = self.worker
        if w is None or not w.isFinished():
            return
        self.worker = None
        w.deleteLater()
        self._running = False
        self._flash_running = False
        self.frameCleared.emit()
        self.changed.emit()
        self.finished.emit()

    def clear(self) -> None:
        """Forget everything shown (idle reset, home)."""
        self.stop("cancelled")
        self.session = None
        self.events = []
        self._reset_view()
        self.frameCleared.emit()
        self.changed.emit()

    # ------------------------------------------------------------------ properties
    running = Property(bool, lambda s: s._running, notify=changed)
    action = Property(str, lambda s: s._action, notify=changed)
    actionText = Property(str, lambda s: s._action_text, notify=changed)
    actionName = Property(str, lambda s: text(f"action_{s._action}") if s._action else "", notify=changed)
    hintText = Property(str, lambda s: text("face_hint_matching" if s._matching else "face_hint_action" if s._action
                                            else "face_hint_waiting"), notify=changed)
    guidanceText = Property(str, lambda s: s._guidance, notify=changed)
    stateText = Property(str, lambda s: s._state_text, notify=changed)
    stepsTotal = Property(int, lambda s: s._steps, notify=changed)
    stepsDone = Property(int, lambda s: s._done, notify=changed)
    matching = Property(bool, lambda s: s._matching, notify=changed)
    demoActor = Property(bool, lambda s: s.actor, notify=changed)
    flash = Property("QVariantMap", lambda s: s._flash, notify=changed)  # FlashSequence.to_qml(), or {}
    flashOn = Property(bool, lambda s: bool(s._flash), notify=changed)
    flashRunning = Property(bool, lambda s: s._flash_running, notify=changed)
