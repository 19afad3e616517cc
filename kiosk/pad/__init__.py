"""Passive presentation-attack detection (PAD): MiniFASNet scores + screen cues, one decision per session.

See kiosk.pad.decision.PadMonitor for the session API and docs/pad.md for the measurements.
"""
