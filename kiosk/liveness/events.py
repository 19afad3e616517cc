"""What a liveness rule reports when it sees an action."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kiosk.core.actions import ACTIONS as ACTIONS, NON_RIGID_ACTIONS as NON_RIGID_ACTIONS  # (re-exported)



@dataclass(frozen=True)
class ActionEvent:
    action: str
    start_s: float
    end_s: float
    peak: float  # the extreme relative value reached (ratio or degrees)
    gradual: bool = True  # in-between frames were seen (not a jump between two stills)
    evidence: dict[str, Any] = field(default_factory=dict)
