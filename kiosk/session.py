"""The certification session: a plain state machine, fed one observed frame at a time.

    waiting_face -> guiding -> challenge -> matching -> done

It never touches Qt, the camera or the database. Front ends (the Qt app, the CLI)
feed it `FrameObservation`s and show the `SessionEvent`s it returns. Liveness must
pass before any comparison (GB/T 38671); the distance is recorded in the verdict but
the resident is only ever told pass or fail and what to do next.

Identity continuity: while the challenge runs, one frame is encoded off the caller's
thread from every stretch of it (every ~1.5 s, and a stretch also ends at each passed
step and whenever the face was lost or jumped), plus the frame on which each step
passed. All of them must be one person (CONTINUITY_THRESHOLD; a little looser for pairs
with a turned frame), so someone stepping in at the same place is caught. The probe matched to the template is the fused embedding
of the best few encoded frames that pass explicit quality gates (frontal relative to
the person's own baseline, sharp, bright, big enough, eyes open, mouth closed); if none
does, the session says why instead of matching on a poor frame.
"""
from __future__ import annotations

import itertools
from collections import Counter
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from kiosk.liveness import LivenessCheck, LivenessThresholds, draw_challenge
from kiosk.liveness.signals import eye_signal
from kiosk.matching.scoring import Matcher, MatchResult
from kiosk.messages import GUIDANCE, action_prompt, reason_message
from kiosk.observe import FaceObservation, FrameObservation
from kiosk.quality import QualityLimits, guidance_for

# Two encodings of the same live person across a challenge (frontal vs slightly turned,
# blink, light change) stay well under this; it is looser than the match threshold on
# purpose: it only has to catch a *different* person stepping in.
CONTINUITY_THRESHOLD = 0.55
# A turn or nod passes 15-25 degrees off the baseline, where one person's distance to their
# own frontal frames grows (up to 0.53 on liveportrait_d3's expressive turn); pairs with such
# a frame get this looser bound. Pairs of near-frontal frames keep the strict one, so an
# in-place swap is still caught on the frontal samples taken every SAMPLE_EVERY_S.
CONTINUITY_THRESHOLD_TURNED = 0.62
CONTINUITY_FRONTAL_DEV = 12.0  # degrees from the baseline
GOOD_FRAMES_TO_START = 5
NO_FACE_TIMEOUT_S = 60.0

# Frames encoded for continuity: usable enough that dlib's embedding is not noise.
MIN_ENCODE_SHARPNESS = 20.0
MIN_ENCODE_BRIGHTNESS = 40.0
MIN_ENCODE_FACE_PX = 60.0
MAX_ENCODE_POSE_DEV = 30.0  # degrees from the baseline (a turn step passes at 15-25)
# One encoding per stretch of challenge: ~75-120 ms of dlib each, so bounded. After
# LATE_AFTER encodings (a long, slow challenge) the stretches get longer.
SAMPLE_EVERY_S = 1.5
SAMPLE_EVERY_LATE_S = 4.0
LATE_AFTER = 10

# Quality gates for the frames fused into the probe (the person's own baseline pose).
# Stricter than what it takes to start (quality.QualityLimits): start loose, match strict.
PROBE_FRAMES = 5
PROBE_MIN_BRIGHTNESS = 50.0
PROBE_MIN_SHARPNESS = 20.0
PROBE_MIN_FACE_PX = 80.0  # dlib needs ~80 px between the cheeks
PROBE_MAX_YAW_DEV = 10.0
PROBE_MAX_PITCH_DEV = 10.0
PROBE_MAX_ROLL = 25.0
PROBE_MIN_EYE_RATIO = 0.75  # eye signal / the person's open-eye level
PROBE_MAX_MOUTH_DELTA = 0.10  # inner-lip gap / width above the person's resting level
# Gate -> verdict reason when no frame passed (the gate that blocked the most frames).
POOR_QUALITY_REASONS = {"dark": "poor_quality_dark", "blurry": "poor_quality_blurry",
                        "small": "poor_quality_small", "not_frontal": "poor_quality_not_frontal"}

SETTLING_TEXT = "很好，请保持不动"

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

    @property
    def probe(self) -> dict:
        """How the probe was made: frames fused and their quality (no pixels)."""
        return self.liveness.get("probe", {})

    def to_json(self) -> dict:
        return {"verdict": self.verdict, "reason": self.reason, "message": self.message, "steps": self.steps}


@dataclass
class _Candidate:
    score: float
    rgb: np.ndarray | None
    face: FaceObservation
    gate: str | None  # first probe gate the frame fails, None = fit for the probe


@dataclass
class _Encoding:
    kind: str  # sample (best frame of a stretch) | step (the frame a step passed on)
    t: float
    score: float
    probe_ok: bool
    quality: dict
    future: Future


def _probe_score(face: FaceObservation, baseline) -> float:
    """Higher is a better frame to recognise: frontal, eyes open, mouth closed, sharp."""
    q = face.quality
    s = min(q.sharpness, 400.0) / 400.0 + min(q.face_width_px, 250.0) / 250.0
    if baseline is not None:
        s -= abs(face.yaw - baseline.yaw) / 15.0 + abs(face.pitch - baseline.pitch) / 15.0
        s -= max(0.0, face.mouth_openness - baseline.mouth - 0.05) * 5
    s -= abs(face.roll) / 30.0
    return s


def probe_gate(face: FaceObservation, baseline) -> str | None:
    """The first quality gate a frame fails for the probe, or None when it is fit to match on."""
    q = face.quality
    if q.brightness < PROBE_MIN_BRIGHTNESS:
        return "dark"
    if q.sharpness < PROBE_MIN_SHARPNESS:
        return "blurry"
    if q.face_width_px < PROBE_MIN_FACE_PX:
        return "small"
    if (abs(face.yaw - baseline.yaw) > PROBE_MAX_YAW_DEV or abs(face.pitch - baseline.pitch) > PROBE_MAX_PITCH_DEV
            or abs(face.roll) > PROBE_MAX_ROLL):
        return "not_frontal"
    if eye_signal(face) < PROBE_MIN_EYE_RATIO * baseline.eye:
        return "eyes_closed"
    if face.mouth_openness > baseline.mouth + PROBE_MAX_MOUTH_DELTA:
        return "mouth_open"
    return None


def _quality_summary(face: FaceObservation, baseline) -> dict:
    q = face.quality
    return {"t": round(face.t, 3), "sharpness": round(q.sharpness, 1), "brightness": round(q.brightness, 1),
            "face_px": round(q.face_width_px), "yaw_dev": round(face.yaw - baseline.yaw, 1),
            "pitch_dev": round(face.pitch - baseline.pitch, 1)}


class CertificationSession:
    def __init__(self, template: list[np.ndarray], encoder, *, actions: list[str] | None = None,
                 n_actions: int = 2, step_timeout_s: float = 20.0, matcher: Matcher | None = None,
                 cohort: np.ndarray | None = None, thresholds: LivenessThresholds | None = None,
                 limits: QualityLimits | None = None, executor: Executor | None = None,
                 roster: dict[str, list[np.ndarray]] | None = None):
        """`roster`: templates of the other enrolled residents (the claimed person excluded),
        for the matcher's roster cross-check."""
        self.template = [np.asarray(t, dtype=np.float64) for t in template]
        self.encoder = encoder
        self.actions = list(actions) if actions else draw_challenge(n_actions)
        self.matcher = matcher or Matcher()
        self.cohort = cohort
        self.roster = roster
        self.limits = limits or QualityLimits()
        self.liveness = LivenessCheck(self.actions, thresholds, step_timeout_s)
        self.executor = executor or matching_executor()
        self.state = "waiting_face"
        self.verdict: Verdict | None = None
        self._good = 0
        self._first_t: float | None = None
        self._last_face_t: float | None = None
        self._last_t: float | None = None
        self._last_guidance: str | None = None
        self._window_start: float | None = None
        self._window_best: _Candidate | None = None
        self._encodings: list[_Encoding] = []
        self._gates: Counter = Counter()  # probe gate outcome of every challenge frame
        self._match_future: Future | None = None
        self._settling_said = False

    # ------------------------------------------------------------------ feeding
    def start(self) -> list[SessionEvent]:
        return [SessionEvent("state", "waiting_face", "请正对屏幕，把脸放进框内")]

    def feed(self, obs: FrameObservation) -> list[SessionEvent]:
        if self.state == "done":
            return []
        t = obs.frame.t
        self._first_t = t if self._first_t is None else self._first_t
        self._last_t = t
        if obs.face is not None:
            self._last_face_t = t
        if self.state == "matching":
            return self._poll_match()
        code = guidance_for(obs, self.limits)
        out = self._guidance(code)
        if self.state in ("waiting_face", "guiding"):
            return out + self._before_challenge(obs, code)
        return out + self._challenge(obs)

    def _guidance(self, code: str | None) -> list[SessionEvent]:
        if code == self._last_guidance:
            return []
        self._last_guidance = code
        if code is None:
            return [SessionEvent("guidance", "ok", "")]
        return [SessionEvent("guidance", code, GUIDANCE[code])]

    def _before_challenge(self, obs: FrameObservation, code: str | None) -> list[SessionEvent]:
        t = obs.frame.t
        if obs.face is None:
            if t - (self._last_face_t if self._last_face_t is not None else self._first_t) > NO_FACE_TIMEOUT_S:
                return self._conclude("no_face")
            return []
        out = []
        if self.state == "waiting_face":
            self.state = "guiding"
            out.append(SessionEvent("state", "guiding", "请保持不动"))
        self._good = self._good + 1 if code is None else 0
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
                # The frame the action was done on is encoded too: whoever did it must be the resident.
                self._close_window()
                self._encode_step_frame(obs)
                out.append(SessionEvent("progress", u.action, "很好", {"step": u.step, "done": u.step + 1,
                                                                    "steps": len(self.actions)}))
            elif u.kind == "refused_jump":
                out.append(SessionEvent("prompt", u.action, "请再" + action_prompt(u.action).removeprefix("请"),
                                        {"step": u.step, "steps": len(self.actions), "again": True}))
            elif u.kind == "identity_check":
                self._close_window()
            elif u.kind == "failed":
                return out + self._conclude(u.reason, action=self.liveness.steps[min(u.step, len(self.actions) - 1)].action)
            elif u.kind == "passed":
                return out + self._begin_matching()
        if self.liveness.state == "settling" and not self._settling_said:
            # All actions done; natural motion may still need a few seconds of watching:
            # say so, or the resident sees nothing happen and walks away.
            self._settling_said = True
            out.append(SessionEvent("state", "settling", SETTLING_TEXT))
        self._consider(obs)
        return out

    # ------------------------------------------------------------------ frames to encode
    def _encodable(self, face: FaceObservation) -> bool:
        q, b = face.quality, self.liveness.baseline
        return (q.sharpness >= MIN_ENCODE_SHARPNESS and q.brightness >= MIN_ENCODE_BRIGHTNESS and q.num_faces == 1
                and q.face_width_px >= MIN_ENCODE_FACE_PX and abs(face.yaw - b.yaw) <= MAX_ENCODE_POSE_DEV
                and abs(face.pitch - b.pitch) <= MAX_ENCODE_POSE_DEV)

    def _consider(self, obs: FrameObservation) -> None:
        """Keep the best frame of the current stretch; encode it when the stretch is over."""
        face, baseline = obs.face, self.liveness.baseline
        if face is None or baseline is None:
            return
        t = obs.frame.t
        if self._window_start is None:
            self._window_start = t
        gate = probe_gate(face, baseline)
        self._gates[gate or "ok"] += 1
        if self._encodable(face):
            cand = _Candidate(_probe_score(face, baseline), obs.frame.rgb, face, gate)
            best = self._window_best
            # Frames fit for the probe always beat frames that are only fit for continuity.
            if best is None or (gate is None, cand.score) > (best.gate is None, best.score):
                self._window_best = cand
        every = SAMPLE_EVERY_S if len(self._encodings) < LATE_AFTER else SAMPLE_EVERY_LATE_S
        if t - self._window_start >= every:
            self._close_window()

    def _submit(self, kind: str, cand: _Candidate) -> None:
        baseline = self.liveness.baseline
        future = self.executor.submit(self.encoder.encode, cand.rgb, cand.face)
        self._encodings.append(_Encoding(kind, cand.face.t, cand.score, cand.gate is None,
                                         _quality_summary(cand.face, baseline), future))
        cand.rgb = None  # drop the pixels as soon as they are queued

    def _close_window(self) -> None:
        if self._window_best is not None:
            self._submit("sample", self._window_best)
        self._window_best, self._window_start = None, None

    def _encode_step_frame(self, obs: FrameObservation) -> None:
        face, baseline = obs.face, self.liveness.baseline
        if face is None or baseline is None or not self._encodable(face):
            return
        self._submit("step", _Candidate(_probe_score(face, baseline), obs.frame.rgb, face, probe_gate(face, baseline)))

    # ------------------------------------------------------------------ matching
    def _begin_matching(self) -> list[SessionEvent]:
        self._close_window()
        if not self._encodings:
            return self._conclude(self._poor_quality_reason())
        self.state = "matching"
        self._match_future = self.executor.submit(self._match, list(self._encodings))
        return [SessionEvent("state", "matching", "正在核对，请稍候")]

    def _poor_quality_reason(self) -> str:
        """The gate that kept the most frames out of the probe, as a verdict reason."""
        blocked = Counter({g: n for g, n in self._gates.items() if g != "ok"})
        if not blocked:
            return "poor_quality"
        return POOR_QUALITY_REASONS.get(blocked.most_common(1)[0][0], "poor_quality")

    def _match(self, encodings: list[_Encoding]) -> tuple[str, MatchResult | None, dict]:
        vecs = [e.future.result() for e in encodings]
        pairs, over = [], 0.0  # over: worst distance / the bound that pair must stay under
        for i, j in itertools.combinations(range(len(vecs)), 2):
            d = float(np.linalg.norm(vecs[i] - vecs[j]))
            turned = any(max(abs(encodings[k].quality["yaw_dev"]), abs(encodings[k].quality["pitch_dev"]))
                         > CONTINUITY_FRONTAL_DEV for k in (i, j))
            pairs.append(d)
            over = max(over, d / (CONTINUITY_THRESHOLD_TURNED if turned else CONTINUITY_THRESHOLD))
        probe = sorted((i for i, e in enumerate(encodings) if e.probe_ok), key=lambda i: -encodings[i].score)
        probe = sorted(probe[:PROBE_FRAMES], key=lambda i: encodings[i].t)
        info = {"segments": sum(e.kind == "sample" for e in encodings), "encodings": len(vecs),
                "continuity_max": round(max(pairs), 4) if pairs else 0.0,
                "probe": {"frames": len(probe), "candidates": sum(e.probe_ok for e in encodings),
                          "quality": [encodings[i].quality for i in probe],
                          "gates": dict(self._gates)}}
        if over > 1.0:
            return "face_changed", None, info
        if not probe:
            info["probe"]["detail"] = self._poor_quality_reason()
            return self._poor_quality_reason(), None, info
        result = self.matcher.compare([vecs[i] for i in probe], self.template, self.cohort, others=self.roster)
        # `decision` is the matcher's three-way answer; older MatchResults only have `match`.
        decision = getattr(result, "decision", "match" if result.match else "no_match")
        reason = {"match": "ok", "roster_ambiguous": "roster_ambiguous"}.get(decision, "no_match")
        if reason == "ok" and not result.match:
            reason = "no_match"
        return reason, result, info

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
            # Judge natural motion on what was seen; if it passes, match as usual.
            ups = self.liveness.conclude(self._last_t if self._last_t is not None else 0.0)
            if ups and ups[-1].kind == "passed":
                out = self._begin_matching()
                return out if self.state == "done" else out + self.finish(timeout)
            return self._conclude("still_image")
        if self._last_guidance == "multiple_faces":
            return self._conclude("multiple_faces")
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
        if reason == "timeout" and self._last_guidance == "multiple_faces":
            reason, action = "multiple_faces", None  # the action was not seen because two people were in view
        self.state = "done"
        steps = [{"action": s.action, "passed": s.passed, "at_s": round(s.at_s, 3) if s.at_s is not None else None}
                 for s in self.liveness.steps]
        live = self.liveness.result
        liveness = {"actions": self.actions, "natural_motion": round(live.natural_motion, 4) if live else None,
                    "jumps": live.jumps if live else 0,
                    "events": [dict(s.event.evidence, action=s.action) for s in self.liveness.steps if s.event]}
        if "probe" not in (extra or {}) and self._gates:
            liveness["probe"] = {"frames": 0, "candidates": sum(e.probe_ok for e in self._encodings),
                                 "quality": [], "gates": dict(self._gates)}
            if reason.startswith("poor_quality"):
                liveness["probe"]["detail"] = reason
        liveness.update(extra or {})
        self.verdict = Verdict("pass" if reason == "ok" else "fail", reason, reason_message(reason, action), steps,
                               match, liveness)
        # Drop any pixels still held: nothing of the face stays in memory after the verdict.
        self._window_best = None
        return [SessionEvent("result", reason, self.verdict.message, {"verdict": self.verdict.verdict})]


def run_session(session: CertificationSession, source, observer, **kw) -> Verdict:
    """Drive a session from a frame source to its verdict: `kiosk.driver.drive` (kept for callers)."""
    from kiosk.driver import drive

    return drive(session, source, observer, **kw)
