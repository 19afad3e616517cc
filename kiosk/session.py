"""The certification session: a plain state machine, fed one observed frame at a time.

    waiting_face -> guiding -> challenge -> matching -> done

It never touches Qt, the camera or the database. Front ends (the Qt app, the CLI)
feed it `FrameObservation`s and show the `SessionEvent`s it returns. Liveness must
pass before any comparison (GB/T 38671); the distance is recorded in the verdict but
the resident is only ever told pass or fail and what to do next.

Identity continuity (kiosk/identity.py): frames encoded off the caller's thread through the
challenge must all be one person, so someone stepping in at the same place is caught. The
probe (kiosk/probe.py) matched to the template is the fused embedding of the best few
encoded frames that pass explicit quality gates; if none does, the session says why instead
of matching on a poor frame. Every number is in kiosk/thresholds.py.

Presentation-attack detection (kiosk/pad, optional: `pad=` a PadMonitor): every challenge frame
goes to the monitor (it scores every Nth off the caller's thread); when the actions are done
and BEFORE any comparison, an attack ends the session with `presentation_attack` (no match is
computed); a monitor that scored no frame at all fails closed the same way. The colour flash (`flash_mode` "report" | "enforce"): the session draws a sequence,
the front end shows it and says when it started on the frames' clock (`flash_started(t)`);
every frame after that is measured. In report mode the result is evidence only; "enforce"
(calibrated thresholds only) refuses a face that did not follow it, as `presentation_attack`.
Evidence of both goes into the verdict's liveness dict under "pad" (flash under "pad"."flash").
"""
from __future__ import annotations

from collections import Counter
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from kiosk.arrays import Floats
from kiosk.identity import Encoding, FrameSampler, continuity
from kiosk.liveness import LivenessCheck, LivenessThresholds, draw_challenge
from kiosk.liveness.challenge import FAIL_REASONS as LIVENESS_FAIL_REASONS
from kiosk.matching.scoring import Matcher, MatchResult, fuse
from kiosk.observe import FrameObservation
from kiosk.probe import POOR_QUALITY_REASONS, poor_quality_reason, probe_gate  # (also re-exported)
from kiosk.probe import select_probe
from kiosk.quality import QualityLimits, guidance_for
# The numbers live in kiosk/thresholds.py; re-exported here for callers that know them from the session.
from kiosk.thresholds import (CONTINUITY_FRONTAL_DEV, CONTINUITY_THRESHOLD,  # noqa: F401
                              CONTINUITY_THRESHOLD_TURNED, GOOD_FRAMES_TO_START, LATE_AFTER, MAX_ENCODE_POSE_DEV,
                              MIN_ENCODE_BRIGHTNESS, MIN_ENCODE_FACE_PX, MIN_ENCODE_SHARPNESS, NO_FACE_TIMEOUT_S,
                              PROBE_FRAMES, PROBE_MAX_MOUTH_DELTA, PROBE_MAX_PITCH_DEV, PROBE_MAX_ROLL,
                              PROBE_MAX_YAW_DEV, PROBE_MIN_BRIGHTNESS, PROBE_MIN_EYE_RATIO, PROBE_MIN_FACE_PX,
                              PROBE_MIN_SHARPNESS, SAMPLE_EVERY_LATE_S, SAMPLE_EVERY_S)

if TYPE_CHECKING:
    from kiosk.driver import Observer
    from kiosk.frames import FrameSource
    from kiosk.matching.embedders import Embedder as Encoder
    from kiosk.pad.decision import PadMonitor
    from kiosk.pad.flash import FlashResponse, FlashSequence, FlashThresholds

# Every code the session emits (front ends find their words in kiosk.texts; a test walks them all).
STATES = ("waiting_face", "guiding", "challenge", "settling", "matching")
PRESENTATION_ATTACK = "presentation_attack"
REASONS = ("ok", "no_match", "roster_ambiguous", "face_changed", "multiple_faces", "no_face", "poor_quality",
           PRESENTATION_ATTACK, *POOR_QUALITY_REASONS.values(), *LIVENESS_FAIL_REASONS)
FLASH_MODES = ("off", "report", "enforce")
PAD_MIN_FRAME_PX = 32  # frames smaller than this carry no pixels to score (recorded replays)
# Guidance the session adds to kiosk.quality's: a second face during the actions, said at once
# and failing only if it stays (LivenessThresholds.max_multi_face_s).
SESSION_GUIDANCE = ("second_face",)
MULTI_FACE_GUIDANCE = ("multiple_faces", "second_face")
# `abort(reason)` from the front ends; camera_lost, source_failed and internal_error come from kiosk.driver.
ABORT_REASONS = ("camera_lost", "source_failed", "internal_error", "cancelled", "idle_reset")

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
    code: str  # state name, action, guidance code or verdict reason (words: kiosk.texts.event_text)
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Verdict:
    verdict: str  # pass | fail
    reason: str
    steps: list[dict[str, Any]]
    match: MatchResult | None = None
    liveness: dict[str, Any] = field(default_factory=dict)
    action: str | None = None  # the action a timeout was waiting for

    @property
    def message(self) -> str:
        """What happened and what to do next, in words from the catalogue (never a score)."""
        from kiosk.texts import verdict_message

        return verdict_message(self.reason, self.action)

    @property
    def probe(self) -> dict[str, Any]:
        """How the probe was made: frames fused and their quality (no pixels)."""
        probe: dict[str, Any] = self.liveness.get("probe", {})
        return probe

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "reason": self.reason, "message": self.message, "steps": self.steps}


class CertificationSession:
    def __init__(self, template: list[Floats], encoder: Encoder, *, actions: list[str] | None = None,
                 n_actions: int = 2, step_timeout_s: float = 20.0, matcher: Matcher | None = None,
                 cohort: Floats | None = None, thresholds: LivenessThresholds | None = None,
                 limits: QualityLimits | None = None, executor: Executor | None = None,
                 roster: dict[str, list[Floats]] | None = None, pad: "PadMonitor | None" = None,
                 flash_mode: str = "off", flash_thresholds: "FlashThresholds | None" = None) -> None:
        """`roster`: templates of the other enrolled residents (the claimed person excluded),
        for the matcher's roster cross-check. `pad`: a kiosk.pad.decision.PadMonitor (None: no
        PAD). `flash_mode`: off | report | enforce; `flash_thresholds` a FlashThresholds
        (report mode never decides, whatever they say)."""
        self.template = [np.asarray(t, dtype=np.float64) for t in template]
        self.encoder = encoder
        self.actions = list(actions) if actions else draw_challenge(n_actions)
        self.matcher = matcher or Matcher()
        self.cohort = cohort
        self.probe_vector: Floats | None = None  # the fused probe once matched (templates that age)
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
        self._sampler = FrameSampler(encoder, self.executor)
        self._gates: Counter[str] = Counter()  # probe gate outcome of every challenge frame
        self._match_future: Future[tuple[str, MatchResult | None, dict[str, Any]]] | None = None
        self._settling_said = False
        self.pad = pad
        self._pad_result: tuple[bool, dict[str, Any]] | None = None
        if flash_mode not in FLASH_MODES:
            raise ValueError(f"flash_mode must be one of {FLASH_MODES}")
        self.flash_mode = flash_mode
        self.flash_sequence: FlashSequence | None = None
        self._flash: FlashResponse | None = None
        self._flash_t0: float | None = None
        self._passed_waiting = False  # liveness passed; the flash sequence is still being shown
        if flash_mode != "off":
            from dataclasses import replace

            from kiosk.pad.flash import FlashResponse, FlashThresholds, draw_flash_sequence

            th = flash_thresholds or FlashThresholds()
            if flash_mode == "report":
                th = replace(th, calibrated=False)
            elif not th.calibrated:
                raise ValueError("flash_mode 'enforce' needs calibrated thresholds (kiosk pad calibrate)")
            self.flash_sequence = draw_flash_sequence()
            self._flash = FlashResponse(self.flash_sequence, th)

    def flash_started(self, t: float) -> None:
        """The screen began showing `flash_sequence` at time `t` on the frames' clock (frame.t)."""
        if self._flash is not None and self._flash_t0 is None:
            self._flash_t0 = float(t)

    # ------------------------------------------------------------------ feeding
    def start(self) -> list[SessionEvent]:
        return [SessionEvent("state", "waiting_face")]

    def feed(self, obs: FrameObservation) -> list[SessionEvent]:
        if self.state == "done":
            return []
        t = obs.frame.t
        self._first_t = t if self._first_t is None else self._first_t
        self._last_t = t
        if obs.face is not None:
            self._last_face_t = t
        self._observe_pad(obs)
        if self.state == "matching":
            return self._poll_match()
        code = guidance_for(obs, self.limits)
        if code == "multiple_faces" and self.state == "challenge":
            code = "second_face"  # a helper leaning in: guidance; it fails only if it stays
        out = self._guidance(code)
        if self.state in ("waiting_face", "guiding"):
            return out + self._before_challenge(obs, code)
        if self._passed_waiting:
            return out + ([] if self._flash_running(t) else self._begin_matching())
        return out + self._challenge(obs)

    def _flash_running(self, t: float) -> bool:
        """The flash was started and its sequence (plus the latency searched) is not over yet."""
        if self._flash is None or self._flash_t0 is None:
            return False
        return t < self._flash_t0 + self._flash.sequence.duration + self._flash.thresholds.max_lag_s

    def _guidance(self, code: str | None) -> list[SessionEvent]:
        if code == self._last_guidance:
            return []
        self._last_guidance = code
        if code is None:
            return [SessionEvent("guidance", "ok")]
        return [SessionEvent("guidance", code)]

    def _before_challenge(self, obs: FrameObservation, code: str | None) -> list[SessionEvent]:
        t = obs.frame.t
        if obs.face is None:
            since = self._last_face_t if self._last_face_t is not None else self._first_t
            if since is not None and t - since > NO_FACE_TIMEOUT_S:
                return self._conclude("no_face")
            return []
        out = []
        if self.state == "waiting_face":
            self.state = "guiding"
            out.append(SessionEvent("state", "guiding"))
        self._good = self._good + 1 if code is None else 0
        if self._good >= GOOD_FRAMES_TO_START:
            self.state = "challenge"
            out.append(SessionEvent("state", "challenge", {"actions": self.actions}))
            out += self._challenge(obs)
        return out

    def _challenge(self, obs: FrameObservation) -> list[SessionEvent]:
        out: list[SessionEvent] = []
        for u in self.liveness.update(obs):
            if u.kind == "step_started":
                out.append(SessionEvent("prompt", u.action, {"step": u.step, "steps": len(self.actions)}))
            elif u.kind == "step_passed":
                # The frame the action was done on is encoded too: whoever did it must be the resident.
                self._close_window()
                self._encode_step_frame(obs)
                out.append(SessionEvent("progress", u.action, {"step": u.step, "done": u.step + 1,
                                                              "steps": len(self.actions)}))
            elif u.kind == "refused_jump":
                out.append(SessionEvent("prompt", u.action, {"step": u.step, "steps": len(self.actions), "again": True}))
            elif u.kind == "identity_check":
                self._close_window()
            elif u.kind == "failed":
                return out + self._conclude(u.reason, action=self.liveness.steps[min(u.step, len(self.actions) - 1)].action)
            elif u.kind == "passed":
                if self._flash_running(obs.frame.t):  # the check lasts at least the sequence
                    self._passed_waiting = True
                    self._consider(obs)
                    return out
                return out + self._begin_matching()
        if self.liveness.state == "settling" and not self._settling_said:
            # All actions done; natural motion may still need a few seconds of watching:
            # say so, or the resident sees nothing happen and walks away.
            self._settling_said = True
            out.append(SessionEvent("state", "settling"))
        self._consider(obs)
        return out

    # ------------------------------------------------------------------ presentation attacks
    def _observe_pad(self, obs: FrameObservation) -> None:
        rgb = obs.frame.rgb
        if rgb.shape[0] < PAD_MIN_FRAME_PX:
            return
        if self._flash is not None and self._flash_t0 is not None and self.state != "matching":
            self._flash.add(obs.frame.t - self._flash_t0, rgb, obs)
        if self.pad is not None and self.state == "challenge":
            self.pad.observe(rgb, obs)

    def _pad_verdict(self, timeout: float = 5.0) -> tuple[bool, dict[str, Any]]:
        """(attack, evidence) from PAD and the flash; computed once per session."""
        if self._pad_result is None:
            pad: dict[str, Any] = {"enabled": self.pad is not None}
            attack = False
            if self.pad is not None:
                res = self.pad.result(timeout=timeout)
                pad.update(res.to_json())
                attack = res.attack
                if res.frames_scored == 0:
                    # PAD saw a whole challenge and scored nothing (its thread failed or starved):
                    # fail closed — an unattended kiosk must not let an unchecked face through.
                    attack, pad["cue"] = True, "unscored"
            if self._flash is not None:
                if self._flash_t0 is None:
                    pad["flash"] = {"mode": self.flash_mode, "shown": False, "sequence": self._flash.sequence.describe()}
                else:
                    fr = self._flash.result()
                    pad["flash"] = {**fr.to_dict(), "shown": True}
                    if self.flash_mode == "enforce" and fr.decided and fr.live is False:
                        attack = True
                        pad["cue"] = "flash" if not pad.get("attack") else pad["cue"]
            pad["attack"] = attack
            self._pad_result = (attack, pad)
        return self._pad_result

    # ------------------------------------------------------------------ frames to encode
    @property
    def _encodings(self) -> list[Encoding]:
        return self._sampler.encodings

    def _consider(self, obs: FrameObservation) -> None:
        """Count the frame's probe gate; the sampler keeps the best frame of the stretch (kiosk.identity)."""
        face, baseline = obs.face, self.liveness.baseline
        if face is None or baseline is None:
            return
        gate = probe_gate(face, baseline)
        self._gates[gate or "ok"] += 1
        self._sampler.consider(obs, baseline, gate)

    def _close_window(self) -> None:
        if self.liveness.baseline is not None:
            self._sampler.close_window(self.liveness.baseline)

    def _encode_step_frame(self, obs: FrameObservation) -> None:
        self._sampler.encode_step_frame(obs, self.liveness.baseline)

    # ------------------------------------------------------------------ matching
    def _begin_matching(self) -> list[SessionEvent]:
        self._close_window()
        if self.pad is not None or self._flash is not None:
            attack, _ = self._pad_verdict()
            if attack:  # before any comparison: no match is computed for a presented picture
                return self._conclude(PRESENTATION_ATTACK)
        if not self._encodings:
            return self._conclude(self._poor_quality_reason())
        self.state = "matching"
        self._match_future = self.executor.submit(self._match, list(self._encodings))
        return [SessionEvent("state", "matching")]

    def _poor_quality_reason(self) -> str:
        return poor_quality_reason(self._gates)

    def _match(self, encodings: list[Encoding]) -> tuple[str, MatchResult | None, dict[str, Any]]:
        vecs = [e.future.result() for e in encodings]
        same_person, worst = continuity(vecs, encodings)
        probe = select_probe(encodings)
        info: dict[str, Any] = {"segments": sum(e.kind == "sample" for e in encodings), "encodings": len(vecs),
                "continuity_max": round(worst, 4),
                "probe": {"frames": len(probe), "candidates": sum(e.probe_ok for e in encodings),
                          "quality": [encodings[i].quality for i in probe],
                          "gates": dict(self._gates)}}
        if not same_person:
            return "face_changed", None, info
        if not probe:
            info["probe"]["detail"] = self._poor_quality_reason()
            return self._poor_quality_reason(), None, info
        result = self.matcher.compare([vecs[i] for i in probe], self.template, self.cohort, others=self.roster)
        self.probe_vector = fuse([vecs[i] for i in probe])  # templates that age (kiosk.matching.ageing)
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
            assert self._match_future is not None, "matching: the match was submitted"
            self._match_future.result(timeout=timeout)
            return self._poll_match()
        if self._passed_waiting:
            out = self._begin_matching()
            return out if self.state == "done" else out + self.finish(timeout)
        if self.liveness.state == "settling":
            # Judge natural motion on what was seen; if it passes, match as usual.
            ups = self.liveness.conclude(self._last_t if self._last_t is not None else 0.0)
            if ups and ups[-1].kind == "passed":
                out = self._begin_matching()
                return out if self.state == "done" else out + self.finish(timeout)
            return self._conclude("still_image")
        if self._last_guidance in MULTI_FACE_GUIDANCE:
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
                  extra: dict[str, Any] | None = None) -> list[SessionEvent]:
        if reason == "timeout" and self._last_guidance in MULTI_FACE_GUIDANCE:
            reason, action = "multiple_faces", None  # the action was not seen because two people were in view
        self.state = "done"
        steps = [{"action": s.action, "passed": s.passed, "at_s": round(s.at_s, 3) if s.at_s is not None else None}
                 for s in self.liveness.steps]
        live = self.liveness.result
        liveness: dict[str, Any] = {"actions": self.actions, "natural_motion": round(live.natural_motion, 4) if live else None,
                    "jumps": live.jumps if live else 0,
                    "events": [dict(s.event.evidence, action=s.action) for s in self.liveness.steps if s.event]}
        if "probe" not in (extra or {}) and self._gates:
            liveness["probe"] = {"frames": 0, "candidates": sum(e.probe_ok for e in self._encodings),
                                 "quality": [], "gates": dict(self._gates)}
            if reason.startswith("poor_quality"):
                liveness["probe"]["detail"] = reason
        liveness.update(extra or {})
        if self.pad is not None or self._flash is not None:
            liveness["pad"] = self._pad_verdict(timeout=1.0)[1]
        self.verdict = Verdict("pass" if reason == "ok" else "fail", reason, steps, match, liveness,
                               action if reason == "timeout" else None)
        # Drop any pixels still held: nothing of the face stays in memory after the verdict.
        self._sampler.drop_pixels()
        data = {"verdict": self.verdict.verdict}
        if self.verdict.action:
            data["action"] = self.verdict.action
        return [SessionEvent("result", reason, data)]


def run_session(session: CertificationSession, source: FrameSource, observer: Observer, **kw: Any) -> Verdict:
    """Drive a session from a frame source to its verdict: `kiosk.driver.drive` (kept for callers)."""
    from kiosk.driver import drive

    return drive(session, source, observer, **kw)
