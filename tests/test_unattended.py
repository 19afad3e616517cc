"""The unattended kiosk in the app (issue 14): the idle warning, volume and elder mode back to the
kiosk's defaults, the paused home screen, the admin corner. Driven by objectName taps like the
resident and the county's admin would; offscreen, short idle settings, no wall-clock asserts
(qtbot.waitUntil / signals)."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("KIOSK_AUDIO", "0")

import pytest

from kiosk.app import driver
from kiosk.config import Settings
from test_app import demo, demo_master, encoder, make_app  # noqa: F401  (the app fixtures)
from test_sync_support import hub  # noqa: F401  (a real county hub process)

pytestmark = pytest.mark.slow


# ------------------------------------------------------------------ idle warning
def test_idle_warning_comes_before_the_reset_and_need_keeps_everything(make_app, qtbot):
    h = make_app(settings=Settings(idle_reset_s=2.0))
    app, flow = h.k.app, h.k.flow
    h.enter("btnSelf", "王秀英")
    h.wait_screen("confirm")
    qtbot.waitUntil(lambda: app.idleWarning, timeout=10_000)
    assert flow.screen == "confirm" and flow.maskedName == "王*英"  # nothing cleared while it shows
    assert driver.find(h.window, "idleWarning") is not None
    assert h.text("idleQuestion") == "还需要时间吗？"
    assert app.idleSecondsLeft >= 1 and "秒后回到首页" in h.text("idleCountdown")
    assert "screen_idle_warning" in h.k.voice.history  # said too
    h.tap("btnIdleYes")
    assert not app.idleWarning and driver.find(h.window, "idleWarning") is None
    assert flow.screen == "confirm" and flow.maskedName == "王*英"
    # untouched again: the warning, then the reset as before
    qtbot.waitUntil(lambda: app.idleWarning, timeout=10_000)
    with qtbot.waitSignal(app.idleReset, timeout=10_000):
        pass
    h.wait_screen("home")
    assert not app.idleWarning and not flow.hasPersonalData and flow.maskedName == ""


def test_any_touch_on_the_warning_restarts_the_countdown(make_app, qtbot):
    h = make_app(settings=Settings(idle_reset_s=2.0))
    app = h.k.app
    h.tap("btnSelf")
    h.wait_screen("identity")
    h.type_id("1101")
    qtbot.waitUntil(lambda: app.idleWarning, timeout=10_000)
    h.tap("idleQuestion")  # not the button: any tap means someone is there
    assert not app.idleWarning and h.k.flow.screen == "identity" and h.k.entry.typed == "1101"


def test_no_warning_where_the_reset_forgets_nothing(make_app, qtbot):
    h = make_app(settings=Settings(idle_reset_s=1.0))
    app = h.k.app
    shown = []
    app.idleWarningChanged.connect(shown.append)
    for screen, button in (("home", None), ("help", "btnHelp")):
        if button:
            h.tap(button)
            h.wait_screen(screen)
        with qtbot.waitSignal(app.idleReset, timeout=10_000):
            app.touch()
        assert h.k.flow.screen == screen
    assert shown == [] and "screen_idle_warning" not in h.k.voice.history


def test_no_warning_during_the_face_check(make_app, qtbot):
    h = make_app(settings=Settings(idle_reset_s=1.0))
    shown = []
    h.to_face("王秀英")
    h.k.app.idleWarningChanged.connect(shown.append)  # (before: the screens between taps may warn)
    qtbot.waitUntil(lambda: h.k.check.action != "", timeout=60_000)
    h.tap("btnCancelCheck")
    h.wait_screen("result", 30_000)
    assert True not in shown  # the face check paused the idle timer


# ------------------------------------------------------------------ volume and elder mode
def test_volume_and_elder_mode_return_to_the_defaults_at_the_idle_reset(make_app, qtbot):
    h = make_app(settings=Settings(idle_reset_s=3.0, volume=0.6, elder_mode_default=False))
    app = h.k.app
    h.tap("btnHelp")
    h.wait_screen("help")
    for _ in range(4):
        h.tap("btnVolDown")
    h.tap("btnElder")
    assert app.volume == 0.0 and app.elderMode
    with qtbot.waitSignal(app.idleReset, timeout=10_000):
        pass
    assert app.volume == pytest.approx(0.6) and not app.elderMode
    assert h.k.voice._volume == pytest.approx(0.6)  # the player too: the next resident hears the kiosk


def test_volume_and_elder_mode_return_when_a_session_ends_back_home(make_app, qtbot):
    h = make_app(settings=Settings(volume=0.8, elder_mode_default=True))
    app = h.k.app
    assert app.elderMode
    h.tap("btnElder")  # off for this resident
    h.enter("btnQuery", "赵德福")
    h.wait_screen("records")
    app.setVolume(0.0)
    assert not app.elderMode and app.volume == 0.0
    h.tap("btnRecordsHome")
    h.wait_screen("home")
    assert app.elderMode and app.volume == pytest.approx(0.8)


def test_going_home_in_the_middle_keeps_the_residents_choice(make_app, qtbot):
    h = make_app()
    app = h.k.app
    h.tap("btnElder")
    h.tap("btnSelf")
    h.wait_screen("identity")
    h.tap("btnHome")  # started again: the same person, still wants large text
    h.wait_screen("home")
    assert app.elderMode


# ------------------------------------------------------------------ the paused kiosk
@pytest.fixture
def make_kiosk(qtbot, demo, encoder):
    """make_app with the unattended kiosk's injections (kiosk_state, current_operator, …)."""
    from test_app import Harness

    made = []

    def make(*, size=(1366, 768), elder=False, settings=None, **kw):
        from kiosk.app.bootstrap import KioskApp, Options
        from kiosk.app.voice import VoicePlayer
        from kiosk.store import Store

        opts = Options(demo=True, fullscreen=False, realtime=False, size=size, elder=elder)
        store = Store.open(demo.db_path, demo.key_path)
        kiosk = KioskApp(opts, store=store, settings=settings or Settings(), encoder=encoder,
                         voice=VoicePlayer(enabled=False), demo_residents=demo.residents, **kw)
        kiosk.window.show()
        qtbot.waitExposed(kiosk.window)
        qtbot.wait(300)
        made.append(kiosk)
        return Harness(qtbot, kiosk, demo)

    yield make
    for k in made:
        k.close()


def test_a_paused_kiosk_says_so_and_lets_nobody_start(make_kiosk, qtbot):
    state = {"paused": True, "reason": "camera"}
    h = make_kiosk(kiosk_state=lambda: dict(state))
    assert driver.find(h.window, "pausedPanel") is not None
    assert h.text("pausedTitle") == "本机暂停服务" and "摄像头" in h.text("pausedReason")
    assert "乡镇社保所" in h.text("pausedElsewhere") and "掌上12333" in h.text("pausedElsewhere")
    assert all(driver.find(h.window, b) is None for b in ("btnSelf", "btnProxy", "btnQuery", "demoHint"))
    h.k.flow.start("self")  # (a stray call: still refused)
    assert h.k.flow.screen == "home"
    h.k.app.replay()
    assert h.k.voice.history[-1] == "screen_home_paused"
    # fixed (the admin's 自检, or the next hourly check): the buttons come back
    state.update(paused=False, reason="")
    h.k.kiosk_state.recheck()
    qtbot.waitUntil(lambda: driver.find(h.window, "btnSelf") is not None)
    assert driver.find(h.window, "pausedPanel") is None
    qtbot.wait(50)  # laid out again
    h.tap("btnSelf")
    h.wait_screen("identity")


def test_the_maintenance_window_says_until_when(make_kiosk):
    h = make_kiosk(kiosk_state=lambda: {"paused": True, "reason": "maintenance", "until": "2026-12-03T05:00:00+08:00"})
    assert "维护时间" in h.text("pausedReason") and "12月3日 05:00" in h.text("pausedReason")


def test_the_state_is_checked_again_every_minute_and_the_self_test_every_hour(qtbot):
    from kiosk.app.admin import KioskState, SelfTestState

    class Report:  # what kiosk.selftest.run_selftest returns, as far as the state reads it
        def __init__(self, blocking):
            self.blocking = [type("Check", (), {"name": n})() for n in blocking]
            self.maintenance = {"active": False}

    now = [0.0]
    runs = []
    broken = [["camera"]]

    def run(camera=None):
        runs.append(camera)
        return Report(broken[0])

    source = SelfTestState(run, lambda: {"active": False}, interval_s=3600, monotonic=lambda: now[0])
    state = KioskState(source)
    assert state.timer.interval() == 60_000 and state.paused() and state.reason == "camera"
    broken[0] = []
    now[0] = 3599
    state.recheck()
    assert state.paused() and len(runs) == 1  # not an hour yet: the last self-test stands
    now[0] = 3600
    state.recheck()
    assert not state.paused() and len(runs) == 2
    source.busy = lambda: True  # the face screen holds the camera: not opened
    source.force()
    assert runs[-1] is False


# ------------------------------------------------------------------ the admin corner
@pytest.fixture
def operators(demo):
    from kiosk.app.demo import DEMO_OPERATORS
    from kiosk.operators import add_operator, get
    from kiosk.store import Store

    store = Store.open(demo.db_path, demo.key_path)
    admin = add_operator(store, "县信息科老张", "admin", "246813", by=get(store, DEMO_OPERATORS[0][0]))
    helper = add_operator(store, "协理员小李", "assistant", "135792", by=admin)
    store.close()
    return {"admin": admin, "assistant": helper}


def login(h, name: str, pin: str) -> None:
    """The real staff login (kiosk.app.staff): operator, PIN, 登录."""
    staff = h.k.staff
    staff.open()
    staff.chooseOperator(name)
    for d in pin:
        staff.pinPress(d)
    staff.login()
    assert staff.current_operator() is not None and staff.current_operator().name == name


def test_the_admin_corner_opens_from_the_staff_menu_for_an_admin_only(make_kiosk, operators):
    h = make_kiosk()
    quit_codes = []
    h.k.admin.quit = quit_codes.append
    login(h, "协理员小李", "135792")
    h.k.staff.openArea("admin")  # the menu has no such button for an assistant: nothing happens
    assert h.k.flow.screen == "staff"
    h.k.admin.openArea("admin")  # a stray call: refused on the corner's own rule
    h.wait_screen("admin")
    assert not h.k.admin.allowed and "管理员" in h.text("adminRefused")
    assert driver.find(h.window, "btnAdminExit") is None
    h.k.admin.exitApp()
    h.k.admin.stepSetting("volume", -1)
    assert quit_codes == [] and not h.k.admin.hasEdits
    h.tap("btnAdminRefusedBack")
    h.wait_screen("staff")  # back to the staff menu
    h.k.staff.openArea("selftest")  # the self-test results: any staff member
    h.wait_screen("selftest")
    assert h.k.admin.viewer and not h.k.admin.allowed
    assert driver.find(h.window, "btnSelfTestAdmin") is None  # no way into the corner from there
    h.k.staff.logout()
    h.wait_screen("home")
    h.k.admin.openArea("selftest")  # nobody logged in
    assert not h.k.admin.viewer and h.k.admin.selftestReport == {}
    # an admin, through the menu
    login(h, "县信息科老张", "246813")
    h.k.staff.openArea("admin")
    h.wait_screen("admin")
    assert h.k.admin.allowed and driver.find(h.window, "btnAdminRestart") is not None
    h.k.staff.logout()  # logged out meanwhile: every action checks again
    h.k.admin.restartApp()
    assert quit_codes == []


def test_admin_settings_by_touch_are_saved_to_kiosk_toml_keeping_its_comments(make_kiosk, operators, tmp_path):
    toml = tmp_path / "kiosk.toml"
    toml.write_text('# 东村卫生室的终端\ndevice_id = "东村-1"\nvolume = 0.8  # 默认音量\n', encoding="utf-8")
    h = make_kiosk(current_operator=lambda: operators["admin"], settings_path=toml,
                   settings=Settings.load(toml))
    h.k.admin.openArea("admin")
    h.wait_screen("admin")
    assert h.k.admin.allowed and h.k.admin.operatorName == "县信息科老张"
    for _ in range(2):
        h.tap("set_volume_less")
    h.tap("set_elder_mode_default_toggle")
    h.tap("set_camera_index_less")  # already 0: stays
    h.tap("set_camera_index_more")
    h.tap("set_maintenance_window_next")
    assert h.text("setValue_volume") == "60%" and h.text("setValue_camera_index") == "1"
    h.tap("btnAdminSave")
    assert "重启" in h.text("adminMessage")  # the camera changes at the next start
    saved = toml.read_text(encoding="utf-8")
    assert saved.startswith("# 东村卫生室的终端\n") and "volume = 0.6  # 默认音量" in saved
    s = Settings.load(toml)
    assert (s.volume, s.elder_mode_default, s.camera_index, s.device_id) == (0.6, True, 1, "东村-1")
    assert s.maintenance_window == "daily 01:00-05:00"
    assert h.k.app.volume == pytest.approx(0.6) and h.k.app.elderMode  # the new defaults apply now
    entries = [e for e in h.k.store.audit_entries() if e["action"] == "admin_settings_changed"]
    assert entries and entries[-1]["actor"] == "县信息科老张"


def test_the_receipt_printer_is_chosen_by_touch_and_a_printer_without_a_device_is_refused(make_kiosk, operators,
                                                                                          tmp_path):
    toml = tmp_path / "kiosk.toml"
    toml.write_text('device_id = "东村-1"\n', encoding="utf-8")
    h = make_kiosk(current_operator=lambda: operators["admin"], settings_path=toml, settings=Settings.load(toml))
    h.k.admin.openArea("admin")
    h.wait_screen("admin")
    h.tap("set_printer_kind_next")
    assert h.text("setValue_printer_kind") == "USB 热敏打印机"
    h.tap("btnAdminSave")  # a USB printer needs its device: the next start would refuse it, so nothing is written
    assert "printer_device" in h.text("adminMessage")
    assert toml.read_text(encoding="utf-8") == 'device_id = "东村-1"\n'
    h.tap("set_printer_device_next")
    h.tap("set_printer_paper_mm_next")
    assert h.text("setValue_printer_device") == "/dev/usb/lp0" and h.text("setValue_printer_paper_mm") == "80"
    h.tap("btnAdminSave")
    assert "重启" in h.text("adminMessage")  # the printer is opened at the next start
    s = Settings.load(toml)
    assert (s.printer_kind, s.printer, s.printer_paper_mm) == ("file", "/dev/usb/lp0", 80)


def test_the_on_screen_keyboard_and_the_wait_after_each_pose_sentence_are_chosen_by_touch(make_kiosk, operators,
                                                                                          tmp_path):
    """屏幕键盘 (自动 / 总是显示 / 不显示: the next start) and 建模转头等待 (the next enrolment), like the
    other site settings: kept in kiosk.toml as the next start reads it, audited. A value typed into
    kiosk.toml by county IT is one of the choices."""
    toml = tmp_path / "kiosk.toml"
    toml.write_text('device_id = "东村-1"\npose_response_s = 2.0  # 慢一点\n', encoding="utf-8")
    h = make_kiosk(current_operator=lambda: operators["admin"], settings_path=toml, settings=Settings.load(toml))
    h.k.admin.openArea("admin")
    h.wait_screen("admin")
    rows = {r["key"]: r for r in h.k.admin.settingsRows}
    assert rows["on_screen_keyboard"]["label"] == "屏幕键盘（工作人员打字用）" and rows["on_screen_keyboard"]["kind"] == "choice"
    assert rows["pose_response_s"]["label"] == "建模转头等待" and rows["pose_response_s"]["kind"] == "choice"
    assert h.text("setValue_on_screen_keyboard") == "自动" and h.text("setValue_pose_response_s") == "2 秒"
    seen = []
    for _ in range(3):
        h.tap("set_on_screen_keyboard_next")
        seen.append(h.text("setValue_on_screen_keyboard"))
    assert seen == ["总是显示", "不显示", "自动"] and not h.k.admin.hasEdits  # round again: nothing changed
    seen = []
    for _ in range(5):
        h.tap("set_pose_response_s_next")
        seen.append(h.text("setValue_pose_response_s"))
    assert seen == ["2.5 秒", "4 秒", "1 秒", "1.5 秒", "2 秒"]  # the presets, and the file's 2.0 in its place
    h.tap("set_pose_response_s_next")
    h.tap("set_pose_response_s_next")  # 4 秒
    h.tap("btnAdminSave")
    assert h.text("adminMessage") == "已保存，已生效。"  # the wait: from the next enrolment on
    assert h.k.app.settings.pose_response_s == 4.0
    assert "pose_response_s = 4.0  # 慢一点" in toml.read_text(encoding="utf-8")
    h.tap("set_on_screen_keyboard_next")
    h.tap("set_on_screen_keyboard_next")
    h.tap("btnAdminSave")
    assert h.text("adminMessage") == "已保存。屏幕键盘的改动在重启程序后生效。"  # Qt reads it when the app starts
    s = Settings.load(toml)
    assert (s.on_screen_keyboard, s.pose_response_s, s.device_id) == ("off", 4.0, "东村-1")
    entries = [e for e in h.k.store.audit_entries() if e["action"] == "admin_settings_changed"]
    assert [e["details"]["keys"] for e in entries[-2:]] == [["pose_response_s"], ["on_screen_keyboard"]]
    assert {e["actor"] for e in entries[-2:]} == {"县信息科老张"}
    h.tap("set_on_screen_keyboard_next")  # 自动 again, with the camera: both named
    h.tap("set_camera_index_more")
    h.tap("btnAdminSave")
    assert h.text("adminMessage") == "已保存。摄像头、打印机和屏幕键盘的改动在重启程序后生效。"
    # The next enrolment waits the new 4 s after each pose sentence.
    h.k.admin.back()
    login(h, "协理员小李", "135792")
    h.k.enrol.open()
    h.wait_screen("enrol")
    for ch in h.ids["王秀英"]:
        h.k.enrol.press(ch)
    h.k.enrol.submit()
    h.wait_screen("enrolConsent")
    h.k.enrol.consentGiven()
    h.wait_screen("enrolCapture")
    assert h.k.enrol.session.response_s == 4.0
    h.k.enrol.cancel()


def test_a_settings_file_the_next_start_would_refuse_is_not_written(operators, tmp_path):
    from kiosk.app.admin import save_settings
    from kiosk.config import SettingsError

    toml = tmp_path / "kiosk.toml"
    toml.write_text("volume = 0.5\n", encoding="utf-8")
    with pytest.raises(SettingsError):
        save_settings(toml, {"camera_index": 99})
    assert toml.read_text(encoding="utf-8") == "volume = 0.5\n"


def test_admin_restart_exit_sync_export_and_logs(make_kiosk, operators, tmp_path, hub):
    media = tmp_path / "media"
    stick = media / "kiosk" / "U盘"
    stick.mkdir(parents=True)
    log = tmp_path / "kiosk.log"
    log.write_text("".join(f"INFO line {i}\n" for i in range(100)), encoding="utf-8")
    woken = []
    h = make_kiosk(current_operator=lambda: operators["admin"], export_roots=[media], log_path=log,
                   sync_now=lambda: woken.append(1), settings_path=tmp_path / "kiosk.toml")
    codes = []
    h.k.admin.quit = codes.append
    h.k.admin.openArea("admin")
    h.wait_screen("admin")
    h.tap("btnAdminSync")
    assert woken == [1] and "同步" in h.text("adminMessage")
    h.tap("export_0")  # not registered with the county yet: said, nothing written
    assert h.k.admin.messageBad and "登记" in h.text("adminMessage") and list(stick.iterdir()) == []
    from kiosk.sync import register

    register(h.k.store, hub.url, hub.db.provision(None), "东村")
    h.tap("export_0")
    bundles = list(stick.iterdir())
    assert len(bundles) == 1 and "已导出" in h.text("adminMessage")
    h.tap("btnAdminLogs")
    shown = h.text("adminLogs").splitlines()
    assert shown[-1] == "INFO line 99" and len(shown) == 40
    h.tap("btnAdminRestart")
    h.tap("btnAdminExit")
    from kiosk.app.admin import RESTART_EXIT_CODE

    assert codes == [RESTART_EXIT_CODE, 0]
    actions = [e["action"] for e in h.k.store.audit_entries()]
    assert {"admin_sync_now", "admin_usb_export", "admin_restart", "admin_exit"} <= set(actions)


def test_the_self_test_screen_shows_each_check_from_the_real_self_test(make_kiosk, operators, qtbot, tmp_path):
    from kiosk.frames import CameraSource

    h = make_kiosk(source_factory=lambda: CameraSource(9, 640, 480))
    h.k.enable_selftest()  # the real self-test (in a worker thread): this machine has no camera 9
    qtbot.waitUntil(lambda: h.k.kiosk_state.paused(), timeout=60_000)
    assert h.k.kiosk_state.reason == "camera"
    assert driver.find(h.window, "pausedPanel") is not None
    login(h, "县信息科老张", "246813")
    h.k.staff.openArea("selftest")
    h.wait_screen("selftest")
    qtbot.waitUntil(lambda: not h.k.admin.selftestRunning, timeout=60_000)  # (in a worker: tests/test_admin_thread.py)
    report = h.k.admin.selftestReport
    states = {c["label"]: c["state"] for c in report["checks"]}
    assert report["paused"] and "broken" in states.values()
    assert driver.find(h.window, "check_0") is not None and "故障" in h.text("check_0")
    h.tap("btnSelfTestRun")  # again, after "fixing" nothing: still paused
    qtbot.waitUntil(lambda: not h.k.admin.selftestRunning, timeout=60_000)
    assert h.k.kiosk_state.paused()
    h.tap("btnSelfTestBack")
    h.wait_screen("staff")
    h.k.staff.logout()
    h.wait_screen("home")
    assert driver.find(h.window, "pausedPanel") is not None


def test_the_self_test_runs_in_a_worker_and_the_home_screen_follows_its_result(make_kiosk, qtbot):
    """The self-test at start (and every hour) runs off the UI thread (a broken camera takes
    seconds to give up); the home screen's 本机暂停服务 follows when its report arrives. While a
    face check holds the camera, the worker does not open it."""
    import threading

    from kiosk.frames import CameraSource

    h = make_kiosk(source_factory=lambda: CameraSource(9, 640, 480),
                   settings=Settings(camera_index=9))  # the real self-test: this machine has no camera 9
    assert not h.k.kiosk_state.paused() and driver.find(h.window, "pausedPanel") is None
    h.k.enable_selftest()  # the one at start
    source = h.k.selftest_source
    qtbot.waitUntil(lambda: h.k.kiosk_state.paused(), timeout=60_000)
    qtbot.waitUntil(lambda: not source.running, timeout=10_000)
    threads = []
    real = source.worker_run

    def spy(camera=None):
        threads.append(threading.current_thread())
        return real(camera=camera)

    source.worker_run = spy
    source._at = None  # due again now, through the spy: the hourly re-check
    h.k.kiosk_state.recheck()
    qtbot.waitUntil(lambda: bool(threads) and not source.running, timeout=60_000)
    assert threads[0] is not threading.main_thread()  # off the UI thread
    qtbot.waitUntil(lambda: h.k.kiosk_state.paused(), timeout=10_000)
    assert h.k.kiosk_state.reason == "camera"
    qtbot.waitUntil(lambda: driver.find(h.window, "pausedPanel") is not None, timeout=10_000)
    states = {c.name: c.state for c in source.report.checks}
    assert states["camera"] == "broken" and states["database"] == "ok", states

    source.busy = lambda: True  # a face check holds the camera: skipped, not opened
    assert source.start()
    qtbot.waitUntil(lambda: not source.running, timeout=60_000)
    qtbot.waitUntil(lambda: not h.k.kiosk_state.paused(), timeout=10_000)
    assert {c.name: c.state for c in source.report.checks}["camera"] == "skipped"
    qtbot.waitUntil(lambda: driver.find(h.window, "pausedPanel") is None, timeout=10_000)


def test_a_face_check_opens_the_camera_only_once_the_self_test_has_let_it_go(make_kiosk, qtbot):
    """The other direction of the camera rule: a face check starting while the worker's self-test
    reads the camera opens it (on the check's own worker thread) after the self-test is done."""
    import threading

    h = make_kiosk()
    h.k.enable_selftest()
    source = h.k.selftest_source
    qtbot.waitUntil(lambda: not source.running, timeout=60_000)
    order: list[str] = []
    release = threading.Event()
    real = source.worker_run

    def slow_selftest(camera=None):
        release.wait(30)
        report = real(camera=camera)
        order.append("selftest done")
        return report

    source.worker_run = slow_selftest
    assert source.start()
    opened = []
    factory = h.k.check.source_factory  # what the face check's CameraWorker calls

    def open_camera():
        cam = factory()
        order.append("camera opened")
        opened.append(cam)

    t = threading.Thread(target=open_camera)
    t.start()
    qtbot.wait(200)
    release.set()
    t.join(30)
    assert order == ["selftest done", "camera opened"]
    opened[0].close()
