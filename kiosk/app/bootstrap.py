"""Start the kiosk app: fonts, store, service, controllers, QML window.

    kiosk                      full screen on the configured camera and $KIOSK_HOME/kiosk.db
    kiosk --demo               windowed, demo database, virtual camera (no camera needed)
    kiosk --demo --video FILE  a recorded clip plays as the camera
    kiosk --demo --autopilot --screenshots DIR   runs the whole flow by itself, one PNG per screen
"""
from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from kiosk.core.paths import assets_dir, ui_dir
from kiosk.texts import text

UI_DIR = ui_dir()
FONT_DIR = assets_dir("fonts")
KEYBOARD_STYLE_FAMILIES = ("Arial",)  # the family Qt Virtual Keyboard's default style asks for

log = logging.getLogger(__name__)


def prepare_environment() -> None:
    """Before the QGuiApplication exists: a software scene graph when there is no display."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # CameraView.paint() is Python; Qt Quick's threaded render loop calls it on the render
    # thread while the GUI thread waits, which can deadlock on the GIL (seen under Xvfb).
    os.environ.setdefault("QSG_RENDER_LOOP", "basic")
    if os.environ.get("QT_QPA_PLATFORM", "").startswith("offscreen"):
        os.environ.setdefault("QT_QUICK_BACKEND", "software")
    # QtMultimedia's pipewire probe is noisy on machines without it.
    os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")


def register_fonts() -> str:
    """Register the bundled CJK subset; returns the family name to use everywhere."""
    from PySide6.QtGui import QFontDatabase

    family = ""
    for f in sorted(FONT_DIR.glob("*.otf")):
        fid = QFontDatabase.addApplicationFont(str(f))
        if fid < 0:
            log.warning("could not load font %s", f)
            continue
        fams = QFontDatabase.applicationFontFamilies(fid)
        family = family or (fams[0] if fams else "")
    family = family or "Noto Sans CJK SC"
    # Qt Virtual Keyboard's built-in style asks for "Arial" (absent on these machines): its key labels
    # and 拼音 candidates are drawn in our CJK font instead of a fallback without Chinese (boxes).
    from PySide6.QtGui import QFont

    for name in KEYBOARD_STYLE_FAMILIES:
        QFont.insertSubstitution(name, family)
    return family


def log_file():
    """The app's log: $KIOSK_HOME/logs/kiosk.log (rotated; the admin corner shows its last lines)."""
    from kiosk.config import home_dir

    return home_dir() / "logs" / "kiosk.log"


def default_export_roots() -> list[Path]:
    """Where USB drives are mounted (udisks: /media/USER/DISK, /run/media/USER/DISK)."""
    from kiosk.config import home_dir

    return [Path("/media"), Path("/run/media"), home_dir() / "exports"]


def setup_logging() -> None:
    """Console, and a rotating file in $KIOSK_HOME/logs (1 MB × 5) that survives a restart."""
    from logging.handlers import RotatingFileHandler

    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    path = log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=5, encoding="utf-8")
    except OSError as e:  # a read-only home: the console still has it
        log.warning("no log file %s: %s", path, e)
        return
    handler.setFormatter(logging.Formatter(fmt))
    logging.getLogger().addHandler(handler)


@dataclass
class Options:
    demo: bool = False
    video: str | None = None
    autopilot: bool = False
    screenshots: str | None = None
    elder: bool = False
    fullscreen: bool = True
    size: tuple[int, int] = (1366, 768)
    actions: list[str] | None = None
    demo_home: str | None = None
    realtime: bool = True  # camera frames at camera speed (tests run the virtual camera flat out)
    settings_overrides: dict = field(default_factory=dict)


def default_source_factory(opts: Options, settings) -> tuple[Callable, bool, bool, str]:
    """(factory, demo actor?, pace clip?, label)."""
    if opts.video:
        from kiosk.frames import VideoFileSource

        path = opts.video
        return (lambda: VideoFileSource(path)), False, opts.realtime, text("ui_source_video", name=Path(path).name)
    if opts.demo:
        from kiosk.demo.virtual_camera import VirtualCamera

        rt = opts.realtime
        return (lambda: VirtualCamera(realtime=rt)), True, False, text("ui_source_virtual")
    from kiosk.frames import CameraSource

    s = settings
    return (lambda: CameraSource(s.camera_index, s.camera_width, s.camera_height)), False, False, ""


class KioskApp:
    """Everything the window needs, built on the UI thread. Tests build one per test."""

    def __init__(self, opts: Options, *, store=None, settings=None, encoder=None, source_factory=None,
                 actor: bool | None = None, pace: bool | None = None, observer_factory=None, voice=None,
                 sync_status=None, demo_residents=None, clock=None, kiosk_state=None, current_operator=None,
                 selftest=None, sync_now=None, export_roots=None, settings_path=None, log_path=None):
        """kiosk_state: () -> {"paused", "reason", ...} (kiosk.app.admin.KioskState; None: always serving);
        current_operator: () -> the logged-in kiosk.operators.Operator or None (the staff login);
        selftest: () -> a kiosk.selftest report; sync_now: ask the background sync for a pass now."""
        from PySide6.QtGui import QFont, QGuiApplication
        from PySide6.QtQml import QQmlApplicationEngine

        from kiosk.app import preview, qml  # noqa: F401 (preview registers CameraView in the module)
        from kiosk.app.admin import AdminController, KioskState
        from kiosk.app.check import CheckController
        from kiosk.app.controllers import AppController, FlowController
        from kiosk.app.entry import IdentityEntry
        from kiosk.app.records import RecordsController
        from kiosk.app.voice import VoicePlayer
        from kiosk.config import Settings
        from kiosk.service import CertificationService

        self.opts = opts
        self.family = register_fonts()
        qapp = QGuiApplication.instance()
        qapp.setFont(QFont(self.family, 16))
        self.settings = settings or Settings.load()
        if opts.settings_overrides:
            self.settings = replace(self.settings, **opts.settings_overrides)
        self._demo_dir = None
        self.clock = clock or self.settings.clock()  # the service area's day, whatever the machine's zone
        if encoder is None:
            encoder = self._make_encoder()  # loaded now, not at the first certification
        if store is None:
            store, demo_residents = self._open_store(encoder)
        self.store = store
        self.service = CertificationService(store, self.settings, encoder, clock=self.clock)
        factory, d_actor, d_pace, label = default_source_factory(opts, self.settings)
        self.voice = voice or VoicePlayer(volume=getattr(self.settings, "volume", 0.8))
        self.camera_factory = source_factory or factory
        self.check = CheckController(source_factory or factory, actor=d_actor if actor is None else actor,
                                     pace=d_pace if pace is None else pace, observer_factory=observer_factory)
        from kiosk.app import keyboard

        self.app = AppController(self.settings, self.voice, demo_residents=demo_residents if opts.demo else None,
                                 demo_source=label if opts.demo else "", font_family=self.family,
                                 keyboard=keyboard.enabled(self.settings, opts))
        # The on-screen keyboard's place (ui/Main.qml follows Keyboard.inset / Keyboard.pan)
        self.keyboard = keyboard.KeyboardController(self.app.property("keyboard"))
        if opts.elder:
            self.app.setElder(True)
        self.entry = IdentityEntry(self.clock.today)
        self.records = RecordsController(self.service)
        self.flow = FlowController(self.service, self.check, self.app, self.entry, self.records,
                                   actions=opts.actions, sync_status=sync_status, clock=self.clock)
        qapp.installEventFilter(self.app)
        # Staff mode (kiosk.app.staff): the session, enrolment and review; other areas connect to areaRequested.
        from kiosk.app.coordinator import CoordinatorController
        from kiosk.app.enrol import EnrolController, ReviewController
        from kiosk.app.staff import StaffController

        self.staff = StaffController(self.store, self.flow, self.app, self.settings)
        qapp.installEventFilter(self.staff)
        self.enrol = EnrolController(self.service, self.check, self.flow, self.app, self.settings,
                                     self.staff.current_operator)
        self.review = ReviewController(self.store, self.flow, self.enrol, self.staff.current_operator)
        self.staff.areaRequested.connect(self.enrol.openArea)
        self.staff.areaRequested.connect(self.review.openArea)
        # Due lists and figures (staff areas "due", "stats"): names and contacts only for the logged-in operator.
        self.coordinator = CoordinatorController(self.store, self.settings, self.clock, self.flow,
                                                 current_operator=self.staff.current_operator)
        self.staff.areaRequested.connect(self.coordinator.openArea)
        self.app.idleReset.connect(self.coordinator.forget)

        # 上门认证 and 不刷脸认证 (staff areas "visits", "fallback"): the logged-in operator is the staff
        # session's (`current_operator` replaces it in tests that log nobody in through the PIN pad).
        from kiosk.app.fallback import FallbackController
        from kiosk.app.visits import VisitsController

        staff_operator = current_operator or self.staff.current_operator
        self.fallback = FallbackController(self.service, self.flow, self.entry, staff_operator)
        self.visits = VisitsController(self.service, self.flow, staff_operator, fallback=self.fallback,
                                       default_village=getattr(self.settings, "village", ""))
        self.staff.areaRequested.connect(self.visits.openArea)  # "visits", "fallback"
        self.fallback.login_for = self.staff.open_for  # 工作人员登录 on the form: back to it after the PIN

        # The unattended kiosk (issue 14): 本机暂停服务 and the admin corner (kiosk.app.admin).
        from kiosk.config import home_dir

        self.kiosk_state = KioskState(kiosk_state)
        self.flow.paused = self.kiosk_state.paused
        self.admin = AdminController(
            self.flow, self.app, self.kiosk_state, current_operator=staff_operator,
            settings_path=settings_path or home_dir() / "kiosk.toml", store=self.store, selftest=selftest,
            sync_now=sync_now, log_path=log_path if log_path is not None else log_file(),
            export_roots=export_roots if export_roots is not None else default_export_roots(),
            quit=qapp.exit)
        self.staff.areaRequested.connect(self.admin.openArea)  # "admin", "selftest"
        self.admin.menu = self.staff.showMenu

        # The QML module Kiosk (ui/qmldir): these instances are its singletons for this window.
        qml.provide(App=self.app, KioskFlow=self.flow, IdEntry=self.entry, Records=self.records,
                    FaceCheck=self.check, Staff=self.staff, Enrol=self.enrol, Review=self.review,
                    Visits=self.visits, Fallback=self.fallback, KioskState=self.kiosk_state, Admin=self.admin,
                    Coordinator=self.coordinator, Keyboard=self.keyboard)
        from kiosk.app.receipt import ReceiptController

        # 认证回执: the result screen's record, and a fallback's once submitted (已提交)
        self.receipt = ReceiptController(self.store, self.settings, self.clock, self.flow)
        self.receipt.watch(self.fallback.changed, lambda: str((self.fallback.submitted or {}).get("uuid") or ""))
        qml.provide(Receipt=self.receipt)

        self.engine = QQmlApplicationEngine()
        self.engine.load(str(UI_DIR / "Main.qml"))
        roots = self.engine.rootObjects()
        if not roots:
            raise RuntimeError("ui/Main.qml failed to load (see the QML errors above)")
        self.window = roots[0]
        w, h = opts.size
        self.window.resize(w, h)
        self.keyboard.attach(self.window)
        self.app.touch()

    def enable_selftest(self) -> None:
        """The real kiosk: 本机暂停服务 from the self-test (at start, every `selftest_interval_s` and at 自检
        in the admin corner, always in a worker thread, the home screen following when it is done) and
        the maintenance window (kiosk.selftest, kiosk.maintenance)."""
        from kiosk.app.admin import SelfTestState
        from kiosk.maintenance import schedule_in_force, status
        from kiosk.selftest import run_selftest

        demo_camera = self.camera_factory if self.opts.demo or self.opts.video else None

        def run(camera=None):
            return run_selftest(self.settings, self.store, self.clock, camera=camera,
                                open_camera=demo_camera if camera is not False else None)

        def run_in_worker(camera=None):
            """On the worker thread: its own connection to the same database (as `kiosk selftest`)."""
            from kiosk.store import Store

            db, key = self.store.path, self.store.key_path
            try:
                store = Store.open(db, key if key is not None else db.with_suffix(".key"), clock=self.clock,
                                   require_key=False)
            except Exception as e:  # noqa: BLE001 - the database check says what is wrong
                return run_selftest(self.settings, None, self.clock, camera=camera, store_error=e, db_path=db,
                                    open_camera=demo_camera if camera is not False else None,
                                    on_check=source.report_check)
            try:
                return run_selftest(self.settings, store, self.clock, camera=camera,
                                    open_camera=demo_camera if camera is not False else None,
                                    on_check=source.report_check)
            finally:
                store.close()

        def maintenance() -> dict:
            return status(self.clock.now(), schedule_in_force(self.store, self.settings))

        source = SelfTestState(run, maintenance, interval_s=float(getattr(self.settings, "selftest_interval_s", 3600)),
                               busy=lambda: bool(self.check.running), worker_run=run_in_worker)
        self.selftest_source = source
        camera = self.check.source_factory

        def camera_after_selftest():
            """The face check's camera, opened on its worker thread once a self-test reading the
            camera has let it go (the self-test itself leaves the camera alone while a check runs)."""
            source.join(timeout=15.0)
            return camera()

        self.check.source_factory = camera_after_selftest
        state, admin = self.kiosk_state, self.admin

        def done() -> None:  # on the worker thread; both signals are queued to the UI thread
            state.reportArrived.emit()  # KioskState rechecks: paused / serving
            admin.selftestDone.emit()  # 自检 in the admin corner shows the report

        source.notify = done
        source.progress = admin.checkDone.emit  # each check on the 自检 screen as it is done
        self.kiosk_state.kiosk_state = source
        self.admin.selftest = source.force
        self.admin.selftest_source = source  # 自检 in the admin corner: source.start(), as the one at start
        self.kiosk_state.recheck()

    def enable_updates(self, updates: Path | None = None) -> None:
        """Install a staged county-signed update in the maintenance window (kiosk.update): exit with
        the restart status when the window is on, an update waits and no face check runs."""
        from PySide6.QtCore import QTimer

        from kiosk.app.admin import UpdateInWindow
        from kiosk.maintenance import in_window, schedule_in_force
        from kiosk.update import staged_version, updates_dir

        folder = updates if updates is not None else updates_dir()
        self.updates = UpdateInWindow(
            self.kiosk_state, in_window=lambda: in_window(self.clock.now(), schedule_in_force(self.store, self.settings)),
            staged=lambda: staged_version(folder), busy=lambda: bool(self.check.running),
            quit=lambda code: QTimer.singleShot(0, lambda: self.admin.quit(code) if self.admin.quit else None))
        self.updates.poll()  # (at start too: quit is queued, so it also works before the event loop runs)

    def theme(self):
        """The Theme singleton of this window's QML engine (sizes, colours, elder mode)."""
        return self.window.property("theme")  # Main.qml: `readonly property QtObject theme: Theme`

    def _make_encoder(self):
        # In this process: the ResNet runs in OpenCV's DNN, which releases the GIL, so a
        # worker thread encoding faces never freezes the preview or the taps (kiosk.app.bench).
        from dataclasses import replace as _replace

        from kiosk.matching.embedders import make_embedder

        if self.opts.demo:  # the demo resident is enrolled with dlib, whatever kiosk.toml says
            return make_embedder(_replace(self.settings, embedding_backend="dlib"))
        return make_embedder(self.settings)

    def _open_store(self, encoder):
        from kiosk.config import home_dir, key_file
        from kiosk.store import Store

        if self.opts.demo:
            from kiosk.app.demo import create_demo

            setup = create_demo(Path(self.opts.demo_home) if self.opts.demo_home else None, encoder,
                                video=self.opts.video, clock=self.clock)
            self._demo_dir = setup.home
            return Store.open(setup.db_path, setup.key_path, clock=self.clock), setup.residents
        db = home_dir() / "kiosk.db"
        db.parent.mkdir(parents=True, exist_ok=True)
        store = Store.open(db, key_file(), clock=self.clock)
        from kiosk.store import StoreError
        from kiosk.store.backup import ensure_daily_backup

        try:
            ensure_daily_backup(store, keep_days=self.settings.backup_keep_days, clock=self.clock)
        except StoreError as e:  # the kiosk still works; the staff page and the log say why
            logging.getLogger(__name__).warning("daily backup failed: %s", e)
        return store, None

    def show(self) -> None:
        if self.opts.fullscreen and not self.opts.demo:
            fill_screen(self.window, getattr(self.settings, "monitor", 0))
        else:
            self.window.show()

    def close(self) -> None:
        if getattr(self, "_closed", False):  # once (tests and run() may both close)
            return
        self._closed = True
        self.keyboard.detach()
        self.staff.end_for_close()  # audited while the store is open; no idle logout can fire later
        self.check.clear()
        # No controller may act after the store is closed (a staff idle logout would audit into it): out of
        # the application's event filters (a touch anywhere restarts their idle timers), timers stopped.
        from PySide6.QtCore import QCoreApplication, QObject, QTimer

        qapp = QCoreApplication.instance()
        for obj in list(vars(self).values()):
            if isinstance(obj, QObject):
                if qapp is not None:
                    qapp.removeEventFilter(obj)
                for timer in obj.findChildren(QTimer):
                    timer.stop()
        source = getattr(self, "selftest_source", None)
        if source is not None:
            source.notify = source.progress = None
            source.join(timeout=10.0)  # a self-test still reading the camera: let it close it
        self.window.close()
        # Delete the QML engine (and the window it owns) now, while the controllers its
        # bindings read are still alive; a deferred delete re-evaluates bindings against
        # controllers already gone ("Cannot read property … of null").
        from shiboken6 import delete

        delete(self.engine)
        self.coordinator.close()
        self.store.close()
        if self._demo_dir is not None and not self.opts.demo_home:
            import shutil

            shutil.rmtree(self._demo_dir, ignore_errors=True)  # the throw-away demo database


def fill_screen(window, monitor: int = 0):
    """Full screen on monitor `monitor` (QGuiApplication.screens() order; the primary one when there
    is no such monitor), also with no window manager: a bare X server (xinit, the systemd unit)
    ignores the full-screen request, so the window is first made frameless and given the screen's
    whole geometry itself. Returns the screen used."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication

    screens = QGuiApplication.screens()
    if 0 <= monitor < len(screens):
        screen = screens[monitor]
    else:
        screen = QGuiApplication.primaryScreen()
        logging.getLogger(__name__).warning("monitor %d not found (%d screens): using the primary one",
                                            monitor, len(screens))
    window.setFlag(Qt.WindowType.FramelessWindowHint, True)
    window.setScreen(screen)
    window.setGeometry(screen.geometry())
    window.showFullScreen()
    window.setGeometry(screen.geometry())  # a window manager may have moved it; without one nothing else will
    window.raise_()
    window.requestActivate()
    return screen


def load_settings(opts: Options):
    """kiosk.toml with the command line's overrides (what KioskApp uses)."""
    from kiosk.config import Settings

    settings = Settings.load()
    return replace(settings, **opts.settings_overrides) if opts.settings_overrides else settings


def run(opts: Options) -> int:
    prepare_environment()
    from PySide6.QtGui import QGuiApplication

    from kiosk.app import keyboard

    setup_logging()
    settings = load_settings(opts)
    keyboard.request(settings, opts)  # QT_IM_MODULE, read when the QGuiApplication is made
    qapp = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    qapp.setApplicationName(text("ui_app_name"))
    kiosk = KioskApp(opts, settings=settings)
    kiosk.enable_selftest()  # 本机暂停服务 when the camera or the disk is broken, or in the maintenance window
    if not opts.demo:
        kiosk.enable_updates()  # a staged update: restart (75) in the maintenance window, the wrapper installs it
    sync = None if opts.demo else start_background_sync(kiosk)
    if sync is not None:
        kiosk.admin.sync_now = sync.wake  # 立即同步 in the admin corner
    from kiosk.app.cardreader import attach_card_reader

    cards = attach_card_reader(kiosk)  # the 二代证 reader of kiosk.toml idcard_library, if any
    kiosk.show()
    if opts.autopilot:
        from kiosk.app.autopilot import Autopilot

        pilot = Autopilot(kiosk, Path(opts.screenshots) if opts.screenshots else None)
        pilot.start()
        code = qapp.exec()
        kiosk.close()
        return pilot.exit_code if code == 0 else code
    code = qapp.exec()
    if sync is not None:
        sync.stop(timeout=5.0)
    if cards is not None:
        cards[1].stop()
    kiosk.close()
    return code


def start_background_sync(kiosk: KioskApp):
    """The real kiosk sends its results to the county in the background (kiosk.sync), with its
    own store connection; each recorded attempt asks for a pass at once."""
    try:
        from kiosk.sync import BackgroundSync
    except ImportError:
        return None
    from kiosk.config import key_file

    sync = BackgroundSync(kiosk.store.path, key_file(), kiosk.settings)
    sync.start()
    kiosk.flow.recorded.connect(sync.wake)
    kiosk.fallback.recorded.connect(sync.wake)
    return sync
