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
from typing import Any


from kiosk.core.errors import KioskError
from kiosk.thresholds import PAD
from kiosk.core.paths import home_dir, key_file  # noqa: F401  (re-exported: the terminal's callers)


class SettingsError(KioskError):
    """kiosk.toml is unreadable or a key is wrong: the CLI and the app print `message`, exit 2."""

    def __init__(self, why: str, path: Path | None = None, key: str | None = None, **data: Any):
        from kiosk.texts import text

        self.why, self.data = why, data
        super().__init__("bad_settings", text(f"config_{why}", file=path.name if path else "kiosk.toml", key=key,
                                              **data))
        self.path, self.key = path, key


@dataclass(frozen=True)
class Settings:
    device_id: str = "kiosk-unnamed"
    village: str = ""  # the terminal's village: the app's 上门认证 list opens on it (empty: all villages)
    camera_index: int = 0
    camera_width: int = 640
    camera_height: int = 480
    actions_per_challenge: int = 2
    step_timeout_s: float = 20.0
    attempts_per_day: int = 3
    # Certification without a face (kiosk fallback, the app's 不刷脸认证): offered on the result screen
    # after this many failed face tries of the resident today (then also allowed for "tries used up").
    fallback_after_failures: int = 3
    fallback_review_days: int = 3  # the county reviews one in about this many working days (told to the resident)
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
    staff_idle_logout_s: float = 300.0  # a staff session in the app ends after this long untouched
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
    timezone: str = "Asia/Shanghai"  # the service area's zone (IANA name): which day a certification belongs to
    # Presentation-attack detection (kiosk/pad; numbers: kiosk/thresholds.py PAD section).
    pad_enabled: bool = True  # refuse screens and printed photos (presentation_attack) before the comparison
    pad_live_min: float = PAD.live_min  # session live score below this: attack
    pad_sample_every: int = PAD.sample_every  # score every Nth challenge frame (above 3 was not safe: docs/pad.md)
    flash_challenge: str = "report"  # colour flash: "report" (evidence only), "off", "enforce" (needs flash.toml)
    # ---- self-test, maintenance window, heartbeat, kiosk session, ID-card reader (kiosk.selftest, kiosk.maintenance,
    # kiosk.idcard; issue 14)
    selftest_interval_s: float = 3600.0  # the app re-runs the self-test this often
    disk_min_free_mb: int = 50  # below this the kiosk pauses (a certification could not be recorded)
    roster_max_age_days: int = 7  # a roster not refreshed for longer is reported (warn, not a pause)
    maintenance_window: str = ""  # "" none; "daily 01:00-05:00"; "monthly 1-3"; several joined by ";" (county policy overrides)
    heartbeat_interval_s: float = 300.0  # health report to the county hub when online
    monitor: int = 0  # which screen the kiosk fills (QGuiApplication.screens() index)
    idcard_library: str = ""  # vendor SDK of the 二代证 reader (.so/.dll path); empty: no reader
    idcard_port: int = 1001  # the SDK's port number (USB readers: 1001–1016; serial: 1–16)
    idcard_chip_match: bool = False  # one-time 人证比对 against the chip photo for residents without a template (county policy)
    # (end of issue 14 keys)
    # Templates that age with the person (kiosk.matching.ageing; measured: docs/matching.md "Templates that age")
    template_ageing: bool = True  # a strong pass adds its probe to the resident's templates (audited)
    template_ageing_bound: int = 2  # auto-added embeddings kept per resident (oldest dropped; enrolled stay)
    template_ageing_margin: float = 2.0  # "strong": the s-norm score this far inside the threshold
    # The receipt printer (认证回执, kiosk.receipt): an ESC/POS thermal printer, or none (receipts as PDF only).
    printer_kind: str = "none"  # "none", "file" (a USB printer is /dev/usb/lp0 on Linux), "network" (host[:port])
    printer_device: str = ""  # per kind: /dev/usb/lp0 | 192.168.1.50:9100
    printer_paper_mm: int = 58  # 58 or 80 mm paper
    # The on-screen keyboard (Qt Virtual Keyboard, 拼音 + English) for staff text fields (kiosk.app.keyboard):
    # "auto" on when the app fills the screen (the installed kiosk), off in a window; "on", "off" force it.
    on_screen_keyboard: str = "auto"

    @property
    def printer(self) -> str:
        """The receipt printer's address ("" when none is configured), as the self-test reads it."""
        return self.printer_device if self.printer_kind != "none" else ""

    def clock(self):
        """The service area's clock ($KIOSK_TIMEZONE overrides the `timezone` setting)."""
        from kiosk.core.clock import ZONE_ENV, Clock

        return Clock.system(os.environ.get(ZONE_ENV) or self.timezone)

    def cycle(self):
        """The county's certification cycle rule (kiosk.policy)."""
        from kiosk.policy import BirthdayCycle, FixedWindow

        if self.cycle_rule == "birthday":
            return BirthdayCycle(grace_days=self.grace_days)
        sm, sd = (int(x) for x in self.window_start.split("-"))
        em, ed = (int(x) for x in self.window_end.split("-"))
        start, end = (sm, sd), (em, ed)
        return FixedWindow(start=start, end=end, grace_days=self.grace_days)

    @classmethod
    def load(cls, path: Path | None = None) -> "Settings":
        """The settings in `path` (default $KIOSK_HOME/kiosk.toml), every key checked.

        Raises SettingsError (one Chinese line: the file, the key, what was found and what to
        write instead) for a syntax error (with line and column), an unknown key, a wrong type
        or a value out of range."""
        path = path or home_dir() / "kiosk.toml"
        if not path.is_file():
            return cls()
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise SettingsError("unreadable", path, reason=e.strerror) from None
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise SettingsError("not_utf8", path) from None
        except tomllib.TOMLDecodeError as e:
            raise SettingsError("syntax", path, where=_toml_where(e), reason=_toml_reason(e)) from None
        return validate(data, path)

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
        validate(asdict(self), path)  # never write a file the next start would refuse
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


# ------------------------------------------------------------------ validation
# (min, max) of every number a county may set. Matching thresholds depend on the embedding
# backend: dlib's Euclidean distances between its 128-d descriptors lie in 0..~1.2, and only
# 0.2..0.8 is a usable operating point (the library's own 0.6 already accepts ~30% of East-Asian
# stranger pairs; below 0.2 no two photos of one person match). s-norm scores are standardised
# against the cohort and lower means more alike: a threshold above 0 would accept a pair farther
# apart than the average stranger, so it is refused. An ONNX backend (ArcFace-like) returns unit
# vectors: Euclidean and cosine distances lie in 0..2, so its table is checked against that.
_RANGES: dict[str, tuple[float, float]] = {
    "camera_index": (0, 15), "camera_width": (160, 7680), "camera_height": (120, 4320),
    "actions_per_challenge": (1, 5), "step_timeout_s": (3, 120), "attempts_per_day": (1, 10),
    "fallback_after_failures": (1, 10), "fallback_review_days": (1, 10),
    "onnx_input_size": (32, 1024), "onnx_mean": (0, 255), "onnx_std": (0.001, 255),
    "capture_retention_days": (0, 365), "idle_reset_s": (10, 3600), "volume": (0, 1),
    "staff_idle_logout_s": (30, 3600),
    "grace_days": (0, 90), "sync_interval_s": (10, 86400), "backup_keep_days": (1, 365),
    "pad_live_min": (0.3, 0.99), "pad_sample_every": (1, 3), "printer_paper_mm": (58, 80),
    # issue 14 (self-test, maintenance window, heartbeat, kiosk session, ID-card reader)
    "selftest_interval_s": (60, 86400), "disk_min_free_mb": (1, 100000), "roster_max_age_days": (1, 365),
    "heartbeat_interval_s": (30, 86400), "monitor": (0, 15), "idcard_port": (0, 9999),
    "template_ageing_bound": (1, 10), "template_ageing_margin": (0, 5),
}
_MATCHING_RANGES = {
    "dlib": {"raw_threshold": (0.2, 0.8), "snorm_threshold": (-10, 0), "snorm_raw_cap": (0.2, 0.8),
             "roster_margin": (0, 0.2), "centred_threshold": (0.05, 1.0)},
    "onnx": {"raw_threshold": (0.05, 2.0), "snorm_threshold": (-10, 0), "snorm_raw_cap": (0.05, 2.0),
             "roster_margin": (0, 0.5), "centred_threshold": (0.05, 2.0)},
}
_CHOICES = {"embedding_backend": ("dlib", "onnx"), "cycle_rule": ("birthday", "window"),
            "flash_challenge": ("report", "off", "enforce"), "printer_kind": ("none", "file", "network"),
            "on_screen_keyboard": ("auto", "on", "off")}


def _toml_where(e: Exception) -> str:
    line = getattr(e, "lineno", None)
    col = getattr(e, "colno", None)
    if line is None:
        import re

        m = re.search(r"line (\d+), column (\d+)", str(e))
        if m:
            line, col = int(m.group(1)), int(m.group(2))
    return _words("config_where", line=line, col=col) if line is not None else ""


def _words(code: str, **data: Any) -> str:
    from kiosk.texts import text

    return text(code, **data)


def _toml_reason(e: Exception) -> str:
    text = getattr(e, "msg", None) or str(e)
    return text.split(" (at ")[0]


def _fmt(v) -> str:
    if isinstance(v, str):
        return f"“{v}”"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _num(v) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _check_number(path: Path, key: str, value, kind: type, lo: float, hi: float, example, label: str = "") -> None:
    name = label or key
    want = _words("config_word_integer" if kind is int else "config_word_number")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
        raise SettingsError("not_number", path, key, name=name, value=_fmt(value), want=want, lo=_num(lo), hi=_num(hi),
                            example=_fmt(example))
    if value != value or not lo <= value <= hi:  # NaN too
        raise SettingsError("out_of_range", path, key, name=name, value=_fmt(value), want=want, lo=_num(lo),
                            hi=_num(hi), example=_fmt(example))


def _check_matching(path: Path, backend: str, table: dict, prefix: str = "") -> None:
    family = "dlib" if backend.startswith("dlib") else "onnx"
    defaults = Settings()
    for key, value in table.items():
        label = f"{prefix}{key}"
        if key not in _MATCHING_RANGES[family]:
            raise SettingsError("unknown_threshold", path, label, names=_words("engine_list").join(_MATCHING_RANGES[family]))
        lo, hi = _MATCHING_RANGES[family][key]
        example = getattr(defaults, key) if family == "dlib" else round((lo + hi) / 2, 2)
        _check_number(path, label, value, float, lo, hi, example)


def validate(data: dict, path: Path = Path("kiosk.toml")) -> Settings:
    """Check every key of a parsed kiosk.toml; the Settings, or SettingsError saying what to fix."""
    import difflib

    defaults = Settings()
    types = {f.name: type(getattr(defaults, f.name)) for f in fields(Settings)}
    for key, value in data.items():
        if key not in types:
            near = difflib.get_close_matches(key, list(types), n=1)
            hint = _words("config_hint_near", near=near[0]) if near else _words("config_hint_delete")
            raise SettingsError("unknown_key", path, key, hint=hint)
        kind, default = types[key], getattr(defaults, key)
        if kind in (int, float):
            if key in _MATCHING_RANGES["dlib"]:
                _check_matching(path, "dlib", {key: value})
            else:
                lo, hi = _RANGES[key]
                _check_number(path, key, value, kind, lo, hi, default)
        elif kind is bool:
            if not isinstance(value, bool):
                raise SettingsError("not_switch", path, key, value=_fmt(value), example=_fmt(default))
        elif kind is str:
            if not isinstance(value, str):
                raise SettingsError("not_text", path, key, value=_fmt(value), example=default or "…")
            _check_text(path, key, value, default)
        elif kind is dict:
            if not isinstance(value, dict):
                raise SettingsError("not_table", path, key)
            for backend, table in value.items():
                if not isinstance(table, dict):
                    raise SettingsError("not_threshold_table", path, key, backend=backend)
                _check_matching(path, str(backend), table, prefix=f"calibration.{backend}.")
    _check_printer(path, data)
    return replace(defaults, **data)


_PRINTER_DEVICE = {  # kind -> the pattern a device must match (what to write: config_printer_example_<kind>)
    "file": r"/\S+",
    "network": r"[A-Za-z0-9.\-]+(:\d{1,5})?",
}


def _check_printer(path: Path, data: dict) -> None:
    """The receipt printer: 58 or 80 mm paper, and a device written the way its kind needs."""
    import re

    if data.get("printer_paper_mm", 58) not in (58, 80):
        raise SettingsError("paper_width", path, "printer_paper_mm", value=_fmt(data["printer_paper_mm"]))
    kind = data.get("printer_kind", "none")
    if kind in _PRINTER_DEVICE:
        device = data.get("printer_device", "")
        if not re.fullmatch(_PRINTER_DEVICE[kind], device):
            raise SettingsError("printer_device", path, "printer_device", value=_fmt(device), kind=kind,
                                example=_words(f"config_printer_example_{kind}"))


def _check_text(path: Path, key: str, value: str, default: str) -> None:
    bad = None
    if key in _CHOICES and value not in _CHOICES[key]:
        bad = _words("config_text_choices", choices=_words("config_or").join(_CHOICES[key]), key=key, default=default)
    elif key == "device_id" and not value.strip():
        bad = _words("config_text_device_id")
    elif key in ("window_start", "window_end"):
        from datetime import date

        try:
            m, d = (int(x) for x in value.split("-"))
            date(2024, m, d)  # a leap year: 02-29 is a real day
        except ValueError:
            bad = _words("config_text_month_day", key=key, default=default)
    elif key == "hub_url" and value and not value.startswith(("https://", "http://")):
        bad = _words("config_text_hub_url")
    elif key == "hub_cert_pin" and value and (len(value) != 64 or any(c not in "0123456789abcdefABCDEF" for c in value)):
        bad = _words("config_text_hub_cert_pin")
    elif key == "flash_challenge" and value == "enforce":
        from kiosk.pad.flash import load_thresholds

        if not load_thresholds().calibrated:
            bad = _words("config_text_flash_uncalibrated")
    elif key == "timezone":
        from kiosk.core.clock import zone

        try:
            zone(value)
        except ValueError:
            bad = _words("config_text_timezone")
    elif key == "maintenance_window" and value.strip():
        from kiosk.maintenance import ScheduleError, parse_schedule

        try:
            parse_schedule(value)
        except ScheduleError:
            bad = _words("config_text_maintenance")
    if bad:
        raise SettingsError("bad_text", path, key, value=_fmt(value), bad=bad)
