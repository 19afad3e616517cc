"""Makes the virtual face do what the session asks, like a person listening to the prompt."""
from __future__ import annotations

from collections.abc import Callable

REACTION_S = 1.0  # an elderly resident starts the action about a second after hearing the prompt
MAX_WAIT_S = 12.0  # a prompt never heard (no voice at all): act this long after it was shown


# Enrolment's pose guidance (kiosk.enrolment POSES) -> the way the virtual face looks (VirtualCamera.look).
LOOKS = {"enrol_look_straight": "straight", "enrol_look_left": "left", "enrol_look_right": "right"}


class PromptFollower:
    """Feed it the session's events and the time of each frame; it triggers the virtual
    camera's action `reaction_s` after each prompt (again after "请再眨眨眼").

    With `heard` (event -> how many times its sentence has been spoken to the end, or cut or
    dropped), the person waits until the prompt has been heard, as a resident does: the
    action starts `reaction_s` after the prompt is over, not after it was queued.

    Enrolment's pose guidance (events of kind "enrol": 请稍微向左看 / 向右看 / 请看着屏幕) turns the
    head slightly and holds it there (VirtualCamera.look) `reaction_s` after the guidance is
    shown: a stage lasts kiosk.enrolment.POSE_STAGE_S, about as long as its sentence, so the
    person turns on hearing the direction, not after the sentence."""

    def __init__(self, camera, reaction_s: float = REACTION_S, heard: Callable[[object], int] | None = None):
        self.camera = camera
        self.reaction_s = reaction_s
        self.heard = heard
        self._pending: list | None = None  # [shown at, action, event, heard count then, due]
        self._look: tuple[float, str] | None = None  # (due, side) of the pose asked for

    def __call__(self, t: float, events) -> None:
        for ev in events:
            if ev.kind == "prompt":
                if self.heard is None:
                    self._pending = [t, ev.code, ev, 0, t + self.reaction_s]
                else:
                    self._pending = [t, ev.code, ev, self.heard(ev), None]
            elif ev.kind == "enrol" and ev.code in LOOKS and hasattr(self.camera, "look"):
                self._look = (t + self.reaction_s, LOOKS[ev.code])
        if self._look is not None and t >= self._look[0]:
            from kiosk.demo.virtual_camera import LOOK_YAW_DEG

            self.camera.look(LOOK_YAW_DEG[self._look[1]])
            self._look = None
        p = self._pending
        if p is None:
            return
        if p[4] is None and self.heard is not None and (self.heard(p[2]) > p[3] or t - p[0] > MAX_WAIT_S):
            p[4] = t + self.reaction_s
        if p[4] is not None and t >= p[4]:
            self.camera.perform(p[1])
            self._pending = None
