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
    return next(n for n in range(140, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists())


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
    assert re.search(r"^ExecStart=/usr/bin/xinit /usr/local/bin/village-kiosk-session ", unit, re.M)
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
    assert (root / "opt/village-kiosk/kiosk").is_file()
    assert (root / "etc/systemd/system/village-kiosk.service").is_file()
    assert os.access(root / "usr/local/bin/village-kiosk-session", os.X_OK)
    assert (root / "etc/systemd/journald.conf.d/village-kiosk.conf").is_file()
    assert "allowed_users=anybody" in (root / "etc/X11/Xwrapper.config").read_text()
