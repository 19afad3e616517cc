"""Presentation-attack detection (screens, prints): one decision per session.

- passive: MiniFASNet scores + screen cues (kiosk.pad.decision.PadMonitor; docs/pad.md);
- active: the colour-flash challenge (kiosk.pad.flash; docs/flash.md), in report mode until
  a county calibrates it on the kiosk's own camera.
"""
