"""Enrolment at the terminal (建模): liveness first, then a few quality-gated frames across slight poses.

No Qt, no store, no words (codes only; kiosk.texts `enrol_<code>` says them). The session is a
CertificationSession with no template and no matching: the same liveness challenge, PAD check,
frame sampler (kiosk.identity) and probe gates (kiosk.probe), driven by the one driver
(kiosk.driver). When liveness has passed (and PAD found no attack) it asks for slight poses
(`enrol_look_straight`, `enrol_look_left`, `enrol_look_right`: events of kind "enrol"), keeps
sampling, then checks that every encoded frame is one person and keeps the best MAX_FRAMES
that pass the probe gates. So no photo is enrolled: a picture fails the challenge.

Refusal codes: no_face, the liveness failure reasons (kiosk.liveness), presentation_attack,
too_few_good_frames, not_one_person; abort reasons (camera_lost, cancelled…) as the session's.

Review rules (`check_reviewer`): an enrolment is approved or rejected by a reviewer or admin who
is not the operator who enrolled it. The store keeps the template set pending until then.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kiosk.arrays import Floats
from kiosk.core.errors import KioskError
from kiosk.identity import Encoding, continuity
from kiosk.observe import FrameObservation
from kiosk.session import CertificationSession, SessionEvent, Verdict
from kiosk.texts import text

MIN_FRAMES = 5
MAX_FRAMES = 10
POSE_STAGE_S = 2.5  # seconds of sampling per pose asked for
POSES = ("enrol_look_straight", "enrol_look_left", "enrol_look_right", "enrol_look_straight")
GUIDANCE_CODES = tuple(dict.fromkeys(POSES))
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


class EnrolmentSession(CertificationSession):
    """Liveness (and PAD), then pose capture, then one-person check and frame choice: no matching."""

    def __init__(self, encoder: Any, *, min_frames: int = MIN_FRAMES, max_frames: int = MAX_FRAMES,
                 pose_stage_s: float = POSE_STAGE_S, **kw: Any) -> None:
        super().__init__([], encoder, **kw)
        self.min_frames, self.max_frames, self.pose_stage_s = min_frames, max_frames, pose_stage_s
        self.template_set: list[Floats] = []  # filled when the verdict is "ok"; never in the verdict
        self._pose = -1
        self._pose_t0: float | None = None

    def feed(self, obs: FrameObservation) -> list[SessionEvent]:
        if self.state != "capturing":
            return super().feed(obs)
        t = obs.frame.t
        self._last_t = t
        if obs.face is not None:
            self._last_face_t = t
        if self._pose_t0 is None:
            self._pose_t0 = t
        if t - self._pose_t0 >= self.pose_stage_s:
            self._close_window()
            return self._next_pose(t)
        self._consider(obs)
        return []

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
            self._pose = len(POSES)
            self.state = "captured"
            out = super()._begin_matching()
            return out if self.state == "done" else out + super().finish(timeout)
        return super().finish(timeout)

    def _match(self, encodings: list[Encoding]) -> tuple[str, None, dict[str, Any]]:
        vecs = [e.future.result() for e in encodings]
        same_person, worst = continuity(vecs, encodings)
        fit = sorted((i for i, e in enumerate(encodings) if e.probe_ok), key=lambda i: -encodings[i].score)
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
    return EnrolmentResult(code, list(session.template_set) if code == "ok" else [], quality, v.action)


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
