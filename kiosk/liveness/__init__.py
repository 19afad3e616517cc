"""Liveness: per-action rules (one small file each), thresholds, challenge, anti-replay.

Where to look: the rule for "blink" is blink.py; every number is in kiosk/thresholds.py.
"""
from kiosk.liveness.challenge import BadActions, LivenessCheck, draw_challenge, validate_actions
from kiosk.liveness.events import ACTIONS, NON_RIGID_ACTIONS, ActionEvent
from kiosk.thresholds import LivenessThresholds

__all__ = ["BadActions", "LivenessCheck", "draw_challenge", "validate_actions", "ACTIONS",
           "NON_RIGID_ACTIONS", "ActionEvent", "LivenessThresholds"]
