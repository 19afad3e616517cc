"""The unattended kiosk in the app (issue 14): whether the kiosk may serve (KioskState: "本机暂停服务"
on the home screen) and the admin corner (Admin: exit/restart, on-site settings, sync now, USB
export, self-test, logs), both QML singletons of the module Kiosk.

KioskState asks an injected `kiosk_state() -> {"paused": bool, "reason": code, ...}` at start,
every `recheck_s` (a minute) and when asked (after an admin fixed something). `reason` is a check
name of the self-test (camera, disk, database, template_key, clock) or "maintenance" (the county's
maintenance window; "until" then says when it ends). `state_from_report` makes that dict from a
kiosk.selftest report; `SelfTestState` is the real kiosk's: the self-test at start and every hour
(kiosk.toml `selftest_interval_s`), the maintenance window every minute. Given a `worker_run`, the
self-test at start and every hour runs in a worker thread (opening a broken camera takes seconds;
the screen stays responsive) and KioskState is told on the UI thread (a queued signal) when its
report arrives; until the first one the kiosk serves.

自检 in the admin corner (`runSelfTest`, `openSelfTest`, the "selftest" area) runs exactly like the
one at start: given the kiosk's SelfTestState (`selftest_source`), it is `SelfTestState.start()` on the
worker thread. The screen says 正在自检… and shows each check as it is done (`checkDone`, queued to
the UI thread), the button is disabled meanwhile and a second press does nothing; 返回 leaves it
running: its report is still saved and applied to KioskState (paused / resumed) when it is in
(`selftestDone`). A self-test already running (the hourly one) is waited for instead of a second.
Without a SelfTestState (a bare KioskApp) the injected `selftest()` runs on the calling thread.

Admin shows the corner only to an admin operator (the injected `current_operator`: the staff
login's), the self-test results to any staff member; everyone else is told so. 返回 leads back to
the staff menu (`menu`) while someone is logged in. Every change it makes goes to the audit log. Exit ends
the app with status 0, restart with RESTART_EXIT_CODE (75); the kiosk session's systemd unit
(packaging/systemd: `Restart=always`, `RestartPreventExitStatus=0`, the status passed through xinit
by village-kiosk-start) starts it again after 重启 or a crash and leaves it stopped after 退出.

Settings are edited by touch (steppers, on/off, a choice of presets; no typing: the on-screen keyboard's
`on_screen_keyboard` and the enrolment's `pose_response_s` among them) and saved to
kiosk.toml by `save_settings`: only the keys changed are rewritten in place (comments and the
rest of the file kept), the result is validated as the next start would read it
(kiosk.config.validate) and written atomically.
"""
from __future__ import annotations

import logging
import re
import threading
import tomllib
from collections import deque
from collections.abc import Callable
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Property, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtQml import QmlNamedElement, QmlSingleton

from kiosk.app import qml
from kiosk.core.atomic import write_atomic
from kiosk.core.errors import KioskError
from kiosk.texts import has, text

QML_IMPORT_NAME = "Kiosk"
QML_IMPORT_MAJOR_VERSION = 1

log = logging.getLogger(__name__)

RESTART_EXIT_CODE = 75  # EX_TEMPFAIL: "restart me" for the systemd unit
EXIT_CODE = 0
RECHECK_S = 3600.0  # the self-test
POLL_S = 60.0  # the maintenance window (and whether the hourly self-test is due)
LOG_LINES = 40
# The on-site settings, in the order shown. A key the Settings do not have (yet) is left out.
SITE_KEYS = ("camera_index", "volume", "elder_mode_default", "maintenance_window",
             "printer_kind", "printer_device", "printer_paper_mm", "on_screen_keyboard", "pose_response_s")
STEPS = {"camera_index": 1, "volume": 0.1}
# Maintenance windows to choose from by touch (kiosk.maintenance schedule texts; "" none).
MAINTENANCE_PRESETS = ("", "daily 01:00-05:00", "daily 23:00-05:00", "monthly 1-3", "monthly 1-3; daily 01:00-05:00")
# Receipt printers chosen by touch: Linux's usblp devices (a network printer's address is typed into
# kiosk.toml by county IT and then kept as one of the choices).
PRINTER_DEVICE_PRESETS = ("", "/dev/usb/lp0", "/dev/usb/lp1")
PAPER_WIDTHS = (58, 80)
# The seconds an enrolment's pose step waits after its spoken guidance (kiosk.toml may hold another value:
# then it is one of the choices too).
POSE_RESPONSE_PRESETS = (1.0, 1.5, 2.5, 4.0)
# What only takes effect when the app starts again (Qt reads the keyboard's input method once).
RESTART_KEYS = ("camera_index", "printer_kind", "printer_device", "printer_paper_mm", "on_screen_keyboard")
REASONS = ("camera", "disk", "database", "template_key", "clock", "maintenance")


def state_from_report(report, maintenance: dict | None = None) -> dict:
    """{"paused", "reason", "until", "blocking"} from a kiosk.selftest.SelfTestReport (duck-typed)
    and the maintenance window's status ({"active", "until"}; default: the report's own)."""
    m = dict(maintenance if maintenance is not None else getattr(report, "maintenance", {}) or {})
    blocking = [c.name for c in getattr(report, "blocking", ())]
    if blocking:
        return {"paused": True, "reason": blocking[0], "blocking": blocking, "until": ""}
    if m.get("active"):
        return {"paused": True, "reason": "maintenance", "blocking": [], "until": str(m.get("until") or "")}
    return {"paused": False, "reason": "", "blocking": [], "until": ""}


class SelfTestState:
    """The real kiosk's `kiosk_state`: the self-test (kiosk.selftest.run_selftest) at start and every
    `interval_s`, or at once after `force()` (an admin fixed something); the maintenance window on
    every call (it starts and ends on the minute). While `busy()` (the face check holds the camera)
    the camera is not opened: the check is skipped that time."""

    def __init__(self, run: Callable[..., Any], maintenance: Callable[[], dict] | None = None, *,
                 interval_s: float = RECHECK_S, busy: Callable[[], bool] = lambda: False,
                 monotonic: Callable[[], float] | None = None, worker_run: Callable[..., Any] | None = None):
        """`run(camera=…)`: the self-test on the calling thread (`force()`; the real kiosk uses it
        only when there is no `worker_run`); `worker_run(camera=…)`: the same on a worker thread (its
        own store connection), used for the one at start, every `interval_s` and 自检 in the admin
        corner (`start()`); from that thread `progress(check)` is called with each check as it is done
        (when the worker_run hands them to `report_check`) and `notify()` when the report is in."""
        import time

        self.run, self.maintenance, self.interval_s, self.busy = run, maintenance, interval_s, busy
        self.worker_run = worker_run
        self.monotonic = monotonic or time.monotonic
        self.report: Any = None
        self.failed = False  # the latest worker run raised (its report is not `report`)
        self.notify: Callable[[], None] | None = None
        self.progress: Callable[[Any], None] | None = None
        self._at: float | None = None
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    def force(self) -> Any:
        self.report = self.run(camera=False if self.busy() else None)
        self._at = self.monotonic()
        return self.report

    @property
    def running(self) -> bool:
        with self._lock:
            return self._worker is not None

    def start(self) -> bool:
        """The self-test in a worker thread (False: one is running already)."""
        with self._lock:
            if self._worker is not None or self.worker_run is None:
                return False
            self._worker = threading.Thread(target=self._work, name="kiosk-selftest", daemon=True)
            worker = self._worker
        self._at = self.monotonic()  # the next one an interval from now
        worker.start()
        return True

    def report_check(self, check: Any) -> None:
        """One check of the running self-test is done (called on the worker thread)."""
        progress = self.progress
        if progress is not None:
            try:
                progress(check)
            except RuntimeError:  # the app closed meanwhile (its Admin is gone)
                pass

    def join(self, timeout: float | None = None) -> None:
        """Wait for a self-test running in the worker (the app closing)."""
        with self._lock:
            worker = self._worker
        if worker is not None:
            worker.join(timeout)

    def _work(self) -> None:
        assert self.worker_run is not None
        report = None
        try:
            # asked here, just before the camera would be opened: a face check holding it is left alone
            report = self.worker_run(camera=False if self.busy() else None)
        except Exception:  # noqa: BLE001 - a check that cannot run must not take the kiosk down
            log.exception("self-test failed")
        with self._lock:
            # a run that could not finish leaves the last report standing (the pause decision), but says so
            self.failed = report is None
            if report is not None:
                self.report = report
            self._worker = None
        notify = self.notify
        if notify is not None:
            try:
                notify()
            except RuntimeError:  # the app closed meanwhile (its KioskState is gone)
                pass

    def __call__(self) -> dict:
        if self._at is None or self.monotonic() - self._at >= self.interval_s:
            if self.worker_run is not None:
                self.start()
            else:
                self.force()
        return state_from_report(self.report, self.maintenance() if self.maintenance is not None else None)


@QmlNamedElement("KioskState")
@QmlSingleton
class KioskState(QObject):  # type: ignore[operator]  # (PySide6 stubs: QmlNamedElement is a decorator factory)
    """May a resident start here now? Read by the home screen and by KioskFlow.start."""

    changed = Signal()
    reportArrived = Signal()  # emitted from the self-test's worker thread: recheck on the UI thread

    def __init__(self, kiosk_state: Callable[[], dict] | None = None, *, recheck_s: float = POLL_S, parent=None):
        super().__init__(parent)
        self.kiosk_state = kiosk_state
        self.reportArrived.connect(self.recheck, Qt.ConnectionType.QueuedConnection)
        self._state: dict = {"paused": False, "reason": ""}
        self.timer = QTimer(self)
        self.timer.setInterval(max(1, int(recheck_s * 1000)))
        self.timer.timeout.connect(self.recheck)
        self.timer.start()
        self.recheck()

    @staticmethod
    def create(engine) -> QObject:
        return qml.instance("KioskState")

    @Slot()
    def recheck(self) -> None:
        if self.kiosk_state is None:
            return
        try:
            state = dict(self.kiosk_state() or {})
        except Exception:  # noqa: BLE001 - a check that cannot run must not take the kiosk down
            log.exception("kiosk state check failed")
            state = {"paused": False, "reason": ""}
        if state.get("paused") != self._state.get("paused") or state.get("reason") != self._state.get("reason"):
            log.info("kiosk %s%s", "paused: " if state.get("paused") else "serving",
                     state.get("reason", "") if state.get("paused") else "")
        self._state = state
        self.changed.emit()

    def paused(self) -> bool:
        return bool(self._state.get("paused"))

    def _reason_text(self) -> str:
        reason = str(self._state.get("reason") or "")
        code = f"ui_paused_reason_{reason}" if has(f"ui_paused_reason_{reason}") else "ui_paused_reason_other"
        return text(code, until=_until(str(self._state.get("until") or "")))

    isPaused = Property(bool, paused, notify=changed)
    reason = Property(str, lambda s: str(s._state.get("reason") or ""), notify=changed)
    reasonText = Property(str, _reason_text, notify=changed)


class UpdateInWindow:
    """Issue 14 item 3: a county-signed update waits in $KIOSK_HOME/updates (kiosk update stage) for
    the maintenance window. On each state check (every minute, KioskState.changed) inside the window,
    with an update staged and no face check running (never in the middle of one), the app ends with
    RESTART_EXIT_CODE; packaging/systemd/village-kiosk-start then verifies and installs it before the
    app starts again. Once per run: a refused update is moved aside by the wrapper."""

    def __init__(self, state: KioskState, *, in_window: Callable[[], bool], staged: Callable[[], str | None],
                 busy: Callable[[], bool], quit: Callable[[int], None]):
        self.in_window, self.staged, self.busy, self.quit = in_window, staged, busy, quit
        self.done = False
        state.changed.connect(self.poll)

    def poll(self) -> bool:
        if self.done or self.busy():
            return False
        try:
            if not self.in_window():
                return False
            version = self.staged()
        except Exception:  # noqa: BLE001 - an unreadable schedule or folder must not take the kiosk down
            log.exception("update check failed")
            return False
        if not version:
            return False
        self.done = True
        log.info("maintenance window: restarting to install update %s (exit status %d)", version, RESTART_EXIT_CODE)
        self.quit(RESTART_EXIT_CODE)
        return True


def _until(value: str) -> str:
    """（到12月3日 05:00）from an ISO time in the service area's zone; the text as it is otherwise."""
    if not value:
        return ""
    from datetime import datetime

    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        return text("ui_paused_until", when=value)
    return text("ui_paused_until", when=text("ui_paused_until_time", m=t.month, d=t.day, time=f"{t:%H:%M}"))


def _edited_toml(src: str, values: dict[str, Any]) -> str:
    """kiosk.toml text with `values` set: an existing top-level `key = …` line is replaced in place
    (its trailing comment kept), a missing key is added before the first table."""
    from kiosk.config import _toml_value

    lines = src.splitlines()
    first_table = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("[")), len(lines))
    for key, value in values.items():
        new = f"{key} = {_toml_value(value)}"
        pat = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for i in range(first_table):
            if pat.match(lines[i]):
                comment = re.search(r"\s+#[^\"']*$", lines[i])
                lines[i] = new + (comment.group(0) if comment else "")
                break
        else:
            lines.insert(first_table, new)
            first_table += 1
    return "\n".join(lines) + "\n"


def save_settings(path: Path, values: dict[str, Any]):
    """Write `values` into kiosk.toml at `path` (kept as it is otherwise), validated as the next
    start will read it, atomically. Returns the new Settings; SettingsError (nothing written) if
    the result would be refused."""
    from kiosk.config import validate

    src = path.read_text(encoding="utf-8") if path.is_file() else ""
    out = _edited_toml(src, values)
    settings = validate(tomllib.loads(out), path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, out.encode("utf-8"))
    return settings


def last_lines(path: Path | None, n: int = LOG_LINES) -> list[str]:
    if path is None or not path.is_file():
        return []
    with path.open(encoding="utf-8", errors="replace") as f:
        return [ln.rstrip("\n") for ln in deque(f, maxlen=n)]


def export_targets(roots: list[Path]) -> list[Path]:
    """Folders a USB export can go to: each mounted drive under the given roots (/media/USER/DISK,
    /run/media/USER/DISK) and the roots that are themselves export folders."""
    out: list[Path] = []
    for root in roots:
        if not root.is_dir():
            continue
        if root.name == "exports":
            out.append(root)
            continue
        for user in sorted(p for p in root.iterdir() if p.is_dir()):
            out += sorted(p for p in user.iterdir() if p.is_dir())
    return out


@QmlNamedElement("Admin")
@QmlSingleton
class AdminController(QObject):  # type: ignore[operator]
    """The admin corner (管理员): reached from the staff menu (`openArea("admin" | "selftest")`)."""

    changed = Signal()
    checkDone = Signal(object)  # a kiosk.selftest.Check, emitted from the self-test's worker thread
    selftestDone = Signal()  # emitted from the worker thread: its report is in SelfTestState.report

    def __init__(self, flow, app, state: KioskState, *, current_operator: Callable[[], Any],
                 settings_path: Path, store=None, selftest: Callable[[], Any] | None = None,
                 sync_now: Callable[[], Any] | None = None, log_path: Path | None = None,
                 export_roots: list[Path] | None = None, quit: Callable[[int], None] | None = None, parent=None):
        super().__init__(parent)
        self.flow, self.app, self.state = flow, app, state
        self.current_operator = current_operator
        self.settings_path = Path(settings_path)
        self.store = store
        self.selftest = selftest
        self.sync_now = sync_now
        self.log_path = log_path
        self.export_roots = list(export_roots or [])
        self.quit = quit
        self._allowed = False  # an admin: the corner
        self._viewer = False  # any staff member: the self-test results
        self.menu: Callable[[], None] | None = None  # the staff menu (Staff.showMenu)
        self._operator = ""
        self._edits: dict[str, Any] = {}
        self._message = ""
        self._message_bad = False
        self._report: dict = {}
        self._logs: list[str] = []
        self.selftest_source: Any = None  # the kiosk's SelfTestState (KioskApp.enable_selftest)
        self._running = False  # a self-test asked for here has not reported yet
        self.checkDone.connect(self._on_check, Qt.ConnectionType.QueuedConnection)
        self.selftestDone.connect(self._on_selftest_done, Qt.ConnectionType.QueuedConnection)

    @staticmethod
    def create(engine) -> QObject:
        return qml.instance("Admin")

    # ------------------------------------------------------------------ who
    def _admin(self, area: str = "admin"):
        """The operator logged in, if they may open `area`: the corner is for admins, the self-test
        results for any staff member (the issue's "results on the staff page")."""
        op = self.current_operator()
        if op is None or not getattr(op, "active", True):
            return None
        return op if area == "selftest" or getattr(op, "is_admin", False) else None

    def _audit(self, event: str, detail: dict) -> None:
        if self.store is not None and self._operator:
            try:
                self.store.audit(self._operator, event, detail)
            except Exception:  # noqa: BLE001 - the action was done; the log says the audit failed
                log.exception("audit of %s failed", event)

    def _say(self, message: str, bad: bool = False) -> None:
        self._message, self._message_bad = message, bad
        self.changed.emit()

    @Slot(str)
    def openArea(self, name: str) -> None:
        """From the staff menu: "admin" (the corner) or "selftest" (its results)."""
        if name not in ("admin", "selftest"):
            return
        op = self._admin(name)
        self._operator = op.name if op is not None else ""
        self._allowed = op is not None and getattr(op, "is_admin", False)
        self._viewer = op is not None
        self._edits = {}
        self._message, self._message_bad = ("", False) if op else (text("ui_admin_refused"), True)
        self._logs = []
        if not self._running:  # (a self-test still running keeps showing its progress)
            self._report = {}
        if op is not None and name == "selftest":
            self._run_selftest()
        self.changed.emit()
        self.flow.show(name if op is not None else "admin")

    def _guard(self, area: str = "admin") -> bool:
        """Every action checks again: the operator may have logged out meanwhile."""
        op = self._admin(area)
        if op is None or op.name != self._operator:
            self._allowed = self._viewer = False
            self._say(text("ui_admin_refused"), True)
            return False
        return True

    @Slot()
    def back(self) -> None:
        """返回: the staff menu while someone is logged in, else home."""
        self._allowed, self._viewer, self._operator, self._edits = False, False, "", {}
        if self.menu is not None and self.current_operator() is not None:
            self.menu()
        else:
            self.flow.home()

    # ------------------------------------------------------------------ exit / restart
    @Slot()
    def exitApp(self) -> None:
        if self._guard():
            self._end(EXIT_CODE, "admin_exit")

    @Slot()
    def restartApp(self) -> None:
        if self._guard():
            self._end(RESTART_EXIT_CODE, "admin_restart")

    def _end(self, code: int, event: str) -> None:
        self._audit(event, {"exit_code": code})
        log.info("%s by %s (exit status %d)", event, self._operator, code)
        if self.quit is not None:
            self.quit(code)

    # ------------------------------------------------------------------ settings
    def _current(self) -> Any:
        return self.app.settings

    def _keys(self) -> list[str]:
        have = {f.name for f in fields(self._current())}
        return [k for k in SITE_KEYS if k in have]

    def _choices(self, key: str) -> tuple | None:
        from kiosk.config import _CHOICES

        if key == "maintenance_window":
            return MAINTENANCE_PRESETS
        if key == "printer_device":
            current = getattr(self._current(), key)
            return PRINTER_DEVICE_PRESETS + (() if current in PRINTER_DEVICE_PRESETS else (current,))
        if key == "printer_paper_mm":
            return PAPER_WIDTHS
        if key == "pose_response_s":
            current = float(getattr(self._current(), key))
            return tuple(sorted({*POSE_RESPONSE_PRESETS, current}))
        return _CHOICES.get(key)

    def _value(self, key: str) -> Any:
        return self._edits.get(key, getattr(self._current(), key))

    def _display(self, key: str, v: Any) -> str:
        if key == "volume":
            return f"{round(float(v) * 100)}%"
        if isinstance(v, bool):
            return text("ui_admin_on" if v else "ui_admin_off")
        if key == "maintenance_window":
            return text("ui_admin_maintenance_none") if not v else str(v)
        if key == "printer_kind":
            return text(f"ui_admin_printer_{v}")
        if key == "on_screen_keyboard":
            return text(f"ui_admin_keyboard_{v}")
        if key == "pose_response_s":
            return text("ui_admin_seconds", n=f"{float(v):g}")
        if isinstance(v, str) and not v:
            return text("ui_admin_not_set")
        return str(v)

    def _settings_rows(self) -> list[dict]:
        rows = []
        for key in self._keys():
            v = self._value(key)
            kind = ("toggle" if isinstance(v, bool) else "choice" if self._choices(key)
                    else "stepper" if isinstance(v, (int, float)) else "fixed")
            rows.append({"key": key, "label": text(f"ui_admin_setting_{key}") if has(f"ui_admin_setting_{key}") else key,
                         "value": self._display(key, v), "kind": kind, "changed": key in self._edits})
        return rows

    @Slot(str, int)
    def stepSetting(self, key: str, direction: int) -> None:
        """+1 / -1 on a stepper, the next/previous choice, on/off for a switch."""
        if not self._guard() or key not in self._keys():
            return
        from kiosk.config import _RANGES

        v = self._value(key)
        if isinstance(v, bool):
            new: Any = not v
        elif isinstance(v, (int, float)) and not self._choices(key):
            lo, hi = _RANGES.get(key, (float("-inf"), float("inf")))
            step = STEPS.get(key, 1)
            new = min(hi, max(lo, v + direction * step))
            new = round(new, 2) if isinstance(v, float) else int(new)
        else:
            choices = list(self._choices(key) or ())
            if not choices:
                return
            i = choices.index(v) if v in choices else -1
            new = choices[(i + (1 if direction >= 0 else -1)) % len(choices)]
        if new == getattr(self._current(), key):
            self._edits.pop(key, None)
        else:
            self._edits[key] = new
        self._say("")

    @Slot()
    def saveSettings(self) -> None:
        if not self._guard():
            return
        if not self._edits:
            return self._say(text("ui_admin_nothing_changed"))
        try:
            new = save_settings(self.settings_path, dict(self._edits))
        except KioskError as e:
            return self._say(e.message, True)
        except OSError as e:
            return self._say(text("ui_admin_save_failed", detail=e.strerror or str(e)), True)
        changed = dict(self._edits)
        self._audit("admin_settings_changed", {"keys": sorted(changed)})
        # What can change at once does (the defaults the idle reset returns to, the next enrolment's wait after
        # each pose sentence); the camera, the printer and the on-screen keyboard at the next start.
        self.app.settings = replace(self.app.settings, **{k: getattr(new, k) for k in changed})
        self.app.restore_defaults()
        self._edits = {}
        later = {k for k in changed if k in RESTART_KEYS}
        if "on_screen_keyboard" in later:
            code = "ui_admin_saved_restart_all" if len(later) > 1 else "ui_admin_saved_restart_keyboard"
        else:
            code = "ui_admin_saved_restart" if later else "ui_admin_saved"
        self._say(text(code))
        self.state.recheck()  # a maintenance window may start or end now

    @Slot()
    def discardSettings(self) -> None:
        self._edits = {}
        self._say("")

    # ------------------------------------------------------------------ sync, export
    @Slot()
    def syncNow(self) -> None:
        if not self._guard():
            return
        if self.sync_now is None:
            return self._say(text("ui_admin_sync_unavailable"), True)
        try:
            self.sync_now()
        except Exception as e:  # noqa: BLE001
            return self._say(getattr(e, "message", str(e)), True)
        self._audit("admin_sync_now", {})
        self._say(text("ui_admin_sync_started"))

    def _targets(self) -> list[dict]:
        return [{"path": str(p), "label": p.name} for p in export_targets(self.export_roots)]

    @Slot(str)
    def exportTo(self, folder: str) -> None:
        if not self._guard() or self.store is None:
            return
        if folder not in {t["path"] for t in self._targets()}:
            return self._say(text("ui_admin_export_no_drive"), True)
        from kiosk.sync import SyncError, export_bundle

        try:
            out, certs, audits = export_bundle(self.store, Path(folder))
        except (KioskError, SyncError) as e:
            return self._say(e.message, True)
        except OSError as e:
            return self._say(text("ui_admin_export_failed", detail=e.strerror or str(e)), True)
        self._audit("admin_usb_export", {"file": out.name, "records": certs})
        self._say(text("ui_admin_exported", n=certs, file=out.name, folder=Path(folder).name))

    @Slot()
    def refreshTargets(self) -> None:
        self.changed.emit()

    # ------------------------------------------------------------------ self-test, logs
    def _run_selftest(self) -> None:
        if self._running:  # a second press while it runs: nothing
            return
        source = self.selftest_source
        if source is not None:
            self._running = True
            self._report = {"message": text("ui_selftest_running"), "running": True, "paused": False, "checks": []}
            # start() is False while one runs already (the hourly one): its report is the answer;
            # should it have ended just now, one more start.
            if source.start() or source.running or source.start():
                return
            self._running = False  # (no worker: the self-test on this thread below)
        if self.selftest is None:
            self._report = {"message": text("ui_admin_selftest_unavailable"), "checks": []}
            return
        try:
            report = self.selftest()
        except Exception as e:  # noqa: BLE001 - show why instead of failing the page
            log.exception("self-test failed")
            self._report = {"message": str(e), "checks": []}
            return
        self._show_report(report)
        self.state.recheck()

    @staticmethod
    def _check_row(c: dict) -> dict:
        state = c.get("state", "")
        return {"label": c.get("label", c.get("name", "")), "state": state,
                "stateText": text(f"ui_selftest_state_{state}") if has(f"ui_selftest_state_{state}") else str(state),
                "message": c.get("message", ""), "residentNeeds": bool(c.get("residentNeeds"))}

    def _show_report(self, report) -> None:
        data = report.to_json() if hasattr(report, "to_json") else dict(report)
        self._report = {"message": data.get("message", ""), "paused": bool(data.get("paused")), "running": False,
                        "checks": [self._check_row(c) for c in data.get("checks", [])]}

    def _on_check(self, check) -> None:
        """One check of the running self-test is done (UI thread): shown at once."""
        if not self._running:
            return
        row = self._check_row(check.to_json() if hasattr(check, "to_json") else dict(check))
        self._report = {**self._report, "checks": [*self._report.get("checks", []), row]}
        self.changed.emit()

    def _on_selftest_done(self) -> None:
        """The self-test's report is in (UI thread; KioskState has applied it through its own signal)."""
        if not self._running:
            return
        self._running = False
        source = self.selftest_source
        report = getattr(source, "report", None)
        if report is None or getattr(source, "failed", False):
            # it could not finish (the log says why): the checks it did finish stay, never an older report
            self._report = {**self._report, "message": text("ui_selftest_failed"), "running": False}
        else:
            self._show_report(report)
        self.changed.emit()

    @Slot()
    def runSelfTest(self) -> None:
        if self._guard("selftest"):
            self._run_selftest()
            self.changed.emit()

    @Slot()
    def openSelfTest(self) -> None:
        if self._guard():
            self._run_selftest()
            self.changed.emit()
            self.flow.show("selftest")

    @Slot()
    def openAdmin(self) -> None:
        if self._guard():
            self.flow.show("admin")

    @Slot()
    def refreshLogs(self) -> None:
        if self._guard():
            self._logs = last_lines(self.log_path)
            self.changed.emit()

    allowed = Property(bool, lambda s: s._allowed, notify=changed)
    viewer = Property(bool, lambda s: s._viewer, notify=changed)
    operatorName = Property(str, lambda s: s._operator, notify=changed)
    message = Property(str, lambda s: s._message, notify=changed)
    messageBad = Property(bool, lambda s: s._message_bad, notify=changed)
    settingsRows = Property("QVariantList", _settings_rows, notify=changed)  # type: ignore[arg-type]
    hasEdits = Property(bool, lambda s: bool(s._edits), notify=changed)
    exportTargets = Property("QVariantList", _targets, notify=changed)  # type: ignore[arg-type]
    selftestReport = Property("QVariantMap", lambda s: s._report, notify=changed)  # type: ignore[arg-type]
    selftestRunning = Property(bool, lambda s: s._running, notify=changed)
    logLines = Property(str, lambda s: "\n".join(s._logs), notify=changed)
    restartExitCode = Property(int, lambda s: RESTART_EXIT_CODE, constant=True)


__all__ = ["AdminController", "KioskState", "RESTART_EXIT_CODE", "UpdateInWindow", "save_settings", "state_from_report"]
