"""The one loop that drives a certification session from a frame source to its verdict.

Every front end uses it: the CLI (`kiosk certify`, `demo`, `certify-resident`), the app's
camera worker thread, the virtual-camera demo and the tests. It owns the answers every
front end must give alike:

- a camera lost mid-check (`FrameSourceError` with code `camera_lost`, e.g. `CameraLost`)
  ends the session with `camera_lost`, always;
- any other source failure mid-check ends it with `source_failed` (the source stopped
  delivering frames: a broken file, a vanished folder), never with a face verdict;
- a bug anywhere in the loop ends it with `internal_error` and is re-raised;
- a stop asked for by the caller (`should_stop()` returns a reason: `cancelled`,
  `idle_reset`) ends it with that reason before the next frame is looked at;
- the source is always closed, whatever happened (the observer belongs to the caller).

None of these endings says anything about the resident's face; the service does not count
them as a try (`kiosk.service.NOT_COUNTED_REASONS`).

    drive(session, source, observer, *, on_frame=None, on_events=None, should_stop=None,
          pace=False, max_s=None) -> Verdict

`on_frame(frame, obs)` sees every frame after it was fed (the app's preview);
`on_events(t, events)` is called once per frame with that frame's events (maybe none) and
its time `t`, once with the start events (t = 0.0) and once with the final ones (t = None). `pace=True` plays a recorded clip at
its own speed (a video file standing in for the camera in the app). `max_s` ends the feed
after that many seconds of source time (then the session concludes on what it saw).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from kiosk.frames import Frame, FrameSource, FrameSourceError

if TYPE_CHECKING:  # no import cycle at run time: the driver only duck-types the session
    from kiosk.observe import FrameObservation
    from kiosk.session import CertificationSession, SessionEvent, Verdict

log = logging.getLogger(__name__)

CAMERA_LOST = "camera_lost"
SOURCE_FAILED = "source_failed"
INTERNAL_ERROR = "internal_error"


class Observer(Protocol):
    def observe(self, frame: Frame) -> FrameObservation: ...


def source_failure_reason(error: FrameSourceError) -> str:
    """The verdict reason for a source that failed mid-check: one answer for every front end."""
    return CAMERA_LOST if error.code == CAMERA_LOST else SOURCE_FAILED


def drive(session: "CertificationSession", source: FrameSource, observer: Observer, *,
          on_frame: Callable[[Any, Any], None] | None = None,
          on_events: Callable[[float | None, list[SessionEvent]], None] | None = None,
          should_stop: Callable[[], str | None] | None = None,
          pace: bool = False, max_s: float | None = None,
          finish_timeout: float | None = 30.0) -> "Verdict":
    """Feed `session` from `source` (through `observer`) until its verdict; returns it."""

    def emit(t: float | None, events: list[SessionEvent]) -> None:
        if on_events is not None:  # every frame, events or not (a follower keeps its own time)
            on_events(t, events)

    final: list[SessionEvent] = []
    try:
        emit(0.0, session.start())
        t0 = time.monotonic()
        stopped: str | None = None
        for frame in source:
            stopped = should_stop() if should_stop is not None else None
            if stopped:
                break
            if pace:
                delay = t0 + frame.t - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            obs = observer.observe(frame)
            events = session.feed(obs)
            if on_frame is not None:
                on_frame(frame, obs)
            emit(frame.t, events)
            if session.state == "done" or (max_s is not None and frame.t > max_s):
                break
        if stopped:
            final = session.abort(stopped)
        elif session.state != "done":
            final = session.finish(finish_timeout)  # the clip is over (or max_s reached)
    except FrameSourceError as e:
        reason = source_failure_reason(e)
        log.warning("frame source failed mid-check (%s): %s", reason, e)
        final = session.abort(reason)
    except BaseException:
        log.exception("session driver failed")
        final = session.abort(INTERNAL_ERROR)
        if final and on_events is not None:
            try:
                on_events(None, final)
            except Exception:  # noqa: BLE001 - the first error is the one to report
                log.exception("on_events failed on the final events")
        raise
    finally:
        try:
            source.close()
        except Exception:  # noqa: BLE001 - closing a dead camera must not hide the verdict
            log.exception("could not close the frame source")
    emit(None, final)
    assert session.verdict is not None, "every way out of the loop concludes the session"
    return session.verdict
