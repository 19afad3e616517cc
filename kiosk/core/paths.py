"""Where the kiosk (and the county hub) keep their files: `KIOSK_HOME`, `KIOSK_KEY_FILE`."""
from __future__ import annotations

import os
from pathlib import Path


def home_dir() -> Path:
    return Path(os.environ.get("KIOSK_HOME") or Path.home() / ".local" / "share" / "village-kiosk")


def key_file() -> Path:
    return Path(os.environ.get("KIOSK_KEY_FILE") or Path.home() / ".config" / "village-kiosk" / "template.key")
