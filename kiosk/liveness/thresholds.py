from kiosk.thresholds import LivenessThresholds  # noqa: F401 (moved to kiosk/thresholds.py)
