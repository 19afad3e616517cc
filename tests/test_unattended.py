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
    h.k.app.idleWarningChanged.connect(shown.append)
    h.to_face("王秀英")
    qtbot.waitUntil(lambda: h.k.check.action != "", timeout=60_000)
    h.tap("btnCancelCheck")
    h.wait_screen("result", 30_000)
    assert True not in shown  # the face check paused the idle timer


# ------------------------------------------------------------------ volume and elder mode
def test_volume_and_elder_mode_return_to_the_defaults_at_the_idle_reset(make_app, qtbot):
    h = make_app(settings=Settings(idle_reset_s=1.0, volume=0.6, elder_mode_default=False))
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
