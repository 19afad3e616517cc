"""`kiosk pad calibrate --camera N`: set the colour-flash thresholds on the kiosk's own camera.

The operator sits in front of the kiosk as a resident would (~50 cm); the screen's border shows
a few flash sequences (a full-screen Qt window, `QtFlashDisplay`); each session is measured with
`kiosk.pad.flash.FlashResponse` and `calibrate_flash` turns them into thresholds, printed and
written to KIOSK_HOME/flash.toml ([flash] table; kiosk.toml is left alone because
`kiosk.config.Settings.load` refuses unknown keys). Without a camera: a Chinese message, exit 2.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol, cast

from kiosk.pad.flash import (NEUTRAL_RGB, FlashResponse, FlashResult, FlashSequence, FlashThresholds,
                             calibrate_flash, draw_flash_sequence, save_thresholds)

if TYPE_CHECKING:
    from PySide6.QtGui import QPaintEvent

    from kiosk.frames import Frame, FrameSource
    from kiosk.observe import FaceObserver


class FlashDisplay(Protocol):
    """What shows the sequence: `show(seq)` -> its start time on the frames' clock (None: neutral)."""

    def show(self, seq: FlashSequence | None) -> float: ...
    def update(self, t: float) -> None: ...


def record_sessions(camera_index: int = 0, n: int = 3, *, source: FrameSource | None = None,
                    observer: FaceObserver | None = None, display: FlashDisplay | None = None,
                    frame_time: Callable[[Frame], float] | None = None, tail_s: float = 0.5,
                    thresholds: FlashThresholds | None = None,
                    on_result: Callable[[int, FlashResult], None] | None = None) -> list[FlashResult]:
    """Record n flash sessions of the person in front of the camera.

    Defaults: `kiosk.frames.CameraSource(camera_index)`, a tracking `kiosk.observe.FaceObserver`,
    a full-screen Qt window painting the sequence (`QtFlashDisplay`) and the wall clock. Tests
    inject a virtual camera: `display.show(seq)` returns the start time of the sequence on the
    clock that `frame_time(frame)` reads; `display.update(t)` is called on every frame.
    """
    from kiosk.frames import CameraSource
    from kiosk.observe import FaceObserver

    own_source = source is None
    own_observer = observer is None
    own_display = display is None
    th = replace(thresholds or FlashThresholds(), calibrated=False)
    if own_source:
        source = CameraSource(camera_index)  # raises FrameSourceError("no_camera") first
    try:
        if own_observer:
            observer = FaceObserver()
        if own_display:
            display = QtFlashDisplay()
        if frame_time is None:
            frame_time = lambda _frame: time.monotonic()  # noqa: E731 - when it arrived
        assert source is not None and observer is not None and display is not None
        results = []
        frames = iter(source)
        for k in range(n):
            seq = draw_flash_sequence()
            resp = FlashResponse(seq, th)
            start = display.show(seq)
            for frame in frames:
                t = frame_time(frame) - start
                display.update(t)
                resp.add(t, frame.rgb, observer.observe(frame))
                if t > seq.duration + tail_s:
                    break
            display.show(None)
            res = resp.result()
            results.append(res)
            if on_result:
                on_result(k, res)
        return results
    finally:
        if own_display and display is not None:
            cast(QtFlashDisplay, display).close()  # own_display: the Qt window made above
        if own_observer and observer is not None:
            observer.close()
        if own_source and source is not None:
            source.close()


class QtFlashDisplay:
    """A full-screen window painted with the sequence's colour (border) for calibration.

    The centre stays dark grey so the operator sees where to look; the colour is set on every
    camera frame from `FlashSequence.colour_at`, the same function the analysis uses.
    """

    def __init__(self) -> None:
        from PySide6.QtGui import QColor, QGuiApplication, QPainter, QRasterWindow

        self._app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
        QColor_, QPainter_ = QColor, QPainter
        outer = self

        class _Win(QRasterWindow):
            def paintEvent(self, _ev: QPaintEvent) -> None:
                p = QPainter_(self)
                w, h = self.width(), self.height()
                p.fillRect(0, 0, w, h, QColor_(*[int(round(c)) for c in outer._colour]))
                m = int(0.18 * min(w, h))
                p.fillRect(m, m, w - 2 * m, h - 2 * m, QColor_(40, 40, 40))
                p.end()

        self._colour: tuple[float, float, float] = NEUTRAL_RGB
        self._seq: FlashSequence | None = None
        self._win = _Win()
        self._win.showFullScreen()
        self._pump()

    def _pump(self) -> None:
        self._app.processEvents()

    def show(self, seq: FlashSequence | None) -> float:
        self._seq = seq
        self._colour = NEUTRAL_RGB
        self._win.update()
        self._pump()
        return time.monotonic()

    def update(self, t: float) -> None:
        if self._seq is not None:
            self._colour = self._seq.colour_at(t)
        self._win.update()
        self._pump()

    def close(self) -> None:
        self._win.close()
        self._pump()


def main_calibrate(argv: list[str] | None = None) -> int:
    """`kiosk pad calibrate --camera N [--sessions 3] [--out PATH]`: prints and writes the thresholds.

    Writes the [flash] table of KIOSK_HOME/flash.toml (kept apart from kiosk.toml, which
    `kiosk.config.Settings.load` rejects on unknown keys). Exit 0 written, 1 not usable, 2 no camera.
    """
    from kiosk.frames import FrameSourceError
    from kiosk.texts import text

    ap = argparse.ArgumentParser(prog="kiosk pad calibrate",
                                 description="Calibrate the colour-flash challenge on this kiosk's camera "
                                             "with a few live sessions of the operator.")
    ap.add_argument("--camera", type=int, default=0, help="camera index (default 0)")
    ap.add_argument("--sessions", type=int, default=3, help="live sessions to record (default 3)")
    ap.add_argument("--margin", type=float, default=0.15, help="score margin below the lowest live score")
    ap.add_argument("--out", type=Path, default=None, help="thresholds file (default KIOSK_HOME/flash.toml)")
    ap.add_argument("--dry-run", action="store_true", help="print, do not write")
    args = ap.parse_args(argv)
    print(text("flash_calibrate_start", n=args.sessions))
    try:
        results = record_sessions(args.camera, max(1, args.sessions),
                                  on_result=lambda k, r: print(
                                      text("flash_calibrate_session", k=k + 1)
                                      + f"score={r.score:.3f} lag={r.lag_s:.2f}s "
                                      f"amplitude={r.evidence.get('amplitude', 0)} frames={r.frames}"
                                      + (f" ({r.evidence['reason']})" if r.evidence.get("reason") else "")))
    except FrameSourceError as e:
        print(text("flash_calibrate_no_camera", message=e.message, camera=args.camera), file=sys.stderr)
        return 2
    try:
        th = calibrate_flash(results, margin=args.margin, min_sessions=min(3, max(1, args.sessions)))
    except ValueError as e:
        print(text("flash_calibrate_failed", detail=e), file=sys.stderr)
        return 1
    print(th.to_toml(), end="")
    if not args.dry_run:
        path = save_thresholds(th, args.out)
        print(text("flash_calibrate_written", path=path))
    return 0



if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main_calibrate())
