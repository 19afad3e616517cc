"""Builds the rule for an action name."""
from __future__ import annotations

from kiosk.liveness.blink import BlinkRule
from kiosk.liveness.mouth import OpenMouthRule
from kiosk.liveness.nod import NodRule
from kiosk.liveness.signals import Baseline
from kiosk.thresholds import LivenessThresholds
from kiosk.liveness.turn import TurnRule

Rule = BlinkRule | OpenMouthRule | NodRule | TurnRule


def make_rule(action: str, baseline: Baseline, th: LivenessThresholds) -> Rule:
    if action == "blink":
        return BlinkRule(baseline, th)
    if action == "open_mouth":
        return OpenMouthRule(baseline, th)
    if action == "nod":
        return NodRule(baseline, th)
    if action in ("turn_left", "turn_right"):
        return TurnRule(action.removeprefix("turn_"), baseline, th)
    raise ValueError(f"unknown action {action!r}")


def is_calibration_frame(yaw: float, pitch: float, th: LivenessThresholds) -> bool:
    return abs(yaw) <= th.calibration_max_abs_yaw and abs(pitch) <= th.calibration_max_abs_pitch
