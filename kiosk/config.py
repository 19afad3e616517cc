"""Where the kiosk keeps its files, and the settings a county may change.

Paths: `KIOSK_HOME` (default `~/.local/share/village-kiosk`) holds `kiosk.db` and
`kiosk.toml`; the template key lives apart from the database, in `KIOSK_KEY_FILE`
(default `~/.config/village-kiosk/template.key`), so a copied database alone reveals
no face template.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
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
    # Matching with the default dlib backend (kiosk calibrate --write updates these and
    # [calibration."<backend name>"]; other backends read only their own table).
    raw_threshold: float = 0.47
    snorm_threshold: float = -4.0
    snorm_raw_cap: float = 0.55  # s-norm never accepts a raw distance above this
    roster_margin: float = 0.02  # another resident this close (raw distance) -> staff-assisted
    centred_threshold: float = 0.42  # with population statistics, when the roster is too small for s-norm
    population_stats_path: str = ""  # county-computed population mean (kiosk.matching.population), optional
    embedding_backend: str = "dlib"  # "dlib" or "onnx" (a county-supplied local model)
    onnx_model_path: str = ""
    onnx_input_size: int = 112
    onnx_mean: float = 127.5
    onnx_std: float = 127.5
    onnx_bgr: bool = False
    calibration: dict = field(default_factory=dict)  # backend name -> {raw_threshold, snorm_threshold, ...}
    capture_retention_days: int = 0
    idle_reset_s: float = 60.0  # the app forgets the resident and returns home after this long untouched
    volume: float = 0.8  # spoken prompts, 0..1
    elder_mode_default: bool = False  # start in 关怀大字版 (large text)
    cycle_rule: str = "birthday"  # "birthday" (人社厅发〔2018〕54号) or "window"
    window_start: str = "02-10"
    window_end: str = "03-25"
    grace_days: int = 0  # birthday cycles: none by default; windows often 5
    hub_url: str = ""  # county hub (https://…); empty: the address given at `kiosk register`
    hub_cert_pin: str = ""  # SHA-256 fingerprint of the county hub's TLS certificate
    sync_interval_s: float = 300.0  # background sync period when the hub is reachable
    backup_keep_days: int = 7  # daily backups of kiosk.db in $KIOSK_HOME/backups/, kept this many days

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
        settings = replace(cls(), **data)
        keep = settings.backup_keep_days
        if isinstance(keep, bool) or not isinstance(keep, int) or not 1 <= keep <= 365:
            raise ValueError(f"{path}: backup_keep_days must be a whole number of days from 1 to 365, got {keep!r}")
        return settings

    def matching(self, backend: str) -> dict | None:
        """The calibrated operating point of one embedding backend (thresholds, margin), or None
        for a backend nobody calibrated (its distances mean nothing with dlib's thresholds)."""
        base = {"raw_threshold": self.raw_threshold, "snorm_threshold": self.snorm_threshold,
                "snorm_raw_cap": self.snorm_raw_cap, "roster_margin": self.roster_margin,
                "centred_threshold": self.centred_threshold}
        own = self.calibration.get(backend)
        if backend.startswith("dlib"):
            return {**base, **(own or {})}
        return dict(own) if own is not None else None

    def save(self, path: Path | None = None) -> Path:
        path = path or home_dir() / "kiosk.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines, tables = [], []
        for k, v in asdict(self).items():
            if isinstance(v, dict):  # [calibration."backend"] tables go after the plain keys
                tables += [f"\n[{k}.{_toml_value(str(name))}]\n" + "\n".join(f"{kk} = {_toml_value(vv)}" for kk, vv in t.items())
                           for name, t in v.items()]
            else:
                lines.append(f"{k} = {_toml_value(v)}")
        lines += tables
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(v)
