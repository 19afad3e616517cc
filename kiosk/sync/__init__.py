"""Terminal-side county sync (see engine.py). For the UI: `status(store)` and `BackgroundSync`."""
from .backoff import Backoff
from .client import HubClient, SyncError
from .engine import (
    BackgroundSync, SyncReport, Syncer, cycle_rule, export_bundle, import_county_bundle, register, status, sync_once,
)

__all__ = ["Backoff", "BackgroundSync", "HubClient", "SyncError", "SyncReport", "Syncer", "cycle_rule", "export_bundle",
           "import_county_bundle", "register", "status", "sync_once"]
