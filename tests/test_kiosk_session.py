"""A real kiosk session (issue 14, item 5): the app fills the chosen monitor on a bare X server
(Xvfb, no window manager), as under the systemd unit's xinit; the unit and install script are sane."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP_SCRIPT = r"""
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from kiosk.app.bootstrap import KioskApp, Options, prepare_environment
prepare_environment()
app = QGuiApplication(sys.argv[:1])
kiosk = KioskApp(Options(fullscreen=True))  # the kiosk as installed: not the demo, full screen
kiosk.show()
w = kiosk.window
def report():
    g = w.screen().geometry()
    print(json.dumps({"window": [w.x(), w.y(), w.width(), w.height()], "screen": [g.x(), g.y(), g.width(), g.height()],
                      "winid": int(w.winId()), "visibility": str(w.visibility())}), flush=True)
QTimer.singleShot(2500, report)
QTimer.singleShot(6000, app.quit)
app.exec()
"""


def _free_display() -> int:
    # Each pytest-xdist worker looks in its own range: two workers must not both find :140 free at once.
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    base = 140 + 20 * worker
    return next(n for n in range(base, base + 20) if not _display_taken(n))


def _display_taken(n: int) -> bool:
    """Is display :n held by a running X server? A lock left by a killed one (the tests below kill X
    servers) does not count: the next X server removes it, as X itself does with a dead holder's lock."""
    try:
        pid = int(Path(f"/tmp/.X{n}-lock").read_text().strip())
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        return True  # unreadable: leave it alone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's server
    return True


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("Xvfb") and shutil.which("xdotool")), reason="needs Xvfb and xdotool")
def test_the_app_covers_the_whole_screen_without_a_window_manager(tmp_path):
    n = _free_display()
    xvfb = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{n}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        env = {**os.environ, "DISPLAY": f":{n}", "QT_QPA_PLATFORM": "xcb", "KIOSK_HOME": str(tmp_path / "home"),
               "KIOSK_KEY_FILE": str(tmp_path / "keys" / "template.key")}
        script = tmp_path / "app.py"
        script.write_text(APP_SCRIPT)
        app = subprocess.Popen([sys.executable, str(script)], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        line = app.stdout.readline()
        assert line, app.stderr.read()[-3000:]
        got = json.loads(line)
        # what the X server itself says about the window, not what Qt believes
        geo = subprocess.run(["xdotool", "getwindowgeometry", str(got["winid"])], env=env, capture_output=True,
                             text=True, check=True).stdout
        app.wait(30)
        assert got["screen"] == [0, 0, 1280, 800]
        assert got["window"] == [0, 0, 1280, 800]
        assert "Position: 0,0" in geo and "Geometry: 1280x800" in geo, geo
    finally:
        xvfb.terminate()
        xvfb.wait(10)


def test_the_systemd_unit_restarts_and_logs_to_the_journal():
    unit = (ROOT / "packaging" / "systemd" / "village-kiosk.service").read_text()
    sections = re.findall(r"^\[(\w+)\]", unit, re.M)
    assert sections == ["Unit", "Service", "Install"]
    assert re.search(r"^Restart=always$", unit, re.M) and re.search(r"^StartLimitIntervalSec=0$", unit, re.M)
    # xinit does not pass the app's exit status on: the start wrapper does, and 退出程序 (0) stays stopped
    assert re.search(r"^ExecStart=/usr/local/bin/village-kiosk-start /usr/local/bin/village-kiosk-session -- :0 ",
                     unit, re.M)
    assert re.search(r"^RuntimeDirectory=village-kiosk$", unit, re.M)
    assert re.search(r"^RestartPreventExitStatus=0$", unit, re.M)
    journald = (ROOT / "packaging" / "systemd" / "journald-village-kiosk.conf").read_text()
    assert re.search(r"^SystemMaxUse=\d+M$", journald, re.M)


def test_the_install_script_installs_into_a_root_folder(tmp_path):
    """install.sh --root DIR (a chroot-to-be): files land where the unit expects them, nothing runs."""
    bundle = tmp_path / "bundle"
    (bundle / "_internal").mkdir(parents=True)
    exe = bundle / "kiosk"
    exe.write_text("#!/bin/sh\necho kiosk \"$@\"\n")
    exe.chmod(0o755)
    root = tmp_path / "root"
    r = subprocess.run(["bash", str(ROOT / "packaging" / "install.sh"), "--bundle", str(bundle), "--root", str(root),
                        "--no-user", "--no-systemctl"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (root / "var/lib/village-kiosk/app/kiosk").is_file()
    assert os.readlink(root / "opt/village-kiosk") == "/var/lib/village-kiosk/app"  # the name docs/install.md uses
    assert (root / "etc/systemd/system/village-kiosk.service").is_file()
    assert os.access(root / "usr/local/bin/village-kiosk-session", os.X_OK)
    assert os.access(root / "usr/local/bin/village-kiosk-start", os.X_OK)
    assert (root / "etc/systemd/journald.conf.d/village-kiosk.conf").is_file()
    assert "allowed_users=anybody" in (root / "etc/X11/Xwrapper.config").read_text()


SYSTEMD = ROOT / "packaging" / "systemd"


def _start_session(tmp_path: Path, app: list[str]) -> subprocess.Popen[str]:
    """village-kiosk-start + village-kiosk-session + xinit + Xvfb for real, as the unit's ExecStart runs them
    (RUNTIME_DIRECTORY as systemd sets it), with `app` (a shell command) in place of the kiosk app."""
    run_dir = tmp_path / "run"
    run_dir.mkdir(exist_ok=True)
    env = {**os.environ, "RUNTIME_DIRECTORY": str(run_dir), "KIOSK_BIN": app[0]}
    env.pop("KIOSK_STATUS_FILE", None)
    return subprocess.Popen([str(SYSTEMD / "village-kiosk-start"), str(SYSTEMD / "village-kiosk-session"), *app[1:],
                             "--", shutil.which("Xvfb") or "Xvfb", f":{_free_display()}", "-screen", "0", "640x480x24",
                             "-nolisten", "tcp"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


needs_xinit = pytest.mark.skipif(not (shutil.which("Xvfb") and shutil.which("xinit")), reason="needs Xvfb and xinit")


@needs_xinit
@pytest.mark.parametrize("status", [0, 75, 3])
def test_the_start_wrapper_exits_with_the_apps_own_status(tmp_path, status):
    """0 = 退出程序 (the unit's RestartPreventExitStatus=0 keeps it stopped), 75 = 重启程序, 3 = a crash."""
    session = _start_session(tmp_path, ["sh", "-c", f"test -n \"$DISPLAY\" && exit {status}"])
    out, err = session.communicate(timeout=60)
    assert session.returncode == status, err
    assert (tmp_path / "run" / "app-exit-status").read_text().strip() == str(status)
    assert f"the kiosk app exited with status {status}" in err


@needs_xinit
def test_an_app_killed_with_sigkill_reports_137_and_restarts(tmp_path):
    session = _start_session(tmp_path, ["sh", "-c", "kill -9 $$"])
    _, err = session.communicate(timeout=60)
    assert session.returncode == 137, err
    assert (tmp_path / "run" / "app-exit-status").read_text().strip() == "137"


def _run_until_app_starts(tmp_path: Path) -> tuple[subprocess.Popen[str], int]:
    marker = tmp_path / "app-running"
    marker.unlink(missing_ok=True)
    session = _start_session(tmp_path, ["sh", "-c", f"touch {marker}; exec sleep 60"])
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert marker.exists()
    return session, _xinit_pid(session.pid)


@needs_xinit
@pytest.mark.parametrize("victim", ["X server", "session"])
def test_a_dead_x_server_or_session_restarts(tmp_path, victim):
    """The X server killed under the app: the app ends by SIGHUP (129) or, if it leaves no status, the wrapper
    exits 1; the session shell itself killed: no status, 1. Never 0, so systemd starts the kiosk again."""
    session, xinit = _run_until_app_starts(tmp_path)
    try:
        if victim == "X server":
            pid = subprocess.run(["pgrep", "-P", str(xinit), "-x", "Xvfb"], capture_output=True, text=True).stdout
        else:
            pid = subprocess.run(["pgrep", "-P", str(xinit), "-f", "village-kiosk-session"], capture_output=True,
                                 text=True).stdout
        os.kill(int(pid.split()[0]), 9)
        _, err = session.communicate(timeout=60)
    finally:
        if session.poll() is None:
            session.kill()
    assert session.returncode != 0, err
    if victim == "session":
        assert session.returncode == 1 and "left no exit status" in err, err


@needs_xinit
def test_systemctl_stop_ends_the_wrapper_by_sigterm_a_clean_stop(tmp_path):
    """systemd sends SIGTERM to every process of the unit: the wrapper waits for xinit to end the session,
    then ends by SIGTERM itself (a clean stop for systemd), not with the app's 143 (a failure)."""
    session, xinit = _run_until_app_starts(tmp_path)
    app: list[str] = []
    deadline = time.monotonic() + 30
    while not app and time.monotonic() < deadline:  # the stand-in app has touched its marker: now its exec
        shell = subprocess.run(["pgrep", "-P", str(xinit), "-f", "village-kiosk-session"], capture_output=True,
                               text=True).stdout.split()
        app = subprocess.run(["pgrep", "-u", str(os.getuid()), "-x", "sleep", "-P", shell[0]], capture_output=True,
                             text=True).stdout.split() if shell else []
        time.sleep(0.05)
    assert app, "the stand-in app did not start"
    try:
        for pid in [session.pid, xinit, *map(int, app)]:
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass  # already ended after an earlier one's SIGTERM (systemd's own kill of the unit does not mind)
        _, err = session.communicate(timeout=60)
    finally:
        if session.poll() is None:
            session.kill()
    assert session.returncode == -15, err


def _xinit_pid(wrapper_pid: int) -> int:
    out = subprocess.run(["pgrep", "-P", str(wrapper_pid), "-x", "xinit"], capture_output=True, text=True).stdout
    return int(out.split()[0])
