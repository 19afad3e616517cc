"""Where the kiosk keeps its files, and the settings a county may change.

Paths: `KIOSK_HOME` (default `~/.local/share/village-kiosk`) holds `kiosk.db` and
`kiosk.toml`; the template key lives apart from the database, in `KIOSK_KEY_FILE`
(default `~/.config/village-kiosk/template.key`), so a copied database alone reveals
no face template.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path


def home_dir() -> Path:
    return Path(os.environ.get("KIOSK_HOME") or Path.home() / ".local" / "share" / "village-kiosk")


def key_file() -> Path:
    return Path(os.environ.get("KIOSK_KEY_FILE") or Path.home() / ".config" / "village-kiosk" / "template.key")


@dataclass(frozen=True)
class Settings:
    device_id: str = "kiosk-unnamed"
    camera_index: int = 0
    camera_width: int = 640
    camera_height: int = 480
    actions_per_challenge: int = 2
    step_timeout_s: float = 20.0
    attempts_per_day: int = 3
    raw_threshold: float = 0.47
    snorm_threshold: float = -4.5
    capture_retention_days: int = 0
    idle_reset_s: float = 60.0
    cycle_rule: str = "birthday"  # "birthday" (人社厅发〔2018〕54号) or "window"
    window_start: str = "02-10"
    window_end: str = "03-25"
    grace_days: int = 0  # birthday cycles: none by default; windows often 5

    def cycle(self):
        """The county's certification cycle rule (kiosk.policy)."""
        from kiosk.policy import BirthdayCycle, FixedWindow

        if self.cycle_rule == "birthday":
            return BirthdayCycle(grace_days=self.grace_days)
        start = tuple(int(x) for x in self.window_start.split("-"))
        end = tuple(int(x) for x in self.window_end.split("-"))
        return FixedWindow(start=start, end=end, grace_days=self.grace_days)

    @classmethod
    def load(cls, path: Path | None = None) -> "Settings":
        path = path or home_dir() / "kiosk.toml"
        if not path.is_file():
            return cls()
        with path.open("rb") as f:
            data = tomllib.load(f)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{path}: unknown setting(s) {', '.join(unknown)}")
        return replace(cls(), **data)

    def save(self, path: Path | None = None) -> Path:
        path = path or home_dir() / "kiosk.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = []
        for k, v in asdict(self).items():
            lines.append(f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path
