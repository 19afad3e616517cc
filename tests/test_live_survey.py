"""Liveness survey: labelled live clips and photo attacks through the real CertificationSession.

Sessions replay the recorded FaceMesh observations (conftest.ClipCache) and use an encoder that
always matches the template, so the verdict is the liveness verdict alone: a live clip failing
here is a false reject of liveness, an attack passing here would pass with a good enough
template. (test_session.py runs the same kind of sessions with the real dlib encoder.)

Each live case asks for actions the clip performs, in the order it performs them
(videos/labels.csv). Cases that were false rejects before the fixes in blink.py (in-between
frames judged against the eyes' own open level), mouth.py (an opening already under way when
the step began is not judged) and challenge.py (a doubtful natural-motion window is watched
longer) are marked with the verdict they had before.
"""
from __future__ import annotations

import numpy as np
import pytest

from conftest import ATTACK_KINDS, ATTACK_PHOTOS
from kiosk.liveness import LivenessThresholds

TH = LivenessThresholds()
VEC = np.full(128, 0.05)


class SameEncoder:
    """Every frame encodes to the template: only liveness can fail the session."""

    def encode(self, rgb, face):
        return VEC


class RecordedFrames:
    """The clip's frames as the recording saw them (time and index, no pixels: nothing is encoded)."""

    def __init__(self, records):
        self.records = records

    def __iter__(self):
        from kiosk.frames import Frame

        blank = np.zeros((1, 1, 3), np.uint8)
        return (Frame(blank, r.t, r.index) for r in self.records)

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def certify_liveness(clips):
    from kiosk.session import CertificationSession, run_session

    def run(video, actions):
        clip = clips.get(video)
        session = CertificationSession([VEC], SameEncoder(), actions=list(actions))
        return run_session(session, RecordedFrames(clip.records), clip.replay())

    return run


LIVE_PASS = [
    # (clip, actions, was a false reject before)
    ("blinkdetector_man.mp4", ["blink"], "still_image"),  # very still selfie: drift 0.0079 in 2.5 s
    ("liveportrait_d6.mp4", ["blink"], "slideshow"),  # fast blinks of wide-open eyes at 30 fps
    ("liveportrait_d6.mp4", ["open_mouth", "blink"], None),
    ("liveportrait_d6.mp4", ["blink", "open_mouth"], "slideshow"),  # mouth step began mid-opening
    ("mead_M030_angry_016.mp4", ["open_mouth", "blink"], "slideshow"),  # fast squint seen as a blink
    ("liveportrait_d9.mp4", ["blink", "turn_left"], None),
    ("liveportrait_d0.mp4", ["blink"], None),
    ("sadtalker_aoc.mp4", ["blink"], None),
    ("aniportrait_pose_ref.mp4", ["blink"], None),
    ("videoretalking_1.mp4", ["blink"], None),
    ("zubair_real_headturn.mp4", ["blink", "turn_right"], None),
    ("liveportrait_d3.mp4", ["blink", "open_mouth"], None),
    ("liveportrait_d3.mp4", ["blink", "nod"], None),
    ("liveportrait_d18.mp4", ["open_mouth"], None),
    ("liveportrait_d20.mp4", ["open_mouth"], None),
    ("mead_M030_angry_016.mp4", ["open_mouth"], None),
    ("mead_M003_disgusted_015.mp4", ["open_mouth"], None),
    ("mead_W036_happy_007.mp4", ["open_mouth"], None),
    ("newsanchor_real.mp4", ["blink"], None),
]


@pytest.mark.parametrize("clip,actions,before", LIVE_PASS, ids=[f"{c[0]}-{','.join(c[1])}" for c in LIVE_PASS])
def test_live_clip_passes_liveness(certify_liveness, videos_dir, clip, actions, before, capsys):
    v = certify_liveness(videos_dir / clip, actions)
    with capsys.disabled():
        print(f"\n[survey] {clip} {','.join(actions)}: {v.verdict}/{v.reason} natural_motion="
              f"{v.liveness.get('natural_motion')} jumps={v.liveness.get('jumps')} (before: {before or 'pass'})")
    assert (v.verdict, v.reason) == ("pass", "ok"), (v.reason, v.steps, v.liveness)
    assert v.liveness["natural_motion"] >= TH.natural_motion_min


def test_one_frame_blink_is_still_refused(certify_liveness, videos_dir):
    """liveportrait_d6's first blink has a single closed frame and nothing in between (1.19 -> 0.26 ->
    1.05): still refused as a jump; the next, real fast blink (in-between frame 0.82) passes."""
    v = certify_liveness(videos_dir / "liveportrait_d6.mp4", ["blink"])
    assert v.verdict == "pass" and v.liveness["jumps"] == 1, v.liveness
    assert 6.5 < v.steps[0]["at_s"] < 7.5, v.steps


def test_still_face_is_watched_longer_not_forever(certify_liveness, videos_dir):
    """blinkdetector_man blinks at 1.9 s; his drift stays under the floor for the first ~5 s and the
    session keeps watching (never longer than natural_motion_max_s) instead of failing at 2.5 s."""
    v = certify_liveness(videos_dir / "blinkdetector_man.mp4", ["blink"])
    assert (v.verdict, v.reason) == ("pass", "ok"), (v.reason, v.liveness)
    assert v.steps[0]["at_s"] < 2.5


# ------------------------------------------------------------------ attacks never pass liveness
SURVEY_ACTIONS = (["blink"], ["open_mouth"], ["blink", "turn_left"], ["blink", "turn_right"],
                  ["open_mouth", "turn_left"], ["blink", "nod"])


@pytest.mark.parametrize("name", [f"{k}-{p}" for k in ATTACK_KINDS for p in ATTACK_PHOTOS] + ["slideshow"])
def test_attacks_fail_liveness_even_with_a_perfect_match(certify_liveness, attack_clip, name, capsys):
    clip, _ = attack_clip(name)
    reasons = []
    for actions in SURVEY_ACTIONS:
        v = certify_liveness(clip, actions)
        reasons.append(f"{','.join(actions)}->{v.reason}")
        assert v.verdict == "fail", (name, actions, v.reason, v.steps)
        passed = {s["action"] for s in v.steps if s["passed"]}
        # A photo never blinks or turns; two stills flipped never pass a blink.
        assert not passed & {"blink", "turn_left", "turn_right", "nod"}, (name, actions, passed)
        if name == "slideshow" and actions[0] == "blink":
            assert v.reason == "slideshow", (actions, v.reason, v.liveness)
    with capsys.disabled():
        print(f"\n[survey attack] {name}: {'; '.join(reasons)}")


@pytest.mark.parametrize("kind,photo", [("slide", "print/celebaspoof_c09_121.jpg"), ("turn", "print/celebaspoof_c19_238.jpg")])
def test_photos_that_fool_open_mouth_fail_two_action_challenges(certify_liveness, faces_dir, derived_dir, kind,
                                                                photo, capsys):
    """Known hole (docs/liveness-and-attacks.md): FaceMesh's lip gap / mouth width of these printed photos swings when the photo
    is slid or turned, so a single open_mouth step can pass. Every two-action challenge (the default)
    still fails: the photo never blinks, turns or nods."""
    import spoofs
    from kiosk.frames import read_image

    clip = derived_dir / f"survey_{kind}_{photo.replace('/', '_')}.mp4"
    if not clip.exists():
        {"slide": spoofs.slide_clip, "turn": spoofs.turn_clip}[kind](clip, read_image(faces_dir / "spoof" / photo))
    single = certify_liveness(clip, ["open_mouth"])
    with capsys.disabled():
        print(f"\n[survey attack] {kind} {photo}: open_mouth alone -> {single.verdict}/{single.reason}")
    for actions in (["open_mouth", "blink"], ["open_mouth", "turn_left"], ["open_mouth", "turn_right"],
                    ["open_mouth", "nod"], ["blink", "open_mouth"], ["turn_left", "open_mouth"]):
        v = certify_liveness(clip, actions)
        assert v.verdict == "fail", (actions, v.reason, v.steps)
        assert not {s["action"] for s in v.steps if s["passed"]} & {"blink", "turn_left", "turn_right", "nod"}


# ------------------------------------------------------------------ with PAD on (kiosk.pad, the shipped settings)
# The same sessions on the clips' real pixels: frames from the video file, FaceMesh replayed, PAD
# scoring every sampled challenge frame inline (as `kiosk certify` on a file does).
@pytest.fixture(scope="module")
def certify_pad(clips):
    from kiosk.config import Settings
    from kiosk.frames import VideoFileSource
    from kiosk.pad.options import session_pad_options
    from kiosk.session import CertificationSession, run_session

    def run(video, actions, pad: bool = True):
        clip = clips.get(video)
        opts = session_pad_options(Settings(pad_enabled=pad, flash_challenge="off"), realtime=False)
        session = CertificationSession([VEC], SameEncoder(), actions=list(actions), **opts)
        return run_session(session, VideoFileSource(video), clip.replay())

    return run


@pytest.mark.parametrize("clip,actions,before", LIVE_PASS, ids=[f"{c[0]}-{','.join(c[1])}" for c in LIVE_PASS])
def test_live_clip_still_passes_with_pad_on(certify_pad, videos_dir, clip, actions, before, capsys):
    v = certify_pad(videos_dir / clip, actions)
    pad = v.liveness.get("pad", {})
    with capsys.disabled():
        print(f"\n[survey pad] {clip} {','.join(actions)}: {v.verdict}/{v.reason} live_score={pad.get('live_score')} "
              f"frames={pad.get('frames_scored')}")
    assert (v.verdict, v.reason) == ("pass", "ok"), (v.reason, pad)
    assert pad["attack"] is False


PAD_ACTIONS = (["blink"], ["open_mouth"], ["blink", "nod"], ["blink", "turn_left"])
REPLAYS_AND_PRINTS = ["spoof/videos/zubair_replay_phone.mp4", "spoof/videos/manikantha_replay_phone.mp4",
                      "spoof/pad_videos/zalo_s1_screen_replay.mp4"] + [
    f"spoof/pad_videos/nuaa_s000{i}_print.mp4" for i in range(1, 8)]


@pytest.mark.parametrize("name", REPLAYS_AND_PRINTS)
def test_screen_replays_and_printed_photo_videos_are_refused(certify_pad, faces_dir, name, capsys):
    """Every screen replay and printed-photo video fails with a perfect match; where the actions
    passed before PAD (a replayed real face blinks), the reason is now presentation_attack."""
    video = faces_dir / name
    out = []
    for actions in PAD_ACTIONS:
        before = certify_pad(video, actions, pad=False)
        v = certify_pad(video, actions)
        out.append(f"{','.join(actions)}: {before.verdict}/{before.reason} -> {v.verdict}/{v.reason}")
        assert v.verdict == "fail", (name, actions, v.liveness.get("pad"))
        if before.verdict == "pass":
            assert v.reason == "presentation_attack" and v.match is None, (name, actions, v.reason)
        else:
            assert v.reason == before.reason  # a liveness failure stays one (PAD evidence recorded)
        assert v.liveness["pad"]["attack"] or v.liveness["pad"]["frames_scored"] == 0, v.liveness["pad"]
    with capsys.disabled():
        print(f"\n[survey pad attack] {name}: " + "; ".join(out))
