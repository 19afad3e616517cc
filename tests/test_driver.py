"""The one session driver (kiosk.driver.drive): lost camera, other source failures, stop, pacing.

Pure logic: a scripted source, an observer that sees no face, a session with no encoder
(nothing to encode without a face). No mediapipe, no dlib, no test data.
"""
from __future__ import annotations

import time

import numpy as np
import pytest

from kiosk.driver import drive
from kiosk.frames import CameraLost, Frame, FrameSourceError
from kiosk.observe import FrameObservation
from kiosk.session import CertificationSession


class ScriptedSource:
    """`n` grey frames at `fps`, then `error` (if any) is raised; records close()."""

    def __init__(self, n: int, error: Exception | None = None, fps: float = 25.0):
        self.n, self.error, self.fps = n, error, fps
        self.read = 0
        self.closed = False

    def __iter__(self):
        rgb = np.full((24, 32, 3), 128, np.uint8)
        for i in range(self.n):
            if self.closed:
                return
            self.read += 1
            yield Frame(rgb, i / self.fps, i)
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self.closed = True


class NoFaceObserver:
    def observe(self, frame: Frame) -> FrameObservation:
        return FrameObservation(frame, None, 0)


class NoEncoder:
    def encode(self, rgb, face):
        raise AssertionError("no face: nothing to encode")


def new_session() -> CertificationSession:
    return CertificationSession([np.zeros(128)], NoEncoder(), actions=["blink", "turn_left"])


def collect():
    calls: list[tuple[float | None, list]] = []
    return calls, lambda t, events: calls.append((t, list(events)))


def test_camera_lost_mid_way_ends_with_camera_lost_and_closes_the_source():
    src = ScriptedSource(10, CameraLost("test: unplugged"))
    session = new_session()
    calls, on_events = collect()
    frames = []
    v = drive(session, src, NoFaceObserver(), on_events=on_events, on_frame=lambda f, o: frames.append(f.index))
    assert (v.verdict, v.reason) == ("fail", "camera_lost")
    assert session.state == "done" and src.closed
    assert frames == list(range(10))
    # start events first (t = 0.0), one call per frame, the result last (t = None)
    assert calls[0][0] == 0.0 and calls[0][1][0].code == "waiting_face"
    assert calls[-1][0] is None and [e.kind for e in calls[-1][1]] == ["result"]
    assert calls[-1][1][0].code == "camera_lost"
    assert len(calls) == 1 + 10 + 1


def test_a_plain_frame_source_error_with_code_camera_lost_is_a_lost_camera_too():
    src = ScriptedSource(3, FrameSourceError("camera_lost", "摄像头连接中断"))
    assert drive(new_session(), src, NoFaceObserver()).reason == "camera_lost"
    assert src.closed


def test_other_source_failures_end_with_source_failed_not_a_face_verdict():
    src = ScriptedSource(5, FrameSourceError("unreadable_file", "无法读取图片文件"))
    v = drive(new_session(), src, NoFaceObserver())
    assert (v.verdict, v.reason) == ("fail", "source_failed")
    assert src.closed


def test_should_stop_aborts_with_its_reason_before_the_next_frame():
    src = ScriptedSource(1000)
    seen = []
    v = drive(new_session(), src, NoFaceObserver(), on_frame=lambda f, o: seen.append(f.index),
              should_stop=lambda: "cancelled" if len(seen) >= 7 else None)
    assert (v.verdict, v.reason) == ("fail", "cancelled")
    assert seen == list(range(7))  # the 8th frame was read but not looked at
    assert src.read == 8 and src.closed


def test_the_end_of_the_source_concludes_the_session():
    src = ScriptedSource(20)
    v = drive(new_session(), src, NoFaceObserver())
    assert v.reason == "no_face" and src.closed  # never saw a face


def test_max_s_ends_the_feed():
    src = ScriptedSource(1000)
    v = drive(new_session(), src, NoFaceObserver(), max_s=1.0)
    assert v.reason == "no_face"
    assert src.read == 27  # frames up to t = 1.04 s at 25 fps
    assert src.closed


def test_a_bug_in_a_callback_ends_with_internal_error_is_raised_and_closes_the_source():
    src = ScriptedSource(50)
    session = new_session()
    calls, on_events = collect()

    def on_frame(frame, obs):
        if frame.index == 4:
            raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        drive(session, src, NoFaceObserver(), on_frame=on_frame, on_events=on_events)
    assert session.verdict.reason == "internal_error" and src.closed
    assert calls[-1][0] is None and calls[-1][1][0].code == "internal_error"


def test_pace_plays_a_clip_at_its_own_speed():
    src = ScriptedSource(11, fps=50.0)  # 0.2 s of clip
    t0 = time.monotonic()
    drive(new_session(), src, NoFaceObserver(), pace=True)
    assert time.monotonic() - t0 >= 0.19


def test_run_session_is_the_driver():
    from kiosk.session import run_session

    src = ScriptedSource(4, CameraLost("x"))
    assert run_session(new_session(), src, NoFaceObserver()).reason == "camera_lost"
    assert src.closed
