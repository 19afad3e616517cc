"""Where the kiosk (and the county hub) keep their files (`KIOSK_HOME`, `KIOSK_KEY_FILE`), and where
the shipped resources are (`assets_dir`, `ui_dir`), installed, bundled or in the source checkout."""
from __future__ import annotations

import os
import sys
from importlib.resources import files
from pathlib import Path


def home_dir() -> Path:
    return Path(os.environ.get("KIOSK_HOME") or Path.home() / ".local" / "share" / "village-kiosk")


def key_file() -> Path:
    return Path(os.environ.get("KIOSK_KEY_FILE") or Path.home() / ".config" / "village-kiosk" / "template.key")


# ------------------------------------------------------------------ shipped resources
# `assets/` (fonts, voice, demo portrait, models) and `ui/` (the QML module) are found in this order:
# 1. inside the installed package (the wheel carries them as kiosk/assets and kiosk/ui);
# 2. in a PyInstaller bundle's folder (`sys._MEIPASS`: packaging/kiosk.spec copies them to the top);
# 3. at the top of the source checkout, beside the package (an editable install, `uv run`).
def _resource_root(name: str) -> Path:
    package = Path(str(files("kiosk")))
    candidates = [package / name]
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        candidates.append(Path(frozen) / name)
    candidates.append(package.parent / name)
    return next((c for c in candidates if c.is_dir()), candidates[-1])


def assets_dir(*parts: str) -> Path:
    """The shipped assets folder, or a folder inside it: `assets_dir("voice", "zh_CN")`."""
    return _resource_root("assets").joinpath(*parts)


def ui_dir() -> Path:
    """The QML module's folder (Main.qml, qmldir, kiosk.qmltypes)."""
    return _resource_root("ui")
