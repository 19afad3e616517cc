"""The on-screen keyboard for staff text fields (kiosk/app/keyboard.py, ui/KeyboardPanel.qml): Qt Virtual
Keyboard, 拼音 first and English second, on when the kiosk fills the screen (`on_screen_keyboard`).

Qt reads QT_IM_MODULE once, when the QGuiApplication is made, so the app with the keyboard on runs in
its own process (tests/keyboard_app.py, offscreen), asked for through the app's own seam; a 协理员 taps
the keyboard's keys only, and the test checks what the store kept. With the keyboard off, or on "auto"
in a window, the test session's own app shows that no InputPanel is made and QT_IM_MODULE is not set.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("KIOSK_AUDIO", "0")

import pytest

from conftest import has_cjk
from kiosk.app import keyboard
from kiosk.app.bootstrap import Options
from kiosk.config import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[1]
SON = "11010519800101106X"


# ------------------------------------------------------------------ the setting and the seam
@pytest.mark.parametrize("mode, fullscreen, on", [
    ("auto", True, True), ("auto", False, False), ("on", False, True), ("on", True, True),
    ("off", True, False), ("off", False, False)])
def test_auto_follows_full_screen_and_on_off_force_it(mode, fullscreen, on):
    assert keyboard.wanted(mode, fullscreen) is on


def test_only_the_installed_kiosk_fills_the_screen():
    assert keyboard.fills_screen(Options(fullscreen=True, demo=False))
    assert not keyboard.fills_screen(Options(fullscreen=True, demo=True))  # the demo is a window
    assert not keyboard.fills_screen(Options(fullscreen=False))


def test_the_setting_is_checked_and_kept(tmp_path):
    assert Settings().on_screen_keyboard == "auto"
    p = tmp_path / "kiosk.toml"
    p.write_text('on_screen_keyboard = "yes"\n', encoding="utf-8")
    with pytest.raises(SettingsError) as e:
        Settings.load(p)
    assert e.value.key == "on_screen_keyboard" and "auto 或 on 或 off" in e.value.message
    Settings(on_screen_keyboard="off").save(p)
    assert Settings.load(p).on_screen_keyboard == "off"


@pytest.mark.parametrize("mode, opts, env", [
    ("on", Options(fullscreen=False, demo=True), "qtvirtualkeyboard"),
    ("auto", Options(fullscreen=True), "qtvirtualkeyboard"),
    ("auto", Options(fullscreen=False, demo=True), None),  # kiosk --demo: a window
    ("off", Options(fullscreen=True), None)])
def test_the_input_method_is_asked_for_only_when_wanted(monkeypatch, mode, opts, env):
    monkeypatch.setenv("QT_IM_MODULE", "")  # recorded: whatever request() sets is undone after the test
    monkeypatch.delenv("QT_IM_MODULE")
    assert keyboard.request(Settings(on_screen_keyboard=mode), opts) is (env is not None)
    assert os.environ.get("QT_IM_MODULE") == env


def test_off_leaves_a_laptops_own_input_method_alone(monkeypatch):
    monkeypatch.setenv("QT_IM_MODULE", "fcitx")
    keyboard.request(Settings(on_screen_keyboard="off"), Options(fullscreen=True))
    assert os.environ["QT_IM_MODULE"] == "fcitx"


# ------------------------------------------------------------------ off: no InputPanel at all
@pytest.fixture
def window_app(qtbot, tmp_path):
    """The app in a window on a small real store (its own QApplication: no virtual keyboard input method)."""
    from kiosk import operators
    from kiosk.app.bootstrap import KioskApp
    from kiosk.app.voice import VoicePlayer
    from kiosk.core.clock import Clock
    from kiosk.store import Store
    from test_visits import TODAY, fill

    store = Store.open(tmp_path / "kiosk.db", tmp_path / "keys" / "template.key", clock=Clock.fixed(TODAY))
    fill(store)
    helper = operators.add_operator(store, "李主任", "admin", "246813")
    made = []

    def make(mode: str, opts: Options):
        class Encoder:
            name = "dlib-128"

        k = KioskApp(opts, store=store, settings=Settings(grace_days=10, on_screen_keyboard=mode), encoder=Encoder(),
                     voice=VoicePlayer(enabled=False), clock=store.clock, current_operator=lambda: helper)
        made.append(k)
        k.window.show()
        qtbot.waitExposed(k.window)
        return k

    yield make
    for k in made:
        k.close()
    store.close()


@pytest.mark.slow
@pytest.mark.parametrize("mode, opts", [
    ("off", Options(fullscreen=False, realtime=False)),
    ("auto", Options(fullscreen=False, realtime=False)),
    # wanted, but this process's QApplication was made without the input method: still no panel (and a log line)
    ("on", Options(fullscreen=False, realtime=False))])
def test_no_input_panel_when_off_or_in_a_window(window_app, qtbot, monkeypatch, mode, opts):
    from kiosk.app import driver
    from test_visits import SOON

    if os.environ.get("QT_IM_MODULE") == keyboard.IM_MODULE:
        pytest.skip("this test session's QApplication has the virtual keyboard's input method")
    k = window_app(mode, opts)
    assert k.app.property("keyboard") is False
    k.fallback.open_for(SOON)
    qtbot.waitUntil(lambda: k.flow.screen == "fallback", timeout=5000)
    qtbot.wait(50)
    driver.tap(k.window, "fb_method_relative_pledge")
    qtbot.wait(30)
    driver.find(k.window, "fbRelativeName").forceActiveFocus()
    qtbot.wait(100)
    names = {it.objectName() for it in driver.items(k.window)}
    assert keyboard.PANEL_NAME not in names
    loader = driver.find(k.window, "keyboardLoader", visible_only=False)
    assert loader is not None and loader.property("active") is False and loader.property("item") is None
    assert not any(it.metaObject().className().startswith("InputPanel") for it in driver.items(k.window))
    assert (k.keyboard.property("inset"), k.keyboard.property("pan")) == (0.0, 0.0)
    assert os.environ.get("QT_IM_MODULE") != keyboard.IM_MODULE


# ------------------------------------------------------------------ on: typed by tapping its keys
def run_keyboard_app(tmp_path, *args) -> dict:
    out = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if k != "QT_IM_MODULE"}
    env.update(QT_QPA_PLATFORM="offscreen", KIOSK_AUDIO="0", XDG_CONFIG_HOME=str(tmp_path / "xdg"),
               PYTHONPATH=os.pathsep.join([str(ROOT / "tests"), env.get("PYTHONPATH", "")]))
    p = subprocess.run([sys.executable, str(ROOT / "tests" / "keyboard_app.py"), str(tmp_path), str(out), *args],
                       env=env, capture_output=True, text=True, timeout=240)
    assert out.exists(), p.stdout + p.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert "error" not in report, report["error"] + p.stderr[-2000:]
    assert p.returncode == 0, p.stderr[-2000:]
    return report


def learnt(tmp_path, phrase: str) -> bool:
    """The phrase is in Qt Virtual Keyboard's user data (its 拼音 user dictionary keeps UTF-16 text)."""
    files = [p for p in (tmp_path / "xdg").rglob("*") if p.is_file()]
    return any(phrase.encode("utf-16-le") in p.read_bytes() or phrase.encode() in p.read_bytes() for p in files)


def above_the_panel(step: dict) -> bool:
    """The field being typed is whole, inside its page and above the keyboard."""
    fx, fy, fw, fh = step["fieldRect"]
    px, py, pw, ph = step["panelRect"]
    sx, sy, sw, sh = step["flickRect"]
    return fy + fh <= py and fy >= sy and fy + fh <= sy + sh


@pytest.mark.slow
@pytest.mark.parametrize("size, elder", [("1366x768", False), ("1080x1920", True)])
def test_a_relatives_name_typed_in_pinyin_reaches_the_record(tmp_path, size, elder):
    shots = os.environ.get("KIOSK_SCREENSHOTS")
    tag = f"-{'elder-' if elder else ''}{'portrait' if size == '1080x1920' else 'laptop'}"
    args = ["--size", size, *(["--elder"] if elder else []), *(["--shots", shots, f"--tag={tag}"] if shots else [])]
    r = run_keyboard_app(tmp_path, *args)
    assert r["requested"] and r["keyboard"]
    assert r["identity"]["panel"] is False and r["identity"]["typed"]  # the resident's keypad: no keyboard
    assert r["panelBeforeFocus"] is False  # no panel until a text field has the focus
    name, phone, ident = r["steps"]
    # 拼音 first: letters and the candidates of "wang", the first one taken.
    assert name["opened"] and name["focus"] and {"w", "a", "n", "g"} <= set(name["keys"]) and "1" not in name["keys"]
    assert r["preedit"] == "wang" and all(has_cjk(c) for c in r["candidates"])
    assert r["first"] == r["candidates"][0] and has_cjk(r["first"])
    assert r["name"] == r["first"] + "六六"  # then "liuliu", 六 and 六 taken one by one
    # The key labels and candidates ask for Arial: drawn in the app's CJK font (no boxes on a machine without one).
    assert [f.lower() for f in r["arialSubstitutes"]] == [r["familyUsed"].lower()]
    # The phone: the dial pad (digits, no letters).
    assert phone["opened"] and {str(d) for d in range(10)} <= set(phone["keys"]) and "a" not in phone["keys"]
    assert r["phone"] == "13900000000"
    # The relative's ID: digits and the check digit's X, typed in Latin input (not held as 拼音).
    assert r["relativeId"] == SON and r["idHint"] == "" and r["ready"]
    # Each field stayed whole above the keyboard; the page ended at the keyboard (inset = its height).
    for step in r["steps"]:
        assert above_the_panel(step), step
        assert step["inset"] == pytest.approx(step["panelRect"][3]) and step["pan"] == 0.0
    # Hidden with its own key: the page is whole again.
    assert r["hideKey"] and r["afterHide"] == {"active": False, "visible": False, "inset": 0.0, "pan": 0.0}
    assert r["screen"] == "submitted"
    assert r["record"] == {"method": "relative_pledge", "operator": "王协理", "status": "pending_county_review",
                           "relative": [r["name"], "子女", SON, "13900000000"]}
    # The 拼音 engine learnt nothing (the fields are ImhSensitiveData): no name in its user dictionary.
    assert not learnt(tmp_path, "六六") and not learnt(tmp_path, r["name"])


@pytest.mark.slow
def test_a_page_that_does_not_scroll_moves_up_and_the_typed_reason_rejects(tmp_path):
    """审核建模's typed reason (ReviewDetailScreen, no Flickable): the page moves up until the field clears
    the keyboard, the reason is typed in 拼音 ("mohu", first candidate) and sent with the keyboard's Enter."""
    r = run_keyboard_app(tmp_path, "--scenario", "review")
    (step,) = r["steps"]
    assert step["opened"] and step["focus"] and step["inset"] == 0.0 and step["pan"] > 0
    fx, fy, fw, fh = step["fieldRect"]
    assert fy + fh <= step["panelRect"][1] and fy >= 0
    assert has_cjk(r["reason"]) and r["reason"] == r["candidates"][0]
    assert r["screen"] == "review"
    assert r["enrolment"] == {"status": "rejected", "reviewed_by": "李主任", "reason": r["reason"]}
    assert r["afterPage"] == {"inset": 0.0, "pan": 0.0}  # the field is gone with its page: the page is back
    assert not learnt(tmp_path, r["reason"])


@pytest.mark.slow
@pytest.mark.parametrize("size", ["1366x768", "1080x1920"])
def test_elder_mode_grows_the_keys_and_the_field_stays_above_them(tmp_path, size):
    """关怀大字版 tapped in the header while "wang" is being typed: the key labels and the candidates grow
    by half, the key rows grow as far as the window leaves room for the header and the field (a portrait
    kiosk: 1.6 times; a 1366x768 laptop has none to spare: its rows stay), and the field stays whole
    above the keyboard. Tapped off again: the keyboard is the style's own again."""
    shots = os.environ.get("KIOSK_SCREENSHOTS")
    tag = "-portrait" if size == "1080x1920" else "-laptop"
    r = run_keyboard_app(tmp_path, "--size", size, "--scenario", "elder", *(["--shots", shots, f"--tag={tag}"] if shots else []))
    plain, elder, again = r["plain"], r["elder"], r["plainAgain"]
    assert (plain["elder"], elder["elder"], again["elder"]) == (False, True, False)
    width = int(size.split("x")[0])
    # The plain keyboard is the default style's own: 800 of 2560 of the width, and the candidate bar's 85.
    assert plain["panelRect"][3] == pytest.approx(width * (800 + 85) / 2560, abs=2)
    assert elder["keyPx"] >= 1.45 * plain["keyPx"] and elder["candidatePx"] >= 1.45 * plain["candidatePx"]
    assert elder["panelRect"][3] > plain["panelRect"][3]
    if size == "1080x1920":
        assert elder["keyRect"][3] >= 1.55 * plain["keyRect"][3]
    else:
        assert elder["keyRect"][3] >= plain["keyRect"][3] - 2  # the same rows (rounding of the scaled margins)
    for m in (plain, elder, again):
        assert m["focus"] and above_the_panel(m), m
        assert m["inset"] == pytest.approx(m["panelRect"][3]) and m["pan"] == 0.0
    assert (again["panelRect"], again["keyRect"], again["keyPx"]) == (plain["panelRect"], plain["keyRect"], plain["keyPx"])


def test_installed_in_this_environment_and_not_in_a_bundle_built_without_it(monkeypatch, tmp_path):
    """The wheel has Qt Virtual Keyboard; a bundle without it (packaging/kiosk.spec's default) asks for nothing."""
    assert keyboard.installed()
    monkeypatch.setattr(keyboard, "installed", lambda: False)
    monkeypatch.setenv("QT_IM_MODULE", "")
    monkeypatch.delenv("QT_IM_MODULE")
    assert keyboard.request(Settings(on_screen_keyboard="on"), Options(fullscreen=True)) is False
    assert "QT_IM_MODULE" not in os.environ
