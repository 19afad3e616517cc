"""Shared fixtures for the engine tests: where the real face data lives, and caches.

Data setting: env KIOSK_TEST_DATA (default: the `shared/data` folder beside the project
checkout). The data is read in place and never copied into the project; tests write
derived files (clips, crops, PNG frames) only under pytest's tmp paths.

Expensive work is done at most once per test run:
- `photo_encoder` loads FaceMesh + dlib once; `embeddings` encodes each photo at most once
  (failures such as "two faces in this photo" are cached too);
- `clips` runs FaceMesh over each video at most once (through the real `analyze_source`)
  and keeps the per-frame observations (landmarks, no pixels). Sessions can then be
  replayed from the recorded observations on the real decoded frames: FaceMesh in
  tracking mode is deterministic, so a replay gives exactly what a fresh observer gives.
"""
from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

DATA_ENV = "KIOSK_TEST_DATA"


def data_root() -> Path:
    env = os.environ.get(DATA_ENV)
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def faces_root() -> Path:
    return data_root() / "faces"


def _read_csv(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def video_labels() -> list[dict]:
    """Rows of videos/labels.csv, or [] when the data is absent (used at collection time)."""
    return _read_csv(faces_root() / "videos" / "labels.csv")


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# ------------------------------------------------------------------ data location
@pytest.fixture(scope="session")
def faces_dir() -> Path:
    d = faces_root()
    if not d.is_dir():
        msg = (f"face test data not found at {d}; set {DATA_ENV} to the folder that contains "
               f"'faces/' (default: <checkout>/../shared/data)")
        if os.environ.get("CI") == "true":
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    return d


@pytest.fixture(scope="session")
def videos_dir(faces_dir) -> Path:
    return faces_dir / "videos"


@pytest.fixture(scope="session")
def images_dir(faces_dir) -> Path:
    return faces_dir / "images"


@pytest.fixture(scope="session")
def labels(faces_dir) -> dict[str, dict]:
    return {r["file"]: r for r in _read_csv(faces_dir / "videos" / "labels.csv")}


@pytest.fixture(scope="session")
def groups(images_dir) -> dict:
    return json.loads((images_dir / "groups.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def derived_dir(tmp_path_factory) -> Path:
    """Session-wide scratch folder for derived clips and frames (under pytest's tmp)."""
    return tmp_path_factory.mktemp("derived")


# ------------------------------------------------------------------ isolation from the real home
@pytest.fixture(autouse=True)
def _hub_key_outside_real_home(monkeypatch, tmp_path_factory):
    """The county hub keeps hub.key under $XDG_CONFIG_HOME by default (outside its data folder):
    every test gets its own config folder, so no test writes a key into the real home (and
    subprocesses inherit it)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
    monkeypatch.delenv("KIOSK_HUB_KEY", raising=False)
    monkeypatch.delenv("CONFIGURATION_DIRECTORY", raising=False)


# ------------------------------------------------------------------ models and caches
@pytest.fixture(scope="session")
def photo_encoder():
    from kiosk.faces import PhotoEncoder

    enc = PhotoEncoder()
    yield enc
    enc.close()


class EmbeddingCache:
    """Photo path -> dlib embedding (or the PhotoError it raised), each computed once."""

    def __init__(self, encoder):
        self.encoder = encoder
        self._vecs: dict[Path, np.ndarray] = {}
        self._errors: dict[Path, Exception] = {}

    def get(self, path) -> np.ndarray:
        p = Path(path).resolve()
        if p in self._errors:
            raise self._errors[p]
        if p not in self._vecs:
            from kiosk.faces import PhotoError

            try:
                self._vecs[p] = self.encoder.encode_file(p)
            except PhotoError as e:
                self._errors[p] = e
                raise
        return self._vecs[p]

    def try_get(self, path) -> np.ndarray | None:
        from kiosk.faces import PhotoError

        try:
            return self.get(path)
        except PhotoError:
            return None

    def error_code(self, path) -> str | None:
        self.try_get(path)
        e = self._errors.get(Path(path).resolve())
        return getattr(e, "code", None)


@pytest.fixture(scope="session")
def embeddings(photo_encoder) -> EmbeddingCache:
    return EmbeddingCache(photo_encoder)


@dataclass(frozen=True)
class Recorded:
    t: float
    index: int
    face: object  # FaceObservation | None
    num_faces: int


class RecordingObserver:
    """Wraps a real FaceObserver and keeps what it saw (no pixels)."""

    def __init__(self, observer):
        self.observer = observer
        self.records: list[Recorded] = []

    def observe(self, frame):
        obs = self.observer.observe(frame)
        self.records.append(Recorded(frame.t, frame.index, obs.face, obs.num_faces))
        return obs

    def close(self) -> None:
        self.observer.close()


class ReplayObserver:
    """Answers `observe(frame)` from a recorded pass over the same clip."""

    def __init__(self, records: list[Recorded]):
        self.records = records

    def observe(self, frame):
        from kiosk.observe import FrameObservation

        r = self.records[frame.index]
        assert r.index == frame.index and abs(r.t - frame.t) < 1e-6, "replay out of step with the clip"
        return FrameObservation(frame, r.face, r.num_faces)

    def close(self) -> None:
        pass


@dataclass
class ObservedClip:
    path: Path
    records: list[Recorded]
    analysis: object  # kiosk.analyze.ClipAnalysis

    @property
    def faces(self):
        return [r.face for r in self.records if r.face is not None]

    def actions(self) -> list[str]:
        return [e["action"] for e in self.analysis.events]

    def replay(self) -> ReplayObserver:
        return ReplayObserver(self.records)


class ClipCache:
    """Video path -> one real FaceMesh pass (via kiosk.analyze.analyze_source), kept for the run."""

    def __init__(self):
        self._clips: dict[Path, ObservedClip] = {}

    def get(self, path) -> ObservedClip:
        p = Path(path).resolve()
        if p not in self._clips:
            from kiosk.analyze import analyze_source
            from kiosk.frames import VideoFileSource
            from kiosk.observe import FaceObserver

            rec = RecordingObserver(FaceObserver())
            try:
                analysis = analyze_source(VideoFileSource(p), rec)
            finally:
                rec.close()
            self._clips[p] = ObservedClip(p, rec.records, analysis)
        return self._clips[p]


@pytest.fixture(scope="session")
def clips() -> ClipCache:
    return ClipCache()


# ------------------------------------------------------------------ derived files
@pytest.fixture(scope="session")
def clip_frame_png(derived_dir) -> Callable[[Path, int], Path]:
    """(video, frame index) -> that frame written as PNG under the session tmp folder."""
    import spoofs

    made: dict[tuple[Path, int], Path] = {}

    def make(video: Path, index: int) -> Path:
        key = (Path(video).resolve(), index)
        if key not in made:
            rgb = spoofs.read_frames(video, [index])[index]
            made[key] = spoofs.write_png(derived_dir / f"{Path(video).stem}_f{index}.png", rgb)
        return made[key]

    return make


@pytest.fixture(scope="session")
def slideshow_frames(videos_dir, clips) -> dict:
    """An eyes-open and an eyes-closed real frame of blinkdetector_man.mp4, found with the
    engine's own eye signal (kiosk.liveness.signals.eye_signal)."""
    import spoofs
    from kiosk.liveness.signals import eye_signal

    video = videos_dir / "blinkdetector_man.mp4"
    clip = clips.get(video)
    sig = [(eye_signal(r.face), r.index) for r in clip.records if r.face is not None]
    values = np.array([s for s, _ in sig])
    open_level = float(np.percentile(values, 80))
    open_idx = min(sig, key=lambda x: abs(x[0] - open_level))[1]
    closed_sig, closed_idx = min(sig)
    frames = spoofs.read_frames(video, [open_idx, closed_idx])
    return {"open": frames[open_idx], "closed": frames[closed_idx], "open_index": open_idx,
            "closed_index": closed_idx, "open_signal": open_level, "closed_signal": closed_sig,
            "median_signal": float(np.median(values))}


ATTACK_PHOTOS = {
    # name: (photo presented to the camera, template photo of the same person enrolled at the office)
    "jackie": ("images/Jackie_Chan/1.jpg", "images/Jackie_Chan/2.jpg"),
    "print": ("spoof/print/celebaspoof_c01_1.jpg", "images/celebaspoof_c01/1.jpg"),
}
ATTACK_KINDS = ("still", "slide", "turn")


@pytest.fixture(scope="session")
def attack_clip(faces_dir, derived_dir, slideshow_frames, clip_frame_png):
    """name -> (clip path, template path). Names: '<kind>-<photo>' for kind in ATTACK_KINDS and
    photo in ATTACK_PHOTOS, and 'slideshow' (template: a real frame of blinkdetector_man)."""
    import spoofs
    from kiosk.frames import read_image

    made: dict[str, tuple[Path, Path]] = {}

    def make(name: str) -> tuple[Path, Path]:
        if name in made:
            return made[name]
        out = derived_dir / f"attack_{name}.mp4"
        if name == "slideshow":
            spoofs.slideshow_clip(out, slideshow_frames["open"], slideshow_frames["closed"])
            template = clip_frame_png(faces_dir / "videos" / "blinkdetector_man.mp4", 5)
        else:
            kind, photo = name.split("-")
            src, template_rel = ATTACK_PHOTOS[photo]
            builder = {"still": spoofs.still_clip, "slide": spoofs.slide_clip, "turn": spoofs.turn_clip}[kind]
            builder(out, read_image(faces_dir / src))
            template = faces_dir / template_rel
        made[name] = (out, template)
        return made[name]

    return make


@pytest.fixture(scope="session")
def certify(photo_encoder, embeddings, clips):
    """Run a real CertificationSession through kiosk.session.run_session on a clip.

    replay=True feeds the recorded FaceMesh observations of the clip (see ClipCache);
    replay=False runs a fresh FaceObserver. `template` is a photo path, a folder, or a list
    of embeddings."""
    from kiosk.frames import VideoFileSource
    from kiosk.observe import FaceObserver
    from kiosk.session import CertificationSession, run_session

    def run(video, template, actions, replay: bool = True, **kw):
        if isinstance(template, (str, Path)):
            p = Path(template)
            vecs = photo_encoder.encode_template(p) if p.is_dir() else [embeddings.get(p)]
        else:
            vecs = list(template)
        session = CertificationSession(vecs, photo_encoder.encoder, actions=list(actions), **kw)
        observer = clips.get(video).replay() if replay else FaceObserver()
        try:
            return run_session(session, VideoFileSource(video), observer)
        finally:
            observer.close()

    return run


# ------------------------------------------------------------------ markers
# `data`: needs the face data (../shared/data); `slow`: loads FaceMesh/dlib or otherwise takes
# more than ~5 s. Tests that use the face-data or engine fixtures are marked from their fixture
# closure, so a new test cannot forget it; modules that are slow for other reasons (Qt, real
# hub processes) say so in their own `pytestmark`. The fast lane: `pytest -m "not slow and not data"`.
DATA_FIXTURES = frozenset({"faces_dir", "videos_dir", "images_dir", "labels", "groups", "slideshow_frames",
                           "attack_clip", "clip_frame_png"})
SLOW_FIXTURES = frozenset({"photo_encoder", "embeddings", "clips", "certify", "slideshow_frames", "attack_clip",
                           "qtbot", "qapp"})


def pytest_collection_modifyitems(config, items):
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & DATA_FIXTURES:
            item.add_marker(pytest.mark.data)
        if names & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)
