"""The liveness actions a challenge may ask for (codes only: their prompts live with the texts)."""
from __future__ import annotations

ACTIONS = ("blink", "turn_left", "turn_right", "open_mouth", "nod")
NON_RIGID_ACTIONS = ("blink", "open_mouth")  # a picture, bent or turned, cannot do these
