"""Enrolment at the terminal (建模): liveness first, then a few quality-gated frames across slight poses.

No Qt, no store, no words (codes only; kiosk.texts `enrol_<code>` says them). The session is a
CertificationSession with no template and no matching: the same liveness challenge, PAD check,
frame sampler (kiosk.identity) and probe gates (kiosk.probe), driven by the one driver
(kiosk.driver). When liveness has passed (and PAD found no attack) it asks for slight poses
(`enrol_look_straight`, `enrol_look_left`, `enrol_look_right`: events of kind "enrol"), keeps
sampling, then checks that every encoded frame is one person and keeps the best MAX_FRAMES
that pass the probe gates. So no photo is enrolled: a picture fails the challenge.

Pose range: in each left/right stage the frame turned furthest that way that still passes the probe gates
(within PROBE_MAX_YAW_DEV of the person's own frontal pose) is encoded too (kind "pose") and
comes first in the choice, so the template set spans the poses the person really took. The
chosen frames' yaw and pitch (relative to that frontal pose) are kept in the enrolment's
quality as `pose_spread` (left/right/up/down, NARROW_YAW_DEG): shown to the reviewer, never a
requirement (an elderly person with a stiff neck is still enrolled; the reviewer sees the
narrow range).

Pacing (the people enrolled are old and slow to react): a pose step starts counting when its
guidance has been heard. With `prompt_seconds(code)` (the spoken guidance's length, given by the
front end that plays it: kiosk.app.enrol from the voice files) a step is `prompt_seconds` (the
sentence) + `response_s` (RESPONSE_S: turning the head after hearing it) + `pose_stage_s` (the
capture); the frame kept for a direction is taken only in the capture part, so a head still
looking ahead while the sentence ends, or still turned from the step before, is not kept as that
pose. Without a voice (prompt_seconds None: the CLI, the app with the voice off) a step is
`pose_stage_s` from the guidance, as the text is shown at once. `pose_windows` records each
step's (code, shown, capture, end) on the frames' clock.

Refusal codes: no_face, the liveness failure reasons (kiosk.liveness), presentation_attack,
too_few_good_frames, not_one_person; abort reasons (camera_lost, cancelled…) as the session's.

Review rules (`check_reviewer`): an enrolment is approved or rejected by a reviewer or admin who
is not the operator who enrolled it. The store keeps the template set pending until then.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiosk.arrays import Floats
from kiosk.core.errors import KioskError
from kiosk.identity import Encoding, continuity, encodable
from kiosk.observe import FrameObservation
from kiosk.probe import Candidate, candidate
from kiosk.session import CertificationSession, SessionEvent, Verdict
from kiosk.texts import text

MIN_FRAMES = 5
MAX_FRAMES = 10
POSE_STAGE_S = 2.5  # seconds of sampling per pose asked for (the capture part of a step)
RESPONSE_S = 1.5  # after the guidance is heard, before its pose is captured (kiosk.toml pose_response_s)
MAX_PROMPT_S = 15.0  # a spoken guidance longer than this is taken as this long (a broken length)
POSES = ("enrol_look_straight", "enrol_look_left", "enrol_look_right", "enrol_look_straight")
GUIDANCE_CODES = tuple(dict.fromkeys(POSES))
# Stages whose most turned fit frame is encoded too, and the sign of their yaw (kiosk.observe: > 0 own left).
TURNED_POSES = {"enrol_look_left": 1.0, "enrol_look_right": -1.0}
NARROW_YAW_DEG = 6.0  # chosen frames spanning less yaw than this: "narrow" for the reviewer (never refused)
TOO_FEW_GOOD_FRAMES = "too_few_good_frames"
NOT_ONE_PERSON = "not_one_person"
# Codes of its own (the others are the session's reasons, with their catalogue words).
REFUSAL_CODES = (TOO_FEW_GOOD_FRAMES, NOT_ONE_PERSON)
ENROL_ROLES = ("assistant", "admin")
REVIEW_ROLES = ("reviewer", "admin")
# Every EnrolmentError code (words: kiosk.texts enrol_error_<code>).
ERROR_CODES = ("not_allowed_to_enrol", "not_allowed_to_review", "own_enrolment", "not_pending", "consent_required",
               "no_reason")


class EnrolmentError(KioskError):
    """A rule refused the request: `code` (ERROR_CODES) and `data`; the words are the catalogue's."""

    def __init__(self, code: str, **data: Any) -> None:
        self.data = data
        super().__init__(code, text(f"enrol_error_{code}", **data))


@dataclass(frozen=True)
class PoseWindow:
    """One pose step on the frames' clock: the guidance `code` given at `shown`; the pose's frame
    may be kept from `capture` (heard + response time) until `end`, when the next step begins."""

    code: str
    shown: float
    capture: float
    end: float


class EnrolmentSession(CertificationSession):
    """Liveness (and PAD), then pose capture, then one-person check and frame choice: no matching."""

    def __init__(self, encoder: Any, *, min_frames: int = MIN_FRAMES, max_frames: int = MAX_FRAMES,
                 pose_stage_s: float = POSE_STAGE_S, prompt_seconds: Callable[[str], float] | None = None,
                 response_s: float = RESPONSE_S, **kw: Any) -> None:
        """`prompt_seconds(code)`: how long the guidance `code` takes to say (None: not spoken, the
        steps are `pose_stage_s` long); `response_s`: the time to react after hearing it."""
        super().__init__([], encoder, **kw)
        self.min_frames, self.max_frames, self.pose_stage_s = min_frames, max_frames, pose_stage_s
        self.prompt_seconds, self.response_s = prompt_seconds, max(0.0, float(response_s))
        self.pose_windows: list[PoseWindow] = []  # the steps so far (the last one may still run)
        self.template_set: list[Floats] = []  # filled when the verdict is "ok"; never in the verdict
        self._pose = -1
        self._pose_t0: float | None = None
        self._turned: Candidate | None = None  # the most turned fit frame of this left/right stage
        self._turned_t: set[float] = set()  # times of the stages' turned frames (encoded)

    def feed(self, obs: FrameObservation) -> list[SessionEvent]:
        if self.state != "capturing":
            return super().feed(obs)
        t = obs.frame.t
        self._last_t = t
        if obs.face is not None:
            self._last_face_t = t
        if self._pose_t0 is None:
            self._pose_t0 = t
        if len(self.pose_windows) <= self._pose:  # the step's first frame: when it ends
            self.pose_windows.append(self._window(POSES[self._pose], self._pose_t0))
        window = self.pose_windows[-1]
        if t >= window.end:
            self._close_window()
            self._encode_turned()
            return self._next_pose(t)
        self._consider(obs)  # every frame still counts for who it is (continuity) and the best frontal frames
        if t >= window.capture:  # ... but the pose's own frame only once it can have been taken
            self._keep_turned(obs)
        return []

    def may_keep(self) -> set[float]:
        """Times of the frames the enrolment has kept or may still keep (queued encodings, the stretch's
        best so far, this stage's most turned frame): a caller keeping thumbnails must not drop these,
        however long ago they were taken (a slow machine delivers frames with gaps)."""
        kept = {e.t for e in self._encodings}
        for t in (self._sampler.pending_t, self._turned.face.t if self._turned is not None else None):
            if t is not None:
                kept.add(t)
        return kept

    def _window(self, code: str, shown: float) -> PoseWindow:
        """The step of guidance `code` given at `shown`: heard, reacted to, then captured."""
        lead = 0.0
        if self.prompt_seconds is not None:
            said = min(max(0.0, float(self.prompt_seconds(code))), MAX_PROMPT_S)
            lead = said + self.response_s
        return PoseWindow(code, shown, shown + lead, shown + lead + self.pose_stage_s)

    def _keep_turned(self, obs: FrameObservation) -> None:
        """In a left/right stage: the frame turned furthest that way that the probe still takes (a
        head still turned the other way from the stage before does not count)."""
        face, baseline = obs.face, self.liveness.baseline
        if face is None or baseline is None or not 0 <= self._pose < len(POSES):
            return
        sign = TURNED_POSES.get(POSES[self._pose])
        if sign is None or sign * (face.yaw - baseline.yaw) <= 0:
            return
        cand = candidate(face, obs.frame.rgb, baseline)
        if cand.gate is not None or not encodable(face, baseline):
            return
        if self._turned is None or sign * face.yaw > sign * self._turned.face.yaw:
            self._turned = cand

    def _encode_turned(self) -> None:
        cand, self._turned = self._turned, None
        if cand is not None and self.liveness.baseline is not None:
            self._turned_t.add(cand.face.t)
            self._sampler.encode("pose", cand, self.liveness.baseline)  # (not twice if it was the stretch's best)

    def _next_pose(self, t: float | None) -> list[SessionEvent]:
        self._pose += 1
        self._pose_t0 = t
        if self._pose >= len(POSES):
            self.state = "captured"
            return super()._begin_matching()
        return [SessionEvent("enrol", POSES[self._pose], {"pose": self._pose, "poses": len(POSES)})]

    def _begin_matching(self) -> list[SessionEvent]:
        """Liveness passed: PAD first (an attack ends it here), then the poses."""
        self._close_window()
        if self.pad is not None or self._flash is not None:
            attack, _ = self._pad_verdict()
            if attack:
                return self._conclude("presentation_attack")
        self.state = "capturing"
        return self._next_pose(None)

    def finish(self, timeout: float | None = 30.0) -> list[SessionEvent]:
        if self.state == "capturing":  # the clip ended during the poses: judge what was captured
            self._close_window()
            self._encode_turned()
            self._pose = len(POSES)
            self.state = "captured"
            out = super()._begin_matching()
            return out if self.state == "done" else out + super().finish(timeout)
        return super().finish(timeout)

    def _conclude(self, reason: str, action: str | None = None, match: Any = None,
                  extra: dict[str, Any] | None = None) -> list[SessionEvent]:
        self._turned = None  # nothing of the face stays in memory after the verdict
        return super()._conclude(reason, action, match, extra)

    def _match(self, encodings: list[Encoding]) -> tuple[str, None, dict[str, Any]]:
        vecs = [e.future.result() for e in encodings]
        same_person, worst = continuity(vecs, encodings)
        # the stages' turned frames first (the pose range), then the best of the rest
        fit = sorted((i for i, e in enumerate(encodings) if e.probe_ok),
                     key=lambda i: (encodings[i].t not in self._turned_t, -encodings[i].score))
        chosen = sorted(fit[:self.max_frames], key=lambda i: encodings[i].t)
        info: dict[str, Any] = {"encodings": len(vecs), "continuity_max": round(worst, 4),
                                "probe": {"frames": len(chosen), "candidates": len(fit),
                                          "quality": [encodings[i].quality for i in chosen],
                                          "gates": dict(self._gates)}}
        if not same_person:
            return NOT_ONE_PERSON, None, info
        if len(chosen) < self.min_frames:
            return TOO_FEW_GOOD_FRAMES, None, info
        self.template_set = [vecs[i] for i in chosen]
        return "ok", None, info


@dataclass
class EnrolmentResult:
    """`code` "ok" with 5–10 `vectors`, or a refusal code. `quality` holds no face data."""

    code: str
    vectors: list[Floats] = field(default_factory=list)
    quality: dict[str, Any] = field(default_factory=dict)
    action: str | None = None

    @property
    def ok(self) -> bool:
        return self.code == "ok"


def result_of(session: EnrolmentSession) -> EnrolmentResult:
    """The enrolment's outcome once the driver has concluded the session."""
    v: Verdict | None = session.verdict
    assert v is not None, "the session has concluded"
    code = NOT_ONE_PERSON if v.reason == "face_changed" else v.reason
    if code.startswith("poor_quality"):
        code = TOO_FEW_GOOD_FRAMES
    probe = v.liveness.get("probe", {})
    quality = {"frames": probe.get("frames", 0), "candidates": probe.get("candidates", 0),
               "gates": probe.get("gates", {}), "poses": probe.get("quality", []),
               "continuity_max": v.liveness.get("continuity_max"), "actions": v.liveness.get("actions", []),
               "steps": v.steps}
    if "pad" in v.liveness:
        quality["pad_attack"] = v.liveness["pad"].get("attack")
    spread = pose_spread(quality["poses"])
    if spread is not None:
        quality["pose_spread"] = spread
    return EnrolmentResult(code, list(session.template_set) if code == "ok" else [], quality, v.action)


def pose_spread(frames: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The head poses an enrolment's chosen frames span, from their quality summaries (kiosk.probe:
    `yaw_dev`, `pitch_dev`, degrees from the person's own frontal pose; yaw > 0 their own left,
    pitch > 0 down): each frame's yaw and pitch in time order, how far left/right/up/down, the
    spans and whether the yaw range is narrow. None when no frame has a pose (older records)."""
    poses = [(float(f["yaw_dev"]), float(f.get("pitch_dev", 0.0))) for f in frames if "yaw_dev" in f]
    if not poses:
        return None
    yaws, pitches = [y for y, _ in poses], [p for _, p in poses]
    yaw_span = max(yaws) - min(yaws)
    return {"yaw": [round(y, 1) for y in yaws], "pitch": [round(p, 1) for p in pitches],
            "left": round(max(0.0, max(yaws)), 1), "right": round(max(0.0, -min(yaws)), 1),
            "up": round(max(0.0, -min(pitches)), 1), "down": round(max(0.0, max(pitches)), 1),
            "yaw_span": round(yaw_span, 1), "pitch_span": round(max(pitches) - min(pitches), 1),
            "narrow": yaw_span < NARROW_YAW_DEG}


def enrolment_pose_spread(quality: dict[str, Any]) -> dict[str, Any] | None:
    """An enrolment record's pose spread: the one kept, or (a record made before it was kept)
    computed from its chosen frames' quality summaries."""
    kept = quality.get("pose_spread")
    return kept if isinstance(kept, dict) else pose_spread(list(quality.get("poses") or []))


def pose_spread_line(spread: dict[str, Any] | None) -> str:
    """One line for the reviewer: 角度范围 左 7° — 右 9°, and that it is narrow when it is ("" without a record)."""
    if not spread:
        return ""
    code = "enrol_pose_spread_narrow" if spread.get("narrow") else "enrol_pose_spread"
    return text(code, left=round(spread.get("left", 0)), right=round(spread.get("right", 0)),
                pitch=round(spread.get("pitch_span", 0)))


def refusal_message(result: EnrolmentResult) -> str:
    """What went wrong and what to do next (the catalogue's words)."""
    from kiosk.texts import verdict_message

    if result.code in REFUSAL_CODES:
        return text(f"enrol_refused_{result.code}")
    return verdict_message(result.code, result.action)


def check_enroller(operator: Any) -> None:
    """Only an assistant (协理员) or an admin enrols."""
    if operator.role not in ENROL_ROLES:
        raise EnrolmentError("not_allowed_to_enrol", name=operator.name)


def check_reviewer(operator: Any, enrolment: dict[str, Any]) -> None:
    """A reviewer (审核员) or admin, never the operator who enrolled it, reviews a pending enrolment."""
    if enrolment.get("status") != "pending_review":
        raise EnrolmentError("not_pending", id=enrolment.get("id"))
    if operator.name == enrolment.get("enrolled_by"):
        raise EnrolmentError("own_enrolment", name=operator.name)
    if operator.role not in REVIEW_ROLES:
        raise EnrolmentError("not_allowed_to_review", name=operator.name)
