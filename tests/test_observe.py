"""FaceMesh observations on real photos and clips: sign conventions, openness, quality, guidance."""
from __future__ import annotations

import numpy as np
import pytest

from kiosk.frames import Frame, read_image
from kiosk.observe import FACE_LEFT, FACE_RIGHT, NOSE_TIP, FaceObserver, FrameObservation
from kiosk.quality import guidance_for


@pytest.fixture(scope="module")
def still_observer():
    with FaceObserver(static=True, max_faces=3) as ob:
        yield ob


def observe_still(observer, rgb: np.ndarray) -> FrameObservation:
    return observer.observe(Frame(rgb, 0.0, 0))


def yaw_proxy(face) -> float:
    """SOURCES.md: 2*(x_nose - x_234)/(x_454 - x_234) - 1; > 0 = nose towards the image right."""
    p = face.landmarks
    return float(2 * (p[NOSE_TIP, 0] - p[FACE_LEFT, 0]) / (p[FACE_RIGHT, 0] - p[FACE_LEFT, 0]) - 1)


@pytest.mark.parametrize("clip", ["zubair_real_headturn.mp4", "intel_headpose_female.mp4"])
def test_yaw_sign_follows_the_nose(clips, videos_dir, clip):
    """yaw > 0 = the person turns to their own left = nose towards the image right."""
    faces = clips.get(videos_dir / clip).faces
    right = [f.yaw for f in faces if yaw_proxy(f) > 0.5]
    left = [f.yaw for f in faces if yaw_proxy(f) < -0.5]
    assert len(right) >= 3 and len(left) >= 3, (len(right), len(left))
    assert all(y > 0 for y in right), sorted(right)[:5]
    assert all(y < 0 for y in left), sorted(left)[-5:]
    # And clearly so: a clear turn is well beyond the landmark noise.
    assert np.median(right) > 10 and np.median(left) < -10


def test_frontal_clip_has_small_angles(clips, videos_dir):
    faces = clips.get(videos_dir / "intel_headpose_male.mp4").faces
    assert len(faces) >= 50
    assert abs(np.median([f.yaw for f in faces])) < 15
    assert abs(np.median([f.roll for f in faces])) < 15


def test_observation_fields_on_real_clip(clips, videos_dir, labels):
    clip = clips.get(videos_dir / "liveportrait_d3.mp4")
    w, h = int(labels["liveportrait_d3.mp4"]["width"]), int(labels["liveportrait_d3.mp4"]["height"])
    assert clip.analysis.face_frames == len(clip.faces) == clip.analysis.frames
    for f in clip.faces[::20]:
        assert f.landmarks.shape == (478, 3) and f.landmarks.dtype == np.float32
        l, t, r, b = f.box
        assert -0.1 * w <= l < r <= 1.1 * w and -0.1 * h <= t < b <= 1.1 * h
        assert all(-90 <= a <= 90 for a in (f.yaw, f.pitch, f.roll))
        assert 0 <= f.eye_openness[0] < 1 and 0 <= f.eye_openness[1] < 1
        assert 0 <= f.mouth_openness < 1.5
        assert f.interocular > 10
        q = f.quality
        assert 0 < q.brightness < 255 and q.contrast > 0 and q.sharpness > 0
        assert 0 < q.face_width_ratio <= 1 and q.face_width_px == pytest.approx(q.face_width_ratio * w)
        assert 0 <= q.off_centre <= 1 and q.num_faces == 1


def test_quality_in_plausible_ranges_on_photos(still_observer, faces_dir):
    for rel in ("images/Jackie_Chan/1.jpg", "spoof/live/silentface_image_T1.jpg", "eye_state/both_blink.jpg"):
        rgb = read_image(faces_dir / rel)
        obs = observe_still(still_observer, rgb)
        assert obs.num_faces == 1 and obs.face is not None, rel
        q = obs.face.quality
        assert 20 < q.brightness < 240, (rel, q)
        assert 5 < q.contrast < 128, (rel, q)
        assert 10 < q.sharpness < 5000, (rel, q)
        assert 0.1 < q.face_width_ratio < 0.9 and q.face_width_px > 60, (rel, q)
        assert 0 <= q.off_centre < 0.5, (rel, q)


def test_closed_eyes_have_lower_openness(still_observer, faces_dir):
    closed = observe_still(still_observer, read_image(faces_dir / "eye_state/both_blink.jpg")).face
    open_faces = [observe_still(still_observer, read_image(faces_dir / rel)).face
                  for rel in ("images/Jackie_Chan/1.jpg", "spoof/live/silentface_image_T1.jpg")]
    for f in open_faces:
        assert closed.eyes < 0.6 * f.eyes, (closed.eye_openness, f.eye_openness)
    from kiosk.liveness.signals import eye_signal

    assert eye_signal(closed) < 0.6 * min(eye_signal(f) for f in open_faces)


def test_wink_is_asymmetric(still_observer, faces_dir):
    wink = observe_still(still_observer, read_image(faces_dir / "eye_state/left_blink2.jpg")).face
    lo, hi = sorted(wink.eye_openness)
    assert lo < 0.5 * hi, wink.eye_openness


def test_dark_frame_gives_too_dark(still_observer, faces_dir):
    import spoofs

    rgb = spoofs.place_on_canvas(read_image(faces_dir / "images/Jackie_Chan/1.jpg"))
    bright = observe_still(still_observer, rgb)
    assert guidance_for(bright) is None
    dark = observe_still(still_observer, (rgb.astype(np.float32) * 0.15).astype(np.uint8))
    assert dark.face is not None
    assert dark.face.quality.brightness < 0.3 * bright.face.quality.brightness
    assert guidance_for(dark) == "too_dark"


def test_small_face_gives_too_far(still_observer, faces_dir):
    import cv2

    photo = read_image(faces_dir / "images/Jackie_Chan/1.jpg")  # 250 px, face ~100 px wide
    canvas = np.full((480, 640, 3), 118, np.uint8)
    small = cv2.resize(photo, (170, 170), interpolation=cv2.INTER_AREA)  # face ~70 px of 640
    canvas[155:325, 235:405] = small
    obs = observe_still(still_observer, canvas)
    assert obs.face is not None, "FaceMesh should still find the small face"
    assert obs.face.quality.face_width_ratio < 0.15
    assert guidance_for(obs) == "too_far"


def test_no_face_guidance(still_observer):
    obs = observe_still(still_observer, np.full((240, 320, 3), 128, np.uint8))
    assert obs.face is None and obs.num_faces == 0
    assert guidance_for(obs) == "no_face"


def test_two_faces_clip(clips, videos_dir):
    clip = clips.get(videos_dir / "intel_headpose_female_and_male.mp4")
    assert clip.analysis.max_faces == 2
    two = [r for r in clip.records if r.num_faces == 2]
    assert len(two) >= 0.8 * len(clip.records)
    for r in two:
        obs = FrameObservation(Frame(np.zeros((1, 1, 3), np.uint8), r.t, r.index), r.face, r.num_faces)
        assert guidance_for(obs) == "multiple_faces"
        assert len(r.face.other_boxes) == 1
        assert r.face.quality.num_faces == 2
        # The other face is the other person, not a second box on the tracked face.
        l, t, rr, b = r.face.other_boxes[0]
        fl, ft, fr, fb = r.face.box
        assert rr <= fl or l >= fr
