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


from kiosk.core.errors import KioskError
from kiosk.thresholds import PAD
from kiosk.core.paths import home_dir, key_file  # noqa: F401  (re-exported: the terminal's callers)


class SettingsError(KioskError):
    """kiosk.toml is unreadable or a key is wrong: the CLI and the app print `message`, exit 2."""

    def __init__(self, message: str, path: Path | None = None, key: str | None = None):
        super().__init__("bad_settings", message)
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
            raise SettingsError(f"{path.name}：读不出设置文件（{e.strerror}），请检查文件权限。", path) from None
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise SettingsError(f"{path.name}：不是 UTF-8 编码的文本，请用记事本“另存为 UTF-8”后再试。", path) from None
        except tomllib.TOMLDecodeError as e:
            raise SettingsError(f"{path.name}：{_toml_where(e)}格式不对（{_toml_reason(e)}）。"
                                "请按“键 = 值”的格式改正，文字要加英文引号，如 device_id = \"东村-1\"。", path) from None
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
    return f"第 {line} 行第 {col} 列" if line is not None else ""


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
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
        want = "整数" if kind is int else "数"
        raise SettingsError(f"{path.name} 第 {name} 项：{_fmt(value)} 不是{want}，请改为 {_num(lo)} 到 {_num(hi)} "
                            f"之间的{want}，例如 {_fmt(example)}", path, key)
    if value != value or not lo <= value <= hi:  # NaN too
        want = "整数" if kind is int else "数"
        raise SettingsError(f"{path.name} 第 {name} 项：{_fmt(value)} 超出范围 {_num(lo)}–{_num(hi)}，"
                            f"请改为 {_num(lo)} 到 {_num(hi)} 之间的{want}，例如 {_fmt(example)}", path, key)


def _check_matching(path: Path, backend: str, table: dict, prefix: str = "") -> None:
    family = "dlib" if backend.startswith("dlib") else "onnx"
    defaults = Settings()
    for key, value in table.items():
        label = f"{prefix}{key}"
        if key not in _MATCHING_RANGES[family]:
            raise SettingsError(f"{path.name} 第 {label} 项：不认识这个阈值名，只能是 "
                                f"{'、'.join(_MATCHING_RANGES[family])}，请删去或改正。", path, label)
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
            hint = f"是不是要写 {near[0]}？" if near else "请删去这一项。"
            raise SettingsError(f"{path.name} 第 {key} 项：没有这个设置，{hint}", path, key)
        kind, default = types[key], getattr(defaults, key)
        if kind in (int, float):
            if key in _MATCHING_RANGES["dlib"]:
                _check_matching(path, "dlib", {key: value})
            else:
                lo, hi = _RANGES[key]
                _check_number(path, key, value, kind, lo, hi, default)
        elif kind is bool:
            if not isinstance(value, bool):
                raise SettingsError(f"{path.name} 第 {key} 项：{_fmt(value)} 不是开关，请写 true 或 false"
                                    f"（不加引号），例如 {_fmt(default)}", path, key)
        elif kind is str:
            if not isinstance(value, str):
                raise SettingsError(f"{path.name} 第 {key} 项：{_fmt(value)} 不是文字，请加英文双引号，"
                                    f"例如 {key} = \"{default or '…'}\"", path, key)
            _check_text(path, key, value, default)
        elif kind is dict:
            if not isinstance(value, dict):
                raise SettingsError(f"{path.name} 第 {key} 项：应是 [calibration.\"后端名\"] 表，"
                                    "请用 kiosk calibrate --write 写入，不要手改。", path, key)
            for backend, table in value.items():
                if not isinstance(table, dict):
                    raise SettingsError(f"{path.name} 第 calibration.{backend} 项：应是阈值表，"
                                        "请用 kiosk calibrate --write 写入。", path, key)
                _check_matching(path, str(backend), table, prefix=f"calibration.{backend}.")
    _check_printer(path, data)
    return replace(defaults, **data)


_PRINTER_DEVICE = {
    "file": (r"/\S+", "打印机设备文件，例如 printer_device = \"/dev/usb/lp0\""),
    "network": (r"[A-Za-z0-9.\-]+(:\d{1,5})?", "打印机的网络地址，例如 printer_device = \"192.168.1.50:9100\""),
}


def _check_printer(path: Path, data: dict) -> None:
    """The receipt printer: 58 or 80 mm paper, and a device written the way its kind needs."""
    import re

    if data.get("printer_paper_mm", 58) not in (58, 80):
        raise SettingsError(f"{path.name} 第 printer_paper_mm 项：{_fmt(data['printer_paper_mm'])} 不是常见的热敏纸宽，"
                            "请写 58 或 80，例如 printer_paper_mm = 58", path, "printer_paper_mm")
    kind = data.get("printer_kind", "none")
    if kind in _PRINTER_DEVICE:
        pattern, example = _PRINTER_DEVICE[kind]
        device = data.get("printer_device", "")
        if not re.fullmatch(pattern, device):
            raise SettingsError(f"{path.name} 第 printer_device 项：{_fmt(device)} 不对，printer_kind = \"{kind}\" "
                                f"时请写{example}", path, "printer_device")


def _check_text(path: Path, key: str, value: str, default: str) -> None:
    bad = None
    if key in _CHOICES and value not in _CHOICES[key]:
        bad = f"只能是 {' 或 '.join(_CHOICES[key])}，请改为其中之一，例如 {key} = \"{default}\""
    elif key == "device_id" and not value.strip():
        bad = "不能是空的，请写这台终端的名称，例如 device_id = \"东村-1\""
    elif key in ("window_start", "window_end"):
        from datetime import date

        try:
            m, d = (int(x) for x in value.split("-"))
            date(2024, m, d)  # a leap year: 02-29 is a real day
        except ValueError:
            bad = f"应是“月-日”，请改为有效的日期，例如 {key} = \"{default}\""
    elif key == "hub_url" and value and not value.startswith(("https://", "http://")):
        bad = "应以 https:// 开头，请改为县里服务器地址，例如 hub_url = \"https://county.example.cn:8443\"；不用联网同步就留空"
    elif key == "hub_cert_pin" and value and (len(value) != 64 or any(c not in "0123456789abcdefABCDEF" for c in value)):
        bad = "应是 64 位十六进制的证书指纹，请照抄县里 kiosk-county serve 显示的指纹，或留空"
    elif key == "flash_challenge" and value == "enforce":
        from kiosk.pad.flash import load_thresholds

        if not load_thresholds().calibrated:
            bad = ("要先在这台终端上校准炫彩活体（kiosk pad calibrate --camera 0）才能启用，"
                   "未校准前请写 flash_challenge = \"report\"")
    elif key == "timezone":
        from kiosk.core.clock import zone

        try:
            zone(value)
        except ValueError:
            bad = "不是有效的时区名，请写 IANA 时区名，例如 timezone = \"Asia/Shanghai\""
    elif key == "maintenance_window" and value.strip():
        from kiosk.maintenance import ScheduleError, parse_schedule

        try:
            parse_schedule(value)
        except ScheduleError:
            bad = ("看不懂，请写“daily 时:分-时:分”或“monthly 日-日”，多段用分号隔开，"
                   "例如 maintenance_window = \"monthly 1-3\" 或 \"daily 01:00-05:00\"")
    if bad:
        raise SettingsError(f"{path.name} 第 {key} 项：{_fmt(value)} {bad}", path, key)
