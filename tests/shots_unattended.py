"""Render the unattended-kiosk screens (issue 14) to PNG, offscreen, for docs/screens.md and review:

    uv run python tests/shots_unattended.py DIR

The idle warning (on the confirm screen), the paused home (camera broken per the real self-test),
the admin corner (its top, and the end of its settings list), the self-test screen (running, then done), each at 1366x768 and 1080x1920, elder mode off and on.
Built like the tests: a throw-away demo database, a real admin operator, the real self-test on a
camera this machine does not have.
"""
from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("KIOSK_AUDIO", "0")


def main(out: Path) -> int:
    from kiosk.app.bootstrap import prepare_environment

    prepare_environment()
    from PySide6.QtCore import QCoreApplication, QEventLoop, QPointF, QTimer
    from PySide6.QtGui import QGuiApplication

    _qapp = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # kept alive
    from kiosk.app import driver
    from kiosk.app.bootstrap import KioskApp, Options
    from kiosk.app.demo import create_demo
    from kiosk.app.voice import VoicePlayer
    from kiosk.config import Settings
    from kiosk.frames import CameraSource
    from kiosk.matching.encoder import DlibEncoder
    from kiosk.operators import add_operator
    from kiosk.store import Store

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    out.mkdir(parents=True, exist_ok=True)
    encoder = DlibEncoder()
    with tempfile.TemporaryDirectory() as tmp:
        setup = create_demo(Path(tmp) / "demo", encoder)
        store = Store.open(setup.db_path, setup.key_path)
        from kiosk.app.demo import DEMO_OPERATORS
        from kiosk.operators import get

        admin = add_operator(store, "县信息科老张", "admin", "246813", by=get(store, DEMO_OPERATORS[0][0]))
        media = Path(tmp) / "media" / "kiosk" / "KINGSTON"
        media.mkdir(parents=True)
        log = Path(tmp) / "kiosk.log"
        log.write_text("".join(f"2026-12-02 09:{i:02d}:00 INFO kiosk.app.controllers: idle reset on confirm\n"
                               for i in range(12)), encoding="utf-8")
        for size in ((1366, 768), (1080, 1920)):
            for elder in (False, True):
                tag = f"{size[0]}x{size[1]}{'_elder' if elder else ''}"
                k = KioskApp(Options(demo=True, fullscreen=False, realtime=False, size=size, elder=elder),
                             store=store, settings=Settings(idle_reset_s=30.0), encoder=encoder,
                             voice=VoicePlayer(enabled=False), demo_residents=setup.residents,
                             current_operator=lambda: admin, export_roots=[Path(tmp) / "media"], log_path=log,
                             settings_path=Path(tmp) / "kiosk.toml",
                             source_factory=lambda: CameraSource(9, 640, 480))
                k.window.show()
                wait(400)

                def shot(name: str, k=k, tag=tag) -> None:
                    wait(600)
                    k.window.grabWindow().save(str(out / f"{name}_{tag}.png"))

                # idle warning on the confirm screen (a resident typed the number and walked away)
                k.flow.start("self")
                for ch in setup.residents[0].id_number:
                    k.entry.press(ch)
                k.entry.submit()
                wait(300)
                k.app._on_idle_warn()
                shot("idle_warning")
                k.app.touch()
                k.flow.home()
                # paused: the real self-test, no camera 9 on this machine
                k.enable_selftest()  # in a worker thread: the home screen follows when it is done
                for _ in range(600):
                    if k.kiosk_state.paused():
                        break
                    wait(50)
                shot("paused_home")
                k.admin.openArea("admin")
                k.admin.stepSetting("volume", -1)
                k.admin.refreshLogs()
                shot("admin")
                # the end of the settings list: 屏幕键盘 and 建模转头等待 (one changed, not saved)
                k.admin.stepSetting("on_screen_keyboard", 1)
                wait(100)
                first = driver.find(k.window, "set_on_screen_keyboard_next")
                flick = first.parentItem()
                while flick is not None and not flick.inherits("QQuickFlickable"):
                    flick = flick.parentItem()
                if flick is not None:  # scrolled (as a person scrolls) until the last three rows are at the top
                    top = first.mapToItem(flick.property("contentItem"), QPointF(0, 0)).y() - 2.5 * first.height()
                    most = max(0.0, float(flick.property("contentHeight")) - flick.height())
                    flick.setProperty("contentY", min(most, max(0.0, top)))
                shot("admin_settings_end")
                k.admin.discardSettings()
                # 自检 runs in the self-test's worker: held after its third check for the 正在自检… shot
                source = k.selftest_source
                gate, forward, seen = threading.Event(), source.report_check, []

                def held(check, forward=forward, gate=gate, seen=seen) -> None:
                    forward(check)
                    seen.append(check)
                    if len(seen) == 3:
                        gate.wait(30)

                source.report_check = held
                k.admin.openArea("selftest")
                for _ in range(600):
                    if len(k.admin.selftestReport.get("checks", [])) >= 3:
                        break
                    wait(50)
                shot("selftest_running")
                gate.set()
                for _ in range(600):
                    if not k.admin.selftestRunning:
                        break
                    wait(50)
                source.report_check = forward
                shot("selftest")
                k.admin.back()
                k.check.clear()
                k.window.close()
                from shiboken6 import delete

                delete(k.engine)
                QCoreApplication.processEvents()
        store.close()
    print(f"wrote {len(list(out.glob('*.png')))} PNGs to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "shots")))
