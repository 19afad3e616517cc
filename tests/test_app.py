"""The touchscreen app (kiosk/app + ui/*.qml), driven by objectName taps like a resident.

Offscreen (QT_QPA_PLATFORM=offscreen, software scene graph) by default; .ci/run also runs
this file once under Xvfb with the xcb platform. The virtual camera runs flat out
(realtime=False) through the real engine; one test plays a real recorded clip.
"""
from __future__ import annotations

import os
import re
import shutil
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("KIOSK_AUDIO", "0")

from kiosk.app.bootstrap import prepare_environment

prepare_environment()

import pytest
from PySide6.QtCore import QObject, QRectF

from kiosk.app import driver
from kiosk.config import Settings

CHECK_TIMEOUT_MS = 150_000


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="session")
def encoder():
    from kiosk.matching.encoder import DlibEncoder

    return DlibEncoder()


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory, encoder):
    """The demo database, built once (the demo face enrolled from the virtual camera)."""
    from kiosk.app.demo import create_demo

    return create_demo(tmp_path_factory.mktemp("demo"), encoder)


@pytest.fixture
def demo(demo_master, tmp_path):
    """A private copy of the demo database for one test."""
    home = tmp_path / "demo"
    shutil.copytree(demo_master.home, home)
    return replace(demo_master, home=home, db_path=home / "kiosk.db", key_path=home / "template.key")


class Harness:
    def __init__(self, qtbot, kiosk, setup):
        self.qtbot, self.k, self.setup = qtbot, kiosk, setup
        self.window = kiosk.window
        self.ids = {r.name: r.id_number for r in setup.residents}

    def tap(self, name: str) -> None:
        driver.tap(self.window, name)

    def text(self, name: str) -> str:
        return driver.text_of(self.window, name)

    def type_id(self, digits: str) -> None:
        driver.type_id(self.window, digits)

    def wait_screen(self, name: str, timeout: int = 10_000) -> None:
        self.qtbot.waitUntil(lambda: self.k.flow.screen == name, timeout=timeout)
        self.qtbot.wait(10)  # let the Loader build the new screen

    def enter(self, purpose_button: str, resident: str) -> None:
        self.tap(purpose_button)
        self.wait_screen("identity")
        self.type_id(self.ids.get(resident, resident))
        self.tap("btnSubmit")

    def to_face(self, resident: str, proxy: bool = False) -> None:
        self.enter("btnProxy" if proxy else "btnSelf", resident)
        self.wait_screen("confirm")
        self.tap("btnConfirmYes")
        if proxy:
            self.wait_screen("helper")
            self.tap("rel_child")
            self.wait_screen("identity")
            self.type_id(self.ids["李建国"])
            self.tap("btnSubmit")
        self.wait_screen("category")
        self.tap("btnCategoryNext")
        self.wait_screen("consent")
        self.tap("btnAgree")
        self.wait_screen("face")


def quick_voice(seconds: float = 0.15):
    """The real voice queue with a fake player: every file "plays" for `seconds` (no device needed),
    so sentences wait for each other, are cut or dropped as they would be with sound."""
    from kiosk.app.voice import VoicePlayer

    class QuickPlayer(VoicePlayer):
        def start(self, code: str, token: int) -> bool:
            self._token = token
            self.spoken.emit(code)
            self._timer.start(int(seconds * 1000))
            return True

    return QuickPlayer(enabled=False)


def assert_every_face_instruction_heard(k):
    """The spoken order of a face check: the opening line, each prompt (said to the end, the
    person acting only after it), 很好, 正在核对, the result; nothing said is dropped."""
    q = k.voice.queue
    actions = k.check.session.actions
    spoken = q.history[q.history.index("state_waiting_face"):]
    prompts = [c for c in spoken if c.startswith("prompt_")]
    assert [p.removesuffix("_again") for p in prompts if not p.endswith("_again")] == [f"prompt_{a}" for a in actions]
    assert "progress_ok" in spoken and "state_matching" in spoken and spoken[-1] == "result_ok"
    assert spoken.index(prompts[0]) < spoken.index("progress_ok") < spoken.index("state_matching")
    over = {(code, how) for _, how, code in q.events if how not in ("queued", "started")}
    for p in prompts:
        assert (p, "finished") in over, (p, q.events)
    dropped = [(code, how) for _, how, code in q.events if how.startswith("dropped") and not code.startswith("guidance_")]
    assert dropped == [], dropped
    cut = [code for _, how, code in q.events
           if how in ("interrupted", "left_screen") and code.startswith(("progress", "prompt", "state"))]
    assert cut == [], cut  # the result waits for the face screen's last sentence
    return spoken


@pytest.fixture
def make_app(qtbot, demo, encoder):
    made = []

    def make(*, size=(1366, 768), source_factory=None, actor=None, actions=None, settings=None, store=None,
             elder=False, voice=None):
        from kiosk.app.bootstrap import KioskApp, Options
        from kiosk.app.voice import VoicePlayer
        from kiosk.store import Store

        opts = Options(demo=True, fullscreen=False, realtime=False, size=size, actions=actions, elder=elder)
        store = store or Store.open(demo.db_path, demo.key_path)
        kiosk = KioskApp(opts, store=store, settings=settings or Settings(), encoder=encoder,
                         source_factory=source_factory, actor=actor, voice=voice or VoicePlayer(enabled=False),
                         demo_residents=demo.residents)
        kiosk.window.show()
        qtbot.waitExposed(kiosk.window)
        qtbot.wait(300)  # the first frame rendered and the screen faded in
        made.append(kiosk)
        return Harness(qtbot, kiosk, demo)

    yield make
    for k in made:
        k.close()


# ------------------------------------------------------------------ the resident flow
def test_self_certification_on_the_virtual_camera(make_app, qtbot):
    h = make_app(voice=quick_voice())
    k = h.k
    assert h.text("homeTitle") == "您好！请选择要办理的事项"
    assert driver.find(h.window, "demoHint") is not None and driver.find(h.window, "demoBadge") is not None
    h.tap("btnSelf")
    h.wait_screen("identity")
    wang = h.ids["王秀英"]
    h.type_id(wang[:17] + ("0" if wang[-1] != "0" else "1"))  # wrong check digit: said at once
    assert k.entry.hintError and "校验" in h.text("idHint")
    h.tap("key_del")
    h.type_id(wang[-1])
    assert not k.entry.hintError and h.text("idDisplay").replace(" ", "") == wang
    h.tap("btnSubmit")
    h.wait_screen("confirm")
    assert h.text("maskedName") == "王*英"
    assert wang not in h.text("maskedId")
    h.tap("btnConfirmYes")
    h.wait_screen("category")
    assert k.flow.category == "pension"  # the only category: preselected
    h.tap("btnCategoryNext")
    h.wait_screen("consent")
    h.tap("btnAgree")
    h.wait_screen("face")
    qtbot.waitUntil(lambda: k.check.action != "", timeout=60_000)
    assert h.text("actionText").startswith("请")
    cam = driver.find(h.window, "cameraView")
    qtbot.waitUntil(lambda: cam.has_image, timeout=10_000)
    h.wait_screen("result", CHECK_TIMEOUT_MS)
    assert k.flow.result["ok"], k.flow.result
    assert h.text("resultTitle") == "恭喜您认证成功"
    assert "有效期至" in h.text("resultValidUntil") and "补发" in h.text("resultMessage")
    assert not cam.has_image  # the camera is closed once the check is over
    spoken = k.voice.history
    assert "screen_identity_self" in spoken and "result_ok" in spoken
    assert any(c.startswith("prompt_") for c in spoken)
    # every face-screen instruction is heard, the state lines included
    assert "state_waiting_face" in spoken and "state_matching" in spoken
    assert_every_face_instruction_heard(k)
    rows = k.store.attempts_for(wang)
    assert [(r.verdict, r.mode) for r in rows] == [("pass", "self")]
    h.tap("btnResultHome")
    h.wait_screen("home")
    assert not k.flow.hasPersonalData
    k.app.replay()  # 再听一遍 on the home screen: the home instruction, not the last resident's result
    assert k.voice.history[-1] == "screen_home"


def test_screen_texts_come_from_the_catalogue_with_numbers_written_plainly(make_app):
    h = make_app()
    assert h.k.app.tf("ui_volume", {"percent": 80.0}) == "音量 80%"
    assert h.k.app.t("ui_replay") == "再听一遍" and h.text("btnReplay") == "再听一遍"


def test_replay_says_each_screens_own_instruction(make_app, qtbot):
    """再听一遍 on every screen of the way says that screen's instruction (not the last one heard elsewhere)."""
    h = make_app()
    q = h.k.voice.queue

    def replayed(button: str = "btnReplay") -> list[str]:
        n = len(q.history)
        h.tap(button)
        return q.history[n:]

    assert replayed() == ["screen_home"]
    h.tap("btnProxy")
    h.wait_screen("identity")
    assert replayed() == ["screen_identity_proxy"]
    h.type_id(h.ids["王秀英"])
    h.tap("btnSubmit")
    h.wait_screen("confirm")
    assert replayed() == ["screen_confirm_proxy"]
    h.tap("btnConfirmYes")
    h.wait_screen("helper")
    assert replayed() == ["screen_helper"]
    h.tap("rel_child")
    h.wait_screen("identity")
    assert replayed() == ["screen_helper_id"]
    h.tap("btnSkipHelperId")
    h.wait_screen("category")
    assert replayed() == ["screen_category"]
    h.tap("btnCategoryNext")
    h.wait_screen("consent")
    assert replayed() == ["screen_consent"]
    h.k.flow.back()
    h.wait_screen("category")
    assert replayed() == ["screen_category"]  # back: the screen's own instruction, not the consent text
    h.tap("btnHome")
    h.wait_screen("home")
    h.tap("btnHelp")
    h.wait_screen("help")
    assert replayed() == ["screen_help"]
    h.tap("btnHome")
    h.wait_screen("home")
    h.enter("btnSelf", "赵德福")  # certified this cycle: the notice says so
    h.wait_screen("confirm")
    h.tap("btnConfirmYes")
    h.wait_screen("notice")
    assert replayed() == ["error_already_certified", "next_already_certified"]
    h.tap("btnNoticeRecords")
    h.wait_screen("records")
    assert replayed() == ["status_certified"]


def test_proxy_certification_records_the_helper(make_app, qtbot):
    h = make_app(voice=quick_voice())
    h.to_face("王秀英", proxy=True)
    h.wait_screen("result", CHECK_TIMEOUT_MS)
    assert h.k.flow.result["ok"], h.k.flow.result
    # the helper instruction is said to the end before the check begins: no step clock runs under it
    q = h.k.voice.queue
    assert (q.history.index("screen_proxy_face") < q.history.index("state_waiting_face"))
    assert ("finished", "screen_proxy_face") in {(how, code) for _, how, code in q.events}
    assert_every_face_instruction_heard(h.k)
    rows = h.k.store.attempts_for(h.ids["王秀英"])
    assert len(rows) == 1 and rows[0].mode == "proxy" and rows[0].helper_relationship == "子女"
    assert rows[0].helper_id_masked == h.ids["李建国"][:6] + "********" + h.ids["李建国"][-4:]


def test_no_template_lands_on_a_screen_that_says_what_to_do(make_app):
    h = make_app()
    h.enter("btnSelf", "刘玉珍")
    h.wait_screen("confirm")
    h.tap("btnConfirmYes")
    h.wait_screen("notice")
    assert h.k.flow.notice["code"] == "no_template"
    assert "建模" in h.text("noticeMessage") and "下一步" in h.text("noticeNext")
    assert driver.find(h.window, "btnNoticeHome") is not None


def test_data_comparison_needs_no_face_check(make_app):
    h = make_app()
    h.enter("btnSelf", "李建国")
    h.wait_screen("confirm")
    h.tap("btnConfirmYes")
    h.wait_screen("notice")
    assert h.k.flow.notice["code"] == "data_comparison" and "大数据比对" in h.text("noticeMessage")


def test_already_certified_is_told_so_and_offered_the_records(make_app):
    """The service's eligibility answer: no check, no try used, never sent to 建模."""
    h = make_app()
    h.enter("btnSelf", "赵德福")
    h.wait_screen("confirm")
    h.tap("btnConfirmYes")
    h.wait_screen("notice")
    assert h.k.flow.notice["code"] == "already_certified" and h.k.flow.notice["nextStep"] == "records"
    assert "建模" not in h.text("noticeMessage") + h.text("noticeNext")
    assert not h.k.check.running and h.k.flow.attempt is None
    h.tap("btnNoticeRecords")
    h.wait_screen("records")
    assert h.text("recordLabel") == "本周期已认证" and h.k.records.record["canCertify"] is False
    assert driver.find(h.window, "btnCertifyNow") is None


def test_unknown_number_is_explained_on_the_keypad_screen(make_app):
    from datetime import date

    from kiosk.app.demo import make_id

    h = make_app()
    h.enter("btnSelf", make_id("130630", date(1950, 1, 1), "999"))
    assert h.k.flow.screen == "identity" and "名册" in h.text("idHint")


def test_query_records_shows_each_status(make_app):
    h = make_app()
    expected = {"赵德福": ("本周期已认证", True), "李建国": ("已通过大数据比对认证", True),
                "王秀英": ("已逾期，待遇暂停发放", False), "刘玉珍": ("待认证", False)}
    for name, (label, good) in expected.items():
        h.enter("btnQuery", name)
        h.wait_screen("records")
        assert h.text("recordLabel") == label
        assert h.k.records.record["good"] is good
        if name == "王秀英":
            assert "补发" in h.text("recordMessage")
            assert driver.find(h.window, "btnCertifyNow") is not None
        h.tap("btnRecordsHome")
        h.wait_screen("home")


# ------------------------------------------------------------------ privacy and failures
def test_idle_reset_forgets_the_resident(make_app, qtbot):
    h = make_app(settings=Settings(idle_reset_s=0.4))
    h.enter("btnProxy", "王秀英")
    h.wait_screen("confirm")
    assert h.k.flow.maskedName == "王*英"
    h.wait_screen("home", 5_000)  # nobody touched the screen
    f = h.k.flow
    assert (f.maskedName, f.maskedId, h.k.entry.entry, f.helperRelationship, f.purpose) == ("", "", "", "", "")
    assert not f.hasPersonalData and f.result == {} and h.k.records.record == {}
    assert "王*英" not in " ".join(driver.text_of(h.window, n) for n in ("maskedName", "idDisplay", "idHint"))


def test_idle_reset_waits_for_the_check_then_clears_the_result(make_app, qtbot):
    h = make_app(settings=Settings(idle_reset_s=1.0))
    h.to_face("王秀英")
    h.wait_screen("result", CHECK_TIMEOUT_MS)  # the face check is never cut short by the idle timer
    assert h.k.flow.result["ok"]
    h.wait_screen("home", 10_000)
    assert h.k.flow.result == {} and not h.k.check.running


def _failing_camera(after_frames: int):
    from kiosk.demo.virtual_camera import VirtualCamera
    from kiosk.frames import CameraLost

    class Unplugged:
        def __init__(self):
            self.cam = VirtualCamera(realtime=False)

        def __iter__(self):
            for i, frame in enumerate(self.cam):
                if i >= after_frames:
                    raise CameraLost("test: unplugged")
                yield frame

        def perform(self, action):
            self.cam.perform(action)

        def close(self):
            self.cam.close()

    return Unplugged


def test_camera_lost_mid_check_lands_on_a_helpful_screen(make_app):
    h = make_app(source_factory=_failing_camera(40), actor=True)
    h.to_face("王秀英")
    h.wait_screen("result", 60_000)
    r = h.k.flow.result
    assert r["ok"] is False and r["reason"] == "camera_lost"
    assert "摄像头" in h.text("resultMessage") and "下一步" in h.text("resultNext")
    assert r["message"] and r["message"] not in r["next"] and r["next"] not in r["message"]  # no sentence twice
    assert h.k.voice.history[-2:] == ["result_camera_lost", "next_camera_lost"]
    assert r["attemptsLeft"] == 3 and driver.find(h.window, "btnRetry") is not None  # not counted
    assert not h.k.check.running


def test_a_failed_check_says_what_happened_and_what_to_do_each_once(make_app):
    """The virtual person never acts: a timeout. Message and 下一步 are different sentences, both spoken."""
    h = make_app(actor=False, settings=Settings(step_timeout_s=2.0))
    h.to_face("王秀英")
    h.wait_screen("result", 60_000)
    r = h.k.flow.result
    assert r["ok"] is False and r["reason"] == "timeout"
    message, nxt = h.text("resultMessage"), h.text("resultNext")
    assert message.startswith("没有看到您完成") and nxt.startswith("下一步：")
    sentences = [x for x in re.split("[。；]", message + nxt.removeprefix("下一步：")) if x]
    assert len(sentences) == len(set(sentences)), sentences
    assert h.k.voice.history[-2:] == [f"result_timeout_{h.k.check.session.verdict.action}", "next_timeout"]
    if os.environ.get("KIOSK_SHOT_DIR"):  # for a person to look at (after the fade-in)
        h.qtbot.wait(600)
        h.k.window.grabWindow().save(os.path.join(os.environ["KIOSK_SHOT_DIR"], "result_timeout.png"))


def test_no_camera_at_all_lands_on_a_helpful_screen(make_app):
    from kiosk.frames import FrameSourceError

    def no_camera():
        raise FrameSourceError("no_camera", "没有找到摄像头，请检查摄像头是否插好，或请工作人员协助。")

    h = make_app(source_factory=no_camera, actor=False)
    h.to_face("王秀英")
    h.wait_screen("result", 30_000)
    assert h.k.flow.result["reason"] == "no_camera"
    assert "没有找到摄像头" in h.text("resultMessage") and "线下辅助认证" in h.text("resultNext")


def test_cancel_stops_the_camera_and_offers_a_retry(make_app, qtbot):
    h = make_app()
    h.to_face("王秀英")
    qtbot.waitUntil(lambda: h.k.check.running and h.k.check.worker is not None and h.k.check.worker.frames > 3,
                    timeout=30_000)
    h.tap("btnCancelCheck")
    h.wait_screen("result", 30_000)
    assert h.k.flow.result["reason"] == "cancelled" and not h.k.check.running
    assert h.k.check.worker is None


def test_real_clip_as_the_camera(make_app, qtbot, videos_dir, clip_frame_png, embeddings):
    """A recorded clip of a real person plays as the camera (as `kiosk --demo --video FILE`)."""
    from datetime import date

    from kiosk.app.demo import make_id
    from kiosk.frames import VideoFileSource
    from kiosk.matching.encoder import BACKEND_NAME
    from kiosk.policy import Category
    from kiosk.store import Store

    clip = videos_dir / "liveportrait_d3.mp4"
    rid = make_id("130630", date(1954, 11, 22), "123")
    h = make_app(source_factory=lambda: VideoFileSource(clip), actor=False, actions=["blink", "turn_left"])
    store: Store = h.k.store
    store.upsert_resident(rid, "孙桂芳", village="演示村", categories=[Category.PENSION])
    store.add_template(rid, embeddings.get(clip_frame_png(clip, 5)), BACKEND_NAME, source="county")
    h.to_face(rid)
    h.wait_screen("result", CHECK_TIMEOUT_MS)
    assert h.k.flow.result["ok"], (h.k.flow.result, h.k.check.events[-3:])


# ------------------------------------------------------------------ colour flash (炫彩活体) and PAD
@pytest.mark.parametrize("size,elder", [((1366, 768), False), ((1366, 768), True), ((1080, 1920), False),
                                        ((1080, 1920), True)])
def test_flash_border_runs_during_the_check_and_is_recorded(make_app, qtbot, size, elder):
    """The face screen shows the session's flash sequence round the screen once the challenge starts,
    without covering the preview or the prompt; the demo camera reflects it; the store records the
    PAD and flash evidence (report mode: the verdict is untouched). KIOSK_FLASH_SHOTS=DIR saves PNGs."""
    h = make_app(size=size, elder=elder)
    k = h.k
    h.to_face("王秀英")
    assert k.check.flashOn and len(k.check.flash["colours"]) >= 3
    border = driver.find(h.window, "flashBorder")
    assert border is not None and border.isVisible()
    qtbot.waitUntil(lambda: k.check.flashRunning, timeout=60_000)
    qtbot.wait(1000)  # lead-in 0.6 s + ramp 0.2 s: the first colour is up
    rects = {}
    for name in ("flashBorder", "cameraView", "actionText", "progressDots", "btnCancelCheck"):
        it = driver.find(h.window, name)
        rects[name] = it.mapRectToScene(QRectF(0, 0, it.width(), it.height()))
    bw = border.property("borderWidth")
    outer = rects["flashBorder"]
    inner = outer.adjusted(bw, bw, -bw, -bw)
    for name in ("cameraView", "actionText", "progressDots", "btnCancelCheck"):
        assert inner.contains(rects[name]), (name, rects[name], inner)
    shots = os.environ.get("KIOSK_FLASH_SHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        h.window.grabWindow().save(str(Path(shots) / f"face_flash_{size[0]}x{size[1]}{'_elder' if elder else ''}.png"))
    h.wait_screen("result", CHECK_TIMEOUT_MS)
    assert k.flow.result["ok"], k.flow.result
    (row,) = k.store.attempts_for(h.ids["王秀英"])
    pad = row.liveness["pad"]
    assert pad["enabled"] and not pad["attack"] and pad["frames_scored"] > 0
    assert pad["flash"]["shown"] and pad["flash"]["decided"] is False and pad["flash"]["live"] is None
    assert pad["flash"]["evidence"]["mode"] == "report"
    if size == (1366, 768) and not elder:
        assert pad["flash"]["score"] > 0.6, pad["flash"]  # the virtual camera reflects the colours


# ------------------------------------------------------------------ elder mode, layouts, accessibility
def _theme(h) -> QObject:
    return h.k.theme()  # the module's Theme singleton


def test_elder_mode_is_really_larger_at_1080p(make_app, qtbot):
    h = make_app(size=(1920, 1080))
    t = _theme(h)
    normal = {k: t.property(k) for k in ("body", "small", "title", "touch", "transitionMs")}
    h.tap("btnElder")
    qtbot.waitUntil(lambda: h.k.app.elderMode)
    elder = {k: t.property(k) for k in ("body", "small", "title", "touch", "transitionMs")}
    assert elder["body"] >= 36 and elder["small"] >= 36 and elder["title"] >= 56
    assert elder["touch"] >= 15 * t.property("dotsPerMm") and elder["touch"] >= 120
    assert all(elder[k] > normal[k] for k in normal)
    home_buttons = [n for n in ("btnSelf", "btnProxy", "btnQuery") if driver.find(h.window, n)]
    assert len(home_buttons) == 3  # at most three choices on a screen
    h.enter("btnProxy", "王秀英")
    h.wait_screen("confirm")
    h.tap("btnConfirmYes")
    h.wait_screen("helper")
    rels = [i for i in driver.items(h.window) if i.objectName().startswith("rel_") and i.isVisible()]
    assert len(rels) == 3


def _unnamed(h, names_prefix=("btn", "key_", "cat_", "rel_")) -> list[str]:
    """Visible controls without an accessible name (read through Qt's accessibility interface)."""
    from PySide6.QtGui import QAccessible

    bad = []
    for it in driver.items(h.window):
        if it.objectName().startswith(names_prefix) and it.isVisible():
            iface = QAccessible.queryAccessibleInterface(it)
            if iface is None or not iface.text(QAccessible.Name).strip():
                bad.append(it.objectName())
    return bad


def _check_inside(h, names_prefix=("btn", "key_", "cat_", "rel_")) -> list[str]:
    w, hh = h.window.width(), h.window.height()
    bad = []
    for it in driver.items(h.window):
        name = it.objectName()
        if not name.startswith(names_prefix) or not it.isVisible() or name == "btnStaff":
            continue
        r = it.mapRectToScene(QRectF(0, 0, it.width(), it.height()))
        if r.left() < -0.5 or r.top() < -0.5 or r.right() > w + 0.5 or r.bottom() > hh + 0.5 or r.width() < 40:
            bad.append(f"{name} {r}")
    return bad


@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920), (1366, 768)])
@pytest.mark.parametrize("elder", [False, True])
def test_layouts_keep_every_control_on_screen(make_app, qtbot, size, elder):
    h = make_app(size=size, elder=elder)
    qtbot.wait(50)
    assert _check_inside(h) == [] and _unnamed(h) == []
    h.enter("btnSelf", "王秀英")
    h.wait_screen("confirm")
    assert _check_inside(h) == [] and _unnamed(h) == []
    h.tap("btnConfirmYes")
    h.wait_screen("category")
    assert _check_inside(h) == [] and _unnamed(h) == []
    h.tap("btnCategoryNext")
    h.wait_screen("consent")
    assert _check_inside(h) == [] and _unnamed(h) == []
    h.tap("btnHome")
    h.wait_screen("home")
    h.tap("btnSelf")
    h.wait_screen("identity")
    assert _check_inside(h) == [] and _unnamed(h) == []
    h.tap("btnHome")
    h.wait_screen("home")
    h.to_face("王秀英")
    assert _check_inside(h) == [] and _unnamed(h) == []
    h.tap("btnCancelCheck")
    h.wait_screen("result", 30_000)
    assert _check_inside(h) == [] and _unnamed(h) == []


def test_every_control_has_an_accessible_name():
    """Static check of ui/*.qml: every tappable thing declares an accessible name."""
    import re

    ui = Path(__file__).resolve().parents[1] / "ui"
    problems = []
    for qml in sorted(ui.glob("*.qml")):
        src = qml.read_text(encoding="utf-8")
        for m in re.finditer(r"MouseArea\s*\{", src):
            # The enclosing item (or the MouseArea itself) must carry Accessible.name.
            window = src[max(0, m.start() - 2500):m.start() + 400]
            if "Accessible.name" not in window:
                problems.append(f"{qml.name}: MouseArea at {m.start()} without Accessible.name")
        for m in re.finditer(r"\b(BigButton|HeaderButton)\s*\{", src):
            block = src[m.end():m.end() + 600]
            if "objectName" not in block or "text:" not in block:
                problems.append(f"{qml.name}: {m.group(1)} at {m.start()} without objectName/text")
    assert problems == []


# ------------------------------------------------------------------ voice
def test_every_spoken_code_has_a_voice_file_and_overrides_win(tmp_path):
    from kiosk.app.voice import ASSET_DIR, VoicePlayer
    from kiosk.texts import all_voice_texts

    missing = [c for c in all_voice_texts() if not (ASSET_DIR / f"{c}.wav").is_file()]
    assert missing == []
    own = tmp_path / "voice"
    own.mkdir()
    (own / "prompt_blink.wav").write_bytes((ASSET_DIR / "prompt_nod.wav").read_bytes())
    p = VoicePlayer(dirs=[own, ASSET_DIR], enabled=True)  # no audio device here: must not crash
    assert p.path_for("prompt_blink") == own / "prompt_blink.wav"
    assert p.path_for("prompt_nod") == ASSET_DIR / "prompt_nod.wav"
    p.play("prompt_blink")
    p.replay()
    assert p.history == ["prompt_blink", "prompt_blink"]


def test_voice_manifest_is_up_to_date():
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, str(root / "packaging" / "make_voice.py"), "--check"], check=False,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_bundled_font_has_every_character_the_screens_use():
    from fontTools.ttLib import TTFont

    from kiosk.texts import all_texts

    root = Path(__file__).resolve().parents[1]
    chars = set("".join(all_texts().values()))
    for p in list((root / "ui").glob("*.qml")) + list((root / "kiosk" / "app").glob("*.py")):
        chars |= set(p.read_text(encoding="utf-8"))
    wanted = {c for c in chars if ord(c) > 0x7E and c.isprintable()}
    for font in (root / "assets" / "fonts").glob("*.otf"):
        cmap = TTFont(font).getBestCmap()
        assert sorted(c for c in wanted if ord(c) not in cmap) == [], font.name
