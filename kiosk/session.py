"""The certification session: a plain state machine, fed one observed frame at a time.

    waiting_face -> guiding -> challenge -> matching -> done

It never touches Qt, the camera or the database. Front ends (the Qt app, the CLI)
feed it `FrameObservation`s and show the `SessionEvent`s it returns. Liveness must
pass before any comparison (GB/T 38671); the distance is recorded in the verdict but
the resident is only ever told pass or fail and what to do next.

Identity continuity: the challenge is cut into segments (before the first action,
after each action, after the face was lost or jumped). The sharpest frontal frame of
each segment is encoded off the caller's thread; all segments must be the same
person, and together they form the multi-frame probe that is matched to the template.
"""
from __future__ import annotations

import itertools
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from kiosk.liveness import LivenessCheck, LivenessThresholds, draw_challenge
from kiosk.matching.scoring import Matcher, MatchResult, fuse
from kiosk.messages import GUIDANCE, action_prompt, reason_message
from kiosk.observe import FaceObservation, FrameObservation
from kiosk.quality import QualityLimits, guidance_for

# Two encodings of the same live person across a challenge (frontal vs slightly turned,
# blink, light change) stay well under this; it is looser than the match threshold on
# purpose: it only has to catch a *different* person stepping in.
CONTINUITY_THRESHOLD = 0.55
GOOD_FRAMES_TO_START = 5
NO_FACE_TIMEOUT_S = 60.0
MIN_PROBE_SHARPNESS = 20.0
MIN_PROBE_BRIGHTNESS = 40.0

_shared_executor: ThreadPoolExecutor | None = None


def matching_executor() -> ThreadPoolExecutor:
    """One background thread for all dlib work: encodings must not run on the UI/caller thread."""
    global _shared_executor
    if _shared_executor is None:
        _shared_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-match")
    return _shared_executor


@dataclass(frozen=True)
class SessionEvent:
    kind: str  # state | prompt | guidance | progress | result
    code: str  # state name, action, guidance code or verdict reason
    text: str = ""  # plain Chinese for the screen and the voice
    data: dict = field(default_factory=dict)


@dataclass
class Verdict:
    verdict: str  # pass | fail
    reason: str
    message: str
    steps: list[dict]
    match: MatchResult | None = None
    liveness: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"verdict": self.verdict, "reason": self.reason, "message": self.message, "steps": self.steps}


@dataclass
class _Segment:
    best: tuple[float, np.ndarray, FaceObservation] | None = None
    future: Future | None = None


def _probe_score(face: FaceObservation, baseline) -> float:
    """Higher is a better frame to recognise: frontal, eyes open, mouth closed, sharp."""
    q = face.quality
    s = min(q.sharpness, 400.0) / 400.0 + min(q.face_width_px, 250.0) / 250.0
    if baseline is not None:
        s -= abs(face.yaw - baseline.yaw) / 15.0 + abs(face.pitch - baseline.pitch) / 15.0
        s -= max(0.0, face.mouth_openness - baseline.mouth - 0.05) * 5
    s -= abs(face.roll) / 30.0
    return s


class CertificationSession:
    def __init__(self, template: list[np.ndarray], encoder, *, actions: list[str] | None = None,
                 n_actions: int = 2, step_timeout_s: float = 20.0, matcher: Matcher | None = None,
                 cohort: np.ndarray | None = None, thresholds: LivenessThresholds | None = None,
                 limits: QualityLimits | None = None, executor: Executor | None = None,
                 roster: dict[str, list[np.ndarray]] | None = None):
        self.template = [np.asarray(t, dtype=np.float64) for t in template]
        self.encoder = encoder
        self.actions = list(actions) if actions else draw_challenge(n_actions)
        self.matcher = matcher or Matcher()
        self.cohort = cohort
        self.roster = roster  # other enrolled residents' templates (claimed person excluded)
        self.limits = limits or QualityLimits()
        self.liveness = LivenessCheck(self.actions, thresholds, step_timeout_s)
        self.executor = executor or matching_executor()
        self.state = "waiting_face"
        self.verdict: Verdict | None = None
        self._good = 0
        self._first_t: float | None = None
        self._last_face_t: float | None = None
        self._last_guidance: str | None = None
        self._segments: list[_Segment] = [_Segment()]
        self._match_future: Future | None = None

    # ------------------------------------------------------------------ feeding
    def start(self) -> list[SessionEvent]:
        return [SessionEvent("state", "waiting_face", "请正对屏幕，把脸放进框内")]

    def feed(self, obs: FrameObservation) -> list[SessionEvent]:
        if self.state == "done":
            return []
        t = obs.frame.t
        self._first_t = t if self._first_t is None else self._first_t
        if obs.face is not None:
            self._last_face_t = t
        if self.state == "matching":
            return self._poll_match()
        out = self._guidance(obs)
        if self.state in ("waiting_face", "guiding"):
            return out + self._before_challenge(obs)
        return out + self._challenge(obs)

    def _guidance(self, obs: FrameObservation) -> list[SessionEvent]:
        code = guidance_for(obs, self.limits)
        if code == self._last_guidance:
            return []
        self._last_guidance = code
        if code is None:
            return [SessionEvent("guidance", "ok", "")]
        return [SessionEvent("guidance", code, GUIDANCE[code])]

    def _before_challenge(self, obs: FrameObservation) -> list[SessionEvent]:
        t = obs.frame.t
        if obs.face is None:
            if t - (self._last_face_t if self._last_face_t is not None else self._first_t) > NO_FACE_TIMEOUT_S:
                return self._conclude("no_face")
            return []
        out = []
        if self.state == "waiting_face":
            self.state = "guiding"
            out.append(SessionEvent("state", "guiding", "请保持不动"))
        self._good = self._good + 1 if guidance_for(obs, self.limits) is None else 0
        if self._good >= GOOD_FRAMES_TO_START:
            self.state = "challenge"
            out.append(SessionEvent("state", "challenge", "", {"actions": self.actions}))
            out += self._challenge(obs)
        return out

    def _challenge(self, obs: FrameObservation) -> list[SessionEvent]:
        out: list[SessionEvent] = []
        for u in self.liveness.update(obs):
            if u.kind == "step_started":
                out.append(SessionEvent("prompt", u.action, action_prompt(u.action),
                                        {"step": u.step, "steps": len(self.actions)}))
            elif u.kind == "step_passed":
                self._close_segment()
                out.append(SessionEvent("progress", u.action, "很好", {"step": u.step, "done": u.step + 1,
                                                                    "steps": len(self.actions)}))
            elif u.kind == "refused_jump":
                out.append(SessionEvent("prompt", u.action, "请再" + action_prompt(u.action).removeprefix("请"),
                                        {"step": u.step, "steps": len(self.actions), "again": True}))
            elif u.kind == "identity_check":
                self._close_segment()
            elif u.kind == "failed":
                return out + self._conclude(u.reason, action=self.liveness.steps[min(u.step, len(self.actions) - 1)].action)
            elif u.kind == "passed":
                return out + self._begin_matching()
        if obs.face is not None and self.liveness.baseline is not None and self._usable_for_probe(obs.face):
            seg = self._segments[-1]
            score = _probe_score(obs.face, self.liveness.baseline)
            if seg.best is None or score > seg.best[0]:
                seg.best = (score, obs.frame.rgb, obs.face)
        return out

    @staticmethod
    def _usable_for_probe(face: FaceObservation) -> bool:
        q = face.quality
        return q.sharpness >= MIN_PROBE_SHARPNESS and q.brightness >= MIN_PROBE_BRIGHTNESS and q.num_faces == 1

    def _close_segment(self) -> None:
        seg = self._segments[-1]
        if seg.best is not None and seg.future is None:
            _, rgb, face = seg.best
            seg.future = self.executor.submit(self.encoder.encode, rgb, face)
            seg.best = (seg.best[0], None, face)  # drop the pixels as soon as they are queued
        self._segments.append(_Segment())

    # ------------------------------------------------------------------ matching
    def _begin_matching(self) -> list[SessionEvent]:
        self._close_segment()
        futures = [s.future for s in self._segments if s.future is not None]
        if not futures:
            return self._conclude("poor_quality")
        self.state = "matching"
        self._match_future = self.executor.submit(self._match, futures)
        return [SessionEvent("state", "matching", "正在核对，请稍候")]

    def _match(self, futures: list[Future]) -> tuple[str, MatchResult | None, dict]:
        vecs = [f.result() for f in futures]
        pairs = [float(np.linalg.norm(a - b)) for a, b in itertools.combinations(vecs, 2)]
        info = {"segments": len(vecs), "continuity_max": round(max(pairs), 4) if pairs else 0.0}
        if pairs and max(pairs) > CONTINUITY_THRESHOLD:
            return "face_changed", None, info
        result = self.matcher.compare(list(vecs), self.template, self.cohort)
        return ("ok" if result.match else "no_match"), result, info

    def _poll_match(self) -> list[SessionEvent]:
        if self._match_future is None or not self._match_future.done():
            return []
        reason, result, info = self._match_future.result()
        return self._conclude(reason, match=result, extra=info)

    def finish(self, timeout: float | None = 30.0) -> list[SessionEvent]:
        """The frame source has ended (clip over): wait for matching or conclude now."""
        if self.state == "done":
            return []
        if self.state == "matching":
            self._match_future.result(timeout=timeout)
            return self._poll_match()
        if self.liveness.state == "settling":
            return self._conclude("still_image")
        if self.state in ("waiting_face", "guiding") and self._last_face_t is None:
            return self._conclude("no_face")
        step = self.liveness.steps[self.liveness._current] if self.liveness.state == "running" else None
        return self._conclude("timeout", action=step.action if step else None)

    def abort(self, reason: str) -> list[SessionEvent]:
        """End now (camera lost, resident cancelled, idle reset)."""
        return [] if self.state == "done" else self._conclude(reason)

    # ------------------------------------------------------------------ verdict
    def _conclude(self, reason: str, action: str | None = None, match: MatchResult | None = None,
                  extra: dict | None = None) -> list[SessionEvent]:
        self.state = "done"
        steps = [{"action": s.action, "passed": s.passed, "at_s": round(s.at_s, 3) if s.at_s is not None else None}
                 for s in self.liveness.steps]
        live = self.liveness.result
        liveness = {"actions": self.actions, "natural_motion": round(live.natural_motion, 4) if live else None,
                    "jumps": live.jumps if live else 0,
                    "events": [dict(s.event.evidence, action=s.action) for s in self.liveness.steps if s.event]}
        liveness.update(extra or {})
        self.verdict = Verdict("pass" if reason == "ok" else "fail", reason, reason_message(reason, action), steps,
                               match, liveness)
        # Drop any pixels still held: nothing of the face stays in memory after the verdict.
        for seg in self._segments:
            seg.best = None
        return [SessionEvent("result", reason, self.verdict.message, {"verdict": self.verdict.verdict})]


def run_session(session: CertificationSession, source, observer) -> Verdict:
    """Drive a session from a frame source to its verdict (CLI, tests, batch jobs)."""
    from kiosk.frames import FrameSourceError

    session.start()
    try:
        for frame in source:
            session.feed(observer.observe(frame))
            if session.state == "done":
                break
        session.finish()
    except FrameSourceError as e:
        session.abort(e.code if e.code == "camera_lost" else "no_face")
    finally:
        source.close()
    return session.verdict
