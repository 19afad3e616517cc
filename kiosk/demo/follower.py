"""Makes the virtual face do what the session asks, like a person listening to the prompt."""
from __future__ import annotations

REACTION_S = 1.0  # an elderly resident starts the action about a second after the prompt


class PromptFollower:
    """Feed it the session's events and the time of each frame; it triggers the virtual
    camera's action `reaction_s` after each prompt (again after "请再眨眨眼")."""

    def __init__(self, camera, reaction_s: float = REACTION_S):
        self.camera = camera
        self.reaction_s = reaction_s
        self._pending: tuple[float, str] | None = None

    def __call__(self, t: float, events) -> None:
        for ev in events:
            if ev.kind == "prompt":
                self._pending = (t + self.reaction_s, ev.code)
        if self._pending and t >= self._pending[0]:
            self.camera.perform(self._pending[1])
            self._pending = None
