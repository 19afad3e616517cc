"""The terminal's heartbeat to the county hub (issue 14, item 4): how this kiosk is, nothing personal.

`build_heartbeat(store, settings, clock)` gathers the latest self-test summary (kept by
`kiosk.selftest.run_selftest`; a camera-less self-test is run when none was kept yet), the app
version, free disk, when the last certification ended, the records waiting for the county and
whether the maintenance window is on. `send_heartbeat(store, settings)` posts it as a signed device
request (POST /v1/heartbeat); the background sync sends one after a successful pass at most every
`heartbeat_interval_s` (kiosk.toml, default 300 s). A hub from before the heartbeat answers 404:
that is not an error for the terminal (it is simply not reported).
"""
from __future__ import annotations

import logging
from importlib import metadata
from typing import Any

from kiosk import protocol as P
from kiosk.store import Store
from kiosk.store.syncstate import SyncState

from .client import SyncError

log = logging.getLogger(__name__)


def app_version() -> str:
    try:
        return metadata.version("village-kiosk")
    except metadata.PackageNotFoundError:  # a PyInstaller bundle without the dist-info
        return "unknown"


def build_heartbeat(store: Store, settings: Any, clock: Any = None) -> P.Heartbeat:
    from kiosk.maintenance import in_window, schedule_in_force
    from kiosk.selftest import last_summary, run_selftest
    from kiosk.store.db import free_bytes

    clock = clock or store.clock
    summary = last_summary(store)
    if summary is None:
        summary = run_selftest(settings, store, clock, camera=False).summary()
    checks = {k: v for k, v in (summary.get("checks") or {}).items()
              if k in P.HEALTH_CHECKS and v in P.HEALTH_STATES}
    free = free_bytes(store.path)
    last = store.db.execute("SELECT max(finished_at) FROM attempts").fetchone()[0]
    try:
        maintenance = in_window(clock.now(), schedule_in_force(store, settings))
    except Exception:  # an unreadable schedule is not the heartbeat's business
        maintenance = False
    return P.Heartbeat(sent_at=clock.utc_now().isoformat(timespec="seconds"), app_version=app_version()[:40],
                       checks=checks, selftest_at=summary.get("at"), paused=bool(summary.get("paused")),
                       maintenance=maintenance, disk_free_mb=None if free is None else free // (1024 * 1024),
                       last_certification_at=last, queue_length=SyncState(store).counts()["pending"])


def send_heartbeat(store: Store, settings: Any, hub_url: str | None = None, *, timeout: float = 15.0) -> bool:
    """Post one heartbeat; True when the hub stored it, False for a hub without heartbeats (404).
    SyncError for anything else (not registered, offline: the caller decides)."""
    from .engine import Syncer

    hb = build_heartbeat(store, settings)
    syncer = Syncer(store, hub_url, timeout=timeout)
    try:
        P.HeartbeatAck.model_validate(syncer.client.request("POST", P.HEARTBEAT_PATH, hb.model_dump()))
    except SyncError as e:
        if e.code == "http_404":
            log.info("the county hub does not take heartbeats yet")
            return False
        raise
    finally:
        syncer.close()
    SyncState(store).set(heartbeat_sent_at=hb.sent_at)
    return True
