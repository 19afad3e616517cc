"""Enrolment's pose range (建模, "a slight range of poses"): the demo's virtual face answers the pose
guidance (请稍微向左看 / 向右看) with a slight held head turn, the session keeps each stage's most turned
frame that the probe still takes, and every enrolment records the yaw and pitch its chosen frames span
(`pose_spread`): in `kiosk enrolments --json` and on the review detail screen. A narrow range is
never refused (a stiff neck): the reviewer is told.

Real pipeline: the virtual camera through FaceMesh, the session, dlib, the store and the CLI."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("KIOSK_AUDIO", "0")

import numpy as np
import pytest

from kiosk.enrolment import NARROW_YAW_DEG, enrolment_pose_spread, pose_spread, pose_spread_line
from test_app import demo, demo_master, encoder, make_app  # noqa: F401  (the app fixtures)
from test_cli import kiosk_home, run_cli  # noqa: F401  (kiosk_home is an autouse fixture)
from test_cli_resident import RESIDENT
from test_enrolment import ASSISTANT, as_operator, terminal  # noqa: F401  (a fresh terminal with staff)


# ------------------------------------------------------------------ the record (pure)
def _frames(*poses):
    return [{"t": i * 0.5, "sharpness": 180.0, "yaw_dev": y, "pitch_dev": p} for i, (y, p) in enumerate(poses)]


def test_the_spread_says_how_far_left_right_up_and_down_the_chosen_frames_go():
    s = pose_spread(_frames((0.2, -0.5), (6.6, 1.9), (-8.4, 0.4), (-1.0, -2.5), (0.0, 0.0)))
    assert (s["left"], s["right"], s["up"], s["down"]) == (6.6, 8.4, 2.5, 1.9)
    assert s["yaw"] == [0.2, 6.6, -8.4, -1.0, 0.0] and s["pitch"] == [-0.5, 1.9, 0.4, -2.5, 0.0]
    assert s["yaw_span"] == 15.0 and s["pitch_span"] == 4.4 and not s["narrow"]
    assert pose_spread_line(s) == "角度范围 左 7° — 右 8°，上下 4°"

    stiff = pose_spread(_frames((0.5, 0.0), (-1.2, 0.3), (1.1, -0.4), (0.0, 0.0), (-0.3, 0.2)))
    assert stiff["narrow"] and stiff["yaw_span"] < NARROW_YAW_DEG and stiff["left"] == 1.1 and stiff["right"] == 1.2
    assert pose_spread_line(stiff).startswith("角度范围 左 1° — 右 1°") and "转头很少" in pose_spread_line(stiff)


def test_records_made_before_the_spread_was_kept_get_it_from_their_frames():
    frames = _frames((0.0, 0.0), (3.0, 1.0), (-4.0, -1.0))
    assert enrolment_pose_spread({"poses": frames}) == pose_spread(frames)
    kept = {"left": 1.0, "right": 2.0, "narrow": True}
    assert enrolment_pose_spread({"poses": frames, "pose_spread": kept}) is kept
    assert enrolment_pose_spread({}) is None and pose_spread([]) is None and pose_spread_line(None) == ""


# ------------------------------------------------------------------ the virtual face
@pytest.mark.slow
def test_the_virtual_face_looks_slightly_aside_and_holds_it():
    from kiosk.demo.virtual_camera import LOOK_YAW_DEG, VirtualCamera
    from kiosk.observe import FaceObserver

    cam = VirtualCamera(realtime=False, seed=3, natural_motion=False)  # the look alone (the session test has both)
    it = iter(cam)
    with FaceObserver() as obs:
        def yaws(n):
            return [obs.observe(next(it)).face.yaw for _ in range(n)]

        front = float(np.median(yaws(15)))
        held = {}
        for side in ("left", "right", "straight"):
            cam.look(LOOK_YAW_DEG[side])
            assert cam.looking == (LOOK_YAW_DEG[side], 0.0)
            yaws(15)  # the turn (0.5 s at 25 fps), then held
            held[side] = [y - front for y in yaws(25)]
    cam.close()
    assert all(5.0 < y < 10.0 for y in held["left"]), held["left"]  # own left: yaw > 0, inside the probe's gate
    assert all(-10.0 < y < -5.0 for y in held["right"]), held["right"]
    assert all(abs(y) < 1.5 for y in held["straight"]), held["straight"]  # back to frontal


# ------------------------------------------------------------------ the whole enrolment
@pytest.mark.slow
def test_a_demo_enrolment_spans_poses_and_the_listing_shows_it(capsys, terminal, monkeypatch):
    as_operator(monkeypatch, ASSISTANT)
    code, lines, _ = run_cli(capsys, "enrol", RESIDENT, "--virtual", "--operator", ASSISTANT[0], "--consent-read",
                             "--json")
    assert code == 0, lines
    out = lines[-1]
    spread = out["pose_spread"]
    assert len(spread["yaw"]) == out["frames"] and len(spread["pitch"]) == out["frames"]
    # the chosen frames differ in yaw by more than a few degrees: some to each side of the frontal pose
    assert max(spread["yaw"]) - min(spread["yaw"]) > 8.0 and spread["left"] > 4.0 and spread["right"] > 4.0, spread
    assert all(abs(y) <= 10.0 for y in spread["yaw"])  # all still fit to match on (the probe's gate)
    assert not spread["narrow"]

    code, lines, _ = run_cli(capsys, "enrolments", "--json")
    listed = lines[0]["enrolments"]
    assert [x["pose_spread"] for x in listed] == [spread]
    code, _, printed = run_cli(capsys, "enrolments")
    assert code == 0 and "角度范围 左" in printed


class StiffNeck:
    """The virtual camera, played by someone who cannot turn their head: no `look`."""

    def __init__(self, cam):
        self.cam = cam

    def __iter__(self):
        return iter(self.cam)

    def perform(self, action):
        self.cam.perform(action)

    def close(self):
        self.cam.close()


@pytest.mark.slow
def test_a_person_who_does_not_turn_is_still_enrolled_and_the_range_says_narrow(encoder_dlib):
    from kiosk.demo.follower import PromptFollower
    from kiosk.demo.virtual_camera import VirtualCamera
    from kiosk.driver import drive
    from kiosk.enrolment import EnrolmentSession, result_of
    from kiosk.observe import FaceObserver

    session = EnrolmentSession(encoder_dlib, actions=["blink", "open_mouth"])
    cam = StiffNeck(VirtualCamera(realtime=False, seed=1, natural_motion=False))
    follower = PromptFollower(cam)
    with FaceObserver() as observer:
        drive(session, cam, observer, on_events=lambda t, evs: follower(t, evs) if t is not None else None)
    result = result_of(session)
    assert result.ok and 5 <= len(result.vectors) <= 10, result.code
    spread = result.quality["pose_spread"]
    assert spread["narrow"] and spread["yaw_span"] < NARROW_YAW_DEG, spread
    assert "转头很少" in pose_spread_line(spread)


@pytest.fixture(scope="module")
def encoder_dlib():
    from dataclasses import replace

    from kiosk.config import Settings
    from kiosk.matching.embedders import make_embedder

    return make_embedder(replace(Settings(), embedding_backend="dlib"))


# ------------------------------------------------------------------ the reviewer's screen
@pytest.mark.slow
@pytest.mark.parametrize("size,elder", [((1366, 768), False), ((1366, 768), True), ((1080, 1920), True)])
def test_the_review_detail_screen_shows_the_range_and_says_when_it_is_narrow(make_app, qtbot, size, elder):
    """Two pending enrolments as the store keeps them: one spanning poses, one made before the spread
    was kept (computed from its frames) by someone who hardly turned. Both can be approved."""
    from kiosk.app.demo import DEMO_OPERATORS
    from test_unattended import login

    h = make_app(size=size, elder=elder)
    k = h.k
    rng = np.random.default_rng(0)
    vecs = [v / np.linalg.norm(v) for v in rng.normal(size=(5, 128))]
    wide = _frames((0.2, -0.5), (7.6, 1.9), (-8.4, 0.4), (-1.0, -2.5), (0.0, 0.0))
    stiff = _frames((0.5, 0.0), (-1.2, 0.3), (1.1, -0.4), (0.0, 0.0), (-0.3, 0.2))
    consent = k.store.clock.utc_now()
    ids = [r.id_number for r in h.setup.residents]
    e_wide = k.store.add_enrolment(ids[1], vecs, k.service.encoder.name, enrolled_by=DEMO_OPERATORS[1][0],
                                   consent_read_by=DEMO_OPERATORS[1][0], consent_at=consent,
                                   quality={"poses": wide, "pose_spread": pose_spread(wide)})
    e_stiff = k.store.add_enrolment(ids[2], vecs, k.service.encoder.name, enrolled_by=DEMO_OPERATORS[1][0],
                                    consent_read_by=DEMO_OPERATORS[1][0], consent_at=consent,
                                    quality={"poses": stiff})  # an older record: no pose_spread kept
    reviewer = next((name, pin) for name, pin, role in DEMO_OPERATORS if role == "reviewer")
    login(h, *reviewer)
    k.review.open()
    h.wait_screen("review")
    h.tap(f"review_{e_wide}")
    h.wait_screen("reviewDetail")
    assert h.text("reviewPoseSpread") == "角度范围 左 8° — 右 8°，上下 4°"
    assert not driver_find(h, "reviewPoseSpread").property("font").bold()
    h.tap("btnReviewBack")
    h.wait_screen("review")
    h.tap(f"review_{e_stiff}")
    h.wait_screen("reviewDetail")
    line = h.text("reviewPoseSpread")
    assert line.startswith("角度范围 左 1° — 右 1°") and "转头很少" in line
    assert driver_find(h, "reviewPoseSpread").property("font").bold()
    # the line and the no-frames note stay clear of the buttons at the bottom
    bottom = driver_find(h, "reviewPoseSpread").mapToScene(driver_find(h, "reviewPoseSpread").boundingRect().bottomLeft())
    assert bottom.y() < driver_find(h, "btnApprove").mapToScene(driver_find(h, "btnApprove").boundingRect().topLeft()).y()
    if os.environ.get("STAFF_SCREENSHOTS"):  # for the README and review: the narrow case
        from pathlib import Path

        qtbot.wait(400)
        h.window.grabWindow().save(str(Path(os.environ["STAFF_SCREENSHOTS"]) /
                                       f"review_detail_narrow_{size[0]}x{size[1]}{'_elder' if elder else ''}.png"))
    h.tap("btnApprove")  # narrow is the reviewer's cue, never a refusal
    h.wait_screen("review")
    assert k.store.get_enrolment(e_stiff)["status"] == "approved"


def driver_find(h, name):
    from kiosk.app import driver

    it = driver.find(h.window, name)
    assert it is not None and it.isVisible(), name
    return it
