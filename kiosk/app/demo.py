"""Demo mode: a throw-away database with a handful of demo residents (no Qt here).

The demo resident 王秀英 is enrolled from the virtual camera's resting face exactly as
`kiosk demo` does it (one FaceMesh pass in static mode on the first frame, one dlib
encoding), so the animated astronaut portrait (public domain, NASA) certifies as her
through the real engine. Only she has that face: every other resident lacks a template
or does not need to certify, so no two residents share a face.

All ID numbers are generated (valid GB 11643 check digits, birth dates in the past,
region 130630 = 涞源县); the names are common ones, not real people.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from kiosk.policy import Category
from kiosk.core.clock import default_clock
from kiosk.core.ids import check_digit
from kiosk.texts import text


def make_id(region: str, birth: date, seq: str) -> str:
    first = f"{region}{birth:%Y%m%d}{seq}"
    return first + check_digit(first)


@dataclass(frozen=True)
class DemoResident:
    id_number: str
    name: str
    note: str  # what this resident shows in the demo (shown on the demo home screen)
    categories: tuple[Category, ...]
    face: bool = False  # enrolled from the virtual camera's face


def demo_residents(today: date | None = None, clock=None) -> list[DemoResident]:
    today = today or (clock or default_clock()).today()
    r = "130630"
    wang = "王秀英"  # the demo residents' names are data (the roster's names), their notes are words
    return [
        DemoResident(make_id(r, date(1948, 3, 15), "022"), wang, text("ui_demo_note_face"),
                     (Category.PENSION,), face=True),
        DemoResident(make_id(r, date(1951, 8, 2), "013"), "刘玉珍", text("ui_demo_note_no_template"),
                     (Category.PENSION, Category.PENSION_SURVIVOR)),
        DemoResident(make_id(r, date(1972, 6, 9), "031"), "李建国", text("ui_demo_note_data_comparison", name=wang),
                     (Category.WORK_INJURY,)),
        DemoResident(make_id(r, date(1944, 11, 20), "017"), "赵德福", text("ui_demo_note_certified"),
                     (Category.PENSION,)),
    ]


# Demo staff accounts (name, PIN, role): shown on the demo's staff login screen, never in a real kiosk.
DEMO_OPERATORS = ((text("ui_demo_operator_admin"), "246813", "admin"),
                  (text("ui_demo_operator_assistant"), "975312", "assistant"),
                  (text("ui_demo_operator_reviewer"), "864209", "reviewer"))


@dataclass
class DemoSetup:
    home: Path
    db_path: Path
    key_path: Path
    residents: list[DemoResident]

    @property
    def face_resident(self) -> DemoResident:
        return next(r for r in self.residents if r.face)

    @property
    def helper_resident(self) -> DemoResident:
        return self.residents[2]


def enrol_virtual_face(encoder=None):
    """The template `kiosk demo` computes: the virtual camera's first frame, at rest."""
    from kiosk.demo.virtual_camera import VirtualCamera
    from kiosk.observe import FaceObserver

    if encoder is None:
        from kiosk.matching.encoder import DlibEncoder

        encoder = DlibEncoder()
    cam = VirtualCamera(realtime=False, seed=0)
    try:
        first = next(iter(cam))
    finally:
        cam.close()
    with FaceObserver(static=True) as still:
        obs = still.observe(first)
    if obs.face is None:
        raise RuntimeError("the demo face was not found in the virtual camera frame")
    return encoder.encode(first.rgb, obs.face)


def enrol_from_video(path: str | Path, encoder=None, max_frames: int = 60):
    """`kiosk --demo --video FILE`: the demo resident is enrolled from the clip's own face
    (the sharpest of its first frames with exactly one face), so the clip can certify as her."""
    from kiosk.frames import VideoFileSource
    from kiosk.observe import FaceObserver

    if encoder is None:
        from kiosk.matching.encoder import DlibEncoder

        encoder = DlibEncoder()
    best = None
    source = VideoFileSource(path)
    try:
        with FaceObserver(static=True) as still:
            for i, frame in enumerate(source):
                if i >= max_frames:
                    break
                if i % 5:
                    continue
                obs = still.observe(frame)
                if obs.face is None or obs.num_faces > 1:
                    continue
                score = obs.face.quality.sharpness - 2 * abs(obs.face.yaw)
                if best is None or score > best[0]:
                    best = (score, frame.rgb, obs.face)
    finally:
        source.close()
    if best is None:
        raise RuntimeError(f"no single face in the first {max_frames} frames of {path}")
    return encoder.encode(best[1], best[2])


def create_demo(home: Path | None = None, encoder=None, today: date | None = None,
                video: str | Path | None = None, clock=None) -> DemoSetup:
    """Make (or refresh) the demo database under `home` (default: a new temporary folder).
    With `video`, the demo resident's face is the clip's, not the virtual camera's."""
    from kiosk.matching.encoder import BACKEND_NAME
    from kiosk.store import Store

    home = Path(home) if home else Path(tempfile.mkdtemp(prefix="kiosk-demo-"))
    home.mkdir(parents=True, exist_ok=True)
    clock = clock or default_clock()
    today = today or clock.today()
    residents = demo_residents(today)
    if video:
        from dataclasses import replace

        residents[0] = replace(residents[0], note=text("ui_demo_note_video", name=Path(video).name))
    setup = DemoSetup(home, home / "kiosk.db", home / "template.key", residents)
    wang, liu, li, zhao = residents
    village = text("ui_demo_village")
    with Store.open(setup.db_path, setup.key_path, clock=clock) as store:
        with store.transaction():
            store.upsert_resident(wang.id_number, wang.name, village=village, categories=wang.categories,
                                  benefit_start=date(2008, 4, 1), county_status="suspended")
            store.upsert_resident(liu.id_number, liu.name, village=village, categories=liu.categories,
                                  benefit_start=date(2011, 9, 1), data_comparison_on=today - timedelta(days=300))
            store.upsert_resident(li.id_number, li.name, village=village, categories=li.categories,
                                  benefit_start=date(2019, 7, 1), data_comparison_on=today - timedelta(days=20))
            store.upsert_resident(zhao.id_number, zhao.name, village=village, categories=zhao.categories,
                                  benefit_start=date(2004, 12, 1))
        if not store.templates_for(wang.id_number, BACKEND_NAME):
            vec = enrol_from_video(video, encoder) if video else enrol_virtual_face(encoder)
            store.add_template(wang.id_number, vec, BACKEND_NAME, source="local")
        from kiosk import operators

        if operators.count(store) == 0:  # staff mode in the demo: one account per role (PINs on the login screen)
            admin = operators.add_operator(store, DEMO_OPERATORS[0][0], "admin", DEMO_OPERATORS[0][1])
            for name, pin, role in DEMO_OPERATORS[1:]:
                operators.add_operator(store, name, role, pin, by=admin)
        if store.last_certified(zhao.id_number) is None:
            # 赵德福 certified on this kiosk early in his current cycle (before today).
            from kiosk.config import Settings
            from kiosk.core.ids import parse_id_number

            start = Settings().cycle().period(parse_id_number(zhao.id_number, today).birth_date, today).start
            day = max(start, min(start + timedelta(days=3), today - timedelta(days=1)))
            when = clock.start_of(day) + timedelta(hours=10)  # 10:00 that day in the service area
            store.record_attempt(resident_id=zhao.id_number, category=Category.PENSION, mode="self",
                                 verdict="pass", started_at=when, finished_at=when + timedelta(seconds=20),
                                 reason="ok", message=text("result_ok"), device_id="demo-kiosk")
    return setup
