"""自检 in the admin corner runs off the UI thread, exactly like the self-test at start (kiosk.app.admin
SelfTestState.start): with a camera that hangs the screen keeps working (a QTimer on the UI thread keeps
firing), says 正在自检…, greys its button, ignores a second press, lets 返回 go back, and the report
still lands in KioskState (paused → serving) and the store; the app closes cleanly while it runs.
Offscreen, no wall-clock asserts (events and qtbot.waitUntil only)."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("KIOSK_AUDIO", "0")

import threading

import numpy as np
import pytest

from kiosk.app import driver
from kiosk.frames import Frame
from test_app import demo, demo_master, encoder  # noqa: F401  (the app fixtures)
from test_unattended import login, make_kiosk, operators  # noqa: F401  (the unattended kiosk's fixtures)

pytestmark = pytest.mark.slow


class HangingCamera:
    """A camera that hangs: its first read waits until `gate` is set (a USB camera whose driver
    stalls). Then it delivers frames when `working` (noise: not blank) or none (unplugged)."""

    def __init__(self, rig: "Rig"):
        self.rig = rig
        self.closed = False

    def __iter__(self):
        rig = self.rig
        with rig.lock:
            rig.reading += 1
        assert rig.gate.wait(60), "the test never released the camera"
        if not rig.working:
            return
        rng = np.random.default_rng(0)
        for i in range(50):
            if self.closed:
                return
            yield Frame(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8), i / 25.0, i)

    def close(self) -> None:
        self.closed = True


class Rig:
    def __init__(self) -> None:
        self.gate = threading.Event()
        self.lock = threading.Lock()
        self.working = False
        self.reading = 0  # reads that started (each waits for the gate)
        self.threads: list[threading.Thread] = []

    def open(self) -> HangingCamera:
        self.threads.append(threading.current_thread())
        return HangingCamera(self)


def _ticker(qtbot):
    """A QTimer on the UI thread: it only fires while that thread processes events."""
    from PySide6.QtCore import QTimer

    ticks = [0]
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    timer.start()
    return timer, ticks


def _start(make_kiosk, qtbot, rig: Rig):
    """The kiosk with the hanging camera, its start-up self-test done (camera unplugged: paused)."""
    h = make_kiosk(source_factory=rig.open)
    rig.gate.set()
    h.k.enable_selftest()
    source = h.k.selftest_source
    qtbot.waitUntil(lambda: h.k.kiosk_state.paused() and not source.running, timeout=60_000)
    assert h.k.kiosk_state.reason == "camera"
    rig.gate.clear()  # from now on the camera hangs
    rig.working = True  # ... and, once it answers, works
    return h, source


def test_admin_selftest_with_a_hanging_camera_keeps_the_screen_alive_and_its_result_lands(make_kiosk, operators,
                                                                                          qtbot):
    from kiosk.selftest import last_summary

    rig = Rig()
    h, source = _start(make_kiosk, qtbot, rig)
    login(h, "县信息科老张", "246813")
    counts: list[int] = []  # checks shown, at each change of the admin corner
    h.k.admin.changed.connect(lambda: counts.append(len(h.k.admin.selftestReport.get("checks", []))))
    before = rig.reading

    h.k.staff.openArea("selftest")  # 设备自检 on the staff menu: runs at once
    h.wait_screen("selftest")
    qtbot.waitUntil(lambda: rig.reading == before + 1, timeout=30_000)  # the worker is stuck in the camera
    assert rig.threads[-1] is not threading.main_thread()
    timer, ticks = _ticker(qtbot)
    qtbot.waitUntil(lambda: ticks[0] >= 10, timeout=30_000)  # the UI thread runs while the camera hangs
    assert source.running and h.k.admin.selftestRunning
    assert "正在自检" in h.text("selftestMessage")
    button = driver.find(h.window, "btnSelfTestRun")
    assert button is not None and not button.property("enabled2") and "正在自检" in button.property("text")

    h.tap("btnSelfTestRun")  # a second press while it runs: nothing
    h.k.admin.runSelfTest()  # (nor the slot itself)
    h.k.admin.openSelfTest()
    qtbot.wait(50)
    assert rig.reading == before + 1 and len(rig.threads) == 2  # the start-up one and this one, no third

    h.tap("btnSelfTestBack")  # 返回 stays possible
    h.wait_screen("staff")
    assert source.running and h.k.kiosk_state.paused()

    rig.gate.set()  # the camera answers: frames arrive
    qtbot.waitUntil(lambda: not h.k.admin.selftestRunning, timeout=60_000)
    qtbot.waitUntil(lambda: not h.k.kiosk_state.paused(), timeout=10_000)  # applied: serving again
    timer.stop()
    assert {c.name: c.state for c in source.report.checks}["camera"] == "ok"
    report = h.k.admin.selftestReport
    assert not report["running"] and report["checks"][0]["state"] == "ok" and "正常" in report["checks"][0]["stateText"]
    assert last_summary(h.k.store)["checks"]["camera"] == "ok"  # recorded for the heartbeat
    # the checks appeared one by one as they finished, before the whole report replaced them
    shown = [n for n in counts if n]
    assert shown[:3] == [1, 2, 3] and max(shown) == len(report["checks"]), counts

    h.k.staff.openArea("selftest")  # back on the screen: a new one runs, then its report is shown
    h.wait_screen("selftest")
    qtbot.waitUntil(lambda: not h.k.admin.selftestRunning and bool(h.k.admin.selftestReport.get("checks")),
                    timeout=60_000)
    assert driver.find(h.window, "btnSelfTestRun").property("enabled2")
    assert "故障" not in h.text("check_0")


def test_the_app_closes_cleanly_while_the_admin_selftest_runs(make_kiosk, operators, qtbot):
    rig = Rig()
    h, source = _start(make_kiosk, qtbot, rig)
    login(h, "县信息科老张", "246813")
    h.k.staff.openArea("admin")
    h.wait_screen("admin")
    before = rig.reading
    h.tap("btnAdminSelfTest")  # from the admin corner
    h.wait_screen("selftest")
    qtbot.waitUntil(lambda: rig.reading == before + 1, timeout=30_000)
    worker = rig.threads[-1]
    assert source.running and worker.is_alive()
    rig.gate.set()  # the camera answers while the app is closing: close() waits for the check
    h.k.close()
    assert not source.running and not worker.is_alive()
    assert source.notify is None and source.progress is None


def test_a_selftest_that_cannot_finish_says_so_instead_of_showing_the_last_report(make_kiosk, operators, qtbot):
    """A self-test that raises (a check's library failing) shows 自检没能完成 and the checks this run did
    finish, never the previous run's results as if they were new; the pause decision keeps the last report."""
    rig = Rig()
    h, source = _start(make_kiosk, qtbot, rig)  # the start-up report: camera broken, paused
    previous = source.report
    done_before_failing = []

    def failing_run(camera=None):
        check = next(c for c in previous.checks if c.name == "disk")
        source.report_check(check)  # one check finished ...
        done_before_failing.append(check)
        raise OSError("disk I/O error")  # ... then the self-test itself fails

    source.worker_run = failing_run
    login(h, "县信息科老张", "246813")
    h.k.staff.openArea("selftest")
    h.wait_screen("selftest")
    qtbot.waitUntil(lambda: not h.k.admin.selftestRunning, timeout=30_000)
    report = h.k.admin.selftestReport
    assert source.failed and source.report is previous and done_before_failing
    assert "自检没能完成" in report["message"] and "自检没能完成" in h.text("selftestMessage")
    assert [c["label"] for c in report["checks"]] == [done_before_failing[0].label]  # not the old camera row
    assert h.k.kiosk_state.paused() and h.k.kiosk_state.reason == "camera"  # still paused on the last report
    assert driver.find(h.window, "btnSelfTestRun").property("enabled2")  # may be tried again
