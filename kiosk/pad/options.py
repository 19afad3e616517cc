"""The session's PAD options from the settings: one place for the service, the CLI and the app.

    CertificationSession(..., **session_pad_options(settings))

`pad_enabled` (default true) gives every session a PadMonitor on one shared scoring thread
(models loaded once); `pad_live_min` and `pad_sample_every` override kiosk/thresholds.py's PAD
section. `flash_challenge`: "report" (default: measured, recorded, never deciding), "off", or
"enforce" (only with KIOSK_HOME/flash.toml written by `kiosk pad calibrate`; kiosk.config checks).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from kiosk.thresholds import PAD, PadThresholds

if TYPE_CHECKING:
    from kiosk.config import Settings

_executor: ThreadPoolExecutor | None = None


def shared_pad_executor() -> ThreadPoolExecutor:
    """One low-priority scoring thread for every session of the process (models load once)."""
    global _executor
    if _executor is None:
        from kiosk.pad.decision import pad_executor

        _executor = pad_executor()
    return _executor


def pad_thresholds(settings: "Settings") -> PadThresholds:
    return replace(PAD, live_min=settings.pad_live_min, sample_every=settings.pad_sample_every)


def session_pad_options(settings: "Settings", realtime: bool = True) -> dict[str, Any]:
    """Keyword arguments for CertificationSession: pad, flash_mode, flash_thresholds.

    realtime=True (a camera): sampled frames are scored on the shared low-priority thread and
    skipped when it is behind. realtime=False (a recorded file, fed as fast as it decodes):
    every sampled frame is scored inline, exactly as `kiosk pad` and the evaluation do."""
    out: dict[str, Any] = {"flash_mode": settings.flash_challenge}
    if settings.pad_enabled:
        from kiosk.pad.decision import PadMonitor

        th = pad_thresholds(settings)
        out["pad"] = (PadMonitor(th, executor=shared_pad_executor()) if realtime
                      else PadMonitor(th, synchronous=True))
    if settings.flash_challenge != "off":
        from kiosk.pad.flash import load_thresholds

        out["flash_thresholds"] = load_thresholds()
    return out
