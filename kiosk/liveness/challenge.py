"""A liveness challenge: a random sequence of actions, checked frame by frame.

Rules of the challenge (GB/T 38671 asks for liveness before any comparison):
- the sequence is drawn with `secrets` and always holds at least one non-rigid action
  (blink or open mouth), which no photo - bent, turned or slid - can perform;
- each step has a generous timeout (elderly users);
- exactly one face must be in view; a face that vanishes for long or jumps away is
  flagged so the session re-checks identity;
- an action seen as a jump between two frozen poses is refused (slideshow of stills),
  and the whole face must show natural motion (a still photo fails).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kiosk.liveness.events import ACTIONS, NON_RIGID_ACTIONS, ActionEvent
from kiosk.liveness.motion import NaturalMotion
from kiosk.liveness.rules import Rule, is_calibration_frame, make_rule
from kiosk.liveness.signals import Baseline, Sample, sample_of
from kiosk.thresholds import LivenessThresholds
from kiosk.observe import FrameObservation


def draw_challenge(n: int = 2, pool: tuple[str, ...] = ACTIONS) -> list[str]:
    """n distinct actions in random order, at least one of them non-rigid."""
    rng = secrets.SystemRandom()
    n = max(1, min(n, len(pool)))
    non_rigid = [a for a in pool if a in NON_RIGID_ACTIONS]
    if not non_rigid:
        raise ValueError("a challenge needs blink or open_mouth in its pool")
    if n == 1 and "blink" in pool:
        # Alone, open_mouth can be fooled: FaceMesh "sees" a mouth open on some printed photos
        # turned in front of the camera. Any second action stops them; a blink alone is safe.
        return ["blink"]
    first = rng.choice(non_rigid)
    rest = rng.sample([a for a in pool if a != first], n - 1)
    seq = [first, *rest]
    rng.shuffle(seq)
    return seq


class BadActions(ValueError):
    """A requested challenge that cannot be used; the message is plain Chinese for the user: the
    catalogue's `actions_<why>` (unknown: some names are not actions; no_blink_or_mouth)."""

    code = "bad_actions"

    def __init__(self, why: str, bad: list[str] | None = None, **data: str):
        from kiosk.texts import text  # the catalogue imports liveness.events only: no cycle

        self.bad = list(bad or [])
        message = text(f"actions_{why}", allowed=_allowed_actions_text(),
                       names=text("engine_list").join(map(str, self.bad)), **data)
        super().__init__(message)
        self.why, self.message, self.data = why, message, data


# Every reason a challenge can fail with (the session turns them into verdict reasons).
FAIL_REASONS = ("timeout", "slideshow", "still_image", "multiple_faces")


def _allowed_actions_text() -> str:
    from kiosk.texts import text  # the catalogue imports liveness.events only: no cycle

    return text("engine_list").join(f"{text('action_' + a)} {a}" for a in ACTIONS)


def validate_actions(actions: list[str]) -> list[str]:
    bad = [a for a in actions if a not in ACTIONS]
    if bad:
        raise BadActions("unknown", bad)
    if not any(a in NON_RIGID_ACTIONS for a in actions):
        # A photo can be turned or tilted, but it cannot blink or open its mouth.
        raise BadActions("no_blink_or_mouth")
    return actions


@dataclass
class Step:
    action: str
    started_at: float | None = None
    passed: bool = False
    at_s: float | None = None
    event: ActionEvent | None = None


@dataclass(frozen=True)
class LivenessUpdate:
    kind: str  # calibrated | step_started | step_passed | refused_jump | identity_check | passed | failed
    step: int = -1
    action: str = ""
    reason: str = ""
    t: float = 0.0


@dataclass
class LivenessResult:
    passed: bool
    reason: str
    steps: list[Step]
    natural_motion: float
    jumps: int
    evidence: dict[str, Any] = field(default_factory=dict)


class LivenessCheck:
    def __init__(self, actions: list[str], th: LivenessThresholds | None = None, step_timeout_s: float = 20.0):
        self.th = th or LivenessThresholds()
        self.steps = [Step(a) for a in validate_actions(list(actions))]
        self.step_timeout_s = step_timeout_s
        self.state = "calibrating"
        self.baseline: Baseline | None = None
        self.result: LivenessResult | None = None
        self._calib: list[Sample] = []
        self._current = 0
        self._rule: Rule | None = None
        self._motion: NaturalMotion | None = None
        self._jumps = 0
        self._multi_since: float | None = None
        self._last_face_t: float | None = None
        self._last_box: tuple[int, int, int, int] | None = None
        self._times: list[float] = []
        self._settle_from = 0.0

    # -- helpers ----------------------------------------------------------
    @property
    def current_action(self) -> str | None:
        return self.steps[self._current].action if self.state == "running" else None

    def _fps(self) -> float:
        if len(self._times) < 3:
            return 30.0
        dt = float(np.median(np.diff(self._times[-30:])))
        return 1.0 / dt if dt > 0 else 30.0

    def _fail(self, reason: str, t: float) -> list[LivenessUpdate]:
        self.state = "failed"
        self.result = LivenessResult(False, reason, self.steps, self._motion.drift if self._motion else 0.0, self._jumps)
        return [LivenessUpdate("failed", self._current, reason=reason, t=t)]

    def _start_step(self, i: int, t: float) -> LivenessUpdate:
        self._current = i
        step = self.steps[i]
        step.started_at = t
        assert self.baseline is not None, "steps start after calibration"
        self._rule = make_rule(step.action, self.baseline, self.th)
        return LivenessUpdate("step_started", i, step.action, t=t)

    # -- main entry ---------------------------------------------------------
    def update(self, obs: FrameObservation) -> list[LivenessUpdate]:
        if self.state in ("passed", "failed"):
            return []
        if self.state == "settling":
            return self.settle(obs)
        t = obs.frame.t
        self._times.append(t)
        out: list[LivenessUpdate] = []
        # Exactly one face.
        if obs.num_faces > 1:
            self._multi_since = t if self._multi_since is None else self._multi_since
            if t - self._multi_since > self.th.max_multi_face_s and self.state == "running":
                return self._fail("multiple_faces", t)
        else:
            self._multi_since = None
        face = obs.face
        if face is None:
            if self.state == "running" and self._timed_out(t):
                return self._fail("timeout", t)
            return out
        # Continuity: a long gap or a jump means it may be someone else now.
        if self._last_face_t is not None and self.state == "running":
            gap = t - self._last_face_t
            jump = 0.0
            if self._last_box is not None:
                (l0, t0, r0, b0), (l1, t1, r1, b1) = self._last_box, face.box
                width = max(r0 - l0, 1)
                jump = float(np.hypot((l1 + r1 - l0 - r0) / 2, (t1 + b1 - t0 - b0) / 2) / width)
            if gap > self.th.max_face_lost_s or jump > self.th.max_jump_face_widths:
                out.append(LivenessUpdate("identity_check", self._current, reason="face_lost" if gap > self.th.max_face_lost_s else "face_jump", t=t))
        self._last_face_t, self._last_box = t, face.box
        s = sample_of(face)

        if self.state == "calibrating":
            if is_calibration_frame(face.yaw, face.pitch, self.th):
                self._calib.append(s)
            if len(self._calib) >= self.th.calibration_frames:
                self.baseline = Baseline.from_samples(self._calib)
                self._motion = NaturalMotion(self.baseline.shape)
                self.state = "running"
                out.append(LivenessUpdate("calibrated", t=t))
                out.append(self._start_step(0, t))
            return out

        assert self._motion is not None and self._rule is not None, "running: calibrated, a step started"
        self._motion.update(face.landmarks, t)
        ev = self._rule.update(s)
        if ev is not None:
            if not ev.gradual and self._fps() >= self.th.inbetween_min_fps:
                # Jumped straight between two poses: the signature of two stills flipped.
                self._jumps += 1
                out.append(LivenessUpdate("refused_jump", self._current, ev.action, t=t))
                if self._jumps >= 2:
                    return out + self._fail("slideshow", t)
            else:
                step = self.steps[self._current]
                step.passed, step.at_s, step.event = True, t, ev
                out.append(LivenessUpdate("step_passed", self._current, ev.action, t=t))
                if self._current + 1 < len(self.steps):
                    out.append(self._start_step(self._current + 1, t))
                else:
                    return out + self._finish(t)
        if self._timed_out(t):
            return out + self._fail("timeout", t)
        return out

    def _timed_out(self, t: float) -> bool:
        step = self.steps[self._current]
        return step.started_at is not None and t - step.started_at > self.step_timeout_s

    def _finish(self, t: float) -> list[LivenessUpdate]:
        m = self._motion
        assert m is not None, "finishing: calibrated"
        short = m.frames < self.th.natural_motion_min_frames or m.span_s < self.th.natural_motion_min_s
        # A very still live face may need longer than the minimum window to show its drift (a
        # picture's drift does not grow with time): below the floor, keep watching up to
        # natural_motion_max_s before judging.
        doubtful = m.drift < self.th.natural_motion_min and m.span_s < self.th.natural_motion_max_s
        if short or doubtful:
            # Too quick to judge natural motion: keep watching (settle) until the window is long enough.
            if self.state != "settling":
                self.state, self._settle_from = "settling", t
            return []
        return self._judge_motion(t)

    def _judge_motion(self, t: float) -> list[LivenessUpdate]:
        m = self._motion
        assert m is not None, "judging: calibrated"
        if m.frames < self.th.natural_motion_min_frames or m.drift < self.th.natural_motion_min:
            return self._fail("still_image", t)
        self.state = "passed"
        self.result = LivenessResult(True, "ok", self.steps, m.drift, self._jumps)
        return [LivenessUpdate("passed", t=t)]

    def settle(self, obs: FrameObservation) -> list[LivenessUpdate]:
        """After the last action, keep feeding frames until natural motion can be judged."""
        t = obs.frame.t
        # Still exactly one face while settling: a second person stepping in fails as during the steps.
        if obs.num_faces > 1:
            self._multi_since = t if self._multi_since is None else self._multi_since
            if t - self._multi_since > self.th.max_multi_face_s:
                return self._fail("multiple_faces", t)
        else:
            self._multi_since = None
        if obs.face is not None and self._motion is not None:
            self._motion.update(obs.face.landmarks, t)
        if t - self._settle_from > self.step_timeout_s:  # face gone while settling: judge what we have
            return self._judge_motion(t)
        return self._finish(t)

    def conclude(self, t: float) -> list[LivenessUpdate]:
        """The frame source ended while settling: judge natural motion on the frames seen so far
        (never on fewer than natural_motion_min_frames)."""
        if self.state != "settling":
            return []
        return self._judge_motion(t)
