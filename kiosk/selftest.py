"""Self-test of an unattended kiosk (issue 14, item 1): is everything a resident needs working?

`run_selftest(settings, store, clock, ...)` checks, in this order:

    camera        opens, frames arrive (not blank); with `face=True` FaceMesh must see a face
    audio         an output device exists (ALSA card, PulseAudio/PipeWire socket, or the app's own
                  probe: QMediaDevices) and every voice file is there
    disk          free space (kiosk.toml `disk_min_free_mb` → broken; doctor's 200 MB → warn), read-only
    database      PRAGMA quick_check on the open store (kiosk.store.doctor's check), or why it did not open
    template_key  the store opened with its key
    clock         kiosk.service's clock rules (earlier than the last record or sync, far from the county's)
    roster        residents on the roster, days since the county last updated it
    hub           registered with the county, last sync error
    printer       only when configured (`settings.printer`)

Each check has a state (ok / warn / broken / skipped), a catalogue code (`selftest_<check>_<finding>`,
words in kiosk.texts) with its data, and whether the RESIDENT needs it. `report.blocking` lists the
broken checks a resident needs (camera, disk, database, template key, clock): the app shows
"本机暂停服务" from it instead of letting a resident type 18 digits first, and `kiosk selftest`
exits 1. The report also carries the maintenance window's status (kiosk.maintenance), which pauses
certification on its own terms.

No Qt here: the app passes its own audio probe (`audio_probe`) and, in demo mode, its frame source
(`open_camera`). `summary()` is what the heartbeat sends to the county: states and numbers, nothing personal.
"""
from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kiosk.texts import text

log = logging.getLogger(__name__)

STATES = ("ok", "warn", "broken", "skipped")
CHECKS = ("camera", "audio", "disk", "database", "template_key", "clock", "roster", "hub", "printer", "update")
# What a resident cannot certify without: broken → the kiosk pauses (report.blocking).
RESIDENT_NEEDS = frozenset({"camera", "disk", "database", "template_key", "clock"})
CAMERA_FRAMES = 5  # frames that must arrive
CAMERA_TIMEOUT_S = 4.0  # ... within this long after opening
BLANK_STD = 2.0  # a frame whose pixels vary less than this is black or covered
EARLIEST_DATE = date(2026, 1, 1)  # a clock before this program was built is wrong (a flat CMOS battery)

AudioProbe = Callable[[], list[str]]  # names of the audio output devices


@dataclass(frozen=True)
class Check:
    name: str  # one of CHECKS
    state: str  # one of STATES
    code: str  # catalogue code: selftest_<name>_<finding>
    data: dict = field(default_factory=dict)

    @property
    def resident_needs(self) -> bool:
        return self.name in RESIDENT_NEEDS

    @property
    def message(self) -> str:
        return text(self.code, **self.data)

    @property
    def label(self) -> str:
        return text(f"selftest_name_{self.name}")

    def to_json(self) -> dict:
        return {"name": self.name, "state": self.state, "code": self.code, "message": self.message,
                "label": self.label, "residentNeeds": self.resident_needs, "data": dict(self.data)}


@dataclass(frozen=True)
class SelfTestReport:
    at: str  # UTC ISO time the test ran (the injected clock)
    checks: tuple[Check, ...]
    maintenance: dict = field(default_factory=dict)  # kiosk.maintenance.status(): active, until, next_start, ...

    @property
    def blocking(self) -> tuple[Check, ...]:
        """Broken checks a resident needs: while any, the kiosk is paused (本机暂停服务)."""
        return tuple(c for c in self.checks if c.state == "broken" and c.resident_needs)

    @property
    def paused(self) -> bool:
        return bool(self.blocking)

    @property
    def warnings(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.state == "warn" or (c.state == "broken" and not c.resident_needs))

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    @property
    def message(self) -> str:
        """One line for the staff page and the CLI: paused (and why), or how many need attention."""
        if self.paused:
            return text("selftest_paused_detail", what=text("engine_list").join(c.label for c in self.blocking))
        if self.warnings:
            return text("selftest_some_warn", n=len(self.warnings))
        return text("selftest_all_ok")

    def summary(self) -> dict:
        """For the heartbeat: check name → state, the blocking ones, no messages, nothing personal."""
        return {"at": self.at, "paused": self.paused, "blocking": [c.name for c in self.blocking],
                "checks": {c.name: c.state for c in self.checks}}

    def to_json(self) -> dict:
        return {"at": self.at, "paused": self.paused, "blocking": [c.name for c in self.blocking],
                "message": self.message, "maintenance": dict(self.maintenance),
                "checks": [c.to_json() for c in self.checks]}


# ------------------------------------------------------------------------------ camera
def camera_device_index(spec: str) -> int | None:
    """/dev/video3 (or a /dev/v4l/by-id link to it) → 3; None if it is not a V4L2 device path."""
    real = os.path.realpath(spec)
    m = re.fullmatch(r"/dev/video(\d+)", real)
    return int(m.group(1)) if m else None


def _open_camera(spec: int | str, settings: Any) -> Any:
    """A frame source for `spec`: a camera index, a /dev/videoN path, or a video/image file.
    FrameSourceError (code no_camera / unreadable_file) when it cannot be opened."""
    from kiosk.frames import CameraSource, FrameSourceError, open_source

    width, height = int(getattr(settings, "camera_width", 640)), int(getattr(settings, "camera_height", 480))
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        index = int(spec)
        if os.name == "posix" and not Path(f"/dev/video{index}").exists():
            raise FrameSourceError("no_camera", "no device", f"/dev/video{index} does not exist")
        return CameraSource(index, width, height, lost_after_s=CAMERA_TIMEOUT_S)
    if spec.startswith("/dev/"):
        if not Path(spec).exists():
            raise FrameSourceError("no_camera", "no device", f"{spec} does not exist")
        device = camera_device_index(spec)
        if device is None:
            raise FrameSourceError("no_camera", "not a camera", f"{spec} is not a /dev/videoN device")
        return CameraSource(device, width, height, lost_after_s=CAMERA_TIMEOUT_S)
    return open_source(spec)


def _first_frames(source: Any, n: int, timeout_s: float) -> list[Any]:
    frames: list[Any] = []
    t0 = time.monotonic()
    it: Iterator[Any] = iter(source)
    while len(frames) < n and time.monotonic() - t0 < timeout_s:
        try:
            frames.append(next(it))
        except StopIteration:
            break
    return frames


def check_camera(spec: int | str, settings: Any = None, *, face: bool = False,
                 open_camera: Callable[[], Any] | None = None, timeout_s: float = CAMERA_TIMEOUT_S) -> Check:
    """Open the camera (or the injected source), read CAMERA_FRAMES frames; `face`: FaceMesh must
    see a face in one of them (asked by staff standing in front of it)."""
    import numpy as np

    from kiosk.frames import FrameSourceError

    where = str(spec)
    try:
        source = open_camera() if open_camera is not None else _open_camera(spec, settings)
    except FrameSourceError as e:
        return Check("camera", "broken", "selftest_camera_no_camera", {"detail": e.detail or where})
    except Exception as e:  # an OpenCV backend error is a camera that does not open
        return Check("camera", "broken", "selftest_camera_no_camera", {"detail": f"{where}: {e}"})
    try:
        try:
            frames = _first_frames(source, CAMERA_FRAMES, timeout_s)
        except FrameSourceError as e:  # CameraLost: frames stopped
            log.info("self-test camera: %s", e)
            frames = []
        if not frames:
            return Check("camera", "broken", "selftest_camera_no_frames", {"s": round(timeout_s), "detail": where})
        w, h = frames[0].size
        data = {"n": len(frames), "width": w, "height": h}
        if all(float(np.std(f.rgb)) < BLANK_STD for f in frames):
            return Check("camera", "warn", "selftest_camera_blank", data)
        if face:
            from kiosk.observe import FaceObserver

            with FaceObserver(static=True) as obs:
                seen = any(obs.observe(f).face is not None for f in frames)
            return Check("camera", "ok" if seen else "warn",
                         "selftest_camera_face" if seen else "selftest_camera_no_face", data)
        return Check("camera", "ok", "selftest_camera_ok", data)
    finally:
        source.close()


# ------------------------------------------------------------------------------ audio
def system_audio_outputs() -> list[str]:
    """Audio outputs the system offers, without Qt: ALSA playback devices (/proc/asound/pcm),
    a PulseAudio or PipeWire server socket of this user."""
    found = []
    try:
        for line in Path("/proc/asound/pcm").read_text().splitlines():
            if "playback" in line:
                found.append("alsa " + line.split(":")[0].strip())
    except OSError:
        pass
    runtime = os.environ.get("XDG_RUNTIME_DIR") or (f"/run/user/{os.getuid()}" if hasattr(os, "getuid") else "")
    if os.environ.get("PULSE_SERVER"):
        found.append("pulse " + os.environ["PULSE_SERVER"])
    for name in ("pulse/native", "pipewire-0"):
        if runtime and Path(runtime, name).exists():
            found.append(name.split("/")[0])
    return found


def missing_voice_files() -> list[str]:
    """Voice codes with no WAV in $KIOSK_HOME/voice/zh_CN/ nor in the installed assets."""
    from kiosk.core.paths import assets_dir, home_dir
    from kiosk.texts import all_voice_texts

    dirs = [home_dir() / "voice" / "zh_CN", assets_dir("voice", "zh_CN")]
    return sorted(c for c in all_voice_texts() if not any((d / f"{c}.wav").is_file() for d in dirs))


def check_audio(probe: AudioProbe | None = None) -> Check:
    outputs = (probe or system_audio_outputs)()
    if not outputs:
        return Check("audio", "warn", "selftest_audio_no_device")
    missing = missing_voice_files()
    if missing:
        return Check("audio", "warn", "selftest_audio_no_files", {"n": len(missing), "detail": missing[0]})
    return Check("audio", "ok", "selftest_audio_ok", {"detail": ", ".join(outputs[:3])})


# ------------------------------------------------------------------------------ disk, database, key
def check_disk(db_path: Path, settings: Any) -> Check:
    from kiosk.store.db import free_bytes, read_only_reason
    from kiosk.store.doctor import LOW_SPACE_BYTES

    reason = read_only_reason(db_path)
    if reason:
        return Check("disk", "broken", "selftest_disk_read_only", {"detail": reason})
    free = free_bytes(db_path)
    if free is None:
        return Check("disk", "skipped", "selftest_disk_ok", {"n": "?"})
    mb = free // (1024 * 1024)
    if mb < int(getattr(settings, "disk_min_free_mb", 50)):
        return Check("disk", "broken", "selftest_disk_full", {"n": mb})
    if free < LOW_SPACE_BYTES:
        return Check("disk", "warn", "selftest_disk_low", {"n": mb})
    return Check("disk", "ok", "selftest_disk_ok", {"n": mb})


def check_database(store: Any, store_error: BaseException | None = None) -> Check:
    from kiosk.store.doctor import _quick_check

    if store is None:
        detail = getattr(store_error, "message", None) or str(store_error or "")
        code = getattr(store_error, "code", "")
        if code == "missing":
            return Check("database", "broken", "selftest_database_missing", {"detail": detail})
        if code in ("disk_full", "read_only"):
            return Check("database", "broken", "selftest_disk_read_only", {"detail": detail})
        return Check("database", "broken", "selftest_database_damaged", {"detail": detail or "-"})
    good, detail = _quick_check(store.db.conn)
    if not good:
        return Check("database", "broken", "selftest_database_damaged", {"detail": detail})
    pending = store.db.execute("SELECT count(*) FROM outbox WHERE acked_at IS NULL").fetchone()[0]
    return Check("database", "ok", "selftest_database_ok", {"n": pending})


def check_template_key(store: Any) -> Check:
    if store is None:
        return Check("template_key", "skipped", "selftest_template_key_missing")
    if not store.has_key:
        code = getattr(store.key_error, "code", "key_missing")
        return Check("template_key", "broken", "selftest_template_key_missing", {"detail": code})
    return Check("template_key", "ok", "selftest_template_key_ok")


# ------------------------------------------------------------------------------ clock, roster, hub
def check_clock(store: Any, settings: Any, clock: Any) -> Check:
    now = clock.now()
    if now.date() < EARLIEST_DATE:
        return Check("clock", "broken", "selftest_clock_wrong", {"detail": now.strftime("%Y-%m-%d %H:%M")})
    if store is not None:
        from kiosk.service import CertificationService

        problem = CertificationService(store, settings, clock=clock).clock_problem()
        if problem:
            return Check("clock", "broken", "selftest_clock_wrong", {"detail": problem})
    return Check("clock", "ok", "selftest_clock_ok", {"detail": now.strftime("%Y-%m-%d %H:%M")})


def _latest(*stamps: str | None) -> datetime | None:
    parsed = []
    for s in stamps:
        if not s:
            continue
        try:
            parsed.append(datetime.fromisoformat(s))
        except ValueError:
            pass
    return max(parsed) if parsed else None


def check_roster(store: Any, settings: Any, clock: Any) -> Check:
    if store is None:
        return Check("roster", "skipped", "selftest_roster_empty")
    from kiosk.store.syncstate import SyncState

    n = store.db.execute("SELECT count(*) FROM residents").fetchone()[0]
    if n == 0:
        return Check("roster", "warn", "selftest_roster_empty", {"n": 0})
    state = SyncState(store)
    last = _latest(state.get("last_success"), state.get("last_bundle_import"))
    if last is None:
        return Check("roster", "warn", "selftest_roster_never", {"n": n})
    days = max(0, (clock.utc_now() - last).days)
    limit = int(getattr(settings, "roster_max_age_days", 7))
    return Check("roster", "warn" if days > limit else "ok",
                 "selftest_roster_old" if days > limit else "selftest_roster_ok", {"n": n, "days": days})


def check_hub(store: Any) -> Check:
    if store is None:
        return Check("hub", "skipped", "selftest_hub_not_registered")
    from kiosk.store.syncstate import SyncState

    row = store.db.execute("SELECT device_id FROM sync_identity WHERE id = 1").fetchone()
    if row is None:
        return Check("hub", "warn", "selftest_hub_not_registered")
    state = SyncState(store)
    error, error_at = state.get("last_error"), state.get("last_error_at")
    ok_at = state.get("last_success")
    if error and (not ok_at or (error_at or "") > ok_at):
        return Check("hub", "warn", "selftest_hub_error", {"detail": error, "device": row[0]})
    return Check("hub", "ok", "selftest_hub_ok", {"detail": row[0]})


# ------------------------------------------------------------------------------ printer
PrinterProbe = Callable[[Any], "tuple[bool, str]"]


def check_printer(settings: Any, probe: PrinterProbe | None = None) -> Check:
    """Only when a printer is configured (`settings.printer`, from the receipts work): a device
    path must exist and be writable; another kind of address is asked of `probe`."""
    printer = getattr(settings, "printer", None)
    if not printer:
        return Check("printer", "skipped", "selftest_printer_none")
    if probe is not None:
        ok, detail = probe(printer)
        return Check("printer", "ok" if ok else "warn", "selftest_printer_ok" if ok else "selftest_printer_missing",
                     {"detail": detail})
    where = str(printer)
    if where.startswith("/"):
        ok = Path(where).exists() and os.access(where, os.W_OK)
        return Check("printer", "ok" if ok else "warn", "selftest_printer_ok" if ok else "selftest_printer_missing",
                     {"detail": where})
    return Check("printer", "skipped", "selftest_printer_ok", {"detail": where})


# ------------------------------------------------------------------------------ all of it
def run_selftest(settings: Any, store: Any, clock: Any, *, camera: int | str | bool | None = None,
                 face: bool = False, open_camera: Callable[[], Any] | None = None,
                 audio_probe: AudioProbe | None = None, printer_probe: PrinterProbe | None = None,
                 store_error: BaseException | None = None, db_path: Path | None = None,
                 on_check: Callable[[Check], None] | None = None) -> SelfTestReport:
    """Every check, in CHECKS order.

    `camera`: None → settings.camera_index; an index, a /dev/videoN path or a video file; False →
    skipped (the app while its face screen holds the camera). `open_camera` (the app's demo: the
    virtual camera) replaces opening it. `store` None with `store_error`: the database did not
    open (the CLI on a damaged file). `audio_probe`: the app's QMediaDevices list (default: ALSA /
    PulseAudio / PipeWire as the system sees them). `on_check(check)` is called with each check as
    soon as it is done (the app's 自检 screen shows them as they come; an exception there is logged,
    the self-test goes on)."""
    from kiosk.maintenance import schedule_in_force, status as maintenance_status
    from kiosk.update import check_update

    checks: list[Check] = []

    def add(check: Check) -> None:
        checks.append(check)
        if on_check is not None:
            try:
                on_check(check)
            except Exception:  # noqa: BLE001 - a listener's failure must not stop the self-test
                log.exception("self-test listener failed")

    if camera is False:
        add(Check("camera", "skipped", "selftest_camera_ok"))
    else:
        spec: int | str = getattr(settings, "camera_index", 0) if camera is None or camera is True else camera
        add(check_camera(spec, settings, face=face, open_camera=open_camera))
    add(check_audio(audio_probe))
    path = Path(db_path) if db_path is not None else Path(store.path) if store is not None else None
    if path is not None:
        add(check_disk(path, settings))
    else:
        add(Check("disk", "skipped", "selftest_disk_ok", {"n": "?"}))
    add(check_database(store, store_error))
    add(check_template_key(store))
    add(check_clock(store, settings, clock))
    add(check_roster(store, settings, clock))
    add(check_hub(store))
    add(check_printer(settings, printer_probe))
    if path is not None and (update := check_update(path.parent / "updates")) is not None:
        add(update)  # a program update waiting for the window, or rolled back (kiosk.update)
    try:
        maint = maintenance_status(clock.now(), schedule_in_force(store, settings))
    except Exception as e:  # a schedule that cannot be read must not stop the self-test
        log.warning("maintenance window: %s", e)
        maint = {"active": False}
    report = SelfTestReport(at=clock.utc_now().isoformat(timespec="seconds"), checks=tuple(checks), maintenance=maint)
    if store is not None:
        save_summary(store, report)
    return report


def save_summary(store: Any, report: SelfTestReport) -> None:
    """Keep the latest summary in the store (sync state, not audited): the heartbeat sends it."""
    from kiosk.store import StoreError
    from kiosk.store.syncstate import SyncState

    try:
        SyncState(store).set(selftest_last=report.summary())
    except StoreError as e:  # a full or read-only disk is already reported by the checks
        log.warning("self-test summary not kept: %s", e)


def last_summary(store: Any) -> dict | None:
    from kiosk.store.syncstate import SyncState

    value = SyncState(store).get("selftest_last")
    return value if isinstance(value, dict) else None


def human(report: SelfTestReport) -> str:
    lines = [text("selftest_cli_line", state=text(f"selftest_state_{c.state}"), name=c.label,
                  message=c.message if c.state != "skipped" else text("selftest_state_skipped"))
             for c in report.checks]
    if report.maintenance.get("active"):
        lines.append(text("selftest_maintenance_active", until=report.maintenance.get("until", "")[:16]))
    lines.append(f"{text('selftest_paused')} - {report.message}" if report.paused else report.message)
    return "\n".join(lines)
