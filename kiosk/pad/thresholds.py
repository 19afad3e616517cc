"""PAD thresholds: they live in kiosk/thresholds.py (its PAD section); re-exported here."""
from __future__ import annotations

from kiosk.thresholds import PAD, PadThresholds

__all__ = ["PAD", "PadThresholds"]
